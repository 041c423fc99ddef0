package media

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"image/gif"
	"io"
)

// DefaultDecodeBudget is the most memory one picture's decoding (and its
// thumbnail's making) may take, and, by default, all of those running at
// once together. Pixels alone do not bound it: a 394 KB 16-bit PNG decodes
// to 8 bytes a pixel, and a progressive JPEG keeps its coefficients (4 bytes
// a pixel per component) beside the picture, so a small file within
// MaxPixels took 900 MB. A 24-megapixel progressive camera photo takes about
// 180 MB; a 50-megapixel baseline one 75 MB.
const DefaultDecodeBudget = 256 << 20

// ErrTooCostly is returned by DecodeCost's callers for a picture whose
// decoding would take more memory than they allow.
var ErrTooCostly = errors.New("image too costly to decode")

// DecodeCost reads an image's header (nothing of its pixel data) and says
// how many bytes decoding it and making its thumbnail may hold at once, at
// worst: the decoded picture at the bytes per pixel its format and depth
// decode to, a progressive JPEG's coefficients, a PNG's interlace passes,
// and the scaling's buffers.
func DecodeCost(r io.Reader, ct string) (int64, error) {
	br := bufio.NewReaderSize(r, 32<<10)
	var w, h, picture int64
	var err error
	switch ct {
	case PNG:
		w, h, picture, err = pngCost(br)
	case JPEG:
		w, h, picture, err = jpegCost(br)
	case GIF:
		var cfg gifConfig
		cfg, err = gifScreen(br)
		w, h, picture = cfg.w, cfg.h, cfg.w*cfg.h // one byte a pixel, paletted
	case WebP:
		w, h, picture, err = webpCost(br)
	default:
		return 0, fmt.Errorf("%w: %s is not an image type", ErrMalformed, ct)
	}
	if err != nil {
		return 0, err
	}
	if w <= 0 || h <= 0 || w > MaxSide || h > MaxSide {
		return 0, fmt.Errorf("%w: %d×%d pixels", ErrTooManyPixels, w, h)
	}
	return picture + scaleCost(int(w), int(h)), nil
}

// scaleCost is what making the thumbnail of a w×h picture holds besides
// the picture: the intermediate picture, the final scaling's buffer (a
// row of float64 RGBA per destination column per source row), the
// thumbnail and its turned copy.
func scaleCost(w, h int) int64 {
	var worst int64
	// Turned by its EXIF orientation, the thumbnail's box is the other way round.
	for _, box := range [][2]int{{ThumbBoxW, ThumbBoxH}, {ThumbBoxH, ThumbBoxW}} {
		pw, ph := Fit(w, h, box[0]*thumbHiDPI, box[1]*thumbHiDPI)
		iw, ih := intermediateSize(w, h, pw, ph)
		var c int64
		if iw != w || ih != h {
			c += int64(iw) * int64(ih) * 4
		}
		c += int64(pw) * int64(ih) * 32
		c += 2 * int64(pw) * int64(ph) * 4
		worst = max(worst, c)
	}
	return worst + 4<<20 // decoders' and encoders' tables, rows and buffers (a zlib writer alone is 1 MB)
}

// pngCost reads a PNG's IHDR: Go's decoder gives 8-bit colour (and 8-bit
// grey with a transparent colour) 4 bytes a pixel, 16-bit 8, grey without
// transparency 1 or 2, paletted 1; interlaced files decode each pass into a
// picture of its own before the whole.
func pngCost(r io.Reader) (w, h, picture int64, err error) {
	var b [8 + 8 + 13]byte
	if err := readFull(r, b[:]); err != nil {
		return 0, 0, 0, err
	}
	if string(b[:8]) != "\x89PNG\r\n\x1a\n" || string(b[12:16]) != "IHDR" {
		return 0, 0, 0, malformed("no PNG header")
	}
	w, h = int64(binary.BigEndian.Uint32(b[16:20])), int64(binary.BigEndian.Uint32(b[20:24]))
	depth, colour, interlace := b[24], b[25], b[28]
	var bpp int64
	switch colour {
	case 3: // paletted
		bpp = 1
	case 0, 2, 4, 6: // grey, colour, grey+alpha, colour+alpha: assume a transparent colour
		bpp = 4
		if depth == 16 {
			bpp = 8
		}
	default:
		return 0, 0, 0, malformed("PNG colour type %d", colour)
	}
	if w > MaxSide || h > MaxSide {
		return w, h, 0, nil
	}
	picture = w * h * bpp
	if interlace != 0 {
		picture *= 2
	}
	return w, h, picture, nil
}

