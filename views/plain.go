package views

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// plainText takes the formatting marks out of a piece of a message, for
// places that show it as plain text (search snippets): code fences with their
// language, backticks, and the *, _ and ~ that open or close bold, italic
// and strikethrough.
// A * or _ inside a word (snake_case, 2*3) stays.
func plainText(s string) string {
	if !strings.ContainsAny(s, "*_`~") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "```") {
			i += 3
			for i < len(s) && (fenceLangByte(s[i])) {
				i++ // the fence's language
			}
			continue
		}
		c := s[i]
		if c == '`' {
			i++
			continue
		}
		if c == '*' || c == '_' || c == '~' {
			j := i
			for j < len(s) && s[j] == c {
				j++
			}
			before, _ := utf8.DecodeLastRuneInString(s[:i])
			after, _ := utf8.DecodeRuneInString(s[j:])
			if i == 0 || j == len(s) || !plainWordRune(before) || !plainWordRune(after) {
				i = j
				continue
			}
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

func fenceLangByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-'
}

func plainWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
