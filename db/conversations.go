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

// DM returns the direct conversation between a and b, creating it (with both
// as members) on first use. a and b may be the same user: notes to self.
func (s *Store) DM(ctx context.Context, a, b chat.User) (chat.Room, error) {
	slug := chat.DMSlug(a.ID, b.ID)
	room, err := s.RoomBySlug(ctx, slug)
	if err == nil || chat.ErrorCode(err) != chat.ENotFound {
		return room, err
	}
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		now := toDB(time.Now())
		_, err := tx.ExecContext(ctx, `INSERT INTO rooms (slug, name, kind, private, created_by, created_at)
			VALUES (?, ?, 'dm', 1, ?, ?) ON CONFLICT (slug) DO NOTHING`, slug, a.Username+", "+b.Username, a.ID, now)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO memberships (room_id, user_id, joined_at)
			SELECT r.id, u.id, ? FROM rooms r, users u WHERE r.slug = ? AND u.id IN (?, ?)
			ON CONFLICT DO NOTHING`, now, slug, a.ID, b.ID)
		return err
	})
	if err != nil {
		return chat.Room{}, fmt.Errorf("create direct conversation: %w", err)
	}
	return s.RoomBySlug(ctx, slug)
}

// DMPeer returns the other member of a direct conversation (or me, for notes to self).
func (s *Store) DMPeer(ctx context.Context, roomID, me int64) (chat.User, error) {
	u, err := scanUser(s.queryRow(ctx, `SELECT u.id, u.username, u.display_name, u.is_admin, u.is_guest, u.created_at
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.room_id = ? ORDER BY u.id = ?, u.id LIMIT 1`, roomID, me))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.User{}, chat.Errorf(chat.ENotFound, "There is no such conversation.")
	}
	if err != nil {
		return chat.User{}, fmt.Errorf("direct conversation peer: %w", err)
	}
	return u, nil
}

// DMPeers returns the ids of the people the user has direct conversations with.
func (s *Store) DMPeers(ctx context.Context, userID int64) ([]int64, error) {
	rows, err := s.query(ctx, `SELECT DISTINCT o.user_id FROM memberships m
		JOIN rooms r ON r.id = m.room_id AND r.kind = 'dm'
		JOIN memberships o ON o.room_id = m.room_id AND o.user_id != m.user_id
		WHERE m.user_id = ?`, userID)
	ids, err := scanIDs(rows, err)
	if err != nil {
		return nil, fmt.Errorf("dm peers: %w", err)
	}
	return ids, nil
}

// scanIDs reads a one-column result of ids, closing rows.
func scanIDs(rows *sql.Rows, err error) ([]int64, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// Nav lists what the sidebar shows a user: the rooms they can see (public
// ones and private ones they are in) and their direct conversations, each
// with unread and mention counts where they are a member.
func (s *Store) Nav(ctx context.Context, userID int64) ([]chat.NavRoom, error) {
	rows, err := s.query(ctx, `SELECT `+roomColumns+`, m.user_id IS NOT NULL,
			coalesce((SELECT count(*) FROM messages x WHERE x.room_id = r.id AND x.id > m.last_read_id
				AND x.author_id != m.user_id AND x.kind = 'text' AND x.deleted_at IS NULL), 0),
			coalesce((SELECT count(*) FROM mentions mn JOIN messages x ON x.id = mn.message_id
				WHERE mn.user_id = m.user_id AND x.room_id = r.id AND x.id > m.last_read_id AND x.deleted_at IS NULL), 0),
			coalesce(p.id, 0), coalesce(p.username, ''), coalesce(p.display_name, '')
		FROM rooms r
		LEFT JOIN memberships m ON m.room_id = r.id AND m.user_id = ?1
		LEFT JOIN users p ON r.kind = 'dm' AND p.id = coalesce(
			(SELECT o.user_id FROM memberships o WHERE o.room_id = r.id AND o.user_id != ?1 LIMIT 1), ?1)
		WHERE (r.kind = 'room' AND (r.private = 0 OR m.user_id IS NOT NULL))
			OR (r.kind = 'dm' AND m.user_id IS NOT NULL)
		ORDER BY r.kind DESC, r.name COLLATE NOCASE`, userID)
	if err != nil {
		return nil, fmt.Errorf("nav: %w", err)
	}
	defer rows.Close()
	var out []chat.NavRoom
	for rows.Next() {
		var n chat.NavRoom
		var peer chat.User
		n.Room, err = scanRoom(rows, &n.Member, &n.Unread, &n.Mentions, &peer.ID, &peer.Username, &peer.DisplayName)
		if err != nil {
			return nil, fmt.Errorf("nav: %w", err)
		}
		n.Peer = peer
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("nav: %w", err)
	}
	return out, nil
}

// MarkRead moves the user's read marker in the room up to upTo (never back)
// and returns where it was.
func (s *Store) MarkRead(ctx context.Context, roomID, userID, upTo int64) (int64, error) {
	var prev int64
	// Most page views find nothing new: a read answers them without taking
	// the write lock.
	err := s.queryRow(ctx, "SELECT last_read_id FROM memberships WHERE room_id = ? AND user_id = ?", roomID, userID).Scan(&prev)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && prev >= upTo) {
		return prev, nil
	}
	if err != nil {
		return 0, fmt.Errorf("mark read: %w", err)
	}
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, "SELECT last_read_id FROM memberships WHERE room_id = ? AND user_id = ?", roomID, userID).Scan(&prev)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE memberships SET last_read_id = max(last_read_id, ?) WHERE room_id = ? AND user_id = ?", upTo, roomID, userID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("mark read: %w", err)
	}
	return prev, nil
}

// LatestID is the id of the room's newest message, 0 when it has none.
func (s *Store) LatestID(ctx context.Context, roomID int64) (int64, error) {
	var id int64
	if err := s.queryRow(ctx, "SELECT coalesce(max(id), 0) FROM messages WHERE room_id = ?", roomID).Scan(&id); err != nil {
		return 0, fmt.Errorf("latest id: %w", err)
	}
	return id, nil
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

// EditMessage changes the text of a message its author wrote.
func (s *Store) EditMessage(ctx context.Context, id, authorID int64, body string, mentions []string) (chat.Message, error) {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE messages SET body = ?, edited_at = ?
			WHERE id = ? AND author_id = ? AND kind = 'text' AND deleted_at IS NULL`, body, toDB(time.Now()), id, authorID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return chat.Errorf(chat.EForbidden, "Only its author can edit a message, and not once it is deleted.")
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM mentions WHERE message_id = ?", id); err != nil {
			return err
		}
		return insertMentions(ctx, tx, id, mentions)
	})
	if chat.ErrorCode(err) == chat.EForbidden {
		return chat.Message{}, err
	}
	if err != nil {
		return chat.Message{}, fmt.Errorf("edit message: %w", err)
	}
	return s.MessageByID(ctx, id)
}

