package handlers

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/chat/live"
	"agora/chat/live/relay"
	"agora/chat/markup"
	"agora/views"
	"agora/views/locale"
)

// sendMessage is the one path every message takes, whether it came from a
// socket frame, a form post or the API: authorise, validate, commit, render
// once, publish. It reports whether the message is new (false for a resend
// of a client_msg_id already stored, which returns the stored message).
func (s *Server) sendMessage(ctx context.Context, u chat.User, room chat.Room, body, clientID string) (chat.Message, bool, error) {
	return s.send(ctx, u, room, body, clientID, nil, inThread{})
}

// inThread is where a message goes in a thread: the root of its thread (0
// for a message of the room), and whether it is also sent to the room.
type inThread struct {
	root   int64
	inRoom bool
}

// send is sendMessage with an optional file (stored by Store.CreateFile, not
// yet sent), which the message carries (its body is then an optional
// caption), and the thread it replies in, if any.
func (s *Server) send(ctx context.Context, u chat.User, room chat.Room, body, clientID string, file *chat.File, in inThread) (chat.Message, bool, error) {
	// Asked again for every message, not only when a socket opened: a user
	// removed, or a room archived, since is stopped at once. (The store
	// refuses a room archived since, too.)
	a, err := s.accessTo(ctx, u, room)
	if err != nil {
		return chat.Message{}, false, err
	}
	if !a.Post {
		return chat.Message{}, false, a.deny("You are not a member of " + views.RoomTitle(room) + ".")
	}
	if file == nil || strings.TrimSpace(body) != "" {
		if body, err = chat.ValidateBody(chat.ReplaceShortcodes(body)); err != nil {
			return chat.Message{}, false, err
		}
	} else {
		body = ""
	}
	if err := chat.ValidateClientMsgID(clientID); err != nil {
		return chat.Message{}, false, err
	}
	if !s.postLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		return chat.Message{}, false, chat.Errorf(chat.ERateLimit, "You are sending messages too fast. Please wait a moment.")
	}
	// Parsed once here (its mentions are stored, its spans rendered and its
	// mentions notified from the same parse); committed, then rendered once
	// by the relay and delivered.
	m, err := s.mentionGroups(ctx, u, room, markup.Message(chat.Message{RoomID: room.ID, AuthorID: u.ID, Kind: chat.MessageText,
		Body: body, ClientMsgID: clientID, File: file, ThreadID: in.root, InRoom: in.inRoom}))
	if err != nil {
		return chat.Message{}, false, err
	}
	start := time.Now()
	m, created, err := s.store.CreateMessage(ctx, m)
	if err != nil {
		return chat.Message{}, false, err
	}
	s.metrics.CommitSeconds.Observe(time.Since(start).Seconds())
	s.typer.StopTyping(room.ID, u.ID)
	if created {
		s.queueWebhooks(ctx, m, room, u)
		s.queueNotify(ctx, m, room, u)
		s.queuePreview(ctx, m)
	}
	return m, created, nil
}

// notice posts a line the server writes about a user, such as a join.
func (s *Server) notice(ctx context.Context, u chat.User, room chat.Room, n chat.NoticeText) error {
	_, _, err := s.store.CreateMessage(ctx, chat.Message{RoomID: room.ID, AuthorID: u.ID, Kind: chat.MessageNotice, Body: english(n), Notice: &n})
	return err
}

// says is a notice's words: a "notice." catalog key and its placeholders'
// values, as name, value pairs. Each reader reads it in their language.
func says(key string, args ...string) chat.NoticeText { return chat.NoticeText{Key: key, Args: args} }

// english is what a notice says in English: its body, kept for the API,
// search and older readers.
func english(n chat.NoticeText) string { return locale.Text(locale.English, n.Key, n.Args...) }

// publisher takes what the store commits: the relay of a node alone, or
// the cluster, which hands it to the relay and to the other nodes.
type publisher interface {
	Publish([]chat.Event)
	PublishUser(chat.UserEvent)
}

// alone is the publisher of a node that serves alone: a cluster of one.
type alone struct{ r *relay.Relay }

func (a alone) Publish(events []chat.Event)   { a.r.Accept(events) }
func (a alone) PublishUser(ev chat.UserEvent) { a.r.AcceptUser(ev) }

