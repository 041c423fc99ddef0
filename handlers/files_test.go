package handlers_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"agora/assets"
	"agora/chat/live"
	"agora/db"
	"agora/handlers"
)

// startFileServer is newTestServer with an upload limit of its own.
func startFileServer(t testing.TB, path string, maxUpload int64) *testServer {
	t.Helper()
	store, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	hub := handlers.NewHub(live.HubConfig{})
	app := handlers.New(handlers.Config{Store: store, Hub: hub, Assets: assets.FS, MaxUpload: maxUpload})
	ts := &testServer{Server: httptest.NewServer(app), store: store, app: app, hub: hub, path: path}
	t.Cleanup(ts.stop)
	return ts
}

// upload posts a file the way the composer's form does. The file name goes
// in the header as given, RFC 2231-encoded (filename*) so that any
// character can be sent.
func (c *client) upload(slug, name string, content []byte, caption string, header map[string]string) response {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if caption != "" {
		if err := mw.WriteField("body", caption); err != nil {
			c.t.Fatal(err)
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename*=utf-8''`+rfc2231(name))
	h.Set("Content-Type", "image/png") // what the client claims: never believed
	w, err := mw.CreatePart(h)
	if err != nil {
		c.t.Fatal(err)
	}
	w.Write(content)
	mw.Close()
	req, err := http.NewRequest("POST", c.ts.URL+"/rooms/"+slug+"/files", &buf)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("upload %s: %v", name, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

// rfc2231 percent-encodes every byte of s but letters, digits and a few marks.
func rfc2231(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// mustUpload uploads without htmx and expects the redirect back to the room.
func (c *client) mustUpload(slug, name string, content []byte, caption string) {
	c.t.Helper()
	res := c.upload(slug, name, content, caption, nil)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/rooms/"+slug {
		c.t.Fatalf("upload %q: %d %.500s", name, res.status, res.body)
	}
}

var fileLinkRe = regexp.MustCompile(`href="(/files/\d+/[^"]*)"`)

// lastFile returns the link of the newest file on a room page.
func (c *client) lastFile(slug string) string {
	c.t.Helper()
	all := fileLinkRe.FindAllStringSubmatch(c.get("/rooms/"+slug).body, -1)
	if len(all) == 0 {
		c.t.Fatalf("no file on /rooms/%s", slug)
	}
	return html.UnescapeString(all[len(all)-1][1])
}

func renderNode(n *html.Node) string {
	var b strings.Builder
	html.Render(&b, n)
	return b.String()
}

// rowCounts counts the files and chunks in the database, read directly.
func (ts *testServer) rowCounts(t testing.TB) (files, chunks int) {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+ts.path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.QueryRow("SELECT (SELECT count(*) FROM files), (SELECT count(*) FROM file_chunks)").Scan(&files, &chunks); err != nil {
		t.Fatal(err)
	}
	return files, chunks
}

func expectFileHeaders(t *testing.T, res response, disposition string) {
	t.Helper()
	if got := res.header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options %q", got)
	}
	if csp := res.header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	d, _, err := mime.ParseMediaType(res.header.Get("Content-Disposition"))
	if err != nil || d != disposition {
		t.Errorf("Content-Disposition %q, want %s", res.header.Get("Content-Disposition"), disposition)
	}
}

