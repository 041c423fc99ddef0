package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"agora/assets"
	"agora/chat/live"
	"agora/db"
	"agora/handlers"
)

func TestHealthz(t *testing.T) {
	ts := newTestServer(t)
	res := ts.client(t).get("/healthz")
	if res.status != http.StatusOK || res.body != "ok" {
		t.Fatalf("healthz: %d %q", res.status, res.body)
	}
}

func TestSignupSetsASafeSessionCookie(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t)
	res := c.post("/signup", url.Values{"username": {"ann"}, "password": {"long enough"}})
	expectStatus(t, res, http.StatusSeeOther)
	cookie := res.header.Get("Set-Cookie")
	for _, want := range []string{"agora_session=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("cookie %q lacks %q", cookie, want)
		}
	}
	lobby := c.get("/")
	expectStatus(t, lobby, http.StatusOK)
	page := doc(t, lobby.body)
	if len(findAll(page, func(n *html.Node) bool { v, _ := attr(n, "href"); return v == "/rooms/general" })) == 0 {
		t.Error("the lobby has no link to /rooms/general")
	}
	forms := findAll(page, func(n *html.Node) bool { v, _ := attr(n, "action"); return n.Data == "form" && v == "/rooms" })
	if len(forms) == 0 || len(findAll(forms[0], func(n *html.Node) bool { v, _ := attr(n, "name"); return v == "name" })) == 0 {
		t.Error("the lobby has no form POST /rooms with a name field")
	}
}

func TestSignupRefusesBadInput(t *testing.T) {
	ts := newTestServer(t)
	ts.client(t).signup("Alice")
	for _, tc := range []struct {
		name, username, password, says string
	}{
		{"taken in another case", "aLiCe", "long enough", "taken"},
		{"short password", "bob", "short", "at least 8"},
		{"no username", "", "long enough", "2 to 32"},
		{"markup in the username", "<script>", "long enough", "only letters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := ts.client(t).post("/signup", url.Values{"username": {tc.username}, "password": {tc.password}})
			expectStatus(t, res, http.StatusUnprocessableEntity)
			if !strings.Contains(res.body, tc.says) || !strings.Contains(res.body, `action="/signup"`) {
				t.Errorf("the form again with %q expected; got:\n%.500s", tc.says, res.body)
			}
			if strings.Contains(res.header.Get("Set-Cookie"), "agora_session=") {
				t.Error("a refused signup set a session")
			}
		})
	}
}

func TestLogin(t *testing.T) {
	ts := newTestServer(t)
	ts.client(t).signup("ann")

	wrong := ts.client(t).post("/login", url.Values{"username": {"ann"}, "password": {"not her password"}})
	expectStatus(t, wrong, http.StatusUnauthorized)
	if !strings.Contains(wrong.body, "Wrong username or password") || !strings.Contains(wrong.body, `value="ann"`) {
		t.Errorf("no error in the form:\n%.500s", wrong.body)
	}
	unknown := ts.client(t).post("/login", url.Values{"username": {"nobody"}, "password": {"whatever1"}})
	expectStatus(t, unknown, http.StatusUnauthorized)

	c := ts.client(t)
	signedOut := c.get("/rooms/general")
	expectStatus(t, signedOut, http.StatusSeeOther)
	if loc := signedOut.header.Get("Location"); loc != "/login?next=%2Frooms%2Fgeneral" {
		t.Fatalf("signed out to %q", loc)
	}
	ok := c.post("/login", url.Values{"username": {"ANN"}, "password": {"password-ann"}, "next": {"/rooms/general"}})
	expectStatus(t, ok, http.StatusSeeOther)
	if loc := ok.header.Get("Location"); loc != "/rooms/general" {
		t.Errorf("after login to %q, want the page asked for", loc)
	}
	expectStatus(t, c.get("/rooms/general"), http.StatusOK)

	// An offsite "next" is dropped: no open redirect.
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example"} {
		res := ts.client(t).post("/login", url.Values{"username": {"ann"}, "password": {"password-ann"}, "next": {next}})
		if loc := res.header.Get("Location"); loc != "/" {
			t.Errorf("next=%q redirected to %q", next, loc)
		}
	}
}

