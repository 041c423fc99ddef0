package chat

// Who may do what with a message. The store applies these inside the
// transaction that makes the change, and the handlers use the same functions
// to decide which actions to offer.

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
