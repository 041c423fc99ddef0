package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/nats-io/nats-server/v2/server"

	"agora/chat"
	"agora/db"
	"agora/db/pgtest"
	"agora/db/slackimport/slacktest"
)

// TestRunServesAndShutsDown starts the real program on a free port with its
// database from the environment, waits for it to say where it listens, checks
// it answers, then cancels it as SIGTERM would.
func TestRunServesAndShutsDown(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "env.db")
	env := map[string]string{"CHAT_DB": dbPath}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"agora", "-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, pw)
		pw.Close()
	}()

	addrRe := regexp.MustCompile(`msg=listening addr=(http://127\.0\.0\.1:\d+) db=(\S+)`)
	lines := bufio.NewScanner(pr)
	var base string
	for base == "" && lines.Scan() {
		if m := addrRe.FindStringSubmatch(lines.Text()); m != nil {
			base = m[1]
			if m[2] != dbPath {
				t.Errorf("serving %s, want the database from CHAT_DB %s", m[2], dbPath)
			}
			// The sockets a node can hold: one open file each.
			if !regexp.MustCompile(`open_files=[1-9]\d*`).MatchString(lines.Text()) {
				t.Errorf("the listening line does not say the open file limit: %s", lines.Text())
			}
		}
	}
	if base == "" {
		t.Fatalf("the server never said where it listens: %v", <-done)
	}
	go io.Copy(io.Discard, pr)

	client := &http.Client{Timeout: 5 * time.Second}
	res, err := client.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Fatalf("healthz: %d %q", res.StatusCode, body)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v after shutdown", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
	if _, err := client.Get(base + "/healthz"); err == nil {
		t.Error("still serving after shutdown")
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	err := run(context.Background(), []string{"agora", "-nope"}, func(string) string { return "" }, io.Discard)
	if err == nil {
		t.Fatal("an unknown flag was accepted")
	}
	err = run(context.Background(), []string{"agora", "-db", filepath.Join(t.TempDir(), "x.db"), "-addr", "256.0.0.1:99999"}, func(string) string { return "" }, io.Discard)
	if err == nil {
		t.Fatal("a bad address was accepted")
	}
	// A retention that is negative, absurd or no number stops agora before
	// anything could be deleted.
	for _, c := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"-retention", "-1"}, "", "-retention must be a number of days"},
		{[]string{"-retention", "99999"}, "", "-retention must be a number of days"},
		{nil, "-5", "-retention must be a number of days"},
		{nil, "a year", "CHAT_RETENTION"},
	} {
		env := func(k string) string {
			if k == "CHAT_RETENTION" {
				return c.env
			}
			return ""
		}
		args := append([]string{"agora", "-db", filepath.Join(t.TempDir(), "x.db"), "-addr", "127.0.0.1:0"}, c.args...)
		err := run(context.Background(), args, env, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("retention %v %q: %v, want an error saying %q", c.args, c.env, err, c.want)
		}
	}
}

// TestRunHelp: `agora -h` prints the flags and succeeds.
func TestRunHelp(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), []string{"agora", "-h"}, func(string) string { return "" }, &out); err != nil {
		t.Fatalf("agora -h returned %v, want nil (exit 0)", err)
	}
	for _, flag := range []string{"-addr", "-db"} {
		if !strings.Contains(out.String(), flag) {
			t.Errorf("agora -h does not list %s:\n%s", flag, out.String())
		}
	}
}

