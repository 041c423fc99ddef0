package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"testing"
)

func TestSniffNeverBelievesTheName(t *testing.T) {
	var pngBytes bytes.Buffer
	png.Encode(&pngBytes, image.NewGray(image.Rect(0, 0, 2, 2)))
	for _, c := range []struct {
		head []byte
		name string
		want string
	}{
		{pngBytes.Bytes(), "photo.jpg", PNG},
		{[]byte("<html><script>x</script>"), "cat.png", "text/html; charset=utf-8"},
		{[]byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`), "logo.svg", "image/svg+xml"},
		{[]byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`), "logo.png", "text/plain; charset=utf-8"},
		{[]byte("just words"), "notes.txt", "text/plain; charset=utf-8"},
		{[]byte("%PDF-1.7"), "x.bin", "application/pdf"},
		{[]byte{0, 1, 2, 3}, "cat.png", "application/octet-stream"},
	} {
		if got := Sniff(c.head, c.name); got != c.want {
			t.Errorf("Sniff(%q, %q) = %q, want %q", c.head[:min(8, len(c.head))], c.name, got, c.want)
		}
	}
	for _, ct := range []string{"text/html; charset=utf-8", "image/svg+xml", "text/xml; charset=utf-8", "application/javascript"} {
		if !Active(ct) {
			t.Errorf("%s is not counted as active", ct)
		}
	}
}

// Every prefix of a valid image is refused as malformed, never a panic or a hang.
func TestStripCutShort(t *testing.T) {
	m := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := range m.Pix {
		m.Pix[i] = byte(i)
	}
	var j, p, g bytes.Buffer
	jpeg.Encode(&j, m, nil)
	png.Encode(&p, m)
	gif.Encode(&g, m, nil)
	webp := []byte("RIFF\x1a\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x0c\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	for ct, b := range map[string][]byte{JPEG: j.Bytes(), PNG: p.Bytes(), WebP: webp, GIF: g.Bytes()} {
		for n := range len(b) {
			_, err := Strip(io.Discard, bytes.NewReader(b[:n]), ct)
			// A JPEG's image data after its start of scan is copied as it
			// is; a cut WebP is as long as its header says.
			pastHeaders := ct == JPEG && n >= bytes.Index(b, []byte{0xFF, 0xDA})+14
			if err == nil && ct != WebP && !pastHeaders {
				t.Errorf("%s cut at %d of %d: no error", ct, n, len(b))
			}
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Errorf("%s cut at %d: %v", ct, n, err)
			}
		}
		var out bytes.Buffer
		if _, err := Strip(&out, bytes.NewReader(b), ct); err != nil {
			t.Errorf("%s whole: %v", ct, err)
		}
	}
}

func TestStripWebPBlanksMetadata(t *testing.T) {
	var b []byte
	chunk := func(kind, data string) {
		b = append(b, kind...)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
		b = append(b, data...)
		if len(data)%2 == 1 {
			b = append(b, 0)
		}
	}
	chunk("VP8X", "\x0c\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	chunk("VP8L", "pixels")
	chunk("EXIF", "GPS-SECRET")
	chunk("XMP ", "<x>SECRET</x>")
	file := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(b)+4))...)
	file = append(append(file, "WEBP"...), b...)
	var out bytes.Buffer
	if _, err := Strip(&out, bytes.NewReader(file), WebP); err != nil {
		t.Fatal(err)
	}
	if out.Len() != len(file) {
		t.Errorf("length changed: %d, was %d", out.Len(), len(file))
	}
	if bytes.Contains(out.Bytes(), []byte("SECRET")) || bytes.Contains(out.Bytes(), []byte("EXIF")) {
		t.Error("metadata left in")
	}
	if out.Bytes()[20]&0x0c != 0 {
		t.Error("VP8X still says there is metadata")
	}
}

