//go:build e2e

// Browser tests of the conversation features: direct messages, edits and
// deletes, mentions and unread badges, search, formatting and reactions, with
// screenshots in light and dark colour schemes. They reuse the harness of
// e2e_test.go (the real binary, Debian's headless Chromium). Run them with
// `make e2e`.
package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// readmeScreenshot is the picture for the README. It is written with the
// other (git-ignored) screenshots, so a test run leaves the tree clean; copy
// it to testdata/readme-room.png, which the README shows, to update it.
const readmeScreenshot = "testdata/screenshots/readme-room.png"

// ---------------------------------------------------------------------------
// Helpers for these tests.

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// openPage navigates to path, expects 200 and, for a room or direct
// conversation, waits for its socket to connect.
func (b *browser) openPage(srv *agoraServer, path string, live bool) {
	b.t.Helper()
	if status := b.navigate("open "+path, chromedp.Navigate(srv.url(path))); status != http.StatusOK {
		b.t.Fatalf("%s: %s answered %d\n%s", b.name, path, status, b.pageSummary())
	}
	if live {
		b.waitConnected(stepTimeout)
	}
}

// messageIDOf is the DOM id of the entry of #messages whose body contains
// text, or "" when there is none.
func (b *browser) messageIDOf(text string) string {
	b.t.Helper()
	return evalJS[string](b, fmt.Sprintf(`[...document.querySelectorAll('#messages [id^="message-"]')]
		.find(e => (e.querySelector('.body') || e).textContent.includes(%s))?.id || ""`, jsString(text)))
}

// sendComposed puts text (which may span lines) in the composer and presses
// Enter, as app.js sends it over the socket; it waits until the page shows an
// entry containing probe. The socket must be connected.
func (b *browser) sendComposed(text, probe string) {
	b.t.Helper()
	b.do("compose a message",
		chromedp.SetValue(chromedp.ID("body"), text),
		chromedp.Focus(chromedp.ID("body")),
		pressEnter,
	)
	b.waitJS(fmt.Sprintf("%q in #messages", probe), hasMessageJS(probe), liveWait)
	b.waitJS("an empty composer", `document.querySelector('#body').value === ""`, liveWait)
}

// postForms posts each body to the room as the composer's form does without
// JavaScript (a plain urlencoded POST, same origin, fresh client_msg_id), in
// order, from inside the page so the session cookie goes along. It fails the
// test unless every post answers 303.
func (b *browser) postForms(slug string, bodies []string) {
	b.t.Helper()
	list, _ := json.Marshal(bodies)
	expr := fmt.Sprintf(`(async () => {
		const statuses = [];
		for (const body of %s) {
			const id = Array.from(crypto.getRandomValues(new Uint8Array(11)), x => x.toString(16).padStart(2, "0")).join("");
			const r = await fetch(%s, {method: "POST", body: new URLSearchParams({body, client_msg_id: id}), redirect: "manual", credentials: "same-origin"});
			statuses.push(r.type === "opaqueredirect" ? 303 : r.status);
		}
		return statuses;
	})()`, list, jsString("/rooms/"+slug+"/messages"))
	ctx, cancel := context.WithTimeout(b.ctx, 2*stepTimeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: posting %d messages: %v", b.name, len(bodies), err)
	}
	var statuses []int
	if err := json.Unmarshal(raw, &statuses); err != nil {
		b.t.Fatalf("%s: posting %d messages: decode %s: %v", b.name, len(bodies), raw, err)
	}
	for i, s := range statuses {
		if s != http.StatusSeeOther {
			b.t.Fatalf("%s: posting %q answered %d, want 303 (all: %v)", b.name, bodies[i], s, statuses)
		}
	}
}

// hover moves the mouse over the element, as a person pointing at it does
// (a message's "⋯" link appears on hover).
func (b *browser) hover(sel string) {
	b.t.Helper()
	type point struct {
		X, Y float64
		OK   bool
	}
	p := evalJS[point](b, fmt.Sprintf(`(() => {
		const e = document.querySelector(%s);
		if (!e) return {OK: false};
		e.scrollIntoView({block: "nearest"});
		const r = e.getBoundingClientRect();
		return {X: r.left + r.width / 2, Y: r.top + Math.min(r.height / 2, 14), OK: r.width > 0 && r.height > 0};
	})()`, jsString(sel)))
	if !p.OK {
		b.t.Fatalf("%s: cannot hover %s: no such element with a box\n%s", b.name, sel, b.pageSummary())
	}
	b.do("hover "+sel, chromedp.MouseEvent(chromedp.MouseMoved, p.X, p.Y))
}

// pollJS polls a JavaScript condition until it is truthy and reports
// whether it became so within timeout; unlike waitJS it does not fail the test.
func (b *browser) pollJS(cond string, timeout time.Duration) bool {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	return err == nil
}

