package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"

	"agora/assets"
	"agora/chat/live"
	"agora/db"
	"agora/db/slackimport"
	"agora/db/slackimport/slacktest"
	"agora/handlers"
)

// opUsers are the identity provider's people; a test may rename one.
type opUsers struct {
	mu    sync.Mutex
	users map[string]*storage.User // by id (the subject)
}

func (u *opUsers) GetUserByID(id string) *storage.User {
	u.mu.Lock()
	defer u.mu.Unlock()
	if p, ok := u.users[id]; ok {
		c := *p
		return &c
	}
	return nil
}

func (u *opUsers) GetUserByUsername(name string) *storage.User {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, p := range u.users {
		if p.Username == name {
			c := *p
			return &c
		}
	}
	return nil
}

func (u *opUsers) ExampleClientID() string { return "service" }

func (u *opUsers) add(id, username, first, last string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.users[id] = &storage.User{ID: id, Username: username, Password: "op-password", FirstName: first, LastName: last, EmailVerified: true}
}

func (u *opUsers) addEmail(id, username, email string, verified bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.users[id] = &storage.User{ID: id, Username: username, Password: "op-password", Email: email, EmailVerified: verified}
}

func (u *opUsers) rename(id, username string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.users[id].Username = username
}

// oidcWorld is a real OpenID provider (zitadel/oidc's op package and its
// example storage and login page, run in this process) and an agora that
// signs in with it.
type oidcWorld struct {
	t        *testing.T
	agora    *httptest.Server
	store    *db.Store
	issuer   string // as the provider calls itself
	users    *opUsers
	tamperID atomic.Bool // the provider's token answers carry a broken ID token signature
}

type oidcOptions struct {
	issuer          func(provider string) string // what agora is told the issuer is
	now             func() time.Time
	noPasswordLogin bool
}

func startOIDCWorld(t *testing.T, opt oidcOptions) *oidcWorld {
	t.Helper()
	w := &oidcWorld{t: t, users: &opUsers{users: map[string]*storage.User{}}}
	var app http.Handler
	w.agora = httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { app.ServeHTTP(rw, r) }))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w.issuer = "http://" + ln.Addr().String()
	st := storage.NewStorageWithClients(w.users, map[string]*storage.Client{
		"agora": storage.WebClient("agora", "agora-secret", "http://"+w.agora.Listener.Addr().String()+"/login/oidc/callback"),
	})
	op := exampleop.SetupServer(w.issuer, st, nil, false)
	srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth/token" || !w.tamperID.Load() {
			op.ServeHTTP(rw, r)
			return
		}
		// A token answer whose ID token's signature is not the provider's.
		rec := httptest.NewRecorder()
		op.ServeHTTP(rec, r)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err == nil {
			if idt, ok := body["id_token"].(string); ok {
				parts := strings.Split(idt, ".")
				sig := []byte(parts[2])
				sig[5] ^= 'A' ^ 'B'
				if sig[5] == parts[2][5] {
					sig[5] = 'C'
				}
				parts[2] = string(sig)
				body["id_token"] = strings.Join(parts, ".")
			}
		}
		b, _ := json.Marshal(body)
		for k, v := range rec.Header() {
			rw.Header()[k] = v
		}
		rw.Header().Del("Content-Length")
		rw.WriteHeader(rec.Code)
		rw.Write(b)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	w.store, err = db.Open(context.Background(), filepath.Join(t.TempDir(), "agora.db"))
	if err != nil {
		t.Fatal(err)
	}
	issuer := w.issuer
	if opt.issuer != nil {
		issuer = opt.issuer(w.issuer)
	}
	server := handlers.New(handlers.Config{Store: w.store, Hub: handlers.NewHub(live.HubConfig{}), Assets: assets.FS,
		OIDC: &handlers.OIDC{Issuer: issuer, ClientID: "agora", ClientSecret: "agora-secret", Now: opt.now}, NoPasswordLogin: opt.noPasswordLogin})
	app = server
	w.agora.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		server.Shutdown(ctx)
		w.agora.Close()
		w.store.Close()
	})
	return w
}

