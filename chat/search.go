package chat

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// SearchQuery is what a search box's text asks for. ParseSearch makes it;
// the store turns it into SQL. The words are only ever letters and digits,
// so no engine's query syntax can reach the engine through them.
type SearchQuery struct {
	Words   []string   // every one required
	Prefix  bool       // the last of Words may be the start of a word
	Phrases [][]string // each a run of words that must appear in order
	Exclude [][]string // words or phrases no result holds
	From    []string   // usernames: written by any of them
	InRooms []string   // room slugs: in any of them (or InDMs)
	InDMs   []string   // usernames: in the direct conversation with any of them
	Has     []string   // SearchHas values, each required
	Is      []string   // SearchIs values, each required
	After   time.Time  // when not zero, written at or after it
	Before  time.Time  // when not zero, written before it
	// Unknown are the names typed as filters that are not ones ("body:"),
	// searched for as words instead.
	Unknown []string
}

// Notice says what became of q.Unknown, or "".
func (q SearchQuery) Notice() string {
	if len(q.Unknown) == 0 {
		return ""
	}
	names := make([]string, len(SearchFilters))
	for i, f := range SearchFilters {
		names[i] = f + ":"
	}
	return fmt.Sprintf("%s: not a search filter, so searched for as text. The filters are %s.",
		strings.Join(q.Unknown, ", "), strings.Replace(orList(names), " or ", " and ", 1))
}

// The values has: and is: take.
var (
	SearchHas = []string{"file", "image", "link"}
	SearchIs  = []string{"pinned", "saved", "thread"}
)

// SearchFilters are the operators ParseSearch knows, in the order the
// search page lists them.
var SearchFilters = []string{"from", "in", "has", "before", "after", "on", "is"}

// maxSearchWords bounds the words (in phrases and exclusions too) one
// search asks the engine for.
const maxSearchWords = 16

// Empty reports whether q asks for nothing: no words and no filter.
func (q SearchQuery) Empty() bool {
	return len(q.Words) == 0 && len(q.Phrases) == 0 && len(q.Exclude) == 0 && len(q.From) == 0 &&
		len(q.InRooms) == 0 && len(q.InDMs) == 0 && len(q.Has) == 0 && len(q.Is) == 0 &&
		q.After.IsZero() && q.Before.IsZero()
}

// HasText reports whether q asks for words or phrases to be present.
func (q SearchQuery) HasText() bool { return len(q.Words) > 0 || len(q.Phrases) > 0 }

// ParseSearch reads what a person typed into a search box: words (the last
// one as a prefix), "exact phrases", -exclusions and the filters
// from:username, in:#room, in:@username, has:file|image|link,
// before:/after:/on:YYYY-MM-DD (days in zone) and is:pinned|saved|thread.
// Anything else is words: quotes, stars, parentheses and operators of the
// engines' syntaxes are only ever searched for as text, and so is name:value
// where name is not a filter (q.Unknown lists them, for a notice). A filter
// with a value it does not take is an error that says what it takes.
func ParseSearch(text string, zone *time.Location) (SearchQuery, error) {
	var q SearchQuery
	words := 0
	take := func(ws []string) []string {
		if n := maxSearchWords - words; len(ws) > n {
			ws = ws[:max(n, 0)]
		}
		words += len(ws)
		return ws
	}
	lastPlain := false
	for _, tok := range searchTokens(text) {
		lastPlain = false
		switch {
		case tok.quoted && tok.minus:
			if ws := take(SearchWords(tok.text)); len(ws) > 0 {
				q.Exclude = append(q.Exclude, ws)
			}
		case tok.quoted:
			if ws := take(SearchWords(tok.text)); len(ws) > 0 {
				q.Phrases = append(q.Phrases, ws)
			}
		case tok.minus:
			for _, w := range take(SearchWords(tok.text)) {
				q.Exclude = append(q.Exclude, []string{w})
			}
		default:
			if name, value, ok := searchFilter(tok.text); ok {
				name = strings.ToLower(name)
				if slices.Contains(SearchFilters, name) {
					if err := q.filter(name, value, zone); err != nil {
						return SearchQuery{}, err
					}
					continue
				}
				if u := strconv.Quote(name + ":"); !slices.Contains(q.Unknown, u) {
					q.Unknown = append(q.Unknown, u)
				}
			}
			ws := take(SearchWords(tok.text))
			q.Words = append(q.Words, ws...)
			lastPlain = len(ws) > 0
		}
	}
	q.Prefix = lastPlain
	return q, nil
}

