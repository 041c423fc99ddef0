package handlers

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"agora/chat"
	"agora/chat/live"
	"agora/handlers/frame"
	"agora/views"
)

const (
	// socketReadLimit bounds one frame: a 4,000-character body of 4-byte
	// characters, JSON-escaped, with htmx's headers, fits with room to spare.
	socketReadLimit = 48 << 10
	// backlogCap is the most missed messages sent on a reconnect; a client
	// further behind gets the latest page in place of its list instead.
	backlogCap = 500
	pingEvery  = 25 * time.Second
	pingWait   = 15 * time.Second
	writeWait  = 10 * time.Second
)

// handleSocket serves a room's WebSocket. On connect it subscribes first, then
// sends what the client missed (?after=id), so no message falls in between;
// then it writes queued frames and reads the client's frames until either
// side closes.
func (s *Server) handleSocket(c echo.Context) error {
	u, _ := userFrom(c)
	a, err := s.pathAccess(c, u)
	if err != nil {
		return err
	}
	room := a.room
	if !a.member {
		return errNoRoom
	}
	if !a.Post {
		return a.deny("You cannot use this room.") // an archived room's page reads without a socket
	}
	// ?after= is the last message id the page has; ?seq= (from app.js) its
	// place in the room's log, which also covers edits, deletes and
	// reactions it saw after that message.
	after, err := queryInt(c, "after", "after must be a message id.")
	if err != nil {
		return err
	}
	seq, err := queryInt(c, "seq", "seq must be a number.")
	if err != nil {
		return err
	}
	thread, err := s.socketThread(c, room)
	if err != nil {
		return err
	}
	// Refused before the upgrade, while a page can still say why.
	release, refused := s.sockets.acquire(u.ID, c.RealIP())
	if refused != "" {
		return chat.Errorf(chat.ERateLimit, "%s", refused)
	}
	// Accept checks that Origin matches Host: the handshake is a GET, so this
	// is what keeps other sites' pages from using a visitor's session.
	hijack := &smallBuffers{ResponseWriter: c.Response()}
	conn, err := websocket.Accept(hijack, c.Request(), &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		release()
		return nil // Accept has answered (403 for a foreign Origin); the error is the client's.
	}
	// From here on the connection is hijacked: never return an error to Echo.
	conn.SetReadLimit(socketReadLimit)
	s.touchActive(c.Request().Context(), u) // opening a room is activity: they show as active as they arrive
	// The sidebar the hub keeps for u is written in the language of the
	// page this socket is of.
	u.Language = langOf(c).Code()
	sub, err := s.hub.SubscribeThread(room.ID, thread, u, sessionFrom(c))
	if err != nil {
		release()
		conn.Close(websocket.StatusServiceRestart, "server restarting")
		return nil
	}
	s.metrics.SocketsOpen.Inc()
	// The socket outlives the request: its context is its own.
	sctx, cancel := context.WithCancel(withReaderZone(context.Background(), c))
	if after >= 0 || seq >= 0 {
		if err := s.sendBacklog(sctx, conn, sub, room, after, seq); err != nil {
			s.log.Error("socket backlog", "room", room.Slug, "user", u.Username, "err", err)
			conn.Close(live.CloseInternal, "could not load messages")
			s.hub.Unsubscribe(sub)
			s.metrics.SocketsOpen.Dec()
			cancel()
			release()
			return nil
		}
		// A page that catches up may have missed sidebar changes too.
		s.hub.SidebarFor(sub)
	}
	// The socket's life goes on in fresh goroutines and this one returns: its
	// stack grew deep serving the request, and a goroutine that waits on a
	// socket for hours should not keep that.
	go func() {
		defer release()
		defer cancel()
		s.serveSocket(sctx, conn, hijack.out, sub, room)
	}()
	return nil
}

