package handlers_test

import (
	"bytes"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// postProfile sends the profile form as a browser does with a file chosen:
// multipart, the picture as "avatar".
func (c *client) postProfile(fields map[string]string, picture []byte) response {
	c.t.Helper()
	return c.postFile("/settings/profile", fields, "avatar", "me.jpg", picture)
}

// postFile posts a multipart form with a file (none when data is nil), as a
// browser does.
func (c *client) postFile(path string, fields map[string]string, field, fileName string, data []byte) response {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if data != nil {
		w, _ := mw.CreateFormFile(field, fileName)
		w.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", c.ts.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

// photo is a w×h JPEG whose middle third is green, with an EXIF block that
// carries a made-up location after its (empty) directory, as a phone's
// photo carries where it was taken.
func photo(t *testing.T, w, h int) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{200, 30, 30, 255}
			if x >= w/3 && x < 2*w/3 {
				c = color.RGBA{30, 200, 30, 255}
			}
			m.Set(x, y, c)
		}
	}
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, m, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	exif := append([]byte("Exif\x00\x00II*\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00"), "GPS 48.8584 N 2.2945 E"...)
	seg := append([]byte{0xFF, 0xE1, byte((len(exif) + 2) >> 8), byte(len(exif) + 2)}, exif...)
	b := enc.Bytes()
	return append(append(append([]byte{}, b[:2]...), seg...), b[2:]...)
}

var formError = regexp.MustCompile(`id="form-error"[^>]*>[^<]*`)

var avatarImg = regexp.MustCompile(`<img class="avatar" src="(/avatars/ann\?v=\d+)"`)

// A picture on the profile replaces the initials wherever they show, for
// everyone and live; it is a small square with nothing of the original's
// metadata; anything that is not a readable image of a sane size is
// refused with the reason and the picture kept stays.
func TestProfilePicture(t *testing.T) {
	ts := newTestServer(t)
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	ann.postMessage("general", "before the picture")
	if body := bob.get("/rooms/general").body; avatarImg.MatchString(body) || !strings.Contains(body, `class="avatar" data-color=`) {
		t.Fatal("ann has a picture before she set one, or no initials")
	}
	bobSock := bob.dial("general", -1)

	res := ann.postProfile(nil, photo(t, 300, 200))
	expectStatus(t, res, http.StatusSeeOther)
	page := bob.get("/rooms/general").body
	m := avatarImg.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("bob's page does not show ann's picture:\n%.2000s", page)
	}
	if strings.Count(page, m[1]) < 1 || strings.Contains(page, `data-color="`) && strings.Contains(page, `>A</span>`) {
		t.Error("ann's initials still show beside her picture")
	}
	pic := ann.get(m[1])
	expectStatus(t, pic, http.StatusOK)
	if ct := pic.header.Get("Content-Type"); ct != "image/jpeg" || !strings.Contains(pic.header.Get("Cache-Control"), "immutable") {
		t.Errorf("picture served as %q, %q", ct, pic.header.Get("Cache-Control"))
	}
	if strings.Contains(pic.body, "GPS") || strings.Contains(pic.body, "Exif") {
		t.Error("the picture kept the photo's EXIF block")
	}
	img, err := jpeg.Decode(strings.NewReader(pic.body))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 128 || b.Dy() != 128 {
		t.Errorf("picture is %v, want 128×128", b)
	}
	if r, g, _, _ := img.At(64, 64).RGBA(); g < 2*r {
		t.Error("the picture is not the photo's middle square (its middle is green)")
	}

	// Live: ann's next message reaches bob's socket with her picture.
	ann.postMessage("general", "with a face now")
	if got := bobSock.readUntil("with a face now"); !strings.Contains(got, `src="`+m[1]+`"`) {
		t.Errorf("the live message does not carry the picture:\n%.1000s", got)
	}

	// Refusals, each saying why; the picture stays.
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"text", []byte("just some words, not a picture at all"), "must be a PNG, JPEG, GIF or WebP"},
		{"a PNG that is not one", append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 200)...), "could not be read"},
		{"too many pixels", pngOfSize(t, 30000, 30000), "megapixels"},
		{"too many bytes", append(photo(t, 20, 20), make([]byte, 6<<20)...), "5.0 MB at most"},
	} {
		res := ann.postProfile(nil, c.data)
		if said := formError.FindString(res.body); res.status < 400 || !strings.Contains(said, c.want) {
			t.Errorf("%s: %d, want a refusal saying %q, got %q", c.name, res.status, c.want, said)
		}
	}
	if !strings.Contains(bob.get("/rooms/general").body, m[1]) {
		t.Error("a refused picture replaced the one kept")
	}

	// Removing it brings the initials back.
	expectStatus(t, ann.postProfile(map[string]string{"remove_avatar": "on"}, nil), http.StatusSeeOther)
	if avatarImg.MatchString(bob.get("/rooms/general").body) {
		t.Error("the picture still shows after it was removed")
	}
	expectStatus(t, ann.get("/avatars/ann"), http.StatusNotFound)
}

