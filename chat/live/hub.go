// Package live carries rendered room events to the sockets of each room: one
// bounded queue per subscriber, presence and typing per room, and the seams
// (Broker, Presence) through which several nodes share them.
package live

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"agora/chat"
)

// ErrHubClosed is returned by Subscribe once the hub is shutting down.
var ErrHubClosed = errors.New("hub closed")

// Frame is one rendered fragment on its way to the browsers of a room. The
// same Data goes to every receiver; it is never changed after Publish.
type Frame struct {
	// Seq is the room's sequence number of the event the frame carries, or
	// 0 for frames outside the room's log (presence, typing, sidebars). A
	// subscriber whose backlog went up to some seq skips frames at or below it.
	Seq int64
	// MsgID is the id of the new message the frame carries, or 0: a
	// subscriber that was sent a page up to some id skips frames at or below it.
	MsgID int64
	Data  []byte
}

// Event is a room event rendered for delivery: Data goes to the room's
// sockets; Sidebar, if set, to the sockets its members have open in other
// rooms (their sidebars count it); Mention, if set, to those of the
// Mentioned among them. Every part is rendered once, for all its receivers.
type Event struct {
	RoomID    int64
	Seq       int64
	MsgID     int64 // set when the event is a new message
	Data      []byte
	Sidebar   []byte
	Mentioned []string // lower-case usernames
	Mention   []byte
}

// HubConfig tunes a Hub. Zero values take the defaults.
type HubConfig struct {
	// QueueLen bounds the frames waiting for one subscriber; a subscriber
	// whose queue is full is closed with CloseTryAgainLater. Default 512.
	QueueLen int
	// TypingTTL is how long "is typing" lasts after the last keystroke. Default 5s.
	TypingTTL time.Duration
	// FlushEvery, when set, batches writes: published frames wait up to this
	// long, so that a busy room's frames reach each socket in one write
	// instead of one write each. Zero wakes writers at once.
	FlushEvery time.Duration
	// Presence renders the whole list of who is online in a room; a new
	// subscriber gets it first thing.
	Presence func(roomID int64, online []chat.User) []byte
	// PresenceChange renders the fragment that adds a user to the list (online)
	// or takes them off it: the rest of the room gets only that, so a join
	// costs the room one small frame, not the whole list again.
	PresenceChange func(roomID int64, user chat.User, online bool) []byte
	// Typing renders the fragment announcing who is typing in a room.
	Typing func(roomID int64, typing []chat.User) []byte
	// SidebarEvery is how long a sidebar frame may wait for its socket's
	// next write: unread counts need not be as quick as the room itself, and
	// a socket that watches many busy rooms then gets a few writes a second,
	// not one per message. Default 250ms; with FlushEvery zero, at once.
	SidebarEvery time.Duration
}

// Hub carries frames to the subscribers of each room and keeps the room's
// presence (who has a socket open) and typing state. Publish never blocks.
type Hub struct {
	cfg      HubConfig
	mu       sync.RWMutex
	rooms    map[int64]*hubRoom
	users    map[int64][]*Subscriber // every open socket of each user, in all rooms
	onOnline func(chat.User, bool)
	remote   remotePresence // users online on other nodes (see remote.go)
	onEvent  func(roomID, seq int64)
	closed   bool
	stop     chan struct{} // ends the flusher

	sideMu    sync.Mutex
	sideDue   []*Subscriber // sockets holding mention frames until the next sidebar tick
	sideRooms []int64       // rooms holding sidebar fragments until the next sidebar tick
}

type hubRoom struct {
	pending  atomic.Bool   // frames were published since the last flush
	subs     []*Subscriber // changed only under h.mu held for writing; publishers hold it for reading
	watchers []*Subscriber // sockets in other rooms of the room's members, for their sidebars
	sideMu   sync.Mutex
	side     []byte // sidebar fragments since the last sidebar tick, for every watcher alike
	online   map[int64]*onlineUser
	typing   map[int64]*typist
	presence []byte // the rendered list of online users; nil once it changed
}

type onlineUser struct {
	user  chat.User
	conns int
}

type typist struct {
	user  chat.User
	timer *time.Timer
}