// mouseAway parks the mouse in a corner, so no message shows its hover look.
func (b *browser) mouseAway() {
	b.t.Helper()
	b.do("move the mouse away", chromedp.MouseEvent(chromedp.MouseMoved, 1, 1))
}

// showActions hovers a message, waits until its "⋯" link shows, clicks it
// and waits for the actions menu the server sends for this reader.
func (b *browser) showActions(msgID string) {
	b.t.Helper()
	b.hover("#" + msgID)
	b.waitJS("the actions link of "+msgID+" shown on hover", fmt.Sprintf(
		`(e => !!e && getComputedStyle(e).visibility === "visible")(document.querySelector(%s))`, jsString("#"+msgID+" .more")), liveWait)
	b.do("open the actions of "+msgID, chromedp.Click(chromedp.CSS("#"+msgID+" .more")))
	b.waitJS("the actions menu of "+msgID, fmt.Sprintf(`!!document.querySelector(%s)`, jsString("#"+msgID+" .menu")), liveWait)
}

// dialogs accepts every JavaScript dialog the page opens and records their
// messages.
type dialogs struct {
	mu   sync.Mutex
	msgs []string
}

func (d *dialogs) seen() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.msgs...)
}

func (b *browser) acceptDialogs() *dialogs {
	b.t.Helper()
	d := &dialogs{}
	opening := chromedp.Events(b.ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range opening {
			if err != nil {
				return
			}
			d.mu.Lock()
			d.msgs = append(d.msgs, ev.Message)
			d.mu.Unlock()
			// The dialog blocks the click that opened it: answer it from here.
			go func() {
				_, _ = chromedp.Call(b.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			}()
		}
	}()
	return d
}

// setColorScheme emulates prefers-color-scheme: "light" or "dark".
func (b *browser) setColorScheme(scheme string) {
	b.t.Helper()
	b.do("prefers-color-scheme: "+scheme, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	}))
	if dark := evalJS[bool](b, `matchMedia("(prefers-color-scheme: dark)").matches`); dark != (scheme == "dark") {
		b.t.Fatalf("%s: emulating prefers-color-scheme: %s did not take (dark matches: %v)", b.name, scheme, dark)
	}
}

// shots saves name-{light,dark}-{desktop,phone}.png and leaves the page light.
func (b *browser) shots(name string) {
	b.t.Helper()
	b.mouseAway()
	evalJS[bool](b, `(document.activeElement && document.activeElement.blur(), true)`)
	for _, scheme := range []string{"light", "dark"} {
		b.setColorScheme(scheme)
		b.screenshot(name+"-"+scheme, true)
	}
	b.setColorScheme("light")
}

// react opens the actions menu of a message ("⋯") and picks emoji, as a
// person does, then waits until the page shows the reaction.
func (b *browser) react(msgID, emoji string) {
	b.t.Helper()
	b.showActions(msgID)
	// A click by script: the menu is freshly laid out, and a click at
	// coordinates measured a moment earlier can land beside the button.
	pick := fmt.Sprintf(`#%s .menu form:has(input[name="emoji"][value=%s]) button`, msgID, jsString(emoji))
	if !evalJS[bool](b, fmt.Sprintf(`(e => (e && e.click(), !!e))(document.querySelector(%s))`, jsString(pick))) {
		b.t.Fatalf("%s: no %s in the menu of %s\n%s", b.name, emoji, msgID, b.pageSummary())
	}
	b.waitJS(emoji+" on "+msgID, reactionShownJS(msgID, emoji), liveWait)
}

// reactionShownJS: the message shows a reaction button with emoji.
func reactionShownJS(msgID, emoji string) string {
	return fmt.Sprintf(`[...document.querySelectorAll(%s)].some(e => e.textContent.includes(%s))`,
		jsString("#"+msgID+" .reactions .reaction"), jsString(emoji))
}

// ---------------------------------------------------------------------------
// The tests.

