package live

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"agora/chat"
)

// Each user has a feed: everything their sockets show outside the room they
// have open (the sidebar's rooms, unread and mention counts, the dots of
// direct-message partners, and the title count a page adds up from them)
// follows from room events and per-user events, never from a redraw asked
// for by hand. The counts live here, for the users with a socket open on
// this node: read once from the store when a user's first socket opens (or
// their memberships changed), then moved by each new message in their
// rooms and by each "read up to N" of theirs, from any device on any node.
// Every SidebarEvery, each socket whose user's view changed gets one frame:
// the counts of the rooms that changed, or the whole lists when the rooms
// themselves did.

// SidebarSource reads what a user's sidebar lists, with the counts as they
// stand: the store.
type SidebarSource interface {
	Nav(ctx context.Context, userID int64) ([]chat.NavRoom, error)
	// ThreadNav lists the threads the user follows with their unread counts.
	ThreadNav(ctx context.Context, userID int64) ([]chat.NavThread, error)
	// FollowedThread is ThreadNav's entry for one thread, false when the
	// user does not follow it.
	FollowedThread(ctx context.Context, userID, rootID int64) (chat.NavThread, bool, error)
}

// SidebarRenderer renders the sidebar's fragments. The same bytes go to
// every socket they fit.
type SidebarRenderer interface {
	// Lists renders the whole lists for a socket with room current open,
	// to replace its own.
	Lists(u chat.User, rooms []chat.NavRoom, current int64, online map[int64]bool, threads int) []byte
	// Counts renders a room's unread and mention counts for u, to replace
	// them wherever the room is listed.
	Counts(u chat.User, r chat.NavRoom) []byte
	// Threads renders the unread replies of the threads u follows, to
	// replace the Threads entry's count.
	Threads(u chat.User, unread int) []byte
}

const (
	// recentLen is how many new messages the feed remembers, to count
	// those that arrive while a user's counts are being read.
	recentLen = 4096
	// maxIDs bounds the message ids a room's count remembers beyond what
	// was read from the store; older ones fold into the base.
	maxIDs = 256
)

// feed holds the feeds of the users with a socket open here.
type feed struct {
	src    SidebarSource
	render SidebarRenderer
	onErr  func(error)

	mu     sync.Mutex
	users  map[int64]*userFeed
	rooms  map[int64]map[*userFeed]struct{} // room -> the loaded feeds that count it
	peers  map[int64]map[*userFeed]struct{} // user -> the loaded feeds listing a conversation with them
	thrds  map[int64]map[*userFeed]struct{} // thread root -> the loaded feeds that follow it
	dirty  []*userFeed
	recent []newMessage // a ring of the last recentLen new messages
	next   int
}

// newMessage is what a count needs to know of a message.
type newMessage struct {
	room, id, author int64
	mentioned        []string
	unread           bool  // counts in its room's badge
	thread           int64 // the root of a reply: counts for the thread's followers
}

// userFeed is one user's sidebar state on this node.
type userFeed struct {
	user   chat.User
	key    string // lower-case username, to match mentions
	socks  []*Subscriber
	loaded bool
	reload bool           // never read, or the user's rooms changed: read them again
	queued bool           // in feed.dirty
	rooms  []chat.NavRoom // as listed, in order; their counts are in counts
	counts map[int64]*roomCount
	// threads are the counts of the threads the user follows (and may
	// read), by root; threadsChanged says their total is to be sent.
	threads        map[int64]*roomCount
	threadsChanged bool
	// follows are the threads the user began or stopped following: each is
	// read again alone (a reply makes its author and its root's follow, so
	// reading everything each time would cost the most in busy rooms).
	follows map[int64]struct{}
	// What the next tick sends: the counts of changed rooms; the whole
	// lists to fresh sockets (just opened), or to all when redraw.
	changed map[int64]struct{}
	fresh   []*Subscriber
	redraw  bool
}

// roomCount is a member's unread and mention counts of one room: what the
// store said up to message snap, and the ids of those counted since.
type roomCount struct {
	snap           int64
	unread, mented int
	ids, mids      []int64
}

func (c *roomCount) apply(r chat.NavRoom) chat.NavRoom {
	r.Unread, r.Mentions = c.unread+len(c.ids), c.mented+len(c.mids)
	return r
}

