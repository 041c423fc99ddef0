package chat

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Scheduled is what a user asked to happen at a time: a message to send
// later (Kind ScheduledMessage, Body to RoomID) or a reminder (Kind
// ScheduledReminder: Body, and AboutID when it reminds of a message). A job
// of the queue runs it at At, once.
type Scheduled struct {
	ID      int64
	Kind    string
	UserID  int64
	RoomID  int64 // a message's room; 0 for a reminder
	AboutID int64 // the message a reminder is about; 0 for none
	Body    string
	At      time.Time
	State   string // ScheduledPending, ScheduledSent or ScheduledFailed
	Error   string // why it failed, for its user
	SentID  int64  // the message it became (or the reminder's notice)
	Created time.Time
	Done    time.Time

	Room Room // RoomID's room, when listed
}

// Kinds and states of Scheduled.
const (
	ScheduledMessage  = "message"
	ScheduledReminder = "reminder"

	ScheduledPending = "pending"
	ScheduledSent    = "sent"
	ScheduledFailed  = "failed"
)

// SystemName is the account the server speaks as: reminders, and what it
// did for a user. Nobody else may take it, or a name like it.
const SystemName = "agora"

// IsSystemName reports whether name could be mistaken for SystemName.
func IsSystemName(name string) bool {
	return slices.Contains(NameKeys(name), NameSkeleton(SystemName))
}

// Limits on what is scheduled: how far ahead, and how many may wait per
// user (each is a row and a job).
const (
	MaxLaterAhead   = 120 * 24 * time.Hour
	MaxLaterWaiting = 100
	// ReminderHour is the hour of day "tomorrow" means, in the user's zone.
	ReminderHour = 9
)

// CheckLaterTime refuses a time that has passed or is too far ahead; what
// is the thing being scheduled, for the message ("This message").
func CheckLaterTime(at, now time.Time, what string) error {
	if !at.After(now) {
		return Errorf(EInvalid, "%s is set for %s, which has passed: choose a time in the future.", what, at.Format("2006-01-02 15:04 MST"))
	}
	if at.Sub(now) > MaxLaterAhead {
		return Errorf(EInvalid, "%s is set for %s, more than %d days away: choose a time within %d days.", what,
			at.Format("2006-01-02 15:04 MST"), int(MaxLaterAhead.Hours()/24), int(MaxLaterAhead.Hours()/24))
	}
	return nil
}

// ParseSendAt reads a send_at field: YYYY-MM-DDTHH:MM (or with :SS, as a
// browser's datetime-local field may send it) in loc, or an RFC 3339 time.
func ParseSendAt(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	shown := s
	if len(shown) > 40 {
		shown = shown[:40] + "…"
	}
	return time.Time{}, Errorf(EInvalid, "send_at %q is not a time: write YYYY-MM-DDTHH:MM (in your time zone) or an RFC 3339 time such as 2026-12-24T09:00:00Z.",
		strings.ToValidUTF8(shown, "\uFFFD"))
}

// Reminder is a /remind command read: when, and of what.
type Reminder struct {
	At   time.Time
	Text string
}

// remindUsage is what /remind says when it cannot read its argument.
const remindUsage = "Write /remind me in 20m to …, /remind me at 15:00 …, or /remind me tomorrow …"

// ParseRemind reads the argument of /remind ("me in 20m to stretch", "me at
// 15:00 call Ann", "me tomorrow standup notes") as of now in loc. A time
// of day that has passed today is tomorrow's.
func ParseRemind(arg string, now time.Time, loc *time.Location) (Reminder, error) {
	words := strings.Fields(arg)
	if len(words) > 0 && strings.EqualFold(words[0], "me") {
		words = words[1:]
	}
	if len(words) == 0 {
		return Reminder{}, Errorf(EInvalid, "/remind needs when and what. %s", remindUsage)
	}
	var at time.Time
	var rest []string
	switch strings.ToLower(words[0]) {
	case "in":
		if len(words) < 2 {
			return Reminder{}, Errorf(EInvalid, "/remind me in… needs how long, as in 20m, 2h or 3 days. %s", remindUsage)
		}
		d, used, err := readDuration(words[1:])
		if err != nil {
			return Reminder{}, err
		}
		at, rest = now.Add(d), words[1+used:]
	case "at":
		if len(words) < 2 {
			return Reminder{}, Errorf(EInvalid, "/remind me at… needs a time, as in 15:00. %s", remindUsage)
		}
		t, used, err := readClock(words[1:], now, loc)
		if err != nil {
			return Reminder{}, err
		}
		at, rest = t, words[1+used:]
	case "tomorrow":
		at, rest = Tomorrow(now, loc), words[1:]
	default:
		return Reminder{}, Errorf(EInvalid, "I could not read when to remind you. %s", remindUsage)
	}
	if len(rest) > 0 && strings.EqualFold(rest[0], "to") {
		rest = rest[1:]
	}
	text := strings.Join(rest, " ")
	if text == "" {
		return Reminder{}, Errorf(EInvalid, "/remind needs what to remind you of. %s", remindUsage)
	}
	if err := CheckLaterTime(at, now, "This reminder"); err != nil {
		return Reminder{}, err
	}
	return Reminder{At: at, Text: text}, nil
}

