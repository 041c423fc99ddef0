package handlers

import (
	"context"
	"strconv"

	"github.com/labstack/echo/v4"

	"agora/chat"
)

// The one loader every door uses: a conversation (by the slug in the path,
// by a message, by a file, or as the caller has it) with the user's
// membership and what chat.Access lets them do in it. Handlers ask its
// rights and never decide themselves.

// access is one user's standing in one conversation.
type access struct {
	room   chat.Room
	member bool
	chat.Rights
}

// errNoRoom is the answer for a room that does not exist and for a private
// room the user is not in, alike, so that its name does not leak.
var errNoRoom = chat.Errorf(chat.ENotFound, "There is no such room.")

// errNoMessage is errNoRoom for a message: one in a conversation the user
// cannot read does not exist for them.
var errNoMessage = chat.Errorf(chat.ENotFound, "There is no such message.")

// accessTo loads u's standing in room.
func (s *Server) accessTo(ctx context.Context, u chat.User, room chat.Room) (access, error) {
	member, err := s.store.IsMember(ctx, room.ID, u.ID)
	if err != nil {
		return access{}, err
	}
	return access{room: room, member: member, Rights: chat.Access(u, room, member)}, nil
}

// memberAccess is u's standing in a room they are known to be a member of.
func memberAccess(u chat.User, room chat.Room) access {
	return access{room: room, member: true, Rights: chat.Access(u, room, true)}
}

// pathAccess loads the room named in the path and u's standing in it. A
// room they may neither read nor join does not exist for them.
func (s *Server) pathAccess(c echo.Context, u chat.User) (access, error) {
	ctx := c.Request().Context()
	room, err := s.store.RoomBySlug(ctx, c.Param("slug"))
	if err != nil {
		return access{}, err
	}
	a, err := s.accessTo(ctx, u, room)
	if err == nil && !a.Read && !a.Join {
		return access{}, errNoRoom
	}
	return a, err
}

// messageAccess loads the message in the path, its conversation and u's
// standing there. A message they cannot read is "not found".
func (s *Server) messageAccess(c echo.Context, u chat.User) (chat.Message, access, error) {
	ctx := c.Request().Context()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return chat.Message{}, access{}, errNoMessage
	}
	m, err := s.store.MessageByID(ctx, id)
	if err != nil {
		return chat.Message{}, access{}, err
	}
	room, err := s.store.RoomByID(ctx, m.RoomID)
	if err != nil {
		return chat.Message{}, access{}, err
	}
	a, err := s.accessTo(ctx, u, room)
	if err == nil && !a.Read {
		return chat.Message{}, access{}, errNoMessage
	}
	return m, a, err
}

// deny answers an action that a's rights do not allow: a conversation the
// user cannot read does not exist for them, an archived one says it is
// read-only, and anything else is refused with why.
func (a access) deny(why string) error {
	switch {
	case !a.Read && !a.Join:
		return errNoRoom
	case a.room.Archived:
		return chat.ErrArchived
	}
	return chat.Errorf(chat.EForbidden, "%s", why)
}
