package db

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"agora/chat"
)

// Search finds messages matching every word of q (the last one as a prefix)
// in the rooms and direct conversations the user can read, newest first.
// q is never handed to FTS5 as syntax: it is cut into words, each quoted, so
// quotes, stars, NEAR( and the like are only ever searched for as text.
func (s *Store) Search(ctx context.Context, userID int64, q string, limit int) ([]chat.SearchHit, error) {
	match := ftsQuery(q)
	if match == "" {
		return nil, nil
	}
	rows, err := s.query(ctx, `SELECT `+messageColumns+`, `+roomColumns+`,
			snippet(messages_fts, 0, char(2), char(3), '…', 24),
			coalesce(p.id, 0), coalesce(p.username, ''), coalesce(p.display_name, '')
		FROM messages_fts f
		JOIN messages m ON m.id = f.rowid
		JOIN users u ON u.id = m.author_id
		JOIN rooms r ON r.id = m.room_id
		LEFT JOIN users p ON r.kind = 'dm' AND p.id = coalesce(
			(SELECT o.user_id FROM memberships o WHERE o.room_id = r.id AND o.user_id != ?1 LIMIT 1), ?1)
		WHERE messages_fts MATCH ?2 AND m.deleted_at IS NULL
			AND ((r.kind = 'room' AND r.private = 0)
				OR EXISTS (SELECT 1 FROM memberships mb WHERE mb.room_id = r.id AND mb.user_id = ?1))
		ORDER BY m.id DESC LIMIT ?3`, userID, match, limit)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	var hits []chat.SearchHit
	for rows.Next() {
		var h chat.SearchHit
		var roomCreated int64
		h.Message, err = scanMessage(rows, &h.Room.ID, &h.Room.Slug, &h.Room.Name, &h.Room.Kind, &h.Room.Private,
			&h.Room.CreatedBy, &roomCreated, &h.Snippet, &h.Peer.ID, &h.Peer.Username, &h.Peer.DisplayName)
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		h.Room.CreatedAt = fromDB(roomCreated)
		hits = append(hits, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return hits, nil
}

// ftsQuery turns what a person typed into an FTS5 query of quoted words.
func ftsQuery(q string) string {
	words := strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) > 16 {
		words = words[:16]
	}
	for i, w := range words {
		words[i] = `"` + w + `"`
	}
	if len(words) > 0 {
		words[len(words)-1] += "*"
	}
	return strings.Join(words, " ")
}