// DeleteMessage removes a message's text, leaving a "deleted" mark in its
// place. Its author may delete it, and so may an admin.
func (s *Store) DeleteMessage(ctx context.Context, id int64, by chat.User) (chat.Message, error) {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE messages SET body = '', deleted_at = ?
			WHERE id = ? AND kind = 'text' AND deleted_at IS NULL AND (author_id = ? OR ?)`, toDB(time.Now()), id, by.ID, by.IsAdmin)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return chat.Errorf(chat.EForbidden, "Only its author or an admin can delete a message.")
		}
		for _, q := range []string{"DELETE FROM mentions WHERE message_id = ?", "DELETE FROM reactions WHERE message_id = ?"} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
	if chat.ErrorCode(err) == chat.EForbidden {
		return chat.Message{}, err
	}
	if err != nil {
		return chat.Message{}, fmt.Errorf("delete message: %w", err)
	}
	return s.MessageByID(ctx, id)
}

// ToggleReaction adds the user's emoji to the message, or takes it away if it
// was there.
func (s *Store) ToggleReaction(ctx context.Context, messageID, userID int64, emoji string) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM reactions WHERE message_id = ? AND emoji = ? AND user_id = ?", messageID, emoji, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO reactions (message_id, emoji, user_id, created_at)
			SELECT id, ?, ?, ? FROM messages WHERE id = ? AND deleted_at IS NULL AND kind = 'text'`, emoji, userID, toDB(time.Now()), messageID)
		return err
	})
	if err != nil {
		return fmt.Errorf("toggle reaction: %w", err)
	}
	return nil
}

// withReactions fills in the reactions of msgs with one query.
func (s *Store) withReactions(ctx context.Context, msgs []chat.Message) error {
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
	rows, err := s.query(ctx, `SELECT r.message_id, r.emoji, u.username, u.display_name
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

func insertMentions(ctx context.Context, tx *sql.Tx, messageID int64, usernames []string) error {
	if len(usernames) == 0 {
		return nil
	}
	args := make([]any, 0, len(usernames)+1)
	args = append(args, messageID)
	for _, u := range usernames {
		args = append(args, u)
	}
	_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO mentions (user_id, message_id)
		SELECT id, ? FROM users WHERE username IN (?`+strings.Repeat(",?", len(usernames)-1)+`)`, args...)
	return err
}
