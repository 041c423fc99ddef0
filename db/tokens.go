package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"agora/chat"
)

// CreateToken stores a new API token of the user by the hash of its secret.
// A user has at most chat.MaxTokens working tokens.
func (s *Store) CreateToken(ctx context.Context, userID int64, name string, tokenHash []byte) (chat.Token, error) {
	t := chat.Token{UserID: userID, Name: name}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		return createToken(ctx, tx, &t, tokenHash)
	})
	if chat.ErrorCode(err) == chat.EInvalid {
		return chat.Token{}, err
	}
	if err != nil {
		return chat.Token{}, fmt.Errorf("create token: %w", err)
	}
	return t, nil
}

func createToken(ctx context.Context, tx *sql.Tx, t *chat.Token, tokenHash []byte) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM api_tokens WHERE user_id = ? AND revoked_at IS NULL", t.UserID).Scan(&n); err != nil {
		return err
	}
	if n >= chat.MaxTokens {
		return chat.Errorf(chat.EInvalid, "You have %d tokens; revoke one you no longer use first.", n)
	}
	t.CreatedAt = fromDB(toDB(time.Now()))
	return tx.QueryRowContext(ctx, "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?) RETURNING id",
		t.UserID, t.Name, tokenHash, toDB(t.CreatedAt)).Scan(&t.ID)
}

// Tokens lists the user's tokens, newest first, revoked ones too.
func (s *Store) Tokens(ctx context.Context, userID int64) ([]chat.Token, error) {
	rows, err := s.query(ctx, `SELECT id, user_id, name, created_at, last_used_at, revoked_at
		FROM api_tokens WHERE user_id = ? ORDER BY id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	defer rows.Close()
	var out []chat.Token
	for rows.Next() {
		var t chat.Token
		var created int64
		var used, revoked sql.NullInt64
		if err := rows.Scan(&t.ID, &t.UserID, &t.Name, &created, &used, &revoked); err != nil {
			return nil, fmt.Errorf("tokens: %w", err)
		}
		t.CreatedAt, t.LastUsedAt, t.RevokedAt = fromDB(created), fromNullDB(used), fromNullDB(revoked)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	return out, nil
}

// RevokeToken stops one of the user's tokens from working. Someone else's
// token is "not found".
func (s *Store) RevokeToken(ctx context.Context, userID, tokenID int64) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? AND user_id = ?",
			toDB(time.Now()), tokenID, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return chat.Errorf(chat.ENotFound, "There is no such token.")
		}
		return nil
	})
	if chat.ErrorCode(err) == chat.ENotFound {
		return err
	}
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

// TokenUser returns the user of a working token, the token's id and when it
// was last used.
func (s *Store) TokenUser(ctx context.Context, tokenHash []byte) (chat.User, int64, time.Time, error) {
	var id int64
	var used sql.NullInt64
	u, err := scanUser(s.queryRow(ctx, `SELECT `+userColumnsOfU+`,
			t.id, t.last_used_at
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = ? AND t.revoked_at IS NULL`, tokenHash), &id, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return chat.User{}, 0, time.Time{}, chat.Errorf(chat.EUnauthorized, "The token is not valid: it is wrong or was revoked.")
	}
	if err != nil {
		return chat.User{}, 0, time.Time{}, fmt.Errorf("token user: %w", err)
	}
	return u, id, fromNullDB(used), nil
}

// TouchToken records that the token was used at t. Callers coalesce: it is
// a write, so not one per request.
func (s *Store) TouchToken(ctx context.Context, tokenID int64, t time.Time) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND coalesce(last_used_at, 0) < ?", toDB(t), tokenID, toDB(t))
		return err
	})
	if err != nil {
		return fmt.Errorf("touch token: %w", err)
	}
	return nil
}
