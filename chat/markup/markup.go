// Package markup is agora's small message syntax: it splits a body into
// spans (text, links, mentions, code, bold, italic, blocks) and finds the
// users a body mentions. It decides nothing about HTML: views renders the
// spans, and handlers store the mentions.
package markup

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"agora/chat"
)

// A message body is formatted with a small chat syntax of our own:
//
//	**bold**      <strong>, may contain links, mentions and code
//	_italic_      <em>, at word boundaries only (snake_case_names stay text)
//	~~struck~~    <s>, like bold
//	`code`        <code>; a run of N backticks closes at the next run of N
//	```lang       a line of three backticks (and an optional language word,
//	...           shown as the block's label) opens a block that a line of
//	```           just ``` closes, shown as <pre><code>
//	> quoted      a run of lines starting "> " (or a lone ">"): <blockquote>
//	- item        a run of lines starting "- ": <ul><li>
//	1. item       a run of lines starting with a number and ". ": <ol><li>,
//	              numbered from the first line's number
//	http(s)://…   a link
//	@name         a mention
//
// Inline markers work within one line, and bold, italic and strikethrough do
// not nest in each other. Quotes and list items hold formatted text (not
// other blocks). Nothing inside code is formatted. A marker without its
// closing partner stays as typed, and so does a fence that no line closes.
//
// The parser only ever produces spans of the user's text; the template
// (body.templ) decides the elements, and all text goes through templ's
// escaping.

// Kind says how one piece of a message body is shown.
type Kind = chat.SpanKind

const (
	Text         Kind = iota
	Link              // Text: as typed; Arg: the href, always http(s)
	Mention           // Text: "@name"; Arg: the lower-case username
	Code              // Text: the code, shown as is
	Strong            // Kids: text, links, mentions and code
	Em                // Kids: text, links, mentions and code
	Pre               // Text: the lines of a fenced block; Arg: its language word, if any
	Strike            // Kids: text, links, mentions and code
	Quote             // Kids: the quoted lines' text, formatted, "\n" between lines
	Bullets           // Kids: Items
	Numbers           // Kids: Items; Arg: the first item's number, as typed
	Item              // Kids: the item's text, formatted
	GroupMention      // Text: "@name"; Arg: the lower-case name of a group (see MarkGroups)
	CustomEmoji       // Text: ":name:"; Arg: the name of a custom emoji (see MarkEmoji)
)

// Span is one piece of a message body (declared in chat, so that a message
// carries its parsed body). The renderer only ever emits text through
// templ's escaping; links are built by us, never copied from HTML.
type Span = chat.Span

// Message returns m with its body parsed, Spans and Mentions from one
// parse, unless it is parsed already: a text message is parsed once when it
// is sent, and the store (its mentions), the renderer and notifications all
// use that. A notice's body is shown as written and is not parsed.
func Message(m chat.Message) chat.Message {
	if m.Kind == chat.MessageNotice {
		return m
	}
	if m.Spans != nil {
		// Its custom emoji are known once the store wrote it, after the
		// parse: marked here, on the way to a render.
		m.Spans = MarkEmoji(m.Spans, m.Emoji)
		return m
	}
	m.Spans = Parse(m.Body)
	m.Mentions = MentionsIn(m.Spans)
	MarkGroups(m.Spans, m.Groups)
	m.Spans = MarkEmoji(m.Spans, m.Emoji)
	return m
}

// MarkEmoji returns spans with the :name: codes of the named custom emoji
// (chat.Message.Emoji) in their text made custom emoji spans; never in code.
// spans is not changed (it may be shared by renders): what changes is
// copied, and spans without a code come back as they are.
func MarkEmoji(spans []Span, names []string) []Span {
	if len(names) == 0 || !hasEmoji(spans, names) {
		return spans
	}
	out := make([]Span, 0, len(spans)+2)
	for _, s := range spans {
		switch s.Kind {
		case Text:
			out = splitEmoji(out, s.Text, names)
		case Strong, Em, Strike, Quote, Bullets, Numbers, Item:
			s.Kids = MarkEmoji(s.Kids, names)
			out = append(out, s)
		default:
			out = append(out, s)
		}
	}
	return out
}

