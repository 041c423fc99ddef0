package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"agora/chat"
)

// RoomSeq is the sequence number of the room's latest event, 0 when it has none.
func (s *Store) RoomSeq(ctx context.Context, roomID int64) (int64, error) {
	var seq int64
	err := s.queryRow(ctx, "SELECT seq FROM rooms WHERE id = ?", roomID).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, chat.Errorf(chat.ENotFound, "There is no such room.")
	}
	if err != nil {
		return 0, fmt.Errorf("room seq: %w", err)
	}
	return seq, nil
}

// RoomVersion is the room's seq and a counter of changes to any account or
// membership (see migration 0017): while both stay the same, so do the
// room's messages as a page shows them, authors' names included, its topic
// and its members.
func (s *Store) RoomVersion(ctx context.Context, roomID int64) (seq, people int64, err error) {
	err = s.queryRow(ctx, "SELECT r.seq, p.n FROM rooms r, people_changes p WHERE r.id = ? AND p.id = 1", roomID).Scan(&seq, &people)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, chat.Errorf(chat.ENotFound, "There is no such room.")
	}
	if err != nil {
		return 0, 0, fmt.Errorf("room version: %w", err)
	}
	return seq, people, nil
}

// SeqAt is where a client that has the room's messages up to id stands in
// the room's log: the seq of the event that created the latest of them, 0
// when there is none.
func (s *Store) SeqAt(ctx context.Context, roomID, id int64) (int64, error) {
	var seq int64
	err := s.queryRow(ctx, "SELECT seq FROM messages WHERE room_id = ? AND id <= ? ORDER BY id DESC LIMIT 1", roomID, id).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("seq at message: %w", err)
	}
	return seq, nil
}

// EventsAfter returns up to limit of the room's events with seq above
// after, in seq order. Each carries its message as it stands now, with its
// reactions: a receiver that missed several changes to one message needs
// only the last.
func (s *Store) EventsAfter(ctx context.Context, roomID, after int64, limit int) ([]chat.Event, error) {
	rows, err := s.query(ctx, `SELECT `+messageColumns+`, e.id, e.seq, e.kind, e.created_at
		FROM events e JOIN messages m ON m.id = e.message_id JOIN users u ON u.id = m.author_id
		WHERE e.room_id = ? AND e.seq > ? ORDER BY e.seq LIMIT ?`, roomID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("events after: %w", err)
	}
	defer rows.Close()
	var events []chat.Event
	for rows.Next() {
		e := chat.Event{RoomID: roomID}
		var at int64
		m, err := scanMessage(rows, &e.ID, &e.Seq, &e.Kind, &at)
		if err != nil {
			return nil, fmt.Errorf("events after: %w", err)
		}
		e.Message, e.At = m, fromDB(at)
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events after: %w", err)
	}
	rows.Close()
	return events, s.eventReactions(ctx, events)
}

// eventReactions fills in the reactions of the events' messages.
func (s *Store) eventReactions(ctx context.Context, events []chat.Event) error {
	if len(events) == 0 {
		return nil
	}
	// Several events may be about one message: load each message's once.
	index := make(map[int64]int, len(events))
	var msgs []chat.Message
	for _, e := range events {
		if _, ok := index[e.Message.ID]; !ok {
			index[e.Message.ID] = len(msgs)
			msgs = append(msgs, e.Message)
		}
	}
	if err := withDetails(ctx, s.query, msgs); err != nil {
		return err
	}
	for i := range events {
		events[i].Message = msgs[index[events[i].Message.ID]]
	}
	return nil
}

// LatestEventID is the id of the newest event in any room, 0 when there is none.
func (s *Store) LatestEventID(ctx context.Context) (int64, error) {
	var id int64
	if err := s.queryRow(ctx, "SELECT coalesce(max(id), 0) FROM events").Scan(&id); err != nil {
		return 0, fmt.Errorf("latest event id: %w", err)
	}
	return id, nil
}

// EventsVisible returns up to limit events with ids above after, in id
// (commit) order, from every room the user can read now (readableSQL):
// public rooms, and the private rooms and direct conversations they are a
// member of.
func (s *Store) EventsVisible(ctx context.Context, userID, after int64, limit int) ([]chat.Event, error) {
	events, err := s.eventsByID(ctx, `e.id > ?2 AND `+readableSQL+` ORDER BY e.id LIMIT ?3`, userID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("visible events: %w", err)
	}
	return events, nil
}

// EventsSince returns up to limit events with ids above after, in id
// (commit) order, from every room: what a node's event streams share,
// each asking the access policy which of them its user may read.
func (s *Store) EventsSince(ctx context.Context, after int64, limit int) ([]chat.Event, error) {
	events, err := s.eventsByID(ctx, `e.id > ?1 ORDER BY e.id LIMIT ?2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("events since: %w", err)
	}
	return events, nil
}

// eventsByID reads the events that where (its order and limit included)
// picks, with their messages and reactions.
func (s *Store) eventsByID(ctx context.Context, where string, args ...any) ([]chat.Event, error) {
	rows, err := s.query(ctx, `SELECT `+messageColumns+`, e.id, e.seq, e.kind, e.created_at
		FROM events e JOIN rooms r ON r.id = e.room_id
		JOIN messages m ON m.id = e.message_id JOIN users u ON u.id = m.author_id
		WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var events []chat.Event
	for rows.Next() {
		var e chat.Event
		var at int64
		m, err := scanMessage(rows, &e.ID, &e.Seq, &e.Kind, &at)
		if err != nil {
			return nil, err
		}
		e.RoomID, e.Message, e.At = m.RoomID, m, fromDB(at)
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	return events, s.eventReactions(ctx, events)
}
