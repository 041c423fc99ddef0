//go:build e2e

package handlers_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// writeFile puts content in a file of the test's temp dir for a browser to send.
func writeFile(t *testing.T, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// attach sends a file through the composer's attach form, as a person does.
func (b *browser) attach(path, caption string) {
	b.t.Helper()
	b.do("open the attach form", chromedp.Click(chromedp.CSS(`#attach summary`)), chromedp.WaitVisible(chromedp.ID("attach-file")))
	b.do("choose "+filepath.Base(path), chromedp.SetUploadFiles(chromedp.ID("attach-file"), []string{path}))
	if caption != "" {
		b.do("write a caption", chromedp.SendKeys(chromedp.ID("attach-caption"), caption))
	}
}

// thumbJS describes the thumbnail of the newest image in #messages: its
// attributes, the box it takes on the page, and whether it has loaded.
const thumbJS = `(() => {
	const imgs = [...document.querySelectorAll('#messages .attachment.image img')];
	const img = imgs[imgs.length - 1];
	if (!img) return null;
	const r = img.getBoundingClientRect();
	return {W: img.getAttribute('width'), H: img.getAttribute('height'), BoxW: Math.round(r.width), BoxH: Math.round(r.height),
		Loaded: img.complete && img.naturalWidth > 0, Natural: img.naturalWidth, Alt: img.alt};
})()`

type thumbInfo struct {
	W, H       string
	BoxW, BoxH int
	Loaded     bool
	Natural    int
	Alt        string
}

// TestE2EFilesLive: alice attaches an image and bob sees its thumbnail arrive
// live, in its final size from the first frame; files, dropped files and a
// pasted screenshot follow the same way.
func TestE2EFilesLive(t *testing.T) {
	srv, alice, bob := twoUsers(t)
	alice.openRoom(srv, "general")
	bob.openRoom(srv, "general")
	alice.sendComposed("Photos from the offsite, and the agenda", "Photos from the offsite")

	photo := writeFile(t, "offsite.jpg", jpegImage(t, 1600, 1000, 1, "GPS"))
	alice.attach(photo, "The view from the terrace")
	alice.do("send the file", chromedp.Click(chromedp.CSS(`#attach-form button[type="submit"]`)))
	bob.waitJS("the thumbnail in bob's page", `!!document.querySelector('#messages .attachment.image img')`, liveWait)
	first := evalJS[thumbInfo](bob, thumbJS)
	if first.W != "400" || first.H != "250" || first.BoxW != 400 || first.BoxH != 250 {
		t.Errorf("the thumbnail arrived as %+v, want 400×250 in its attributes and on the page", first)
	}
	bob.waitJS("the thumbnail to load", `(() => { const i = document.querySelector('#messages .attachment.image img'); return i && i.complete && i.naturalWidth === 800; })()`, liveWait)
	if last := evalJS[thumbInfo](bob, thumbJS); last.BoxW != first.BoxW || last.BoxH != first.BoxH {
		t.Errorf("the thumbnail's box changed when it loaded: %+v, then %+v", first, last)
	}
	if !strings.Contains(evalJS[string](bob, `document.querySelector('#messages .attachment.image').closest('article').textContent`), "The view from the terrace") {
		t.Error("the caption is not shown with the image")
	}
	// The page that sent it: the form is reset and closed, no error.
	alice.waitJS("the attach form closed and empty", `!document.querySelector('#attach').open && document.querySelector('#attach-file').value === "" && document.querySelector('#upload-status').hidden`, liveWait)
	if e := evalJS[string](alice, `document.querySelector('#composer-error').textContent`); e != "" {
		t.Errorf("alice sees the error %q", e)
	}
	// Opened on its own, the image is the full size.
	evalJS[bool](bob, `(window.fullSize = "", fetch(document.querySelector('#messages .attachment.image').href)
		.then(r => r.blob().then(createImageBitmap).then(bmp => window.fullSize = r.headers.get('content-type') + ' ' + bmp.width + 'x' + bmp.height)), true)`)
	bob.waitJS("the full-size image fetched", `window.fullSize !== ""`, liveWait)
	if full := evalJS[string](bob, `window.fullSize`); full != "image/jpeg 1600x1000" {
		t.Errorf("the full-size image is %q", full)
	}

	// Any other file is a card; a download on click.
	agenda := writeFile(t, "agenda-2026.pdf", append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("agenda "), 30000)...))
	alice.attach(agenda, "")
	alice.do("send the file", chromedp.Click(chromedp.CSS(`#attach-form button[type="submit"]`)))
	bob.waitJS("the file card", hasMessageJS("agenda-2026.pdf"), liveWait)
	card := evalJS[string](bob, `[...document.querySelectorAll('#messages .attachment.file')].pop().textContent.replace(/\s+/g, ' ').trim()`)
	if card != "PDF agenda-2026.pdf 205 KB · application/pdf" {
		t.Errorf("the file card reads %q", card)
	}

	// Bob drops a file on the room, then pastes a screenshot into the message box.
	evalJS[bool](bob, `(() => { const dt = new DataTransfer();
		dt.items.add(new File(["dropped in\n"], "dropped-notes.txt", {type: "text/plain"}));
		document.querySelector('#messages').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
		return true; })()`)
	alice.waitJS("the dropped file", hasMessageJS("dropped-notes.txt"), liveWait)
	evalJS[bool](bob, `(() => { const c = document.createElement('canvas'); c.width = 300; c.height = 120;
		const g = c.getContext('2d'); g.fillStyle = '#4f46e5'; g.fillRect(0, 0, 300, 120); g.fillStyle = '#fff'; g.fillRect(20, 20, 120, 40);
		c.toBlob(blob => {
			const dt = new DataTransfer(); dt.items.add(new File([blob], 'image.png', {type: 'image/png'}));
			document.querySelector('#body').dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));
		}, 'image/png');
		return true; })()`)
	alice.waitJS("the pasted screenshot", `[...document.querySelectorAll('#messages .attachment.image img')].some(i => i.alt === 'image.png' && i.width === 300 && i.height === 120)`, liveWait)

	// A file over the limit is refused in the page, before it is sent.
	big := writeFile(t, "huge.bin", make([]byte, 26<<20))
	alice.attach(big, "")
	alice.do("send the file", chromedp.Click(chromedp.CSS(`#attach-form button[type="submit"]`)))
	alice.waitJS("the refusal", `document.querySelector('#composer-error').textContent.includes('larger than')`, liveWait)
	evalJS[bool](alice, `(document.querySelector('#composer-error').textContent = '', document.querySelector('#attach').open = false, true)`)

	bob.waitJS("every thumbnail loaded", `[...document.querySelectorAll('#messages img')].every(i => i.complete && i.naturalWidth > 0)`, liveWait)
	bob.shots("files-room")
}

