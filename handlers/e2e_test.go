//go:build e2e

// Browser end-to-end tests: the real agora binary, driven through Debian's
// headless Chromium with chromedp. Run them with `make e2e`.
//
// Every wait is a chromedp wait or an in-page poll under a context timeout;
// the only sleeps are between the bounded tries of the /healthz poll.
package handlers_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
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

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

const (
	chromiumPath  = "/usr/bin/chromium"
	screenshotDir = "testdata/screenshots"
	password      = "correct horse battery staple"

	testTimeout = 100 * time.Second // a whole test, browsers included
	stepTimeout = 15 * time.Second  // one browser step or wait
	liveWait    = 10 * time.Second  // for a live update to reach a page (generous: the machine may be busy)
)

// agoraBin is the binary built once for the whole run by TestMain.
var agoraBin string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "agora-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	agoraBin = filepath.Join(dir, "agora")
	build := exec.Command("go", "build", "-o", agoraBin, ".")
	build.Dir = ".." // the repository root: the package main of agora
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// ---------------------------------------------------------------------------
// The server under test: a subprocess on a fixed port and database, so that a
// restarted server comes back where cookies and the browsers' sockets expect it.

type agoraServer struct {
	t    *testing.T
	addr string // host:port
	db   string
	args []string // more flags (-nats for a node of a cluster)

	mu   sync.Mutex
	logs bytes.Buffer // stdout and stderr of every run, for failures

	cmd    *exec.Cmd
	exited chan struct{} // closed when the current process has been waited for
	err    error         // Wait's result, valid once exited is closed
}

// freeAddr finds a free loopback port: listen on :0, read the port, close.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("free port: close: %v", err)
	}
	return addr
}

// newServer starts agora on a fresh port with a database in a temp dir, and
// args as more flags. The server is killed when the test ends if it is
// still running; its log is printed if the test failed.
func newServer(t *testing.T, args ...string) *agoraServer {
	t.Helper()
	s := &agoraServer{t: t, addr: freeAddr(t), db: filepath.Join(t.TempDir(), "agora.db"), args: args}
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			s.mu.Lock()
			t.Logf("server log:\n%s", s.logs.String())
			s.mu.Unlock()
		}
	})
	s.start()
	return s
}

func (s *agoraServer) url(path string) string { return "http://" + s.addr + path }

// start runs the binary on the server's address and database and returns once
// it has logged its address and /healthz answers 200.
func (s *agoraServer) start() {
	t := s.t
	t.Helper()
	if s.running() {
		t.Fatal("start: the server is already running")
	}
	cmd := exec.Command(agoraBin, append([]string{"-addr", s.addr, "-db", s.db}, s.args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	cmd.Stderr = &lockedWriter{mu: &s.mu, w: &s.logs}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", agoraBin, err)
	}
	listening := make(chan string, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.logs.WriteString(line + "\n")
			s.mu.Unlock()
			if !sent && strings.Contains(line, "msg=listening") {
				listening <- line
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	exited := make(chan struct{})
	s.cmd, s.exited = cmd, exited
	go func() {
		<-copied // Wait closes the pipe: read it to the end first
		err := cmd.Wait()
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
		close(exited)
	}()

	want := "addr=http://" + s.addr
	select {
	case line := <-listening:
		if !strings.Contains(line, want) {
			t.Fatalf("server logged %q, want it to contain %q", line, want)
		}
	case <-exited:
		t.Fatalf("server exited before listening: %v", s.exitErr())
	case <-time.After(10 * time.Second):
		t.Fatal("server did not log its address within 10s")
	}
	s.waitHealthy()
}

// waitHealthy polls /healthz a bounded number of times.
func (s *agoraServer) waitHealthy() {
	t := s.t
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	const tries = 100
	var last string
	for i := 0; i < tries; i++ {
		resp, err := client.Get(s.url("/healthz"))
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = fmt.Sprintf("status %d: %s", resp.StatusCode, body)
		} else {
			last = err.Error()
		}
		select {
		case <-s.exited:
			t.Fatalf("server exited while waiting for /healthz: %v", s.exitErr())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("/healthz not 200 after %d tries: %s", tries, last)
}

func (s *agoraServer) running() bool {
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

func (s *agoraServer) exitErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// stop shuts the server down gracefully (SIGTERM) and expects a clean exit.
func (s *agoraServer) stop() {
	t := s.t
	t.Helper()
	if !s.running() {
		t.Fatal("stop: the server is not running")
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	start := time.Now()
	defer func() { t.Logf("graceful stop took %v", time.Since(start).Round(time.Millisecond)) }()
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		s.kill()
		t.Fatal("the server did not exit within 15s of SIGTERM")
	}
	if err := s.exitErr(); err != nil {
		t.Errorf("graceful shutdown: the server exited with %v, want status 0", err)
	}
}

// kill ends the server at once (SIGKILL), as a crash or an OOM kill would.
func (s *agoraServer) kill() {
	if !s.running() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.t.Error("the server did not exit within 10s of SIGKILL")
	}
}

// restart starts the server again on the same address and database.
func (s *agoraServer) restart() { s.t.Helper(); s.start() }

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// ---------------------------------------------------------------------------
// Browsers: one Chromium process per user, so cookies are separate.

type browser struct {
	t    *testing.T
	name string
	ctx  context.Context // the tab; it ends with the test's deadline

	mu      sync.Mutex
	console []string
	errs    []string // uncaught exceptions in the page
}

func newBrowser(t *testing.T, parent context.Context, name string, js bool) *browser {
	t.Helper()
	return newBrowserWith(t, parent, name, js)
}

// newBrowserWith is newBrowser with more of Chromium's options.
func newBrowserWith(t *testing.T, parent context.Context, name string, js bool, more ...chromedp.ExecAllocatorOption) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	opts = append(opts, more...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(parent, opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })

	b := &browser{t: t, name: name, ctx: ctx}
	// The first Run starts the browser and binds it to ctx.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("%s: start chromium: %v", name, err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, fmt.Sprintf("%s %s", m.Type, m.String()))
			if m.IsException() {
				b.errs = append(b.errs, m.String())
			}
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if t.Failed() && len(b.console) > 0 {
			t.Logf("%s: browser console:\n  %s", name, strings.Join(b.console, "\n  "))
		}
		for _, e := range b.errs {
			t.Errorf("%s: uncaught exception in the page: %s", name, e)
		}
	})
	b.do("viewport", chromedp.EmulateViewport(1280, 800))
	if !js {
		b.do("disable JavaScript", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		}))
	}
	return b
}

