package handlers

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/views"
)

// pageSize is how many messages a room page and each older page show.
const pageSize = 50

func (s *Server) handleLobby(c echo.Context) error {
	p, err := s.page(c, "Lobby", 0)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.LobbyPage(p))
}

func (s *Server) handleCreateRoom(c echo.Context) error {
	u, _ := userFrom(c)
	if u.IsGuest {
		return chat.Errorf(chat.EForbidden, "Guests cannot create rooms.")
	}
	name, slug, err := chat.ValidateRoomName(c.FormValue("name"))
	if err != nil {
		return s.sideFormError(c, "room", c.FormValue("name"), err)
	}
	if !s.roomLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		// A public room reaches every sidebar online.
		return chat.Errorf(chat.ERateLimit, "You have created several rooms just now. Please wait a minute before creating another.")
	}
	ctx := c.Request().Context()
	room, err := s.store.CreateRoom(ctx, name, slug, c.FormValue("private") != "", u.ID)
	if err != nil {
		return s.sideFormError(c, "room", c.FormValue("name"), err)
	}
	return c.Redirect(http.StatusSeeOther, "/rooms/"+room.Slug)
}

// sideFormError answers a refused sidebar form (new room, message someone)
// with the lobby, the error beside the form and what was typed still in it,
// instead of an error page in place of everything. Errors of the server's own
// go to the error page as usual.
func (s *Server) sideFormError(c echo.Context, form, value string, err error) error {
	code := chat.ErrorCode(err)
	switch code {
	case chat.EInvalid, chat.EConflict, chat.ENotFound, chat.EForbidden, chat.ERateLimit:
	default:
		return err
	}
	p, perr := s.page(c, "Lobby", 0)
	if perr != nil {
		return perr
	}
	p.Side = views.SideForm{Form: form, Value: strings.ToValidUTF8(value, "\uFFFD"), Error: chat.ErrorMessage(err)}
	return render(c, statusOf[code], views.LobbyPage(p))
}

// pathRoom loads the room named in the path and tells whether u is a member.
func (s *Server) pathRoom(c echo.Context, u chat.User) (chat.Room, bool, error) {
	ctx := c.Request().Context()
	room, err := s.store.RoomBySlug(ctx, c.Param("slug"))
	if err != nil {
		return chat.Room{}, false, err
	}
	member, err := s.store.IsMember(ctx, room.ID, u.ID)
	return room, member, err
}

// errTooManyNotices refuses joins, leaves and member changes made faster
// than people make them: each one is a notice in the room.
var errTooManyNotices = chat.Errorf(chat.ERateLimit, "You are joining and leaving rooms too fast. Please wait a minute.")

// errNoRoom is the answer for a room that does not exist and for a private
// room the user is not in, alike, so that its name does not leak.
var errNoRoom = chat.Errorf(chat.ENotFound, "There is no such room.")

// roomFor loads the room named in the path and checks that the user may use
// it. Opening a public room joins it, unless another site's link opened it.
func (s *Server) roomFor(c echo.Context, u chat.User) (chat.Room, error) {
	room, member, err := s.pathRoom(c, u)
	if err != nil || member {
		return room, err
	}
	if !chat.CanRead(room, false) || (u.IsGuest && room.Private) {
		return room, errNoRoom
	}
	switch {
	case room.Archived:
		return room, nil // read-only: anyone who could read it reads it, and nobody joins
	case crossSite(c):
		return room, errConfirmJoin
	}
	return room, s.join(c.Request().Context(), u, room)
}

// errConfirmJoin stands in for a join that another site's link asked for.
var errConfirmJoin = chat.Errorf(chat.EForbidden, "You are not in this room. Open it from this site to join it.")

// crossSite reports whether another site's page sent the request (a link,
// a form, an image): such a request changes nothing by itself. Browsers
// that send no Sec-Fetch-Site are treated as the contract says (same site).
func crossSite(c echo.Context) bool {
	return c.Request().Header.Get("Sec-Fetch-Site") == "cross-site"
}

// handleJoin joins a public room by the user's own click: the button shown
// instead of joining when another site's link opened the room.
func (s *Server) handleJoin(c echo.Context) error {
	u, _ := userFrom(c)
	room, member, err := s.pathRoom(c, u)
	if err != nil {
		return err
	}
	if !member {
		if err := s.join(c.Request().Context(), u, room); err != nil {
			return err
		}
	}
	return c.Redirect(http.StatusSeeOther, "/rooms/"+room.Slug)
}

