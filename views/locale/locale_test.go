package locale

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestCatalogsMatchEnglish: every language has every key English has, with
// the same placeholders, and no key English lacks (a key renamed in English
// and left behind elsewhere).
func TestCatalogsMatchEnglish(t *testing.T) {
	c, err := Catalogs()
	if err != nil {
		t.Fatal(err)
	}
	en := c.Keys(English)
	if len(en) < 100 {
		t.Fatalf("the English catalog has %d keys", len(en))
	}
	for _, l := range All()[1:] {
		keys := c.Keys(l)
		for _, k := range en {
			want, _ := c.Placeholders(English, k)
			got, ok := c.Placeholders(l, k)
			if !ok {
				t.Errorf("%s.json lacks %q", l.Code(), k)
				continue
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(want, got) {
				t.Errorf("%s.json's %q has placeholders %v, English's %v", l.Code(), k, got, want)
			}
			if c.Plural(English, k) && !c.Plural(l, k) {
				t.Errorf("%s.json's %q has no forms for counts, English's has", l.Code(), k)
			}
			if strings.TrimSpace(Text(l, k)) == "" && strings.TrimSpace(Text(English, k)) != "" {
				t.Errorf("%s.json's %q is empty", l.Code(), k)
			}
		}
		for _, k := range keys {
			if _, ok := c.Placeholders(English, k); !ok {
				t.Errorf("%s.json has %q, which English has not", l.Code(), k)
			}
		}
	}
}

// TestCatalogKeysUsed: every English key is used by the code (a key is
// written out in full where it is looked up), and every "say." text is one
// the code writes, so a catalog holds nothing dead.
func TestCatalogKeysUsed(t *testing.T) {
	c, err := Catalogs()
	if err != nil {
		t.Fatal(err)
	}
	var src strings.Builder
	for _, dir := range []string{"..", "../../handlers", "../../chat", "../../db"} {
		for _, pat := range []string{"*.go", "*.templ"} {
			files, _ := filepath.Glob(filepath.Join(dir, pat))
			for _, f := range files {
				if strings.HasSuffix(f, "_test.go") || strings.HasSuffix(f, "_templ.go") {
					continue
				}
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				src.Write(b)
			}
		}
	}
	code := src.String()
	for _, k := range c.Keys(English) {
		if strings.HasPrefix(k, SayPrefix) {
			text := Text(English, k)
			if names, _ := c.Placeholders(English, k); len(names) > 0 {
				// A pattern: each literal piece between its values is in
				// the code, around a %s or %d (or %q) verb.
				for _, piece := range regexp.MustCompile(`\{\{\.\w+\}\}`).Split(text, -1) {
					if q := strconv.Quote(piece); piece != "" && !strings.Contains(code, piece) && !strings.Contains(code, q[1:len(q)-1]) {
						t.Errorf("%q (%q): %q is said nowhere in the code", k, text, piece)
					}
				}
				continue
			}
			if q := strconv.Quote(text); !strings.Contains(code, text) && !strings.Contains(code, q[1:len(q)-1]) {
				t.Errorf("%q (%q) is said nowhere in the code", k, text)
			}
			continue
		}
		if !strings.Contains(code, `"`+k+`"`) {
			t.Errorf("%q is used nowhere in the code", k)
		}
	}
}

func TestLookups(t *testing.T) {
	de := With(context.Background(), German)
	if got := T(de, "composer.send"); got != "Senden" {
		t.Errorf("German composer.send is %q", got)
	}
	if got := T(context.Background(), "composer.send"); got != "Send" {
		t.Errorf("a context without a language gives %q, want English", got)
	}
	if got := T(de, "no.such.key"); got != "no.such.key" {
		t.Errorf("a key no catalog has gives %q, want the key", got)
	}
	if got := F(de, "room.leave", "Room", "#allgemein"); got != "#allgemein verlassen" {
		t.Errorf("German room.leave is %q", got)
	}
	if got := F(With(context.Background(), French), "typing.two", "Name", "Ann", "Other", "Bo"); got != "Ann et Bo écrivent…" {
		t.Errorf("French typing.two is %q", got)
	}
	if got, want := Say(de, "Wrong username or password."), "Benutzername oder Passwort falsch."; got != want {
		t.Errorf("said in German: %q, want %q", got, want)
	}
	if got := Say(de, "Something no catalog says."); got != "Something no catalog says." {
		t.Errorf("an unknown text is said as %q", got)
	}
	if _, ok := Parse("de"); !ok {
		t.Error("de does not parse")
	}
	if _, ok := Parse("../en"); ok {
		t.Error("a path parses as a language")
	}
}

// TestPlurals: a count picks the language's form, French counting 0 as one.
func TestPlurals(t *testing.T) {
	for _, tc := range []struct {
		l    Lang
		n    int
		want string
	}{
		{English, 1, "1 member"}, {English, 0, "0 members"}, {English, 2, "2 members"},
		{German, 1, "1 Mitglied"}, {German, 5, "5 Mitglieder"},
		{French, 0, "0 membre"}, {French, 1, "1 membre"}, {French, 2, "2 membres"},
		{Spanish, 1, "1 miembro"}, {Spanish, 3, "3 miembros"},
	} {
		if got := Count(tc.l, "count.members", tc.n); got != tc.want {
			t.Errorf("%s, %d: %q, want %q", tc.l.Code(), tc.n, got, tc.want)
		}
	}
}

// TestLookupAllocates: a plain text is a map read.
func TestLookupAllocates(t *testing.T) {
	de := With(context.Background(), German)
	if n := testing.AllocsPerRun(100, func() { _ = T(de, "composer.send") }); n != 0 {
		t.Errorf("a lookup allocates %v times", n)
	}
}

func TestCompileRefusesPrograms(t *testing.T) {
	for _, bad := range []string{"{{.A}", "{{ .A }}", "{{.A.B}}", "{{call .F}}", "{{.A | printf}}", "{{}}"} {
		if _, err := compile(bad); err == nil {
			t.Errorf("%q compiles", bad)
		}
	}
}

// TestSayWithValues: a text made with values in it is read in another
// language with the same values; one that matches no pattern stays as it
// was made.
func TestSayWithValues(t *testing.T) {
	de := With(context.Background(), German)
	for _, tc := range []struct{ en, want string }{
		{"The picture is 3 MB; it may be 2 MB at most.", "Das Bild ist 3 MB groß; erlaubt sind höchstens 2 MB."},
		{`The name "bob" is taken, or looks too much like one that is.`, `Der Name "bob" ist vergeben oder einem vergebenen zu ähnlich.`},
		{"#plans is archived.", "#plans ist archiviert."},
		{"ann is no longer in @design.", "ann ist nicht mehr in @design."},
		{"This command is 4001 characters long; the limit is 4000.", "Dieser Befehl ist 4001 Zeichen lang; erlaubt sind 4000."},
		{"#plans is archived: nothing can be posted to it.", "#plans ist archiviert: Dort kann nichts mehr geschrieben werden."},
		{" is archived.", " is archived."}, // no value: not the pattern
		{"Something nobody wrote, 42 times.", "Something nobody wrote, 42 times."},
	} {
		if got := Say(de, tc.en); got != tc.want {
			t.Errorf("Say(de, %q) = %q, want %q", tc.en, got, tc.want)
		}
	}
	if got := Say(context.Background(), "#plans is archived."); got != "#plans is archived." {
		t.Errorf("English changed: %q", got)
	}
}
