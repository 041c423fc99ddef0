package chat

import (
	"slices"
	"strings"
	"unicode"
)

// FuzzyScore says whether every letter of q appears in name in order (case
// aside, as a person types a name they half remember), and how well: the
// best way to place q's letters, scoring the name's start, the starts of
// its words and runs of letters side by side. The quick switcher sorts by
// it.
func FuzzyScore(q, name string) (int, bool) {
	qs := []rune(strings.ToLower(strings.Join(strings.Fields(q), "")))
	ns := []rune(strings.ToLower(name))
	if len(qs) == 0 {
		return 0, true
	}
	if len(qs) > len(ns) {
		return 0, false
	}
	bonus := func(j int) int {
		switch {
		case j == 0:
			return 10
		case !unicode.IsLetter(ns[j-1]) && !unicode.IsDigit(ns[j-1]):
			return 6 // a word's first letter
		}
		return 1
	}
	const none = -1 << 30
	// prev[j]: the best score with q's letters so far placed, the last at j.
	prev := make([]int, len(ns))
	for j, r := range ns {
		prev[j] = none
		if r == qs[0] {
			prev[j] = bonus(j)
		}
	}
	for i := 1; i < len(qs); i++ {
		cur := make([]int, len(ns))
		best := none // the best of prev before j-1
		for j := range ns {
			cur[j] = none
			if j >= 2 {
				best = max(best, prev[j-2])
			}
			if ns[j] != qs[i] || j == 0 {
				continue
			}
			if from := max(best, prev[j-1]+4); from > none/2 {
				cur[j] = from + bonus(j)
			}
		}
		prev = cur
	}
	score := slices.Max(prev)
	if score <= none/2 {
		return 0, false
	}
	if len(ns) == len(qs) {
		score += 20 // the whole name
	}
	return score - len(ns)/8, true
}

// SubsequencePattern is a SQL LIKE pattern (escaped with \) that matches
// what FuzzyScore matches: q's letters in order, anything between.
func SubsequencePattern(q string) string {
	var b strings.Builder
	b.WriteByte('%')
	for _, r := range strings.ToLower(strings.Join(strings.Fields(q), "")) {
		if r == '%' || r == '_' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
		b.WriteByte('%')
	}
	return b.String()
}
