package db

import (
	"context"
	"database/sql"
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
// same transaction) or reactivates them. Nothing they wrote changes.
func (s *Store) SetDeactivated(ctx context.Context, userID int64, deactivated bool) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if !deactivated {
			_, err := tx.ExecContext(ctx, "UPDATE users SET deactivated_at = NULL WHERE id = ?", userID)
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
		return fmt.Errorf("set deactivated: %w", err)
	}
	return nil
}

// SetAdmin makes the user an admin, or not.
func (s *Store) SetAdmin(ctx context.Context, userID int64, admin bool) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE users SET is_admin = ? WHERE id = ? AND is_guest = 0", admin, userID)
		return err
	})
	if err != nil {
		return fmt.Errorf("set admin: %w", err)
	}
	return nil
}
