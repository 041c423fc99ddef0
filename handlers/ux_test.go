package handlers_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/net/html"
)

// gunzip decompresses a gzip body, failing the test if it is not gzip.
func gunzip(t *testing.T, body string) string {
	t.Helper()
	r, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return string(b)
}

func TestPagesAndAssetsAreCompressed(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t).signup("ann")
	gz := map[string]string{"Accept-Encoding": "gzip"}
	res := c.do("GET", "/rooms/general", nil, gz)
	expectStatus(t, res, http.StatusOK)
	if res.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("the room page is not compressed: Content-Encoding %q", res.header.Get("Content-Encoding"))
	}
	page := gunzip(t, res.body)
	if !strings.Contains(page, `id="messages"`) {
		t.Fatalf("the decompressed room page has no #messages: %.300s", page)
	}
	if len(res.body) > len(page)/2 {
		t.Errorf("the room page is %d bytes compressed of %d: want half or less", len(res.body), len(page))
	}
	src := regexp.MustCompile(`src="(/assets/vendor/htmx\.min\.js\?v=[0-9a-f]+)"`).FindStringSubmatch(page)
	if src == nil {
		t.Fatal("the room page loads no versioned htmx")
	}
	res = c.do("GET", src[1], nil, gz)
	expectStatus(t, res, http.StatusOK)
	if res.header.Get("Content-Encoding") != "gzip" || !strings.Contains(gunzip(t, res.body), "htmx") {
		t.Errorf("htmx is not served compressed: Content-Encoding %q", res.header.Get("Content-Encoding"))
	}
	if cc := res.header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") {
		t.Errorf("a versioned asset has Cache-Control %q, want a year, immutable", cc)
	}
	// Without Accept-Encoding: plain.
	req, _ := http.NewRequest("GET", ts.URL+"/login", nil)
	req.Header.Set("Accept-Encoding", "identity")
	plain, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(plain.Body)
	plain.Body.Close()
	if plain.Header.Get("Content-Encoding") != "" || !bytes.Contains(b, []byte("<form")) {
		t.Errorf("a client that does not accept gzip got Content-Encoding %q", plain.Header.Get("Content-Encoding"))
	}
}

// A browser that takes zstd gets it; one that refuses a coding (q=0) or
// names none it knows gets gzip or a plain body; short answers are plain.
func TestCompressionIsNegotiated(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t).signup("ann")
	res := c.do("GET", "/rooms/general", nil, map[string]string{"Accept-Encoding": "gzip, deflate, br, zstd"})
	expectStatus(t, res, http.StatusOK)
	if res.header.Get("Content-Encoding") != "zstd" {
		t.Fatalf("a browser that takes zstd got Content-Encoding %q", res.header.Get("Content-Encoding"))
	}
	if !strings.Contains(res.header.Get("Vary"), "Accept-Encoding") {
		t.Errorf("Vary is %q: caches would mix codings", res.header.Get("Vary"))
	}
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	page, err := dec.DecodeAll([]byte(res.body), nil)
	if err != nil {
		t.Fatalf("the zstd body does not decode: %v", err)
	}
	if !bytes.Contains(page, []byte(`id="composer"`)) || !bytes.HasSuffix(bytes.TrimSpace(page), []byte("</html>")) {
		t.Fatalf("the decoded page is not whole: %d bytes, ends %q", len(page), page[max(len(page)-40, 0):])
	}
	if len(res.body) > len(page)/2 {
		t.Errorf("the page is %d bytes as zstd of %d", len(res.body), len(page))
	}
	for header, want := range map[string]string{
		"zstd;q=0, gzip": "gzip",
		"gzip;q=0":       "",
		"br":             "",
		"*":              "zstd",
		"*, zstd;q=0":    "gzip",
		"GZIP; q=0.5":    "gzip",
	} {
		res := c.do("GET", "/rooms/general", nil, map[string]string{"Accept-Encoding": header})
		expectStatus(t, res, http.StatusOK)
		if got := res.header.Get("Content-Encoding"); got != want {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", header, got, want)
		}
	}
	// A redirect's few bytes are not worth a coding.
	res = c.do("POST", "/rooms/general/messages", url.Values{"body": {"hello"}}, map[string]string{"Accept-Encoding": "zstd"})
	expectStatus(t, res, http.StatusSeeOther)
	if got := res.header.Get("Content-Encoding"); got != "" {
		t.Errorf("a redirect came with Content-Encoding %q", got)
	}
}

