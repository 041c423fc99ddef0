package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"agora/chat"
)

// Every change to a room is written by one goroutine that commits whatever
// is waiting as one transaction (group commit): under load, many senders
// share a commit instead of queueing for one each. The writer numbers each
// change with its room's next sequence number, records it in the room's
// event log, and signals the committed events, in order, through the
// OnCommit hook. It renders and delivers nothing: the node's relay does,
// on its own goroutine.

const maxBatch = 256

// errStoreClosed is returned for changes sent after Close.
var errStoreClosed = errors.New("store closed")

// writeReq is one change waiting for the writer: a new message (m), or a
// change to an existing one (change).
type writeReq struct {
	m      chat.Message
	change func(ctx context.Context, b *batch) (chat.Message, string, error)
	// bulk writes many rows at once (an import), numbering them itself;
	// any error fails the batch, as it may have written part of itself.
	bulk func(ctx context.Context, b *batch) error

	msg     chat.Message
	created bool
	err     error
	done    chan struct{}
}

// OnCommit sets fn to be called with the events of each committed batch, in
// commit order (so in seq order within each room), before the calls that
// made them return. fn runs on the writer goroutine: it must only hand the
// events over (to the relay), never block, render or write to the store.
// Set it before the store is used.
func (s *Store) OnCommit(fn func([]chat.Event)) { s.onCommit = fn }

// OnUserEvent sets fn to be told, after each commit that changes a user's
// relation to a room (a membership made or ended, a read marker moved), of
// that change. Like OnCommit's, fn must only hand it over. Set it before the
// store is used.
func (s *Store) OnUserEvent(fn func(chat.UserEvent)) { s.onUser = fn }

// userEvent signals a committed per-user change.
func (s *Store) userEvent(kind string, userID, roomID, upTo int64) {
	if s.onUser != nil {
		s.onUser(chat.UserEvent{Kind: kind, UserID: userID, RoomID: roomID, UpTo: upTo})
	}
}

// CreateMessage stores a message and returns it as stored, with its id and
// seq. If the author already stored a message with the same ClientMsgID,
// that message is returned with created false and nothing is written. The
// message is committed when it returns without error, even if ctx ended
// while it waited.
func (s *Store) CreateMessage(ctx context.Context, m chat.Message) (chat.Message, bool, error) {
	if m.Kind == "" {
		m.Kind = chat.MessageText
	}
	req := &writeReq{m: m}
	if err := s.submit(ctx, req); err != nil {
		return chat.Message{}, false, fmt.Errorf("create message: %w", err)
	}
	return req.msg, req.created, nil
}

// EditMessage changes the text of a message, if chat.CanEdit lets by do it:
// mentions are the users it now notifies (see insertMentions), groups the
// groups it now mentions (chat.Message.Groups).
func (s *Store) EditMessage(ctx context.Context, id int64, by chat.User, body string, mentions, groups []string) (chat.Message, error) {
	req := &writeReq{change: func(ctx context.Context, b *batch) (chat.Message, string, error) {
		m, err := b.message(ctx, id)
		if err != nil {
			return m, "", err
		}
		if !chat.CanEdit(by, m) {
			return m, "", chat.Errorf(chat.EForbidden, "Only its author can edit a message, and not once it is deleted.")
		}
		if err := b.writable(ctx, m.RoomID); err != nil {
			return m, "", err
		}
		emoji, err := customEmoji(ctx, b.tx, body)
		if err != nil {
			return m, "", err
		}
		if _, err := b.tx.ExecContext(ctx, "UPDATE messages SET body = ?, edited_at = ?, mention_groups = ?, custom_emoji = ? WHERE id = ?",
			body, b.now, mentionGroups(groups), mentionGroups(emoji), id); err != nil {
			return m, "", err
		}
		if _, err := b.tx.ExecContext(ctx, "DELETE FROM mentions WHERE message_id = ?", id); err != nil {
			return m, "", err
		}
		if err := insertMentions(ctx, b.tx, id, mentions); err != nil {
			return m, "", err
		}
		m, err = b.message(ctx, id)
		return m, chat.EventEdit, err
	}}
	if err := s.submit(ctx, req); err != nil {
		return chat.Message{}, wrapChange("edit message", err)
	}
	return req.msg, nil
}