// TestE2EDirectMessagesLive: alice and bob talk in their direct conversation,
// each seeing the other's messages live; both sidebars list it.
func TestE2EDirectMessagesLive(t *testing.T) {
	srv, alice, bob := twoUsers(t)

	alice.openPage(srv, "/dm/bob", true)
	bob.openPage(srv, "/dm/alice", true)
	alice.markPage("alice-page")
	bob.markPage("bob-page")

	for _, c := range []struct {
		b    *browser
		peer string
	}{{alice, "bob"}, {bob, "alice"}} {
		want := "@" + c.peer
		if h := evalJS[string](c.b, `document.querySelector('.room-header h1')?.textContent || ""`); h != want {
			t.Errorf("%s's DM page heading = %q, want %q", c.b.name, h, want)
		}
		if title := evalJS[string](c.b, `document.title`); !strings.HasPrefix(title, want) {
			t.Errorf("%s's DM page title = %q, want it to start with %q", c.b.name, title, want)
		}
	}
	aliceRoom := evalJS[string](alice, `document.querySelector('section.room')?.dataset.room || ""`)
	bobRoom := evalJS[string](bob, `document.querySelector('section.room')?.dataset.room || ""`)
	if aliceRoom == "" || aliceRoom != bobRoom {
		t.Fatalf("alice's /dm/bob is conversation %q, bob's /dm/alice is %q: want one and the same", aliceRoom, bobRoom)
	}
	for _, b := range []*browser{alice, bob} {
		b.waitPresence("alice", "bob")
	}

	alice.send("hi bob, just between us")
	bob.waitJS(`alice's DM live`, hasMessageJS("hi bob, just between us"), liveWait)
	bob.send("hi alice, got it")
	alice.waitJS(`bob's reply live`, hasMessageJS("hi alice, got it"), liveWait)

	if m := alice.pageMark(); m != "alice-page" {
		t.Errorf("alice's page was reloaded (marker %q): the reply must come over the socket", m)
	}
	if m := bob.pageMark(); m != "bob-page" {
		t.Errorf("bob's page was reloaded (marker %q): the message must come over the socket", m)
	}
	am, bm := messageIDs(alice.messages()), messageIDs(bob.messages())
	if len(am) != 2 || strings.Join(am, ",") != strings.Join(bm, ",") {
		t.Errorf("alice shows %v, bob shows %v: want the same two messages", am, bm)
	}

	// Both sidebars list the conversation under the other person's name.
	for _, c := range []struct {
		b    *browser
		peer string
	}{{alice, "bob"}, {bob, "alice"}} {
		type navDM struct{ Href, Name, Current string }
		dms := evalJS[[]navDM](c.b, `[...document.querySelectorAll('#dm-list a')].map(a => ({
			Href: a.getAttribute('href'), Name: a.querySelector('.nav-name')?.textContent.trim() || "", Current: a.getAttribute('aria-current') || ""}))`)
		if len(dms) != 1 || dms[0].Href != "/dm/"+c.peer || dms[0].Name != c.peer || dms[0].Current != "page" {
			t.Errorf("%s's #dm-list = %+v, want one current entry /dm/%s named %q", c.b.name, dms, c.peer, c.peer)
		}
	}
}

