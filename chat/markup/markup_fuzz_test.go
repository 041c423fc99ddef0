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
		"> quoted **bold**\n>\n> @ann\nafter", "- one\n- ~~two~~\n1. three\n2. four", "~~a~~ ~~ b~~ ~~~x~~",
		"```go \ncode\n```", ">no\n-no\n1.no\n- \n12345678901. x", "\n> a\r\n- b\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		valid := utf8.ValidString(body)
		var check func(spans []Span, depth int)
		block := false // checking the content of a quote or an item
		checkIn := func(spans []Span, inBlock bool) {
			block = inBlock
			check(spans, 0)
			block = false
		}
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
				case Strong, Em, Strike:
					if depth > 0 {
						t.Fatalf("Parse(%q) nested bold, italic or strikethrough", body)
					}
					check(s.Kids, depth+1)
					continue
				case Quote, Bullets, Numbers:
					if depth != 0 || block {
						t.Fatalf("Parse(%q) made a block inside something", body)
					}
					if s.Kind == Numbers && (s.Arg == "" || strings.Trim(s.Arg, "0123456789") != "") {
						t.Fatalf("Parse(%q) numbered a list from %q", body, s.Arg)
					}
					for _, k := range s.Kids {
						if (k.Kind == Item) != (s.Kind != Quote) {
							t.Fatalf("Parse(%q) put a span of kind %d in a block of kind %d", body, k.Kind, s.Kind)
						}
					}
					if s.Kind == Quote {
						checkIn(s.Kids, true)
					} else {
						for _, k := range s.Kids {
							checkIn(k.Kids, true)
						}
					}
					continue
				case Item:
					t.Fatalf("Parse(%q) made an item outside a list", body)
				case Pre:
					if strings.ContainsAny(s.Arg, " \t\n\r<>\"'&") {
						t.Fatalf("Parse(%q) made a code block of language %q", body, s.Arg)
					}
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
