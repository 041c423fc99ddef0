// Package views renders agora's pages and the fragments broadcast to rooms.
// A fragment never depends on who receives it: per-viewer looks come from CSS
// keyed on data attributes (see /me.css).
package views

import (
	"context"
	"encoding/binary"
	"hash/fnv"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	templruntime "github.com/a-h/templ/runtime"

	"agora/chat"
	"agora/chat/markup"
	"agora/views/locale"
)

// Page is what every full page needs.
type Page struct {
	Title  string
	Query  string     // what was searched for, kept in the sidebar's search box
	User   *chat.User // nil when signed out
	Assets string     // version of the static assets, for cache busting
	Nav    Nav
	// Composer is set on pages with a message box: a second skip link leads to it.
	Composer bool
	// Side is a sidebar form sent back with what was typed and why it was
	// refused, so the error shows beside it and the page stays.
	Side SideForm
	// SideOpen unfolds the sidebar's "New room" and "Message someone".
	SideOpen bool
}

// SideForm is a refused sidebar form: which one ("room" or "dm"), its value
// and the reason.
type SideForm struct {
	Form, Value, Error string
}

// sideOpen is p with the sidebar's forms unfolded: on the lobby, where a
// new team makes its first rooms.
func (p Page) sideOpen() Page {
	p.SideOpen = true
	return p
}

func (f SideForm) valueFor(form string) string {
	if f.Form == form {
		return f.Value
	}
	return ""
}

func (f SideForm) errorFor(form string) string {
	if f.Form == form {
		return f.Error
	}
	return ""
}

// Nav is the sidebar: the rooms and direct conversations the user can see,
// with unread counts, and where they are.
type Nav struct {
	Rooms   []chat.NavRoom
	Current int64          // id of the room being shown, or 0
	Online  map[int64]bool // users with a socket open, for the dots beside direct conversations
	Creates bool           // may make rooms and direct conversations (guests may not)
	Threads int            // unread replies in the threads the user follows
}

// rooms are the rooms the sidebar lists: those the user is a member of.
func (n Nav) rooms() []chat.NavRoom {
	var out []chat.NavRoom
	for _, r := range n.filter(chat.KindRoom) {
		if r.Member {
			out = append(out, r)
		}
	}
	return out
}

// public are the rooms the user can see, joined or not, for the lobby.
func (n Nav) public() []chat.NavRoom { return n.filter(chat.KindRoom) }

func (n Nav) dms() []chat.NavRoom { return n.filter(chat.KindDM) }