// TestE2EEditAndDeleteLive: the author edits and deletes a message through
// its actions menu; the other reader sees both changes live, and never gets
// the author's controls.
func TestE2EEditAndDeleteLive(t *testing.T) {
	srv, alice, bob := twoUsers(t)
	alice.openRoom(srv, "general")
	bob.openRoom(srv, "general")
	bob.markPage("bob-page")

	const original = "the meeting is at 3pm"
	alice.send(original)
	bob.waitJS("alice's message", hasMessageJS(original), liveWait)
	id := alice.messageIDOf(original)
	if id == "" || bob.messageIDOf(original) != id {
		t.Fatalf("alice's message is %q in her page and %q in bob's", id, bob.messageIDOf(original))
	}
	sel := func(s string) string { return jsString("#" + id + " " + s) }

	// Only the author gets Edit and Delete in the menu the server sends her.
	alice.showActions(id)
	bob.showActions(id)
	visibleJS := func(s string) string {
		return fmt.Sprintf(`(e => !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility === "visible")(document.querySelector(%s))`, sel(s))
	}
	for _, s := range []string{".menu a.edit", ".menu form.delete"} {
		if !evalJS[bool](alice, visibleJS(s)) {
			t.Errorf("alice's menu on her own message lacks %s", s)
		}
		if evalJS[bool](bob, fmt.Sprintf(`!!document.querySelector(%s)`, sel(s))) {
			t.Errorf("bob's menu on alice's message has %s", s)
		}
	}

	// Edit: the form takes the message's place; Save puts the message back.
	alice.do("click Edit", chromedp.Click(chromedp.CSS("#"+id+" .menu a.edit")))
	alice.waitJS("the edit form in place of the message", fmt.Sprintf(
		`(f => !!f && f.tagName === "FORM" && f.classList.contains("editing") && !!f.querySelector("textarea"))(document.getElementById(%s))`, jsString(id)), liveWait)
	if got := evalJS[string](alice, fmt.Sprintf(`document.querySelector(%s).value`, sel("textarea"))); got != original {
		t.Errorf("the edit form holds %q, want the message's text %q", got, original)
	}
	const edited = "the meeting moved to 4pm"
	evalJS[bool](alice, fmt.Sprintf(`(document.querySelector(%s).value = "", true)`, sel("textarea")))
	alice.do("type the new text and click Save",
		chromedp.SendKeys(chromedp.CSS("#"+id+" textarea"), edited),
		chromedp.Click(chromedp.CSS("#"+id+` button[type="submit"]`)),
	)
	editedJS := fmt.Sprintf(`(e => !!e && e.tagName === "ARTICLE" && e.querySelector(".body")?.textContent.trim() === %s
		&& /\(edited\)/.test(e.querySelector("header .edited")?.textContent || ""))(document.getElementById(%s))`, jsString(edited), jsString(id))
	alice.waitJS("alice's edited message", editedJS, liveWait)
	bob.waitJS("the edit, live in bob's page", editedJS, liveWait)
	if evalJS[bool](bob, hasMessageJS(original)) {
		t.Errorf("bob's page still shows the old text %q", original)
	}

	// A reconnect after the edit asks for what came after the newest message
	// shown, so nothing is shown twice: the server restarts and both pages
	// reconnect. (Diagnosis: app.js's lastID counts "#messages > [data-id]"
	// only, so an entry that an update left wrapped is not counted.)
	for _, b := range []*browser{alice, bob} {
		if p := evalJS[string](b, fmt.Sprintf(`(e => e.parentElement.id || e.parentElement.outerHTML.slice(0, 40))(document.getElementById(%s))`, jsString(id))); p != "messages" {
			t.Logf("%s: after the edit, %s is no longer a child of #messages but sits in %q", b.name, id, p)
		}
	}
	srv.stop()
	srv.restart()
	for _, b := range []*browser{alice, bob} {
		b.waitConnected(30 * time.Second)
		b.waitPresence("alice", "bob")
	}
	bob.send("bob, after the restart")
	alice.waitJS("bob's message after the restart", hasMessageJS("bob, after the restart"), liveWait)
	for _, b := range []*browser{alice, bob} {
		ids := evalJS[[]string](b, `[...document.querySelectorAll('#messages [id^="message-"]')].map(e => e.id)`)
		checkUnique(t, b.name+" (after an edit and a reconnect)", ids)
	}

	// Delete, through the confirm dialog.
	confirms := alice.acceptDialogs()
	alice.showActions(id)
	alice.do("click Delete", chromedp.Click(chromedp.CSS("#"+id+" .menu form.delete button")))
	deletedJS := fmt.Sprintf(`(e => !!e && e.classList.contains("deleted") && /message deleted/.test(e.querySelector(".body")?.textContent || "")
		&& !e.textContent.includes(%s))(document.getElementById(%s))`, jsString(edited), jsString(id))
	alice.waitJS("the deleted mark in alice's page", deletedJS, liveWait)
	bob.waitJS(`"message deleted", live in bob's page`, deletedJS, liveWait)
	if got := confirms.seen(); len(got) != 1 || got[0] != "Delete this message?" {
		t.Errorf("confirm dialogs shown: %q, want one asking %q", got, "Delete this message?")
	}
	for _, b := range []*browser{alice, bob} {
		if n := evalJS[int](b, fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString("#"+id+" .more, #"+id+" .menu"))); n != 0 {
			t.Errorf("%s: the deleted message still offers %d actions", b.name, n)
		}
		if n := evalJS[int](b, fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString("#"+id))); n != 1 {
			t.Errorf("%s shows %s %d times, want once", b.name, id, n)
		}
	}
	if m := bob.pageMark(); m != "bob-page" {
		t.Errorf("bob's page was reloaded (marker %q): edits and deletes must come over the socket", m)
	}
}

