package handlers

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/views"
	"agora/views/locale"
)

// pageSize is how many messages a room page and each older page show.
const pageSize = 50

func (s *Server) handleLobby(c echo.Context) error {
	p, err := s.page(c, "Lobby", 0)
	if err != nil {
		return err
	}
	rooms, err := s.browseRooms(c, "")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.LobbyPage(p, rooms))
}

// handleRoomBrowser is /rooms: every room the user may join or is in,
// those whose name holds ?q= when given.
func (s *Server) handleRoomBrowser(c echo.Context) error {
	p, err := s.page(c, "Browse rooms", 0)
	if err != nil {
		return err
	}
	rooms, err := s.browseRooms(c, c.QueryParam("q"))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.RoomsPage(p, rooms))
}

// browseRooms lists the room browser's rooms for the signed-in user; a
// guest sees the public rooms alone.
func (s *Server) browseRooms(c echo.Context, q string) (views.RoomsView, error) {
	u, _ := userFrom(c)
	q = strings.TrimSpace(strings.ToValidUTF8(q, ""))
	if len([]rune(q)) > 64 {
		q = string([]rune(q)[:64])
	}
	all, err := s.store.BrowseRooms(c.Request().Context(), u.ID)
	if err != nil {
		return views.RoomsView{}, err
	}
	v := views.RoomsView{Query: q, Total: len(all)}
	needle := strings.ToLower(q)
	for _, r := range all {
		if a := chat.Access(u, r.Room, r.Member); !a.Read && !a.Join {
			continue
		}
		if needle == "" || strings.Contains(strings.ToLower(r.Name), needle) || strings.Contains(r.Slug, needle) {
			v.Rooms = append(v.Rooms, r)
		}
	}
	return v, nil
}

func (s *Server) handleCreateRoom(c echo.Context) error {
	u, _ := userFrom(c)
	if !chat.MayCreateRooms(u) {
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
	rooms, rerr := s.browseRooms(c, "")
	if rerr != nil {
		return rerr
	}
	return render(c, statusOf[code], views.LobbyPage(p, rooms))
}

// errTooManyNotices refuses joins, leaves and member changes made faster
// than people make them: each one is a notice in the room.
var errTooManyNotices = chat.Errorf(chat.ERateLimit, "You are joining and leaving rooms too fast. Please wait a minute.")

// roomFor loads the room named in the path for reading, with u's standing
// in it. Opening a public room joins it, unless another site's link opened it.
func (s *Server) roomFor(c echo.Context, u chat.User) (access, error) {
	a, err := s.pathAccess(c, u)
	if err != nil {
		return a, err
	}
	return s.opened(c, u, a)
}

// opened is u's standing in a room they open (its page, a thread of it):
// opening a public room joins it, unless another site's link opened it.
func (s *Server) opened(c echo.Context, u chat.User, a access) (access, error) {
	if a.member || a.room.Archived {
		// An archived room is read by whoever may read it, and nobody joins it.
		return a, nil
	}
	if !a.Join {
		return a, errNoRoom
	}
	if crossSite(c) {
		return a, errConfirmJoin
	}
	return s.join(c.Request().Context(), u, a)
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
	a, err := s.pathAccess(c, u)
	if err != nil {
		return err
	}
	if a, err = s.join(c.Request().Context(), u, a); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/rooms/"+a.room.Slug)
}

// join makes u a member of a public room, if they are not one, and
// announces it; it returns their standing as a member.
func (s *Server) join(ctx context.Context, u chat.User, a access) (access, error) {
	if a.member {
		return a, nil
	}
	if !a.Join {
		return a, a.deny("You cannot join " + views.RoomTitle(a.room) + ".")
	}
	if !s.noticeLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		return a, errTooManyNotices
	}
	room := a.room
	joined, err := s.store.Join(ctx, room.ID, u.ID)
	if err != nil {
		return a, err
	}
	if joined {
		if err := s.notice(ctx, u, room, says("notice.joined", "Name", u.Name(), "Room", views.RoomTitle(room))); err != nil {
			return a, err
		}
	}
	return memberAccess(u, room), nil
}

func (s *Server) handleRoom(c echo.Context) error {
	u, _ := userFrom(c)
	a, err := s.roomFor(c, u)
	room := a.room
	if err == errConfirmJoin {
		return s.confirmJoin(c, room)
	}
	if err != nil {
		return err
	}
	return s.showRoom(c, u, a)
}

// confirmJoin asks before joining a room another site's link opened.
func (s *Server) confirmJoin(c echo.Context, room chat.Room) error {
	p, err := s.page(c, views.RoomTitle(room), 0)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ConfirmOpenPage(p, views.RoomTitle(room),
		"You are not in "+views.RoomTitle(room)+" yet. Join it to read and post messages.",
		"/rooms/"+room.Slug+"/join", "Join "+views.RoomTitle(room)))
}

// showRoom answers GET for a room or direct conversation: the latest
// messages, those before ?before=, or those around ?around=.
func (s *Server) showRoom(c echo.Context, u chat.User, a access) error {
	before, err := optionalID(c, "before")
	if err != nil {
		return err
	}
	around, err := optionalID(c, "around")
	if err != nil {
		return err
	}
	// ?quote= (a message's Quote link without JavaScript): the composer
	// comes with that message of this room quoted.
	draft := ""
	if quote, err := optionalID(c, "quote"); err != nil {
		return err
	} else if quote > 0 {
		m, err := s.store.MessageByID(c.Request().Context(), quote)
		if err != nil && chat.ErrorCode(err) != chat.ENotFound {
			return err
		}
		if err == nil && m.RoomID == a.room.ID && m.Kind == chat.MessageText && !m.Deleted() && m.Body != "" {
			draft = chat.Quote(m.Body)
		}
	}
	return s.renderRoom(c, http.StatusOK, u, a, window{before: before, around: around}, draft, "")
}

