package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/chat/jobs"
	"agora/chat/netguard"
	"agora/chat/webpush"
)

// Web Push: a browser subscribes from the notification settings (the
// service worker /sw.js shows what arrives); a message that concerns a
// member who is not looking at it is pushed to each of their subscriptions
// by a job, never on the message path.

const (
	jobPush      = "push"
	pushAttempts = 6
	// pushTTL is how long a push service keeps a push for a browser that is
	// offline: news older than that is in the sidebar anyway.
	pushTTL = 12 * time.Hour
	// pushBodyMax is how much of a message a push shows.
	pushBodyMax = 200
)

// pushes is the server's Web Push state: the VAPID keys (made on first
// start, kept in the store, the same on every node) and the sender using
// them.
type pushes struct {
	subject string
	private bool
	timeout time.Duration

	mu     sync.Mutex
	keys   *webpush.Keys
	sender *webpush.Sender
}

// pushJob is one push to one subscription.
type pushJob struct {
	Sub     int64           `json:"sub"`
	Message int64           `json:"message"`
	Data    json.RawMessage `json:"data"` // what the service worker shows: title, body, url, tag
}

// pushData is what the service worker receives.
type pushData struct {
	Title string `json:"title"`
	Body  string `json:"body"`
	URL   string `json:"url"`
	Tag   string `json:"tag"`
}

func (s *Server) startPush(subject string, allowPrivate bool, timeout time.Duration) {
	s.push = &pushes{subject: subject, private: allowPrivate, timeout: timeout}
	s.jobs.Handle(jobPush, s.sendPush)
}

// pushSender returns the sender, reading (or making) the VAPID keys once.
func (s *Server) pushSender(ctx context.Context) (*webpush.Sender, webpush.Keys, error) {
	p := s.push
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.keys != nil {
		return p.sender, *p.keys, nil
	}
	fresh, err := webpush.NewKeys()
	if err != nil {
		return nil, webpush.Keys{}, err
	}
	kept, err := s.store.ServerKey(ctx, "vapid", fresh.Bytes())
	if err != nil {
		return nil, webpush.Keys{}, err
	}
	keys, err := webpush.ParseKeys(kept)
	if err != nil {
		return nil, webpush.Keys{}, err
	}
	p.keys, p.sender = &keys, webpush.NewSender(keys, p.subject, p.private, p.timeout)
	return p.sender, keys, nil
}

// queuePush adds a push job for each subscription of each member a new
// message concerns (the notify job calls it), unless the member has the
// conversation open on a page they can see, does not want to be disturbed,
// or is in their quiet time.
func (s *Server) queuePush(ctx context.Context, m chat.Message, room chat.Room, author chat.User) error {
	if m.Kind != chat.MessageText {
		return nil
	}
	// A member of a mentioned group is mentioned too.
	subs, settings, err := s.store.PushTargets(ctx, room.ID, m.AuthorID, room.IsDM(), append(slices.Clip(m.Mentions), m.GroupMembers...))
	if err != nil {
		return fmt.Errorf("push: targets: %w", err)
	}
	if len(subs) == 0 {
		return nil
	}
	users := make([]int64, 0, len(settings))
	for id := range settings {
		users = append(users, id)
	}
	open := s.hub.LookingAt(room.ID, users)
	sts, err := s.store.Statuses(ctx, users)
	if err != nil {
		return fmt.Errorf("push: statuses: %w", err)
	}
	data, _ := json.Marshal(s.pushDataOf(m, room, author))
	now := s.status.now()
	var batch []chat.Job
	for _, sub := range subs {
		if open[sub.UserID] || sts[sub.UserID].DND(now) || settings[sub.UserID].Quiet(now) {
			continue
		}
		payload, _ := json.Marshal(pushJob{Sub: sub.ID, Message: m.ID, Data: data})
		batch = append(batch, chat.Job{Kind: jobPush, Payload: payload, RunAt: time.Now(), MaxAttempts: pushAttempts,
			Key: fmt.Sprintf("push:%d:%d", sub.ID, m.ID)})
	}
	if len(batch) == 0 {
		return nil
	}
	if _, err := s.jobs.Enqueue(ctx, batch...); err != nil {
		return fmt.Errorf("push: queueing: %w", err)
	}
	return nil
}

// pushDataOf is what a push of m says: who wrote where, the start of the
// text, and the conversation to open.
func (s *Server) pushDataOf(m chat.Message, room chat.Room, author chat.User) pushData {
	title := author.Name()
	if !room.IsDM() {
		title += " in #" + room.Name
	}
	body := m.Body
	if utf8.RuneCountInString(body) > pushBodyMax {
		r := []rune(body)
		body = string(r[:pushBodyMax-1]) + "…"
	}
	id := strconv.FormatInt(m.ID, 10)
	return pushData{Title: title, Body: body, URL: "/rooms/" + room.Slug + "?around=" + id + "#message-" + id, Tag: "room-" + strconv.FormatInt(room.ID, 10)}
}

