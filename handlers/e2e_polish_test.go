//go:build e2e

// Browser tests of issue 25's everyday polish: nothing typed is lost when
// the server is out of reach, and the keys of editing. They reuse the
// harness of e2e_test.go.
package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
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

// TestE2EEditKeysAndOneTabStop: Enter saves an edit and Escape cancels one;
// the message list is one Tab stop (one entry and its own controls in the
// Tab order), with the arrow keys, Home and End moving between entries.
func TestE2EEditKeysAndOneTabStop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	srv := newServer(t)
	alice := newBrowser(t, ctx, "alice", true)
	alice.signUp(srv, "alice")
	alice.openRoom(srv, "general")
	for _, text := range []string{"first words", "second words", "third words"} {
		alice.sendComposed(text, text)
	}
	thirdID := alice.messageIDOf("third words")

	// Up in the empty composer, then Enter in the edit form, saves.
	alice.do("focus the composer", chromedp.Focus(chromedp.ID("body")))
	alice.do("Up", pressArrowUp)
	alice.waitJS("the edit form, focused", fmt.Sprintf(`document.activeElement?.closest("form.editing")?.id === %s`, jsString(thirdID)), liveWait)
	if hint := evalJS[string](alice, `(h => h && !h.hidden ? h.textContent : "")(document.querySelector("form.editing .hint"))`); !strings.Contains(hint, "Enter saves") {
		t.Errorf("the edit form's hint says %q, want the keys", hint)
	}
	alice.do("change the text and press Enter",
		chromedp.Evaluate[chromedp.Void](`document.activeElement.value = "third words, edited"`), pressEnter)
	alice.waitJS("the edited message", fmt.Sprintf(`!document.querySelector("form.editing") && document.querySelector(%s)?.textContent.includes("third words, edited") && !!document.querySelector(%s)`,
		jsString("#"+thirdID+" .body"), jsString("#"+thirdID+" .edited")), liveWait)

	// Escape cancels: the text stays as saved.
	alice.do("focus the composer", chromedp.Focus(chromedp.ID("body")))
	alice.do("Up", pressArrowUp)
	alice.waitJS("the edit form again", `document.activeElement?.closest("form.editing") != null`, liveWait)
	alice.do("change the text and press Escape",
		chromedp.Evaluate[chromedp.Void](`document.activeElement.value = "not to be saved"`), pressEscape)
	alice.waitJS("the edit cancelled", fmt.Sprintf(`!document.querySelector("form.editing") && document.querySelector(%s)?.textContent.includes("third words, edited")`, jsString("#"+thirdID+" .body")), liveWait)
	if evalJS[bool](alice, hasMessageJS("not to be saved")) {
		t.Error("Escape saved the edit")
	}

	// One Tab stop: every element of the list in the Tab order is one entry
	// or inside it; arrows and Home/End move the focus between entries.
	tabbable := func() []string {
		return evalJS[[]string](alice, `[...document.querySelectorAll('#messages a[href], #messages button, #messages [tabindex], #messages summary')]
			.filter(e => e.tabIndex >= 0 && e.getClientRects().length > 0)
			.map(e => (e.closest('#messages > [data-id]') || e).id)`)
	}
	// The cancelled edit's view is swapped in before htmx settles it, and
	// app.js gives the list its one Tab stop again once it has settled.
	alice.waitJS("the list's one entry in the Tab order", `document.querySelector('#messages > [tabindex="0"]') !== null`, liveWait)
	stops := tabbable()
	if len(stops) == 0 {
		t.Fatal("nothing in the message list is in the Tab order")
	}
	for _, id := range stops {
		if id != stops[0] {
			t.Fatalf("the Tab order holds parts of several entries: %v", stops)
		}
	}
	lastID := evalJS[string](alice, `[...document.querySelectorAll('#messages > [data-id]')].pop().id`)
	if stops[0] != lastID {
		t.Errorf("the entry in the Tab order is %s, want the latest, %s", stops[0], lastID)
	}
	secondID := alice.messageIDOf("second words")
	alice.do("focus the list's entry", chromedp.Evaluate[chromedp.Void](`document.querySelector('#messages > [tabindex="0"]').focus()`))
	alice.do("Up", pressArrowUp)
	alice.waitJS("the focus on the entry above", fmt.Sprintf(`document.activeElement.id === %s && document.activeElement.tabIndex === 0`, jsString(secondID)), liveWait)
	if stops := tabbable(); len(stops) == 0 || stops[0] != secondID || stops[len(stops)-1] != secondID {
		t.Errorf("after Up the Tab order holds %v, want only %s", stops, secondID)
	}
	alice.do("Tab", pressTab)
	if got := evalJS[string](alice, `document.activeElement.className + "|" + (document.activeElement.closest("[id^=message-]")?.id || "")`); got != "more|"+secondID {
		t.Errorf("Tab from the entry focused %q, want its actions link", got)
	}
	alice.do("focus the entry", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.getElementById(%s).focus()`, jsString(secondID))))
	alice.do("Home", pressKey("Home", "Home", 36, false))
	alice.waitJS("the focus on the first entry", `document.activeElement === document.querySelector('#messages > [data-id]')`, liveWait)
	alice.do("End", pressKey("End", "End", 35, false))
	alice.waitJS("the focus on the last entry", fmt.Sprintf(`document.activeElement.id === %s`, jsString(lastID)), liveWait)
	alice.checkAxe("room, message list with one Tab stop")
}

// tabTo presses Tab until the focused element matches sel, at most n times.
func (b *browser) tabTo(sel string, n int) {
	b.t.Helper()
	for i := 0; i <= n; i++ {
		if evalJS[bool](b, fmt.Sprintf(`!!document.activeElement?.matches(%s)`, jsString(sel))) {
			return
		}
		if i < n {
			b.do("Tab", pressTab)
		}
	}
	b.t.Fatalf("%s: %d Tabs did not reach %s (at %s)", b.name, n, sel, evalJS[string](b, `document.activeElement?.outerHTML.slice(0, 120) || ""`))
}

// TestE2EQuoteAndCopyLinkByKeyboard: from the message list, with keys alone,
// a message's Quote puts it quoted in the composer and its Copy link puts
// its permalink on the clipboard.
func TestE2EQuoteAndCopyLinkByKeyboard(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	srv := newServer(t)
	alice := newBrowser(t, ctx, "alice", true)
	alice.signUp(srv, "alice")
	alice.do("let the page use the clipboard", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		for _, name := range []string{"clipboard-read", "clipboard-write"} {
			if _, err := cdp.Call(ctx, tg, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
				Permission: &cdpbrowser.PermissionDescriptor{Name: name, AllowWithoutSanitization: true},
				Setting:    cdpbrowser.PermissionSettingGranted, Origin: srv.url(""),
			}); err != nil {
				return err
			}
		}
		return nil
	}))
	alice.openRoom(srv, "general")
	alice.sendComposed("**quotable** words\nand a second line", "quotable")
	id := alice.messageIDOf("quotable")

	openMenu := func() {
		t.Helper()
		// From the room's Members button, the last thing in the header, one
		// Tab reaches the list's one Tab stop (the latest entry), the next
		// its actions.
		alice.do("focus the Members button", chromedp.Focus(chromedp.CSS(".room-menu summary")))
		alice.tabTo("#"+id, 1)
		alice.tabTo("#"+id+" .more", 1)
		alice.do("Enter", pressEnterKey)
		alice.waitJS("the menu, focused", fmt.Sprintf(`!!document.activeElement.closest(%s)`, jsString("#"+id+" .menu")), liveWait)
	}

	openMenu()
	alice.tabTo("#"+id+" .menu .quote", 40)
	alice.do("Enter on Quote", pressEnterKey)
	alice.waitJS("the message quoted in the composer, focused", `document.activeElement.id === "body" && document.activeElement.value === "> quotable words\n> and a second line\n"`, liveWait)
	alice.screenshot("quote-in-composer", false)
	alice.do("empty the composer", chromedp.Evaluate[chromedp.Void](`document.querySelector("#body").value = ""`))

	openMenu()
	alice.tabTo("#"+id+" .menu .copy-link", 40)
	alice.do("Enter on Copy link", pressEnterKey)
	alice.waitJS("the link says it was copied", fmt.Sprintf(`document.querySelector(%s)?.textContent === "Link copied"`, jsString("#"+id+" .copy-link")), liveWait)
	num := strings.TrimPrefix(id, "message-")
	want := srv.url("/rooms/general?around=" + num + "#message-" + num)
	ctx2, cancel2 := context.WithTimeout(alice.ctx, stepTimeout)
	defer cancel2()
	got, err := chromedp.Run(ctx2, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("read the clipboard: %v", err)
	}
	if got != want {
		t.Errorf("the clipboard holds %q, want the permalink %q", got, want)
	}
	alice.checkAxe("room with a message menu open")
}

// TestE2EDesignerScreens: the pages of the designer's list, with the new
// formatting in a conversation, pass axe in both schemes at both widths, and
// their screenshots (design-*.png) are there to be looked at.
func TestE2EDesignerScreens(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	srv := newServer(t)
	alice := newBrowser(t, ctx, "alice", true)
	bob := newBrowser(t, ctx, "bob", true)
	alice.signUp(srv, "alice")
	bob.signUp(srv, "bob")
	alice.postFormAt("/rooms", map[string]string{"name": "design reviews"})
	alice.postFormAt("/rooms/design-reviews/topic", map[string]string{"topic": "Mockups and critiques, Thursdays"})
	alice.openRoom(srv, "general")
	bob.openRoom(srv, "general")
	alice.sendComposed("Release notes:\n- **faster** search\n- ~~old~~ new sidebar\n1. merge\n2. tag", "faster")
	bob.sendComposed("> faster search\nyes! see `make bench`", "make bench")
	alice.sendComposed("```go\nfmt.Println(\"hi\")\n```", "fmt.Println")
	for _, p := range []struct{ name, path string }{
		{"lobby", "/"}, {"room", "/rooms/general"}, {"rooms", "/rooms"}, {"search", "/search?q=faster"}, {"admin-users", "/admin/users"},
	} {
		alice.auditPage(srv, "design-"+p.name, p.path, p.path == "/rooms/general")
	}
}

