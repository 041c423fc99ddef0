package chat

import "testing"

func TestReplaceShortcodes(t *testing.T) {
	for in, want := range map[string]string{
		"no codes":                  "no codes",
		":tada: done :+1:":          "🎉 done 👍",
		"keep `:tada:` in code":     "keep `:tada:` in code",
		"unknown :nope: stays":      "unknown :nope: stays",
		"time 10:30:00 stays":       "time 10:30:00 stays",
		"::":                        "::",
		":fire::fire:":              "🔥🔥",
		"```\n:tada:\n``` then :x:": "```\n:tada:\n``` then ❌",
	} {
		if got := ReplaceShortcodes(in); got != want {
			t.Errorf("ReplaceShortcodes(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidateTopic(t *testing.T) {
	if got, err := ValidateTopic("  plans   for\tQ3 "); err != nil || got != "plans for Q3" {
		t.Errorf("ValidateTopic = %q, %v", got, err)
	}
	if got, err := ValidateTopic(""); err != nil || got != "" {
		t.Errorf("an empty topic (clearing it): %q, %v", got, err)
	}
	for _, bad := range []string{"a\u202eb", "zero\u200bwidth", "bell\x07", "\xff", string(make([]rune, 251))} {
		if _, err := ValidateTopic(bad); ErrorCode(err) != EInvalid {
			t.Errorf("ValidateTopic(%q) = %v, want invalid", bad, err)
		}
	}
	long := ""
	for range MaxTopicChars {
		long += "é"
	}
	if _, err := ValidateTopic(long); err != nil {
		t.Errorf("a topic of %d characters: %v", MaxTopicChars, err)
	}
}

// The quick reactions are emoji like any other, each offered once.
func TestQuickReactionsAreEmoji(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range ReactionEmoji {
		if seen[e] {
			t.Errorf("%s offered twice", e)
		}
		seen[e] = true
		if ValidateEmoji(e) != nil {
			t.Errorf("%s is offered but refused", e)
		}
	}
}
