// Package mrkdwn reads what tools post to a Slack incoming webhook (CI,
// Grafana, Alertmanager, anything written against Slack's API) and writes it
// as an agora message body: Slack's mrkdwn becomes agora's markup, and blocks
// and attachments become the text they carry. It makes no HTML: the body
// goes through the one message path and its renderer like any other.
package mrkdwn

import (
	"encoding/json"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Payload is the part of Slack's incoming-webhook JSON that carries text.
// username, icon_emoji and channel are ignored: a hook posts as its own
// account, to its own room, so a payload cannot pass for someone else.
type Payload struct {
	Text        string       `json:"text"`
	Blocks      []Block      `json:"blocks"`
	Attachments []Attachment `json:"attachments"`
}

// Block is one of Slack's layout blocks. Only the parts that carry text are
// read; the rest (images, buttons, inputs) is left out.
type Block struct {
	Type     string       `json:"type"`
	Text     *TextObject  `json:"text"`
	Fields   []TextObject `json:"fields"`
	Elements []Element    `json:"elements"`
}

// TextObject is Slack's {type: mrkdwn|plain_text, text}.
type TextObject struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// Element is an element of a context or rich_text block: a text object, an
// image (its alt text), or a rich-text piece (text, link, emoji, user,
// channel, or a section/list/quote of more).
type Element struct {
	Type     string    `json:"type"`
	Text     string    `json:"text"`
	URL      string    `json:"url"`
	Name     string    `json:"name"`
	AltText  string    `json:"alt_text"`
	UserID   string    `json:"user_id"`
	Range    string    `json:"range"`
	Style    *Style    `json:"style"`
	Elements []Element `json:"elements"`
}

// Style is a rich-text piece's style.
type Style struct {
	Bold   bool `json:"bold"`
	Italic bool `json:"italic"`
	Code   bool `json:"code"`
}

// Attachment is Slack's legacy attachment, still what Alertmanager, Grafana
// and most CI tools send.
type Attachment struct {
	Fallback   string  `json:"fallback"`
	Pretext    string  `json:"pretext"`
	AuthorName string  `json:"author_name"`
	Title      string  `json:"title"`
	TitleLink  string  `json:"title_link"`
	Text       string  `json:"text"`
	Fields     []Field `json:"fields"`
	Blocks     []Block `json:"blocks"`
	Footer     string  `json:"footer"`
}

// Field is an attachment's title and value.
type Field struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// ErrNoText is a payload that carries nothing to show (Slack's "no_text").
var ErrNoText = errors.New("no_text")

// Parse decodes a payload.
func Parse(data []byte) (Payload, error) {
	var p Payload
	if err := json.Unmarshal(data, &p); err != nil {
		return Payload{}, err
	}
	return p, nil
}

// Body is the payload as an agora message body. As in Slack, blocks take the
// place of text when there are any (text is then their notification
// fallback), and attachments follow.
func (p Payload) Body() (string, error) {
	var parts []string
	if len(p.Blocks) > 0 {
		if b := blocks(p.Blocks); b != "" {
			parts = append(parts, b)
		}
	}
	if len(parts) == 0 && strings.TrimSpace(p.Text) != "" {
		parts = append(parts, Convert(p.Text))
	}
	for _, a := range p.Attachments {
		if t := attachment(a); t != "" {
			parts = append(parts, t)
		}
	}
	body := strings.TrimSpace(strings.Join(parts, "\n\n"))
	if body == "" {
		return "", ErrNoText
	}
	return body, nil
}

func blocks(bs []Block) string {
	var lines []string
	for _, b := range bs {
		if t := block(b); t != "" {
			lines = append(lines, t)
		}
	}
	return strings.Join(lines, "\n")
}

func block(b Block) string {
	switch b.Type {
	case "header":
		if b.Text != nil && strings.TrimSpace(b.Text.Text) != "" {
			return bold(plainLine(b.Text.Text))
		}
	case "section":
		var lines []string
		if b.Text != nil {
			lines = append(lines, textObject(*b.Text))
		}
		for _, f := range b.Fields {
			lines = append(lines, textObject(f))
		}
		return strings.TrimSpace(strings.Join(lines, "\n"))
	case "context":
		var parts []string
		for _, e := range b.Elements {
			switch e.Type {
			case "mrkdwn", "plain_text":
				parts = append(parts, textObject(TextObject{Type: e.Type, Text: e.Text}))
			case "image":
				if e.AltText != "" {
					parts = append(parts, plainLine(e.AltText))
				}
			}
		}
		return strings.Join(parts, " · ")
	case "rich_text":
		var b2 strings.Builder
		for _, e := range b.Elements {
			richBlock(&b2, e)
		}
		return strings.TrimSpace(b2.String())
	case "image":
		if b.Text != nil {
			return textObject(*b.Text)
		}
	}
	return "" // divider, actions, input...: nothing to read
}

// richBlock writes a rich_text block's element: a section, a list, a quote
// or a preformatted run of pieces.
func richBlock(b *strings.Builder, e Element) {
	switch e.Type {
	case "rich_text_section":
		richPieces(b, e.Elements)
		b.WriteString("\n")
	case "rich_text_quote":
		var q strings.Builder
		richPieces(&q, e.Elements)
		for line := range strings.Lines(q.String()) {
			b.WriteString("> " + strings.TrimRight(line, "\n") + "\n")
		}
	case "rich_text_preformatted":
		var q strings.Builder
		for _, p := range e.Elements {
			q.WriteString(p.Text) // as typed, inside the fence
		}
		b.WriteString("```\n" + strings.TrimRight(q.String(), "\n") + "\n```\n")
	case "rich_text_list":
		for _, item := range e.Elements {
			b.WriteString("- ")
			richPieces(b, item.Elements)
			b.WriteString("\n")
		}
	}
}

func richPieces(b *strings.Builder, pieces []Element) {
	for _, p := range pieces {
		switch p.Type {
		case "text":
			t := p.Text
			if p.Style != nil {
				switch {
				case p.Style.Code:
					t = "`" + strings.ReplaceAll(t, "`", "'") + "`"
				case p.Style.Bold:
					t = bold(t)
				case p.Style.Italic:
					t = "_" + t + "_"
				}
			}
			b.WriteString(t)
		case "link":
			b.WriteString(link(p.URL, p.Text))
		case "emoji":
			b.WriteString(":" + p.Name + ":")
		case "user":
			b.WriteString("@" + p.UserID)
		case "broadcast":
			b.WriteString("@" + p.Range)
		case "channel":
			b.WriteString("#" + p.Name)
		}
	}
}

func attachment(a Attachment) string {
	var lines []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			lines = append(lines, s)
		}
	}
	add(Convert(a.Pretext))
	add(plainLine(a.AuthorName))
	if t := strings.TrimSpace(a.Title); t != "" {
		if a.TitleLink != "" {
			add(bold(plainLine(t)) + " " + safeURL(a.TitleLink))
		} else {
			add(bold(plainLine(t)))
		}
	}
	add(Convert(a.Text))
	for _, f := range a.Fields {
		title, value := plainLine(f.Title), Convert(f.Value)
		switch {
		case title != "" && value != "":
			add(bold(title) + ": " + value)
		default:
			add(title + value)
		}
	}
	if b := blocks(a.Blocks); b != "" {
		add(b)
	}
	add(plainLine(a.Footer))
	if len(lines) == 0 {
		add(Convert(a.Fallback))
	}
	return strings.Join(lines, "\n")
}

