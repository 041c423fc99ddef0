//go:build e2e

// Browser tests of what people feel all day: a composer that keeps what they
// typed, the keyboard, grouping and day lines, unread counts in the title,
// and axe-core's accessibility checks of every page in both colour schemes at
// a desktop's and a phone's width (with a screenshot of each). They reuse the
// harness of e2e_test.go. Run them with `make e2e` (which fetches axe-core).
package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// axePath is axe-core, fetched by `make e2e` at a pinned version and digest.
const axePath = "testdata/axe/axe.min.js"

// pressKey sends one key press (down and up) to the focused element, as a
// keyboard does; text is what the key types, if anything.
func pressKey(key, code string, keyCode int64, shift bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		var mods int64
		if shift {
			mods = 8 // Shift
		}
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
			_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
				Type: typ, Key: key, Code: code, WindowsVirtualKeyCode: keyCode, NativeVirtualKeyCode: keyCode, Modifiers: mods,
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

var (
	pressTab     = pressKey("Tab", "Tab", 9, false)
	pressEscape  = pressKey("Escape", "Escape", 27, false)
	pressArrowUp = pressKey("ArrowUp", "ArrowUp", 38, false)
)

// pressEnterKey presses Enter on a focused link or button: the key's "\r"
// char event is what makes the browser follow a link or press a button.
var pressEnterKey = chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
	events := []input.DispatchKeyEventParams{
		{Type: input.DispatchKeyEventTypeKeyDown, Key: "Enter", Code: "Enter", Text: "\r", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13},
		{Type: input.DispatchKeyEventTypeKeyUp, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13},
	}
	for _, ev := range events {
		if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, ev); err != nil {
			return err
		}
	}
	return nil
})

// axeViolation is one failed axe rule with the elements it failed on.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// checkAxe runs axe-core in the page and fails the test on any violation.
func (b *browser) checkAxe(where string) {
	b.t.Helper()
	src, err := os.ReadFile(axePath)
	if err != nil {
		b.t.Fatalf("axe-core: %v (run `make e2e`, which fetches it)", err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 3*stepTimeout)
	defer cancel()
	// DevTools' evaluation is not bound by the page's CSP, as a script the
	// page loaded would be.
	if !evalJS[bool](b, `typeof axe !== "undefined"`) {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](string(src))); err != nil {
			b.t.Fatalf("%s: inject axe-core: %v", b.name, err)
		}
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](`axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations.map(v => ({
		id: v.id, impact: v.impact, help: v.help,
		nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + (n.failureSummary || "").replace(/\s+/g, " ").slice(0, 240)),
	})))`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: axe.run on %s: %v", b.name, where, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal(raw, &vs); err != nil {
		b.t.Fatalf("%s: axe result %s: %v", b.name, raw, err)
	}
	for _, v := range vs {
		b.t.Errorf("axe on %s: %s (%s): %s\n    %s", where, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n    "))
	}
}