// pngOfSize is a PNG header that claims w×h pixels, with no pixels after it.
func pngOfSize(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	// IHDR's width and height, after the signature, length and type.
	for i, v := range []int{w, h} {
		o := 16 + 4*i
		b[o], b[o+1], b[o+2], b[o+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	}
	// IHDR's checksum, over its type and data, follows its 13 bytes.
	sum := crc32.ChecksumIEEE(b[12:29])
	b[29], b[30], b[31], b[32] = byte(sum>>24), byte(sum>>16), byte(sum>>8), byte(sum)
	return b
}

// The theme a person chooses pins the page's colours, whatever their
// device says; changing it leaves the display name alone.
func TestProfileTheme(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	expectStatus(t, ann.post("/settings/profile", url.Values{"display_name": {"Ann Lee"}}), http.StatusSeeOther)
	if page := ann.get("/").body; strings.Contains(page, "data-theme=") || !strings.Contains(page, `<meta name="color-scheme" content="light dark">`) {
		t.Errorf("a new account's pages do not follow the device:\n%.600s", page)
	}
	expectStatus(t, ann.post("/settings/profile", url.Values{"theme": {"dark"}}), http.StatusSeeOther)
	page := ann.get("/rooms/general").body
	if !strings.Contains(page, `<html lang="en" data-theme="dark">`) || !strings.Contains(page, `<meta name="color-scheme" content="dark">`) {
		t.Errorf("the dark theme is not on the page:\n%.600s", page)
	}
	if !strings.Contains(ann.get("/settings/profile").body, `value="Ann Lee"`) {
		t.Error("choosing a theme changed the display name")
	}
	res := ann.post("/settings/profile", url.Values{"theme": {"purple"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "system, light or dark") {
		t.Errorf("an unknown theme: %d\n%.600s", res.status, res.body)
	}
	expectStatus(t, ann.post("/settings/profile", url.Values{"theme": {"system"}}), http.StatusSeeOther)
	if strings.Contains(ann.get("/").body, "data-theme=") {
		t.Error("back to the system's theme, the page still pins one")
	}
}

// The emoji picker without JavaScript: a message's menu links the whole
// catalogue, searchable by name, and each emoji there is a reaction form;
// any emoji may be a reaction, anything else is refused.
func TestEmojiPickerAndAnyEmojiReaction(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	ann.postMessage("general", "react to me")
	id := strconv.FormatInt(ann.lastMessageIDOf(t, "general"), 10)
	if !strings.Contains(ann.get("/messages/"+id).body, `href="/emoji?for=`+id+`"`) {
		t.Error("the message's menu does not lead to every emoji")
	}
	all := ann.get("/emoji?for=" + id)
	expectStatus(t, all, http.StatusOK)
	if n := strings.Count(all.body, `name="emoji"`); n < 1500 {
		t.Errorf("the picker offers %d emoji", n)
	}
	found := ann.get("/emoji?for=" + id + "&q=flamingo")
	if !strings.Contains(found.body, `value="🦩"`) || strings.Count(found.body, `name="emoji"`) > 3 || !strings.Contains(found.body, `action="/messages/`+id+`/reactions"`) {
		t.Fatalf("searching flamingo:\n%.1500s", found.body)
	}
	if frag := ann.do("GET", "/emoji?q=party", nil, map[string]string{"HX-Request": "true"}); !strings.HasPrefix(frag.body, `<form id="emoji-results"`) || !strings.Contains(frag.body, "🎉") || !strings.Contains(frag.body, `data-for="composer"`) {
		t.Errorf("htmx's search gets:\n%.600s", frag.body)
	}
	if none := ann.get("/emoji?q=" + url.QueryEscape("no such thing at all")); !strings.Contains(none.body, "No emoji") {
		t.Error("a search that finds nothing does not say so")
	}
	expectStatus(t, ann.get("/emoji?for=minus"), http.StatusUnprocessableEntity)

	expectStatus(t, ann.post("/messages/"+id+"/reactions", url.Values{"emoji": {"🦩"}}), http.StatusSeeOther)
	if !strings.Contains(ann.get("/rooms/general").body, "🦩") {
		t.Error("a reaction from the whole catalogue does not show")
	}
	for _, bad := range []string{"x", "🦩🦩", "<b>", ""} {
		if res := ann.post("/messages/"+id+"/reactions", url.Values{"emoji": {bad}}); res.status != http.StatusUnprocessableEntity {
			t.Errorf("reaction %q: %d", bad, res.status)
		}
	}
}