// NewHub returns a Hub ready for use.
func NewHub(cfg HubConfig) *Hub {
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = 512
	}
	if cfg.TypingTTL <= 0 {
		cfg.TypingTTL = 5 * time.Second
	}
	if cfg.SidebarEvery <= 0 {
		cfg.SidebarEvery = 250 * time.Millisecond
	}
	h := &Hub{cfg: cfg, rooms: make(map[int64]*hubRoom), users: make(map[int64][]*Subscriber), stop: make(chan struct{})}
	if cfg.FlushEvery > 0 {
		go h.flush()
	}
	return h
}

// flush wakes, every FlushEvery, the subscribers of rooms with new frames,
// and every SidebarEvery those holding sidebar frames.
func (h *Hub) flush() {
	t := time.NewTicker(h.cfg.FlushEvery)
	defer t.Stop()
	side := time.NewTicker(h.cfg.SidebarEvery)
	defer side.Stop()
	var due []*Subscriber
	var rooms []int64
	for {
		select {
		case <-h.stop:
			return
		case <-side.C:
			h.sideMu.Lock()
			due, h.sideDue = h.sideDue, due[:0]
			rooms, h.sideRooms = h.sideRooms, rooms[:0]
			h.sideMu.Unlock()
			h.flushSidebars(rooms)
			for _, s := range due {
				s.sideDue.Store(false)
				s.signal()
			}
			clear(due)
			continue
		case <-t.C:
		}
		h.mu.RLock()
		for _, r := range h.rooms {
			if r.pending.Swap(false) {
				for _, s := range r.subs {
					s.signal()
				}
			}
		}
		h.mu.RUnlock()
	}
}

// Subscriber is one open socket in one room. Frames published to the room
// queue up in it until its writer drains them.
type Subscriber struct {
	RoomID  int64
	User    chat.User
	Session string // which session opened it, so logging out can close it

	userKey  string  // the lower-case username, to match mentions
	watching []int64 // rooms whose sidebar frames it gets; changed under hub.mu
	sideDue  atomic.Bool

	hub    *Hub
	wake   chan struct{}
	notify atomic.Pointer[func()] // when set, called instead of sending on wake
	done   chan struct{}

	mu          sync.Mutex
	queue       []Frame
	spare       []Frame
	floorSeq    int64
	floorID     int64
	closed      bool
	closeCode   int
	closeReason string
}

// OnOnlineChange sets fn to be told, on a goroutine of its own, when a user
// opens their first socket anywhere (true) or closes their last (false):
// on this node or, in a cluster, on any other (see SetRemoteOnline).
func (h *Hub) OnOnlineChange(fn func(u chat.User, online bool)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.onOnline = fn
}

// OnDeliver sets fn to be told of every room event the hub is given, in any
// room, sockets here or not: streams that follow rooms through the store
// (the API's event stream) wake on it. fn runs on the delivering goroutine,
// under the hub's lock: it must not block.
func (h *Hub) OnDeliver(fn func(roomID, seq int64)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.onEvent = fn
}

// addSocketLocked counts s among its user's sockets and tells the
// OnOnlineChange hook when the user comes online.
func (h *Hub) addSocketLocked(s *Subscriber) {
	h.users[s.User.ID] = append(h.users[s.User.ID], s)
	if len(h.users[s.User.ID]) == 1 && h.remote.users[s.User.ID] == 0 {
		h.onlineChangedLocked(s.User, true)
	}
}

// onlineChangedLocked tells the OnOnlineChange hook that the user came
// online or went away everywhere.
func (h *Hub) onlineChangedLocked(u chat.User, online bool) {
	if h.onOnline != nil && !h.closed {
		go h.onOnline(u, online)
	}
}

// removeSocketLocked undoes addSocketLocked, telling the hook when the
// user's last socket closed.
func (h *Hub) removeSocketLocked(s *Subscriber) {
	socks := slices.DeleteFunc(h.users[s.User.ID], func(x *Subscriber) bool { return x == s })
	if len(socks) > 0 {
		h.users[s.User.ID] = socks
		return
	}
	delete(h.users, s.User.ID)
	if h.remote.users[s.User.ID] == 0 {
		h.onlineChangedLocked(s.User, false)
	}
}

// roomLocked returns the room's state, making it on first use.
func (h *Hub) roomLocked(roomID int64) *hubRoom {
	r := h.rooms[roomID]
	if r == nil {
		r = &hubRoom{online: make(map[int64]*onlineUser), typing: make(map[int64]*typist)}
		h.rooms[roomID] = r
	}
	return r
}

