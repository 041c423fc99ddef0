package media

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrMalformed is returned for an image whose structure cannot be followed.
var ErrMalformed = errors.New("malformed image")

// Strip copies an image of type ct from r to w without the metadata that
// can tell where and when a picture was taken or who made it: EXIF (GPS
// included), XMP, IPTC and comments. A JPEG's EXIF orientation survives as
// a minimal EXIF block of that one tag, so browsers still turn the picture
// upright; the orientation found (1 when none) is returned. GIFs keep their
// frames and looping but lose comments and application blocks. Whatever follows
// the end of the image (data appended after a JPEG's end marker, a PNG's IEND
// or a GIF's trailer: a second EXIF block, a phone's motion-photo video) is
// dropped. Pixels are never
// touched, and the copy streams: only one metadata segment (at most 64 KiB)
// is held at a time. Other types are copied as they are. Errors reading r
// come back as they are.
func Strip(w io.Writer, r io.Reader, ct string) (orientation int, err error) {
	switch ct {
	case JPEG:
		return stripJPEG(w, r)
	case PNG:
		return 1, stripPNG(w, r)
	case WebP:
		return 1, stripWebP(w, r)
	case GIF:
		return 1, stripGIF(w, r)
	}
	_, err = io.Copy(w, r)
	return 1, err
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// readFull is io.ReadFull with an early end of the content reported as a
// malformed image, and the reader's own errors kept.
func readFull(r io.Reader, p []byte) error {
	_, err := io.ReadFull(r, p)
	return cutShort(err)
}

// cutShort reports the content ending early as a malformed image; other
// errors (the reader's own, such as a size limit) are kept as they are.
func cutShort(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return malformed("cut short")
	}
	return err
}

func stripJPEG(w io.Writer, src io.Reader) (int, error) {
	r := bufio.NewReaderSize(src, 32<<10)
	orientation := 1
	var hdr [4]byte
	if err := readFull(r, hdr[:2]); err != nil {
		return 0, err
	}
	if hdr[0] != 0xFF || hdr[1] != 0xD8 {
		return 0, malformed("no JPEG start")
	}
	if _, err := w.Write(hdr[:2]); err != nil {
		return 0, err
	}
	seg := make([]byte, 0, 1<<16)
	scanned := false // past the first scan: the image's data has begun
	next := byte(0)  // a marker the scan ended at, not yet handled
	for {
		code := next
		if code == 0 {
			var err error
			if code, err = readMarker(r); err != nil {
				return 0, err
			}
		}
		next = 0
		if code == 0xD9 && scanned {
			// The end of the image. Whatever follows (a second EXIF block,
			// a phone's "motion photo" video with its own location) is not
			// part of the picture, and is dropped.
			if _, err := w.Write([]byte{0xFF, 0xD9}); err != nil {
				return 0, err
			}
			return orientation, nil
		}
		if code == 0xD8 || code == 0xD9 || (code >= 0xD0 && code <= 0xD7) || code == 0x01 {
			return 0, malformed("unexpected marker %#x", code)
		}
		if err := readFull(r, hdr[:2]); err != nil {
			return 0, err
		}
		n := int(binary.BigEndian.Uint16(hdr[:2]))
		if n < 2 {
			return 0, malformed("bad segment length")
		}
		seg = seg[:n-2]
		if err := readFull(r, seg); err != nil {
			return 0, err
		}
		switch {
		case code == 0xE1: // APP1: EXIF or XMP, dropped, orientation kept
			if o := exifOrientation(seg); o > 1 && orientation == 1 && !scanned {
				orientation = o
				if _, err := w.Write(orientationSegment(o)); err != nil {
					return 0, err
				}
			}
			continue
		case code >= 0xE3 && code <= 0xED, code == 0xEF, code == 0xFE:
			// Other application segments (IPTC, Photoshop, maker notes)
			// and comments. APP0 (JFIF), APP2 (ICC colour profiles) and
			// APP14 (Adobe colour transform) are needed to show the
			// picture right and are kept.
			continue
		}
		if _, err := w.Write([]byte{0xFF, code, hdr[0], hdr[1]}); err != nil {
			return 0, err
		}
		if _, err := w.Write(seg); err != nil {
			return 0, err
		}
		if code == 0xDA {
			// Start of scan: entropy-coded data up to the next marker that
			// is not a restart. Progressive files have more tables and scans
			// after it, which the loop strips like those before.
			scanned = true
			var err error
			if next, err = copyScan(w, r); err != nil {
				return 0, err
			}
		}
	}
}

// readMarker reads a marker: 0xFF, any fill bytes of 0xFF, then its code.
func readMarker(r *bufio.Reader) (byte, error) {
	b, err := r.ReadByte()
	if err != nil {
		return 0, cutShort(err)
	}
	if b != 0xFF {
		return 0, malformed("expected a marker")
	}
	code := byte(0xFF)
	for code == 0xFF {
		if code, err = r.ReadByte(); err != nil {
			return 0, cutShort(err)
		}
	}
	return code, nil
}

