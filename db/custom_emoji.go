package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"agora/chat"
)

// CreateCustomEmoji keeps a custom emoji's picture (checked and stripped by
// the caller) under its name, which must be free.
func (s *Store) CreateCustomEmoji(ctx context.Context, name, contentType string, data []byte, by int64) (chat.CustomEmoji, error) {
	e := chat.CustomEmoji{Name: name, ContentType: contentType, Size: int64(len(data)), CreatedAt: time.Now()}
	var creator any
	if by != 0 {
		creator = by
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO custom_emoji (name, content_type, data, created_by, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			name, contentType, data, creator, toDB(e.CreatedAt)).Scan(&e.ID)
	})
	if s.engine.isUniqueViolation(err) {
		return chat.CustomEmoji{}, chat.Errorf(chat.EConflict, "There is an emoji called :%s: already: delete it first to replace it.", name)
	}
	if err != nil {
		return chat.CustomEmoji{}, fmt.Errorf("create custom emoji: %w", err)
	}
	return e, nil
}

// CustomEmojiList returns every custom emoji, by name.
func (s *Store) CustomEmojiList(ctx context.Context) ([]chat.CustomEmoji, error) {
	rows, err := s.query(ctx, `SELECT e.id, e.name, e.content_type, length(e.data), coalesce(u.username, ''), e.created_at
		FROM custom_emoji e LEFT JOIN users u ON u.id = e.created_by ORDER BY e.name`)
	if err != nil {
		return nil, fmt.Errorf("custom emoji: %w", err)
	}
	defer rows.Close()
	var out []chat.CustomEmoji
	for rows.Next() {
		var e chat.CustomEmoji
		var at int64
		if err := rows.Scan(&e.ID, &e.Name, &e.ContentType, &e.Size, &e.CreatedBy, &at); err != nil {
			return nil, fmt.Errorf("custom emoji: %w", err)
		}
		e.CreatedAt = fromDB(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// CustomEmojiImage returns a custom emoji's picture and its type, or
// ENotFound.
func (s *Store) CustomEmojiImage(ctx context.Context, name string) (string, []byte, error) {
	var ct string
	var data []byte
	err := s.queryRow(ctx, "SELECT content_type, data FROM custom_emoji WHERE name = ?", name).Scan(&ct, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, chat.Errorf(chat.ENotFound, "There is no emoji called :%s:.", name)
	}
	if err != nil {
		return "", nil, fmt.Errorf("custom emoji image: %w", err)
	}
	return ct, data, nil
}

// HasCustomEmoji reports whether there is a custom emoji of that name.
func (s *Store) HasCustomEmoji(ctx context.Context, name string) (bool, error) {
	var n int
	if err := s.queryRow(ctx, "SELECT count(*) FROM custom_emoji WHERE name = ?", name).Scan(&n); err != nil {
		return false, fmt.Errorf("custom emoji: %w", err)
	}
	return n > 0, nil
}

// DeleteCustomEmoji removes a custom emoji, or says there is none (ENotFound).
// Messages and reactions that used it show its :name: from then on.
func (s *Store) DeleteCustomEmoji(ctx context.Context, name string) error {
	var n int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM custom_emoji WHERE name = ?", name)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("delete custom emoji: %w", err)
	}
	if n == 0 {
		return chat.Errorf(chat.ENotFound, "There is no emoji called :%s:.", name)
	}
	return nil
}
