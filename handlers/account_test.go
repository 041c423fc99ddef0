package handlers_test

import (
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"golang.org/x/net/html"

	"agora/chat"
	"agora/chat/live"
	"agora/chat/live/cluster"
	"agora/handlers"
)

// login signs the client in as username (password "password-"+username),
// opening a session of its own.
func (c *client) login(username string) *client {
	c.t.Helper()
	c.loginWith(username, "password-"+username)
	return c
}

func (c *client) loginWith(username, password string) {
	c.t.Helper()
	res := c.do("POST", "/login", url.Values{"username": {username}, "password": {password}}, map[string]string{"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"})
	expectStatus(c.t, res, http.StatusSeeOther)
}

// changePassword posts the password form.
func (c *client) changePassword(current, next string) response {
	c.t.Helper()
	return c.post("/settings/password", url.Values{"current_password": {current}, "new_password": {next}})
}

func TestChangePassword(t *testing.T) {
	var logs syncBuffer
	ts := newServerWith(t, handlers.Config{Log: slog.New(slog.NewTextHandler(&logs, nil))})
	here := ts.client(t).signup("ann")
	phone := ts.client(t).login("ann")
	laptop := ts.client(t).login("ann")
	ts.client(t).signup("bob").get("/rooms/general")
	phone.get("/rooms/general")
	phoneSock := phone.dial("general", -1)
	bobSock := ts.client(t).login("bob").dial("general", -1)

	page := here.get("/settings/password")
	expectStatus(t, page, http.StatusOK)
	form := byID(doc(t, page.body), "password-form")
	if form == nil {
		t.Fatalf("no #password-form:\n%.600s", page.body)
	}
	for _, name := range []string{"current_password", "new_password"} {
		if len(findAll(form, func(n *html.Node) bool { v, _ := attr(n, "name"); return n.Data == "input" && v == name })) != 1 {
			t.Errorf("the form has no input %q", name)
		}
	}

	// Refusals say why, on the form, and change nothing.
	for _, tc := range []struct {
		current, next string
		status        int
		says          string
	}{
		{"wrong-password", "a-new-password", http.StatusUnauthorized, "current password is not right"},
		{"", "a-new-password", http.StatusUnauthorized, "current password is not right"},
		{"password-ann", "short", http.StatusUnprocessableEntity, "at least 8 characters"},
		{"password-ann", "", http.StatusUnprocessableEntity, "at least 8 characters"},
		{"password-ann", strings.Repeat("x", 300), http.StatusUnprocessableEntity, "at most 256 bytes"},
		{"password-ann", "password-ann", http.StatusUnprocessableEntity, "same as the current one"},
	} {
		res := here.changePassword(tc.current, tc.next)
		expectStatus(t, res, tc.status)
		n := doc(t, res.body)
		if e := byID(n, "form-error"); e == nil || !strings.Contains(text(e), tc.says) {
			t.Errorf("%q → %q: the page does not say %q:\n%.800s", tc.current, tc.next, tc.says, res.body)
		}
		if byID(n, "password-form") == nil {
			t.Errorf("%q → %q: no form to try again", tc.current, tc.next)
		}
	}
	// Another site's form changes nothing.
	res := here.do("POST", "/settings/password", url.Values{"current_password": {"password-ann"}, "new_password": {"from-evil-site"}},
		map[string]string{"Sec-Fetch-Site": "cross-site"})
	expectStatus(t, res, http.StatusForbidden)
	// Signed out, there is nothing to change.
	expectStatus(t, ts.client(t).changePassword("password-ann", "signed-out-pw"), http.StatusUnauthorized)
	expectStatus(t, phone.get("/"), http.StatusOK)
	ts.client(t).login("ann") // the old password still works

	// The right one: this session stays, every other one ends, their
	// sockets close (1008), and only the new password signs in.
	res = here.changePassword("password-ann", "correct horse battery")
	expectStatus(t, res, http.StatusSeeOther)
	if loc := res.header.Get("Location"); loc != "/settings/password?changed=1" {
		t.Fatalf("after the change: Location %q", loc)
	}
	done := here.get("/settings/password?changed=1")
	expectStatus(t, done, http.StatusOK)
	if ok := byID(doc(t, done.body), "form-ok"); ok == nil || !strings.Contains(text(ok), "was changed") {
		t.Errorf("no success note:\n%.800s", done.body)
	}
	phoneSock.expectClose(websocket.StatusPolicyViolation)
	for _, c := range []*client{phone, laptop} {
		expectStatus(t, c.get("/"), http.StatusSeeOther)
	}
	expectStatus(t, here.get("/"), http.StatusOK)
	bobSock.say("bob is still here")
	bobSock.readUntil("bob is still here")
	res = ts.client(t).post("/login", url.Values{"username": {"ann"}, "password": {"password-ann"}})
	expectStatus(t, res, http.StatusUnauthorized)
	ts.client(t).loginWith("ann", "correct horse battery")

	// Nothing secret reaches the log.
	for _, secret := range []string{"correct horse battery", "password-ann", "wrong-password"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "password changed") {
		t.Errorf("the change is not logged:\n%s", logs.String())
	}
}