// TestBackupWhileWriting copies the database of a running agora while eight
// people post, then opens the copy: it holds every message acknowledged
// before the backup started, and serves at once as -db.
func TestBackupWhileWriting(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "live.db")
	r := startRun(t, map[string]string{"CHAT_DB": src})

	var (
		mu    sync.Mutex
		acked []string // bodies answered 303: committed
		wg    sync.WaitGroup
	)
	stop := make(chan struct{})
	var stopOnce sync.Once
	halt := func() { stopOnce.Do(func() { close(stop) }) }
	defer func() { halt(); wg.Wait() }()
	for w := range 8 {
		b := newBrowser(t, r.base, nil).signup(fmt.Sprintf("writer%d", w))
		b.get("/rooms/general")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf("w%d-m%d", w, i)
				res, err := b.http.PostForm(r.base+"/rooms/general/messages", url.Values{"body": {body}})
				if err != nil {
					t.Errorf("post: %v", err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode == http.StatusSeeOther {
					mu.Lock()
					acked = append(acked, body)
					mu.Unlock()
				}
			}
		}()
	}
	waitAcked := func(n int) {
		for {
			mu.Lock()
			got := len(acked)
			mu.Unlock()
			if got >= n {
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	waitAcked(100)

	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	dest := filepath.Join(dir, "copy.db")
	var out strings.Builder
	if err := run(context.Background(), []string{"agora", "backup", "-db", src, dest}, func(string) string { return "" }, &out); err != nil {
		t.Fatalf("backup: %v", err)
	}
	mu.Lock()
	during := len(acked) - len(before)
	mu.Unlock()
	waitAcked(len(before) + during + 20) // writes go on after the backup too
	halt()
	wg.Wait()
	if !strings.Contains(out.String(), dest) {
		t.Errorf("backup said %q", out.String())
	}
	t.Logf("%d messages acknowledged before the backup, %d while it ran", len(before), during)

	// The copy opens with the store and holds every message acknowledged
	// before the backup started, once.
	store, err := db.Open(context.Background(), dest)
	if err != nil {
		t.Fatalf("open the copy: %v", err)
	}
	room, err := store.RoomBySlug(context.Background(), "general")
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := store.MessagesAfter(context.Background(), room.ID, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, m := range msgs {
		count[m.Body]++
	}
	for _, body := range before {
		if count[body] != 1 {
			t.Errorf("message %q, acknowledged before the backup, is in the copy %d times", body, count[body])
		}
	}
	store.Close()

	// And agora serves it as it is.
	cp := startRun(t, map[string]string{"CHAT_DB": dest})
	last := before[len(before)-1]
	reader := newBrowser(t, cp.base, nil)
	res := reader.post("/login", url.Values{"username": {"writer0"}, "password": {"password-writer0"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login on the copy: %d", res.StatusCode)
	}
	if status, page := reader.get("/search?q=" + url.QueryEscape(last)); status != http.StatusOK || !strings.Contains(page, last) {
		t.Errorf("the copy's server does not find %q: %d", last, status)
	}
}

// TestBackupRefusals: a PostgreSQL source is sent to pg_dump; an existing
// destination, a missing source and a missing destination are refused, and
// nothing is written.
func TestBackupRefusals(t *testing.T) {
	dir := t.TempDir()
	noEnv := func(string) string { return "" }
	backup := func(args ...string) (string, error) {
		var out strings.Builder
		err := run(context.Background(), append([]string{"agora", "backup"}, args...), noEnv, &out)
		return out.String(), err
	}
	if _, err := backup("-db", "postgres://agora@db/agora", filepath.Join(dir, "x.db")); err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("a postgres:// source: %v, want a pointer to pg_dump", err)
	}
	if _, err := backup("-db", filepath.Join(dir, "missing.db"), filepath.Join(dir, "y.db")); err == nil {
		t.Error("a missing source was accepted")
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); err == nil {
		t.Error("backing up a missing source created it")
	}
	src := filepath.Join(dir, "src.db")
	s, err := db.Open(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := backup("-db", src); err == nil {
		t.Error("no destination was accepted")
	}
	existing := filepath.Join(dir, "existing.db")
	os.WriteFile(existing, []byte("keep me"), 0o600)
	if _, err := backup("-db", src, existing); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("an existing destination: %v", err)
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me" {
		t.Error("an existing destination was overwritten")
	}
	notDB := filepath.Join(dir, "notes.txt")
	os.WriteFile(notDB, []byte("not a database at all, just text"), 0o600)
	if _, err := backup("-db", notDB, filepath.Join(dir, "z.db")); err == nil {
		t.Error("a file that is not an agora database was copied")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") || e.Name() == "x.db" || e.Name() == "y.db" || e.Name() == "z.db" {
			t.Errorf("a refused backup left %s", e.Name())
		}
	}
	if out, err := backup("-h"); err != nil || !strings.Contains(out, "DEST") {
		t.Errorf("agora backup -h: %v %q", err, out)
	}
}

// TestReadmeCommands runs the README's commands as written. Every line of a
// ```sh block is one of:
//   - bin/agora ... or curl ...: run with bash in a scratch directory that
//     holds a freshly built bin/agora, with agora serving there (agora.db,
//     a profiler on) and $TOKEN an API token of a signed-up user; the
//     README's addresses 127.0.0.1:8080 and 127.0.0.1:6060 are replaced by
//     the ones this server got. Each must exit 0;
//   - go build -o bin/X PKG: built from this module into the scratch bin/;
//   - make TARGET [ARGS='...']: the target exists and ARGS are flags agora takes;
//   - go test ... -run 'TestX' ... ./pkg/: the test exists in that package;
//   - go tool pprof URL: a profile the profiler serves.
//
// Anything else fails, so a new kind of command gets a rule here.
func TestReadmeCommands(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	cmds := shellCommands(string(readme))
	if len(cmds) == 0 {
		t.Fatal("README.md has no sh blocks")
	}

	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "bin", "agora"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addr, pprofAddr := startInDir(t, dir)
	token := apiToken(t, "http://"+addr)

	makefile, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, line := range cmds {
		fields := strings.Fields(line)
		switch {
		case fields[0] == "bin/agora" || fields[0] == "curl":
			line = strings.ReplaceAll(line, "127.0.0.1:8080", addr)
			line = strings.ReplaceAll(line, "127.0.0.1:6060", pprofAddr)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", line)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "TOKEN="+token)
			out, err := cmd.CombinedOutput()
			cancel()
			if err != nil {
				t.Errorf("README command failed: %s\n%v\n%s", line, err, out)
			}
			ran++
		case len(fields) > 3 && fields[0] == "go" && fields[1] == "build" && fields[2] == "-o":
			// Built here, in the module, into the scratch directory's bin/.
			args := append([]string{"build", "-o", filepath.Join(dir, fields[3])}, fields[4:]...)
			if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
				t.Errorf("README command failed: %s\n%v\n%s", line, err, out)
			}
		case fields[0] == "make":
			checkMake(t, line, string(makefile))
		case len(fields) > 2 && fields[0] == "go" && fields[1] == "test":
			checkGoTest(t, line, fields)
		case len(fields) > 3 && fields[0] == "go" && fields[1] == "tool" && fields[2] == "pprof":
			u := strings.ReplaceAll(strings.Trim(fields[3], "'"), "127.0.0.1:6060", pprofAddr)
			u = strings.Replace(u, "seconds=30", "seconds=1", 1)
			res, err := http.Get(u)
			if err != nil || res.StatusCode != http.StatusOK {
				t.Errorf("README command %q: the profiler does not serve %s: %v %v", line, u, err, res)
			} else {
				res.Body.Close()
			}
		default:
			t.Errorf("README command %q: TestReadmeCommands has no rule to check it", line)
		}
	}
	if ran == 0 {
		t.Error("no README command was run")
	}

	// The API example posted to #general: it is there.
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/rooms/general/messages", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), "Deploy finished.") {
		t.Errorf("the README's API example did not post to #general: %s", body)
	}
}

// shellCommands returns the commands of the README's ```sh blocks, one per
// line, continuation lines joined and comments dropped.
func shellCommands(readme string) []string {
	var cmds []string
	in := false
	pending := ""
	for line := range strings.Lines(readme) {
		line = strings.TrimRight(line, "\n")
		if strings.HasPrefix(line, "```") {
			in = !in && strings.TrimSpace(line) == "```sh"
			continue
		}
		if !in {
			continue
		}
		if c := strings.Index(line, " #"); c >= 0 {
			line = line[:c] // the README's commands have no " #" inside quotes
		}
		line = strings.TrimSpace(line)
		if strings.HasSuffix(line, `\`) {
			pending += strings.TrimSuffix(line, `\`)
			continue
		}
		line = strings.TrimSpace(pending + line)
		pending = ""
		if line != "" {
			cmds = append(cmds, line)
		}
	}
	return cmds
}

var makeVar = regexp.MustCompile(`\b[A-Z]+='[^']*'`)

func checkMake(t *testing.T, line, makefile string) {
	t.Helper()
	for _, f := range strings.Fields(makeVar.ReplaceAllString(line, ""))[1:] {
		if !strings.Contains(makefile, "\n"+f+":") {
			t.Errorf("README command %q: the Makefile has no target %q", line, f)
		}
	}
	// ARGS are agora's flags: they must parse.
	if _, after, ok := strings.Cut(line, "ARGS='"); ok {
		args, _, _ := strings.Cut(after, "'")
		fs, _, err := newFlags("agora", func(string) string { return "" }, io.Discard)
		if err == nil {
			err = fs.Parse(strings.Fields(args))
		}
		if err != nil {
			t.Errorf("README command %q: agora refuses ARGS: %v", line, err)
		}
	}
}

var testFunc = regexp.MustCompile(`'(\^?)(Test\w+)\$?'`)

func checkGoTest(t *testing.T, line string, fields []string) {
	t.Helper()
	pkg := fields[len(fields)-1]
	m := testFunc.FindStringSubmatch(line)
	if m == nil || !strings.HasPrefix(pkg, ".") {
		t.Errorf("README command %q: want -run 'TestX' and a package path last", line)
		return
	}
	files, _ := filepath.Glob(filepath.Join(pkg, "*_test.go"))
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(src), "\nfunc "+m[2]) {
			return
		}
	}
	t.Errorf("README command %q: no test %s in %s", line, m[2], pkg)
}

// startInDir runs dir/bin/agora in dir, as the README's commands expect, on
// free ports, and returns the addresses it serves and profiles on.
func startInDir(t *testing.T, dir string) (addr, pprofAddr string) {
	t.Helper()
	cmd := exec.Command("bin/agora", "-addr", "127.0.0.1:0", "-pprof", "127.0.0.1:0", "-db", "agora.db")
	cmd.Dir = dir
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	addrOf := regexp.MustCompile(`addr=https?://([^/ ]+)`)
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		m := addrOf.FindStringSubmatch(lines.Text())
		switch {
		case m != nil && strings.Contains(lines.Text(), "msg=profiler"):
			pprofAddr = m[1]
		case m != nil && strings.Contains(lines.Text(), "msg=listening"):
			go io.Copy(io.Discard, out)
			return m[1], pprofAddr
		}
	}
	t.Fatal("agora ended without saying where it listens")
	return "", ""
}

