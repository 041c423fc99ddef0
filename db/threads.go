package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"agora/chat"
)

// A thread is a root message and its replies, in the root's room. A reply
// is written by the writer like any message (numbered in the room's log);
// the writer also keeps the root's summary (reply_count, last_reply_at) and
// who follows the thread, in the same transaction. Following: the root's
// author, each replier and each member mentioned in a reply follow it; a
// hand's unfollow stays until they reply or are mentioned again.

// withThreads fills in the thread summaries msgs show: a root's own, and a
// reply's root's. One small constant query per thread, so each is prepared
// once; a page holds few threads.
func withThreads(ctx context.Context, query querier, msgs []chat.Message) error {
	roots := make(map[int64]*chat.ThreadSummary)
	for i := range msgs {
		if t := msgs[i].Thread; t != nil && t.RootID == msgs[i].ID {
			roots[msgs[i].ID] = t
		}
	}
	for i := range msgs {
		id := msgs[i].ThreadID
		if id == 0 {
			continue
		}
		if _, ok := roots[id]; !ok {
			t, err := threadSummary(ctx, query, id)
			if err != nil {
				return err
			}
			roots[id] = t
		}
		msgs[i].Thread = roots[id]
	}
	for id, t := range roots {
		if t.Count == 0 {
			continue
		}
		rows, err := query(ctx, `SELECT u.username, u.display_name, u.avatar_at FROM messages x JOIN users u ON u.id = x.author_id
			WHERE x.thread_id = ? AND x.deleted_at IS NULL
			GROUP BY u.id, u.username, u.display_name, u.avatar_at ORDER BY max(x.id) DESC LIMIT 3`, id)
		if err != nil {
			return fmt.Errorf("thread repliers: %w", err)
		}
		t.Repliers = t.Repliers[:0]
		for rows.Next() {
			var u chat.User
			if err := rows.Scan(&u.Username, &u.DisplayName, &u.Avatar); err != nil {
				rows.Close()
				return fmt.Errorf("thread repliers: %w", err)
			}
			t.Repliers = append(t.Repliers, u)
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return fmt.Errorf("thread repliers: %w", err)
		}
		rows.Close()
	}
	return nil
}

// threadSummary reads a root's counts.
func threadSummary(ctx context.Context, query querier, rootID int64) (*chat.ThreadSummary, error) {
	rows, err := query(ctx, "SELECT reply_count, last_reply_at FROM messages WHERE id = ?", rootID)
	if err != nil {
		return nil, fmt.Errorf("thread summary: %w", err)
	}
	defer rows.Close()
	t := &chat.ThreadSummary{RootID: rootID}
	if rows.Next() {
		var last sql.NullInt64
		if err := rows.Scan(&t.Count, &last); err != nil {
			return nil, fmt.Errorf("thread summary: %w", err)
		}
		t.LastAt = fromNullDB(last)
	}
	return t, rows.Err()
}

// threadRoot finds the root a new reply in room roomID to message id
// belongs to: the message itself, or its root when it is a reply (threads
// are one level deep). It refuses a message of another room (or none) as
// not found, and a deleted root or a notice as invalid.
func (b *batch) threadRoot(ctx context.Context, roomID, id int64) (rootID, authorID int64, err error) {
	for range 2 {
		var room, parent, author int64
		var kind string
		var deleted bool
		err := b.tx.QueryRowContext(ctx, "SELECT room_id, coalesce(thread_id, 0), author_id, kind, deleted_at IS NOT NULL FROM messages WHERE id = ?", id).
			Scan(&room, &parent, &author, &kind, &deleted)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && room != roomID) {
			return 0, 0, chat.Errorf(chat.ENotFound, "There is no such message in this conversation to reply to.")
		}
		if err != nil {
			return 0, 0, err
		}
		if parent != 0 {
			id = parent
			continue
		}
		if deleted {
			return 0, 0, chat.Errorf(chat.EInvalid, "That message was deleted: it takes no replies.")
		}
		if kind != chat.MessageText {
			return 0, 0, chat.Errorf(chat.EInvalid, "A notice takes no replies.")
		}
		return id, author, nil
	}
	return 0, 0, chat.Errorf(chat.ENotFound, "There is no such message in this conversation to reply to.")
}