// Guessing the current password costs what guessing at the login does: the
// same limits, spent before hashing, shared with the login form.
func TestChangePasswordIsRateLimited(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	limited := 0
	for range 15 {
		switch res := ann.changePassword("wrong-password", "a-new-password"); res.status {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			limited++
			if !strings.Contains(res.body, "Too many failed attempts") {
				t.Errorf("the refusal does not say why:\n%.600s", res.body)
			}
		default:
			t.Fatalf("status %d", res.status)
		}
	}
	if limited == 0 {
		t.Fatal("15 wrong guesses in a row were all checked")
	}
	// Now even the right one waits, and the login form is held too.
	expectStatus(t, ann.changePassword("password-ann", "a-new-password"), http.StatusTooManyRequests)
	expectStatus(t, ts.client(t).post("/login", url.Values{"username": {"ann"}, "password": {"password-ann"}}), http.StatusTooManyRequests)
	expectStatus(t, ann.get("/"), http.StatusOK)
}

func TestGuestsHaveNoPasswordPage(t *testing.T) {
	ts := newGuestServer(t)
	g := ts.client(t)
	expectStatus(t, g.post("/guest", url.Values{"display_name": {"Visitor"}}), http.StatusSeeOther)
	expectStatus(t, g.get("/settings/password"), http.StatusForbidden)
	expectStatus(t, g.changePassword("", "a-new-password"), http.StatusForbidden)
	if strings.Contains(g.get("/settings/sessions").body, `href="/settings/password"`) {
		t.Error("a guest is offered the password page")
	}
}

// sessionRows returns the sessions page's entries by their element id.
func sessionRows(t *testing.T, c *client) map[string]*html.Node {
	t.Helper()
	res := c.get("/settings/sessions")
	expectStatus(t, res, http.StatusOK)
	rows := map[string]*html.Node{}
	for _, li := range findAll(doc(t, res.body), func(n *html.Node) bool {
		id, _ := attr(n, "id")
		return n.Data == "li" && strings.HasPrefix(id, "session-")
	}) {
		id, _ := attr(li, "id")
		rows[strings.TrimPrefix(id, "session-")] = li
	}
	return rows
}

func currentSession(t *testing.T, rows map[string]*html.Node) string {
	t.Helper()
	var cur []string
	for id, li := range rows {
		if v, _ := attr(li, "data-current"); v == "true" {
			cur = append(cur, id)
		}
	}
	if len(cur) != 1 {
		t.Fatalf("%d sessions are marked as this one", len(cur))
	}
	return cur[0]
}

