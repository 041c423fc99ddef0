package chat

import (
	"slices"
	"testing"
)

func TestEmojiNames(t *testing.T) {
	for _, bad := range []string{"", "a", "Party", "../etc/passwd", "a/b", `a\b`, "smile", "+1", "_x", "x y", "<img>", "parrot.png", "ünï"} {
		if ValidateEmojiName(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := ValidateEmojiName("smile"); ErrorCode(err) != EConflict {
		t.Errorf("a built-in's name: %v", err)
	}
	for _, good := range []string{"parrot", "party_parrot", "ok+1", "100-percent", "x2"} {
		if err := ValidateEmojiName(good); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
}

func TestEmojiCodesIn(t *testing.T) {
	got := EmojiCodesIn("a :parrot::blob: at 10:30:45 :parrot: :Nope: :x: `:code:` :ab:cd:")
	want := []string{"parrot", "blob", "30", "code", "ab"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if n, ok := CustomEmojiCode(":parrot:"); !ok || n != "parrot" {
		t.Error(":parrot: is a code")
	}
	if _, ok := CustomEmojiCode("👍"); ok {
		t.Error("👍 is not a code")
	}
}
