package chat

import (
	"testing"
	"time"
)

// The daily quiet time, in the person's zone, across midnight or not.
func TestQuietTime(t *testing.T) {
	berlin := NotifySettings{QuietStart: 22 * 60, QuietEnd: 7 * 60, Zone: "Europe/Berlin"}
	day := NotifySettings{QuietStart: 12 * 60, QuietEnd: 13*60 + 30}
	for _, c := range []struct {
		n    NotifySettings
		at   string
		want bool
	}{
		{berlin, "2026-12-07T20:59:00Z", false}, // 21:59 in Berlin
		{berlin, "2026-12-07T21:00:00Z", true},  // 22:00
		{berlin, "2026-12-08T05:59:00Z", true},  // 06:59
		{berlin, "2026-12-08T06:00:00Z", false}, // 07:00
		{day, "2026-12-07T12:00:00Z", true},
		{day, "2026-12-07T13:30:00Z", false},
		{day, "2026-12-07T11:59:00Z", false},
		{DefaultNotifySettings, "2026-12-07T03:00:00Z", false},
	} {
		at, _ := time.Parse(time.RFC3339, c.at)
		if got := c.n.Quiet(at); got != c.want {
			t.Errorf("%+v at %s: quiet %v, want %v", c.n, c.at, got, c.want)
		}
	}
}
