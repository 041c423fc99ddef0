package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"agora/chat"
)

// Email addresses, and the single-use tokens mailed to check one, kept as
// hashes (chat.HashToken) like sessions. A password reset by email is a
// password link (password_links.go), as an admin's or an operator's is.

// ErrTokenUnusable is a mailed link that is unknown, used already or expired.
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

// CreateEmailVerification keeps the hash of a token mailed to check that
// email is the user's, valid until expires. Earlier unused ones stop
// working: only the latest link does.
func (s *Store) CreateEmailVerification(ctx context.Context, userID int64, email string, hash []byte, expires time.Time) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		now := toDB(time.Now())
		if _, err := tx.ExecContext(ctx, "UPDATE email_verifications SET used_at = ? WHERE user_id = ? AND used_at IS NULL",
			now, userID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO email_verifications (token_hash, user_id, email, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?)`, hash, userID, email, now, toDB(expires))
		return err
	})
	if err != nil {
		return fmt.Errorf("create email verification: %w", err)
	}
	return nil
}

// VerifyEmail spends a verification token, once and before it expires, and
// makes its address the user's. An address another account has verified is
// a conflict.
func (s *Store) VerifyEmail(ctx context.Context, hash []byte) (chat.User, string, error) {
	var u chat.User
	var email string
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		now := toDB(time.Now())
		var userID int64
		err := tx.QueryRowContext(ctx, `UPDATE email_verifications SET used_at = ?1
			WHERE token_hash = ?2 AND used_at IS NULL AND expires_at > ?1
			RETURNING user_id, email`, now, hash).Scan(&userID, &email)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrTokenUnusable
		}
		if err != nil {
			return err
		}
		u, err = scanUser(tx.QueryRowContext(ctx, "UPDATE users SET email = ? WHERE id = ? RETURNING "+userColumns, email, userID))
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

// NotifySettings returns the user's settings (the defaults until changed).
func (s *Store) NotifySettings(ctx context.Context, userID int64) (chat.NotifySettings, error) {
	n := chat.DefaultNotifySettings
	err := s.queryRow(ctx, "SELECT email, email_delay, push, coalesce(quiet_start, -1), coalesce(quiet_end, -1), zone FROM notify_settings WHERE user_id = ?",
		userID).Scan(&n.Email, &n.EmailDelay, &n.Push, &n.QuietStart, &n.QuietEnd, &n.Zone)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return n, fmt.Errorf("notify settings: %w", err)
	}
	return n, nil
}

// SetNotifySettings keeps the user's settings.
func (s *Store) SetNotifySettings(ctx context.Context, userID int64, n chat.NotifySettings) error {
	push := n.Push
	if push == "" {
		push = chat.PushOn
	}
	quiet := func(m int) sql.NullInt64 { return sql.NullInt64{Int64: int64(m), Valid: m >= 0} }
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO notify_settings (user_id, email, email_delay, push, quiet_start, quiet_end, zone)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
			ON CONFLICT (user_id) DO UPDATE SET email = ?2, email_delay = ?3, push = ?4, quiet_start = ?5, quiet_end = ?6, zone = ?7`,
			userID, n.Email, n.EmailDelay, push, quiet(n.QuietStart), quiet(n.QuietEnd), n.Zone)
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
	err := s.queryRow(ctx, `SELECT email FROM email_verifications WHERE user_id = ? AND used_at IS NULL AND expires_at > ?
		ORDER BY created_at DESC LIMIT 1`, userID, toDB(time.Now())).Scan(&email)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("pending email: %w", err)
	}
	return email, nil
}

