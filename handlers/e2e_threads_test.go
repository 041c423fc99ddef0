//go:build e2e

// Browser tests of threads: two people hold a thread (with JavaScript, and
// without) while a third watches the room, which shows only the root's
// summary, live; the third follows the thread and reads it on one device
// while the other's Threads count clears. Screenshots of the thread beside a
// busy room and as a page on a phone, light and dark, with axe on the
// thread page and /threads.
package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// summaryJS is the number of replies the root's summary shows ("" for none).
func summaryJS(rootID string) string {
	return fmt.Sprintf(`(document.querySelector(%s)?.dataset.replies || "")`, jsString("#summary-"+rootID+" .thread-summary"))
}

// threadsCountJS is the sidebar's Threads count ("" for none).
const threadsCountJS = `(document.querySelector('#threads-unread .badge')?.textContent || "").trim()`

// replyShownJS: the open thread shows a reply containing text.
func replyShownJS(text string) string {
	return fmt.Sprintf(`[...document.querySelectorAll('#thread-replies [id^="message-"] .body')].some(e => e.textContent.includes(%s))`, jsString(text))
}

// reply writes text in the reply composer and sends it: Enter with
// JavaScript (htmx posts it, the socket brings it back), the button
// without (a form post, then the thread again).
func (b *browser) reply(js bool, text string) {
	b.t.Helper()
	b.do("type the reply", chromedp.WaitVisible(chromedp.ID("reply-body")),
		chromedp.SendKeys(chromedp.ID("reply-body"), text))
	if js {
		b.do("press Enter in the reply box", chromedp.Focus(chromedp.ID("reply-body")), pressEnter)
		b.waitJS("the reply in the thread", replyShownJS(text), liveWait)
		b.waitJS("an empty reply box", `document.querySelector('#reply-body').value === ""`, liveWait)
		return
	}
	if status := b.press("send the reply", `#reply-composer button[type="submit"]`); status != http.StatusOK {
		b.t.Fatalf("%s: the reply answered %d\n%s", b.name, status, b.pageSummary())
	}
	if !strings.Contains(b.location(), "/threads/") || !evalJS[bool](b, replyShownJS(text)) {
		b.t.Fatalf("%s: after the reply the browser is at %s without it", b.name, b.location())
	}
}

func TestE2EThreads(t *testing.T) {
	jsModes(t, func(t *testing.T, ctx context.Context, js bool, mode string) {
		srv := newServer(t)
		ann := newBrowser(t, ctx, "ann", js)
		bob := newBrowser(t, ctx, "bob", js)
		cat := newBrowser(t, ctx, "cat", true) // watches the room, live
		catPhone := newBrowser(t, ctx, "cat-phone", true)
		ann.signUp(srv, "ann")
		bob.signUp(srv, "bob")
		cat.signUp(srv, "cat")
		catPhone.logIn(srv, "cat", password)
		for _, b := range []*browser{ann, bob} {
			b.openPage(srv, "/rooms/general", js)
		}
		cat.openRoom(srv, "general")
		// A busy room around the thread.
		var busy []string
		for i := range 12 {
			busy = append(busy, fmt.Sprintf("status line %d: the build is %s", i+1, []string{"green", "slow", "queued"}[i%3]))
		}
		cat.postForms("general", busy)

		const question = "Who reviews the release notes this week?"
		if js {
			ann.sendComposed(question, question)
		} else {
			ann.do("type the question", chromedp.WaitVisible(chromedp.ID("body")), chromedp.SendKeys(chromedp.ID("body"), question))
			ann.press("send", `#composer button[type="submit"]`)
		}
		cat.waitJS("the question in the room", hasMessageJS(question), liveWait)
		rootID := strings.TrimPrefix(cat.messageIDOf(question), "message-")
		if rootID == "" {
			t.Fatalf("no root\n%s", cat.pageSummary())
		}

		// bob replies in a thread from the message's actions.
		if js {
			bob.waitJS("the question", hasMessageJS(question), liveWait)
			bob.showActions("message-" + rootID)
		} else {
			bob.openPage(srv, "/messages/"+rootID, false)
		}
		if status := bob.press("Reply in thread", ".reply-in-thread"); status != http.StatusOK {
			t.Fatalf("Reply in thread answered %d", status)
		}
		if js {
			bob.waitConnected(stepTimeout)
		}
		bob.expectText("#thread-root .body", question)
		bob.reply(js, "I can, after lunch.")

		// The room shows the summary, live, and never the reply itself.
		cat.waitJS("the summary saying 1 reply", summaryJS(rootID)+` === "1"`, liveWait)
		if evalJS[bool](cat, hasMessageJS("I can, after lunch.")) {
			t.Fatal("the reply shows in the room's list")
		}

		// ann opens the thread from the summary and answers there.
		if js {
			ann.waitJS("the summary", summaryJS(rootID)+` === "1"`, liveWait)
		} else {
			ann.openPage(srv, "/rooms/general", false)
		}
		if status := ann.press("open the thread", "#summary-"+rootID+" .thread-summary"); status != http.StatusOK {
			t.Fatalf("the summary's link answered %d", status)
		}
		if js {
			ann.waitConnected(stepTimeout)
		}
		ann.reply(js, "Thanks @bob, the draft is in docs/.")
		if js {
			bob.waitJS("ann's reply, live", replyShownJS("the draft is in docs/"), liveWait)
		} else {
			bob.openPage(srv, "/threads/"+rootID, false)
			if !evalJS[bool](bob, replyShownJS("the draft is in docs/")) {
				t.Fatalf("bob's thread lacks ann's reply\n%s", bob.pageSummary())
			}
		}
		cat.waitJS("the summary saying 2 replies", summaryJS(rootID)+` === "2"`, liveWait)
		if n := evalJS[int](cat, fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString("#summary-"+rootID+" .faces .avatar"))); n != 2 {
			t.Errorf("the summary shows %d faces; want bob's and ann's", n)
		}

		// cat follows the thread by hand, then goes back to the room; her phone has the room open too.
		cat.openPage(srv, "/threads/"+rootID, true)
		if status := cat.press("Follow", "#thread-follow"); status != http.StatusOK {
			t.Fatalf("Follow answered %d", status)
		}
		cat.expectText("#thread-follow", "Unfollow")
		cat.openRoom(srv, "general")
		catPhone.openRoom(srv, "general")

		// bob answers once more: both of cat's devices count it, live.
		if !js {
			bob.openPage(srv, "/threads/"+rootID, false)
		}
		bob.reply(js, "Reviewed: two typos fixed.")
		for _, b := range []*browser{cat, catPhone} {
			b.waitJS("the Threads count of 1", threadsCountJS+` === "1"`, liveWait)
		}
		// /threads lists it, unread; opening it there reads it, and the phone's count clears.
		cat.openPage(srv, "/threads", false)
		if n := evalJS[string](cat, fmt.Sprintf(`document.querySelector('#threads [data-thread="%s"]')?.dataset.unread || ""`, rootID)); n != "1" {
			t.Fatalf("/threads shows %q unread for the thread; want 1\n%s", n, cat.pageSummary())
		}
		if js {
			cat.auditPage(srv, "threads", "/threads", false)
		}
		cat.press("open the thread from /threads", fmt.Sprintf(`#threads [data-thread="%s"] a`, rootID))
		catPhone.waitJS("the Threads count cleared", threadsCountJS+` === ""`, liveWait)
		if js {
			// The thread beside the busy room, and as a page on a phone, light and dark.
			cat.auditPage(srv, "thread", "/threads/"+rootID, true)
		}
	})
}