// addReply keeps what a new reply m changes beside itself: its root's
// summary, and who follows the thread. m's row is in.
func (b *batch) addReply(ctx context.Context, m *chat.Message, rootAuthor int64) error {
	if _, err := b.tx.ExecContext(ctx, "UPDATE messages SET reply_count = reply_count + 1, last_reply_at = ? WHERE id = ?",
		b.now, m.ThreadID); err != nil {
		return err
	}
	// The replier has read the thread up to their reply.
	if err := b.follow(ctx, m.AuthorID, m.ThreadID, m.ID, true); err != nil {
		return err
	}
	if rootAuthor != m.AuthorID {
		if err := b.follow(ctx, rootAuthor, m.ThreadID, 0, false); err != nil {
			return err
		}
	}
	// Those mentioned, by name or through a group, who are in the room: a
	// mention reaches nobody else.
	if mentioned := append(slices.Clip(m.Mentions), m.GroupMembers...); len(mentioned) > 0 {
		args := []any{m.RoomID}
		for _, u := range mentioned {
			args = append(args, u)
		}
		rows, err := b.tx.QueryContext(ctx, `SELECT u.id FROM users u JOIN memberships ms ON ms.user_id = u.id AND ms.room_id = ?
			WHERE u.username IN (?`+strings.Repeat(",?", len(mentioned)-1)+`)`, args...)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			if id != m.AuthorID {
				if err := b.follow(ctx, id, m.ThreadID, 0, true); err != nil {
					return err
				}
			}
		}
	}
	msgs := []chat.Message{*m}
	err := withThreads(ctx, func(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
		return b.tx.QueryContext(ctx, q, args...)
	}, msgs)
	m.Thread = msgs[0].Thread
	return err
}

// follow makes the user follow the thread (again, when force, after an
// unfollow by hand), read up to readUpTo at least, and records the user
// events that the user's feeds follow.
func (b *batch) follow(ctx context.Context, userID, rootID, readUpTo int64, force bool) error {
	var following bool
	var last int64
	err := b.tx.QueryRowContext(ctx, "SELECT following, last_read_id FROM thread_follows WHERE user_id = ? AND root_id = ?", userID, rootID).
		Scan(&following, &last)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := b.tx.ExecContext(ctx, "INSERT INTO thread_follows (user_id, root_id, following, last_read_id) VALUES (?, ?, 1, ?)",
			userID, rootID, readUpTo); err != nil {
			return err
		}
		b.users = append(b.users, chat.UserEvent{Kind: chat.UserFollow, UserID: userID, Thread: rootID})
		return nil
	case err != nil:
		return err
	case !following && !force:
		return nil
	case following && readUpTo <= last:
		return nil
	}
	if _, err := b.tx.ExecContext(ctx, "UPDATE thread_follows SET following = 1, last_read_id = ? WHERE user_id = ? AND root_id = ?",
		max(last, readUpTo), userID, rootID); err != nil {
		return err
	}
	if !following {
		b.users = append(b.users, chat.UserEvent{Kind: chat.UserFollow, UserID: userID, Thread: rootID})
	} else {
		b.users = append(b.users, chat.UserEvent{Kind: chat.UserThreadRead, UserID: userID, Thread: rootID, UpTo: readUpTo})
	}
	return nil
}

// Replies returns up to limit replies of the root with ids above after,
// oldest first.
func (s *Store) Replies(ctx context.Context, rootID, after int64, limit int) ([]chat.Message, error) {
	msgs, err := s.queryMessages(ctx, `SELECT `+messageColumns+`
		FROM messages m JOIN users u ON u.id = m.author_id
		WHERE m.thread_id = ? AND m.id > ? ORDER BY m.id LIMIT ?`, rootID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("replies: %w", err)
	}
	return msgs, nil
}

// threadNavColumns are a followed thread's room, the unread replies
// (others', not deleted) after the follower's last read, its newest reply
// and when it came; f is the follow.
const threadNavColumns = `SELECT f.root_id, ` + roomColumns + `, ms.user_id IS NOT NULL,
		coalesce((SELECT count(*) FROM messages x WHERE x.thread_id = f.root_id AND x.id > f.last_read_id
			AND x.author_id != f.user_id AND x.deleted_at IS NULL), 0),
		coalesce((SELECT max(x.id) FROM messages x WHERE x.thread_id = f.root_id), 0),
		root.last_reply_at
	FROM thread_follows f
	JOIN messages root ON root.id = f.root_id
	JOIN rooms r ON r.id = root.room_id
	LEFT JOIN memberships ms ON ms.room_id = r.id AND ms.user_id = f.user_id`

// threadNavSQL lists the threads a user follows, newest activity first.
const threadNavSQL = threadNavColumns + `
	WHERE f.user_id = ? AND f.following = 1
	ORDER BY coalesce(root.last_reply_at, root.created_at) DESC, f.root_id DESC`

// followedThreadSQL is one thread of threadNavSQL.
const followedThreadSQL = threadNavColumns + `
	WHERE f.user_id = ? AND f.root_id = ? AND f.following = 1`

// ThreadNav lists the threads the user follows, newest activity first, with
// their unread counts and the id of each one's newest reply, which the
// counts go up to. Whether the user may still read each is the caller's to
// ask (chat.Access with its Room and Member).
func (s *Store) ThreadNav(ctx context.Context, userID int64) ([]chat.NavThread, error) {
	out, err := s.threadNav(ctx, threadNavSQL, userID)
	if err != nil {
		return nil, fmt.Errorf("thread nav: %w", err)
	}
	return out, nil
}