// serveSocket runs an open socket until either side closes it. This
// goroutine reads the client's frames; writes run in a goroutine that
// exists only while frames wait (socket.flush), and pings on a timer, so an
// idle socket holds one goroutine.
func (s *Server) serveSocket(ctx context.Context, conn *websocket.Conn, out *gatheringConn, sub *live.Subscriber, room chat.Room) {
	k := s.openSocket(conn, out, sub)
	defer k.release()

	code, reason := s.readLoop(ctx, conn, sub, room, &k.busy)
	s.closeSocket(k, &room, code, reason)
}

// closeSocket closes a socket whose reader has ended.
//
//go:noinline
func (s *Server) closeSocket(k *socket, room *chat.Room, code websocket.StatusCode, reason string) {
	if code == 0 {
		code, reason = websocket.StatusNormalClosure, ""
	}
	// The writer closes the socket, with this code unless the hub closed the
	// subscriber first (shutdown, eviction, logout): one close, one reason.
	k.sub.Close(int(code), reason)
	<-k.closed
	s.markReadOnClose(*room, k.sub.User, k.sub.Thread)
}

// openSocket sets up the write side of a socket. (Out of serveSocket, as
// markReadOnClose is, to keep an idle socket's stack small: see readLoop.)
//
//go:noinline
func (s *Server) openSocket(conn *websocket.Conn, out *gatheringConn, sub *live.Subscriber) *socket {
	k := &socket{srv: s, conn: conn, out: out, sub: sub, closed: make(chan struct{})}
	// A write that takes too long means a client that stopped reading: the
	// watchdog closes the connection under it. One timer for the socket's
	// life, and writes with a context that never ends, so that a write
	// allocates nothing (a context with a deadline per write did, for every
	// receiver of every message).
	k.watchdog = time.AfterFunc(time.Hour, func() { conn.CloseNow() })
	k.watchdog.Stop()
	k.ping = time.AfterFunc(s.pingEvery, k.pingOnce)
	sub.Notify(k.wake)
	return k
}

// release is the end of a socket's life: its timers stop, it leaves the
// hub, and it is no longer counted.
func (k *socket) release() {
	k.ping.Stop()
	k.watchdog.Stop()
	k.srv.hub.Unsubscribe(k.sub)
	k.srv.metrics.SocketsOpen.Dec()
}

// markReadOnClose marks what arrived while the room was open as seen: it is
// not unread when the reader moves on. (A function of its own, as is
// handleFrame: what it needs is not held on the stack of every idle socket.)
func (s *Server) markReadOnClose(room chat.Room, u chat.User, thread int64) {
	mctx, mcancel := context.WithTimeout(context.Background(), writeWait)
	defer mcancel()
	latest, err := s.store.LatestID(mctx, room.ID)
	if err == nil {
		_, err = s.store.MarkRead(mctx, room.ID, u.ID, latest)
	}
	if err == nil && thread != 0 {
		// The thread open beside the room was read as it came too.
		if latest, err = s.store.LatestReplyID(mctx, thread); err == nil && latest > 0 {
			err = s.store.MarkThreadRead(mctx, u.ID, thread, latest)
		}
	}
	if err != nil {
		s.log.Error("mark read on close", "room", room.Slug, "user", u.Username, "err", err)
	}
}

// socket is the write side of an open room socket.
type socket struct {
	srv      *Server
	conn     *websocket.Conn
	out      *gatheringConn // under conn's write buffer
	sub      *live.Subscriber
	watchdog *time.Timer
	ping     *time.Timer
	writing  atomic.Bool   // a flush goroutine is running
	busy     atomic.Bool   // the reader is handling a frame, not reading
	closed   chan struct{} // closed once the close frame is written
}

// drainBuffers hold the frames of one write while several are joined. They
// are shared by all sockets, not kept by each: most sockets are idle, and
// one that kept the buffer of its last write held it for hours.
var drainBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// wake starts a flush goroutine unless one is running.
func (k *socket) wake() {
	if k.writing.CompareAndSwap(false, true) {
		go k.flush()
	}
}

