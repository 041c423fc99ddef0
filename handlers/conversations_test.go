package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/net/html"

	"agora/chat"
)

// lastMessage returns the id of the newest message on a room page.
func (c *client) lastMessage(path string) string {
	c.t.Helper()
	msgs := messages(doc(c.t, c.get(path).body))
	if len(msgs) == 0 {
		c.t.Fatalf("no messages on %s", path)
	}
	id, _ := attr(msgs[len(msgs)-1], "data-id")
	return id
}

// nextNav waits for the next sidebar the socket is sent and returns it.
func (s *sock) nextNav() string {
	s.t.Helper()
	const marker = `id="nav-lists"`
	n := strings.Count(s.text.String(), marker)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for strings.Count(s.text.String(), marker) <= n {
		_, data, err := s.conn.Read(ctx)
		if err != nil {
			s.t.Fatalf("waiting for a sidebar: %v", err)
		}
		s.record(data)
	}
	all := s.text.String()
	return all[strings.LastIndex(all, marker):]
}

// counts is how the last sidebar fragment in text that shows the room's
// counts shows them: "" for none, else the unread count and "@" and the
// mentions, such as "2 @1", "3" or "@1". ok is false when there is no such
// fragment.
func counts(text string, roomID int64) (string, bool) {
	i := strings.LastIndex(text, fmt.Sprintf(`id="counts-%d"`, roomID))
	if i < 0 {
		return "", false
	}
	frag := text[i+1:]
	if end := strings.IndexAny(frag, "\x00"); end >= 0 {
		frag = frag[:end]
	}
	for _, stop := range []string{`id="counts-`, "</a>"} {
		if end := strings.Index(frag, stop); end >= 0 {
			frag = frag[:end]
		}
	}
	var out []string
	if m := regexp.MustCompile(`title="Unread messages">(\d+\+?)<`).FindStringSubmatch(frag); m != nil {
		out = append(out, m[1])
	}
	if m := regexp.MustCompile(`title="Mentions of you">(@\d+\+?)<`).FindStringSubmatch(frag); m != nil {
		out = append(out, m[1])
	}
	return strings.Join(out, " "), true
}

