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

func TestSplitStatus(t *testing.T) {
	for arg, want := range map[string][2]string{
		"":                          {"", ""},
		":calendar: In a meeting":   {"In a meeting", ":calendar:"},
		"🎉 Party":                   {"Party", "🎉"},
		"🌴":                         {"", "🌴"},
		"In a meeting":              {"In a meeting", ""},
		":nosuchcode: out":          {":nosuchcode: out", ""},
		"— and then":                {"— and then", ""},
		"  🏠   Working from home  ": {"Working from home", "🏠"},
	} {
		text, emoji := SplitStatus(arg)
		if text != want[0] || emoji != want[1] {
			t.Errorf("SplitStatus(%q) = %q, %q; want %q, %q", arg, text, emoji, want[0], want[1])
		}
	}
}

func TestParseDND(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no zone database")
	}
	now := time.Date(2026, 12, 7, 22, 30, 0, 0, time.UTC) // 23:30 in Paris
	for arg, want := range map[string]time.Duration{
		"30m": 30 * time.Minute, "1h": time.Hour, "2H": 2 * time.Hour, "1h30m": 90 * time.Minute, "7d": 7 * 24 * time.Hour,
		"tomorrow": 9*time.Hour + 30*time.Minute, // until 09:00 in Paris, 08:00 UTC
	} {
		if got, err := ParseDND(arg, now, paris); err != nil || got != want {
			t.Errorf("ParseDND(%q) = %v, %v; want %v", arg, got, err, want)
		}
	}
	for _, arg := range []string{"", "banana", "400d", "8d", "10s", "0", "-1h", "nand", "infd", "1e9d", "d", "1d2h"} {
		if d, err := ParseDND(arg, now, paris); err == nil || ErrorCode(err) != EInvalid {
			t.Errorf("ParseDND(%q) = %v, %v; want a refusal", arg, d, err)
		}
	}
}
