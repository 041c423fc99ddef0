package views

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"agora/chat"
	"agora/chat/markup"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// linkAttrs are the attributes after a link's href.
const linkAttrs = ` rel="nofollow noopener noreferrer" target="_blank"`

func link(href, text string) string {
	return `<a href="` + href + `"` + linkAttrs + `>` + text + `</a>`
}

func mention(user, text string) string {
	return `<span class="mention" data-user="` + user + `">` + text + `</span>`
}

func renderBody(t testing.TB, body string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := messageBody(body).Render(context.Background(), &buf); err != nil {
		t.Fatalf("render %q: %v", body, err)
	}
	return buf.String()
}

// formatCases are what each kind of span renders as.
var formatCases = []struct {
	name, body, want string
}{
	// Each element once, and escaping (chat/markup tests the syntax).
	{"plain", "hello world", "hello world"},
	{"escaped", `a < b && c > "d" 'e'`, `a &lt; b &amp;&amp; c &gt; &#34;d&#34; &#39;e&#39;`},
	{"entities stay text", "&lt;b&gt; &amp;", "&amp;lt;b&amp;gt; &amp;amp;"},
	{"newlines kept", "a\nb\n\nc", "a\nb\n\nc"},
	{"link", "see https://example.com/x?a=1&b=2.", "see " + link("https://example.com/x?a=1&amp;b=2", "https://example.com/x?a=1&amp;b=2") + "."},
	{"mention", "hi @Bob-Smith!", "hi " + mention("bob-smith", "@Bob-Smith") + "!"},

	// Bold.
	{"bold", "**hi** there", "<strong>hi</strong> there"},
	{"link in bold", "**see https://x.example/a**", "<strong>see " + link("https://x.example/a", "https://x.example/a") + "</strong>"},
	{"mention in bold", "**@ann** look", "<strong>" + mention("ann", "@ann") + "</strong> look"},

	// Italic.
	{"italic", "_hi_ there", "<em>hi</em> there"},

	// Code.
	{"code", "run `go test ./...` now", "run <code>go test ./...</code> now"},
	{"nothing formatted in code", "`**b** _i_ @bob https://x.example`", "<code>**b** _i_ @bob https://x.example</code>"},

	// Fenced blocks.
	{"block", "```\ncode\n```", "<pre><code>code</code></pre>"},
	{"block with a language", "```go\nfmt.Println(\"**hi** @bob\")\n```", `<pre data-lang="go"><code>fmt.Println(&#34;**hi** @bob&#34;)</code></pre>`},
	{"block between text", "before\n```\nx\n  y\n```\nafter", "before<pre><code>x\n  y</code></pre>after"},

	// Strikethrough.
	{"strike", "~~old~~ new", "<s>old</s> new"},
	{"strike with a link", "~~see https://x.example/a~~", "<s>see " + link("https://x.example/a", "https://x.example/a") + "</s>"},
	{"strike after a space", "~~ a~~ and ~~b ~~ and ~x~", "~~ a~~ and ~~b ~~ and ~x~"},
	{"bold in strike stays text", "~~**a**~~", "<s>**a**</s>"},
	{"strike across lines", "~~a\nb~~", "~~a\nb~~"},

	// Quotes.
	{"quote", "> to be\n> or not", "<blockquote>to be\nor not</blockquote>"},
	{"quote between text", "she said\n> **no**\nand left", "she said<blockquote><strong>no</strong></blockquote>and left"},
	{"quote with an empty line", "> a\n>\n> @bob", "<blockquote>a\n\n" + mention("bob", "@bob") + "</blockquote>"},
	{"no quote without a space", ">_<\n>>", "&gt;_&lt;\n&gt;&gt;"},
	{"quote in the middle of a line is text", "a > b", "a &gt; b"},

	// Lists.
	{"bullets", "- milk\n- **eggs**\n- ~~ham~~", "<ul><li>milk</li><li><strong>eggs</strong></li><li><s>ham</s></li></ul>"},
	{"numbers", "1. one\n2. two", "<ol><li>one</li><li>two</li></ol>"},
	{"numbers from three", "3. three\n4. four", `<ol start="3"><li>three</li><li>four</li></ol>`},
	{"list between text", "todo:\n- a\n- b\ndone", "todo:<ul><li>a</li><li>b</li></ul>done"},
	{"bullets then numbers", "- a\n1. b", "<ul><li>a</li></ul><ol><li>b</li></ol>"},
	{"no item without text", "- \n-x\n1.x\n2020. a year", "- \n-x\n1.x<ol start=\"2020\"><li>a year</li></ol>"},
	{"too long a number", "1234567890. x", "1234567890. x"},
	{"a quoted list stays text", "> - a", "<blockquote>- a</blockquote>"},

	// Unicode.
	{"unicode", "héllo **wörld** 日本語 👋 _ok_ @zoe 🎉", "héllo <strong>wörld</strong> 日本語 👋 <em>ok</em> " + mention("zoe", "@zoe") + " 🎉"},
}

