package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"agora/chat"
)

// errLinkGone is what every unusable link gets: unknown, used and expired
// links are told apart by nobody but the store.
var errLinkGone = chat.Errorf(chat.ENotFound, "This link is no longer valid: it was used, replaced by a newer one, or it expired. Ask for a new one.")

// CreatePasswordLink stores a one-time link that sets the user's password
// until expires. Only the token's hash is kept. It is the one kind of
// password link, whoever asked for it (an operator's `agora users`, an
// admin, an email to the account's owner), and the newest replaces the
// account's earlier unused ones: only the last link handed out works.
func (s *Store) CreatePasswordLink(ctx context.Context, userID int64, tokenHash []byte, expires time.Time) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		now := toDB(time.Now())
		if _, err := tx.ExecContext(ctx, "UPDATE password_links SET used_at = ? WHERE user_id = ? AND used_at IS NULL", now, userID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO password_links (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
			tokenHash, userID, now, toDB(expires))
		return err
	})
	if err != nil {
		return fmt.Errorf("create password link: %w", err)
	}
	return nil
}

// PasswordLinkUser returns the account a usable (unused, unexpired) link is
// for, and ENotFound for any other.
func (s *Store) PasswordLinkUser(ctx context.Context, tokenHash []byte) (chat.User, error) {
	u, err := scanUser(s.queryRow(ctx, `SELECT `+userColumnsOfU+`
		FROM password_links l JOIN users u ON u.id = l.user_id
		WHERE l.token_hash = ? AND l.used_at IS NULL AND l.expires_at > ?`, tokenHash, toDB(time.Now())))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.User{}, errLinkGone
	}
	if err != nil {
		return chat.User{}, fmt.Errorf("password link: %w", err)
	}
	return u, nil
}

// UsePasswordLink spends the link and sets the account's password in one
// transaction, ending every session of the account; it returns the account
// and the ended sessions' token hashes. A link is spent once: of two uses at
// the same moment, one gets ENotFound.
func (s *Store) UsePasswordLink(ctx context.Context, tokenHash []byte, passwordHash string) (chat.User, [][]byte, error) {
	var u chat.User
	var ended [][]byte
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		now := toDB(time.Now())
		var userID int64
		err := tx.QueryRowContext(ctx, `UPDATE password_links SET used_at = ?
			WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING user_id`, now, tokenHash, now).Scan(&userID)
		if errors.Is(err, sql.ErrNoRows) {
			return errLinkGone
		}
		if err != nil {
			return err
		}
		if u, err = scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = ?", userID)); err != nil {
			return err
		}
		if u.Deactivated || u.IsGuest || u.IsBot {
			return chat.Errorf(chat.EForbidden, "This account cannot have a password.")
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET password_hash = ? WHERE id = ?", passwordHash, userID); err != nil {
			return err
		}
		ended, err = endOthers(ctx, tx, userID, nil)
		return err
	})
	switch {
	case err == nil:
		return u, ended, nil
	case chat.ErrorCode(err) != chat.EInternal:
		return chat.User{}, nil, err
	}
	return chat.User{}, nil, fmt.Errorf("use password link: %w", err)
}

// Deactivation is an account's deactivation, as every node learns of it.
type Deactivation struct {
	UserID int64
	At     time.Time
}

// DeactivatedSince lists the accounts deactivated at or after since, oldest
// first. Every node asks it now and then, so that deactivations made by
// another process (`agora users deactivate`) close sockets everywhere.
func (s *Store) DeactivatedSince(ctx context.Context, since time.Time) ([]Deactivation, error) {
	rows, err := s.query(ctx, `SELECT id, deactivated_at FROM users
		WHERE deactivated_at IS NOT NULL AND deactivated_at >= ? ORDER BY deactivated_at`, toDB(since))
	if err != nil {
		return nil, fmt.Errorf("deactivated since: %w", err)
	}
	defer rows.Close()
	var out []Deactivation
	for rows.Next() {
		var d Deactivation
		var at int64
		if err := rows.Scan(&d.UserID, &at); err != nil {
			return nil, fmt.Errorf("deactivated since: %w", err)
		}
		d.At = fromDB(at)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("deactivated since: %w", err)
	}
	return out, nil
}
