package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"agora/chat"
)

const messageColumns = `m.id, m.room_id, m.kind, m.author_id, u.username, u.display_name, u.is_guest, u.is_bot, m.body,
	coalesce(m.client_msg_id, ''), m.seq, m.created_at, m.edited_at, m.deleted_at, m.room_change, u.avatar_at, m.mention_groups,
	coalesce(m.thread_id, 0), m.in_room, m.reply_count, m.last_reply_at, m.custom_emoji, m.notice`

func scanMessage(row interface{ Scan(...any) error }, extra ...any) (chat.Message, error) {
	var m chat.Message
	var created int64
	var edited, deleted sql.NullInt64
	var change, groups, emoji, notice sql.NullString
	var replies int
	var lastReply sql.NullInt64
	err := row.Scan(append([]any{&m.ID, &m.RoomID, &m.Kind, &m.AuthorID, &m.Author, &m.AuthorName, &m.AuthorGuest, &m.AuthorBot, &m.Body,
		&m.ClientMsgID, &m.Seq, &created, &edited, &deleted, &change, &m.AuthorAvatar, &groups, &m.ThreadID, &m.InRoom, &replies, &lastReply, &emoji, &notice}, extra...)...)
	if err != nil {
		return chat.Message{}, err
	}
	if replies > 0 {
		m.Thread = &chat.ThreadSummary{RootID: m.ID, Count: replies, LastAt: fromNullDB(lastReply)}
	}
	if change.Valid {
		m.Change = new(chat.RoomChange)
		if err := json.Unmarshal([]byte(change.String), m.Change); err != nil {
			return chat.Message{}, fmt.Errorf("room change of message %d: %w", m.ID, err)
		}
	}
	if notice.Valid {
		m.Notice = new(chat.NoticeText)
		if err := json.Unmarshal([]byte(notice.String), m.Notice); err != nil {
			return chat.Message{}, fmt.Errorf("notice of message %d: %w", m.ID, err)
		}
	}
	if groups.String != "" {
		m.Groups = strings.Fields(groups.String)
	}
	if emoji.String != "" {
		m.Emoji = strings.Fields(emoji.String)
	}
	if m.AuthorName == "" {
		m.AuthorName = m.Author
	}
	m.CreatedAt, m.EditedAt, m.DeletedAt = fromDB(created), fromNullDB(edited), fromNullDB(deleted)
	if m.Deleted() {
		m.Body = ""
	}
	return m, nil
}

