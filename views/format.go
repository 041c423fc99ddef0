package views

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// spanKind says how one piece of a message body is shown.
type spanKind int

const (
	spanText spanKind = iota
	spanLink
	spanMention
)

// span is one piece of a message body. The renderer only ever emits text
// through templ's escaping; links are built by us, never copied from HTML.
type span struct {
	kind spanKind
	text string // what is shown
	arg  string // the href of a link, the lower-case username of a mention
}

// parseBody splits a message body into text, links and mentions.
func parseBody(body string) []span {
	var out []span
	text := 0 // start of the pending text run
	flush := func(end int) {
		if end > text {
			out = append(out, span{kind: spanText, text: body[text:end]})
		}
	}
	for i := 0; i < len(body); {
		switch {
		case (body[i] == 'h' || body[i] == 'H') && wordStart(body, i):
			if n, href := matchLink(body[i:]); n > 0 {
				flush(i)
				out = append(out, span{kind: spanLink, text: body[i : i+n], arg: href})
				i += n
				text = i
				continue
			}
		case body[i] == '@' && wordStart(body, i):
			if n := matchUsername(body[i+1:]); n >= 2 {
				flush(i)
				name := body[i+1 : i+1+n]
				out = append(out, span{kind: spanMention, text: "@" + name, arg: strings.ToLower(name)})
				i += 1 + n
				text = i
				continue
			}
		}
		_, size := utf8.DecodeRuneInString(body[i:])
		i += size
	}
	flush(len(body))
	return out
}

// Mentions returns the lower-case usernames mentioned in body, each once.
func Mentions(body string) []string {
	var names []string
	for _, s := range parseBody(body) {
		if s.kind == spanMention && !contains(names, s.arg) {
			names = append(names, s.arg)
		}
	}
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
	return !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= 0x80 && r != 0xA0)
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

// matchLink returns the length of an http(s) URL at the start of s and the
// href to use, or 0. Trailing punctuation is left out, as people end sentences
// with it, and a closing parenthesis only counts when the URL opened one.
func matchLink(s string) (int, string) {
	lower := strings.ToLower(s[:min(len(s), 8)])
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
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
	for n > 0 {
		c := s[n-1]
		if strings.IndexByte(".,;:!?*_", c) >= 0 || c == ')' && strings.Count(s[:n], "(") < strings.Count(s[:n], ")") {
			n--
			continue
		}
		break
	}
	u, err := url.Parse(s[:n])
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "HTTP" && u.Scheme != "HTTPS") {
		return 0, ""
	}
	return n, u.String()
}
