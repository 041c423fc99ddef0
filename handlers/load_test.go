//go:build load

// Load test: the real agora binary, driven over loopback the way browsers
// drive it (sign-up form, room page, htmx-ext-ws frames), measured against a
// minimal in-memory broadcast hub run as a separate process the same way.
//
//	go test -tags load -run '^TestLoad$' -count=1 -v -timeout 15m ./handlers/
//
// Phases: (b) idle memory at 1k and 10k sockets, (a) fan-out: 1,000 clients in
// one room, 300 messages/s (and first at 100/s, below saturation), (c) storage: 64 senders at once through their
// sockets, (d) the room page with 50 messages. Results are printed and written
// to testdata/bench/results.txt. Environment knobs, all bounded:
//
//	LOAD_SECONDS=20   length of the fan-out's send window (max 120)
//	LOAD_RATE=3       messages/s per sender in the fan-out, 100 senders (max 6)
//	LOAD_LOW_RATE=1   the same fan-out first at this rate, below saturation (0: skip)
//	LOAD_IDLE=10000   sockets for the large idle-memory point (max 15000)
//	LOAD_PERF=1       record a CPU profile of agora with perf during the fan-out
//	                  (testdata/bench/perf-agora.txt); the figures then include perf's overhead
//	LOAD_AGORA_BIN=x  use the agora binary x instead of building one (say, a build
//	                  with profiling added for a diagnosis)
//
// Only loopback addresses are used: the servers listen on 127.0.0.1; sign-ups
// come from 127.2.1.x (about 9 per address: the server allows 10 per address,
// then one per 6 s) and sockets from 64 addresses 127.1.1.x, so that ephemeral
// ports are not exhausted at 10k connections.
package handlers_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	_ "modernc.org/sqlite"
)

// lgSettings is the size of every phase.
type lgSettings struct {
	users          int           // accounts signed up (and members of #general)
	socketsPerUser int           // fan-out: clients = users × socketsPerUser
	senders        int           // fan-out: users that send
	rate           float64       // fan-out: messages per second per sender
	lowRate        float64       // fan-out run first at this lower rate too (0: not)
	fanout         time.Duration // fan-out: send window
	grace          time.Duration // fan-out: wait for the last deliveries
	idleSmall      int           // idle memory: first point
	idleLarge      int           // idle memory: second point
	storeSenders   int           // storage: senders at once
	storeBurst     int           // storage: messages per sender, back to back
	pageRequests   int           // page: timed requests
	perf           bool
}

func lgSettingsFromEnv() lgSettings {
	s := lgSettings{
		users: 200, socketsPerUser: 5, senders: 100, rate: 3, lowRate: 1,
		fanout: 20 * time.Second, grace: 15 * time.Second,
		idleSmall: 1000, idleLarge: 10000,
		storeSenders: 64, storeBurst: 25, pageRequests: 200,
	}
	if v, err := strconv.Atoi(os.Getenv("LOAD_SECONDS")); err == nil && v > 0 {
		s.fanout = time.Duration(min(v, 120)) * time.Second
	}
	if v, err := strconv.ParseFloat(os.Getenv("LOAD_RATE"), 64); err == nil && v > 0 {
		s.rate = min(v, 6) // the server allows 8 messages/s per user
	}
	if v, err := strconv.ParseFloat(os.Getenv("LOAD_LOW_RATE"), 64); err == nil && v >= 0 {
		s.lowRate = min(v, 6)
	}
	if v, err := strconv.Atoi(os.Getenv("LOAD_IDLE")); err == nil && v > 0 {
		s.idleLarge = min(v, 15000)
		s.idleSmall = min(s.idleSmall, s.idleLarge)
	}
	s.perf = os.Getenv("LOAD_PERF") == "1"
	return s
}

const (
	lgPassword  = "load-test-password"
	lgBodyBytes = 100
)

func TestLoad(t *testing.T) {
	cfg := lgSettingsFromEnv()
	began := time.Now()
	lgRaiseNofile(t) // before any child starts, so the servers inherit it
	tmp := t.TempDir()
	benchDir := filepath.Join("testdata", "bench")
	if err := os.MkdirAll(benchDir, 0o755); err != nil {
		t.Fatal(err)
	}

	bin := os.Getenv("LOAD_AGORA_BIN")
	if bin == "" {
		bin = filepath.Join(tmp, "agora")
		build := exec.Command(lgGoTool(), "build", "-o", bin, ".")
		build.Dir = ".." // the repository root: agora's package main
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	dbPath := filepath.Join(tmp, "load.db")
	startAgora := func(name string) *lgProc {
		addr := lgFreeAddr(t)
		return lgStart(t, name, exec.Command(bin, "-addr", addr, "-db", dbPath), addr, filepath.Join(tmp, name+".log"))
	}
	startBaseline := func(name string) *lgProc {
		addr := lgFreeAddr(t)
		cmd := exec.Command(os.Args[0], "-test.run=^TestLoadBaselineServer$", "-test.timeout=30m")
		cmd.Env = append(os.Environ(), "AGORA_LOAD_BASELINE_ADDR="+addr)
		return lgStart(t, name, cmd, addr, filepath.Join(tmp, name+".log"))
	}

	// Accounts: the sign-up form, then the room page once (which joins #general).
	p := startAgora("agora-setup")
	users := lgSignup(t, p.addr, cfg.users)
	p.stop()

	// (b) idle memory, each server fresh.
	p = startAgora("agora-idle")
	agIdle := lgRunIdle(t, newLgTarget(p, true), users, cfg)
	p.stop()
	b := startBaseline("baseline-idle")
	blIdle := lgRunIdle(t, newLgTarget(b, false), nil, cfg)
	b.stop()

	// (a) fan-out, then (c) storage and (d) page on the same agora process.
	p = startAgora("agora-fanout")
	var agLow, blLow lgFanout
	rows := lgCountRows(t, dbPath, "lg %")
	if cfg.lowRate > 0 {
		agLow = lgRunFanout(t, newLgTarget(p, true), users, cfg, cfg.lowRate, benchDir, "agora-low")
		agLow.committed = lgCountRows(t, dbPath, "lg %") - rows
		rows += agLow.committed
	}
	agFan := lgRunFanout(t, newLgTarget(p, true), users, cfg, cfg.rate, benchDir, "agora")
	agFan.committed = lgCountRows(t, dbPath, "lg %") - rows
	agStore := lgRunStorage(t, newLgTarget(p, true), users, cfg, dbPath)
	agPage := lgRunPage(t, p.addr, users[0], cfg.pageRequests)
	p.stop()
	agStore.locked = lgCountInFile(p.logPath, "database is locked")
	agFan.serverErrors = lgCountInFile(p.logPath, "level=ERROR")

	b = startBaseline("baseline-fanout")
	if cfg.lowRate > 0 {
		blLow = lgRunFanout(t, newLgTarget(b, false), nil, cfg, cfg.lowRate, benchDir, "baseline-low")
	}
	blFan := lgRunFanout(t, newLgTarget(b, false), nil, cfg, cfg.rate, benchDir, "baseline")
	b.stop()

	for _, name := range []string{"agora-setup", "agora-idle", "agora-fanout", "baseline-idle", "baseline-fanout"} {
		if data, err := os.ReadFile(filepath.Join(tmp, name+".log")); err == nil {
			_ = os.WriteFile(filepath.Join(benchDir, name+".log"), data, 0o644)
		}
	}
	table := lgTable(cfg, agFan, blFan, agLow, blLow, agIdle, blIdle, agStore, agPage, time.Since(began))
	fmt.Print("\n" + table)
	if err := os.WriteFile(filepath.Join(benchDir, "results.txt"), []byte(table), 0o644); err != nil {
		t.Error(err)
	}
}

// ---------------------------------------------------------------- processes

// lgProc is a server running as a child process, measured from /proc.
type lgProc struct {
	t       *testing.T
	name    string
	addr    string
	cmd     *exec.Cmd
	done    chan struct{}
	logPath string
	log     *os.File
}

func lgStart(t *testing.T, name string, cmd *exec.Cmd, addr, logPath string) *lgProc {
	t.Helper()
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &lgProc{t: t, name: name, addr: addr, cmd: cmd, done: make(chan struct{}), logPath: logPath, log: f}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(p.stop)
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-p.done:
			out, _ := os.ReadFile(logPath)
			t.Fatalf("%s exited before it answered /healthz:\n%s", name, out)
		default:
		}
		res, err := hc.Get("http://" + addr + "/healthz")
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			p.stop()
			t.Fatalf("%s did not answer /healthz within 30 s", name)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%s: pid %d on %s", name, p.pid(), addr)
	return p
}

