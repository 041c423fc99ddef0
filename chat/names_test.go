package chat_test

import (
	"slices"
	"testing"

	"agora/chat"
)

func TestNameSkeleton(t *testing.T) {
	alike := [][]string{
		{"alice", "ALICE", "\u0430lice", "al1ce", "aIice", "ａｌｉｃｅ", "𝐚𝐥𝐢𝐜𝐞", "alicé", "\u0430l\u0456\u0441\u0435"},
		{"modern", "rnodern", "MODERN"},
		{"bob0", "BOBO", "bοbο"}, // Greek omicron
		{"willow", "wiIIow", "vviIIow"},
	}
	for _, group := range alike {
		want := chat.NameSkeleton(group[0])
		for _, name := range group[1:] {
			if got := chat.NameSkeleton(name); got != want {
				t.Errorf("NameSkeleton(%q) = %q, want %q as for %q", name, got, want, group[0])
			}
		}
	}
	for _, pair := range [][2]string{{"alice", "alicia"}, {"bob", "rob"}, {"ann", "anna"}} {
		if chat.NameSkeleton(pair[0]) == chat.NameSkeleton(pair[1]) {
			t.Errorf("%q and %q share a skeleton", pair[0], pair[1])
		}
	}
}

func TestNamesRefuseHiddenCharacters(t *testing.T) {
	for _, name := range []string{"a\u200bb", "a\u200db", "\u202eab", "a\u2066b", "a\u00adb", "\ufeffab", "a\x1bb", "a\x00b", "\u3164", "a\u2800b"} {
		if _, err := chat.ValidateDisplayName(name); err == nil {
			t.Errorf("display name %q accepted", name)
		}
		if _, _, err := chat.ValidateRoomName(name + "x"); err == nil {
			t.Errorf("room name %q accepted", name)
		}
	}
	for _, name := range []string{"Zoë", "Алиса", "李雷", "ok 👍", "❤️ fan"} {
		if _, err := chat.ValidateDisplayName(name); err != nil {
			t.Errorf("display name %q refused: %v", name, err)
		}
	}
}

// Decorations around a name do not make it another: spaces, punctuation,
// symbols and what is put in brackets are read past.
func TestNameKeysReadPastDecorations(t *testing.T) {
	alice := chat.NameSkeleton("alice")
	for _, name := range []string{
		"alice (admin)", "alice.", "a l i c e", "[mod] alice", "alice!", "★ alice ★", "al-ice", "alice_",
		"Alice（admin）", "a.l.i.c.e", "alice 🛡️", "<alice>", "(alice)", "alice (", "@alice", "a!ice",
	} {
		if !slices.Contains(chat.NameKeys(name), alice) {
			t.Errorf("NameKeys(%q) = %q: not read as alice (%q)", name, chat.NameKeys(name), alice)
		}
	}
	for _, name := range []string{"alice smith", "Bob Builder", "alicia (alice's friend)", "Алиса", "malice"} {
		if slices.Contains(chat.NameKeys(name), alice) {
			t.Errorf("NameKeys(%q) = %q: an honest name read as alice", name, chat.NameKeys(name))
		}
	}
}