// StartFeed makes the hub keep each user's feed, reading their sidebars
// from src and rendering them with r, and sending what changed every
// SidebarEvery. onErr is told when the store could not be read (the feed
// tries again next tick). Call it before the hub is used.
func (h *Hub) StartFeed(src SidebarSource, r SidebarRenderer, onErr func(error)) {
	h.feed = &feed{src: src, render: r, onErr: onErr, users: make(map[int64]*userFeed),
		rooms: make(map[int64]map[*userFeed]struct{}), peers: make(map[int64]map[*userFeed]struct{}),
		thrds:  make(map[int64]map[*userFeed]struct{}),
		recent: make([]newMessage, recentLen)}
	go h.feedLoop()
}

func (h *Hub) feedLoop() {
	t := time.NewTicker(h.cfg.SidebarEvery)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			h.feedTick()
		}
	}
}

// markLocked queues uf for the next tick.
func (f *feed) markLocked(uf *userFeed) {
	if !uf.queued {
		uf.queued = true
		f.dirty = append(f.dirty, uf)
	}
}

// add counts a new socket among its user's; the user's feed is read if this
// is their first socket here.
func (f *feed) add(s *Subscriber) {
	f.mu.Lock()
	defer f.mu.Unlock()
	uf := f.users[s.User.ID]
	if uf == nil {
		uf = &userFeed{user: s.User, key: s.userKey, reload: true, changed: make(map[int64]struct{})}
		f.users[s.User.ID] = uf
	}
	uf.socks = append(uf.socks, s)
	f.markLocked(uf)
}

// SidebarFor sends s the whole sidebar lists at the next tick: a socket
// that reconnected may have missed what changed while it was away. A page
// that has just been served has them already.
func (h *Hub) SidebarFor(s *Subscriber) {
	f := h.feed
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if uf := f.users[s.User.ID]; uf != nil && slices.Contains(uf.socks, s) {
		uf.fresh = append(uf.fresh, s)
		f.markLocked(uf)
	}
}

// remove forgets a closed socket, and its user's feed with their last.
func (f *feed) remove(s *Subscriber) {
	f.mu.Lock()
	defer f.mu.Unlock()
	uf := f.users[s.User.ID]
	if uf == nil {
		return
	}
	uf.socks = slices.DeleteFunc(uf.socks, func(x *Subscriber) bool { return x == s })
	uf.fresh = slices.DeleteFunc(uf.fresh, func(x *Subscriber) bool { return x == s })
	if len(uf.socks) == 0 {
		f.unindexLocked(uf)
		delete(f.users, s.User.ID)
	}
}

func (f *feed) unindexLocked(uf *userFeed) {
	for id := range uf.counts {
		if set := f.rooms[id]; set != nil {
			delete(set, uf)
			if len(set) == 0 {
				delete(f.rooms, id)
			}
		}
	}
	for id := range uf.threads {
		if set := f.thrds[id]; set != nil {
			delete(set, uf)
			if len(set) == 0 {
				delete(f.thrds, id)
			}
		}
	}
	for _, r := range uf.rooms {
		if r.IsDM() {
			if set := f.peers[r.Peer.ID]; set != nil {
				delete(set, uf)
				if len(set) == 0 {
					delete(f.peers, r.Peer.ID)
				}
			}
		}
	}
}

// event moves the counts a room event changes.
func (f *feed) event(ev Event) {
	if !ev.Unread && !ev.Relist && ev.Thread == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if ev.Relist {
		// Renamed, archived or opened again: how every sidebar lists the
		// room changed. Rare (an admin's act): each is read again.
		for _, uf := range f.users {
			uf.reload = true
			f.markLocked(uf)
		}
		return
	}
	m := newMessage{room: ev.RoomID, id: ev.MsgID, author: ev.Author, mentioned: ev.Mentioned, unread: ev.Unread, thread: ev.Thread}
	f.recent[f.next%recentLen] = m
	f.next++
	if m.unread {
		for uf := range f.rooms[ev.RoomID] {
			if uf.countRoom(m) {
				f.markLocked(uf)
			}
		}
	}
	if m.thread != 0 {
		for uf := range f.thrds[m.thread] {
			if uf.countThread(m) {
				f.markLocked(uf)
			}
		}
	}
}

// count adds a new message to the user's counts: of its room, and of its
// thread for a reply.
func (uf *userFeed) count(m newMessage) bool {
	changed := m.unread && uf.countRoom(m)
	return (m.thread != 0 && uf.countThread(m)) || changed
}