// EmailRecipients returns, with their delay in minutes, the members of a
// room a new message by author concerns who want it emailed if unread: with
// a verified address and email for mentions on, and the room not at
// nothing; at all, every message concerns them; else a direct
// conversation's, or a mention of them.
func (s *Store) EmailRecipients(ctx context.Context, roomID, authorID int64, dm bool, mentions []string) (map[int64]int, error) {
	cond, args := concerns(roomID, authorID, dm, mentions)
	rows, err := s.read.QueryContext(ctx, `SELECT u.id, coalesce(n.email_delay, 10) FROM memberships mb
		JOIN users u ON u.id = mb.user_id LEFT JOIN notify_settings n ON n.user_id = u.id
		WHERE mb.room_id = ?1 AND u.id != ?2 AND u.email IS NOT NULL AND u.deactivated_at IS NULL AND u.is_bot = 0
			AND coalesce(n.email, 'mentions') = 'mentions' AND mb.notify != 'nothing' AND (`+cond+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("email recipients: %w", err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var delay int
		if err := rows.Scan(&id, &delay); err != nil {
			return nil, fmt.Errorf("email recipients: %w", err)
		}
		out[id] = delay
	}
	return out, rows.Err()
}

// concerns is the condition on a member mb (a user u) that a new message
// by author in a room concerns them: every message of a room they set to
// all, a direct conversation's, or a mention of them; with its arguments
// (?1 the room, ?2 the author).
func concerns(roomID, authorID int64, dm bool, mentions []string) (string, []any) {
	args := []any{roomID, authorID, dm}
	cond := "mb.notify = 'all' OR ?3 = 1"
	if len(mentions) > 0 {
		marks := make([]string, len(mentions))
		for i, m := range mentions {
			marks[i] = "?" + strconv.Itoa(i+4)
			args = append(args, m)
		}
		cond += " OR u.username IN (" + strings.Join(marks, ",") + ")"
	}
	return cond, args
}

// MissedBy returns what the user has not read and was not emailed yet: the
// messages that mention them, the messages of their direct conversations
// and of rooms they set to all, after their read marker in each room, but
// none of rooms they set to nothing, oldest first (at most limit).
func (s *Store) MissedBy(ctx context.Context, userID int64, limit int) ([]chat.Missed, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+messageColumns+`, `+roomColumns+`, coalesce(p.username, '')
		FROM memberships mb
		JOIN rooms r ON r.id = mb.room_id
		JOIN messages m ON m.room_id = mb.room_id AND m.id > mb.last_read_id
		JOIN users u ON u.id = m.author_id
		LEFT JOIN users p ON r.kind = 'dm' AND p.id = (SELECT o.user_id FROM memberships o WHERE o.room_id = r.id AND o.user_id != ?1 LIMIT 1)
		WHERE mb.user_id = ?1 AND m.author_id != ?1 AND m.kind = 'text' AND m.deleted_at IS NULL
			AND m.id > coalesce((SELECT emailed_through FROM notify_settings WHERE user_id = ?1), 0)
			AND mb.notify != 'nothing'
			AND (r.kind = 'dm' OR mb.notify = 'all' OR EXISTS (SELECT 1 FROM mentions mn WHERE mn.message_id = m.id AND mn.user_id = ?1))
		ORDER BY m.id LIMIT ?2`, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("missed by %d: %w", userID, err)
	}
	defer rows.Close()
	var out []chat.Missed
	for rows.Next() {
		var x chat.Missed
		var roomCreated int64
		msg, err := scanMessage(rows, &x.Room.ID, &x.Room.Slug, &x.Room.Name, &x.Room.Kind, &x.Room.Private,
			&x.Room.CreatedBy, &roomCreated, &x.Room.Archived, &x.Peer)
		if err != nil {
			return nil, fmt.Errorf("missed by %d: %w", userID, err)
		}
		x.Room.CreatedAt = fromDB(roomCreated)
		x.Message = msg
		out = append(out, x)
	}
	return out, rows.Err()
}

// MarkEmailed records that the user's missed messages up to id were emailed.
func (s *Store) MarkEmailed(ctx context.Context, userID, through int64) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO notify_settings (user_id, emailed_through) VALUES (?1, ?2)
			ON CONFLICT (user_id) DO UPDATE SET emailed_through = CASE WHEN notify_settings.emailed_through < ?2 THEN ?2 ELSE notify_settings.emailed_through END`,
			userID, through)
		return err
	})
	if err != nil {
		return fmt.Errorf("mark emailed: %w", err)
	}
	return nil
}

// ServerKey returns the named key the nodes share, making it (from fresh,
// random bytes) the first time.
func (s *Store) ServerKey(ctx context.Context, name string, fresh []byte) ([]byte, error) {
	var key []byte
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO server_keys (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING", name, fresh); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, "SELECT value FROM server_keys WHERE name = ?", name).Scan(&key)
	})
	if err != nil {
		return nil, fmt.Errorf("server key %s: %w", name, err)
	}
	return key, nil
}