func hasEmoji(spans []Span, names []string) bool {
	for _, s := range spans {
		switch s.Kind {
		case Text:
			if strings.IndexByte(s.Text, ':') >= 0 {
				return true
			}
		case Strong, Em, Strike, Quote, Bullets, Numbers, Item:
			if hasEmoji(s.Kids, names) {
				return true
			}
		}
	}
	return false
}

// splitEmoji appends text to out as text and custom emoji spans.
func splitEmoji(out []Span, text string, names []string) []Span {
	start := 0
	for i := 0; i < len(text); {
		j := strings.IndexByte(text[i:], ':')
		if j < 0 {
			break
		}
		j += i
		k := strings.IndexByte(text[j+1:], ':')
		if k < 0 {
			break
		}
		k += j + 1
		if name := text[j+1 : k]; contains(names, name) {
			if j > start {
				out = append(out, Span{Kind: Text, Text: text[start:j]})
			}
			out = append(out, Span{Kind: CustomEmoji, Text: text[j : k+1], Arg: name})
			start, i = k+1, k+1
			continue
		}
		i = k // the closing colon may open the next code
	}
	if start < len(text) {
		out = append(out, Span{Kind: Text, Text: text[start:]})
	}
	return out
}

// MarkGroups turns the mentions of the named groups (lower-case) into group
// mentions, in place. The parser cannot tell a group from a user by its
// name: the message says which of its mentions were groups when it was
// sent (chat.Message.Groups).
func MarkGroups(spans []Span, groups []string) {
	if len(groups) == 0 {
		return
	}
	for i := range spans {
		if spans[i].Kind == Mention && contains(groups, spans[i].Arg) {
			spans[i].Kind = GroupMention
		}
		MarkGroups(spans[i].Kids, groups)
	}
}

// Parse splits a message body into blocks (fenced code, quotes, lists) and
// the formatted text between them.
func Parse(body string) []Span {
	out := make([]Span, 0, 4)
	text := 0        // start of the text not yet parsed
	closable := true // false once a fence was found to have no closing line
	// block ends the text before a block that starts at pos: the line break
	// before it goes too (the block breaks the line itself).
	block := func(pos int) {
		before := pos
		if before > text {
			before--
		}
		out = parseInline(out, body, text, before, true)
	}
	for pos := 0; pos < len(body); {
		end := lineEnd(body, pos, len(body))
		switch c := body[pos]; {
		case c == '`' && closable && isFence(body[pos:end], true):
			if cs, ce := fenceClose(body, end); cs >= 0 {
				block(pos)
				code := ""
				if cs > end+1 {
					code = body[end+1 : cs-1]
				}
				out = append(out, Span{Kind: Pre, Text: code, Arg: strings.TrimRight(body[pos+3:end], " \t")})
				pos = min(ce+1, len(body)) // and the line break after it
				text = pos
				continue
			}
			// No line closes this fence, so none closes a later one either.
			closable = false
		case c == '>' && quoteLine(body[pos:end]) >= 0:
			block(pos)
			q := Span{Kind: Quote}
			for {
				if n := quoteLine(body[pos:end]); n >= 0 {
					q.Kids = parseInline(q.Kids, body, pos+n, end, true)
				}
				pos = end + 1
				if pos >= len(body) || body[pos] != '>' || quoteLine(body[pos:lineEnd(body, pos, len(body))]) < 0 {
					break
				}
				q.Kids = append(q.Kids, Span{Kind: Text, Text: "\n"})
				end = lineEnd(body, pos, len(body))
			}
			out = append(out, q)
			text = min(pos, len(body))
			continue
		case (c == '-' || c >= '0' && c <= '9') && itemLine(body[pos:end]) > 0:
			block(pos)
			list := Span{Kind: Bullets}
			if c != '-' {
				list.Kind = Numbers
				list.Arg = body[pos : pos+strings.IndexByte(body[pos:end], '.')]
			}
			for {
				n := itemLine(body[pos:end])
				list.Kids = append(list.Kids, Span{Kind: Item, Kids: parseInline(nil, body, pos+n, end, true)})
				pos = end + 1
				if pos >= len(body) {
					break
				}
				next := lineEnd(body, pos, len(body))
				if m := itemLine(body[pos:next]); m <= 0 || (body[pos] == '-') != (c == '-') {
					break
				}
				end = next
			}
			out = append(out, list)
			text = min(pos, len(body))
			continue
		}
		pos = end + 1
	}
	return parseInline(out, body, text, len(body), true)
}