// join makes u a member of a public room and announces it.
func (s *Server) join(ctx context.Context, u chat.User, room chat.Room) error {
	if !chat.CanRead(room, false) || (u.IsGuest && room.Private) {
		return errNoRoom
	}
	if room.Archived {
		return chat.ErrArchived
	}
	if !s.noticeLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		return errTooManyNotices
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
	if err == errConfirmJoin {
		p, err := s.page(c, views.RoomTitle(room), 0)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, views.ConfirmOpenPage(p, views.RoomTitle(room),
			"You are not in "+views.RoomTitle(room)+" yet. Join it to read and post messages.",
			"/rooms/"+room.Slug+"/join", "Join "+views.RoomTitle(room)))
	}
	if err != nil {
		return err
	}
	return s.showRoom(c, u, room)
}

// showRoom answers GET for a room or direct conversation: the latest
// messages, those before ?before=, or those around ?around=.
func (s *Server) showRoom(c echo.Context, u chat.User, room chat.Room) error {
	before, err := optionalID(c, "before")
	if err != nil {
		return err
	}
	around, err := optionalID(c, "around")
	if err != nil {
		return err
	}
	return s.renderRoom(c, http.StatusOK, u, room, window{before: before, around: around}, "", "")
}

// window is which messages a room page shows: the latest by default.
type window struct{ before, around int64 }

// renderRoom renders the room page, with a refused draft and its error when
// a post failed. Showing the latest messages marks the room read; the
// "new messages" line goes where the reader had read up to.
func (s *Server) renderRoom(c echo.Context, status int, u chat.User, room chat.Room, w window, draft, errMsg string) error {
	ctx := c.Request().Context()
	v := views.RoomView{Room: room, Me: u.ID, Draft: draft, Error: errMsg, MaxUpload: s.maxUpload,
		CanManage: room.Private && !room.IsDM() && (room.CreatedBy == u.ID || u.IsAdmin), Clock: readerClock(c)}
	if !room.Archived {
		v.Online = s.hub.Online(room.ID) // an archived room's page has no socket, and shows nobody as here
	}
	// The room's place in its log is read before its messages: a client
	// may then be sent an event it has again, never miss one.
	var err error
	if v.Seq, err = s.store.RoomSeq(ctx, room.ID); err != nil {
		return err
	}
	switch {
	case w.around > 0:
		v.Messages, err = s.store.MessagesAround(ctx, room.ID, w.around, pageSize)
		v.Newer = true
		if err == nil && len(v.Messages) > 0 {
			var older []chat.Message
			older, err = s.store.Messages(ctx, room.ID, v.Messages[0].ID, 1)
			v.Older = len(older) > 0
		}
	default:
		v.Messages, err = s.store.Messages(ctx, room.ID, w.before, pageSize+1)
		if v.Older = len(v.Messages) > pageSize; v.Older {
			v.Messages = v.Messages[1:]
		}
		v.Newer = w.before > 0
	}
	if err != nil {
		return err
	}
	if !v.Newer {
		if v.LastRead, err = s.store.MarkRead(ctx, room.ID, u.ID, v.LastID()); err != nil {
			return err
		}
	}
	if room.IsDM() {
		if v.Peer, err = s.store.DMPeer(ctx, room.ID, u.ID); err != nil {
			return err
		}
	} else if v.Topic, err = s.store.RoomTopic(ctx, room.ID); err != nil {
		return err
	}
	if v.Members, err = s.store.RoomMembers(ctx, room.ID); err != nil {
		return err
	}
	clientID, err := chat.NewToken()
	if err != nil {
		return err
	}
	v.ClientMsgID = clientID[:22]
	p, err := s.page(c, v.Title(), room.ID)
	if err != nil {
		return err
	}
	// Pages of the room change with every message: never serve one from cache.
	c.Response().Header().Set("Cache-Control", "no-store")
	return render(c, status, views.RoomPage(p, v))
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
	return render(c, http.StatusOK, views.OlderMessages(room, msgs, more, readerClock(c)))
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
