package views

import (
	"fmt"
	"time"

	"agora/chat"
)

// stateOf is how u shows: active, away or dnd ("" where the page did not
// say).
func stateOf(u chat.User) string { return u.Presence.State }

var stateWords = map[string]string{chat.StateActive: "active", chat.StateAway: "away", chat.StateDND: "do not disturb"}

// presenceTitle says how u shows in words: the state, then their status line.
func presenceTitle(u chat.User) string {
	t := stateWords[u.Presence.State]
	if u.Presence.Label != "" {
		if t != "" {
			t += " · "
		}
		t += u.Presence.Label
	}
	return t
}

// statusMark is what stands beside u's name for their status: their emoji,
// or a muted bell while they do not want to be disturbed.
func statusMark(u chat.User) string {
	if u.Presence.Emoji != "" {
		return u.Presence.Emoji
	}
	if u.Presence.State == chat.StateDND {
		return "🔕"
	}
	return ""
}

// StatusForm is the status part of the profile page.
type StatusForm struct {
	Status chat.Status
	Now    time.Time
	Clock  Clock
	Error  string
	Saved  bool
}

// dndText says until when do not disturb lasts, or "".
func (f StatusForm) dndText() string {
	if !f.Status.DND(f.Now) {
		return ""
	}
	return "Do not disturb is on until " + f.Clock.title(f.Status.DNDUntil) + "."
}

var notifyOptions = []struct{ level, label string }{
	{chat.NotifyAll, "Every message"},
	{chat.NotifyMentions, "Mentions of me"},
	{chat.NotifyNothing, "Nothing (no unread count)"},
}

// clockText is minutes after midnight as HH:MM, "" for none.
func clockText(m int) string {
	if m < 0 {
		return ""
	}
	return fmt.Sprintf("%02d:%02d", m/60, m%60)
}

// quietHint says what the quiet time does, and in which zone it is kept.
func quietHint(n chat.NotifySettings) string {
	zone := n.Zone
	if zone == "" {
		zone = "UTC"
	}
	if n.QuietStart < 0 {
		return "No pushes in this time (for example 22:00 to 07:00). Times are in your zone, " + zone + "."
	}
	return "No pushes from " + clockText(n.QuietStart) + " to " + clockText(n.QuietEnd) + ", " + zone + ". Leave both empty for none."
}
