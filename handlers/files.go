package handlers

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/chat/media"
)

// DefaultMaxUpload is the largest file one upload may carry unless
// configured otherwise.
const DefaultMaxUpload = 25 << 20

// DefaultStorageQuota is how much each account's files may take unless
// configured otherwise (or an admin sets the account's own limit).
const DefaultStorageQuota = 256 << 20

// multipartSlack is what a form's other fields and boundaries may add to
// the file in a request body.
const multipartSlack = 64 << 10

// errTooLarge is what the upload's body reader returns past the limit.
type errTooLarge struct {
	limit  int64
	quota  bool // the limit was the user's storage left, not the upload limit
	server bool // the limit was the server's storage left
}

func (e *errTooLarge) Error() string { return "upload over the limit" }

// limitReader passes at most limit bytes and then fails with errTooLarge, so
// that a file over the limit is told apart from one exactly at it.
type limitReader struct {
	r    io.Reader
	left int64
	err  *errTooLarge
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, l.err
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return 0, l.err
	}
	return n, err
}

// uploadIdle is how long an upload's body may stop arriving. The server's
// read timeout bounds whole requests, which a large file on a slow link
// outlasts; an upload instead has its read deadline moved on as long as its
// bytes keep coming, at no less than a minimum rate.
const uploadIdle = 30 * time.Second

// Defaults of the minimum rate: after the grace period, an upload must have
// arrived at UploadMinRate on average since it began. A byte every 20 s
// keeps any idle timeout from firing; it does not keep this one.
const (
	DefaultUploadGrace   = 30 * time.Second
	DefaultUploadMinRate = 16 << 10 // bytes per second: a poor mobile link still makes it
)

// uploadBody is an upload's request body, read through its limit; the
// original stays at hand to drain what is left after a refusal.
type uploadBody struct {
	limitReader
	orig io.ReadCloser
	rc   *http.ResponseController

	start    time.Time
	grace    time.Duration
	minRate  int64 // bytes per second
	received int64
}

func (b *uploadBody) Read(p []byte) (int, error) {
	// By now at least minRate bytes a second after the grace period must
	// have come: the next ones are due by then, and within uploadIdle.
	due := b.start.Add(b.grace + time.Duration(float64(b.received)/float64(b.minRate)*float64(time.Second)))
	deadline := time.Now().Add(uploadIdle)
	if due.Before(deadline) {
		deadline = due
	}
	// Not every connection can (a test's recorder cannot): then the
	// server's own timeout applies.
	_ = b.rc.SetReadDeadline(deadline)
	n, err := b.limitReader.Read(p)
	b.received += int64(n)
	return n, err
}

func (b *uploadBody) Close() error { return b.orig.Close() }

// handleUpload takes a file (and an optional caption) and posts it as a
// message, through the same message path as any other.
func (s *Server) handleUpload(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	a, err := s.roomFor(c, u)
	if err != nil {
		return err
	}
	if !a.Post {
		return a.deny("You cannot send files to this room.")
	}
	room := a.room
	if !s.uploadLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		return s.uploadFailed(c, u, a, chat.Errorf(chat.ERateLimit, "You are sending files too fast. Please wait a minute."))
	}
	f, caption, err := s.receiveUpload(c, u, room)
	if err != nil {
		return s.uploadFailed(c, u, a, err)
	}
	if _, _, err := s.send(ctx, u, room, caption, "", &f, inThread{}); err != nil {
		s.store.DeleteFile(context.WithoutCancel(ctx), f.ID)
		return s.uploadFailed(c, u, a, err)
	}
	if isHTMX(c) {
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, "/rooms/"+room.Slug)
}

// receiveUpload reads the multipart body as it arrives: the caption, and the
// file, which goes to the store chunk by chunk (images without their
// metadata). An image gets its sizes and thumbnail. Nothing is kept if
// anything fails.
func (s *Server) receiveUpload(c echo.Context, u chat.User, room chat.Room) (chat.File, string, error) {
	ctx := c.Request().Context()
	req := c.Request()
	// Old uploads cut short by a crash go first, so they never count
	// against anyone for long.
	if _, err := s.store.DeletePendingFiles(ctx, time.Now().Add(-time.Hour)); err != nil {
		return chat.File{}, "", err
	}
	left, full, err := s.storageLeft(ctx, u.ID)
	if err != nil {
		return chat.File{}, "", err
	}
	limit := &errTooLarge{limit: s.maxUpload}
	if left >= 0 && left < limit.limit {
		limit = &errTooLarge{limit: left, quota: !full, server: full}
	}
	req.Body = &uploadBody{limitReader: limitReader{r: req.Body, left: limit.limit + multipartSlack, err: limit}, orig: req.Body,
		rc: http.NewResponseController(c.Response()), start: time.Now(), grace: s.uploadGrace, minRate: s.uploadMinRate}
	if req.ContentLength > limit.limit+multipartSlack {
		return chat.File{}, "", limit
	}
	mr, err := req.MultipartReader()
	if err != nil {
		return chat.File{}, "", chat.Errorf(chat.EInvalid, "Choose a file to send.")
	}
	var f *chat.File
	var caption string
	orientation := 1
	defer func() {
		// A failure after the file was stored leaves nothing behind.
		if f != nil && err != nil {
			s.store.DeleteFile(context.WithoutCancel(ctx), f.ID)
		}
	}()
	for {
		part, perr := mr.NextPart()
		if errors.Is(perr, io.EOF) {
			break
		}
		if perr != nil {
			err = uploadReadError(perr)
			return chat.File{}, "", err
		}
		switch part.FormName() {
		case "body":
			b, rerr := io.ReadAll(io.LimitReader(part, chat.MaxBodyChars*4+1))
			if rerr != nil {
				err = uploadReadError(rerr)
				return chat.File{}, "", err
			}
			caption = string(b)
		case "file":
			if f != nil || part.FileName() == "" {
				break // one file per message; an empty file field is no file
			}
			var stored chat.File
			stored, orientation, err = s.storeUpload(ctx, u, room, part, &limitReader{r: part, left: limit.limit, err: limit})
			if err != nil {
				return chat.File{}, "", err
			}
			f = &stored
		}
		part.Close()
	}
	if f == nil {
		err = chat.Errorf(chat.EInvalid, "Choose a file to send.")
		return chat.File{}, "", err
	}
	if media.IsImage(f.ContentType) {
		err = s.describeImage(ctx, f, orientation)
	}
	return *f, caption, err
}