// countThread adds a new reply to the count of its thread, unless it is the
// user's, was counted by the store already, or the user has the thread open.
func (uf *userFeed) countThread(m newMessage) bool {
	c := uf.threads[m.thread]
	if c == nil || m.id <= c.snap || m.author == uf.user.ID {
		return false
	}
	for _, s := range uf.socks {
		if s.Thread == m.thread {
			return false
		}
	}
	c.ids = append(c.ids, m.id)
	if len(c.ids) > maxIDs {
		c.unread += maxIDs / 2
		c.snap = c.ids[maxIDs/2-1]
		c.ids = slices.Delete(c.ids, 0, maxIDs/2)
	}
	uf.threadsChanged = true
	return true
}

// countRoom adds a new message to the user's counts of its room, unless it
// is theirs, was counted by the store already, or the user has the room
// open (they are reading it as it comes).
func (uf *userFeed) countRoom(m newMessage) bool {
	c := uf.counts[m.room]
	if c == nil || m.id <= c.snap || m.author == uf.user.ID {
		return false
	}
	for _, s := range uf.socks {
		if s.RoomID == m.room {
			return false
		}
	}
	c.ids = append(c.ids, m.id)
	if slices.Contains(m.mentioned, uf.key) {
		c.mids = append(c.mids, m.id)
	}
	if len(c.ids) > maxIDs {
		// Fold the older half into the base: a read up to one of them
		// then reads the counts from the store again.
		half := c.ids[maxIDs/2-1]
		c.unread += maxIDs / 2
		c.ids = slices.Delete(c.ids, 0, maxIDs/2)
		n := 0
		for n < len(c.mids) && c.mids[n] <= half {
			n++
		}
		c.mented += n
		c.mids = slices.Delete(c.mids, 0, n)
		c.snap = half
	}
	uf.changed[m.room] = struct{}{}
	return true
}

// user applies a per-user event.
func (f *feed) user(ev chat.UserEvent) {
	f.mu.Lock()
	defer f.mu.Unlock()
	uf := f.users[ev.UserID]
	if uf == nil || !uf.loaded {
		return // read from the store when it is: the event is in it
	}
	switch ev.Kind {
	case chat.UserRead:
		c := uf.counts[ev.RoomID]
		if c == nil {
			return
		}
		if ev.UpTo >= c.snap {
			c.unread, c.mented = 0, 0
		} else if c.unread > 0 || c.mented > 0 {
			uf.reload = true // read part of what the store counted: ask it again
		}
		c.ids = slices.DeleteFunc(c.ids, func(id int64) bool { return id <= ev.UpTo })
		c.mids = slices.DeleteFunc(c.mids, func(id int64) bool { return id <= ev.UpTo })
		uf.changed[ev.RoomID] = struct{}{}
	case chat.UserThreadRead:
		c := uf.threads[ev.Thread]
		if c == nil {
			return
		}
		if ev.UpTo >= c.snap {
			c.unread = 0
		} else if c.unread > 0 {
			uf.reload = true
		}
		c.ids = slices.DeleteFunc(c.ids, func(id int64) bool { return id <= ev.UpTo })
		uf.threadsChanged = true
	case chat.UserJoined, chat.UserLeft:
		uf.reload = true // a room comes into the lists or leaves them
	case chat.UserFollow:
		if uf.follows == nil {
			uf.follows = make(map[int64]struct{})
		}
		uf.follows[ev.Thread] = struct{}{}
	case chat.UserNotify:
		uf.reload = true // the room's counts show as its new level says
	default:
		return
	}
	f.markLocked(uf)
}

// online redraws the lists of those who hold a conversation with the user,
// whose dot beside their name follows them.
func (f *feed) online(userID int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for uf := range f.peers[userID] {
		uf.redraw = true
		f.markLocked(uf)
	}
}