// dropRoomLocked forgets a room nobody has open or watches.
func (h *Hub) dropRoomLocked(roomID int64) {
	if r := h.rooms[roomID]; r != nil && len(r.subs) == 0 && len(r.watchers) == 0 {
		delete(h.rooms, roomID)
	}
}

// Subscribe adds a subscriber for user in room. It receives every frame
// published to the room from now on, in order, until it is closed, and the
// sidebar frames of the rooms in watch (those the user is a member of).
func (h *Hub) Subscribe(roomID int64, user chat.User, session string, watch []int64) (*Subscriber, error) {
	s := &Subscriber{
		RoomID:  roomID,
		User:    user,
		Session: session,
		userKey: strings.ToLower(user.Username),
		hub:     h,
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		// Small to start: most sockets are idle, and a busy one grows its
		// queue once and then reuses it (Drain swaps queue and spare).
		queue: make([]Frame, 0, 4),
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrHubClosed
	}
	r := h.roomLocked(roomID)
	h.addSocketLocked(s)
	for _, w := range watch {
		h.watchLocked(s, w)
	}
	if o := r.online[user.ID]; o != nil {
		o.conns++
	} else {
		r.online[user.ID] = &onlineUser{user: user, conns: 1}
		h.localPresenceLocked(roomID, r, user, true)
	}
	r.subs = append(r.subs, s)
	if h.cfg.Presence != nil {
		if r.presence == nil {
			r.presence = h.cfg.Presence(roomID, h.onlineListLocked(roomID, r))
		}
		s.push(Frame{Data: r.presence}, h.cfg.QueueLen)
	}
	return s, nil
}

// Unsubscribe removes s from its room and closes it. It is safe to call more
// than once and after the hub has closed.
func (h *Hub) Unsubscribe(s *Subscriber) {
	s.close(CloseNormal, "")
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rooms[s.RoomID]
	if r == nil {
		return
	}
	i := slices.Index(r.subs, s)
	if i < 0 {
		return
	}
	h.removeSocketLocked(s)
	for _, w := range s.watching {
		h.unwatchLocked(s, w)
	}
	// Order among subscribers does not matter: the last takes the gap.
	last := len(r.subs) - 1
	r.subs[i] = r.subs[last]
	r.subs[last] = nil
	r.subs = r.subs[:last]
	if o := r.online[s.User.ID]; o != nil {
		o.conns--
		if o.conns == 0 {
			delete(r.online, s.User.ID)
			if t := r.typing[s.User.ID]; t != nil {
				t.timer.Stop()
				delete(r.typing, s.User.ID)
				h.typingLocked(s.RoomID, r)
			}
			h.localPresenceLocked(s.RoomID, r, s.User, false)
		}
	}
	h.dropRoomLocked(s.RoomID)
}

// watchLocked makes s get the room's sidebar frames.
func (h *Hub) watchLocked(s *Subscriber, roomID int64) {
	if roomID == s.RoomID || slices.Contains(s.watching, roomID) {
		return
	}
	s.watching = append(s.watching, roomID)
	r := h.roomLocked(roomID)
	r.watchers = append(r.watchers, s)
}

// unwatchLocked undoes watchLocked.
func (h *Hub) unwatchLocked(s *Subscriber, roomID int64) {
	r := h.rooms[roomID]
	if r == nil {
		return
	}
	if i := slices.Index(r.watchers, s); i >= 0 {
		last := len(r.watchers) - 1
		r.watchers[i] = r.watchers[last]
		r.watchers[last] = nil
		r.watchers = r.watchers[:last]
	}
	s.watching = slices.DeleteFunc(s.watching, func(id int64) bool { return id == roomID })
	h.dropRoomLocked(roomID)
}

// Watch makes the user's open sockets get the room's sidebar frames: they
// became a member of it.
func (h *Hub) Watch(userID, roomID int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.users[userID] {
		h.watchLocked(s, roomID)
	}
}

// Unwatch stops the user's sockets getting the room's sidebar frames.
func (h *Hub) Unwatch(userID, roomID int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.users[userID] {
		h.unwatchLocked(s, roomID)
	}
}

// DeliverUser applies a per-user event: a user who joined a room has their
// open sockets count it in their sidebars; one who left, not.
func (h *Hub) DeliverUser(ev chat.UserEvent) {
	switch ev.Kind {
	case chat.UserJoined:
		h.Watch(ev.UserID, ev.RoomID)
	case chat.UserLeft:
		h.Unwatch(ev.UserID, ev.RoomID)
	}
}

