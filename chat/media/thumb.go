package media

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

// Limits on what is decoded. A picture of more pixels than this is refused
// before any pixel is decoded: a small file can claim enormous dimensions
// (a decompression bomb), and decoding costs memory by the pixel.
const (
	MaxPixels = 50_000_000 // a 50-megapixel camera's pictures, about 200 MB decoded at most
	MaxSide   = 20_000
)

// Thumbnail box: a thumbnail is shown at most ThumbBoxW×ThumbBoxH CSS
// pixels, and drawn with twice as many pixels each way for sharp screens.
const (
	ThumbBoxW  = 400
	ThumbBoxH  = 300
	thumbHiDPI = 2
)

// ErrTooManyPixels is returned by Size for an image over MaxPixels or MaxSide.
var ErrTooManyPixels = fmt.Errorf("image too large in pixels")

// Size reads an image's dimensions from its header, without decoding it, and
// refuses images over the limits. The sizes are as the picture is shown,
// after its EXIF orientation.
func Size(r io.Reader, ct string, orientation int) (w, h int, err error) {
	var cfg image.Config
	br := bufio.NewReaderSize(r, 32<<10)
	switch ct {
	case JPEG:
		cfg, err = jpeg.DecodeConfig(br)
	case PNG:
		cfg, err = png.DecodeConfig(br)
	case GIF:
		cfg, err = gif.DecodeConfig(br)
	case WebP:
		cfg, err = webp.DecodeConfig(br)
	default:
		return 0, 0, fmt.Errorf("%w: %s is not an image type", ErrMalformed, ct)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return 0, 0, fmt.Errorf("%w: no pixels", ErrMalformed)
	}
	if cfg.Width > MaxSide || cfg.Height > MaxSide || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return cfg.Width, cfg.Height, ErrTooManyPixels
	}
	w, h = cfg.Width, cfg.Height
	if orientation >= 5 {
		w, h = h, w
	}
	return w, h, nil
}

// Fit is the size w×h takes in a box, keeping its shape, never enlarged.
func Fit(w, h, boxW, boxH int) (int, int) {
	if w <= boxW && h <= boxH {
		return w, h
	}
	// Compare w/boxW with h/boxH without floating point.
	if int64(w)*int64(boxH) >= int64(h)*int64(boxW) {
		return boxW, max(1, int((int64(h)*int64(boxW)+int64(w)/2)/int64(w)))
	}
	return max(1, int((int64(w)*int64(boxH)+int64(h)/2)/int64(h))), boxH
}

// Thumb is a made thumbnail: its encoded bytes and type, and the size it
// is shown at in the page.
type Thumb struct {
	Data          []byte
	ContentType   string
	Width, Height int // CSS pixels
}

// Thumbnail decodes an image that Size accepted, turns it upright and
// scales it to fit the thumbnail box. An image with transparency becomes a
// PNG, any other a JPEG; neither keeps any metadata. The caller bounds how
// many run at once: decoding holds the whole picture in memory.
func Thumbnail(r io.Reader, ct string, orientation int) (Thumb, error) {
	src, err := decode(r, ct)
	if err != nil {
		return Thumb{}, err
	}
	sb := src.Bounds()
	w, h := sb.Dx(), sb.Dy()
	if orientation >= 5 {
		w, h = h, w
	}
	var t Thumb
	t.Width, t.Height = Fit(w, h, ThumbBoxW, ThumbBoxH)
	pw, ph := Fit(w, h, ThumbBoxW*thumbHiDPI, ThumbBoxH*thumbHiDPI)
	if orientation >= 5 {
		pw, ph = ph, pw // scaled before it is turned
	}
	// A large picture is first halved down cheaply to twice the thumbnail:
	// the fine scaler's buffer grows with the source's height.
	if iw, ih := intermediateSize(sb.Dx(), sb.Dy(), pw, ph); iw != sb.Dx() || ih != sb.Dy() {
		mid := image.NewRGBA(image.Rect(0, 0, iw, ih))
		draw.ApproxBiLinear.Scale(mid, mid.Bounds(), src, sb, draw.Src, nil)
		src, sb = mid, mid.Bounds()
	}
	scaled := image.NewRGBA(image.Rect(0, 0, pw, ph))
	if pw == sb.Dx() && ph == sb.Dy() {
		// It fits as it is (a site's small picture): copied, not resampled
		// to its own size, which cost as much as decoding it.
		draw.Draw(scaled, scaled.Bounds(), src, sb.Min, draw.Src)
	} else {
		draw.CatmullRom.Scale(scaled, scaled.Bounds(), src, sb, draw.Src, nil)
	}
	t.Data, t.ContentType, err = encode(orient(scaled, orientation))
	if err != nil {
		return Thumb{}, fmt.Errorf("encode thumbnail: %w", err)
	}
	return t, nil
}