// TestE2EProfilePictureAndTheme: a picture chosen on the profile replaces
// the initials on messages, for others too; the dark theme, chosen on the
// profile, holds on a device that asks for light; the profile page passes
// axe in both themes.
func TestE2EProfilePictureAndTheme(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	srv := newServer(t)
	alice := newBrowser(t, ctx, "alice", true)
	bob := newBrowser(t, ctx, "bob", true)
	alice.signUp(srv, "alice")
	bob.signUp(srv, "bob")
	alice.openRoom(srv, "general")
	alice.sendComposed("a face for this one", "a face for this one")

	pic := filepath.Join(t.TempDir(), "me.png")
	if err := os.WriteFile(pic, avatarFixture(t), 0o644); err != nil {
		t.Fatal(err)
	}
	alice.navigate("open the profile", chromedp.Navigate(srv.url("/settings/profile")))
	alice.setColorScheme("light")
	alice.checkAxe("the profile, system theme")
	alice.do("choose a picture and the dark theme",
		chromedp.SetUploadFiles(chromedp.ID("avatar"), []string{pic}),
		chromedp.Click(chromedp.CSS(`input[name="theme"][value="dark"]`)),
	)
	alice.navigate("save the profile", chromedp.Click(chromedp.CSS(`.settings-form button[type="submit"]`)))
	if bg := evalJS[string](alice, `getComputedStyle(document.body).backgroundColor`); bg != "rgb(18, 20, 26)" {
		t.Errorf("the dark theme on a light device: body background %s", bg)
	}
	alice.waitJS("her picture on the profile", `!!document.querySelector('#avatar-now img.avatar')`, stepTimeout)
	alice.checkAxe("the profile, dark theme")
	alice.screenshot("profile-picture-dark", true)

	bob.openRoom(srv, "general")
	bob.waitJS("alice's picture on her message", `(() => {
		const img = document.querySelector('.message[data-author="alice"] img.avatar');
		return !!img && img.complete && img.naturalWidth === 128;
	})()`, stepTimeout)
	bob.shots("room-with-picture")
}

