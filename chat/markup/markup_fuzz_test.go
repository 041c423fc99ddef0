package markup

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse: whatever the body, Parse does not panic, its spans only ever
// hold pieces of the body (never a rune cut in half), links point to http(s)
// and mentions name a username in lower case. views.FuzzMessageBody checks
// the HTML made of the spans.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"hello", "**bold** _em_ `code` @ann https://example.com/a_(b)?c=d#e",
		"```go\nfmt.Println(1)\n```\nafter", "``` unclosed\n**x", "a_b_c __x__ **_y_** `` ` ``",
		"@@ann @a @Ann-B_c. http://x https:// HTTP://Y.example/\u00e9", "**\n**", "_\u00a0_x_",
		"\xff\xfe**\xc3", "```\n```\n```", "*" + strings.Repeat("_*`", 40),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		valid := utf8.ValidString(body)
		var check func(spans []Span, depth int)
		check = func(spans []Span, depth int) {
			for _, s := range spans {
				if !strings.Contains(body, s.Text) {
					t.Fatalf("Parse(%q) made a span %q that is not in the body", body, s.Text)
				}
				if valid && !utf8.ValidString(s.Text) {
					t.Fatalf("Parse(%q) cut a rune: %q", body, s.Text)
				}
				switch s.Kind {
				case Link:
					lower := strings.ToLower(s.Arg)
					if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
						t.Fatalf("Parse(%q) made a link to %q", body, s.Arg)
					}
				case Mention:
					if s.Arg == "" || s.Arg != strings.ToLower(s.Arg) || !strings.EqualFold(s.Text, "@"+s.Arg) {
						t.Fatalf("Parse(%q) made a mention %q of %q", body, s.Text, s.Arg)
					}
				case Strong, Em:
					if depth > 0 {
						t.Fatalf("Parse(%q) nested bold or italic", body)
					}
					check(s.Kids, depth+1)
					continue
				}
				if len(s.Kids) > 0 {
					t.Fatalf("Parse(%q) gave kids to a span of kind %d", body, s.Kind)
				}
			}
		}
		check(Parse(body), 0)
		for _, name := range Mentions(body) {
			if !strings.Contains(strings.ToLower(body), "@"+name) {
				t.Fatalf("Mentions(%q) names %q, who is not in it", body, name)
			}
		}
	})
}
