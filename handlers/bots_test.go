package handlers_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"agora/assets"
	"agora/chat/jobs"
	"agora/chat/live"
	"agora/db"
	"agora/handlers"
)

// syncBuffer is a log destination that tests read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newHookServer is a test server whose webhooks may reach loopback (or not),
// with its log kept in logs.
func newHookServer(t *testing.T, private bool, timeout time.Duration, logs io.Writer) *testServer {
	t.Helper()
	// Retries come within milliseconds, so tests see a delivery's whole life.
	ts, _ := newJobServer(t, handlers.Config{WebhooksPrivate: private, WebhookTimeout: timeout},
		jobs.Options{Backoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}, false, logs)
	return ts
}

// newJobServer is a test server with the settings of cfg and a job runner of
// its own with opts, logging to logs. The runner is returned unstarted when
// hold, so a test can show what happens before any job runs.
func newJobServer(t *testing.T, cfg handlers.Config, opts jobs.Options, hold bool, logs io.Writer) (*testServer, *jobs.Runner) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agora.db")
	store, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	hub := handlers.NewHub(live.HubConfig{})
	log := slog.New(slog.NewTextHandler(logs, nil))
	opts.Log = log
	runner := jobs.New(store, opts)
	cfg.Store, cfg.Hub, cfg.Assets, cfg.Log, cfg.Jobs = store, hub, assets.FS, log, runner
	app := handlers.New(cfg)
	if !hold {
		runner.Start()
	}
	ts := &testServer{Server: httptest.NewServer(app), store: store, app: app, hub: hub, path: path}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		app.Shutdown(ctx)
		runner.Stop()
		ts.Close()
		store.Close()
	})
	return ts, runner
}

// makeBot makes a bot on the admin page and returns its token and secret.
func (c *client) makeBot(username, webhookURL string) (token, secret string) {
	c.t.Helper()
	res := c.post("/admin/bots", url.Values{"username": {username}, "webhook_url": {webhookURL}})
	expectStatus(c.t, res, http.StatusOK)
	page := doc(c.t, res.body)
	tok, sec := byID(page, "new-token"), byID(page, "new-secret")
	if tok == nil || sec == nil {
		c.t.Fatalf("no #new-token and #new-secret:\n%.1500s", res.body)
	}
	return strings.TrimSpace(text(tok)), strings.TrimSpace(text(sec))
}

// waitHooks waits until n webhook deliveries have been tried.
func (ts *testServer) waitHooks(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for ts.app.JobsFinished() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d webhook deliveries tried, want %d", ts.app.JobsFinished(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// hookCall is what a test bot received.
type hookCall struct {
	Event   string                `json:"event"`
	Bot     string                `json:"bot"`
	Room    struct{ Slug string } `json:"room"`
	Message apiMsg                `json:"message"`
}

// testBot is a bot's webhook: it checks every delivery's signature with its
// own HMAC, and answers with reply(call).
type testBot struct {
	*httptest.Server
	secret  atomic.Value // string, known once the bot is made
	calls   chan hookCall
	badSigs atomic.Int64
	hits    atomic.Int64
	reply   func(hookCall) string
}

func newTestBot(t *testing.T, reply func(hookCall) string) *testBot {
	b := &testBot{calls: make(chan hookCall, 16), reply: reply}
	b.secret.Store("")
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte(b.secret.Load().(string)))
		mac.Write(body)
		want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
		if !hmac.Equal([]byte(r.Header.Get("X-Agora-Signature")), []byte(want)) || r.Header.Get("Content-Type") != "application/json" {
			b.badSigs.Add(1)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var call hookCall
		if err := json.Unmarshal(body, &call); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		b.calls <- call
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"body": b.reply(call)})
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *testBot) next(t *testing.T) hookCall {
	t.Helper()
	select {
	case c := <-b.calls:
		return c
	case <-time.After(15 * time.Second):
		t.Fatal("the bot's webhook was not called")
		return hookCall{}
	}
}

