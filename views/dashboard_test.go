package views

import (
	"testing"

	"agora/chat"
)

// A chart's scale ends at a round number at least its largest value:
// counts at 1, 2 or 5 times a power of ten, bytes the same in KB, MB...
func TestScaleTop(t *testing.T) {
	count := func(n int64) string { return "" }
	for v, want := range map[int64]int64{0: 1, 1: 1, 3: 5, 5: 5, 6: 10, 11: 20, 199: 200, 201: 500, 999: 1000, 1001: 2000} {
		if top, _ := scaleTop(v, count, false); top != want {
			t.Errorf("scaleTop(%d) = %d, want %d", v, top, want)
		}
	}
	for v, want := range map[int64]string{0: "1 B", 700: "1.0 KB", 3000: "5.0 KB", 635 << 10: "1.0 MB", 900 << 10: "1.0 MB",
		1025 << 10: "2.0 MB", 3 << 30: "5.0 GB"} {
		if _, text := scaleTop(v, chat.SizeText, true); text != want {
			t.Errorf("scaleTop(%d bytes) reads %q, want %q", v, text, want)
		}
	}
}