// roomID is the id of a room the user's sidebar lists, read from a page.
func (c *client) roomID(slug string) int64 {
	c.t.Helper()
	m := regexp.MustCompile(`id="nav-room-(\d+)"><a href="/rooms/` + slug + `"`).FindStringSubmatch(c.get("/").body)
	if m == nil {
		c.t.Fatalf("no room %s in the sidebar", slug)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

// readCounts reads the socket until the last counts of the room it was sent
// (out of band, or in whole lists) are want (see counts), and returns all
// it received.
func (s *sock) readCounts(roomID int64, want string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if got, ok := counts(s.text.String(), roomID); ok && got == want {
			return s.text.String()
		}
		_, data, err := s.conn.Read(ctx)
		if err != nil {
			got, _ := counts(s.text.String(), roomID)
			s.t.Fatalf("waiting for counts %q of room %d (last %q): %v\nreceived so far:\n%.3000s", want, roomID, got, err, s.text.String())
		}
		s.record(data)
	}
}

// One person with two devices, one in #a and one in #b: a message in #c
// shows its badge on both, and reading #c on a third device clears it on
// both, live. Reading is an event, not a redraw.
func TestReadingOnOneDeviceClearsTheBadgeOnEvery(t *testing.T) {
	ts := newTestServer(t)
	checkReadEverywhere(t, ts, ts)
}

// checkReadEverywhere runs the two-device badge story with ann's phone on
// a and her laptop on b (one server, or two nodes of one cluster).
func checkReadEverywhere(t *testing.T, a, b *testServer) {
	t.Helper()
	bob := a.client(t).signup("bob")
	for _, r := range []string{"a", "b", "c"} {
		expectStatus(t, bob.post("/rooms", url.Values{"name": {r}}), http.StatusSeeOther)
	}
	// Three devices, three sessions: the phone on a, the laptop on b, the
	// tablet on a.
	phone := a.client(t).signup("ann")
	laptop, tablet := b.client(t).login("ann"), a.client(t).login("ann")
	for _, r := range []string{"a", "b", "c"} {
		phone.get("/rooms/" + r)
	}
	c := phone.roomID("c")
	inA := phone.dial("a", 0)
	inB := laptop.dial("b", 0)
	inA.readUntil(`id="nav-lists"`)
	inB.readUntil(`id="nav-lists"`)

	bob.postMessage("c", "news in c for @ann")
	bob.postMessage("c", "more news in c")
	inA.readCounts(c, "2 @1")
	inB.readCounts(c, "2 @1")

	// The tablet opens #c: read up to its latest message.
	expectStatus(t, tablet.get("/rooms/c"), http.StatusOK)
	inA.readCounts(c, "")
	inB.readCounts(c, "")
	// And the pages they load next agree.
	for _, cl := range []*client{phone, laptop} {
		if page := cl.get("/rooms/a").body; strings.Contains(page, `id="unread-c"`) {
			t.Errorf("a page after reading still counts #c unread")
		}
	}
}

func TestDirectMessages(t *testing.T) {
	ts := newTestServer(t)
	ann, bob, carol := ts.client(t).signup("ann"), ts.client(t).signup("bob"), ts.client(t).signup("carol")

	res := ann.get("/dm/Bob")
	expectStatus(t, res, http.StatusOK)
	page := doc(t, res.body)
	if h := findAll(page, func(n *html.Node) bool { return n.Data == "h1" }); len(h) == 0 || text(h[0]) != "@bob" {
		t.Fatal("the DM page is not titled @bob")
	}
	form := byID(page, "composer")
	action, _ := attr(form, "action")
	ann.postMessage(strings.TrimSuffix(strings.TrimPrefix(action, "/rooms/"), "/messages"), "just between us")
	slug := strings.TrimSuffix(strings.TrimPrefix(action, "/rooms/"), "/messages")

	// Bob's sidebar lists the conversation by ann's name, and it is the same one.
	lobby := doc(t, bob.get("/").body)
	if dm := byID(lobby, "dm-list"); dm == nil || !strings.Contains(text(dm), "ann") {
		t.Error("bob's sidebar does not list the DM with ann")
	}
	if !strings.Contains(bob.get("/dm/ann").body, "just between us") {
		t.Error("bob's side of the DM lacks ann's message")
	}
	// Carol can neither read, post to, nor connect to it.
	for _, res := range []response{
		carol.get("/rooms/" + slug),
		carol.post("/rooms/"+slug+"/messages", url.Values{"body": {"intrude"}}),
		carol.get("/rooms/" + slug + "/messages?before=999"),
		carol.get("/rooms/" + slug + "/ws"),
	} {
		expectStatus(t, res, http.StatusNotFound)
		if strings.Contains(res.body, "just between us") {
			t.Error("carol saw the DM")
		}
	}
	expectStatus(t, ann.get("/dm/nobody"), http.StatusNotFound)
	expectStatus(t, ann.post("/rooms", url.Values{"name": {"dm 1 2"}}), http.StatusUnprocessableEntity)

	// Bob's sidebar shows ann online or away, live.
	bob.get("/rooms/general")
	watcher := bob.dial("general", -1)
	annAway := ann.dial(slug, -1)
	watcher.readNavUntil("ann's dot lit", func(nav string) bool { return dmDot(nav, "ann") == "lit" })
	annAway.conn.Close(websocket.StatusNormalClosure, "")
	watcher.readNavUntil("ann's dot out", func(nav string) bool { return dmDot(nav, "ann") == "out" })

	// Live, both ways.
	a, b := ann.dial(slug, -1), bob.dial(slug, -1)
	a.say("ping")
	b.readUntil("ping")
	b.say("pong")
	a.readUntil("pong")
}

func TestPrivateRoomMembers(t *testing.T) {
	ts := newTestServer(t)
	ann, bob, carol := ts.client(t).signup("ann"), ts.client(t).signup("bob"), ts.client(t).signup("carol")
	ann.post("/rooms", url.Values{"name": {"core"}, "private": {"on"}})
	expectStatus(t, bob.get("/rooms/core"), http.StatusNotFound)
	expectStatus(t, carol.post("/rooms/core/members", url.Values{"username": {"carol"}}), http.StatusNotFound)
	expectStatus(t, ann.post("/rooms/core/members", url.Values{"username": {"nobody"}}), http.StatusNotFound)

	expectStatus(t, ann.post("/rooms/core/members", url.Values{"username": {"bob"}}), http.StatusSeeOther)
	if !strings.Contains(bob.get("/").body, `href="/rooms/core"`) {
		t.Error("the room is not in bob's sidebar after he was added")
	}
	if !strings.Contains(bob.get("/rooms/core").body, "ann added bob to #core") {
		t.Error("no notice of the addition")
	}
	s := bob.dial("core", -1)
	s.readUntil(`data-user="bob"`)
	expectStatus(t, bob.post("/rooms/core/leave", nil), http.StatusSeeOther)
	s.expectClose(1008)
	if strings.Contains(bob.get("/").body, `href="/rooms/core"`) {
		t.Error("the private room stayed in bob's sidebar after he left")
	}
	expectStatus(t, bob.get("/rooms/core"), http.StatusNotFound)

	// The creator removes a member: their socket closes and the room leaves
	// their sidebar, live. Nobody else may remove, and nobody from a room
	// they cannot see.
	ann.post("/rooms/core/members", url.Values{"username": {"bob"}})
	ann.post("/rooms/core/members", url.Values{"username": {"carol"}})
	expectStatus(t, carol.post("/rooms/core/members/remove", url.Values{"username": {"bob"}}), http.StatusForbidden)
	expectStatus(t, ts.client(t).signup("dave").post("/rooms/core/members/remove", url.Values{"username": {"bob"}}), http.StatusNotFound)
	bob.get("/rooms/general")
	inCore, elsewhere := bob.dial("core", -1), bob.dial("general", -1)
	if !strings.Contains(ann.get("/rooms/core").body, `action="/rooms/core/members/remove"`) {
		t.Error("the creator is not offered removal")
	}
	if strings.Contains(carol.get("/rooms/core").body, `action="/rooms/core/members/remove"`) {
		t.Error("a member who is not the creator is offered removal")
	}
	expectStatus(t, ann.post("/rooms/core/members/remove", url.Values{"username": {"bob"}}), http.StatusSeeOther)
	inCore.expectClose(1008)
	// Sidebars sent before the removal may still be in flight; the one
	// after it must drop the room (readNavUntil fails if none does).
	elsewhere.readNavUntil("no #core", func(nav string) bool { return !strings.Contains(nav, `href="/rooms/core"`) })
	expectStatus(t, bob.get("/rooms/core"), http.StatusNotFound)
	if !strings.Contains(ann.get("/rooms/core").body, "ann removed bob from #core") {
		t.Error("no notice of the removal")
	}
}

func TestEditAndDelete(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.client(t).signup("admin") // the first account is the admin
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	ann.postMessage("general", "tpyo here")
	id := ann.lastMessage("/rooms/general")
	bob.get("/rooms/general")
	b := bob.dial("general", -1)

	// Not bob's message: refused, unchanged.
	expectStatus(t, bob.post("/messages/"+id+"/edit", url.Values{"body": {"bob was here"}}), http.StatusForbidden)
	expectStatus(t, bob.get("/messages/"+id+"/edit"), http.StatusForbidden)
	expectStatus(t, bob.post("/messages/"+id+"/delete", nil), http.StatusForbidden)
	expectStatus(t, bob.post("/messages/999999/delete", nil), http.StatusNotFound)
	expectStatus(t, bob.post("/messages/abc/delete", nil), http.StatusNotFound)

	// The author's edit page works without JavaScript, and refuses bad text.
	page := ann.get("/messages/" + id + "/edit")
	expectStatus(t, page, http.StatusOK)
	if !strings.Contains(page.body, "tpyo here") {
		t.Error("the edit form lacks the text")
	}
	expectStatus(t, ann.post("/messages/"+id+"/edit", url.Values{"body": {"  "}}), http.StatusUnprocessableEntity)
	res := ann.post("/messages/"+id+"/edit", url.Values{"body": {"typo fixed"}})
	expectStatus(t, res, http.StatusSeeOther)
	if loc := res.header.Get("Location"); loc != "/rooms/general#message-"+id {
		t.Errorf("after edit to %q", loc)
	}
	got := b.readUntil("typo fixed")
	if !strings.Contains(got, `id="message-`+id+`" data-id="`+id+`" data-author="ann" hx-swap-oob="outerHTML"`) || !strings.Contains(got, "(edited)") {
		t.Errorf("the edit did not replace the message live as edited:\n%.500s", got)
	}
	body := bob.get("/rooms/general").body
	if strings.Contains(body, "tpyo") || strings.Contains(body, "bob was here") || !strings.Contains(body, "typo fixed") {
		t.Error("the stored text is wrong after the edit")
	}

	// With htmx, delete answers 204; the change arrives over the socket.
	res = ann.do("POST", "/messages/"+id+"/delete", nil, map[string]string{"HX-Request": "true"})
	expectStatus(t, res, http.StatusNoContent)
	b.readUntil("message deleted")
	if strings.Contains(bob.get("/rooms/general").body, "typo fixed") {
		t.Error("the deleted text is still shown")
	}
	expectStatus(t, ann.post("/messages/"+id+"/edit", url.Values{"body": {"back again"}}), http.StatusForbidden)

	// An admin may delete anyone's message.
	bob.postMessage("general", "admin will remove this")
	bid := bob.lastMessage("/rooms/general")
	expectStatus(t, admin.post("/messages/"+bid+"/delete", nil), http.StatusSeeOther)
	if strings.Contains(bob.get("/rooms/general").body, "admin will remove this") {
		t.Error("the admin's delete did not take")
	}
	// The actions menu offers each reader what they may do.
	ann.postMessage("general", "menu test")
	mid := ann.lastMessage("/rooms/general")
	htmx := map[string]string{"HX-Request": "true"}
	for _, tc := range []struct {
		who              *client
		name             string
		edit, deleteable bool
	}{{ann, "author", true, true}, {bob, "other", false, false}, {admin, "admin", false, true}} {
		menu := tc.who.do("GET", "/messages/"+mid, nil, htmx)
		expectStatus(t, menu, http.StatusOK)
		if strings.Contains(menu.body, "<html") || !strings.Contains(menu.body, `name="emoji"`) {
			t.Errorf("%s: the menu is not a fragment with reactions", tc.name)
		}
		if got := strings.Contains(menu.body, `class="edit"`); got != tc.edit {
			t.Errorf("%s: edit offered = %v", tc.name, got)
		}
		if got := strings.Contains(menu.body, `class="delete"`); got != tc.deleteable {
			t.Errorf("%s: delete offered = %v", tc.name, got)
		}
		expectStatus(t, tc.who.get("/messages/"+mid), http.StatusOK) // the page, without JavaScript
	}
}

func TestReactions(t *testing.T) {
	ts := newTestServer(t)
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	ann.postMessage("general", "react to me")
	id := ann.lastMessage("/rooms/general")
	a := ann.dial("general", -1)

	res := bob.do("POST", "/messages/"+id+"/reactions", url.Values{"emoji": {"🎉"}}, map[string]string{"HX-Request": "true"})
	expectStatus(t, res, http.StatusNoContent)
	got := a.readUntil(`data-users="bob"`)
	if !strings.Contains(got, "🎉 1") {
		t.Errorf("the reaction did not arrive live:\n%.400s", got)
	}
	ann.post("/messages/"+id+"/reactions", url.Values{"emoji": {"🎉"}})
	a.readUntil("🎉 2")
	bob.post("/messages/"+id+"/reactions", url.Values{"emoji": {"🎉"}}) // toggled off
	a.readUntil(`data-users="ann"`)
	page := doc(t, bob.get("/rooms/general").body)
	msg := byID(page, "message-"+id)
	reactions := findAll(msg, func(n *html.Node) bool { c, _ := attr(n, "class"); return c == "reaction" })
	if len(reactions) != 1 || !strings.Contains(text(reactions[0]), "🎉 1") {
		t.Errorf("after toggling: %d reactions", len(reactions))
	}
	expectStatus(t, bob.post("/messages/"+id+"/reactions", url.Values{"emoji": {"<script>"}}), http.StatusUnprocessableEntity)

	ann.post("/rooms", url.Values{"name": {"closed"}, "private": {"on"}})
	ann.postMessage("closed", "members only")
	pid := ann.lastMessage("/rooms/closed")
	expectStatus(t, bob.post("/messages/"+pid+"/reactions", url.Values{"emoji": {"👍"}}), http.StatusNotFound)
	expectStatus(t, bob.get("/messages/"+pid+"/view"), http.StatusNotFound)
}

func TestMentionsAndUnread(t *testing.T) {
	ts := newTestServer(t)
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	bob.get("/rooms/general")
	bob.post("/rooms", url.Values{"name": {"elsewhere"}})
	elsewhere := bob.dial("elsewhere", -1)
	seen := len(elsewhere.readUntil(`id="nav-lists"`))

	ann.postMessage("general", "plain news")
	ann.postMessage("general", "@bob please look")
	// Bob, in another room, sees #general's counts go up live: two unread,
	// one mention, in small fragments, never a whole sidebar.
	general := ts.room(t, "general")
	got := elsewhere.readCounts(general.ID, "2 @1")
	if strings.Contains(got[seen:], `id="nav-lists"`) {
		t.Errorf("a whole sidebar was rendered for bob:\n%.300s", got)
	}
	// His next page counts them too.
	last := bob.get("/rooms/elsewhere").body
	if !strings.Contains(last, `id="unread-general" title="Unread messages">2<`) || !strings.Contains(last, `title="Mentions of you">@1<`) {
		t.Errorf("wrong counts in the sidebar:\n%s", last)
	}
	// A reconnecting socket gets a fresh sidebar with the counts.
	again := bob.dial("elsewhere", 0)
	if nav := again.readUntil(`id="nav-lists"`); !strings.Contains(nav, `id="unread-general" title="Unread messages">2<`) {
		t.Errorf("no fresh sidebar on reconnect:\n%.400s", nav)
	}

	// The mention is marked in the message itself, for every reader alike.
	page := doc(t, bob.get("/rooms/general").body)
	divider := byID(page, "new-messages")
	if divider == nil {
		t.Fatal("no new-messages divider")
	}
	next := divider.NextSibling
	for next != nil && next.Type == html.TextNode {
		next = next.NextSibling
	}
	if next == nil || !strings.Contains(text(next), "plain news") {
		var b strings.Builder
		html.Render(&b, divider.Parent)
		t.Errorf("the divider is not above the first unread message:\n%s", b.String())
	}
	var mentioned *html.Node
	for _, m := range messages(page) {
		if v, _ := attr(m, "data-mentions"); v == "bob" {
			mentioned = m
		}
	}
	if mentioned == nil || len(findAll(mentioned, func(n *html.Node) bool { v, _ := attr(n, "data-user"); return v == "bob" })) != 1 {
		t.Error("the mention is not marked")
	}
	// Having opened the room, bob has nothing unread there.
	lobby := bob.get("/").body
	if strings.Contains(lobby, `id="unread-general"`) || strings.Contains(bob.get("/rooms/general").body, `id="new-messages"`) {
		t.Error("the room is still unread after opening it")
	}
}

func TestSearch(t *testing.T) {
	ts := newTestServer(t)
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	ann.postMessage("general", "the quarterly report is ready")
	for range 3 {
		ann.postMessage("general", "filler")
	}
	ann.post("/rooms", url.Values{"name": {"board"}, "private": {"on"}})
	ann.postMessage("board", "secret quarterly numbers")

	res := bob.get("/search?q=" + url.QueryEscape("quarterly"))
	expectStatus(t, res, http.StatusOK)
	page := doc(t, res.body)
	results := findAll(page, func(n *html.Node) bool { c, _ := attr(n, "class"); return c == "result" })
	if len(results) != 1 {
		t.Fatalf("bob found %d results, want 1 (the private room is not his)", len(results))
	}
	if marks := findAll(results[0], func(n *html.Node) bool { return n.Data == "mark" }); len(marks) != 1 || text(marks[0]) != "quarterly" {
		t.Error("the matched word is not highlighted")
	}
	link := findAll(results[0], func(n *html.Node) bool { return n.Data == "a" })[0]
	href, _ := attr(link, "href")
	if !strings.HasPrefix(href, "/rooms/general?around=") || !strings.Contains(href, "#message-") {
		t.Fatalf("result links to %q", href)
	}
	ctx := doc(t, bob.get(strings.Split(href, "#")[0]).body)
	id := href[strings.Index(href, "#message-")+1:]
	if m := byID(ctx, id); m == nil || !strings.Contains(text(m), "quarterly report") {
		t.Error("the message is not on the page opened from the result")
	}
	if len(findAll(ctx, func(n *html.Node) bool { _, ok := attr(n, "ws-connect"); return ok })) != 0 {
		t.Error("a page of old messages connects live: new ones would be appended below it")
	}
	if len(findAll(doc(t, ann.get("/search?q=quarterly").body), func(n *html.Node) bool { c, _ := attr(n, "class"); return c == "result" })) != 2 {
		t.Error("ann, a member of board, should find both")
	}
	// Prefix search, and FTS5 syntax typed by a person: results or none, never an error.
	if !strings.Contains(bob.get("/search?q=quart").body, "1 message found") {
		t.Error("prefix search failed")
	}
	for _, q := range []string{`"`, `"quarterly`, `*`, `quarterly*`, `NEAR(quarterly report)`, `quarterly OR`, `AND`, `-report`, `^`, `col:x`, `)(`, "\xff", strings.Repeat("a ", 500)} {
		res := bob.get("/search?q=" + url.QueryEscape(q))
		if res.status != http.StatusOK {
			t.Errorf("q=%q: status %d", q, res.status)
		}
	}
	// Edited and deleted messages leave the index.
	msgID := strings.TrimPrefix(id, "message-")
	ann.post("/messages/"+msgID+"/edit", url.Values{"body": {"the annual report is ready"}})
	if strings.Contains(bob.get("/search?q=quarterly").body, `class="result"`) {
		t.Error("an edited-away word is still found")
	}
	ann.post("/messages/"+msgID+"/delete", nil)
	if strings.Contains(bob.get("/search?q=annual").body, `class="result"`) {
		t.Error("a deleted message is still found")
	}
}

func TestGuests(t *testing.T) {
	off := newTestServer(t)
	expectStatus(t, off.client(t).get("/guest"), http.StatusNotFound)
	expectStatus(t, off.client(t).post("/guest", url.Values{"display_name": {"Visitor"}}), http.StatusNotFound)

	ts := newGuestServer(t)
	ann := ts.client(t).signup("ann")
	ann.post("/rooms", url.Values{"name": {"staff"}, "private": {"on"}})
	if !strings.Contains(ts.client(t).get("/login").body, `href="/guest"`) {
		t.Error("the login page does not offer guest access")
	}
	for _, name := range []string{"ANN", "", "   "} {
		expectStatus(t, ts.client(t).post("/guest", url.Values{"display_name": {name}}), http.StatusUnprocessableEntity)
	}
	g := ts.client(t)
	res := g.post("/guest", url.Values{"display_name": {"Visitor Vic"}})
	expectStatus(t, res, http.StatusSeeOther)
	g.postMessage("general", "hello from a guest")
	page := ann.get("/rooms/general").body
	if !strings.Contains(page, "Visitor Vic") || !strings.Contains(page, `<span class="tag">guest</span>`) {
		t.Error("the guest's message is not marked as a guest's")
	}
	expectStatus(t, g.get("/rooms/staff"), http.StatusNotFound)
	expectStatus(t, g.post("/rooms", url.Values{"name": {"guestroom"}}), http.StatusForbidden)
	expectStatus(t, g.get("/dm/ann"), http.StatusForbidden)
	// A guest account has no password to log in with.
	guests, err := ts.store.Search(context.Background(), 1, chat.SearchQuery{Words: []string{"guest"}}, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range guests {
		res := ts.client(t).post("/login", url.Values{"username": {h.Message.Author}, "password": {""}})
		expectStatus(t, res, http.StatusUnauthorized)
	}
	if len(guests) == 0 {
		t.Fatal("the guest's message is not found")
	}
}