// DeleteMessage removes a message's text and its file, leaving a "deleted"
// mark in its place, if chat.CanDelete lets by do it.
func (s *Store) DeleteMessage(ctx context.Context, id int64, by chat.User) (chat.Message, error) {
	req := &writeReq{change: func(ctx context.Context, b *batch) (chat.Message, string, error) {
		m, err := b.message(ctx, id)
		if err != nil {
			return m, "", err
		}
		if !chat.CanDelete(by, m) {
			return m, "", chat.Errorf(chat.EForbidden, "Only its author or an admin can delete a message.")
		}
		if err := b.writable(ctx, m.RoomID); err != nil {
			return m, "", err // an archived room is read-only, admins included
		}
		if _, err := b.tx.ExecContext(ctx, "UPDATE messages SET body = '', deleted_at = ? WHERE id = ?", b.now, id); err != nil {
			return m, "", err
		}
		if m.ThreadID != 0 {
			// The root counts the replies its thread shows.
			if _, err := b.tx.ExecContext(ctx, "UPDATE messages SET reply_count = reply_count - 1 WHERE id = ? AND reply_count > 0", m.ThreadID); err != nil {
				return m, "", err
			}
		}
		for _, q := range []string{"DELETE FROM mentions WHERE message_id = ?", "DELETE FROM reactions WHERE message_id = ?",
			"DELETE FROM files WHERE message_id = ?"} {
			if _, err := b.tx.ExecContext(ctx, q, id); err != nil {
				return m, "", err
			}
		}
		m, err = b.message(ctx, id)
		return m, chat.EventDelete, err
	}}
	if err := s.submit(ctx, req); err != nil {
		return chat.Message{}, wrapChange("delete message", err)
	}
	return req.msg, nil
}

// ToggleReaction adds the user's emoji to the message, or takes it away if it
// was there, and returns the message with its reactions.
func (s *Store) ToggleReaction(ctx context.Context, id int64, by chat.User, emoji string) (chat.Message, error) {
	req := &writeReq{change: func(ctx context.Context, b *batch) (chat.Message, string, error) {
		m, err := b.message(ctx, id)
		if err != nil {
			return m, "", err
		}
		if !chat.CanReact(m) {
			return m, "", chat.Errorf(chat.EInvalid, "A deleted message takes no reactions.")
		}
		if err := b.writable(ctx, m.RoomID); err != nil {
			return m, "", err
		}
		res, err := b.tx.ExecContext(ctx, "DELETE FROM reactions WHERE message_id = ? AND emoji = ? AND user_id = ?", id, emoji, by.ID)
		if err != nil {
			return m, "", err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := b.tx.ExecContext(ctx, "INSERT INTO reactions (message_id, emoji, user_id, created_at) VALUES (?, ?, ?, ?)",
				id, emoji, by.ID, b.now); err != nil {
				return m, "", err
			}
		}
		m, err = b.message(ctx, id)
		return m, chat.EventReaction, err
	}}
	if err := s.submit(ctx, req); err != nil {
		return chat.Message{}, wrapChange("toggle reaction", err)
	}
	return req.msg, nil
}

// wrapChange keeps a user-facing error as it is and wraps the others.
func wrapChange(what string, err error) error {
	if code := chat.ErrorCode(err); code != chat.EInternal {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

// submit hands req to the writer and waits until it is committed or failed.
func (s *Store) submit(ctx context.Context, req *writeReq) error {
	req.done = make(chan struct{})
	select {
	case s.writes <- req:
	case <-s.quit:
		return errStoreClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-req.done:
	case <-s.writerDone:
		select {
		case <-req.done:
		default:
			return errStoreClosed
		}
	}
	return req.err
}

func (s *Store) startWriter(ctx context.Context) error {
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&s.insertMessage, insertMessageSQL},
		{&s.messageAuthor, messageAuthorSQL},
		{&s.insertEvent, insertEventSQL},
		{&s.roomSeq, roomSeqSQL},
		{&s.setRoomSeq, setRoomSeqSQL},
	} {
		var err error
		if *p.st, err = s.write.PrepareContext(ctx, p.sql); err != nil {
			return fmt.Errorf("prepare writer statements: %w", err)
		}
	}
	s.writes = make(chan *writeReq, 4*maxBatch)
	s.quit = make(chan struct{})
	s.writerDone = make(chan struct{})
	go s.writeLoop()
	return nil
}