func TestFitAndOrient(t *testing.T) {
	for _, c := range []struct{ w, h, bw, bh, ww, wh int }{
		{1200, 800, 400, 300, 400, 267}, {800, 1200, 400, 300, 200, 300}, {50, 40, 400, 300, 50, 40},
		{100000, 1, 400, 300, 400, 1}, {1, 100000, 400, 300, 1, 300},
	} {
		if w, h := Fit(c.w, c.h, c.bw, c.bh); w != c.ww || h != c.wh {
			t.Errorf("Fit(%d, %d) = %d×%d, want %d×%d", c.w, c.h, w, h, c.ww, c.wh)
		}
	}
	// A 2×1 image, red then blue, under each orientation.
	m := image.NewRGBA(image.Rect(0, 0, 2, 1))
	red, blue := color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}
	m.Set(0, 0, red)
	m.Set(1, 0, blue)
	for o, want := range map[int][2]image.Point{ // where red and blue end up
		1: {{0, 0}, {1, 0}}, 2: {{1, 0}, {0, 0}}, 3: {{1, 0}, {0, 0}}, 4: {{0, 0}, {1, 0}},
		5: {{0, 0}, {0, 1}}, 6: {{0, 0}, {0, 1}}, 7: {{0, 1}, {0, 0}}, 8: {{0, 1}, {0, 0}},
	} {
		out := orient(m, o)
		if out.At(want[0].X, want[0].Y) != red || out.At(want[1].X, want[1].Y) != blue {
			t.Errorf("orientation %d: red/blue not at %v", o, want)
		}
	}
}

func TestExifOrientation(t *testing.T) {
	seg := orientationSegment(6)
	if got := exifOrientation(seg[4:]); got != 6 {
		t.Errorf("read back %d", got)
	}
	for _, bad := range [][]byte{nil, []byte("Exif\x00\x00"), []byte("Exif\x00\x00II\x2a\x00\xff\xff\xff\xff"), []byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\xff\xff")} {
		if got := exifOrientation(bad); got != 0 {
			t.Errorf("%q: %d", bad, got)
		}
	}
}

func TestStripGIFKeepsFramesAndLoopDropsComments(t *testing.T) {
	pal := color.Palette{color.Black, color.White, color.RGBA{255, 0, 0, 255}}
	anim := &gif.GIF{LoopCount: 0}
	for i := range 3 {
		f := image.NewPaletted(image.Rect(0, 0, 4, 3), pal)
		f.SetColorIndex(i, 1, uint8(i%3))
		anim.Image = append(anim.Image, f)
		anim.Delay = append(anim.Delay, 10)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, anim); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	// A comment and an XMP block before the trailer.
	at := len(b) - 1
	extra := []byte("\x21\xFE\x0bGPS-SECRET!\x00\x21\xFF\x0bXMP DataXMP\x06SECRET\x00")
	file := append(append(append([]byte{}, b[:at]...), extra...), b[at:]...)
	if _, err := gif.DecodeAll(bytes.NewReader(file)); err != nil {
		t.Fatalf("the test's GIF: %v", err)
	}
	var out bytes.Buffer
	if _, err := Strip(&out, bytes.NewReader(file), GIF); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out.Bytes(), []byte("SECRET")) {
		t.Error("comment or XMP left in")
	}
	got, err := gif.DecodeAll(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatalf("stripped GIF: %v", err)
	}
	if len(got.Image) != 3 || got.LoopCount != 0 || got.Image[2].ColorIndexAt(2, 1) != 2 {
		t.Errorf("stripped GIF: %d frames, loop %d", len(got.Image), got.LoopCount)
	}
	if !bytes.Equal(out.Bytes(), b) {
		t.Error("the stripped GIF is not the original without the added blocks")
	}
}

// Between the scans of a progressive JPEG come more tables, which are kept,
// and possibly metadata, which is not; after the end marker nothing is kept.
func TestStripJPEGFollowsScansAndStopsAtTheEnd(t *testing.T) {
	m := image.NewRGBA(image.Rect(0, 0, 16, 16))
	var j bytes.Buffer
	jpeg.Encode(&j, m, nil)
	b := j.Bytes()
	eoi := len(b) - 2
	sos := bytes.Index(b, []byte{0xFF, 0xDA})
	dht := bytes.Index(b, []byte{0xFF, 0xC4})
	dhtLen := int(b[dht+2])<<8 | int(b[dht+3])
	table := b[dht : dht+2+dhtLen]
	secondScan := b[sos:eoi] // a scan header and entropy-coded data again
	app1 := append([]byte{0xFF, 0xE1, 0, 2 + 10}, "Exif\x00\x00SECR"...)
	var in []byte
	in = append(in, b[:eoi]...)
	in = append(in, app1...)
	in = append(in, table...)
	in = append(in, secondScan...)
	in = append(in, 0xFF, 0xD9)
	in = append(in, "trailing motion photo"...)
	var out bytes.Buffer
	if _, err := Strip(&out, bytes.NewReader(in), JPEG); err != nil {
		t.Fatal(err)
	}
	var want []byte
	want = append(want, b[:eoi]...)
	want = append(want, table...)
	want = append(want, secondScan...)
	want = append(want, 0xFF, 0xD9)
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("stripped %d bytes, want %d: tables and scans kept, metadata between scans and the trailer dropped", out.Len(), len(want))
	}
}

