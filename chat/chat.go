// Package chat holds agora's domain: users, rooms, messages, the events that
// change a room, the errors they raise and the rules they follow. It imports
// nothing else of agora's.
package chat

import "time"

// User is an account (or, with guests on, a guest) as the rest of the app sees it.
type User struct {
	ID          int64
	Username    string
	DisplayName string
	IsAdmin     bool
	IsGuest     bool
	IsBot       bool // speaks only through its API token; shown with a "bot" tag
	CreatedAt   time.Time
	Deactivated bool   // by an admin: cannot sign in; everything they wrote stays
	Avatar      int64  // when their picture was set (Unix ms), 0 for none: initials are shown
	Theme       string // ThemeSystem, ThemeLight or ThemeDark
	Language    string // one of Languages, or "" to follow the browser's Accept-Language
	// Presence is how they show beside their name where a page or frame
	// says so (presence, member lists, direct conversations); the store
	// leaves it empty.
	Presence Presence
}

// Themes a person may choose; the system's follows their device.
const (
	ThemeSystem = "system"
	ThemeLight  = "light"
	ThemeDark   = "dark"
)

// ValidTheme reports whether t is a theme one may choose.
func ValidTheme(t string) bool { return t == ThemeSystem || t == ThemeLight || t == ThemeDark }

// Languages are the codes of the languages agora's pages are written in,
// English (the default) first.
var Languages = []string{"en", "de", "fr", "es"}

// ValidLanguage reports whether code is one a person may choose; "" follows
// the browser.
func ValidLanguage(code string) bool {
	if code == "" {
		return true
	}
	for _, l := range Languages {
		if l == code {
			return true
		}
	}
	return false
}

// Name is what other people see: the display name, or the username when none is set.
func (u User) Name() string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Username
}

// Room kinds.
const (
	KindRoom = "room"
	KindDM   = "dm"
)

// Room is a place messages are posted to: a public or private room, or a
// direct conversation between two users.
type Room struct {
	ID        int64
	Slug      string
	Name      string
	Kind      string
	Private   bool
	CreatedBy int64
	CreatedAt time.Time
	Archived  bool // by an admin: read-only, out of the sidebars
}

// IsDM reports whether the room is a direct conversation.
func (r Room) IsDM() bool { return r.Kind == KindDM }

// Message kinds: what people write, and what the server writes about them
// (joins, leaves, renames).
const (
	MessageText   = "text"
	MessageNotice = "notice"
)

// Message is one entry in a room's timeline.
type Message struct {
	ID           int64
	RoomID       int64
	Kind         string
	AuthorID     int64
	Author       string // the author's username, for data-author and links
	AuthorName   string // the author's display name at render time
	AuthorGuest  bool
	AuthorBot    bool
	AuthorAvatar int64 // the author's picture, as User.Avatar
	Body         string
	ClientMsgID  string
	Seq          int64    // the room's sequence number of the event that created it
	Mentions     []string // lower-case names the body mentions (users and groups); stored with the message
	// Groups are the lower-case names of the groups the body mentions,
	// stored with the message so that every later render shows them as
	// group mentions (see chat/markup.MarkGroups).
	Groups []string
	// Emoji are the names of the custom emoji the body's :name: codes name,
	// found by the store when it writes the body and kept with it, so that
	// every later render shows them as pictures (chat/markup.MarkEmoji).
	Emoji []string `json:",omitempty"`
	// GroupMembers are the lower-case usernames a group mention reached when
	// the message was sent: the members of its Groups who could read the
	// room, its author aside. The store keeps them as mentions; a message
	// read from the store has none (the mentions table has them).
	GroupMembers []string
	CreatedAt    time.Time
	EditedAt     time.Time // zero when never edited
	DeletedAt    time.Time // zero when not deleted
	Reactions    []Reaction
	File         *File // the attached file, if any; Body is then an optional caption
	// Change is what a notice changed about its room (its name, topic,
	// archived state), or nil. The notice carries it so that every open
	// page of the room, and every one catching up later, updates its header
	// in the room's own order.
	Change *RoomChange
	// Notice is what a notice the server wrote says, as words to look up
	// in the reader's language; Body keeps it in English, for the API and
	// search. nil for notices written before it was kept, which show Body.
	Notice *NoticeText `json:",omitempty"`
	// ThreadID is the root of the thread a reply belongs to; 0 for a
	// message of the room itself. InRoom says a reply was also sent to the
	// room's list.
	ThreadID int64
	InRoom   bool
	// Thread is, for a root, its replies' summary (nil while it has none);
	// for a reply, its root's summary as it stands after the reply.
	Thread *ThreadSummary
	// Spans is the body parsed (chat/markup.Message does it, and sets
	// Mentions from the same parse): a text message is parsed once when it
	// is sent, and the store, the renderer and notifications use the
	// result. nil until parsed, as for a message read from the store.
	Spans []Span
	// Preview is the first linked page's preview, once the job queue has
	// fetched it (see EventPreview); nil when there is none or its author
	// removed it.
	Preview *LinkPreview `json:",omitempty"`
}