func (n Nav) filter(kind string) []chat.NavRoom {
	var out []chat.NavRoom
	for _, r := range n.Rooms {
		if r.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

// navURL is where the sidebar links a room: direct conversations by the
// other person's name.
func navURL(r chat.NavRoom) string {
	if r.IsDM() {
		return "/dm/" + r.Peer.Username
	}
	return roomURL(r.Room)
}

func countText(n int) string {
	if n > 99 {
		return "99+"
	}
	return strconv.Itoa(n)
}

// AuthForm is the sign-up or log-in form with what was typed and what went wrong.
type AuthForm struct {
	Username string
	Next     string
	Error    string
	Guests   bool
	FirstRun bool // no account exists yet: the first becomes the admin
	// OIDC shows the button that signs in through the identity provider;
	// without PasswordLogin it is the only way in.
	OIDC          bool
	PasswordLogin bool
	// Signup is the server's signup mode ("open", "invite", "closed"): the
	// login page offers a new account only where one can be made.
	Signup string
}

// RoomView is the room page.
type RoomView struct {
	Room        chat.Room
	Peer        chat.User // the other person, in a direct conversation
	LastRead    int64     // the reader's read marker before this visit: "new messages" starts after it
	Me          int64     // the reader's id: their own messages are never "new"
	CanManage   bool      // the reader may remove members (the creator, or an admin)
	Seq         int64     // the room's log as far as the page shows it: the client asks for what follows
	Messages    []chat.Message
	Older       bool // there are messages before the first one shown
	Newer       bool // the page shows an older window, not live: newer messages exist
	Online      []chat.User
	Members     []chat.User // the room's members, for the member list and mention completion
	Notify      string      // the reader's notification level for the room; "" when not a member
	Topic       string
	MaxUpload   int64  // the largest file one upload may carry, in bytes
	ClientMsgID string // fresh for every render: a resend of the same form is stored once
	Draft       string // the text of a refused message, kept for another try
	Error       string
	Said        string // what the reader's last command did, told beside the composer
	// BotCommands are the commands bots registered, listed after the
	// built-ins.
	BotCommands []chat.CommandInfo
	// Clock is how the reader's times and days are shown (see Clock); Now
	// is when the page is made (the zero time: the clock's).
	Clock Clock
	Now   time.Time
	// Rendered, when set, is RoomMessages(v) already rendered for a reader
	// with the same ListLook, and RenderedMembers RoomMembers(v) with the
	// same members online: the page writes them as they are.
	Rendered, RenderedMembers Shared
	// Thread, when set, is a thread open beside the room (/threads/{id}).
	Thread *ThreadView
	// Read receipts, for a member who shows theirs: in a direct
	// conversation, Seen is the message the other person has read up to; in
	// a small room, SeenBy are those who read its last message. ReadSignal
	// says the page tells the server how far it is read (see ReadSignal).
	Seen       int64
	SeenBy     []chat.User
	ReadSignal bool
}

// ListLook is everything of one reader that RoomMessages depends on besides
// the messages and the room: where the "new messages" line goes, the zone
// and hours times are written in, and which day is today there.
type ListLook struct {
	Unread     int64
	Zone       string
	H12, Known bool
	Today      string
	// Receipts, Seen and SeenBy are the read receipts (SeenBy as the
	// readers' ids).
	Receipts bool
	Seen     int64
	SeenBy   string
	Lang     locale.Lang
}

// ListLook is the look of this page's message list.
func (v RoomView) ListLook() ListLook {
	now := v.Now
	if now.IsZero() {
		now = time.Now()
	}
	zone := v.Clock.zone()
	var seenBy strings.Builder
	for _, u := range v.SeenBy {
		seenBy.WriteString(strconv.FormatInt(u.ID, 10) + " ")
	}
	return ListLook{Unread: v.firstUnread(), Zone: zone.String(), H12: v.Clock.H12, Known: v.Clock.Known, Lang: v.Clock.Lang,
		Today: now.In(zone).Format("2006-01-02"), Receipts: v.ReadSignal, Seen: v.Seen, SeenBy: seenBy.String()}
}

// seenListed reports whether the message "Seen" goes under is in the list.
func (v RoomView) seenListed() bool {
	return v.Seen != 0 && slices.ContainsFunc(v.Messages, func(m chat.Message) bool { return m.ID == v.Seen })
}

// messageList is the page's list: rendered before, or now.
func (v RoomView) messageList() templ.Component {
	if v.Rendered == nil {
		return RoomMessages(v)
	}
	return rendered(v.Rendered)
}

// memberList is the page's member list: rendered before, or now.
func (v RoomView) memberList() templ.Component {
	if v.RenderedMembers == nil {
		return RoomMembers(v)
	}
	return rendered(v.RenderedMembers)
}

// Shared is markup rendered once and written as it is into many pages.
type Shared interface{ HTML() []byte }

// SharedWriter is a page's writer that keeps shared markup apart from the
// rest of the page instead of copying it in (it may have sent it before,
// compressed once for every page it goes into), and markup new on every
// render apart too, so the rest of the page is the same from one render
// to the next.
type SharedWriter interface {
	io.Writer
	WriteShared(Shared) error
	WriteFresh([]byte) error
}

// sharedWriter is the SharedWriter w writes to, if any, with what templ
// holds for it written first (templ buffers what components write, in
// front of the writer the page was given).
func sharedWriter(w io.Writer) (SharedWriter, error) {
	if b, ok := w.(*templruntime.Buffer); ok {
		if sw, ok := b.Underlying.(SharedWriter); ok {
			return sw, b.Flush()
		}
	}
	sw, _ := w.(SharedWriter)
	return sw, nil
}

// rendered writes s into the page: apart, when the page is written to a
// SharedWriter, else as its bytes.
func rendered(s Shared) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		sw, err := sharedWriter(w)
		if err != nil {
			return err
		}
		if sw != nil {
			return sw.WriteShared(s)
		}
		_, err = w.Write(s.HTML())
		return err
	})
}

// freshField is a hidden field whose value is new on every render (a
// composer's client_msg_id): apart from the rest of the page when the page
// is written to a SharedWriter.
func freshField(name, value string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		field := []byte(`<input type="hidden" name="` + templ.EscapeString(name) + `" value="` + templ.EscapeString(value) + `">`)
		sw, err := sharedWriter(w)
		if err != nil {
			return err
		}
		if sw != nil {
			return sw.WriteFresh(field)
		}
		_, err = w.Write(field)
		return err
	})
}