// The room page's message and member lists are compressed once per room
// version and sent between the page's own parts, compressed per page: in
// every coding, for readers in different languages, the page decodes to
// the same bytes as the plain one, and a message sent shows on the next
// page at once.
func TestRoomPageIsTheSameInEveryCoding(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	carol := ts.client(t).signup("carol")
	for i, c := range []*client{ann, bob, carol, ann, bob, carol} {
		c.get("/rooms/general")
		c.postMessage("general", fmt.Sprintf("message %d with **bold**, https://example.com/%d and @ann", i, i))
	}
	zd, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zd.Close()
	// Each page has a fresh client_msg_id for its composer.
	msgID := regexp.MustCompile(`name="client_msg_id" value="[^"]*"`)
	page := func(c *client, lang, coding string) string {
		t.Helper()
		h := map[string]string{"Accept-Language": lang, "Accept-Encoding": coding}
		if coding == "" {
			h["Accept-Encoding"] = "identity"
		}
		res := c.do("GET", "/rooms/general", nil, h)
		expectStatus(t, res, http.StatusOK)
		if got := res.header.Get("Content-Encoding"); got != coding {
			t.Fatalf("Accept-Encoding %q: Content-Encoding %q", coding, got)
		}
		if n := res.header.Get("Content-Length"); n != strconv.Itoa(len(res.body)) {
			t.Errorf("Content-Length %q of a %d-byte body", n, len(res.body))
		}
		body := res.body
		switch coding {
		case "gzip":
			body = gunzip(t, body)
		case "zstd":
			b, err := zd.DecodeAll([]byte(body), nil)
			if err != nil {
				t.Fatalf("%s's page in %s does not decode from zstd: %v", lang, coding, err)
			}
			body = string(b)
		}
		return msgID.ReplaceAllString(body, `name="client_msg_id" value=""`)
	}
	for _, c := range []*client{ann, bob, carol} {
		c.get("/rooms/general") // now read: no "new messages" line on the pages compared
		for _, lang := range []string{"en", "de", "fr"} {
			plain := page(c, lang, "")
			if !strings.Contains(plain, "message 5 with") || !strings.Contains(plain, `lang="`+lang+`"`) {
				t.Fatalf("the plain page in %s lacks the last message or its language:\n%.400s", lang, plain)
			}
			for _, coding := range []string{"zstd", "gzip"} {
				if got := page(c, lang, coding); got != plain {
					t.Errorf("the page in %s as %s decodes to %d bytes unlike the plain page's %d", lang, coding, len(got), len(plain))
				}
			}
		}
	}
	ann.postMessage("general", "one more after the pages were cached")
	if got := page(bob, "en", "zstd"); !strings.Contains(got, "one more after the pages were cached") {
		t.Errorf("the page after a new message lacks it:\n%.400s", got)
	}
	if got := page(bob, "en", "gzip"); got != page(bob, "en", "") {
		t.Errorf("the page after a new message differs as gzip from the plain page")
	}
}

// A socket handshake that says it accepts gzip (browsers do) is not
// compressed: the connection works and carries messages.
func TestSocketUpgradeIsNotCompressed(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t).signup("ann")
	c.get("/rooms/general")
	conn, res, err := c.dialRaw("/rooms/general/ws?after=0", http.Header{"Accept-Encoding": {"gzip, deflate, br"}})
	if err != nil {
		t.Fatalf("dial with Accept-Encoding: gzip: %v", err)
	}
	defer conn.CloseNow()
	if res.StatusCode != http.StatusSwitchingProtocols || res.Header.Get("Content-Encoding") != "" {
		t.Fatalf("handshake: %d, Content-Encoding %q", res.StatusCode, res.Header.Get("Content-Encoding"))
	}
	s := &sock{t: t, conn: conn, seen: map[int64]int{}}
	s.say("through an uncompressed upgrade")
	s.readUntil("through an uncompressed upgrade")
}

func TestSignedOutPagesLoadNoScript(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t)
	for _, path := range []string{"/login", "/signup"} {
		res := c.get(path)
		expectStatus(t, res, http.StatusOK)
		if strings.Contains(res.body, "<script") || strings.Contains(res.body, "htmx-config") {
			t.Errorf("%s loads a script; it is a plain form", path)
		}
		if !strings.Contains(res.body, `rel="manifest"`) {
			t.Errorf("%s does not link the web app manifest", path)
		}
	}
	res := c.get("/assets/manifest.webmanifest")
	expectStatus(t, res, http.StatusOK)
	if ct := res.header.Get("Content-Type"); ct != "application/manifest+json" {
		t.Errorf("the manifest is served as %q", ct)
	}
	for _, icon := range []string{"/assets/icon-192.png", "/assets/icon-512.png"} {
		if res := c.get(icon); res.status != http.StatusOK || !strings.HasPrefix(res.body, "\x89PNG") {
			t.Errorf("%s: %d, not a PNG", icon, res.status)
		}
	}
}

