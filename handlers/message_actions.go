package handlers

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/chat/markup"
	"agora/views"
)

// messageFor loads the message in the path and its room, and checks the user
// may read that room. Someone else's private message is "not found".
func (s *Server) messageFor(c echo.Context, u chat.User) (chat.Message, chat.Room, error) {
	ctx := c.Request().Context()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return chat.Message{}, chat.Room{}, chat.Errorf(chat.ENotFound, "There is no such message.")
	}
	m, err := s.store.MessageByID(ctx, id)
	if err != nil {
		return chat.Message{}, chat.Room{}, err
	}
	room, err := s.store.RoomByID(ctx, m.RoomID)
	if err != nil {
		return chat.Message{}, chat.Room{}, err
	}
	member, err := s.store.IsMember(ctx, room.ID, u.ID)
	if err != nil {
		return chat.Message{}, chat.Room{}, err
	}
	if !chat.CanRead(room, member) || (u.IsGuest && room.Private) {
		return chat.Message{}, chat.Room{}, chat.Errorf(chat.ENotFound, "There is no such message.")
	}
	return m, room, nil
}

// backToRoom answers a form post about a message: htmx needs nothing (the
// change comes back over the socket), a plain browser goes back to the room.
func backToRoom(c echo.Context, room chat.Room, id int64) error {
	if isHTMX(c) {
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, "/rooms/"+room.Slug+"#message-"+strconv.FormatInt(id, 10))
}

// handleMessage shows what the reader may do with a message: as a menu in
// place (htmx), or on a page of its own.
func (s *Server) handleMessage(c echo.Context) error {
	u, _ := userFrom(c)
	m, room, err := s.messageFor(c, u)
	if err != nil {
		return err
	}
	canEdit, canDelete := chat.CanEdit(u, m), chat.CanDelete(u, m)
	if isHTMX(c) {
		return render(c, http.StatusOK, views.MessageMenu(m, room, canEdit, canDelete))
	}
	p, err := s.page(c, "Message", room.ID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.MessagePage(p, room, m, canEdit, canDelete))
}

func (s *Server) handleViewMessage(c echo.Context) error {
	u, _ := userFrom(c)
	m, _, err := s.messageFor(c, u)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Message(m))
}

func (s *Server) handleEditPage(c echo.Context) error {
	u, _ := userFrom(c)
	m, room, err := s.messageFor(c, u)
	if err != nil {
		return err
	}
	if !chat.CanEdit(u, m) {
		return chat.Errorf(chat.EForbidden, "Only its author can edit a message.")
	}
	return s.renderEdit(c, http.StatusOK, u, m, room, m.Body, "")
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
	m, room, err := s.messageFor(c, u)
	if err != nil {
		return err
	}
	draft := c.FormValue("body")
	body, err := chat.ValidateBody(chat.ReplaceShortcodes(draft))
	if err == nil && !s.editLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		// Every edit is broadcast to the room.
		err = chat.Errorf(chat.ERateLimit, "You are editing too fast. Please wait a moment and save again.")
	}
	if err != nil {
		return s.renderEdit(c, statusOf[chat.ErrorCode(err)], u, m, room, draft, chat.ErrorMessage(err))
	}
	if m, err = s.editMessage(ctx, u, m, body); err != nil {
		return err
	}
	if isHTMX(c) {
		// The editor's form becomes the message again.
		return render(c, http.StatusOK, views.Message(m))
	}
	return backToRoom(c, room, m.ID)
}

func (s *Server) handleDelete(c echo.Context) error {
	u, _ := userFrom(c)
	m, room, err := s.messageFor(c, u)
	if err != nil {
		return err
	}
	if m, err = s.deleteMessage(c.Request().Context(), u, m); err != nil {
		return err
	}
	return backToRoom(c, room, m.ID)
}

// handleDeletePage asks before deleting, for a browser without JavaScript:
// the menu's delete form GETs this page, whose form POSTs.
func (s *Server) handleDeletePage(c echo.Context) error {
	u, _ := userFrom(c)
	m, room, err := s.messageFor(c, u)
	if err != nil {
		return err
	}
	if m.Deleted() || m.Kind != chat.MessageText || (m.AuthorID != u.ID && !u.IsAdmin) {
		return chat.Errorf(chat.EForbidden, "Only its author or an admin can delete a message.")
	}
	p, err := s.page(c, "Delete message", room.ID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.DeletePage(p, room, m))
}

func (s *Server) handleReaction(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	m, room, err := s.messageFor(c, u)
	if err != nil {
		return err
	}
	emoji := c.FormValue("emoji")
	if err := chat.ValidateEmoji(emoji); err != nil {
		return err
	}
	if !s.reactLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		return chat.Errorf(chat.ERateLimit, "You are reacting too fast. Please wait a moment.")
	}
	if m, err = s.toggleReaction(ctx, u, m, emoji); err != nil {
		return err
	}
	return backToRoom(c, room, m.ID)
}

// The changes to a message, for the forms and the API alike: the store
// checks who may make them and commits each as an event of the room, which
// publishCommitted renders once and sends to every open page of the room.

// editMessage changes the text of u's message to body (already validated).
func (s *Server) editMessage(ctx context.Context, u chat.User, m chat.Message, body string) (chat.Message, error) {
	return s.store.EditMessage(ctx, m.ID, u, body, markup.Mentions(body))
}

// deleteMessage deletes a message, if u wrote it or is an admin.
func (s *Server) deleteMessage(ctx context.Context, u chat.User, m chat.Message) (chat.Message, error) {
	return s.store.DeleteMessage(ctx, m.ID, u)
}

// toggleReaction adds u's emoji (already validated) to the message, or takes it away.
func (s *Server) toggleReaction(ctx context.Context, u chat.User, m chat.Message, emoji string) (chat.Message, error) {
	if !s.postLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		return chat.Message{}, chat.Errorf(chat.ERateLimit, "You are reacting too fast. Please wait a moment.")
	}
	return s.store.ToggleReaction(ctx, m.ID, u, emoji)
}
