package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"agora/chat"
)

func TestRoomPageHasTheContractShape(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t).signup("ann")
	res := c.get("/rooms/general")
	expectStatus(t, res, http.StatusOK)
	page := doc(t, res.body)
	list := byID(page, "messages")
	if list == nil {
		t.Fatal("no #messages")
	}
	if role, _ := attr(list, "role"); role != "log" {
		t.Errorf("#messages role=%q, want log", role)
	}
	form := byID(page, "composer")
	if form == nil {
		t.Fatal("no #composer")
	}
	if a, _ := attr(form, "action"); a != "/rooms/general/messages" {
		t.Errorf("composer action %q", a)
	}
	if m, _ := attr(form, "method"); m != "post" {
		t.Errorf("composer method %q", m)
	}
	if len(findAll(form, func(n *html.Node) bool { v, _ := attr(n, "name"); return n.Data == "textarea" && v == "body" })) != 1 {
		t.Error("composer has no textarea named body")
	}
	if len(findAll(page, func(n *html.Node) bool { v, _ := attr(n, "ws-connect"); return v == "/rooms/general/ws" })) != 1 {
		t.Error("no element connects to /rooms/general/ws")
	}
	for _, id := range []string{"presence", "typing", "status"} {
		if byID(page, id) == nil {
			t.Errorf("no #%s", id)
		}
	}
	// Every input has a label.
	for _, in := range findAll(page, func(n *html.Node) bool {
		typ, _ := attr(n, "type")
		return (n.Data == "input" || n.Data == "textarea") && typ != "hidden" && typ != "checkbox"
	}) {
		id, _ := attr(in, "id")
		if id == "" || len(findAll(page, func(n *html.Node) bool { v, _ := attr(n, "for"); return n.Data == "label" && v == id })) == 0 {
			t.Errorf("input %v has no label", in.Attr)
		}
	}
}

func TestPostAMessageWithoutJavaScript(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t).signup("ann")
	c.postMessage("general", "  hello,\nworld  ")
	page := doc(t, c.get("/rooms/general").body)
	msgs := messages(byID(page, "messages"))
	last := msgs[len(msgs)-1]
	if got := text(last); !strings.Contains(got, "hello,\nworld") || !strings.Contains(got, "ann") {
		t.Errorf("last message reads %q", got)
	}
	if len(findAll(last, func(n *html.Node) bool { _, ok := attr(n, "datetime"); return n.Data == "time" && ok })) != 1 {
		t.Error("the message has no <time datetime>")
	}
	// With htmx the same post answers 204 and no redirect.
	res := c.do("POST", "/rooms/general/messages", url.Values{"body": {"via htmx"}}, map[string]string{"HX-Request": "true"})
	expectStatus(t, res, http.StatusNoContent)
}

func TestRefusedMessagesStoreNothingAndKeepTheText(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t).signup("ann")
	c.postMessage("general", "the one good message")
	countBefore := len(messages(doc(t, c.get("/rooms/general").body)))
	for _, tc := range []struct{ name, body, says string }{
		{"empty", "", "empty"},
		{"blank", " \n\t ", "empty"},
		{"too long", strings.Repeat("x", 4001), "limit is 4000"},
		{"invalid UTF-8", "bad \xff\xfe bytes", "UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := c.post("/rooms/general/messages", url.Values{"body": {tc.body}})
			expectStatus(t, res, http.StatusUnprocessableEntity)
			page := doc(t, res.body)
			if e := byID(page, "composer-error"); e == nil || !strings.Contains(text(e), tc.says) {
				t.Errorf("no error saying %q", tc.says)
			}
			if tc.name == "too long" {
				if ta := findAll(page, func(n *html.Node) bool { return n.Data == "textarea" }); len(ta) == 0 || text(ta[0]) != tc.body {
					t.Error("the refused text was not kept in the composer")
				}
			}
		})
	}
	if got := len(messages(doc(t, c.get("/rooms/general").body))); got != countBefore {
		t.Fatalf("%d messages after refusals, want %d", got, countBefore)
	}
}