func (s *Store) stopWriter() {
	close(s.quit)
	<-s.writerDone
}

func (s *Store) writeLoop() {
	defer close(s.writerDone)
	reqs := make([]*writeReq, 0, maxBatch)
	for {
		select {
		case req := <-s.writes:
			reqs = append(reqs[:0], req)
		case <-s.quit:
			return
		}
	fill:
		for len(reqs) < maxBatch {
			select {
			case req := <-s.writes:
				reqs = append(reqs, req)
			default:
				break fill
			}
		}
		s.commitBatch(reqs)
	}
}

// batch is the state of one group commit: its transaction, the rooms as
// they stand in it, and the events it made.
type batch struct {
	tx      *sql.Tx
	now     int64
	stmts   writeStmts
	authors map[int64]chat.User
	rooms   map[int64]*batchRoom
	events  []chat.Event
	users   []chat.UserEvent // per-user changes (follows, thread reads) it made
}

// batchRoom is a room as a batch sees it: read once per batch, and written
// back (its seq) at the end if an event took a number.
type batchRoom struct {
	seq      int64 // the last seq used in this batch
	archived bool
	numbered bool
}

// writeStmts are the writer's prepared statements bound to one transaction.
type writeStmts struct{ insert, author, event, roomSeq, setRoomSeq *sql.Stmt }

// room reads the room's counter and state once per batch. The writer is the
// only one that numbers events, so the counter is written back at the
// batch's end; the archived state is what a change in this batch made it.
func (b *batch) room(ctx context.Context, roomID int64) (*batchRoom, error) {
	if r, ok := b.rooms[roomID]; ok {
		return r, nil
	}
	r := &batchRoom{}
	err := b.stmts.roomSeq.QueryRowContext(ctx, roomID).Scan(&r.seq, &r.archived)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chat.Errorf(chat.ENotFound, "There is no such room.")
	}
	if err != nil {
		return nil, err
	}
	b.rooms[roomID] = r
	return r, nil
}

// writable refuses a change to an archived room: it is read-only for
// messages, edits and reactions, whichever way they come.
func (b *batch) writable(ctx context.Context, roomID int64) error {
	r, err := b.room(ctx, roomID)
	if err == nil && r.archived {
		err = chat.ErrArchived
	}
	return err
}

// nextSeq takes the room's next sequence number.
func (b *batch) nextSeq(ctx context.Context, roomID int64) (int64, error) {
	r, err := b.room(ctx, roomID)
	if err != nil {
		return 0, err
	}
	r.seq++
	r.numbered = true
	return r.seq, nil
}

// event records a committed change in its room's log.
func (b *batch) event(ctx context.Context, kind string, m chat.Message, seq int64) error {
	e := chat.Event{RoomID: m.RoomID, Seq: seq, Kind: kind, Message: m, At: fromDB(b.now)}
	if err := b.stmts.event.QueryRowContext(ctx, m.RoomID, seq, kind, m.ID, b.now).Scan(&e.ID); err != nil {
		return err
	}
	b.events = append(b.events, e)
	return nil
}

