package chat

import "strings"

// CleanUsername makes a valid username out of what an identity provider
// calls a person (preferred_username, or an email address): the part before
// an @, only letters a-z, digits, '-' and '_', starting with a letter or a
// digit, short enough to take a number after it, never a guest's. Nothing
// usable left gives "user".
func CleanUsername(s string) string {
	if at := strings.IndexByte(s, '@'); at > 0 {
		s = s[:at]
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case isTokenRune(r):
			b.WriteRune(r)
		case r == '.' || r == ' ' || r == '+':
			b.WriteByte('-')
		}
	}
	name := strings.TrimLeft(b.String(), "-_")
	for strings.HasPrefix(strings.ToLower(name), GuestPrefix) {
		name = strings.TrimLeft(name[len(GuestPrefix):], "-_")
	}
	if len(name) > 28 {
		name = strings.TrimRight(name[:28], "-_")
	}
	if len(name) < 2 {
		return "user"
	}
	return name
}