// do runs actions under a step timeout and fails the test on an error.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, what, err)
	}
}

// navigate runs the actions, which must cause a navigation, waits for the page
// to load and returns its status code (after redirects).
func (b *browser) navigate(what string, actions ...chromedp.Action[chromedp.Void]) int64 {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, what, err)
	}
	if resp == nil {
		b.t.Fatalf("%s: %s: no response", b.name, what)
	}
	return resp.Status
}

// eval evaluates a JavaScript expression and decodes its JSON result into T.
func evalJS[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		b.t.Fatalf("%s: evaluate %s: %v", b.name, expr, err)
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		b.t.Fatalf("%s: evaluate %s: decode %s: %v", b.name, expr, raw, err)
	}
	return v
}

// waitJS polls a JavaScript condition in the page until it is truthy.
func (b *browser) waitJS(what, cond string, timeout time.Duration) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout+5*time.Second)
	defer cancel()
	deadline := time.Now().Add(timeout)
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(time.Until(deadline))))
		// A poll begun just as a navigation replaced the page's JavaScript
		// context finds that context gone: poll the new one.
		if err != nil && strings.Contains(err.Error(), "Cannot find context with specified id") && time.Now().Before(deadline) {
			continue
		}
		if err != nil {
			b.t.Fatalf("%s: waiting for %s (%s): %v\n%s", b.name, what, cond, err, b.pageSummary())
		}
		return
	}
}

