package views

import (
	"strings"
	"time"

	"agora/chat"
)

// groupGap is how close one author's messages must follow each other to be
// shown as one group (app.js's groupGap is the same).
const groupGap = 5 * time.Minute

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
	zone := v.Zone
	if zone == nil {
		zone = time.UTC
	}
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
			e.Day = dayLabel(at, now)
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
func dayLabel(t, now time.Time) string {
	y, m, d := t.Date()
	ny, nm, nd := now.Date()
	switch {
	case y == ny && m == nm && d == nd:
		return "Today"
	case time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC).Equal(time.Date(ny, nm, nd, 0, 0, 0, 0, time.UTC)):
		return "Yesterday"
	case y == ny:
		return t.Format("Monday, 2 January")
	default:
		return t.Format("Monday, 2 January 2006")
	}
}