// flushSidebars hands each room's sidebar fragments gathered since the last
// tick to its watchers as one frame: a busy room costs each watcher one queue
// append per tick, not one per message.
func (h *Hub) flushSidebars(rooms []int64) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, id := range rooms {
		r := h.rooms[id]
		if r == nil {
			continue
		}
		r.sideMu.Lock()
		data := r.side
		r.side = nil
		r.sideMu.Unlock()
		if len(data) == 0 {
			continue
		}
		f := Frame{Data: data}
		for _, s := range r.watchers {
			s.queueFrame(f, h.cfg.QueueLen, true)
		}
	}
}

// Deliver queues a room event: Data for the room's subscribers, the
// sidebar parts for its watchers. It never blocks.
func (h *Hub) Deliver(ev Event) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.onEvent != nil {
		h.onEvent(ev.RoomID, ev.Seq)
	}
	r := h.rooms[ev.RoomID]
	if r == nil {
		return
	}
	wake := h.cfg.FlushEvery <= 0
	if ev.Data != nil {
		f := Frame{Seq: ev.Seq, MsgID: ev.MsgID, Data: ev.Data}
		for _, s := range r.subs {
			s.queueFrame(f, h.cfg.QueueLen, wake)
		}
		if !wake && len(r.subs) > 0 {
			r.pending.Store(true)
		}
	}
	if ev.Sidebar == nil && ev.Mention == nil {
		return
	}
	if ev.Sidebar != nil && !wake && len(r.watchers) > 0 {
		r.sideMu.Lock()
		first := len(r.side) == 0
		r.side = append(r.side, ev.Sidebar...)
		r.sideMu.Unlock()
		if first {
			h.sideMu.Lock()
			h.sideRooms = append(h.sideRooms, ev.RoomID)
			h.sideMu.Unlock()
		}
	}
	if !wake && ev.Mention == nil {
		return // the sidebar fragment waits for the tick; nothing else to do
	}
	side, mention := Frame{Data: ev.Sidebar}, Frame{Data: ev.Mention}
	for _, s := range r.watchers {
		if ev.Sidebar != nil && wake {
			s.queueFrame(side, h.cfg.QueueLen, true)
		}
		if ev.Mention == nil || !slices.Contains(ev.Mentioned, s.userKey) {
			continue
		}
		s.queueFrame(mention, h.cfg.QueueLen, wake)
		if !wake && s.sideDue.CompareAndSwap(false, true) {
			h.sideMu.Lock()
			h.sideDue = append(h.sideDue, s)
			h.sideMu.Unlock()
		}
	}
}

// Publish queues f for every subscriber of the room. It never blocks: a
// subscriber that cannot take the frame is closed with CloseTryAgainLater.
func (h *Hub) Publish(roomID int64, f Frame) {
	h.mu.RLock()
	r := h.rooms[roomID]
	if r != nil {
		wake := h.cfg.FlushEvery <= 0
		for _, s := range r.subs {
			s.queueFrame(f, h.cfg.QueueLen, wake)
		}
		if !wake {
			r.pending.Store(true)
		}
	}
	h.mu.RUnlock()
}

// Len returns the number of subscribers in all rooms.
func (h *Hub) Len() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	for _, r := range h.rooms {
		n += len(r.subs)
	}
	return n
}

// Online returns the users with a socket open in the room, sorted by name.
func (h *Hub) Online(roomID int64) []chat.User {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.onlineListLocked(roomID, h.rooms[roomID])
}

// Typing marks user as typing in the room for the next TypingTTL.
func (h *Hub) Typing(roomID int64, user chat.User) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rooms[roomID]
	if r == nil || r.online[user.ID] == nil {
		return
	}
	h.markTypingLocked(roomID, r, user)
}

// markTypingLocked marks user as typing in the room until TypingTTL passes
// without another keystroke, telling the room if they were not typing yet.
func (h *Hub) markTypingLocked(roomID int64, r *hubRoom, user chat.User) {
	if t := r.typing[user.ID]; t != nil {
		t.timer.Reset(h.cfg.TypingTTL)
		return
	}
	r.typing[user.ID] = &typist{user: user, timer: time.AfterFunc(h.cfg.TypingTTL, func() { h.StopTyping(roomID, user.ID) })}
	h.typingLocked(roomID, r)
}