// window is which messages a room page shows: the latest by default; and
// the thread open beside them, if any.
type window struct {
	before, around int64
	thread         *views.ThreadView
}

// renderRoom renders the room page, with a refused draft and its error when
// a post failed. Showing the latest messages marks the room read; the
// "new messages" line goes where the reader had read up to.
func (s *Server) renderRoom(c echo.Context, status int, u chat.User, a access, w window, draft, errMsg string) error {
	ctx := c.Request().Context()
	room := a.room
	v := views.RoomView{Room: room, Me: u.ID, Draft: draft, Error: errMsg, MaxUpload: s.maxUpload,
		CanManage: a.Manage, Clock: readerClock(c), Said: s.takeFlash(c), BotCommands: s.commandInfos(ctx)}
	if !room.Archived {
		v.Online = s.hub.Online(room.ID) // an archived room's page has no socket, and shows nobody as here
	}
	// The room's place in its log is read before its messages: a client
	// may then be sent an event it has again, never miss one.
	seq, people, err := s.store.RoomVersion(ctx, room.ID)
	if err != nil {
		return err
	}
	v.Seq = seq
	key := listKey{room: room.ID, seq: seq, people: people, slug: room.Slug, before: w.before, around: w.around}
	list := s.lists.get(key)
	if list == nil {
		if list, err = s.roomList(ctx, room, w); err != nil {
			return err
		}
		s.lists.put(key, list)
	}
	v.Messages, v.Older, v.Newer = list.msgs, list.older, list.newer
	if !v.Newer {
		if v.LastRead, err = s.store.MarkRead(ctx, room.ID, u.ID, v.LastID()); err != nil {
			return err
		}
	}
	if room.IsDM() {
		if v.Peer, err = s.store.DMPeer(ctx, room.ID, u.ID); err != nil {
			return err
		}
	}
	if a.member {
		if v.Notify, err = s.store.RoomNotify(ctx, room.ID, u.ID); err != nil {
			return err
		}
		// A room of more than chat.ReceiptRoomMax members shows no receipts:
		// its member list at this version says so without reading every
		// member's read marker (a third of the page's CPU in a room of 200).
		if !v.Newer && len(list.members) <= chat.ReceiptRoomMax {
			if err = s.pageReceipts(ctx, &v, room, u.ID); err != nil {
				return err
			}
		}
	}
	online := make(map[int64]bool, len(v.Online))
	for _, o := range v.Online {
		online[o.ID] = true
	}
	v.Topic = list.topic
	v.Members = s.withPresence(ctx, list.members, func(id int64) bool { return online[id] || id == u.ID })
	if v.Peer.ID != 0 {
		v.Peer = s.withPresence(ctx, []chat.User{v.Peer}, func(id int64) bool { return online[id] || s.hub.OnlineSet([]int64{id})[id] })[0]
	}
	clientID, err := chat.NewToken()
	if err != nil {
		return err
	}
	v.ClientMsgID = clientID[:22]
	title := v.Title()
	if v.Thread = w.thread; v.Thread != nil {
		title = locale.F(ctx, "thread.title_in", "Room", title)
	}
	p, err := s.page(c, title, room.ID)
	if err != nil {
		return err
	}
	// Both are rendered in the reader's language, which their keys name.
	v.Rendered = s.lists.render(list, v.ListLook(), func() []byte { return renderBytesIn(ctx, views.RoomMessages(v)) })
	v.RenderedMembers = s.lists.renderMembers(list, v.MembersKey(), func() []byte { return renderBytesIn(ctx, views.RoomMembers(v)) })
	// Pages of the room change with every message: never serve one from cache.
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.renderPieces(c, status, views.RoomPage(p, v))
}

// roomList reads what a room page shows of the room: its messages in
// window w, its topic and its members.
func (s *Server) roomList(ctx context.Context, room chat.Room, w window) (*roomList, error) {
	l := &roomList{}
	var err error
	if !room.IsDM() {
		if l.topic, err = s.store.RoomTopic(ctx, room.ID); err != nil {
			return nil, err
		}
	}
	if l.members, err = s.store.RoomMembers(ctx, room.ID); err != nil {
		return nil, err
	}
	roomID := room.ID
	if w.around > 0 {
		l.msgs, err = s.store.MessagesAround(ctx, roomID, w.around, pageSize)
		l.newer = true
		if err == nil && len(l.msgs) > 0 {
			var older []chat.Message
			older, err = s.store.Messages(ctx, roomID, l.msgs[0].ID, 1)
			l.older = len(older) > 0
		}
		return l, err
	}
	l.msgs, err = s.store.Messages(ctx, roomID, w.before, pageSize+1)
	if l.older = len(l.msgs) > pageSize; l.older {
		l.msgs = l.msgs[1:]
	}
	l.newer = w.before > 0
	return l, err
}

func (s *Server) handleOlderMessages(c echo.Context) error {
	u, _ := userFrom(c)
	a, err := s.roomFor(c, u)
	if err != nil {
		return err
	}
	room := a.room
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
