package handlers

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/chat/markup"
	"agora/views"
)

// backToRoom answers a form post about a message: htmx needs nothing (the
// change comes back over the socket), a plain browser goes back to the room,
// or to the thread of a reply.
func backToRoom(c echo.Context, room chat.Room, m chat.Message) error {
	if isHTMX(c) {
		return c.NoContent(http.StatusNoContent)
	}
	if m.ThreadID != 0 {
		return c.Redirect(http.StatusSeeOther, threadPath(m.ThreadID)+"#message-"+strconv.FormatInt(m.ID, 10))
	}
	return c.Redirect(http.StatusSeeOther, "/rooms/"+room.Slug+"#message-"+strconv.FormatInt(m.ID, 10))
}

// handleMessage shows what the reader may do with a message: as a menu in
// place (htmx), or on a page of its own.
func (s *Server) handleMessage(c echo.Context) error {
	u, _ := userFrom(c)
	m, a, err := s.messageAccess(c, u)
	if err != nil {
		return err
	}
	return s.renderMenu(c, u, m, a, "")
}

// renderMenu shows the reader's actions on m: the menu in place (htmx), or
// the message's page; said is what the last action did.
func (s *Server) renderMenu(c echo.Context, u chat.User, m chat.Message, a access, said string) error {
	pinned, saved, err := s.store.Marks(c.Request().Context(), u.ID, m.ID)
	if err != nil {
		return err
	}
	act := views.MenuActions{CanEdit: a.CanEdit(u, m), CanDelete: a.CanDelete(u, m), CanPin: a.CanPin(m),
		Pinned: pinned, Saved: saved, Said: said}
	if isHTMX(c) {
		return render(c, http.StatusOK, views.MessageMenu(m, a.room, act))
	}
	p, err := s.page(c, "Message", a.room.ID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.MessagePage(p, a.room, m, act))
}

func (s *Server) handleViewMessage(c echo.Context) error {
	u, _ := userFrom(c)
	m, _, err := s.messageAccess(c, u)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Message(m))
}

func (s *Server) handleEditPage(c echo.Context) error {
	u, _ := userFrom(c)
	m, a, err := s.messageAccess(c, u)
	if err != nil {
		return err
	}
	if !a.CanEdit(u, m) {
		return a.deny(errNotAuthor)
	}
	return s.renderEdit(c, http.StatusOK, u, m, a.room, m.Body, "")
}

func (s *Server) renderEdit(c echo.Context, status int, u chat.User, m chat.Message, room chat.Room, draft, errMsg string) error {
	if isHTMX(c) {
		return render(c, status, views.EditForm(m, room.Slug, draft, errMsg))
	}
	p, err := s.page(c, "Edit message", room.ID)
	if err != nil {
		return err
	}
	return render(c, status, views.EditPage(p, m, room.Slug, draft, errMsg))
}

func (s *Server) handleEdit(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	m, a, err := s.messageAccess(c, u)
	if err != nil {
		return err
	}
	room := a.room
	draft := c.FormValue("body")
	body, err := chat.ValidateBody(chat.ReplaceShortcodes(draft))
	if err == nil {
		m, err = s.editMessage(ctx, u, a, m, body)
	}
	switch code := chat.ErrorCode(err); code {
	case "":
	case chat.EInvalid, chat.ERateLimit:
		return s.renderEdit(c, statusOf[code], u, m, room, draft, chat.ErrorMessage(err))
	default:
		return err
	}
	if isHTMX(c) {
		// The editor's form becomes the message again.
		return render(c, http.StatusOK, views.Message(m))
	}
	return backToRoom(c, room, m)
}

func (s *Server) handleDelete(c echo.Context) error {
	u, _ := userFrom(c)
	m, a, err := s.messageAccess(c, u)
	if err != nil {
		return err
	}
	if m, err = s.deleteMessage(c.Request().Context(), u, a, m); err != nil {
		return err
	}
	return backToRoom(c, a.room, m)
}

// handleDeletePage asks before deleting, for a browser without JavaScript:
// the menu's delete form GETs this page, whose form POSTs.
func (s *Server) handleDeletePage(c echo.Context) error {
	u, _ := userFrom(c)
	m, a, err := s.messageAccess(c, u)
	if err != nil {
		return err
	}
	if !a.CanDelete(u, m) {
		return a.deny(errNotAuthorOrAdmin)
	}
	p, err := s.page(c, "Delete message", a.room.ID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.DeletePage(p, a.room, m))
}

func (s *Server) handleReaction(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	m, a, err := s.messageAccess(c, u)
	if err != nil {
		return err
	}
	emoji := c.FormValue("emoji")
	if err := s.validReaction(ctx, emoji); err != nil {
		return err
	}
	if m, err = s.toggleReaction(ctx, u, a, m, emoji); err != nil {
		return err
	}
	return backToRoom(c, a.room, m)
}

// The changes to a message, for the forms and the API alike: each asks the
// access policy, then spends the user's own limit for it (the same whatever
// the door: an API token's budget only narrows it), then the store checks
// the message's rules again and commits the change as an event of the room,
// which the relay renders once and sends to every open page of the room.

const (
	errNotAuthor        = "Only its author can edit a message."
	errNotAuthorOrAdmin = "Only its author or an admin can delete a message."
)

var (
	errEditingTooFast  = chat.Errorf(chat.ERateLimit, "You are editing too fast. Please wait a moment and save again.")
	errReactingTooFast = chat.Errorf(chat.ERateLimit, "You are reacting too fast. Please wait a moment.")
)

// editMessage changes the text of u's message to body (already validated).
func (s *Server) editMessage(ctx context.Context, u chat.User, a access, m chat.Message, body string) (chat.Message, error) {
	if !a.CanEdit(u, m) {
		return m, a.deny(errNotAuthor)
	}
	if !s.editLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		// Every edit is broadcast to the room.
		return m, errEditingTooFast
	}
	edited, err := s.mentionGroups(ctx, u, a.room, markup.Message(chat.Message{Kind: chat.MessageText, Body: body}))
	if err != nil {
		return m, err
	}
	return s.store.EditMessage(ctx, m.ID, u, body, append(slices.Clip(edited.Mentions), edited.GroupMembers...), edited.Groups)
}

// deleteMessage deletes a message, if u wrote it or moderates the room.
func (s *Server) deleteMessage(ctx context.Context, u chat.User, a access, m chat.Message) (chat.Message, error) {
	if !a.CanDelete(u, m) {
		return m, a.deny(errNotAuthorOrAdmin)
	}
	return s.store.DeleteMessage(ctx, m.ID, u)
}

// toggleReaction adds u's emoji (already validated) to the message, or takes it away.
func (s *Server) toggleReaction(ctx context.Context, u chat.User, a access, m chat.Message, emoji string) (chat.Message, error) {
	if !a.CanReact(m) {
		return m, a.deny("This message takes no reactions.")
	}
	key := strconv.FormatInt(u.ID, 10)
	if !s.reactLimits.Allow(key) || !s.postLimits.Allow(key) {
		return m, errReactingTooFast
	}
	return s.store.ToggleReaction(ctx, m.ID, u, emoji)
}

// limitDelay is how long u waits for their next change of a kind: what an
// API answer's Retry-After says.
func (s *Server) limitDelay(u chat.User, sets ...*limiterSet) time.Duration {
	var d time.Duration
	for _, set := range sets {
		d = max(d, set.Delay(strconv.FormatInt(u.ID, 10)))
	}
	return d
}