func TestFileUploadShowDownloadDelete(t *testing.T) {
	ts := newTestServer(t)
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	bob.get("/rooms/general")
	live := bob.dial("general", -1)

	content := []byte("line one\nline two\n")
	ann.mustUpload("general", "notes.txt", content, "the **notes**")
	got := live.readUntil("notes.txt")
	if !strings.Contains(got, "<strong>notes</strong>") || !strings.Contains(got, `class="attachment file"`) {
		t.Fatalf("the live message lacks its caption or file card:\n%.1500s", got)
	}
	link := ann.lastFile("general")
	if link != fmt.Sprintf("/files/%s/notes.txt", strings.Split(link, "/")[2]) {
		t.Fatalf("file link %q", link)
	}
	page := bob.get("/rooms/general").body
	for _, want := range []string{"notes.txt", "18 B", "text/plain"} {
		if !strings.Contains(page, want) {
			t.Errorf("the file card does not show %q", want)
		}
	}
	res := bob.get(link)
	expectStatus(t, res, http.StatusOK)
	if res.body != string(content) {
		t.Fatalf("downloaded %q", res.body)
	}
	expectFileHeaders(t, res, "attachment")
	if _, params, _ := mime.ParseMediaType(res.header.Get("Content-Disposition")); params["filename"] != "notes.txt" {
		t.Errorf("download name %q", params["filename"])
	}

	// With htmx: 204, the message arrives over the socket, no caption needed.
	res = ann.upload("general", "second.bin", bytes.Repeat([]byte{0, 1, 2, 250}, 200_000), "", map[string]string{"HX-Request": "true"})
	expectStatus(t, res, http.StatusNoContent)
	live.readUntil("second.bin")
	big := bob.get(ann.lastFile("general"))
	if len(big.body) != 800_000 || big.body != string(bytes.Repeat([]byte{0, 1, 2, 250}, 200_000)) {
		t.Fatalf("a file of several chunks came back as %d bytes", len(big.body))
	}
	if !strings.Contains(ann.get("/settings/profile").body, "781 KB") {
		t.Error("the profile page does not show the storage used")
	}

	// Deleting the message deletes the file and its chunks, with and without htmx.
	var links, ids []string
	for _, m := range messages(doc(t, ann.get("/rooms/general").body)) {
		if l := fileLinkRe.FindStringSubmatch(renderNode(m)); l != nil {
			id, _ := attr(m, "data-id")
			links, ids = append(links, html.UnescapeString(l[1])), append(ids, id)
		}
	}
	if len(ids) != 2 {
		t.Fatalf("%d messages with files", len(ids))
	}
	for i, hx := range []map[string]string{nil, {"HX-Request": "true"}} {
		link, id := links[i], ids[i]
		res := ann.do("POST", "/messages/"+id+"/delete", url.Values{}, hx)
		if hx == nil {
			expectStatus(t, res, http.StatusSeeOther)
		} else {
			expectStatus(t, res, http.StatusNoContent)
		}
		expectStatus(t, bob.get(link), http.StatusNotFound)
		if files, chunks := ts.rowCounts(t); files != 1-i || chunks != 4*(1-i) {
			t.Errorf("after deleting %d, %d files and %d chunks remain", i+1, files, chunks)
		}
	}
}

func TestFileOfAnotherRoomIsNotFound(t *testing.T) {
	ts := newTestServer(t)
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	ann.post("/rooms", url.Values{"name": {"board"}, "private": {"on"}})
	ann.mustUpload("board", "plan.png", pngImage(t, 50, 40, nil), "")
	link := ann.lastFile("board")
	thumb := strings.Replace(link, "/plan.png", "/thumb/plan.png", 1)
	expectStatus(t, ann.get(link), http.StatusOK)
	expectStatus(t, ann.get(thumb), http.StatusOK)
	for _, path := range []string{link, thumb, "/files/999/x.png", "/files/abc/x", "/files/-1/x"} {
		expectStatus(t, bob.get(path), http.StatusNotFound)
	}
	// Nor may anyone post a file to a room they cannot see.
	expectStatus(t, bob.upload("board", "x.txt", []byte("x"), "", nil), http.StatusNotFound)
	// A member who leaves loses the files with the room.
	ann.post("/rooms/board/members", url.Values{"username": {"bob"}})
	expectStatus(t, bob.get(link), http.StatusOK)
	bob.post("/rooms/board/leave", nil)
	expectStatus(t, bob.get(link), http.StatusNotFound)
	// Signed out: the login page, not the file.
	if res := ts.client(t).get(link); res.status != http.StatusSeeOther {
		t.Errorf("signed out: %d", res.status)
	}
}

