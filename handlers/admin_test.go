package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/net/html"

	"agora/chat"
	"agora/handlers"
)

func TestSignupModes(t *testing.T) {
	for _, mode := range []string{handlers.SignupInvite, handlers.SignupClosed} {
		ts := newServerWith(t, handlers.Config{Signup: mode})
		// The first run says the first account becomes the admin, and lets
		// it be made whatever the mode.
		for _, path := range []string{"/login", "/signup"} {
			if byID(doc(t, ts.client(t).get(path).body), "first-run") == nil {
				t.Errorf("%s: the first-run page does not say the first account becomes the admin", path)
			}
		}
		admin := ts.client(t).signup("root")
		if !strings.Contains(admin.get("/").body, `id="admin-link"`) {
			t.Errorf("%s: the first account is not an admin", mode)
		}
		login := ts.client(t).get("/login").body
		if byID(doc(t, login), "first-run") != nil {
			t.Errorf("%s: the first-run note stays after the first account", mode)
		}
		// The login page offers no account it cannot make, and says how.
		if strings.Contains(login, `href="/signup"`) || byID(doc(t, login), "signup-how") == nil {
			t.Errorf("%s: the login page offers a sign-up that answers 403, or does not say how to get in:\n%.1200s", mode, login)
		}
		for _, res := range []response{
			ts.client(t).get("/signup"),
			ts.client(t).post("/signup", url.Values{"username": {"eve"}, "password": {"password-eve"}}),
		} {
			expectStatus(t, res, http.StatusForbidden)
			if !strings.Contains(res.body, "invite link") || byID(doc(t, res.body), "signup-closed") == nil {
				t.Errorf("%s: the refusal does not say how to get in:\n%.600s", mode, res.body)
			}
		}
		if _, err := ts.store.UserByUsername(context.Background(), "eve"); err == nil {
			t.Errorf("%s: an account was made without an invite", mode)
		}
	}
	// Open is the default.
	ts := newTestServer(t)
	ts.client(t).signup("ann")
	ts.client(t).signup("bob")
	if login := ts.client(t).get("/login").body; !strings.Contains(login, `href="/signup"`) {
		t.Errorf("open: the login page does not offer to create an account:\n%.1200s", login)
	}
}

// newInvite makes an invite as the admin and returns its path.
func newInvite(t *testing.T, admin *client, uses string) string {
	t.Helper()
	res := admin.post("/admin/invites", url.Values{"uses": {uses}, "days": {"7"}})
	expectStatus(t, res, http.StatusCreated)
	el := byID(doc(t, res.body), "new-invite")
	if el == nil {
		t.Fatalf("no #new-invite:\n%.800s", res.body)
	}
	link, _ := attr(el, "value")
	if link == "" {
		link = text(el)
	}
	u := mustURL(t, link)
	if !strings.HasPrefix(u.Path, "/invite/") || u.Host == "" {
		t.Fatalf("invite link %q", link)
	}
	return u.Path
}

