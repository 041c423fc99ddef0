package markup

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"agora/chat"
)

// show writes spans in a notation close to the HTML views makes of them,
// with the text as it is (escaping is the renderer's business).
func show(spans []Span) string {
	var b strings.Builder
	for _, s := range spans {
		switch s.Kind {
		case Pre:
			b.WriteString("<pre><code>" + s.Text + "</code></pre>")
		case Strong:
			b.WriteString("<strong>" + show(s.Kids) + "</strong>")
		case Em:
			b.WriteString("<em>" + show(s.Kids) + "</em>")
		case Code:
			b.WriteString("<code>" + s.Text + "</code>")
		case Link:
			b.WriteString(link(s.Arg, s.Text))
		case Mention:
			b.WriteString(mention(s.Arg, s.Text))
		default:
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

func link(href, text string) string { return `<a href="` + href + `">` + text + `</a>` }

func mention(user, text string) string { return `<mention ` + user + `>` + text + `</mention>` }

// syntaxCases are bodies and their spans, written as show writes them.
var syntaxCases = []struct {
	name, body, want string
}{
	// Text, links and mentions, as before.
	{"plain", "hello world", "hello world"},
	{"escaping is not its business", `a < b && c > "d" 'e'`, `a < b && c > "d" 'e'`},
	{"entities stay text", "&lt;b&gt; &amp;", "&lt;b&gt; &amp;"},
	{"newlines kept", "a\nb\n\nc", "a\nb\n\nc"},
	{"link", "see https://example.com/x?a=1&b=2.", "see " + link("https://example.com/x?a=1&b=2", "https://example.com/x?a=1&b=2") + "."},
	{"link in parentheses", "(https://example.com/a_(b))", "(" + link("https://example.com/a_(b)", "https://example.com/a_(b)") + ")"},
	{"link upper case", "HTTPS://Example.com/", link("https://Example.com/", "HTTPS://Example.com/")},
	{"not a link", "javascript:alert(1) ftp://x.example http://", "javascript:alert(1) ftp://x.example http://"},
	{"broken URLs are text", "http:///http://a.example _http://%zz/_ https://ok.example", "http:///http://a.example <em>http://%zz/</em> " + link("https://ok.example", "https://ok.example")},
	{"mention", "hi @Bob-Smith!", "hi " + mention("bob-smith", "@Bob-Smith") + "!"},
	{"mention too short", "@a", "@a"},
	{"email is no mention", "ann@example.com", "ann@example.com"},

	// Bold.
	{"bold", "**hi** there", "<strong>hi</strong> there"},
	{"bold in a word", "un**belie**vable", "un<strong>belie</strong>vable"},
	{"two bolds", "**a** and **b**", "<strong>a</strong> and <strong>b</strong>"},
	{"bold with stars around", "***a***", "*<strong>a</strong>*"},
	{"link in bold", "**see https://x.example/a**", "<strong>see " + link("https://x.example/a", "https://x.example/a") + "</strong>"},
	{"mention in bold", "**@ann** look", "<strong>" + mention("ann", "@ann") + "</strong> look"},
	{"code in bold", "**a `**` b**", "<strong>a <code>**</code> b</strong>"},
	{"italic in bold stays text", "**_x_**", "<strong>_x_</strong>"},
	{"bold in a link stays the link", "https://x.example/a**b**", link("https://x.example/a**b", "https://x.example/a**b") + "**"},

	// Italic.
	{"italic", "_hi_ there", "<em>hi</em> there"},
	{"italic in punctuation", "(_hi_).", "(<em>hi</em>)."},
	{"italic of two words", "_ça va_", "<em>ça va</em>"},
	{"italic in guillemets", "«_ça_»", "«<em>ça</em>»"},
	{"snake_case stays text", "snake_case_name and __init__ and a_b_c", "snake_case_name and __init__ and a_b_c"},
	{"italic with underscores inside", "_snake_case_", "<em>snake_case</em>"},
	{"no italic after a letter", "日本_語_", "日本_語_"},
	{"link in italic", "_https://x.example/a_b_", "<em>" + link("https://x.example/a_b", "https://x.example/a_b") + "</em>"},
	{"link with underscore in italic", "_see https://en.example/wiki/Foo_(bar)_", "<em>see " + link("https://en.example/wiki/Foo_(bar)", "https://en.example/wiki/Foo_(bar)") + "</em>"},
	{"mention in italic", "_hi @bob_", "<em>hi " + mention("bob", "@bob") + "</em>"},
	{"bold in italic stays text", "_a **b**_", "<em>a **b**</em>"},

	// Code.
	{"code", "run `go test ./...` now", "run <code>go test ./...</code> now"},
	{"nothing formatted in code", "`**b** _i_ @bob https://x.example`", "<code>**b** _i_ @bob https://x.example</code>"},
	{"double backticks", "``a`b``", "<code>a`b</code>"},
	{"padded backticks", "`` `x` ``", "<code>`x`</code>"},
	{"code of a space", "` `", "<code> </code>"},
	{"triple backticks inline", "```code```", "<code>code</code>"},
	{"code ends at the line", "`a\nb`", "`a\nb`"},

	// Unclosed and empty markers are text.
	{"unclosed bold", "**hi", "**hi"},
	{"closing bold alone", "hi**", "hi**"},
	{"stars alone", "**", "**"},
	{"empty bold", "****", "****"},
	{"bold after a space", "** hi**", "** hi**"},
	{"bold before a space", "**hi **", "**hi **"},
	{"bold across lines", "**a\nb**", "**a\nb**"},
	{"unclosed italic", "_hi", "_hi"},
	{"italic after a space", "_ hi_", "_ hi_"},
	{"empty italic", "__", "__"},
	{"unclosed code", "`hi", "`hi"},
	{"empty code", "``", "``"},
	{"lone backtick", "a ` b", "a ` b"},
	{"mismatched backticks", "``a`", "``a`"},

	// Fenced blocks.
	{"block", "```\ncode\n```", "<pre><code>code</code></pre>"},
	{"block with a language", "```go\nfmt.Println(\"**hi** @bob\")\n```", "<pre><code>fmt.Println(\"**hi** @bob\")</code></pre>"},
	{"block between text", "before\n```\nx\n  y\n```\nafter", "before<pre><code>x\n  y</code></pre>after"},
	{"block keeps blank lines", "```\n\na\n\n```", "<pre><code>\na\n</code></pre>"},
	{"empty block", "```\n```", "<pre><code></code></pre>"},
	{"two blocks", "```\na\n```\n```\nb\n```", "<pre><code>a</code></pre><pre><code>b</code></pre>"},
	{"fences with blanks after", "```  \nx\n``` \t", "<pre><code>x</code></pre>"},
	{"unclosed block", "```\ncode **b**", "```\ncode <strong>b</strong>"},
	{"nested fence", "```\n```go\nx\n```\n```", "<pre><code>```go\nx</code></pre>```"},
	{"fence with words is no fence", "```go run\nx\n```", "```go run\nx\n```"},
	{"indented fence is no fence", " ```\nx\n ```", " ```\nx\n ```"},
	{"language only opens", "```\nx\n```go\ny", "```\nx\n```go\ny"},
	{"mention in a block", "```\n@bob\n```\n@ann", "<pre><code>@bob</code></pre>" + mention("ann", "@ann")},

	// Unicode.
	{"unicode", "héllo **wörld** 日本語 👋 _ok_ @zoe 🎉", "héllo <strong>wörld</strong> 日本語 👋 <em>ok</em> " + mention("zoe", "@zoe") + " 🎉"},
	{"emoji before a mention", "👋@ann", "👋" + mention("ann", "@ann")},
}

func TestParse(t *testing.T) {
	for _, c := range syntaxCases {
		t.Run(c.name, func(t *testing.T) {
			if got := show(Parse(c.body)); got != c.want {
				t.Errorf("Parse(%q)\n got %s\nwant %s", c.body, got, c.want)
			}
		})
	}
}

// Bold text never holds a literal "**".
func TestBoldHoldsNoLiteralStars(t *testing.T) {
	for in, want := range map[string]string{
		"**a ** b**":    "**a ** b**",
		"**a **b** c**": "**a <strong>b</strong> c**",
		"**bold**":      "<strong>bold</strong>",
		"**x****":       "<strong>x</strong>**",
		"**a*b**":       "<strong>a*b</strong>",
		"**a **":        "**a **",
	} {
		spans := Parse(in)
		if got := show(spans); got != want {
			t.Errorf("%q parses as %q, want %q", in, got, want)
		}
		for _, s := range spans {
			if s.Kind == Strong && strings.Contains(show(s.Kids), "**") {
				t.Errorf("%q: bold text holds a literal **: %q", in, show(s.Kids))
			}
		}
	}
}

func TestMentions(t *testing.T) {
	for _, c := range []struct {
		body string
		want []string
	}{
		{"no mentions", nil},
		{"mail ann@example.com", nil},
		{"hi @Ann and @bob, @ann again", []string{"ann", "bob"}},
		{"`@carl` and @dan", []string{"dan"}},
		{"``x @carl``", nil},
		{"```\n@erin\n```\n@fay", []string{"fay"}},
		{"```go\n@erin\n```", nil},
		{"**@gus** _@hal_ and _hi @ivy_", []string{"gus", "hal", "ivy"}},
		{"**`@jo`**", nil},
		{"```\n@unclosed", []string{"unclosed"}},
		{"@bob_", []string{"bob_"}},
	} {
		if got := Mentions(c.body); !slices.Equal(got, c.want) {
			t.Errorf("Mentions(%q) = %q, want %q", c.body, got, c.want)
		}
		if got := MentionsIn(Parse(c.body)); !slices.Equal(got, c.want) {
			t.Errorf("MentionsIn(Parse(%q)) = %q, want %q", c.body, got, c.want)
		}
	}
}

// A message is parsed once: Message fills its spans and mentions from one
// parse, and a message parsed already (as one is when it is sent) comes
// back as it is, however its body reads.
func TestMessageIsParsedOnce(t *testing.T) {
	m := Message(chat.Message{Kind: chat.MessageText, Body: "**hi** @Ann and @bob"})
	if got, want := show(m.Spans), "<strong>hi</strong> "+mention("ann", "@Ann")+" and "+mention("bob", "@bob"); got != want {
		t.Errorf("spans %s, want %s", got, want)
	}
	if !slices.Equal(m.Mentions, []string{"ann", "bob"}) {
		t.Errorf("mentions %q, want ann and bob", m.Mentions)
	}
	again := m
	again.Body = "@carl"
	again = Message(again)
	if &again.Spans[0] != &m.Spans[0] || !slices.Equal(again.Mentions, []string{"ann", "bob"}) {
		t.Errorf("a parsed message was parsed again: %s, %q", show(again.Spans), again.Mentions)
	}
	if m := Message(chat.Message{Kind: chat.MessageText}); m.Spans == nil || len(m.Spans) != 0 || m.Mentions != nil {
		t.Errorf("an empty body parses as %#v, %q: want no spans, marked parsed", m.Spans, m.Mentions)
	}
	if n := Message(chat.Message{Kind: chat.MessageNotice, Body: "**ann** joined @bob"}); n.Spans != nil || n.Mentions != nil {
		t.Errorf("a notice was parsed: %s, %q", show(n.Spans), n.Mentions)
	}
}

func BenchmarkParse(b *testing.B) {
	for _, c := range []struct{ name, body string }{
		{"plain", "see you at the standup tomorrow, I will bring the numbers from last week"},
		{"typical", "@bob the build notes are at https://example.com/notes/build?id=42 please review them before 5pm <3"},
		{"formatted", "**heads up** _everyone_: run `make test` before pushing, see https://example.com/ci and ping @ann\n```\ngo test ./...\n```"},
		{"unclosed stars", strings.Repeat("**a ", 1000)},
		{"unclosed underscores", strings.Repeat("_a ", 1333)},
		{"backtick runs", strings.Repeat("`` ` ", 800)},
		{"fences", strings.Repeat("```go\n", 666)},
		{"bad links", strings.Repeat("http:///", 500)},
		{"bold bad links", "**" + strings.Repeat("http://x.example/%zz", 200)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Parse(c.body)
			}
		})
	}
}

// A message read back says which of its mentions were groups: those are
// marked wherever they stand, in bold or a list item too, and nothing else.
func TestGroupMentionsAreMarkedFromTheMessage(t *testing.T) {
	m := Message(chat.Message{Kind: chat.MessageText, Body: "@design and **@Design** and @bob\n- `@design` @design",
		Groups: []string{"design"}})
	var kinds []string
	var walk func([]Span)
	walk = func(spans []Span) {
		for _, s := range spans {
			switch s.Kind {
			case Mention:
				kinds = append(kinds, "user:"+s.Arg)
			case GroupMention:
				kinds = append(kinds, "group:"+s.Arg)
			}
			walk(s.Kids)
		}
	}
	walk(m.Spans)
	if got, want := strings.Join(kinds, " "), "group:design group:design user:bob group:design"; got != want {
		t.Errorf("mentions %q, want %q", got, want)
	}
	if got := strings.Join(m.Mentions, " "); got != "design bob" {
		t.Errorf("Mentions = %q: a group is mentioned by name like a user", got)
	}
}

// Custom emoji are marked in text, bold and lists, never in code, and the
// spans given are not changed (a render shares them).
func TestMarkEmoji(t *testing.T) {
	spans := Parse("a :parrot::x: **:parrot:** `:parrot:` :nope:\n- :parrot:")
	before := fmt.Sprint(spans)
	got := MarkEmoji(spans, []string{"parrot"})
	if fmt.Sprint(spans) != before {
		t.Fatal("MarkEmoji changed the spans it was given")
	}
	var n int
	var walk func([]Span)
	walk = func(ss []Span) {
		for _, s := range ss {
			if s.Kind == CustomEmoji {
				if s.Arg != "parrot" || s.Text != ":parrot:" {
					t.Errorf("span %+v", s)
				}
				n++
			}
			if s.Kind == Code && s.Text != ":parrot:" {
				t.Errorf("code %+v", s)
			}
			walk(s.Kids)
		}
	}
	walk(got)
	if n != 3 {
		t.Errorf("%d custom emoji marked, want 3: %+v", n, got)
	}
	if same := MarkEmoji(spans, nil); fmt.Sprint(same) != before {
		t.Error("no emoji: the spans changed")
	}
}