// flush writes the subscriber's waiting frames, several per WebSocket
// message when they queue up, until none wait; or writes the close frame
// once the subscriber is closed (by the hub: too slow, shutdown, logout; or
// by the reader).
func (k *socket) flush() {
	for {
		select {
		case <-k.sub.Done():
			code, reason := k.sub.CloseStatus()
			k.srv.countEviction(code, reason)
			k.conn.Close(websocket.StatusCode(code), reason)
			close(k.closed)
			return // writing stays true: nothing is written after the close
		default:
		}
		buf := drainBuffers.Get().(*[]byte)
		msg, next := k.sub.Drain((*buf)[:0])
		if len(msg) == 0 {
			drainBuffers.Put(buf)
			k.writing.Store(false)
			// What came between the drain and the store found a writer and
			// did not start one: look again.
			if !k.sub.Pending() || !k.writing.CompareAndSwap(false, true) {
				return
			}
			continue
		}
		// Counted before it is written: a client may read it before Write
		// returns, and a scrape that follows must see it. (A write that fails
		// ends the socket.)
		k.srv.metrics.Deliveries.Inc()
		out := drainBuffers.Get().(*[]byte)
		*out = (*out)[:0]
		k.out.gather(out)
		k.watchdog.Reset(writeWait)
		err := k.conn.Write(context.Background(), websocket.MessageText, msg)
		if serr := k.out.send(); err == nil {
			err = serr
		}
		k.watchdog.Stop()
		// A burst's buffers go back to the collector, not to the pool.
		if cap(next) <= 64<<10 {
			*buf = next
			drainBuffers.Put(buf)
		}
		if cap(*out) <= 64<<10 {
			drainBuffers.Put(out)
		}
		if err != nil {
			k.sub.Close(live.CloseTryAgainLater, reasonWriteFailed)
			k.conn.CloseNow()
			continue // on to the close
		}
	}
}

// pingOnce pings the client; one that does not answer in time is closed
// (1013: it may come back and catch up).
func (k *socket) pingOnce() {
	// A pong must come back before the next ping is due.
	ctx, cancel := context.WithTimeout(context.Background(), min(pingWait, k.srv.pingEvery))
	defer cancel()
	if err := k.conn.Ping(ctx); err != nil {
		select {
		case <-k.sub.Done():
			return // closed meanwhile: not a missing pong
		default:
		}
		if k.busy.Load() {
			// The client sent a frame the reader is still handling: it is
			// there, and its pong waits behind that frame.
			k.ping.Reset(k.srv.pingEvery)
			return
		}
		k.sub.Close(live.CloseTryAgainLater, reasonNoPong)
		k.conn.CloseNow()
		return
	}
	k.ping.Reset(k.srv.pingEvery)
}

// queryInt reads a non-negative number from the query; absent is -1.
func queryInt(c echo.Context, name, problem string) (int64, error) {
	v := c.QueryParam(name)
	if v == "" {
		return -1, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, chat.Errorf(chat.EInvalid, "%s", problem)
	}
	return n, nil
}

