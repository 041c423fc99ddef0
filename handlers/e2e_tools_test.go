//go:build e2e

// Browser tests of the conversation tools (issue 21): search filters, pins
// and saved messages, slash commands, the quick switcher. They reuse the
// harness of e2e_test.go. Run them with `make e2e`.
package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// resultsShown are the texts of the messages listed in #results (search),
// or in the list with the id given (#pins, #saved).
func (b *browser) resultsShown(list ...string) []string {
	b.t.Helper()
	id := append(list, "results")[0]
	return evalJS[[]string](b, `[...document.querySelectorAll('#`+id+` a.result-link')].map(a => a.textContent.trim())`)
}

// TestE2ESearchFilters: the search page's filter fields narrow a search,
// with JavaScript and without; a bad value is said on the page, the text
// kept; the page passes axe in both schemes at both widths.
func TestE2ESearchFilters(t *testing.T) {
	srv, alice, bob := twoUsers(t)
	alice.openRoom(srv, "general")
	alice.postForms("general", []string{"launch checklist for friday", "launch party at https://example.com/party"})
	bob.openRoom(srv, "general")
	bob.postForms("general", []string{"launch retro notes"})
	carol := newBrowser(t, alice.ctx, "carol", false)
	carol.signUp(srv, "carol")

	for _, b := range []*browser{bob, carol} {
		if status := b.navigate("open search", chromedp.Navigate(srv.url("/search"))); status != http.StatusOK {
			t.Fatalf("%s: /search answered %d", b.name, status)
		}
		b.do("open the filters and fill them",
			chromedp.Click(chromedp.CSS(`.search-filters summary`)),
			chromedp.WaitVisible(chromedp.CSS(`input[name="from"]`)),
			chromedp.SendKeys(chromedp.ID("search-page-q"), "launch -party"),
			chromedp.SendKeys(chromedp.CSS(`input[name="from"]`), "alice"),
		)
		if status := b.navigate("search", chromedp.Click(chromedp.CSS(`.search-form button[type="submit"]`))); status != http.StatusOK {
			t.Fatalf("%s: the search answered %d\n%s", b.name, status, b.pageSummary())
		}
		if got := b.resultsShown(); len(got) != 1 || got[0] != "launch checklist for friday" {
			t.Errorf("%s: `launch -party` from alice shows %q, want only the checklist", b.name, got)
		}
		if v := evalJS[string](b, `document.querySelector('input[name="from"]').value`); v != "alice" {
			t.Errorf("%s: the from field holds %q after the search", b.name, v)
		}
		// has:link typed in the box, with the fields as they are.
		b.do("type has:link", chromedp.SetValue(chromedp.ID("search-page-q"), "has:link"))
		if status := b.navigate("search again", chromedp.Click(chromedp.CSS(`.search-form button[type="submit"]`))); status != http.StatusOK {
			t.Fatalf("%s: the search answered %d", b.name, status)
		}
		if got := b.resultsShown(); len(got) != 1 || !strings.HasPrefix(got[0], "launch party") {
			t.Errorf("%s: has:link from alice shows %q, want the party", b.name, got)
		}
		// A bad value: 422, said on the page, the text kept.
		b.do("type a bad day", chromedp.SetValue(chromedp.ID("search-page-q"), "launch before:friday"))
		if status := b.navigate("search with a bad day", chromedp.Click(chromedp.CSS(`.search-form button[type="submit"]`))); status != http.StatusUnprocessableEntity {
			t.Errorf("%s: a bad day answered %d, want 422", b.name, status)
		}
		if e := evalJS[string](b, `document.getElementById("form-error")?.textContent || ""`); !strings.Contains(e, "YYYY-MM-DD") {
			t.Errorf("%s: the page says %q about before:friday", b.name, e)
		}
		if v := evalJS[string](b, `document.getElementById("search-page-q").value`); v != "launch before:friday" {
			t.Errorf("%s: the box holds %q after the refusal", b.name, v)
		}
	}

	bob.auditPage(srv, "search-filters", "/search?q=launch&from=alice&has=link", false)
	bob.auditPage(srv, "search-notice", "/search?q=launch+body:x", false)
	// The refused search (422) in both schemes at both widths.
	bob.navigate("a refused search", chromedp.Navigate(srv.url("/search?q=launch+has:video")))
	bob.auditAsShown("search-error", `!!document.getElementById("form-error")`)
}

