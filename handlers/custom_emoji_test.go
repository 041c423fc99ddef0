package handlers_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// addEmoji posts the emoji form as a browser does: multipart, the picture
// as "file" under fileName.
func (c *client) addEmoji(name, fileName string, picture []byte) response {
	c.t.Helper()
	return c.postFile("/admin/emoji", map[string]string{"name": name}, "file", fileName, picture)
}

// Admins add emoji; hostile names and files are refused with a clear error
// and nothing stored; :name: then shows the picture in messages (live and
// on the page, never in code), as a reaction and in the picker, until it is
// deleted.
func TestCustomEmoji(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann") // the first account: an admin
	bob := ts.client(t).signup("bob")
	ann.get("/rooms/general")
	bob.get("/rooms/general")
	pic := testPNG(t, 64, 64)

	if res := bob.get("/admin/emoji"); res.status == http.StatusOK {
		t.Fatal("a member sees the emoji admin page")
	}
	if res := bob.addEmoji("parrot", "parrot.png", pic); res.status == http.StatusSeeOther {
		t.Fatal("a member added an emoji")
	}

	gif := []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")
	jpeg := photo(t, 16, 16)
	for _, tc := range []struct {
		name, file string
		data       []byte
		status     int
		says       string
	}{
		{"smile", "s.png", pic, http.StatusConflict, "built-in"},
		{"../../etc/passwd", "p.png", pic, http.StatusUnprocessableEntity, "lower-case letters"},
		{"a/b", "p.png", pic, http.StatusUnprocessableEntity, "lower-case letters"},
		{"Parrot", "p.png", pic, http.StatusUnprocessableEntity, "lower-case letters"},
		{"<b>x</b>", "p.png", pic, http.StatusUnprocessableEntity, "lower-case letters"},
		{"huge", "huge.png", append(bytes.Clone(pic), make([]byte, 2<<20)...), http.StatusUnprocessableEntity, "at most"},
		{"fake", "fake.png", []byte("<html><script>alert(1)</script></html>"), http.StatusUnprocessableEntity, "PNG, GIF or WebP"},
		{"photo", "photo.jpg", jpeg, http.StatusUnprocessableEntity, "PNG, GIF or WebP"},
		{"svg", "x.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), http.StatusUnprocessableEntity, "PNG, GIF or WebP"},
		{"broken", "b.png", pic[:40], http.StatusUnprocessableEntity, "could not be read"},
		{"nofile", "", nil, http.StatusUnprocessableEntity, "Choose a picture"},
	} {
		res := ann.addEmoji(tc.name, tc.file, tc.data)
		if res.status != tc.status || !strings.Contains(res.body, tc.says) || !strings.Contains(res.body, `id="form-error"`) {
			t.Errorf("%s: %d, want %d saying %q:\n%.400s", tc.name, res.status, tc.status, tc.says, res.body)
		}
	}
	if page := ann.get("/admin/emoji").body; !strings.Contains(page, `id="emoji-empty"`) {
		t.Fatalf("a refused emoji was stored:\n%.2000s", page)
	}

	res := ann.addEmoji(":parrot:", "parrot.png", pic)
	expectStatus(t, res, http.StatusSeeOther)
	expectStatus(t, ann.addEmoji("blob", "blob.gif", gif), http.StatusSeeOther)
	if res := ann.addEmoji("parrot", "again.png", pic); res.status != http.StatusConflict {
		t.Errorf("a name taken: %d", res.status)
	}
	page := ann.get("/admin/emoji").body
	for _, want := range []string{`id="emoji-parrot"`, `id="emoji-blob"`, `added emoji`} {
		if !strings.Contains(page, want) {
			t.Errorf("the admin page lacks %q", want)
		}
	}
	res = bob.get("/emoji/parrot")
	expectStatus(t, res, http.StatusOK)
	if res.header.Get("Content-Type") != "image/png" || res.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("the picture is served as %q, %q", res.header.Get("Content-Type"), res.header.Get("X-Content-Type-Options"))
	}

	// In a message, live and on the page; never in code; an unknown one
	// stays text.
	b := bob.dial("general", -1)
	ann.dial("general", -1).say("hi :parrot: and :blob::parrot: `:parrot:` :nope:")
	got := b.readUntil("and ")
	img := `<img class="emoji" src="/emoji/parrot" alt=":parrot:"`
	if strings.Count(got, img) != 2 || !strings.Contains(got, `src="/emoji/blob"`) || !strings.Contains(got, "<code>:parrot:</code>") || !strings.Contains(got, ":nope:") {
		t.Errorf("the live message:\n%s", got)
	}
	id := bob.lastMessageID("general")
	if html := bob.messageHTML(id); strings.Count(html, img) != 2 {
		t.Errorf("the stored message:\n%s", html)
	}

	// As a reaction; an unknown one is refused.
	path := "/messages/" + strconv.FormatInt(id, 10) + "/reactions"
	expectStatus(t, bob.post(path, url.Values{"emoji": {":parrot:"}}), http.StatusSeeOther)
	if html := bob.messageHTML(id); !strings.Contains(html, `class="reaction"`) || strings.Count(html, img) != 3 {
		t.Errorf("the reaction:\n%s", html)
	}
	expectStatus(t, bob.post(path, url.Values{"emoji": {":nope:"}}), http.StatusUnprocessableEntity)
	expectStatus(t, bob.post(path, url.Values{"emoji": {":../x:"}}), http.StatusUnprocessableEntity)

	// In the picker, first, and found by name.
	for _, q := range []string{"", "?q=parr", "?q=:parrot:"} {
		if pk := bob.get("/emoji" + q).body; !strings.Contains(pk, `value=":parrot:"`) {
			t.Errorf("the picker %q does not list :parrot:", q)
		}
	}
	if pk := bob.get("/emoji?q=zzz").body; strings.Contains(pk, `value=":parrot:"`) {
		t.Error("a search for something else lists :parrot:")
	}

	// Deleted: its picture is gone, and the message shows its code.
	expectStatus(t, bob.post("/admin/emoji/parrot/delete", nil), http.StatusNotFound) // admin pages do not exist for others
	expectStatus(t, ann.post("/admin/emoji/parrot/delete", nil), http.StatusSeeOther)
	expectStatus(t, bob.get("/emoji/parrot"), http.StatusNotFound)
	expectStatus(t, ann.post("/admin/emoji/parrot/delete", nil), http.StatusNotFound)
	if pk := bob.get("/emoji").body; strings.Contains(pk, `value=":parrot:"`) {
		t.Error("the picker lists a deleted emoji")
	}
}