func TestActiveFilesAreOnlyDownloads(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	for _, f := range []struct{ name, content string }{
		{"page.html", "<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"},
		{"logo.svg", `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>`},
		{"fake.png", "<html><script>alert(3)</script></html>"}, // an image by name only
		// A GIF in its structure that no decoder can show (it has no colours).
		{"fake.gif", "GIF89a\x01\x00\x01\x00\x00\x00\x00\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x05garbg\x00\x3b"},
	} {
		ann.mustUpload("general", f.name, []byte(f.content), "")
		link := ann.lastFile("general")
		res := ann.get(link)
		expectStatus(t, res, http.StatusOK)
		expectFileHeaders(t, res, "attachment")
		if ct := res.header.Get("Content-Type"); strings.Contains(ct, "html") || strings.Contains(ct, "svg") || strings.HasPrefix(ct, "image/") {
			t.Errorf("%s served as %q", f.name, ct)
		}
		if res.body != f.content {
			t.Errorf("%s came back changed", f.name)
		}
		if strings.Contains(ann.get("/rooms/general").body, `<img src="`+strings.Replace(link, f.name, "thumb/"+f.name, 1)) {
			t.Errorf("%s is shown as an image", f.name)
		}
	}
}

func TestUploadOverTheLimitStoresNothing(t *testing.T) {
	ts := startFileServer(t, filepath.Join(t.TempDir(), "agora.db"), 300_000)
	ann := ts.client(t).signup("ann")
	ann.get("/rooms/general")
	before := ts.messageCount(t, "general")
	res := ann.upload("general", "big.bin", make([]byte, 300_001), "too big", nil)
	expectStatus(t, res, http.StatusRequestEntityTooLarge)
	if page := doc(t, res.body); !strings.Contains(text(byID(page, "composer-error")), "larger than 293 KB") {
		t.Errorf("no clear message on the page: %.500s", text(byID(page, "composer-error")))
	}
	res = ann.upload("general", "big.bin", make([]byte, 2_000_000), "", map[string]string{"HX-Request": "true"})
	expectStatus(t, res, http.StatusRequestEntityTooLarge)
	if !strings.Contains(res.body, "larger than 293 KB") {
		t.Errorf("htmx answer %q", res.body)
	}
	// Sent without a length, so the limit is found while streaming.
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		w, _ := mw.CreateFormFile("file", "stream.bin")
		for range 40 {
			if _, err := w.Write(make([]byte, 10_000)); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		mw.Close()
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", ts.URL+"/rooms/general/files", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	r, err := ann.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("streamed upload over the limit: %d", r.StatusCode)
	}
	if files, chunks := ts.rowCounts(t); files != 0 || chunks != 0 {
		t.Errorf("refused uploads left %d files and %d chunks", files, chunks)
	}
	if n := ts.messageCount(t, "general"); n != before {
		t.Errorf("refused uploads posted %d messages", n-before)
	}
	// Exactly at the limit is fine.
	ann.mustUpload("general", "fits.bin", make([]byte, 300_000), "")
	if files, chunks := ts.rowCounts(t); files != 1 || chunks != 2 {
		t.Errorf("a file at the limit: %d files, %d chunks", files, chunks)
	}
	// Other forms keep their small limit.
	res = ann.post("/rooms/general/messages", url.Values{"body": {strings.Repeat("x", 70_000)}})
	expectStatus(t, res, http.StatusRequestEntityTooLarge)
}

