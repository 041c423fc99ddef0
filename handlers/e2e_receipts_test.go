//go:build e2e

// Browser tests of read receipts (issue 21), on the harness of e2e_test.go.
package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// seenUnderJS is the text of the message "Seen" follows on the page.
const seenUnderJS = `(document.getElementById("seen")?.previousElementSibling?.querySelector(".body")?.textContent || "")`

// TestE2EReadReceipts: two browsers in a direct conversation; bob opening
// it puts "Seen" under alice's message in her page, live; a message alice
// sends while bob looks moves it under that one (bob's page signals the
// read). In #general, "Seen by 1" follows live as bob's page reads. No
// receipt frame finds its place missing (htmx would log it). The pages and the privacy
// switch pass axe in both schemes at both widths.
func TestE2EReadReceipts(t *testing.T) {
	srv, alice, bob := twoUsers(t)
	if status := alice.navigate("open the conversation with bob", chromedp.Navigate(srv.url("/dm/bob"))); status != http.StatusOK {
		t.Fatalf("/dm/bob answered %d", status)
	}
	alice.waitConnected(stepTimeout)
	alice.send("hello bob")
	alice.send("are you there?")
	if got := evalJS[string](alice, seenUnderJS); got != "" {
		t.Errorf("alice sees Seen under %q before bob read anything", got)
	}

	if status := bob.navigate("open the conversation with alice", chromedp.Navigate(srv.url("/dm/alice"))); status != http.StatusOK {
		t.Fatalf("/dm/alice answered %d", status)
	}
	bob.waitConnected(stepTimeout)
	alice.waitJS(`"Seen" under "are you there?"`, seenUnderJS+` === "are you there?"`, stepTimeout)

	// bob keeps looking; alice writes again: his page says it read it.
	alice.send("lunch at noon?")
	bob.waitJS("alice's new message", hasMessageJS("lunch at noon?"), stepTimeout)
	alice.waitJS(`"Seen" moved under "lunch at noon?"`, seenUnderJS+` === "lunch at noon?" && document.querySelectorAll("#seen").length === 1`, stepTimeout)
	alice.screenshot("receipts-dm-live", true)
	alice.auditPage(srv, "receipts-dm", "/dm/bob", true)
	if got := evalJS[string](alice, seenUnderJS); got != "lunch at noon?" {
		t.Errorf(`reloaded, alice's page shows "Seen" under %q`, got)
	}

	// A small room: bob has #general open, and looks, when alice writes.
	bob.openRoom(srv, "general")
	alice.openRoom(srv, "general")
	alice.send("standup in five")
	bob.waitJS("alice's message in #general", hasMessageJS("standup in five"), stepTimeout)
	alice.waitJS(`"Seen by 1" with bob`, `document.getElementById("seen-by-count")?.textContent === "1" &&
		[...document.querySelectorAll("#seen-by-names [data-reader]")].map(e => e.dataset.reader).join() === "bob"`, stepTimeout)
	alice.auditPage(srv, "receipts-room", "/rooms/general", true)
	if got := evalJS[string](alice, `(() => { const s = document.getElementById("seen-by");
		return s && getComputedStyle(s).display !== "none" ? s.querySelector("summary").textContent : "" })()`); got != "Seen by 1" {
		t.Errorf("reloaded, alice's #general shows %q under her message, want Seen by 1", got)
	}
	alice.do("open Seen by", chromedp.Evaluate[chromedp.Void](`document.getElementById("seen-by").open = true`))
	alice.screenshot("receipts-room-open", true)

	bob.auditPage(srv, "privacy", "/settings/privacy", false)
	for _, b := range []*browser{alice, bob} {
		b.mu.Lock()
		for _, line := range b.console {
			if strings.Contains(line, "oobErrorNoTarget") {
				t.Errorf("%s: %s", b.name, line)
			}
		}
		b.mu.Unlock()
	}
}