// pageSummary is what the page shows, for failure messages; it never fails.
func (b *browser) pageSummary() string {
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({
		url: location.href,
		status: document.querySelector('#status')?.dataset.state,
		typing: document.querySelector('#typing')?.textContent,
		presence: [...document.querySelectorAll('#presence [data-user]')].map(e => e.dataset.user),
		messages: [...document.querySelectorAll('#messages > [id^="message-"]')].map(e => e.id + ': ' + e.textContent.replace(/\s+/g, ' ').trim()),
		composer: document.querySelector('#body')?.value,
		error: document.querySelector('#composer-error, #form-error, #error')?.textContent,
	}, null, 1)`))
	if err != nil {
		return "(page state unavailable: " + err.Error() + ")"
	}
	return b.name + " sees: " + s
}

// screenshot saves a full-page PNG at the desktop size and, if phone is true,
// at a phone's size too; it restores the desktop viewport.
func (b *browser) screenshot(name string, phone bool) {
	b.t.Helper()
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		b.t.Fatalf("screenshots: %v", err)
	}
	shoot := func(file string) {
		ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
		defer cancel()
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			b.t.Fatalf("%s: screenshot %s: %v", b.name, file, err)
		}
		if err := os.WriteFile(filepath.Join(screenshotDir, file), buf, 0o644); err != nil {
			b.t.Fatalf("screenshot %s: %v", file, err)
		}
	}
	b.do("desktop viewport", chromedp.EmulateViewport(1280, 800))
	shoot(name + "-desktop.png")
	if phone {
		b.do("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
		shoot(name + "-phone.png")
		b.do("desktop viewport", chromedp.EmulateViewport(1280, 800))
	}
}

// signUp creates the account through the sign-up form and lands in the lobby.
func (b *browser) signUp(srv *agoraServer, username string) {
	b.t.Helper()
	b.navigate("open /signup", chromedp.Navigate(srv.url("/signup")))
	b.do("fill in the sign-up form",
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), password),
	)
	if status := b.navigate("submit the sign-up form", chromedp.Click(chromedp.CSS(`form.auth button[type="submit"]`))); status != http.StatusOK {
		b.t.Fatalf("%s: sign-up landed on status %d\n%s", b.name, status, b.pageSummary())
	}
	if loc := b.location(); loc != srv.url("/") {
		b.t.Fatalf("%s: after sign-up the browser is at %s, want the lobby %s\n%s", b.name, loc, srv.url("/"), b.pageSummary())
	}
	b.do("see the lobby", chromedp.WaitVisible(chromedp.CSS(`section.lobby`)))
	if h := evalJS[string](b, `document.querySelector('section.lobby h1').textContent`); !strings.Contains(h, username) {
		b.t.Errorf("%s: the lobby greets %q, want the username %q in it", b.name, h, username)
	}
}

func (b *browser) location() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("%s: location: %v", b.name, err)
	}
	return loc
}

// openRoom opens a room page with JavaScript on and waits until its socket is
// connected.
func (b *browser) openRoom(srv *agoraServer, slug string) {
	b.t.Helper()
	if status := b.navigate("open room "+slug, chromedp.Navigate(srv.url("/rooms/"+slug))); status != http.StatusOK {
		b.t.Fatalf("%s: /rooms/%s answered %d\n%s", b.name, slug, status, b.pageSummary())
	}
	b.waitConnected(stepTimeout)
}

func (b *browser) waitConnected(timeout time.Duration) {
	b.t.Helper()
	b.waitJS(`#status[data-state="connected"]`, `document.readyState === "complete" && !!document.querySelector('#status[data-state="connected"]')`, timeout)
}

// waitPresence waits until #presence lists exactly these users, each once.
func (b *browser) waitPresence(users ...string) {
	b.t.Helper()
	want, _ := json.Marshal(strings.Join(users, ","))
	b.waitJS("#presence listing exactly "+strings.Join(users, ", "), fmt.Sprintf(
		`[...document.querySelectorAll('#presence [data-user]')].map(e => e.dataset.user).sort().join(",") === %s`, want), liveWait)
}

type shownMessage struct {
	ID   string `json:"id"`
	Text string `json:"text"`
	Body string `json:"body"`
}

// messages lists the entries of #messages, in page order.
func (b *browser) messages() []shownMessage {
	b.t.Helper()
	return evalJS[[]shownMessage](b, `[...document.querySelectorAll('#messages > [id^="message-"]')].map(e => ({
		id: e.id,
		text: e.textContent,
		body: (e.querySelector('.body') || e).textContent,
	}))`)
}

func messageIDs(msgs []shownMessage) []string {
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	return ids
}

// checkUnique reports message ids that a page shows more than once.
func checkUnique(t *testing.T, who string, ids []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("%s shows %s twice: %v", who, id, ids)
		}
		seen[id] = true
	}
}

// hasMessageJS is a JavaScript condition: #messages holds a rendered entry
// (it has a layout box: not display:none) whose text contains s.
func hasMessageJS(s string) string {
	q, _ := json.Marshal(s)
	return fmt.Sprintf(`[...document.querySelectorAll('#messages > [id^="message-"]')].some(e => e.textContent.includes(%s) && e.getClientRects().length > 0)`, q)
}

// pressEnter presses Enter in the focused element as a keyboard does when the
// page cancels the keydown: SendKeys("\n") would add a "char" event that
// inserts a line break even though app.js cancelled the keydown (see
// chromedp's documentation of SendKeys), leaving "\n" in the composer.
var pressEnter = chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
	for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
		_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
			Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13,
		})
		if err != nil {
			return err
		}
	}
	return nil
})

