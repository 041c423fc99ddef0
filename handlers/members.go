package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/chat/live"
	"agora/views"
)

// handleAddMember lets a member of a private room add someone by username.
func (s *Server) handleAddMember(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	room, member, err := s.pathRoom(c, u)
	if err != nil {
		return err
	}
	if !member || room.IsDM() {
		return errNoRoom
	}
	if room.Archived {
		return chat.ErrArchived
	}
	name := strings.TrimPrefix(strings.TrimSpace(c.FormValue("username")), "@")
	other, err := s.store.UserByUsername(ctx, name)
	if err != nil {
		return err
	}
	if other.IsGuest && room.Private {
		return chat.Errorf(chat.EInvalid, "Guests cannot join private rooms.")
	}
	if !s.noticeLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		return errTooManyNotices
	}
	added, err := s.store.Join(ctx, room.ID, other.ID)
	if err != nil {
		return err
	}
	if added {
		if err := s.notice(ctx, other, room, u.Name()+" added "+other.Name()+" to "+views.RoomTitle(room)); err != nil {
			return err
		}
	}
	return c.Redirect(http.StatusSeeOther, "/rooms/"+room.Slug)
}

// handleRemoveMember lets the creator of a private room (or an admin) take
// someone out of it: their open sockets there close, and the room leaves
// their sidebar at once.
func (s *Server) handleRemoveMember(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	room, member, err := s.pathRoom(c, u)
	if err != nil {
		return err
	}
	if !member || room.IsDM() || !room.Private {
		return errNoRoom
	}
	if room.Archived {
		return chat.ErrArchived
	}
	if room.CreatedBy != u.ID && !u.IsAdmin {
		return chat.Errorf(chat.EForbidden, "Only the room's creator can remove members.")
	}
	other, err := s.store.UserByUsername(ctx, strings.TrimPrefix(strings.TrimSpace(c.FormValue("username")), "@"))
	if err != nil {
		return err
	}
	if other.ID == u.ID {
		return chat.Errorf(chat.EInvalid, "To leave the room, use Leave.")
	}
	// Only a member can be removed: a notice about anyone else would be false.
	if isMember, err := s.store.IsMember(ctx, room.ID, other.ID); err != nil {
		return err
	} else if !isMember {
		return chat.Errorf(chat.EInvalid, "%s is not a member of %s.", other.Username, views.RoomTitle(room))
	}
	if !s.noticeLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		return errTooManyNotices
	}
	// Told while they are still a member, so the notice is in their hands too.
	if err := s.notice(ctx, other, room, u.Name()+" removed "+other.Name()+" from "+views.RoomTitle(room)); err != nil {
		return err
	}
	removed, err := s.store.Leave(ctx, room.ID, other.ID)
	if err != nil {
		return err
	}
	if removed {
		s.closer.CloseUserInRoom(room.ID, other.ID, live.ClosePolicy, "removed from this room")
	}
	return c.Redirect(http.StatusSeeOther, "/rooms/"+room.Slug)
}

// handleLeave ends the user's membership: the room says so, and the user's
// open sockets in it close (1008: they are not to reconnect).
func (s *Server) handleLeave(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	room, member, err := s.pathRoom(c, u)
	if err != nil {
		return err
	}
	if !member {
		if !chat.CanRead(room, false) {
			return errNoRoom
		}
		return c.Redirect(http.StatusSeeOther, "/")
	}
	if room.Archived {
		return chat.ErrArchived
	}
	if !s.noticeLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		return errTooManyNotices
	}
	// The notice goes out while the user is still a member, so it is theirs to post.
	if err := s.notice(ctx, u, room, u.Name()+" left "+views.RoomTitle(room)); err != nil {
		return err
	}
	if _, err := s.store.Leave(ctx, room.ID, u.ID); err != nil {
		return err
	}
	s.closer.CloseUserInRoom(room.ID, u.ID, live.ClosePolicy, "you left this room")
	return c.Redirect(http.StatusSeeOther, "/")
}
