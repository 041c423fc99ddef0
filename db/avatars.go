package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"agora/chat"
)

// SetAvatar stores the user's picture (already made square and small, with
// no metadata) and returns the user as they are now. Its version, avatar_at,
// always moves forward, so the address of a new picture is never one a
// browser has cached.
func (s *Store) SetAvatar(ctx context.Context, userID int64, contentType string, data []byte) (chat.User, error) {
	var u chat.User
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO avatars (user_id, content_type, data) VALUES (?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET content_type = excluded.content_type, data = excluded.data`,
			userID, contentType, data); err != nil {
			return err
		}
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, `UPDATE users SET avatar_at = CASE WHEN avatar_at >= ?1 THEN avatar_at + 1 ELSE ?1 END
			WHERE id = ?2 RETURNING `+userColumns, toDB(time.Now()), userID))
		return err
	})
	if err != nil {
		return chat.User{}, fmt.Errorf("set avatar: %w", err)
	}
	return u, nil
}

// RemoveAvatar takes the user's picture away: initials are shown again.
func (s *Store) RemoveAvatar(ctx context.Context, userID int64) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM avatars WHERE user_id = ?", userID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "UPDATE users SET avatar_at = 0 WHERE id = ? AND avatar_at <> 0", userID)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove avatar: %w", err)
	}
	return nil
}

// Avatar returns the picture of the user with this username and its
// version, or ENotFound when they have none.
func (s *Store) Avatar(ctx context.Context, username string) (contentType string, data []byte, version int64, err error) {
	err = s.queryRow(ctx, `SELECT a.content_type, a.data, u.avatar_at FROM avatars a JOIN users u ON u.id = a.user_id
		WHERE u.username = ?`, username).Scan(&contentType, &data, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, 0, chat.Errorf(chat.ENotFound, "There is no such picture.")
	}
	if err != nil {
		return "", nil, 0, fmt.Errorf("avatar: %w", err)
	}
	return contentType, data, version, nil
}

// SetLanguage keeps the language the user reads agora in; "" follows
// their browser.
func (s *Store) SetLanguage(ctx context.Context, userID int64, code string) error {
	if !chat.ValidLanguage(code) {
		return chat.Errorf(chat.EInvalid, "That language is not one agora speaks.")
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE users SET language = ? WHERE id = ? AND language <> ?", code, userID, code)
		return err
	})
	if err != nil {
		return fmt.Errorf("set language: %w", err)
	}
	return nil
}

// SetTheme keeps the user's choice of light, dark or their system's.
func (s *Store) SetTheme(ctx context.Context, userID int64, theme string) error {
	if !chat.ValidTheme(theme) {
		return chat.Errorf(chat.EInvalid, "The theme must be system, light or dark.")
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE users SET theme = ? WHERE id = ? AND theme <> ?", theme, userID, theme)
		return err
	})
	if err != nil {
		return fmt.Errorf("set theme: %w", err)
	}
	return nil
}