// TestE2EFilesWithoutJavaScript: the attach form is a plain multipart form:
// the page reloads with the image in it; a file over the limit gets the room
// again with the reason.
func TestE2EFilesWithoutJavaScript(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	srv := newServer(t)
	b := newBrowser(t, ctx, "carol", false)
	b.signUp(srv, "carol")
	b.openPage(srv, "/rooms/general", false)

	b.attach(writeFile(t, "whiteboard.png", pngImage(t, 900, 1200, nil)), "Whiteboard after the meeting")
	b.screenshot("nojs-attach-form", true)
	if status := b.navigate("send the file", chromedp.Click(chromedp.CSS(`#attach-form button[type="submit"]`))); status != http.StatusOK {
		t.Fatalf("sending the file landed on status %d\n%s", status, b.pageSummary())
	}
	if loc := b.location(); loc != srv.url("/rooms/general") {
		t.Fatalf("after sending, the browser is at %s", loc)
	}
	b.waitJS("the thumbnail to load", `(() => { const i = document.querySelector('#messages .attachment.image img'); return i && i.complete && i.naturalWidth > 0; })()`, stepTimeout)
	got := evalJS[thumbInfo](b, thumbJS)
	if got.W != "225" || got.H != "300" || got.BoxW != 225 || got.BoxH != 300 || got.Alt != "whiteboard.png" {
		t.Errorf("the thumbnail is %+v, want 225×300", got)
	}
	if !strings.Contains(evalJS[string](b, `document.querySelector('#messages').textContent`), "Whiteboard after the meeting") {
		t.Error("the caption is not shown")
	}

	b.attach(writeFile(t, "huge.bin", make([]byte, 26<<20)), "")
	if status := b.navigate("send a file over the limit", chromedp.Click(chromedp.CSS(`#attach-form button[type="submit"]`))); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("sending a file over the limit landed on status %d\n%s", status, b.pageSummary())
	}
	if e := evalJS[string](b, `document.querySelector('#composer-error').textContent`); !strings.Contains(e, "larger than 25 MB") {
		t.Errorf("the page says %q", e)
	}
	if n := evalJS[int](b, `document.querySelectorAll('#messages .attachment').length`); n != 1 {
		t.Errorf("%d attachments after the refusal, want 1", n)
	}
	b.screenshot("nojs-files", true)
}
