package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// resultTexts are the texts of a search page's results.
func resultTexts(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	for _, n := range findAll(doc(t, body), func(n *html.Node) bool { c, _ := attr(n, "class"); return c == "result-link" }) {
		out = append(out, text(n))
	}
	return out
}

// The search page's filters, typed into the box or chosen in its fields,
// narrow what the access policy lets a user find; a filter's bad value is
// refused with a message, a word typed like a filter that is not one is
// searched for as text and the page says so.
func TestSearchFilters(t *testing.T) {
	ts := newTestServer(t)
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	ann.postMessage("general", "deploy checklist from ann")
	bob.postMessage("general", "deploy notes from bob https://example.com/notes")
	ann.post("/rooms", url.Values{"name": {"ops"}, "private": {"on"}})
	ann.postMessage("ops", "deploy secrets")
	ann.get("/dm/bob")
	ann.postMessage("dm-1-2", "deploy between us")

	for _, tc := range []struct {
		who   *client
		query string
		want  []string
	}{
		{bob, "q=deploy+from:ann", []string{"deploy between us", "deploy checklist from ann"}},
		{bob, "q=deploy&from=ann&in=%23general", []string{"deploy checklist from ann"}},
		{bob, "q=deploy&in=@ann", []string{"deploy between us"}},
		{bob, "q=deploy+in:%23ops", nil},
		{ann, "q=deploy+in:%23ops", []string{"deploy secrets"}},
		{bob, "q=deploy&has=link", []string{"deploy notes from bob https://example.com/notes"}},
		{bob, "q=deploy+-checklist+-us", []string{"deploy notes from bob https://example.com/notes"}},
		{bob, "q=%22notes+from%22", []string{"deploy notes from bob https://example.com/notes"}},
		{bob, "q=&from=bob+ann&in=general", []string{"deploy notes from bob https://example.com/notes", "deploy checklist from ann"}},
	} {
		res := tc.who.get("/search?" + tc.query)
		expectStatus(t, res, http.StatusOK)
		got := resultTexts(t, res.body)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s: got %q, want %q", tc.query, got, tc.want)
		}
	}

	// The fields keep what was chosen, and the filters show open.
	page := doc(t, bob.get("/search?q=deploy&from=ann&has=link&after=2020-01-02").body)
	for name, want := range map[string]string{"from": "ann", "after": "2020-01-02"} {
		in := findAll(page, func(n *html.Node) bool { v, _ := attr(n, "name"); return n.Data == "input" && v == name })
		if len(in) != 1 {
			t.Fatalf("no field %s", name)
		}
		if v, _ := attr(in[0], "value"); v != want {
			t.Errorf("field %s holds %q, want %q", name, v, want)
		}
	}
	if sel := findAll(page, func(n *html.Node) bool {
		_, s := attr(n, "selected")
		v, _ := attr(n, "value")
		return s && v == "link"
	}); len(sel) != 1 {
		t.Error("has=link is not selected in its field")
	}
	if d := findAll(page, func(n *html.Node) bool { _, open := attr(n, "open"); return n.Data == "details" && open }); len(d) != 1 {
		t.Error("the filters are closed though some are set")
	}

	// A filter's bad value: 422, the page says what it takes, the text stays.
	for q, says := range map[string]string{
		"q=deploy+before:yesterday": "YYYY-MM-DD",
		"q=deploy&on=2026-02-30":    "YYYY-MM-DD",
		"q=has:photo":               "file, image or link",
		"q=is:starred":              "pinned, saved or thread",
		"q=from:ann%3Cscript%3E":    "username",
	} {
		res := bob.get("/search?" + q)
		expectStatus(t, res, http.StatusUnprocessableEntity)
		page := doc(t, res.body)
		if e := byID(page, "form-error"); e == nil || !strings.Contains(text(e), says) {
			t.Errorf("%s: the page does not say %q", q, says)
		}
		if len(resultTexts(t, res.body)) != 0 {
			t.Errorf("%s: results shown for a query that was refused", q)
		}
		if in := byID(page, "search-page-q"); in == nil {
			t.Errorf("%s: no search box", q)
		} else if v, _ := attr(in, "value"); !strings.Contains(q, url.QueryEscape(v)) && !strings.Contains(q, strings.ReplaceAll(url.QueryEscape(v), "%3A", ":")) {
			t.Errorf("%s: the box holds %q", q, v)
		}
	}

	// FTS5 and tsquery syntax is text; an unknown filter is named.
	res := bob.get("/search?q=" + url.QueryEscape(`body:deploy NEAR(checklist) "from ann`))
	expectStatus(t, res, http.StatusOK)
	if n := byID(doc(t, res.body), "search-notice"); n == nil || !strings.Contains(text(n), `"body:"`) {
		t.Error("the page does not say that body: is not a filter")
	}
	for _, q := range []string{`{body}:deploy`, `deploy*`, `(deploy)`, `deploy AND NOT x`, `'deploy' & !x`, `deploy:*`, `"deploy" ^ -`} {
		expectStatus(t, bob.get("/search?q="+url.QueryEscape(q)), http.StatusOK)
	}

	// The API: the same syntax, JSON, only what the token's user may read.
	api := ts.api(t, bob.makeToken("search"))
	var out struct {
		Results []struct {
			Message struct {
				Body   string `json:"body"`
				Author string `json:"author"`
				Room   string `json:"room"`
			} `json:"message"`
			Snippet string `json:"snippet"`
			With    string `json:"with"`
		} `json:"results"`
		Notice string `json:"notice"`
	}
	// x:y is searched for as text, which no message holds.
	r := api.call(http.MethodGet, "/api/v1/search?q="+url.QueryEscape("deploy from:ann x:y"), nil)
	if r.json(t, &out); r.status != http.StatusOK || len(out.Results) != 0 || !strings.Contains(out.Notice, `"x:"`) {
		t.Errorf("API search with an unknown filter: %d %s", r.status, r.body)
	}
	r = api.call(http.MethodGet, "/api/v1/search?q="+url.QueryEscape("deploy from:ann"), nil)
	out.Results = nil
	r.json(t, &out)
	if len(out.Results) != 2 || out.Results[0].With != "ann" || out.Results[1].Message.Room != "general" {
		t.Errorf("API search from:ann: %s", r.body)
	}
	for _, q := range []string{"deploy+in:%23ops", "in:@nobody"} {
		r = api.call(http.MethodGet, "/api/v1/search?q="+q, nil)
		out.Results = nil
		if r.json(t, &out); r.status != http.StatusOK || len(out.Results) != 0 {
			t.Errorf("API search %s: %d %s", q, r.status, r.body)
		}
	}
	for _, q := range []string{"before:tomorrow", "", "has:photo", strings.Repeat("a", 300)} {
		r = api.call(http.MethodGet, "/api/v1/search?q="+url.QueryEscape(q), nil)
		if r.status != http.StatusUnprocessableEntity || r.errCode(t) != "invalid" {
			t.Errorf("API search %q: %d %s", q, r.status, r.body)
		}
	}
	if r := ts.api(t, "").call(http.MethodGet, "/api/v1/search?q=deploy", nil); r.status != http.StatusUnauthorized {
		t.Errorf("API search without a token: %d", r.status)
	}
}

