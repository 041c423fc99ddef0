package handlers

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/chat/mrkdwn"
	"agora/views"
)

// Slack-compatible incoming webhooks. Admins make one for a room at
// /admin/hooks; its URL /hooks/{secret} is shown once. Whatever posts to
// Slack's incoming webhooks (CI, Grafana, Alertmanager, slack-go's
// PostWebhook) posts to it unchanged: the payload's text, blocks and
// attachments become one message from the hook's bot account, through the
// same message path as every message. Answers are Slack's: "ok", or a
// short error word with its status.

const hookPrefix = "/hooks/"

// defaultHookBot is the account a hook posts as when the admin names none.
const defaultHookBot = "webhook"

func isHook(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, hookPrefix) }

func (s *Server) handleAdminHooks(c echo.Context) error {
	return s.renderHooks(c, http.StatusOK, views.HooksView{OK: s.takeFlash(c)})
}

func (s *Server) renderHooks(c echo.Context, status int, v views.HooksView) error {
	ctx := c.Request().Context()
	hooks, err := s.store.IncomingHooks(ctx)
	if err != nil {
		return err
	}
	rooms, err := s.store.AdminRooms(ctx)
	if err != nil {
		return err
	}
	p, audit, err := s.adminPage(c, "Admin: hooks")
	if err != nil {
		return err
	}
	v.Hooks, v.Rooms = hooks, rooms
	c.Response().Header().Set("Cache-Control", "no-store") // it may show a secret
	return render(c, status, views.AdminHooksPage(p, v, audit))
}

func (s *Server) handleCreateHook(c echo.Context) error {
	u, _ := userFrom(c)
	ctx := c.Request().Context()
	slug := strings.TrimPrefix(strings.TrimSpace(c.FormValue("room")), "#")
	name := strings.TrimPrefix(strings.TrimSpace(c.FormValue("username")), "@")
	v := views.HooksView{Room: strings.ToValidUTF8(slug, ""), Username: strings.ToValidUTF8(name, "")}
	if name == "" {
		name = defaultHookBot
	}
	refuse := func(err error) error {
		code := chat.ErrorCode(err)
		if code == chat.EInternal {
			return err
		}
		v.Error = chat.ErrorMessage(err)
		return s.renderHooks(c, statusOf[code], v)
	}
	room, err := s.store.AdminRoom(ctx, slug)
	if chat.ErrorCode(err) == chat.ENotFound {
		err = chat.Errorf(chat.EInvalid, "Choose a room for the hook.")
	}
	if err != nil {
		return refuse(err)
	}
	if room.Archived {
		return refuse(chat.Errorf(chat.EInvalid, "%s is archived: nothing can be posted to it.", views.RoomTitle(room.Room)))
	}
	if err := chat.ValidateUsername(name); err != nil {
		return refuse(err)
	}
	// A new bot's name may not pass for someone else's; a hook bot's name
	// may be used again, by another hook.
	if _, err := s.store.UserByUsername(ctx, name); chat.ErrorCode(err) == chat.ENotFound {
		if taken, err := s.store.NameLooksTaken(ctx, name, 0); err != nil {
			return err
		} else if taken {
			return refuse(chat.Errorf(chat.EConflict, "The name %q looks too much like one that is taken.", name))
		}
	} else if err != nil {
		return err
	}
	secret, err := chat.NewToken()
	if err != nil {
		return err
	}
	hook, joined, err := s.store.CreateIncomingHook(ctx, room.ID, name, u.ID, chat.HashToken(secret))
	if err != nil {
		return refuse(err)
	}
	if joined {
		if err := s.notice(ctx, hook.Bot, hook.Room, says("notice.joined_hook", "Name", hook.Bot.Name(), "Room", views.RoomTitle(hook.Room))); err != nil {
			return err
		}
	}
	if err := s.audit(c, "made incoming hook", "#"+strconv.FormatInt(hook.ID, 10),
		"posts to "+views.RoomTitle(hook.Room)+" as "+hook.Bot.Username); err != nil {
		return err
	}
	return s.renderHooks(c, http.StatusCreated, views.HooksView{NewURL: s.origin(c) + hookPrefix + secret,
		OK: "The hook posts to " + views.RoomTitle(hook.Room) + " as " + hook.Bot.Username + "."})
}

func (s *Server) handleRevokeHook(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	hook, err := s.store.RevokeIncomingHook(c.Request().Context(), id)
	if code := chat.ErrorCode(err); code == chat.ENotFound {
		return s.renderHooks(c, http.StatusNotFound, views.HooksView{Error: chat.ErrorMessage(err)})
	} else if err != nil {
		return err
	}
	if err := s.audit(c, "revoked incoming hook", "#"+c.Param("id"), views.RoomTitle(hook.Room)); err != nil {
		return err
	}
	return s.adminDone(c, "/admin/hooks", "The hook is revoked: its URL answers 404 from now on.")
}

