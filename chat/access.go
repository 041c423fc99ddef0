package chat

// The one access policy: who may do what in a conversation (a room, a
// direct conversation) and with an account. Every door of the server
// (pages, forms, sockets, the API, event streams, files, search, webhooks)
// asks these functions; nothing else decides. The store's queries that
// filter what a user may read (search, the event stream) are this policy's
// Read written as SQL, and a test holds them to it.
//
// The rules, in words:
//   - a deactivated account may do nothing;
//   - a public room is read by everyone signed in; anyone may join it and
//     act on its messages; its members post in it, add people, and leave;
//   - a private room and a direct conversation are for their members only:
//     to anyone else they do not exist. Someone who left a direct
//     conversation reads it again only once they open it again;
//   - guests talk in public rooms only: no private room, no direct
//     conversation, no adding people, no tokens, no password, no rooms made;
//   - a private room's creator, or an admin who is a member, removes
//     members; an admin deletes anyone's message where they can read;
//   - an archived room is read-only for everyone, admins included: it is
//     read (and its files fetched) as before, and nothing in it changes.

// Rights is what one user may do in one conversation.
type Rights struct {
	Read     bool // see its messages, its events, its search hits
	Files    bool // fetch its files: members only
	Join     bool // become a member by their own choice
	Post     bool // send messages and files, type: members only
	Topic    bool // set the topic: members of a room (a direct conversation has none)
	Act      bool // react, edit or delete one's own messages
	Invite   bool // add someone as a member
	Manage   bool // remove members
	Moderate bool // delete anyone's message
	Leave    bool // stop being a member
}

// Access is what u may do in room r, given whether u is a member of it.
func Access(u User, r Room, member bool) Rights {
	if u.Deactivated {
		return Rights{}
	}
	var a Rights
	switch {
	case r.IsDM():
		if u.IsGuest {
			return Rights{} // guests hold no direct conversations
		}
		if !member {
			// Even one of its two people who left it reads nothing: they
			// open it again as a conversation with the other (MayMessage).
			return Rights{}
		}
		a.Read, a.Files, a.Post, a.Act, a.Leave = true, true, true, true, true
	case r.Private:
		if !member || u.IsGuest {
			return Rights{}
		}
		a.Read, a.Files, a.Post, a.Topic, a.Act, a.Invite, a.Leave = true, true, true, true, true, true, true
		a.Manage = r.CreatedBy == u.ID || u.IsAdmin
	default: // a public room
		a.Read, a.Act = true, true
		a.Join = !member
		if member {
			a.Files, a.Post, a.Topic, a.Leave = true, true, true, true
			a.Invite = !u.IsGuest
		}
	}
	a.Moderate = a.Read && u.IsAdmin
	if r.Archived {
		// Read-only for everyone: what could be read still is, nothing changes.
		return Rights{Read: a.Read, Files: a.Files}
	}
	return a
}

// CanEdit reports whether u, with rights a in the message's conversation,
// may change the text of m: its author, while it is a live text message.
func (a Rights) CanEdit(u User, m Message) bool { return a.Act && CanEdit(u, m) }

// CanDelete reports whether u, with rights a in the message's conversation,
// may delete m: its author, or a moderator.
func (a Rights) CanDelete(u User, m Message) bool {
	return CanDelete(u, m) && (a.Act && m.AuthorID == u.ID || a.Moderate)
}

// CanPin reports whether someone with rights a may pin m for everyone in
// its conversation, or unpin it: who may post there, a live text message.
func (a Rights) CanPin(m Message) bool { return a.Post && CanReact(m) }

// CanReact reports whether someone with rights a may react to m.
func (a Rights) CanReact(m Message) bool { return a.Act && CanReact(m) }

// The rules of a message alone, whatever its conversation: the store applies
// them again inside the transaction that makes the change (with the room's
// archived state), so a message changed since it was read is still judged
// right.

// CanEdit reports whether u may change the text of m: its author, while it
// is a live text message.
func CanEdit(u User, m Message) bool {
	return m.Kind == MessageText && !m.Deleted() && m.AuthorID == u.ID
}

// CanDelete reports whether u may delete m: its author or an admin.
func CanDelete(u User, m Message) bool {
	return m.Kind == MessageText && !m.Deleted() && (m.AuthorID == u.ID || u.IsAdmin)
}

// CanReact reports whether m takes reactions: live text messages do.
func CanReact(m Message) bool {
	return m.Kind == MessageText && !m.Deleted()
}

// What an account may do, outside any one conversation.

// Admit says whether u may use the server at all (a session, a token, an
// event stream): never once deactivated, and a guest only while the server
// takes guests.
func Admit(u User, guestsOn bool) error {
	switch {
	case u.Deactivated:
		return ErrDeactivated
	case u.IsGuest && !guestsOn:
		return Errorf(EUnauthorized, "Guests cannot sign in to this server any more.")
	}
	return nil
}

// ErrDeactivated refuses an account an admin deactivated, wherever it comes from.
var ErrDeactivated = Errorf(EUnauthorized,
	"This account has been deactivated by an admin. Ask an admin of this server if you think that is a mistake.")

// Guest reports whether u is a guest (a display name without an account),
// for the tags people see; what a guest may do is decided above.
func Guest(u User) bool { return u.IsGuest }

// MayCreateRooms reports whether u may make rooms: accounts, not guests.
func MayCreateRooms(u User) bool { return !u.Deactivated && !u.IsGuest }

// MayHoldDMs reports whether u may hold direct conversations: guests may not.
func MayHoldDMs(u User) bool { return !u.Deactivated && !u.IsGuest }

// MayMessage reports whether u may open (or open again) a direct
// conversation with peer: neither is a guest.
func MayMessage(u, peer User) bool { return MayHoldDMs(u) && !peer.IsGuest }

// MayMakeTokens reports whether u may make API tokens: guests may not.
func MayMakeTokens(u User) bool { return !u.Deactivated && !u.IsGuest }

// MayExportOwn reports whether u may take their own data out: a guest's
// visit leaves no account to export.
func MayExportOwn(u User) bool { return !u.Deactivated && !u.IsGuest }

// HasPassword reports whether u signs in with a password (to change it, or
// to be let in by one): guests have none.
func HasPassword(u User) bool { return !u.IsGuest }

// MayAdminister reports whether u may use the admin pages and routes.
func MayAdminister(u User) bool { return u.IsAdmin && !u.Deactivated }

// MayBecomeAdmin reports whether an admin may make u one: an active
// account, not a guest.
func MayBecomeAdmin(u User) bool { return !u.IsGuest && !u.Deactivated }
