// Package views renders agora's pages and the fragments broadcast to rooms.
// A fragment never depends on who receives it: per-viewer looks come from CSS
// keyed on data attributes (see /me.css).
package views

import (
	"strconv"
	"strings"
	"time"

	"agora/chat"
)

// Page is what every full page needs.
type Page struct {
	Title  string
	User   *chat.User // nil when signed out
	Assets string     // version of the static assets, for cache busting
	Nav    Nav
}

// Nav is the sidebar: the rooms the user can see, and where they are.
type Nav struct {
	Rooms   []chat.Room
	Current int64 // id of the room being shown, or 0
}

// AuthForm is the sign-up or log-in form with what was typed and what went wrong.
type AuthForm struct {
	Username string
	Next     string
	Error    string
	Guests   bool
}

// RoomView is the room page.
type RoomView struct {
	Room        chat.Room
	Messages    []chat.Message
	Older       bool // there are messages before the first one shown
	Newer       bool // the page shows an older window; newer messages exist
	Online      []chat.User
	ClientMsgID string // fresh for every render: a resend of the same form is stored once
	Draft       string // the text of a refused message, kept for another try
	Error       string
}

// LastID is the id of the last message shown, 0 when none.
func (v RoomView) LastID() int64 {
	if len(v.Messages) == 0 {
		return 0
	}
	return v.Messages[len(v.Messages)-1].ID
}

func roomURL(r chat.Room) string { return "/rooms/" + r.Slug }

func olderURL(r chat.Room, before int64) string {
	return "/rooms/" + r.Slug + "/messages?before=" + strconv.FormatInt(before, 10)
}

func olderPageURL(r chat.Room, before int64) string {
	return "/rooms/" + r.Slug + "?before=" + strconv.FormatInt(before, 10)
}

func messageDOMID(id int64) string { return "message-" + strconv.FormatInt(id, 10) }

func idString(id int64) string { return strconv.FormatInt(id, 10) }

func timeAttr(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func timeShort(t time.Time) string { return t.UTC().Format("15:04") }

func timeTitle(t time.Time) string { return t.UTC().Format("Mon 2 Jan 2006, 15:04 MST") }

// RoomTitle is how a room is named in titles: #name, or @name for a direct conversation.
func RoomTitle(r chat.Room) string {
	if r.Kind == chat.KindDM {
		return "@" + r.Name
	}
	return "#" + r.Name
}

func lower(s string) string { return strings.ToLower(s) }

func typingText(users []chat.User) string {
	switch len(users) {
	case 0:
		return ""
	case 1:
		return users[0].Name() + " is typing…"
	case 2:
		return users[0].Name() + " and " + users[1].Name() + " are typing…"
	default:
		return "Several people are typing…"
	}
}

// mentionList is the space-separated lower-case usernames a message mentions,
// for CSS such as [data-mentions~="bob"].
func mentionList(m chat.Message) string { return strings.Join(Mentions(m.Body), " ") }