// setOffline cuts the browser off the network (requests and WebSockets fail
// at once) or reconnects it.
func (b *browser) setOffline(offline bool) {
	b.t.Helper()
	b.do(fmt.Sprintf("offline=%v", offline), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		rules := []*network.Conditions{}
		if offline {
			rules = append(rules, &network.Conditions{Offline: true, DownloadThroughput: -1, UploadThroughput: -1})
		}
		_, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: rules})
		return err
	}))
}

// markPage puts a marker in the page's window; a reload loses it.
func (b *browser) markPage(mark string) {
	b.t.Helper()
	q, _ := json.Marshal(mark)
	evalJS[bool](b, fmt.Sprintf(`(window.__e2eMark = %s, true)`, q))
}

func (b *browser) pageMark() string {
	b.t.Helper()
	return evalJS[string](b, `window.__e2eMark || ""`)
}

// send types text into the composer and presses Enter, as a person does, and
// waits until the page shows the message. With the socket up the message goes
// over it; with the socket down app.js posts the form and the page reloads:
// send then waits for the new page (loaded, scripts run) to show the message,
// so the next action never lands in a page that is going away.
func (b *browser) send(text string) {
	b.t.Helper()
	// A listener after app.js's sees whether app.js turned the send into a
	// plain form post (it cancels htmx:wsConfigSend when the socket is down).
	b.do("prepare to send", chromedp.Evaluate[chromedp.Void](`(() => {
		window.__e2eOldPage = true;
		window.__e2eFallback = false;
		if (!window.__e2eHooked) {
			window.__e2eHooked = true;
			document.addEventListener('htmx:wsConfigSend', e => {
				if (e.target && e.target.id === 'composer' && e.defaultPrevented) window.__e2eFallback = true;
			});
		}
	})()`))
	b.do("type "+text, chromedp.SendKeys(chromedp.ID("body"), text), pressEnter)

	cond := fmt.Sprintf(`document.readyState === "complete" && (%s) && (!window.__e2eOldPage || !window.__e2eFallback)`, hasMessageJS(text))
	deadline := time.Now().Add(20 * time.Second)
	// A poll does not survive a navigation: try again in the new page, a
	// bounded number of times.
	var err error
	for try := 0; try < 20 && time.Now().Before(deadline); try++ {
		ctx, cancel := context.WithDeadline(b.ctx, deadline)
		_, err = chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(time.Until(deadline))))
		cancel()
		if err == nil {
			how := "over the socket"
			if evalJS[bool](b, `!window.__e2eOldPage`) {
				how = "as a plain form post (the page reloaded)"
			}
			b.t.Logf("%s sent %q %s", b.name, text, how)
			return
		}
		if errors.Is(err, chromedp.ErrPollingTimeout) || errors.Is(err, context.DeadlineExceeded) {
			break
		}
	}
	b.t.Fatalf("%s: sent %q but the page does not show it: %v\n%s", b.name, text, err, b.pageSummary())
}

// ---------------------------------------------------------------------------
// The tests.

