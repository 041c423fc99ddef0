package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"agora/chat"
)

// Receipts reads how far each member of the room has read, for a room of
// at most chat.ReceiptRoomMax members (a larger one comes back with its
// Readers nil): one query of the members, one of the room's last message.
func (s *Store) Receipts(ctx context.Context, roomID int64) (chat.Receipts, error) {
	var r chat.Receipts
	err := s.queryRow(ctx, `SELECT x.id, coalesce(x.author_id, 0) FROM messages x
		WHERE x.room_id = ? AND `+inRoomListX+` ORDER BY x.id DESC LIMIT 1`, roomID).Scan(&r.LastID, &r.LastAuthor)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("receipts: %w", err)
	}
	// Seen is found from the read marker down the room's index, so however
	// long the history, a member's row costs a few steps.
	rows, err := s.query(ctx, `SELECT `+userColumnsOfU+`, m.last_read_id, u.read_receipts,
			coalesce((SELECT max(x.id) FROM messages x WHERE x.room_id = m.room_id AND x.id <= m.last_read_id AND `+inRoomListX+`), 0)
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.room_id = ?
		ORDER BY lower(CASE WHEN u.display_name = '' THEN u.username ELSE u.display_name END), u.id
		LIMIT ?`, roomID, chat.ReceiptRoomMax+1)
	if err != nil {
		return r, fmt.Errorf("receipts: %w", err)
	}
	defer rows.Close()
	readers := []chat.Reader{}
	for rows.Next() {
		var x chat.Reader
		if x.User, err = scanUser(rows, &x.UpTo, &x.Receipts, &x.Seen); err != nil {
			return r, fmt.Errorf("receipts: %w", err)
		}
		readers = append(readers, x)
	}
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("receipts: %w", err)
	}
	r.Members = len(readers)
	if r.Members <= chat.ReceiptRoomMax {
		r.Readers = readers
	}
	return r, nil
}

// ReadReceipts reports whether the user shows their reads (and sees others').
func (s *Store) ReadReceipts(ctx context.Context, userID int64) (bool, error) {
	var on bool
	err := s.queryRow(ctx, "SELECT read_receipts FROM users WHERE id = ?", userID).Scan(&on)
	if errors.Is(err, sql.ErrNoRows) {
		return false, chat.Errorf(chat.ENotFound, "There is no such user.")
	}
	if err != nil {
		return false, fmt.Errorf("read receipts: %w", err)
	}
	return on, nil
}

// SetReadReceipts turns the user's read receipts on or off.
func (s *Store) SetReadReceipts(ctx context.Context, userID int64, on bool) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE users SET read_receipts = ? WHERE id = ?", boolInt(on), userID)
		return err
	})
	if err != nil {
		return fmt.Errorf("set read receipts: %w", err)
	}
	return nil
}
