// Package locale holds agora's message catalogs (English, the source, and
// German, French and Spanish) and looks their texts up for the language a
// request was given. The catalogs are go-i18n message files embedded in the
// binary; they are parsed once, on first use, into a table per language, so
// a lookup on a page is a map read that allocates nothing.
package locale

import (
	"context"
	"embed"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

//go:embed *.json
var files embed.FS

// Lang is one of the languages agora speaks. The zero Lang is English, the
// default and the catalog every other one is checked against.
type Lang uint8

const (
	English Lang = iota
	German
	French
	Spanish
	numLangs
)

var (
	tags  = [numLangs]language.Tag{language.English, language.German, language.French, language.Spanish}
	codes = [numLangs]string{"en", "de", "fr", "es"}
	// names are each language's name in itself, as a picker lists them.
	names = [numLangs]string{"English", "Deutsch", "Français", "Español"}
)

// All is every language, English first.
func All() []Lang { return []Lang{English, German, French, Spanish} }

// Code is the language's BCP 47 code, as <html lang> and the profile store it.
func (l Lang) Code() string { return codes[l] }

// Name is the language's name in itself ("Deutsch").
func (l Lang) Name() string { return names[l] }

// Tag is the language's tag, for matching and plural rules.
func (l Lang) Tag() language.Tag { return tags[l] }

// Parse reads a code as Code writes it; anything else is not a language.
func Parse(code string) (Lang, bool) {
	for i, c := range codes {
		if c == code {
			return Lang(i), true
		}
	}
	return English, false
}

type ctxKey struct{}

// With is ctx carrying the language its pages are written in.
func With(ctx context.Context, l Lang) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// From is the language ctx carries: English when none (fragments rendered
// once for every reader are written in the source language).
func From(ctx context.Context) Lang {
	l, _ := ctx.Value(ctxKey{}).(Lang)
	return l
}

// text is one form of a message: literal pieces around named placeholders
// ({{.Name}} in the catalog), so that writing it is concatenation.
type text struct {
	lit   []string // len(names)+1 pieces
	names []string
}

// entry is a message in one language: its other form, and the forms a
// count may pick (plural.Form indexes them; empty ones fall back to other).
type entry struct {
	forms [plural.Many + 1]*text
}

func (e *entry) form(f plural.Form) *text {
	if int(f) < len(e.forms) && e.forms[f] != nil {
		return e.forms[f]
	}
	return e.forms[plural.Other]
}

// Catalog is every language's table, made once from the embedded files.
type Catalog struct {
	tables [numLangs]map[string]*entry
	// said is the English text of every "say." key: texts the server
	// writes in English where they are made (page titles, errors, flash
	// messages in handlers and chat) and a page translates when it shows
	// them, so chat stays free of catalogs.
	said map[string]string
	// sayings are the "say." keys with placeholders: texts made with
	// values in them ("The picture is 3 MB; it may be 2 MB at most."),
	// matched against their English pattern and written again in the
	// reader's language with the same values.
	sayings []saying
}

// saying is a "say." key whose English text has placeholders.
type saying struct {
	key     string
	english *text
}

// SayPrefix begins the keys of texts looked up by their English.
const SayPrefix = "say."

var load = sync.OnceValues(func() (*Catalog, error) { return parse(files) })

// Catalogs is the parsed catalogs; an error means an embedded file is bad,
// which the tests catch before a build ships.
func Catalogs() (*Catalog, error) { return load() }

func must() *Catalog {
	c, err := load()
	if err != nil {
		panic("locale: " + err.Error())
	}
	return c
}

func parse(fsys embed.FS) (*Catalog, error) {
	c := &Catalog{}
	for l := range numLangs {
		name := codes[l] + ".json"
		buf, err := fsys.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read catalog %s: %w", name, err)
		}
		mf, err := i18n.ParseMessageFileBytes(buf, name, nil)
		if err != nil {
			return nil, fmt.Errorf("parse catalog %s: %w", name, err)
		}
		t := make(map[string]*entry, len(mf.Messages))
		for _, m := range mf.Messages {
			e := &entry{}
			for f, s := range map[plural.Form]string{plural.Zero: m.Zero, plural.One: m.One, plural.Two: m.Two, plural.Few: m.Few, plural.Many: m.Many, plural.Other: m.Other} {
				if s == "" {
					continue
				}
				if e.forms[f], err = compile(s); err != nil {
					return nil, fmt.Errorf("catalog %s, %s: %w", name, m.ID, err)
				}
			}
			if e.forms[plural.Other] == nil {
				return nil, fmt.Errorf("catalog %s, %s: no other form", name, m.ID)
			}
			t[m.ID] = e
		}
		c.tables[l] = t
	}
	c.said = map[string]string{}
	for k, e := range c.tables[English] {
		if t := e.forms[plural.Other]; strings.HasPrefix(k, SayPrefix) && len(t.names) > 0 {
			c.sayings = append(c.sayings, saying{key: k, english: t})
			continue
		}
		if strings.HasPrefix(k, SayPrefix) {
			if other, dup := c.said[e.forms[plural.Other].lit[0]]; dup {
				return nil, fmt.Errorf("catalog en.json: %s and %s say the same", k, other)
			}
			c.said[e.forms[plural.Other].lit[0]] = k
		}
	}
	// In one order, so that a text two patterns could read is always read
	// by the same one.
	slices.SortFunc(c.sayings, func(a, b saying) int { return strings.Compare(a.key, b.key) })
	return c, nil
}

