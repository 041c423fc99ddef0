package chat

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Notification levels of a member for one room.
const (
	NotifyAll      = "all"      // every message is worth telling them of
	NotifyMentions = "mentions" // mentions and direct messages (the default)
	NotifyNothing  = "nothing"  // no unread count, no email or push; mentions still counted
)

// ValidNotifyLevel checks a level asked for.
func ValidNotifyLevel(level string) error {
	switch level {
	case NotifyAll, NotifyMentions, NotifyNothing:
		return nil
	}
	return Errorf(EInvalid, "The level is all, mentions or nothing.")
}

// Presence states shown beside a person.
const (
	StateActive = "active"
	StateAway   = "away"
	StateDND    = "dnd"
)

// AwayAfter is how long a person may go without doing anything on any
// device before they show as away.
const AwayAfter = 10 * time.Minute

// Status limits.
const (
	MaxStatusText  = 100
	MaxStatusEmoji = 16 // bytes: one emoji, perhaps with modifiers and joiners
	MaxDND         = 7 * 24 * time.Hour
)

// Status is what a person says of themselves, and when they last did
// something.
type Status struct {
	Text     string
	Emoji    string
	DNDUntil time.Time // do not disturb until then; zero: not set
	Away     bool      // away by their own word, until they say otherwise
	ActiveAt time.Time // when one of their devices last did something
}

// DND reports whether the person does not want to be disturbed at now.
func (s Status) DND(now time.Time) bool { return s.DNDUntil.After(now) }

// State is how the person shows at now: dnd while do-not-disturb lasts;
// else away when they said so, when no device of theirs is connected
// (online false), or when none did anything for AwayAfter; else active.
func (s Status) State(online bool, now time.Time) string {
	switch {
	case s.DND(now):
		return StateDND
	case s.Away || !online || now.Sub(s.ActiveAt) >= AwayAfter:
		return StateAway
	}
	return StateActive
}

// Label is the status as a line to show: the emoji and the text.
func (s Status) Label() string {
	parts := make([]string, 0, 3)
	if s.Emoji != "" {
		parts = append(parts, s.Emoji)
	}
	if s.Text != "" {
		parts = append(parts, s.Text)
	}
	return strings.Join(parts, " ")
}

// ValidateStatus checks the text and emoji a person sets; the emoji may be
// written as a :shortcode:.
func ValidateStatus(text, emoji string) (string, string, error) {
	text, emoji = strings.TrimSpace(text), strings.TrimSpace(ReplaceShortcodes(strings.TrimSpace(emoji)))
	if !utf8.ValidString(text) || !utf8.ValidString(emoji) {
		return "", "", Errorf(EInvalid, "The status is not valid text.")
	}
	if utf8.RuneCountInString(text) > MaxStatusText {
		return "", "", Errorf(EInvalid, "A status is at most %d characters.", MaxStatusText)
	}
	for _, r := range text + emoji {
		if r < 0x20 || r == 0x7f {
			return "", "", Errorf(EInvalid, "A status is one line of text.")
		}
	}
	notEmoji := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) || r == ':' }
	if len(emoji) > MaxStatusEmoji || strings.ContainsFunc(emoji, notEmoji) {
		return "", "", Errorf(EInvalid, "The status emoji is one emoji, such as 📅 or :calendar:.")
	}
	return text, emoji, nil
}

// Presence is how a person shows beside their name: StateActive, StateAway
// or StateDND, and their status line.
type Presence struct {
	State string
	Label string // the emoji and text together
	Emoji string
}

// Presence is how the person shows at now.
func (s Status) Presence(online bool, now time.Time) Presence {
	return Presence{State: s.State(online, now), Label: s.Label(), Emoji: s.Emoji}
}

// SplitStatus reads what /status was given: a first word that is an emoji
// (📅, or a shortcode such as :calendar:) is the status emoji, the rest
// its text. A first word of letters is text, emoji or not.
func SplitStatus(arg string) (text, emoji string) {
	arg = strings.TrimSpace(arg)
	first, rest, _ := strings.Cut(arg, " ")
	e := ReplaceShortcodes(first)
	if first == "" || !strings.ContainsFunc(e, func(r rune) bool { return unicode.Is(unicode.So, r) }) {
		return arg, ""
	}
	return strings.TrimSpace(rest), first
}

// DNDUntilTomorrow is the hour of the next morning that "/dnd tomorrow"
// lasts until, in the person's zone.
const DNDUntilTomorrow = 9

// ParseDND reads how long /dnd was asked for: "30m", "1h", "2h30m", "3d",
// or "tomorrow" (until DNDUntilTomorrow o'clock the next day in loc). A
// length outside 1 minute to MaxDND is refused, saying what is taken.
func ParseDND(arg string, now time.Time, loc *time.Location) (time.Duration, error) {
	arg = strings.ToLower(strings.TrimSpace(arg))
	if arg == "tomorrow" {
		t := now.In(loc)
		return time.Date(t.Year(), t.Month(), t.Day()+1, DNDUntilTomorrow, 0, 0, 0, loc).Sub(now), nil
	}
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(arg, "d"); ok && days != "" && !strings.ContainsAny(days, "hms") {
		var n float64
		if n, err = strconv.ParseFloat(days, 64); err == nil && n <= 10000 {
			d = time.Duration(n * 24 * float64(time.Hour))
		} else if err == nil {
			d = MaxDND + 1
		}
	} else {
		d, err = time.ParseDuration(arg)
	}
	if arg == "" || err != nil {
		return 0, Errorf(EInvalid, "/dnd takes how long, as in /dnd 30m, /dnd 1h, /dnd 2h or /dnd tomorrow; /dnd off ends it.")
	}
	if d < time.Minute || d > MaxDND {
		return 0, Errorf(EInvalid, "Do not disturb lasts from 1 minute to 7 days.")
	}
	return d, nil
}