// TestE2EPinsAndSaved: alice pins a message from its menu and bob sees the
// notice arrive live; bob saves it and finds it at /saved; carol, without
// JavaScript, pins and unpins from the message's page. The pins and saved
// pages pass axe in both schemes at both widths.
func TestE2EPinsAndSaved(t *testing.T) {
	srv, alice, bob := twoUsers(t)
	alice.openRoom(srv, "general")
	bob.openRoom(srv, "general")
	const rule = "rule one: be kind"
	alice.send(rule)
	id := alice.messageIDOf(rule)
	if id == "" {
		t.Fatalf("alice's page lacks %q", rule)
	}
	bob.waitJS("bob sees the rule", hasMessageJS(rule), liveWait)

	alice.showActions(id)
	alice.do("pin it", chromedp.Click(chromedp.CSS("#"+id+" .menu form.pin button")))
	alice.waitJS("the menu offers Unpin", `(document.querySelector("#`+id+` .menu form.pin button")?.textContent || "").trim() === "Unpin"`, liveWait)
	bob.waitJS("the notice reaches bob live", `[...document.querySelectorAll("#messages .notice")].some(n => n.textContent.includes("alice pinned a message"))`, liveWait)
	if href := evalJS[string](bob, `[...document.querySelectorAll("#messages .notice .pinned-link")].pop()?.getAttribute("href") || ""`); href != "/messages/"+strings.TrimPrefix(id, "message-") {
		t.Errorf("the notice links to %q", href)
	}

	bob.showActions(id)
	bob.do("save it", chromedp.Click(chromedp.CSS("#"+id+" .menu form.save button")))
	bob.waitJS("the menu offers Unsave", `(document.querySelector("#`+id+` .menu form.save button")?.textContent || "").trim() === "Unsave"`, liveWait)
	if status := bob.navigate("open saved", chromedp.Click(chromedp.ID("saved-link"))); status != http.StatusOK {
		t.Fatalf("/saved answered %d", status)
	}
	if got := bob.resultsShown("saved"); len(got) != 1 || got[0] != rule {
		t.Errorf("bob's saved list shows %q", got)
	}
	bob.openRoom(srv, "general")
	if status := bob.navigate("open the pins", chromedp.Click(chromedp.ID("pins-link"))); status != http.StatusOK {
		t.Fatalf("the pins answered %d", status)
	}
	if got := bob.resultsShown("pins"); len(got) != 1 || got[0] != rule {
		t.Errorf("general's pins show %q", got)
	}

	// Without JavaScript: the message's page has the forms.
	carol := newBrowser(t, alice.ctx, "carol", false)
	carol.signUp(srv, "carol")
	carol.navigate("join general", chromedp.Navigate(srv.url("/rooms/general")))
	if evalJS[bool](carol, `!!document.querySelector('form[action$="/join"] button')`) {
		carol.navigate("join", chromedp.Click(chromedp.CSS(`form[action$="/join"] button`)))
	}
	msgPage := "/messages/" + strings.TrimPrefix(id, "message-")
	carol.navigate("open the message's page", chromedp.Navigate(srv.url(msgPage)))
	if status := carol.navigate("unpin", chromedp.Click(chromedp.CSS(`form.pin button`))); status != http.StatusOK {
		t.Fatalf("carol's unpin landed on %d\n%s", status, carol.pageSummary())
	}
	alice.waitJS("carol's unpin reaches alice live", `[...document.querySelectorAll("#messages .notice")].some(n => n.textContent.includes("carol unpinned a message"))`, liveWait)
	carol.navigate("open the pins", chromedp.Navigate(srv.url("/rooms/general/pins")))
	if n := evalJS[int](carol, `document.querySelectorAll('#pins li').length`); n != 0 {
		t.Errorf("after carol's unpin, %d pins are listed", n)
	}
	carol.navigate("open the message's page", chromedp.Navigate(srv.url(msgPage)))
	if status := carol.navigate("pin again", chromedp.Click(chromedp.CSS(`form.pin button`))); status != http.StatusOK {
		t.Fatalf("carol's pin landed on %d", status)
	}
	carol.navigate("open the pins", chromedp.Navigate(srv.url("/rooms/general/pins")))
	if n := evalJS[int](carol, `document.querySelectorAll('#pins li').length`); n != 1 {
		t.Errorf("after carol's pin, %d pins are listed", n)
	}

	bob.auditPage(srv, "pins", "/rooms/general/pins", false)
	bob.auditPage(srv, "saved", "/saved", false)
	bob.showActionsAudit(srv, id)
}