// apiToken signs up a user through the forms and makes a personal access
// token at /settings/tokens, as the README tells a reader to.
func apiToken(t *testing.T, base string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	post := func(path string, form url.Values) string {
		res, err := client.PostForm(base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("POST %s: %d\n%s", path, res.StatusCode, body)
		}
		return string(body)
	}
	post("/signup", url.Values{"username": {"reader"}, "password": {"a long passphrase"}})
	page := post("/settings/tokens", url.Values{"name": {"deploy bot"}})
	m := regexp.MustCompile(`id="new-token"[^>]*>([^<]+)<`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no new token on the tokens page:\n%s", page)
	}
	return m[1]
}

// readmeFlag is one flag as the README's configuration table gives it.
type readmeFlag struct {
	env, def string // def is "off" for a flag that is empty or false by default
}

// TestReadmeFlagTable holds the README's configuration table against the
// flags run really has: every flag is listed, nothing listed is missing, each
// with the environment variable that really sets it and its real default.
func TestReadmeFlagTable(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	table := readmeFlags(t, string(readme))

	// The environment variables run reads, and the flag each one sets: set one
	// at a time and see which flag's value moves.
	asked := map[string]bool{}
	fs, _, err := newFlags("agora", func(k string) string { asked[k] = true; return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	base := values(fs)
	envOf := map[string]string{}
	for key := range asked {
		moved := envSets(t, key, base)
		if len(moved) != 1 {
			t.Errorf("environment variable %s sets flags %v, want exactly one", key, moved)
			continue
		}
		envOf[moved[0]] = key
	}

	fs.VisitAll(func(f *flag.Flag) {
		row, ok := table[f.Name]
		if !ok {
			t.Errorf("flag -%s is not in the README's configuration table", f.Name)
			return
		}
		if row.env != envOf[f.Name] {
			t.Errorf("README gives -%s the environment variable %q; the code reads %q", f.Name, row.env, envOf[f.Name])
		}
		if env := envOf[f.Name]; env != "" && !strings.Contains(f.Usage, env) {
			t.Errorf("agora -h does not name %s in the help of -%s: %q", env, f.Name, f.Usage)
		}
		def := f.DefValue
		if def == "" || def == "false" {
			def = "off"
		}
		if row.def != def {
			t.Errorf("README gives -%s the default %q; the code has %q", f.Name, row.def, def)
		}
	})
	for name := range table {
		if fs.Lookup(name) == nil {
			t.Errorf("the README lists -%s, which agora does not have", name)
		}
	}
}

// envSets says which flags change when only key is set in the environment.
// Values are tried until one is accepted: a flag may take a word, a number,
// a duration or "1" for on.
func envSets(t *testing.T, key string, base map[string]string) []string {
	t.Helper()
	for _, v := range []string{"1", "7s", "7MB", "invite", "x.example:1", "warn", "0"} {
		fs, _, err := newFlags("agora", func(k string) string {
			if k == key {
				return v
			}
			return ""
		}, io.Discard)
		if err != nil {
			continue
		}
		var moved []string
		for name, val := range values(fs) {
			if base[name] != val {
				moved = append(moved, name)
			}
		}
		if len(moved) > 0 {
			slices.Sort(moved)
			return moved
		}
	}
	return nil
}

func values(fs *flag.FlagSet) map[string]string {
	m := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { m[f.Name] = f.Value.String() })
	return m
}

var codeSpan = regexp.MustCompile("`([^`]*)`")

// readmeFlags reads the table under "## Configuration": | flag | environment |
// default | meaning |. A row may name several flags ("`-tls-cert`, `-tls-key`")
// with their variables in the same order; a variable may show its value
// ("`CHAT_GUESTS=1`"); a default is a code span or the word "off".
func readmeFlags(t *testing.T, readme string) map[string]readmeFlag {
	t.Helper()
	_, section, ok := strings.Cut(readme, "\n## Configuration\n")
	if !ok {
		t.Fatal(`README.md has no "## Configuration" section`)
	}
	flags := map[string]readmeFlag{}
	inTable := false
	for line := range strings.Lines(section) {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			if inTable {
				break
			}
			continue
		}
		inTable = true
		cells := splitRow(line)
		if len(cells) < 3 || cells[0] == "flag" || strings.HasPrefix(cells[0], "---") {
			continue
		}
		names := codes(cells[0])
		envs := codes(cells[1])
		for i := range envs {
			envs[i], _, _ = strings.Cut(envs[i], "=")
		}
		if len(envs) != 0 && len(envs) != len(names) {
			t.Errorf("README row %q: %d flags but %d environment variables", line, len(names), len(envs))
			continue
		}
		def := "off"
		if d := codes(cells[2]); len(d) == 1 {
			def = d[0]
		} else if cells[2] != "off" {
			t.Errorf("README row %q: the default is neither one code span nor \"off\"", line)
		}
		for i, n := range names {
			if !strings.HasPrefix(n, "-") {
				t.Errorf("README row %q: %q is not a flag", line, n)
				continue
			}
			f := readmeFlag{def: def}
			if len(envs) > 0 {
				f.env = envs[i]
			}
			if _, dup := flags[n[1:]]; dup {
				t.Errorf("README lists %s twice", n)
			}
			flags[n[1:]] = f
		}
	}
	if len(flags) == 0 {
		t.Fatal("README.md's configuration section has no table of flags")
	}
	return flags
}