func TestLoadOlderMessages(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t).signup("ann")
	c.get("/rooms/general")
	ann, _ := ts.store.UserByUsername(context.Background(), "ann")
	general, _ := ts.store.RoomBySlug(context.Background(), "general")
	for i := range 60 {
		if _, _, err := ts.store.CreateMessage(context.Background(), chat.Message{RoomID: general.ID, AuthorID: ann.ID, Body: fmt.Sprintf("message number %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	page := doc(t, c.get("/rooms/general").body)
	msgs := messages(byID(page, "messages"))
	if len(msgs) != 50 || !strings.Contains(text(msgs[49]), "message number 59") {
		t.Fatalf("the room shows %d messages, the last %q", len(msgs), text(msgs[len(msgs)-1]))
	}
	older := byID(page, "load-older")
	if older == nil {
		t.Fatal("no load-older link")
	}
	href, _ := attr(older, "href")
	hxGet, _ := attr(older, "hx-get")
	first, _ := attr(msgs[0], "data-id")
	if href != "/rooms/general?before="+first || hxGet != "/rooms/general/messages?before="+first {
		t.Errorf("load-older href=%q hx-get=%q", href, hxGet)
	}
	// The plain link shows the older window; the fragment the same messages.
	plain := messages(byID(doc(t, c.get(href).body), "messages"))
	frag := c.get(hxGet)
	expectStatus(t, frag, http.StatusOK)
	if strings.Contains(frag.body, "<html") {
		t.Error("the older page is a whole document, not a fragment")
	}
	fragMsgs := messages(doc(t, frag.body))
	if len(plain) != len(fragMsgs) || len(fragMsgs) == 0 {
		t.Fatalf("plain older page has %d, fragment %d", len(plain), len(fragMsgs))
	}
	last, _ := attr(fragMsgs[len(fragMsgs)-1], "data-id")
	if last >= first && len(last) >= len(first) {
		t.Errorf("older page ends at %s, not before %s", last, first)
	}
	expectStatus(t, c.get("/rooms/general/messages?before=abc"), http.StatusUnprocessableEntity)
}

func TestCreateRoomsPublicAndPrivate(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")

	res := ann.post("/rooms", url.Values{"name": {"Design Review"}})
	expectStatus(t, res, http.StatusSeeOther)
	if loc := res.header.Get("Location"); loc != "/rooms/design-review" {
		t.Fatalf("new room at %q", loc)
	}
	expectStatus(t, bob.get("/rooms/design-review"), http.StatusOK)
	// A public room is in everyone's lobby; the sidebar lists the rooms one
	// is in, so it joins bob's once he opens it.
	ann.post("/rooms", url.Values{"name": {"Launch"}})
	lobby := bob.get("/").body
	if !strings.Contains(lobby, `href="/rooms/launch"`) {
		t.Error("a public room is missing from another user's lobby")
	}
	var sidebar strings.Builder
	if nav := byID(doc(t, lobby), "nav-lists"); nav != nil {
		html.Render(&sidebar, nav)
	}
	if strings.Contains(sidebar.String(), `href="/rooms/launch"`) || !strings.Contains(sidebar.String(), `href="/rooms/design-review"`) {
		t.Errorf("bob's sidebar should list design-review (opened) and not launch:\n%s", sidebar.String())
	}
	expectStatus(t, ann.post("/rooms", url.Values{"name": {"design review"}}), http.StatusConflict)
	expectStatus(t, ann.post("/rooms", url.Values{"name": {"  "}}), http.StatusUnprocessableEntity)

	ann.post("/rooms", url.Values{"name": {"Secret"}, "private": {"on"}})
	ann.postMessage("secret", "for members only")
	if strings.Contains(bob.get("/").body, "/rooms/secret") {
		t.Error("a private room is listed to a non-member")
	}
	// A non-member gets 404 everywhere, and nothing changes.
	for _, res := range []response{
		bob.get("/rooms/secret"),
		bob.get("/rooms/secret/messages?before=1000"),
		bob.post("/rooms/secret/messages", url.Values{"body": {"let me in"}}),
		bob.get("/rooms/secret/ws"),
	} {
		expectStatus(t, res, http.StatusNotFound)
		if strings.Contains(res.body, "for members only") {
			t.Error("a non-member saw a private message")
		}
	}
	if strings.Contains(ann.get("/rooms/secret").body, "let me in") {
		t.Error("a non-member's message was stored")
	}
	expectStatus(t, ann.get("/rooms/nope"), http.StatusNotFound)
}

func TestJoiningAPublicRoomIsAnnouncedOnce(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	ann.get("/rooms/general")
	ann.get("/rooms/general")
	body := ann.get("/rooms/general").body
	if n := strings.Count(body, "ann joined #general"); n != 1 {
		t.Errorf("join announced %d times", n)
	}
}

func TestProfileRenameIsAnnounced(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	ann.get("/rooms/general")
	res := ann.post("/settings/profile", url.Values{"display_name": {"Ann Lee"}})
	expectStatus(t, res, http.StatusSeeOther)
	body := ann.get("/rooms/general").body
	if !strings.Contains(body, "ann is now known as Ann Lee") {
		t.Error("no rename notice in the room")
	}
	expectStatus(t, ann.post("/settings/profile", url.Values{"display_name": {strings.Repeat("x", 49)}}), http.StatusUnprocessableEntity)
	expectStatus(t, ann.post("/settings/profile", url.Values{"display_name": {"bad\x00name"}}), http.StatusUnprocessableEntity)
}