func TestSessionsPage(t *testing.T) {
	ts := newTestServer(t)
	here := ts.client(t).signup("ann")
	firefox := ts.client(t).login("ann")
	other := ts.client(t).login("ann")
	bob := ts.client(t).signup("bob")
	firefox.get("/rooms/general")
	firefoxSock := firefox.dial("general", -1)
	otherSock := other.dial("general", -1)

	rows := sessionRows(t, here)
	if len(rows) != 3 {
		t.Fatalf("%d sessions listed, want 3", len(rows))
	}
	mine := currentSession(t, rows)
	if !strings.Contains(text(rows[mine]), "this session") {
		t.Errorf("this session is not marked: %s", text(rows[mine]))
	}
	for id, li := range rows {
		forms := findAll(li, func(n *html.Node) bool { return n.Data == "form" })
		if action := ""; len(forms) == 1 {
			if action, _ = attr(forms[0], "action"); action != "/settings/sessions/"+id+"/end" {
				t.Errorf("session %s's form goes to %q", id, action)
			}
		} else {
			t.Errorf("session %s has %d forms, want one to end it", id, len(forms))
		}
	}
	firefoxID := currentSession(t, sessionRows(t, firefox))
	row := text(rows[firefoxID])
	for _, want := range []string{"Firefox on Linux", "127.0.0.1", "last seen"} {
		if !strings.Contains(row, want) {
			t.Errorf("the Firefox session's entry lacks %q: %s", want, row)
		}
	}
	// The page names sessions by an opaque id, never their token's hash.
	page := here.get("/settings/sessions").body
	for _, c := range []*client{here, firefox, other} {
		for _, ck := range c.http.Jar.Cookies(mustURL(t, ts.URL)) {
			h := chat.HashToken(ck.Value)
			if strings.Contains(page, ck.Value) || strings.Contains(strings.ToLower(page), hex.EncodeToString(h)) ||
				strings.Contains(page, base64.RawURLEncoding.EncodeToString(h)) {
				t.Error("the page holds a session token or its hash")
			}
		}
	}

	// Someone else's session, or a made-up one: not found, nothing ends.
	bobID := currentSession(t, sessionRows(t, bob))
	for _, id := range []string{bobID, "0123456789abcdef01234567", "x"} {
		expectStatus(t, here.post("/settings/sessions/"+id+"/end", nil), http.StatusNotFound)
	}
	expectStatus(t, bob.get("/"), http.StatusOK)
	expectStatus(t, bob.post("/settings/sessions/"+firefoxID+"/end", nil), http.StatusNotFound)
	expectStatus(t, firefox.get("/"), http.StatusOK)
	// Another site's form ends nothing.
	expectStatus(t, here.do("POST", "/settings/sessions/"+firefoxID+"/end", url.Values{}, map[string]string{"Sec-Fetch-Site": "cross-site"}), http.StatusForbidden)
	expectStatus(t, here.do("POST", "/settings/sessions/end-others", url.Values{}, map[string]string{"Sec-Fetch-Site": "cross-site"}), http.StatusForbidden)
	expectStatus(t, firefox.get("/"), http.StatusOK)
	// Ending one: its sockets close (1008), it is signed out, the rest stay.
	res := here.post("/settings/sessions/"+firefoxID+"/end", nil)
	expectStatus(t, res, http.StatusSeeOther)
	if loc := res.header.Get("Location"); !strings.HasPrefix(loc, "/settings/sessions?") {
		t.Errorf("Location %q", loc)
	}
	firefoxSock.expectClose(websocket.StatusPolicyViolation)
	expectStatus(t, firefox.get("/"), http.StatusSeeOther)
	expectStatus(t, other.get("/"), http.StatusOK)
	if !strings.Contains(here.get(res.header.Get("Location")).body, "was ended") {
		t.Error("no note that the session ended")
	}
	if rows := sessionRows(t, here); len(rows) != 2 || rows[firefoxID] != nil {
		t.Errorf("after ending one, %d sessions listed", len(rows))
	}

	// All others: only this one is left.
	expectStatus(t, here.post("/settings/sessions/end-others", nil), http.StatusSeeOther)
	otherSock.expectClose(websocket.StatusPolicyViolation)
	expectStatus(t, other.get("/"), http.StatusSeeOther)
	expectStatus(t, here.get("/"), http.StatusOK)
	expectStatus(t, bob.get("/"), http.StatusOK)
	if rows := sessionRows(t, here); len(rows) != 1 || rows[mine] == nil {
		t.Errorf("after ending the others, %d sessions listed", len(rows))
	}
	if byID(doc(t, here.get("/settings/sessions").body), "end-others") != nil {
		t.Error("'End all other sessions' is offered with no other session")
	}
	// The pages are linked from the other settings pages.
	for _, path := range []string{"/settings/profile", "/settings/tokens", "/settings/password", "/settings/sessions"} {
		body := here.get(path).body
		for _, link := range []string{`href="/settings/password"`, `href="/settings/sessions"`} {
			if !strings.Contains(body, link) {
				t.Errorf("%s does not link %s", path, link)
			}
		}
	}

	// Ending this session is logging out: its socket closes, the sign-in page follows.
	hereSock := here.dial("general", -1)
	res = here.post("/settings/sessions/"+mine+"/end", nil)
	expectStatus(t, res, http.StatusSeeOther)
	if loc := res.header.Get("Location"); loc != "/login" {
		t.Errorf("after ending this session: Location %q", loc)
	}
	hereSock.expectClose(websocket.StatusPolicyViolation)
	expectStatus(t, here.get("/"), http.StatusSeeOther)
	expectStatus(t, bob.get("/"), http.StatusOK)
}

// twoNodes starts two nodes of one cluster on one database and an
// in-process NATS.
func twoNodes(t *testing.T) (a, b *testServer) {
	t.Helper()
	ns := startNATS(t)
	a = newTestServer(t)
	b = startTestServer(t, a.path, live.HubConfig{}, false)
	joinCluster(t, a, ns, cluster.Options{})
	joinCluster(t, b, ns, cluster.Options{})
	return a, b
}

// Ending a session, or changing the password, on one node closes the
// sockets concerned on every node.
func TestSessionsEndOnEveryNode(t *testing.T) {
	a, b := twoNodes(t)
	here := a.client(t).signup("ann")
	phone := b.client(t).login("ann")
	laptop := b.client(t).login("ann")
	phone.get("/rooms/general")
	phoneSock, laptopSock := phone.dial("general", -1), laptop.dial("general", -1)

	phoneID := currentSession(t, sessionRows(t, phone))
	expectStatus(t, here.post("/settings/sessions/"+phoneID+"/end", nil), http.StatusSeeOther)
	phoneSock.expectClose(websocket.StatusPolicyViolation)
	expectStatus(t, phone.get("/"), http.StatusSeeOther)

	expectStatus(t, here.changePassword("password-ann", "a much better one"), http.StatusSeeOther)
	laptopSock.expectClose(websocket.StatusPolicyViolation)
	expectStatus(t, laptop.get("/"), http.StatusSeeOther)
	expectStatus(t, here.as(b).get("/"), http.StatusOK)
}
