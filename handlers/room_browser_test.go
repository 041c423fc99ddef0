package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// roomCards lists the room browser's cards in a page: slug -> the card.
func roomCards(t *testing.T, body string) map[string]*html.Node {
	t.Helper()
	out := map[string]*html.Node{}
	list := byID(doc(t, body), "room-browser")
	if list == nil {
		return out
	}
	for _, li := range findAll(list, func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == "li" }) {
		slug, _ := attr(li, "data-slug")
		out[slug] = li
	}
	return out
}

// TestRoomBrowser: /rooms (and the lobby) list every room the user may join
// or is in, with topic, members and last activity, a Join form for the
// others; a private room shows only to its members; ?q= finds by name; and
// the Join form joins.
func TestRoomBrowser(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	expectStatus(t, ann.post("/rooms", url.Values{"name": {"Design reviews"}}), http.StatusSeeOther)
	expectStatus(t, ann.post("/rooms/design-reviews/topic", url.Values{"topic": {"<b>Mockups</b> on Thursdays"}}), http.StatusSeeOther)
	ann.postMessage("design-reviews", "first mockup is up")
	expectStatus(t, ann.post("/rooms", url.Values{"name": {"Payroll"}, "private": {"on"}}), http.StatusSeeOther)

	res := bob.get("/rooms")
	expectStatus(t, res, http.StatusOK)
	cards := roomCards(t, res.body)
	if _, ok := cards["payroll"]; ok {
		t.Error("bob sees ann's private room in the browser")
	}
	design := cards["design-reviews"]
	if design == nil {
		t.Fatalf("no card for design-reviews:\n%.2000s", res.body)
	}
	txt := text(design)
	for _, want := range []string{"Design reviews", "<b>Mockups</b> on Thursdays", "1 member", "last active"} {
		if !strings.Contains(txt, want) {
			t.Errorf("the card says %q, want %q in it", txt, want)
		}
	}
	if strings.Contains(res.body, "<b>Mockups") {
		t.Error("the topic is not escaped")
	}
	forms := findAll(design, func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == "form" })
	if len(forms) != 1 {
		t.Fatalf("the card of a room bob is not in has %d forms, want a Join form", len(forms))
	}
	if action, _ := attr(forms[0], "action"); action != "/rooms/design-reviews/join" {
		t.Errorf("the Join form posts to %q", action)
	}

	// The lobby shows the same list.
	if lobby := roomCards(t, bob.get("/").body); lobby["design-reviews"] == nil || lobby["general"] == nil {
		t.Errorf("the lobby's browser lists %d rooms, want general and design-reviews", len(lobby))
	}

	// Search by name, in any case; nothing found says so.
	if found := roomCards(t, bob.get("/rooms?q=DESIGN").body); len(found) != 1 || found["design-reviews"] == nil {
		t.Errorf("?q=DESIGN finds %v", found)
	}
	none := bob.get("/rooms?q=" + url.QueryEscape("<nope>"))
	expectStatus(t, none, http.StatusOK)
	if byID(doc(t, none.body), "no-rooms") == nil || strings.Contains(none.body, "<nope>") {
		t.Errorf("a search that finds nothing does not say so, or echoes unescaped:\n%.1500s", none.body)
	}

	// Join from the browser: the room opens and its card says Open.
	join := bob.post("/rooms/design-reviews/join", nil)
	expectStatus(t, join, http.StatusSeeOther)
	after := roomCards(t, bob.get("/rooms").body)["design-reviews"]
	if after == nil || !strings.Contains(text(after), "2 members") || len(findAll(after, func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == "form" })) != 0 {
		t.Errorf("after joining, the card is %q with a form still", text(after))
	}
	// Ann sees her private room, and may open it.
	if mine := roomCards(t, ann.get("/rooms").body)["payroll"]; mine == nil || !strings.Contains(text(mine), "private") {
		t.Error("ann does not see her private room in the browser")
	}
	// Signed out: to the login page.
	if res := ts.client(t).get("/rooms"); res.status != http.StatusSeeOther {
		t.Errorf("signed out, /rooms answers %d", res.status)
	}
}

// TestQuoteLink: a message's menu has Quote and Copy link; Quote without
// JavaScript opens the room with the message quoted in the composer, only
// for a message of that room.
func TestQuoteLink(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	ann.postMessage("general", "first line\nsecond <line>")
	msgs := messages(doc(t, ann.get("/rooms/general").body))
	if len(msgs) == 0 {
		t.Fatal("no message")
	}
	last := msgs[len(msgs)-1]
	domID, _ := attr(last, "id")
	id := strings.TrimPrefix(domID, "message-")

	menu := ann.do("GET", "/messages/"+id, nil, map[string]string{"HX-Request": "true"})
	expectStatus(t, menu, http.StatusOK)
	for _, want := range []string{`class="quote" href="/rooms/general?quote=` + id + `#body"`,
		`class="copy-link" href="/rooms/general?around=` + id + `#message-` + id + `"`} {
		if !strings.Contains(menu.body, want) {
			t.Errorf("the menu has no %s:\n%s", want, menu.body)
		}
	}

	page := ann.get("/rooms/general?quote=" + id)
	expectStatus(t, page, http.StatusOK)
	if got := text(byID(doc(t, page.body), "body")); got != "> first line\n> second <line>\n" {
		t.Errorf("the composer holds %q, want the message quoted", got)
	}
	// A message of another room is not quoted there; a bad id is refused.
	expectStatus(t, ann.post("/rooms", url.Values{"name": {"elsewhere"}}), http.StatusSeeOther)
	if got := text(byID(doc(t, ann.get("/rooms/elsewhere?quote="+id).body), "body")); got != "" {
		t.Errorf("a message of general is quoted in another room: %q", got)
	}
	expectStatus(t, ann.get("/rooms/general?quote=x"), http.StatusUnprocessableEntity)
}