// message reads a message as the batch's transaction sees it.
func (b *batch) message(ctx context.Context, id int64) (chat.Message, error) {
	m, err := scanMessage(b.tx.QueryRowContext(ctx, "SELECT "+messageColumns+
		" FROM messages m JOIN users u ON u.id = m.author_id WHERE m.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Message{}, chat.Errorf(chat.ENotFound, "There is no such message.")
	}
	if err != nil {
		return chat.Message{}, err
	}
	msgs := []chat.Message{m}
	query := func(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
		return b.tx.QueryContext(ctx, q, args...)
	}
	err = withDetails(ctx, query, msgs)
	return msgs[0], err
}

// commitBatch writes the batch in one transaction. A request refused by a
// rule or a constraint fails alone: SQLite undoes just that statement, and a
// change checks its rules before it writes. PostgreSQL undoes the whole
// transaction instead, so a batch it refused is written again one request
// per transaction. A commit whose outcome is unknown fails them all.
func (s *Store) commitBatch(reqs []*writeReq) {
	events, users, again, err := s.writeBatch(reqs)
	if err != nil && again && len(reqs) > 1 {
		events, users, err = nil, nil, nil
		for _, r := range reqs {
			ev, us, _, rerr := s.writeBatch([]*writeReq{r})
			if rerr != nil {
				failed(r, rerr)
			}
			events = append(events, ev...)
			users = append(users, us...)
		}
	}
	if err != nil {
		for _, r := range reqs {
			failed(r, err)
		}
	} else {
		if s.onCommit != nil && len(events) > 0 {
			s.onCommit(events)
		}
		if s.onUser != nil {
			for _, ev := range users {
				s.onUser(ev)
			}
		}
	}
	for _, r := range reqs {
		close(r.done)
	}
}

// failed records that the transaction carrying r did not commit.
func failed(r *writeReq, err error) {
	if r.err == nil || chat.ErrorCode(r.err) != chat.EInternal {
		r.err = err
	}
	r.created = false
}

// writeBatch runs reqs in one transaction and returns the events it
// committed. When it fails, again says whether the transaction is known
// not to have committed, so that writing the requests again is safe.
func (s *Store) writeBatch(reqs []*writeReq) (events []chat.Event, users []chat.UserEvent, again bool, err error) {
	ctx := context.Background()
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, true, err
	}
	defer tx.Rollback()
	b := &batch{
		tx: tx, now: toDB(time.Now()), authors: make(map[int64]chat.User), rooms: make(map[int64]*batchRoom),
		stmts: writeStmts{
			insert: tx.StmtContext(ctx, s.insertMessage), author: tx.StmtContext(ctx, s.messageAuthor),
			event: tx.StmtContext(ctx, s.insertEvent), roomSeq: tx.StmtContext(ctx, s.roomSeq),
			setRoomSeq: tx.StmtContext(ctx, s.setRoomSeq),
		},
	}
	if err := s.fillBatch(ctx, b, reqs); err != nil {
		return nil, nil, true, err
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, s.engine.isRolledBack(err), err
	}
	return b.events, b.users, false, nil
}

func (s *Store) fillBatch(ctx context.Context, b *batch, reqs []*writeReq) error {
	if err := s.engine.lockWrites(ctx, b.tx); err != nil {
		return err
	}
	var first, last int64
	for _, r := range reqs {
		r.err = nil
		if r.bulk != nil {
			if r.err = r.bulk(ctx, b); r.err != nil {
				return r.err
			}
			continue
		}
		if r.change != nil {
			var kind string
			r.msg, kind, r.err = r.change(ctx, b)
			if r.err == nil {
				var seq int64
				if seq, r.err = b.nextSeq(ctx, r.msg.RoomID); r.err == nil {
					r.err = b.event(ctx, kind, r.msg, seq)
				}
			}
			if r.err != nil && chat.ErrorCode(r.err) == chat.EInternal {
				return r.err // a change may have written part of itself
			}
			continue
		}
		r.msg, r.created, r.err = insertMessage(ctx, b, r.m)
		var partial *partialWrite
		if errors.As(r.err, &partial) {
			return partial.err
		}
		if r.err == nil && r.created {
			if first == 0 {
				first = r.msg.ID
			}
			last = r.msg.ID
		}
	}
	for roomID, r := range b.rooms {
		if !r.numbered {
			continue
		}
		if _, err := b.stmts.setRoomSeq.ExecContext(ctx, r.seq, roomID); err != nil {
			return err
		}
	}
	if first == 0 {
		return nil
	}
	// The batch's ids are first..last (one writer), so one statement
	// indexes them all for search.
	return s.engine.indexBatch(ctx, b.tx, first, last)
}

