package handlers_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"agora/assets"
	"agora/chat/live"
	"agora/db"
	"agora/handlers"
)

// testServer is the real router on a real SQLite file, over real HTTP.
type testServer struct {
	*httptest.Server
	store *db.Store
	app   *handlers.Server
	hub   *live.Hub
	path  string
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	return newTestServerWith(t, live.HubConfig{})
}

func newTestServerWith(t *testing.T, hub live.HubConfig) *testServer {
	t.Helper()
	return startTestServer(t, filepath.Join(t.TempDir(), "agora.db"), hub, false)
}

func newGuestServer(t *testing.T) *testServer {
	t.Helper()
	return startTestServer(t, filepath.Join(t.TempDir(), "agora.db"), live.HubConfig{}, true)
}

func startTestServer(t *testing.T, path string, hubCfg live.HubConfig, guests bool) *testServer {
	t.Helper()
	store, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	hub := handlers.NewHub(hubCfg)
	app := handlers.New(handlers.Config{Store: store, Hub: hub, Assets: assets.FS, Guests: guests})
	ts := &testServer{Server: httptest.NewServer(app), store: store, app: app, hub: hub, path: path}
	t.Cleanup(ts.stop)
	return ts
}

// stop shuts the server down as main does: sockets first (1012), then HTTP.
func (ts *testServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ts.app.Shutdown(ctx)
	ts.Close()
	ts.store.Close()
}

// restart stops the server and starts a new one on the same database file.
func (ts *testServer) restart(t *testing.T) *testServer {
	t.Helper()
	ts.stop()
	return startTestServer(t, ts.path, live.HubConfig{}, false)
}

// client is one browser: a cookie jar, and redirects not followed so tests
// see the 303s of post/redirect/get.
type client struct {
	t    *testing.T
	ts   *testServer
	http *http.Client
}

func (ts *testServer) client(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, ts: ts, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (c *client) do(method, path string, form url.Values, header map[string]string) response {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.ts.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

func (c *client) get(path string) response { return c.do("GET", path, nil, nil) }

func (c *client) post(path string, form url.Values) response { return c.do("POST", path, form, nil) }

// signup makes an account and leaves the client signed in as it.
func (c *client) signup(username string) *client {
	c.t.Helper()
	res := c.post("/signup", url.Values{"username": {username}, "password": {"password-" + username}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/" {
		c.t.Fatalf("signup %s: %d %.300s", username, res.status, res.body)
	}
	return c
}

// postMessage posts through the no-JavaScript form and returns the new
// message's element id, read back from the room page.
func (c *client) postMessage(slug, body string) {
	c.t.Helper()
	res := c.post("/rooms/"+slug+"/messages", url.Values{"body": {body}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/rooms/"+slug {
		c.t.Fatalf("post to %s: %d %.300s", slug, res.status, res.body)
	}
}

func expectStatus(t *testing.T, res response, want int) {
	t.Helper()
	if res.status != want {
		t.Fatalf("status %d, want %d; body:\n%.600s", res.status, want, res.body)
	}
}

// doc parses a page.
func doc(t *testing.T, body string) *html.Node {
	t.Helper()
	n, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// findAll returns the elements under n for which match is true.
func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for c := range n.Descendants() {
		if c.Type == html.ElementNode && match(c) {
			out = append(out, c)
		}
	}
	return out
}

func byID(n *html.Node, id string) *html.Node {
	found := findAll(n, func(c *html.Node) bool { v, _ := attr(c, "id"); return v == id })
	if len(found) == 0 {
		return nil
	}
	return found[0]
}

func text(n *html.Node) string {
	var b strings.Builder
	for c := range n.Descendants() {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

// messages returns the message elements of a page or fragment, in order.
func messages(n *html.Node) []*html.Node {
	return findAll(n, func(c *html.Node) bool {
		id, _ := attr(c, "id")
		return strings.HasPrefix(id, "message-")
	})
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