// splitRow splits a Markdown table row on the pipes that are not escaped.
func splitRow(line string) []string {
	line = strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|")
	var cells []string
	start := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++ // an escaped character, a pipe among them
		case '|':
			cells = append(cells, strings.TrimSpace(line[start:i]))
			start = i + 1
		}
	}
	return append(cells, strings.TrimSpace(line[start:]))
}

func codes(cell string) []string {
	var out []string
	for _, m := range codeSpan.FindAllStringSubmatch(cell, -1) {
		out = append(out, strings.ReplaceAll(m[1], `\|`, "|"))
	}
	return out
}

// running is agora started through run, as main starts it.
type running struct {
	base    string // http(s)://host:port
	metrics string // the metrics URL, if -metrics was given
	mu      sync.Mutex
	log     strings.Builder
}

func (r *running) logs() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.String()
}

// startRun runs agora with args (and -addr 127.0.0.1:0 unless given) until
// the test ends, and returns once it has said where it listens.
func startRun(t *testing.T, env map[string]string, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	full := append([]string{"agora", "-addr", "127.0.0.1:0"}, args...)
	go func() {
		done <- run(ctx, full, func(k string) string { return env[k] }, pw)
		pw.Close()
	}()
	r := &running{}
	listening := make(chan struct{})
	addrRe := regexp.MustCompile(`msg=listening addr=(\S+)`)
	metricsRe := regexp.MustCompile(`msg=metrics addr=(\S+)`)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			r.mu.Lock()
			r.log.WriteString(line + "\n")
			if m := metricsRe.FindStringSubmatch(line); m != nil {
				r.metrics = m[1]
			}
			if m := addrRe.FindStringSubmatch(line); m != nil && r.base == "" {
				r.base = m[1]
				close(listening)
			}
			r.mu.Unlock()
		}
		io.Copy(io.Discard, pr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run returned %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("run did not return after its context ended")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", r.logs())
		}
	})
	select {
	case <-listening:
	case err := <-done:
		t.Fatalf("run returned before listening: %v\n%s", err, r.logs())
	case <-time.After(20 * time.Second):
		t.Fatalf("the server never said where it listens:\n%s", r.logs())
	}
	return r
}

func get(t *testing.T, client *http.Client, url string) (int, string) {
	t.Helper()
	res, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestMetricsFlag: -metrics serves Prometheus metrics on an address of its
// own, and the public address does not.
func TestMetricsFlag(t *testing.T) {
	r := startRun(t, map[string]string{"CHAT_DB": t.TempDir() + "/m.db", "CHAT_METRICS": "127.0.0.1:0"})
	r.mu.Lock()
	metricsURL := r.metrics
	r.mu.Unlock()
	if metricsURL == "" || !strings.HasSuffix(metricsURL, "/metrics") {
		t.Fatalf("no metrics address in the log:\n%s", r.logs())
	}
	client := &http.Client{Timeout: 5 * time.Second}
	status, body := get(t, client, metricsURL)
	if status != http.StatusOK {
		t.Fatalf("metrics: status %d", status)
	}
	for _, want := range []string{"agora_sockets_open 0", "agora_messages_created_total 0", "agora_deliveries_total 0", "go_goroutines ", "process_open_fds "} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if _, body := get(t, client, r.base+"/metrics"); strings.Contains(body, "agora_sockets_open") {
		t.Error("the public address serves the metrics")
	}

	// Without the flag, nothing listens for metrics.
	off := startRun(t, map[string]string{"CHAT_DB": t.TempDir() + "/n.db"})
	if strings.Contains(off.logs(), "msg=metrics") {
		t.Errorf("metrics served without -metrics:\n%s", off.logs())
	}
}

// browser is a client of a running agora: a cookie jar, redirects not
// followed.
type browser struct {
	t    *testing.T
	base string
	http *http.Client
}

func newBrowser(t *testing.T, base string, transport http.RoundTripper) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, http: &http.Client{
		Jar: jar, Transport: transport, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *browser) post(path string, form url.Values) *http.Response {
	b.t.Helper()
	res, err := b.http.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatalf("POST %s: %v", path, err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	return get(b.t, b.http, b.base+path)
}

func (b *browser) signup(name string) *browser {
	b.t.Helper()
	res := b.post("/signup", url.Values{"username": {name}, "password": {"password-" + name}})
	if res.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("signup %s: %d", name, res.StatusCode)
	}
	return b
}

// dial opens a room's socket with the browser's cookies and Origin.
func (b *browser) dial(slug string) *websocket.Conn {
	b.t.Helper()
	u, _ := url.Parse(b.base)
	h := http.Header{"Origin": {b.base}}
	for _, ck := range b.http.Jar.Cookies(u) {
		h.Add("Cookie", ck.Name+"="+ck.Value)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws := "ws" + strings.TrimPrefix(b.base, "http") + "/rooms/" + slug + "/ws"
	conn, _, err := websocket.Dial(ctx, ws, &websocket.DialOptions{HTTPHeader: h, HTTPClient: b.http})
	if err != nil {
		b.t.Fatalf("dial %s: %v", ws, err)
	}
	conn.SetReadLimit(1 << 22)
	b.t.Cleanup(func() { conn.CloseNow() })
	return conn
}

// say sends a message over a socket as the composer does.
func say(t *testing.T, conn *websocket.Conn, body, clientID string) {
	t.Helper()
	frame, _ := json.Marshal(map[string]any{"body": body, "client_msg_id": clientID,
		"HEADERS": map[string]string{"HX-Request": "true", "HX-Trigger": "composer"}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := conn.Write(ctx, websocket.MessageText, frame); err != nil {
		t.Fatalf("socket write: %v", err)
	}
}

// readUntil reads a socket until what it received contains want.
func readUntil(t *testing.T, conn *websocket.Conn, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var got strings.Builder
	for !strings.Contains(got.String(), want) {
		_, data, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("socket: waiting for %q: %v; received:\n%.1000s", want, err, got.String())
		}
		got.Write(data)
	}
}

// slowBody starts a form post that sends its headers and part of its body,
// then nothing more. It returns the connection.
func slowBody(t *testing.T, base string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /signup HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Content-Length: 1000\r\n\r\nusername=slow", strings.TrimPrefix(base, "http://"))
	return conn
}

// TestSlowBodiesAreCutOffSocketsAreNot: a body that does not arrive within
// the read timeout is answered 408 and its connection closed; a socket open
// for longer than that keeps working.
func TestSlowBodiesAreCutOffSocketsAreNot(t *testing.T) {
	r := startRun(t, map[string]string{"CHAT_DB": t.TempDir() + "/s.db", "CHAT_READ_TIMEOUT": "300ms"})
	ann := newBrowser(t, r.base, nil).signup("ann")
	ann.get("/rooms/general") // joins it
	sock := ann.dial("general")
	readUntil(t, sock, `data-user="ann"`)

	// Many slow bodies at once, all opened after the socket.
	conns := make([]net.Conn, 50)
	for i := range conns {
		conns[i] = slowBody(t, r.base)
	}
	for i, conn := range conns {
		conn.SetReadDeadline(time.Now().Add(20 * time.Second)) // a bound for the test, not the measure
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("slow body %d: no answer: %v", i, err)
		}
		body, _ := io.ReadAll(res.Body) // ends: the server closes the connection
		res.Body.Close()
		if res.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), "took too long") {
			t.Fatalf("slow body %d: %d, want 408 with a clear message:\n%.500s", i, res.StatusCode, body)
		}
		if _, err := conn.Read(make([]byte, 1)); err == nil {
			t.Fatalf("slow body %d: the connection is still open", i)
		}
	}
	// The socket has been open longer than the read timeout (the slow
	// bodies, sent after it, were cut off by it) and still carries messages
	// both ways.
	say(t, sock, "still open after the read timeout", "cid-read-timeout-1")
	readUntil(t, sock, "still open after the read timeout")
	if strings.Contains(r.logs(), "level=ERROR") {
		t.Errorf("cut-off bodies logged errors:\n%s", r.logs())
	}
}

