package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"agora/chat"
)

// G14: an archived room is read-only for everyone, admins included: a
// delete is refused by the form and by the API, and the message stays.
func TestArchivedRoomRefusesDeletesAdminsIncluded(t *testing.T) {
	ts, admin, bob, _ := sharedRoom(t, "Plans", "plans")
	admin.get("/rooms/plans")
	bob.postMessage("plans", "bob wrote this before the archive")
	bobs := itoa(bob.lastMessageID("plans"))
	admin.postMessage("plans", "root wrote this before the archive")
	roots := itoa(admin.lastMessageID("plans"))
	bobAPI := ts.api(t, bob.makeToken("script"))
	rootAPI := ts.api(t, admin.makeToken("script"))

	expectStatus(t, admin.post("/admin/rooms/plans/archive", nil), http.StatusSeeOther)

	for name, res := range map[string]response{
		"the author's form":            bob.post("/messages/"+bobs+"/delete", nil),
		"an admin's form on another's": admin.post("/messages/"+bobs+"/delete", nil),
		"an admin's form on their own": admin.post("/messages/"+roots+"/delete", nil),
		"the author's confirm page":    bob.get("/messages/" + bobs + "/delete"),
		"an admin's confirm page":      admin.get("/messages/" + bobs + "/delete"),
	} {
		if res.status != http.StatusForbidden || !strings.Contains(res.body, "archived") {
			t.Errorf("%s: %d, want 403 saying the room is archived:\n%.400s", name, res.status, res.body)
		}
	}
	for name, res := range map[string]apiRes{
		"the author's API":            bobAPI.call("DELETE", "/api/v1/messages/"+bobs, nil),
		"an admin's API on another's": rootAPI.call("DELETE", "/api/v1/messages/"+bobs, nil),
		"an admin's API on their own": rootAPI.call("DELETE", "/api/v1/messages/"+roots, nil),
	} {
		if res.status != http.StatusForbidden || res.errCode(t) != chat.EForbidden || !strings.Contains(string(res.body), "archived") {
			t.Errorf("%s: %d %s, want 403 forbidden saying the room is archived", name, res.status, res.body)
		}
	}
	for _, m := range bobAPI.messages("/api/v1/rooms/plans/messages") {
		if m.Deleted {
			t.Errorf("message %d was deleted in an archived room", m.ID)
		}
	}
	// The menu offers no delete either.
	if res := admin.get("/messages/" + bobs); strings.Contains(res.body, "/delete") {
		t.Errorf("the message's menu in an archived room offers a delete:\n%.600s", res.body)
	}
}

// G11: whoever left a direct conversation does not read it through the
// API either, until they open it again by sending to it.
func TestAPIDirectMessagesAreNotReadAfterLeaving(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	annAPI := ts.api(t, ann.makeToken("script"))
	res := annAPI.call("POST", "/api/v1/dm/bob/messages", map[string]string{"body": "before leaving", "client_msg_id": "dm-leave-1"})
	expectAPI(t, res, http.StatusCreated)
	if got := annAPI.messages("/api/v1/dm/bob/messages"); len(got) != 1 {
		t.Fatalf("%d messages in the conversation, want 1", len(got))
	}
	expectStatus(t, ann.post("/rooms/dm-1-2/leave", nil), http.StatusSeeOther)
	bob.postMessage("dm-1-2", "said after ann left")

	res = annAPI.call("GET", "/api/v1/dm/bob/messages", nil)
	if res.status != http.StatusNotFound || res.errCode(t) != chat.ENotFound {
		t.Errorf("reading a conversation after leaving it: %d %s, want 404", res.status, res.body)
	}
	if strings.Contains(string(res.body), "said after ann left") || strings.Contains(string(res.body), "before leaving") {
		t.Errorf("the refusal carries the conversation: %s", res.body)
	}
	for _, path := range []string{"/api/v1/rooms/dm-1-2/messages"} {
		if res := annAPI.call("GET", path, nil); res.status != http.StatusNotFound {
			t.Errorf("GET %s after leaving: %d %s", path, res.status, res.body)
		}
	}

	// Sending to it is opening it again, by ann's own choice.
	res = annAPI.call("POST", "/api/v1/dm/bob/messages", map[string]string{"body": "back again", "client_msg_id": "dm-leave-2"})
	expectAPI(t, res, http.StatusCreated)
	got := annAPI.messages("/api/v1/dm/bob/messages")
	if len(got) == 0 || got[len(got)-1].Body != "back again" {
		t.Errorf("after opening it again: %+v", got)
	}
}