func textObject(t TextObject) string {
	if t.Type == "plain_text" {
		return strings.TrimSpace(t.Text)
	}
	return strings.TrimSpace(Convert(t.Text))
}

// bold is agora's bold, around text that has no line break (bold works within
// a line) and no marker that would end it early.
func bold(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "**", ""))
	if s == "" {
		return ""
	}
	return "**" + s + "**"
}

// plainLine is a Slack text field that is not mrkdwn (a title, a name) on one
// line, with Slack's three escapes undone.
func plainLine(s string) string {
	return strings.Join(strings.Fields(unescape(s)), " ")
}

// link writes a labelled link: agora links bare URLs, so the label comes
// first and the address after it.
func link(url, label string) string {
	url = safeURL(url)
	label = strings.TrimSpace(label)
	if label == "" || label == url {
		return url
	}
	return label + " (" + url + ")"
}

// safeURL keeps an http(s) address whole as one link: agora's markup ends a
// URL at a space or an angle bracket.
func safeURL(u string) string {
	u = strings.TrimSpace(unescape(u))
	return strings.NewReplacer(" ", "%20", "<", "%3C", ">", "%3E", `"`, "%22").Replace(u)
}

func unescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// Convert writes Slack mrkdwn as agora markup: *bold* becomes **bold**,
// <url|label> "label (url)", <url> the URL, <@U123> "@U123", <#C1|name>
// "#name", <!here> "@here", and Slack's &amp; &lt; &gt; their characters.
// _italic_, `code`, ``` blocks and :emoji: codes are the same in both
// (the message path turns known :codes: into emoji). Code is left as it is.
func Convert(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case strings.HasPrefix(s[i:], "```"):
			end := strings.Index(s[i+3:], "```")
			if end < 0 {
				b.WriteString(unescape(s[i:]))
				return b.String()
			}
			b.WriteString(unescape(s[i : i+3+end+3]))
			i += 3 + end + 3
		case c == '`':
			end := strings.IndexByte(s[i+1:], '`')
			if end < 0 || strings.Contains(s[i+1:i+1+end], "\n") {
				b.WriteByte(c)
				i++
				continue
			}
			b.WriteString(unescape(s[i : i+1+end+1]))
			i += end + 2
		case c == '<':
			end := strings.IndexByte(s[i+1:], '>')
			if end < 0 || strings.Contains(s[i+1:i+1+end], "\n") {
				b.WriteByte(c)
				i++
				continue
			}
			b.WriteString(angle(s[i+1 : i+1+end]))
			i += end + 2
		case c == '*':
			if n := boldRun(s, i); n > 0 {
				b.WriteString(bold(Convert(s[i+1 : i+n-1])))
				i += n
				continue
			}
			b.WriteByte(c)
			i++
		case c == '&':
			switch {
			case strings.HasPrefix(s[i:], "&amp;"):
				b.WriteByte('&')
				i += 5
			case strings.HasPrefix(s[i:], "&lt;"):
				b.WriteByte('<')
				i += 4
			case strings.HasPrefix(s[i:], "&gt;"):
				b.WriteByte('>')
				i += 4
			default:
				b.WriteByte(c)
				i++
			}
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// boldRun is the length of Slack's *bold* starting at s[i], or 0: the opening
// star follows a non-word character, the closing one is on the same line,
// the text starts and ends with non-space, and a word character does not
// follow the close (so 2*3*4 stays arithmetic).
func boldRun(s string, i int) int {
	if i > 0 {
		r, _ := utf8.DecodeLastRuneInString(s[:i])
		if isWord(r) || r == '*' {
			return 0
		}
	}
	rest := s[i+1:]
	if rest == "" || rest[0] == ' ' || rest[0] == '*' || rest[0] == '\n' {
		return 0
	}
	for j := 0; j < len(rest); j++ {
		switch rest[j] {
		case '\n':
			return 0
		case '*':
			if rest[j-1] == ' ' {
				continue
			}
			if j+1 < len(rest) {
				if r, _ := utf8.DecodeRuneInString(rest[j+1:]); isWord(r) {
					continue
				}
			}
			return j + 2
		}
	}
	return 0
}

func isWord(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

// angle writes what Slack puts between < and >.
func angle(inner string) string {
	target, label, _ := strings.Cut(inner, "|")
	switch {
	case strings.HasPrefix(target, "@"):
		if label != "" {
			return "@" + plainLine(label)
		}
		return target
	case strings.HasPrefix(target, "#"):
		if label != "" {
			return "#" + plainLine(label)
		}
		return target
	case strings.HasPrefix(target, "!"):
		name, _, _ := strings.Cut(target[1:], "^")
		if label != "" {
			return plainLine(label)
		}
		return "@" + name
	case strings.HasPrefix(target, "http://"), strings.HasPrefix(target, "https://"), strings.HasPrefix(target, "mailto:"):
		return link(target, Convert(label))
	}
	return unescape("<" + inner + ">") // not Slack's: the text as sent
}
