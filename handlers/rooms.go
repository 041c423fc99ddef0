package handlers

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/views"
)

// pageSize is how many messages a room page and each older page show.
const pageSize = 50

func (s *Server) handleHealth(c echo.Context) error {
	if err := s.store.Ping(c.Request().Context()); err != nil {
		s.log.Error("health check", "err", err)
		return c.String(http.StatusServiceUnavailable, "database unavailable")
	}
	return c.String(http.StatusOK, "ok")
}

func (s *Server) handleLobby(c echo.Context) error {
	p, err := s.page(c, "Lobby", 0)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.LobbyPage(p))
}

func (s *Server) handleCreateRoom(c echo.Context) error {
	u, _ := userFrom(c)
	name, slug, err := chat.ValidateRoomName(c.FormValue("name"))
	if err != nil {
		return err
	}
	room, err := s.store.CreateRoom(c.Request().Context(), name, slug, c.FormValue("private") != "", u.ID)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/rooms/"+room.Slug)
}

// roomFor loads the room named in the path and checks that the user may use
// it. A private room the user is not in answers "not found", like a room that
// does not exist, so its name does not leak. Opening a public room joins it.
func (s *Server) roomFor(c echo.Context, u chat.User) (chat.Room, error) {
	ctx := c.Request().Context()
	room, err := s.store.RoomBySlug(ctx, c.Param("slug"))
	if err != nil {
		return chat.Room{}, err
	}
	return room, s.enter(ctx, u, room)
}

// enter makes sure u may post in room, joining a public room if needed and
// announcing the join.
func (s *Server) enter(ctx context.Context, u chat.User, room chat.Room) error {
	member, err := s.store.IsMember(ctx, room.ID, u.ID)
	if err != nil {
		return err
	}
	if member {
		return nil
	}
	if !chat.CanRead(room, false) {
		return chat.Errorf(chat.ENotFound, "There is no such room.")
	}
	joined, err := s.store.Join(ctx, room.ID, u.ID)
	if err != nil || !joined {
		return err
	}
	return s.notice(ctx, u, room, u.Name()+" joined "+views.RoomTitle(room))
}

func (s *Server) handleRoom(c echo.Context) error {
	u, _ := userFrom(c)
	room, err := s.roomFor(c, u)
	if err != nil {
		return err
	}
	before, err := optionalID(c, "before")
	if err != nil {
		return err
	}
	return s.renderRoom(c, http.StatusOK, u, room, before, "", "")
}

// renderRoom renders the room page: the latest messages, or those before
// `before`; with a refused draft and its error when a post failed.
func (s *Server) renderRoom(c echo.Context, status int, u chat.User, room chat.Room, before int64, draft, errMsg string) error {
	ctx := c.Request().Context()
	msgs, err := s.store.Messages(ctx, room.ID, before, pageSize+1)
	if err != nil {
		return err
	}
	older := len(msgs) > pageSize
	if older {
		msgs = msgs[1:]
	}
	clientID, err := chat.NewToken()
	if err != nil {
		return err
	}
	p, err := s.page(c, views.RoomTitle(room), room.ID)
	if err != nil {
		return err
	}
	// Pages of the room change with every message: never serve one from cache.
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, status, views.RoomPage(p, views.RoomView{
		Room:        room,
		Messages:    msgs,
		Older:       older,
		Newer:       before > 0,
		Online:      s.hub.Online(room.ID),
		ClientMsgID: clientID[:22],
		Draft:       draft,
		Error:       errMsg,
	}))
}

func (s *Server) handleOlderMessages(c echo.Context) error {
	u, _ := userFrom(c)
	room, err := s.roomFor(c, u)
	if err != nil {
		return err
	}
	before, err := optionalID(c, "before")
	if err != nil {
		return err
	}
	msgs, err := s.store.Messages(c.Request().Context(), room.ID, before, pageSize+1)
	if err != nil {
		return err
	}
	more := len(msgs) > pageSize
	if more {
		msgs = msgs[1:]
	}
	return render(c, http.StatusOK, views.OlderMessages(room, msgs, more))
}

// optionalID reads a positive message id from the query; absent is 0.
func optionalID(c echo.Context, name string) (int64, error) {
	v := c.QueryParam(name)
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, chat.Errorf(chat.EInvalid, "%q is not a message id.", v)
	}
	return id, nil
}

// handleLeave ends the user's membership: the room says so, and the user's
// open sockets in it close (1008: they are not to reconnect).
func (s *Server) handleLeave(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	room, err := s.store.RoomBySlug(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	member, err := s.store.IsMember(ctx, room.ID, u.ID)
	if err != nil {
		return err
	}
	if !member {
		if !chat.CanRead(room, false) {
			return chat.Errorf(chat.ENotFound, "There is no such room.")
		}
		return c.Redirect(http.StatusSeeOther, "/")
	}
	// The notice goes out while the user is still a member, so it is theirs to post.
	if err := s.notice(ctx, u, room, u.Name()+" left "+views.RoomTitle(room)); err != nil {
		return err
	}
	if _, err := s.store.Leave(ctx, room.ID, u.ID); err != nil {
		return err
	}
	s.hub.CloseUserInRoom(room.ID, u.ID, chat.ClosePolicy, "you left this room")
	return c.Redirect(http.StatusSeeOther, "/")
}