// TestE2EMentionBadge: a mention in a room bob is not looking at lights up his
// sidebar live; opening the room shows where the new messages start, and the
// mention stands out.
func TestE2EMentionBadge(t *testing.T) {
	srv, alice, bob := twoUsers(t)
	alice.openRoom(srv, "general")
	bob.openRoom(srv, "general")
	alice.waitPresence("alice", "bob")
	// Bob reads this one live, in the room: it is not unread when he leaves.
	alice.send("welcome, bob")
	bob.waitJS("alice's welcome, live", hasMessageJS("welcome, bob"), liveWait)

	// Bob makes another room from the sidebar and stays there.
	// In a room the form is folded away under its line.
	bob.do("unfold New room", chromedp.Click(chromedp.CSS("#new-room > summary")))
	bob.do("type a room name", chromedp.SendKeys(chromedp.ID("new-room-name"), "elsewhere"))
	if status := bob.navigate("create the room", chromedp.Click(chromedp.CSS(`form.new-room button[type="submit"]`))); status != http.StatusOK {
		t.Fatalf("creating a room answered %d\n%s", status, bob.pageSummary())
	}
	if loc := bob.location(); loc != srv.url("/rooms/elsewhere") {
		t.Fatalf("after creating the room bob is at %s, want /rooms/elsewhere", loc)
	}
	bob.waitConnected(stepTimeout)
	bob.markPage("bob-elsewhere")
	// Bob's socket in general is gone (its read marker is set when it closes).
	alice.waitPresence("alice")
	// He read everything in general live: no badge, at once or after a
	// correction over the socket.
	if !bob.pollJS(`document.querySelectorAll('#room-list .badge').length === 0`, liveWait) {
		badges := evalJS[[]string](bob, `[...document.querySelectorAll('#room-list .badge')].map(e => e.id + "=" + e.textContent.trim())`)
		t.Errorf("bob's sidebar in elsewhere shows the badges %q for %v, though he read everything in general live before leaving it", badges, liveWait)
	}

	const mention = "@bob look at this"
	const plain = "and a plain follow-up"
	alice.send(mention)
	alice.send(plain)
	bob.waitJS("the mention and unread badges for general", `!!document.getElementById("mentions-general") && !!document.getElementById("unread-general")`, liveWait)
	// The unread count settles on the two new messages once both are in.
	bob.waitJS("2 unread in general", `document.getElementById("unread-general")?.textContent.trim() === "2"`, liveWait)
	type badge struct{ Text, Parent string }
	for _, c := range []struct{ id, want string }{{"mentions-general", "@1"}, {"unread-general", "2"}} {
		got := evalJS[badge](bob, fmt.Sprintf(`(e => ({Text: e.textContent.trim(), Parent: e.closest('a')?.dataset.room || ""}))(document.getElementById(%s))`, jsString(c.id)))
		if got.Text != c.want || got.Parent != "general" {
			t.Errorf("bob's #%s = %+v, want %q on the general link", c.id, got, c.want)
		}
	}
	if m := bob.pageMark(); m != "bob-elsewhere" {
		t.Errorf("bob's page was reloaded (marker %q): badges must come over the socket", m)
	}
	if n := evalJS[int](bob, `document.querySelectorAll('#room-list a[data-room="elsewhere"] .badge').length`); n != 0 {
		t.Errorf("the room bob is in (elsewhere) shows %d badges", n)
	}
	bob.screenshot("feature-mention-badge", false)

	// Bob opens general from the sidebar.
	if status := bob.navigate("open general from the sidebar", chromedp.Click(chromedp.CSS(`#room-list a[data-room="general"]`))); status != http.StatusOK {
		t.Fatalf("opening general answered %d\n%s", status, bob.pageSummary())
	}
	bob.waitConnected(stepTimeout)
	mentionID, plainID := bob.messageIDOf(mention), bob.messageIDOf(plain)
	if mentionID == "" || plainID == "" {
		t.Fatalf("general lacks the new messages\n%s", bob.pageSummary())
	}
	if next := evalJS[string](bob, `document.getElementById("new-messages")?.nextElementSibling?.id || ""`); next != mentionID {
		t.Errorf(`the "New messages" divider (#new-messages) is above %q, want above the first unread message %s`, next, mentionID)
	}
	if text := evalJS[string](bob, `document.getElementById("new-messages")?.textContent.trim() || ""`); text != "New messages" {
		t.Errorf("the divider says %q, want New messages", text)
	}
	if dm := evalJS[string](bob, fmt.Sprintf(`document.getElementById(%s).dataset.mentions || ""`, jsString(mentionID))); !strings.Contains(" "+dm+" ", " bob ") {
		t.Errorf("the mention's data-mentions = %q, want it to list bob", dm)
	}
	type look struct{ Mention, Plain, Span string }
	l := evalJS[look](bob, fmt.Sprintf(`({
		Mention: getComputedStyle(document.getElementById(%s)).backgroundColor,
		Plain: getComputedStyle(document.getElementById(%s)).backgroundColor,
		Span: getComputedStyle(document.querySelector(%s)).backgroundColor,
	})`, jsString(mentionID), jsString(plainID), jsString("#"+mentionID+` .mention[data-user="bob"]`)))
	if l.Mention == l.Plain {
		t.Errorf("the message mentioning bob has the background of a plain message (%s): /me.css should highlight it", l.Mention)
	}
	if n := evalJS[int](bob, `document.querySelectorAll('#room-list a[data-room="general"] .badge').length`); n != 0 {
		t.Errorf("in general, bob's sidebar still shows %d badges on general", n)
	}
	t.Logf("mention background %s, plain %s, @bob %s", l.Mention, l.Plain, l.Span)
	bob.screenshot("feature-mention-opened", false)
}