func TestSignedInPagesHaveOneMainAndSkipLinks(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t).signup("ann")
	for _, path := range []string{"/", "/rooms/general", "/search?q=x", "/settings/profile"} {
		page := doc(t, c.get(path).body)
		mains := findAll(page, func(n *html.Node) bool { return n.Data == "main" })
		if len(mains) != 1 {
			t.Errorf("%s has %d main elements, want 1", path, len(mains))
			continue
		}
		if id, _ := attr(mains[0], "id"); id != "main" {
			t.Errorf("%s: main has id %q", path, id)
		}
		skips := findAll(page, func(n *html.Node) bool { v, _ := attr(n, "class"); return v == "skip-link" })
		if len(skips) == 0 {
			t.Errorf("%s has no skip link", path)
		} else if href, _ := attr(skips[0], "href"); href != "#main" {
			t.Errorf("%s: the skip link goes to %q", path, href)
		}
		if len(findAll(page, func(n *html.Node) bool { return n.Data == "h1" })) != 1 {
			t.Errorf("%s has no single h1", path)
		}
	}
	page := doc(t, c.get("/rooms/general").body)
	if findAll(page, func(n *html.Node) bool { v, _ := attr(n, "href"); return n.Data == "a" && v == "#body" }) == nil {
		t.Error("the room page has no skip link to the message box")
	}
	// Without JavaScript nothing says "offline", and times carry their zone.
	status := byID(page, "status")
	if strings.TrimSpace(text(status)) != "" {
		t.Errorf("#status is shown without JavaScript: %q", text(status))
	}
	body := byID(page, "body")
	if ml, _ := attr(body, "maxlength"); ml != "4000" {
		t.Errorf("the composer's maxlength is %q", ml)
	}
	c.postMessage("general", "what time is it")
	page = doc(t, c.get("/rooms/general").body)
	msgs := messages(page)
	last := msgs[len(msgs)-1]
	times := findAll(last, func(n *html.Node) bool { return n.Data == "time" })
	if len(times) == 0 || !strings.HasSuffix(text(times[0]), "UTC") {
		t.Errorf("a message's time without JavaScript reads %q, want its zone", text(times[0]))
	}
}

func TestMessageFragmentCarriesClientIDAndAvatar(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t).signup("ann")
	res := c.post("/rooms/general/messages", url.Values{"body": {"hello"}, "client_msg_id": {"abc123"}})
	expectStatus(t, res, http.StatusSeeOther)
	page := doc(t, c.get("/rooms/general").body)
	msgs := messages(page)
	last := msgs[len(msgs)-1]
	if v, _ := attr(last, "data-client-id"); v != "abc123" {
		t.Errorf("the message carries data-client-id %q, want abc123", v)
	}
	av := findAll(last, func(n *html.Node) bool { v, _ := attr(n, "class"); return v == "avatar" })
	if len(av) != 1 || text(av[0]) != "A" {
		t.Fatalf("the message has no avatar with ann's initial")
	}
	if col, _ := attr(av[0], "data-color"); col == "" {
		t.Error("the avatar has no colour")
	}
}