// TestE2ENoJavaScript uses agora as a browser without JavaScript does: plain
// forms and redirects, and nothing lost across a graceful restart.
func TestE2ENoJavaScript(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	srv := newServer(t)
	b := newBrowser(t, ctx, "carol", false)

	b.signUp(srv, "carol")
	if js := evalJS[string](b, `typeof window.htmx`); js != "undefined" {
		t.Fatalf("JavaScript should be off, but the page has window.htmx (%s)", js)
	}

	// Create a room from the sidebar form.
	b.do("type a room name",
		chromedp.WaitVisible(chromedp.ID("new-room-name")),
		chromedp.SendKeys(chromedp.ID("new-room-name"), "Design Review"),
	)
	if status := b.navigate("create the room", chromedp.Click(chromedp.CSS(`form.new-room button[type="submit"]`))); status != http.StatusOK {
		t.Fatalf("creating a room landed on status %d\n%s", status, b.pageSummary())
	}
	loc := b.location()
	m := regexp.MustCompile(`^` + regexp.QuoteMeta(srv.url("/rooms/")) + `([a-z0-9-]+)$`).FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("after creating a room the browser is at %s, want /rooms/{slug}\n%s", loc, b.pageSummary())
	}
	slug := m[1]
	roomURL := srv.url("/rooms/" + slug)
	if h := evalJS[string](b, `document.querySelector('.room-header h1')?.textContent || ""`); h != "#Design Review" {
		t.Errorf("room heading = %q, want %q", h, "#Design Review")
	}
	if st := evalJS[string](b, `document.querySelector('#status')?.dataset.state || ""`); st != "offline" {
		t.Errorf("without JavaScript #status says %q, want offline", st)
	}
	if cur := evalJS[string](b, `document.querySelector('#room-list a[aria-current="page"]')?.textContent.trim() || ""`); !strings.Contains(cur, "Design Review") {
		t.Errorf("the sidebar marks %q as the current room, want Design Review", cur)
	}

	post := func(text string) {
		t.Helper()
		b.do("type "+text, chromedp.WaitVisible(chromedp.ID("body")), chromedp.SendKeys(chromedp.ID("body"), text))
		if status := b.navigate("send "+text, chromedp.Click(chromedp.CSS(`#composer button[type="submit"]`))); status != http.StatusOK {
			t.Fatalf("posting %q landed on status %d\n%s", text, status, b.pageSummary())
		}
		if loc := b.location(); loc != roomURL {
			t.Fatalf("after posting, the browser is at %s, want %s", loc, roomURL)
		}
	}
	find := func(msgs []shownMessage, text string) (shownMessage, bool) {
		for _, m := range msgs {
			if strings.Contains(m.Body, text) {
				return m, true
			}
		}
		return shownMessage{}, false
	}

	const plain = "Hello from a browser without JavaScript"
	post(plain)
	first, ok := find(b.messages(), plain)
	if !ok {
		t.Fatalf("#messages does not show %q after posting it\n%s", plain, b.pageSummary())
	}
	if !regexp.MustCompile(`^message-\d+$`).MatchString(first.ID) {
		t.Errorf("message element id = %q, want message-{id}", first.ID)
	}
	b.do("see the message", chromedp.WaitVisible(chromedp.ID(first.ID)))
	if e := evalJS[string](b, `document.querySelector('#composer-error')?.textContent.trim() || ""`); e != "" {
		t.Errorf("after a good post the composer shows the error %q", e)
	}
	if got := evalJS[string](b, `document.querySelector('#body').value`); got != "" {
		t.Errorf("the composer still holds %q after the post", got)
	}

	const hostile = "<script>alert(1)</script> see https://example.com/x"
	post(hostile)
	second, ok := find(b.messages(), "<script>alert(1)</script>")
	if !ok {
		t.Fatalf("#messages does not show the text <script>alert(1)</script>\n%s", b.pageSummary())
	}
	if strings.TrimSpace(second.Body) != hostile {
		t.Errorf("the message reads %q, want %q", strings.TrimSpace(second.Body), hostile)
	}
	b.do("see the message", chromedp.WaitVisible(chromedp.ID(second.ID)))
	sel, _ := json.Marshal("#" + second.ID)
	if n := evalJS[int](b, fmt.Sprintf(`document.querySelector(%s).querySelectorAll('script').length`, sel)); n != 0 {
		t.Errorf("the message made %d <script> element(s); it must stay text", n)
	}
	type link struct{ Href, Text string }
	links := evalJS[[]link](b, fmt.Sprintf(`[...document.querySelector(%s).querySelectorAll('.body a')].map(a => ({Href: a.getAttribute('href'), Text: a.textContent}))`, sel))
	if len(links) != 1 || links[0].Href != "https://example.com/x" || links[0].Text != "https://example.com/x" {
		t.Errorf("links in the message's text = %+v, want one <a href=\"https://example.com/x\">https://example.com/x</a>", links)
	}
	before := b.messages()
	b.screenshot("nojs-room", true)

	// A graceful restart keeps the messages and the session.
	srv.stop()
	srv.restart()
	if status := b.navigate("reload the room", chromedp.Reload()); status != http.StatusOK {
		t.Fatalf("reloading the room after a restart answered %d\n%s", status, b.pageSummary())
	}
	if loc := b.location(); loc != roomURL {
		t.Fatalf("after the restart, the reload ended at %s, want %s (was the session lost?)", loc, roomURL)
	}
	after := b.messages()
	for _, want := range []shownMessage{first, second} {
		got, ok := find(after, want.Body)
		if !ok || got.ID != want.ID {
			t.Errorf("after the restart the room lacks %s (%q); it shows %v", want.ID, want.Body, messageIDs(after))
		}
	}
	if !slices.Equal(messageIDs(before), messageIDs(after)) {
		t.Errorf("messages before the restart %v, after %v", messageIDs(before), messageIDs(after))
	}
	b.screenshot("nojs-room-after-restart", false)
}