// StopTyping clears the user's typing mark in the room, if there is one.
func (h *Hub) StopTyping(roomID, userID int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rooms[roomID]
	if r == nil || r.typing[userID] == nil {
		return
	}
	r.typing[userID].timer.Stop()
	delete(r.typing, userID)
	h.typingLocked(roomID, r)
}

// CloseSession closes every subscriber opened by the session.
func (h *Hub) CloseSession(session string, code int, reason string) {
	h.closeWhere(func(s *Subscriber) bool { return s.Session == session }, code, reason)
}

// CloseUserInRoom closes the user's subscribers in one room.
func (h *Hub) CloseUserInRoom(roomID, userID int64, code int, reason string) {
	h.closeWhere(func(s *Subscriber) bool { return s.RoomID == roomID && s.User.ID == userID }, code, reason)
}

func (h *Hub) closeWhere(match func(*Subscriber) bool, code int, reason string) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, r := range h.rooms {
		for _, s := range r.subs {
			if match(s) {
				s.close(code, reason)
			}
		}
	}
}

// Close closes every subscriber with code and refuses new ones. It is idempotent.
func (h *Hub) Close(code int, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		close(h.stop)
	}
	h.closed = true
	for _, r := range h.rooms {
		for _, s := range r.subs {
			s.close(code, reason)
		}
		for _, t := range r.typing {
			t.timer.Stop()
		}
	}
}

// presenceChangedLocked tells the room that user came online or went away.
// h.mu is held for writing, so every subscriber sees the changes in the order
// they happened, after the full list it got on subscribing.
func (h *Hub) presenceChangedLocked(roomID int64, r *hubRoom, user chat.User, online bool) {
	r.presence = nil
	if h.cfg.PresenceChange == nil {
		return
	}
	f := Frame{Data: h.cfg.PresenceChange(roomID, user, online)}
	for _, s := range r.subs {
		s.push(f, h.cfg.QueueLen)
	}
}

// typingLocked tells the room who is typing. Nobody is told about
// themselves, so a typist's own sockets get the list without them: one
// render per typist, and one for everyone else.
func (h *Hub) typingLocked(roomID int64, r *hubRoom) {
	if h.cfg.Typing == nil {
		return
	}
	users := make([]chat.User, 0, len(r.typing))
	for _, t := range r.typing {
		users = append(users, t.user)
	}
	sortUsers(users)
	all := Frame{Data: h.cfg.Typing(roomID, users)}
	var own map[int64]Frame
	for _, s := range r.subs {
		if r.typing[s.User.ID] == nil {
			s.push(all, h.cfg.QueueLen)
			continue
		}
		f, ok := own[s.User.ID]
		if !ok {
			others := slices.DeleteFunc(slices.Clone(users), func(u chat.User) bool { return u.ID == s.User.ID })
			f = Frame{Data: h.cfg.Typing(roomID, others)}
			if own == nil {
				own = make(map[int64]Frame)
			}
			own[s.User.ID] = f
		}
		s.push(f, h.cfg.QueueLen)
	}
}

// onlineListLocked lists who has the room open here or on another node.
func (h *Hub) onlineListLocked(roomID int64, r *hubRoom) []chat.User {
	var users []chat.User
	if r != nil {
		users = make([]chat.User, 0, len(r.online))
		for _, o := range r.online {
			users = append(users, o.user)
		}
	}
	for id, o := range h.remote.rooms[roomID] {
		if r == nil || r.online[id] == nil {
			users = append(users, o.user)
		}
	}
	sortUsers(users)
	return users
}

func sortUsers(users []chat.User) {
	slices.SortFunc(users, func(a, b chat.User) int {
		if c := strings.Compare(strings.ToLower(a.Name()), strings.ToLower(b.Name())); c != 0 {
			return c
		}
		return strings.Compare(a.Username, b.Username)
	})
}

// Wake receives when frames are waiting to be drained.
func (s *Subscriber) Wake() <-chan struct{} { return s.wake }

// Done is closed when the subscriber is closed; CloseStatus then says why.
func (s *Subscriber) Done() <-chan struct{} { return s.done }

// CloseStatus returns the close code and reason once Done is closed.
func (s *Subscriber) CloseStatus() (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeCode, s.closeReason
}

// Close closes the subscriber with code; its owner then unsubscribes it.
func (s *Subscriber) Close(code int, reason string) { s.close(code, reason) }