// auditAsShown runs axe on the page as it is now (a list or dialog open),
// in light and dark at 1280 and 390 px, saving ux-{name}-{scheme}-{size}.png;
// still, when given, says what must still show at each, which the test
// checks before it looks.
func (b *browser) auditAsShown(name, still string) {
	b.t.Helper()
	for _, scheme := range []string{"light", "dark"} {
		b.setColorScheme(scheme)
		for _, size := range []string{"desktop", "phone"} {
			if size == "phone" {
				b.phoneViewport()
			} else {
				b.desktopViewport()
			}
			where := name + " (" + scheme + ", " + size + ")"
			if still != "" && !evalJS[bool](b, still) {
				b.t.Fatalf("%s: %s is no longer shown", b.name, where)
			}
			b.checkAxe(where)
			b.shootAs("ux-" + name + "-" + scheme + "-" + size + ".png")
		}
	}
	b.desktopViewport()
	b.setColorScheme("light")
}

// showActionsAudit opens a message's menu in the room and runs axe on the
// page with it open, saving screenshots.
func (b *browser) showActionsAudit(srv *agoraServer, id string) {
	b.t.Helper()
	b.openRoom(srv, "general")
	b.inEveryLook(func(scheme, size string) {
		b.openRoom(srv, "general")
		b.showActions(id)
		b.checkAxe("the message menu (" + scheme + ", " + size + ")")
		b.shootAs("ux-message-menu-" + scheme + "-" + size + ".png")
	})
}

var pressArrowDown = pressKey("ArrowDown", "ArrowDown", 40, false)