// G7: every limit is the user's, whatever the door: edits made through
// several tokens spend one budget, the same as the edit form's.
func TestAPIEditsSpendTheUsersEditLimitAcrossTokens(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	var apis []*apiClient
	for _, name := range []string{"one", "two", "three"} {
		apis = append(apis, ts.api(t, ann.makeToken(name)))
	}
	res, m := apis[0].post("general", "to be edited", "edit-limit-1")
	expectAPI(t, res, http.StatusCreated)
	id := itoa(m.ID)

	// 30 edits, 10 per token: well within each token's budget, three times
	// the user's burst of edits.
	refused := 0
	for i := range 30 {
		res := apis[i%3].call("PATCH", "/api/v1/messages/"+id, map[string]string{"body": "edit " + itoa(int64(i))})
		switch res.status {
		case http.StatusOK:
		case http.StatusTooManyRequests:
			refused++
			if res.header.Get("Retry-After") == "" || !strings.Contains(string(res.body), "editing too fast") {
				t.Errorf("edit %d refused without Retry-After or the user's reason: %s", i, res.body)
			}
		default:
			t.Fatalf("edit %d: %d %s", i, res.status, res.body)
		}
	}
	if refused == 0 {
		t.Fatal("30 edits through three tokens in a row were all taken: the API skips the user's edit limit")
	}
	// The same budget holds at the form.
	form := ann.post("/messages/"+id+"/edit", url.Values{"body": {"through the form, at once"}})
	expectStatus(t, form, http.StatusTooManyRequests)
	if !strings.Contains(form.body, "editing too fast") {
		t.Errorf("the form's refusal does not say why:\n%.400s", form.body)
	}
}

// Every admin route is in the admin group: each answers "not found" to a
// signed-in account that is not an admin, and a signed-out visitor is sent
// to the login page (or, posting, refused).
func TestEveryAdminRouteIsHiddenFromOthers(t *testing.T) {
	ts := newTestServer(t)
	ts.client(t).signup("root")
	bob := ts.client(t).signup("bob")
	stranger := ts.client(t)
	seen := 0
	for _, r := range ts.app.Routes() {
		if r.Path != "/admin" && !strings.HasPrefix(r.Path, "/admin/") || r.Method == "echo_route_not_found" {
			continue
		}
		seen++
		path := r.Path
		for _, p := range []string{":username", ":slug", ":id", ":name"} {
			path = strings.ReplaceAll(path, p, "bob")
		}
		var form url.Values
		if r.Method == http.MethodPost {
			form = url.Values{"username": {"carl"}, "limit_mb": {"1"}, "name": {"x"}}
		}
		if res := bob.do(r.Method, path, form, nil); res.status != http.StatusNotFound {
			t.Errorf("%s %s as a plain account: %d, want 404", r.Method, r.Path, res.status)
		}
		res := stranger.do(r.Method, path, form, nil)
		toLogin := res.status == http.StatusSeeOther && strings.HasPrefix(res.header.Get("Location"), "/login")
		if !toLogin && res.status != http.StatusUnauthorized {
			t.Errorf("%s %s signed out: %d to %q, want 303 to /login or 401", r.Method, r.Path, res.status, res.header.Get("Location"))
		}
	}
	if seen < 10 {
		t.Fatalf("only %d admin routes found", seen)
	}
}

