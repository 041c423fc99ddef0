//go:build e2e

// Browser tests of issue 25's everyday polish: nothing typed is lost when
// the server is out of reach, and the keys of editing. They reuse the
// harness of e2e_test.go.
package handlers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestE2EOfflineSendIsKept: messages sent while the server is down stay in
// the composer (the first) and the outbox (the next), marked unsent, the
// tab never leaving the room for a browser error page; once the server is
// back on the same address and database they are sent by themselves, in
// order, each once, and the composer is empty.
func TestE2EOfflineSendIsKept(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	srv := newServer(t)
	alice := newBrowser(t, ctx, "alice", true)
	alice.signUp(srv, "alice")
	alice.openRoom(srv, "general")
	alice.sendComposed("before the server went away", "before the server went away")
	alice.markPage("alice-page")
	roomURL := srv.url("/rooms/general")

	srv.stop()
	alice.waitJS(`#status[data-state="reconnecting"]`, `document.querySelector('#status')?.dataset.state === "reconnecting"`, 10*time.Second)

	first, second := "typed while the server was down", "and a second one, still down"
	alice.do("type and press Enter with the server down",
		chromedp.Focus(chromedp.ID("body")), chromedp.SendKeys(chromedp.ID("body"), first), pressEnter)
	alice.waitJS("the composer marked unsent", `document.querySelector('#composer').classList.contains('unsent') && !document.querySelector('#composer-unsent').hidden`, liveWait)
	if loc := alice.location(); loc != roomURL {
		t.Fatalf("after Enter with the server down the tab is at %s, want the room %s", loc, roomURL)
	}
	if got := alice.composer(); got.Text != first {
		t.Errorf("the composer holds %q, want the unsent %q", got.Text, first)
	}
	alice.screenshot("offline-unsent", true)

	// A second message waits behind the first, which shows in the outbox.
	alice.do("type a second message and press Enter",
		chromedp.SetValue(chromedp.ID("body"), second), chromedp.Focus(chromedp.ID("body")), pressEnter)
	alice.waitJS("the first message listed as waiting", fmt.Sprintf(`!document.querySelector('#outbox').hidden && document.querySelector('#outbox').textContent.includes(%s)`, jsString(first)), liveWait)
	if n := evalJS[int](alice, `JSON.parse(sessionStorage.getItem("agora:outbox:general") || "[]").length`); n != 2 {
		t.Errorf("the outbox keeps %d messages, want 2", n)
	}
	if evalJS[bool](alice, hasMessageJS(first)) {
		t.Error("a message the server never got is shown as sent")
	}

	srv.restart()
	alice.waitConnected(40 * time.Second)
	alice.waitJS("both messages sent", hasMessageJS(first)+" && "+hasMessageJS(second), liveWait)
	alice.waitJS("an empty composer, nothing waiting", `document.querySelector('#body').value === "" && document.querySelector('#outbox').hidden && document.querySelector('#composer-unsent').hidden && !document.querySelector('#composer').classList.contains('unsent')`, liveWait)
	if m := alice.pageMark(); m != "alice-page" {
		t.Errorf("the page was reloaded (marker %q): the outbox must go over the socket", m)
	}
	if loc := alice.location(); loc != roomURL {
		t.Errorf("the tab is at %s, want the room %s", loc, roomURL)
	}

	// What the server stored, in a fresh page: each once, in the order sent.
	alice.openRoom(srv, "general")
	var order []string
	for _, m := range alice.messages() {
		for _, text := range []string{"before the server went away", first, second} {
			if strings.Contains(m.Body, text) {
				order = append(order, text)
			}
		}
	}
	if want := []string{"before the server went away", first, second}; strings.Join(order, "|") != strings.Join(want, "|") {
		t.Errorf("the room holds %q, want each once in the order sent: %q", order, want)
	}
	if n := evalJS[int](alice, `JSON.parse(sessionStorage.getItem("agora:outbox:general") || "[]").length`); n != 0 {
		t.Errorf("the outbox still keeps %d messages after they were sent", n)
	}
}
