package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"agora/chat"
)

// maxListedMembers bounds the member list a room page carries.
const maxListedMembers = 500

// RoomMembers returns up to maxListedMembers members of the room, by name.
func (s *Store) RoomMembers(ctx context.Context, roomID int64) ([]chat.User, error) {
	rows, err := s.query(ctx, `SELECT `+prefixed("u.", userColumns)+`
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.room_id = ?
		ORDER BY lower(CASE WHEN u.display_name = '' THEN u.username ELSE u.display_name END), u.id
		LIMIT ?`, roomID, maxListedMembers)
	if err != nil {
		return nil, fmt.Errorf("room members: %w", err)
	}
	defer rows.Close()
	var out []chat.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("room members: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("room members: %w", err)
	}
	return out, nil
}

// RoomTopic returns the room's topic, "" when none is set.
func (s *Store) RoomTopic(ctx context.Context, roomID int64) (string, error) {
	var topic string
	err := s.queryRow(ctx, "SELECT topic FROM rooms WHERE id = ?", roomID).Scan(&topic)
	if errors.Is(err, sql.ErrNoRows) {
		return "", chat.Errorf(chat.ENotFound, "There is no such room.")
	}
	if err != nil {
		return "", fmt.Errorf("room topic: %w", err)
	}
	return topic, nil
}

// prefixed qualifies each of a comma-separated column list with a table alias.
func prefixed(alias, columns string) string {
	return alias + strings.ReplaceAll(columns, ", ", ", "+alias)
}
