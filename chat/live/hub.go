// Package live carries rendered room events to the sockets of each room: one
// bounded queue per subscriber, presence and typing per room, and the seams
// (Broker, Presence) through which several nodes share them.
package live

import (
	"agora/chat"

	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// WebSocket close codes the hub decides on. htmx-ext-ws reconnects after 1006,
// 1011, 1012 and 1013 only, so the codes for "come back" and "go away" differ.
const (
	CloseNormal         = 1000
	ClosePolicy         = 1008 // signed out, no longer a member, flooding: do not come back
	CloseServiceRestart = 1012 // the server is shutting down: reconnect to the next one
	CloseTryAgainLater  = 1013 // too slow to keep up: reconnect and catch up
)

// ErrHubClosed is returned by Subscribe once the hub is shutting down.
var ErrHubClosed = errors.New("hub closed")

// Frame is one rendered fragment on its way to the browsers of a room. The
// same Data goes to every receiver; it is never changed after Publish.
type Frame struct {
	// MsgID is the id of the new message the frame carries, or 0. A subscriber
	// that sent its backlog up to some id skips live frames at or below it.
	MsgID int64
	Data  []byte
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
}

// Hub carries frames to the subscribers of each room and keeps the room's
// presence (who has a socket open) and typing state. Publish never blocks.
type Hub struct {
	cfg      HubConfig
	mu       sync.RWMutex
	rooms    map[int64]*hubRoom
	sockets  map[int64]int // per user, in all rooms
	onOnline func(chat.User, bool)
	closed   bool
	stop     chan struct{} // ends the flusher
}

type hubRoom struct {
	pending  atomic.Bool   // frames were published since the last flush
	subs     []*Subscriber // changed only under h.mu held for writing; publishers hold it for reading
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
	h := &Hub{cfg: cfg, rooms: make(map[int64]*hubRoom), sockets: make(map[int64]int), stop: make(chan struct{})}
	if cfg.FlushEvery > 0 {
		go h.flush()
	}
	return h
}

// flush wakes, every FlushEvery, the subscribers of rooms with new frames.
func (h *Hub) flush() {
	t := time.NewTicker(h.cfg.FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
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

	hub  *Hub
	wake chan struct{}
	done chan struct{}

	mu          sync.Mutex
	queue       []Frame
	spare       []Frame
	floor       int64
	closed      bool
	closeCode   int
	closeReason string
}

// OnOnlineChange sets fn to be told, on a goroutine of its own, when a user
// opens their first socket anywhere (true) or closes their last (false).
func (h *Hub) OnOnlineChange(fn func(u chat.User, online bool)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.onOnline = fn
}

// countSocketLocked adds delta to the user's sockets and tells the
// OnOnlineChange hook when they come online or go away.
func (h *Hub) countSocketLocked(u chat.User, delta int) {
	before := h.sockets[u.ID]
	after := before + delta
	if after <= 0 {
		delete(h.sockets, u.ID)
	} else {
		h.sockets[u.ID] = after
	}
	if h.onOnline != nil && !h.closed && (before == 0) != (after <= 0) {
		go h.onOnline(u, after > 0)
	}
}

// Subscribe adds a subscriber for user in room. It receives every frame
// published to the room from now on, in order, until it is closed.
func (h *Hub) Subscribe(roomID int64, user chat.User, session string) (*Subscriber, error) {
	s := &Subscriber{
		RoomID:  roomID,
		User:    user,
		Session: session,
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
	r := h.rooms[roomID]
	if r == nil {
		r = &hubRoom{online: make(map[int64]*onlineUser), typing: make(map[int64]*typist)}
		h.rooms[roomID] = r
	}
	h.countSocketLocked(user, 1)
	if o := r.online[user.ID]; o != nil {
		o.conns++
	} else {
		r.online[user.ID] = &onlineUser{user: user, conns: 1}
		h.presenceChangedLocked(roomID, r, user, true)
	}
	r.subs = append(r.subs, s)
	if h.cfg.Presence != nil {
		if r.presence == nil {
			r.presence = h.cfg.Presence(roomID, onlineList(r))
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
	h.countSocketLocked(s.User, -1)
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
			h.presenceChangedLocked(s.RoomID, r, s.User, false)
		}
	}
	if len(r.subs) == 0 {
		delete(h.rooms, s.RoomID)
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
	if r := h.rooms[roomID]; r != nil {
		return onlineList(r)
	}
	return nil
}

// Typing marks user as typing in the room for the next TypingTTL.
func (h *Hub) Typing(roomID int64, user chat.User) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rooms[roomID]
	if r == nil || r.online[user.ID] == nil {
		return
	}
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

func onlineList(r *hubRoom) []chat.User {
	users := make([]chat.User, 0, len(r.online))
	for _, o := range r.online {
		users = append(users, o.user)
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

// SetFloor makes the subscriber skip message frames with ids up to id: its
// backlog already carried them.
func (s *Subscriber) SetFloor(id int64) {
	s.mu.Lock()
	if id > s.floor {
		s.floor = id
	}
	s.mu.Unlock()
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
	q, floor := s.queue, s.floor
	s.queue, s.spare = s.spare[:0], nil
	s.mu.Unlock()
	var only []byte
	n := 0
	for _, f := range q {
		if f.MsgID == 0 || f.MsgID > floor {
			only = f.Data
			n++
		}
	}
	if n == 1 {
		msg, next = only, buf
	} else {
		for _, f := range q {
			if f.MsgID == 0 || f.MsgID > floor {
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
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Subscriber) close(code int, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.closeCode, s.closeReason = code, reason
	close(s.done)
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

// OnlineUsers returns the ids of the users with a socket open anywhere.
func (h *Hub) OnlineUsers() []int64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]int64, 0, len(h.sockets))
	for id := range h.sockets {
		out = append(out, id)
	}
	return out
}

// RoomsOf returns the rooms in which the user has sockets open.
func (h *Hub) RoomsOf(userID int64) []int64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []int64
	for id, r := range h.rooms {
		if r.online[userID] != nil {
			out = append(out, id)
		}
	}
	return out
}

// UsersElsewhere returns the users who have sockets open but none in the
// room: the people whose sidebar should tell them the room has news.
func (h *Hub) UsersElsewhere(roomID int64) []int64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	here := h.rooms[roomID]
	seen := make(map[int64]bool)
	var out []int64
	for id, r := range h.rooms {
		if id == roomID {
			continue
		}
		for uid := range r.online {
			if !seen[uid] && (here == nil || here.online[uid] == nil) {
				seen[uid] = true
				out = append(out, uid)
			}
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
		for _, r := range h.rooms {
			if r.online[id] != nil {
				out[id] = true
				break
			}
		}
	}
	return out
}
