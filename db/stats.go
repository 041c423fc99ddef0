package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"agora/chat"
)

const dayMillis = int64(24 * time.Hour / time.Millisecond)

// Stats counts days whole days from from (a midnight, UTC) for the admins'
// dashboard, with the rooms busiest in them. Every count is an aggregate
// the database makes; the messages are found by messages_created, however
// long the history is.
func (s *Store) Stats(ctx context.Context, from time.Time, days, rooms int) (chat.Stats, error) {
	st := chat.Stats{Days: make([]chat.DayStats, days)}
	start, end := toDB(from), toDB(from)+int64(days)*dayMillis
	for i := range st.Days {
		st.Days[i].Day = fromDB(start + int64(i)*dayMillis)
	}
	// The day is found by arithmetic on the stored milliseconds, the same
	// on both engines (integer division), rather than by date functions,
	// which differ.
	rows, err := s.query(ctx, `SELECT (m.created_at - ?) / ?, count(*), count(DISTINCT CASE WHEN u.is_bot = 0 THEN m.author_id END)
		FROM messages m JOIN users u ON u.id = m.author_id
		WHERE m.created_at >= ? AND m.created_at < ? AND m.kind = 'text'
		GROUP BY 1`, start, dayMillis, start, end)
	if err != nil {
		return st, fmt.Errorf("stats: messages per day: %w", err)
	}
	err = eachDay(rows, days, func(i int, msgs, people int64) {
		st.Days[i].Messages, st.Days[i].ActivePeople = msgs, people
		st.Messages += msgs
	})
	if err != nil {
		return st, fmt.Errorf("stats: messages per day: %w", err)
	}
	err = s.queryRow(ctx, `SELECT count(DISTINCT m.author_id) FROM messages m JOIN users u ON u.id = m.author_id
		WHERE m.created_at >= ? AND m.created_at < ? AND m.kind = 'text' AND u.is_bot = 0`, start, end).Scan(&st.ActivePeople)
	if err != nil {
		return st, fmt.Errorf("stats: people: %w", err)
	}

	rows, err = s.query(ctx, `SELECT r.slug, r.name, r.private, count(*) FROM messages m JOIN rooms r ON r.id = m.room_id
		WHERE m.created_at >= ? AND m.created_at < ? AND m.kind = 'text' AND r.kind = 'room'
		GROUP BY r.id, r.slug, r.name, r.private
		ORDER BY count(*) DESC, r.slug LIMIT ?`, start, end, rooms)
	if err != nil {
		return st, fmt.Errorf("stats: busiest rooms: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r chat.RoomStats
		if err := rows.Scan(&r.Slug, &r.Name, &r.Private, &r.Messages); err != nil {
			return st, fmt.Errorf("stats: busiest rooms: %w", err)
		}
		st.BusiestRooms = append(st.BusiestRooms, r)
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("stats: busiest rooms: %w", err)
	}
	rows.Close()

	// Storage at each day's end: what is kept now, less what came after.
	err = s.queryRow(ctx, "SELECT coalesce(CAST(sum(size) AS BIGINT), 0), count(*) FROM files").Scan(&st.StorageBytes, &st.Files)
	if err != nil {
		return st, fmt.Errorf("stats: storage: %w", err)
	}
	added := make([]int64, days+1) // the last: after the span
	rows, err = s.query(ctx, `SELECT (created_at - ?) / ?, CAST(sum(size) AS BIGINT), 0 FROM files WHERE created_at >= ? GROUP BY 1`,
		start, dayMillis, start)
	if err != nil {
		return st, fmt.Errorf("stats: storage per day: %w", err)
	}
	err = eachDay(rows, days+1, func(i int, bytes, _ int64) { added[i] += bytes })
	if err != nil {
		return st, fmt.Errorf("stats: storage per day: %w", err)
	}
	kept := st.StorageBytes
	for i := days - 1; i >= 0; i-- {
		kept -= added[i+1]
		st.Days[i].StorageBytes = kept
	}
	return st, nil
}

// eachDay reads rows of (day index, a, b), passing on those of the span
// (0 to days-1; anything later counts as the last) and closing rows.
func eachDay(rows *sql.Rows, days int, f func(i int, a, b int64)) error {
	defer rows.Close()
	for rows.Next() {
		var i, a, b int64
		if err := rows.Scan(&i, &a, &b); err != nil {
			return err
		}
		if i < 0 {
			continue
		}
		f(int(min(i, int64(days-1))), a, b)
	}
	return rows.Err()
}
