//go:build e2e

// Browser tests of send later, reminders and the slash-command popup
// (issue 21), on the harness of e2e_test.go. Run them with `make e2e`.
package handlers_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// localInput is a datetime-local value secs seconds from now in the
// page's zone, to the minute, as the field takes it (its step is a minute).
func localInput(secs int) string {
	return `(d => new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16))(new Date(Date.now() + ` +
		strconv.Itoa(secs) + ` * 1000))`
}

// TestE2ESendLater: with JavaScript the composer's "Send later" schedules
// the message over the socket (the composer clears, the time too, and says
// when); a time passed is refused beside it, the text kept; /scheduled
// lists it, its edit brings it forward and it arrives live for bob, once;
// without JavaScript the same field and form do the same. /scheduled is
// audited with axe in both schemes at both widths.
func TestE2ESendLater(t *testing.T) {
	srv, alice, bob := twoUsers(t)
	alice.openRoom(srv, "general")
	bob.openRoom(srv, "general")

	alice.do("open Send later", chromedp.Click(chromedp.CSS(`#send-later summary`)), chromedp.WaitVisible(chromedp.ID("send-at")))
	alice.do("a time passed", chromedp.SetValue(chromedp.ID("send-at"), "2020-01-01T10:00"),
		chromedp.SendKeys(chromedp.ID("body"), "too late now"), pressEnter)
	alice.waitJS("the refusal", `(document.getElementById("composer-error")?.textContent || "").includes("has passed")`, liveWait)
	if v := evalJS[string](alice, `document.getElementById("body").value`); v != "too late now" {
		t.Errorf("after the refusal the composer holds %q", v)
	}

	evalJS[bool](alice, `(document.getElementById("send-at").value = `+localInput(3600)+`) !== ""`)
	evalJS[bool](alice, `(document.getElementById("body").value = "") === ""`)
	alice.do("write and send later", chromedp.Focus(chromedp.ID("body")), chromedp.SendKeys(chromedp.ID("body"), "the plan, in an hour"), pressEnter)
	alice.waitJS("alice is told when", `(document.getElementById("composer-said")?.textContent || "").includes("Scheduled for")`, liveWait)
	alice.waitJS("the composer and its time clear", `document.getElementById("body").value === "" && document.getElementById("send-at").value === ""`, liveWait)
	if evalJS[bool](bob, hasMessageJS("the plan, in an hour")) || evalJS[bool](alice, hasMessageJS("the plan, in an hour")) {
		t.Fatal("a message scheduled for an hour was shown at once")
	}

	if status := alice.navigate("open /scheduled", chromedp.Click(chromedp.ID("scheduled-link"))); status != http.StatusOK {
		t.Fatalf("/scheduled answered %d", status)
	}
	if n := evalJS[int](alice, `document.querySelectorAll('#scheduled li[data-state="pending"]').length`); n != 1 {
		t.Fatalf("/scheduled lists %d pending", n)
	}
	alice.auditPage(srv, "scheduled", "/scheduled", false)
	// The sidebar's foot: Log out beside the name, the page links (Saved,
	// Scheduled, Admin) on one line of their own; the link Scheduled added
	// once pushed Log out onto a line alone. On a phone the sidebar is
	// the lobby's.
	footJS := `(() => { const box = e => e.getBoundingClientRect();
		const links = [...document.querySelectorAll(".me .me-link")].map(e => Math.round(box(e).top));
		const out = box(document.querySelector('.me form[action="/logout"] button')), name = box(document.querySelector(".me .me-name"));
		return links.length === 3 && links.every(y => y === links[0]) && out.top < name.bottom && out.bottom > name.top })()`
	if !evalJS[bool](alice, footJS) {
		t.Error("at 1280 px the sidebar's foot wraps: Log out is not beside the name, or the links take two lines")
	}
	alice.navigate("open the lobby", chromedp.Navigate(srv.url("/")))
	alice.phoneViewport()
	if !evalJS[bool](alice, footJS) {
		t.Error("at 390 px the lobby's sidebar foot wraps")
	}
	alice.desktopViewport()
	alice.navigate("back to /scheduled", chromedp.Navigate(srv.url("/scheduled")))

	// Its text changed by the edit form.
	alice.do("change the text", chromedp.SetValue(chromedp.CSS(`#scheduled textarea[name="body"]`), "the plan, edited"))
	if status := alice.navigate("save the edit", chromedp.Click(chromedp.CSS(`#scheduled form.scheduled-edit button`))); status != http.StatusOK {
		t.Fatalf("the edit answered %d\n%s", status, alice.pageSummary())
	}
	if said := evalJS[string](alice, `document.getElementById("scheduled-said")?.textContent || ""`); !strings.Contains(said, "Changed") {
		t.Errorf("after the edit /scheduled says %q", said)
	}
	// Brought forward to a few seconds from now (the field's step is a
	// minute, so posted as a script would, to the same route): it comes
	// live to bob.
	evalJS[bool](alice, `(() => { const f = document.querySelector("#scheduled form.scheduled-edit");
		const d = new FormData(f); d.set("send_at", new Date(Date.now() + 3000).toISOString().slice(0, 19) + "Z");
		fetch(f.action, {method: "POST", body: new URLSearchParams(d)}).then(r => { window.forward = r.ok ? "ok" : "refused " + r.status });
		return true })()`)
	alice.waitJS("the edit's answer", `window.forward === "ok"`, liveWait)
	bob.waitJS("the message arrives for bob", hasMessageJS("the plan, edited"), 2*liveWait)
	if n := evalJS[int](bob, `[...document.querySelectorAll("#messages .message .body")].filter(b => b.textContent.includes("the plan, edited")).length`); n != 1 {
		t.Errorf("bob sees it %d times", n)
	}

	// Without JavaScript: the details open natively, the form posts.
	carol := newBrowser(t, alice.ctx, "carol", false)
	carol.signUp(srv, "carol")
	carol.navigate("open general", chromedp.Navigate(srv.url("/rooms/general")))
	if evalJS[bool](carol, `!!document.querySelector('form[action$="/join"] button')`) {
		carol.navigate("join", chromedp.Click(chromedp.CSS(`form[action$="/join"] button`)))
	}
	carol.do("open Send later", chromedp.Click(chromedp.CSS(`#send-later summary`)), chromedp.WaitVisible(chromedp.ID("send-at")))
	evalJS[bool](carol, `(document.getElementById("send-at").value = `+localInput(7200)+`) !== ""`)
	carol.do("write", chromedp.SendKeys(chromedp.ID("body"), "carol's later note"))
	if status := carol.navigate("send later without JavaScript", chromedp.Click(chromedp.CSS(`#composer button[type="submit"]`))); status != http.StatusOK {
		t.Fatalf("without JavaScript, send later landed on %d", status)
	}
	if said := evalJS[string](carol, `document.getElementById("composer-said")?.textContent || ""`); !strings.Contains(said, "Scheduled for") {
		t.Errorf("without JavaScript the room says %q", said)
	}
	carol.navigate("open /scheduled", chromedp.Navigate(srv.url("/scheduled")))
	if n := evalJS[int](carol, `document.querySelectorAll('#scheduled li[data-state="pending"]').length`); n != 1 {
		t.Errorf("carol's /scheduled lists %d", n)
	}
	if status := carol.navigate("cancel it", chromedp.Click(chromedp.CSS(`#scheduled form.scheduled-cancel button`))); status != http.StatusOK {
		t.Fatalf("cancel landed on %d", status)
	}
	if !evalJS[bool](carol, `!!document.getElementById("scheduled-empty")`) {
		t.Error("after cancelling, /scheduled is not empty")
	}
}