// The statements of the write path are prepared once on the writer
// connection: preparing them for every row was a third of a message's cost.
const (
	insertMessageSQL = `INSERT INTO messages (room_id, author_id, kind, body, client_msg_id, created_at, seq, room_change, mention_groups, thread_id, in_room, custom_emoji, notice)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`
	messageAuthorSQL = "SELECT " + userColumns + " FROM users WHERE id = ?"
	insertEventSQL   = "INSERT INTO events (room_id, seq, kind, message_id, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id"
	roomSeqSQL       = "SELECT seq, archived_at IS NOT NULL FROM rooms WHERE id = ?"
	setRoomSeqSQL    = "UPDATE rooms SET seq = ? WHERE id = ?"
)

func insertMessage(ctx context.Context, b *batch, m chat.Message) (chat.Message, bool, error) {
	var clientID any
	if m.ClientMsgID != "" {
		clientID = m.ClientMsgID
	}
	if m.File != nil {
		// Checked before the message goes in: a refusal leaves nothing behind.
		if err := attachable(ctx, b.tx, m); err != nil {
			return chat.Message{}, false, err
		}
	}
	// A notice that changes its room is written with its change, in one
	// transaction; anything else is refused by an archived room.
	var change any
	if m.Change != nil {
		c, err := applyRoomChange(ctx, b, m.RoomID, m.AuthorID, *m.Change)
		if err != nil {
			return chat.Message{}, false, err
		}
		change = c
	} else if err := b.writable(ctx, m.RoomID); err != nil {
		return chat.Message{}, false, err
	}
	var rootAuthor int64
	if m.ThreadID != 0 {
		root, author, err := b.threadRoot(ctx, m.RoomID, m.ThreadID)
		if err != nil {
			return chat.Message{}, false, err
		}
		m.ThreadID, rootAuthor = root, author
	} else {
		m.InRoom = false
	}
	var threadID any
	if m.ThreadID != 0 {
		threadID = m.ThreadID
	}
	m.Emoji = nil
	if m.Kind == chat.MessageText {
		var err error
		if m.Emoji, err = customEmoji(ctx, b.tx, m.Body); err != nil {
			return chat.Message{}, false, err
		}
	}
	seq, err := b.nextSeq(ctx, m.RoomID)
	if err != nil {
		return chat.Message{}, false, err
	}
	var notice any
	if m.Notice != nil && m.Kind == chat.MessageNotice {
		buf, err := json.Marshal(m.Notice)
		if err != nil {
			return chat.Message{}, false, fmt.Errorf("notice: %w", err)
		}
		notice = string(buf)
	}
	err = b.stmts.insert.QueryRowContext(ctx, m.RoomID, m.AuthorID, m.Kind, m.Body, clientID, b.now, seq, change, mentionGroups(m.Groups), threadID, m.InRoom,
		mentionGroups(m.Emoji), notice).Scan(&m.ID)
	if err != nil {
		b.rooms[m.RoomID].seq = seq - 1 // not used: the next change takes it
	}
	if err != nil && change != nil {
		return chat.Message{}, false, &partialWrite{err} // the room changed without its notice
	}
	if errors.Is(err, sql.ErrNoRows) {
		// A resend: the author stored this client id before.
		dup, err := scanMessage(b.tx.QueryRowContext(ctx, "SELECT "+messageColumns+
			" FROM messages m JOIN users u ON u.id = m.author_id WHERE m.author_id = ? AND m.client_msg_id = ?", m.AuthorID, m.ClientMsgID))
		return dup, false, err
	}
	if err != nil {
		return chat.Message{}, false, err
	}
	m.Seq = seq
	// The row is in: a failure from here on would leave half a message, so
	// it fails the whole batch.
	if err := insertMentions(ctx, b.tx, m.ID, m.Mentions); err != nil {
		return chat.Message{}, false, &partialWrite{err}
	}
	if err := insertMentions(ctx, b.tx, m.ID, m.GroupMembers); err != nil {
		return chat.Message{}, false, &partialWrite{err}
	}
	if m.File != nil {
		f := *m.File
		f.MessageID = m.ID
		if _, err := b.tx.ExecContext(ctx, "UPDATE files SET message_id = ? WHERE id = ?", m.ID, f.ID); err != nil {
			return chat.Message{}, false, &partialWrite{err}
		}
		m.File = &f
	}
	author, ok := b.authors[m.AuthorID]
	if !ok {
		if author, err = scanUser(b.stmts.author.QueryRowContext(ctx, m.AuthorID)); err != nil {
			return chat.Message{}, false, &partialWrite{err}
		}
		b.authors[m.AuthorID] = author
	}
	m.Author, m.AuthorName, m.AuthorGuest, m.AuthorBot, m.AuthorAvatar = author.Username, author.Name(), author.IsGuest, author.IsBot, author.Avatar
	m.CreatedAt = fromDB(b.now)
	if m.ThreadID != 0 {
		if err := b.addReply(ctx, &m, rootAuthor); err != nil {
			return chat.Message{}, false, &partialWrite{err}
		}
	}
	if err := b.event(ctx, chat.EventMessage, m, seq); err != nil {
		return chat.Message{}, false, &partialWrite{err}
	}
	return m, true, nil
}