// RemindIn reads the "remind me" field of a message's menu: 20m, 1h, 3h,
// tomorrow, or any length /remind me in takes.
func RemindIn(in string, now time.Time, loc *time.Location) (time.Time, error) {
	in = strings.TrimSpace(in)
	var at time.Time
	if strings.EqualFold(in, "tomorrow") {
		at = Tomorrow(now, loc)
	} else {
		words := strings.Fields(in)
		if len(words) == 0 || len(words) > 2 {
			return time.Time{}, Errorf(EInvalid, "Remind me in: choose 20m, 1h, 3h or tomorrow.")
		}
		d, used, err := readDuration(words)
		if err != nil || used != len(words) {
			return time.Time{}, Errorf(EInvalid, "Remind me in: choose 20m, 1h, 3h or tomorrow.")
		}
		at = now.Add(d)
	}
	return at, CheckLaterTime(at, now, "This reminder")
}

// Tomorrow is ReminderHour tomorrow, in loc.
func Tomorrow(now time.Time, loc *time.Location) time.Time {
	n := now.In(loc)
	return time.Date(n.Year(), n.Month(), n.Day()+1, ReminderHour, 0, 0, 0, loc)
}

// readDuration reads a length from the first one or two words: "20m",
// "1h30m", "-5m", "2 hours", "3 days". It returns how many words it used.
func readDuration(words []string) (time.Duration, int, error) {
	bad := Errorf(EInvalid, "%q is not a length of time I know: write 20m, 2h, 3d or 2 hours. %s", clip(words[0], 20), remindUsage)
	w := strings.ToLower(words[0])
	i := strings.IndexFunc(w, func(r rune) bool { return r != '-' && r != '+' && !unicode.IsDigit(r) })
	num, unit, used := w, "", 1
	if i >= 0 {
		num, unit = w[:i], w[i:]
	} else if len(words) > 1 {
		unit, used = strings.ToLower(words[1]), 2
	}
	n, err := strconv.Atoi(num)
	if err != nil || n > 1_000_000 || n < -1_000_000 {
		return 0, 0, bad
	}
	var per time.Duration
	switch strings.TrimSuffix(unit, "s") {
	case "m", "min", "minute", "mn":
		per = time.Minute
	case "h", "hr", "hour":
		per = time.Hour
	case "d", "day":
		per = 24 * time.Hour
	case "w", "wk", "week":
		per = 7 * 24 * time.Hour
	case "y", "yr", "year":
		per = 365 * 24 * time.Hour
	default:
		// Go's own form, such as 1h30m.
		if d, err := time.ParseDuration(w); err == nil && i >= 0 {
			return d, 1, nil
		}
		return 0, 0, bad
	}
	return time.Duration(n) * per, used, nil
}

// readClock reads "15:00", "3pm", "3:30pm", or a date and time
// ("2026-12-24 09:00", "2026-12-24T09:00"). It returns how many words it used.
func readClock(words []string, now time.Time, loc *time.Location) (time.Time, int, error) {
	w := strings.ToLower(words[0])
	if len(words) > 1 {
		if t, err := time.ParseInLocation("2006-01-02 15:04", words[0]+" "+words[1], loc); err == nil {
			return t, 2, nil
		}
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04", words[0], loc); err == nil {
		return t, 1, nil
	}
	var clock time.Time
	var err error
	for _, layout := range []string{"15:04", "3pm", "3:04pm", "15h04", "15h"} {
		if clock, err = time.Parse(layout, w); err == nil {
			break
		}
	}
	if err != nil {
		return time.Time{}, 0, Errorf(EInvalid, "%q is not a time of day I know: write 15:00 or 3pm. %s", clip(words[0], 20), remindUsage)
	}
	n := now.In(loc)
	at := time.Date(n.Year(), n.Month(), n.Day(), clock.Hour(), clock.Minute(), 0, 0, loc)
	if !at.After(now) {
		at = time.Date(n.Year(), n.Month(), n.Day()+1, clock.Hour(), clock.Minute(), 0, 0, loc)
	}
	return at, 1, nil
}

func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