// twoUsers starts a server and two browsers with JavaScript on, signed up as
// alice and bob.
func twoUsers(t *testing.T) (*agoraServer, *browser, *browser) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	srv := newServer(t)
	alice := newBrowser(t, ctx, "alice", true)
	bob := newBrowser(t, ctx, "bob", true)
	alice.signUp(srv, "alice")
	bob.signUp(srv, "bob")
	return srv, alice, bob
}

// TestE2ELiveTwoBrowsers: two people in one room see each other's messages,
// presence and typing live, over the WebSocket.
func TestE2ELiveTwoBrowsers(t *testing.T) {
	srv, alice, bob := twoUsers(t)

	alice.openRoom(srv, "general")
	bob.openRoom(srv, "general")
	alice.markPage("alice-page")
	bob.markPage("bob-page")

	// Presence: both are listed in both pages, once each.
	for _, b := range []*browser{alice, bob} {
		b.waitPresence("alice", "bob")
	}

	// Alice writes; bob sees it without reloading; alice's composer empties.
	alice.do("alice types and presses Enter", chromedp.SendKeys(chromedp.ID("body"), "hello bob"), pressEnter)
	bob.waitJS(`"hello bob" in #messages`, hasMessageJS("hello bob"), liveWait)
	alice.waitJS(`"hello bob" in alice's own #messages`, hasMessageJS("hello bob"), liveWait)
	alice.waitJS("an empty composer", `document.querySelector('#body').value === ""`, liveWait)

	// Bob starts typing: alice is told, and it is cleared when he sends.
	// Times are taken in the pages (one clock: same machine), so a slow test
	// run cannot blur "cleared by sending" with "expired on its own".
	bob.do("watch bob's keys", chromedp.Evaluate[chromedp.Void](`document.addEventListener('keydown', e => {
		window.__firstKeyAt = window.__firstKeyAt || Date.now();
		if (e.key === 'Enter') window.__enterAt = Date.now();
	}, true)`))
	bob.do("bob types", chromedp.SendKeys(chromedp.ID("body"), "hi alice"))
	alice.waitJS(`"bob is typing" in #typing`, `/bob/.test(document.querySelector('#typing').textContent) && /typing/.test(document.querySelector('#typing').textContent)`, liveWait)
	alice.screenshot("live-alice-sees-typing", false)
	alice.do("watch #typing", chromedp.Evaluate[chromedp.Void](`(() => {
		window.__typingEmptyAt = 0;
		new MutationObserver(() => {
			const t = document.querySelector('#typing');
			if (!window.__typingEmptyAt && t && t.textContent.trim() === '') window.__typingEmptyAt = Date.now();
		}).observe(document.body, {subtree: true, childList: true, characterData: true});
	})()`))
	bob.do("bob presses Enter", chromedp.Focus(chromedp.ID("body")), pressEnter)
	alice.waitJS(`"hi alice" in #messages`, hasMessageJS("hi alice"), liveWait)
	alice.waitJS("an empty #typing once bob sent", `document.querySelector('#typing').textContent.trim() === ""`, liveWait)
	bob.waitJS("bob's empty composer", `document.querySelector('#body').value === ""`, liveWait)
	type keyTimes struct{ First, Enter int64 }
	keys := evalJS[keyTimes](bob, `({First: window.__firstKeyAt || 0, Enter: window.__enterAt || 0})`)
	emptyAt := evalJS[int64](alice, `window.__typingEmptyAt || 0`)
	// The hub's typing mark lasts 5s from bob's last typing frame, which came
	// after his first key: before First+5s only the send can have cleared it.
	const typingTTL = 5000
	switch {
	case keys.First == 0 || keys.Enter == 0 || emptyAt == 0:
		t.Errorf("typing times not recorded: first key %d, Enter %d, #typing empty at %d", keys.First, keys.Enter, emptyAt)
	case keys.Enter-keys.First >= typingTTL:
		t.Errorf("the run was too slow to tell: bob pressed Enter %dms after his first key (the typing mark lasts %dms)", keys.Enter-keys.First, typingTTL)
	case emptyAt < keys.Enter:
		t.Errorf("#typing emptied %dms before bob sent: it should last while he types", keys.Enter-emptyAt)
	case emptyAt >= keys.First+typingTTL:
		t.Errorf("#typing emptied only %dms after bob sent, when the typing mark expired on its own: sending should clear it", emptyAt-keys.Enter)
	default:
		t.Logf("#typing emptied %dms after bob pressed Enter", emptyAt-keys.Enter)
	}

	// Nothing reloaded: the messages came over the socket.
	if m := alice.pageMark(); m != "alice-page" {
		t.Errorf("alice's page was reloaded (marker %q)", m)
	}
	if m := bob.pageMark(); m != "bob-page" {
		t.Errorf("bob's page was reloaded (marker %q)", m)
	}
	// Both show the same messages, each once.
	am, bm := messageIDs(alice.messages()), messageIDs(bob.messages())
	if !slices.Equal(am, bm) {
		t.Errorf("alice shows %v, bob shows %v", am, bm)
	}
	checkUnique(t, "alice", am)
	checkUnique(t, "bob", bm)
	if n := len(am); n != 4 { // two "joined" notices and two messages
		t.Errorf("alice shows %d entries %v, want 4: two joins, hello bob, hi alice", n, am)
	}
	// The sender's own message is told apart by /me.css on data-author.
	if a := evalJS[string](alice, `[...document.querySelectorAll('#messages > article.message')].find(e => e.textContent.includes('hello bob'))?.dataset.author || ""`); a != "alice" {
		t.Errorf("alice's message has data-author %q, want alice", a)
	}

	alice.screenshot("live-alice", false)
	bob.screenshot("live-bob", true)
}