// login signs a fresh browser in as username (signed up with signup).
func (ts *testServer) login(t *testing.T, username string) *client {
	t.Helper()
	c := ts.client(t)
	res := c.post("/login", url.Values{"username": {username}, "password": {"password-" + username}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("login %s: %d %.300s", username, res.status, res.body)
	}
	return c
}

// Issue 25: deactivating asks first, on a page that works without
// JavaScript; admins are demoted, never the last active one; every admin
// action, bots and storage limits included, is in the audit list.
func TestDeactivatingAsksFirstAndDemotingIsAudited(t *testing.T) {
	ts := newTestServer(t)
	root := ts.client(t).signup("root")
	bob := ts.client(t).signup("bob")
	ts.client(t).signup("carl")
	expectStatus(t, root.post("/admin/users/bob/admin", nil), http.StatusSeeOther)

	// The users page's Deactivate form asks first: it GETs the confirmation.
	page := doc(t, root.get("/admin/users").body)
	row := byID(page, "user-carl")
	if row == nil {
		t.Fatal("no #user-carl")
	}
	asks := 0
	for _, f := range findAll(row, func(n *html.Node) bool { return n.Data == "form" }) {
		action, _ := attr(f, "action")
		method, _ := attr(f, "method")
		if strings.HasSuffix(action, "/deactivate") {
			if !strings.EqualFold(method, "get") {
				t.Errorf("the users page deactivates without asking: a form %ss to %s", method, action)
			}
			asks++
		}
	}
	if asks != 1 {
		t.Fatalf("carl's row has %d forms that ask to deactivate, want 1", asks)
	}
	confirm := root.get("/admin/users/carl/deactivate")
	expectStatus(t, confirm, http.StatusOK)
	form := byID(doc(t, confirm.body), "deactivate-user")
	if form == nil {
		t.Fatalf("no #deactivate-user form:\n%.800s", confirm.body)
	}
	if action, _ := attr(form, "action"); action != "/admin/users/carl/deactivate" {
		t.Errorf("the confirmation posts to %q", action)
	}
	if u, _ := ts.store.UserByUsername(t.Context(), "carl"); u.Deactivated {
		t.Fatal("showing the confirmation deactivated the account")
	}
	expectStatus(t, root.post("/admin/users/carl/deactivate", nil), http.StatusSeeOther)
	if u, _ := ts.store.UserByUsername(t.Context(), "carl"); !u.Deactivated {
		t.Fatal("the confirmation's form did not deactivate")
	}

	// Demoting: bob's admin pages go away; an account that is no admin, and
	// one's own, are refused with the reason.
	expectStatus(t, bob.get("/admin/users"), http.StatusOK)
	expectStatus(t, root.post("/admin/users/bob/demote", nil), http.StatusSeeOther)
	expectStatus(t, bob.get("/admin/users"), http.StatusNotFound)
	for _, who := range []string{"bob", "root"} {
		res := root.post("/admin/users/"+who+"/demote", nil)
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if byID(doc(t, res.body), "form-error") == nil {
			t.Errorf("demoting %s: refused without a reason:\n%.600s", who, res.body)
		}
	}
	if u, _ := ts.store.UserByUsername(t.Context(), "root"); !u.IsAdmin {
		t.Fatal("root demoted themselves")
	}

	// Bots and storage limits are admin actions like the others.
	expectStatus(t, root.post("/admin/bots", url.Values{"username": {"ci"}}), http.StatusOK)
	expectStatus(t, root.post("/admin/storage/bob", url.Values{"limit_mb": {"5"}}), http.StatusSeeOther)
	expectAudit(t, root, "root deactivated carl", "root made admin bob", "root removed admin bob",
		"root made bot ci", "root set storage limit bob 5 MB")
}

// G15 through the server: two admins deactivating each other at the same
// moment leave one active admin; the other is told why (422), or finds
// themselves signed out already.
func TestTwoAdminsDeactivatingEachOtherAtOnceLeaveOne(t *testing.T) {
	ts := newTestServer(t)
	ts.client(t).signup("root")
	ts.client(t).signup("bob")
	ctx := t.Context()
	root, _ := ts.store.UserByUsername(ctx, "root")
	bob, _ := ts.store.UserByUsername(ctx, "bob")
	for round := range 20 {
		for _, u := range []chat.User{root, bob} {
			if err := ts.store.SetDeactivated(ctx, u.ID, false); err != nil {
				t.Fatal(err)
			}
			if err := ts.store.SetAdmin(ctx, u.ID, true); err != nil {
				t.Fatal(err)
			}
		}
		a, b := ts.login(t, "root"), ts.login(t, "bob")
		var ra, rb response
		done := make(chan struct{})
		go func() { defer close(done); ra = a.post("/admin/users/bob/deactivate", nil) }()
		rb = b.post("/admin/users/root/deactivate", nil)
		<-done
		users, err := ts.store.Users(ctx)
		if err != nil {
			t.Fatal(err)
		}
		active := 0
		for _, u := range users {
			if chat.MayAdminister(u) {
				active++
			}
		}
		if active != 1 {
			t.Fatalf("round %d: %d active admins left (answers %d and %d)", round, active, ra.status, rb.status)
		}
		for _, r := range []response{ra, rb} {
			if r.status == http.StatusUnprocessableEntity && !strings.Contains(r.body, "last active admin") {
				t.Errorf("round %d: refused without the reason:\n%.600s", round, r.body)
			}
		}
	}
}
