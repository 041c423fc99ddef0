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
// q is never handed to the engine as syntax: it is cut into words, each
// quoted, so quotes, stars, NEAR(, & and the like are only ever searched for
// as text.
func (s *Store) Search(ctx context.Context, userID int64, q string, limit int) ([]chat.SearchHit, error) {
	words := searchWords(q)
	if len(words) == 0 {
		return nil, nil
	}
	query, arg := s.engine.search(words)
	rows, err := s.query(ctx, query, userID, arg, limit)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	var hits []chat.SearchHit
	for rows.Next() {
		var h chat.SearchHit
		var roomCreated int64
		h.Message, err = scanMessage(rows, &h.Room.ID, &h.Room.Slug, &h.Room.Name, &h.Room.Kind, &h.Room.Private,
			&h.Room.CreatedBy, &roomCreated, &h.Room.Archived, &h.Snippet, &h.Peer.ID, &h.Peer.Username, &h.Peer.DisplayName)
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		h.Room.CreatedAt = fromDB(roomCreated)
		h.Snippet = s.engine.snippet(h.Message.Body, h.Snippet)
		hits = append(hits, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return hits, nil
}

// searchWords cuts what a person typed into at most 16 words of letters and
// digits, the words the engines' indexes hold.
func searchWords(q string) []string {
	words := strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) > 16 {
		words = words[:16]
	}
	return words
}

// searchRest is the part of both engines' search after the text match.
const searchRest = ` JOIN users u ON u.id = m.author_id
		JOIN rooms r ON r.id = m.room_id
		LEFT JOIN users p ON r.kind = 'dm' AND p.id = coalesce(
			(SELECT o.user_id FROM memberships o WHERE o.room_id = r.id AND o.user_id != ?1 LIMIT 1), ?1)
		WHERE %s AND m.deleted_at IS NULL AND ` + readableSQL + `
		ORDER BY m.id DESC LIMIT ?3`
