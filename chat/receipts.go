package chat

// ReceiptRoomMax is the most members a room may have for its last message
// to say who has read it: beyond that a list of names says little, and each
// read would reach too many people.
const ReceiptRoomMax = 50

// Reader is one member's place in a room, as read receipts tell it.
type Reader struct {
	User User
	// UpTo is how far they read (their read marker, a message id); Seen is
	// the newest message of the room's list at or below it, 0 for none.
	UpTo, Seen int64
	// Receipts is false when they turned read receipts off: their reads are
	// not shown, nor others' to them.
	Receipts bool
}

// Receipts is who has read a room how far. Readers is nil for a room of
// more than ReceiptRoomMax members (Members is then ReceiptRoomMax+1).
type Receipts struct {
	LastID     int64 // the newest message of the room's list, 0 for none
	LastAuthor int64 // its author
	Members    int
	Readers    []Reader // ordered by name
}

// Shown reports whether the room's receipts show at all: a conversation or
// a room small enough.
func (r Receipts) Shown() bool { return r.Readers != nil && r.Members <= ReceiptRoomMax }

// Reader returns the member with that id, if any.
func (r Receipts) Reader(id int64) (Reader, bool) {
	for _, x := range r.Readers {
		if x.User.ID == id {
			return x, true
		}
	}
	return Reader{}, false
}

// SeenBy lists those who read the last message, its author aside, among
// the members who show their reads.
func (r Receipts) SeenBy() []User {
	var out []User
	for _, x := range r.Readers {
		if x.Receipts && r.LastID > 0 && x.UpTo >= r.LastID && x.User.ID != r.LastAuthor {
			out = append(out, x.User)
		}
	}
	return out
}

// SeenOf is the message under which viewer sees "Seen" in a direct
// conversation: the newest the other has read, 0 for none (or when either
// turned receipts off).
func (r Receipts) SeenOf(viewer int64) int64 {
	me, ok := r.Reader(viewer)
	if !ok || !me.Receipts {
		return 0
	}
	for _, x := range r.Readers {
		if x.User.ID != viewer {
			if !x.Receipts {
				return 0
			}
			return x.Seen
		}
	}
	return 0
}
