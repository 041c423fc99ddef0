package views

import "testing"

func TestPlainText(t *testing.T) {
	for in, want := range map[string]string{
		"the **release** is `v2`":    "the release is v2",
		"_soon_ and snake_case, 2*3": "soon and snake_case, 2*3",
		"```go\nfunc main() {}\n```": "\nfunc main() {}\n",
		"plain":                      "plain",
		"**":                         "",
	} {
		if got := plainText(in); got != want {
			t.Errorf("plainText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInitialsAndColours(t *testing.T) {
	for in, want := range map[string]string{"ann": "A", "Ann Lee": "AL", "ann b c": "AB", "  ": "?", "🙂 Zed": "Z", "élodie": "É"} {
		if got := initials(in); got != want {
			t.Errorf("initials(%q) = %q, want %q", in, got, want)
		}
	}
	if avatarColor("Ann") != avatarColor("ann") {
		t.Error("a username's colour depends on its letter case")
	}
	seen := map[string]bool{}
	for _, u := range []string{"ann", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"} {
		seen[avatarColor(u)] = true
	}
	if len(seen) < 4 {
		t.Errorf("eight users share %d colours", len(seen))
	}
}