func TestStorageLimitSetByAnAdmin(t *testing.T) {
	ts := newTestServer(t)
	admin, ann := ts.client(t).signup("admin"), ts.client(t).signup("ann")
	expectStatus(t, ann.get("/admin/storage"), http.StatusNotFound)
	expectStatus(t, ann.post("/admin/storage/ann", url.Values{"limit_mb": {"100"}}), http.StatusNotFound)
	expectStatus(t, admin.post("/admin/storage/ann", url.Values{"limit_mb": {"-1"}}), http.StatusUnprocessableEntity)
	expectStatus(t, admin.post("/admin/storage/ann", url.Values{"limit_mb": {"1"}}), http.StatusSeeOther)
	if !strings.Contains(ann.get("/settings/profile").body, "of your 1.0 MB") {
		t.Error("the profile does not show the limit")
	}
	ann.mustUpload("general", "a.bin", make([]byte, 700_000), "")
	res := ann.upload("general", "b.bin", make([]byte, 700_000), "", nil)
	expectStatus(t, res, http.StatusRequestEntityTooLarge)
	if !strings.Contains(res.body, "storage you have left") {
		t.Error("the refusal does not say the storage is full")
	}
	page := admin.get("/admin/storage").body
	if !strings.Contains(page, "684 KB") || !strings.Contains(page, `value="1"`) {
		t.Error("the admin page does not show ann's use and limit")
	}
	expectStatus(t, admin.post("/admin/storage/ann", url.Values{"limit_mb": {""}}), http.StatusSeeOther)
	ann.mustUpload("general", "b.bin", make([]byte, 700_000), "")
}

func TestImageBombIsRefused(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	// A valid PNG of one pixel whose header claims 100000×100000.
	bomb := pngImage(t, 1, 1, nil)
	binary.BigEndian.PutUint32(bomb[16:], 100_000)
	binary.BigEndian.PutUint32(bomb[20:], 100_000)
	binary.BigEndian.PutUint32(bomb[29:], crc32.ChecksumIEEE(bomb[12:29]))
	res := ann.upload("general", "bomb.png", bomb, "", nil)
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if !strings.Contains(text(byID(doc(t, res.body), "composer-error")), "100000×100000 pixels") {
		t.Errorf("no clear message: %.300s", text(byID(doc(t, res.body), "composer-error")))
	}
	if files, chunks := ts.rowCounts(t); files != 0 || chunks != 0 {
		t.Errorf("a refused image left %d files and %d chunks", files, chunks)
	}
	// A broken image is refused too, with a message.
	for name, b := range map[string][]byte{"cut.png": pngImage(t, 20, 20, nil)[:20], "words.gif": []byte("GIF89a but then only words")} {
		res = ann.upload("general", name, b, "", map[string]string{"HX-Request": "true"})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if !strings.Contains(res.body, "could not be read") {
			t.Errorf("broken image %s: %q", name, res.body)
		}
	}
}

func TestFileNamesAreCleaned(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	for _, c := range []struct{ sent, want string }{
		{"../../etc/passwd", "passwd"},
		{`C:\Users\ann\report.pdf`, "report.pdf"},
		{`say "hi".txt`, "say _hi_.txt"},
		{"two\nlines\r\n.txt", "two lines .txt"},
		{"invoice\u202Efdp.exe", "invoicefdp.exe"},
		{"\u200Bzero\u2066width\u2069.txt", "zerowidth.txt"},
		{"...hidden", "hidden"},
		{"/", "file"},
		{"tab\there;x=\"y\".txt", "tab here;x=_y_.txt"},
		{"ünïcødé 名前.txt", "ünïcødé 名前.txt"},
	} {
		ann.mustUpload("general", c.sent, []byte("x"), "")
		link := ann.lastFile("general")
		res := ann.get(link)
		expectStatus(t, res, http.StatusOK)
		cd := res.header.Get("Content-Disposition")
		_, params, err := mime.ParseMediaType(cd)
		if err != nil || params["filename"] != c.want {
			t.Errorf("%q: Content-Disposition %q (%v), want the name %q", c.sent, cd, err, c.want)
		}
		if strings.ContainsAny(cd, "\r\n\u202E") {
			t.Errorf("%q: raw characters in %q", c.sent, cd)
		}
		if !strings.Contains(ann.get("/rooms/general").body, html.EscapeString(c.want)) {
			t.Errorf("%q: the page does not show %q", c.sent, c.want)
		}
	}
}