// oidcBrowser follows redirects like a browser, across both sites, and can
// stop at agora's callback to keep its URL.
type oidcBrowser struct {
	t        *testing.T
	http     *http.Client
	callback string // the last callback URL the provider sent it to
	stop     bool   // stop before following the callback
}

func (w *oidcWorld) browser() *oidcBrowser {
	jar, _ := cookiejar.New(nil)
	b := &oidcBrowser{t: w.t}
	b.http = &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if r.URL.Path == "/login/oidc/callback" {
			b.callback = r.URL.String()
			if b.stop {
				return http.ErrUseLastResponse
			}
		}
		return nil
	}}
	return b
}

type opPage struct {
	status int
	url    *url.URL
	body   string
}

func (b *oidcBrowser) get(u string) opPage {
	b.t.Helper()
	res, err := b.http.Get(u)
	if err != nil {
		b.t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return opPage{res.StatusCode, res.Request.URL, string(body)}
}

func (b *oidcBrowser) post(u string, form url.Values) opPage {
	b.t.Helper()
	res, err := b.http.PostForm(u, form)
	if err != nil {
		b.t.Fatalf("POST %s: %v", u, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return opPage{res.StatusCode, res.Request.URL, string(body)}
}

// signIn goes from agora's button through the provider's login page and
// back, as the provider's user called username.
func (w *oidcWorld) signIn(b *oidcBrowser, username string) opPage {
	w.t.Helper()
	login := b.get(w.agora.URL + "/login/oidc")
	if login.status != http.StatusOK || login.url.Path != "/login/username" {
		w.t.Fatalf("the button did not lead to the provider's login page: %d %s\n%.500s", login.status, login.url, login.body)
	}
	id := login.url.Query().Get("authRequestID")
	return b.post(w.issuer+"/login/username", url.Values{"id": {id}, "username": {username}, "password": {"op-password"}})
}

func mustUsers(t *testing.T, s *db.Store) []string {
	t.Helper()
	us, err := s.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range us {
		names = append(names, u.Username)
	}
	return names
}

// TestOIDCSignIn: the first sign-in makes the account (username from
// preferred_username, display name from name); the next finds it by the
// provider's subject, even after the person's name changed there; a name
// that collides with an account's gets a number, never that account.
func TestOIDCSignIn(t *testing.T) {
	w := startOIDCWorld(t, oidcOptions{})
	w.users.add("sub-1", "alice", "Alice", "Liddell")
	w.users.add("sub-2", "bob", "Robert", "Impostor")

	login := w.browser().get(w.agora.URL + "/login")
	if byID(doc(t, login.body), "oidc-login") == nil || !strings.Contains(login.body, `name="password"`) {
		t.Errorf("the login page lacks the provider's button or the password form:\n%.1500s", login.body)
	}

	alice := w.browser()
	if p := w.signIn(alice, "alice"); p.status != http.StatusOK || p.url.Path != "/" {
		t.Fatalf("sign-in ended at %s (%d):\n%.800s", p.url, p.status, p.body)
	}
	u, err := w.store.UserByUsername(context.Background(), "alice")
	if err != nil {
		t.Fatalf("no account alice: %v (accounts %v)", err, mustUsers(t, w.store))
	}
	if u.DisplayName != "Alice Liddell" || !u.IsAdmin {
		t.Errorf("alice: %+v; want the display name from the provider, and admin as the first account", u)
	}

	// Renamed at the provider: the same account, its name unchanged here.
	w.users.rename("sub-1", "alice.liddell")
	again := w.browser()
	if p := w.signIn(again, "alice.liddell"); p.url.Path != "/" {
		t.Fatalf("second sign-in ended at %s", p.url)
	}
	if names := mustUsers(t, w.store); len(names) != 1 || names[0] != "alice" {
		t.Errorf("accounts after a rename at the provider: %v, want [alice]", names)
	}
	if p := again.get(w.agora.URL + "/"); !strings.Contains(p.body, "alice") {
		t.Error("the second sign-in is not alice's")
	}

	// A password account called bob exists; the provider's bob is someone
	// else and gets bob2.
	res, err := w.browser().http.PostForm(w.agora.URL+"/signup", url.Values{"username": {"bob"}, "password": {"password-bob"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	impostor := w.browser()
	if p := w.signIn(impostor, "bob"); p.url.Path != "/" {
		t.Fatalf("bob's sign-in ended at %s", p.url)
	}
	linked, err := w.store.UserByOIDC(context.Background(), w.issuer, "sub-2")
	if err != nil || linked.Username != "bob2" {
		t.Errorf("the provider's bob got %+v, %v; want a new account bob2", linked, err)
	}
}

// TestOIDCRefusals: every broken sign-in ends at the login page with a clear
// message and no session.
func TestOIDCRefusals(t *testing.T) {
	w := startOIDCWorld(t, oidcOptions{})
	w.users.add("sub-1", "carol", "Carol", "C")
	noSession := func(b *oidcBrowser, what string) {
		t.Helper()
		if p := b.get(w.agora.URL + "/"); p.url.Path != "/login" {
			t.Errorf("%s: signed in anyway (%s)", what, p.url)
		}
	}

	// Wrong state: the callback's state is not the one this browser was sent with.
	b := w.browser()
	b.stop = true
	w.signIn(b, "carol")
	cb, _ := url.Parse(b.callback)
	q := cb.Query()
	q.Set("state", "forged-"+q.Get("state"))
	cb.RawQuery = q.Encode()
	b.stop = false
	if p := b.get(cb.String()); p.status != http.StatusBadRequest || !strings.Contains(p.body, "did not start here") {
		t.Errorf("wrong state: %d\n%.600s", p.status, p.body)
	}
	noSession(b, "wrong state")

	// A callback from a sign-in this browser never started.
	stranger := w.browser()
	if p := stranger.get(b.callback); p.status != http.StatusBadRequest {
		t.Errorf("a stranger's callback: %d", p.status)
	}
	noSession(stranger, "a stranger's callback")

	// Replayed code: the callback used once, then again with the same flow
	// cookie (the code is spent at the provider).
	b = w.browser()
	b.stop = true
	w.signIn(b, "carol")
	agoraURL, _ := url.Parse(w.agora.URL + "/login/oidc/callback")
	flow := b.http.Jar.Cookies(agoraURL)
	b.stop = false
	if p := b.get(b.callback); p.url.Path != "/" {
		t.Fatalf("the first use of the code: %s (%d)\n%.500s", p.url, p.status, p.body)
	}
	replay := w.browser()
	replay.http.Jar.SetCookies(agoraURL, flow)
	if p := replay.get(b.callback); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "did not confirm") {
		t.Errorf("replayed code: %d\n%.600s", p.status, p.body)
	}
	noSession(replay, "replayed code")

	// Bad signature on the ID token.
	w.tamperID.Store(true)
	b = w.browser()
	if p := w.signIn(b, "carol"); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "could not be trusted") {
		t.Errorf("bad signature: %d\n%.600s", p.status, p.body)
	}
	w.tamperID.Store(false)
	noSession(b, "bad signature")

	// The provider refuses (an error in the callback).
	b = w.browser()
	if p := b.get(w.agora.URL + "/login/oidc/callback?error=access_denied&error_description=nope"); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "access_denied") {
		t.Errorf("provider error: %d", p.status)
	}
	if names := mustUsers(t, w.store); len(names) != 1 {
		t.Errorf("accounts: %v, want carol's only", names)
	}
}

// TestOIDCExpiredAndWrongIssuer: a token checked at a time past its expiry
// is refused, and so is a provider that is not the configured issuer.
func TestOIDCExpiredAndWrongIssuer(t *testing.T) {
	late := startOIDCWorld(t, oidcOptions{now: func() time.Time { return time.Now().Add(3 * time.Hour) }})
	late.users.add("sub-1", "dave", "Dave", "D")
	b := late.browser()
	if p := late.signIn(b, "dave"); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "could not be trusted") {
		t.Errorf("expired token: %d\n%.600s", p.status, p.body)
	}
	if p := b.get(late.agora.URL + "/"); p.url.Path != "/login" {
		t.Error("expired token: signed in anyway")
	}

	// agora is told the issuer is localhost:PORT; the provider says 127.0.0.1:PORT.
	wrong := startOIDCWorld(t, oidcOptions{issuer: func(p string) string { return strings.Replace(p, "127.0.0.1", "localhost", 1) }})
	if p := wrong.browser().get(wrong.agora.URL + "/login/oidc"); p.status != http.StatusBadGateway || !strings.Contains(p.body, "cannot be reached") {
		t.Errorf("wrong issuer: %d\n%.600s", p.status, p.body)
	}
}

// TestOIDCOnly: with password login off, the login page has only the
// provider's button, and password login and sign-up answer 403.
func TestOIDCOnly(t *testing.T) {
	w := startOIDCWorld(t, oidcOptions{noPasswordLogin: true})
	w.users.add("sub-1", "erin", "Erin", "E")
	b := w.browser()
	login := b.get(w.agora.URL + "/login")
	if byID(doc(t, login.body), "oidc-login") == nil || strings.Contains(login.body, `name="password"`) {
		t.Errorf("the login page:\n%.1500s", login.body)
	}
	for _, path := range []string{"/login", "/signup"} {
		p := b.post(w.agora.URL+path, url.Values{"username": {"mallory"}, "password": {"password-mallory"}})
		if p.status != http.StatusForbidden || !strings.Contains(p.body, "identity provider only") {
			t.Errorf("POST %s: %d", path, p.status)
		}
	}
	if p := w.signIn(b, "erin"); p.url.Path != "/" {
		t.Errorf("sign-in through the provider: %s", p.url)
	}
}

// TestOIDCClaimsImportedAccount: people a Slack import made accounts for
// sign in by the provider and get that account, history and all, when the
// provider vouches for the same email; an unverified email claims nothing,
// and an account claimed once is not claimed again by another subject.
func TestOIDCClaimsImportedAccount(t *testing.T) {
	w := startOIDCWorld(t, oidcOptions{})
	export := filepath.Join(t.TempDir(), "export")
	slacktest.WriteFixture(t, export)
	if _, err := slackimport.Import(context.Background(), w.store, export, slackimport.Options{}); err != nil {
		t.Fatal(err)
	}
	w.users.addEmail("sub-bob", "robert", "Bob@Example.com", true)
	w.users.addEmail("sub-ann", "ann", "ann@example.com", false)
	w.users.addEmail("sub-bob-again", "bobby", "bob@example.com", true)

	bob := w.browser()
	if p := w.signIn(bob, "robert"); p.url.Path != "/" {
		t.Fatalf("bob's sign-in ended at %s", p.url)
	}
	linked, err := w.store.UserByOIDC(context.Background(), w.issuer, "sub-bob")
	if err != nil || linked.Username != "bob" {
		t.Fatalf("the provider's bob got %+v, %v; want the imported account bob", linked, err)
	}
	if p := bob.get(w.agora.URL + "/rooms/general"); !strings.Contains(p.body, "a thread starts") {
		t.Error("bob does not see the imported history of #general")
	}

	if p := w.signIn(w.browser(), "ann"); p.url.Path != "/" {
		t.Fatalf("ann's sign-in ended at %s", p.url)
	}
	if u, err := w.store.UserByOIDC(context.Background(), w.issuer, "sub-ann"); err != nil || u.Username == "ann-lee" {
		t.Errorf("an unverified email claimed the imported account: %+v, %v", u, err)
	}
	if p := w.signIn(w.browser(), "bobby"); p.url.Path != "/" {
		t.Fatalf("bobby's sign-in ended at %s", p.url)
	}
	if u, err := w.store.UserByOIDC(context.Background(), w.issuer, "sub-bob-again"); err != nil || u.Username == "bob" {
		t.Errorf("an account claimed once was claimed again: %+v, %v", u, err)
	}
}
