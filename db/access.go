package db

// readableSQL is chat.Access's Read written as SQL, for the queries that
// filter in bulk what a user may read (search, the API's event stream): the
// room is r, the reader's user id ?1. An active account reads public rooms,
// and the private rooms and direct conversations it is a member of, unless
// it is a guest. TestReadableSQLIsTheAccessPolicy holds it to chat.Access on
// both engines: change them together.
const readableSQL = `(EXISTS (SELECT 1 FROM users me WHERE me.id = ?1 AND me.deactivated_at IS NULL)
	AND ((r.kind = 'room' AND r.private = 0)
		OR EXISTS (SELECT 1 FROM memberships mb JOIN users mu ON mu.id = mb.user_id
			WHERE mb.room_id = r.id AND mb.user_id = ?1 AND mu.is_guest = 0)))`
