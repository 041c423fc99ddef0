package handlers_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/net/html"

	"agora/chat"
)

// closeStatus reads the socket to its end and returns how it was closed.
func (s *sock) closeStatus() (websocket.StatusCode, string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, data, err := s.conn.Read(ctx)
		if err != nil {
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code, ce.Reason
			}
			s.t.Fatalf("the socket ended without a close frame: %v", err)
		}
		s.record(data)
	}
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (ts *testServer) roomID(t *testing.T, slug string) string {
	t.Helper()
	r, err := ts.store.RoomBySlug(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	return itoa(r.ID)
}

// roomsPage returns the admin rooms page's entries by slug.
func roomsPage(t *testing.T, admin *client) map[string]*html.Node {
	t.Helper()
	res := admin.get("/admin/rooms")
	expectStatus(t, res, http.StatusOK)
	out := map[string]*html.Node{}
	for _, li := range findAll(doc(t, res.body), func(n *html.Node) bool { _, ok := attr(n, "data-room"); return n.Data == "li" && ok }) {
		slug, _ := attr(li, "data-room")
		out[slug] = li
	}
	return out
}

// sharedRoom starts a server with an admin (root), bob and carl, and a
// public room of bob's that carl is a member of, with carl back in
// general: his sidebar there lists the room.
func sharedRoom(t *testing.T, name, slug string) (ts *testServer, admin, bob, carl *client) {
	t.Helper()
	ts = newTestServer(t)
	admin = ts.client(t).signup("root")
	bob = ts.client(t).signup("bob")
	carl = ts.client(t).signup("carl")
	expectStatus(t, bob.post("/rooms", url.Values{"name": {name}}), http.StatusSeeOther)
	carl.get("/rooms/" + slug)
	carl.get("/rooms/general")
	return ts, admin, bob, carl
}

// expectAudit checks that the admin pages' audit list says each of wants.
func expectAudit(t *testing.T, admin *client, wants ...string) {
	t.Helper()
	audit := strings.Join(strings.Fields(text(byID(doc(t, admin.get("/admin/rooms").body), "audit"))), " ")
	for _, want := range wants {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit list lacks %q:\n%s", want, audit)
		}
	}
}

func TestAdminRoomsIsForAdminsOnly(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.client(t).signup("root")
	bob := ts.client(t).signup("bob")
	expectStatus(t, bob.post("/rooms", url.Values{"name": {"Plans"}}), http.StatusSeeOther)
	for _, path := range []string{"/admin/rooms", "/admin/rooms/plans/delete"} {
		expectStatus(t, bob.get(path), http.StatusNotFound)
	}
	for _, tc := range []struct {
		path string
		form url.Values
	}{
		{"/admin/rooms/plans/rename", url.Values{"name": {"Mine"}}},
		{"/admin/rooms/plans/topic", url.Values{"topic": {"mine"}}},
		{"/admin/rooms/plans/archive", nil},
		{"/admin/rooms/plans/unarchive", nil},
		{"/admin/rooms/plans/delete", url.Values{"confirm": {"Plans"}}},
	} {
		expectStatus(t, bob.post(tc.path, tc.form), http.StatusNotFound)
		// Another site's form, in an admin's browser: refused too.
		expectStatus(t, admin.do("POST", tc.path, tc.form, map[string]string{"Sec-Fetch-Site": "cross-site"}), http.StatusForbidden)
	}
	r, err := ts.store.RoomBySlug(context.Background(), "plans")
	if err != nil || r.Name != "Plans" || r.Archived {
		t.Fatalf("the room changed: %+v, %v", r, err)
	}
	if topic, _ := ts.store.RoomTopic(context.Background(), r.ID); topic != "" {
		t.Errorf("the topic changed to %q", topic)
	}
	// Direct conversations are not the admins' to list or change.
	expectStatus(t, bob.post("/dm/root", nil), http.StatusSeeOther)
	for slug := range roomsPage(t, admin) {
		if strings.HasPrefix(slug, "dm-") {
			t.Errorf("a direct conversation is listed: %s", slug)
		}
	}
	dm := ""
	for _, n := range findAll(doc(t, bob.get("/").body), func(n *html.Node) bool { v, _ := attr(n, "data-room"); return strings.HasPrefix(v, "dm-") }) {
		dm, _ = attr(n, "data-room")
	}
	if dm == "" {
		t.Fatal("no DM in bob's sidebar")
	}
	expectStatus(t, admin.post("/admin/rooms/"+dm+"/archive", nil), http.StatusNotFound)
	expectStatus(t, admin.get("/admin/rooms/"+dm+"/delete"), http.StatusNotFound)
	expectStatus(t, admin.post("/admin/rooms/no-such-room/rename", url.Values{"name": {"x"}}), http.StatusNotFound)
	// The admin pages link it.
	if !strings.Contains(admin.get("/admin/users").body, `href="/admin/rooms"`) {
		t.Error("the admin pages do not link /admin/rooms")
	}
}