// TestE2ESlashCommands: typing "/" lists the commands (arrows and Enter
// pick one); /topic changes the header for everyone and tells its caller
// beside the composer, which it clears; an unknown command keeps its text
// and says why; without JavaScript the form does the same.
func TestE2ESlashCommands(t *testing.T) {
	srv, alice, bob := twoUsers(t)
	alice.openRoom(srv, "general")
	bob.openRoom(srv, "general")

	alice.do("type a slash", chromedp.Focus(chromedp.ID("body")), chromedp.SendKeys(chromedp.ID("body"), "/"))
	alice.waitJS("the command list", `!document.getElementById("mention-list").hidden && document.querySelectorAll("#mention-list li").length >= 6`, liveWait)
	if label := evalJS[string](alice, `document.getElementById("mention-list").getAttribute("aria-label")`); label != "Commands" {
		t.Errorf("the list is labelled %q", label)
	}
	alice.auditAsShown("commands", `!document.getElementById("mention-list").hidden`)
	alice.do("narrow to /sh", chromedp.SendKeys(chromedp.ID("body"), "sh"))
	alice.waitJS("only /shrug is listed", `document.querySelectorAll("#mention-list li").length === 1`, liveWait)
	alice.do("pick it", pressEnter)
	if v := evalJS[string](alice, `document.getElementById("body").value`); v != "/shrug " {
		t.Errorf("after picking, the composer holds %q", v)
	}
	evalJS[bool](alice, `(document.getElementById("body").value = "") === ""`)
	alice.do("type /t and go down", chromedp.SendKeys(chromedp.ID("body"), "/"), pressArrowDown, pressArrowDown)
	picked := evalJS[string](alice, `document.querySelector("#mention-list li[aria-selected=true]")?.dataset.user || ""`)
	if picked != "topic" {
		t.Errorf("two arrows down select %q, want topic", picked)
	}
	alice.do("pick with Enter", pressEnter)
	alice.do("write the topic and send", chromedp.SendKeys(chromedp.ID("body"), "Ship it"), pressEnter)
	bob.waitJS("bob's header shows the topic", `(document.getElementById("room-topic")?.textContent || "").includes("Ship it")`, liveWait)
	alice.waitJS("alice is told", `(document.getElementById("composer-said")?.textContent || "").includes("Topic set.")`, liveWait)
	alice.waitJS("the composer is cleared", `document.getElementById("body").value === ""`, liveWait)
	if evalJS[bool](bob, `(document.getElementById("composer-said")?.textContent || "") !== ""`) {
		t.Error("bob is told what alice's command did")
	}

	// An unknown command: refused beside the composer, the text kept.
	alice.do("type an unknown command", chromedp.SetValue(chromedp.ID("body"), "/frobnicate the thing"), chromedp.Focus(chromedp.ID("body")), pressEnter)
	alice.waitJS("the refusal", `(document.getElementById("composer-error")?.textContent || "").includes("/frobnicate is not a command")`, liveWait)
	if v := evalJS[string](alice, `document.getElementById("body").value`); v != "/frobnicate the thing" {
		t.Errorf("after the refusal the composer holds %q", v)
	}
	alice.auditAsShown("commands-refused", `!!document.getElementById("composer-error")?.textContent`)

	// /leave over the socket: the room says so, and nothing waits to be sent
	// again on a later socket (which would leave again).
	bob.do("type /leave", chromedp.Focus(chromedp.ID("body")), chromedp.SendKeys(chromedp.ID("body"), "/leave"), pressEscape, pressEnter)
	bob.waitJS("bob is told he left", `(document.getElementById("room-banner")?.textContent || "").includes("you left this room")`, liveWait)
	if left := evalJS[string](bob, `sessionStorage.getItem("agora:outbox:general") || ""`); left != "" {
		t.Errorf("after /leave the outbox still holds %s", left)
	}
	alice.waitJS("alice sees bob leave", `[...document.querySelectorAll("#messages .notice")].some(n => n.textContent.includes("bob left #general"))`, liveWait)

	// Without JavaScript: the form runs /help and the room says it.
	carol := newBrowser(t, alice.ctx, "carol", false)
	carol.signUp(srv, "carol")
	carol.navigate("open general", chromedp.Navigate(srv.url("/rooms/general")))
	if evalJS[bool](carol, `!!document.querySelector('form[action$="/join"] button')`) {
		carol.navigate("join", chromedp.Click(chromedp.CSS(`form[action$="/join"] button`)))
	}
	carol.do("type /help", chromedp.SendKeys(chromedp.ID("body"), "/help"))
	if status := carol.navigate("send /help", chromedp.Click(chromedp.CSS(`#composer button[type="submit"]`))); status != http.StatusOK {
		t.Fatalf("/help without JavaScript landed on %d", status)
	}
	if said := evalJS[string](carol, `document.getElementById("composer-said")?.textContent || ""`); !strings.Contains(said, "/invite @user") {
		t.Errorf("/help without JavaScript says %q", said)
	}
	carol.do("type /nope", chromedp.SendKeys(chromedp.ID("body"), "/nope"))
	if status := carol.navigate("send /nope", chromedp.Click(chromedp.CSS(`#composer button[type="submit"]`))); status != http.StatusUnprocessableEntity {
		t.Errorf("/nope without JavaScript landed on %d", status)
	}
	if v := evalJS[string](carol, `document.getElementById("body").value`); v != "/nope" {
		t.Errorf("without JavaScript the refused command left %q in the composer", v)
	}
}

