package db

import (
	"context"
	"fmt"
	"strings"
)

// RoomSeqs returns the seq of the latest event of each room among ids, or of
// every room when ids is nil: what a node of a cluster compares with what it
// delivered.
func (s *Store) RoomSeqs(ctx context.Context, ids []int64) (map[int64]int64, error) {
	q := "SELECT id, seq FROM rooms"
	args := make([]any, 0, len(ids))
	if ids != nil {
		if len(ids) == 0 {
			return map[int64]int64{}, nil
		}
		q += " WHERE id IN (?" + strings.Repeat(",?", len(ids)-1) + ")"
		for _, id := range ids {
			args = append(args, id)
		}
	}
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("room seqs: %w", err)
	}
	defer rows.Close()
	out := make(map[int64]int64, len(ids))
	for rows.Next() {
		var id, seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			return nil, fmt.Errorf("room seqs: %w", err)
		}
		out[id] = seq
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("room seqs: %w", err)
	}
	return out, nil
}