// TestE2ERestartLosesNothing: the server dies hard and comes back; the
// browsers reconnect, and both end up showing every message once, in the same
// order.
func TestE2ERestartLosesNothing(t *testing.T) {
	srv, alice, bob := twoUsers(t)
	alice.openRoom(srv, "general")
	bob.openRoom(srv, "general")

	var texts []string
	say := func(b *browser, text string) {
		t.Helper()
		b.send(text)
		texts = append(texts, text)
	}
	say(alice, "before the crash, from alice")
	bob.waitJS("alice's first message", hasMessageJS("before the crash, from alice"), liveWait)

	srv.kill()
	for _, b := range []*browser{alice, bob} {
		b.waitJS(`#status[data-state="reconnecting"]`, `document.querySelector('#status')?.dataset.state === "reconnecting"`, 10*time.Second)
	}
	alice.screenshot("restart-alice-reconnecting", false)

	srv.restart()
	// Right after the restart the sockets may still be down (htmx waits a
	// random backoff): the composer then posts the plain form.
	say(bob, "bob 1 after the restart")
	say(alice, "alice 1 after the restart")
	say(bob, "bob 2 after the restart")
	say(alice, "alice 2 after the restart")
	say(bob, "bob 3 after the restart")

	for _, b := range []*browser{alice, bob} {
		b.waitConnected(30 * time.Second)
	}
	// Nobody is listed twice or left out after the reconnects.
	for _, b := range []*browser{alice, bob} {
		b.waitPresence("alice", "bob")
	}
	// And live again once reconnected.
	say(alice, "alice, live again")
	say(bob, "bob, live again")

	all := make([]string, len(texts))
	for i, s := range texts {
		all[i] = hasMessageJS(s)
	}
	for _, b := range []*browser{alice, bob} {
		b.waitJS("every message posted", strings.Join(all, " && "), 10*time.Second)
	}

	check := func(b *browser) []string {
		t.Helper()
		msgs := b.messages()
		ids := messageIDs(msgs)
		checkUnique(t, b.name, ids)
		for _, text := range texts {
			n := 0
			for _, m := range msgs {
				if strings.Contains(m.Text, text) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%s shows %q %d times, want once\n%s", b.name, text, n, b.pageSummary())
			}
		}
		return ids
	}
	aliceIDs, bobIDs := check(alice), check(bob)
	if !slices.Equal(aliceIDs, bobIDs) {
		t.Errorf("the two browsers disagree:\nalice %v\nbob   %v", aliceIDs, bobIDs)
	}
	alice.screenshot("restart-alice", false)
	bob.screenshot("restart-bob", false)

	// What the server renders now is what the live pages built up.
	alice.openRoom(srv, "general")
	if fresh := check(alice); !slices.Equal(fresh, aliceIDs) {
		t.Errorf("after a reload alice shows %v; before it, live, %v", fresh, aliceIDs)
	}
}

