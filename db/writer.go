package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"agora/chat"
)

// New messages are written by one goroutine that commits whatever is waiting
// as one transaction (group commit): under load, many senders share a commit
// instead of queueing for one each. Commit order is id order, and the
// OnCommit hook sees each batch in that order, so what is published after a
// commit reaches every receiver in the same order as it is stored.

const maxBatch = 256

// errStoreClosed is returned for messages sent after Close.
var errStoreClosed = errors.New("store closed")

type createReq struct {
	m       chat.Message
	msg     chat.Message
	created bool
	err     error
	done    chan struct{}
}

// OnCommit sets fn to be called with the messages of each committed batch,
// in id order, before their senders' CreateMessage calls return. fn runs on
// the writer goroutine: it must be quick and must not write to the store.
// Set it before the store is used.
func (s *Store) OnCommit(fn func([]chat.Message)) { s.onCommit = fn }

// CreateMessage stores a message and returns it as stored, with its id. If the
// author already stored a message with the same ClientMsgID, that message is
// returned with created false and nothing is written. The message is
// committed when it returns without error, even if ctx ended while it waited.
func (s *Store) CreateMessage(ctx context.Context, m chat.Message) (chat.Message, bool, error) {
	if m.Kind == "" {
		m.Kind = chat.MessageText
	}
	req := &createReq{m: m, done: make(chan struct{})}
	select {
	case s.creates <- req:
	case <-s.quit:
		return chat.Message{}, false, fmt.Errorf("create message: %w", errStoreClosed)
	case <-ctx.Done():
		return chat.Message{}, false, fmt.Errorf("create message: %w", ctx.Err())
	}
	select {
	case <-req.done:
	case <-s.writerDone:
		select {
		case <-req.done:
		default:
			return chat.Message{}, false, fmt.Errorf("create message: %w", errStoreClosed)
		}
	}
	if req.err != nil {
		return chat.Message{}, false, fmt.Errorf("create message: %w", req.err)
	}
	return req.msg, req.created, nil
}

func (s *Store) startWriter(ctx context.Context) error {
	var err error
	if s.insertMessage, err = s.write.PrepareContext(ctx, insertMessageSQL); err != nil {
		return fmt.Errorf("prepare message insert: %w", err)
	}
	if s.messageAuthor, err = s.write.PrepareContext(ctx, messageAuthorSQL); err != nil {
		return fmt.Errorf("prepare author lookup: %w", err)
	}
	s.creates = make(chan *createReq, 4*maxBatch)
	s.quit = make(chan struct{})
	s.writerDone = make(chan struct{})
	go s.writeMessages()
	return nil
}

func (s *Store) stopWriter() {
	close(s.quit)
	<-s.writerDone
}

func (s *Store) writeMessages() {
	defer close(s.writerDone)
	batch := make([]*createReq, 0, maxBatch)
	for {
		select {
		case req := <-s.creates:
			batch = append(batch[:0], req)
		case <-s.quit:
			return
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case req := <-s.creates:
				batch = append(batch, req)
			default:
				break fill
			}
		}
		s.commitBatch(batch)
	}
}

// commitBatch writes the batch in one transaction. A message refused by a
// constraint fails alone (SQLite undoes just that statement); a failed
// commit fails them all.
func (s *Store) commitBatch(batch []*createReq) {
	ctx := context.Background()
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		now := toDB(time.Now())
		authors := make(map[int64]chat.User)
		ins := writeStmts{insert: tx.StmtContext(ctx, s.insertMessage), author: tx.StmtContext(ctx, s.messageAuthor)}
		var first, last int64
		for _, r := range batch {
			r.msg, r.created, r.err = insertMessage(ctx, tx, ins, r.m, now, authors)
			if r.err == nil && r.created {
				if first == 0 {
					first = r.msg.ID
				}
				last = r.msg.ID
			}
		}
		if first == 0 {
			return nil
		}
		// The batch's ids are first..last (one writer), so one statement
		// indexes them all for search.
		_, err := tx.ExecContext(ctx, `INSERT INTO messages_fts (rowid, body)
			SELECT id, body FROM messages WHERE id BETWEEN ? AND ? AND kind = 'text'`, first, last)
		return err
	})
	var committed []chat.Message
	for _, r := range batch {
		if err != nil {
			r.err, r.created = err, false
		}
		if r.err == nil && r.created {
			committed = append(committed, r.msg)
		}
	}
	if s.onCommit != nil && len(committed) > 0 {
		s.onCommit(committed)
	}
	for _, r := range batch {
		close(r.done)
	}
}

// The statements of the message path are prepared once on the writer
// connection: preparing them for every row was a third of a message's cost.
const (
	insertMessageSQL = `INSERT INTO messages (room_id, author_id, kind, body, client_msg_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`
	messageAuthorSQL = "SELECT " + userColumns + " FROM users WHERE id = ?"
)

// writeStmts are the prepared statements bound to one batch's transaction.
type writeStmts struct{ insert, author *sql.Stmt }

func insertMessage(ctx context.Context, tx *sql.Tx, st writeStmts, m chat.Message, now int64, authors map[int64]chat.User) (chat.Message, bool, error) {
	var clientID any
	if m.ClientMsgID != "" {
		clientID = m.ClientMsgID
	}
	err := st.insert.QueryRowContext(ctx, m.RoomID, m.AuthorID, m.Kind, m.Body, clientID, now).Scan(&m.ID)
	if errors.Is(err, sql.ErrNoRows) {
		// A resend: the author stored this client id before.
		dup, err := scanMessage(tx.QueryRowContext(ctx, "SELECT "+messageColumns+
			" FROM messages m JOIN users u ON u.id = m.author_id WHERE m.author_id = ? AND m.client_msg_id = ?", m.AuthorID, m.ClientMsgID))
		return dup, false, err
	}
	if err != nil {
		return chat.Message{}, false, err
	}
	if err := insertMentions(ctx, tx, m.ID, m.Mentions); err != nil {
		return chat.Message{}, false, err
	}
	author, ok := authors[m.AuthorID]
	if !ok {
		if author, err = scanUser(st.author.QueryRowContext(ctx, m.AuthorID)); err != nil {
			return chat.Message{}, false, err
		}
		authors[m.AuthorID] = author
	}
	m.Author, m.AuthorName, m.AuthorGuest = author.Username, author.Name(), author.IsGuest
	m.CreatedAt = fromDB(now)
	return m, true, nil
}