// sendPush runs a push job. A subscription its push service no longer
// knows is deleted; a refusal that will not change fails the job at once;
// anything else is tried again with backoff.
func (s *Server) sendPush(ctx context.Context, j chat.Job) error {
	var job pushJob
	if err := json.Unmarshal(j.Payload, &job); err != nil {
		return jobs.Permanent(fmt.Errorf("bad push job: %w", err))
	}
	sub, err := s.store.PushSubscriptionByID(ctx, job.Sub)
	if chat.ErrorCode(err) == chat.ENotFound {
		return nil // unsubscribed since
	}
	if err != nil {
		return err
	}
	sender, _, err := s.pushSender(ctx)
	if err != nil {
		return err
	}
	err = sender.Send(ctx, webpush.Subscription{Endpoint: sub.Endpoint, P256dh: sub.P256dh, Auth: sub.Auth}, job.Data, pushTTL,
		"m"+strconv.FormatInt(job.Message, 36))
	var refused *webpush.PermanentError
	switch {
	case errors.Is(err, webpush.ErrGone):
		return s.store.DropPushSubscription(ctx, sub.ID)
	case errors.As(err, &refused):
		return jobs.Permanent(err)
	}
	return err
}

// handlePushKey answers the VAPID public key browsers subscribe with.
func (s *Server) handlePushKey(c echo.Context) error {
	_, keys, err := s.pushSender(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"key": keys.PublicKey()})
}

// browserSubscription is a PushSubscription as a browser's toJSON() gives it.
type browserSubscription struct {
	Endpoint string `json:"endpoint"`
	Keys     struct {
		P256dh string `json:"p256dh"`
		Auth   string `json:"auth"`
	} `json:"keys"`
}

// handlePushSubscribe keeps a browser's subscription for the signed-in user.
func (s *Server) handlePushSubscribe(c echo.Context) error {
	u, _ := userFrom(c)
	if u.IsGuest || u.IsBot {
		return s.jsonError(c, chat.Errorf(chat.EForbidden, "Guests and bots get no pushes."))
	}
	var b browserSubscription
	if err := readJSON(c, &b); err != nil {
		return s.jsonError(c, err)
	}
	sub := webpush.Subscription{Endpoint: b.Endpoint, P256dh: b.Keys.P256dh, Auth: b.Keys.Auth}
	if err := webpush.ValidSubscription(sub, s.push.private); err != nil {
		return s.jsonError(c, chat.Errorf(chat.EInvalid, "This push subscription cannot be used: %s.", err))
	}
	if err := s.pushEndpointAllowed(b.Endpoint); err != nil {
		return s.jsonError(c, err)
	}
	if err := s.store.AddPushSubscription(c.Request().Context(), u.ID, chat.PushSubscription{Endpoint: sub.Endpoint, P256dh: sub.P256dh, Auth: sub.Auth}); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]bool{"subscribed": true})
}

// pushEndpointAllowed refuses an endpoint written as a loopback or private
// address unless -push-private; a name is checked as it is dialled.
func (s *Server) pushEndpointAllowed(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return chat.Errorf(chat.EInvalid, "The endpoint is not a URL.")
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil && !s.push.private && !netguard.Public(ip) {
		return chat.Errorf(chat.EInvalid, "%s", (&netguard.RefusedError{Addr: ip, Allow: "-push-private"}).Error())
	}
	if !s.push.private && (host == "localhost" || strings.HasSuffix(host, ".localhost")) {
		return chat.Errorf(chat.EInvalid, "Push endpoints on this machine are refused (the operator may allow them with -push-private).")
	}
	return nil
}

// handlePushUnsubscribe forgets one of the user's subscriptions, by its
// endpoint (JSON {"endpoint"} or the form field endpoint).
func (s *Server) handlePushUnsubscribe(c echo.Context) error {
	u, _ := userFrom(c)
	endpoint := c.FormValue("endpoint")
	if endpoint == "" {
		var b browserSubscription
		if err := readJSON(c, &b); err != nil {
			return s.jsonError(c, err)
		}
		endpoint = b.Endpoint
	}
	if err := s.store.DeletePushSubscription(c.Request().Context(), u.ID, endpoint); err != nil {
		return s.jsonError(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// jsonError answers err as the API does ({"error": {"code", "message"}}):
// these routes are called by the page's script, not shown as pages.
func (s *Server) jsonError(c echo.Context, err error) error {
	s.apiErrorResponse(err, c)
	return nil
}

// handleServiceWorker serves /sw.js from the root, so that its scope is
// the whole site; never cached for long, so a new version takes over.
func (s *Server) handleServiceWorker(c echo.Context) error {
	if s.assets == nil {
		return echo.ErrNotFound
	}
	b, err := fs.ReadFile(s.assets, "sw.js")
	if err != nil {
		return echo.ErrNotFound
	}
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", b)
}
