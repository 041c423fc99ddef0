package views

import (
	"context"
	"strconv"
	"strings"
	"time"

	"agora/chat"
	"agora/views/locale"
)

// groupGap is how close one author's messages must follow each other to be
// shown as one group (app.js's groupGap is the same).
const groupGap = 5 * time.Minute

// Clock is how times are shown to one reader: their zone, and whether their
// language counts hours to twelve. Both come from cookies app.js sets (see
// handlers/zone.go). Zone alone places the day lines; with Known the times
// themselves are written as app.js would write them, so it has nothing to
// redo when the page opens (formatting times in the browser costs it a
// time-zone and language database, tens of milliseconds on a phone). The
// zero Clock is UTC with times left to app.js: live fragments, rendered once
// for every reader, use it.
type Clock struct {
	Zone  *time.Location
	H12   bool
	Known bool
	Lang  locale.Lang // the language days and months are named in
}

func (c Clock) zone() *time.Location {
	if c.Zone == nil {
		return time.UTC
	}
	return c.Zone
}

// short is a message's time as app.js's formatter writes it for this reader
// ("13:05", or "01:05 PM" where hours count to twelve).
func (c Clock) short(t time.Time) string {
	if c.H12 {
		return t.In(c.zone()).Format("03:04 PM")
	}
	return t.In(c.zone()).Format("15:04")
}

func (c Clock) title(t time.Time) string {
	t = t.In(c.zone())
	if c.Lang == locale.English {
		// The catalog's English pattern, written by time's own formatter:
		// one allocation for every message of a page.
		if c.H12 {
			return t.Format("Mon 2 Jan 2006, 3:04 PM MST")
		}
		return t.Format("Mon 2 Jan 2006, 15:04 MST")
	}
	hm := t.Format("15:04")
	if c.H12 {
		hm = t.Format("3:04 PM")
	}
	zone, _ := t.Zone()
	return c.date("date.full", t, "Time", hm, "Zone", zone)
}

// Catalog keys of the days' and months' names, long and short, so that
// Clock names them as Go's time package does in English.
var (
	weekdayKeys = [7]string{"date.sunday", "date.monday", "date.tuesday", "date.wednesday", "date.thursday", "date.friday", "date.saturday"}
	wdKeys      = [7]string{"date.sun", "date.mon", "date.tue", "date.wed", "date.thu", "date.fri", "date.sat"}
	monthKeys   = [12]string{"date.january", "date.february", "date.march", "date.april", "date.may", "date.june", "date.july", "date.august", "date.september", "date.october", "date.november", "date.december"}
	monKeys     = [12]string{"date.jan", "date.feb", "date.mar", "date.apr", "date.may_short", "date.jun", "date.jul", "date.aug", "date.sep", "date.oct", "date.nov", "date.dec"}
)

// date writes t with the pattern key names in the reader's language,
// given the day's and month's names and any more placeholders in args.
func (c Clock) date(key string, t time.Time, args ...string) string {
	return locale.Text(c.Lang, key, append([]string{
		"Weekday", locale.Text(c.Lang, weekdayKeys[t.Weekday()]),
		"Wd", locale.Text(c.Lang, wdKeys[t.Weekday()]),
		"Day", strconv.Itoa(t.Day()),
		"Month", locale.Text(c.Lang, monthKeys[t.Month()-1]),
		"Mon", locale.Text(c.Lang, monKeys[t.Month()-1]),
		"Year", strconv.Itoa(t.Year()),
	}, args...)...)
}

// offset is the zone's offset from UTC at t in minutes: app.js compares it
// with the browser's and writes the time again if the reader has moved.
func (c Clock) offset(t time.Time) string {
	_, off := t.In(c.zone()).Zone()
	return strconv.Itoa(off / 60)
}

// listing is how a message shows in a list made for one reader (a page);
// its zero value is the shared fragment's.
type listing struct {
	Grouped bool
	Clock   Clock
}

// timelineEntry is a message of a page's list with the lines drawn above it.
type timelineEntry struct {
	Msg     chat.Message
	Day     string // a day line above it ("Today", "Yesterday", a date), or empty
	Unread  bool   // the "New messages" line above it (below the day line)
	Grouped bool   // it continues its author's run: no name or avatar of its own
}

// timeline lays out the page's messages as app.js's decorate would: a line
// for each day in the reader's zone and runs of one author grouped. The page
// arrives with them in place, so nothing moves when the script starts;
// decorate then only keeps them right as messages come and go. Live
// fragments are rendered once for every reader and carry neither: app.js
// groups those.
func (v RoomView) timeline() []timelineEntry {
	zone := v.Clock.zone()
	now := v.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.In(zone)
	unread := v.firstUnread()
	out := make([]timelineEntry, len(v.Messages))
	var prevDay string
	var prev *chat.Message // the message a group may continue from; nil after a notice, a day or the unread line
	for i, m := range v.Messages {
		e := timelineEntry{Msg: m, Unread: m.ID == unread}
		at := m.CreatedAt.In(zone)
		if day := at.Format("2006-01-02"); day != prevDay {
			e.Day = v.Clock.dayLabel(at, now)
			prevDay = day
			prev = nil
		}
		if e.Unread {
			prev = nil
		}
		isText := m.Kind != chat.MessageNotice
		e.Grouped = isText && prev != nil && strings.EqualFold(prev.Author, m.Author) &&
			!m.CreatedAt.Before(prev.CreatedAt) && m.CreatedAt.Sub(prev.CreatedAt) < groupGap
		if isText {
			prev = &v.Messages[i]
		} else {
			prev = nil
		}
		out[i] = e
	}
	return out
}

// dayLabel names the day of t as seen on the day of now (both in the reader's
// zone). app.js names days in the reader's language and corrects the text in
// place if it differs; the line itself stays.
func (c Clock) dayLabel(t, now time.Time) string {
	y, m, d := t.Date()
	ny, nm, nd := now.Date()
	switch {
	case y == ny && m == nm && d == nd:
		return locale.Text(c.Lang, "date.today")
	case time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC).Equal(time.Date(ny, nm, nd, 0, 0, 0, 0, time.UTC)):
		return locale.Text(c.Lang, "date.yesterday")
	case y == ny:
		return c.date("date.day", t)
	default:
		return c.date("date.day_year", t)
	}
}

// timeTitleIn is t written in full, in UTC, in ctx's language: as
// timeTitle writes it for English, with the catalog's pattern otherwise.
// (app.js writes it again in the reader's zone where it runs.)
func timeTitleIn(ctx context.Context, t time.Time) string {
	l := locale.From(ctx)
	if l == locale.English {
		return timeTitle(t)
	}
	return Clock{Lang: l}.title(t)
}