func TestFilesAreFoundByName(t *testing.T) {
	ts := newTestServer(t)
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	bob.get("/rooms/general")
	ann.mustUpload("general", "quarterly-report.pdf", []byte("%PDF-1.4 not much"), "numbers attached")
	for _, q := range []string{"quarterly", "report", "numbers"} {
		if !strings.Contains(bob.get("/search?q="+q).body, "1 message found") {
			t.Errorf("searching %q does not find the file's message", q)
		}
	}
	id := ann.lastMessage("/rooms/general")
	live := bob.dial("general", -1)
	ann.post("/messages/"+id+"/edit", url.Values{"body": {"figures attached"}})
	if got := live.readUntil("figures attached"); !strings.Contains(got[strings.Index(got, "figures attached"):], "quarterly-report.pdf") {
		t.Error("the edited message lost its file in the live update")
	}
	if !strings.Contains(bob.get("/search?q=quarterly").body, "1 message found") {
		t.Error("after an edit of the caption the file name is not found")
	}
	if strings.Contains(bob.get("/search?q=numbers").body, "1 message found") {
		t.Error("the old caption is still found")
	}
	ann.post("/messages/"+id+"/delete", nil)
	for _, q := range []string{"quarterly", "figures"} {
		if strings.Contains(bob.get("/search?q="+q).body, `class="result"`) {
			t.Errorf("%q is still found after the delete", q)
		}
	}
	// The index stays consistent: a later message is found as usual.
	ann.postMessage("general", "quarterly again")
	if !strings.Contains(bob.get("/search?q=quarterly").body, "1 message found") {
		t.Error("the index broke after the file went")
	}
}

func TestUploadRateLimit(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	var last response
	for i := range 25 {
		last = ann.upload("general", fmt.Sprintf("f%d.txt", i), []byte("x"), "", map[string]string{"HX-Request": "true"})
		if last.status != http.StatusNoContent {
			break
		}
	}
	expectStatus(t, last, http.StatusTooManyRequests)
	if !strings.Contains(last.body, "too fast") {
		t.Errorf("rate limit answer %q", last.body)
	}
}

func TestFileFromAnotherNode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agora.db")
	a := startFileServer(t, path, 0)
	b := startFileServer(t, path, 0)
	ann := a.client(t).signup("ann")
	ann.mustUpload("general", "shared.txt", bytes.Repeat([]byte("shared "), 100_000), "")
	link := ann.lastFile("general")
	onB := b.client(t)
	onB.http.Jar = ann.http.Jar // the same browser, on the other node
	res := onB.get(link)
	expectStatus(t, res, http.StatusOK)
	if res.body != strings.Repeat("shared ", 100_000) {
		t.Error("the other node served different bytes")
	}
}

// pngImage is a w×h PNG with a gradient, and the given chunks (type, data)
// inserted after its header.
func pngImage(t *testing.T, w, h int, extra [][2]string) []byte {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.Set(x, y, color.NRGBA{uint8(x * 255 / max(1, w)), uint8(y * 255 / max(1, h)), 128, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	var chunks []byte
	for _, c := range extra {
		var hdr [8]byte
		binary.BigEndian.PutUint32(hdr[:4], uint32(len(c[1])))
		copy(hdr[4:], c[0])
		crc := crc32.ChecksumIEEE(append([]byte(c[0]), c[1]...))
		chunks = append(chunks, hdr[:]...)
		chunks = append(chunks, c[1]...)
		chunks = binary.BigEndian.AppendUint32(chunks, crc)
	}
	// After the signature (8) and IHDR (25).
	return append(append(append([]byte{}, b[:33]...), chunks...), b[33:]...)
}

// jpegImage is a w×h JPEG, wider at the top (so its orientation shows),
// with an EXIF segment holding the orientation and a GPS block whose text
// must never be served.
func jpegImage(t *testing.T, w, h, orientation int, secret string) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{200, 30, 30, 255}
			if y < h/4 {
				c = color.RGBA{30, 30, 200, 255} // a blue band along the top
			}
			m.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	// EXIF: little-endian TIFF, IFD0 with Orientation and a GPS IFD pointer;
	// the GPS IFD's latitude reference, then the secret as trailing data.
	var tiff []byte
	tiff = append(tiff, 'I', 'I', 42, 0, 8, 0, 0, 0)
	tiff = binary.LittleEndian.AppendUint16(tiff, 2)
	tiff = append(tiff, 0x12, 0x01, 3, 0, 1, 0, 0, 0, byte(orientation), 0, 0, 0)
	tiff = append(tiff, 0x25, 0x88, 4, 0, 1, 0, 0, 0, 38, 0, 0, 0) // GPS IFD at 38
	tiff = append(tiff, 0, 0, 0, 0)
	tiff = binary.LittleEndian.AppendUint16(tiff, 1)
	tiff = append(tiff, 1, 0, 2, 0, 2, 0, 0, 0, 'N', 0, 0, 0) // GPSLatitudeRef "N"
	tiff = append(tiff, 0, 0, 0, 0)
	tiff = append(tiff, secret...)
	seg := append([]byte("Exif\x00\x00"), tiff...)
	app1 := []byte{0xFF, 0xE1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)}
	app1 = append(app1, seg...)
	comment := append([]byte{0xFF, 0xFE, 0, byte(len(secret) + 2)}, secret...)
	b := buf.Bytes()
	out := append([]byte{0xFF, 0xD8}, app1...)
	out = append(out, comment...)
	return append(out, b[2:]...)
}