// sendBacklog writes, after subscribing, what the client missed: every
// room event after the last one it has (new messages, and the last state
// of each message changed since), or the latest page when that is too far
// behind. It sets the subscriber's floor, so live frames it already holds
// for those events are skipped. A fresh sidebar, whose counts may have
// moved while it was away, follows from the hub (see live's feed).
func (s *Server) sendBacklog(ctx context.Context, conn *websocket.Conn, sub *live.Subscriber, room chat.Room, after, seq int64) error {
	if seq < 0 {
		var err error
		if seq, err = s.store.SeqAt(ctx, room.ID, after); err != nil {
			return err
		}
	}
	events, err := s.store.EventsAfter(ctx, room.ID, seq, backlogCap+1)
	if err != nil {
		return err
	}
	var frame []byte
	if len(events) > backlogCap {
		// Read before the page, so the floor never passes what it shows.
		top, err := s.store.RoomSeq(ctx, room.ID)
		if err != nil {
			return err
		}
		latest, err := s.store.Messages(ctx, room.ID, 0, pageSize+1)
		if err != nil {
			return err
		}
		more := len(latest) > pageSize
		if more {
			latest = latest[1:]
		}
		frame = renderBytesIn(inLanguageOf(sub.User), views.ReloadFrame(room, latest, more))
		var lastID int64
		if len(latest) > 0 {
			lastID = latest[len(latest)-1].ID
		}
		sub.SetFloor(top, lastID)
	} else {
		frame = backlogFrame(inLanguageOf(sub.User), events, after)
		if len(events) > 0 {
			var lastID int64
			for _, e := range events {
				if !e.IsUpdate() {
					lastID = e.Message.ID
				}
			}
			sub.SetFloor(events[len(events)-1].Seq, max(after, lastID))
		} else {
			sub.SetFloor(seq, after)
		}
	}
	if len(frame) == 0 {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, writeWait)
	defer cancel()
	if err := conn.Write(wctx, websocket.MessageText, frame); err != nil {
		return err
	}
	s.metrics.Deliveries.Inc()
	return nil
}

// backlogFrame renders missed events in order, each message once: a new
// message as it stands now, and for a message the client has, its latest
// change only. The client has the messages up to id after already. They
// are written in the language ctx carries: the socket's.
func backlogFrame(ctx context.Context, events []chat.Event, after int64) []byte {
	lastSeq := make(map[int64]int64, len(events)) // message id -> its last event here
	sentNew := make(map[int64]bool)
	for _, e := range events {
		lastSeq[e.Message.ID] = e.Seq
		if !e.IsUpdate() && e.Message.ID > after {
			sentNew[e.Message.ID] = true
		}
	}
	var buf bytes.Buffer
	for _, e := range events {
		m := e.Message
		switch {
		case !e.IsUpdate():
			if sentNew[m.ID] {
				m.Seq = lastSeq[m.ID] // it stands as of its last event
				buf.Write(renderBytesIn(ctx, views.NewMessageFrame(m)))
			}
		case sentNew[m.ID], lastSeq[m.ID] != e.Seq:
			// Sent above as it stands, or changed again later in this backlog.
		default:
			buf.Write(renderBytesIn(ctx, views.UpdateFrame(m, e.Seq)))
		}
	}
	return buf.Bytes()
}

// Why this server closes a socket with 1013; the hub's 1013 is a full queue.
const (
	reasonWriteFailed = "write failed"
	reasonNoPong      = "no pong"
)

// countEviction counts a socket closed with 1013, once, by why: every socket
// ends in flush's close, whoever closed its subscriber first.
func (s *Server) countEviction(code int, reason string) {
	if code != live.CloseTryAgainLater {
		return
	}
	switch reason {
	case reasonWriteFailed:
		s.metrics.EvictedWriteFailed.Inc()
	case reasonNoPong:
		s.metrics.EvictedNoPong.Inc()
	default:
		s.metrics.EvictedSlow.Inc()
	}
}

// readLoop handles the client's frames until the socket closes or a frame is
// refused; it returns the close code for a refusal, or 0.
//
// An idle socket's goroutine waits in this loop for hours: its stack is the
// socket's largest cost after its buffers. So the loop itself holds little
// (handleFrame does the work), and a goroutine blocked in Read stays within
// 4 KiB. Go starts new goroutines with the average stack in use, rounded up
// to a power of two: had it grown past that, every socket would take 8 KiB.
func (s *Server) readLoop(ctx context.Context, conn *websocket.Conn, sub *live.Subscriber, room chat.Room, busy *atomic.Bool) (websocket.StatusCode, string) {
	// This socket's frames, typing included. The bucket is deep: frames are
	// counted as they are read, so a client whose frames queued up behind a
	// stall (its network, or a busy server) arrives in a burst, and an honest
	// client must not be closed for that (1008 means "do not come back").
	limit := rate.NewLimiter(20, 300)
	for {
		// A context that never ends: the read ends when the socket closes,
		// and the library then sets up no timer per read.
		busy.Store(false)
		typ, data, err := conn.Read(context.Background())
		// A pong is read only while this goroutine waits in Read: while it
		// handles a frame (a message waiting for its commit), a ping's
		// answer waits too, and the client is not to blame.
		busy.Store(true)
		if err != nil {
			// Closed by the client, over the read limit (the library has
			// already closed with 1009), or closed by us from writeLoop.
			return 0, ""
		}
		if code, reason := s.handleFrame(ctx, sub, room, limit, typ, data); code != 0 {
			return code, reason
		}
	}
}