func TestAdminRenamesAndSetsTopics(t *testing.T) {
	ts, admin, bob, carl := sharedRoom(t, "Plans", "plans")
	expectStatus(t, bob.post("/rooms", url.Values{"name": {"Secret"}, "private": {"on"}}), http.StatusSeeOther)
	bob.postMessage("plans", "before the changes")
	before := bob.lastMessageID("plans")
	inRoom := bob.dial("plans", -1)
	elsewhere := carl.dial("general", -1) // carl's sidebar lists plans

	rooms := roomsPage(t, admin)
	for _, slug := range []string{"general", "plans", "secret"} {
		if rooms[slug] == nil {
			t.Fatalf("%s is not listed", slug)
		}
	}
	if got := text(rooms["secret"]); !strings.Contains(got, "private") || !strings.Contains(got, "1 member") {
		t.Errorf("secret reads %q", got)
	}
	if got := text(rooms["plans"]); !strings.Contains(got, "public") || !strings.Contains(got, "2 members") {
		t.Errorf("plans reads %q", got)
	}

	// Bad names are refused with the reason; the room keeps its name.
	for _, bad := range []string{"", "   ", "evil\u202ename", strings.Repeat("x", 65)} {
		res := admin.post("/admin/rooms/plans/rename", url.Values{"name": {bad}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if byID(doc(t, res.body), "form-error") == nil {
			t.Errorf("rename to %q: no reason on the page", bad)
		}
	}
	expectStatus(t, admin.post("/admin/rooms/plans/topic", url.Values{"topic": {"bad\x1btopic"}}), http.StatusUnprocessableEntity)

	// A rename: a notice, the header of the room's pages, the sidebars of
	// its members elsewhere; the address stays.
	res := admin.post("/admin/rooms/plans/rename", url.Values{"name": {"Roadmap  2027"}})
	expectStatus(t, res, http.StatusSeeOther)
	inRoom.readUntil("root renamed #Plans to #Roadmap 2027")
	inRoom.readUntil(`<h1 id="room-name" hx-swap-oob="outerHTML">#Roadmap 2027</h1>`)
	elsewhere.readNavUntil("the new name", func(nav string) bool {
		return strings.Contains(nav, `id="nav-name-`+ts.roomID(t, "plans")+`" class="nav-name">Roadmap 2027<`)
	})
	page := doc(t, bob.get("/rooms/plans").body)
	if got := text(byID(page, "room-name")); got != "#Roadmap 2027" {
		t.Errorf("the page's header reads %q", got)
	}
	if got := text(byID(page, "nav-name-"+ts.roomID(t, "plans"))); got != "Roadmap 2027" {
		t.Errorf("the sidebar reads %q", got)
	}

	// The topic, by an admin and by a member, goes the same way.
	expectStatus(t, admin.post("/admin/rooms/plans/topic", url.Values{"topic": {"Dates <and> owners"}}), http.StatusSeeOther)
	inRoom.readUntil("root set the topic: Dates &lt;and&gt; owners")
	inRoom.readUntil(`id="room-topic"`)
	expectStatus(t, bob.post("/rooms/plans/topic", url.Values{"topic": {"Owned by bob"}}), http.StatusSeeOther)
	inRoom.readUntil("bob set the topic: Owned by bob")

	// A socket that reconnects with ?after= catches up on the header too,
	// in order: the last topic comes last.
	late := bob.dial("plans", before)
	late.readUntil("Owned by bob</p>")
	got := late.text.String()
	name := strings.Index(got, `<h1 id="room-name" hx-swap-oob="outerHTML">#Roadmap 2027</h1>`)
	first := strings.Index(got, `hx-swap-oob="outerHTML">Dates &lt;and&gt; owners</p>`)
	last := strings.Index(got, `hx-swap-oob="outerHTML">Owned by bob</p>`)
	if name < 0 || first < 0 || last < first {
		t.Errorf("the catch-up does not carry the header changes in order (%d, %d, %d):\n%s", name, first, last, got)
	}

	// The same again changes nothing and says so.
	res = admin.post("/admin/rooms/plans/rename", url.Values{"name": {"Roadmap 2027"}})
	expectStatus(t, res, http.StatusSeeOther)
	if !strings.Contains(admin.get(res.header.Get("Location")).body, "called that already") {
		t.Error("renaming to the same name says nothing")
	}
	expectAudit(t, admin, "root renamed room plans #Plans → #Roadmap 2027", "root set the topic of plans Dates <and> owners")
}

func TestArchivedRoomIsReadOnly(t *testing.T) {
	ts, admin, bob, carl := sharedRoom(t, "Plans", "plans")
	dan := ts.client(t).signup("dan")
	bob.postMessage("plans", "written before the archive")
	msgID := itoa(bob.lastMessageID("plans"))
	bobAPI := ts.api(t, bob.makeToken("script"))
	inRoom := bob.dial("plans", -1)
	watching := carl.dial("plans", -1) // open throughout, never writing
	elsewhere := carl.dial("general", -1)

	expectStatus(t, admin.post("/admin/rooms/plans/archive", nil), http.StatusSeeOther)
	inRoom.readUntil("root archived #Plans: it is read-only now")
	inRoom.readUntil(`id="room-banner" class="banner" role="status" hx-swap-oob="outerHTML">This room is archived`)
	inRoom.readUntil(`<form id="composer" hx-swap-oob="delete">`)
	elsewhere.readNavUntil("no #Plans", func(nav string) bool { return !strings.Contains(nav, `id="nav-room-`+ts.roomID(t, "plans")+`"`) })
	stored := ts.messageCount(t, "plans")

	// Every way of writing is refused, with the reason.
	res := bob.post("/rooms/plans/messages", url.Values{"body": {"via the form"}})
	expectStatus(t, res, http.StatusForbidden)
	if !strings.Contains(res.body, "archived") {
		t.Errorf("the form's refusal does not say why:\n%.600s", res.body)
	}
	for _, r := range []response{
		bob.post("/messages/"+msgID+"/edit", url.Values{"body": {"rewritten"}}),
		bob.post("/messages/"+msgID+"/reactions", url.Values{"emoji": {"👍"}}),
		bob.post("/rooms/plans/topic", url.Values{"topic": {"new"}}),
		bob.upload("plans", "notes.txt", []byte("notes"), "", nil),
		dan.post("/rooms/plans/join", nil),
		bob.post("/rooms/plans/leave", nil),
	} {
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "archived") {
			t.Errorf("refused with %d:\n%.400s", r.status, r.body)
		}
	}
	api := bobAPI.call("POST", "/api/v1/rooms/plans/messages", map[string]string{"body": "via the API", "client_msg_id": "api-1"})
	if api.status != http.StatusForbidden || api.errCode(t) != chat.EForbidden || !strings.Contains(string(api.body), "archived") {
		t.Errorf("the API's refusal: %d %s", api.status, api.body)
	}
	for _, r := range []apiRes{
		bobAPI.call("PATCH", "/api/v1/messages/"+msgID, map[string]string{"body": "rewritten"}),
		bobAPI.call("POST", "/api/v1/messages/"+msgID+"/reactions", map[string]string{"emoji": "👍"}),
	} {
		if r.status != http.StatusForbidden || !strings.Contains(string(r.body), "archived") {
			t.Errorf("the API's refusal: %d %s", r.status, r.body)
		}
	}
	inRoom.say("via the socket")
	if code, reason := inRoom.closeStatus(); code != websocket.StatusPolicyViolation || !strings.Contains(reason, "archived") {
		t.Errorf("the socket closed with %d %q, want 1008 saying the room is archived", code, reason)
	}
	if _, res, err := bob.dialRaw("/rooms/plans/ws", nil); err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("a new socket to an archived room: %v", err)
	}
	if n := ts.messageCount(t, "plans"); n != stored {
		t.Errorf("%d messages stored after the archive", n-stored)
	}
	if m, _ := ts.store.MessageByID(context.Background(), mustID(t, msgID)); m.Body != "written before the archive" || len(m.Reactions) != 0 {
		t.Errorf("the archived message changed: %+v", m)
	}

	// Its page reads, with a banner and without a composer or socket; it
	// is out of the sidebars; nobody joins by looking.
	for _, c := range []*client{bob, dan} {
		res := c.get("/rooms/plans")
		expectStatus(t, res, http.StatusOK)
		page := doc(t, res.body)
		if b := byID(page, "room-banner"); b == nil || !strings.Contains(text(b), "This room is archived") {
			t.Errorf("no banner:\n%.1200s", res.body)
		}
		if byID(page, "composer") != nil || strings.Contains(res.body, "ws-connect") {
			t.Error("an archived room's page has a composer or a socket")
		}
		if !strings.Contains(res.body, "written before the archive") {
			t.Error("an archived room's messages are not shown")
		}
		if strings.Contains(c.get("/").body, `data-room="plans"`) {
			t.Error("an archived room is in the sidebar")
		}
	}
	if r, _ := ts.store.RoomBySlug(context.Background(), "plans"); r.ID != 0 {
		if member, _ := ts.store.IsMember(context.Background(), r.ID, 4); member {
			t.Error("dan joined an archived room by looking at it")
		}
	}
	if !strings.Contains(text(roomsPage(t, admin)["plans"]), "archived") {
		t.Error("the admin page does not show the room archived")
	}
	// Other rooms are untouched.
	bob.postMessage("general", "general still works")

	// Opened again, it takes messages, and its members see it again.
	expectStatus(t, admin.post("/admin/rooms/plans/unarchive", nil), http.StatusSeeOther)
	elsewhere.readUntil(`data-room="plans"`) // carl's sidebar, drawn again
	watching.readUntil(`This room is open again: <a href="">reload the page</a> to write in it.`)
	bob.postMessage("plans", "back in business")
	if !strings.Contains(bob.get("/").body, `data-room="plans"`) {
		t.Error("an unarchived room is not back in the sidebar")
	}
	expectAudit(t, admin, "root archived room plans", "root unarchived room plans")
}