// TestBadReadTimeoutIsRefused: a read timeout that is not a positive
// duration stops agora before it serves.
func TestBadReadTimeoutIsRefused(t *testing.T) {
	for _, env := range []map[string]string{{"CHAT_READ_TIMEOUT": "soon"}, {"CHAT_READ_TIMEOUT": "-1s"}} {
		env["CHAT_DB"] = t.TempDir() + "/x.db"
		if err := run(context.Background(), []string{"agora", "-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, io.Discard); err == nil {
			t.Errorf("CHAT_READ_TIMEOUT=%s was accepted", env["CHAT_READ_TIMEOUT"])
		}
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key to dir, and
// returns their paths and a pool that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "agora test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLS: with -tls-cert and -tls-key agora serves HTTPS with HTTP/2 for
// pages, the session cookie is __Host- and Secure, and room sockets work
// over WSS.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	r := startRun(t, map[string]string{"CHAT_DB": filepath.Join(dir, "tls.db"), "CHAT_TLS_CERT": certFile}, "-tls-key", keyFile)
	if !strings.HasPrefix(r.base, "https://") {
		t.Fatalf("listening on %s, want https://", r.base)
	}

	h2 := newBrowser(t, r.base, &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true})
	res := h2.post("/signup", url.Values{"username": {"ann"}, "password": {"password-ann"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("signup over https: %d", res.StatusCode)
	}
	if res.Proto != "HTTP/2.0" {
		t.Errorf("pages over %s, want HTTP/2.0", res.Proto)
	}
	cookie := res.Header.Get("Set-Cookie")
	if !strings.HasPrefix(cookie, "__Host-") || !strings.Contains(cookie, "Secure") || !strings.Contains(cookie, "HttpOnly") {
		t.Errorf("session cookie over TLS: %q, want __Host-, Secure, HttpOnly", cookie)
	}
	if status, page := h2.get("/rooms/general"); status != http.StatusOK || !strings.Contains(page, `id="composer"`) {
		t.Fatalf("room page over https: %d", status)
	}
	if hsts := func() string {
		res, err := h2.http.Get(r.base + "/login")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.Header.Get("Strict-Transport-Security")
	}(); hsts == "" {
		t.Error("no Strict-Transport-Security over https")
	}

	// The socket over WSS (HTTP/1.1, as browsers open it), with the same
	// cookies; a message sent over it comes back.
	ws := &browser{t: t, base: r.base, http: &http.Client{Jar: h2.http.Jar,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}
	sock := ws.dial("general")
	readUntil(t, sock, `data-user="ann"`)
	say(t, sock, "over wss", "cid-tls-1")
	readUntil(t, sock, "over wss")

	// Plain HTTP on the TLS port is not served.
	plain := &http.Client{Timeout: 5 * time.Second}
	if res, err := plain.Get("http://" + strings.TrimPrefix(r.base, "https://") + "/healthz"); err == nil {
		if res.StatusCode == http.StatusOK {
			t.Error("plain HTTP is served on the TLS port")
		}
		res.Body.Close()
	}
}

// TestTLSRefusals: a key without a certificate, or files that are not a
// pair, stop agora before it serves.
func TestTLSRefusals(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := selfSigned(t, dir)
	otherDir := t.TempDir()
	_, otherKey, _ := selfSigned(t, otherDir)
	for _, args := range [][]string{
		{"-tls-key", keyFile},
		{"-tls-cert", certFile},
		{"-tls-cert", certFile, "-tls-key", otherKey},
		{"-tls-cert", filepath.Join(dir, "missing.pem"), "-tls-key", keyFile},
	} {
		full := append([]string{"agora", "-addr", "127.0.0.1:0", "-db", filepath.Join(dir, "x.db")}, args...)
		if err := run(context.Background(), full, func(string) string { return "" }, &strings.Builder{}); err == nil {
			t.Errorf("agora %v was accepted", args)
		}
	}
}

func TestRunRefusesAnUnknownSignupMode(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"agora", "-signup", "sometimes"}, nil},
		{[]string{"agora"}, map[string]string{"CHAT_SIGNUP": "maybe"}},
	} {
		err := run(context.Background(), tc.args, func(k string) string { return tc.env[k] }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "-signup must be open, invite or closed") {
			t.Errorf("%v %v: %v", tc.args, tc.env, err)
		}
	}
}

// TestLogLevel: -log-level debug adds the lines agora leaves out by default,
// such as successful health checks; a level that is not one stops agora
// before it serves.
func TestLogLevel(t *testing.T) {
	r := startRun(t, map[string]string{"CHAT_DB": t.TempDir() + "/l.db", "CHAT_LOG_LEVEL": "debug"})
	if status, _ := get(t, http.DefaultClient, r.base+"/healthz"); status != http.StatusOK {
		t.Fatalf("/healthz: %d", status)
	}
	deadline := time.Now().Add(10 * time.Second) // a bound for the test, not the measure
	for !regexp.MustCompile(`level=DEBUG .*path=/healthz`).MatchString(r.logs()) {
		if time.Now().After(deadline) {
			t.Fatalf("no DEBUG line for the health check:\n%s", r.logs())
		}
		time.Sleep(10 * time.Millisecond)
	}

	for _, level := range []string{"loud", "3"} {
		for _, args := range [][]string{{"agora", "-log-level", level}, {"agora"}} {
			env := map[string]string{"CHAT_DB": t.TempDir() + "/x.db", "CHAT_LOG_LEVEL": level}
			if len(args) > 1 {
				delete(env, "CHAT_LOG_LEVEL")
			}
			err := run(context.Background(), append(args, "-addr", "127.0.0.1:0"), func(k string) string { return env[k] }, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "log-level") && !strings.Contains(err.Error(), "CHAT_LOG_LEVEL") {
				t.Errorf("log level %q (%v): %v, want a refusal that names it", level, args, err)
			}
		}
	}
}

// users runs `agora users ARGS...` as main would, and returns what it printed.
func users(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), append([]string{"agora", "users"}, args...), func(k string) string { return env[k] }, &out)
	return out.String(), err
}