var imgRe = regexp.MustCompile(`<img src="(/files/\d+/thumb/[^"]+)" width="(\d+)" height="(\d+)"`)

func TestImagesShowAsThumbnailsWithoutTheirMetadata(t *testing.T) {
	ts := newTestServer(t)
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	bob.get("/rooms/general")
	live := bob.dial("general", -1)

	// A photo taken with the camera turned: stored 1200×800, shown 800×1200.
	const secret = "GPS-SECRET-PLACE"
	photo := jpegImage(t, 1200, 800, 6, secret)
	ann.mustUpload("general", "photo.jpg", photo, "")
	got := live.readUntil("photo.jpg")
	m := imgRe.FindStringSubmatch(got)
	if m == nil || m[2] != "200" || m[3] != "300" {
		t.Fatalf("the live message's thumbnail is %v, want 200×300 in the fragment:\n%.1500s", m, got)
	}
	thumb := bob.get(html.UnescapeString(m[1]))
	expectStatus(t, thumb, http.StatusOK)
	expectFileHeaders(t, thumb, "inline")
	ti, format, err := image.Decode(strings.NewReader(thumb.body))
	if err != nil || format != "jpeg" {
		t.Fatalf("thumbnail: %v (%s)", err, format)
	}
	if b := ti.Bounds(); b.Dx() != 400 || b.Dy() != 600 {
		t.Fatalf("thumbnail is %v, want 400×600 (twice the shown size)", b)
	}
	// Turned a quarter clockwise, the blue band along the stored top is on the right.
	if r, _, b, _ := ti.At(390, 300).RGBA(); b < r {
		t.Error("the thumbnail is not turned upright: no blue on the right")
	}
	if r, _, b, _ := ti.At(10, 300).RGBA(); r < b {
		t.Error("the thumbnail is not turned upright: blue on the left")
	}

	full := bob.get(ann.lastFile("general"))
	expectStatus(t, full, http.StatusOK)
	expectFileHeaders(t, full, "inline")
	if full.header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("full size served as %q", full.header.Get("Content-Type"))
	}
	if strings.Contains(full.body, secret) {
		t.Error("the full-size image still carries its GPS data or comment")
	}
	cfg, err := jpeg.DecodeConfig(strings.NewReader(full.body))
	if err != nil || cfg.Width != 1200 || cfg.Height != 800 {
		t.Errorf("full size: %v %dx%d", err, cfg.Width, cfg.Height)
	}
	if !strings.Contains(full.body, "Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06") {
		t.Error("the full-size image lost its orientation, so browsers would show it on its side")
	}
	if len(full.body) >= len(photo) {
		t.Errorf("the full-size image is %d bytes, the upload %d: nothing was stripped", len(full.body), len(photo))
	}

	// A PNG with text and EXIF chunks: served without them, pixels unchanged.
	pic := pngImage(t, 60, 30, [][2]string{{"tEXt", "Location\x00" + secret}, {"eXIf", "MM\x00\x2a" + secret}, {"iTXt", "XML:com.adobe.xmp\x00\x00\x00\x00\x00" + secret}})
	ann.mustUpload("general", "diagram.png", pic, "a small one")
	page := bob.get("/rooms/general").body
	all := imgRe.FindAllStringSubmatch(page, -1)
	if len(all) != 2 || all[1][2] != "60" || all[1][3] != "30" {
		t.Fatalf("a small image is not shown at its own size: %v", all)
	}
	full = bob.get(ann.lastFile("general"))
	if strings.Contains(full.body, secret) {
		t.Error("the PNG still carries its text chunks")
	}
	orig, _ := png.Decode(bytes.NewReader(pic))
	served, err := png.Decode(strings.NewReader(full.body))
	if err != nil {
		t.Fatalf("served PNG: %v", err)
	}
	if orig.At(31, 17) != served.At(31, 17) {
		t.Error("the PNG's pixels changed")
	}
}

