package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"agora/chat"
)

// Link previews (migration 0024): each page's preview is kept once, by its
// address, and shown under every message whose first link it is. Saving a
// fetched page is an ordinary write; showing it under a message is a change
// to the message, numbered in its room's log (chat.EventPreview), so every
// open page, every node and every catch-up sees it in order.

const previewColumns = `p.id, p.url, p.title, p.description, p.site, p.image_width, p.image_height, p.fetched_at`

func scanPreview(row interface{ Scan(...any) error }, extra ...any) (chat.LinkPreview, error) {
	var p chat.LinkPreview
	var fetched int64
	err := row.Scan(append(extra, &p.ID, &p.URL, &p.Title, &p.Description, &p.Site, &p.ImageWidth, &p.ImageHeight, &fetched)...)
	p.FetchedAt = fromDB(fetched)
	return p, err
}

// LinkPreview returns the preview kept for a page's address, however old
// (the caller decides whether it is fresh), or ENotFound.
func (s *Store) LinkPreview(ctx context.Context, url string) (chat.LinkPreview, error) {
	p, err := scanPreview(s.queryRow(ctx, "SELECT "+previewColumns+" FROM link_previews p WHERE p.url = ?", url))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.LinkPreview{}, chat.Errorf(chat.ENotFound, "There is no preview of that page.")
	}
	if err != nil {
		return chat.LinkPreview{}, fmt.Errorf("link preview: %w", err)
	}
	return p, nil
}

// SaveLinkPreview keeps a fetched page's preview and its picture (a
// thumbnail of imageType; none when image is nil), replacing what was kept
// for the same address, and returns it with its id.
func (s *Store) SaveLinkPreview(ctx context.Context, p chat.LinkPreview, imageType string, image []byte) (chat.LinkPreview, error) {
	if image == nil {
		imageType, p.ImageWidth, p.ImageHeight = "", 0, 0
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO link_previews (url, title, description, site, image_type, image, image_width, image_height, fetched_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (url) DO UPDATE SET title = excluded.title, description = excluded.description, site = excluded.site,
				image_type = excluded.image_type, image = excluded.image, image_width = excluded.image_width,
				image_height = excluded.image_height, fetched_at = excluded.fetched_at
			RETURNING id`, p.URL, p.Title, p.Description, p.Site, imageType, image, p.ImageWidth, p.ImageHeight, toDB(p.FetchedAt)).Scan(&p.ID)
	})
	if err != nil {
		return chat.LinkPreview{}, fmt.Errorf("save link preview: %w", err)
	}
	return p, nil
}

// ErrPreviewGone refuses to show a preview under a message whose author
// removed it, or that was deleted since.
var ErrPreviewGone = chat.Errorf(chat.EConflict, "The preview was removed, or its message deleted.")

// AttachPreview shows the preview under the message, as a change to it in
// its room's log. A message deleted since, or whose author removed its
// preview, is left as it is (ErrPreviewGone).
func (s *Store) AttachPreview(ctx context.Context, messageID, previewID int64) (chat.Message, error) {
	req := &writeReq{change: func(ctx context.Context, b *batch) (chat.Message, string, error) {
		m, err := b.message(ctx, messageID)
		if err != nil {
			return m, "", err
		}
		if m.Deleted() {
			return m, "", ErrPreviewGone
		}
		if err := b.writable(ctx, m.RoomID); err != nil {
			return m, "", err
		}
		res, err := b.tx.ExecContext(ctx, `INSERT INTO message_previews (message_id, preview_id) VALUES (?, ?)
			ON CONFLICT (message_id) DO UPDATE SET preview_id = excluded.preview_id WHERE message_previews.removed_at IS NULL`,
			messageID, previewID)
		if err != nil {
			return m, "", err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return m, "", ErrPreviewGone
		}
		m, err = b.message(ctx, messageID)
		return m, chat.EventPreview, err
	}}
	if err := s.submit(ctx, req); err != nil {
		return chat.Message{}, wrapChange("attach preview", err)
	}
	return req.msg, nil
}

// RemovePreview takes a message's preview away, if chat.CanEdit lets by do
// it (its author), for good: a later fetch does not bring it back.
func (s *Store) RemovePreview(ctx context.Context, messageID int64, by chat.User) (chat.Message, error) {
	req := &writeReq{change: func(ctx context.Context, b *batch) (chat.Message, string, error) {
		m, err := b.message(ctx, messageID)
		if err != nil {
			return m, "", err
		}
		if !chat.CanEdit(by, m) {
			return m, "", chat.Errorf(chat.EForbidden, "Only its author can remove a message's preview.")
		}
		if err := b.writable(ctx, m.RoomID); err != nil {
			return m, "", err
		}
		res, err := b.tx.ExecContext(ctx, "UPDATE message_previews SET removed_at = ? WHERE message_id = ? AND removed_at IS NULL", b.now, messageID)
		if err != nil {
			return m, "", err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return m, "", chat.Errorf(chat.EInvalid, "This message shows no preview.")
		}
		m, err = b.message(ctx, messageID)
		return m, chat.EventPreview, err
	}}
	if err := s.submit(ctx, req); err != nil {
		return chat.Message{}, wrapChange("remove preview", err)
	}
	return req.msg, nil
}

// PreviewImage returns the picture of the preview a message shows, and its
// type, or ENotFound.
func (s *Store) PreviewImage(ctx context.Context, messageID int64) (string, []byte, error) {
	var ct string
	var data []byte
	err := s.queryRow(ctx, `SELECT p.image_type, p.image FROM message_previews mp JOIN link_previews p ON p.id = mp.preview_id
		WHERE mp.message_id = ? AND mp.removed_at IS NULL AND p.image IS NOT NULL`, messageID).Scan(&ct, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, chat.Errorf(chat.ENotFound, "There is no such picture.")
	}
	if err != nil {
		return "", nil, fmt.Errorf("preview image: %w", err)
	}
	return ct, data, nil
}

// withPreviews fills in the previews msgs show, with one query over their
// id range, as withFiles does.
func withPreviews(ctx context.Context, query querier, msgs []chat.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	index := make(map[int64]int, len(msgs))
	lo, hi := msgs[0].ID, msgs[0].ID
	for i, m := range msgs {
		index[m.ID] = i
		lo, hi = min(lo, m.ID), max(hi, m.ID)
	}
	rows, err := query(ctx, `SELECT mp.message_id, `+previewColumns+` FROM message_previews mp JOIN link_previews p ON p.id = mp.preview_id
		WHERE mp.message_id BETWEEN ? AND ? AND mp.removed_at IS NULL`, lo, hi)
	if err != nil {
		return fmt.Errorf("previews: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		p, err := scanPreview(rows, &id)
		if err != nil {
			return fmt.Errorf("previews: %w", err)
		}
		if i, ok := index[id]; ok && !msgs[i].Deleted() {
			msgs[i].Preview = &p
		}
	}
	return rows.Err()
}
