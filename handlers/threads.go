package handlers

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/views"
)

// maxReplies is the most replies a thread page shows.
const maxReplies = 1000

func threadPath(rootID int64) string { return "/threads/" + strconv.FormatInt(rootID, 10) }

// threadRoot loads the root of the thread in the path, and u's standing in
// its room: whoever may read the root may read its thread. A reply's id
// stands for its root's thread.
func (s *Server) threadRoot(c echo.Context, u chat.User) (chat.Message, access, error) {
	m, a, err := s.messageAccess(c, u)
	if err != nil {
		return m, a, err
	}
	if m.ThreadID != 0 {
		root, err := s.store.MessageByID(c.Request().Context(), m.ThreadID)
		return root, a, err
	}
	if m.Kind != chat.MessageText {
		return m, a, errNoMessage // a notice has no thread
	}
	return m, a, nil
}

// handleThread is /threads/{id}: the thread beside its room (on a phone, in
// its place), its replies read as they come.
func (s *Server) handleThread(c echo.Context) error {
	u, _ := userFrom(c)
	m, a, err := s.messageAccess(c, u)
	if err != nil {
		return err
	}
	if m.ThreadID != 0 {
		return c.Redirect(http.StatusSeeOther, threadPath(m.ThreadID)+"#message-"+strconv.FormatInt(m.ID, 10))
	}
	if m.Kind != chat.MessageText {
		return errNoMessage
	}
	a, err = s.opened(c, u, a)
	if err == errConfirmJoin {
		return s.confirmJoin(c, a.room)
	}
	if err != nil {
		return err
	}
	return s.renderThread(c, http.StatusOK, u, a, m, views.ThreadView{})
}

// renderThread renders the thread of root beside its room, with a refused
// reply's text and reason in t when a post failed. Showing it marks it read.
func (s *Server) renderThread(c echo.Context, status int, u chat.User, a access, root chat.Message, t views.ThreadView) error {
	ctx := c.Request().Context()
	replies, err := s.store.Replies(ctx, root.ID, 0, maxReplies)
	if err != nil {
		return err
	}
	if len(replies) > 0 {
		if err := s.store.MarkThreadRead(ctx, u.ID, root.ID, replies[len(replies)-1].ID); err != nil {
			return err
		}
	}
	if t.Following, err = s.store.Following(ctx, u.ID, root.ID); err != nil {
		return err
	}
	clientID, err := chat.NewToken()
	if err != nil {
		return err
	}
	t.Root, t.Replies, t.ClientMsgID = root, replies, clientID[:22]
	return s.renderRoom(c, status, u, a, window{thread: &t}, "", "")
}

// postReply answers a reply posted by a form: the thread again (303), or
// with htmx nothing (it comes back over the socket); a refused one shows
// its reason beside the reply composer, the text kept.
func (s *Server) postReply(c echo.Context, u chat.User, a access, in inThread) error {
	body := c.FormValue("body")
	m, _, err := s.send(c.Request().Context(), u, a.room, body, c.FormValue("client_msg_id"), nil, in)
	switch code := chat.ErrorCode(err); code {
	case "":
	case chat.EInvalid, chat.ERateLimit:
		if isHTMX(c) {
			return render(c, statusOf[code], views.ReplyError(chat.ErrorMessage(err)))
		}
		root, rerr := s.store.MessageByID(c.Request().Context(), in.root)
		if rerr != nil || root.RoomID != a.room.ID {
			return err
		}
		if root.ThreadID != 0 {
			if root, rerr = s.store.MessageByID(c.Request().Context(), root.ThreadID); rerr != nil {
				return err
			}
		}
		return s.renderThread(c, statusOf[code], u, a, root, views.ThreadView{
			Draft: strings.ToValidUTF8(body, "\uFFFD"), InRoom: in.inRoom, Error: chat.ErrorMessage(err)})
	default:
		return err
	}
	if isHTMX(c) {
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, threadPath(m.ThreadID)+"#message-"+strconv.FormatInt(m.ID, 10))
}

// replyTo reads where a posted message goes in a thread: thread_id (a
// message id) and also_to_room; none for a message of the room.
func replyTo(c echo.Context) (inThread, error) {
	return threadOf(c.FormValue("thread_id"), c.FormValue("also_to_room"))
}

// threadOf reads thread_id and also_to_room as a form (or a socket frame)
// sends them.
func threadOf(thread, also string) (inThread, error) {
	if thread == "" {
		return inThread{}, nil
	}
	id, err := strconv.ParseInt(thread, 10, 64)
	if err != nil || id <= 0 {
		return inThread{}, chat.Errorf(chat.EInvalid, "thread_id must be a message id.")
	}
	return inThread{root: id, inRoom: also == "1" || also == "on" || also == "true"}, nil
}

// handleThreads is /threads: the threads the user follows and may read,
// those with unread replies first, then by their latest activity.
func (s *Server) handleThreads(c echo.Context) error {
	u, _ := userFrom(c)
	ctx := c.Request().Context()
	followed, err := s.store.ThreadNav(ctx, u.ID)
	if err != nil {
		return err
	}
	var v views.ThreadsView
	for _, t := range followed {
		if !chat.Access(u, t.Room, t.Member).Read {
			continue
		}
		if len(v.Threads) == 200 {
			break
		}
		root, err := s.store.MessageByID(ctx, t.RootID)
		if err != nil {
			return err
		}
		item := views.ThreadItem{Root: root, Room: t.Room, Unread: t.Unread}
		if t.Room.IsDM() {
			if item.Peer, err = s.store.DMPeer(ctx, t.Room.ID, u.ID); err != nil {
				return err
			}
		}
		v.Threads = append(v.Threads, item)
	}
	slices.SortStableFunc(v.Threads, func(a, b views.ThreadItem) int {
		return cmp.Compare(min(b.Unread, 1), min(a.Unread, 1))
	})
	p, err := s.page(c, "Threads", 0)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ThreadsPage(p, v))
}

func (s *Server) handleFollow(c echo.Context) error   { return s.setFollowing(c, true) }
func (s *Server) handleUnfollow(c echo.Context) error { return s.setFollowing(c, false) }

// setFollowing follows a thread by hand, or stops: whoever may read it.
func (s *Server) setFollowing(c echo.Context, follow bool) error {
	u, _ := userFrom(c)
	root, _, err := s.threadRoot(c, u)
	if err != nil {
		return err
	}
	if err := s.store.SetFollowing(c.Request().Context(), u.ID, root.ID, follow); err != nil {
		return err
	}
	if isHTMX(c) {
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, threadPath(root.ID))
}

// threadsUnread is the unread replies of the threads u follows and may
// read, for the sidebar's Threads entry.
func (s *Server) threadsUnread(ctx context.Context, u chat.User) (int, error) {
	followed, err := s.store.ThreadNav(ctx, u.ID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range followed {
		if chat.Access(u, t.Room, t.Member).Read {
			n += t.Unread
		}
	}
	return n, nil
}

// socketThread reads ?thread= of a room socket: the root of a thread of the
// room open beside it (0 when none).
func (s *Server) socketThread(c echo.Context, room chat.Room) (int64, error) {
	id, err := queryInt(c, "thread", "thread must be a message id.")
	if err != nil || id < 0 {
		return 0, err
	}
	m, err := s.store.MessageByID(c.Request().Context(), id)
	if err != nil && chat.ErrorCode(err) == chat.EInternal {
		return 0, err
	}
	if err != nil || m.RoomID != room.ID || m.ThreadID != 0 {
		return 0, chat.Errorf(chat.EInvalid, "thread must be a thread of this room.")
	}
	return id, nil
}