// startRelay starts the node's relay: the store's writer signals each
// commit, and the relay renders each event once, in each room's order, for
// the hub. The writer renders and delivers nothing itself.
func (s *Server) startRelay(tailEvery time.Duration) {
	s.relay = relay.New(s.store, eventRenderer{s}, s.hub, relay.Options{
		TailEvery: tailEvery,
		Log:       s.log,
		OnRender: func(d time.Duration, created int) {
			s.metrics.FanoutSeconds.Observe(d.Seconds())
			s.metrics.MessagesCreated.Add(float64(created))
		},
	})
	var p publisher = alone{s.relay}
	s.publish.Store(&p)
	s.store.OnCommit(func(events []chat.Event) { (*s.publish.Load()).Publish(events) })
	s.store.OnUserEvent(func(ev chat.UserEvent) { (*s.publish.Load()).PublishUser(ev) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.relay.Start(ctx); err != nil {
		s.log.Error("relay: the rooms' places in their logs are unknown until the store answers", "err", err)
	}
}

// eventRenderer renders a room event for delivery, once for every receiver
// on this node: the relay's renderer.
type eventRenderer struct{ s *Server }

// Render renders the event's fragment for its room's sockets, and says
// what the sidebars of its members elsewhere count (see live's feed): the
// work of a message does not grow with the team.
func (r eventRenderer) Render(e chat.Event) live.Event {
	s := r.s
	ev := live.Event{RoomID: e.RoomID, Seq: e.Seq}
	// Parsed when it was sent; parsed here only if it came from elsewhere
	// (the store, another node).
	e.Message = markup.Message(e.Message)
	if e.Kind == chat.EventPreview && views.PreviewInPlace(e.Message) {
		// The preview alone: the message every page has already is not
		// sent again to the whole room for it.
		s.renderFrames(&ev, views.PreviewUpdate(e.Message, e.Seq))
		return ev
	}
	if e.IsUpdate() {
		s.renderFrames(&ev, views.UpdateFrame(e.Message, e.Seq))
		return ev
	}
	ev.MsgID = e.Message.ID
	s.renderFrames(&ev, views.NewMessageFrame(e.Message))
	if ch := e.Message.Change; ch != nil && (ch.Name != "" || ch.Archived != nil) {
		ev.Relist = true // renamed, archived or open again: listed anew
	}
	if e.Message.Kind == chat.MessageText {
		// A reply counts for those who follow its thread; in the room's
		// badge only when it was sent to the room too.
		ev.Unread, ev.Author = e.Message.InRoomList(), e.Message.AuthorID
		ev.Mentioned = e.Message.Mentions
		if len(e.Message.GroupMembers) > 0 {
			// Those a group mention reached: known when it was sent (the
			// store keeps them as mentions, for the counts read later).
			ev.Mentioned = append(slices.Clip(ev.Mentioned), e.Message.GroupMembers...)
		}
		ev.Thread = e.Message.ThreadID
	}
	return ev
}

// sidebarRenderer renders the sidebars the hub keeps for each user: per
// user and per tick, never per message (see live's feed). They are written
// in the user's language: the one their socket's page was (see
// handleSocket).
type sidebarRenderer struct{}

func (sidebarRenderer) Lists(u chat.User, rooms []chat.NavRoom, current int64, online map[int64]bool, threads int) []byte {
	return renderBytesIn(inLanguageOf(u), views.NavLists(views.Nav{Rooms: rooms, Current: current, Online: online, Creates: chat.MayCreateRooms(u) && chat.MayHoldDMs(u),
		Threads: threads}, true))
}

func (sidebarRenderer) Threads(u chat.User, unread int) []byte {
	return renderBytesIn(inLanguageOf(u), views.ThreadsCount(unread, true))
}

func (sidebarRenderer) Counts(u chat.User, room chat.NavRoom) []byte {
	return renderBytesIn(inLanguageOf(u), views.NavCounts(room, true))
}

func (s *Server) handlePostMessage(c echo.Context) error {
	u, _ := userFrom(c)
	a, err := s.roomFor(c, u)
	if err != nil {
		return err
	}
	room := a.room
	if strings.TrimSpace(c.FormValue("send_at")) != "" {
		return s.postLater(c, u, a)
	}
	in, err := replyTo(c)
	if err != nil {
		return err
	}
	if in.root != 0 {
		return s.postReply(c, u, a, in)
	}
	body := c.FormValue("body")
	res, err := s.compose(c.Request().Context(), u, room, body, c.FormValue("client_msg_id"), inThread{})
	switch code := chat.ErrorCode(err); code {
	case "":
	case chat.EInvalid, chat.ERateLimit:
		// The room again, with the reason and the text kept for another try.
		return s.renderRoom(c, statusOf[code], u, a, window{}, strings.ToValidUTF8(body, "\uFFFD"), chat.ErrorMessage(err))
	default:
		return err
	}
	if isHTMX(c) {
		return c.NoContent(http.StatusNoContent)
	}
	switch {
	case res.left:
		return c.Redirect(http.StatusSeeOther, "/")
	case res.command != "" && res.msg.ID == 0:
		// The room again, saying what the command did.
		return s.adminDone(c, "/rooms/"+room.Slug, res.said)
	}
	return c.Redirect(http.StatusSeeOther, "/rooms/"+room.Slug)
}
