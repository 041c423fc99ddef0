package chat

import (
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// hiddenRune reports whether r has no place in a name people see: control
// characters, invisible ones (zero-width spaces and joiners, word joiners,
// the byte-order mark, fillers that render as blanks) and the bidirectional
// marks and overrides that reorder the text around them.
func hiddenRune(r rune) bool {
	switch {
	case unicode.IsControl(r), unicode.Is(unicode.Cf, r): // Cf: ZWSP, ZWJ, LRM/RLM, LRE..RLO, LRI..PDI, BOM, soft hyphen
		return true
	case r == 0x034F, r == 0x115F, r == 0x1160, r == 0x3164, r == 0xFFA0, r == 0x2800, // blank-looking letters
		r >= 0xFFF0 && r <= 0xFFFF, unicode.Is(unicode.Co, r), unicode.Is(unicode.Cs, r), !unicode.IsPrint(r) && r != ' ':
		return true
	}
	return false
}

// checkNameRunes refuses a name with hidden characters, saying what kind of
// name it is.
func checkNameRunes(what, name string) error {
	for _, r := range name {
		if hiddenRune(r) {
			if unicode.IsControl(r) {
				return Errorf(EInvalid, "The %s has control characters.", what)
			}
			return Errorf(EInvalid, "The %s has invisible or text-direction characters (U+%04X).", what, r)
		}
	}
	return nil
}

// confusable maps letters that look like ASCII letters to those letters: the
// common Cyrillic, Greek and Latin look-alikes. Fullwidth and mathematical
// letters, ligatures and accents are folded by compatibility decomposition
// before this table is used.
var confusable = map[rune]rune{
	// Cyrillic
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c', 'т': 't',
	'у': 'y', 'х': 'x', 'і': 'i', 'ї': 'i', 'ј': 'j', 'ѕ': 's', 'ԁ': 'd', 'һ': 'h', 'ӏ': 'l', 'ԛ': 'q', 'ԝ': 'w',
	'ь': 'b', 'г': 'r', 'п': 'n', 'ʏ': 'y', 'ѵ': 'v', 'ɡ': 'g',
	// Greek
	'α': 'a', 'β': 'b', 'ε': 'e', 'ζ': 'z', 'η': 'n', 'ι': 'i', 'κ': 'k', 'μ': 'u', 'ν': 'v', 'ο': 'o', 'ρ': 'p',
	'τ': 't', 'υ': 'u', 'χ': 'x', 'ω': 'w', 'γ': 'y',
	// Latin and others
	'ı': 'i', 'ȷ': 'j', 'ǀ': 'l', 'ℓ': 'l', 'ꞁ': 'l', 'ɩ': 'i', 'ɑ': 'a', 'ə': 'e', 'ɛ': 'e', 'ꜱ': 's',
	'ᴀ': 'a', 'ʙ': 'b', 'ᴄ': 'c', 'ᴅ': 'd', 'ᴇ': 'e', 'ɢ': 'g', 'ʜ': 'h', 'ɪ': 'i', 'ᴊ': 'j', 'ᴋ': 'k', 'ʟ': 'l',
	'ᴍ': 'm', 'ɴ': 'n', 'ᴏ': 'o', 'ᴘ': 'p', 'ʀ': 'r', 'ᴛ': 't', 'ᴜ': 'u', 'ᴠ': 'v', 'ᴡ': 'w', 'ᴢ': 'z',
	'|': 'l', '!': 'l', '$': 's', '@': 'a', '¡': 'i',
}

// skeletonSteps are applied, in order, after every letter is folded to lower
// case and every character that is not a letter or digit is gone. The
// users_skeleton index (migration 0014) applies the same steps to usernames
// in SQL: the two must stay in step.
var skeletonSteps = [][2]string{{"0", "o"}, {"1", "l"}, {"i", "l"}, {"rn", "m"}, {"vv", "w"}}

// NameSkeleton reduces a name to what it looks like: two names with the same
// skeleton could be mistaken for each other. It folds case, accents,
// fullwidth and mathematical letters, common look-alike letters of other
// scripts, and the ASCII pairs that read alike (0/o, 1/l/I, rn/m, vv/w), and
// drops everything that is not a letter or digit (spaces, punctuation,
// symbols, emoji), so "a l i c e", "alice." and "★alice★" read as alice.
// Punctuation that looks like a letter (a!ice, $am) is read as that letter.
func NameSkeleton(name string) string { return skeleton(name, true, false) }

// NameKeys are the skeletons a name may be read as; a name is mistaken for
// another if any of its keys is the other's skeleton. Besides NameSkeleton,
// the name read with look-alike punctuation dropped rather than read as a
// letter ("alice!"), and the name without what it puts in brackets ("alice
// (admin)", "[mod] alice"), each once.
func NameKeys(name string) []string {
	var keys []string
	for _, strip := range []bool{false, true} {
		for _, punct := range []bool{true, false} {
			if k := skeleton(name, punct, strip); k != "" && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// brackets pairs each opening bracket with its closing one (after NFKD,
// fullwidth brackets are these).
var brackets = map[rune]rune{'(': ')', '[': ']', '{': '}', '<': '>'}

// skeleton is NameSkeleton, with look-alike punctuation read as letters (or
// dropped), and with what is in brackets dropped (or kept, without the
// brackets). An opening bracket never closed runs to the end.
func skeleton(name string, punctAsLetters, dropBracketed bool) string {
	var b strings.Builder
	var closing []rune // the brackets open at this point
	for _, r := range norm.NFKD.String(name) {
		if unicode.Is(unicode.Mn, r) || hiddenRune(r) {
			continue // accents and invisible marks change nothing one sees
		}
		if c, ok := brackets[r]; ok {
			closing = append(closing, c)
			continue
		}
		if n := len(closing); n > 0 && r == closing[n-1] {
			closing = closing[:n-1]
			continue
		}
		if dropBracketed && len(closing) > 0 {
			continue
		}
		r = unicode.ToLower(r)
		if c, ok := confusable[r]; ok && (punctAsLetters || unicode.IsLetter(r)) {
			r = c
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	s := b.String()
	for _, step := range skeletonSteps {
		s = strings.ReplaceAll(s, step[0], step[1])
	}
	return s
}
