package chat

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

var fuzzSeeds = []string{
	"hello", "  two  words \t", "\r\nline\r\n", "ann", "Ann-B_c", "-ann", "guest-x", "a",
	"\x00", "\x1b[31m", "\u202eevil", "\u200bzero", "é", "\xff\xfe", "dm-1-2", "Dm 1 2", "###",
	strings.Repeat("x", 4001), strings.Repeat("é", 65), "General Chat!", "correct horse",
}

// FuzzValidateBody: an accepted body is valid UTF-8, trimmed, 1 to
// MaxBodyChars characters without control characters but line breaks and
// tabs, has no CR LF, and is accepted again unchanged.
func FuzzValidateBody(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		body, err := ValidateBody(in)
		if err != nil {
			if ErrorCode(err) != EInvalid || ErrorMessage(err) == "" {
				t.Fatalf("ValidateBody(%q) failed with %v, want an EInvalid with a message", in, err)
			}
			return
		}
		n := utf8.RuneCountInString(body)
		if !utf8.ValidString(body) || n < 1 || n > MaxBodyChars || body != strings.TrimSpace(body) || strings.Contains(body, "\r\n") {
			t.Fatalf("ValidateBody(%q) accepted %q", in, body)
		}
		for _, r := range body {
			if r < ' ' && r != '\n' && r != '\t' || r == 0x7f {
				t.Fatalf("ValidateBody(%q) let control character %U through", in, r)
			}
		}
		if again, err := ValidateBody(body); err != nil || again != body {
			t.Fatalf("ValidateBody is not stable on %q: %q, %v", body, again, err)
		}
	})
}

var usernameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$`)

// FuzzValidateUsername: an accepted username is 2 to 32 of the narrow
// alphabet, starting with a letter or digit, and never a guest's.
func FuzzValidateUsername(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateUsername(name)
		if err != nil {
			if ErrorCode(err) != EInvalid {
				t.Fatalf("ValidateUsername(%q): %v", name, err)
			}
			return
		}
		if !usernameRe.MatchString(name) || strings.HasPrefix(strings.ToLower(name), GuestPrefix) {
			t.Fatalf("ValidateUsername accepted %q", name)
		}
	})
}

// FuzzValidateDisplayName: an accepted display name is valid UTF-8 of at
// most MaxDisplayChars characters, with single spaces between words, no
// control characters, and accepted again unchanged.
func FuzzValidateDisplayName(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		name, err := ValidateDisplayName(in)
		if err != nil {
			if ErrorCode(err) != EInvalid {
				t.Fatalf("ValidateDisplayName(%q): %v", in, err)
			}
			return
		}
		if !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxDisplayChars || name != strings.Join(strings.Fields(name), " ") {
			t.Fatalf("ValidateDisplayName(%q) accepted %q", in, name)
		}
		for _, r := range name {
			if r < ' ' || r == 0x7f || r >= 0x80 && r < 0xa0 {
				t.Fatalf("ValidateDisplayName(%q) let control character %U through", in, r)
			}
		}
		if again, err := ValidateDisplayName(name); err != nil || again != name {
			t.Fatalf("ValidateDisplayName is not stable on %q: %q, %v", name, again, err)
		}
	})
}

var slugRe = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// FuzzValidateRoomName: an accepted room name is valid UTF-8 of 1 to
// MaxRoomNameChars characters with single spaces, and its slug is a plain
// URL path segment that is never a DM's; both are stable.
func FuzzValidateRoomName(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		name, slug, err := ValidateRoomName(in)
		if err != nil {
			if ErrorCode(err) != EInvalid {
				t.Fatalf("ValidateRoomName(%q): %v", in, err)
			}
			return
		}
		n := utf8.RuneCountInString(name)
		if !utf8.ValidString(name) || n < 1 || n > MaxRoomNameChars || name != strings.Join(strings.Fields(name), " ") {
			t.Fatalf("ValidateRoomName(%q) accepted the name %q", in, name)
		}
		if !slugRe.MatchString(slug) || len(slug) > 64 || strings.HasPrefix(slug, "dm-") {
			t.Fatalf("ValidateRoomName(%q) made the slug %q", in, slug)
		}
		if again, slug2, err := ValidateRoomName(name); err != nil || again != name || slug2 != slug {
			t.Fatalf("ValidateRoomName is not stable on %q: %q %q %v", name, again, slug2, err)
		}
	})
}

// FuzzValidateClientMsgID: an accepted id is empty or a short token.
func FuzzValidateClientMsgID(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if ValidateClientMsgID(id) != nil {
			return
		}
		if id != "" && !regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`).MatchString(id) {
			t.Fatalf("ValidateClientMsgID accepted %q", id)
		}
	})
}