func TestAdminDeletesARoom(t *testing.T) {
	ts, admin, bob, carl := sharedRoom(t, "Old Plans", "old-plans")
	bob.postMessage("old-plans", "zanzibar is the codeword")
	carl.postMessage("general", "zanzibar elsewhere")
	id := ts.roomID(t, "old-plans")
	inRoom := bob.dial("old-plans", -1)
	elsewhere := carl.dial("general", -1)

	page := admin.get("/admin/rooms/old-plans/delete")
	expectStatus(t, page, http.StatusOK)
	if form := byID(doc(t, page.body), "delete-room"); form == nil || !strings.Contains(text(form), "Old Plans") {
		t.Fatalf("no confirmation form:\n%.1000s", page.body)
	}
	for _, wrong := range []string{"", "old-plans", "Old", "old plans", "Old Plans!"} {
		res := admin.post("/admin/rooms/old-plans/delete", url.Values{"confirm": {wrong}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if e := byID(doc(t, res.body), "form-error"); e == nil || !strings.Contains(text(e), "nothing was deleted") {
			t.Errorf("confirm %q: no reason given:\n%.800s", wrong, res.body)
		}
	}
	expectStatus(t, bob.get("/rooms/old-plans"), http.StatusOK)

	res := admin.post("/admin/rooms/old-plans/delete", url.Values{"confirm": {"  Old   Plans "}})
	expectStatus(t, res, http.StatusSeeOther)
	if code, reason := inRoom.closeStatus(); code != websocket.StatusPolicyViolation || !strings.Contains(reason, "deleted") {
		t.Errorf("the room's socket closed with %d %q", code, reason)
	}
	elsewhere.readNavUntil("no #Old Plans", func(nav string) bool { return !strings.Contains(nav, `id="nav-room-`+id+`"`) })
	for _, c := range []*client{bob, carl, admin} {
		expectStatus(t, c.get("/rooms/old-plans"), http.StatusNotFound)
		if strings.Contains(c.get("/").body, `data-room="old-plans"`) {
			t.Error("a deleted room is in a sidebar")
		}
	}
	found := text(byID(doc(t, carl.get("/search?q=zanzibar").body), "main"))
	if strings.Contains(found, "codeword") || !strings.Contains(found, "elsewhere") {
		t.Errorf("search after the deletion:\n%s", found)
	}
	if roomsPage(t, admin)["old-plans"] != nil {
		t.Error("the deleted room is still listed")
	}
	expectAudit(t, admin, "root deleted room old-plans #Old Plans, 2 members")
	// A room made again with the name is a new, empty room.
	expectStatus(t, bob.post("/rooms", url.Values{"name": {"Old Plans"}}), http.StatusSeeOther)
	if strings.Contains(bob.get("/rooms/old-plans").body, "codeword") {
		t.Error("a new room of the same name shows the deleted one's messages")
	}
}

// An admin's change on one node reaches the sockets on the other: a
// rename live, a deletion as a close.
func TestAdminRoomChangesReachEveryNode(t *testing.T) {
	a, b := twoNodes(t)
	admin := a.client(t).signup("root")
	bob := b.client(t).signup("bob")
	expectStatus(t, bob.post("/rooms", url.Values{"name": {"Plans"}}), http.StatusSeeOther)
	onB := bob.dial("plans", -1)
	expectStatus(t, admin.post("/admin/rooms/plans/rename", url.Values{"name": {"Roadmap"}}), http.StatusSeeOther)
	onB.readUntil(`<h1 id="room-name" hx-swap-oob="outerHTML">#Roadmap</h1>`)
	expectStatus(t, admin.post("/admin/rooms/plans/delete", url.Values{"confirm": {"Roadmap"}}), http.StatusSeeOther)
	if code, _ := onB.closeStatus(); code != websocket.StatusPolicyViolation {
		t.Errorf("the socket on the other node closed with %d", code)
	}
}