// phoneViewport and desktopViewport are the two widths every page is checked at.
func (b *browser) phoneViewport() {
	b.do("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
}

func (b *browser) desktopViewport() { b.do("desktop viewport", chromedp.EmulateViewport(1280, 800)) }

// inEveryLook runs look in each theme at each width (light and dark, the
// desktop and the phone viewport), then leaves the browser light and wide.
func (b *browser) inEveryLook(look func(scheme, size string)) {
	b.t.Helper()
	for _, scheme := range []string{"light", "dark"} {
		b.setColorScheme(scheme)
		for _, size := range []string{"desktop", "phone"} {
			if size == "phone" {
				b.phoneViewport()
			} else {
				b.desktopViewport()
			}
			look(scheme, size)
		}
	}
	b.desktopViewport()
	b.setColorScheme("light")
}

// auditPage opens path and, in light and dark at 1280 and 390 px, runs axe
// and saves a screenshot ux-{name}-{scheme}-{desktop|phone}.png. It reports
// whether the page was there (200) at all.
func (b *browser) auditPage(srv *agoraServer, name, path string, live bool) bool {
	b.t.Helper()
	status := b.navigate("open "+path, chromedp.Navigate(srv.url(path)))
	if status == http.StatusNotFound {
		return false
	}
	if status != http.StatusOK {
		b.t.Fatalf("%s: %s answered %d\n%s", b.name, path, status, b.pageSummary())
	}
	if live {
		b.waitConnected(stepTimeout)
	}
	b.mouseAway()
	b.inEveryLook(func(scheme, size string) {
		b.checkAxe(fmt.Sprintf("%s (%s, %s)", path, scheme, size))
		b.shootAs(fmt.Sprintf("ux-%s-%s-%s.png", name, scheme, size))
	})
	return true
}

// shootAs saves a screenshot of the viewport as it is now.
func (b *browser) shootAs(file string) {
	b.t.Helper()
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("%s: screenshot %s: %v", b.name, file, err)
	}
	if err := os.WriteFile(screenshotDir+"/"+file, buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// TestE2EAccessibility: axe-core finds nothing wrong on any page, signed out
// or in, light or dark, at 1280 or 390 px wide.
func TestE2EAccessibility(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	srv := newServer(t)
	alice := newBrowser(t, ctx, "alice", true)
	bob := newBrowser(t, ctx, "bob", true)

	alice.auditPage(srv, "login", "/login", false)
	alice.auditPage(srv, "signup", "/signup", false)
	alice.signUp(srv, "alice")
	bob.signUp(srv, "bob")

	// Something to look at: a conversation with formatting, a mention, a
	// reaction, a topic; a direct conversation.
	alice.openRoom(srv, "general")
	bob.openRoom(srv, "general")
	alice.sendComposed("Morning! The **release** notes are in `docs/`.", "release notes are in")
	alice.sendComposed("Could you check them, @bob? :eyes:", "Could you check them")
	bob.sendComposed("On it :+1:", "On it")
	id := alice.messageIDOf("Could you check them")
	bob.react(id, "👀")
	alice.openPage(srv, "/dm/bob", true)
	alice.sendComposed("A word in private: lunch at noon?", "lunch at noon")
	// An archived room, for its read-only page.
	alice.postFormAt("/rooms", map[string]string{"name": "old news"})
	alice.postFormAt("/rooms/old-news/messages", map[string]string{"body": "The last word before the archive."})
	alice.postFormAt("/admin/rooms/old-news/archive", nil)

	pages := []struct {
		name, path string
		live       bool
	}{
		{"lobby", "/", false},
		{"room", "/rooms/general", true},
		{"dm", "/dm/bob", true},
		{"search", "/search?q=release", false},
		{"profile", "/settings/profile", false},
		{"message", "/messages/" + strings.TrimPrefix(id, "message-"), false},
		{"edit", "/messages/" + strings.TrimPrefix(id, "message-") + "/edit", false},
		{"delete", "/messages/" + strings.TrimPrefix(id, "message-") + "/delete", false},
		{"error", "/rooms/no-such-room", false},
		// Settings and admin pages that other features add: checked when
		// they are there.
		{"password", "/settings/password", false},
		{"sessions", "/settings/sessions", false},
		{"tokens", "/settings/tokens", false},
		{"admin-users", "/admin/users", false},
		{"admin-deactivate", "/admin/users/bob/deactivate", false},
		{"admin-invites", "/admin/invites", false},
		{"admin-bots", "/admin/bots", false},
		{"admin-hooks", "/admin/hooks", false},
		{"admin-rooms", "/admin/rooms", false},
		{"admin-delete-room", "/admin/rooms/general/delete", false},
		{"archived-room", "/rooms/old-news", false},
		{"admin-storage", "/admin/storage", false},
		{"browse", "/rooms", false},
		{"email", "/settings/email", false},
		{"notifications", "/settings/notifications", false},
		{"forgot", "/password/forgot", false},
		{"admin-jobs", "/admin/jobs", false},
	}
	for _, p := range pages {
		if p.name == "error" {
			alice.navigate("open "+p.path, chromedp.Navigate(srv.url(p.path)))
			for _, scheme := range []string{"light", "dark"} {
				alice.setColorScheme(scheme)
				alice.desktopViewport()
				alice.checkAxe(p.path + " " + scheme)
				alice.shootAs("ux-error-" + scheme + "-desktop.png")
				alice.phoneViewport()
				alice.checkAxe(p.path + " " + scheme + " phone")
				alice.shootAs("ux-error-" + scheme + "-phone.png")
			}
			alice.desktopViewport()
			alice.setColorScheme("light")
			continue
		}
		if !alice.auditPage(srv, p.name, p.path, p.live) {
			t.Logf("%s is not there (404): not checked", p.path)
		}
	}

	// An admin's reset link for bob, made with the button on the users
	// page (a form, as without JavaScript), and the page it leads to.
	alice.navigate("open /admin/users", chromedp.Navigate(srv.url("/admin/users")))
	alice.navigate("make a reset link", chromedp.Click(chromedp.CSS(`button[aria-label="Make a password reset link for bob"]`)))
	alice.waitJS("the reset link", `!!document.querySelector('#reset-link')`, stepTimeout)
	alice.checkAxe("the reset link page")
	alice.shootAs("ux-admin-reset-link-light-desktop.png")
	link := evalJS[string](alice, `document.querySelector('#reset-link').value`)
	path := link[strings.Index(link, "/password/reset/"):]
	alice.auditPage(srv, "reset", path, false)
}

// composerState is what the composer shows.
type composerState struct {
	Text  string `json:"text"`
	Error string `json:"error"`
}

func (b *browser) composer() composerState {
	b.t.Helper()
	return evalJS[composerState](b, `({text: document.querySelector('#body').value, error: document.querySelector('#composer-error').textContent})`)
}

// TestE2ERefusedMessageKeepsItsText: a message the server refuses (too long,
// too fast) stays in the composer with the reason beside it; one it accepts
// leaves the composer empty.
func TestE2ERefusedMessageKeepsItsText(t *testing.T) {
	srv, alice, _ := twoUsers(t)
	alice.openRoom(srv, "general")

	// Too long: pasted past maxlength (a script can; the server must say no).
	long := strings.Repeat("long text ", 401) // 4,010 characters
	alice.do("paste a long text and press Enter",
		chromedp.SetValue(chromedp.ID("body"), long), chromedp.Focus(chromedp.ID("body")), pressEnter)
	alice.waitJS("the reason for the refusal", `document.querySelector('#composer-error').textContent.includes("limit")`, liveWait)
	if got := alice.composer(); got.Text != long {
		t.Errorf("after a refusal the composer holds %d characters, want the %d typed", len(got.Text), len(long))
	}
	if n := evalJS[string](alice, `document.querySelector('#composer-count').textContent`); !strings.Contains(n, "over the limit") {
		t.Errorf("the counter says %q for a text over the limit", n)
	}

	// Accepted: the composer empties once the message is back.
	alice.sendComposed("a normal message", "a normal message")

	// Too fast: a burst beyond the per-user limit. The last ones are refused.
	alice.do("send a burst", chromedp.Evaluate[chromedp.Void](`(() => {
		const f = document.querySelector('#composer'), b = document.querySelector('#body');
		for (let i = 0; i < 45; i++) { b.value = "burst " + i; f.requestSubmit(); }
	})()`))
	alice.waitJS("the rate limit's reason", `document.querySelector('#composer-error').textContent.includes("too fast")`, liveWait)
	alice.waitJS("the first of the burst", hasMessageJS("burst 0"), liveWait)
	if got := alice.composer(); got.Text != "burst 44" {
		t.Errorf("after a refused burst the composer holds %q, want the last text, burst 44", got.Text)
	}
	if evalJS[bool](alice, hasMessageJS("burst 44")) {
		t.Error("the refused message is shown as sent")
	}
}

// TestE2EKeyboard: Tab reaches a message's actions and Enter opens them,
// Escape closes them with the focus back on the actions link; Up in an empty
// composer edits your last message, Escape ends the edit with the focus back
// in the composer.
func TestE2EKeyboard(t *testing.T) {
	srv, alice, bob := twoUsers(t)
	alice.openRoom(srv, "general")
	bob.openRoom(srv, "general")
	bob.sendComposed("first from bob", "first from bob")
	alice.sendComposed("my last words", "my last words")
	alice.waitJS("bob's message", hasMessageJS("first from bob"), liveWait)
	bobID := alice.messageIDOf("first from bob")

	// From the message before it, Tab lands on the actions link, which shows.
	evalJS[bool](alice, fmt.Sprintf(`(e => { e.tabIndex = -1; e.focus(); return true })(document.querySelector(%s))`, jsString("#"+bobID+" .author")))
	alice.do("Tab", pressTab)
	if got := evalJS[string](alice, `(e => e.className + "|" + (e.closest("[id^=message-]")?.id || ""))(document.activeElement)`); got != "more|"+bobID {
		t.Fatalf("Tab from bob's name focused %q, want the actions link of %s", got, bobID)
	}
	if op := evalJS[string](alice, `getComputedStyle(document.activeElement).opacity`); op != "1" {
		t.Errorf("the focused actions link has opacity %s: it must show", op)
	}
	alice.do("Enter", pressEnterKey)
	alice.waitJS("the menu, with the focus in it", fmt.Sprintf(`!!document.querySelector(%s) && !!document.activeElement.closest(%s)`,
		jsString("#"+bobID+" .menu"), jsString("#"+bobID+" .menu")), liveWait)
	alice.do("Escape", pressEscape)
	alice.waitJS("the menu closed, the focus on the actions link", fmt.Sprintf(`!document.querySelector(%s) && document.activeElement === document.querySelector(%s)`,
		jsString("#"+bobID+" .menu"), jsString("#"+bobID+" .more")), liveWait)

	// Up in the empty composer edits the last message of mine.
	myID := alice.messageIDOf("my last words")
	alice.do("focus the composer", chromedp.Focus(chromedp.ID("body")))
	alice.do("Up", pressArrowUp)
	alice.waitJS("the edit form of my last message, focused", fmt.Sprintf(`document.activeElement && document.activeElement.closest("form.editing")?.id === %s`, jsString(myID)), liveWait)
	if v := evalJS[string](alice, `document.activeElement.value`); v != "my last words" {
		t.Errorf("the edit form holds %q", v)
	}
	alice.do("Escape", pressEscape)
	alice.waitJS("the edit ended, the focus back in the composer", fmt.Sprintf(`!document.querySelector("form.editing") && document.activeElement.id === "body" && !!document.querySelector(%s)`, jsString("article#"+myID)), liveWait)
}

// TestE2EGroupingAndDays: one author's messages in a row are grouped under
// one name and a day line heads the day, for messages loaded with the page
// and for those that arrive live, alike.
func TestE2EGroupingAndDays(t *testing.T) {
	srv, alice, bob := twoUsers(t)
	alice.openRoom(srv, "general")
	bob.openRoom(srv, "general")
	alice.sendComposed("one", "one")
	alice.sendComposed("two", "two")
	bob.sendComposed("three", "three")
	alice.sendComposed("four", "four")
	alice.waitJS("bob's three", hasMessageJS("three"), liveWait)

	type look struct {
		Grouped []bool   `json:"grouped"`
		Days    []string `json:"days"`
		First   bool     `json:"first"`
	}
	read := func(b *browser) look {
		return evalJS[look](b, `(() => {
			const list = document.querySelector('#messages');
			const arts = [...list.querySelectorAll('article.message')];
			const first = list.querySelector('[data-id]');
			return {
				grouped: arts.map(a => a.classList.contains('grouped')),
				days: [...list.querySelectorAll('.day-divider')].map(d => d.textContent),
				first: !!first && first.previousElementSibling?.classList.contains('day-divider'),
			};
		})()`)
	}
	want := []bool{false, true, false, false}
	for _, b := range []*browser{alice, bob} {
		got := read(b)
		if fmt.Sprint(got.Grouped) != fmt.Sprint(want) || fmt.Sprint(got.Days) != "[Today]" || !got.First {
			t.Errorf("%s sees live: grouped %v (want %v), day lines %v (want [Today] above the first)", b.name, got.Grouped, want, got.Days)
		}
	}
	alice.openRoom(srv, "general")
	if got := read(alice); fmt.Sprint(got.Grouped) != fmt.Sprint(want) || fmt.Sprint(got.Days) != "[Today]" || !got.First {
		t.Errorf("alice sees after a reload: grouped %v (want %v), day lines %v", got.Grouped, want, got.Days)
	}
	// A message of bob's that arrives live joins his run only if it follows it.
	bob.sendComposed("five", "five")
	alice.waitJS("five, live", hasMessageJS("five"), liveWait)
	if got := read(alice); fmt.Sprint(got.Grouped) != fmt.Sprint(append(want, false)) {
		t.Errorf("after bob's five alice sees grouped %v", got.Grouped)
	}
	bob.sendComposed("six", "six")
	alice.waitJS("six, live", hasMessageJS("six"), liveWait)
	if got := read(alice); fmt.Sprint(got.Grouped) != fmt.Sprint(append(want, false, true)) {
		t.Errorf("after bob's six alice sees grouped %v", got.Grouped)
	}
	// "No messages yet" is gone once there are messages.
	if evalJS[bool](alice, `(e => !!e && e.getClientRects().length > 0)(document.querySelector('#messages .empty'))`) {
		t.Error(`"No messages yet" shows in a room with messages`)
	}
}

// TestE2EUnreadInTitle: a message in another room puts the count in the
// title of the page the reader is on.
func TestE2EUnreadInTitle(t *testing.T) {
	srv, alice, bob := twoUsers(t)
	alice.openRoom(srv, "general")
	bob.openPage(srv, "/dm/alice", true)
	if title := evalJS[string](alice, `document.title`); strings.HasPrefix(title, "(") {
		t.Fatalf("the title starts with a count before anything arrived: %q", title)
	}
	bob.sendComposed("psst, alice", "psst, alice")
	alice.waitJS("(1) in the title", `document.title.startsWith("(1) ")`, liveWait)
	bob.sendComposed("still there?", "still there?")
	alice.waitJS("(2) in the title", `document.title.startsWith("(2) ")`, liveWait)
	if !evalJS[bool](alice, `document.querySelector('link[rel="icon"]').href.startsWith("data:image/png")`) {
		t.Error("the icon shows no count")
	}
	alice.openPage(srv, "/dm/bob", true)
	if title := evalJS[string](alice, `document.title`); strings.HasPrefix(title, "(") {
		t.Errorf("after reading, the title still counts: %q", title)
	}
}

// TestE2ERemovedMemberIsTold: a member removed from a private room sees why
// the room stopped, instead of a page that quietly went dead.
func TestE2ERemovedMemberIsTold(t *testing.T) {
	srv, alice, bob := twoUsers(t)
	alice.postFormAt("/rooms", map[string]string{"name": "inner circle", "private": "on"})
	alice.postFormAt("/rooms/inner-circle/members", map[string]string{"username": "bob"})
	bob.openRoom(srv, "inner-circle")
	if evalJS[bool](bob, `!document.querySelector('#room-banner').hidden`) {
		t.Fatal("the banner shows before anything happened")
	}
	alice.postFormAt("/rooms/inner-circle/members/remove", map[string]string{"username": "bob"})
	bob.waitJS("the banner saying why", `(b => !b.hidden && b.textContent.includes("removed"))(document.querySelector('#room-banner'))`, liveWait)
	if s := evalJS[string](bob, `document.querySelector('#status').dataset.state`); s != "offline" {
		t.Errorf("after removal the status is %q, want offline", s)
	}
}

// TestE2EMentionCompletion: typing @ and the start of a member's name offers
// the members, among them one who joined after the page was loaded; Enter
// puts the username in.
func TestE2EMentionCompletion(t *testing.T) {
	srv, alice, bob := twoUsers(t)
	alice.openRoom(srv, "general")
	bob.openRoom(srv, "general")
	alice.waitPresence("alice", "bob")
	if n := evalJS[string](alice, `document.querySelector('#member-count').textContent`); n != "2" {
		t.Errorf("the member count says %s after bob joined, want 2", n)
	}
	alice.do("type a mention", chromedp.SendKeys(chromedp.ID("body"), "thanks @b"))
	alice.waitJS("bob offered", `(l => !l.hidden && [...l.querySelectorAll('li')].map(li => li.dataset.user).join() === "bob")(document.querySelector('#mention-list'))`, liveWait)
	alice.do("Enter", pressEnter)
	if v := evalJS[string](alice, `document.querySelector('#body').value`); v != "thanks @bob " {
		t.Errorf("after choosing bob the composer holds %q", v)
	}
	if evalJS[bool](alice, `!document.querySelector('#mention-list').hidden`) {
		t.Error("the list stays open after choosing")
	}
}

// postFormAt posts a form from inside the page (same origin, the session's
// cookie) and fails unless it answers with a redirect.
func (b *browser) postFormAt(path string, fields map[string]string) {
	b.t.Helper()
	body, _ := json.Marshal(fields)
	status := evalJSAwait[int](b, fmt.Sprintf(`fetch(%s, {method: "POST", body: new URLSearchParams(%s), redirect: "manual", credentials: "same-origin"}).then(r => r.type === "opaqueredirect" ? 303 : r.status)`, jsString(path), body))
	if status != http.StatusSeeOther {
		b.t.Fatalf("%s: POST %s answered %d", b.name, path, status)
	}
}

func evalJSAwait[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: evaluate %s: %v", b.name, expr, err)
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		b.t.Fatalf("%s: decode %s: %v", b.name, raw, err)
	}
	return v
}

// setZone makes the browser's clock that of an IANA zone, as if the reader
// were there.
func (b *browser) setZone(zone string) {
	b.t.Helper()
	b.do("time zone "+zone, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zone})
		return err
	}))
}

