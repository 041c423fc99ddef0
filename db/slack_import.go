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

// What a Slack import writes (db/slackimport reads the export and decides
// what to write). Each imported object is remembered in slack_ids in the
// transaction that makes it, so that importing the same export again, or
// an import stopped half way and run again, adds nothing twice.

// Kinds of imported Slack objects, as slack_ids names them.
const (
	SlackUser    = "user"
	SlackBot     = "bot"
	SlackChannel = "channel"
	SlackMessage = "message"
)

// SlackIDs returns what the objects of one kind (and scope: a channel's id
// for messages, "" for the rest) imported before became: agora ids by
// Slack id.
func (s *Store) SlackIDs(ctx context.Context, kind, scope string) (map[string]int64, error) {
	rows, err := s.query(ctx, "SELECT slack_id, agora_id FROM slack_ids WHERE kind = ? AND scope = ?", kind, scope)
	if err != nil {
		return nil, fmt.Errorf("slack ids: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var agora int64
		if err := rows.Scan(&id, &agora); err != nil {
			return nil, fmt.Errorf("slack ids: %w", err)
		}
		out[id] = agora
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("slack ids: %w", err)
	}
	return out, nil
}

// ImportUser is a Slack member (or bot) to make an account of.
type ImportUser struct {
	Kind        string // SlackUser or SlackBot
	SlackID     string
	Username    string
	DisplayName string
	Email       string // "" for none
	Admin       bool
	Bot         bool
	Deactivated bool
	// MatchOnly makes nothing: only the account that has Email, if any.
	MatchOnly bool
}

// ImportSlackUser makes the account of a Slack member, without a password
// (they set one through a reset link, or sign in by OpenID Connect, matched
// by email), and remembers it. A member whose email an account here has
// already is that account: nothing is made, and matched says so. A
// username taken in any form is EConflict: the caller tries the next one.
func (s *Store) ImportSlackUser(ctx context.Context, in ImportUser) (u chat.User, matched bool, err error) {
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockAccounts(ctx, tx); err != nil {
			return err
		}
		if in.Email != "" {
			u, err = scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE lower(email) = lower(?)", in.Email))
			if err == nil {
				matched = true
				return rememberSlack(ctx, tx, in.Kind, "", in.SlackID, u.ID)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		if in.MatchOnly {
			return chat.Errorf(chat.ENotFound, "No account has that email.")
		}
		if err := groupNameTaken(ctx, tx, in.Username); err != nil {
			return err
		}
		var email any
		if in.Email != "" {
			email = in.Email
		}
		var deactivated any
		now := toDB(time.Now())
		if in.Deactivated {
			deactivated = now
		}
		u, err = scanUser(tx.QueryRowContext(ctx, `INSERT INTO users (username, display_name, password_hash, is_admin, is_guest, is_bot, created_at, email, deactivated_at)
			VALUES (?, ?, '', ?, 0, ?, ?, ?, ?) RETURNING `+userColumns,
			in.Username, in.DisplayName, in.Admin, in.Bot, now, email, deactivated))
		if err != nil {
			return err
		}
		return rememberSlack(ctx, tx, in.Kind, "", in.SlackID, u.ID)
	})
	if s.engine.isUniqueViolation(err) {
		return chat.User{}, false, chat.Errorf(chat.EConflict, "The username %q is taken.", in.Username)
	}
	if err != nil {
		return chat.User{}, false, wrapChange("import slack user", err)
	}
	return u, matched, nil
}

// ImportRoom is a Slack channel to make a room of.
type ImportRoom struct {
	SlackID   string
	Name      string
	Slug      string
	Private   bool
	Topic     string
	CreatedBy int64 // 0 for nobody known
	CreatedAt time.Time
	Members   []int64
}

// ImportSlackRoom makes a room of a Slack channel, with its members, and
// remembers it. A room of that slug that holds no message yet (a new
// server's #general) is taken over rather than made; one with messages is
// EConflict, and the caller tries another slug.
func (s *Store) ImportSlackRoom(ctx context.Context, in ImportRoom) (chat.Room, error) {
	var room chat.Room
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var creator any
		if in.CreatedBy != 0 {
			creator = in.CreatedBy
		}
		var err error
		room, err = scanRoom(tx.QueryRowContext(ctx, "SELECT "+roomColumns+" FROM rooms r WHERE r.slug = ?", in.Slug))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			room, err = scanRoom(tx.QueryRowContext(ctx, `INSERT INTO rooms (slug, name, kind, private, created_by, created_at, topic)
				VALUES (?, ?, 'room', ?, ?, ?, ?) RETURNING `+strings.ReplaceAll(roomColumns, "r.", ""),
				in.Slug, in.Name, in.Private, creator, toDB(in.CreatedAt), in.Topic))
			if err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			var used bool
			if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM messages WHERE room_id = ? AND kind = 'text')", room.ID).Scan(&used); err != nil {
				return err
			}
			if used || room.IsDM() {
				return chat.Errorf(chat.EConflict, "A room called %q exists already.", in.Slug)
			}
			if _, err := tx.ExecContext(ctx, "UPDATE rooms SET private = ?, topic = ? WHERE id = ?", in.Private, in.Topic, room.ID); err != nil {
				return err
			}
			room.Private = in.Private
		}
		for _, uid := range in.Members {
			if _, err := tx.ExecContext(ctx, "INSERT INTO memberships (room_id, user_id, joined_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
				room.ID, uid, toDB(in.CreatedAt)); err != nil {
				return err
			}
		}
		return rememberSlack(ctx, tx, SlackChannel, "", in.SlackID, room.ID)
	})
	if s.engine.isUniqueViolation(err) {
		return chat.Room{}, chat.Errorf(chat.EConflict, "A room called %q exists already.", in.Slug)
	}
	if err != nil {
		return chat.Room{}, wrapChange("import slack room", err)
	}
	for _, uid := range in.Members {
		s.userEvent(chat.UserJoined, uid, room.ID, 0)
	}
	return room, nil
}