// pressCtrlK is Ctrl+K as a keyboard sends it.
var pressCtrlK = chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
	for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
		if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
			Type: typ, Key: "k", Code: "KeyK", WindowsVirtualKeyCode: 75, NativeVirtualKeyCode: 75, Modifiers: 2,
		}); err != nil {
			return err
		}
	}
	return nil
})

// TestE2EQuickSwitcher: Ctrl+K opens the switcher over the room; typing
// narrows it, arrows choose, Enter opens; Esc closes it. Without JavaScript
// the sidebar's link is the /go page of links.
func TestE2EQuickSwitcher(t *testing.T) {
	srv, alice, bob := twoUsers(t)
	alice.openRoom(srv, "general")
	alice.postForms("general", []string{"hello"})
	for _, name := range []string{"design-review", "deploys"} {
		alice.navigate("make "+name, chromedp.Navigate(srv.url("/rooms/general")))
		alice.do("name "+name, chromedp.Click(chromedp.CSS("#new-room > summary")), chromedp.SendKeys(chromedp.ID("new-room-name"), name))
		alice.navigate("create "+name, chromedp.Click(chromedp.CSS(`form.new-room button[type="submit"]`)))
	}
	bob.openRoom(srv, "general")
	bob.do("press Ctrl+K", chromedp.Focus(chromedp.ID("body")), pressCtrlK)
	bob.waitJS("the switcher opens with its box focused", `document.getElementById("switcher").open && document.activeElement.id === "switcher-q"`, liveWait)
	bob.waitJS("it lists what bob may open", `document.querySelectorAll("#switcher-list [role=option][data-href]").length >= 3`, liveWait)
	bob.do("type dr", chromedp.SendKeys(chromedp.ID("switcher-q"), "dr"))
	bob.waitJS("design-review first", `document.querySelector("#switcher-list [role=option]")?.dataset.href === "/rooms/design-review"`, liveWait)
	bob.auditAsShown("switcher", `document.getElementById("switcher").open`)
	bob.do("clear and type dpl", chromedp.Evaluate[chromedp.Void](`(() => { const i = document.getElementById("switcher-q"); i.value = ""; })()`),
		chromedp.SendKeys(chromedp.ID("switcher-q"), "d"))
	bob.waitJS("several d matches", `document.querySelectorAll("#switcher-list [role=option][data-href]").length >= 2`, liveWait)
	bob.do("go down", pressArrowDown)
	second := evalJS[string](bob, `document.querySelector("#switcher-list [aria-selected=true]")?.dataset.href || ""`)
	if active := evalJS[string](bob, `document.getElementById("switcher-q").getAttribute("aria-activedescendant") || ""`); active != "switcher-opt-1" {
		t.Errorf("after one arrow down the active option is %q", active)
	}
	if status := bob.navigate("open it with Enter", pressEnter); status != http.StatusOK {
		t.Fatalf("Enter landed on %d", status)
	}
	if loc := bob.location(); loc != srv.url(second) {
		t.Errorf("Enter opened %s, want %s", loc, second)
	}
	bob.do("press Ctrl+K again", pressCtrlK)
	bob.waitJS("open again", `document.getElementById("switcher").open`, liveWait)
	bob.do("press Esc", pressEscape)
	bob.waitJS("closed by Esc", `!document.getElementById("switcher").open`, liveWait)

	carol := newBrowser(t, alice.ctx, "carol", false)
	carol.signUp(srv, "carol")
	carol.navigate("open /go", chromedp.Click(chromedp.ID("go-link")))
	carol.do("type dep", chromedp.SendKeys(chromedp.ID("go-q"), "dep"))
	if status := carol.navigate("find", chromedp.Click(chromedp.CSS(`.search-form button[type="submit"]`))); status != http.StatusOK {
		t.Fatalf("/go without JavaScript landed on %d", status)
	}
	if first := evalJS[string](carol, `document.querySelector("#go-results a")?.getAttribute("href") || ""`); first != "/rooms/deploys" {
		t.Errorf("without JavaScript /go?q=dep offers %q first", first)
	}
	bob.auditPage(srv, "go", "/go?q=d", false)
}
