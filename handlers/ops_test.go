package handlers_test

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"agora/assets"
	"agora/chat/live"
	"agora/db"
	"agora/handlers"
	"agora/handlers/metrics"
)

// startServerConfig is startTestServer with the whole handlers.Config open to
// the test (its Store, Hub and Assets are filled in).
func startServerConfig(t *testing.T, hubCfg live.HubConfig, cfg handlers.Config) *testServer {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agora.db")
	store, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	hub := handlers.NewHub(hubCfg)
	cfg.Store, cfg.Hub, cfg.Assets = store, hub, assets.FS
	app := handlers.New(cfg)
	ts := &testServer{Server: httptest.NewServer(app), store: store, app: app, hub: hub, path: path}
	t.Cleanup(ts.stop)
	return ts
}

// scrape reads a metrics endpoint into series ("name{labels}") -> value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("scrape: status %d", res.StatusCode)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("scrape: bad line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

// TestMetricsMoveWithTraffic scrapes the metrics while two people chat over
// sockets and the form, and a third socket stops reading and is evicted.
func TestMetricsMoveWithTraffic(t *testing.T) {
	m := metrics.New()
	ts := startServerConfig(t, live.HubConfig{QueueLen: 16}, handlers.Config{Metrics: m})
	ms := httptest.NewServer(m.Handler())
	defer ms.Close()
	url := ms.URL

	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	ann.get("/rooms/general")
	bob.get("/rooms/general")
	annSock, bobSock := ann.dial("general", -1), bob.dial("general", -1)
	annSock.readUntil(`data-user="bob"`)

	before := scrape(t, url)
	if got := before["agora_sockets_open"]; got != 2 {
		t.Errorf("agora_sockets_open = %v with two sockets open", got)
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "process_open_fds"} {
		if before[name] <= 0 {
			t.Errorf("%s missing or zero: the runtime and process collectors are not registered", name)
		}
	}

	// Five messages, each waited for on both sockets so each is its own write.
	for i := range 5 {
		body := "hello " + strconv.Itoa(i)
		if i%2 == 0 {
			annSock.say(body)
		} else {
			bob.postMessage("general", body)
		}
		annSock.readUntil(body)
		bobSock.readUntil(body)
	}
	bob.get("/no/such/page")

	after := scrape(t, url)
	delta := func(series string) float64 { return after[series] - before[series] }
	if got := delta("agora_messages_created_total"); got != 5 {
		t.Errorf("agora_messages_created_total moved by %v, want 5", got)
	}
	if got := delta("agora_deliveries_total"); got < 10 {
		t.Errorf("agora_deliveries_total moved by %v, want at least 10 (5 messages to 2 sockets)", got)
	}
	if got := delta("agora_commit_seconds_count"); got != 5 {
		t.Errorf("agora_commit_seconds_count moved by %v, want 5", got)
	}
	if got := delta("agora_fanout_seconds_count"); got < 1 {
		t.Errorf("agora_fanout_seconds_count moved by %v", got)
	}
	if got := after[`agora_http_requests_total{route="/rooms/:slug/messages",status="303"}`]; got != 2 {
		t.Errorf("form posts counted %v times, want 2", got)
	}
	if got := after[`agora_http_requests_total{route="/rooms/:slug/ws",status="101"}`]; got != 2 {
		t.Errorf("socket handshakes counted %v times, want 2", got)
	}
	if got := after[`agora_http_request_duration_seconds_count{route="/rooms/:slug"}`]; got != 2 {
		t.Errorf("room pages timed %v times, want 2", got)
	}
	var notFound float64
	for series, v := range after {
		if strings.Contains(series, "/rooms/general") || strings.Contains(series, "/no/such") {
			t.Errorf("a raw path became a label: %s", series)
		}
		if strings.HasPrefix(series, "agora_http_requests_total{") && strings.HasSuffix(series, `status="404"}`) {
			notFound += v
		}
	}
	if notFound != 1 {
		t.Errorf("the 404 was counted %v times, want 1", notFound)
	}

	// Ann stops reading; frames pile up until the hub closes her with 1013.
	general, _ := ts.store.RoomBySlug(context.Background(), "general")
	pad := strings.Repeat("x", 64<<10)
	for i := range 400 {
		marker := "<p>frame " + strconv.Itoa(i) + "</p>"
		ts.hub.Publish(general.ID, live.Frame{Data: []byte(marker + pad)})
		bobSock.readUntil(marker)
	}
	// 1013, or no close frame at all if the write watchdog cut the connection
	// first (a client that reads nothing may never get the frame).
	if code := annSock.closeCode(); code != 1013 && code != -1 {
		t.Fatalf("ann's socket ended with %d, want 1013 or no close frame", code)
	}
	// The writer stuck on ann's socket gives up after its write timeout.
	deadline := time.Now().Add(20 * time.Second)
	for {
		now := scrape(t, url)
		if now[`agora_evictions_total{reason="slow"}`] == 1 && now["agora_sockets_open"] == 1 {
			if now[`agora_evictions_total{reason="write_failed"}`] != 0 {
				t.Errorf("the eviction was also counted as a failed write")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after ann was evicted: evictions (slow) %v, sockets open %v; want 1 and 1",
				now[`agora_evictions_total{reason="slow"}`], now["agora_sockets_open"])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logBuffer collects a server's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Split(strings.TrimSpace(b.buf.String()), "\n")
}

// requestLines returns the request log lines for path.
func (b *logBuffer) requestLines(path string) []string {
	var out []string
	for _, l := range b.lines() {
		if strings.Contains(l, "msg=request ") && strings.Contains(l, " path="+path+" ") {
			out = append(out, l)
		}
	}
	return out
}

func newLoggedServer(t *testing.T) (*testServer, *logBuffer) {
	logs := &logBuffer{}
	ts := startServerConfig(t, live.HubConfig{}, handlers.Config{Log: slog.New(slog.NewTextHandler(logs, nil))})
	return ts, logs
}

// TestRequestIDsAndLogLines: one line per request with its id, route, status
// and duration; the id is the client's when it gives a sane one, and is
// echoed in the response either way.
func TestRequestIDsAndLogLines(t *testing.T) {
	ts, logs := newLoggedServer(t)
	ann := ts.client(t).signup("ann")

	res := ann.do("GET", "/rooms/general", nil, map[string]string{"X-Request-Id": "trace-abc.123"})
	expectStatus(t, res, http.StatusOK)
	if got := res.header.Get("X-Request-Id"); got != "trace-abc.123" {
		t.Errorf("response X-Request-Id = %q, want the client's", got)
	}
	lines := logs.requestLines("/rooms/general")
	if len(lines) != 1 {
		t.Fatalf("%d log lines for one request:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for _, want := range []string{"level=INFO", "id=trace-abc.123", "method=GET", "route=/rooms/:slug", "status=200", "took="} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("log line lacks %q: %s", want, lines[0])
		}
	}

	hexID := regexp.MustCompile(`^[0-9a-f]{16}$`)
	for _, given := range []string{"", strings.Repeat("a", 65), "two words", "x\"y"} {
		res := ann.do("GET", "/search?q=x", nil, map[string]string{"X-Request-Id": given})
		id := res.header.Get("X-Request-Id")
		if !hexID.MatchString(id) {
			t.Errorf("given %q, the response id is %q, want a fresh one", given, id)
		}
		found := false
		for _, l := range logs.requestLines("/search") {
			found = found || strings.Contains(l, "id="+id+" ")
		}
		if !found {
			t.Errorf("no log line with the fresh id %s", id)
		}
	}
}

// TestAssetsAndHealthLogQuietly: what every page fetches (stylesheets,
// scripts, icons) and health checks log at DEBUG when they succeed, pages at
// INFO, and a missing asset at INFO.
func TestAssetsAndHealthLogQuietly(t *testing.T) {
	logs := &logBuffer{}
	ts := startServerConfig(t, live.HubConfig{}, handlers.Config{Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	ann := ts.client(t).signup("ann")
	for path, want := range map[string]string{
		"/assets/app.css":     "level=DEBUG",
		"/assets/app.js":      "level=DEBUG",
		"/me.css":             "level=DEBUG",
		"/healthz":            "level=DEBUG",
		"/assets/nothing.css": "level=INFO",
		"/rooms/general":      "level=INFO",
	} {
		ann.do("GET", path, nil, nil)
		lines := logs.requestLines(path)
		if len(lines) != 1 || !strings.Contains(lines[0], want) {
			t.Errorf("GET %s logged %q, want one line at %s", path, lines, want)
		}
	}
}

// TestClientAbortIsNotAnError: a request whose client went away while it was
// served (net/http cancels its context) logs one INFO line with status 499,
// and no ERROR.
func TestClientAbortIsNotAnError(t *testing.T) {
	ts, logs := newLoggedServer(t)
	ann := ts.client(t).signup("ann")
	for _, path := range []string{"/", "/rooms/general", "/search?q=hello", "/rooms/general/messages?before=99"} {
		req := httptest.NewRequest("GET", path, nil)
		for _, ck := range ann.http.Jar.Cookies(mustURL(t, ts.URL)) {
			req.AddCookie(ck)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // the client is gone before the database is asked
		rec := httptest.NewRecorder()
		ts.app.ServeHTTP(rec, req.WithContext(ctx))

		p := strings.SplitN(path, "?", 2)[0]
		lines := logs.requestLines(p)
		if len(lines) == 0 {
			t.Fatalf("no request line for %s:\n%s", path, strings.Join(logs.lines(), "\n"))
		}
		last := lines[len(lines)-1]
		if !strings.Contains(last, "status=499") || !strings.Contains(last, "level=INFO") {
			t.Errorf("aborted %s logged as: %s", path, last)
		}
	}
	for _, l := range logs.lines() {
		if strings.Contains(l, "level=ERROR") {
			t.Errorf("an aborted request logged an error: %s", l)
		}
	}
}

// TestHeartbeatClosesSilentClients: with a short ping interval, a client
// that stops reading (and so stops answering pings) is closed with 1013, and
// the others see it go offline; a client that keeps reading stays.
func TestHeartbeatClosesSilentClients(t *testing.T) {
	m := metrics.New()
	// A pong has as long as the interval to come back: a second, so that
	// bob's, answered by a reader the race detector slows on a loaded
	// machine, is not taken for silence (100 ms was, once in a while).
	ts := startServerConfig(t, live.HubConfig{}, handlers.Config{Metrics: m, PingEvery: time.Second})
	ms := httptest.NewServer(m.Handler())
	defer ms.Close()
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	ann.get("/rooms/general")
	bob.get("/rooms/general")
	bobSock := bob.dial("general", -1)
	annSock := ann.dial("general", -1)
	bobSock.readUntil(`data-user="ann"`)

	// Bob reads all the time, as a browser does, so his pongs go out.
	frames := make(chan string, 64)
	go func() {
		defer close(frames)
		for {
			_, data, err := bobSock.conn.Read(context.Background())
			if err != nil {
				return
			}
			frames <- string(data)
		}
	}()
	// Ann reads nothing from here on. Her socket is closed for want of a
	// pong, and bob's list of who is online loses her.
	gone := `id="presence-ann" hx-swap-oob="delete"`
	timeout := time.After(20 * time.Second)
	var seen strings.Builder
	for !strings.Contains(seen.String(), gone) {
		select {
		case f, ok := <-frames:
			if !ok {
				t.Fatalf("bob's socket closed (he answers pings); received:\n%s", seen.String())
			}
			seen.WriteString(f)
		case <-timeout:
			t.Fatalf("ann never went offline for bob; received:\n%s", seen.String())
		}
	}
	if got := scrape(t, ms.URL)[`agora_evictions_total{reason="no_pong"}`]; got != 1 {
		t.Errorf("evictions (no_pong) = %v, want 1", got)
	}
	if got := scrape(t, ms.URL)[`agora_evictions_total{reason="slow"}`]; got != 0 {
		t.Errorf("the missing pong was also counted as slow (%v)", got)
	}
	if code := annSock.closeCode(); code != -1 && code != 1013 {
		t.Errorf("ann's socket ended with %d", code)
	}
	// Bob, who answers, is still served: several ping intervals later a
	// message reaches him.
	bob.postMessage("general", "still here")
	for !strings.Contains(seen.String(), "still here") {
		select {
		case f, ok := <-frames:
			if !ok {
				t.Fatalf("bob's socket closed although he answers pings")
			}
			seen.WriteString(f)
		case <-timeout:
			t.Fatal("bob's message never arrived")
		}
	}
	if got := scrape(t, ms.URL)["agora_sockets_open"]; got != 1 {
		t.Errorf("agora_sockets_open = %v, want 1 (bob)", got)
	}
}