// quoteLine returns where the text of a quoted line starts (after "> ", or
// at the end of a lone ">"), or -1 if line is not quoted.
func quoteLine(line string) int {
	switch {
	case line == ">" || line == ">\r":
		return 1
	case strings.HasPrefix(line, "> "):
		return 2
	}
	return -1
}

// itemLine returns where the text of a list item starts ("- text", or
// "12. text", up to 9 digits), or 0 if line is no item: an item has text.
func itemLine(line string) int {
	n := 0
	if strings.HasPrefix(line, "- ") {
		n = 2
	} else {
		d := 0
		for d < len(line) && d < 10 && line[d] >= '0' && line[d] <= '9' {
			d++
		}
		if d == 0 || d > 9 || !strings.HasPrefix(line[d:], ". ") {
			return 0
		}
		n = d + 2
	}
	if strings.TrimSpace(line[n:]) == "" {
		return 0
	}
	return n
}

// lineEnd returns the index of the first '\n' at or after i, or end.
func lineEnd(s string, i, end int) int {
	if n := strings.IndexByte(s[i:end], '\n'); n >= 0 {
		return i + n
	}
	return end
}

// isFence reports whether line is a code fence: ``` alone, or for an opening
// fence ``` followed by a language word. Trailing blanks are allowed.
func isFence(line string, opening bool) bool {
	line = strings.TrimRight(line, " \t")
	if !strings.HasPrefix(line, "```") {
		return false
	}
	lang := line[3:]
	if lang == "" {
		return true
	}
	if !opening {
		return false
	}
	for i := 0; i < len(lang); i++ {
		c := lang[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_-+#.", c) >= 0) {
			return false
		}
	}
	return true
}

// fenceClose finds the line that closes a fence whose opening line ends at
// from (the index of its '\n'): it returns that line's start and end, or -1.
func fenceClose(s string, from int) (int, int) {
	if from >= len(s) {
		return -1, -1
	}
	for pos := from + 1; pos <= len(s); {
		end := lineEnd(s, pos, len(s))
		if end-pos >= 3 && s[pos] == '`' && isFence(s[pos:end], false) {
			return pos, end
		}
		pos = end + 1
	}
	return -1, -1
}

// parseInline appends the spans of s[start:end] to out. Bold and italic are
// recognised only at the top level (top); their content is parsed again for
// links, mentions and code, so nesting is one level deep.
//
// The work is linear in the length of s: a marker whose closing search fails
// is not searched for again on that line, a successful search moves past the
// closer, and a URL is looked at once, whether it turns out a link or text.
func parseInline(out []Span, s string, start, end int, top bool) []Span {
	text := start
	flush := func(i int) {
		if i > text {
			out = append(out, Span{Kind: Text, Text: s[text:i]})
		}
	}
	boldDead, emDead, strikeDead := -1, -1, -1 // openers before these have no closer on their line
	for i := start; i < end; {
		if !special[s[i]] {
			i++
			continue
		}
		switch c := s[i]; {
		case c == '`':
			n, close := codeSpan(s, i, end)
			if close < 0 {
				i += n // an unmatched run of backticks is text
				continue
			}
			flush(i)
			out = append(out, Span{Kind: Code, Text: codeText(s[i+n : close])})
			i = close + n
			text = i
			continue
		case c == '*' && top && i >= boldDead && boldOpens(s, i, end):
			close, stop := closeBold(s, i+2, end)
			if close < 0 {
				boldDead = stop
				break
			}
			flush(i)
			out = append(out, Span{Kind: Strong, Kids: parseInline(nil, s, i+2, close, false)})
			i = close + 2
			text = i
			continue
		case c == '~' && top && i >= strikeDead && strikeOpens(s, i, end):
			close, stop := closeStrike(s, i+2, end)
			if close < 0 {
				strikeDead = stop
				break
			}
			flush(i)
			out = append(out, Span{Kind: Strike, Kids: parseInline(nil, s, i+2, close, false)})
			i = close + 2
			text = i
			continue
		case c == '_' && top && i >= emDead && emOpens(s, i, start, end):
			close, stop := closeEm(s, i+1, end)
			if close < 0 {
				emDead = stop
				break
			}
			flush(i)
			out = append(out, Span{Kind: Em, Kids: parseInline(nil, s, i+1, close, false)})
			i = close + 1
			text = i
			continue
		case (c == 'h' || c == 'H') && (i == start || wordStart(s, i)):
			n, href := matchLink(s[i:end])
			if n == 0 {
				break
			}
			if href != "" {
				flush(i)
				out = append(out, Span{Kind: Link, Text: s[i : i+n], Arg: href})
				text = i + n
			}
			i += n // a URL that does not parse is text, all of it
			continue
		case c == '@' && (i == start || wordStart(s, i)):
			if n := matchUsername(s[i+1 : end]); n >= 2 {
				flush(i)
				name := s[i+1 : i+1+n]
				out = append(out, Span{Kind: Mention, Text: s[i : i+1+n], Arg: strings.ToLower(name)})
				i += 1 + n
				text = i
				continue
			}
		}
		// Stepping by byte is safe: in UTF-8 no byte of a multi-byte
		// character equals an ASCII byte, and every case above is ASCII.
		i++
	}
	flush(end)
	return out
}