// TestE2ESearchOpensInContext: a search finds an old message, with the word
// marked, and its result opens the room around it, scrolled to it.
func TestE2ESearchOpensInContext(t *testing.T) {
	srv, alice, bob := twoUsers(t)
	alice.openRoom(srv, "general")
	bob.openRoom(srv, "general")

	const zebra = "the zebra protocol is ready"
	alice.send(zebra)
	id := alice.messageIDOf(zebra)
	if id == "" {
		t.Fatalf("alice's page lacks %q", zebra)
	}
	// Enough later messages that it is no longer on the room's first page
	// (50). They go as plain form posts, split between the two so neither
	// runs out of their burst of posts.
	filler := func(who string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("filler %d from %s, nothing to see", i+1, who)
		}
		return out
	}
	alice.postForms("general", filler("alice", 28))
	bob.postForms("general", filler("bob", 30))
	bob.openRoom(srv, "general")
	if evalJS[bool](bob, hasMessageJS(zebra)) || !evalJS[bool](bob, `!!document.getElementById("load-older")`) {
		t.Fatalf("the latest page of general still shows %q (or has no older link): the test needs it to be old\n%s", zebra, bob.pageSummary())
	}

	// Bob searches from the sidebar.
	if status := bob.navigate("search for zebra", chromedp.SendKeys(chromedp.ID("search-q"), "zebra"+kb.Enter)); status != http.StatusOK {
		t.Fatalf("the search answered %d\n%s", status, bob.pageSummary())
	}
	if loc := bob.location(); loc != srv.url("/search?q=zebra") {
		t.Errorf("the search is at %s, want /search?q=zebra", loc)
	}
	type result struct{ Href, Text, Place, Author string }
	results := evalJS[[]result](bob, `[...document.querySelectorAll('#results li.result')].map(r => ({
		Href: r.querySelector('a.result-link')?.getAttribute('href') || "",
		Text: r.querySelector('a.result-link')?.textContent || "",
		Place: r.querySelector('.result-room')?.textContent || "",
		Author: r.querySelector('.author')?.textContent || "",
	}))`)
	wantHref := "/rooms/general?around=" + strings.TrimPrefix(id, "message-") + "#" + id
	if len(results) != 1 {
		t.Fatalf("the search shows %d results %+v, want one", len(results), results)
	}
	if r := results[0]; r.Href != wantHref || r.Text != zebra || r.Place != "#general" || r.Author != "alice" {
		t.Errorf("the result = %+v, want a link %s reading %q in #general by alice", r, wantHref, zebra)
	}
	if count := evalJS[string](bob, `document.getElementById("result-count")?.textContent.trim() || ""`); count != "1 message found." {
		t.Errorf("the result count says %q, want %q", count, "1 message found.")
	}
	if marks := evalJS[[]string](bob, `[...document.querySelectorAll('#results mark')].map(m => m.textContent)`); len(marks) != 1 || strings.ToLower(marks[0]) != "zebra" {
		t.Errorf("the marked words are %q, want [zebra]", marks)
	}

	// The result opens the room around the message, scrolled to it.
	if status := bob.navigate("open the result", chromedp.Click(chromedp.CSS(`#results a.result-link`))); status != http.StatusOK {
		t.Fatalf("opening the result answered %d\n%s", status, bob.pageSummary())
	}
	if loc := bob.location(); loc != srv.url(wantHref) {
		t.Errorf("the result opened %s, want %s", loc, srv.url(wantHref))
	}
	if target := evalJS[string](bob, `document.querySelector(':target')?.id || ""`); target != id {
		t.Fatalf("the page's marked (:target) message is %q, want %s\n%s", target, id, bob.pageSummary())
	}
	bob.waitJS(id+" within the visible part of the scroller", fmt.Sprintf(`(() => {
		const e = document.getElementById(%s), s = document.querySelector(".scroller");
		if (!e || !s) return false;
		const r = e.getBoundingClientRect(), v = s.getBoundingClientRect();
		return r.height > 0 && r.top >= v.top - 1 && r.bottom <= v.bottom + 1;
	})()`, jsString(id)), liveWait)
	if !evalJS[bool](bob, `!!document.querySelector('#messages .load-newer')`) {
		t.Errorf("the page around an old message has no link to the latest messages")
	}
	bob.screenshot("feature-search-opened", false)

	// A page of old messages is a still view, not live (new messages would
	// land below its window): it has no socket, and its link leads to the
	// live room, where the timeline is whole.
	if evalJS[bool](bob, `!!document.querySelector('[ws-connect]')`) {
		t.Error("the page of old messages connects live")
	}
	alice.send("zebra crossing, the newest word")
	if status := bob.navigate("jump to the latest", chromedp.Click(chromedp.CSS(`#messages .load-newer`))); status != http.StatusOK {
		t.Fatalf("jumping to the latest answered %d\n%s", status, bob.pageSummary())
	}
	bob.waitConnected(stepTimeout)
	bob.waitJS("alice's new message on the live page", hasMessageJS("zebra crossing"), liveWait)
	alice.send("after the crossing")
	bob.waitJS("alice's next message, live", hasMessageJS("after the crossing"), liveWait)
	bob.checkTimeline("in the room after jumping to the latest")
}

// checkTimeline reports a #messages that shows a message twice or out of
// order, or shows messages below its "Jump to the latest messages" link.
func (b *browser) checkTimeline(where string) {
	b.t.Helper()
	type timeline struct {
		IDs       []int
		BelowLink []string
	}
	tl := evalJS[timeline](b, `(() => {
		const ids = [...document.querySelectorAll('#messages [data-id]')].filter(e => e.id.startsWith("message-")).map(e => Number(e.dataset.id));
		const below = [];
		for (let n = document.querySelector('#messages .load-newer')?.nextElementSibling; n; n = n.nextElementSibling) below.push(n.id || n.className);
		return {IDs: ids, BelowLink: below};
	})()`)
	for i := 1; i < len(tl.IDs); i++ {
		if tl.IDs[i] <= tl.IDs[i-1] {
			b.t.Errorf("%s: %s, #messages shows message %d after message %d (twice or out of order): %v", b.name, where, tl.IDs[i], tl.IDs[i-1], tl.IDs)
			break
		}
	}
	if len(tl.BelowLink) > 0 {
		b.t.Errorf(`%s: %s, %d entries sit below the "Jump to the latest messages" link, which should end the list: %v`, b.name, where, len(tl.BelowLink), tl.BelowLink)
	}
}