// SetFloor makes the subscriber skip frames of events up to seq, and of new
// messages up to id: what it was sent on connecting already carried them.
func (s *Subscriber) SetFloor(seq, id int64) {
	s.mu.Lock()
	s.floorSeq = max(s.floorSeq, seq)
	s.floorID = max(s.floorID, id)
	s.mu.Unlock()
}

// skips reports whether f is older than the subscriber's floor.
func skips(f Frame, seq, id int64) bool {
	return (f.Seq != 0 && f.Seq <= seq) || (f.MsgID != 0 && f.MsgID <= id)
}

// Send queues a frame for this subscriber alone (a reply to its own frame).
func (s *Subscriber) Send(f Frame) { s.push(f, s.hub.cfg.QueueLen) }

// Drain takes every waiting frame and returns them as one message, and the
// buffer to pass next time. One waiting frame is returned as it is, with no
// copy: it is shared with every receiver and must not be modified. Several
// are appended to buf: htmx-ext-ws swaps each top-level element of a message
// on its own, so fragments can share one WebSocket message.
func (s *Subscriber) Drain(buf []byte) (msg, next []byte) {
	s.mu.Lock()
	q, seq, id := s.queue, s.floorSeq, s.floorID
	s.queue, s.spare = s.spare[:0], nil
	s.mu.Unlock()
	var only []byte
	n := 0
	for _, f := range q {
		if !skips(f, seq, id) {
			only = f.Data
			n++
		}
	}
	if n == 1 {
		msg, next = only, buf
	} else {
		for _, f := range q {
			if !skips(f, seq, id) {
				buf = append(buf, f.Data...)
			}
		}
		msg, next = buf, buf
	}
	clear(q)
	s.mu.Lock()
	s.spare = q[:0]
	s.mu.Unlock()
	return msg, next
}

func (s *Subscriber) push(f Frame, limit int) { s.queueFrame(f, limit, true) }

// queueFrame adds f to the queue and, if wake, tells the writer at once.
func (s *Subscriber) queueFrame(f Frame, limit int, wake bool) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if len(s.queue) >= limit {
		s.mu.Unlock()
		s.close(CloseTryAgainLater, "too slow to keep up")
		return
	}
	s.queue = append(s.queue, f)
	s.mu.Unlock()
	if wake {
		s.signal()
	}
}

func (s *Subscriber) signal() {
	if fn := s.notify.Load(); fn != nil {
		(*fn)()
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Notify makes fn be called, instead of a send on Wake, whenever frames are
// waiting and when the subscriber is closed: its owner can then write with
// a goroutine that exists only while there is something to write. fn must
// not block. It is called once at once, for what is waiting already.
func (s *Subscriber) Notify(fn func()) {
	s.notify.Store(&fn)
	fn()
}

// Pending reports whether frames are waiting or the subscriber was closed.
func (s *Subscriber) Pending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue) > 0 || s.closed
}

func (s *Subscriber) close(code int, reason string) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.closeCode, s.closeReason = code, reason
	close(s.done)
	s.mu.Unlock()
	if fn := s.notify.Load(); fn != nil {
		(*fn)()
	}
}

// PublishUser queues f for the user's subscribers in one room.
func (h *Hub) PublishUser(userID, roomID int64, f Frame) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	r := h.rooms[roomID]
	if r == nil || r.online[userID] == nil {
		return
	}
	for _, s := range r.subs {
		if s.User.ID == userID {
			s.push(f, h.cfg.QueueLen)
		}
	}
}

// RoomsOf returns the rooms in which the user has sockets open.
func (h *Hub) RoomsOf(userID int64) []int64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []int64
	for _, s := range h.users[userID] {
		if !slices.Contains(out, s.RoomID) {
			out = append(out, s.RoomID)
		}
	}
	return out
}

// OnlineSet returns which of the given users have a socket open anywhere.
func (h *Hub) OnlineSet(userIDs []int64) map[int64]bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make(map[int64]bool, len(userIDs))
	for _, id := range userIDs {
		if len(h.users[id]) > 0 || h.remote.users[id] > 0 {
			out[id] = true
		}
	}
	return out
}

// CloseUser closes every subscriber of the user, in every room.
func (h *Hub) CloseUser(userID int64, code int, reason string) {
	h.closeWhere(func(s *Subscriber) bool { return s.User.ID == userID }, code, reason)
}

// CloseRoom closes every subscriber of the room.
func (h *Hub) CloseRoom(roomID int64, code int, reason string) {
	h.closeWhere(func(s *Subscriber) bool { return s.RoomID == roomID }, code, reason)
}
