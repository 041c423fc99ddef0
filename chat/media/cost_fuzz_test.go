package media

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"runtime"
	"testing"
)

// FuzzDecodeCost: for any bytes taken as any image type, a cost DecodeCost
// accepts bounds what decoding them and making the thumbnail allocate
// (every byte allocated counts, so the bound holds for what is held at
// once too). Small pictures only: the fuzzer's inputs stay fast.
func FuzzDecodeCost(f *testing.F) {
	m := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	for i := range m.Pix {
		m.Pix[i] = byte(i * 7)
	}
	var p, p16, j, g bytes.Buffer
	png.Encode(&p, m)
	m16 := image.NewRGBA64(image.Rect(0, 0, 40, 30))
	m16.Set(3, 3, color.RGBA64{1, 2, 3, 4})
	png.Encode(&p16, m16)
	jpeg.Encode(&j, m, nil)
	gif.Encode(&g, m, nil)
	for i, b := range [][]byte{p.Bytes(), p16.Bytes(), j.Bytes(), g.Bytes()} {
		f.Add(b, uint8(i))
	}
	types := []string{PNG, PNG, JPEG, GIF, WebP}
	f.Fuzz(func(t *testing.T, b []byte, kind uint8) {
		ct := types[int(kind)%len(types)]
		cost, err := DecodeCost(bytes.NewReader(b), ct)
		if err != nil || cost > 32<<20 {
			return
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		Thumbnail(bytes.NewReader(b), ct, 1)
		runtime.ReadMemStats(&after)
		if got := int64(after.TotalAlloc - before.TotalAlloc); got > cost {
			t.Fatalf("%s of %d bytes: decoding allocated %d bytes, over its cost %d", ct, len(b), got, cost)
		}
	})
}
