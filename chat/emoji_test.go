package chat_test

import (
	"slices"
	"testing"

	"agora/chat"
)

func TestEmojiCatalogue(t *testing.T) {
	n := 0
	for _, g := range chat.EmojiGroups() {
		if len(g.Emoji) == 0 {
			t.Errorf("group %s is empty", g.Name)
		}
		n += len(g.Emoji)
	}
	if n < 1500 {
		t.Errorf("the picker offers %d emoji; Unicode has well over 1,500 without skin tones", n)
	}
	if g := chat.EmojiGroups()[0]; g.Name != "Smileys & Emotion" || !slices.ContainsFunc(g.Emoji, func(e chat.Emoji) bool { return e.Char == "😀" && e.Name == "grinning face" }) {
		t.Errorf("the catalogue's first group %s lacks 😀 grinning face", g.Name)
	}
	for q, want := range map[string]string{"thumbs up": "👍", ":tada:": "🎉", "party popper": "🎉", "flag france": "🇫🇷", "Thumbs Up dark skin": "👍🏿"} {
		got := chat.SearchEmoji(q, 5)
		found := false
		for _, e := range got {
			found = found || e.Char == want
		}
		if !found {
			t.Errorf("search %q = %+v, want %s among them", q, got, want)
		}
	}
	if got := chat.SearchEmoji("   ", 5); got != nil {
		t.Errorf("an empty search found %v", got)
	}
	for _, ok := range []string{"👍", "🦩", "🇫🇷", "👍🏿", "❤️", "❤"} {
		if err := chat.ValidateEmoji(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a", "👍👍", "<script>", "👍 ", ":tada:", string(make([]byte, 200))} {
		if err := chat.ValidateEmoji(bad); err == nil {
			t.Errorf("%q accepted as a reaction", bad)
		}
	}
}