// TestE2ETimesWrittenForTheReader: once app.js has told the server the
// reader's clock (two cookies), the room page comes with its times written
// as app.js would write them, so it has none to redo; a reader who has moved
// gets them put right, and the cookies follow.
func TestE2ETimesWrittenForTheReader(t *testing.T) {
	srv, alice, _ := twoUsers(t)
	alice.setZone("Asia/Kolkata")
	alice.openRoom(srv, "general")
	alice.sendComposed("what time is it", "what time is it")

	type look struct {
		Zone    string   `json:"zone"`
		Hours   string   `json:"hours"`
		Wrong   []string `json:"wrong"`   // times not as this browser writes them
		Checked bool     `json:"checked"` // no time is left waiting to be checked
		Served  bool     `json:"served"`  // the page as sent has its times written for the reader
	}
	read := func() look {
		t.Helper()
		ctx, cancel := context.WithTimeout(alice.ctx, stepTimeout)
		defer cancel()
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](`(async () => {
			const cookie = n => (document.cookie.match(new RegExp('(?:^|; )' + n + '=([^;]*)')) || [])[1] || '';
			const f = new Intl.DateTimeFormat([], {hour: '2-digit', minute: '2-digit'});
			const norm = s => s.replace(/\s/g, ' ');
			const times = [...document.querySelectorAll('#messages time[datetime]')];
			const html = await (await fetch(location.href)).text();
			return {
				zone: cookie('agora_tz'),
				hours: cookie('agora_hc'),
				wrong: times.filter(t => norm(t.textContent) !== norm(f.format(new Date(t.dateTime)))).map(t => t.dateTime + ' ' + t.textContent),
				checked: !document.querySelector('#messages time[data-off]'),
				served: /<time [^>]*data-local="1"/.test(html) && !/\d\d:\d\d UTC<\/time>/.test(html),
			};
		})()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("read the times: %v", err)
		}
		var l look
		if err := json.Unmarshal(raw, &l); err != nil {
			t.Fatalf("read the times: %s: %v", raw, err)
		}
		return l
	}
	got := read()
	if got.Zone != "Asia/Kolkata" && got.Zone != "Asia/Calcutta" /* ICU's name for it */ || !strings.HasSuffix(got.Hours, ":h12") && !strings.HasSuffix(got.Hours, ":h23") {
		t.Fatalf("after the first room page the cookies say zone %q, hours %q", got.Zone, got.Hours)
	}
	if len(got.Wrong) > 0 {
		t.Errorf("times not in the reader's clock on the first visit: %v", got.Wrong)
	}
	alice.openRoom(srv, "general")
	if got = read(); !got.Served || len(got.Wrong) > 0 || !got.Checked {
		t.Errorf("on the next visit: served in the reader's clock %v, checked %v, wrong %v", got.Served, got.Checked, got.Wrong)
	}

	// Moved to California: the page still comes in Kolkata's clock (the
	// cookie says so), app.js writes the times again, and the cookie follows.
	alice.setZone("America/Los_Angeles")
	alice.openRoom(srv, "general")
	if got = read(); len(got.Wrong) > 0 || got.Zone != "America/Los_Angeles" {
		t.Errorf("after moving: wrong times %v, zone cookie %q", got.Wrong, got.Zone)
	}
	alice.openRoom(srv, "general")
	if got = read(); !got.Served || len(got.Wrong) > 0 {
		t.Errorf("after moving, the next visit: served in the reader's clock %v, wrong %v", got.Served, got.Wrong)
	}
}