// storeUpload streams one file part into the store: its type from its
// first bytes, an image's metadata stripped on the way.
func (s *Server) storeUpload(ctx context.Context, u chat.User, room chat.Room, part *multipart.Part, r io.Reader) (chat.File, int, error) {
	name := chat.CleanFileName(part.FileName())
	br := bufio.NewReaderSize(r, media.SniffLen)
	head, err := br.Peek(media.SniffLen)
	if err != nil && !errors.Is(err, io.EOF) {
		return chat.File{}, 0, uploadReadError(err)
	}
	ct := media.Sniff(head, name)
	pr, pw := io.Pipe()
	orientation := make(chan int, 1)
	go func() {
		o, err := media.Strip(pw, br, ct)
		orientation <- o
		pw.CloseWithError(err)
	}()
	f, err := s.store.CreateFile(ctx, chat.File{RoomID: room.ID, OwnerID: u.ID, Name: name, ContentType: ct}, pr)
	pr.CloseWithError(errors.New("upload abandoned")) // unblocks Strip if the store gave up first
	o := <-orientation
	if err != nil {
		if errors.Is(err, media.ErrMalformed) {
			return chat.File{}, 0, chat.Errorf(chat.EInvalid, "%s looks like an image but could not be read.", name)
		}
		return chat.File{}, 0, uploadReadError(err)
	}
	return f, o, nil
}

// describeImage refuses a stored image with too many pixels, before
// decoding any of them, and makes the thumbnail of any other. An image that
// cannot be decoded after all, or whose decoding would take more memory than
// the decode budget allows (see media.DecodeCost), stays a download.
// Decodes share the budget: each waits until its cost fits beside those
// running.
func (s *Server) describeImage(ctx context.Context, f *chat.File, orientation int) error {
	w, h, err := media.Size(s.store.FileContent(ctx, *f), f.ContentType, orientation)
	if errors.Is(err, media.ErrTooManyPixels) {
		return chat.Errorf(chat.EInvalid, "%s is %d×%d pixels; images may have at most %d megapixels and %d pixels a side.",
			f.Name, w, h, media.MaxPixels/1_000_000, media.MaxSide)
	}
	if err != nil {
		return s.store.FinishFile(ctx, *f, "", nil)
	}
	cost, err := media.DecodeCost(s.store.FileContent(ctx, *f), f.ContentType)
	if err == nil && cost > s.decodeBudget {
		err = fmt.Errorf("%w: %s to decode, over the budget of %s", media.ErrTooCostly, chat.SizeText(cost), chat.SizeText(s.decodeBudget))
	}
	if err != nil {
		s.log.Info("image kept as a download", "file", f.ID, "err", err)
		return s.store.FinishFile(ctx, *f, "", nil)
	}
	if err := s.decodes.Acquire(ctx, cost); err != nil {
		return err
	}
	thumb, err := media.Thumbnail(s.store.FileContent(ctx, *f), f.ContentType, orientation)
	s.decodes.Release(cost)
	if err != nil {
		s.log.Info("image kept as a download", "file", f.ID, "err", err)
		return s.store.FinishFile(ctx, *f, "", nil)
	}
	f.Width, f.Height, f.ThumbWidth, f.ThumbHeight = w, h, thumb.Width, thumb.Height
	return s.store.FinishFile(ctx, *f, thumb.ContentType, thumb.Data)
}

// uploadReadError keeps the size limit's error and calls anything else that
// went wrong reading the body a bad upload (the client's doing, mostly: a
// connection cut, a malformed form).
func uploadReadError(err error) error {
	var tl *errTooLarge
	var he *echo.HTTPError
	if errors.As(err, &tl) || errors.As(err, &he) || chat.ErrorCode(err) != chat.EInternal {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return echo.NewHTTPError(http.StatusRequestTimeout).SetInternal(err)
	}
	return chat.Errorf(chat.EInvalid, "The upload did not arrive whole. Please try again.")
}

