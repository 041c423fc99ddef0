package chat

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseSearch(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no zone database:", err)
	}
	day := func(s string) time.Time { d, _ := time.ParseInLocation(time.DateOnly, s, paris); return d }
	for _, tc := range []struct {
		text string
		want SearchQuery
	}{
		{`plan ready`, SearchQuery{Words: []string{"plan", "ready"}, Prefix: true}},
		{`"release plan" ready -draft -"old plan"`, SearchQuery{Words: []string{"ready"},
			Phrases: [][]string{{"release", "plan"}}, Exclude: [][]string{{"draft"}, {"old", "plan"}}}},
		{`"unclosed quote`, SearchQuery{Words: []string{"unclosed", "quote"}, Prefix: true}},
		{`from:@Ann in:#General in:@bob has:FILE is:saved`, SearchQuery{From: []string{"ann"}, InRooms: []string{"general"},
			InDMs: []string{"bob"}, Has: []string{"file"}, Is: []string{"saved"}}},
		{`on:2026-03-29 x`, SearchQuery{Words: []string{"x"}, Prefix: true, After: day("2026-03-29"), Before: day("2026-03-30")}},
		{`after:2026-01-01 before:2026-02-01 after:2025-01-01`, SearchQuery{After: day("2026-01-02"), Before: day("2026-02-01")}},
		{`body:plan NEAR(a b) x*`, SearchQuery{Words: []string{"body", "plan", "NEAR", "a", "b", "x"}, Prefix: true, Unknown: []string{`"body:"`}}},
		{`see https://example.com/x note: 10:30`, SearchQuery{Words: []string{"see", "https", "example", "com", "x", "note", "10", "30"}, Prefix: true}},
		{`- "" -"" -`, SearchQuery{}},
	} {
		got, err := ParseSearch(tc.text, paris)
		if err != nil {
			t.Errorf("%q: %v", tc.text, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.text, got, tc.want)
		}
	}
	for _, text := range []string{`from:`, `from:a/b`, `in:#`, `in:@`, `has:video`, `is:unread`, `before:2026-1-1`, `on:today`, `after:2026-02-30`} {
		if text == `from:` || text == `in:#` || text == `in:@` {
			// "from:" alone is a word; "in:#" and "in:@" name nothing.
			if q, err := ParseSearch(text, paris); text != `from:` && ErrorCode(err) != EInvalid {
				t.Errorf("%q: %+v, %v; want an error", text, q, err)
			}
			continue
		}
		if _, err := ParseSearch(text, paris); ErrorCode(err) != EInvalid || !strings.Contains(ErrorMessage(err), strings.Split(text, ":")[0]+":") {
			t.Errorf("%q: %v, want an error naming the filter", text, err)
		}
	}
	q, _ := ParseSearch(strings.Repeat("word ", 100), nil)
	if len(q.Words) != maxSearchWords {
		t.Errorf("%d words kept, want %d", len(q.Words), maxSearchWords)
	}
}
