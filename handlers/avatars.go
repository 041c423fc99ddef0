package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/chat/media"
	"agora/views"
)

// A person's picture: taken from the profile form, made a small square with
// no metadata (decoded under the same budget as thumbnails), kept in the
// store, and served at /avatars/{username}?v={version}.

// setAvatar makes and stores u's picture from an uploaded image.
func (s *Server) setAvatar(ctx context.Context, u chat.User, fh *multipart.FileHeader) (chat.User, error) {
	if fh.Size > views.AvatarMaxBytes {
		return u, chat.Errorf(chat.EInvalid, "The picture is %s; it may be %s at most.", chat.SizeText(fh.Size), chat.SizeText(views.AvatarMaxBytes))
	}
	f, err := fh.Open()
	if err != nil {
		return u, fmt.Errorf("open the picture: %w", err)
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	ct := media.Sniff(head[:n], fh.Filename)
	if !media.IsImage(ct) {
		return u, chat.Errorf(chat.EInvalid, "The picture must be a PNG, JPEG, GIF or WebP image.")
	}
	unreadable := chat.Errorf(chat.EInvalid, "The picture looks like an image but could not be read.")
	// Each pass reads the file from its start: the orientation (JPEG's
	// EXIF), the size from the header, the decoding's cost, the decoding.
	from := func() io.Reader { f.Seek(0, io.SeekStart); return f }
	orientation, err := media.Strip(io.Discard, from(), ct)
	if err != nil {
		return u, unreadable
	}
	w, h, err := media.Size(from(), ct, orientation)
	if errors.Is(err, media.ErrTooManyPixels) {
		return u, chat.Errorf(chat.EInvalid, "The picture is %d×%d pixels; it may have at most %d megapixels and %d pixels a side.",
			w, h, media.MaxPixels/1_000_000, media.MaxSide)
	}
	if err != nil {
		return u, unreadable
	}
	cost, err := media.DecodeCost(from(), ct)
	if err != nil {
		return u, unreadable
	}
	if cost > s.decodeBudget {
		return u, chat.Errorf(chat.EInvalid, "The picture would take %s of memory to read, more than this server allows (%s). Please send a smaller one.",
			chat.SizeText(cost), chat.SizeText(s.decodeBudget))
	}
	if err := s.decodes.Acquire(ctx, cost); err != nil {
		return u, err
	}
	pic, err := media.Avatar(from(), ct, orientation)
	s.decodes.Release(cost)
	if err != nil {
		return u, unreadable
	}
	return s.store.SetAvatar(ctx, u.ID, pic.ContentType, pic.Data)
}

// handleAvatar serves a picture. With the version it names (as every page
// links it) it is cached for good; without, it is checked each time.
func (s *Server) handleAvatar(c echo.Context) error {
	ct, data, version, err := s.store.Avatar(c.Request().Context(), c.Param("username"))
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", fileCSP)
	if c.QueryParam("v") == strconv.FormatInt(version, 10) {
		h.Set("Cache-Control", "private, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "private, no-cache")
	}
	return c.Blob(http.StatusOK, ct, data)
}
