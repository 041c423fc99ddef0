package chat

import "time"

// Invite is an invite link as admins see it. Its code is shown once, when it
// is made; the store keeps only a hash of it.
type Invite struct {
	ID        int64
	CreatedBy string // the admin's username, or "" once that account is gone
	CreatedAt time.Time
	ExpiresAt time.Time
	MaxUses   int
	Uses      int
	Revoked   bool
}

// Usable reports whether the invite can still make an account at now.
func (i Invite) Usable(now time.Time) bool {
	return !i.Revoked && i.Uses < i.MaxUses && now.Before(i.ExpiresAt)
}

// AuditEntry is one thing an admin did.
type AuditEntry struct {
	ID     int64
	Actor  string // the admin's username then
	Action string // e.g. "deactivate", "rename room"
	Target string // whom or what: a username, a room, an invite
	Detail string
	At     time.Time
}

// AdminRoom is a room as the admins' rooms page lists it.
type AdminRoom struct {
	Room
	Topic   string
	Members int
	// Retention is how many days the room keeps messages:
	// RetentionServer follows the server's -retention, 0 keeps them for ever.
	Retention int
}

// Session is one signed-in browser of a user, as the sessions page lists it.
type Session struct {
	ID        string // an opaque id for the page's forms: a hash of the token's hash, never the token
	UserAgent string
	Address   string
	CreatedAt time.Time
	LastSeen  time.Time
	Current   bool // the session viewing the page
}

// Group is a named set of accounts that admins keep: mentioning @name in a
// message mentions each member who can read the room. A group's name is
// never one a username could be mistaken for, and the other way round.
type Group struct {
	ID        int64
	Name      string
	CreatedAt time.Time
	Members   []string // usernames, in order
}

// GroupMember is one member of a mentioned group, with whether they are a
// member of the room the mention is in: what the access policy needs to
// tell whether they can read it.
type GroupMember struct {
	Group  string // the group's name, lower-case
	User   User
	Member bool
}

// Stats is what the admins' dashboard shows of a span of whole days (UTC):
// each day's activity and storage, oldest first, and the span's totals.
// A message counts on the day it was written (a deleted one too: it was
// written); notices do not. People are the authors who wrote that day, bots
// aside.
type Stats struct {
	Days         []DayStats
	Messages     int64 // written in the span
	ActivePeople int64 // who wrote in the span, each once
	BusiestRooms []RoomStats
	StorageBytes int64 // the files kept now
	Files        int64
}

// DayStats is one day of Stats. StorageBytes is what the files kept now
// took at the day's end: a file deleted since counts on no day.
type DayStats struct {
	Day          time.Time // its midnight, UTC
	Messages     int64
	ActivePeople int64
	StorageBytes int64
}

// RoomStats is a room with how many messages were written in it in the
// span of Stats. Direct conversations are never listed.
type RoomStats struct {
	Slug     string
	Name     string
	Private  bool
	Messages int64
}
