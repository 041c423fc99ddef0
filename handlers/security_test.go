package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// xssPayloads are bodies that would run script, add attributes or steer htmx
// if any of them reached the page as markup.
var xssPayloads = []string{
	`<script>alert(1)</script>`,
	`<img src=x onerror=alert(1)>`,
	`<a href="javascript:alert(1)">click</a>`,
	`javascript:alert(1)`,
	`https://ok.example/"onmouseover="alert(1)`,
	`https://ok.example/<script>alert(1)</script>`,
	`<div hx-get="/logout" hx-trigger="load">x</div>`,
	`<p id="composer" hx-swap-oob="true">hijack</p>`,
	`"><svg onload=alert(1)>`,
	`<iframe srcdoc="<script>alert(1)</script>"></iframe>`,
	`@<script>x</script> @ann"onclick="alert(1)`,
	`<style>body{display:none}</style>`,
}

func TestMessagesRenderInert(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t).signup("ann")
	for _, p := range xssPayloads {
		c.postMessage("general", p)
	}
	page := doc(t, c.get("/rooms/general").body)
	list := byID(page, "messages")
	msgs := messages(list)
	bodies := findAll(list, func(n *html.Node) bool { v, _ := attr(n, "class"); return v == "body" })
	if len(bodies) != len(xssPayloads) {
		t.Fatalf("%d message bodies on the page, want %d", len(bodies), len(xssPayloads))
	}
	for i, body := range bodies {
		// The text reads back exactly as typed...
		if got := text(body); got != xssPayloads[i] {
			t.Errorf("payload %d reads %q, want %q", i, got, xssPayloads[i])
		}
		// ...and made no elements but our own links and mentions.
		for _, el := range findAll(body, func(*html.Node) bool { return true }) {
			switch el.Data {
			case "a":
				href, _ := attr(el, "href")
				if !strings.HasPrefix(href, "https://ok.example/") {
					t.Errorf("payload %d made a link to %q", i, href)
				}
				for _, a := range el.Attr {
					if a.Key != "href" && a.Key != "rel" && a.Key != "target" {
						t.Errorf("payload %d put %s= on a link", i, a.Key)
					}
				}
			case "span":
				if cls, _ := attr(el, "class"); cls != "mention" {
					t.Errorf("payload %d made a span of class %q", i, cls)
				}
			default:
				t.Errorf("payload %d made a <%s>", i, el.Data)
			}
		}
	}
	// Nothing a user wrote became an id, an event handler or an hx- attribute.
	for _, el := range findAll(page, func(*html.Node) bool { return true }) {
		for _, a := range el.Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s> has %s=%q", el.Data, a.Key, a.Val)
			}
		}
		if el.Data == "script" {
			if src, _ := attr(el, "src"); !strings.HasPrefix(src, "/assets/") {
				t.Errorf("a script that is not ours: %v", el.Attr)
			}
		}
	}
	if n := len(findAll(page, func(n *html.Node) bool { v, _ := attr(n, "id"); return v == "composer" })); n != 1 {
		t.Errorf("%d elements with id=composer", n)
	}
	for _, m := range msgs {
		for _, a := range m.Attr {
			if strings.HasPrefix(a.Key, "hx-") {
				t.Errorf("a message carries %s", a.Key)
			}
		}
	}
}

func TestCrossOriginPostsAreRefused(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t).signup("ann")
	for _, h := range []map[string]string{
		{"Origin": "http://evil.example"},
		{"Sec-Fetch-Site": "cross-site"},
	} {
		for _, path := range []string{"/rooms/general/messages", "/rooms", "/logout", "/settings/profile"} {
			res := c.do("POST", path, url.Values{"body": {"csrf"}, "name": {"csrf"}, "display_name": {"csrf"}}, h)
			expectStatus(t, res, http.StatusForbidden)
			if !strings.Contains(res.body, "another site") {
				t.Errorf("403 page without a reason:\n%.300s", res.body)
			}
		}
	}
	if strings.Contains(c.get("/rooms/general").body, "csrf") {
		t.Error("a cross-origin post changed something")
	}
	// The same site's own pages post fine.
	res := c.do("POST", "/rooms/general/messages", url.Values{"body": {"same site"}}, map[string]string{"Origin": ts.URL, "Sec-Fetch-Site": "same-origin"})
	expectStatus(t, res, http.StatusSeeOther)
}

func TestSecurityHeadersAndCSP(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t).signup("ann")
	res := c.get("/rooms/general")
	csp := res.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows unsafe code: %q", csp)
	}
	if res.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no nosniff")
	}
	// No inline script or style that the CSP would block.
	page := doc(t, res.body)
	for _, el := range findAll(page, func(n *html.Node) bool { return n.Data == "script" || n.Data == "style" }) {
		if _, ok := attr(el, "src"); !ok {
			t.Errorf("inline <%s> on the page", el.Data)
		}
	}
	if len(findAll(page, func(n *html.Node) bool { _, ok := attr(n, "style"); return ok })) > 0 {
		t.Error("an inline style attribute on the page")
	}
	cfg := findAll(page, func(n *html.Node) bool { v, _ := attr(n, "name"); return n.Data == "meta" && v == "htmx-config" })
	if len(cfg) != 1 {
		t.Fatal("no htmx-config")
	}
	content, _ := attr(cfg[0], "content")
	for _, want := range []string{`"allowEval":false`, `"allowScriptTags":false`, `"allowNestedOobSwaps":false`, `"includeIndicatorStyles":false`} {
		if !strings.Contains(content, want) {
			t.Errorf("htmx config lacks %s", want)
		}
	}
}

func TestOversizedBodiesAreRefused(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t).signup("ann")
	res := c.post("/rooms/general/messages", url.Values{"body": {strings.Repeat("x", 200<<10)}})
	expectStatus(t, res, http.StatusRequestEntityTooLarge)
	if !strings.Contains(res.body, "more than the server accepts") {
		t.Errorf("413 without a message:\n%.300s", res.body)
	}
}

func TestErrorPagesHideInternals(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t).signup("ann")
	ts.store.Close() // every query now fails inside the store
	res := c.get("/rooms/general")
	expectStatus(t, res, http.StatusInternalServerError)
	if strings.Contains(res.body, "sql") || strings.Contains(res.body, "database") {
		t.Errorf("internal error text on the page:\n%.500s", res.body)
	}
	if !strings.Contains(res.body, "Something went wrong") {
		t.Errorf("no friendly message:\n%.300s", res.body)
	}
	if got := c.get("/healthz"); got.status != http.StatusServiceUnavailable {
		t.Errorf("healthz with a closed database: %d", got.status)
	}
}

func TestStaticAssetsAndPersonalCSS(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t).signup("Ann")
	for _, path := range []string{"/assets/app.css", "/assets/app.js", "/assets/vendor/htmx.min.js", "/assets/vendor/ws.min.js"} {
		expectStatus(t, c.get(path), http.StatusOK)
	}
	expectStatus(t, c.get("/assets/../main.go"), http.StatusNotFound)
	expectStatus(t, c.get("/assets/nope.js"), http.StatusNotFound)
	css := c.get("/me.css")
	expectStatus(t, css, http.StatusOK)
	if !strings.Contains(css.body, `[data-author="ann"]`) || !strings.Contains(css.body, `[data-mentions~="ann"]`) {
		t.Errorf("me.css does not key on the user:\n%s", css.body)
	}
}