// hookError is a failed post to a hook, answered as Slack answers: a status
// and a short word in plain text.
func hookError(c echo.Context, status int, word string) error {
	return c.String(status, word)
}

// hookErrorResponse is handleError's branch for /hooks/: errors raised before
// the handler (a body over the limit, a refused origin) in Slack's words too.
func hookErrorResponse(c echo.Context, status int) {
	word := "invalid_payload"
	switch status {
	case http.StatusNotFound:
		word = "no_service"
	case http.StatusRequestEntityTooLarge:
		word = "request_too_large"
	case http.StatusForbidden:
		word = "action_prohibited"
	case http.StatusTooManyRequests:
		word = "rate_limited"
	case http.StatusMethodNotAllowed:
		word = "invalid_method"
	case http.StatusRequestTimeout:
		word = "request_timeout"
	}
	if status >= 500 {
		word = "internal_error"
	}
	_ = c.String(status, word)
}

// handleIncomingHook is POST /hooks/{secret}: Slack's incoming-webhook JSON
// (or the older form field payload=JSON) posted to the hook's room.
func (s *Server) handleIncomingHook(c echo.Context) error {
	ctx := c.Request().Context()
	hook, err := s.store.IncomingHookBySecret(ctx, chat.HashToken(c.Param("secret")))
	if chat.ErrorCode(err) == chat.ENotFound {
		return hookError(c, http.StatusNotFound, "no_service")
	}
	if err != nil {
		return err
	}
	key := strconv.FormatInt(hook.ID, 10)
	if !s.hookLimits.Allow(key) {
		wait := s.hookLimits.Delay(key)
		c.Response().Header().Set("Retry-After", strconv.Itoa(max(1, int(wait/time.Second)+1)))
		return hookError(c, http.StatusTooManyRequests, "rate_limited")
	}
	raw, err := incomingPayload(c)
	if err != nil {
		var he *echo.HTTPError
		if errors.As(err, &he) {
			hookErrorResponse(c, he.Code)
			return nil
		}
		return hookError(c, http.StatusBadRequest, "invalid_payload")
	}
	p, err := mrkdwn.Parse(raw)
	if err != nil {
		return hookError(c, http.StatusBadRequest, "invalid_payload")
	}
	body, err := p.Body()
	if err != nil {
		return hookError(c, http.StatusBadRequest, "no_text")
	}
	if hook.Bot.Deactivated {
		return hookError(c, http.StatusForbidden, "action_prohibited")
	}
	if hook.Room.Archived {
		return hookError(c, http.StatusGone, "channel_is_archived")
	}
	_, _, err = s.sendMessage(ctx, hook.Bot, hook.Room, truncateBody(body), "")
	switch code := chat.ErrorCode(err); {
	case err == nil:
	case errors.Is(err, chat.ErrArchived):
		return hookError(c, http.StatusGone, "channel_is_archived")
	case code == chat.ERateLimit:
		c.Response().Header().Set("Retry-After", "1")
		return hookError(c, http.StatusTooManyRequests, "rate_limited")
	case code == chat.EForbidden:
		// The bot was removed from the room.
		return hookError(c, http.StatusForbidden, "action_prohibited")
	case code == chat.EInvalid:
		return hookError(c, http.StatusBadRequest, "invalid_payload")
	default:
		return err
	}
	if now := time.Now(); now.Sub(hook.LastUsedAt) > time.Minute {
		if err := s.store.TouchIncomingHook(ctx, hook.ID, now); err != nil {
			s.log.Warn("touch incoming hook", "err", err) // the message is posted: worth a log line, not a failure
		}
	}
	return c.String(http.StatusOK, "ok")
}

// incomingPayload is the request's JSON: the body itself, or the payload field
// of a form (what Slack's older integrations send).
func incomingPayload(c echo.Context) ([]byte, error) {
	r := c.Request()
	mt, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if mt == echo.MIMEApplicationForm {
		// readForm has read the body already, within the body limit.
		if p := r.PostForm.Get("payload"); p != "" {
			return []byte(p), nil
		}
		return nil, errors.New("a form without payload")
	}
	return io.ReadAll(r.Body)
}

// truncateBody cuts a payload longer than a message may be, saying so, as
// Slack cuts long texts: the alert arrives, if shortened. Control characters
// a message may not hold (CI logs' colour codes) are dropped first.
func truncateBody(body string) string {
	body = strings.Map(func(r rune) rune {
		if r < ' ' && r != '\n' && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, strings.ToValidUTF8(body, "\uFFFD"))
	if utf8.RuneCountInString(body) <= chat.MaxBodyChars {
		return body
	}
	const more = "\n… (cut: the payload was longer than a message may be)"
	runes := []rune(body)
	return string(runes[:chat.MaxBodyChars-utf8.RuneCountInString(more)]) + more
}
