package handlers

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/chat/media"
	"agora/views"
)

// Custom emoji: admins add pictures under a :name: (/admin/emoji), and
// :name: in a message or as a reaction shows the picture. The store finds
// which codes of a body are custom emoji when it writes the body and keeps
// their names with the message, so every render, on every node, shows the
// same. The picture is kept in the store, checked by its content (PNG, GIF
// or WebP only), its metadata stripped, and served from here.

// customEmojiTypes are the pictures an emoji may be: no JPEG (no
// transparency), never SVG (it can carry script).
var customEmojiTypes = []string{media.PNG, media.GIF, media.WebP}

// emojiPage is what the emoji admin page shows besides the list.
type emojiPage struct {
	status    int
	ok, error string
	name      string
}

func (s *Server) handleAdminEmoji(c echo.Context) error {
	return s.renderAdminEmoji(c, emojiPage{status: http.StatusOK, ok: s.takeFlash(c)})
}

func (s *Server) renderAdminEmoji(c echo.Context, ep emojiPage) error {
	list, err := s.store.CustomEmojiList(c.Request().Context())
	if err != nil {
		return err
	}
	p, audit, err := s.adminPage(c, "Admin: emoji")
	if err != nil {
		return err
	}
	return render(c, ep.status, views.AdminEmojiPage(p, list, audit, ep.ok, ep.error, ep.name))
}

// adminEmojiError shows a refusal on the emoji page with its status; an
// internal error goes to the error page.
func (s *Server) adminEmojiError(c echo.Context, err error, typed string) error {
	code := chat.ErrorCode(err)
	if code == chat.EInternal {
		return err
	}
	return s.renderAdminEmoji(c, emojiPage{status: statusOf[code], error: chat.ErrorMessage(err), name: typed})
}

// handleCreateEmoji adds an emoji: field name, multipart file. The body is
// read under a limit of its own (see isUpload): the picture's and the form's.
func (s *Server) handleCreateEmoji(c echo.Context) error {
	c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, chat.MaxCustomEmojiBytes+64<<10)
	_, err := c.FormParams()
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return s.adminEmojiError(c, chat.Errorf(chat.EInvalid, "The picture may be %s at most.", chat.SizeText(chat.MaxCustomEmojiBytes)), "")
	} else if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.").SetInternal(err)
	}
	typed := strings.ToValidUTF8(c.FormValue("name"), "\uFFFD")
	name := strings.Trim(strings.TrimSpace(c.FormValue("name")), ":")
	if err := chat.ValidateEmojiName(name); err != nil {
		return s.adminEmojiError(c, err, typed)
	}
	ct, data, err := s.emojiPicture(c)
	if err != nil {
		return s.adminEmojiError(c, err, typed)
	}
	u, _ := userFrom(c)
	e, err := s.store.CreateCustomEmoji(c.Request().Context(), name, ct, data, u.ID)
	if err != nil {
		return s.adminEmojiError(c, err, typed)
	}
	if err := s.audit(c, "added emoji", e.Code(), ""); err != nil {
		return err
	}
	return s.adminDone(c, "/admin/emoji", e.Code()+" is added: use it in messages and reactions.")
}

// emojiPicture reads the form's file: a PNG, GIF or WebP by its content, at
// most MaxCustomEmojiBytes and MaxCustomEmojiSide pixels a side, whose
// header can be read; it comes back without its metadata.
func (s *Server) emojiPicture(c echo.Context) (string, []byte, error) {
	fh, err := c.FormFile("file")
	if err != nil {
		return "", nil, chat.Errorf(chat.EInvalid, "Choose a picture for the emoji (PNG, GIF or WebP).")
	}
	if fh.Size > chat.MaxCustomEmojiBytes {
		return "", nil, chat.Errorf(chat.EInvalid, "The picture is %s; it may be %s at most.", chat.SizeText(fh.Size), chat.SizeText(chat.MaxCustomEmojiBytes))
	}
	f, err := fh.Open()
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, chat.MaxCustomEmojiBytes+1))
	if err != nil {
		return "", nil, err
	}
	if len(data) > chat.MaxCustomEmojiBytes {
		return "", nil, chat.Errorf(chat.EInvalid, "The picture may be %s at most.", chat.SizeText(chat.MaxCustomEmojiBytes))
	}
	ct := media.Sniff(data[:min(len(data), media.SniffLen)], "")
	if !slices.Contains(customEmojiTypes, ct) {
		return "", nil, chat.Errorf(chat.EInvalid, "An emoji must be a PNG, GIF or WebP picture; this file is not one.")
	}
	unreadable := chat.Errorf(chat.EInvalid, "The picture looks like a %s but could not be read.", strings.TrimPrefix(ct, "image/"))
	var clean bytes.Buffer
	if _, err := media.Strip(&clean, bytes.NewReader(data), ct); err != nil {
		return "", nil, unreadable
	}
	w, h, err := media.Size(bytes.NewReader(clean.Bytes()), ct, 0)
	if err != nil && !errors.Is(err, media.ErrTooManyPixels) {
		return "", nil, unreadable
	}
	if err != nil || w > chat.MaxCustomEmojiSide || h > chat.MaxCustomEmojiSide {
		return "", nil, chat.Errorf(chat.EInvalid, "The picture is %d×%d pixels; an emoji may have %d a side at most.", w, h, chat.MaxCustomEmojiSide)
	}
	return ct, clean.Bytes(), nil
}

// handleDeleteEmoji removes an emoji: messages and reactions that used it
// show its :name: as text from then on.
func (s *Server) handleDeleteEmoji(c echo.Context) error {
	name := c.Param("name")
	if err := s.store.DeleteCustomEmoji(c.Request().Context(), name); err != nil {
		return s.adminEmojiError(c, err, "")
	}
	if err := s.audit(c, "deleted emoji", ":"+name+":", ""); err != nil {
		return err
	}
	return s.adminDone(c, "/admin/emoji", ":"+name+": is deleted.")
}

// handleEmojiImage serves a custom emoji's picture to anyone signed in. A
// deleted one is 404: the page shows its :name: (the image's alt text).
func (s *Server) handleEmojiImage(c echo.Context) error {
	ct, data, err := s.store.CustomEmojiImage(c.Request().Context(), c.Param("name"))
	if err != nil {
		return err
	}
	// Cached briefly: a name deleted and added again shows its new picture soon.
	return servePicture(c, ct, data, "private, max-age=300")
}

// validReaction accepts an emoji of the catalogue, or the :name: of a custom
// emoji that exists.
func (s *Server) validReaction(ctx context.Context, emoji string) error {
	name, ok := chat.CustomEmojiCode(emoji)
	if !ok {
		return chat.ValidateEmoji(emoji)
	}
	found, err := s.store.HasCustomEmoji(ctx, name)
	if err == nil && !found {
		err = chat.Errorf(chat.EInvalid, "There is no emoji called %s.", emoji)
	}
	return err
}
