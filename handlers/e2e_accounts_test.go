//go:build e2e

// Browser tests of running agora for a team: an admin's invites, users and
// rooms pages, and a person's password and sessions pages, each with
// JavaScript on and off. Pages that others have open follow live (with
// JavaScript): a room renamed, archived or deleted, a session ended.
// Screenshots go to testdata/screenshots as e2e-{name}-{js|nojs}-*.png.
package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// jsModes runs test once with JavaScript on and once with it off, each on a
// fresh server and fresh browsers.
func jsModes(t *testing.T, test func(t *testing.T, ctx context.Context, js bool, mode string)) {
	for _, js := range []bool{true, false} {
		mode := "nojs"
		if js {
			mode = "js"
		}
		t.Run(mode, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
			defer cancel()
			test(t, ctx, js, mode)
		})
	}
}

// fill replaces what each field (a CSS selector) holds with its text, as a
// person types it.
func (b *browser) fill(what string, fields ...[2]string) {
	b.t.Helper()
	var acts []chromedp.Action[chromedp.Void]
	for _, f := range fields {
		acts = append(acts, chromedp.WaitVisible(chromedp.CSS(f[0])), chromedp.Clear(chromedp.CSS(f[0])), chromedp.SendKeys(chromedp.CSS(f[0]), f[1]))
	}
	b.do("fill "+what, acts...)
}

