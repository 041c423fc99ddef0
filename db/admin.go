package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"agora/chat"
)

// Users lists every account, guests last, each group by username.
func (s *Store) Users(ctx context.Context) ([]chat.User, error) {
	rows, err := s.query(ctx, "SELECT "+userColumns+" FROM users ORDER BY is_guest, lower(username)")
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	defer rows.Close()
	var out []chat.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	return out, nil
}

// SetDeactivated deactivates the user (ending all their sessions in the
// same transaction) or reactivates them. Nothing they wrote changes. The
// last active admin is never deactivated (ErrLastAdmin).
func (s *Store) SetDeactivated(ctx context.Context, userID int64, deactivated bool) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if !deactivated {
			_, err := tx.ExecContext(ctx, "UPDATE users SET deactivated_at = NULL WHERE id = ?", userID)
			return err
		}
		if err := s.keepAnAdmin(ctx, tx, userID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET deactivated_at = coalesce(deactivated_at, ?) WHERE id = ?",
			toDB(time.Now()), userID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = ?", userID)
		return err
	})
	if err != nil {
		return wrapChange("set deactivated", err)
	}
	return nil
}

// SetAdmin makes the user an admin, or not. The last active admin is never
// made an ordinary account (ErrLastAdmin).
func (s *Store) SetAdmin(ctx context.Context, userID int64, admin bool) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if !admin {
			if err := s.keepAnAdmin(ctx, tx, userID); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, "UPDATE users SET is_admin = ? WHERE id = ? AND is_guest = 0", admin, userID)
		return err
	})
	if err != nil {
		return wrapChange("set admin", err)
	}
	return nil
}

// ErrLastAdmin refuses to take away the last active admin: nobody could
// then administer the server.
var ErrLastAdmin = chat.Errorf(chat.EInvalid, "That is the last active admin. Make someone else an admin first.")

// keepAnAdmin refuses, inside the transaction about to deactivate or demote
// userID, when userID is the last active admin. The active admins' rows are
// locked (on PostgreSQL; SQLite's one writer already runs one transaction
// at a time), so two admins taking each other away at once are decided one
// after the other: the second finds the first gone.
func (s *Store) keepAnAdmin(ctx context.Context, tx *sql.Tx, userID int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM users
		WHERE is_admin = 1 AND deactivated_at IS NULL AND is_bot = 0 ORDER BY id`+s.engine.lockRows())
	if err != nil {
		return fmt.Errorf("active admins: %w", err)
	}
	defer rows.Close()
	target, others := false, 0
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("active admins: %w", err)
		}
		if id == userID {
			target = true
		} else {
			others++
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("active admins: %w", err)
	}
	if target && others == 0 {
		return ErrLastAdmin
	}
	return nil
}

// adminRoomsSQL selects rooms as the admins see them: with topic and member
// count, and never a direct conversation, which is not the admins' business.
const adminRoomsSQL = `SELECT ` + roomColumns + `, r.topic, (SELECT count(*) FROM memberships m WHERE m.room_id = r.id), coalesce(r.retention_days, -1)
	FROM rooms r WHERE r.kind = 'room'`

// AdminRooms lists every room, archived ones last, each group by name.
func (s *Store) AdminRooms(ctx context.Context) ([]chat.AdminRoom, error) {
	rows, err := s.query(ctx, adminRoomsSQL+` ORDER BY r.archived_at IS NOT NULL, lower(r.name), r.id`)
	if err != nil {
		return nil, fmt.Errorf("admin rooms: %w", err)
	}
	defer rows.Close()
	var out []chat.AdminRoom
	for rows.Next() {
		var a chat.AdminRoom
		if a.Room, err = scanRoom(rows, &a.Topic, &a.Members, &a.Retention); err != nil {
			return nil, fmt.Errorf("admin rooms: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("admin rooms: %w", err)
	}
	return out, nil
}

// AdminRoom is the room with that slug as AdminRooms lists it.
func (s *Store) AdminRoom(ctx context.Context, slug string) (chat.AdminRoom, error) {
	var a chat.AdminRoom
	var err error
	a.Room, err = scanRoom(s.queryRow(ctx, adminRoomsSQL+` AND r.slug = ?`, slug), &a.Topic, &a.Members, &a.Retention)
	if errors.Is(err, sql.ErrNoRows) {
		return a, chat.Errorf(chat.ENotFound, "There is no such room.")
	}
	if err != nil {
		return a, fmt.Errorf("admin room: %w", err)
	}
	return a, nil
}

// DeleteRoom removes a room (never a direct conversation) and everything in
// it: messages, files, reactions, events, memberships. Files go first and
// messages next, each through the triggers that keep the search index
// exact; the room's cascade takes the rest.
func (s *Store) DeleteRoom(ctx context.Context, roomID int64) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var kind string
		if err := tx.QueryRowContext(ctx, "SELECT kind FROM rooms WHERE id = ?", roomID).Scan(&kind); errors.Is(err, sql.ErrNoRows) || kind == chat.KindDM {
			return chat.Errorf(chat.ENotFound, "There is no such room.")
		} else if err != nil {
			return err
		}
		for _, q := range []string{"DELETE FROM files WHERE room_id = ?", "DELETE FROM messages WHERE room_id = ?", "DELETE FROM rooms WHERE id = ?"} {
			if _, err := tx.ExecContext(ctx, q, roomID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete room: %w", err)
	}
	return nil
}