// The cost of decoding comes from the header alone, and tells the bombs
// of the last probe (a 16-bit PNG, a progressive JPEG with full-resolution
// colour) from a camera's photo of as many pixels.
func TestDecodeCostFromTheHeader(t *testing.T) {
	sof := func(code byte, w, h int, sampling byte) []byte {
		b := []byte{0xFF, 0xD8, 0xFF, code, 0, 17, 8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 3}
		return append(b, 1, sampling, 0, 2, 0x11, 1, 3, 0x11, 1)
	}
	ihdr := func(w, h int, depth, colour byte) []byte {
		b := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR")
		b = append(b, byte(w>>24), byte(w>>16), byte(w>>8), byte(w), byte(h>>24), byte(h>>16), byte(h>>8), byte(h))
		return append(b, depth, colour, 0, 0, 0)
	}
	for _, c := range []struct {
		what   string
		ct     string
		header []byte
		costly bool
	}{
		{"7000×7000 16-bit PNG", PNG, ihdr(7000, 7000, 16, 6), true},
		{"7000×7000 8-bit PNG", PNG, ihdr(7000, 7000, 8, 6), false},
		{"7000×7000 progressive JPEG, full colour", JPEG, sof(0xC2, 7000, 7000, 0x11), true},
		{"7000×7000 baseline JPEG, 4:2:0", JPEG, sof(0xC0, 7000, 7000, 0x22), false},
		{"6000×4000 progressive JPEG, 4:2:0", JPEG, sof(0xC2, 6000, 4000, 0x22), false},
	} {
		cost, err := DecodeCost(bytes.NewReader(c.header), c.ct)
		if err != nil {
			t.Errorf("%s: %v", c.what, err)
			continue
		}
		if got := cost > DefaultDecodeBudget; got != c.costly {
			t.Errorf("%s costs %d MB: over the budget %v, want %v", c.what, cost>>20, got, c.costly)
		}
	}
}

// A picture that fits the thumbnail box is kept pixel for pixel (copied, not
// resampled), and still turned upright; one larger is scaled into the box.
func TestThumbnailKeepsASmallPictureAsItIs(t *testing.T) {
	m := image.NewNRGBA(image.Rect(0, 0, 30, 20))
	for y := range 20 {
		for x := range 30 {
			m.Set(x, y, color.NRGBA{uint8(x * 8), uint8(y * 12), uint8(x ^ y), 255})
		}
	}
	m.Set(3, 4, color.NRGBA{}) // transparent: kept as a PNG
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	for _, o := range []int{1, 6} {
		th, err := Thumbnail(bytes.NewReader(b.Bytes()), PNG, o)
		if err != nil {
			t.Fatal(err)
		}
		got, err := png.Decode(bytes.NewReader(th.Data))
		if err != nil || th.ContentType != PNG {
			t.Fatalf("orientation %d: %s, %v", o, th.ContentType, err)
		}
		want := image.Image(m)
		if o == 6 {
			r := image.NewRGBA(m.Bounds())
			for y := range 20 {
				for x := range 30 {
					r.Set(x, y, m.At(x, y))
				}
			}
			want = orient(r, 6)
		}
		if got.Bounds().Size() != want.Bounds().Size() || th.Width != want.Bounds().Dx() || th.Height != want.Bounds().Dy() {
			t.Fatalf("orientation %d: %v shown %d×%d, want %v", o, got.Bounds(), th.Width, th.Height, want.Bounds())
		}
		for y := range want.Bounds().Dy() {
			for x := range want.Bounds().Dx() {
				g := color.NRGBAModel.Convert(got.At(x, y))
				w := color.NRGBAModel.Convert(want.At(x, y))
				if g != w {
					t.Fatalf("orientation %d: pixel (%d, %d) is %v, want %v", o, x, y, g, w)
				}
			}
		}
	}
	big := image.NewNRGBA(image.Rect(0, 0, 2000, 100))
	big.Set(0, 0, color.NRGBA{})
	b.Reset()
	if err := png.Encode(&b, big); err != nil {
		t.Fatal(err)
	}
	th, err := Thumbnail(bytes.NewReader(b.Bytes()), PNG, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := png.DecodeConfig(bytes.NewReader(th.Data)); err != nil || got.Width != ThumbBoxW*thumbHiDPI || th.Width != ThumbBoxW {
		t.Fatalf("a wide picture: %d×%d shown %d×%d, %v", got.Width, got.Height, th.Width, th.Height, err)
	}
}