func (p *lgProc) pid() int { return p.cmd.Process.Pid }

// stop ends the server with SIGTERM (agora closes its sockets with 1012 and
// shuts down), killing it if it takes longer than 15 s.
func (p *lgProc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.t.Logf("%s did not stop within 15 s: killed", p.name)
		p.cmd.Process.Kill()
		<-p.done
	}
	p.log.Close()
}

// cpu is the process's user plus system CPU time so far (all threads).
func (p *lgProc) cpu() time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid()))
	if err != nil {
		return 0
	}
	// The command name may hold spaces: fields are counted after its ')'.
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)             // field 14 of proc(5)
	stime, _ := strconv.ParseInt(f[12], 10, 64)             // field 15
	return time.Duration(utime+stime) * (time.Second / 100) // USER_HZ = 100
}

// writes is the number of write system calls the process has made (syscw
// in /proc/<pid>/io): each is one socket write, so per delivery it says how
// well frames are batched.
func (p *lgProc) writes() int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", p.pid()))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "syscw:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			return n
		}
	}
	return 0
}

// rss is the process's resident memory in bytes.
func (p *lgProc) rss() int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid()))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// lgMachineBusy is the CPU time all processes of the machine have used, from
// the first line of /proc/stat (user nice system idle iowait irq softirq steal).
func lgMachineBusy() time.Duration {
	data, _ := os.ReadFile("/proc/stat")
	line, _, _ := bytes.Cut(data, []byte("\n"))
	f := strings.Fields(string(line))
	var busy int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest time is already in user
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return time.Duration(busy) * (time.Second / 100)
}

// lgWaitQuiet waits, at most a minute, until the rest of the machine uses
// under 15% of its CPUs, so that the phase after it is measured alone; it
// says so when it gives up (the table's contention line shows the effect).
func lgWaitQuiet(t *testing.T, what string) {
	cpus := float64(lgNumCPU())
	deadline := time.Now().Add(time.Minute)
	for {
		b0, s0 := lgMachineBusy(), lgSelfCPU()
		time.Sleep(time.Second)
		busy := (lgMachineBusy() - b0 - (lgSelfCPU() - s0)).Seconds() / cpus
		if busy < 0.15 {
			return
		}
		if time.Now().After(deadline) {
			t.Logf("%s: the machine is still %.0f%% busy with other work after a minute: measuring anyway", what, busy*100)
			return
		}
	}
}

func lgSelfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func lgRaiseNofile(t *testing.T) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	rl.Cur = rl.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	t.Logf("RLIMIT_NOFILE %d", rl.Cur)
}

func lgGoTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}

func lgFreeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func lgCountInFile(path, s string) int {
	data, _ := os.ReadFile(path)
	return bytes.Count(data, []byte(s))
}

// lgCountRows counts the messages whose body matches a LIKE pattern, reading
// the database file read-only beside the running server (WAL allows it).
func lgCountRows(t *testing.T, path, like string) int64 {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Errorf("open %s: %v", path, err)
		return -1
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow("SELECT count(*) FROM messages WHERE body LIKE ?", like).Scan(&n); err != nil {
		t.Errorf("count rows: %v", err)
		return -1
	}
	return n
}

// ---------------------------------------------------------------- network

// lgLocal returns one of the loopback source addresses 127.0.<net>.1..250.
func lgLocal(netByte, i int) *net.TCPAddr {
	return &net.TCPAddr{IP: net.IPv4(127, byte(netByte), byte(1+i/250), byte(1+i%250)).To4()}
}

func lgTransport(pick func() *net.TCPAddr) *http.Transport {
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			d := net.Dialer{LocalAddr: pick(), Timeout: 10 * time.Second}
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     30 * time.Second,
	}
}

func lgNoRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// lgUser is a signed-up account and its session cookie.
type lgUser struct {
	name   string
	cookie string
}

// lgSignup signs n users up through the form, about 9 per source address
// (the server allows 10 sign-ups per address, then one per 6 s), and opens
// #general once for each, which makes them members.
func lgSignup(t *testing.T, addr string, n int) []*lgUser {
	t.Helper()
	const perAddr = 9
	users := make([]*lgUser, n)
	var mu sync.Mutex
	var errs []string
	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range 4 { // argon2id costs 19 MiB and tens of ms a hash: a few at a time
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				local := lgLocal(2, i/perAddr)
				hc := &http.Client{Transport: lgTransport(func() *net.TCPAddr { return local }), CheckRedirect: lgNoRedirect, Timeout: 30 * time.Second}
				u, err := lgSignupOne(hc, addr, fmt.Sprintf("load%04d", i))
				hc.CloseIdleConnections()
				mu.Lock()
				if err != nil {
					errs = append(errs, err.Error())
				}
				users[i] = u
				mu.Unlock()
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d sign-ups failed, first: %s", len(errs), errs[0])
	}
	t.Logf("signed up and joined %d users in %v", n, time.Since(start).Round(time.Millisecond))
	return users
}

