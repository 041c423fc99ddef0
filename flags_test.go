package main

import (
	"flag"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// readmeFlag is one flag as the README's configuration table gives it.
type readmeFlag struct {
	env, def string // def is "off" for a flag that is empty or false by default
}

// TestReadmeFlagTable holds the README's configuration table against the
// flags run really has: every flag is listed, nothing listed is missing, each
// with the environment variable that really sets it and its real default.
func TestReadmeFlagTable(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	table := readmeFlags(t, string(readme))

	// The environment variables run reads, and the flag each one sets: set one
	// at a time and see which flag's value moves.
	asked := map[string]bool{}
	fs, _, err := newFlags("agora", func(k string) string { asked[k] = true; return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	base := values(fs)
	envOf := map[string]string{}
	for key := range asked {
		moved := envSets(t, key, base)
		if len(moved) != 1 {
			t.Errorf("environment variable %s sets flags %v, want exactly one", key, moved)
			continue
		}
		envOf[moved[0]] = key
	}

	fs.VisitAll(func(f *flag.Flag) {
		row, ok := table[f.Name]
		if !ok {
			t.Errorf("flag -%s is not in the README's configuration table", f.Name)
			return
		}
		if row.env != envOf[f.Name] {
			t.Errorf("README gives -%s the environment variable %q; the code reads %q", f.Name, row.env, envOf[f.Name])
		}
		if env := envOf[f.Name]; env != "" && !strings.Contains(f.Usage, env) {
			t.Errorf("agora -h does not name %s in the help of -%s: %q", env, f.Name, f.Usage)
		}
		def := f.DefValue
		if def == "" || def == "false" {
			def = "off"
		}
		if row.def != def {
			t.Errorf("README gives -%s the default %q; the code has %q", f.Name, row.def, def)
		}
	})
	for name := range table {
		if fs.Lookup(name) == nil {
			t.Errorf("the README lists -%s, which agora does not have", name)
		}
	}
}

// envSets says which flags change when only key is set in the environment.
// Values are tried until one is accepted: a flag may take a word, a number,
// a duration or "1" for on.
func envSets(t *testing.T, key string, base map[string]string) []string {
	t.Helper()
	for _, v := range []string{"1", "7s", "7MB", "invite", "x.example:1"} {
		fs, _, err := newFlags("agora", func(k string) string {
			if k == key {
				return v
			}
			return ""
		}, io.Discard)
		if err != nil {
			continue
		}
		var moved []string
		for name, val := range values(fs) {
			if base[name] != val {
				moved = append(moved, name)
			}
		}
		if len(moved) > 0 {
			slices.Sort(moved)
			return moved
		}
	}
	return nil
}

func values(fs *flag.FlagSet) map[string]string {
	m := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { m[f.Name] = f.Value.String() })
	return m
}

var codeSpan = regexp.MustCompile("`([^`]*)`")

// readmeFlags reads the table under "## Configuration": | flag | environment |
// default | meaning |. A row may name several flags ("`-tls-cert`, `-tls-key`")
// with their variables in the same order; a variable may show its value
// ("`CHAT_GUESTS=1`"); a default is a code span or the word "off".
func readmeFlags(t *testing.T, readme string) map[string]readmeFlag {
	t.Helper()
	_, section, ok := strings.Cut(readme, "\n## Configuration\n")
	if !ok {
		t.Fatal(`README.md has no "## Configuration" section`)
	}
	flags := map[string]readmeFlag{}
	inTable := false
	for line := range strings.Lines(section) {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			if inTable {
				break
			}
			continue
		}
		inTable = true
		cells := splitRow(line)
		if len(cells) < 3 || cells[0] == "flag" || strings.HasPrefix(cells[0], "---") {
			continue
		}
		names := codes(cells[0])
		envs := codes(cells[1])
		for i := range envs {
			envs[i], _, _ = strings.Cut(envs[i], "=")
		}
		if len(envs) != 0 && len(envs) != len(names) {
			t.Errorf("README row %q: %d flags but %d environment variables", line, len(names), len(envs))
			continue
		}
		def := "off"
		if d := codes(cells[2]); len(d) == 1 {
			def = d[0]
		} else if cells[2] != "off" {
			t.Errorf("README row %q: the default is neither one code span nor \"off\"", line)
		}
		for i, n := range names {
			if !strings.HasPrefix(n, "-") {
				t.Errorf("README row %q: %q is not a flag", line, n)
				continue
			}
			f := readmeFlag{def: def}
			if len(envs) > 0 {
				f.env = envs[i]
			}
			if _, dup := flags[n[1:]]; dup {
				t.Errorf("README lists %s twice", n)
			}
			flags[n[1:]] = f
		}
	}
	if len(flags) == 0 {
		t.Fatal("README.md's configuration section has no table of flags")
	}
	return flags
}

// splitRow splits a Markdown table row on the pipes that are not escaped.
func splitRow(line string) []string {
	line = strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|")
	var cells []string
	start := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++ // an escaped character, a pipe among them
		case '|':
			cells = append(cells, strings.TrimSpace(line[start:i]))
			start = i + 1
		}
	}
	return append(cells, strings.TrimSpace(line[start:]))
}

func codes(cell string) []string {
	var out []string
	for _, m := range codeSpan.FindAllStringSubmatch(cell, -1) {
		out = append(out, strings.ReplaceAll(m[1], `\|`, "|"))
	}
	return out
}
