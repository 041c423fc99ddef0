package assets

import (
	"bytes"
	"flag"
	"image"
	"image/color"
	"image/png"
	"os"
	"strconv"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the PNG icons from their drawing")

// TestIcons holds the committed PNG icons (for the web app manifest and
// home screens, which want bitmaps) to their drawing here: agora's speech
// bubble, white on the accent colour, inside the safe zone of a maskable
// icon. `go test ./assets -update` redraws them.
func TestIcons(t *testing.T) {
	for _, size := range []int{192, 512} {
		name := "icon-" + strconv.Itoa(size) + ".png"
		var buf bytes.Buffer
		if err := png.Encode(&buf, drawIcon(size)); err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("%s: %v (run go test ./assets -update)", name, err)
		}
		if !bytes.Equal(got, buf.Bytes()) {
			t.Errorf("%s differs from its drawing (run go test ./assets -update)", name)
		}
		img, err := png.Decode(bytes.NewReader(got))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
			t.Errorf("%s is %dx%d", name, b.Dx(), b.Dy())
		}
	}
}

// drawIcon draws the icon at size×size, four samples a pixel.
func drawIcon(size int) *image.NRGBA {
	bg := color.NRGBA{0x4f, 0x46, 0xe5, 0xff}
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	const ss = 4
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			in := 0
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					// The logo's 24-unit grid, scaled into the middle 60%.
					u := ((float64(x)+(float64(sx)+.5)/ss)/float64(size) - .2) / .6 * 24
					v := ((float64(y)+(float64(sy)+.5)/ss)/float64(size) - .2) / .6 * 24
					if inBubble(u, v+1) {
						in++
					}
				}
			}
			a := float64(in) / ss / ss
			mix := func(c uint8) uint8 { return uint8(float64(c)*(1-a) + 255*a + .5) }
			img.SetNRGBA(x, y, color.NRGBA{mix(bg.R), mix(bg.G), mix(bg.B), 0xff})
		}
	}
	return img
}

// inBubble: the logo's path M4 5h16v10H9l-5 4z.
func inBubble(u, v float64) bool {
	if u >= 4 && u <= 20 && v >= 5 && v <= 15 {
		return true
	}
	// The tail: the triangle (4,15) (9,15) (4,19).
	return u >= 4 && v >= 15 && v <= 19 && (u-4)/5+(v-15)/4 <= 1
}
