package chat

import (
	"strings"
	"testing"
	"time"
)

func TestParseRemind(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC) // 15:00 in Paris
	for _, c := range []struct {
		arg  string
		at   time.Time
		text string
		bad  string
	}{
		{arg: "me in 20m to stretch", at: now.Add(20 * time.Minute), text: "stretch"},
		{arg: "me in 2 hours call Ann", at: now.Add(2 * time.Hour), text: "call Ann"},
		{arg: "in 1h30m tea", at: now.Add(90 * time.Minute), text: "tea"},
		{arg: "me in 3d to renew", at: now.Add(72 * time.Hour), text: "renew"},
		{arg: "me at 16:30 standup", at: time.Date(2026, 12, 7, 16, 30, 0, 0, paris), text: "standup"},
		{arg: "me at 9am coffee", at: time.Date(2026, 12, 8, 9, 0, 0, 0, paris), text: "coffee"}, // passed today
		{arg: "me at 2026-12-24 09:00 to gifts", at: time.Date(2026, 12, 24, 9, 0, 0, 0, paris), text: "gifts"},
		{arg: "me tomorrow standup notes", at: time.Date(2026, 12, 8, 9, 0, 0, 0, paris), text: "standup notes"},
		{arg: "me in -5m x", bad: "has passed"},
		{arg: "me in 0m x", bad: "has passed"},
		{arg: "me at 2020-01-01 10:00 x", bad: "has passed"},
		{arg: "me in 365d x", bad: "days away"},
		{arg: "me in 1y x", bad: "days away"},
		{arg: "me in 99999999999m x", bad: "not a length"},
		{arg: "me in soon x", bad: "not a length"},
		{arg: "me at noonish x", bad: "not a time of day"},
		{arg: "me someday x", bad: "could not read when"},
		{arg: "me in 20m", bad: "what to remind you of"},
		{arg: "", bad: "needs when and what"},
		{arg: "me in", bad: "needs how long"},
	} {
		r, err := ParseRemind(c.arg, now, paris)
		if c.bad != "" {
			if err == nil || !strings.Contains(ErrorMessage(err), c.bad) || ErrorCode(err) != EInvalid {
				t.Errorf("%q: %v, want a refusal saying %q", c.arg, err, c.bad)
			}
			continue
		}
		if err != nil || !r.At.Equal(c.at) || r.Text != c.text {
			t.Errorf("%q: %v %q (%v), want %v %q", c.arg, r.At, r.Text, err, c.at, c.text)
		}
	}
}

func TestParseSendAtAndRemindIn(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	for in, want := range map[string]time.Time{
		"2026-12-24T09:00":          time.Date(2026, 12, 24, 9, 0, 0, 0, paris),
		"2026-12-24T09:00:30":       time.Date(2026, 12, 24, 9, 0, 30, 0, paris),
		"2026-12-24T09:00:00Z":      time.Date(2026, 12, 24, 9, 0, 0, 0, time.UTC),
		"2026-12-24T09:00:00-05:00": time.Date(2026, 12, 24, 14, 0, 0, 0, time.UTC),
	} {
		if got, err := ParseSendAt(in, paris); err != nil || !got.Equal(want) {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "tomorrow", "2026-12-24", "24/12/2026 09:00", "2026-13-01T00:00", strings.Repeat("9", 500)} {
		if _, err := ParseSendAt(in, paris); ErrorCode(err) != EInvalid {
			t.Errorf("%q: %v", in, err)
		}
	}
	now := time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"20m": now.Add(20 * time.Minute), "1h": now.Add(time.Hour), "3h": now.Add(3 * time.Hour),
		"tomorrow": time.Date(2026, 12, 8, 9, 0, 0, 0, paris),
	} {
		if got, err := RemindIn(in, now, paris); err != nil || !got.Equal(want) {
			t.Errorf("in %q: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"", "never", "-1h", "400d", "20m to x"} {
		if _, err := RemindIn(in, now, paris); ErrorCode(err) != EInvalid {
			t.Errorf("in %q: %v", in, err)
		}
	}
}
