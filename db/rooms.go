package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"agora/chat"
)

const roomColumns = "r.id, r.slug, r.name, r.kind, r.private, coalesce(r.created_by, 0), r.created_at, r.archived_at IS NOT NULL"

func scanRoom(row interface{ Scan(...any) error }, extra ...any) (chat.Room, error) {
	var r chat.Room
	var created int64
	if err := row.Scan(append([]any{&r.ID, &r.Slug, &r.Name, &r.Kind, &r.Private, &r.CreatedBy, &created, &r.Archived}, extra...)...); err != nil {
		return chat.Room{}, err
	}
	r.CreatedAt = fromDB(created)
	return r, nil
}

// CreateRoom stores a new room with its creator as its first member.
func (s *Store) CreateRoom(ctx context.Context, name, slug string, private bool, creator int64) (chat.Room, error) {
	var room chat.Room
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		now := toDB(time.Now())
		var err error
		room, err = scanRoom(tx.QueryRowContext(ctx, `INSERT INTO rooms (slug, name, kind, private, created_by, created_at)
			VALUES (?, ?, 'room', ?, ?, ?) RETURNING `+strings.ReplaceAll(roomColumns, "r.", ""), slug, name, private, creator, now))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO memberships (room_id, user_id, joined_at) VALUES (?, ?, ?)", room.ID, creator, now)
		return err
	})
	if s.engine.isUniqueViolation(err) {
		return chat.Room{}, chat.Errorf(chat.EConflict, "A room called %q exists already.", slug)
	}
	if err != nil {
		return chat.Room{}, fmt.Errorf("create room: %w", err)
	}
	s.userEvent(chat.UserJoined, creator, room.ID, 0)
	return room, nil
}

// RoomBySlug returns the room with that slug.
func (s *Store) RoomBySlug(ctx context.Context, slug string) (chat.Room, error) {
	r, err := scanRoom(s.queryRow(ctx, "SELECT "+roomColumns+" FROM rooms r WHERE r.slug = ?", slug))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Room{}, chat.Errorf(chat.ENotFound, "There is no such room.")
	}
	if err != nil {
		return chat.Room{}, fmt.Errorf("room by slug: %w", err)
	}
	return r, nil
}

// RoomByID returns the room with that id.
func (s *Store) RoomByID(ctx context.Context, id int64) (chat.Room, error) {
	r, err := scanRoom(s.queryRow(ctx, "SELECT "+roomColumns+" FROM rooms r WHERE r.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Room{}, chat.Errorf(chat.ENotFound, "There is no such room.")
	}
	if err != nil {
		return chat.Room{}, fmt.Errorf("room by id: %w", err)
	}
	return r, nil
}

// IsMember reports whether the user is a member of the room.
func (s *Store) IsMember(ctx context.Context, roomID, userID int64) (bool, error) {
	var n int
	err := s.queryRow(ctx, "SELECT count(*) FROM memberships WHERE room_id = ? AND user_id = ?", roomID, userID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("is member: %w", err)
	}
	return n > 0, nil
}

// Join makes the user a member of the room. It reports whether they were not
// one before, so that the caller announces only real joins.
func (s *Store) Join(ctx context.Context, roomID, userID int64) (bool, error) {
	var n int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "INSERT INTO memberships (room_id, user_id, joined_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
			roomID, userID, toDB(time.Now()))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("join room: %w", err)
	}
	if n > 0 {
		s.userEvent(chat.UserJoined, userID, roomID, 0)
	}
	return n > 0, nil
}

// Leave ends the user's membership of the room. It reports whether they were a member.
func (s *Store) Leave(ctx context.Context, roomID, userID int64) (bool, error) {
	var n int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM memberships WHERE room_id = ? AND user_id = ?", roomID, userID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("leave room: %w", err)
	}
	if n > 0 {
		s.userEvent(chat.UserLeft, userID, roomID, 0)
	}
	return n > 0, nil
}

// MemberRooms lists the rooms (and direct conversations) the user is a member of.
func (s *Store) MemberRooms(ctx context.Context, userID int64) ([]chat.Room, error) {
	rows, err := s.query(ctx, `SELECT `+roomColumns+` FROM rooms r
		JOIN memberships m ON m.room_id = r.id WHERE m.user_id = ? ORDER BY r.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("member rooms: %w", err)
	}
	defer rows.Close()
	var rooms []chat.Room
	for rows.Next() {
		r, err := scanRoom(rows)
		if err != nil {
			return nil, fmt.Errorf("member rooms: %w", err)
		}
		rooms = append(rooms, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("member rooms: %w", err)
	}
	return rooms, nil
}

// Members returns the ids of the room's members among the given users.
func (s *Store) Members(ctx context.Context, roomID int64, among []int64) ([]int64, error) {
	if len(among) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(among)+1)
	args = append(args, roomID)
	for _, id := range among {
		args = append(args, id)
	}
	rows, err := s.read.QueryContext(ctx, "SELECT user_id FROM memberships WHERE room_id = ? AND user_id IN (?"+
		strings.Repeat(",?", len(among)-1)+")", args...)
	ids, err := scanIDs(rows, err)
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	return ids, nil
}

// VisibleRooms lists the rooms a user can see (public ones, and private ones
// and direct conversations they are in), each saying whether they are a
// member and, for a direct conversation, who the other person is.
func (s *Store) VisibleRooms(ctx context.Context, userID int64) ([]chat.NavRoom, error) {
	rows, err := s.query(ctx, `SELECT `+roomColumns+`, m.user_id IS NOT NULL, coalesce(p.username, '')
		FROM rooms r
		LEFT JOIN memberships m ON m.room_id = r.id AND m.user_id = ?1
		LEFT JOIN users p ON r.kind = 'dm' AND p.id = coalesce(
			(SELECT o.user_id FROM memberships o WHERE o.room_id = r.id AND o.user_id != ?1 LIMIT 1), ?1)
		WHERE (r.kind = 'room' AND (r.private = 0 OR m.user_id IS NOT NULL))
			OR (r.kind = 'dm' AND m.user_id IS NOT NULL)
		ORDER BY r.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("visible rooms: %w", err)
	}
	defer rows.Close()
	var out []chat.NavRoom
	for rows.Next() {
		var n chat.NavRoom
		if n.Room, err = scanRoom(rows, &n.Member, &n.Peer.Username); err != nil {
			return nil, fmt.Errorf("visible rooms: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("visible rooms: %w", err)
	}
	return out, nil
}
