package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"agora/chat"
)

// UserByOIDC returns the account linked to the provider's subject.
func (s *Store) UserByOIDC(ctx context.Context, issuer, subject string) (chat.User, error) {
	u, err := scanUser(s.queryRow(ctx, `SELECT `+userColumnsOfU+` FROM oidc_identities o JOIN users u ON u.id = o.user_id
		WHERE o.issuer = ? AND o.subject = ?`, issuer, subject))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.User{}, chat.Errorf(chat.ENotFound, "No account is linked to that sign-in.")
	}
	if err != nil {
		return chat.User{}, fmt.Errorf("user by oidc: %w", err)
	}
	return u, nil
}

// CreateOIDCUser makes an account without a password, linked to the
// provider's subject, in one transaction. A username taken meanwhile is
// EConflict (the caller tries the next one); a subject linked meanwhile (the
// same person signing in twice at once) returns the account it is linked to.
func (s *Store) CreateOIDCUser(ctx context.Context, issuer, subject, username, displayName string) (chat.User, error) {
	var u chat.User
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		if u, err = s.insertUser(ctx, tx, username, displayName, "", false); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO oidc_identities (issuer, subject, user_id, created_at) VALUES (?, ?, ?, ?)",
			issuer, subject, u.ID, toDB(time.Now()))
		return err
	})
	if s.engine.isUniqueViolation(err) {
		if linked, lerr := s.UserByOIDC(ctx, issuer, subject); lerr == nil {
			return linked, nil
		}
		return chat.User{}, chat.Errorf(chat.EConflict, "The username %q is taken.", username)
	}
	if err != nil {
		return chat.User{}, fmt.Errorf("create oidc user: %w", err)
	}
	return u, nil
}
