package handlers

import (
	"context"
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
	a, err := s.pathAccess(c, u)
	if err != nil {
		return err
	}
	if _, err := s.addMember(ctx, u, a, c.FormValue("username")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/rooms/"+a.room.Slug)
}

// addMember adds the user named (with or without @) to the room, by u (the
// form and /invite): only who may invite, only someone who could read the
// room as a member. It reports whether they were added (false: already in).
func (s *Server) addMember(ctx context.Context, u chat.User, a access, name string) (bool, error) {
	room := a.room
	if !a.Invite {
		return false, a.deny("Only members can add people to " + views.RoomTitle(room) + ".")
	}
	name = strings.TrimPrefix(strings.TrimSpace(name), "@")
	other, err := s.store.UserByUsername(ctx, name)
	if err != nil {
		return false, err
	}
	// Nobody is made a member of a room they could not read as one.
	if !chat.Access(other, room, true).Read {
		if chat.Guest(other) {
			return false, chat.Errorf(chat.EInvalid, "Guests cannot join private rooms.")
		}
		return false, chat.Errorf(chat.EInvalid, "%s cannot be added to %s.", other.Username, views.RoomTitle(room))
	}
	if !s.noticeLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		return false, errTooManyNotices
	}
	added, err := s.store.Join(ctx, room.ID, other.ID)
	if err != nil {
		return false, err
	}
	if added {
		if err := s.notice(ctx, other, room, says("notice.added", "Name", u.Name(), "Other", other.Name(), "Room", views.RoomTitle(room))); err != nil {
			return false, err
		}
	}
	return added, nil
}

// handleRemoveMember lets the creator of a private room (or an admin) take
// someone out of it: their open sockets there close, and the room leaves
// their sidebar at once.
func (s *Server) handleRemoveMember(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	a, err := s.pathAccess(c, u)
	if err != nil {
		return err
	}
	room := a.room
	if !a.Manage {
		return a.deny("Only the room's creator can remove members.")
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
	if err := s.notice(ctx, other, room, says("notice.removed", "Name", u.Name(), "Other", other.Name(), "Room", views.RoomTitle(room))); err != nil {
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
	a, err := s.pathAccess(c, u)
	if err != nil {
		return err
	}
	if err := s.leaveRoom(ctx, u, a); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

// leaveRoom takes u out of the room (the form and /leave), with a notice;
// their sockets there close. Not a member: nothing to do.
func (s *Server) leaveRoom(ctx context.Context, u chat.User, a access) error {
	room := a.room
	if !a.member {
		return nil
	}
	if !a.Leave {
		return a.deny("You cannot leave " + views.RoomTitle(room) + ".")
	}
	if !s.noticeLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		return errTooManyNotices
	}
	// The notice goes out while the user is still a member, so it is theirs to post.
	if err := s.notice(ctx, u, room, says("notice.left", "Name", u.Name(), "Room", views.RoomTitle(room))); err != nil {
		return err
	}
	if _, err := s.store.Leave(ctx, room.ID, u.ID); err != nil {
		return err
	}
	s.closer.CloseUserInRoom(room.ID, u.ID, live.ClosePolicy, "you left this room")
	return nil
}
