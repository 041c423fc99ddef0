package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// ToggleSaved saves message messageID for the user alone, or unsaves it if
// it was saved, and reports whether it is saved now. Whether the user may
// read the message is the caller's to ask first (the access policy).
func (s *Store) ToggleSaved(ctx context.Context, userID, messageID int64) (bool, error) {
	var saved bool
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM saved_messages WHERE user_id = ? AND message_id = ?", userID, messageID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		saved = true
		_, err = tx.ExecContext(ctx, `INSERT INTO saved_messages (user_id, message_id, saved_at) VALUES (?, ?, ?)
			ON CONFLICT DO NOTHING`, userID, messageID, toDB(time.Now()))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("toggle saved %d: %w", messageID, err)
	}
	return saved, nil
}