// SearchWords cuts text into the words of letters and digits the engines'
// indexes hold.
func SearchWords(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

type searchToken struct {
	text          string
	quoted, minus bool
}

// searchTokens cuts text at spaces, keeping "quoted runs" whole and
// marking a leading - on either. An unclosed quote is a word being typed.
func searchTokens(text string) []searchToken {
	var toks []searchToken
	for text = strings.TrimLeftFunc(text, unicode.IsSpace); text != ""; text = strings.TrimLeftFunc(text, unicode.IsSpace) {
		var t searchToken
		if strings.HasPrefix(text, `-"`) || (strings.HasPrefix(text, "-") && len(text) > 1 && !unicode.IsSpace(rune(text[1]))) {
			t.minus, text = true, text[1:]
		}
		if end := strings.IndexByte(text[min(1, len(text)):], '"'); strings.HasPrefix(text, `"`) && end >= 0 {
			t.quoted = true
			t.text, text = text[1:end+1], text[end+2:]
		} else {
			end := strings.IndexFunc(text, unicode.IsSpace)
			if end < 0 {
				end = len(text)
			}
			t.text, text = text[:end], text[end:]
		}
		toks = append(toks, t)
	}
	return toks
}

// searchFilter splits name:value where name is letters alone and value is
// not empty; "http://..." is a link, not a filter.
func searchFilter(tok string) (name, value string, ok bool) {
	name, value, ok = strings.Cut(tok, ":")
	if !ok || name == "" || value == "" || strings.HasPrefix(value, "//") {
		return "", "", false
	}
	for _, r := range name {
		if r > unicode.MaxASCII || !unicode.IsLetter(r) {
			return "", "", false
		}
	}
	return name, value, true
}

func (q *SearchQuery) filter(name, value string, zone *time.Location) error {
	switch name {
	case "from":
		u := strings.ToLower(strings.TrimPrefix(value, "@"))
		if !searchName(u) {
			return Errorf(EInvalid, "from: takes a username, as in from:ann (not %q).", value)
		}
		q.From = append(q.From, u)
	case "in":
		switch {
		case strings.HasPrefix(value, "@") && searchName(value[1:]):
			q.InDMs = append(q.InDMs, strings.ToLower(value[1:]))
		case searchName(strings.TrimPrefix(value, "#")):
			q.InRooms = append(q.InRooms, strings.ToLower(strings.TrimPrefix(value, "#")))
		default:
			return Errorf(EInvalid, "in: takes a room or a person, as in in:#general or in:@ann (not %q).", value)
		}
	case "has":
		v := strings.ToLower(value)
		if !slices.Contains(SearchHas, v) {
			return Errorf(EInvalid, "has: takes %s (not %q).", orList(SearchHas), value)
		}
		q.Has = append(q.Has, v)
	case "is":
		v := strings.ToLower(value)
		if !slices.Contains(SearchIs, v) {
			return Errorf(EInvalid, "is: takes %s (not %q).", orList(SearchIs), value)
		}
		q.Is = append(q.Is, v)
	case "before", "after", "on":
		if zone == nil {
			zone = time.UTC
		}
		day, err := time.ParseInLocation(time.DateOnly, value, zone)
		if err != nil {
			return Errorf(EInvalid, "%s: takes a day written YYYY-MM-DD, as in %s:2026-03-31 (not %q).", name, name, value)
		}
		// The days from start up to end; a zero end is open.
		start, end := day, day.AddDate(0, 0, 1)
		switch name {
		case "after":
			start, end = end, time.Time{}
		case "before":
			start, end = time.Time{}, start
		}
		if start.After(q.After) {
			q.After = start
		}
		if !end.IsZero() && (q.Before.IsZero() || end.Before(q.Before)) {
			q.Before = end
		}
	}
	return nil
}

// searchName: what a username or a room's slug may hold.
func searchName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' && r != '.' {
			return false
		}
	}
	return true
}

func orList(vs []string) string {
	return strings.Join(vs[:len(vs)-1], ", ") + " or " + vs[len(vs)-1]
}