// MembersKey names what RoomMembers shows besides the members themselves:
// who is online, and how each member shows.
func (v RoomView) MembersKey() uint64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v.OnlineKey())
	h.Write(b[:])
	h.Write([]byte{byte(v.Clock.Lang)})
	for _, u := range v.Members {
		h.Write([]byte(u.Presence.State))
		h.Write([]byte{0})
		h.Write([]byte(u.Presence.Label))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// OnlineKey names who is online, for caching RoomMembers: a hash of the
// online users' ids, in order.
func (v RoomView) OnlineKey() uint64 {
	ids := make([]int64, len(v.Online))
	for i, u := range v.Online {
		ids[i] = u.ID
	}
	slices.Sort(ids)
	h := fnv.New64a()
	var b [8]byte
	for _, id := range ids {
		binary.LittleEndian.PutUint64(b[:], uint64(id))
		h.Write(b[:])
	}
	return h.Sum64()
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

// timeShort is a message's time as a page without JavaScript shows it, zone
// included; app.js puts the reader's own time in its place.
func timeShort(t time.Time) string { return t.UTC().Format("15:04 MST") }

func timeTitle(t time.Time) string { return t.UTC().Format("Mon 2 Jan 2006, 15:04 MST") }

// RoomTitle is how a room is named in titles: #name.
func RoomTitle(r chat.Room) string { return "#" + r.Name }

// Title is how the page names what it shows: #room, or @person for a direct conversation.
func (v RoomView) Title() string {
	if v.Room.IsDM() {
		return "@" + v.Peer.Name()
	}
	return RoomTitle(v.Room)
}

// firstUnread is the id of the first message after the read marker that
// someone else wrote, or 0: the "new messages" line goes above it.
func (v RoomView) firstUnread() int64 {
	if v.LastRead <= 0 {
		return 0
	}
	for _, m := range v.Messages {
		if m.ID > v.LastRead && m.AuthorID != v.Me && m.Kind == chat.MessageText {
			return m.ID
		}
	}
	return 0
}

func lower(s string) string { return strings.ToLower(s) }

func typingText(ctx context.Context, users []chat.User) string {
	switch len(users) {
	case 0:
		return ""
	case 1:
		return tsf(ctx, "typing.one", "Name", users[0].Name())
	case 2:
		return tsf(ctx, "typing.two", "Name", users[0].Name(), "Other", users[1].Name())
	default:
		return ts(ctx, "typing.several")
	}
}

// mentionList is the space-separated lower-case usernames a parsed message
// mentions (see markup.Message), for CSS such as [data-mentions~="bob"].
func mentionList(m chat.Message) string { return strings.Join(m.Mentions, " ") }

// messageURL is /messages/{id}/{action}, or /messages/{id} for no action.
func messageURL(id int64, action string) string {
	if action == "" {
		return "/messages/" + strconv.FormatInt(id, 10)
	}
	return "/messages/" + strconv.FormatInt(id, 10) + "/" + action
}

func reactionTitle(r chat.Reaction) string { return strings.Join(r.Names, ", ") }

func reactionUsers(r chat.Reaction) string { return strings.Join(r.Users, " ") }

func reactionCount(r chat.Reaction) string { return strconv.Itoa(len(r.Users)) }

// reactionsOf returns the message's reactions: those of the offered set in
// its order, then any other emoji in the order they came.
func reactionsOf(m chat.Message) []chat.Reaction {
	out := make([]chat.Reaction, 0, len(m.Reactions))
	for _, e := range chat.ReactionEmoji {
		for _, r := range m.Reactions {
			if r.Emoji == e && len(r.Users) > 0 {
				out = append(out, r)
			}
		}
	}
	for _, r := range m.Reactions {
		if len(r.Users) > 0 && !slices.Contains(chat.ReactionEmoji, r.Emoji) {
			out = append(out, r)
		}
	}
	return out
}

// hitURL opens a search hit in its room, scrolled to the message.
func hitURL(h chat.SearchHit) string {
	if h.Message.ThreadID != 0 {
		// A reply is found in its thread.
		return threadURL(h.Message.ThreadID) + "#" + messageDOMID(h.Message.ID)
	}
	return permalink(h.Room, h.Message.ID)
}

// permalink is a message's lasting address: its room, opened around it.
func permalink(r chat.Room, msgID int64) string {
	id := strconv.FormatInt(msgID, 10)
	return "/rooms/" + r.Slug + "?around=" + id + "#message-" + id
}

func hitPlace(h chat.SearchHit) string {
	if h.Room.IsDM() {
		return "@" + h.Peer.Name()
	}
	return RoomTitle(h.Room)
}

func resultCount(ctx context.Context, n int) string {
	if n == 0 {
		return ts(ctx, "search.found_none")
	}
	return tsn(ctx, "search.found", n)
}

// oidcHref is the OIDC sign-in's address, carrying the page asked for.
func oidcHref(next string) string {
	if next == "" {
		return "/login/oidc"
	}
	return "/login/oidc?next=" + url.QueryEscape(next)
}

// PreviewImageURL is the address of a message's preview picture; the
// preview's fetch time names its version, so a newer picture is never taken
// from a cache.
func PreviewImageURL(m chat.Message) string {
	return messageURL(m.ID, "preview/image") + "?v=" + strconv.FormatInt(m.Preview.FetchedAt.UnixMilli(), 10)
}

func previewDOMID(id int64) string { return "preview-" + strconv.FormatInt(id, 10) }

// PreviewInPlace reports whether a page showing the message as it stood
// before its preview came or went has the preview's slot, so that the
// change can be sent as PreviewUpdate alone: it has unless the message was
// deleted, or edited so that it links nowhere while a preview came.
func PreviewInPlace(m chat.Message) bool {
	return !m.Deleted() && (m.Preview == nil || markup.FirstLink(m.Spans) != "")
}

// CustomEmojiURL is the address of a custom emoji's picture.
func CustomEmojiURL(name string) string { return "/emoji/" + name }
