package db

import (
	"context"
	"fmt"

	"agora/chat"
)

// BrowseRooms lists the rooms the room browser shows a user: every public
// room that is not archived, and every room they are in (private or
// archived ones included), never a direct conversation; each with its
// topic, member count, whether the user is a member and when its latest
// message was written (found through the (room_id, id) index, not by
// scanning the room). By name.
func (s *Store) BrowseRooms(ctx context.Context, userID int64) ([]chat.BrowseRoom, error) {
	rows, err := s.query(ctx, `SELECT `+roomColumns+`, r.topic,
			(SELECT count(*) FROM memberships c WHERE c.room_id = r.id),
			m.user_id IS NOT NULL,
			coalesce((SELECT x.created_at FROM messages x WHERE x.room_id = r.id ORDER BY x.id DESC LIMIT 1), 0)
		FROM rooms r
		LEFT JOIN memberships m ON m.room_id = r.id AND m.user_id = ?1
		WHERE r.kind = 'room' AND ((r.private = 0 AND r.archived_at IS NULL) OR m.user_id IS NOT NULL)
		ORDER BY lower(r.name), r.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("browse rooms: %w", err)
	}
	defer rows.Close()
	var out []chat.BrowseRoom
	for rows.Next() {
		var b chat.BrowseRoom
		var last int64
		if b.Room, err = scanRoom(rows, &b.Topic, &b.Members, &b.Member, &last); err != nil {
			return nil, fmt.Errorf("browse rooms: %w", err)
		}
		if last > 0 {
			b.LastActivity = fromDB(last)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("browse rooms: %w", err)
	}
	return out, nil
}