// AvatarSide is the side of a person's picture in pixels: shown at most
// 48 CSS pixels wide, twice as many for sharp screens, and some to spare.
const AvatarSide = 128

// Avatar decodes an image that Size accepted, turns it upright, takes the
// largest square from its middle and scales it to AvatarSide a side. Like a
// thumbnail it keeps no metadata; the caller bounds how many run at once.
func Avatar(r io.Reader, ct string, orientation int) (Thumb, error) {
	src, err := decode(r, ct)
	if err != nil {
		return Thumb{}, err
	}
	sb := src.Bounds()
	side := min(sb.Dx(), sb.Dy())
	square := image.Rect(0, 0, side, side).Add(sb.Min).Add(image.Pt((sb.Dx()-side)/2, (sb.Dy()-side)/2))
	px := min(side, AvatarSide)
	if iw, _ := intermediateSize(side, side, px, px); iw != side {
		mid := image.NewRGBA(image.Rect(0, 0, iw, iw))
		draw.ApproxBiLinear.Scale(mid, mid.Bounds(), src, square, draw.Src, nil)
		src, square = mid, mid.Bounds()
	}
	scaled := image.NewRGBA(image.Rect(0, 0, px, px))
	draw.CatmullRom.Scale(scaled, scaled.Bounds(), src, square, draw.Src, nil)
	t := Thumb{Width: px, Height: px}
	t.Data, t.ContentType, err = encode(orient(scaled, orientation))
	if err != nil {
		return Thumb{}, fmt.Errorf("encode avatar: %w", err)
	}
	return t, nil
}

// decode reads a whole picture (a GIF's first frame).
func decode(r io.Reader, ct string) (image.Image, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var src image.Image
	var err error
	switch ct {
	case JPEG:
		src, err = jpeg.Decode(br)
	case PNG:
		src, err = png.Decode(br)
	case GIF:
		src, err = gif.Decode(br) // the first frame
	case WebP:
		src, err = webp.Decode(br)
	default:
		return nil, fmt.Errorf("%w: %s is not an image type", ErrMalformed, ct)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return src, nil
}

// encode writes a picture with transparency as a PNG, any other as a JPEG.
func encode(m *image.RGBA) ([]byte, string, error) {
	var buf bytes.Buffer
	if m.Opaque() {
		err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 85})
		return buf.Bytes(), JPEG, err
	}
	err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, m)
	return buf.Bytes(), PNG, err
}

// intermediateSize is the size a w×h picture is first scaled to on its way
// to a pw×ph thumbnail (the source's own size when it is small enough).
func intermediateSize(w, h, pw, ph int) (int, int) {
	return Fit(w, h, 2*pw, 2*ph)
}

// orient applies an EXIF orientation (1-8) to m, returning the upright picture.
func orient(m *image.RGBA, o int) *image.RGBA {
	if o <= 1 || o > 8 {
		return m
	}
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	out := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range h {
		for x := range w {
			var dx, dy int
			switch o {
			case 2: // mirrored
				dx, dy = w-1-x, y
			case 3: // turned 180°
				dx, dy = w-1-x, h-1-y
			case 4: // mirrored upside down
				dx, dy = x, h-1-y
			case 5: // mirrored along the top-left diagonal
				dx, dy = y, x
			case 6: // needs a quarter turn clockwise
				dx, dy = h-1-y, x
			case 7: // mirrored along the other diagonal
				dx, dy = h-1-y, w-1-x
			case 8: // needs a quarter turn anticlockwise
				dx, dy = y, w-1-x
			}
			si := m.PixOffset(x+b.Min.X, y+b.Min.Y)
			di := out.PixOffset(dx, dy)
			copy(out.Pix[di:di+4], m.Pix[si:si+4])
		}
	}
	return out
}