// TestE2EReminders: "Remind me" on a message's menu answers in the menu;
// /remind in the composer says when, and a bad one says why, its text kept.
// The popup lists /remind as "/" is typed; it is audited as shown.
func TestE2EReminders(t *testing.T) {
	srv, alice, bob := twoUsers(t)
	alice.openRoom(srv, "general")
	bob.openRoom(srv, "general")
	alice.send("deploy at four")
	id := alice.messageIDOf("deploy at four")
	bob.waitJS("bob sees it", hasMessageJS("deploy at four"), liveWait)
	bob.showActions(id)
	bob.do("choose in 3 hours", chromedp.SetValue(chromedp.CSS("#"+id+" .menu form.remind select"), "3h"),
		chromedp.Click(chromedp.CSS("#"+id+" .menu form.remind button")))
	bob.waitJS("the menu says when", `(document.querySelector("#`+id+` .menu [role=status]")?.textContent || "").includes("I will remind you")`, liveWait)

	alice.do("type /re", chromedp.Focus(chromedp.ID("body")), chromedp.SendKeys(chromedp.ID("body"), "/re"))
	alice.waitJS("the popup lists /remind", `!document.getElementById("mention-list").hidden && [...document.querySelectorAll("#mention-list li")].some(li => li.dataset.user === "remind")`, liveWait)
	alice.auditAsShown("command-popup", `!document.getElementById("mention-list").hidden`)
	alice.do("pick it with Tab", pressTab)
	if v := evalJS[string](alice, `document.getElementById("body").value`); v != "/remind " {
		t.Errorf("after Tab the composer holds %q", v)
	}
	alice.do("a bad one", chromedp.SendKeys(chromedp.ID("body"), "me in 400d to renew"), pressEnter)
	alice.waitJS("the refusal", `(document.getElementById("composer-error")?.textContent || "").includes("days away")`, liveWait)
	if v := evalJS[string](alice, `document.getElementById("body").value`); v != "/remind me in 400d to renew" {
		t.Errorf("after the refusal the composer holds %q", v)
	}
	evalJS[bool](alice, `(document.getElementById("body").value = "") === ""`)
	alice.do("a good one", chromedp.SendKeys(chromedp.ID("body"), "/remind me in 20m to stretch"), pressEscape, pressEnter)
	alice.waitJS("alice is told when", `(document.getElementById("composer-said")?.textContent || "").includes("I will remind you")`, liveWait)
	alice.waitJS("the composer clears", `document.getElementById("body").value === ""`, liveWait)
	alice.navigate("open /scheduled", chromedp.Navigate(srv.url("/scheduled")))
	if n := evalJS[int](alice, `document.querySelectorAll('#scheduled li[data-kind="reminder"]').length`); n != 1 {
		t.Errorf("alice's /scheduled lists %d reminders", n)
	}
}
