package chat

import "time"

// Event kinds. Every change to a room is one of these, numbered in the
// room's order as it commits.
const (
	EventMessage  = "message"  // a new message or notice
	EventEdit     = "edit"     // a message's text changed
	EventDelete   = "delete"   // a message was deleted
	EventReaction = "reaction" // a reaction was added or taken away
)

// Event is one change to a room. Seq is the room's sequence number for it:
// 1, 2, 3... with no gaps, in commit order, so a receiver that has seq n
// needs exactly n+1 next and can tell a gap from a duplicate. Message is the
// message as it stands after the change.
type Event struct {
	ID      int64 // rises across all rooms, in commit order
	RoomID  int64
	Seq     int64
	Kind    string
	Message Message
	At      time.Time
}

// IsUpdate reports whether the event changes a message that already exists.
func (e Event) IsUpdate() bool { return e.Kind != EventMessage }

// Per-user event kinds: what changes one person's view of a room without
// changing the room.
const (
	UserRead   = "read"   // they read the room up to UpTo (a message id)
	UserJoined = "joined" // they became a member of the room
	UserLeft   = "left"   // they are no longer a member
	UserNotify = "notify" // they changed the room's notification level
	// UserThreadRead: they read the thread Thread up to UpTo.
	UserThreadRead = "thread-read"
	// UserFollow: they began or stopped following the thread Thread.
	UserFollow = "follow"
	// UserStatus: they changed their status (text, emoji, do not disturb,
	// away); RoomID is 0. Every node shows it wherever it shows them.
	UserStatus = "status"
)

// UserEvent is a change of one user's relation to a room: the sidebars of
// every device of theirs, on every node, follow it.
type UserEvent struct {
	Kind   string
	UserID int64
	RoomID int64
	UpTo   int64 // for UserRead and UserThreadRead: the id of the last message read
	Thread int64 // for UserThreadRead and UserFollow: the thread's root
}