// install puts what the store said of a user's sidebar in place, and counts
// the new messages it may have been read too early to see.
func (f *feed) installLocked(uf *userFeed, rooms []chat.NavRoom, threads []chat.NavThread) {
	f.unindexLocked(uf)
	uf.rooms = rooms
	uf.counts = make(map[int64]*roomCount)
	uf.threads = make(map[int64]*roomCount)
	for _, t := range threads {
		f.indexThreadLocked(uf, t)
	}
	uf.threadsChanged = true
	for _, r := range rooms {
		if r.IsDM() && r.Peer.ID != uf.user.ID {
			set := f.peers[r.Peer.ID]
			if set == nil {
				set = make(map[*userFeed]struct{})
				f.peers[r.Peer.ID] = set
			}
			set[uf] = struct{}{}
		}
		if !r.Member {
			continue
		}
		uf.counts[r.ID] = &roomCount{snap: r.LatestID, unread: r.Unread, mented: r.Mentions}
		set := f.rooms[r.ID]
		if set == nil {
			set = make(map[*userFeed]struct{})
			f.rooms[r.ID] = set
		}
		set[uf] = struct{}{}
	}
	for i := max(0, f.next-recentLen); i < f.next; i++ {
		uf.count(f.recent[i%recentLen])
	}
	clear(uf.changed)
	// Every socket gets the lists as read: read again, the rooms listed
	// changed; read for the first time, what changed since each page was
	// served is not known.
	uf.loaded, uf.reload, uf.redraw = true, false, true
}

// indexThreadLocked counts a thread the user follows, if they may read it:
// followed once, no longer readable, nothing of it shows.
func (f *feed) indexThreadLocked(uf *userFeed, t chat.NavThread) bool {
	if !chat.Access(uf.user, t.Room, t.Member).Read {
		return false
	}
	uf.threads[t.RootID] = &roomCount{snap: t.LatestID, unread: t.Unread}
	set := f.thrds[t.RootID]
	if set == nil {
		set = make(map[*userFeed]struct{})
		f.thrds[t.RootID] = set
	}
	set[uf] = struct{}{}
	return true
}

// installThreadLocked puts what the store said of one thread in place of
// what the feed had of it, and counts the new replies it may have been
// read too early to see.
func (f *feed) installThreadLocked(uf *userFeed, root int64, t chat.NavThread, following bool) {
	if set := f.thrds[root]; set != nil {
		delete(set, uf)
		if len(set) == 0 {
			delete(f.thrds, root)
		}
	}
	delete(uf.threads, root)
	uf.threadsChanged = true
	if !following || !f.indexThreadLocked(uf, t) {
		return
	}
	for i := max(0, f.next-recentLen); i < f.next; i++ {
		if m := f.recent[i%recentLen]; m.thread == root {
			uf.countThread(m)
		}
	}
}

// sideWork is what one user's sockets get at a tick.
type sideWork struct {
	uf     *userFeed
	user   chat.User
	socks  []*Subscriber
	lists  []*Subscriber  // those that get the whole lists
	rooms  []chat.NavRoom // the lists, with counts, when some do
	counts []chat.NavRoom // the rooms whose counts changed
	// threads is the unread replies of the followed threads, sent to
	// every socket when threadsSent (the lists carry it too).
	threads     int
	threadsSent bool
}

// threadTotal is the unread replies of all the threads the user follows.
func (uf *userFeed) threadTotal() int {
	n := 0
	for _, c := range uf.threads {
		n += c.unread + len(c.ids)
	}
	return n
}

