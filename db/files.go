package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"

	"agora/chat"
)

// FileChunk is how many bytes of a file one row holds. Files go in and out
// one chunk at a time, each chunk its own short write transaction, so an
// upload never holds a whole file in memory nor the writer for longer than
// one chunk: messages keep flowing between an upload's chunks.
const FileChunk = 256 << 10

const fileColumns = `id, room_id, owner_id, coalesce(message_id, 0), name, content_type, size,
	width, height, thumb_width, thumb_height, created_at`

func scanFile(row interface{ Scan(...any) error }) (chat.File, error) {
	var f chat.File
	var created int64
	err := row.Scan(&f.ID, &f.RoomID, &f.OwnerID, &f.MessageID, &f.Name, &f.ContentType, &f.Size,
		&f.Width, &f.Height, &f.ThumbWidth, &f.ThumbHeight, &created)
	f.CreatedAt = fromDB(created)
	return f, err
}

// CreateFile stores what r yields as a new file of f.RoomID owned by
// f.OwnerID, not yet attached to a message (CreateMessage attaches it). If
// reading r fails, nothing is kept and the error is returned unwrapped, so
// the caller sees its own reader's errors. The content type and image sizes
// are f's; FinishFile may change them once the content has been looked at.
func (s *Store) CreateFile(ctx context.Context, f chat.File, r io.Reader) (chat.File, error) {
	f.CreatedAt = time.Now()
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO files (room_id, owner_id, name, content_type, created_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, f.RoomID, f.OwnerID, f.Name, f.ContentType, toDB(f.CreatedAt)).Scan(&f.ID)
	})
	if err != nil {
		return chat.File{}, fmt.Errorf("create file: %w", err)
	}
	buf := make([]byte, FileChunk)
	for n := 0; ; n++ {
		k, rerr := io.ReadFull(r, buf)
		if k > 0 {
			err := s.withTx(ctx, func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, "INSERT INTO file_chunks (file_id, n, data) VALUES (?, ?, ?)", f.ID, n, buf[:k])
				return err
			})
			if err != nil {
				s.dropFile(ctx, f.ID)
				return chat.File{}, fmt.Errorf("store file chunk: %w", err)
			}
			f.Size += int64(k)
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			s.dropFile(ctx, f.ID)
			return chat.File{}, rerr
		}
	}
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE files SET size = ? WHERE id = ?", f.Size, f.ID)
		return err
	})
	if err != nil {
		s.dropFile(ctx, f.ID)
		return chat.File{}, fmt.Errorf("create file: %w", err)
	}
	return f, nil
}

// dropFile removes a file that will not be attached, even when ctx has ended
// (the client went away mid-upload).
func (s *Store) dropFile(ctx context.Context, id int64) {
	_ = s.DeleteFile(context.WithoutCancel(ctx), id)
}

// FinishFile records what was learnt from a stored file's content (its
// type, an image's sizes) and its thumbnail, if it has one.
func (s *Store) FinishFile(ctx context.Context, f chat.File, thumbType string, thumb []byte) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE files SET content_type = ?, width = ?, height = ?, thumb_width = ?, thumb_height = ?
			WHERE id = ?`, f.ContentType, f.Width, f.Height, f.ThumbWidth, f.ThumbHeight, f.ID)
		if err != nil || thumb == nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO file_thumbs (file_id, content_type, data) VALUES (?, ?, ?)
			ON CONFLICT (file_id) DO UPDATE SET content_type = excluded.content_type, data = excluded.data`, f.ID, thumbType, thumb)
		return err
	})
	if err != nil {
		return fmt.Errorf("finish file: %w", err)
	}
	return nil
}

// DeleteFile removes a file, its content and its thumbnail.
func (s *Store) DeleteFile(ctx context.Context, id int64) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM files WHERE id = ?", id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete file: %w", err)
	}
	return nil
}

// DeletePendingFiles removes files never attached to a message that were
// started before the given time: uploads cut short by a crash.
func (s *Store) DeletePendingFiles(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM files WHERE message_id IS NULL AND created_at < ?", toDB(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete pending files: %w", err)
	}
	return n, nil
}

// FileByID returns a file's description.
func (s *Store) FileByID(ctx context.Context, id int64) (chat.File, error) {
	f, err := scanFile(s.queryRow(ctx, "SELECT "+fileColumns+" FROM files WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.File{}, chat.Errorf(chat.ENotFound, "There is no such file.")
	}
	if err != nil {
		return chat.File{}, fmt.Errorf("file by id: %w", err)
	}
	return f, nil
}

// FileThumb returns an image file's thumbnail and its content type.
func (s *Store) FileThumb(ctx context.Context, id int64) (string, []byte, error) {
	var ct string
	var data []byte
	err := s.queryRow(ctx, "SELECT content_type, data FROM file_thumbs WHERE file_id = ?", id).Scan(&ct, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, chat.Errorf(chat.ENotFound, "There is no such file.")
	}
	if err != nil {
		return "", nil, fmt.Errorf("file thumbnail: %w", err)
	}
	return ct, data, nil
}

// FileContent reads a stored file's content one chunk at a time, each chunk
// with a query of its own: a slow download holds no transaction open.
func (s *Store) FileContent(ctx context.Context, f chat.File) io.Reader {
	return &fileReader{s: s, ctx: ctx, f: f}
}

type fileReader struct {
	s    *Store
	ctx  context.Context
	f    chat.File
	n    int   // the next chunk to fetch
	read int64 // bytes handed out so far
	buf  []byte
	err  error
}

func (r *fileReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.read >= r.f.Size {
			r.err = io.EOF
			return 0, r.err
		}
		err := r.s.queryRow(r.ctx, "SELECT data FROM file_chunks WHERE file_id = ? AND n = ?", r.f.ID, r.n).Scan(&r.buf)
		if errors.Is(err, sql.ErrNoRows) {
			// Deleted while being read, or cut short.
			r.err = io.ErrUnexpectedEOF
			return 0, r.err
		}
		if err != nil {
			r.err = fmt.Errorf("read file chunk: %w", err)
			return 0, r.err
		}
		r.n++
	}
	k := copy(p, r.buf)
	r.buf = r.buf[k:]
	r.read += int64(k)
	return k, nil
}

