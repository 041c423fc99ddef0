package db

import (
	"context"
	"fmt"

	"agora/chat"
)

// What an export reads (db/export writes it): everything in pages by id, so
// memory stays flat however large the server, and no read transaction is
// held open while a slow download drains.

// ExportRoom is a room as an export lists it.
type ExportRoom struct {
	chat.Room
	Topic string
}

// ExportTotals are what an export will write, for its progress.
type ExportTotals struct {
	Messages  int64
	Files     int64
	FileBytes int64
}

// UsersAfter returns up to limit accounts with ids above after, by id.
func (s *Store) UsersAfter(ctx context.Context, after int64, limit int) ([]chat.User, error) {
	rows, err := s.query(ctx, "SELECT "+userColumns+" FROM users WHERE id > ? ORDER BY id LIMIT ?", after, limit)
	if err != nil {
		return nil, fmt.Errorf("users after: %w", err)
	}
	defer rows.Close()
	out := make([]chat.User, 0, limit)
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("users after: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("users after: %w", err)
	}
	return out, nil
}

// ExportRooms lists the rooms and direct conversations an export covers, by
// id: every one (userID 0), or those the user is in or has written in.
func (s *Store) ExportRooms(ctx context.Context, userID int64) ([]ExportRoom, error) {
	query := `SELECT ` + roomColumns + `, r.topic FROM rooms r ORDER BY r.id`
	args := []any{}
	if userID != 0 {
		query = `SELECT ` + roomColumns + `, r.topic FROM rooms r
			WHERE r.id IN (SELECT room_id FROM memberships WHERE user_id = ?)
			   OR r.id IN (SELECT room_id FROM messages WHERE author_id = ?)
			ORDER BY r.id`
		args = []any{userID, userID}
	}
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("export rooms: %w", err)
	}
	defer rows.Close()
	var out []ExportRoom
	for rows.Next() {
		var r ExportRoom
		if r.Room, err = scanRoom(rows, &r.Topic); err != nil {
			return nil, fmt.Errorf("export rooms: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("export rooms: %w", err)
	}
	return out, nil
}

// MemberNames lists the usernames of the room's members, by username.
func (s *Store) MemberNames(ctx context.Context, roomID int64) ([]string, error) {
	rows, err := s.query(ctx, `SELECT u.username FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.room_id = ? ORDER BY lower(u.username)`, roomID)
	if err != nil {
		return nil, fmt.Errorf("member names: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("member names: %w", err)
		}
		out = append(out, name)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("member names: %w", err)
	}
	return out, nil
}

// AuthorMessagesAfter is MessagesAfter for one author's messages only.
func (s *Store) AuthorMessagesAfter(ctx context.Context, roomID, authorID, after int64, limit int) ([]chat.Message, error) {
	msgs, err := s.queryMessages(ctx, `SELECT `+messageColumns+`
		FROM messages m JOIN users u ON u.id = m.author_id
		WHERE m.room_id = ? AND m.author_id = ? AND m.id > ? ORDER BY m.id LIMIT ?`, roomID, authorID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list author's messages: %w", err)
	}
	return msgs, nil
}

// ExportTotals counts what an export of everything (userID 0) or of one
// user's data will write.
func (s *Store) ExportTotals(ctx context.Context, userID int64) (ExportTotals, error) {
	var t ExportTotals
	var err error
	if userID == 0 {
		err = s.queryRow(ctx, `SELECT (SELECT count(*) FROM messages),
			(SELECT count(*) FROM files WHERE message_id IS NOT NULL),
			(SELECT coalesce(CAST(sum(size) AS BIGINT), 0) FROM files WHERE message_id IS NOT NULL)`).Scan(&t.Messages, &t.Files, &t.FileBytes)
	} else {
		// Their own messages anywhere, and everything in their direct conversations.
		err = s.queryRow(ctx, `WITH mine AS (
				SELECT m.id FROM messages m JOIN rooms r ON r.id = m.room_id
				WHERE m.author_id = ?1 OR (r.kind = 'dm' AND r.id IN (SELECT room_id FROM memberships WHERE user_id = ?1)))
			SELECT (SELECT count(*) FROM mine),
				(SELECT count(*) FROM files WHERE message_id IN (SELECT id FROM mine)),
				(SELECT coalesce(CAST(sum(size) AS BIGINT), 0) FROM files WHERE message_id IN (SELECT id FROM mine))`, userID).Scan(&t.Messages, &t.Files, &t.FileBytes)
	}
	if err != nil {
		return ExportTotals{}, fmt.Errorf("export totals: %w", err)
	}
	return t, nil
}