func TestInvites(t *testing.T) {
	ts := newServerWith(t, handlers.Config{Signup: handlers.SignupClosed})
	admin := ts.client(t).signup("root")
	bob := ts.client(t)
	path := newInvite(t, admin, "2")

	// Only admins make invites.
	member := ts.client(t)
	page := member.get(path)
	expectStatus(t, page, http.StatusOK)
	if form := findAll(doc(t, page.body), func(n *html.Node) bool { a, _ := attr(n, "action"); return n.Data == "form" && a == path }); len(form) != 1 {
		t.Fatalf("the invite page has no sign-up form:\n%.600s", page.body)
	}
	res := member.post(path, url.Values{"username": {"mia"}, "password": {"password-mia"}})
	expectStatus(t, res, http.StatusSeeOther)
	expectStatus(t, member.get("/"), http.StatusOK)
	expectStatus(t, member.post("/admin/invites", nil), http.StatusNotFound)

	// A refused form keeps the invite's use.
	expectStatus(t, bob.post(path, url.Values{"username": {"b"}, "password": {"password-bob"}}), http.StatusUnprocessableEntity)
	expectStatus(t, bob.post(path, url.Values{"username": {"MIA"}, "password": {"password-bob"}}), http.StatusUnprocessableEntity)
	expectStatus(t, bob.post(path, url.Values{"username": {"bob"}, "password": {"password-bob"}}), http.StatusSeeOther)
	// Used up.
	res = ts.client(t).get(path)
	expectStatus(t, res, http.StatusNotFound)
	if !strings.Contains(res.body, "cannot be used") {
		t.Errorf("a used-up invite does not say so:\n%.400s", res.body)
	}
	expectStatus(t, ts.client(t).post(path, url.Values{"username": {"carl"}, "password": {"password-carl"}}), http.StatusNotFound)

	// Revoked and expired invites open nothing; made-up ones neither.
	revoked := newInvite(t, admin, "1")
	invites, _ := ts.store.Invites(context.Background(), 10)
	expectStatus(t, admin.post("/admin/invites/"+itoa(invites[0].ID)+"/revoke", nil), http.StatusSeeOther)
	expectStatus(t, ts.client(t).get(revoked), http.StatusNotFound)
	if _, err := ts.store.CreateInvite(context.Background(), chat.HashToken("old-code"), 1, 5, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	expectStatus(t, ts.client(t).get("/invite/old-code"), http.StatusNotFound)
	expectStatus(t, ts.client(t).post("/invite/old-code", url.Values{"username": {"dan"}, "password": {"password-dan"}}), http.StatusNotFound)
	expectStatus(t, ts.client(t).get("/invite/made-up"), http.StatusNotFound)
	// Bad counts are refused with a reason.
	for _, uses := range []string{"0", "-1", "x", "100000"} {
		res := admin.post("/admin/invites", url.Values{"uses": {uses}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
	}

	// Every action is in the audit list.
	audit := text(byID(doc(t, admin.get("/admin/invites").body), "audit"))
	if strings.Count(audit, "made invite") != 2 || !strings.Contains(audit, "revoked invite") {
		t.Errorf("audit list:\n%s", audit)
	}
}

func TestAdminUsers(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.client(t).signup("root")
	bob := ts.client(t).signup("bob")
	carl := ts.client(t).signup("carl")
	bob.postMessage("general", "bob was here")

	for _, path := range []string{"/admin/users", "/admin/invites", "/admin"} {
		expectStatus(t, bob.get(path), http.StatusNotFound)
	}
	expectStatus(t, bob.post("/admin/users/carl/deactivate", nil), http.StatusNotFound)
	if strings.Contains(bob.get("/").body, `id="admin-link"`) {
		t.Error("a member sees the admin link")
	}

	page := doc(t, admin.get("/admin/users").body)
	for _, name := range []string{"root", "bob", "carl"} {
		if byID(page, "user-"+name) == nil {
			t.Errorf("%s is not listed", name)
		}
	}
	forms := findAll(byID(page, "user-bob"), func(n *html.Node) bool { return n.Data == "form" })
	var actions []string
	for _, f := range forms {
		a, _ := attr(f, "action")
		actions = append(actions, a)
	}
	if strings.Join(actions, " ") != "/admin/users/bob/deactivate /admin/users/bob/reset /admin/users/bob/admin" {
		t.Errorf("bob's forms: %v", actions)
	}

	// Deactivation ends bob's sessions, sockets and tokens, and he cannot sign in.
	s := bob.dial("general", -1)
	bobAPI := ts.api(t, bob.makeToken("script"))
	if res := bobAPI.call("GET", "/api/v1/me", nil); res.status != http.StatusOK {
		t.Fatalf("bob's token before deactivation: %d", res.status)
	}
	expectStatus(t, admin.post("/admin/users/bob/deactivate", nil), http.StatusSeeOther)
	s.expectClose(websocket.StatusPolicyViolation)
	if res := bobAPI.call("GET", "/api/v1/me", nil); res.status != http.StatusUnauthorized || res.errCode(t) == "" {
		t.Errorf("bob's token after deactivation: %d %s, want 401 with a JSON error", res.status, res.body)
	}
	if res := bobAPI.call("POST", "/api/v1/rooms/general/messages", map[string]string{"body": "still here?", "client_msg_id": "after-deactivation"}); res.status != http.StatusUnauthorized {
		t.Errorf("bob's token posted after deactivation: %d", res.status)
	}
	res := bob.get("/")
	expectStatus(t, res, http.StatusSeeOther)
	res = bob.post("/login", url.Values{"username": {"bob"}, "password": {"password-bob"}})
	expectStatus(t, res, http.StatusForbidden)
	if !strings.Contains(res.body, "deactivated") {
		t.Errorf("the refusal does not say why:\n%.400s", res.body)
	}
	res = bob.post("/login", url.Values{"username": {"bob"}, "password": {"wrong-password"}})
	expectStatus(t, res, http.StatusUnauthorized)
	if !strings.Contains(carl.get("/rooms/general").body, "bob was here") {
		t.Error("bob's message was lost")
	}
	if !strings.Contains(text(byID(doc(t, admin.get("/admin/users").body), "user-bob")), "deactivated") {
		t.Error("the list does not show bob deactivated")
	}

	// Reactivated, he signs in again.
	expectStatus(t, admin.post("/admin/users/bob/activate", nil), http.StatusSeeOther)
	expectStatus(t, bob.post("/login", url.Values{"username": {"bob"}, "password": {"password-bob"}}), http.StatusSeeOther)
	expectStatus(t, bob.get("/"), http.StatusOK)

	// Make admin. The page then says what was done, once.
	res = admin.post("/admin/users/carl/admin", nil)
	expectStatus(t, res, http.StatusSeeOther)
	if loc := res.header.Get("Location"); loc != "/admin/users" {
		t.Errorf("after making an admin: Location %q", loc)
	}
	if got := text(byID(doc(t, admin.get("/admin/users").body), "form-ok")); !strings.Contains(got, "carl is an admin now") {
		t.Errorf("the page after the change says %q", got)
	}
	if byID(doc(t, admin.get("/admin/users").body), "form-ok") != nil {
		t.Error("the line is shown again on the next visit")
	}
	// A link from elsewhere cannot put its own words on the page.
	if body := admin.get("/admin/users?ok=Your+password+leaked:+visit+evil.example").body; strings.Contains(body, "evil.example") {
		t.Error("the admin page shows text from its URL")
	}
	expectStatus(t, carl.get("/admin/users"), http.StatusOK)

	// An admin cannot lock themselves out; unknown users are not found.
	res = admin.post("/admin/users/root/deactivate", nil)
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if !strings.Contains(res.body, "your own account") {
		t.Errorf("no reason given:\n%.400s", res.body)
	}
	expectStatus(t, admin.post("/admin/users/nobody/deactivate", nil), http.StatusNotFound)

	audit := text(byID(doc(t, admin.get("/admin/users").body), "audit"))
	for _, want := range []string{"root deactivated bob", "root reactivated bob", "root made admin carl"} {
		if !strings.Contains(strings.Join(strings.Fields(audit), " "), want) {
			t.Errorf("the audit list lacks %q:\n%s", want, audit)
		}
	}
}

// Deactivating on one node closes the account's sockets on every node.
func TestDeactivationClosesSocketsOnEveryNode(t *testing.T) {
	a, b := twoNodes(t)
	admin := a.client(t).signup("root")
	bob := b.client(t).signup("bob")
	bob.get("/rooms/general")
	onB := bob.dial("general", -1)
	expectStatus(t, admin.post("/admin/users/bob/deactivate", nil), http.StatusSeeOther)
	onB.expectClose(websocket.StatusPolicyViolation)
	expectStatus(t, bob.get("/"), http.StatusSeeOther)
}
