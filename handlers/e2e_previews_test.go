//go:build e2e

package handlers_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// previewSite is a page with an OpenGraph card and a picture, on loopback:
// the server runs with -unfurl-private to reach it.
func previewSite(t *testing.T) *httptest.Server {
	t.Helper()
	pic := avatarFixture(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/pic.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write(pic)
		default:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, `<html><head><title>fallback</title>
				<meta property="og:title" content="Field notes: <b>the river</b> in spring">
				<meta property="og:description" content="What changed along the river this year, with the counts of each kind of bird we saw.">
				<meta property="og:site_name" content="Example Journal"><meta property="og:image" content="/pic.png"></head></html>`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// previewShownJS: the message holding text shows a preview titled title
// with its picture loaded from this server.
func previewShownJS(text, title string) string {
	return fmt.Sprintf(`(() => {
		const m = [...document.querySelectorAll('#messages .message')].find(e => (e.querySelector('.body') || e).textContent.includes(%s));
		const p = m && m.querySelector('.link-preview');
		const img = p && p.querySelector('img.link-preview-image');
		return !!p && p.querySelector('.link-preview-title').textContent.trim() === %s &&
			!!img && img.complete && img.naturalWidth > 0 && img.getAttribute('src').startsWith('/messages/');
	})()`, jsString(text), jsString(title))
}

func noPreviewJS(text string) string {
	return fmt.Sprintf(`(() => {
		const m = [...document.querySelectorAll('#messages .message')].find(e => (e.querySelector('.body') || e).textContent.includes(%s));
		return !!m && !m.querySelector('.link-preview');
	})()`, jsString(text))
}

// TestE2ELinkPreviews: a link's preview arrives live on every page after
// the message, its picture served by us; only its author sees the remove
// button, and removing it takes it off every page, live; without
// JavaScript the preview is on the page once fetched and the remove button
// is a form. Screenshots light and dark at 1280 and 390 px; axe is clean.
func TestE2ELinkPreviews(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	site := previewSite(t)
	srv := newServer(t, "-unfurl-private")
	alice := newBrowser(t, ctx, "alice", true)
	bob := newBrowser(t, ctx, "bob", true)
	alice.signUp(srv, "alice")
	bob.signUp(srv, "bob")
	alice.openRoom(srv, "general")
	bob.openRoom(srv, "general")

	const title = "Field notes: <b>the river</b> in spring"
	text := "notes from the walk " + site.URL + "/notes"
	alice.sendComposed(text, "notes from the walk")
	bob.waitJS("the preview reaches bob", previewShownJS("notes from the walk", title), liveWait)
	alice.waitJS("the preview reaches alice", previewShownJS("notes from the walk", title), liveWait)
	id := bob.messageIDOf("notes from the walk")
	visible := func(b *browser) bool {
		return evalJS[bool](b, fmt.Sprintf(`getComputedStyle(document.querySelector(%s)).display !== "none"`, jsString("#"+id+" .preview-remove")))
	}
	if visible(bob) || !visible(alice) {
		t.Errorf("the remove button: shown to bob %v, to alice %v; want alice only", visible(bob), visible(alice))
	}
	bob.checkAxe("the room with a link preview")
	bob.shots("link-preview")

	alice.do("remove the preview", chromedp.Click(chromedp.CSS("#"+id+" .preview-remove button")))
	bob.waitJS("the preview leaves bob's page", noPreviewJS("notes from the walk"), liveWait)
	alice.waitJS("the preview leaves alice's page", noPreviewJS("notes from the walk"), liveWait)

	// Without JavaScript: the form, then the page.
	carol := newBrowser(t, ctx, "carol", false)
	carol.signUp(srv, "carol")
	carol.navigate("open general", chromedp.Navigate(srv.url("/rooms/general")))
	if evalJS[bool](carol, `!!document.querySelector('form[action$="/join"] button')`) {
		carol.navigate("join", chromedp.Click(chromedp.CSS(`form[action$="/join"] button`)))
	}
	carol.do("write", chromedp.SetValue(chromedp.ID("body"), "carol's link "+site.URL+"/carol"))
	carol.navigate("send", chromedp.Click(chromedp.CSS(`#composer button[type="submit"]`)))
	bob.waitJS("carol's preview reaches bob", previewShownJS("carol's link", title), liveWait)
	carol.navigate("reload", chromedp.Navigate(srv.url("/rooms/general")))
	if !evalJS[bool](carol, previewShownJS("carol's link", title)) {
		t.Fatalf("carol's page lacks her preview\n%s", carol.pageSummary())
	}
	carol.screenshot("link-preview-nojs", true)
	cid := carol.messageIDOf("carol's link")
	if status := carol.navigate("remove it", chromedp.Click(chromedp.CSS("#"+cid+" .preview-remove button"))); status != http.StatusOK {
		t.Fatalf("the remove form landed on %d", status)
	}
	if !evalJS[bool](carol, noPreviewJS("carol's link")) {
		t.Errorf("after the form, carol's page still shows the preview\n%s", carol.pageSummary())
	}
	bob.waitJS("carol's removal reaches bob", noPreviewJS("carol's link"), liveWait)
}

// TestE2ECustomEmoji: an admin adds an emoji on /admin/emoji (axe clean,
// light and dark, 1280 and 390 px), a refused file says why; the picker
// lists it and puts :name: in the composer; the message shows the picture
// on every page, live; without JavaScript the picker's page makes it a
// reaction.
func TestE2ECustomEmoji(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*testTimeout)
	defer cancel()
	srv := newServer(t)
	alice := newBrowser(t, ctx, "alice", true)
	bob := newBrowser(t, ctx, "bob", true)
	alice.signUp(srv, "alice") // the first account: an admin
	bob.signUp(srv, "bob")

	dir := t.TempDir()
	pic, fake := filepath.Join(dir, "parrot.png"), filepath.Join(dir, "fake.png")
	if err := os.WriteFile(pic, avatarFixture(t), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fake, []byte("<html>not a picture</html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	alice.auditPage(srv, "admin-emoji-empty", "/admin/emoji", false)
	alice.do("a file that is not a picture",
		chromedp.SetValue(chromedp.ID("emoji-name"), "fake"),
		chromedp.SetUploadFiles(chromedp.ID("emoji-file"), []string{fake}))
	alice.navigate("add it", chromedp.Click(chromedp.CSS(`#new-emoji button[type="submit"]`)))
	if msg := evalJS[string](alice, `document.querySelector('#form-error')?.textContent || ""`); !strings.Contains(msg, "PNG, GIF or WebP") {
		t.Errorf("the refusal says %q", msg)
	}
	alice.checkAxe("/admin/emoji with an error")
	alice.do("the parrot",
		chromedp.SetValue(chromedp.ID("emoji-name"), "parrot"),
		chromedp.SetUploadFiles(chromedp.ID("emoji-file"), []string{pic}))
	alice.navigate("add it", chromedp.Click(chromedp.CSS(`#new-emoji button[type="submit"]`)))
	alice.waitJS("the parrot listed", `(img => !!img && img.complete && img.naturalWidth > 0)(document.querySelector('#emoji-parrot img.emoji'))`, liveWait)
	alice.auditPage(srv, "admin-emoji", "/admin/emoji", false)

	alice.openRoom(srv, "general")
	bob.openRoom(srv, "general")
	bob.do("open the picker", chromedp.Click(chromedp.ID("emoji-button")))
	bob.waitJS("the custom emoji first in the picker", `(b => !!b && b.closest('.emoji-grid').classList.contains('custom'))(document.querySelector('#emoji-results button[value=":parrot:"]'))`, liveWait)
	bob.checkAxe("the picker with a custom emoji")
	bob.do("pick the parrot", chromedp.Click(chromedp.CSS(`#emoji-results button[value=":parrot:"]`)))
	bob.waitJS(":parrot: in the composer", `document.querySelector("#body").value.includes(":parrot:")`, liveWait)
	bob.do("write the rest", chromedp.SendKeys(chromedp.ID("body"), " made it to the release"))
	bob.sendComposed(evalJS[string](bob, `document.querySelector("#body").value`), "made it to the release")
	shown := `(() => {
		const m = [...document.querySelectorAll('#messages .message')].find(e => e.textContent.includes("made it to the release"));
		const img = m && m.querySelector('.body img.emoji[alt=":parrot:"]');
		return !!img && img.complete && img.naturalWidth > 0;
	})()`
	bob.waitJS("the picture in bob's message", shown, liveWait)
	alice.waitJS("the picture reaches alice", shown, liveWait)
	bob.checkAxe("the room with a custom emoji")

	// Without JavaScript: a reaction from the picker's page.
	carol := newBrowser(t, ctx, "carol", false)
	carol.signUp(srv, "carol")
	carol.navigate("open general", chromedp.Navigate(srv.url("/rooms/general")))
	if evalJS[bool](carol, `!!document.querySelector('form[action$="/join"] button')`) {
		carol.navigate("join", chromedp.Click(chromedp.CSS(`form[action$="/join"] button`)))
	}
	id := carol.messageIDOf("made it to the release")
	carol.navigate("the picker for the message", chromedp.Navigate(srv.url("/emoji?for="+strings.TrimPrefix(id, "message-"))))
	carol.navigate("react with the parrot", chromedp.Click(chromedp.CSS(`#emoji-results button[value=":parrot:"]`)))
	if !evalJS[bool](carol, fmt.Sprintf(`!!document.querySelector(%s)`, jsString("#"+id+` .reactions .reaction img.emoji[alt=":parrot:"]`))) {
		t.Errorf("carol's reaction is not shown\n%s", carol.pageSummary())
	}
	alice.waitJS("carol's reaction reaches alice", fmt.Sprintf(`!!document.querySelector(%s)`, jsString("#"+id+` .reactions .reaction img.emoji[alt=":parrot:"]`)), liveWait)
	alice.shots("custom-emoji")
}