// avatarFixture is a 400×300 PNG: a blue square in the middle of orange.
func avatarFixture(t *testing.T) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, 400, 300))
	for y := range 300 {
		for x := range 400 {
			c := color.RGBA{240, 140, 40, 255}
			if x >= 120 && x < 280 && y >= 70 && y < 230 {
				c = color.RGBA{40, 90, 220, 255}
			}
			m.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestE2EEmojiPickerByKeyboard: the composer's emoji button opens the
// picker, a search finds an emoji by name, arrow keys and Enter put it in
// the message box at the cursor; a message's "All emoji…" opens it to react
// with any emoji, and the reaction shows. Keys only; axe is clean with the
// dialog open.
func TestE2EEmojiPickerByKeyboard(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	srv := newServer(t)
	alice := newBrowser(t, ctx, "alice", true)
	alice.signUp(srv, "alice")
	alice.openRoom(srv, "general")
	alice.sendComposed("pick an emoji for me", "pick an emoji")
	id := alice.messageIDOf("pick an emoji")

	alice.do("type, then focus the emoji button",
		chromedp.SendKeys(chromedp.ID("body"), "party "),
		chromedp.Focus(chromedp.ID("emoji-button")))
	alice.do("Enter on the emoji button", pressEnterKey)
	alice.waitJS("the picker open, its search focused, its grid in", `document.querySelector("#emoji-dialog").open && document.activeElement.id === "emoji-q" && document.querySelectorAll("#emoji-results button").length > 1500`, liveWait)
	alice.checkAxe("the emoji picker")
	alice.shots("emoji-picker")
	alice.do("search for party", chromedp.SendKeys(chromedp.ID("emoji-q"), "party"))
	alice.waitJS("party popper found", `(b => b.length > 0 && b.length < 10 && [...b].some(x => x.value === "🎉"))(document.querySelectorAll("#emoji-results button"))`, liveWait)
	alice.tabTo("#emoji-results button", 3)
	for range 5 {
		if evalJS[string](alice, `document.activeElement.value`) == "🎉" {
			break
		}
		alice.do("ArrowRight", pressKey("ArrowRight", "ArrowRight", 39, false))
	}
	alice.do("Enter on 🎉", pressEnterKey)
	alice.waitJS("🎉 in the composer, the picker closed", `!document.querySelector("#emoji-dialog").open && document.activeElement.id === "body" && document.activeElement.value === "party 🎉"`, liveWait)

	// A reaction with any emoji, from the message's menu.
	alice.do("empty the composer", chromedp.Evaluate[chromedp.Void](`document.querySelector("#body").value = ""`))
	alice.do("focus the Members button", chromedp.Focus(chromedp.CSS(".room-menu summary")))
	alice.tabTo("#"+id, 1)
	alice.tabTo("#"+id+" .more", 1)
	alice.do("Enter on the actions", pressEnterKey)
	alice.waitJS("the menu", fmt.Sprintf(`!!document.querySelector(%s)`, jsString("#"+id+" .menu")), liveWait)
	alice.do("open more reactions", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%s).open = true`, jsString("#"+id+" .more-emoji"))))
	alice.tabTo("#"+id+" .all-emoji", 40)
	alice.do("Enter on All emoji", pressEnterKey)
	alice.waitJS("the picker for the message", fmt.Sprintf(`document.querySelector("#emoji-dialog").open && document.querySelector('#emoji-results').dataset.for === %s`, jsString(strings.TrimPrefix(id, "message-"))), liveWait)
	alice.do("search for flamingo", chromedp.SendKeys(chromedp.ID("emoji-q"), "flamingo"))
	alice.waitJS("the flamingo found", `(b => b.length === 1 && b[0].value === "🦩")(document.querySelectorAll("#emoji-results button"))`, liveWait)
	alice.tabTo("#emoji-results button", 3)
	alice.do("Enter on 🦩", pressEnterKey)
	alice.waitJS("the 🦩 reaction on the message, the picker closed", fmt.Sprintf(`!document.querySelector("#emoji-dialog").open && (document.querySelector(%s)?.textContent || "").includes("🦩")`, jsString("#"+id+" .reactions")), liveWait)
}

// TestE2EMenuClickedAsItAppears: a reaction clicked the moment the actions
// menu is swapped in is posted by htmx, in place; the page is not loaded
// again (with htmx's settle delay, the new form was the browser's for 20 ms
// and a quick click posted it as a page load).
func TestE2EMenuClickedAsItAppears(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	srv := newServer(t)
	alice := newBrowser(t, ctx, "alice", true)
	alice.signUp(srv, "alice")
	alice.openRoom(srv, "general")
	alice.sendComposed("click me fast", "click me fast")
	id := alice.messageIDOf("click me fast")
	// The click comes from a MutationObserver: as soon as the menu's first
	// reaction is in the page, before anything else runs.
	alice.do("watch for the menu", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		window.samePage = true;
		const m = document.getElementById(%s);
		new MutationObserver((_, o) => {
			const b = m.querySelector(".menu form button");
			if (b) { o.disconnect(); b.click(); }
		}).observe(m, {childList: true, subtree: true});
	})()`, jsString(id))))
	// The menu may come and go (a reaction closes it) before anyone looks:
	// open it and wait for what the click did, not for the menu.
	alice.hover("#" + id)
	alice.waitJS("the actions link shown on hover", fmt.Sprintf(
		`(e => !!e && getComputedStyle(e).visibility === "visible")(document.querySelector(%s))`, jsString("#"+id+" .more")), liveWait)
	alice.do("open the actions", chromedp.Click(chromedp.CSS("#"+id+" .more")))
	alice.waitJS("the reaction shown", fmt.Sprintf(`!!document.querySelector(%s)`, jsString("#"+id+" .reactions .reaction")), liveWait)
	if !evalJS[bool](alice, `window.samePage === true`) {
		t.Fatal("the reaction was posted as a page load")
	}
}

