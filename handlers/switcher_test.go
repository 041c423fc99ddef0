package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// goLinks are the hrefs of /go's results, in order.
func goLinks(t *testing.T, body string) []string {
	t.Helper()
	list := byID(doc(t, body), "go-results")
	if list == nil {
		t.Fatalf("no #go-results:\n%.1000s", body)
	}
	var out []string
	for _, a := range findAll(list, func(n *html.Node) bool { return n.Data == "a" }) {
		href, _ := attr(a, "href")
		out = append(out, href)
	}
	return out
}

// The quick switcher offers what the user may open, best match first, and
// nothing they may not: a private room they are not in stays unknown.
func TestQuickSwitcher(t *testing.T) {
	ts := newTestServer(t)
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	ts.client(t).signup("devon")
	ann.post("/rooms", url.Values{"name": {"design"}})
	ann.post("/rooms", url.Values{"name": {"deploys"}, "private": {"on"}})
	ann.post("/rooms", url.Values{"name": {"random"}})
	bob.get("/dm/ann")

	res := bob.get("/go?q=de")
	expectStatus(t, res, http.StatusOK)
	got := goLinks(t, res.body)
	if len(got) == 0 || got[0] != "/rooms/design" {
		t.Errorf("bob's /go?q=de: %v, want /rooms/design first", got)
	}
	for _, l := range got {
		if l == "/rooms/deploys" {
			t.Error("bob is offered a private room he is not in")
		}
	}
	if !strings.Contains(strings.Join(got, " "), "/dm/devon") {
		t.Errorf("bob's /go?q=de does not offer devon: %v", got)
	}
	if got := goLinks(t, ann.get("/go?q=dpl").body); len(got) == 0 || got[0] != "/rooms/deploys" {
		t.Errorf("ann's fuzzy /go?q=dpl: %v, want /rooms/deploys first", got)
	}
	// The conversation with ann, by her name; once, though she is a person too.
	if got := goLinks(t, bob.get("/go?q=ann").body); len(got) != 1 || got[0] != "/dm/ann" {
		t.Errorf("bob's /go?q=ann: %v", got)
	}
	// htmx asks for the list alone.
	res = bob.do("GET", "/go?q=rand", nil, map[string]string{"HX-Request": "true"})
	if expectStatus(t, res, http.StatusOK); strings.Contains(res.body, "<html") || !strings.Contains(res.body, `href="/rooms/random"`) {
		t.Errorf("the list alone: %.500s", res.body)
	}
	// Whatever is typed is text: no pattern of SQL's, no markup.
	for _, q := range []string{"%", "_", `\`, "%_%", "<script>", strings.Repeat("x", 500)} {
		res := bob.get("/go?q=" + url.QueryEscape(q))
		expectStatus(t, res, http.StatusOK)
		if got := goLinks(t, res.body); len(got) != 0 {
			t.Errorf("/go?q=%q offers %v", q, got)
		}
		if strings.Contains(res.body, "<script>") {
			t.Errorf("/go?q=%q writes the query as markup", q)
		}
	}
	// Not UTF-8: dropped, leaving an empty box, which lists everything.
	expectStatus(t, bob.get("/go?q=%ff"), http.StatusOK)
	if !strings.Contains(bob.get("/rooms/general").body, `id="go-link"`) {
		t.Error("the sidebar does not link the switcher")
	}
	expectStatus(t, ts.client(t).get("/go?q=a"), http.StatusSeeOther)
}