func mustUsers(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	out, err := users(t, env, args...)
	if err != nil {
		t.Fatalf("agora users %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

var linkRe = regexp.MustCompile(`https?://\S+/password/reset/(\S+)`)

// link is the one-time link a command printed.
func link(t *testing.T, out string) string {
	t.Helper()
	m := linkRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no link in %q", out)
	}
	return m[0]
}

// waitClosed reads a socket until it closes, and returns its close code.
func waitClosed(t *testing.T, conn *websocket.Conn) websocket.StatusCode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		if _, _, err := conn.Read(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatal("the socket stayed open")
			}
			return websocket.CloseStatus(err)
		}
	}
}

// TestUsersCommandsOnARunningServer runs every `agora users` command on the
// SQLite file of a running server, and looks at what people of that server
// notice: a link that sets a password once, an admin page that opens, a
// deactivated account's socket closed (1008) and its session gone.
func TestUsersCommandsOnARunningServer(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "agora.db")
	r := startRun(t, map[string]string{"CHAT_DB": dbPath})
	env := map[string]string{"CHAT_DB": dbPath, "CHAT_URL": r.base}
	newBrowser(t, r.base, nil).signup("ann") // the first account: the admin
	bob := newBrowser(t, r.base, nil).signup("bob")

	out := mustUsers(t, env, "list")
	for _, want := range []string{"ann", "admin", "bob", "member", "active", "2 accounts"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}

	// create: an account with no password, and a link that sets one.
	out = mustUsers(t, env, "create", "carol")
	if !strings.Contains(out, "created carol") {
		t.Errorf("create said %q", out)
	}
	carolLink := link(t, out)
	carol := newBrowser(t, r.base, nil)
	if res := carol.post("/login", url.Values{"username": {"carol"}, "password": {""}}); res.StatusCode == http.StatusSeeOther {
		t.Fatal("carol signed in without a password")
	}
	path := strings.TrimPrefix(carolLink, r.base)
	if status, body := carol.get(path); status != http.StatusOK || !strings.Contains(body, `value="carol"`) {
		t.Fatalf("the link's page: %d\n%.500s", status, body)
	}
	if res := carol.post(path, url.Values{"new_password": {"short"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a short password: %d, want 422", res.StatusCode)
	}
	if res := carol.post(path, url.Values{"new_password": {"carols-password"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("setting the password: %d, want 303", res.StatusCode)
	}
	if status, _ := carol.get("/"); status != http.StatusOK {
		t.Errorf("carol is not signed in after setting her password: %d", status)
	}
	// Spent: a second use, or anyone else's, is refused and changes nothing.
	other := newBrowser(t, r.base, nil)
	if res := other.post(path, url.Values{"new_password": {"stolen-password"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("the link used again: %d, want 404", res.StatusCode)
	}
	if status, _ := other.get(path); status != http.StatusNotFound {
		t.Errorf("the spent link's page: %d, want 404", status)
	}
	if status, _ := other.get("/password/reset/not-a-token"); status != http.StatusNotFound {
		t.Errorf("a made-up link: %d, want 404", status)
	}
	if res := newBrowser(t, r.base, nil).post("/login", url.Values{"username": {"carol"}, "password": {"carols-password"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("carol's new password does not sign in: %d", res.StatusCode)
	}

	// make-admin: the running server sees it at carol's next request.
	if status, _ := carol.get("/admin/users"); status != http.StatusNotFound {
		t.Fatalf("carol sees the admin pages before being made admin: %d", status)
	}
	if out := mustUsers(t, env, "make-admin", "carol"); !strings.Contains(out, "carol is an admin now") {
		t.Errorf("make-admin said %q", out)
	}
	if status, body := carol.get("/admin/users"); status != http.StatusOK || !strings.Contains(body, "operator (agora users)") {
		t.Errorf("carol as admin: %d; the audit list names the operator: %v", status, strings.Contains(body, "operator (agora users)"))
	}

	// reset-password: bob's sessions end once the link is used, his open
	// socket with them.
	bob.get("/rooms/general") // joins it
	bobSocket := bob.dial("general")
	readUntil(t, bobSocket, `data-user="bob"`) // in the hub: the server knows the socket
	resetPath := strings.TrimPrefix(link(t, mustUsers(t, env, "reset-password", "bob")), r.base)
	if status, _ := bob.get("/"); status != http.StatusOK {
		t.Fatalf("a reset link made changes before it was used: bob's page %d", status)
	}
	if res := newBrowser(t, r.base, nil).post(resetPath, url.Values{"new_password": {"bobs-new-password"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bob's reset: %d", res.StatusCode)
	}
	if code := waitClosed(t, bobSocket); code != websocket.StatusPolicyViolation {
		t.Errorf("bob's socket closed with %d after his reset, want 1008", code)
	}
	if status, _ := bob.get("/"); status != http.StatusSeeOther {
		t.Errorf("bob's old session still works after the reset: %d", status)
	}

	// deactivate: from another process, so the server learns of it from
	// the store. Bob's socket closes (1008: browsers do not reconnect).
	bob2 := newBrowser(t, r.base, nil)
	if res := bob2.post("/login", url.Values{"username": {"bob"}, "password": {"bobs-new-password"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bob's login: %d", res.StatusCode)
	}
	conn := bob2.dial("general")
	readUntil(t, conn, `data-user="bob"`)
	if out := mustUsers(t, env, "deactivate", "bob"); !strings.Contains(out, "bob is deactivated") {
		t.Errorf("deactivate said %q", out)
	}
	if status, _ := bob2.get("/"); status != http.StatusSeeOther {
		t.Errorf("a deactivated account's session still works: %d", status)
	}
	if code := waitClosed(t, conn); code != websocket.StatusPolicyViolation {
		t.Errorf("the deactivated account's socket closed with %d, want 1008", code)
	}
	if res := newBrowser(t, r.base, nil).post("/login", url.Values{"username": {"bob"}, "password": {"bobs-new-password"}}); res.StatusCode == http.StatusSeeOther {
		t.Error("a deactivated account signed in")
	}
	if out := mustUsers(t, env, "list"); !regexp.MustCompile(`bob\s+-\s+member\s+deactivated`).MatchString(out) {
		t.Errorf("list does not show bob deactivated:\n%s", out)
	}
}

// TestUsersCommandRefusals: every mistake an operator can make gets a clear
// error and changes nothing.
func TestUsersCommandRefusals(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "agora.db")
	env := map[string]string{"CHAT_DB": dbPath}
	if _, err := users(t, env, "list"); err == nil {
		t.Error("a missing database file was not refused (it would have been made)")
	}
	mustUsers(t, env, "create", "ann", "-db", dbPath) // flags after the words too; makes the file
	mustUsers(t, env, "create", "bob")
	mustUsers(t, env, "deactivate", "bob")
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "say what to do"},
		{[]string{"launch"}, `unknown command "launch"`},
		{[]string{"create"}, "name one account"},
		{[]string{"create", "a", "b"}, "name one account"},
		{[]string{"list", "ann"}, "takes no name"},
		{[]string{"create", "x"}, "2 to 32"},
		{[]string{"create", "ANN"}, "taken"},
		{[]string{"create", "b0b"}, "looks too much like"}, // 0 and o look alike
		{[]string{"make-admin", "nobody"}, `no account is called "nobody"`},
		{[]string{"reset-password", "bob"}, "deactivated"},
		{[]string{"make-admin", "bob"}, "only an active person"},
	} {
		out, err := users(t, env, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("agora users %v: %v (%q), want an error saying %q", c.args, err, out, c.want)
		}
	}
	if out := mustUsers(t, env, "list"); strings.Count(out, "\n") != 4 { // the header, ann, bob, the count
		t.Errorf("a refused command changed the accounts:\n%s", out)
	}
	if out := mustUsers(t, env, "deactivate", "bob"); !strings.Contains(out, "already") {
		t.Errorf("deactivating twice: %q", out)
	}
	if out := mustUsers(t, env, "-h"); !strings.Contains(out, "reset-password NAME") {
		t.Errorf("-h: %q", out)
	}
}

// TestUsersDeactivateClosesSocketsOnEveryNode: two nodes of a cluster on one
// PostgreSQL and one NATS; `agora users deactivate`, run against the
// database, closes the account's sockets on both.
func TestUsersDeactivateClosesSocketsOnEveryNode(t *testing.T) {
	ctx := context.Background()
	pg, err := pgtest.Start(ctx, pgtest.Options{})
	if err != nil {
		t.Skip(err) // only when PostgreSQL is not installed
	}
	t.Cleanup(func() { pg.Stop() })
	dsn, err := pg.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats did not start")
	}
	t.Cleanup(ns.Shutdown)
	env := map[string]string{"CHAT_DB": dsn, "CHAT_NATS": ns.ClientURL()}
	a, b := startRun(t, env), startRun(t, env)

	newBrowser(t, a.base, nil).signup("ann")
	bobA := newBrowser(t, a.base, nil).signup("bob")
	bobB := newBrowser(t, b.base, nil)
	if res := bobB.post("/login", url.Values{"username": {"bob"}, "password": {"password-bob"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bob's login on node b: %d", res.StatusCode)
	}
	bobA.get("/rooms/general") // joins it
	connA, connB := bobA.dial("general"), bobB.dial("general")
	readUntil(t, connA, `data-user="bob"`)
	readUntil(t, connB, `data-user="bob"`)
	if out := mustUsers(t, map[string]string{"CHAT_DB": dsn}, "deactivate", "bob"); !strings.Contains(out, "bob is deactivated") {
		t.Fatalf("deactivate said %q", out)
	}
	for name, conn := range map[string]*websocket.Conn{"a": connA, "b": connB} {
		if code := waitClosed(t, conn); code != websocket.StatusPolicyViolation {
			t.Errorf("node %s closed bob's socket with %d, want 1008", name, code)
		}
	}
	if status, _ := bobB.get("/"); status != http.StatusSeeOther {
		t.Errorf("bob's session on node b still works: %d", status)
	}
	out := mustUsers(t, map[string]string{"CHAT_DB": dsn}, "list")
	if !strings.Contains(out, "deactivated") {
		t.Errorf("list on PostgreSQL:\n%s", out)
	}
}

// TestExportCommand runs `agora export` on the database of a running server
// and reads the zip back; it refuses to overwrite, and says what is wrong.
func TestExportCommand(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "agora.db")
	r := startRun(t, map[string]string{"CHAT_DB": dbPath})
	ann := newBrowser(t, r.base, nil).signup("ann")
	ann.get("/rooms/general")
	ann.post("/rooms/general/messages", url.Values{"body": {"exported words"}})

	dest := filepath.Join(dir, "out.zip")
	var out bytes.Buffer
	noEnv := func(string) string { return "" }
	if err := run(context.Background(), []string{"agora", "export", "-db", dbPath, dest}, noEnv, &out); err != nil {
		t.Fatalf("export: %v\n%s", err, out.String())
	}
	// Not a terminal: plain lines, then the summary.
	if !strings.Contains(out.String(), "of 2 messages") { // ann's and the notice that she joined
		t.Errorf("no progress lines:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "export: wrote "+dest) || !strings.Contains(out.String(), "1 users, 1 rooms, 2 messages, 0 files") {
		t.Errorf("no summary:\n%s", out.String())
	}
	zr, err := zip.OpenReader(dest)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	found := false
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == "messages/general.jsonl" && strings.Contains(string(b), "exported words") {
			found = true
		}
	}
	if !found {
		t.Error("the zip lacks the message")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("a temporary file is left: %s", e.Name())
		}
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-db", dbPath, dest}, "already exists"},
		{[]string{"-db", dbPath}, "name one destination"},
		{[]string{"-db", filepath.Join(dir, "missing.db"), filepath.Join(dir, "x.zip")}, "no such file"},
	} {
		out.Reset()
		err := run(context.Background(), append([]string{"agora", "export"}, c.args...), noEnv, &out)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("export %v: %v, want an error saying %q", c.args, err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); err == nil {
		t.Error("exporting a missing database made one")
	}
}

// TestImportSlackCommand runs `agora import-slack` on a Slack export's zip,
// twice: plain progress lines (not a terminal), a summary, the skipped
// things with their reasons, and nothing added the second time; then a
// server on the database shows the history.
func TestImportSlackCommand(t *testing.T) {
	dir := t.TempDir()
	slacktest.WriteFixture(t, filepath.Join(dir, "export"))
	export := filepath.Join(dir, "export.zip")
	slacktest.Zip(t, filepath.Join(dir, "export"), export, nil)
	dbPath := filepath.Join(dir, "agora.db")
	noEnv := func(string) string { return "" }
	var out bytes.Buffer
	if err := run(context.Background(), []string{"agora", "import-slack", "-db", dbPath, export}, noEnv, &out); err != nil {
		t.Fatalf("import-slack: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{
		// A line as each channel starts.
		"import-slack: 1 of 5 day files, 10 messages (8 new, 0 already here); now #general\n",
		"import-slack: 4 of 5 day files, 13 messages (11 new, 0 already here); now #random\n",
		"import-slack: 5 of 5 day files, 14 messages (12 new, 0 already here); now #secret-plans\n",
		"import-slack: imported " + export,
		"3 accounts (0 matched by email), 3 bots, 3 rooms, 12 messages (3 replies, 1 edited, 1 deleted), 4 reactions, 1 file links",
		"import-slack: skipped 1 files that are not valid JSON: general/2024-01-04.json",
		"import-slack: skipped 1 messages by a user id that users.json does not have: general ",
		"import-slack: skipped 2 channels whose name is not a valid room name (with their messages): \"../../etc\": It names a folder outside its own.; \"news\\u202ereversed\": ",
		"agora users reset-password NAME",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the output lacks %q:\n%s", want, text)
		}
	}
	out.Reset()
	if err := run(context.Background(), []string{"agora", "import-slack", export, "-db", dbPath}, noEnv, &out); err != nil {
		t.Fatalf("import-slack again: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "0 accounts (0 matched by email), 0 bots, 0 rooms, 0 messages") ||
		!strings.Contains(out.String(), "already here from an earlier import: 4 accounts, 3 rooms, 12 messages") {
		t.Errorf("the second import:\n%s", out.String())
	}

	r := startRun(t, map[string]string{"CHAT_DB": dbPath})
	ann := newBrowser(t, r.base, nil).signup("newcomer")
	if code, body := ann.get("/rooms/general"); code != http.StatusOK || !strings.Contains(body, "a thread starts") || !strings.Contains(body, "report.pdf") {
		t.Errorf("the imported #general (%d) lacks its history:\n%.2000s", code, body)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-db", dbPath}, "name one export"},
		{[]string{"-db", dbPath, filepath.Join(dir, "missing.zip")}, "no such file"},
	} {
		out.Reset()
		err := run(context.Background(), append([]string{"agora", "import-slack"}, c.args...), noEnv, &out)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("import-slack %v: %v, want an error saying %q", c.args, err, c.want)
		}
	}
}

// BenchmarkExportRSS exports a server of 100,000 messages and 200 MB of
// files with `agora export` (the built binary, a process of its own) and
// prints the process's peak resident memory: rows are read a page at a time
// and files a chunk at a time, so it should stay far under 100 MB however
// large the server.
// Run: go test -run '^$' -bench ExportRSS -benchtime 1x .
func BenchmarkExportRSS(b *testing.B) {
	const messages, rooms, files, fileSize = 100_000, 20, 200, 1 << 20
	dir := b.TempDir()
	bin := filepath.Join(dir, "agora")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	dbPath := filepath.Join(dir, "big.db")
	start := time.Now()
	fill(b, dbPath, messages, rooms, files, fileSize)
	b.Logf("made %d messages in %d rooms and %d files of %d bytes in %s", messages, rooms, files, fileSize, time.Since(start).Round(time.Second))
	b.ResetTimer()
	for i := range b.N {
		dest := filepath.Join(dir, fmt.Sprintf("export-%d.zip", i))
		cmd := exec.Command(bin, "export", "-db", dbPath, dest)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("agora export: %v\n%s", err, out)
		}
		elapsed := time.Since(start)
		peakKB := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
		fi, _ := os.Stat(dest)
		b.ReportMetric(float64(peakKB)/1024, "MiB-peak-RSS")
		b.ReportMetric(elapsed.Seconds(), "s/export")
		fmt.Printf("export of %d messages and %d MiB of files: peak RSS %.1f MiB, %s, zip %d MiB\n",
			messages, files*fileSize>>20, float64(peakKB)/1024, elapsed.Round(100*time.Millisecond), fi.Size()>>20)
		os.Remove(dest)
	}
}

// fill makes a server: accounts, rooms, messages with a reaction now and
// then, and files of random (incompressible) bytes.
func fill(b *testing.B, path string, messages, rooms, files, fileSize int) {
	ctx := context.Background()
	s, err := db.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var users []chat.User
	for i := range 20 {
		u, err := s.CreateUser(ctx, fmt.Sprintf("user%02d", i), "", "", false)
		if err != nil {
			b.Fatal(err)
		}
		users = append(users, u)
	}
	var rs []chat.Room
	for i := range rooms {
		r, err := s.CreateRoom(ctx, fmt.Sprintf("room %d", i), fmt.Sprintf("room-%d", i), false, users[0].ID)
		if err != nil {
			b.Fatal(err)
		}
		rs = append(rs, r)
	}
	// Many senders at once: the writer commits them in groups.
	const senders = 32
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for w := range senders {
		wg.Go(func() {
			for i := w; i < messages-files; i += senders {
				u, r := users[i%len(users)], rs[i%len(rs)]
				m, _, err := s.CreateMessage(ctx, chat.Message{RoomID: r.ID, AuthorID: u.ID, Kind: chat.MessageText,
					Body: fmt.Sprintf("message %d: the quick brown fox jumps over the lazy dog, and then some more words to be a line", i)})
				if err == nil && i%10 == 0 {
					_, err = s.ToggleReaction(ctx, m.ID, users[(i+1)%len(users)], "👍")
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	for i := range files {
		r, u := rs[i%len(rs)], users[i%len(users)]
		f, err := s.CreateFile(ctx, chat.File{RoomID: r.ID, OwnerID: u.ID, Name: fmt.Sprintf("blob-%d.bin", i), ContentType: "application/octet-stream"},
			io.LimitReader(rand.Reader, int64(fileSize)))
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := s.CreateMessage(ctx, chat.Message{RoomID: r.ID, AuthorID: u.ID, Kind: chat.MessageText, File: &f}); err != nil {
			b.Fatal(err)
		}
	}
}
