package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"agora/chat"
)

// SetRoomRetention sets how many days the room keeps its messages:
// chat.RetentionServer follows the server's setting, 0 keeps them for ever.
func (s *Store) SetRoomRetention(ctx context.Context, roomID int64, days int) error {
	var v any
	if days != chat.RetentionServer {
		if err := chat.ValidateRetention(days); err != nil {
			return err
		}
		v = days
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE rooms SET retention_days = ? WHERE id = ?", v, roomID)
		return err
	})
	if err != nil {
		return fmt.Errorf("set room retention: %w", err)
	}
	return nil
}

// HasRoomRetention reports whether any room has a retention of its own.
func (s *Store) HasRoomRetention(ctx context.Context) (bool, error) {
	var has bool
	if err := s.queryRow(ctx, "SELECT EXISTS (SELECT 1 FROM rooms WHERE retention_days IS NOT NULL)").Scan(&has); err != nil {
		return false, fmt.Errorf("has room retention: %w", err)
	}
	return has, nil
}

// Expired is what one DeleteExpired batch deleted.
type Expired struct {
	Messages int64 // replies included
	Files    int64
	Bytes    int64 // of the files
}

// DeleteExpired deletes up to limit messages of the room's list (with
// their threads' replies, reactions and files) older than their room's
// retention at now: the room's own days, or serverDays (0: none) for rooms
// that follow the server's. A thread goes when its last reply is that old,
// never a part of it. It runs as one short request of the writer, so the
// caller calls it until it deletes nothing, and messages sent meanwhile
// wait for one batch at most.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time, serverDays, limit int) (Expired, error) {
	var out Expired
	req := &writeReq{bulk: func(ctx context.Context, b *batch) error {
		out = Expired{}
		const day = int64(24 * time.Hour / time.Millisecond)
		// Casts keep PostgreSQL's arithmetic in 64 bits.
		cutoff := `CAST(? AS BIGINT) - CAST(coalesce(r.retention_days, ?) AS BIGINT) * ` + fmt.Sprint(day)
		found, err := scanIDs(b.tx.QueryContext(ctx, `SELECT m.id FROM messages m JOIN rooms r ON r.id = m.room_id
			WHERE coalesce(r.retention_days, ?) > 0 AND m.thread_id IS NULL
			  AND m.created_at < `+cutoff+` AND coalesce(m.last_reply_at, 0) < `+cutoff+`
			ORDER BY m.id LIMIT ?`, serverDays, toDB(now), serverDays, toDB(now), serverDays, limit))
		if err != nil || len(found) == 0 {
			return err
		}
		ids := make([]any, len(found))
		for i, id := range found {
			ids[i] = id
		}
		in := "?" + strings.Repeat(",?", len(ids)-1)
		if err := b.tx.QueryRowContext(ctx, "SELECT count(*) FROM messages WHERE id IN ("+in+") OR thread_id IN ("+in+")",
			append(ids, ids...)...).Scan(&out.Messages); err != nil {
			return err
		}
		// Files first, then messages, as DeleteRoom: each through the
		// triggers that keep the search index exact; the cascade takes
		// reactions, mentions, pins and the files' chunks.
		of := "SELECT id FROM messages WHERE id IN (" + in + ") OR thread_id IN (" + in + ")"
		if err := b.tx.QueryRowContext(ctx, "SELECT count(*), coalesce(sum(size), 0) FROM files WHERE message_id IN ("+of+")",
			append(ids, ids...)...).Scan(&out.Files, &out.Bytes); err != nil {
			return err
		}
		for _, q := range []string{
			"DELETE FROM files WHERE message_id IN (" + of + ")",
			"DELETE FROM messages WHERE thread_id IN (" + in + ")",
			"DELETE FROM messages WHERE id IN (" + in + ")",
		} {
			args := ids
			if strings.Count(q, "?") > len(ids) {
				args = append(ids, ids...)
			}
			if _, err := b.tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
		}
		// Room pages are cached by the room's seq and this counter (see
		// RoomVersion), on every node: a deletion takes no seq, so it moves
		// the counter, or a cached page would still show what is gone.
		_, err = b.tx.ExecContext(ctx, "UPDATE people_changes SET n = n + 1 WHERE id = 1")
		return err
	}}
	if err := s.submit(ctx, req); err != nil {
		return Expired{}, fmt.Errorf("delete expired messages: %w", err)
	}
	return out, nil
}
