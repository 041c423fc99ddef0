package chat

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzNameKeys: a name's keys are never empty and hold only letters and
// digits; a name decorated (spaced out, punctuated, bracketed, starred) is
// still read as the name itself.
func FuzzNameKeys(f *testing.F) {
	for _, s := range []string{"alice", "a l i c e", "alice (admin)", "rn", "Ａｌｉｃｅ", "(x)", "", "!!", "a(b)c", "bob)", "é"} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, name string, how uint8) {
		if !utf8.ValidString(name) {
			return
		}
		keys := NameKeys(name)
		for _, k := range keys {
			if k == "" {
				t.Fatalf("NameKeys(%q) has an empty key", name)
			}
			for _, r := range k {
				if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					t.Fatalf("NameKeys(%q) = %q: %q is neither letter nor digit", name, keys, r)
				}
			}
		}
		if again := NameKeys(name); !slices.Equal(again, keys) {
			t.Fatalf("NameKeys(%q) is not stable: %q then %q", name, keys, again)
		}
		skel := NameSkeleton(name)
		if skel == "" || strings.ContainsAny(name, "()[]{}<>（）［］｛｝＜＞") {
			return // decorations are read past only where the name has no brackets of its own
		}
		var decorated string
		switch how % 5 {
		case 0:
			decorated = name + "."
		case 1:
			decorated = strings.Join(strings.Split(name, ""), " ")
		case 2:
			decorated = name + " (admin)"
		case 3:
			decorated = "★ " + name + " ★"
		case 4:
			decorated = "[mod] " + name
		}
		if !slices.Contains(NameKeys(decorated), skel) {
			t.Fatalf("%q decorated as %q is not read as it: keys %q, skeleton %q", name, decorated, NameKeys(decorated), skel)
		}
	})
}
