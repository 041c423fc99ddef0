package handlers_test

import (
	"bytes"
	"encoding/binary"
	"image/jpeg"
	"net/http"
	"strings"
	"testing"
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