func TestShortcodesAndMoreReactions(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t).signup("ann")
	c.postMessage("general", "ship it :rocket: :tada: but not `:tada:` nor :unknown:")
	page := doc(t, c.get("/rooms/general").body)
	msgs := messages(page)
	last := msgs[len(msgs)-1]
	if got := text(last); !strings.Contains(got, "ship it 🚀 🎉 but not :tada: nor :unknown:") {
		t.Errorf("shortcodes became %q", got)
	}
	id, _ := attr(last, "data-id")
	res := c.post("/messages/"+id+"/reactions", url.Values{"emoji": {"🚀"}})
	expectStatus(t, res, http.StatusSeeOther)
	res = c.post("/messages/"+id+"/reactions", url.Values{"emoji": {"🦄🦄"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	page = doc(t, c.get("/rooms/general").body)
	body := text(byID(page, "message-"+id))
	if !strings.Contains(body, "🚀 1") || strings.Contains(body, "🦄") {
		t.Errorf("after reacting with 🚀 and 🦄🦄 the message reads %q", body)
	}
	// The menu offers the six at once and the rest a click away.
	menu := c.get("/messages/" + id)
	if !strings.Contains(menu.body, "More reactions") || !strings.Contains(menu.body, "☕") {
		t.Error("the message menu offers no more reactions")
	}
}

func TestTopic(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	ann.get("/rooms/general")
	bob.get("/rooms/general")
	s := bob.dial("general", -1)
	res := ann.post("/rooms/general/topic", url.Values{"topic": {"  Release   planning <b>&</b> more  "}})
	expectStatus(t, res, http.StatusSeeOther)
	s.readUntil(`id="room-topic"`)
	s.readUntil("Release planning &lt;b&gt;&amp;&lt;/b&gt; more</p>")
	s.readUntil("ann set the topic: Release planning")
	page := doc(t, bob.get("/rooms/general").body)
	if got := text(byID(page, "room-topic")); got != "Release planning <b>&</b> more" {
		t.Errorf("the topic reads %q", got)
	}
	for _, bad := range []string{"evil \u202egnp.exe", "bell \x07", strings.Repeat("x", 251)} {
		res := ann.post("/rooms/general/topic", url.Values{"topic": {bad}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
	}
	if got := text(byID(doc(t, bob.get("/rooms/general").body), "room-topic")); got != "Release planning <b>&</b> more" {
		t.Errorf("after refused topics the topic reads %q", got)
	}
	// Not a member of a private room: not found, and nothing changes.
	res = ann.post("/rooms", url.Values{"name": {"secret"}, "private": {"on"}})
	expectStatus(t, res, http.StatusSeeOther)
	res = bob.post("/rooms/secret/topic", url.Values{"topic": {"mine now"}})
	expectStatus(t, res, http.StatusNotFound)
	if strings.Contains(ann.get("/rooms/secret").body, "mine now") {
		t.Error("a non-member set a private room's topic")
	}
	// Clearing says so.
	expectStatus(t, ann.post("/rooms/general/topic", url.Values{"topic": {""}}), http.StatusSeeOther)
	s.readUntil("ann cleared the topic")
}

func TestDeleteAsksFirstWithoutJavaScript(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	ann.postMessage("general", "keep me until I say so")
	id := ann.lastMessage("/rooms/general")
	page := doc(t, ann.get("/messages/"+id).body)
	forms := findAll(page, func(n *html.Node) bool { v, _ := attr(n, "class"); return n.Data == "form" && v == "delete" })
	if len(forms) != 1 {
		t.Fatal("the message page has no delete form")
	}
	if m, _ := attr(forms[0], "method"); m != "get" {
		t.Errorf("the delete form's plain method is %q: without JavaScript it must ask first", m)
	}
	res := ann.get("/messages/" + id + "/delete")
	expectStatus(t, res, http.StatusOK)
	confirm := doc(t, res.body)
	posts := findAll(confirm, func(n *html.Node) bool {
		a, _ := attr(n, "action")
		m, _ := attr(n, "method")
		return n.Data == "form" && a == "/messages/"+id+"/delete" && m == "post"
	})
	if len(posts) != 1 {
		t.Fatal("the confirmation page has no form that deletes")
	}
	if !strings.Contains(ann.get("/rooms/general").body, "keep me until I say so") {
		t.Fatal("asking deleted the message")
	}
	expectStatus(t, bob.get("/messages/"+id+"/delete"), http.StatusForbidden)
	expectStatus(t, ann.post("/messages/"+id+"/delete", url.Values{}), http.StatusSeeOther)
	if strings.Contains(ann.get("/rooms/general").body, "keep me until I say so") {
		t.Error("the confirmed delete did not delete")
	}
}

func TestSidebarFormErrorsKeepThePage(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t).signup("ann")
	res := c.post("/rooms", url.Values{"name": {"!!!"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	page := doc(t, res.body)
	if byID(page, "new-room-error") == nil || byID(page, "nav-lists") == nil {
		t.Fatalf("a refused room name does not show its error beside the form in the app: %.400s", res.body)
	}
	if v, _ := attr(byID(page, "new-room-name"), "value"); v != "!!!" {
		t.Errorf("the refused name is not kept: %q", v)
	}
	res = c.post("/rooms", url.Values{"name": {"General"}})
	expectStatus(t, res, http.StatusConflict)
	if byID(doc(t, res.body), "new-room-error") == nil {
		t.Error("a taken room name shows no error beside the form")
	}
	res = c.get("/dm?username=nobody")
	expectStatus(t, res, http.StatusNotFound)
	if e := byID(doc(t, res.body), "new-dm-error"); e == nil || !strings.Contains(text(e), "nobody") {
		t.Error("an unknown username shows no error beside the message-someone form")
	}
}

func TestSearchSnippetsShowNoMarkup(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t).signup("ann")
	c.postMessage("general", "the **release** is `v2` and _soon_, see snake_case")
	page := doc(t, c.get("/search?q=release").body)
	results := byID(page, "results")
	got := text(results)
	if strings.ContainsAny(got, "*`") || strings.Contains(got, "_soon_") {
		t.Errorf("a search result shows markup: %q", got)
	}
	if !strings.Contains(got, "snake_case") {
		t.Errorf("a search result lost a word's underscore: %q", got)
	}
}