// special marks the bytes at which parseInline may find something.
var special = [256]bool{'`': true, '*': true, '_': true, '~': true, 'h': true, 'H': true, '@': true}

// codeSpan measures the run of backticks at s[i] and finds the run of the
// same length that closes it on the same line: it returns the run's length
// and the closing run's index, or -1.
func codeSpan(s string, i, end int) (n, close int) {
	for i+n < end && s[i+n] == '`' {
		n++
	}
	for j := i + n; j < end; {
		switch s[j] {
		case '\n':
			return n, -1
		case '`':
			k := j
			for k < end && s[k] == '`' {
				k++
			}
			if k-j == n {
				return n, j
			}
			j = k
		default:
			j++
		}
	}
	return n, -1
}

// skipCode returns where scanning resumes after the backticks at s[i]: past
// the code span they open, or past the run if it opens none.
func skipCode(s string, i, end int) int {
	n, close := codeSpan(s, i, end)
	if close < 0 {
		return i + n
	}
	return close + n
}

// codeText drops one space at each end of code that has both, so that code
// can start or end with a backtick; code of only spaces stays as is.
func codeText(code string) string {
	if len(code) >= 2 && code[0] == ' ' && code[len(code)-1] == ' ' && strings.Trim(code, " ") != "" {
		return code[1 : len(code)-1]
	}
	return code
}

// boldOpens reports whether s[i:] opens bold Text: "**" and then a character
// that is neither blank nor another '*'.
func boldOpens(s string, i, end int) bool {
	if i+2 >= end || s[i+1] != '*' || s[i+2] == '*' {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[i+2 : end])
	return !unicode.IsSpace(r)
}

// closeBold returns the index of the "**" closing bold text that starts at
// from, or -1 and where the search stopped (the end of the line, or a "**"
// that cannot close). The first "**" after the opener decides: one after a
// blank closes nothing, and the text is not bold, so bold text never shows a
// literal "**" inside it.
func closeBold(s string, from, end int) (close, stop int) {
	close, stop = findCloser(s, from, end, func(j int) bool {
		return s[j] == '*' && j+1 < end && s[j+1] == '*'
	})
	if close >= 0 && blankBefore(s, close) {
		return -1, close
	}
	return close, stop
}

// strikeOpens reports whether s[i:] opens struck text: "~~" and then a
// character that is neither blank nor another '~'.
func strikeOpens(s string, i, end int) bool {
	if i+2 >= end || s[i+1] != '~' || s[i+2] == '~' {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[i+2 : end])
	return !unicode.IsSpace(r)
}

// closeStrike is closeBold for "~~".
func closeStrike(s string, from, end int) (close, stop int) {
	close, stop = findCloser(s, from, end, func(j int) bool {
		return s[j] == '~' && j+1 < end && s[j+1] == '~'
	})
	if close >= 0 && blankBefore(s, close) {
		return -1, close
	}
	return close, stop
}

// emOpens reports whether the '_' at s[i] opens italic Text: at the start of
// a word, and followed by a character that is neither blank nor '_'.
func emOpens(s string, i, start, end int) bool {
	if i+1 >= end || s[i+1] == '_' || !(i == start || wordStart(s, i)) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[i+1 : end])
	return !unicode.IsSpace(r)
}