// A large file on a slow link takes longer than the server's read timeout,
// which is for whole requests: an upload whose bytes keep coming is not cut.
func TestSlowUploadOutlastsTheReadTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agora.db")
	store, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	hub := handlers.NewHub(live.HubConfig{})
	app := handlers.New(handlers.Config{Store: store, Hub: hub, Assets: assets.FS})
	srv := httptest.NewUnstartedServer(app)
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Start()
	ts := &testServer{Server: srv, store: store, app: app, hub: hub, path: path}
	t.Cleanup(ts.stop)
	ann := ts.client(t).signup("ann")
	ann.get("/rooms/general")

	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		w, _ := mw.CreateFormFile("file", "slow.bin")
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for range 10 { // a second in all, more than three read timeouts
			<-tick.C
			if _, err := w.Write(make([]byte, 10_000)); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		mw.Close()
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", ts.URL+"/rooms/general/files", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := ann.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("a slow upload answered %d %s", res.StatusCode, b[:min(len(b), 3000)])
	}
	if files, _ := ts.rowCounts(t); files != 1 {
		t.Errorf("%d files stored", files)
	}
}

// Every account has a storage quota by default (set with -storage-quota):
// an upload past it is refused with 413 and says so, the profile shows it,
// and the admin's storage page shows it beside the server's total
// (-storage-total), which refuses uploads past it too.
func TestStorageQuotaByDefault(t *testing.T) {
	ts := newServerWith(t, handlers.Config{StorageQuota: 1 << 20, StorageTotal: 2 << 20})
	admin, ann, bob := ts.client(t).signup("admin"), ts.client(t).signup("ann"), ts.client(t).signup("bob")
	if !strings.Contains(ann.get("/settings/profile").body, "of your 1.0 MB") {
		t.Error("the profile does not show the default quota")
	}
	ann.mustUpload("general", "a.bin", make([]byte, 700_000), "")
	res := ann.upload("general", "b.bin", make([]byte, 700_000), "", nil)
	expectStatus(t, res, http.StatusRequestEntityTooLarge)
	if !strings.Contains(res.body, "storage you have left") {
		t.Errorf("the refusal does not say the quota is reached:\n%.300s", res.body)
	}
	// The server's total: ann 684 KB, bob 684 KB, admin's upload of 700 KB more is past 2 MB.
	bob.mustUpload("general", "c.bin", make([]byte, 700_000), "")
	res = admin.upload("general", "d.bin", make([]byte, 700_000), "", nil)
	expectStatus(t, res, http.StatusRequestEntityTooLarge)
	if !strings.Contains(res.body, "this server has left") {
		t.Errorf("the refusal does not say the server is full:\n%.300s", res.body)
	}
	page := doc(t, admin.get("/admin/storage").body)
	if s := text(byID(page, "storage-server")); !strings.Contains(s, "1.3 MB") || !strings.Contains(s, "2.0 MB") || !strings.Contains(s, "1.0 MB unless") {
		t.Errorf("the admin page does not show the total and the default quota: %q", s)
	}
}