// TestE2EFeatureScreenshots: a lively room with formatting, a mention and a
// reaction, a direct conversation and a search, in light and dark, on a
// desktop and a phone; and the README's picture.
func TestE2EFeatureScreenshots(t *testing.T) {
	srv, alice, bob := twoUsers(t)
	alice.openRoom(srv, "general")
	bob.openRoom(srv, "general")
	for _, b := range []*browser{alice, bob} {
		b.waitPresence("alice", "bob")
	}

	bob.send("Morning! Is the release branch cut yet?")
	alice.waitJS("bob's question", hasMessageJS("release branch cut"), liveWait)
	const formatted = "Release notes for **v2.1** are _almost_ done: run `make check` first.\n" +
		"```go\nfunc main() {\n\tfmt.Println(\"hello, agora\")\n}\n```\n" +
		"Details at https://example.com/notes and thanks @bob!"
	alice.sendComposed(formatted, "Release notes for")
	bob.waitJS("alice's formatted message", hasMessageJS("Release notes for"), liveWait)
	id := bob.messageIDOf("Release notes for")
	type shape struct{ Strong, Em, Code, Pre, Href, Mention string }
	got := evalJS[shape](bob, fmt.Sprintf(`(m => ({
		Strong: m.querySelector('.body strong')?.textContent || "",
		Em: m.querySelector('.body em')?.textContent || "",
		Code: [...m.querySelectorAll('.body code')].find(c => c.parentElement.tagName !== "PRE")?.textContent || "",
		Pre: m.querySelector('.body pre code')?.textContent || "",
		Href: m.querySelector('.body a')?.getAttribute('href') || "",
		Mention: m.querySelector('.body .mention')?.dataset.user || "",
	}))(document.getElementById(%s))`, jsString(id)))
	want := shape{Strong: "v2.1", Em: "almost", Code: "make check", Pre: "func main() {\n\tfmt.Println(\"hello, agora\")\n}", Href: "https://example.com/notes", Mention: "bob"}
	if got.Pre != want.Pre && strings.TrimSuffix(got.Pre, "\n") == want.Pre {
		got.Pre = want.Pre
	}
	if got != want {
		t.Errorf("the formatted message renders as %+v, want %+v", got, want)
	}
	bob.react(id, "🎉")
	alice.waitJS("bob's 🎉, live", reactionShownJS(id, "🎉"), liveWait)
	alice.react(id, "👍")
	bob.waitJS("alice's 👍, live", reactionShownJS(id, "👍"), liveWait)
	bob.sendComposed("Thanks @alice, running `make check` now.", "running make check now")
	alice.waitJS("bob's thanks", hasMessageJS("running make check now"), liveWait)
	alice.send("Ping me if the e2e suite complains.")
	bob.waitJS("alice's last word", hasMessageJS("e2e suite complains"), liveWait)

	alice.shots("feature-room")
	// The README's picture: desktop, light, alice's view.
	alice.mouseAway()
	alice.setColorScheme("light")
	alice.do("desktop viewport", chromedp.EmulateViewport(1280, 800))
	func() {
		ctx, cancel := context.WithTimeout(alice.ctx, stepTimeout)
		defer cancel()
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("readme screenshot: %v", err)
		}
		if err := os.MkdirAll(filepath.Dir(readmeScreenshot), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(readmeScreenshot, buf, 0o644); err != nil {
			t.Fatal(err)
		}
		if len(buf) > 300<<10 {
			t.Errorf("%s is %d KB, want it under 300 KB", readmeScreenshot, len(buf)>>10)
		}
	}()

	// A direct conversation.
	alice.openPage(srv, "/dm/bob", true)
	bob.openPage(srv, "/dm/alice", true)
	alice.send("Can you review the release notes before lunch?")
	bob.waitJS("alice's DM", hasMessageJS("release notes before lunch"), liveWait)
	bob.sendComposed("Sure, on it. Anything **urgent** in there?", "Anything urgent in there?")
	alice.waitJS("bob's DM", hasMessageJS("in there?"), liveWait)
	alice.sendComposed("Only the migration note: `make generate` after pulling.", "make generate after pulling")
	bob.waitJS("alice's second DM", hasMessageJS("after pulling"), liveWait)
	alice.waitPresence("alice", "bob")
	alice.shots("feature-dm")

	// Search results from the room and the conversation.
	if status := alice.navigate("search for release", chromedp.SendKeys(chromedp.ID("search-q"), "release"+kb.Enter)); status != http.StatusOK {
		t.Fatalf("the search answered %d\n%s", status, alice.pageSummary())
	}
	if n := evalJS[int](alice, `document.querySelectorAll('#results li.result').length`); n < 3 {
		t.Errorf("searching for release found %d results, want at least 3 (two in #general, one in the DM)", n)
	}
	alice.shots("feature-search")
}