func TestAdminsMakeBotsThatCannotLogIn(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann") // the first account: an admin
	bob := ts.client(t).signup("bob")

	// Not an admin: nothing here, and nothing made.
	expectStatus(t, bob.get("/admin/bots"), http.StatusNotFound)
	expectStatus(t, bob.post("/admin/bots", url.Values{"username": {"sneaky"}}), http.StatusNotFound)
	if _, err := ts.store.UserByUsername(t.Context(), "sneaky"); err == nil {
		t.Fatal("a non-admin made a bot")
	}

	token, secret := ann.makeBot("deploy", "https://hooks.example/deploy")
	if token == "" || secret == "" || token == secret {
		t.Fatalf("token %q secret %q", token, secret)
	}
	page := ann.get("/admin/bots")
	if strings.Contains(page.body, token) || strings.Contains(page.body, secret) {
		t.Fatal("the token or secret is shown again")
	}
	row := byID(doc(t, page.body), "bot-deploy")
	if row == nil || !strings.Contains(text(row), "https://hooks.example/deploy") || !strings.Contains(text(row), "ann") {
		t.Fatalf("bot not listed:\n%.2000s", page.body)
	}

	// The token works, and says it is a bot.
	api := ts.api(t, token)
	r := api.call("GET", "/api/v1/me", nil)
	expectAPI(t, r, http.StatusOK)
	var me map[string]any
	r.json(t, &me)
	if me["username"] != "deploy" || me["is_bot"] != true || me["is_admin"] != false {
		t.Fatalf("me: %v", me)
	}
	// No password opens it.
	for _, pw := range []string{"", "password", "password-deploy"} {
		res := ts.client(t).post("/login", url.Values{"username": {"deploy"}, "password": {pw}})
		expectStatus(t, res, http.StatusUnauthorized)
	}

	// Its messages carry the bot tag wherever they show.
	res, m := api.post("general", "build 42 is green", "")
	expectAPI(t, res, http.StatusCreated)
	if !m.AuthorIsBot {
		t.Fatal("the API does not mark the bot's message")
	}
	el := byID(doc(t, bob.get("/rooms/general").body), "message-"+itoa(m.ID))
	if el == nil || !strings.Contains(text(el), "bot") {
		t.Fatal("the room page does not tag the bot's message")
	}

	// Refused: a taken name (in any case, or someone's display name), bad names, bad webhook URLs.
	bob.post("/settings/profile", url.Values{"display_name": {"Builder"}})
	for _, f := range []url.Values{
		{"username": {"Deploy"}},
		{"username": {"bob"}},
		{"username": {"builder"}},
		{"username": {"x"}},
		{"username": {"has space"}},
		{"username": {"hooky"}, "webhook_url": {"ftp://example.com/"}},
		{"username": {"hooky"}, "webhook_url": {"javascript:alert(1)"}},
		{"username": {"hooky"}, "webhook_url": {"https://user:pw@example.com/"}},
		{"username": {"hooky"}, "webhook_url": {"/relative"}},
	} {
		res := ann.post("/admin/bots", f)
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if byID(doc(t, res.body), "new-token") != nil || byID(doc(t, res.body), "form-error") == nil {
			t.Fatalf("%v: want an error and no token", f)
		}
	}
	if bots, _ := ts.store.Bots(t.Context()); len(bots) != 1 {
		t.Fatalf("%d bots stored, want 1", len(bots))
	}
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func TestBotAnswersAMentionLiveInEveryBrowser(t *testing.T) {
	var logs syncBuffer
	ts := newHookServer(t, true, 0, &logs)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	bot := newTestBot(t, func(c hookCall) string {
		if c.Event == "direct_message" {
			return "you said: " + c.Message.Body
		}
		return "all green, @" + c.Message.Author
	})
	token, secret := ann.makeBot("deploy", bot.URL+"/hook")
	bot.secret.Store(secret)

	ann.get("/rooms/general")
	bob.get("/rooms/general")
	a, b := ann.dial("general", -1), bob.dial("general", -1)
	b.say("@deploy status?")
	call := bot.next(t)
	if call.Event != "mention" || call.Bot != "deploy" || call.Room.Slug != "general" || call.Message.Body != "@deploy status?" || call.Message.Author != "bob" {
		t.Fatalf("webhook got %+v", call)
	}
	// The reply is the bot's message in the room, live in both browsers, tagged.
	for _, s := range []*sock{a, b} {
		got := s.readUntil(`all green, <span class="mention" data-user="bob">@bob</span>`)
		i := strings.LastIndex(got, `<article`)
		if !strings.Contains(got[i:], `<span class="tag">bot</span>`) {
			t.Fatalf("the reply is not tagged as a bot's: %.500s", got[i:])
		}
	}
	// The bot joined the public room to answer, as anyone would.
	if !strings.Contains(bob.get("/rooms/general").body, "deploy joined #general") {
		t.Error("no join notice for the bot")
	}

	// A direct message to the bot reaches it too; the answer lands in the conversation.
	bobAPI := ts.api(t, bob.makeToken("b"))
	r := bobAPI.call("POST", "/api/v1/dm/deploy/messages", map[string]string{"body": "ping"})
	expectAPI(t, r, http.StatusCreated)
	if call := bot.next(t); call.Event != "direct_message" || call.Message.Body != "ping" {
		t.Fatalf("dm webhook got %+v", call)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		msgs := bobAPI.messages("/api/v1/dm/deploy/messages")
		if len(msgs) == 2 && msgs[1].Body == "you said: ping" && msgs[1].Author == "deploy" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reply in the conversation: %+v", msgs)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// The bot's token works for it as for anyone: it speaks up unprompted.
	botAPI := ts.api(t, token)
	res, _ := botAPI.post("general", "deploy finished", "")
	expectAPI(t, res, http.StatusCreated)
	a.readUntil("deploy finished")

	// A bot's own messages never call bots (no loops), and a private room the
	// bot is not in is not told to it.
	bob.post("/rooms", url.Values{"name": {"hush"}, "private": {"on"}})
	before := ts.notifiedJobs(t)
	bob.postMessage("hush", "@deploy you cannot hear this")
	res, _ = botAPI.post("general", "@deploy talking to myself", "")
	expectAPI(t, res, http.StatusCreated)
	bob.postMessage("general", "no mention here")
	// Deliveries are queued as the message is sent (and pushes and emails
	// by the notify jobs): none was.
	if after := ts.notifiedJobs(t); !sameJobs(after, before) {
		t.Fatalf("jobs %+v, then %+v: a delivery was queued", before, after)
	}
	select {
	case c := <-bot.calls:
		t.Fatalf("the bot heard %+v", c)
	default:
	}
	if bot.badSigs.Load() != 0 {
		t.Fatalf("%d deliveries had a bad signature", bot.badSigs.Load())
	}
	if row := byID(doc(t, ann.get("/admin/bots").body), "bot-deploy"); row == nil || strings.Contains(text(row), "never") {
		t.Error("the admin page does not show the last delivery")
	}
}

func TestWebhooksToPrivateAddressesAreRefused(t *testing.T) {
	var logs syncBuffer
	ts := newHookServer(t, false, 0, &logs) // the operator did not allow private addresses
	ann := ts.client(t).signup("ann")
	local := newTestBot(t, func(hookCall) string { return "should never be heard" })
	_, port, _ := strings.Cut(strings.TrimPrefix(local.URL, "http://"), ":")
	targets := map[string]string{
		"loopback":  local.URL + "/hook",
		"localhost": "http://localhost:" + port + "/hook", // a name that resolves to loopback
		"tenet":     "http://10.1.2.3:8080/hook",
		"metadata":  "http://169.254.169.254/latest/meta-data",
		"vsix":      "http://[::1]:" + port + "/hook",
		"mapped":    "http://[::ffff:127.0.0.1]:" + port + "/hook",
	}
	var mention []string
	for name, u := range targets {
		ann.makeBot(name, u)
		mention = append(mention, "@"+name)
	}
	ann.get("/rooms/general")
	api := ts.api(t, ann.makeToken("s"))
	res, m := api.post("general", strings.Join(mention, " ")+" hello", "")
	expectAPI(t, res, http.StatusCreated)
	ts.waitHooks(t, int64(len(targets)))
	if local.hits.Load() != 0 {
		t.Fatalf("the loopback webhook was called %d times", local.hits.Load())
	}
	page := doc(t, ann.get("/admin/bots").body)
	for name := range targets {
		row := byID(page, "bot-"+name)
		if row == nil || !strings.Contains(text(row), "refused") {
			t.Errorf("%s: the admin page does not show the refusal: %q", name, text(row))
		}
	}
	if strings.Count(logs.String(), "webhook failed") != len(targets) {
		t.Errorf("want %d failures logged:\n%s", len(targets), logs.String())
	}
	// The room is unaffected: the message stands, nobody replied, posting goes on.
	msgs := api.messages("/api/v1/rooms/general/messages")
	if last := msgs[len(msgs)-1]; last.ID != m.ID {
		t.Fatalf("something was posted after the message: %+v", last)
	}
	res, _ = api.post("general", "still here", "")
	expectAPI(t, res, http.StatusCreated)
}

func TestWebhooksThatHangFloodOrRedirectAreCutOff(t *testing.T) {
	var logs syncBuffer
	ts := newHookServer(t, true, 500*time.Millisecond, &logs)
	ann := ts.client(t).signup("ann")

	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // the first time; retries come again
		case entered <- struct{}{}:
		default:
		}
		select { // until agora gives up on it (or the test ends)
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hang.Close()
	defer close(release)
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"body": "`))
		chunk := bytes.Repeat([]byte("a"), 64<<10)
		for range 160 { // 10 MB
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		w.Write([]byte(`"}`))
	}))
	defer huge.Close()
	target := newTestBot(t, func(hookCall) string { return "followed a redirect" })
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/hook", http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	ann.makeBot("hang", hang.URL)
	ann.makeBot("huge", huge.URL)
	ann.makeBot("redir", redirect.URL)

	ann.get("/rooms/general")
	api := ts.api(t, ann.makeToken("s"))
	res, _ := api.post("general", "@hang are you there?", "")
	expectAPI(t, res, http.StatusCreated)
	<-entered
	// While that delivery hangs, messages still go through at once.
	res, _ = api.post("general", "@huge @redir and you?", "")
	expectAPI(t, res, http.StatusCreated)
	ts.waitHooks(t, 3)

	page := doc(t, ann.get("/admin/bots").body)
	for name, want := range map[string]string{"hang": "too long", "huge": "larger than 64 KiB", "redir": "redirects are not followed"} {
		row := byID(page, "bot-"+name)
		if row == nil || !strings.Contains(text(row), want) {
			t.Errorf("%s: want %q on the admin page, got %q", name, want, text(row))
		}
		if !strings.Contains(logs.String(), "bot="+name) {
			t.Errorf("%s: the failure is not logged:\n%s", name, logs.String())
		}
	}
	if target.hits.Load() != 0 {
		t.Fatal("the redirect was followed")
	}
	// Nothing was posted for them, and the room goes on.
	msgs := api.messages("/api/v1/rooms/general/messages")
	for _, m := range msgs {
		if m.AuthorIsBot {
			t.Fatalf("a bot replied: %+v", m)
		}
	}
	res, _ = api.post("general", "the room is fine", "")
	expectAPI(t, res, http.StatusCreated)
}
