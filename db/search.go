package db

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"agora/chat"
)

// Search finds the messages q asks for in the rooms and direct
// conversations the user can read, newest first. q's words reach the engine
// only quoted (see the engines' searchText), and its filters only as
// arguments, so nothing typed is ever SQL or the engine's search syntax.
func (s *Store) Search(ctx context.Context, userID int64, q chat.SearchQuery, limit int) ([]chat.SearchHit, error) {
	if q.Empty() {
		return nil, nil
	}
	args, arg := queryArgs(userID)
	from, snippet, match := s.engine.searchText(q, arg)
	var conds []string
	if match != "" {
		conds = append(conds, match)
	}
	conds = append(conds, searchFilters(q, arg)...)
	snip := func(h *chat.SearchHit) { h.Snippet = leadingWords(h.Snippet, 24) }
	if q.HasText() {
		snip = func(h *chat.SearchHit) { h.Snippet = s.engine.snippet(h.Message.Body, h.Snippet) }
	}
	hits, err := s.hits(ctx, hitQuery{from: from, snippet: snippet, conds: conds, order: "m.id DESC"}, limit, arg, args, snip)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return hits, nil
}

// hitQuery is a list of messages in the shape of search hits: from names
// the message m, conds are ANDed (?1 is the reader).
type hitQuery struct {
	from, snippet, order string
	conds                []string
}

// hits runs hq, adding the reader's access policy, and finishes each hit's
// snippet with finish.
func (s *Store) hits(ctx context.Context, hq hitQuery, limit int, arg func(any) string, args *[]any, finish func(*chat.SearchHit)) ([]chat.SearchHit, error) {
	conds := append([]string{"m.kind = 'text'", "m.deleted_at IS NULL", readableSQL}, hq.conds...)
	query := `SELECT ` + messageColumns + `, ` + roomColumns + `, ` + hq.snippet + `,
		coalesce(p.id, 0), coalesce(p.username, ''), coalesce(p.display_name, '')
	FROM ` + hq.from + `
		JOIN users u ON u.id = m.author_id
		JOIN rooms r ON r.id = m.room_id
		LEFT JOIN users p ON r.kind = 'dm' AND p.id = coalesce(
			(SELECT o.user_id FROM memberships o WHERE o.room_id = r.id AND o.user_id != ?1 LIMIT 1), ?1)
	WHERE ` + strings.Join(conds, "\n\t\tAND ") + `
	ORDER BY ` + hq.order + ` LIMIT ` + arg(limit)
	rows, err := s.query(ctx, query, *args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var hits []chat.SearchHit
	for rows.Next() {
		var h chat.SearchHit
		var roomCreated int64
		h.Message, err = scanMessage(rows, &h.Room.ID, &h.Room.Slug, &h.Room.Name, &h.Room.Kind, &h.Room.Private,
			&h.Room.CreatedBy, &roomCreated, &h.Room.Archived, &h.Snippet, &h.Peer.ID, &h.Peer.Username, &h.Peer.DisplayName)
		if err != nil {
			return nil, err
		}
		h.Room.CreatedAt = fromDB(roomCreated)
		finish(&h)
		hits = append(hits, h)
	}
	return hits, rows.Err()
}

// args makes the argument list of a query whose ?1 is the reader, and the
// function that adds one more and gives its placeholder.
func queryArgs(userID int64) (*[]any, func(any) string) {
	args := []any{userID}
	return &args, func(v any) string {
		args = append(args, v)
		return "?" + strconv.Itoa(len(args))
	}
}

// plainSnippetSQL is a message's text with its file's name, the snippet of a
// search that matches no words.
const plainSnippetSQL = `m.body || coalesce((SELECT ' ' || sf.name FROM files sf WHERE sf.message_id = m.id), '')`

// searchFilters are the conditions for q's filters on the message m, its
// author u and its room r (?1 is the reader).
func searchFilters(q chat.SearchQuery, arg func(any) string) []string {
	var conds []string
	anyOf := func(column string, values []string) string {
		ps := make([]string, len(values))
		for i, v := range values {
			ps[i] = arg(v)
		}
		return column + " IN (" + strings.Join(ps, ", ") + ")"
	}
	if len(q.From) > 0 {
		conds = append(conds, anyOf("lower(u.username)", q.From))
	}
	var places []string
	if len(q.InRooms) > 0 {
		places = append(places, "(r.kind = 'room' AND "+anyOf("r.slug", q.InRooms)+")")
	}
	if len(q.InDMs) > 0 {
		// The conversation with oneself has oneself as its only member.
		places = append(places, `(r.kind = 'dm' AND EXISTS (SELECT 1 FROM memberships wm JOIN users wu ON wu.id = wm.user_id
			WHERE wm.room_id = r.id AND `+anyOf("lower(wu.username)", q.InDMs)+`
				AND (wm.user_id != ?1 OR (SELECT count(*) FROM memberships wn WHERE wn.room_id = r.id) = 1)))`)
	}
	if len(places) > 0 {
		conds = append(conds, "("+strings.Join(places, " OR ")+")")
	}
	for _, h := range q.Has {
		switch h {
		case "file":
			conds = append(conds, "EXISTS (SELECT 1 FROM files hf WHERE hf.message_id = m.id)")
		case "image":
			conds = append(conds, "EXISTS (SELECT 1 FROM files hf WHERE hf.message_id = m.id AND "+anyOf("hf.content_type", chat.InlineTypes)+")")
		case "link":
			conds = append(conds, "(lower(m.body) LIKE '%http://%' OR lower(m.body) LIKE '%https://%')")
		}
	}
	for _, is := range q.Is {
		switch is {
		case "pinned":
			conds = append(conds, "EXISTS (SELECT 1 FROM pins ip WHERE ip.message_id = m.id)")
		case "saved":
			conds = append(conds, "EXISTS (SELECT 1 FROM saved_messages isv WHERE isv.message_id = m.id AND isv.user_id = ?1)")
		case "thread":
			// A reply, or the root of a thread (it has replies).
			conds = append(conds, "(m.thread_id IS NOT NULL OR m.reply_count > 0)")
		}
	}
	if !q.After.IsZero() {
		conds = append(conds, "m.created_at >= "+arg(toDB(q.After)))
	}
	if !q.Before.IsZero() {
		conds = append(conds, "m.created_at < "+arg(toDB(q.Before)))
	}
	return conds
}

// leadingWords is text's first n words, with "…" when there were more.
func leadingWords(text string, n int) string {
	words := strings.Fields(text)
	if len(words) <= n {
		return strings.Join(words, " ")
	}
	return strings.Join(words[:n], " ") + " …"
}
