package chat

import (
	"slices"
	"strings"
	"sync"

	"github.com/forPelevin/gomoji"
)

// The emoji catalogue: every emoji Unicode lists (emoji-test.txt, as the
// gomoji package carries it), for the picker and for reactions. The picker
// shows each emoji once, in its fully-qualified form and without skin tones
// (a person picks a tone by searching "tone"); a reaction may be any of them.

// Emoji is one emoji of the catalogue.
type Emoji struct {
	Char string
	Name string // Unicode's name, such as "grinning face"
	Code string // a shortcode that names it, when there is one
	find string // what a search looks in, in lower case
}

// EmojiGroup is a heading of the picker and its emoji.
type EmojiGroup struct {
	Name  string
	Emoji []Emoji
}

type emojiCatalogue struct {
	groups []EmojiGroup
	all    []Emoji // the groups' emoji, then skin tones
}

var catalogue = sync.OnceValue(func() emojiCatalogue {
	codeOf := map[string]string{}
	for _, code := range ShortcodeNames() {
		if e := shortcodes[code]; codeOf[e] == "" {
			codeOf[e] = code
		}
	}
	// Of an emoji's forms (unqualified, fully qualified), the longest is the
	// fully-qualified one, which every platform draws as an emoji.
	bySlug := map[string]gomoji.Emoji{}
	for _, e := range gomoji.AllEmojis() {
		if e.Group == "Component" {
			continue
		}
		if had, ok := bySlug[e.Slug]; !ok || len(e.Character) > len(had.Character) {
			bySlug[e.Slug] = e
		}
	}
	list := make([]gomoji.Emoji, 0, len(bySlug))
	for _, e := range bySlug {
		list = append(list, e)
	}
	// Unicode's order: by subgroup where we know it (smiling faces first,
	// as every picker opens), then by code point, the newer (supplementary)
	// ones first: faces before the older symbols.
	ranks := make(map[string]int, len(emojiSubgroupOrder))
	for i, sub := range emojiSubgroupOrder {
		ranks[sub] = i + 1
	}
	rank := func(sub string) int {
		if r := ranks[sub]; r > 0 {
			return r
		}
		return len(emojiSubgroupOrder) + 1
	}
	slices.SortFunc(list, func(a, b gomoji.Emoji) int {
		if c := rank(a.SubGroup) - rank(b.SubGroup); c != 0 {
			return c
		}
		return strings.Compare(sortKey(a.CodePoint), sortKey(b.CodePoint))
	})
	var c emojiCatalogue
	var tones []Emoji
	index := map[string]int{}
	for _, g := range emojiGroupOrder {
		index[g] = len(c.groups)
		c.groups = append(c.groups, EmojiGroup{Name: g})
	}
	for _, e := range list {
		em := Emoji{Char: e.Character, Name: emojiName(e.UnicodeName), Code: codeOf[e.Character]}
		em.find = strings.ToLower(em.Name + " " + strings.ReplaceAll(em.Code, "_", " "))
		if strings.Contains(e.Slug, "skin-tone") {
			tones = append(tones, em)
			continue
		}
		i, ok := index[e.Group]
		if !ok {
			i = index["Symbols"]
		}
		c.groups[i].Emoji = append(c.groups[i].Emoji, em)
	}
	for _, g := range c.groups {
		c.all = append(c.all, g.Emoji...)
	}
	c.all = append(c.all, tones...)
	return c
})

// emojiSubgroupOrder is Unicode's order of the subgroups people look
// through most; the rest follow by code point.
var emojiSubgroupOrder = []string{
	"face-smiling", "face-affection", "face-tongue", "face-hand", "face-neutral-skeptical", "face-sleepy",
	"face-unwell", "face-hat", "face-glasses", "face-concerned", "face-negative", "face-costume",
	"cat-face", "monkey-face", "heart", "emotion",
	"hand-fingers-open", "hand-fingers-partial", "hand-single-finger", "hand-fingers-closed", "hands",
	"hand-prop", "body-parts", "person", "person-gesture", "person-role", "person-fantasy",
	"person-activity", "person-sport", "person-resting", "family", "person-symbol",
	"animal-mammal", "animal-bird", "animal-amphibian", "animal-reptile", "animal-marine", "animal-bug",
	"plant-flower", "plant-other",
	"food-fruit", "food-vegetable", "food-prepared", "food-asian", "food-marine", "food-sweet", "drink", "dishware",
}

var emojiGroupOrder = []string{"Smileys & Emotion", "People & Body", "Animals & Nature", "Food & Drink",
	"Travel & Places", "Activities", "Objects", "Symbols", "Flags"}

// sortKey pads each code point so that strings compare as numbers do, and
// puts emoji from the supplementary planes before the older ones.
func sortKey(codePoints string) string {
	var b strings.Builder
	if first, _, _ := strings.Cut(codePoints, " "); len(first) < 5 {
		b.WriteByte('~')
	}
	for _, cp := range strings.Fields(codePoints) {
		b.WriteString(strings.Repeat("0", max(0, 6-len(cp))))
		b.WriteString(cp)
		b.WriteByte(' ')
	}
	return b.String()
}

// emojiName drops the version Unicode puts before a name ("E0.6 grinning
// face").
func emojiName(unicodeName string) string {
	if v, name, ok := strings.Cut(unicodeName, " "); ok && strings.HasPrefix(v, "E") {
		return name
	}
	return unicodeName
}

// EmojiGroups is the picker's catalogue, grouped.
func EmojiGroups() []EmojiGroup { return catalogue().groups }

// SearchEmoji returns up to limit emoji whose name or shortcode holds every
// word of q, in the catalogue's order.
func SearchEmoji(q string, limit int) []Emoji {
	words := strings.Fields(strings.ToLower(strings.ReplaceAll(q, ":", " ")))
	if len(words) == 0 {
		return nil
	}
	var out []Emoji
	for _, e := range catalogue().all {
		if !slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(e.find, w) }) {
			if out = append(out, e); len(out) == limit {
				break
			}
		}
	}
	return out
}

// ValidateEmoji accepts an emoji of the catalogue, in any of its forms.
func ValidateEmoji(e string) error {
	if slices.Contains(ReactionEmoji, e) {
		return nil
	}
	if _, err := gomoji.GetInfo(e); err == nil && e != "" && len(e) <= 64 {
		return nil
	}
	return Errorf(EInvalid, "A reaction must be one emoji.")
}