// TestE2EReconnectCatchesUp: a page whose socket is down while others talk
// gets what it missed when it reconnects (?after=<last id>), without a reload.
// The server restarts gracefully meanwhile, so the sockets see 1012.
func TestE2EReconnectCatchesUp(t *testing.T) {
	srv, alice, bob := twoUsers(t)
	alice.openRoom(srv, "general")
	bob.openRoom(srv, "general")
	bob.send("bob, before alice drops")
	alice.waitJS("bob's first message", hasMessageJS("bob, before alice drops"), liveWait)
	alice.markPage("alice-page")

	// Alice loses her network; the server restarts under everyone.
	alice.setOffline(true)
	srv.stop()
	alice.waitJS(`#status[data-state="reconnecting"]`, `document.querySelector('#status')?.dataset.state === "reconnecting"`, 10*time.Second)
	srv.restart()
	bob.waitConnected(30 * time.Second)
	bob.waitPresence("bob")
	missed := []string{"missed 1: while alice was away", "missed 2: still away", "missed 3: last one"}
	for _, text := range missed {
		bob.send(text)
	}
	if got := evalJS[string](alice, `document.querySelector('#status').dataset.state`); got != "reconnecting" {
		t.Errorf("offline, alice's #status says %q, want reconnecting", got)
	}

	// Back online: the socket reconnects and brings the missed messages.
	alice.setOffline(false)
	alice.waitConnected(40 * time.Second)
	all := []string{"bob, before alice drops"}
	all = append(all, missed...)
	conds := make([]string, len(all))
	for i, s := range all {
		conds[i] = hasMessageJS(s)
	}
	alice.waitJS("the messages alice missed", strings.Join(conds, " && "), 10*time.Second)
	if m := alice.pageMark(); m != "alice-page" {
		t.Fatalf("alice's page was reloaded (marker %q): the catch-up must come over the socket", m)
	}
	alice.waitPresence("alice", "bob")

	aliceIDs, bobIDs := messageIDs(alice.messages()), messageIDs(bob.messages())
	if !slices.Equal(aliceIDs, bobIDs) {
		t.Errorf("after catching up:\nalice %v\nbob   %v", aliceIDs, bobIDs)
	}
	checkUnique(t, "alice", aliceIDs)
	// And the socket is live again both ways.
	alice.send("alice is back")
	bob.waitJS(`"alice is back"`, hasMessageJS("alice is back"), liveWait)
	alice.screenshot("catchup-alice", false)
}

// TestE2ETypingIsForOthers: "… is typing" tells the others in the room; the
// person typing never sees their own name there.
func TestE2ETypingIsForOthers(t *testing.T) {
	srv, alice, bob := twoUsers(t)
	alice.openRoom(srv, "general")
	bob.openRoom(srv, "general")

	// Each page records what its #typing shows (innerText: what is rendered,
	// so a line hidden by CSS for the viewer counts as not shown).
	const watch = `(() => {
		window.__typingShown = [];
		new MutationObserver(() => {
			const t = document.querySelector('#typing');
			if (t) window.__typingShown.push(t.innerText.trim());
		}).observe(document.body, {subtree: true, childList: true, characterData: true});
	})()`
	alice.do("watch #typing", chromedp.Evaluate[chromedp.Void](watch))
	bob.do("watch #typing", chromedp.Evaluate[chromedp.Void](watch))

	bob.do("bob types", chromedp.SendKeys(chromedp.ID("body"), "a draft for alice"))
	alice.waitJS(`"bob is typing" in #typing`, `/bob is typing/.test(document.querySelector('#typing').innerText)`, liveWait)
	// Alice answers: her frames reach bob's page after bob's typing frame did,
	// and her own page after her own typing frame did.
	alice.do("alice types", chromedp.SendKeys(chromedp.ID("body"), "I see you typing"))
	bob.waitJS(`"alice is typing" in #typing`, `/alice is typing/.test(document.querySelector('#typing').innerText)`, liveWait)
	alice.do("alice sends", pressEnter)
	bob.waitJS(`alice's message`, hasMessageJS("I see you typing"), liveWait)
	alice.waitJS(`alice's own message`, hasMessageJS("I see you typing"), liveWait)

	for _, b := range []*browser{alice, bob} {
		shown := evalJS[[]string](b, `window.__typingShown`)
		for _, s := range shown {
			if strings.Contains(s, b.name) {
				t.Errorf("%s's own page said %q while %s was typing: the typist should not be told about themselves (all it showed: %q)", b.name, s, b.name, shown)
				break
			}
		}
	}
	bob.screenshot("typing-bob-own-view", false)
}