// closeEm returns the index of the '_' closing italic text that starts at
// from: one after a non-blank character and at the end of a word. Otherwise
// it returns -1 and where the search stopped.
func closeEm(s string, from, end int) (close, stop int) {
	return findCloser(s, from, end, func(j int) bool {
		return s[j] == '_' && j > from && !blankBefore(s, j) && !wordAt(s, j+1, end)
	})
}

// findCloser scans s[from:end] for the first j where closes(j), and returns
// it; or -1 and where the search stopped (the end of the line). Markers do
// not cross lines, and code spans and links are skipped whole, so a marker
// inside them closes nothing.
func findCloser(s string, from, end int, closes func(j int) bool) (close, stop int) {
	for j := from; j < end; {
		switch c := s[j]; {
		case c == '\n':
			return -1, j
		case c == '`':
			j = skipCode(s, j, end)
			continue
		case closes(j):
			return j, j
		case (c == 'h' || c == 'H') && (j == from || wordStart(s, j)):
			if n := linkLen(s[j:end]); n > 0 {
				j += n
				continue
			}
		}
		j++
	}
	return -1, end
}

// blankBefore reports whether the character before s[i] is white space.
func blankBefore(s string, i int) bool {
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return unicode.IsSpace(r)
}

// wordAt reports whether s[i:end] starts with a word character.
func wordAt(s string, i, end int) bool {
	if i >= end {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[i:end])
	return isWordRune(r)
}

// Mentions returns the lower-case usernames mentioned in body, each once.
// A name inside code is not a mention.
func Mentions(body string) []string {
	if strings.IndexByte(body, '@') < 0 {
		return nil
	}
	return MentionsIn(Parse(body))
}

// MentionsIn returns the lower-case usernames mentioned in spans, each once.
func MentionsIn(spans []Span) []string {
	var names []string
	var add func(spans []Span)
	add = func(spans []Span) {
		for _, s := range spans {
			if s.Kind == Mention && !contains(names, s.Arg) {
				names = append(names, s.Arg)
			}
			add(s.Kids)
		}
	}
	add(spans)
	return names
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// wordStart reports whether position i begins a word: the start of the body or
// after a character that is not a letter, digit or '_'.
func wordStart(s string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return !isWordRune(r)
}

// isWordRune reports whether r is part of a word: a letter, a digit, a
// combining mark or '_'.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

func matchUsername(s string) int {
	n := 0
	for n < len(s) && n < 32 {
		c := s[n]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			n++
			continue
		}
		break
	}
	// A trailing '-' is punctuation ("@bob-"), not part of a name.
	for n > 0 && s[n-1] == '-' {
		n--
	}
	return n
}

// linkLen returns the length of the http(s) URL at the start of s, valid or
// not, or 0.
func linkLen(s string) int {
	n, _ := matchLink(s)
	return n
}

// matchLink returns the length of the http(s) URL at the start of s and the
// href to use, or 0 if s does not start with http:// or https://. Trailing
// punctuation is left out, as people end sentences with it, and a closing
// parenthesis only counts when the URL opened one. The href is "" if the URL
// does not parse or has no host: the caller shows all n bytes as text, so a
// long run of broken URLs is looked at once, not once per "http".
func matchLink(s string) (int, string) {
	if !hasPrefixFold(s, "http://") && !hasPrefixFold(s, "https://") {
		return 0, ""
	}
	n := 0
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		if r <= ' ' || r == '<' || r == '>' || r == '"' || r == '\'' || r == '`' || r == 0x7f || r == utf8.RuneError {
			break
		}
		n += size
	}
	opens, closes := strings.Count(s[:n], "("), strings.Count(s[:n], ")")
	for n > 0 {
		c := s[n-1]
		if strings.IndexByte(".,;:!?*_~", c) >= 0 {
			n--
			continue
		}
		if c == ')' && opens < closes {
			n--
			closes--
			continue
		}
		break
	}
	u, err := url.Parse(s[:n])
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return n, ""
	}
	return n, u.String()
}

// hasPrefixFold reports whether s starts with the lower-case ASCII prefix,
// in any case.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// FirstLink is the href of the first link in spans, in reading order (links
// in bold text and lists included, never in code), or "".
func FirstLink(spans []Span) string {
	for _, s := range spans {
		if s.Kind == Link {
			return s.Arg
		}
		if href := FirstLink(s.Kids); href != "" {
			return href
		}
	}
	return ""
}
