package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"agora/chat"
)

// querier runs a query: the reader pool's prepared statements, or a write
// transaction that must see its own changes.
type querier func(ctx context.Context, query string, args ...any) (*sql.Rows, error)

// withReactions fills in the reactions of msgs with one query.
func withReactions(ctx context.Context, query querier, msgs []chat.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	index := make(map[int64]int, len(msgs))
	lo, hi := msgs[0].ID, msgs[0].ID
	for i, m := range msgs {
		index[m.ID] = i
		lo, hi = min(lo, m.ID), max(hi, m.ID)
	}
	// One constant query over the page's id range (so it is prepared once);
	// reactions in that range on other rooms' messages are skipped below.
	rows, err := query(ctx, `SELECT r.message_id, r.emoji, u.username, u.display_name
		FROM reactions r JOIN users u ON u.id = r.user_id
		WHERE r.message_id BETWEEN ? AND ? ORDER BY r.message_id, r.created_at, u.id`, lo, hi)
	if err != nil {
		return fmt.Errorf("reactions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var emoji, username, display string
		if err := rows.Scan(&id, &emoji, &username, &display); err != nil {
			return fmt.Errorf("reactions: %w", err)
		}
		if display == "" {
			display = username
		}
		i, ok := index[id]
		if !ok {
			continue
		}
		m := &msgs[i]
		k := -1
		for i := range m.Reactions {
			if m.Reactions[i].Emoji == emoji {
				k = i
			}
		}
		if k < 0 {
			m.Reactions = append(m.Reactions, chat.Reaction{Emoji: emoji})
			k = len(m.Reactions) - 1
		}
		m.Reactions[k].Users = append(m.Reactions[k].Users, strings.ToLower(username))
		m.Reactions[k].Names = append(m.Reactions[k].Names, display)
	}
	return rows.Err()
}
