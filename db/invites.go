package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"agora/chat"
)

var errInviteUnusable = chat.Errorf(chat.ENotFound,
	"This invite link cannot be used: it was used up, has expired, was revoked, or never existed. Ask an admin for a new one.")

// CreateInvite stores an invite by the hash of its code.
func (s *Store) CreateInvite(ctx context.Context, codeHash []byte, by int64, maxUses int, expires time.Time) (chat.Invite, error) {
	var id int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO invites (code_hash, created_by, created_at, expires_at, max_uses)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, codeHash, by, toDB(time.Now()), toDB(expires), maxUses).Scan(&id)
	})
	if err != nil {
		return chat.Invite{}, fmt.Errorf("create invite: %w", err)
	}
	return s.inviteWhere(ctx, "i.id = ?", id)
}

const inviteSelect = `SELECT i.id, coalesce(u.username, ''), i.created_at, i.expires_at, i.max_uses, i.uses, i.revoked_at IS NOT NULL
	FROM invites i LEFT JOIN users u ON u.id = i.created_by`

func scanInvite(row interface{ Scan(...any) error }) (chat.Invite, error) {
	var i chat.Invite
	var created, expires int64
	if err := row.Scan(&i.ID, &i.CreatedBy, &created, &expires, &i.MaxUses, &i.Uses, &i.Revoked); err != nil {
		return chat.Invite{}, err
	}
	i.CreatedAt, i.ExpiresAt = fromDB(created), fromDB(expires)
	return i, nil
}

func (s *Store) inviteWhere(ctx context.Context, where string, arg any) (chat.Invite, error) {
	i, err := scanInvite(s.queryRow(ctx, inviteSelect+" WHERE "+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Invite{}, errInviteUnusable
	}
	if err != nil {
		return chat.Invite{}, fmt.Errorf("invite: %w", err)
	}
	return i, nil
}

// InviteByCode returns the invite with that code hash if it can still be used.
func (s *Store) InviteByCode(ctx context.Context, codeHash []byte) (chat.Invite, error) {
	i, err := s.inviteWhere(ctx, "i.code_hash = ?", codeHash)
	if err != nil {
		return chat.Invite{}, err
	}
	if !i.Usable(time.Now()) {
		return chat.Invite{}, errInviteUnusable
	}
	return i, nil
}

// Invites lists the invites, newest first.
func (s *Store) Invites(ctx context.Context, limit int) ([]chat.Invite, error) {
	rows, err := s.query(ctx, inviteSelect+" ORDER BY i.id DESC LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("invites: %w", err)
	}
	defer rows.Close()
	var out []chat.Invite
	for rows.Next() {
		i, err := scanInvite(rows)
		if err != nil {
			return nil, fmt.Errorf("invites: %w", err)
		}
		out = append(out, i)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("invites: %w", err)
	}
	return out, nil
}

// RevokeInvite makes an invite unusable.
func (s *Store) RevokeInvite(ctx context.Context, id int64) error {
	var n int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE invites SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", toDB(time.Now()), id)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke invite: %w", err)
	}
	if n == 0 {
		return chat.Errorf(chat.ENotFound, "There is no such invite, or it was revoked already.")
	}
	return nil
}

// CreateUserWithInvite makes an account and spends one use of the invite, in
// one transaction: two people racing for the last use cannot both get in.
func (s *Store) CreateUserWithInvite(ctx context.Context, codeHash []byte, username, passwordHash string) (chat.User, error) {
	var u chat.User
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE invites SET uses = uses + 1
			WHERE code_hash = ? AND revoked_at IS NULL AND uses < max_uses AND expires_at > ?`, codeHash, toDB(time.Now()))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err == nil {
				err = errInviteUnusable
			}
			return err
		}
		u, err = s.insertUser(ctx, tx, username, "", passwordHash, false)
		return err
	})
	switch {
	case s.engine.isUniqueViolation(err):
		return chat.User{}, chat.Errorf(chat.EConflict, "The username %q is taken.", username)
	case chat.ErrorCode(err) == chat.ENotFound:
		return chat.User{}, err
	case err != nil:
		return chat.User{}, fmt.Errorf("create user with invite: %w", err)
	}
	return u, nil
}
