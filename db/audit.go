package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"agora/chat"
)

// Audit records what an admin did. An actor without an id is no account:
// an operator's command (`agora users`), named by actor.Username.
func (s *Store) Audit(ctx context.Context, actor chat.User, action, target, detail string) error {
	actorID := sql.NullInt64{Int64: actor.ID, Valid: actor.ID != 0}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (actor_id, actor, action, target, detail, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, actorID, actor.Username, action, target, detail, toDB(time.Now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// AuditLog returns the latest entries, newest first.
func (s *Store) AuditLog(ctx context.Context, limit int) ([]chat.AuditEntry, error) {
	rows, err := s.query(ctx, "SELECT id, actor, action, target, detail, created_at FROM audit_log ORDER BY id DESC LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	var out []chat.AuditEntry
	for rows.Next() {
		var e chat.AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &e.Actor, &e.Action, &e.Target, &e.Detail, &at); err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		e.At = fromDB(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return out, nil
}
