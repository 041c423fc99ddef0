package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"agora/chat"
)

const userColumns = "id, username, display_name, is_admin, is_guest, created_at, is_bot, deactivated_at IS NOT NULL, avatar_at, theme, language"

// userColumnsOfU is userColumns for a query that names users u.
var userColumnsOfU = prefixed("u.", userColumns)

func scanUser(row interface{ Scan(...any) error }, extra ...any) (chat.User, error) {
	var u chat.User
	var created, avatar int64
	dest := append([]any{&u.ID, &u.Username, &u.DisplayName, &u.IsAdmin, &u.IsGuest, &created, &u.IsBot, &u.Deactivated, &avatar, &u.Theme, &u.Language}, extra...)
	if err := row.Scan(dest...); err != nil {
		return chat.User{}, err
	}
	u.CreatedAt, u.Avatar = fromDB(created), avatar
	return u, nil
}

// CreateUser stores a new account. The first account is the admin. A username
// taken in any letter case is a conflict.
func (s *Store) CreateUser(ctx context.Context, username, displayName, passwordHash string, guest bool) (chat.User, error) {
	return s.createUser(ctx, username, displayName, passwordHash, guest, false)
}

// ErrNotFirst is CreateFirstUser's refusal: an account exists already.
var ErrNotFirst = chat.Errorf(chat.EForbidden, "This server has its first account already.")

// CreateFirstUser stores the server's first account, its admin, and refuses
// with ErrNotFirst once any account exists: checked in the transaction of the
// insert, so of many made at once on a new server, one is made.
func (s *Store) CreateFirstUser(ctx context.Context, username, passwordHash string) (chat.User, error) {
	return s.createUser(ctx, username, "", passwordHash, false, true)
}

func (s *Store) createUser(ctx context.Context, username, displayName, passwordHash string, guest, onlyFirst bool) (chat.User, error) {
	var u chat.User
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if onlyFirst {
			if err := s.lockAccounts(ctx, tx); err != nil {
				return err
			}
			var has bool
			if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM users WHERE is_guest = 0)").Scan(&has); err != nil {
				return err
			}
			if has {
				return ErrNotFirst
			}
		}
		var err error
		u, err = s.insertUser(ctx, tx, username, displayName, passwordHash, guest)
		return err
	})
	if s.engine.isUniqueViolation(err) {
		return chat.User{}, chat.Errorf(chat.EConflict, "The username %q is taken.", username)
	}
	if errors.Is(err, ErrNotFirst) || chat.ErrorCode(err) == chat.EConflict {
		return chat.User{}, err
	}
	if err != nil {
		return chat.User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// lockAccounts makes transactions that make accounts take turns (see engine).
func (s *Store) lockAccounts(ctx context.Context, tx *sql.Tx) error {
	return s.engine.lockAccounts(ctx, tx)
}

// insertUser makes the account; the first one (not a guest) is the admin,
// decided under lockAccounts so that two made at once are not both first.
func (s *Store) insertUser(ctx context.Context, tx *sql.Tx, username, displayName, passwordHash string, guest bool) (chat.User, error) {
	if err := s.lockAccounts(ctx, tx); err != nil {
		return chat.User{}, err
	}
	if err := groupNameTaken(ctx, tx, username); err != nil {
		return chat.User{}, err
	}
	return scanUser(tx.QueryRowContext(ctx, `INSERT INTO users (username, display_name, password_hash, is_admin, is_guest, created_at)
		VALUES (?, ?, ?, CAST(NOT EXISTS (SELECT 1 FROM users WHERE is_guest = 0) AND ? = 0 AS INTEGER), ?, ?)
		RETURNING `+userColumns, username, displayName, passwordHash, guest, guest, toDB(time.Now())))
}

// UserCredentials returns the user with that username (in any case) and their
// password hash.
func (s *Store) UserCredentials(ctx context.Context, username string) (chat.User, string, error) {
	var hash string
	u, err := scanUser(s.queryRow(ctx, "SELECT "+userColumns+", password_hash FROM users WHERE username = ?", username), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return chat.User{}, "", chat.Errorf(chat.ENotFound, "No such user.")
	}
	if err != nil {
		return chat.User{}, "", fmt.Errorf("user credentials: %w", err)
	}
	return u, hash, nil
}

// UserByUsername returns the user with that username, in any letter case.
func (s *Store) UserByUsername(ctx context.Context, username string) (chat.User, error) {
	u, err := scanUser(s.queryRow(ctx, "SELECT "+userColumns+" FROM users WHERE username = ?", username))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.User{}, chat.Errorf(chat.ENotFound, "No user is called %q.", username)
	}
	if err != nil {
		return chat.User{}, fmt.Errorf("user by username: %w", err)
	}
	return u, nil
}

// SetDisplayName changes the user's display name and returns the user as it now is.
func (s *Store) SetDisplayName(ctx context.Context, userID int64, name string) (chat.User, error) {
	var u chat.User
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, "UPDATE users SET display_name = ? WHERE id = ? RETURNING "+userColumns, name, userID))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return chat.User{}, chat.Errorf(chat.ENotFound, "No such user.")
	}
	if err != nil {
		return chat.User{}, fmt.Errorf("set display name: %w", err)
	}
	return u, nil
}

// CreateSession stores a session by the hash of its token, with the browser
// and address it was opened from.
func (s *Store) CreateSession(ctx context.Context, tokenHash []byte, userID int64, expires time.Time, userAgent, address string) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		now := toDB(time.Now())
		// Expired sessions are swept here, where a write happens anyway.
		if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at < ?", now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at, user_agent, address)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, tokenHash, userID, now, toDB(expires), now, userAgent, address)
		return err
	})
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// SessionUser returns the user of an unexpired session.
func (s *Store) SessionUser(ctx context.Context, tokenHash []byte) (chat.User, error) {
	u, err := scanUser(s.queryRow(ctx, `SELECT `+userColumnsOfU+`
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ? AND s.expires_at > ?`, tokenHash, toDB(time.Now())))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.User{}, chat.Errorf(chat.EUnauthorized, "Please sign in.")
	}
	if err != nil {
		return chat.User{}, fmt.Errorf("session user: %w", err)
	}
	return u, nil
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, tokenHash []byte) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE token_hash = ?", tokenHash)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// UserByID returns the user with that id.
func (s *Store) UserByID(ctx context.Context, id int64) (chat.User, error) {
	u, err := scanUser(s.queryRow(ctx, "SELECT "+userColumns+" FROM users WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.User{}, chat.Errorf(chat.ENotFound, "No such user.")
	}
	if err != nil {
		return chat.User{}, fmt.Errorf("user by id: %w", err)
	}
	return u, nil
}

// People lists the active accounts (not guests) whose username or display
// name holds pattern (a LIKE pattern over lower case, escaped with \), by
// username: the quick switcher's people.
func (s *Store) People(ctx context.Context, pattern string, limit int) ([]chat.User, error) {
	rows, err := s.query(ctx, `SELECT `+userColumns+` FROM users
		WHERE deactivated_at IS NULL AND is_guest = 0
			AND (lower(username) LIKE ?1 ESCAPE '\' OR lower(display_name) LIKE ?1 ESCAPE '\')
		ORDER BY lower(username) LIMIT ?2`, pattern, limit)
	if err != nil {
		return nil, fmt.Errorf("people: %w", err)
	}
	defer rows.Close()
	var out []chat.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("people: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