func lgSignupOne(hc *http.Client, addr, name string) (*lgUser, error) {
	base := "http://" + addr
	for try := 0; ; try++ {
		req, _ := http.NewRequest("POST", base+"/signup", strings.NewReader(url.Values{"username": {name}, "password": {lgPassword}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		res, err := hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("signup %s: %w", name, err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusTooManyRequests && try < 3 {
			time.Sleep(7 * time.Second)
			continue
		}
		if res.StatusCode != http.StatusSeeOther {
			return nil, fmt.Errorf("signup %s: status %d", name, res.StatusCode)
		}
		var u *lgUser
		for _, c := range res.Cookies() {
			if c.Name == "agora_session" {
				u = &lgUser{name: name, cookie: c.Name + "=" + c.Value}
			}
		}
		if u == nil {
			return nil, fmt.Errorf("signup %s: no session cookie", name)
		}
		req, _ = http.NewRequest("GET", base+"/rooms/general", nil)
		req.Header.Set("Cookie", u.cookie)
		res, err = hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("join %s: %w", name, err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("join %s: status %d", name, res.StatusCode)
		}
		return u, nil
	}
}

var lgLastIDRe = regexp.MustCompile(`data-last-id="(\d+)"`)

// lgLastID reads the id of the last message on the room page, as the browser's
// script does before it connects (?after=).
func lgLastID(t *testing.T, addr string, u *lgUser) int64 {
	req, _ := http.NewRequest("GET", "http://"+addr+"/rooms/general", nil)
	req.Header.Set("Cookie", u.cookie)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	m := lgLastIDRe.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no data-last-id on the room page (status %d)", res.StatusCode)
	}
	id, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return id
}

// ---------------------------------------------------------------- sockets

// lgTarget is a server under test and the counters its sockets share.
type lgTarget struct {
	proc     *lgProc
	addr     string
	agora    bool // agora: session cookie and ?after=; the baseline takes neither
	nextAddr atomic.Int64
	stopping atomic.Bool // sockets are being closed on purpose: no reconnects

	composerErrs atomic.Int64 // refusals shown to a sender (rate limit, invalid)
	reconnects   atomic.Int64
	evictions    atomic.Int64 // closes with 1013 (too slow)
	dead         atomic.Int64 // sockets that ended and could not come back
	closeCodes   sync.Map     // "code reason" -> *atomic.Int64 (-1: ended without a close frame)
}

func newLgTarget(p *lgProc, agora bool) *lgTarget {
	return &lgTarget{proc: p, addr: p.addr, agora: agora}
}

// dial opens the room's socket as the browser does: the page's origin, the
// session cookie, and ?after=<last message id on the page>.
func (tg *lgTarget) dial(ctx context.Context, u *lgUser, after int64) (*lgWS, error) {
	path := "/rooms/general/ws"
	if tg.agora {
		path += "?after=" + strconv.FormatInt(after, 10)
	}
	h := http.Header{"Origin": {"http://" + tg.addr}}
	if u != nil {
		h.Set("Cookie", u.cookie)
	}
	return lgDialWS(ctx, tg.addr, path, h, lgLocal(1, int(tg.nextAddr.Add(1)%64)))
}

// lgWS is the load generator's WebSocket client: RFC 6455 over a plain TCP
// connection, written for a low cost per received message (one buffered
// reader, no goroutine or context per read), so that on a 2-core machine the
// generator takes as little CPU from the server as it can. It answers pings,
// masks what it sends, and reports the close code and reason it is given.
type lgWS struct {
	c   net.Conn
	br  *bufio.Reader
	wmu sync.Mutex
	wb  []byte
}

type lgCloseErr struct {
	code   int // -1: the connection ended without a close frame
	reason string
	err    error
}

func (e *lgCloseErr) Error() string {
	return fmt.Sprintf("websocket closed: %d %q %v", e.code, e.reason, e.err)
}

func lgDialWS(ctx context.Context, addr, path string, h http.Header, local *net.TCPAddr) (*lgWS, error) {
	d := net.Dialer{LocalAddr: local, Timeout: 10 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	var key [16]byte
	rand.Read(key[:])
	var req bytes.Buffer
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", path, addr, base64.StdEncoding.EncodeToString(key[:]))
	h.Write(&req)
	req.WriteString("\r\n")
	c.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := c.Write(req.Bytes()); err != nil {
		c.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(c, 16<<10)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		c.Close()
		return nil, fmt.Errorf("dial %s: status %d", path, res.StatusCode)
	}
	c.SetDeadline(time.Time{})
	return &lgWS{c: c, br: br}, nil
}

// next reads the next data message into buf (reusing its capacity); control
// frames are handled on the way.
func (w *lgWS) next(buf []byte) ([]byte, error) {
	buf = buf[:0]
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(w.br, hdr[:2]); err != nil {
			return buf, &lgCloseErr{code: -1, err: err}
		}
		fin, op, n := hdr[0]&0x80 != 0, hdr[0]&0x0f, uint64(hdr[1]&0x7f)
		if hdr[1]&0x80 != 0 {
			return buf, &lgCloseErr{code: -1, err: errors.New("masked frame from the server")}
		}
		switch n {
		case 126:
			if _, err := io.ReadFull(w.br, hdr[:2]); err != nil {
				return buf, &lgCloseErr{code: -1, err: err}
			}
			n = uint64(binary.BigEndian.Uint16(hdr[:2]))
		case 127:
			if _, err := io.ReadFull(w.br, hdr[:8]); err != nil {
				return buf, &lgCloseErr{code: -1, err: err}
			}
			n = binary.BigEndian.Uint64(hdr[:8])
		}
		if n > 64<<20 {
			return buf, &lgCloseErr{code: -1, err: fmt.Errorf("frame of %d bytes", n)}
		}
		if op >= 8 { // control: ping, pong, close (at most 125 bytes)
			payload := make([]byte, n)
			if _, err := io.ReadFull(w.br, payload); err != nil {
				return buf, &lgCloseErr{code: -1, err: err}
			}
			switch op {
			case 0x8:
				e := &lgCloseErr{code: 1005}
				if len(payload) >= 2 {
					e.code, e.reason = int(binary.BigEndian.Uint16(payload)), string(payload[2:])
				}
				w.write(0x8, payload[:min(len(payload), 2)]) // echo the close, as a browser does
				w.c.Close()
				return buf, e
			case 0x9:
				if err := w.write(0xA, payload); err != nil {
					return buf, &lgCloseErr{code: -1, err: err}
				}
			}
			continue
		}
		start := len(buf)
		buf = slices.Grow(buf, int(n))[:start+int(n)]
		if _, err := io.ReadFull(w.br, buf[start:]); err != nil {
			return buf, &lgCloseErr{code: -1, err: err}
		}
		if fin {
			return buf, nil
		}
	}
}

// write sends one masked frame (clients must mask).
func (w *lgWS) write(op byte, payload []byte) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	b := append(w.wb[:0], 0x80|op)
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n < 1<<16:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	var mask [4]byte
	rand.Read(mask[:])
	b = append(b, mask[:]...)
	for i, c := range payload {
		b = append(b, c^mask[i&3])
	}
	w.wb = b
	w.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := w.c.Write(b)
	return err
}

// close ends the connection at once, without a close handshake.
func (w *lgWS) close() { w.c.Close() }

// lgSock is one browser tab's room socket: it reads every frame, notes the
// last message id (for ?after= on reconnect, as app.js does) and, in the
// fan-out, every delivery's latency.
type lgSock struct {
	tg     *lgTarget
	user   *lgUser
	tally  *lgTally // fan-out counting, or nil
	conn   atomic.Pointer[lgWS]
	lastID int64 // reader goroutine only
	done   chan struct{}

	// fan-out: got[g] is 1 + the microseconds from message g's send to its
	// arrival here, 0 while it has not arrived. Written by the reader alone;
	// read once the reader has stopped. Nothing is shared per delivery.
	got       []uint32
	delivered atomic.Int64
	dups      atomic.Int64

	mu       sync.Mutex
	trackIDs bool
	ids      map[int64]struct{}
	lastNew  time.Time // arrival of the last new message id
}

func (tg *lgTarget) open(ctx context.Context, u *lgUser, after int64, tally *lgTally, trackIDs bool) (*lgSock, error) {
	c, err := tg.dial(ctx, u, after)
	if err != nil {
		return nil, err
	}
	s := &lgSock{tg: tg, user: u, tally: tally, lastID: after, done: make(chan struct{}), trackIDs: trackIDs}
	if trackIDs {
		s.ids = map[int64]struct{}{}
	}
	if tally != nil {
		s.got = make([]uint32, tally.max)
	}
	s.conn.Store(c)
	go s.readLoop(ctx)
	return s, nil
}

// lgOpenMany opens n sockets, socket i for user i % len(users) (nil users:
// anonymous, for the baseline), 64 dials at a time.
func lgOpenMany(ctx context.Context, tg *lgTarget, users []*lgUser, from, n int, after int64, tally *lgTally) ([]*lgSock, int, error) {
	socks := make([]*lgSock, n)
	var failed atomic.Int64
	var firstErr atomic.Value
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				var u *lgUser
				if len(users) > 0 {
					u = users[(from+i)%len(users)]
				}
				s, err := tg.open(ctx, u, after, tally, false)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				socks[i] = s
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	var err error
	if e := firstErr.Load(); e != nil {
		err = e.(error)
	}
	return slices.DeleteFunc(socks, func(s *lgSock) bool { return s == nil }), int(failed.Load()), err
}

// lgCloseAll closes the sockets at once (no close handshake) and waits, bounded,
// for their readers to stop.
func lgCloseAll(tg *lgTarget, socks []*lgSock) {
	tg.stopping.Store(true)
	for _, s := range socks {
		s.conn.Load().close()
	}
	deadline := time.After(10 * time.Second)
	for _, s := range socks {
		select {
		case <-s.done:
		case <-deadline:
			return
		}
	}
}

func (s *lgSock) readLoop(ctx context.Context) {
	defer close(s.done)
	stop := context.AfterFunc(ctx, func() { s.conn.Load().close() })
	defer stop()
	var buf []byte
	retries := 0
	for {
		w := s.conn.Load()
		data, err := w.next(buf)
		if err != nil {
			w.close()
			if ctx.Err() != nil || s.tg.stopping.Load() {
				return
			}
			code, key := -1, "-1"
			if ce := (*lgCloseErr)(nil); errors.As(err, &ce) {
				code, key = ce.code, fmt.Sprint(ce.code)
				if ce.reason != "" {
					key += " " + strconv.Quote(ce.reason)
				}
			}
			n, _ := s.tg.closeCodes.LoadOrStore(key, new(atomic.Int64))
			n.(*atomic.Int64).Add(1)
			if code == 1013 {
				s.tg.evictions.Add(1)
			}
			// htmx-ext-ws reconnects after 1006 (no close frame), 1011, 1012, 1013.
			switch code {
			case -1, 1006, 1011, 1012, 1013:
				if retries < 5 {
					retries++
					s.tg.reconnects.Add(1)
					time.Sleep(time.Duration(retries) * 200 * time.Millisecond)
					if nc, err := s.tg.dial(ctx, s.user, s.lastID); err == nil {
						s.conn.Store(nc)
						continue
					}
				}
			}
			s.tg.dead.Add(1)
			return
		}
		buf = data
		s.scan(data, time.Now().UnixNano())
	}
}

var (
	lgMsgIDMark    = []byte(`id="message-`)
	lgTokenMark    = []byte("lg ")
	lgComposerMark = []byte(`id="composer-error"`)
)

// scan reads one WebSocket message: message ids, refusals, and the fan-out's
// "lg <number> <send unix ns>" tokens. Several fragments may share a message.
func (s *lgSock) scan(data []byte, now int64) {
	for rest := data; ; {
		i := bytes.Index(rest, lgMsgIDMark)
		if i < 0 {
			break
		}
		rest = rest[i+len(lgMsgIDMark):]
		id, n := lgDigits(rest)
		if n == 0 {
			continue
		}
		if id > s.lastID {
			s.lastID = id
		}
		if s.trackIDs {
			s.mu.Lock()
			if _, ok := s.ids[id]; !ok {
				s.ids[id] = struct{}{}
				s.lastNew = time.Unix(0, now)
			}
			s.mu.Unlock()
		}
	}
	if n := bytes.Count(data, lgComposerMark); n > 0 {
		s.tg.composerErrs.Add(int64(n))
	}
	if s.tally == nil {
		return
	}
	for rest := data; ; {
		i := bytes.Index(rest, lgTokenMark)
		if i < 0 {
			break
		}
		rest = rest[i+len(lgTokenMark):]
		g, n := lgDigits(rest)
		if n == 0 || n >= len(rest) || rest[n] != ' ' {
			continue
		}
		rest = rest[n+1:]
		sent, m := lgDigits(rest)
		if m < 15 {
			continue
		}
		rest = rest[m:]
		s.record(g, sent, now)
	}
}

func lgDigits(b []byte) (int64, int) {
	var v int64
	i := 0
	for i < len(b) && i < 19 && b[i] >= '0' && b[i] <= '9' {
		v = v*10 + int64(b[i]-'0')
		i++
	}
	return v, i
}

// ---------------------------------------------------------------- (a) fan-out

// lgTally numbers the fan-out's messages: message g was sent at the time in
// its body; every socket should receive it exactly once.
type lgTally struct {
	max  int
	next atomic.Int64
	sent []atomic.Bool
	bad  atomic.Int64 // tokens with a number out of range
}

func newLgTally(max int) *lgTally {
	return &lgTally{max: max, sent: make([]atomic.Bool, max)}
}

func (s *lgSock) record(g, sentNs, now int64) {
	if g < 0 || g >= int64(len(s.got)) {
		s.tally.bad.Add(1)
		return
	}
	if s.got[g] != 0 {
		s.dups.Add(1)
		return
	}
	us := max(now-sentNs, 0) / 1000
	s.got[g] = uint32(min(us+1, 1<<32-1))
	s.delivered.Add(1)
}

// lgBody is a 100-byte message carrying its number and send time.
func lgBody(g, ns int64) string {
	b := fmt.Sprintf("lg %d %d ", g, ns)
	return b + strings.Repeat("x", max(lgBodyBytes-len(b), 1))
}

// lgComposerFrame is what htmx-ext-ws sends when the composer is submitted.
func lgComposerFrame(body, clientID, pageURL string) []byte {
	b, _ := json.Marshal(map[string]any{
		"body": body, "client_msg_id": clientID,
		"HEADERS": map[string]string{"HX-Request": "true", "HX-Trigger": "composer", "HX-Trigger-Name": "",
			"HX-Target": "composer", "HX-Current-URL": pageURL},
	})
	return b
}

type lgFanout struct {
	clients, connectFailed    int
	sent                      int64
	sendErrs, refused         int64
	window, drain             time.Duration
	offered                   float64 // messages/s actually sent
	delivered, expected       int64
	perSec                    float64 // deliveries/s over the window and the drain
	p50, p99, pmax            time.Duration
	lastP50, lastP99, lastMax time.Duration
	lost, neverSeen, dups     int64
	reconnects, evictions     int64
	dead                      int64
	cpu, genCPU               time.Duration
	otherCPU                  time.Duration // the rest of the machine: anything above ~0 competed for the 2 cores
	writesPerDelivery         float64       // the server's write system calls per delivery
	cpuPerDelivery            float64       // µs
	genPerDelivery            float64       // µs
	committed                 int64
	serverErrors              int
	closeCodes                string
}

func lgRunFanout(t *testing.T, tg *lgTarget, users []*lgUser, cfg lgSettings, rate float64, benchDir, label string) lgFanout {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.fanout+cfg.grace+3*time.Minute)
	defer cancel()
	clients := cfg.users * cfg.socketsPerUser
	maxMsgs := int(float64(cfg.senders)*rate*cfg.fanout.Seconds()*1.2) + 100
	tally := newLgTally(maxMsgs)
	var after int64
	if tg.agora {
		after = lgLastID(t, tg.addr, users[0])
	}
	lgWaitQuiet(t, tg.proc.name)
	start := time.Now()
	socks, failed, err := lgOpenMany(ctx, tg, users, 0, clients, after, tally)
	t.Logf("%s fan-out: %d sockets open in %v (%d failed, first error %v)", label, len(socks), time.Since(start).Round(time.Millisecond), failed, err)
	if len(socks) < cfg.senders {
		t.Fatalf("%s: too few sockets", label)
	}
	time.Sleep(3 * time.Second) // presence frames of the joins settle

	// Socket i belongs to user i % users: sockets 0..senders-1 are the
	// senders' first sockets. 100 senders at 3/s each, evenly staggered.
	period := time.Duration(float64(time.Second) / rate)
	var sendErrs atomic.Int64
	var wg sync.WaitGroup
	cpu0, gen0, all0, w0 := tg.proc.cpu(), lgSelfCPU(), lgMachineBusy(), tg.proc.writes()
	t0 := time.Now()
	until := t0.Add(cfg.fanout)
	pageURL := "http://" + tg.addr + "/rooms/general"
	for i := range cfg.senders {
		s := socks[i]
		offset := time.Duration(i) * period / time.Duration(cfg.senders)
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := t0.Add(offset)
			for {
				if d := time.Until(next); d > 0 {
					select {
					case <-time.After(d):
					case <-ctx.Done():
						return
					}
				}
				if !time.Now().Before(until) {
					return
				}
				g := tally.next.Add(1) - 1
				if g >= int64(tally.max) {
					return
				}
				ns := time.Now().UnixNano()
				frame := lgComposerFrame(lgBody(g, ns), fmt.Sprintf("lg-%d-%d", g, ns), pageURL)
				err := s.conn.Load().write(0x1, frame)
				if err != nil {
					sendErrs.Add(1)
				} else {
					tally.sent[g].Store(true)
				}
				next = next.Add(period)
			}
		}()
	}
	var perfDone chan struct{}
	if cfg.perf && label == "agora" {
		perfDone = lgPerf(t, tg.proc.pid(), filepath.Join(benchDir, "perf-"+label), 3*time.Second, max(min(10*time.Second, cfg.fanout-4*time.Second), time.Second))
	}
	wg.Wait()
	window := time.Since(t0)
	var sent int64
	for i := range tally.max {
		if tally.sent[i].Load() {
			sent++
		}
	}
	expected := sent * int64(len(socks))
	graceEnd := time.Now().Add(cfg.grace)
	delivered := func() (n int64) {
		for _, s := range socks {
			n += s.delivered.Load()
		}
		return n
	}
	for delivered() < expected && time.Now().Before(graceEnd) {
		time.Sleep(20 * time.Millisecond)
	}
	drained := time.Since(t0)
	cpu1, gen1, all1, w1 := tg.proc.cpu(), lgSelfCPU(), lgMachineBusy(), tg.proc.writes()
	if perfDone != nil {
		<-perfDone
	}
	lgCloseAll(tg, socks)

	r := lgFanout{
		clients: len(socks), connectFailed: failed, sent: sent, sendErrs: sendErrs.Load(), refused: tg.composerErrs.Load(),
		window: window, drain: drained - window, offered: float64(sent) / window.Seconds(),
		delivered: delivered(), expected: expected,
		reconnects: tg.reconnects.Load(), evictions: tg.evictions.Load(), dead: tg.dead.Load(),
		cpu: cpu1 - cpu0, genCPU: gen1 - gen0,
	}
	r.otherCPU = max((all1-all0)-r.cpu-r.genCPU, 0)
	if r.delivered > 0 {
		r.writesPerDelivery = float64(w1-w0) / float64(r.delivered)
	}
	r.perSec = float64(r.delivered) / drained.Seconds()
	if r.delivered > 0 {
		r.cpuPerDelivery = float64(r.cpu.Nanoseconds()) / 1e3 / float64(r.delivered)
		r.genPerDelivery = float64(r.genCPU.Nanoseconds()) / 1e3 / float64(r.delivered)
	}
	// Per message: how many sockets got it, and the latency to the last one.
	stopped := make([]*lgSock, 0, len(socks))
	for _, s := range socks {
		select {
		case <-s.done:
			stopped = append(stopped, s) // its got[] is final
		default:
		}
		r.dups += s.dups.Load()
	}
	all := make([]uint32, 0, r.delivered)
	var lastLat []int64
	for g := range tally.max {
		if !tally.sent[g].Load() {
			continue
		}
		var n int64
		var last uint32
		for _, s := range stopped {
			if v := s.got[g]; v != 0 {
				n++
				all = append(all, v-1)
				last = max(last, v-1)
			}
		}
		if n == 0 {
			r.neverSeen++
		}
		r.lost += max(int64(len(socks))-n, 0)
		if n >= int64(len(socks)) {
			lastLat = append(lastLat, int64(last)*1000)
		}
	}
	slices.Sort(all)
	slices.Sort(lastLat)
	us := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return time.Duration(all[min(int(p*float64(len(all))), len(all)-1)]) * time.Microsecond
	}
	ns := func(p float64) time.Duration {
		if len(lastLat) == 0 {
			return 0
		}
		return time.Duration(lastLat[min(int(p*float64(len(lastLat))), len(lastLat)-1)])
	}
	r.p50, r.p99, r.pmax = us(0.50), us(0.99), us(1)
	r.lastP50, r.lastP99, r.lastMax = ns(0.50), ns(0.99), ns(1)
	var codes []string
	tg.closeCodes.Range(func(k, v any) bool {
		codes = append(codes, fmt.Sprintf("%v ×%d", k, v.(*atomic.Int64).Load()))
		return true
	})
	slices.Sort(codes)
	r.closeCodes = strings.Join(codes, ", ")
	t.Logf("%s fan-out: %+v", label, r)
	return r
}

