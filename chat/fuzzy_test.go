package chat

import "testing"

func TestFuzzyScore(t *testing.T) {
	for _, tc := range []struct {
		q, name string
		ok      bool
	}{
		{"dpl", "deploys", true}, {"DEP", "deploys", true}, {"", "x", true}, {"d e", "design", true},
		{"sd", "deploys", false}, {"deployss", "deploys", false},
	} {
		if _, ok := FuzzyScore(tc.q, tc.name); ok != tc.ok {
			t.Errorf("FuzzyScore(%q, %q) matches = %v", tc.q, tc.name, ok)
		}
	}
	better := [][3]string{ // q, the better name, the worse one
		{"de", "design", "random-deploys"},
		{"gen", "general", "agent-genie"},
		{"ann", "ann", "annabel"},
		{"ds", "design-system", "dress"},
	}
	for _, b := range better {
		x, _ := FuzzyScore(b[0], b[1])
		y, _ := FuzzyScore(b[0], b[2])
		if x <= y {
			t.Errorf("%q: %q scores %d, %q %d; want the first higher", b[0], b[1], x, b[2], y)
		}
	}
	if p := SubsequencePattern(`a%_\ B`); p != `%a%\%%\_%\\%b%` {
		t.Errorf("pattern %q", p)
	}
}
