package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"agora/chat"
)

// CreateIncomingHook makes a hook that posts to the room as the bot account
// named botName: the bot is made if no account has the name (with no
// password: it speaks only through hooks), reused if a bot has it, and a
// person's name is a conflict. The bot becomes a member of the room; joined
// says whether it was not one before. Only the secret's hash is kept.
func (s *Store) CreateIncomingHook(ctx context.Context, roomID int64, botName string, createdBy int64, secretHash []byte) (hook chat.IncomingHook, joined bool, err error) {
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		now := toDB(time.Now())
		bot, err := scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE username = ?", botName))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if err := groupNameTaken(ctx, tx, botName); err != nil {
				return err
			}
			bot, err = scanUser(tx.QueryRowContext(ctx, `INSERT INTO users (username, display_name, password_hash, is_admin, is_guest, is_bot, created_at)
				VALUES (?, '', '', 0, 0, 1, ?) RETURNING `+userColumns, botName, now))
			if err != nil {
				return err
			}
		case err != nil:
			return err
		case !bot.IsBot || bot.Deactivated:
			return chat.Errorf(chat.EConflict, "%q is a person's account (or a deactivated one): choose another name for the hook.", botName)
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO memberships (room_id, user_id, joined_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", roomID, bot.ID, now)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		joined = n > 0
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO incoming_hooks (room_id, bot_id, secret_hash, created_by, created_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, roomID, bot.ID, secretHash, createdBy, now).Scan(&id); err != nil {
			return err
		}
		hook, err = scanHook(tx.QueryRowContext(ctx, hookSelect+" WHERE h.id = ?", id))
		return err
	})
	if s.engine.isUniqueViolation(err) {
		return chat.IncomingHook{}, false, chat.Errorf(chat.EConflict, "The name %q is taken.", botName)
	}
	if err != nil && chat.ErrorCode(err) == chat.EInternal {
		return chat.IncomingHook{}, false, fmt.Errorf("create incoming hook: %w", err)
	}
	return hook, joined, err
}

var hookSelect = `SELECT ` + userColumnsOfU + `, h.id, ` + roomColumns + `, coalesce(c.username, ''), h.created_at, h.last_used_at, h.revoked_at
	FROM incoming_hooks h JOIN rooms r ON r.id = h.room_id JOIN users u ON u.id = h.bot_id LEFT JOIN users c ON c.id = h.created_by`

func scanHook(row interface{ Scan(...any) error }) (chat.IncomingHook, error) {
	var h chat.IncomingHook
	var r chat.Room
	var roomCreated, created int64
	var used, revoked sql.NullInt64
	bot, err := scanUser(row, &h.ID, &r.ID, &r.Slug, &r.Name, &r.Kind, &r.Private, &r.CreatedBy, &roomCreated, &r.Archived,
		&h.CreatedBy, &created, &used, &revoked)
	if err != nil {
		return chat.IncomingHook{}, err
	}
	r.CreatedAt = fromDB(roomCreated)
	h.Bot, h.Room, h.CreatedAt, h.LastUsedAt, h.RevokedAt = bot, r, fromDB(created), fromNullDB(used), fromNullDB(revoked)
	return h, nil
}

// IncomingHooks lists every hook, working ones first, newest first.
func (s *Store) IncomingHooks(ctx context.Context) ([]chat.IncomingHook, error) {
	rows, err := s.query(ctx, hookSelect+" ORDER BY h.revoked_at IS NOT NULL, h.id DESC")
	if err != nil {
		return nil, fmt.Errorf("incoming hooks: %w", err)
	}
	defer rows.Close()
	var out []chat.IncomingHook
	for rows.Next() {
		h, err := scanHook(rows)
		if err != nil {
			return nil, fmt.Errorf("incoming hooks: %w", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("incoming hooks: %w", err)
	}
	return out, nil
}

// IncomingHookBySecret returns the working hook whose secret has this hash;
// a revoked or unknown one is ENotFound.
func (s *Store) IncomingHookBySecret(ctx context.Context, secretHash []byte) (chat.IncomingHook, error) {
	h, err := scanHook(s.queryRow(ctx, hookSelect+" WHERE h.secret_hash = ? AND h.revoked_at IS NULL", secretHash))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.IncomingHook{}, chat.Errorf(chat.ENotFound, "No such hook.")
	}
	if err != nil {
		return chat.IncomingHook{}, fmt.Errorf("incoming hook: %w", err)
	}
	return h, nil
}

// RevokeIncomingHook stops a hook for good; it stays listed.
func (s *Store) RevokeIncomingHook(ctx context.Context, id int64) (chat.IncomingHook, error) {
	var h chat.IncomingHook
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE incoming_hooks SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", toDB(time.Now()), id); err != nil {
			return err
		}
		var err error
		h, err = scanHook(tx.QueryRowContext(ctx, hookSelect+" WHERE h.id = ?", id))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return chat.IncomingHook{}, chat.Errorf(chat.ENotFound, "No such hook.")
	}
	if err != nil {
		return chat.IncomingHook{}, fmt.Errorf("revoke incoming hook: %w", err)
	}
	return h, nil
}

// TouchIncomingHook records when the hook was last used, at most once a
// minute, so a busy hook costs no write per post.
func (s *Store) TouchIncomingHook(ctx context.Context, id int64, t time.Time) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE incoming_hooks SET last_used_at = ? WHERE id = ? AND coalesce(last_used_at, 0) < ?",
			toDB(t), id, toDB(t.Add(-time.Minute)))
		return err
	})
	if err != nil {
		return fmt.Errorf("touch incoming hook: %w", err)
	}
	return nil
}