// lgPerf records the server's CPU with perf, after a delay, for a while; the
// report (self time by symbol, and cumulative) is written beside the results.
func lgPerf(t *testing.T, pid int, prefix string, delay, d time.Duration) chan struct{} {
	done := make(chan struct{})
	if _, err := exec.LookPath("perf"); err != nil {
		t.Logf("LOAD_PERF: no perf on PATH")
		close(done)
		return done
	}
	go func() {
		defer close(done)
		time.Sleep(delay)
		data := prefix + ".data"
		rec := exec.Command("perf", "record", "-F", "499", "-g", "-p", strconv.Itoa(pid), "-o", data, "--", "sleep", strconv.Itoa(int(d.Seconds())))
		if out, err := rec.CombinedOutput(); err != nil {
			t.Logf("perf record: %v\n%s", err, out)
			return
		}
		var report bytes.Buffer
		for _, args := range [][]string{
			{"report", "-i", data, "--stdio", "--no-children", "--sort", "symbol", "-g", "none", "--percent-limit", "0.5"},
			{"report", "-i", data, "--stdio", "--children", "--sort", "symbol", "-g", "none", "--percent-limit", "3"},
		} {
			out, _ := exec.Command("perf", args...).Output()
			report.WriteString("$ perf " + strings.Join(args, " ") + "\n")
			report.Write(out)
		}
		os.WriteFile(prefix+".txt", report.Bytes(), 0o644)
		os.Remove(data)
	}()
	return done
}

