package handlers_test

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image/jpeg"
	"net/http"
	"strings"
	"testing"

	"agora/handlers"
)

// Phones append to a JPEG after its end marker: a second EXIF block, or a
// "motion photo" (a short MP4 with its own location atom). None of it is
// the picture, and all of it is gone from what is served.
func TestJPEGDataAfterTheEndMarkerIsDropped(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	const secret = "GPS-AFTER-THE-END"
	photo := jpegImage(t, 64, 48, 1, "ok")
	if !bytes.HasSuffix(photo, []byte{0xFF, 0xD9}) {
		t.Fatal("the test photo does not end with its end marker")
	}
	exif := append([]byte("Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08"), secret...)
	trailer := append([]byte{0xFF, 0xE1, 0, byte(len(exif) + 2)}, exif...)
	// A motion photo: an ftyp box, then a udta box whose ©xyz atom holds a place.
	mp4 := binary.BigEndian.AppendUint32(nil, 20)
	mp4 = append(mp4, "ftypmp42\x00\x00\x00\x00isom"...)
	xyz := append([]byte("\xa9xyz"), ("+51.5007-000.1246/" + secret)...)
	mp4 = binary.BigEndian.AppendUint32(mp4, uint32(8+4+len(xyz)))
	mp4 = append(mp4, "udta"...)
	mp4 = binary.BigEndian.AppendUint32(mp4, uint32(4+len(xyz)))
	mp4 = append(mp4, xyz...)
	upload := append(append(append([]byte{}, photo...), trailer...), mp4...)

	ann.mustUpload("general", "motion.jpg", upload, "")
	full := ann.get(ann.lastFile("general"))
	expectStatus(t, full, http.StatusOK)
	if strings.Contains(full.body, secret) || strings.Contains(full.body, "ftypmp42") {
		t.Fatal("what followed the JPEG's end marker was served")
	}
	if !strings.HasSuffix(full.body, "\xff\xd9") {
		t.Errorf("the served JPEG does not end at its end marker: ...%q", full.body[max(0, len(full.body)-8):])
	}
	if _, err := jpeg.Decode(strings.NewReader(full.body)); err != nil {
		t.Errorf("the served JPEG does not decode: %v", err)
	}
}

// deepPNG is a w×h 16-bit RGBA PNG of one flat colour: a few kilobytes that
// decode to 8 bytes a pixel.
func deepPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	var idat bytes.Buffer
	zw := zlib.NewWriter(&idat)
	row := make([]byte, 1+8*w) // filter byte "none", then the pixels
	for i := 1; i < len(row); i += 8 {
		copy(row[i:], []byte{0x40, 0, 0x80, 0, 0xc0, 0, 0xff, 0xff})
	}
	for range h {
		zw.Write(row)
	}
	zw.Close()
	chunk := func(out []byte, kind string, data []byte) []byte {
		out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
		out = append(out, kind...)
		out = append(out, data...)
		return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(append([]byte(kind), data...)))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, 16, 6, 0, 0, 0) // 16 bits, RGBA, not interlaced
	out := []byte("\x89PNG\r\n\x1a\n")
	out = chunk(out, "IHDR", ihdr)
	out = chunk(out, "IDAT", idat.Bytes())
	return chunk(out, "IEND", nil)
}

// A picture whose decoding would take more memory than the budget, though
// its pixels are within the limit and its file small (a 16-bit PNG: 8 bytes
// a pixel), is never decoded: it stays a download. One within the budget
// gets its thumbnail as before. (The budget is small here; by default it is
// media.DefaultDecodeBudget, and the probe's 394 KB PNG took 712 MB.)
func TestImagesTooCostlyToDecodeStayDownloads(t *testing.T) {
	ts := newServerWith(t, handlers.Config{DecodeBudget: 8 << 20})
	ann := ts.client(t).signup("ann")
	bomb := deepPNG(t, 1200, 1000) // 9.6 MB decoded, from a few KB
	ann.mustUpload("general", "deep.png", bomb, "")
	page := ann.get("/rooms/general").body
	if imgRe.MatchString(page) {
		t.Fatalf("a picture over the decode budget was decoded for a thumbnail (upload of %d bytes)", len(bomb))
	}
	full := ann.get(ann.lastFile("general"))
	expectStatus(t, full, http.StatusOK)
	if cd := full.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
		t.Errorf("the undecoded picture is served %q, want as a download", cd)
	}
	// Within the budget: a thumbnail, as ever.
	ann.mustUpload("general", "small.png", deepPNG(t, 200, 100), "")
	if !imgRe.MatchString(ann.get("/rooms/general").body) {
		t.Fatal("a picture within the decode budget got no thumbnail")
	}
}