// A result shows the message as the room does (bold, code, a quote, a
// mention) with the words found marked; a link in it is text, since the
// whole result links to the message; a matched word in markup-looking text
// stays text.
func TestSearchResultsKeepFormatting(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	ts.client(t).signup("bob")
	ann.postMessage("general", "**rollout** today, ask @bob, see `rollout.sh` and https://example.com/rollout")
	ann.postMessage("general", "> rollout quoted\n<script>alert(1)</script> rollout")

	page := doc(t, ann.get("/search?q=rollout").body)
	links := findAll(page, func(n *html.Node) bool { c, _ := attr(n, "class"); return c == "result-link" })
	if len(links) != 2 {
		t.Fatalf("%d results for rollout, want 2", len(links))
	}
	tags := func(n *html.Node) map[string]int {
		seen := map[string]int{}
		for _, el := range findAll(n, func(n *html.Node) bool { return n.Type == html.ElementNode }) {
			seen[el.Data]++
		}
		return seen
	}
	quoted, formatted := links[0], links[1]
	got := tags(formatted)
	if got["strong"] != 1 || got["code"] != 1 || got["a"] != 0 || got["mark"] < 2 {
		t.Errorf("the formatted result has %v; want a strong, a code, marks and no link inside the link", got)
	}
	if !strings.Contains(text(formatted), "https://example.com/rollout") || !strings.Contains(text(formatted), "@bob") {
		t.Errorf("the formatted result reads %q", text(formatted))
	}
	got = tags(quoted)
	if got["blockquote"] != 1 || got["script"] != 0 || got["mark"] < 1 {
		t.Errorf("the quoted result has %v; want a blockquote, marks and no script", got)
	}
	if !strings.Contains(text(quoted), "<script>alert(1)</script>") {
		t.Errorf("the quoted result reads %q; want the script shown as text", text(quoted))
	}
}
