package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/chat/jobs"
	"agora/chat/markup"
	"agora/chat/media"
	"agora/chat/unfurl"
	"agora/db"
)

// Link previews: a message whose body links to a page gets, a little later,
// a preview of that page under it. Sending the message only queues a job
// (one insert, like a webhook delivery); the job fetches the page through
// chat/unfurl (the address guard, the time budget, the size limits), copies
// its picture into the store as a thumbnail made here, and shows the
// preview under the message as a change in the room's log, so it arrives
// like an edit: live on every open page, on every node, and in catch-up.
// Nothing on the message path fetches anything; UnfurlFetches counts every
// request the job sends.

// jobPreview is the kind of the fetch of one message's preview.
const jobPreview = "preview"

// previewAttempts: a page that does not answer is not worth waiting for;
// one more try covers a runner stopped mid-fetch by a restart.
const previewAttempts = 2

type previewJob struct {
	Message int64  `json:"message"`
	URL     string `json:"url"`
}

type previews struct {
	client  *unfurl.Client
	fetches atomic.Int64
}

// startPreviews registers the preview job; with on false, links are left
// as they are.
func (s *Server) startPreviews(on, private bool, timeout time.Duration) {
	if !on {
		return
	}
	p := &previews{}
	p.client = unfurl.New(unfurl.Options{Private: private, Timeout: timeout, OnFetch: func() {
		p.fetches.Add(1)
		s.metrics.UnfurlFetches.Inc()
	}})
	s.previews = p
	s.jobs.Handle(jobPreview, s.fetchPreview)
}

// UnfurlFetches is how many requests were sent for link previews, for
// tests and benchmarks that show none is sent on the message path.
func (s *Server) UnfurlFetches() int64 {
	if s.previews == nil {
		return 0
	}
	return s.previews.fetches.Load()
}

// queuePreview queues the fetch of the preview of the message's first
// link, if it has one. The message is stored already: a job that cannot be
// queued costs the preview alone, and is logged.
func (s *Server) queuePreview(ctx context.Context, m chat.Message) {
	if s.previews == nil || m.Kind != chat.MessageText {
		return
	}
	link := markup.FirstLink(m.Spans)
	if link == "" {
		return
	}
	if _, err := unfurl.Check(link); err != nil {
		return
	}
	payload, err := json.Marshal(previewJob{Message: m.ID, URL: link})
	if err == nil {
		_, err = s.jobs.Enqueue(context.WithoutCancel(ctx), chat.Job{Kind: jobPreview, Payload: payload,
			MaxAttempts: previewAttempts, Key: "preview:" + strconv.FormatInt(m.ID, 10)})
	}
	if err != nil {
		s.log.Error("link preview lost: queueing failed", "message", m.ID, "err", err)
	}
}

// fetchPreview runs one preview job: the page's preview as kept (fetched
// less than a day ago, for whichever message), or fetched now, then shown
// under the message. A page that cannot be previewed is kept as an empty
// preview, so that it is not fetched again for a day, and the job is done:
// no preview is a normal outcome, not a failure for an admin to look at.
func (s *Server) fetchPreview(ctx context.Context, j chat.Job) error {
	var job previewJob
	if err := json.Unmarshal(j.Payload, &job); err != nil {
		return jobs.Permanent(fmt.Errorf("bad preview job: %w", err))
	}
	p, err := s.store.LinkPreview(ctx, job.URL)
	if err != nil && chat.ErrorCode(err) != chat.ENotFound {
		return err
	}
	if err != nil || time.Since(p.FetchedAt) >= chat.PreviewFresh {
		if p, err = s.unfurlPage(ctx, job.URL); err != nil {
			return err
		}
	}
	if p.Empty() {
		return nil
	}
	_, err = s.store.AttachPreview(ctx, job.Message, p.ID)
	switch {
	case err == nil, errors.Is(err, db.ErrPreviewGone):
		return nil
	case chat.ErrorCode(err) != chat.EInternal:
		return nil // the message or its room is gone, or archived
	}
	return err
}

// unfurlPage fetches a page and its picture and keeps its preview; only
// the store's errors are returned.
func (s *Server) unfurlPage(ctx context.Context, url string) (chat.LinkPreview, error) {
	p := chat.LinkPreview{URL: url, FetchedAt: time.Now()}
	page, err := s.previews.client.Page(ctx, url)
	if err != nil {
		s.log.Info("no link preview", "url", url, "err", err)
		return s.store.SaveLinkPreview(ctx, p, "", nil)
	}
	p.Title, p.Description, p.Site = page.Title, page.Description, page.Site
	var thumb media.Thumb
	if page.Image != "" {
		if thumb, err = s.previewThumb(ctx, page.Image); err != nil {
			s.log.Info("link preview without its picture", "url", url, "image", page.Image, "err", err)
		}
	}
	p.ImageWidth, p.ImageHeight = thumb.Width, thumb.Height
	return s.store.SaveLinkPreview(ctx, p, thumb.ContentType, thumb.Data)
}

// previewThumb fetches a page's picture and makes the thumbnail kept in its
// place, under the same checks and decode budget as an uploaded image's.
func (s *Server) previewThumb(ctx context.Context, url string) (media.Thumb, error) {
	data, ct, err := s.previews.client.Image(ctx, url)
	if err != nil {
		return media.Thumb{}, err
	}
	orientation, err := media.Strip(io.Discard, bytes.NewReader(data), ct)
	if err != nil {
		return media.Thumb{}, err
	}
	if _, _, err := media.Size(bytes.NewReader(data), ct, orientation); err != nil {
		return media.Thumb{}, err
	}
	cost, err := media.DecodeCost(bytes.NewReader(data), ct)
	if err != nil {
		return media.Thumb{}, err
	}
	if cost > s.decodeBudget {
		return media.Thumb{}, fmt.Errorf("%w: %s to decode", media.ErrTooCostly, chat.SizeText(cost))
	}
	if err := s.decodes.Acquire(ctx, cost); err != nil {
		return media.Thumb{}, err
	}
	defer s.decodes.Release(cost)
	return media.Thumbnail(bytes.NewReader(data), ct, orientation)
}

// handleRemovePreview takes a message's preview away, for its author: the
// change reaches every open page as the room's next event.
func (s *Server) handleRemovePreview(c echo.Context) error {
	u, _ := userFrom(c)
	m, a, err := s.messageAccess(c, u)
	if err != nil {
		return err
	}
	if !s.editLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		return chat.Errorf(chat.ERateLimit, "You are changing messages too fast. Please wait a moment.")
	}
	if _, err := s.store.RemovePreview(c.Request().Context(), m.ID, u); err != nil {
		return err
	}
	return backToRoom(c, a.room, m)
}

// handlePreviewImage serves the picture of a message's preview to those who
// may read the message.
func (s *Server) handlePreviewImage(c echo.Context) error {
	u, _ := userFrom(c)
	m, _, err := s.messageAccess(c, u)
	if err != nil {
		return err
	}
	ct, data, err := s.store.PreviewImage(c.Request().Context(), m.ID)
	if err != nil {
		return err
	}
	return servePicture(c, ct, data, "private, max-age=86400")
}

// servePicture serves a picture kept in the store (checked by its content
// when it was kept) so that nothing in it can run, even opened on its own.
func servePicture(c echo.Context, ct string, data []byte, cache string) error {
	h := c.Response().Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", fileCSP)
	h.Set("Cache-Control", cache)
	return c.Blob(http.StatusOK, ct, data)
}
