//go:build e2e

// Browser tests of status and per-room notification levels (issue 20), in
// headless Chromium. Run with `make e2e`.

package handlers_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestE2EStatusAndRoomLevel: alice sets a status on her profile (an emoji
// by its shortcode, a line, do not disturb for an hour); bob, in a room
// where her phone is open, sees it beside her name at once, in who is here
// and in the member list, and in the header of their direct conversation.
// bob sets that room to "nothing" from its menu: its unread count stays
// away while he is elsewhere, and a mention of him still shows.
func TestE2EStatusAndRoomLevel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	srv := newServer(t)
	alice := newBrowser(t, ctx, "alice", true)
	phone := newBrowser(t, ctx, "alice-phone", true)
	bob := newBrowser(t, ctx, "bob", true)
	alice.signUp(srv, "alice")
	bob.signUp(srv, "bob")
	phone.logIn(srv, "alice", password)
	phone.openRoom(srv, "general")
	bob.openRoom(srv, "general")
	bob.waitPresence("alice", "bob")
	bob.waitJS("alice active", `document.querySelector('#presence-alice')?.dataset.status === "active"`, liveWait)

	alice.openPage(srv, "/settings/profile", false)
	alice.fill("the status", [2]string{"#status_emoji", ":calendar:"}, [2]string{"#status_text", "In a meeting"})
	alice.do("do not disturb for an hour", chromedp.SetValue(chromedp.ID("dnd_minutes"), "60"))
	alice.press("save the status", `#status-form button[type="submit"]`)
	alice.expectText("#status-saved", "Status saved")
	alice.expectText("#dnd-until", "Do not disturb is on until")
	if got := evalJS[string](alice, `document.querySelector('#status_emoji').value`); got != "📅" {
		t.Errorf("the emoji field after saving holds %q, want 📅", got)
	}
	alice.checkAxe("the profile with a status")
	alice.shots("status-profile")

	bob.waitJS("alice's status in who is here", `(e => !!e && e.dataset.status === "dnd" && e.textContent.includes("📅"))(document.querySelector('#presence-alice'))`, liveWait)
	bob.waitJS("alice's status in the member list", `(e => !!e && e.dataset.status === "dnd" && e.querySelector('.member-status')?.textContent === "📅")(document.querySelector('#member-alice'))`, liveWait)
	bob.do("open the room menu", chromedp.Click(chromedp.CSS(`details.room-menu > summary`)))
	bob.checkAxe("the room menu with a status and the level form")
	bob.shots("status-room-menu")

	// The room's level: nothing. The form is a plain one, back to the room.
	bob.do("choose nothing", chromedp.Click(chromedp.CSS(`#notify-form input[value="nothing"]`)))
	bob.press("save the level", `#notify-form button[type="submit"]`)
	bob.waitConnected(stepTimeout)
	if !evalJS[bool](bob, `document.querySelector('#notify-form input[value="nothing"]').checked`) {
		t.Error("after saving, the form does not show the room at nothing")
	}

	bob.postFormAt("/dm/alice", map[string]string{})
	bob.openPage(srv, "/dm/alice", true)
	bob.waitJS("alice's status in the header", `(e => !!e && e.dataset.status === "dnd" && e.textContent.includes("In a meeting"))(document.querySelector('#dm-status-alice'))`, liveWait)

	phone.sendComposed("plain news for everyone", "plain news for everyone")
	phone.sendComposed("@bob have a look", "@bob have a look")
	bob.waitJS("the mention counted in general", `document.querySelector('#mentions-general')?.textContent.trim() === "@1"`, liveWait)
	if bob.has("#unread-general") {
		t.Errorf("general at nothing shows an unread count: %q", bob.textOf("#unread-general"))
	}
	bob.shots("status-dm-header")
}