// TestE2ELastMessageMenuFits: on a phone the menu of the last message wraps
// to rows that would reach past the bottom of the list, under the composer;
// it opens upwards instead, every button of it on screen.
func TestE2ELastMessageMenuFits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	srv := newServer(t)
	alice := newBrowser(t, ctx, "alice", true)
	alice.signUp(srv, "alice")
	alice.phoneViewport()
	alice.openRoom(srv, "general")
	alice.sendComposed("first", "first")
	alice.sendComposed("the last one", "the last one")
	id := alice.messageIDOf("the last one")
	alice.do("open the actions", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%s).click()`, jsString("#"+id+" .more"))))
	alice.waitJS("the menu shown", fmt.Sprintf(`!!document.querySelector(%s)`, jsString("#"+id+" .menu .delete button")), liveWait)
	outside := evalJS[[]string](alice, fmt.Sprintf(`(() => {
		const list = document.querySelector(".scroller").getBoundingClientRect();
		return [...document.querySelectorAll(%s)].filter(b => {
			const r = b.getBoundingClientRect();
			return r.top < list.top || r.bottom > list.bottom;
		}).map(b => b.textContent.trim());
	})()`, jsString("#"+id+" .menu button")))
	if len(outside) > 0 {
		t.Errorf("buttons of the last message's menu outside the list on a phone: %q", outside)
	}
}

// TestE2EEqualSidebarNotSwapped: the sidebar a socket is sent as it opens is
// the one the page shows already, and is not swapped in (a phone would pay
// a long task for it, and the focus would move); a sidebar that did change,
// a new conversation in it, still is.
func TestE2EEqualSidebarNotSwapped(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	srv := newServer(t)
	alice := newBrowser(t, ctx, "alice", true)
	bob := newBrowser(t, ctx, "bob", true)
	alice.signUp(srv, "alice")
	bob.signUp(srv, "bob")
	// Every page of alice's remembers its first sidebar and each
	// out-of-band fragment offered to it.
	alice.do("watch the sidebar", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `
			window.offered = [];
			document.addEventListener("htmx:oobBeforeSwap", e => offered.push(e.detail.target.id));
			document.addEventListener("DOMContentLoaded", () => { window.firstNav = document.getElementById("nav-lists"); });`})
		return err
	}))
	alice.openRoom(srv, "general")
	alice.waitJS("the sidebar sent as the socket opened", `window.offered.includes("nav-lists")`, liveWait)
	if !evalJS[bool](alice, `window.firstNav === document.getElementById("nav-lists")`) {
		t.Error("the sidebar the socket sent, equal to the page's, replaced it")
	}
	bob.postFormAt("/dm/alice", map[string]string{})
	alice.waitJS("bob's conversation in alice's sidebar", `!!document.querySelector('#nav-lists a[href="/dm/bob"]')`, liveWait)
}
