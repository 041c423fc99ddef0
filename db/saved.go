package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"agora/chat"
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

// Saved lists the messages the user saved, last saved first, of those
// they may still read and that are not deleted.
func (s *Store) Saved(ctx context.Context, userID int64, limit int) ([]chat.SearchHit, error) {
	args, arg := queryArgs(userID)
	hits, err := s.hits(ctx, hitQuery{from: "saved_messages sv JOIN messages m ON m.id = sv.message_id", snippet: plainSnippetSQL,
		conds: []string{"sv.user_id = ?1"}, order: "sv.saved_at DESC, m.id DESC"}, limit, arg, args, listSnippet)
	if err != nil {
		return nil, fmt.Errorf("saved of %d: %w", userID, err)
	}
	return hits, nil
}

// Pins lists the room's pinned messages, last pinned first, as the user
// may read them (none if they may not read the room).
func (s *Store) Pins(ctx context.Context, userID, roomID int64, limit int) ([]chat.SearchHit, error) {
	args, arg := queryArgs(userID)
	hits, err := s.hits(ctx, hitQuery{from: "pins pn JOIN messages m ON m.id = pn.message_id", snippet: plainSnippetSQL,
		conds: []string{"pn.room_id = " + arg(roomID)}, order: "pn.pinned_at DESC, m.id DESC"}, limit, arg, args, listSnippet)
	if err != nil {
		return nil, fmt.Errorf("pins of room %d: %w", roomID, err)
	}
	return hits, nil
}

// listSnippet shows a listed message's text whole, up to a long message's
// first words.
func listSnippet(h *chat.SearchHit) { h.Snippet = leadingWords(h.Snippet, 60) }

// Marks says whether the message is pinned in its room, and whether the
// user saved it.
func (s *Store) Marks(ctx context.Context, userID, messageID int64) (pinned, saved bool, err error) {
	err = s.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pins WHERE message_id = ?1),
		EXISTS (SELECT 1 FROM saved_messages WHERE message_id = ?1 AND user_id = ?2)`, messageID, userID).Scan(&pinned, &saved)
	if err != nil {
		return false, false, fmt.Errorf("marks of message %d: %w", messageID, err)
	}
	return pinned, saved, nil
}