// ---------------------------------------------------------------- (b) idle memory

type lgIdle struct {
	rss0, rssSmall, rssLarge int64
	small, large             int
	failed                   int
	died                     int64
}

func lgRunIdle(t *testing.T, tg *lgTarget, users []*lgUser, cfg lgSettings) lgIdle {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var after int64
	if tg.agora {
		after = lgLastID(t, tg.addr, users[0])
	}
	lgWaitQuiet(t, tg.proc.name)
	r := lgIdle{rss0: tg.proc.rss()}
	start := time.Now()
	socks, failed, err := lgOpenMany(ctx, tg, users, 0, cfg.idleSmall, after, nil)
	r.failed += failed
	time.Sleep(3 * time.Second)
	r.small, r.rssSmall = len(socks), tg.proc.rss()
	more, failed, err2 := lgOpenMany(ctx, tg, users, cfg.idleSmall, cfg.idleLarge-cfg.idleSmall, after, nil)
	r.failed += failed
	socks = append(socks, more...)
	time.Sleep(5 * time.Second)
	r.large, r.rssLarge = len(socks), tg.proc.rss()
	r.died = tg.dead.Load() + tg.reconnects.Load()
	t.Logf("idle %s: %d+%d sockets in %v, %d failed (%v, %v); RSS %d → %d → %d KiB",
		tg.proc.name, r.small, r.large-r.small, time.Since(start).Round(time.Millisecond), r.failed, err, err2,
		r.rss0>>10, r.rssSmall>>10, r.rssLarge>>10)
	lgCloseAll(tg, socks)
	return r
}