// jpegCost reads a JPEG's markers up to its frame header: the components
// and their sampling, and whether it is progressive. The picture is one
// byte a sample (a grey, a YCbCr or, for four components, a CMYK picture
// made from one of four planes); a progressive file also keeps every
// block's 64 coefficients of 4 bytes until its last scan.
func jpegCost(r *bufio.Reader) (w, h, picture int64, err error) {
	var hdr [2]byte
	if err := readFull(r, hdr[:]); err != nil {
		return 0, 0, 0, err
	}
	if hdr != [2]byte{0xFF, 0xD8} {
		return 0, 0, 0, malformed("no JPEG start")
	}
	for {
		code, err := readMarker(r)
		if err != nil {
			return 0, 0, 0, err
		}
		if code == 0xD9 || code == 0xDA || (code >= 0xD0 && code <= 0xD8) || code == 0x01 {
			return 0, 0, 0, malformed("no frame header before marker %#x", code)
		}
		if err := readFull(r, hdr[:]); err != nil {
			return 0, 0, 0, err
		}
		n := int(binary.BigEndian.Uint16(hdr[:]))
		if n < 2 {
			return 0, 0, 0, malformed("bad segment length")
		}
		if code != 0xC0 && code != 0xC1 && code != 0xC2 {
			if _, err := r.Discard(n - 2); err != nil {
				return 0, 0, 0, cutShort(err)
			}
			continue
		}
		seg := make([]byte, n-2)
		if err := readFull(r, seg); err != nil {
			return 0, 0, 0, err
		}
		if len(seg) < 6 {
			return 0, 0, 0, malformed("short frame header")
		}
		h, w = int64(binary.BigEndian.Uint16(seg[1:3])), int64(binary.BigEndian.Uint16(seg[3:5]))
		nc := int(seg[5])
		if nc == 0 || len(seg) < 6+3*nc {
			return 0, 0, 0, malformed("short frame header")
		}
		var hmax, vmax int64 = 1, 1
		for i := range nc {
			s := seg[6+3*i+1]
			hmax, vmax = max(hmax, int64(s>>4)), max(vmax, int64(s&15))
		}
		// Each component's samples, in whole 8×8 blocks of its own grid.
		mcuW, mcuH := (w+8*hmax-1)/(8*hmax), (h+8*vmax-1)/(8*vmax)
		var samples int64
		for i := range nc {
			s := seg[6+3*i+1]
			samples += mcuW * int64(s>>4) * 8 * mcuH * int64(s&15) * 8
		}
		picture = samples
		if nc == 4 {
			picture += 4 * w * h // the CMYK picture made from the planes
		}
		if code == 0xC2 {
			picture += samples * 4 // [64]int32 a block of 64 samples
		}
		return w, h, picture, nil
	}
}

type gifConfig struct{ w, h int64 }

// gifScreen reads a GIF's logical screen: the first frame, all that is
// decoded, lies within it.
func gifScreen(r io.Reader) (gifConfig, error) {
	cfg, err := gif.DecodeConfig(r)
	if err != nil {
		return gifConfig{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return gifConfig{int64(cfg.Width), int64(cfg.Height)}, nil
}

// webpCost reads a WebP's first chunk: a lossless picture decodes to 4
// bytes a pixel with as much again for its transforms; a lossy one (with or
// without alpha) to 2.5.
func webpCost(r io.Reader) (w, h, picture int64, err error) {
	var b [30]byte
	if err := readFull(r, b[:]); err != nil {
		return 0, 0, 0, err
	}
	if string(b[:4]) != "RIFF" || string(b[8:12]) != "WEBP" {
		return 0, 0, 0, malformed("no WebP header")
	}
	switch string(b[12:16]) {
	case "VP8 ":
		w, h = int64(binary.LittleEndian.Uint16(b[26:28])&0x3fff), int64(binary.LittleEndian.Uint16(b[28:30])&0x3fff)
		return w, h, w * h * 5 / 2, nil
	case "VP8L":
		bits := binary.LittleEndian.Uint32(b[21:25])
		w, h = int64(bits&0x3fff)+1, int64(bits>>14&0x3fff)+1
		return w, h, w * h * 8, nil
	case "VP8X":
		w = int64(b[24]) | int64(b[25])<<8 | int64(b[26])<<16 + 1
		h = int64(b[27]) | int64(b[28])<<8 | int64(b[29])<<16 + 1
		return w, h, w * h * 8, nil // lossless or not is told later: the worse
	}
	return 0, 0, 0, malformed("unknown WebP chunk %q", b[12:16])
}