// MessageByID returns one message.
func (s *Store) MessageByID(ctx context.Context, id int64) (chat.Message, error) {
	m, err := scanMessage(s.queryRow(ctx, "SELECT "+messageColumns+
		" FROM messages m JOIN users u ON u.id = m.author_id WHERE m.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Message{}, chat.Errorf(chat.ENotFound, "There is no such message.")
	}
	if err != nil {
		return chat.Message{}, fmt.Errorf("message by id: %w", err)
	}
	msgs := []chat.Message{m}
	if err := withDetails(ctx, s.query, msgs); err != nil {
		return chat.Message{}, err
	}
	return msgs[0], nil
}

// MessagesAround returns about limit messages of the room centred on id, oldest first.
func (s *Store) MessagesAround(ctx context.Context, roomID, id int64, limit int) ([]chat.Message, error) {
	before, err := s.Messages(ctx, roomID, id+1, limit/2+1)
	if err != nil {
		return nil, err
	}
	after, err := s.MessagesAfter(ctx, roomID, id, limit/2)
	if err != nil {
		return nil, err
	}
	return append(before, after...), nil
}

// Messages returns up to limit messages of the room, oldest first: the latest
// ones when before is 0, else the latest ones with ids below before.
func (s *Store) Messages(ctx context.Context, roomID, before int64, limit int) ([]chat.Message, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	msgs, err := s.queryMessages(ctx, `SELECT * FROM (SELECT `+messageColumns+`
		FROM messages m JOIN users u ON u.id = m.author_id
		WHERE m.room_id = ? AND m.id < ? AND `+inRoomList+` ORDER BY m.id DESC LIMIT ?) AS page ORDER BY id`, roomID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	return msgs, nil
}

// MessagesAfter returns up to limit messages of the room's list (replies
// only when sent to the room too) with ids above after, oldest first.
func (s *Store) MessagesAfter(ctx context.Context, roomID, after int64, limit int) ([]chat.Message, error) {
	msgs, err := s.queryMessages(ctx, `SELECT `+messageColumns+`
		FROM messages m JOIN users u ON u.id = m.author_id
		WHERE m.room_id = ? AND m.id > ? AND `+inRoomList+` ORDER BY m.id LIMIT ?`, roomID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list messages after: %w", err)
	}
	return msgs, nil
}

// AllMessagesAfter is MessagesAfter with every reply too: the whole room,
// as an export takes it.
func (s *Store) AllMessagesAfter(ctx context.Context, roomID, after int64, limit int) ([]chat.Message, error) {
	msgs, err := s.queryMessages(ctx, `SELECT `+messageColumns+`
		FROM messages m JOIN users u ON u.id = m.author_id
		WHERE m.room_id = ? AND m.id > ? ORDER BY m.id LIMIT ?`, roomID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list all messages after: %w", err)
	}
	return msgs, nil
}

// inRoomList keeps the messages a room's list shows (m being messages):
// replies stay in their thread unless also sent to the room.
const inRoomList = "(m.thread_id IS NULL OR m.in_room = 1)"

// inRoomListX is inRoomList for messages named x: a reply in a thread
// counts in its thread (for those who follow it), not in the room's badge.
const inRoomListX = "(x.thread_id IS NULL OR x.in_room = 1)"

func (s *Store) queryMessages(ctx context.Context, query string, args ...any) ([]chat.Message, error) {
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	msgs := make([]chat.Message, 0, 50)
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	return msgs, withDetails(ctx, s.query, msgs)
}

// withDetails fills in what msgs carry beside their row: reactions, files,
// link previews and thread summaries.
func withDetails(ctx context.Context, query querier, msgs []chat.Message) error {
	if err := withReactions(ctx, query, msgs); err != nil {
		return err
	}
	if err := withFiles(ctx, query, msgs); err != nil {
		return err
	}
	if err := withPreviews(ctx, query, msgs); err != nil {
		return err
	}
	return withThreads(ctx, query, msgs)
}

// customEmoji finds which of the :name: codes of body are custom emoji, in
// the order the body names them: kept with the message, so that every
// render shows them as pictures. Most bodies have no code and cost no query.
func customEmoji(ctx context.Context, tx *sql.Tx, body string) ([]string, error) {
	codes := chat.EmojiCodesIn(body)
	if len(codes) == 0 {
		return nil, nil
	}
	args := make([]any, len(codes))
	for i, c := range codes {
		args[i] = c
	}
	rows, err := tx.QueryContext(ctx, "SELECT name FROM custom_emoji WHERE name IN (?"+strings.Repeat(",?", len(codes)-1)+")", args...)
	if err != nil {
		return nil, fmt.Errorf("custom emoji of a message: %w", err)
	}
	defer rows.Close()
	found := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("custom emoji of a message: %w", err)
		}
		found[name] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("custom emoji of a message: %w", err)
	}
	var out []string
	for _, c := range codes {
		if found[c] {
			out = append(out, c)
		}
	}
	return out, nil
}

// mentionGroups is how a message's Groups (and its Emoji) are stored:
// space-separated, NULL for none.
func mentionGroups(groups []string) any {
	if len(groups) == 0 {
		return nil
	}
	return strings.Join(groups, " ")
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
	_, err := tx.ExecContext(ctx, `INSERT INTO mentions (user_id, message_id)
		SELECT id, CAST(? AS BIGINT) FROM users WHERE username IN (?`+strings.Repeat(",?", len(usernames)-1)+`)
		ON CONFLICT DO NOTHING`, args...)
	return err
}
