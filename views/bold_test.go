package views

import (
	"context"
	"strings"
	"testing"
)

// Bold text never shows a literal "**" inside it.
func TestBoldHoldsNoLiteralStars(t *testing.T) {
	for in, want := range map[string]string{
		"**a ** b**":    "**a ** b**",
		"**a **b** c**": "**a <strong>b</strong> c**",
		"**bold**":      "<strong>bold</strong>",
		"**x****":       "<strong>x</strong>**",
		"**a*b**":       "<strong>a*b</strong>",
		"**a **":        "**a **",
	} {
		var b strings.Builder
		if err := messageBody(in).Render(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		if got := b.String(); got != want {
			t.Errorf("%q renders as %q, want %q", in, got, want)
		}
		if i := strings.Index(b.String(), "<strong>"); i >= 0 {
			inner := b.String()[i:strings.Index(b.String(), "</strong>")]
			if strings.Contains(inner, "**") {
				t.Errorf("%q: bold text holds a literal **: %q", in, inner)
			}
		}
	}
}