func TestLoginGivesANewSessionAndLogoutEndsIt(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t).signup("ann")
	before := c.http.Jar.Cookies(mustURL(t, ts.URL))
	c.post("/login", url.Values{"username": {"ann"}, "password": {"password-ann"}})
	after := c.http.Jar.Cookies(mustURL(t, ts.URL))
	if len(before) != 1 || len(after) != 1 || before[0].Value == after[0].Value {
		t.Fatalf("login kept the session token: %v -> %v", before, after)
	}
	// The session planted before login no longer works.
	stale := ts.client(t)
	stale.http.Jar.SetCookies(mustURL(t, ts.URL), before)
	expectStatus(t, stale.get("/"), http.StatusSeeOther)

	res := c.post("/logout", nil)
	expectStatus(t, res, http.StatusSeeOther)
	if res.header.Get("Location") != "/login" {
		t.Errorf("logout to %q", res.header.Get("Location"))
	}
	replay := ts.client(t)
	replay.http.Jar.SetCookies(mustURL(t, ts.URL), after)
	if res := replay.get("/"); res.status != http.StatusSeeOther {
		t.Errorf("the logged-out session still opens the lobby: %d", res.status)
	}
}

func TestLoginAttemptsAreLimited(t *testing.T) {
	ts := newTestServer(t)
	ts.client(t).signup("ann")
	c := ts.client(t)
	limited := false
	for range 15 {
		res := c.post("/login", url.Values{"username": {"ann"}, "password": {"guess-guess"}})
		if res.status == http.StatusTooManyRequests {
			limited = true
			if !strings.Contains(res.body, "Too many failed attempts") {
				t.Errorf("429 without a message:\n%.300s", res.body)
			}
			break
		}
		expectStatus(t, res, http.StatusUnauthorized)
	}
	if !limited {
		t.Fatal("15 wrong passwords in a row were all checked")
	}
}

func TestProxyHeadersCountOnlyWhenTrusted(t *testing.T) {
	for _, trusted := range []bool{false, true} {
		store, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "agora.db"))
		if err != nil {
			t.Fatal(err)
		}
		app := handlers.New(handlers.Config{Store: store, Hub: handlers.NewHub(live.HubConfig{}), Assets: assets.FS, TrustProxy: trusted})
		srv := httptest.NewServer(app)
		ts := &testServer{Server: srv, store: store, app: app}
		t.Cleanup(ts.stop)

		res := ts.client(t).do("POST", "/signup", url.Values{"username": {"ann"}, "password": {"password-ann"}},
			map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"})
		cookie := res.header.Get("Set-Cookie")
		if secure := strings.HasPrefix(cookie, "__Host-agora_session=") && strings.Contains(cookie, "Secure"); secure != trusted {
			t.Errorf("trusted=%v: cookie %q", trusted, cookie)
		}
		// Wrong passwords from one forwarded address: with a trusted proxy
		// they do not lock out another client behind the same proxy.
		for range 12 {
			ts.client(t).do("POST", "/login", url.Values{"username": {"nobody"}, "password": {"wrong-one"}}, map[string]string{"X-Forwarded-For": "203.0.113.7"})
		}
		other := ts.client(t).do("POST", "/login", url.Values{"username": {"ann"}, "password": {"password-ann"}}, map[string]string{"X-Forwarded-For": "198.51.100.9"})
		if got, want := other.status, map[bool]int{false: http.StatusTooManyRequests, true: http.StatusSeeOther}[trusted]; got != want {
			t.Errorf("trusted=%v: another client's login answered %d, want %d", trusted, got, want)
		}
	}
}