func TestMessageBodyFormats(t *testing.T) {
	for _, c := range formatCases {
		t.Run(c.name, func(t *testing.T) {
			got := renderBody(t, c.body)
			if got != c.want {
				t.Errorf("messageBody(%q)\n got %s\nwant %s", c.body, got, c.want)
			}
			if problems := inertProblems(got); len(problems) > 0 {
				t.Errorf("messageBody(%q) = %s:\n%s", c.body, got, strings.Join(problems, "\n"))
			}
		})
	}
}

// Validation turns CRLF into LF before a body is stored, so fences written on
// Windows work.
func TestMessageBodyAfterValidation(t *testing.T) {
	body, err := chat.ValidateBody("```\r\nx := 1\r\n```\r\n**done**\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := renderBody(t, body), "<pre><code>x := 1</code></pre><strong>done</strong>"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// A body of the 4,000 characters validation allows, formatted throughout.
func TestLongBody(t *testing.T) {
	unit := "**bold** _it_ `code` @user https://x.example/p 日本 "
	body := strings.Repeat(unit, chat.MaxBodyChars/utf8.RuneCountInString(unit))
	body += strings.Repeat("x", chat.MaxBodyChars-utf8.RuneCountInString(body))
	if n := utf8.RuneCountInString(body); n != chat.MaxBodyChars {
		t.Fatalf("body of %d characters", n)
	}
	units := strings.Count(body, unit)
	got := renderBody(t, body)
	for _, tag := range []string{"<strong>", "<em>", "<code>", "<a ", `<span class="mention"`} {
		if n := strings.Count(got, tag); n != units {
			t.Errorf("%d %s, want %d", n, tag, units)
		}
	}
	if problems := inertProblems(got); len(problems) > 0 {
		t.Error(strings.Join(problems, "\n"))
	}
	if got, want := markup.Mentions(body), []string{"user"}; !slices.Equal(got, want) {
		t.Errorf("Mentions = %q, want %q", got, want)
	}

	// Bodies built to make a careless parser search again and again still
	// render, and markers that never close stay text.
	for _, c := range []struct {
		unit     string
		asTyped  bool // nothing closes: the text is the body
		elements int  // how many elements it makes
	}{
		{"**a ", true, 0},
		{"_a ", true, 0},
		{"a_ ", true, 0},
		{"` `` ", false, 533},
		{"**x _y `z ", false, 200},
		{"https://x.example/**_ ", false, 271},
	} {
		body := strings.Repeat(c.unit, chat.MaxBodyChars/len(c.unit))
		got := renderBody(t, body)
		if problems := inertProblems(got); len(problems) > 0 {
			t.Errorf("%q: %s", c.unit, strings.Join(problems, "\n"))
		}
		if text := textContent(t, got); c.asTyped && text != body {
			t.Errorf("%q×n: text changed", c.unit)
		}
		if n := strings.Count(got, "</"); n != c.elements {
			t.Errorf("%q×n: %d elements, want %d", c.unit, n, c.elements)
		}
	}
}

// hostileBodies must render as the user's text and nothing else.
var hostileBodies = []struct {
	body string
	text string // the text content of the rendered HTML
	tags string // the elements it makes, in document order
}{
	{`<script>alert(1)</script>`, `<script>alert(1)</script>`, ""},
	{`**<img src=x onerror=alert(1)>**`, `<img src=x onerror=alert(1)>`, "strong"},
	{`[x](javascript:alert(1))`, `[x](javascript:alert(1))`, ""},
	{"`<b>`", `<b>`, "code"},
	{"```\n</code></pre><script>x</script>\n```", `</code></pre><script>x</script>`, "pre code"},
	{`_<a href="javascript:alert(1)">x</a>_`, `<a href="javascript:alert(1)">x</a>`, "em"},
	{`https://a.example/"onmouseover="x`, `https://a.example/"onmouseover="x`, "a"},
	{`<div hx-get="/logout" hx-trigger="load">`, `<div hx-get="/logout" hx-trigger="load">`, ""},
	{`<p id="composer" hx-swap-oob="true">hijack</p>`, `<p id="composer" hx-swap-oob="true">hijack</p>`, ""},
	{`"><svg onload=alert(1)>`, `"><svg onload=alert(1)>`, ""},
	{`<style>body{display:none}</style>`, `<style>body{display:none}</style>`, ""},
	{`<!-- x --> <![CDATA[ y ]]> &lt;b&gt;`, `<!-- x --> <![CDATA[ y ]]> &lt;b&gt;`, ""},
	{`**https://a.example/"onmouseover="x**`, `https://a.example/"onmouseover="x`, "strong a"},
	{`_https://a.example/'onclick='x_`, `https://a.example/'onclick='x`, "em a"},
	{"`https://a.example/` **`</code><script>`**", "https://a.example/ </code><script>", "code strong code"},
	{`@ann"onclick="alert(1) @<script>`, `@ann"onclick="alert(1) @<script>`, "span"},
	{`https://a.example/<script>alert(1)</script>`, `https://a.example/<script>alert(1)</script>`, "a"},
	{`http://a.example/?q=<x>&r="y"`, `http://a.example/?q=<x>&r="y"`, "a"},
	{"```html\n<pre><code>**x**</code></pre>\n```\n**</strong><em>**", "<pre><code>**x**</code></pre></strong><em>", "pre code strong"},
	{"_</em><i>_ **</strong>** `</code>`", "</em><i> </strong> </code>", "em strong code"},
	{"```\n```\n<textarea>\n```\n</textarea>", "<textarea>\n```\n</textarea>", "pre code"},
}

func TestHostileBodiesRenderInert(t *testing.T) {
	for _, c := range hostileBodies {
		got := renderBody(t, c.body)
		if problems := inertProblems(got); len(problems) > 0 {
			t.Errorf("messageBody(%q) = %s:\n%s", c.body, got, strings.Join(problems, "\n"))
		}
		if text := textContent(t, got); text != c.text {
			t.Errorf("messageBody(%q) reads %q, want %q", c.body, text, c.text)
		}
		if tags := tagList(t, got); tags != c.tags {
			t.Errorf("messageBody(%q) makes %q, want %q", c.body, tags, c.tags)
		}
	}
}

// FuzzMessageBody renders any valid body and checks that it made only our
// elements and attributes, kept the user's text, and invented nothing.
func FuzzMessageBody(f *testing.F) {
	for _, c := range formatCases {
		f.Add(c.body)
	}
	for _, c := range hostileBodies {
		f.Add(c.body)
	}
	f.Add("`\r`\n")
	f.Add("**a _b_ `c` @dd https://e.example/f_(g)**\n```x\n**\n```\n_h **i**_ \r\n `` ` `` \u00a0_j_\u00a0")
	f.Fuzz(func(t *testing.T, body string) {
		// What validation lets through: valid UTF-8 without NUL.
		if !utf8.ValidString(body) || strings.ContainsRune(body, 0) {
			t.Skip()
		}
		got := renderBody(t, body)
		if !utf8.ValidString(got) {
			t.Fatalf("messageBody(%q) is not UTF-8: %q", body, got)
		}
		nodes := parseFragment(t, got)
		if problems := nodeProblems(nodes); len(problems) > 0 {
			t.Fatalf("messageBody(%q) = %s:\n%s", body, got, strings.Join(problems, "\n"))
		}

		// The HTML is as an HTML parser reads it: nothing was closed,
		// reopened or moved by the parser.
		if !strings.Contains(body, "\r") {
			var again strings.Builder
			for _, n := range nodes {
				if err := html.Render(&again, n); err != nil {
					t.Fatal(err)
				}
			}
			if again.String() != got {
				t.Fatalf("messageBody(%q) = %s\nreads back as %s", body, got, again.String())
			}
		}

		// The text shown is the text of the spans, and the spans only
		// ever drop characters of the body (markers, fences). An HTML
		// parser reads CR and CRLF as LF; each span's text is between
		// tags, so a CR ending one is not read with an LF starting the next.
		parser := strings.NewReplacer("\r\n", "\n", "\r", "\n")
		text := nodesText(nodes)
		var want strings.Builder
		var spanText func([]markup.Span)
		spanText = func(spans []markup.Span) {
			for _, s := range spans {
				want.WriteString(parser.Replace(s.Text))
				spanText(s.Kids)
			}
		}
		spanText(markup.Parse(body))
		if text != want.String() {
			t.Fatalf("messageBody(%q) reads %q, want %q", body, text, want.String())
		}
		if !subsequence(text, parser.Replace(body)) {
			t.Fatalf("messageBody(%q) reads %q: not taken from the body", body, text)
		}
		if !strings.ContainsAny(body, "*_`~>") && !listLineRE.MatchString(body) && text != parser.Replace(body) {
			t.Fatalf("messageBody(%q) reads %q, want the body as is", body, text)
		}

		// Mentions are the mentions rendered.
		var users []string
		for n := range allNodes(nodes) {
			if n.Type == html.ElementNode && n.Data == "span" && !slices.Contains(users, attr(n, "data-user")) {
				users = append(users, attr(n, "data-user"))
			}
		}
		slices.Sort(users)
		mentions := slices.Sorted(slices.Values(markup.Mentions(body)))
		if !slices.Equal(users, mentions) {
			t.Fatalf("markup.Mentions(%q) = %q, but it renders mentions of %q", body, mentions, users)
		}
	})
}

// listLineRE finds a line that may be a list item, whose marker is not shown.
var listLineRE = regexp.MustCompile(`(?m)^(-|[0-9]+\.) `)

func subsequence(sub, s string) bool {
	for _, r := range sub {
		i := strings.IndexRune(s, r)
		if i < 0 {
			return false
		}
		s = s[i+utf8.RuneLen(r):]
	}
	return true
}

func parseFragment(t testing.TB, s string) []*html.Node {
	t.Helper()
	nodes, err := html.ParseFragment(strings.NewReader(s), &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div})
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return nodes
}

func textContent(t testing.TB, s string) string {
	t.Helper()
	return nodesText(parseFragment(t, s))
}

func nodesText(nodes []*html.Node) string {
	var b strings.Builder
	for n := range allNodes(nodes) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
	}
	return b.String()
}