// feedTick reads the feeds that need it from the store, then sends each
// socket whose user's view changed one frame.
func (h *Hub) feedTick() {
	f := h.feed
	f.mu.Lock()
	due := f.dirty
	f.dirty = nil
	var loads []*userFeed
	type threadLoad struct {
		uf    *userFeed
		roots []int64
	}
	var threadLoads []threadLoad
	for _, uf := range due {
		uf.queued = false
		switch {
		case len(uf.socks) == 0:
		case uf.reload:
			loads = append(loads, uf) // what they follow is read with the rest
			clear(uf.follows)
		case len(uf.follows) > 0:
			threadLoads = append(threadLoads, threadLoad{uf, slices.Collect(maps.Keys(uf.follows))})
			clear(uf.follows)
		}
	}
	f.mu.Unlock()
	for _, l := range threadLoads {
		for _, root := range l.roots {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			t, following, err := f.src.FollowedThread(ctx, l.uf.user.ID, root)
			cancel()
			f.mu.Lock()
			switch {
			case err != nil:
				if l.uf.follows == nil {
					l.uf.follows = make(map[int64]struct{})
				}
				l.uf.follows[root] = struct{}{}
				f.markLocked(l.uf) // next tick
			case f.users[l.uf.user.ID] == l.uf && l.uf.loaded && !l.uf.reload:
				f.installThreadLocked(l.uf, root, t, following)
			}
			f.mu.Unlock()
			if err != nil && f.onErr != nil {
				f.onErr(err)
			}
		}
	}
	for _, uf := range loads {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		rooms, err := f.src.Nav(ctx, uf.user.ID)
		var threads []chat.NavThread
		if err == nil {
			threads, err = f.src.ThreadNav(ctx, uf.user.ID)
		}
		cancel()
		f.mu.Lock()
		if err != nil {
			f.markLocked(uf) // next tick
			f.mu.Unlock()
			if f.onErr != nil {
				f.onErr(err)
			}
			continue
		}
		if f.users[uf.user.ID] == uf {
			f.installLocked(uf, rooms, threads)
		}
		f.mu.Unlock()
	}
	f.mu.Lock()
	work := make([]sideWork, 0, len(due))
	for _, uf := range due {
		if !uf.loaded || uf.reload || f.users[uf.user.ID] != uf {
			continue
		}
		w := sideWork{uf: uf, user: uf.user, socks: slices.Clone(uf.socks)}
		if uf.redraw {
			w.lists = w.socks
		} else {
			w.lists = uf.fresh
		}
		uf.fresh, uf.redraw = nil, false
		if len(w.lists) > 0 {
			w.rooms = make([]chat.NavRoom, len(uf.rooms))
			for i, r := range uf.rooms {
				if c := uf.counts[r.ID]; c != nil {
					r = c.apply(r)
				}
				w.rooms[i] = r
			}
		}
		if len(uf.changed) > 0 {
			for _, r := range uf.rooms { // in the order listed
				if _, ok := uf.changed[r.ID]; ok && uf.counts[r.ID] != nil {
					w.counts = append(w.counts, uf.counts[r.ID].apply(r))
				}
			}
			clear(uf.changed)
		}
		w.threads, w.threadsSent = uf.threadTotal(), uf.threadsChanged
		uf.threadsChanged = false
		if len(w.lists) > 0 || len(w.counts) > 0 || w.threadsSent {
			work = append(work, w)
		}
	}
	f.mu.Unlock()
	for _, w := range work {
		h.sendSidebar(w)
	}
}

// sendSidebar renders one user's changes once and queues them for each of
// their sockets as one frame: a socket is not sent its own room's counts.
func (h *Hub) sendSidebar(w sideWork) {
	f := h.feed
	if len(w.lists) > 0 {
		var peers []int64
		for _, r := range w.rooms {
			if r.IsDM() {
				peers = append(peers, r.Peer.ID)
			}
		}
		online := h.OnlineSet(peers)
		rooms := slices.Clone(w.rooms)
		for i := range rooms {
			if rooms[i].IsDM() {
				rooms[i].Peer = h.shown(rooms[i].Peer, online[rooms[i].Peer.ID])
			}
		}
		byRoom := make(map[int64][]byte)
		for _, s := range w.lists {
			data, ok := byRoom[s.RoomID]
			if !ok {
				data = f.render.Lists(w.user, rooms, s.RoomID, online, w.threads)
				byRoom[s.RoomID] = data
			}
			s.push(Frame{Data: data}, h.cfg.QueueLen)
		}
	}
	if len(w.counts) == 0 && !w.threadsSent {
		return
	}
	var threads []byte
	if w.threadsSent {
		threads = f.render.Threads(w.user, w.threads)
	}
	parts := make([][]byte, len(w.counts))
	var all []byte
	for i, r := range w.counts {
		parts[i] = f.render.Counts(w.user, r)
		all = append(all, parts[i]...)
	}
	all = append(all, threads...)
	for _, s := range w.socks {
		if slices.Contains(w.lists, s) {
			continue // the whole lists carry the counts
		}
		data := all
		if i := slices.IndexFunc(w.counts, func(r chat.NavRoom) bool { return r.ID == s.RoomID }); i >= 0 {
			data = nil
			for j, p := range parts {
				if j != i {
					data = append(data, p...)
				}
			}
			data = append(data, threads...)
		}
		if len(data) == 0 {
			continue
		}
		s.push(Frame{Data: data}, h.cfg.QueueLen)
	}
}

// servesLocked reports whether a feed here counts the room.
func (f *feed) serves(roomID int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.rooms[roomID]) > 0
}

func (f *feed) roomIDs() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]int64, 0, len(f.rooms))
	for id := range f.rooms {
		ids = append(ids, id)
	}
	return ids
}