// press clicks a button or link that leads to another page and returns the
// status of the page it lands on.
func (b *browser) press(what, sel string) int64 {
	b.t.Helper()
	return b.navigate(what, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}

// textOf is the trimmed text of the first element sel matches, "" if none.
func (b *browser) textOf(sel string) string {
	b.t.Helper()
	return evalJS[string](b, fmt.Sprintf(`(document.querySelector(%s)?.textContent || "").replace(/\s+/g, " ").trim()`, jsString(sel)))
}

func (b *browser) has(sel string) bool {
	b.t.Helper()
	return evalJS[bool](b, fmt.Sprintf(`!!document.querySelector(%s)`, jsString(sel)))
}

// expectText fails the test unless the element sel says want.
func (b *browser) expectText(sel, want string) {
	b.t.Helper()
	if got := b.textOf(sel); !strings.Contains(got, want) {
		b.t.Errorf("%s: %s reads %q, want %q in it\n%s", b.name, sel, got, want, b.pageSummary())
	}
}

// logIn signs in through the login form and returns the landing page's status.
func (b *browser) logIn(srv *agoraServer, username, pw string) int64 {
	b.t.Helper()
	b.navigate("open /login", chromedp.Navigate(srv.url("/login")))
	b.fill("the login form", [2]string{"#username", username}, [2]string{"#password", pw})
	return b.press("log in", `form.auth button[type="submit"]`)
}

// waitBanner waits until the room page's banner shows and says want.
func (b *browser) waitBanner(want string) {
	b.t.Helper()
	b.waitJS("the banner saying "+want, fmt.Sprintf(`(b => !!b && !b.hidden && b.textContent.includes(%s))(document.querySelector('#room-banner'))`, jsString(want)), liveWait)
}

// TestE2EPasswordAndSessions: a person ends another session of theirs and
// changes their password (a wrong current one first); the other session's
// open room page says why it stopped, and only the new password signs in.
func TestE2EPasswordAndSessions(t *testing.T) {
	jsModes(t, func(t *testing.T, ctx context.Context, js bool, mode string) {
		srv := newServer(t)
		ann := newBrowser(t, ctx, "ann", js)
		// Ann's other device, with JavaScript, to see its pages told.
		phone := newBrowser(t, ctx, "ann's phone", true)
		ann.signUp(srv, "ann")
		if st := phone.logIn(srv, "ann", password); st != http.StatusOK {
			t.Fatalf("the phone's login landed on %d", st)
		}
		phone.openRoom(srv, "general")

		// Sessions: two, this one marked; end the other.
		ann.openPage(srv, "/settings/profile", false)
		if st := ann.press("open the sessions tab", `nav.tabs a[href="/settings/sessions"]`); st != http.StatusOK {
			t.Fatalf("the sessions page answered %d", st)
		}
		if n := evalJS[int](ann, `document.querySelectorAll('#sessions li').length`); n != 2 {
			t.Fatalf("%d sessions listed, want 2\n%s", n, ann.pageSummary())
		}
		ann.expectText(`#sessions li[data-current]`, "this session")
		ann.expectText(`#sessions li:not([data-current]) .device`, "Headless Chrome on Linux")
		ann.shots("e2e-sessions-" + mode)
		if st := ann.press("end the phone's session", `#sessions li:not([data-current]) form button`); st != http.StatusOK {
			t.Fatalf("ending a session landed on %d", st)
		}
		ann.expectText("#form-ok", "was ended")
		if n := evalJS[int](ann, `document.querySelectorAll('#sessions li').length`); n != 1 {
			t.Errorf("%d sessions listed after ending one, want 1", n)
		}
		phone.waitBanner("this session was ended")
		phone.navigate("reload", chromedp.Reload())
		if loc := phone.location(); !strings.HasPrefix(loc, srv.url("/login")) {
			t.Errorf("the ended session's reload is at %s, want the login page", loc)
		}

		// The password: the wrong current one is refused on the form.
		phone.logIn(srv, "ann", password)
		phone.openRoom(srv, "general")
		if st := ann.press("open the password tab", `nav.tabs a[href="/settings/password"]`); st != http.StatusOK {
			t.Fatalf("the password page answered %d", st)
		}
		ann.fill("the password form", [2]string{"#current_password", "not my password"}, [2]string{"#new_password", "a brand new passphrase"})
		if st := ann.press("change the password", `#password-form button[type="submit"]`); st != http.StatusUnauthorized {
			t.Errorf("a wrong current password answered %d, want 401", st)
		}
		ann.expectText("#form-error", "current password is not right")
		ann.shots("e2e-password-refused-" + mode)
		ann.fill("the password form", [2]string{"#current_password", password}, [2]string{"#new_password", "a brand new passphrase"})
		if st := ann.press("change the password", `#password-form button[type="submit"]`); st != http.StatusOK {
			t.Fatalf("changing the password landed on %d", st)
		}
		ann.expectText("#form-ok", "Your password was changed")
		ann.shots("e2e-password-changed-" + mode)
		phone.waitBanner("the password was changed")
		if st := phone.logIn(srv, "ann", password); st != http.StatusUnauthorized {
			t.Errorf("the old password answered %d, want 401", st)
		}
		if st := phone.logIn(srv, "ann", "a brand new passphrase"); st != http.StatusOK || phone.location() != srv.url("/") {
			t.Errorf("the new password landed on %d at %s", st, phone.location())
		}
		// Ann's own session went on.
		ann.openPage(srv, "/", false)
	})
}

// TestE2EAdminInvitesUsersAndRooms: with sign-up by invitation, an admin
// makes an invite link, a newcomer signs up with it; the admin deactivates,
// reactivates and promotes them; then renames, sets the topic of, archives,
// opens again and deletes a room the newcomer has open.
func TestE2EAdminInvitesUsersAndRooms(t *testing.T) {
	jsModes(t, func(t *testing.T, ctx context.Context, js bool, mode string) {
		srv := newServer(t, "-signup", "invite")
		root := newBrowser(t, ctx, "root", js)
		newbie := newBrowser(t, ctx, "newbie", js)
		root.signUp(srv, "root")

		// Invites.
		if st := root.press("open the admin pages", "#admin-link"); st != http.StatusOK {
			t.Fatalf("the admin link landed on %d", st)
		}
		root.press("open the invites tab", `nav.tabs a[href="/admin/invites"]`)
		if st := root.press("make an invite", `form[action="/admin/invites"] button[type="submit"]`); st != http.StatusCreated {
			t.Fatalf("making an invite answered %d\n%s", st, root.pageSummary())
		}
		link := evalJS[string](root, `document.querySelector('#new-invite').value`)
		if !strings.HasPrefix(link, srv.url("/invite/")) {
			t.Fatalf("the invite link is %q", link)
		}
		root.shots("e2e-admin-invites-" + mode)
		if st := newbie.navigate("open /signup", chromedp.Navigate(srv.url("/signup"))); st != http.StatusForbidden {
			t.Errorf("/signup with -signup invite answered %d, want 403", st)
		}
		newbie.expectText("#signup-closed", "invite link")
		newbie.navigate("open the invite", chromedp.Navigate(link))
		newbie.shots("e2e-invite-signup-" + mode)
		newbie.fill("the invite's form", [2]string{"#username", "newbie"}, [2]string{"#password", password})
		if st := newbie.press("sign up", `form.auth button[type="submit"]`); st != http.StatusOK || newbie.location() != srv.url("/") {
			t.Fatalf("signing up with the invite landed on %d at %s", st, newbie.location())
		}

		// Users: deactivate (the newcomer's open page is told), reactivate,
		// make admin.
		if js {
			newbie.openRoom(srv, "general")
		}
		root.press("open the users tab", `nav.tabs a[href="/admin/users"]`)
		if st := root.press("ask to deactivate newbie", `#user-newbie form[action$="/deactivate"] button`); st != http.StatusOK {
			t.Fatalf("asking to deactivate landed on %d", st)
		}
		root.expectText("#deactivate-warning", "Everything they wrote stays")
		root.shots("e2e-admin-deactivate-" + mode)
		if st := root.press("deactivate newbie", `#deactivate-user button[type="submit"]`); st != http.StatusOK {
			t.Fatalf("deactivating landed on %d", st)
		}
		root.expectText("#form-ok", "newbie is deactivated")
		root.expectText("#user-newbie", "deactivated")
		root.shots("e2e-admin-users-" + mode)
		if js {
			newbie.waitBanner("account deactivated")
		}
		if st := newbie.logIn(srv, "newbie", password); st != http.StatusForbidden {
			t.Errorf("a deactivated login answered %d, want 403", st)
		}
		newbie.expectText("#form-error", "deactivated")
		root.press("reactivate newbie", `#user-newbie form[action$="/activate"] button`)
		root.press("make newbie an admin", `#user-newbie form[action$="/admin"] button`)
		root.expectText("#form-ok", "newbie is an admin now")
		if st := newbie.logIn(srv, "newbie", password); st != http.StatusOK || !newbie.has("#admin-link") {
			t.Errorf("reactivated and promoted, newbie's login landed on %d with the admin link %v", st, newbie.has("#admin-link"))
		}
		root.press("remove admin from newbie", `#user-newbie form[action$="/demote"] button`)
		root.expectText("#form-ok", "newbie is no longer an admin")
		newbie.openPage(srv, "/", false)
		if newbie.has("#admin-link") {
			t.Error("demoted, newbie still has the admin link")
		}

		// Rooms: the newcomer makes one and keeps it open.
		newbie.fill("a new room's name", [2]string{"#new-room-name", "Launch Plans"})
		newbie.press("create the room", `form.new-room button[type="submit"]`)
		if js {
			newbie.waitConnected(stepTimeout)
		}
		root.press("open the rooms tab", `nav.tabs a[href="/admin/rooms"]`)
		root.expectText("#room-launch-plans", "1 member")
		root.fill("the new name", [2]string{`#room-launch-plans input[name="name"]`, "Launch 2027"})
		root.press("rename the room", `#room-launch-plans form[action$="/rename"] button`)
		root.expectText("#form-ok", "#Launch Plans is now #Launch 2027")
		root.fill("the topic", [2]string{`#room-launch-plans input[name="topic"]`, "Ship it in March"})
		root.press("set the topic", `#room-launch-plans form[action$="/topic"] button`)
		if js {
			newbie.waitJS("the new name in the header and the sidebar", `document.querySelector('#room-name').textContent === "#Launch 2027" &&
				document.querySelector('#room-list a[data-room="launch-plans"] .nav-name').textContent === "Launch 2027"`, liveWait)
			newbie.waitJS("the new topic", `document.querySelector('#room-topic').textContent === "Ship it in March"`, liveWait)
		} else {
			newbie.openPage(srv, "/rooms/launch-plans", false)
			newbie.expectText("#room-name", "#Launch 2027")
			newbie.expectText("#room-topic", "Ship it in March")
		}
		newbie.expectText("#messages", "root renamed #Launch Plans to #Launch 2027")

		// Archived: read-only, out of the sidebar, with a banner.
		root.press("archive the room", `#room-launch-plans form[action$="/archive"] button`)
		root.expectText("#room-launch-plans", "archived")
		if js {
			newbie.waitBanner("This room is archived")
			newbie.waitJS("the composer gone, and the room out of the sidebar",
				`!document.querySelector('#composer') && !document.querySelector('#room-list a[data-room="launch-plans"]')`, liveWait)
		}
		newbie.openPage(srv, "/rooms/launch-plans", false)
		newbie.expectText("#room-banner", "This room is archived: it is read-only.")
		if newbie.has("#composer") || newbie.has(`#room-list a[data-room="launch-plans"]`) {
			t.Error("an archived room's page has a composer, or the room is in the sidebar")
		}
		newbie.shots("e2e-archived-room-" + mode)
		root.shots("e2e-admin-rooms-" + mode)
		root.press("open the room again", `#room-launch-plans form[action$="/unarchive"] button`)
		root.expectText("#form-ok", "is open again")
		newbie.openPage(srv, "/rooms/launch-plans", js)
		if !newbie.has("#composer") {
			t.Error("an unarchived room has no composer")
		}

		// Deleted, behind a typed confirmation.
		if st := root.press("ask to delete the room", `#room-launch-plans a.danger-link`); st != http.StatusOK {
			t.Fatalf("the delete page answered %d", st)
		}
		root.fill("a wrong confirmation", [2]string{"#confirm", "Launch"})
		if st := root.press("delete with the wrong name", `#delete-room button[type="submit"]`); st != http.StatusUnprocessableEntity {
			t.Errorf("a wrong confirmation answered %d, want 422", st)
		}
		root.expectText("#form-error", "nothing was deleted")
		root.shots("e2e-admin-delete-room-" + mode)
		root.fill("the confirmation", [2]string{"#confirm", "Launch 2027"})
		if st := root.press("delete the room", `#delete-room button[type="submit"]`); st != http.StatusOK {
			t.Fatalf("deleting landed on %d", st)
		}
		root.expectText("#form-ok", "#Launch 2027 is deleted")
		if root.has("#room-launch-plans") {
			t.Error("the deleted room is still listed")
		}
		if js {
			newbie.waitBanner("this room was deleted")
		}
		if st := newbie.navigate("open the deleted room", chromedp.Navigate(srv.url("/rooms/launch-plans"))); st != http.StatusNotFound {
			t.Errorf("the deleted room answered %d, want 404", st)
		}
		root.navigate("open the audit list", chromedp.Navigate(srv.url("/admin/rooms")))
		for _, want := range []string{"made invite", "deactivated", "reactivated", "made admin", "removed admin", "renamed room", "set the topic of",
			"archived room", "unarchived room", "deleted room"} {
			if got := root.textOf("#audit"); !strings.Contains(got, want) {
				t.Errorf("the audit list lacks %q: %s", want, got)
			}
		}
	})
}
