package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"agora/chat"
)

// Email addresses, and the single-use tokens mailed to check one or to reset
// a password. Tokens are kept as hashes (chat.HashToken), like sessions.

// ErrTokenUnusable is a mailed link that is unknown, used already, expired,
// or for something else.
var ErrTokenUnusable = chat.Errorf(chat.ENotFound, "This link is not valid: it has expired or was used already. Ask for a new one.")

// UserEmail returns the user's verified address, "" when none.
func (s *Store) UserEmail(ctx context.Context, userID int64) (string, error) {
	var email sql.NullString
	if err := s.queryRow(ctx, "SELECT email FROM users WHERE id = ?", userID).Scan(&email); err != nil {
		return "", fmt.Errorf("user email: %w", err)
	}
	return email.String, nil
}

// UserByLogin returns the active account (not a guest, not a bot) whose
// username is name, or whose verified address is name, with that address.
func (s *Store) UserByLogin(ctx context.Context, name string) (chat.User, string, error) {
	var email sql.NullString
	u, err := scanUser(s.queryRow(ctx, "SELECT "+userColumns+`, email FROM users
		WHERE (username = ?1 OR lower(email) = lower(?1)) AND is_guest = 0 AND is_bot = 0 AND deactivated_at IS NULL
		ORDER BY username = ?1 DESC LIMIT 1`, name), &email)
	if errors.Is(err, sql.ErrNoRows) {
		return chat.User{}, "", chat.Errorf(chat.ENotFound, "No such user.")
	}
	if err != nil {
		return chat.User{}, "", fmt.Errorf("user by login: %w", err)
	}
	return u, email.String, nil
}

// CreateEmailToken keeps the hash of a token mailed to a user for purpose
// (chat.TokenVerifyEmail with the address to verify, or
// chat.TokenResetPassword), valid until expires. Earlier unused tokens of
// the same purpose stop working: only the latest link does.
func (s *Store) CreateEmailToken(ctx context.Context, userID int64, purpose, email string, hash []byte, expires time.Time) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		now := toDB(time.Now())
		if _, err := tx.ExecContext(ctx, "UPDATE email_tokens SET used_at = ? WHERE user_id = ? AND purpose = ? AND used_at IS NULL",
			now, userID, purpose); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO email_tokens (token_hash, user_id, purpose, email, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?)`, hash, userID, purpose, email, now, toDB(expires))
		return err
	})
	if err != nil {
		return fmt.Errorf("create email token: %w", err)
	}
	return nil
}

// useToken spends a token of purpose in tx: it works once, before it expires.
func useToken(ctx context.Context, tx *sql.Tx, purpose string, hash []byte) (userID int64, email string, err error) {
	now := toDB(time.Now())
	err = tx.QueryRowContext(ctx, `UPDATE email_tokens SET used_at = ?1
		WHERE token_hash = ?2 AND purpose = ?3 AND used_at IS NULL AND expires_at > ?1
		RETURNING user_id, email`, now, hash, purpose).Scan(&userID, &email)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", ErrTokenUnusable
	}
	return userID, email, err
}

// EmailTokenUser returns the account a usable token of purpose is for,
// without spending it (the reset page shows whose password it sets).
func (s *Store) EmailTokenUser(ctx context.Context, purpose string, hash []byte) (chat.User, error) {
	u, err := scanUser(s.queryRow(ctx, "SELECT "+userColumns+` FROM users WHERE id = (SELECT user_id FROM email_tokens
		WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?) AND deactivated_at IS NULL`,
		hash, purpose, toDB(time.Now())))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.User{}, ErrTokenUnusable
	}
	if err != nil {
		return chat.User{}, fmt.Errorf("email token: %w", err)
	}
	return u, nil
}

// VerifyEmail spends a verification token and makes its address the
// user's. An address another account has verified is a conflict.
func (s *Store) VerifyEmail(ctx context.Context, hash []byte) (chat.User, string, error) {
	var u chat.User
	var email string
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		userID, addr, err := useToken(ctx, tx, chat.TokenVerifyEmail, hash)
		if err != nil {
			return err
		}
		email = addr
		u, err = scanUser(tx.QueryRowContext(ctx, "UPDATE users SET email = ? WHERE id = ? RETURNING "+userColumns, addr, userID))
		return err
	})
	if s.engine.isUniqueViolation(err) {
		return chat.User{}, "", chat.Errorf(chat.EConflict, "That address is another account's already.")
	}
	if chat.ErrorCode(err) == chat.ENotFound {
		return chat.User{}, "", err
	}
	if err != nil {
		return chat.User{}, "", fmt.Errorf("verify email: %w", err)
	}
	return u, email, nil
}

// ResetPassword spends a reset token: the account's password becomes
// passwordHash and every session of it ends, in one transaction. It returns
// the account and the ended sessions' token hashes.
func (s *Store) ResetPassword(ctx context.Context, hash []byte, passwordHash string) (chat.User, [][]byte, error) {
	var u chat.User
	var ended [][]byte
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		userID, _, err := useToken(ctx, tx, chat.TokenResetPassword, hash)
		if err != nil {
			return err
		}
		u, err = scanUser(tx.QueryRowContext(ctx, "UPDATE users SET password_hash = ? WHERE id = ? AND deactivated_at IS NULL RETURNING "+userColumns,
			passwordHash, userID))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrTokenUnusable
		}
		if err != nil {
			return err
		}
		ended, err = endOthers(ctx, tx, userID, nil)
		return err
	})
	if chat.ErrorCode(err) == chat.ENotFound {
		return chat.User{}, nil, err
	}
	if err != nil {
		return chat.User{}, nil, fmt.Errorf("reset password: %w", err)
	}
	return u, ended, nil
}

// NotifySettings returns the user's settings (the defaults until changed).
func (s *Store) NotifySettings(ctx context.Context, userID int64) (chat.NotifySettings, error) {
	n := chat.DefaultNotifySettings
	err := s.queryRow(ctx, "SELECT email, email_delay FROM notify_settings WHERE user_id = ?", userID).Scan(&n.Email, &n.EmailDelay)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return n, fmt.Errorf("notify settings: %w", err)
	}
	return n, nil
}

// SetNotifySettings keeps the user's settings.
func (s *Store) SetNotifySettings(ctx context.Context, userID int64, n chat.NotifySettings) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO notify_settings (user_id, email, email_delay) VALUES (?1, ?2, ?3)
			ON CONFLICT (user_id) DO UPDATE SET email = ?2, email_delay = ?3`, userID, n.Email, n.EmailDelay)
		return err
	})
	if err != nil {
		return fmt.Errorf("set notify settings: %w", err)
	}
	return nil
}

// PendingEmail is the address of the user's latest verification link still
// usable, "" when none.
func (s *Store) PendingEmail(ctx context.Context, userID int64) (string, error) {
	var email string
	err := s.queryRow(ctx, `SELECT email FROM email_tokens WHERE user_id = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?
		ORDER BY created_at DESC LIMIT 1`, userID, chat.TokenVerifyEmail, toDB(time.Now())).Scan(&email)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("pending email: %w", err)
	}
	return email, nil
}