// FinishImportedRoom ends a room's import: its members have read what was
// imported (history is not news), and an archived channel is archived.
func (s *Store) FinishImportedRoom(ctx context.Context, roomID int64, archived bool) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE memberships SET last_read_id = (SELECT coalesce(max(id), 0) FROM messages WHERE room_id = ?)
			WHERE room_id = ?`, roomID, roomID); err != nil {
			return err
		}
		if archived {
			_, err := tx.ExecContext(ctx, "UPDATE rooms SET archived_at = coalesce(archived_at, ?) WHERE id = ?", toDB(time.Now()), roomID)
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("finish imported room: %w", err)
	}
	return nil
}

// ImportMessage is a Slack message to store as it was: its author, its
// time, its thread, its reactions, edited or deleted.
type ImportMessage struct {
	SlackID  string // its ts, unique in its channel
	AuthorID int64
	Body     string
	At       time.Time
	EditedAt time.Time // zero when never edited
	Deleted  bool
	// Thread is the ts of its thread's root (not its own ts), "" for a
	// message of the room; InRoom says a reply was sent to the room too.
	Thread    string
	InRoom    bool
	Reactions []ImportReaction
}

// ImportReaction is an emoji and who chose it.
type ImportReaction struct {
	Emoji string
	Users []int64
}

// ImportResult says what became of an ImportMessage.
type ImportResult struct {
	ID       int64 // 0 when it was there already
	Orphaned bool  // a reply whose root is not here: stored as a message of the room
}

// ImportSlackMessages stores msgs (in order, oldest first) in the room, as
// the channel scope's, through the writer, in one transaction: each takes
// the room's next sequence number and goes into its event log and search
// index like any message, but keeps its own times. A message imported
// before is passed over.
func (s *Store) ImportSlackMessages(ctx context.Context, roomID int64, scope string, msgs []ImportMessage) ([]ImportResult, error) {
	results := make([]ImportResult, len(msgs))
	req := &writeReq{bulk: func(ctx context.Context, b *batch) error {
		clear(results)
		st, err := prepareImport(ctx, b.tx)
		if err != nil {
			return err
		}
		defer st.close()
		var first, last int64
		for i, m := range msgs {
			id, err := st.message(ctx, b, roomID, scope, m, &results[i])
			if err != nil {
				return err
			}
			if id != 0 {
				if first == 0 {
					first = id
				}
				last = id
			}
		}
		if first == 0 {
			return nil
		}
		return s.engine.indexBatch(ctx, b.tx, first, last)
	}}
	if err := s.submit(ctx, req); err != nil {
		return nil, wrapChange("import slack messages", err)
	}
	return results, nil
}

// importStmts are an import batch's statements, prepared once for its
// hundreds of messages: parsing them for each was a third of the time.
type importStmts struct {
	known, root, insert, reply, reaction, remember *sql.Stmt
}

func prepareImport(ctx context.Context, tx *sql.Tx) (*importStmts, error) {
	st := &importStmts{}
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&st.known, "SELECT agora_id FROM slack_ids WHERE kind = ? AND scope = ? AND slack_id = ?"},
		{&st.root, `SELECT m.id FROM slack_ids s JOIN messages m ON m.id = s.agora_id
			WHERE s.kind = ? AND s.scope = ? AND s.slack_id = ? AND m.room_id = ? AND m.thread_id IS NULL`},
		{&st.insert, `INSERT INTO messages (room_id, author_id, kind, body, created_at, edited_at, deleted_at, seq, thread_id, in_room)
			VALUES (?, ?, 'text', ?, ?, ?, ?, ?, ?, ?) RETURNING id`},
		{&st.reply, `UPDATE messages SET reply_count = reply_count + 1,
			last_reply_at = CASE WHEN last_reply_at IS NULL OR last_reply_at < ? THEN ? ELSE last_reply_at END WHERE id = ?`},
		{&st.reaction, "INSERT INTO reactions (message_id, emoji, user_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"},
		{&st.remember, "INSERT INTO slack_ids (kind, scope, slack_id, agora_id) VALUES (?, ?, ?, ?)"},
	} {
		var err error
		if *p.st, err = tx.PrepareContext(ctx, p.sql); err != nil {
			st.close()
			return nil, err
		}
	}
	return st, nil
}

func (st *importStmts) close() {
	for _, s := range []*sql.Stmt{st.known, st.root, st.insert, st.reply, st.reaction, st.remember} {
		if s != nil {
			s.Close()
		}
	}
}

func (st *importStmts) message(ctx context.Context, b *batch, roomID int64, scope string, m ImportMessage, res *ImportResult) (int64, error) {
	var known int64
	err := st.known.QueryRowContext(ctx, SlackMessage, scope, m.SlackID).Scan(&known)
	if err == nil {
		return 0, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	var thread any
	inRoom := false
	if m.Thread != "" {
		var root int64
		err := st.root.QueryRowContext(ctx, SlackMessage, scope, m.Thread, roomID).Scan(&root)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			res.Orphaned = true
		case err != nil:
			return 0, err
		default:
			thread, inRoom = root, m.InRoom
		}
	}
	at := toDB(m.At)
	var edited, deleted any
	body := m.Body
	if !m.EditedAt.IsZero() {
		edited = toDB(m.EditedAt)
	}
	if m.Deleted {
		deleted, body = at, ""
	}
	seq, err := b.nextSeq(ctx, roomID)
	if err != nil {
		return 0, err
	}
	var id int64
	if err := st.insert.QueryRowContext(ctx, roomID, m.AuthorID, body, at, edited, deleted, seq, thread, inRoom).Scan(&id); err != nil {
		return 0, err
	}
	if _, err := b.stmts.event.ExecContext(ctx, roomID, seq, chat.EventMessage, id, at); err != nil {
		return 0, err
	}
	if thread != nil && !m.Deleted {
		if _, err := st.reply.ExecContext(ctx, at, at, thread); err != nil {
			return 0, err
		}
	}
	if !m.Deleted {
		// Slack keeps no time for a reaction: a millisecond apart keeps
		// their order on every engine.
		n := int64(0)
		for _, r := range m.Reactions {
			for _, uid := range r.Users {
				if _, err := st.reaction.ExecContext(ctx, id, r.Emoji, uid, at+n); err != nil {
					return 0, err
				}
				n++
			}
		}
	}
	if _, err := st.remember.ExecContext(ctx, SlackMessage, scope, m.SlackID, id); err != nil {
		return 0, err
	}
	res.ID = id
	return id, nil
}

func rememberSlack(ctx context.Context, tx *sql.Tx, kind, scope, slackID string, id int64) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO slack_ids (kind, scope, slack_id, agora_id) VALUES (?, ?, ?, ?)", kind, scope, slackID, id)
	return err
}

// ImportedAccountByEmail returns the account a Slack import made for that
// email address that nobody has claimed yet: it has no password and is
// linked to no sign-in provider. An OpenID Connect sign-in with that
// (verified) address claims it.
func (s *Store) ImportedAccountByEmail(ctx context.Context, email string) (chat.User, error) {
	u, err := scanUser(s.queryRow(ctx, `SELECT `+userColumnsOfU+` FROM users u
		WHERE lower(u.email) = lower(?) AND u.password_hash = '' AND u.is_bot = 0 AND u.deactivated_at IS NULL
		  AND EXISTS (SELECT 1 FROM slack_ids s WHERE s.kind = 'user' AND s.scope = '' AND s.agora_id = u.id)
		  AND NOT EXISTS (SELECT 1 FROM oidc_identities o WHERE o.user_id = u.id)`, email))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.User{}, chat.Errorf(chat.ENotFound, "No imported account has that address.")
	}
	if err != nil {
		return chat.User{}, fmt.Errorf("imported account by email: %w", err)
	}
	return u, nil
}

// LinkOIDC links an account to the provider's subject. An account linked
// meanwhile to another subject, or a subject linked to another account, is
// EConflict.
func (s *Store) LinkOIDC(ctx context.Context, userID int64, issuer, subject string) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var linked bool
		if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM oidc_identities WHERE user_id = ?)", userID).Scan(&linked); err != nil {
			return err
		}
		if linked {
			return chat.Errorf(chat.EConflict, "That account is linked to another sign-in.")
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO oidc_identities (issuer, subject, user_id, created_at) VALUES (?, ?, ?, ?)",
			issuer, subject, userID, toDB(time.Now()))
		return err
	})
	if s.engine.isUniqueViolation(err) {
		return chat.Errorf(chat.EConflict, "That sign-in is linked to another account.")
	}
	if err != nil {
		return wrapChange("link oidc", err)
	}
	return nil
}
