package chat

import (
	"slices"
	"strings"
	"time"
)

// CustomEmoji is a picture an admin added, used as :name: in messages and
// reactions. Its name is never a built-in shortcode's: :smile: stays 😄.
type CustomEmoji struct {
	ID          int64
	Name        string // lower case, [a-z0-9_+-]
	ContentType string // PNG, GIF or WebP, as its content says
	Size        int64
	CreatedBy   string // the admin's username; "" when their account is gone
	CreatedAt   time.Time
}

// Code is how a message or a reaction names it.
func (e CustomEmoji) Code() string { return ":" + e.Name + ":" }

// Limits of a custom emoji.
const (
	MaxCustomEmojiBytes = 256 << 10
	MaxCustomEmojiName  = 32
	MaxCustomEmojiSide  = 1024 // pixels a side: it is shown at the size of a letter
	// maxEmojiCodes bounds how many distinct :name: codes one body may
	// have looked up.
	maxEmojiCodes = 50
)

// ValidateEmojiName checks a custom emoji's name: 2 to 32 lower-case
// letters, digits, "_", "+" or "-", starting with a letter or digit (so
// never a path, a URL or markup), and not a built-in shortcode.
func ValidateEmojiName(name string) error {
	if len(name) < 2 || len(name) > MaxCustomEmojiName || !emojiNameStart(name[0]) {
		return Errorf(EInvalid, "An emoji's name is 2 to %d lower-case letters, digits, _, + or -, starting with a letter or digit.", MaxCustomEmojiName)
	}
	for i := range len(name) {
		if !emojiNameByte(name[i]) {
			return Errorf(EInvalid, "An emoji's name is 2 to %d lower-case letters, digits, _, + or -, starting with a letter or digit.", MaxCustomEmojiName)
		}
	}
	if _, ok := shortcodes[name]; ok {
		return Errorf(EConflict, ":%s: is a built-in emoji (%s): choose another name.", name, shortcodes[name])
	}
	return nil
}

func emojiNameStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func emojiNameByte(c byte) bool { return emojiNameStart(c) || c == '_' || c == '+' || c == '-' }

// CustomEmojiCode returns the name in a :name: code that could be a custom
// emoji (a reaction's, say).
func CustomEmojiCode(s string) (string, bool) {
	name, ok := strings.CutPrefix(s, ":")
	if !ok {
		return "", false
	}
	if name, ok = strings.CutSuffix(name, ":"); !ok || ValidateEmojiName(name) != nil {
		return "", false
	}
	return name, true
}

// EmojiCodesIn lists the distinct names of the :name: codes in body that
// could be custom emoji, in the order they first come, at most 50: the
// store keeps those that are (Message.Emoji).
func EmojiCodesIn(body string) []string {
	var names []string
	for i := strings.IndexByte(body, ':'); i >= 0 && len(names) < maxEmojiCodes; {
		rest := body[i+1:]
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			break
		}
		if name := rest[:j]; ValidateEmojiName(name) == nil {
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
			// The closing colon is spent: ":a::b:" is two codes, ":a:b:" one.
			i += 1 + j + 1
			if k := strings.IndexByte(body[i:], ':'); k >= 0 {
				i += k
			} else {
				break
			}
			continue
		}
		i += 1 + j // the closing colon may open the next code
	}
	return names
}