func tagList(t testing.TB, s string) string {
	t.Helper()
	var tags []string
	for n := range allNodes(parseFragment(t, s)) {
		if n.Type == html.ElementNode {
			tags = append(tags, n.Data)
		}
	}
	return strings.Join(tags, " ")
}

// allNodes yields each of nodes and the nodes under it, in document order.
func allNodes(nodes []*html.Node) iter.Seq[*html.Node] {
	return func(yield func(*html.Node) bool) {
		for _, n := range nodes {
			if !yield(n) {
				return
			}
			for d := range n.Descendants() {
				if !yield(d) {
					return
				}
			}
		}
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

var usernameRE = regexp.MustCompile(`^[a-z0-9_-]{2,32}$`)

// allowedParents lists, for each element a body may make, where it may be.
var allowedParents = map[string][]string{
	"a":          {"", "strong", "em", "s", "blockquote", "li"},
	"span":       {"", "strong", "em", "s", "blockquote", "li"},
	"code":       {"", "strong", "em", "s", "pre", "blockquote", "li"},
	"strong":     {"", "blockquote", "li"},
	"em":         {"", "blockquote", "li"},
	"s":          {"", "blockquote", "li"},
	"pre":        {""},
	"blockquote": {""},
	"ul":         {""},
	"ol":         {""},
	"li":         {"ul", "ol"},
}

var (
	langRE   = regexp.MustCompile(`^[A-Za-z0-9_+#.-]+$`)
	numberRE = regexp.MustCompile(`^[0-9]{1,9}$`)
)

// inertProblems parses rendered HTML as a browser would inside the message's
// <div> and lists whatever breaks the rules: only a, span, strong, em, code
// and pre; links to http(s) with href, rel and target only; spans of class
// mention with a username; no other attribute, no on* or hx-* attribute, no
// comments.
func inertProblems(rendered string) []string {
	nodes, err := html.ParseFragment(strings.NewReader(rendered), &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div})
	if err != nil {
		return []string{err.Error()}
	}
	return nodeProblems(nodes)
}

func nodeProblems(nodes []*html.Node) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	var check func(n *html.Node, parent string)
	check = func(n *html.Node, parent string) {
		switch n.Type {
		case html.TextNode:
			return
		case html.ElementNode:
		default:
			bad("a node of type %d: %q", n.Type, n.Data)
			return
		}
		parents, ok := allowedParents[n.Data]
		if !ok {
			bad("a <%s> element", n.Data)
		} else if !slices.Contains(parents, parent) {
			bad("a <%s> inside <%s>", n.Data, parent)
		}
		if n.Namespace != "" {
			bad("a <%s> in namespace %s", n.Data, n.Namespace)
		}
		for _, a := range n.Attr {
			key := strings.ToLower(a.Key)
			if strings.HasPrefix(key, "on") || strings.HasPrefix(key, "hx-") || strings.HasPrefix(key, "data-hx-") {
				bad("<%s %s=%q>", n.Data, a.Key, a.Val)
			}
			switch {
			case n.Data == "a" && a.Key == "href":
				if !strings.HasPrefix(a.Val, "http://") && !strings.HasPrefix(a.Val, "https://") {
					bad("a link to %q", a.Val)
				}
			case n.Data == "a" && a.Key == "rel":
				if a.Val != "nofollow noopener noreferrer" {
					bad("a link with rel=%q", a.Val)
				}
			case n.Data == "a" && a.Key == "target":
				if a.Val != "_blank" {
					bad("a link with target=%q", a.Val)
				}
			case n.Data == "span" && a.Key == "class":
				if a.Val != "mention" {
					bad("a span of class %q", a.Val)
				}
			case n.Data == "pre" && a.Key == "data-lang":
				if !langRE.MatchString(a.Val) {
					bad("a code block of language %q", a.Val)
				}
			case n.Data == "ol" && a.Key == "start":
				if !numberRE.MatchString(a.Val) {
					bad("a list from %q", a.Val)
				}
			case n.Data == "span" && a.Key == "data-user":
				if !usernameRE.MatchString(a.Val) {
					bad("a mention of %q", a.Val)
				}
			default:
				bad("<%s %s=%q>", n.Data, a.Key, a.Val)
			}
		}
		if n.Data == "a" && attr(n, "href") == "" {
			bad("a link without href")
		}
		if n.Data == "span" && (attr(n, "class") == "" || attr(n, "data-user") == "") {
			bad("a span that is not a mention: %v", n.Attr)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			check(c, n.Data)
		}
	}
	for _, n := range nodes {
		check(n, "")
	}
	return problems
}