// FollowedThread is ThreadNav's entry for one thread, and false when the
// user does not follow it: what a user's feed reads again when they begin
// or stop following it, rather than everything they follow.
func (s *Store) FollowedThread(ctx context.Context, userID, rootID int64) (chat.NavThread, bool, error) {
	out, err := s.threadNav(ctx, followedThreadSQL, userID, rootID)
	if err != nil || len(out) == 0 {
		if err != nil {
			err = fmt.Errorf("followed thread: %w", err)
		}
		return chat.NavThread{}, false, err
	}
	return out[0], true, nil
}

func (s *Store) threadNav(ctx context.Context, query string, args ...any) ([]chat.NavThread, error) {
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []chat.NavThread
	for rows.Next() {
		var t chat.NavThread
		var root int64
		var last sql.NullInt64
		var room chat.Room
		room, err = scanRoomAfter(rows, &root, &t.Member, &t.Unread, &t.LatestID, &last)
		if err != nil {
			return nil, err
		}
		t.RootID, t.Room, t.LastAt = root, room, fromNullDB(last)
		out = append(out, t)
	}
	return out, rows.Err()
}

// scanRoomAfter scans one leading column into first, then the room's
// columns, then rest.
func scanRoomAfter(row interface{ Scan(...any) error }, first any, rest ...any) (chat.Room, error) {
	return scanRoom(scanFunc(func(dest ...any) error {
		return row.Scan(append([]any{first}, dest...)...)
	}), rest...)
}

type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// Following reports whether the user follows the thread.
func (s *Store) Following(ctx context.Context, userID, rootID int64) (bool, error) {
	var following bool
	err := s.queryRow(ctx, "SELECT following FROM thread_follows WHERE user_id = ? AND root_id = ?", userID, rootID).Scan(&following)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("following: %w", err)
	}
	return following, nil
}

// SetFollowing makes the user follow the thread or stop following it, by
// hand. Following it by hand, they have read what is there.
func (s *Store) SetFollowing(ctx context.Context, userID, rootID int64, follow bool) error {
	changed := false
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var latest int64
		if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM messages WHERE thread_id = ?", rootID).Scan(&latest); err != nil {
			return err
		}
		var following bool
		var last int64
		err := tx.QueryRowContext(ctx, "SELECT following, last_read_id FROM thread_follows WHERE user_id = ? AND root_id = ?", userID, rootID).
			Scan(&following, &last)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			changed = true
			_, err = tx.ExecContext(ctx, "INSERT INTO thread_follows (user_id, root_id, following, last_read_id) VALUES (?, ?, ?, ?)",
				userID, rootID, boolInt(follow), latest)
			return err
		case err != nil:
			return err
		case following == follow:
			return nil
		}
		changed = true
		_, err = tx.ExecContext(ctx, "UPDATE thread_follows SET following = ?, last_read_id = ? WHERE user_id = ? AND root_id = ?",
			boolInt(follow), max(last, latest), userID, rootID)
		return err
	})
	if err != nil {
		return fmt.Errorf("set following: %w", err)
	}
	if changed {
		s.threadEvent(chat.UserFollow, userID, rootID, 0)
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// MarkThreadRead moves the user's read marker in a thread they follow up to
// upTo (never back). A marker that moved is a user event: the Threads
// count of the user's other devices follows it.
func (s *Store) MarkThreadRead(ctx context.Context, userID, rootID, upTo int64) error {
	var last int64
	var following bool
	err := s.queryRow(ctx, "SELECT following, last_read_id FROM thread_follows WHERE user_id = ? AND root_id = ?", userID, rootID).Scan(&following, &last)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (!following || last >= upTo)) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mark thread read: %w", err)
	}
	moved := false
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE thread_follows SET last_read_id = ? WHERE user_id = ? AND root_id = ? AND last_read_id < ?",
			upTo, userID, rootID, upTo)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		moved = n > 0
		return err
	})
	if err != nil {
		return fmt.Errorf("mark thread read: %w", err)
	}
	if moved {
		s.threadEvent(chat.UserThreadRead, userID, rootID, upTo)
	}
	return nil
}

// LatestReplyID is the id of the thread's newest reply, 0 when it has none.
func (s *Store) LatestReplyID(ctx context.Context, rootID int64) (int64, error) {
	var id int64
	if err := s.queryRow(ctx, "SELECT coalesce(max(id), 0) FROM messages WHERE thread_id = ?", rootID).Scan(&id); err != nil {
		return 0, fmt.Errorf("latest reply id: %w", err)
	}
	return id, nil
}

// threadEvent signals a committed change of a user's relation to a thread.
func (s *Store) threadEvent(kind string, userID, rootID, upTo int64) {
	if s.onUser != nil {
		s.onUser(chat.UserEvent{Kind: kind, UserID: userID, Thread: rootID, UpTo: upTo})
	}
}
