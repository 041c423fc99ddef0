// Package live carries rendered room events to the sockets of each room and
// keeps what the sockets show beside the room: presence and typing per room
// (and what other nodes say of them), and each user's sidebar, their feed.
// One bounded queue per socket (queue.go) takes it all; nothing blocks.
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
// sockets, the same bytes to each. The rest is what the sidebars of its
// members elsewhere derive their counts from (see sidebar.go).
type Event struct {
	RoomID int64
	Seq    int64
	MsgID  int64 // set when the event is a new message
	Data   []byte
	// In renders Data in another language (see Fragment); nil when the
	// fragment has no words of the server's own.
	In func(code string) []byte
	// Unread says the new message counts as unread for its room's members
	// but its Author (people's messages, not the server's notices).
	Unread    bool
	Author    int64
	Mentioned []string // lower-case usernames the new message mentions
	// Thread is the root of a new reply: those who follow the thread count it.
	Thread int64
	// Relist says the room changed how sidebars list it: renamed, archived
	// or opened again.
	Relist bool
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
	// Presence renders the whole list of who is online in a room, in the
	// language of code (one of chat.Languages); a new subscriber gets it
	// first thing.
	Presence func(roomID int64, online []chat.User, code string) []byte
	// PresenceChange renders the fragment that adds a user to the list (online)
	// or takes them off it: the rest of the room gets only that, so a join
	// costs the room one small frame, not the whole list again.
	PresenceChange func(roomID int64, user chat.User, online bool, code string) []byte
	// Typing renders the fragment announcing who is typing in a room.
	Typing func(roomID int64, typing []chat.User, code string) []byte
	// SidebarEvery is how often the sidebars follow what changed: each
	// socket gets at most one frame for everything outside its room per
	// tick, however many rooms, messages or members. Default 250ms.
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
	onUser   func(chat.UserEvent)
	onEnded  func(Ended) // see ended.go
	closed   bool
	stop     chan struct{} // ends the flusher and the feed
	feed     *feed         // the users' sidebars; nil until StartFeed
	// presenceOf says how a user shows (see SetPresenceOf).
	presenceOf func(u chat.User, online bool) chat.Presence
}

type hubRoom struct {
	pending  atomic.Bool   // frames were published since the last flush
	subs     []*Subscriber // changed only under h.mu held for writing; publishers hold it for reading
	online   map[int64]*onlineUser
	typing   map[int64]*typist
	presence [][]byte // the rendered list of online users by language; nil once it changed
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

// OnDeliver sets fn to be told of every room event the hub is given, in any
// room, sockets here or not: streams that follow rooms through the store
// (the API's event stream) wake on it. fn runs on the delivering goroutine,
// under the hub's lock: it must not block.
func (h *Hub) OnDeliver(fn func(roomID, seq int64)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.onEvent = fn
}

// OnUserEvent sets fn to be told of every per-user event (a read, a
// membership made or ended) the hub is given, from this node or another.
// fn must not block.
func (h *Hub) OnUserEvent(fn func(chat.UserEvent)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.onUser = fn
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

// dropRoomLocked forgets a room nobody has open.
func (h *Hub) dropRoomLocked(roomID int64) {
	if r := h.rooms[roomID]; r != nil && len(r.subs) == 0 {
		delete(h.rooms, roomID)
	}
}

// Subscribe adds a subscriber for user in room. It receives every frame
// published to the room from now on, in order, until it is closed, and its
// user's sidebar as it changes (see StartFeed).
func (h *Hub) Subscribe(roomID int64, user chat.User, session string) (*Subscriber, error) {
	return h.SubscribeThread(roomID, 0, user, session)
}

// SubscribeThread is Subscribe for a page that has a thread of the room
// open beside it: its replies are read as they come, not counted unread.
func (h *Hub) SubscribeThread(roomID, thread int64, user chat.User, session string) (*Subscriber, error) {
	s := &Subscriber{
		RoomID:  roomID,
		Thread:  thread,
		User:    user,
		Session: session,
		userKey: strings.ToLower(user.Username),
		lang:    langIndex(user.Language),
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
	if h.feed != nil {
		h.feed.add(s)
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
			r.presence = make([][]byte, len(chat.Languages))
		}
		if r.presence[s.lang] == nil {
			r.presence[s.lang] = h.cfg.Presence(roomID, h.onlineListLocked(roomID, r), chat.Languages[s.lang])
		}
		s.push(Frame{Data: r.presence[s.lang]}, h.cfg.QueueLen)
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
	if h.feed != nil {
		h.feed.remove(s)
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

// Deliver queues a room event for the room's subscribers, and moves the
// counts of its members' sidebars. It never blocks.
func (h *Hub) Deliver(ev Event) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.onEvent != nil {
		h.onEvent(ev.RoomID, ev.Seq)
	}
	if h.feed != nil {
		h.feed.event(ev)
	}
	r := h.rooms[ev.RoomID]
	if r == nil || ev.Data == nil {
		return
	}
	wake := h.cfg.FlushEvery <= 0
	f := newByLang(Frame{Seq: ev.Seq, MsgID: ev.MsgID, Data: ev.Data}, ev.In)
	for _, s := range r.subs {
		s.queueFrame(f.frameFor(s), h.cfg.QueueLen, wake)
	}
	if !wake && len(r.subs) > 0 {
		r.pending.Store(true)
	}
}

// DeliverUser applies a per-user event (a read, a membership) to the user's
// sidebar.
func (h *Hub) DeliverUser(ev chat.UserEvent) {
	h.mu.RLock()
	fn := h.onUser
	h.mu.RUnlock()
	if fn != nil {
		fn(ev)
	}
	if h.feed != nil {
		h.feed.user(ev)
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

// CloseSession closes every subscriber opened by the session.
func (h *Hub) CloseSession(session string, code int, reason string) {
	defer h.ended(Ended{Session: session})
	h.closeWhere(func(s *Subscriber) bool { return s.Session == session }, code, reason)
}

// CloseUserInRoom closes the user's subscribers in one room.
func (h *Hub) CloseUserInRoom(roomID, userID int64, code int, reason string) {
	defer h.ended(Ended{UserID: userID, RoomID: roomID})
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

// CloseUser closes every subscriber of the user, in every room.
func (h *Hub) CloseUser(userID int64, code int, reason string) {
	defer h.ended(Ended{UserID: userID})
	h.closeWhere(func(s *Subscriber) bool { return s.User.ID == userID }, code, reason)
}

// CloseRoom closes every subscriber of the room.
func (h *Hub) CloseRoom(roomID int64, code int, reason string) {
	defer h.ended(Ended{RoomID: roomID})
	h.closeWhere(func(s *Subscriber) bool { return s.RoomID == roomID }, code, reason)
}
