package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"agora/chat"
)

// Nav lists what the sidebar shows a user: the rooms they can see (public
// ones and private ones they are in) and their direct conversations, each
// with unread and mention counts where they are a member, and the id of the
// room's newest message, which the counts go up to.
func (s *Store) Nav(ctx context.Context, userID int64) ([]chat.NavRoom, error) {
	rows, err := s.query(ctx, `SELECT `+roomColumns+`, m.user_id IS NOT NULL,
			coalesce((SELECT count(*) FROM messages x WHERE x.room_id = r.id AND x.id > m.last_read_id
				AND x.author_id != m.user_id AND x.kind = 'text' AND x.deleted_at IS NULL AND `+inRoomListX+`), 0),
			coalesce((SELECT count(*) FROM mentions mn JOIN messages x ON x.id = mn.message_id
				WHERE mn.user_id = m.user_id AND x.room_id = r.id AND x.id > m.last_read_id AND x.deleted_at IS NULL AND `+inRoomListX+`), 0),
			coalesce(p.id, 0), coalesce(p.username, ''), coalesce(p.display_name, ''),
			coalesce((SELECT max(x.id) FROM messages x WHERE x.room_id = r.id), 0), coalesce(m.notify, '')
		FROM rooms r
		LEFT JOIN memberships m ON m.room_id = r.id AND m.user_id = ?1
		LEFT JOIN users p ON r.kind = 'dm' AND p.id = coalesce(
			(SELECT o.user_id FROM memberships o WHERE o.room_id = r.id AND o.user_id != ?1 LIMIT 1), ?1)
		WHERE (r.kind = 'room' AND r.archived_at IS NULL AND (r.private = 0 OR m.user_id IS NOT NULL))
			OR (r.kind = 'dm' AND m.user_id IS NOT NULL)
		ORDER BY r.kind DESC, lower(r.name)`, userID)
	if err != nil {
		return nil, fmt.Errorf("nav: %w", err)
	}
	defer rows.Close()
	var out []chat.NavRoom
	for rows.Next() {
		var n chat.NavRoom
		var peer chat.User
		n.Room, err = scanRoom(rows, &n.Member, &n.Unread, &n.Mentions, &peer.ID, &peer.Username, &peer.DisplayName, &n.LatestID, &n.Notify)
		if err != nil {
			return nil, fmt.Errorf("nav: %w", err)
		}
		n.Peer = peer
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("nav: %w", err)
	}
	return out, nil
}

// MarkRead moves the user's read marker in the room up to upTo (never back,
// never past the room's newest message: a marker beyond it would count
// messages not yet written as read, and show them as seen) and returns
// where it was. A marker that moved is a user event (see OnUserEvent): the
// badges of the user's other devices follow it, and read receipts.
func (s *Store) MarkRead(ctx context.Context, roomID, userID, upTo int64) (int64, error) {
	var prev int64
	moved := false
	// Most page views find nothing new: a read answers them without taking
	// the write lock.
	err := s.queryRow(ctx, "SELECT last_read_id FROM memberships WHERE room_id = ? AND user_id = ?", roomID, userID).Scan(&prev)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && prev >= upTo) {
		return prev, nil
	}
	if err != nil {
		return 0, fmt.Errorf("mark read: %w", err)
	}
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, "SELECT last_read_id FROM memberships WHERE room_id = ? AND user_id = ?", roomID, userID).Scan(&prev)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE memberships SET last_read_id = ?1 WHERE room_id = ?2 AND user_id = ?3 AND last_read_id < ?1
			AND ?1 <= (SELECT coalesce(max(id), 0) FROM messages WHERE room_id = ?2)`, upTo, roomID, userID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		moved = n > 0
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("mark read: %w", err)
	}
	if moved {
		s.userEvent(chat.UserRead, userID, roomID, upTo)
	}
	return prev, nil
}

// LatestID is the id of the room's newest message, 0 when it has none.
func (s *Store) LatestID(ctx context.Context, roomID int64) (int64, error) {
	var id int64
	if err := s.queryRow(ctx, "SELECT coalesce(max(id), 0) FROM messages WHERE room_id = ?", roomID).Scan(&id); err != nil {
		return 0, fmt.Errorf("latest id: %w", err)
	}
	return id, nil
}