// copyScan copies a scan's entropy-coded data, in which 0xFF is followed by
// 0x00 (a stuffed byte) or a restart marker, and returns the code of the
// marker that ends it, which is not copied; data cut short ends as if at
// the end-of-image marker.
func copyScan(w io.Writer, r *bufio.Reader) (byte, error) {
	for {
		chunk, err := r.ReadSlice(0xFF)
		if err == bufio.ErrBufferFull {
			if _, err := w.Write(chunk); err != nil {
				return 0, err
			}
			continue
		}
		if err != nil {
			// Data cut short before its end marker: what arrived is kept,
			// as browsers show what they can of it.
			if errors.Is(err, io.EOF) {
				_, err = w.Write(chunk)
				return 0xD9, err
			}
			return 0, err
		}
		// chunk ends with 0xFF: look at what follows it.
		code := byte(0xFF)
		for code == 0xFF {
			if code, err = r.ReadByte(); errors.Is(err, io.EOF) {
				_, err = w.Write(chunk[:len(chunk)-1])
				return 0xD9, err
			} else if err != nil {
				return 0, err
			}
		}
		if code == 0x00 || (code >= 0xD0 && code <= 0xD7) {
			if _, err := w.Write(chunk); err != nil {
				return 0, err
			}
			if _, err := w.Write([]byte{code}); err != nil {
				return 0, err
			}
			continue
		}
		_, err = w.Write(chunk[:len(chunk)-1])
		return code, err
	}
}

// exifOrientation reads the Orientation tag (0x0112) of IFD0 from an APP1
// segment's payload, or 0 if there is none.
func exifOrientation(seg []byte) int {
	const exifHeader = "Exif\x00\x00"
	if len(seg) < len(exifHeader)+8 || string(seg[:len(exifHeader)]) != exifHeader {
		return 0
	}
	tiff := seg[len(exifHeader):]
	var order binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return 0
	}
	if order.Uint16(tiff[2:4]) != 42 {
		return 0
	}
	ifd := int64(order.Uint32(tiff[4:8]))
	if ifd < 8 || ifd+2 > int64(len(tiff)) {
		return 0
	}
	count := int64(order.Uint16(tiff[ifd : ifd+2]))
	for i := range count {
		e := ifd + 2 + i*12
		if e+12 > int64(len(tiff)) {
			return 0
		}
		if order.Uint16(tiff[e:e+2]) != 0x0112 {
			continue
		}
		if order.Uint16(tiff[e+2:e+4]) != 3 { // SHORT
			return 0
		}
		o := int(order.Uint16(tiff[e+8 : e+10]))
		if o < 1 || o > 8 {
			return 0
		}
		return o
	}
	return 0
}

// orientationSegment is an APP1 segment holding an EXIF block with only the
// Orientation tag.
func orientationSegment(o int) []byte {
	b := []byte{
		0xFF, 0xE1, 0, 34,
		'E', 'x', 'i', 'f', 0, 0,
		'M', 'M', 0, 42, 0, 0, 0, 8, // big-endian TIFF, IFD0 at 8
		0, 1, // one entry
		0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, byte(o), 0, 0, // Orientation, SHORT, 1 value
		0, 0, 0, 0, // no next IFD
	}
	return b
}

// PNG chunks that hold text or EXIF (where location and authors go).
var pngDropped = map[string]bool{"eXIf": true, "tEXt": true, "zTXt": true, "iTXt": true, "tIME": true}

func stripPNG(w io.Writer, r io.Reader) error {
	var sig [8]byte
	if err := readFull(r, sig[:]); err != nil {
		return err
	}
	if string(sig[:]) != "\x89PNG\r\n\x1a\n" {
		return malformed("no PNG signature")
	}
	if _, err := w.Write(sig[:]); err != nil {
		return err
	}
	var hdr [8]byte
	for {
		if err := readFull(r, hdr[:]); err != nil {
			return err
		}
		n := int64(binary.BigEndian.Uint32(hdr[:4]))
		if n > 1<<31-1 {
			return malformed("bad chunk length")
		}
		kind := string(hdr[4:8])
		out := w
		if pngDropped[kind] {
			out = io.Discard
		} else if _, err := w.Write(hdr[:]); err != nil {
			return err
		}
		// The chunk's data and its CRC, unchanged.
		if _, err := io.CopyN(out, r, n+4); err != nil {
			return cutShort(err)
		}
		if kind == "IEND" {
			return nil // anything after the end is not part of the image
		}
	}
}