// compile splits a catalog text at its placeholders. Only {{.Name}} is
// allowed: a catalog is data, and a translator's text is never a program.
func compile(s string) (*text, error) {
	t := &text{}
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			t.lit = append(t.lit, s)
			return t, nil
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("unclosed {{ in %q", s)
		}
		name := s[i+2 : i+j]
		if len(name) < 2 || name[0] != '.' || strings.ContainsAny(name[1:], " .|()\"") {
			return nil, fmt.Errorf("placeholder %q is not {{.Name}}", name)
		}
		t.lit = append(t.lit, s[:i])
		t.names = append(t.names, name[1:])
		s = s[i+j+2:]
	}
}

func (t *text) write(args []string) string {
	if len(t.names) == 0 {
		return t.lit[0]
	}
	var b strings.Builder
	for i, n := range t.names {
		b.WriteString(t.lit[i])
		b.WriteString(arg(args, n))
	}
	b.WriteString(t.lit[len(t.lit)-1])
	return b.String()
}

// arg is the value named n in args (name, value, name, value...).
func arg(args []string, n string) string {
	for i := 0; i+1 < len(args); i += 2 {
		if args[i] == n {
			return args[i+1]
		}
	}
	return "{{." + n + "}}"
}

// lookup is key's entry in l, else in English; nil when English lacks it
// too (a test makes sure every key used is in English).
func (c *Catalog) lookup(l Lang, key string) *entry {
	if e, ok := c.tables[l][key]; ok {
		return e
	}
	return c.tables[English][key]
}

// T is the text of key in ctx's language.
func T(ctx context.Context, key string) string { return Text(From(ctx), key) }

// Text is the text of key in l; the key itself if no catalog has it.
func Text(l Lang, key string, args ...string) string {
	e := must().lookup(l, key)
	if e == nil {
		return key
	}
	return e.forms[plural.Other].write(args)
}

// Say is an English text the server made elsewhere (a title, an error, a
// flash message) in ctx's language, when a catalog has it as a "say." key;
// any other text is written as it is.
func Say(ctx context.Context, english string) string {
	l := From(ctx)
	if l == English || english == "" {
		return english
	}
	return SayIn(l, english)
}

// SayIn is Say for a language given.
func SayIn(l Lang, english string) string {
	c := must()
	k, ok := c.said[english]
	if !ok {
		said, _ := c.sayWithValues(l, english)
		return said
	}
	if e, ok := c.tables[l][k]; ok {
		return e.forms[plural.Other].lit[0]
	}
	return english
}

// sayWithValues is SayIn for a text made with values in it: the first
// "say." pattern it matches, in l, with the values it matched. The values
// are written as they came (a name, a number, a size).
func (c *Catalog) sayWithValues(l Lang, english string) (string, bool) {
	for _, s := range c.sayings {
		args, ok := s.english.match(english)
		if !ok {
			continue
		}
		e, ok := c.tables[l][s.key]
		if !ok {
			return english, true
		}
		return e.forms[plural.Other].write(args), true
	}
	return english, false
}

// match reads s as t with values in place of its placeholders: each value
// runs up to the first place where the literal after it follows (the last
// one, to the end less the final literal), and none is empty.
func (t *text) match(s string) (args []string, ok bool) {
	if !strings.HasPrefix(s, t.lit[0]) {
		return nil, false
	}
	s = s[len(t.lit[0]):]
	for i, n := range t.names {
		after := t.lit[i+1]
		var v string
		if i == len(t.names)-1 {
			if !strings.HasSuffix(s, after) || len(s) == len(after) {
				return nil, false
			}
			v, s = s[:len(s)-len(after)], ""
		} else {
			j := strings.Index(s[min(1, len(s)):], after)
			if after == "" || j < 0 {
				return nil, false
			}
			j += min(1, len(s))
			v, s = s[:j], s[j+len(after):]
		}
		args = append(args, n, v)
	}
	return args, true
}

// F is key's text in ctx's language with its placeholders filled from args,
// given as name, value pairs: F(ctx, "room.leave", "Room", name).
func F(ctx context.Context, key string, args ...string) string {
	return Text(From(ctx), key, args...)
}

// N is key's text for a count of n in ctx's language: the plural form the
// language's rules pick, with {{.Count}} the number and args as in F.
func N(ctx context.Context, key string, n int, args ...string) string {
	return Count(From(ctx), key, n, args...)
}

// Count is N for a language given.
func Count(l Lang, key string, n int, args ...string) string {
	e := must().lookup(l, key)
	if e == nil {
		return key
	}
	// Only the first two go to the rules, so a count never allocates
	// beyond the text it makes.
	f := plural.Cardinal.MatchPlural(tags[l], abs(n), 0, 0, 0, 0)
	return e.form(f).write(append([]string{"Count", strconv.Itoa(n)}, args...))
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// Keys is every key of l's catalog, for the tests that compare catalogs.
func (c *Catalog) Keys(l Lang) []string {
	keys := make([]string, 0, len(c.tables[l]))
	for k := range c.tables[l] {
		keys = append(keys, k)
	}
	return keys
}

// Placeholders is the names key's text in l uses, in every form, sorted
// and without repeats; ok is false when l lacks key.
func (c *Catalog) Placeholders(l Lang, key string) (names []string, ok bool) {
	e, ok := c.tables[l][key]
	if !ok {
		return nil, false
	}
	seen := map[string]bool{}
	for _, t := range e.forms {
		if t == nil {
			continue
		}
		for _, n := range t.names {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	return names, true
}

// Plural reports whether key in l has forms for counts.
func (c *Catalog) Plural(l Lang, key string) bool {
	e := c.tables[l][key]
	if e == nil {
		return false
	}
	for f, t := range e.forms {
		if t != nil && plural.Form(f) != plural.Other {
			return true
		}
	}
	return false
}