// applyRoomChange writes a notice's change to its room, and returns the
// change as the notice stores it.
func applyRoomChange(ctx context.Context, b *batch, roomID, pinner int64, c chat.RoomChange) (string, error) {
	r, err := b.room(ctx, roomID)
	if err != nil {
		return "", err
	}
	enc, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	if c.Pin != nil {
		// Checked before anything is written: a refusal leaves nothing.
		if err := pinnable(ctx, b, roomID, *c.Pin); err != nil {
			return "", err
		}
	}
	var failed error
	set := func(q string, args ...any) {
		if failed == nil {
			_, failed = b.tx.ExecContext(ctx, q, args...)
		}
	}
	if c.Name != "" {
		set("UPDATE rooms SET name = ? WHERE id = ?", c.Name, roomID)
	}
	if c.Topic != nil {
		set("UPDATE rooms SET topic = ? WHERE id = ?", *c.Topic, roomID)
	}
	if c.Archived != nil {
		if *c.Archived {
			set("UPDATE rooms SET archived_at = coalesce(archived_at, ?) WHERE id = ?", b.now, roomID)
		} else {
			set("UPDATE rooms SET archived_at = NULL WHERE id = ?", roomID)
		}
		r.archived = *c.Archived
	}
	if p := c.Pin; p != nil && p.Pinned {
		set(`INSERT INTO pins (message_id, room_id, user_id, pinned_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (message_id) DO NOTHING`, p.Message, roomID, pinner, b.now)
	} else if p != nil {
		set("DELETE FROM pins WHERE message_id = ?", p.Message)
	}
	if failed != nil {
		// What was set before the failure stands: the batch cannot commit.
		return "", &partialWrite{failed}
	}
	return string(enc), nil
}

// pinnable refuses a pin in an archived room, of a message of another
// room, or of one that is not a live text message (unpinning one deleted
// since is fine).
func pinnable(ctx context.Context, b *batch, roomID int64, p chat.PinChange) error {
	if err := b.writable(ctx, roomID); err != nil {
		return err
	}
	m, err := b.message(ctx, p.Message)
	if err != nil {
		return err
	}
	if m.RoomID != roomID || (p.Pinned && !chat.CanReact(m)) {
		return chat.Errorf(chat.EInvalid, "Only a message of the room that is not deleted can be pinned.")
	}
	return nil
}

// partialWrite is a failure after a request wrote part of itself: the batch
// cannot commit around it.
type partialWrite struct{ err error }

func (e *partialWrite) Error() string { return e.err.Error() }
func (e *partialWrite) Unwrap() error { return e.err }