// TestE2EInfiniteScroll: a room with more than a page of history shows the
// latest 50; scrolling to the top loads the older ones in place, once each,
// in order, without reloading the page.
func TestE2EInfiniteScroll(t *testing.T) {
	srv, alice, bob := twoUsers(t)
	alice.openPage(srv, "/rooms/general", true)
	bob.openPage(srv, "/rooms/general", true)
	history := func(who string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("early %d from %s", i+1, who)
		}
		return out
	}
	alice.postForms("general", history("alice", 28))
	bob.postForms("general", history("bob", 30))

	alice.openPage(srv, "/rooms/general", true)
	alice.markPage("scroll-page")
	const countJS = `document.querySelectorAll('#messages [id^="message-"]').length`
	if n := evalJS[int](alice, countJS); n != 50 {
		t.Fatalf("the room shows %d entries, want the latest 50", n)
	}
	if evalJS[bool](alice, hasMessageJS("early 1 from alice")) {
		t.Fatal("the oldest message is on the first page")
	}
	// Scroll to the top as a reader does (the list is a reversed flex
	// column, so the top is the most negative scrollTop).
	evalJS[bool](alice, `(s => (s.scrollTop = -s.scrollHeight, true))(document.querySelector('.scroller'))`)
	alice.waitJS("the oldest messages, loaded in place", hasMessageJS("early 1 from alice"), liveWait)
	if n := evalJS[int](alice, countJS); n <= 50 {
		t.Errorf("after scrolling up the room shows %d entries", n)
	}
	if m := alice.pageMark(); m != "scroll-page" {
		t.Errorf("the page was reloaded (marker %q): older messages must load in place", m)
	}
	alice.checkTimeline("after loading older messages")
	ids := evalJS[[]string](alice, `[...document.querySelectorAll('#messages [id^="message-"]')].map(e => e.id)`)
	checkUnique(t, "alice (after scrolling up)", ids)
	alice.screenshot("feature-scrolled-up", false)
}

// TestE2EReadOnOneDeviceClearsEveryDevice: ann has a phone in #a and a
// laptop in #b. A message in #c lights #c's badge and the title count on
// both; reading #c on a third device (her tablet) clears both, live, with
// no reload.
func TestE2EReadOnOneDeviceClearsEveryDevice(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	srv := newServer(t)
	bob := remote(srv).client(t).signup("bob")
	for _, r := range []string{"a", "b", "c"} {
		expectStatus(t, bob.post("/rooms", url.Values{"name": {r}}), http.StatusSeeOther)
	}
	phone := newBrowser(t, ctx, "ann's phone", true)
	laptop := newBrowser(t, ctx, "ann's laptop", true)
	phone.signUp(srv, "ann")
	for _, r := range []string{"c", "b", "a"} {
		phone.openRoom(srv, r) // joins each, and stays in #a
	}
	if st := laptop.logIn(srv, "ann", password); st != http.StatusOK {
		t.Fatalf("the laptop's login landed on %d", st)
	}
	laptop.openRoom(srv, "b")
	phone.markPage("phone-a")
	laptop.markPage("laptop-b")

	bob.postMessage("c", "@ann news in c")
	bob.postMessage("c", "more news in c")
	for _, b := range []*browser{phone, laptop} {
		b.waitJS("2 unread and a mention in #c", `document.getElementById("unread-c")?.textContent.trim() === "2" && document.getElementById("mentions-c")?.textContent.trim() === "@1"`, liveWait)
		b.waitJS("the title counting them", `document.title.startsWith("(2) ")`, liveWait)
	}
	phone.screenshot("feature-badge-two-devices", false)

	tablet := remote(srv).client(t)
	tablet.loginWith("ann", password)
	expectStatus(t, tablet.get("/rooms/c"), http.StatusOK)
	for _, b := range []*browser{phone, laptop} {
		b.waitJS("no badge on #c", `!document.getElementById("unread-c") && !document.getElementById("mentions-c")`, liveWait)
		b.waitJS("no count in the title", `!document.title.startsWith("(")`, liveWait)
	}
	if m := phone.pageMark(); m != "phone-a" {
		t.Errorf("the phone's page was reloaded (marker %q): badges must clear over the socket", m)
	}
	if m := laptop.pageMark(); m != "laptop-b" {
		t.Errorf("the laptop's page was reloaded (marker %q): badges must clear over the socket", m)
	}
}