// stripWebP blanks a WebP's EXIF and XMP chunks in place: their kind becomes
// an unknown one (which decoders skip) and their bytes zeros, so the RIFF
// sizes, written before those chunks, stay right without buffering the file.
func stripWebP(w io.Writer, r io.Reader) error {
	var hdr [12]byte
	if err := readFull(r, hdr[:]); err != nil {
		return err
	}
	if string(hdr[:4]) != "RIFF" || string(hdr[8:12]) != "WEBP" {
		return malformed("no WebP header")
	}
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	remaining := int64(binary.LittleEndian.Uint32(hdr[4:8])) - 4
	var ch [8]byte
	for remaining >= 8 {
		if err := readFull(r, ch[:]); err != nil {
			return err
		}
		remaining -= 8
		n := int64(binary.LittleEndian.Uint32(ch[4:8]))
		n += n & 1 // chunks are padded to an even length
		if n > remaining {
			return malformed("chunk runs past the end")
		}
		remaining -= n
		switch string(ch[:4]) {
		case "EXIF", "XMP ":
			copy(ch[:4], "XXXX")
			if _, err := w.Write(ch[:]); err != nil {
				return err
			}
			if _, err := io.CopyN(io.Discard, r, n); err != nil {
				return cutShort(err)
			}
			if _, err := io.CopyN(w, zeros{}, n); err != nil {
				return err
			}
			continue
		case "VP8X":
			if n < 10 {
				return malformed("short VP8X chunk")
			}
			if _, err := w.Write(ch[:]); err != nil {
				return err
			}
			body := make([]byte, n)
			if err := readFull(r, body); err != nil {
				return err
			}
			body[0] &^= 0x08 | 0x04 // no EXIF, no XMP
			if _, err := w.Write(body); err != nil {
				return err
			}
			continue
		}
		if _, err := w.Write(ch[:]); err != nil {
			return err
		}
		if _, err := io.CopyN(w, r, n); err != nil {
			return cutShort(err)
		}
	}
	return nil
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// stripGIF copies a GIF without its comments and application blocks (XMP
// goes in one), keeping the looping block that animations need.
func stripGIF(w io.Writer, src io.Reader) error {
	r := bufio.NewReaderSize(src, 16<<10)
	var head [13]byte // signature, version, logical screen descriptor
	if err := readFull(r, head[:]); err != nil {
		return err
	}
	if string(head[:3]) != "GIF" {
		return malformed("no GIF signature")
	}
	if _, err := w.Write(head[:]); err != nil {
		return err
	}
	if err := copyColorTable(w, r, head[10]); err != nil {
		return err
	}
	for {
		kind, err := r.ReadByte()
		if err != nil {
			return cutShort(err)
		}
		switch kind {
		case 0x3B: // trailer: the end; anything after it is not the image
			_, err := w.Write([]byte{kind})
			return err
		case 0x2C: // an image: descriptor, colour table, LZW data
			var desc [10]byte
			desc[0] = kind
			if err := readFull(r, desc[1:]); err != nil {
				return err
			}
			if _, err := w.Write(desc[:]); err != nil {
				return err
			}
			if err := copyColorTable(w, r, desc[9]); err != nil {
				return err
			}
			b, err := r.ReadByte() // LZW minimum code size
			if err != nil {
				return cutShort(err)
			}
			if _, err := w.Write([]byte{b}); err != nil {
				return err
			}
			if err := copySubBlocks(w, r); err != nil {
				return err
			}
		case 0x21: // an extension
			label, err := r.ReadByte()
			if err != nil {
				return cutShort(err)
			}
			out := io.Discard
			switch label {
			case 0xF9, 0x01: // graphic control (timing, transparency), plain text
				out = w
			case 0xFF: // application: only the looping blocks are kept
				if id, err := r.Peek(12); err == nil && id[0] == 11 && (string(id[1:]) == "NETSCAPE2.0" || string(id[1:]) == "ANIMEXTS1.0") {
					out = w
				}
			}
			if _, err := out.Write([]byte{kind, label}); err != nil {
				return err
			}
			if err := copySubBlocks(out, r); err != nil {
				return err
			}
		default:
			return malformed("unknown GIF block %#x", kind)
		}
	}
}

// copyColorTable copies the colour table a GIF descriptor's flags announce.
func copyColorTable(w io.Writer, r io.Reader, flags byte) error {
	if flags&0x80 == 0 {
		return nil
	}
	_, err := io.CopyN(w, r, 3<<((flags&7)+1))
	return cutShort(err)
}

// copySubBlocks copies length-prefixed sub-blocks up to and including the
// empty one that ends them.
func copySubBlocks(w io.Writer, r *bufio.Reader) error {
	for {
		n, err := r.ReadByte()
		if err != nil {
			return cutShort(err)
		}
		if _, err := w.Write([]byte{n}); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if _, err := io.CopyN(w, r, int64(n)); err != nil {
			return cutShort(err)
		}
	}
}