// uploadFailed answers a refused upload: htmx (the page's uploader) gets the
// reason as text; a plain form gets the room again with the reason above
// the composer. A body over the limit is read to its end first (up to a
// bound), so the browser is still listening when the answer comes.
func (s *Server) uploadFailed(c echo.Context, u chat.User, a access, err error) error {
	status, msg := statusOf[chat.ErrorCode(err)], chat.ErrorMessage(err)
	var tl *errTooLarge
	if errors.As(err, &tl) {
		status = http.StatusRequestEntityTooLarge
		msg = fmt.Sprintf("That file is larger than %s, the most one upload may be.", chat.SizeText(tl.limit))
		switch {
		case tl.quota:
			msg = fmt.Sprintf("That file is larger than the %s of storage you have left. Delete some of your files, or ask an admin for more room.", chat.SizeText(tl.limit))
		case tl.server:
			msg = fmt.Sprintf("That file is larger than the %s of storage this server has left. Ask an admin for more room.", chat.SizeText(tl.limit))
		}
		if b, ok := c.Request().Body.(*uploadBody); ok && c.Request().ContentLength <= 4*s.maxUpload {
			_, _ = io.CopyN(io.Discard, b.orig, 4*s.maxUpload)
		}
	}
	if status == 0 || status >= 500 || errors.As(err, new(*echo.HTTPError)) {
		return err
	}
	if isHTMX(c) {
		return c.String(status, msg)
	}
	return s.renderRoom(c, status, u, a, window{}, "", msg)
}

// handleFile serves a file to the members of its room: images (as stored,
// their metadata gone) in the page, everything else as a download.
func (s *Server) handleFile(c echo.Context) error {
	f, err := s.fileFor(c)
	if err != nil {
		return err
	}
	ct := f.ContentType
	disposition := "inline"
	if !f.Inline() {
		disposition = "attachment"
		switch {
		case media.Active(ct):
			ct = "text/plain; charset=utf-8"
		case media.IsImage(ct):
			ct = "application/octet-stream" // looked like one, but is not shown as one
		}
	}
	fileHeaders(c, ct, disposition, f.Name, f.Size)
	if c.Request().Method == http.MethodHead {
		return nil
	}
	// Headers are out: a failure now can only cut the download short.
	if _, err := io.Copy(c.Response(), s.store.FileContent(c.Request().Context(), f)); err != nil && c.Request().Context().Err() == nil {
		s.log.Error("serve file", "file", f.ID, "err", err)
	}
	return nil
}

// handleThumb serves an image's thumbnail.
func (s *Server) handleThumb(c echo.Context) error {
	f, err := s.fileFor(c)
	if err != nil {
		return err
	}
	ct, data, err := s.store.FileThumb(c.Request().Context(), f.ID)
	if err != nil {
		return err
	}
	fileHeaders(c, ct, "inline", f.Name, int64(len(data)))
	if c.Request().Method == http.MethodHead {
		return nil
	}
	_, err = c.Response().Write(data)
	return err
}

// fileFor loads the file in the path if the user is a member of its room:
// for anyone else (and for an upload not yet sent) there is no such file.
func (s *Server) fileFor(c echo.Context) (chat.File, error) {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	notFound := chat.Errorf(chat.ENotFound, "There is no such file.")
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return chat.File{}, notFound
	}
	f, err := s.store.FileByID(ctx, id)
	if err != nil {
		return chat.File{}, err
	}
	if f.MessageID == 0 {
		return chat.File{}, notFound
	}
	room, err := s.store.RoomByID(ctx, f.RoomID)
	if err != nil {
		return chat.File{}, err
	}
	a, err := s.accessTo(ctx, u, room)
	if err != nil {
		return chat.File{}, err
	}
	if !a.Files {
		return chat.File{}, notFound
	}
	return f, nil
}

// fileCSP keeps whatever a file is from running anything, even opened on
// its own: no sources at all, and a sandbox (an opaque origin, no scripts).
const fileCSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"

func fileHeaders(c echo.Context, ct, disposition, name string, size int64) {
	h := c.Response().Header()
	h.Set("Content-Type", ct)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", fileCSP)
	// A file's content never changes under its id; it may only go away.
	h.Set("Cache-Control", "private, max-age=86400")
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	// The name was cleaned when stored; FormatMediaType quotes it, or
	// writes it as filename* (RFC 2231) when it is not ASCII.
	cd := mime.FormatMediaType(disposition, map[string]string{"filename": name})
	if cd == "" {
		cd = disposition
	}
	h.Set("Content-Disposition", cd)
	c.Response().WriteHeader(http.StatusOK)
}

// ParseSize reads a size such as 25MB, 512K or 1048576 (bytes).
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size (such as 25MB, 512KB or a number of bytes)", s)
	}
	return n * mult, nil
}