// handleFrame handles one frame of the client's; it returns the close code
// for a refusal, or 0.
//
//go:noinline
func (s *Server) handleFrame(ctx context.Context, sub *live.Subscriber, room chat.Room, limit *rate.Limiter, typ websocket.MessageType, data []byte) (websocket.StatusCode, string) {
	u := sub.User
	f, code, reason := frame.Decode(typ, data)
	if code != 0 {
		return code, reason
	}
	if !limit.Allow() || !s.frameLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		return live.ClosePolicy, "too many frames"
	}
	trigger := f.Headers["HX-Trigger"]
	if trigger != "visibility" || f.Visible != "0" {
		s.touchActive(ctx, u) // anything the person sends is activity (but turning away)
	}
	// Membership is checked on every frame, not only at connect, so a
	// user who left or was removed is stopped at once: sendMessage checks
	// it for a message, and a typing signal checks it here.
	var err error
	switch trigger {
	case "composer", "reply-composer":
		var res composed
		var in inThread
		in, err = threadOf(f.ThreadID, f.AlsoToRoom)
		switch {
		case err != nil:
		case strings.TrimSpace(f.SendAt) != "" && in.root != 0:
			err = chat.Errorf(chat.EInvalid, "A reply in a thread is sent at once: clear the time to send it.")
		case strings.TrimSpace(f.SendAt) != "":
			// Scheduled: told to the caller alone, as a command is.
			var said string
			if _, said, err = s.scheduleMessage(ctx, u, room, f.Body, f.SendAt); err == nil {
				sub.Send(live.Frame{Data: renderBytesIn(inLanguageOf(u), views.CommandSaid(f.ClientMsgID, said))})
			}
		default:
			res, err = s.compose(ctx, u, room, f.Body, f.ClientMsgID, in)
		}
		if err == nil && res.command != "" && res.msg.ID == 0 && !res.left {
			// Told to the caller alone; the text leaves their composer.
			sub.Send(live.Frame{Data: renderBytesIn(inLanguageOf(u), views.CommandSaid(f.ClientMsgID, res.said))})
		}
	case "visibility":
		// No push of what this page shows while it is visible; hidden, it
		// is as if closed (see Server.queuePush).
		sub.SetHidden(f.Visible == "0")
	case "read-signal":
		err = s.readSignal(ctx, u, room, f.UpTo)
	case "typing-signal":
		var a access
		if a, err = s.accessTo(ctx, u, room); err == nil && !a.Post {
			err = a.deny("not a member")
		}
		if err == nil {
			s.typer.Typing(room.ID, u)
		}
	}
	switch code := chat.ErrorCode(err); {
	case code == "":
	case code == chat.EInvalid, code == chat.ERateLimit:
		// Told to the sender alone, beside the composer.
		sub.Send(live.Frame{Data: renderBytesIn(inLanguageOf(u), views.ComposerError(chat.ErrorMessage(err)))})
	case errors.Is(err, chat.ErrArchived):
		return live.ClosePolicy, "this room is archived"
	case code == chat.EForbidden:
		return live.ClosePolicy, "not a member of this room"
	default:
		if !errors.Is(err, context.Canceled) {
			s.log.Error("socket frame", "room", room.Slug, "user", u.Username, "err", err)
		}
		return live.CloseInternal, "server error"
	}
	return 0, ""
}