// ---------------------------------------------------------------- (c) storage

type lgStorage struct {
	senders, burst int
	received       int
	elapsed        time.Duration
	rate           float64
	refused        int64
	committed      int64
	locked         int
}

// lgRunStorage has 64 users post at once through their own sockets, each a
// burst of messages back to back, and measures, at a listening socket, how
// fast the messages come back committed and published. The server's limits
// (8 messages/s per user after a burst of 30; 10 frames/s per socket after
// 30) cap what the socket path can carry: the burst stays within them.
func lgRunStorage(t *testing.T, tg *lgTarget, users []*lgUser, cfg lgSettings, dbPath string) lgStorage {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := lgStorage{senders: min(cfg.storeSenders, len(users)-cfg.senders-1), burst: cfg.storeBurst}
	after := lgLastID(t, tg.addr, users[0])
	listener, err := tg.open(ctx, users[len(users)-1], after, nil, true)
	if err != nil {
		t.Fatalf("storage listener: %v", err)
	}
	// Users who did not send in the fan-out: their buckets are full.
	senders, failed, err := lgOpenMany(ctx, tg, users[cfg.senders:cfg.senders+r.senders], 0, r.senders, after, nil)
	if failed > 0 {
		t.Errorf("storage: %d sender sockets failed: %v", failed, err)
	}
	time.Sleep(2 * time.Second)
	refused0 := tg.composerErrs.Load()
	rows0 := lgCountRows(t, dbPath, "st %")
	pageURL := "http://" + tg.addr + "/rooms/general"
	want := len(senders) * r.burst
	t0 := time.Now()
	var wg sync.WaitGroup
	for i, s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range r.burst {
				body := fmt.Sprintf("st %d-%d see https://example.com/p/%d cc @load0000 ", i, k, k)
				body += strings.Repeat("y", max(lgBodyBytes-len(body), 1))
				err := s.conn.Load().write(0x1, lgComposerFrame(body, fmt.Sprintf("st-%d-%d-%d", i, k, t0.UnixNano()), pageURL))
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		listener.mu.Lock()
		n := len(listener.ids)
		listener.mu.Unlock()
		if n >= want {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	listener.mu.Lock()
	r.received, r.elapsed = len(listener.ids), listener.lastNew.Sub(t0)
	listener.mu.Unlock()
	if r.elapsed > 0 {
		r.rate = float64(r.received) / r.elapsed.Seconds()
	}
	r.refused = tg.composerErrs.Load() - refused0
	lgCloseAll(tg, append(senders, listener))
	r.committed = lgCountRows(t, dbPath, "st %") - rows0
	t.Logf("storage: %+v", r)
	return r
}

// ---------------------------------------------------------------- (d) page

type lgPage struct {
	requests    int
	p50, p99    time.Duration
	bytes, msgs int
}

// lgRunPage times GET /rooms/general (50 messages) from the client over one
// keep-alive loopback connection: request sent to the last byte read.
func lgRunPage(t *testing.T, addr string, u *lgUser, n int) lgPage {
	hc := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	defer hc.CloseIdleConnections()
	get := func() (time.Duration, []byte) {
		req, _ := http.NewRequest("GET", "http://"+addr+"/rooms/general", nil)
		req.Header.Set("Cookie", u.cookie)
		t0 := time.Now()
		res, err := hc.Do(req)
		if err != nil {
			t.Fatalf("page: %v", err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		d := time.Since(t0)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("page: status %d", res.StatusCode)
		}
		return d, body
	}
	var body []byte
	for range 20 {
		_, body = get()
	}
	times := make([]time.Duration, n)
	for i := range times {
		times[i], _ = get()
	}
	slices.Sort(times)
	return lgPage{requests: n, p50: times[n/2], p99: times[min(n*99/100, n-1)], bytes: len(body),
		msgs: bytes.Count(body, []byte(`id="message-`))}
}

// ---------------------------------------------------------------- the table

func lgTable(cfg lgSettings, af, bf, al, bl lgFanout, ai, bi lgIdle, st lgStorage, pg lgPage, took time.Duration) string {
	var b strings.Builder
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1e3) }
	lastMs := func(d time.Duration) string { // latency to the last receiver exists only for messages all received
		if d == 0 {
			return "none complete"
		}
		return ms(d)
	}
	kib := func(v int64) string { return fmt.Sprintf("%.1f KiB", float64(v)/1024) }
	mib := func(v int64) string { return fmt.Sprintf("%.1f MiB", float64(v)/(1<<20)) }
	ratio := func(a, b float64) string {
		if b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2fx", a/b)
	}
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	perConn := func(r lgIdle, large bool) float64 {
		if large {
			return float64(r.rssLarge-r.rss0) / float64(max(r.large, 1))
		}
		return float64(r.rssSmall-r.rss0) / float64(max(r.small, 1))
	}
	row := func(metric, a, bl, rt, target, v string) {
		fmt.Fprintf(&b, "%-44s %-18s %-18s %-8s %-16s %s\n", metric, a, bl, rt, target, v)
	}
	fmt.Fprintf(&b, "agora load test, %s, %d CPUs shared by server and load generator, loopback\n", time.Now().UTC().Format(time.RFC3339), lgNumCPU())
	fmt.Fprintf(&b, "baseline: in-memory coder/websocket hub, no storage, no rendering, one write per message per socket, 256-message queue\n")
	fmt.Fprintf(&b, "load generator: raw RFC 6455 client, one goroutine per socket; its CPU competes with the server's on the same cores\n\n")
	row("metric", "agora", "baseline", "ratio", "target", "verdict")
	row("(a) fan-out: clients (connect failures)", fmt.Sprintf("%d (%d)", af.clients, af.connectFailed), fmt.Sprintf("%d (%d)", bf.clients, bf.connectFailed), "", "1000", "")
	row("(a) messages sent / offered rate", fmt.Sprintf("%d / %.0f/s", af.sent, af.offered), fmt.Sprintf("%d / %.0f/s", bf.sent, bf.offered), "", "300/s", "")
	row("(a) deliveries received / expected", fmt.Sprintf("%d/%d", af.delivered, af.expected), fmt.Sprintf("%d/%d", bf.delivered, bf.expected), "", "", "")
	row("(a) deliveries/s (window + drain)", fmt.Sprintf("%.0f", af.perSec), fmt.Sprintf("%.0f", bf.perSec), ratio(af.perSec, bf.perSec), "300000", verdict(af.perSec >= 0.97*300000))
	row("(a) latency per delivery p50", ms(af.p50), ms(bf.p50), ratio(float64(af.p50), float64(bf.p50)), "", "")
	row("(a) latency per delivery p99", ms(af.p99), ms(bf.p99), ratio(float64(af.p99), float64(bf.p99)), "", "")
	row("(a) latency per delivery max", ms(af.pmax), ms(bf.pmax), ratio(float64(af.pmax), float64(bf.pmax)), "", "")
	row("(a) send -> last receiver p50", lastMs(af.lastP50), lastMs(bf.lastP50), ratio(float64(af.lastP50), float64(bf.lastP50)), "", "")
	row("(a) send -> last receiver p99", lastMs(af.lastP99), lastMs(bf.lastP99), ratio(float64(af.lastP99), float64(bf.lastP99)), "<= 25 ms", verdict(af.lastP99 > 0 && af.lastP99 <= 25*time.Millisecond))
	row("(a) send -> last receiver max", lastMs(af.lastMax), lastMs(bf.lastMax), ratio(float64(af.lastMax), float64(bf.lastMax)), "", "")
	row("(a) lost deliveries (never-seen msgs)", fmt.Sprintf("%d (%d)", af.lost, af.neverSeen), fmt.Sprintf("%d (%d)", bf.lost, bf.neverSeen), "", "0", verdict(af.lost == 0))
	row("(a) duplicated deliveries", fmt.Sprint(af.dups), fmt.Sprint(bf.dups), "", "0", verdict(af.dups == 0))
	row("(a) evictions (1013) / reconnects / dead", fmt.Sprintf("%d/%d/%d", af.evictions, af.reconnects, af.dead), fmt.Sprintf("%d/%d/%d", bf.evictions, bf.reconnects, bf.dead), "", "", "")
	row("(a) send errors / refused by server", fmt.Sprintf("%d/%d", af.sendErrs, af.refused), fmt.Sprintf("%d/%d", bf.sendErrs, bf.refused), "", "", "")
	row("(a) server CPU (window + drain)", fmt.Sprintf("%.1f s (%.0f%%)", af.cpu.Seconds(), 100*af.cpu.Seconds()/(af.window+af.drain).Seconds()),
		fmt.Sprintf("%.1f s (%.0f%%)", bf.cpu.Seconds(), 100*bf.cpu.Seconds()/(bf.window+bf.drain).Seconds()), ratio(af.cpu.Seconds(), bf.cpu.Seconds()), "", "")
	row("(a) server CPU per delivery", fmt.Sprintf("%.2f µs", af.cpuPerDelivery), fmt.Sprintf("%.2f µs", bf.cpuPerDelivery), ratio(af.cpuPerDelivery, bf.cpuPerDelivery), "<= 1.5 µs", verdict(af.cpuPerDelivery > 0 && af.cpuPerDelivery <= 1.5))
	row("(a) server write syscalls per delivery", fmt.Sprintf("%.3f", af.writesPerDelivery), fmt.Sprintf("%.3f", bf.writesPerDelivery), ratio(af.writesPerDelivery, bf.writesPerDelivery), "", "")
	row("(a) other processes' CPU (contention)", fmt.Sprintf("%.1f s (%.0f%%)", af.otherCPU.Seconds(), 100*af.otherCPU.Seconds()/(af.window+af.drain).Seconds()),
		fmt.Sprintf("%.1f s (%.0f%%)", bf.otherCPU.Seconds(), 100*bf.otherCPU.Seconds()/(bf.window+bf.drain).Seconds()), "", "~0", "")
	row("(a) load generator CPU per delivery", fmt.Sprintf("%.2f µs", af.genPerDelivery), fmt.Sprintf("%.2f µs", bf.genPerDelivery), "", "", "")
	row("(a) messages committed / sent", fmt.Sprintf("%d/%d", af.committed, af.sent), "n/a", "", "all", verdict(af.committed == af.sent))
	row("(a) server log errors (whole agora run)", fmt.Sprint(af.serverErrors), "", "", "0", "")
	if cfg.lowRate > 0 {
		lr := fmt.Sprintf("(a@%.0f/s)", float64(cfg.senders)*cfg.lowRate)
		row(lr+" deliveries/s", fmt.Sprintf("%.0f", al.perSec), fmt.Sprintf("%.0f", bl.perSec), ratio(al.perSec, bl.perSec), "", "")
		row(lr+" latency per delivery p50 / p99", ms(al.p50)+" / "+ms(al.p99), ms(bl.p50)+" / "+ms(bl.p99), ratio(float64(al.p99), float64(bl.p99)), "", "")
		row(lr+" send -> last receiver p99", lastMs(al.lastP99), lastMs(bl.lastP99), ratio(float64(al.lastP99), float64(bl.lastP99)), "(<= 25 ms)", "")
		row(lr+" lost / duplicated / evictions", fmt.Sprintf("%d/%d/%d", al.lost, al.dups, al.evictions), fmt.Sprintf("%d/%d/%d", bl.lost, bl.dups, bl.evictions), "", "", "")
		row(lr+" server CPU per delivery", fmt.Sprintf("%.2f µs", al.cpuPerDelivery), fmt.Sprintf("%.2f µs", bl.cpuPerDelivery), ratio(al.cpuPerDelivery, bl.cpuPerDelivery), "", "")
		row(lr+" server write syscalls per delivery", fmt.Sprintf("%.3f", al.writesPerDelivery), fmt.Sprintf("%.3f", bl.writesPerDelivery), ratio(al.writesPerDelivery, bl.writesPerDelivery), "", "")
		row(lr+" load generator CPU per delivery", fmt.Sprintf("%.2f µs", al.genPerDelivery), fmt.Sprintf("%.2f µs", bl.genPerDelivery), "", "", "")
		row(lr+" other processes' CPU", fmt.Sprintf("%.1f s", al.otherCPU.Seconds()), fmt.Sprintf("%.1f s", bl.otherCPU.Seconds()), "", "~0", "")
		row(lr+" messages committed / sent", fmt.Sprintf("%d/%d", al.committed, al.sent), "n/a", "", "all", "")
	}
	row("(b) idle RSS, no sockets", mib(ai.rss0), mib(bi.rss0), ratio(float64(ai.rss0), float64(bi.rss0)), "", "")
	row(fmt.Sprintf("(b) idle RSS, %d sockets", ai.small), mib(ai.rssSmall), mib(bi.rssSmall), ratio(float64(ai.rssSmall), float64(bi.rssSmall)), "", "")
	row(fmt.Sprintf("(b) per connection at %d", ai.small), kib(int64(perConn(ai, false))), kib(int64(perConn(bi, false))), ratio(perConn(ai, false), perConn(bi, false)), "", "")
	row(fmt.Sprintf("(b) idle RSS, %d sockets", ai.large), mib(ai.rssLarge), mib(bi.rssLarge), ratio(float64(ai.rssLarge), float64(bi.rssLarge)), "", "")
	row(fmt.Sprintf("(b) per connection at %d", ai.large), kib(int64(perConn(ai, true))), kib(int64(perConn(bi, true))), ratio(perConn(ai, true), perConn(bi, true)),
		"<= 12 KiB @10k", verdict(ai.large >= 10000 && perConn(ai, true) <= 12*1024))
	row("(b) connect failures / sockets lost idle", fmt.Sprintf("%d/%d", ai.failed, ai.died), fmt.Sprintf("%d/%d", bi.failed, bi.died), "", "", "")
	row(fmt.Sprintf("(c) socket path: %d senders x %d burst", st.senders, st.burst), fmt.Sprintf("%d in %s", st.received, ms(st.elapsed)), "n/a", "", "", "")
	row("(c) committed msgs/s via sockets (burst)", fmt.Sprintf("%.0f", st.rate), "n/a", "", ">= 100000", verdict(st.rate >= 100000)+" (*)")
	row("(c) committed rows / refused / locked", fmt.Sprintf("%d/%d/%d", st.committed, st.refused, st.locked), "n/a", "", "locked 0", verdict(st.locked == 0))
	row(fmt.Sprintf("(d) GET room page (%d msgs, %d B) p50", pg.msgs, pg.bytes), ms(pg.p50), "n/a", "", "<= 1 ms", verdict(pg.p50 <= time.Millisecond)+" (**)")
	row("(d) GET room page p99", ms(pg.p99), "n/a", "", "", "")
	fmt.Fprintf(&b, "\n(a) %d users x %d sockets; %d senders at %.0f msg/s for %v; latency from the send timestamp in the body to each arrival, grace %v.\n",
		cfg.users, cfg.socketsPerUser, cfg.senders, cfg.rate, cfg.fanout, cfg.grace)
	fmt.Fprintf(&b, "    CPU from /proc/<pid>/stat utime+stime over the send window and drain (%v + %v agora, %v + %v baseline).\n",
		af.window.Round(time.Millisecond), af.drain.Round(time.Millisecond), bf.window.Round(time.Millisecond), bf.drain.Round(time.Millisecond))
	fmt.Fprintf(&b, "    sockets closed under the clients (code, reason): agora [%s]; baseline [%s]\n", af.closeCodes, bf.closeCodes)
	if cfg.lowRate > 0 {
		fmt.Fprintf(&b, "(a@%.0f/s) the same fan-out run first at %.0f msg/s per sender (close codes: agora [%s]; baseline [%s]).\n",
			float64(cfg.senders)*cfg.lowRate, cfg.lowRate, al.closeCodes, bl.closeCodes)
	}
	fmt.Fprintf(&b, "(b) VmRSS after connecting and 3-5 s of quiet; per connection = (RSS_n - RSS_0) / n.\n")
	fmt.Fprintf(&b, "(*) the socket path is rate-limited per user (8 msg/s after a burst of 30) and per socket (10 frames/s after 30):\n")
	fmt.Fprintf(&b, "    64 senders can sustain at most 512 msg/s; this is the burst rate. The store's own rate is BenchmarkCreateMessage.\n")
	fmt.Fprintf(&b, "(**) measured at the client over one keep-alive loopback connection, request to last byte, %d requests.\n", pg.requests)
	fmt.Fprintf(&b, "load test run time %v\n", took.Round(time.Second))
	return b.String()
}

func lgNumCPU() int {
	data, _ := os.ReadFile("/proc/cpuinfo")
	return max(bytes.Count(data, []byte("processor\t:")), 1)
}

// ---------------------------------------------------------------- baseline server

// TestLoadBaselineServer is the baseline: a minimal broadcast hub on
// coder/websocket with no storage and no rendering: a mutex-guarded map of
// subscribers, a buffered channel each, every composer frame's body echoed as
// <div id="message-N"> to all, one WebSocket write per message. TestLoad runs
// it as a separate process (this test binary again, with the address in
// AGORA_LOAD_BASELINE_ADDR) so it is measured as agora is.
func TestLoadBaselineServer(t *testing.T) {
	addr := os.Getenv("AGORA_LOAD_BASELINE_ADDR")
	if addr == "" {
		t.Skip("the baseline server process of TestLoad")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	h := &lgBaseHub{subs: map[*lgBaseSub]struct{}{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("GET /rooms/general/ws", h.serve)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	fmt.Println("baseline listening on", addr)
	<-ctx.Done()
	srv.Close()
	h.mu.Lock()
	for s := range h.subs {
		s.conn.CloseNow()
	}
	h.mu.Unlock()
}

type lgBaseSub struct {
	ch   chan *lgBaseMsg
	conn *websocket.Conn
}

// lgBaseMsg is one rendered message; the queue holds pointers to it (8 bytes a
// slot, so the queue costs an idle connection 2 KiB).
type lgBaseMsg struct{ b []byte }

type lgBaseHub struct {
	mu   sync.Mutex
	subs map[*lgBaseSub]struct{}
	next atomic.Int64
}

func (h *lgBaseHub) serve(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return
	}
	c.SetReadLimit(64 << 10)
	s := &lgBaseSub{ch: make(chan *lgBaseMsg, 256), conn: c}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	defer func() {
		cancel()
		h.mu.Lock()
		delete(h.subs, s)
		h.mu.Unlock()
		c.CloseNow()
	}()
	go func() {
		for {
			select {
			case m := <-s.ch:
				wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
				err := c.Write(wctx, websocket.MessageText, m.b)
				wcancel()
				if err != nil {
					c.CloseNow()
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		var f struct {
			Body    string            `json:"body"`
			Headers map[string]string `json:"HEADERS"`
		}
		if json.Unmarshal(data, &f) != nil || f.Headers["HX-Trigger"] != "composer" {
			continue
		}
		id := h.next.Add(1)
		h.publish(&lgBaseMsg{[]byte(`<div id="message-` + strconv.FormatInt(id, 10) + `">` + html.EscapeString(f.Body) + `</div>`)})
	}
}

func (h *lgBaseHub) publish(m *lgBaseMsg) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		select {
		case s.ch <- m:
		default: // too slow: evicted, as the chat example does (but with 1013)
			go s.conn.Close(websocket.StatusTryAgainLater, "too slow")
		}
	}
}
