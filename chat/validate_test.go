package chat_test

import (
	"strings"
	"testing"

	"agora/chat"
)

func TestValidateBody(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"hello", "hello", true},
		{"  padded \n", "padded", true},
		{"line1\r\nline2", "line1\nline2", true},
		{"", "", false},
		{" \n\t ", "", false},
		{"\xff\xfe", "", false},
		{"nul\x00", "", false},
		{"bell\x07", "", false},
		{"tab\tand\nnewline", "tab\tand\nnewline", true},
		{strings.Repeat("é", 4000), strings.Repeat("é", 4000), true},
		{strings.Repeat("é", 4001), "", false},
	} {
		got, err := chat.ValidateBody(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ValidateBody(%.20q) = %.20q, %v", tc.in, got, err)
		}
		if err != nil && chat.ErrorCode(err) != chat.EInvalid {
			t.Errorf("error code %q", chat.ErrorCode(err))
		}
	}
}

func TestValidateUsernameAndRoom(t *testing.T) {
	for _, name := range []string{"ann", "Bob_2", "a-b"} {
		if err := chat.ValidateUsername(name); err != nil {
			t.Errorf("%q refused: %v", name, err)
		}
	}
	for _, name := range []string{"", "a", "-ann", "an n", "<b>", "ann\"", strings.Repeat("a", 33), "ünï", "Guest-1234"} {
		if err := chat.ValidateUsername(name); err == nil {
			t.Errorf("%q accepted", name)
		}
	}
	if name, slug, err := chat.ValidateRoomName("  Design   Review! "); err != nil || name != "Design Review!" || slug != "design-review" {
		t.Errorf("got %q %q %v", name, slug, err)
	}
	for _, bad := range []string{"", "   ", "!!!", strings.Repeat("x", 65)} {
		if _, _, err := chat.ValidateRoomName(bad); err == nil {
			t.Errorf("room name %q accepted", bad)
		}
	}
}

func TestPasswordHashing(t *testing.T) {
	h, err := chat.HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not argon2id with OWASP's parameters", h)
	}
	if !chat.CheckPassword(h, "correct horse") || chat.CheckPassword(h, "wrong horse") || chat.CheckPassword("garbage", "x") {
		t.Error("CheckPassword is wrong")
	}
	h2, _ := chat.HashPassword("correct horse")
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
}

func TestQuote(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{"hello", "> hello\n"},
		{"  two\r\nlines\n\nand a gap  ", "> two\n> lines\n>\n> and a gap\n"},
		{strings.Repeat("é", 1001), "> " + strings.Repeat("é", 1000) + "…\n"},
	} {
		if got := chat.Quote(c.body); got != c.want {
			t.Errorf("Quote(%q) = %q, want %q", c.body, got, c.want)
		}
	}
}