// ThreadSummary is what a root shows of its thread: how many replies, when
// the last one came, and the latest few who replied.
type ThreadSummary struct {
	RootID   int64
	Count    int
	LastAt   time.Time
	Repliers []User // newest first, at most MaxRepliers; Username, DisplayName and Avatar only
}

// MaxRepliers is how many repliers' faces a thread's summary shows.
const MaxRepliers = 3

// IsReply reports whether the message belongs to a thread.
func (m Message) IsReply() bool { return m.ThreadID != 0 }

// InRoomList reports whether the message shows in its room's list: every
// message but a reply not also sent to the room.
func (m Message) InRoomList() bool { return m.ThreadID == 0 || m.InRoom }

// NavThread is a thread a user follows, as their feed counts it.
type NavThread struct {
	RootID   int64
	Room     Room
	Member   bool // of the root's room
	Unread   int  // replies by others after the user's last read
	LatestID int64
	LastAt   time.Time // of its last reply; zero when it has none
}

// Span is one piece of a message body: text, a link, a mention, code, bold
// or italic text, a block. chat/markup makes them and names their kinds; the
// type is here so that a message carries its parsed body.
type Span struct {
	Kind SpanKind
	Text string // what is shown
	Arg  string // the href of a link, the lower-case username of a mention
	Kids []Span // the content of bold and italic text
}

// SpanKind says how a Span is shown (see chat/markup).
type SpanKind uint8

// RoomChange is a change to a room's header, as its notice carries it.
type RoomChange struct {
	Name     string  `json:"name,omitempty"`     // the new name; "" when unchanged
	Topic    *string `json:"topic,omitempty"`    // the new topic ("" clears it); nil when unchanged
	Archived *bool   `json:"archived,omitempty"` // archived (read-only) or open again; nil when unchanged
	// Pin pins a message of the room, or unpins it; nil when unchanged.
	Pin *PinChange `json:"pin,omitempty"`
}

// NoticeText is a notice as a catalog key (views/locale's "notice." keys)
// and the values of its placeholders, as name, value pairs.
type NoticeText struct {
	Key  string   `json:"key"`
	Args []string `json:"args,omitempty"`
}

// PinChange is a message of the room pinned for everyone in it, or unpinned.
type PinChange struct {
	Message int64 `json:"message"`
	Pinned  bool  `json:"pinned"`
}

// ErrArchived refuses anything that would write into an archived room.
var ErrArchived = Errorf(EForbidden, "This room is archived: it is read-only.")

// Reaction is one emoji on a message and who chose it.
type Reaction struct {
	Emoji string
	Users []string // lower-case usernames, in the order they reacted
	Names []string // their display names, same order
}

// ReactionEmoji are the reactions offered first, in this order: the first
// QuickReactions in a message's menu, the rest a click further. Any emoji
// of the catalogue (see emoji.go) is accepted.
var ReactionEmoji = []string{"👍", "❤️", "😂", "🎉", "😮", "👀",
	"🙏", "🔥", "✅", "👏", "🚀", "💯", "😄", "😅", "🤔", "😢", "👎", "❌",
	"🙌", "👋", "💡", "⭐", "☕", "🎂"}

// QuickReactions is how many of ReactionEmoji a message's menu shows at once.
const QuickReactions = 6

// NavRoom is a room or direct conversation as the sidebar lists it for one user.
type NavRoom struct {
	Room
	Member   bool
	Unread   int
	Mentions int
	Peer     User   // the other person of a direct conversation
	Notify   string // the member's notification level (NotifyAll...); "" where not a member
	// LatestID is the id of the room's newest message when the counts were
	// read: a later one is not in them.
	LatestID int64
}

// SearchHit is a message found by search, with the room it is in and the
// matched words marked in Snippet by SnippetStart and SnippetEnd.
type SearchHit struct {
	Message Message
	Room    Room
	Peer    User // for a direct conversation
	Snippet string
}

// Markers around matched words in SearchHit.Snippet. ValidateBody keeps
// control characters out of messages, so these can only be ours.
const (
	SnippetStart = "\x02"
	SnippetEnd   = "\x03"
)

// Edited reports whether the message was changed after it was posted.
func (m Message) Edited() bool { return !m.EditedAt.IsZero() }

// Deleted reports whether the message was deleted.
func (m Message) Deleted() bool { return !m.DeletedAt.IsZero() }

// BrowseRoom is a room as the room browser lists it: one the user may join
// or is in, with what helps them choose.
type BrowseRoom struct {
	Room
	Topic        string
	Members      int
	Member       bool
	LastActivity time.Time // of its latest message; zero when it has none
}