// withFiles fills in the files attached to msgs with one query over their
// id range, as withReactions does for reactions.
func withFiles(ctx context.Context, query func(context.Context, string, ...any) (*sql.Rows, error), msgs []chat.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	index := make(map[int64]int, len(msgs))
	lo, hi := msgs[0].ID, msgs[0].ID
	for i, m := range msgs {
		index[m.ID] = i
		lo, hi = min(lo, m.ID), max(hi, m.ID)
	}
	rows, err := query(ctx, "SELECT "+fileColumns+" FROM files WHERE message_id BETWEEN ? AND ?", lo, hi)
	if err != nil {
		return fmt.Errorf("files: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		f, err := scanFile(rows)
		if err != nil {
			return fmt.Errorf("files: %w", err)
		}
		if i, ok := index[f.MessageID]; ok && !msgs[i].Deleted() {
			msgs[i].File = &f
		}
	}
	return rows.Err()
}

// attachable checks that the message's file is a stored one of its author
// and room, not sent with another message yet.
func attachable(ctx context.Context, tx *sql.Tx, m chat.Message) error {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM files
		WHERE id = ? AND owner_id = ? AND room_id = ? AND message_id IS NULL`, m.File.ID, m.AuthorID, m.RoomID).Scan(&n)
	if err != nil {
		return err
	}
	if n != 1 {
		return chat.Errorf(chat.EInvalid, "That file is not yours to send here, or was sent already.")
	}
	return nil
}

// Storage is how much the user's files take and the limit an admin set.
func (s *Store) Storage(ctx context.Context, userID int64) (chat.Storage, error) {
	var st chat.Storage
	err := s.queryRow(ctx, `SELECT coalesce((SELECT CAST(sum(size) AS BIGINT) FROM files WHERE owner_id = ?1), 0),
		coalesce((SELECT max_bytes FROM storage_limits WHERE user_id = ?1), 0)`, userID).Scan(&st.Used, &st.Limit)
	if err != nil {
		return chat.Storage{}, fmt.Errorf("storage: %w", err)
	}
	return st, nil
}

// TotalStorage is how much every file in the store takes.
func (s *Store) TotalStorage(ctx context.Context) (int64, error) {
	var n int64
	if err := s.queryRow(ctx, "SELECT coalesce(CAST(sum(size) AS BIGINT), 0) FROM files").Scan(&n); err != nil {
		return 0, fmt.Errorf("total storage: %w", err)
	}
	return n, nil
}

// SetStorageLimit sets how many bytes of files the user may keep; 0 removes the limit.
func (s *Store) SetStorageLimit(ctx context.Context, userID, maxBytes int64) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if maxBytes <= 0 {
			_, err := tx.ExecContext(ctx, "DELETE FROM storage_limits WHERE user_id = ?", userID)
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO storage_limits (user_id, max_bytes) VALUES (?, ?)
			ON CONFLICT (user_id) DO UPDATE SET max_bytes = excluded.max_bytes`, userID, maxBytes)
		return err
	})
	if err != nil {
		return fmt.Errorf("set storage limit: %w", err)
	}
	return nil
}

// UserStorage is one account's line on the admin's storage page.
type UserStorage struct {
	User chat.User
	chat.Storage
}

// StorageByUser lists every account with its storage, the largest users first.
func (s *Store) StorageByUser(ctx context.Context) ([]UserStorage, error) {
	rows, err := s.query(ctx, `SELECT `+userColumns+`,
			coalesce((SELECT CAST(sum(size) AS BIGINT) FROM files f WHERE f.owner_id = users.id), 0) AS used,
			coalesce((SELECT max_bytes FROM storage_limits l WHERE l.user_id = users.id), 0)
		FROM users WHERE is_guest = 0 ORDER BY used DESC, username`)
	if err != nil {
		return nil, fmt.Errorf("storage by user: %w", err)
	}
	defer rows.Close()
	var out []UserStorage
	for rows.Next() {
		var us UserStorage
		if us.User, err = scanUser(rows, &us.Used, &us.Limit); err != nil {
			return nil, fmt.Errorf("storage by user: %w", err)
		}
		out = append(out, us)
	}
	return out, rows.Err()
}
