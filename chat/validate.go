package chat

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on what users may write.
const (
	MaxBodyChars     = 4000
	MaxRoomNameChars = 64
	MaxDisplayChars  = 48
	MinPasswordChars = 8
	MaxPasswordBytes = 256
	MaxClientMsgID   = 64
)

// ValidateBody trims a message body and checks it is valid UTF-8 of 1 to
// MaxBodyChars characters, returning the trimmed body.
func ValidateBody(body string) (string, error) {
	if !utf8.ValidString(body) {
		return "", Errorf(EInvalid, "The message is not valid UTF-8 text.")
	}
	body = strings.ReplaceAll(body, "\r\n", "\n")
	body = strings.TrimSpace(body)
	if body == "" {
		return "", Errorf(EInvalid, "The message is empty.")
	}
	if n := utf8.RuneCountInString(body); n > MaxBodyChars {
		return "", Errorf(EInvalid, "The message is %d characters long; the limit is %d.", n, MaxBodyChars)
	}
	for _, r := range body {
		if r < ' ' && r != '\n' && r != '\t' || r == 0x7f {
			return "", Errorf(EInvalid, "The message contains control characters.")
		}
	}
	return body, nil
}

// ValidateClientMsgID accepts an empty id (none given) or a short token of
// letters, digits, '-' and '_'.
func ValidateClientMsgID(id string) error {
	if len(id) > MaxClientMsgID {
		return Errorf(EInvalid, "The message id is too long.")
	}
	for _, r := range id {
		if !isTokenRune(r) {
			return Errorf(EInvalid, "The message id has characters it may not have.")
		}
	}
	return nil
}

// ValidateUsername checks a username: 2 to 32 of a-z, A-Z, 0-9, '_' and '-',
// starting with a letter or digit. The narrow alphabet keeps usernames safe in
// URLs, mentions and CSS selectors without escaping.
func ValidateUsername(name string) error { return validateName("username", name) }

// ValidateGroupName checks a group's name: a mention of @name finds a user
// or a group, so a group's name is made as a username is.
func ValidateGroupName(name string) error { return validateName("group name", name) }

func validateName(what, name string) error {
	if len(name) < 2 || len(name) > 32 {
		return Errorf(EInvalid, "A %s is 2 to 32 characters long.", what)
	}
	for i, r := range name {
		if !isTokenRune(r) || (i == 0 && (r == '-' || r == '_')) {
			return Errorf(EInvalid, "A %s may use only letters, digits, '-' and '_', and starts with a letter or digit.", what)
		}
	}
	if strings.HasPrefix(strings.ToLower(name), GuestPrefix) {
		return Errorf(EInvalid, "Names starting with %q are for guests.", GuestPrefix)
	}
	return nil
}

// GuestPrefix starts every guest's made-up username, and no account's.
const GuestPrefix = "guest-"

// ValidatePassword checks a new password's length.
func ValidatePassword(pw string) error {
	if utf8.RuneCountInString(pw) < MinPasswordChars {
		return Errorf(EInvalid, "A password has at least %d characters.", MinPasswordChars)
	}
	if len(pw) > MaxPasswordBytes {
		return Errorf(EInvalid, "A password has at most %d bytes.", MaxPasswordBytes)
	}
	return nil
}

// ValidateDisplayName trims and checks a display name; empty means "use the username".
func ValidateDisplayName(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", Errorf(EInvalid, "The display name is not valid UTF-8 text.")
	}
	name = strings.Join(strings.Fields(name), " ")
	if utf8.RuneCountInString(name) > MaxDisplayChars {
		return "", Errorf(EInvalid, "A display name has at most %d characters.", MaxDisplayChars)
	}
	if err := checkNameRunes("display name", name); err != nil {
		return "", err
	}
	return name, nil
}

// ValidateRoomName trims a room name, checks it and returns it with its slug.
func ValidateRoomName(name string) (clean, slug string, err error) {
	if !utf8.ValidString(name) {
		return "", "", Errorf(EInvalid, "The room name is not valid UTF-8 text.")
	}
	clean = strings.Join(strings.Fields(name), " ")
	if clean == "" {
		return "", "", Errorf(EInvalid, "A room needs a name.")
	}
	if utf8.RuneCountInString(clean) > MaxRoomNameChars {
		return "", "", Errorf(EInvalid, "A room name has at most %d characters.", MaxRoomNameChars)
	}
	if err := checkNameRunes("room name", clean); err != nil {
		return "", "", err
	}
	slug = Slugify(clean)
	if slug == "" {
		return "", "", Errorf(EInvalid, "A room name needs at least one letter or digit.")
	}
	if strings.HasPrefix(slug, "dm-") {
		return "", "", Errorf(EInvalid, "Room names may not start with \"dm\": those addresses are for direct messages.")
	}
	return clean, slug, nil
}

// DMSlug is the slug of the direct conversation between two users.
func DMSlug(a, b int64) string {
	return "dm-" + strconv.FormatInt(min(a, b), 10) + "-" + strconv.FormatInt(max(a, b), 10)
}

// Slugify makes a URL path segment of a name: lower-case ASCII letters and
// digits, with single '-' between words.
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
		if b.Len() >= 48 {
			break
		}
	}
	return b.String()
}

func isTokenRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
}

// maxQuote is how much of a message a quote carries, in characters: a
// quote is a reminder of what was said, and leaves room for the answer.
const maxQuote = 1000

// Quote is a message's body as the composer quotes it: each line after
// "> " (the quote syntax), cut at maxQuote characters with "…", and a line
// break after it for the answer.
func Quote(body string) string {
	body = strings.TrimSpace(body)
	if r := []rune(body); len(r) > maxQuote {
		body = strings.TrimSpace(string(r[:maxQuote])) + "…"
	}
	lines := strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n")
	for i, l := range lines {
		if l == "" {
			lines[i] = ">"
		} else {
			lines[i] = "> " + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}
