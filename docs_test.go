package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

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
			t.Errorf("README command %q: docs_test.go has no rule to check it", line)
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
