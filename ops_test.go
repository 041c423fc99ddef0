package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

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
