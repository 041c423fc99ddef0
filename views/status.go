package views

import (
	"context"
	"fmt"
	"time"

	"agora/chat"
	"agora/views/locale"
)

// stateOf is how u shows: active, away or dnd ("" where the page did not
// say).
func stateOf(u chat.User) string { return u.Presence.State }

// stateWords are the catalog keys of the states' words.
var stateWords = map[string]string{chat.StateActive: "presence.active", chat.StateAway: "presence.away", chat.StateDND: "presence.dnd"}

// presenceTitle says how u shows in words: the state, then their status line.
func presenceTitle(ctx context.Context, u chat.User) string {
	var t string
	if k := stateWords[u.Presence.State]; k != "" {
		t = ts(ctx, k)
	}
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
	return locale.Text(f.Clock.Lang, "status.dnd_until", "Time", f.Clock.title(f.Status.DNDUntil))
}

var notifyOptions = []struct{ level, label string }{
	{chat.NotifyAll, "notify.all"},
	{chat.NotifyMentions, "notify.mentions"},
	{chat.NotifyNothing, "notify.nothing"},
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
