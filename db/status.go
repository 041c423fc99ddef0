package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"agora/chat"
)

// Notification levels per room and people's status (migration 0021).

// SetRoomNotify sets the member's notification level for the room. Not a
// member: ENotFound. The member's sidebars, on every device, follow it.
func (s *Store) SetRoomNotify(ctx context.Context, roomID, userID int64, level string) error {
	if err := chat.ValidNotifyLevel(level); err != nil {
		return err
	}
	var n int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE memberships SET notify = ? WHERE room_id = ? AND user_id = ?", level, roomID, userID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("set room notify: %w", err)
	}
	if n == 0 {
		return chat.Errorf(chat.ENotFound, "You are not a member of this room.")
	}
	s.userEvent(chat.UserNotify, userID, roomID, 0)
	return nil
}

// RoomNotify returns the member's notification level for the room, "" when
// not a member.
func (s *Store) RoomNotify(ctx context.Context, roomID, userID int64) (string, error) {
	var level string
	err := s.queryRow(ctx, "SELECT notify FROM memberships WHERE room_id = ? AND user_id = ?", roomID, userID).Scan(&level)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("room notify: %w", err)
	}
	return level, nil
}

// RoomHasNotifyAll reports whether a member set the room to all: then
// every message of it concerns someone.
func (s *Store) RoomHasNotifyAll(ctx context.Context, roomID int64) (bool, error) {
	var n int
	if err := s.queryRow(ctx, "SELECT count(*) FROM memberships WHERE room_id = ? AND notify = 'all'", roomID).Scan(&n); err != nil {
		return false, fmt.Errorf("room %d levels: %w", roomID, err)
	}
	return n > 0, nil
}

// SetStatus keeps what the user says of themselves: text, emoji,
// do-not-disturb until, away. When they were last active stays.
func (s *Store) SetStatus(ctx context.Context, userID int64, st chat.Status) error {
	var dnd sql.NullInt64
	if !st.DNDUntil.IsZero() {
		dnd = sql.NullInt64{Int64: toDB(st.DNDUntil), Valid: true}
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO user_status (user_id, text, emoji, dnd_until, away) VALUES (?1, ?2, ?3, ?4, ?5)
			ON CONFLICT (user_id) DO UPDATE SET text = ?2, emoji = ?3, dnd_until = ?4, away = ?5`,
			userID, st.Text, st.Emoji, dnd, st.Away)
		return err
	})
	if err != nil {
		return fmt.Errorf("set status: %w", err)
	}
	s.userEvent(chat.UserStatus, userID, 0, 0)
	return nil
}

// TouchActive records that one of the user's devices did something at at
// (never moving it back).
func (s *Store) TouchActive(ctx context.Context, userID int64, at time.Time) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO user_status (user_id, active_at) VALUES (?1, ?2)
			ON CONFLICT (user_id) DO UPDATE SET active_at = ?2
			WHERE user_status.active_at IS NULL OR user_status.active_at < ?2`, userID, toDB(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("touch active: %w", err)
	}
	return nil
}

// Statuses returns the status of each of the users that has one.
func (s *Store) Statuses(ctx context.Context, userIDs []int64) (map[int64]chat.Status, error) {
	out := make(map[int64]chat.Status, len(userIDs))
	for len(userIDs) > 0 {
		batch := userIDs[:min(len(userIDs), 500)]
		userIDs = userIDs[len(batch):]
		args := make([]any, len(batch))
		for i, id := range batch {
			args[i] = id
		}
		rows, err := s.query(ctx, `SELECT user_id, text, emoji, dnd_until, away, active_at FROM user_status
			WHERE user_id IN (?`+strings.Repeat(", ?", len(batch)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("statuses: %w", err)
		}
		for rows.Next() {
			var id int64
			var st chat.Status
			var dnd, active sql.NullInt64
			if err := rows.Scan(&id, &st.Text, &st.Emoji, &dnd, &st.Away, &active); err != nil {
				rows.Close()
				return nil, fmt.Errorf("statuses: %w", err)
			}
			st.DNDUntil, st.ActiveAt = fromNullDB(dnd), fromNullDB(active)
			out[id] = st
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("statuses: %w", err)
		}
	}
	return out, nil
}

// Status returns one user's status (the zero Status when none was kept).
func (s *Store) Status(ctx context.Context, userID int64) (chat.Status, error) {
	m, err := s.Statuses(ctx, []int64{userID})
	return m[userID], err
}
