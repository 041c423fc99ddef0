//go:build e2e

// The missed-activity email as a mail client shows it (issue 20), in
// headless Chromium. Run with `make e2e`.

package handlers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"agora/chat/mail/mailtest"
)

// TestE2EMissedActivityEmailRendered: bob verifies his address and asks
// for missed mentions at once; alice mentions him while he is elsewhere.
// The email the server sends through a real SMTP server is opened in
// Chromium as a mail client would show its HTML part: it greets bob, lists
// the mention with a link to it and says how to stop the emails; axe finds
// nothing, and it is photographed light and dark, wide and narrow.
func TestE2EMissedActivityEmailRendered(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	smtpd := mailtest.Start(t)
	srv := newServer(t, "-smtp", smtpd.URL(), "-mail-from", "agora <chat@example.com>")
	bob := newBrowser(t, ctx, "bob", true)
	bob.signUp(srv, "bob")
	post := func(path, form string) {
		t.Helper()
		status := evalJSAwait[int](bob, fmt.Sprintf(`fetch(%s, {method: "POST", body: new URLSearchParams(%s), redirect: "manual", credentials: "same-origin"})
			.then(r => r.type === "opaqueredirect" ? 303 : r.status)`, jsString(path), form))
		if status != 303 {
			t.Fatalf("POST %s: %d", path, status)
		}
	}
	post("/settings/email", `{email: "bob@example.com"}`)
	link := linkIn.FindString(smtpd.Next(t).Text())
	if link == "" {
		t.Fatal("no verification link in the email")
	}
	bob.navigate("open the verification link", chromedp.Navigate(link))
	post("/settings/notifications", `{email: "mentions", email_delay: "0"}`)
	bob.openPage(srv, "/rooms/general", true) // joins it
	bob.openPage(srv, "/settings/notifications", false)

	alice := newBrowser(t, ctx, "alice", true)
	alice.signUp(srv, "alice")
	alice.openPage(srv, "/rooms/general", true)
	alice.send("@bob the release notes are ready for your review, the second section needs a look")

	got := smtpd.Next(t)
	html := got.HTML()
	if len(got.To) != 1 || got.To[0] != "bob@example.com" || !strings.Contains(html, "Open the message") {
		t.Fatalf("the email to %v:\n%s", got.To, got.Data)
	}
	bob.do("show the email's HTML", chromedp.Navigate("about:blank"), chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		tree, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
		if err != nil {
			return err
		}
		_, err = chromedp.Call(ctx, page.SetDocumentContent, page.SetDocumentContentParams{FrameID: tree.FrameTree.Frame.ID, HTML: html})
		return err
	}))
	if text := bob.textOf("body"); !strings.Contains(text, "Hello bob") || !strings.Contains(text, "alice in #general") || !strings.Contains(text, "Stop these emails") {
		t.Fatalf("the email shows:\n%s", text)
	}
	bob.checkAxe("the missed-activity email")
	bob.shots("email-missed-activity")
}
