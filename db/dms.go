package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"agora/chat"
)

// DM returns the direct conversation between a and b, creating it (with both
// as members) on first use, and reports whether it made it. a and b may be
// the same user: notes to self.
func (s *Store) DM(ctx context.Context, a, b chat.User) (chat.Room, bool, error) {
	slug := chat.DMSlug(a.ID, b.ID)
	room, err := s.RoomBySlug(ctx, slug)
	if err == nil || chat.ErrorCode(err) != chat.ENotFound {
		return room, false, err
	}
	var made int64
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		now := toDB(time.Now())
		res, err := tx.ExecContext(ctx, `INSERT INTO rooms (slug, name, kind, private, created_by, created_at)
			VALUES (?, ?, 'dm', 1, ?, ?) ON CONFLICT (slug) DO NOTHING`, slug, a.Username+", "+b.Username, a.ID, now)
		if err != nil {
			return err
		}
		if made, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO memberships (room_id, user_id, joined_at)
			SELECT r.id, u.id, CAST(? AS BIGINT) FROM rooms r, users u WHERE r.slug = ? AND u.id IN (?, ?)
			ON CONFLICT DO NOTHING`, now, slug, a.ID, b.ID)
		return err
	})
	if err != nil {
		return chat.Room{}, false, fmt.Errorf("create direct conversation: %w", err)
	}
	room, err = s.RoomBySlug(ctx, slug)
	if err == nil && made > 0 {
		s.userEvent(chat.UserJoined, a.ID, room.ID, 0)
		if b.ID != a.ID {
			s.userEvent(chat.UserJoined, b.ID, room.ID, 0)
		}
	}
	return room, made > 0, err
}

// DMPeer returns the other member of a direct conversation (or me, for notes to self).
func (s *Store) DMPeer(ctx context.Context, roomID, me int64) (chat.User, error) {
	u, err := scanUser(s.queryRow(ctx, `SELECT `+userColumnsOfU+`
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.room_id = ? ORDER BY u.id = ?, u.id LIMIT 1`, roomID, me))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.User{}, chat.Errorf(chat.ENotFound, "There is no such conversation.")
	}
	if err != nil {
		return chat.User{}, fmt.Errorf("direct conversation peer: %w", err)
	}
	return u, nil
}

// DMPeers returns the ids of the people the user has direct conversations with.
func (s *Store) DMPeers(ctx context.Context, userID int64) ([]int64, error) {
	rows, err := s.query(ctx, `SELECT DISTINCT o.user_id FROM memberships m
		JOIN rooms r ON r.id = m.room_id AND r.kind = 'dm'
		JOIN memberships o ON o.room_id = m.room_id AND o.user_id != m.user_id
		WHERE m.user_id = ?`, userID)
	ids, err := scanIDs(rows, err)
	if err != nil {
		return nil, fmt.Errorf("dm peers: %w", err)
	}
	return ids, nil
}

// scanIDs reads a one-column result of ids, closing rows.
func scanIDs(rows *sql.Rows, err error) ([]int64, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
