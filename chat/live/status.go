package live

import "agora/chat"

// How people show beside their names (active, away, do not disturb, and
// their status line) is the server's to say: the hub asks it whenever it
// lists someone, and is told when it changed for someone.

// SetPresenceOf sets how the hub learns how a user shows when it lists
// them. fn is called under the hub's lock: it must be quick and never wait.
func (h *Hub) SetPresenceOf(fn func(u chat.User, online bool) chat.Presence) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.presenceOf = fn
}

// shownLocked is u with how they show now.
func (h *Hub) shownLocked(u chat.User, online bool) chat.User {
	if h.presenceOf != nil {
		u.Presence = h.presenceOf(u, online)
	}
	return u
}

// shown is u with how they show now, for callers without the lock.
func (h *Hub) shown(u chat.User, online bool) chat.User {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.shownLocked(u, online)
}

// OnlineUsers returns the users with a socket open here or, in a cluster,
// in a room on another node.
func (h *Hub) OnlineUsers() []chat.User {
	h.mu.RLock()
	defer h.mu.RUnlock()
	users := make([]chat.User, 0, len(h.users)+len(h.remote.users))
	for _, socks := range h.users {
		users = append(users, socks[0].User)
	}
	seen := make(map[int64]bool)
	for _, room := range h.remote.rooms {
		for id, o := range room {
			if len(h.users[id]) == 0 && !seen[id] {
				seen[id] = true
				users = append(users, o.user)
			}
		}
	}
	return users
}

// StatusChanged tells the hub that how the user shows changed: inRoom
// (which replaces them in presence and member lists) goes to every room
// that lists them as online, and toPeer (the header of a direct
// conversation with them) to the sockets of everyone holding one, whose
// sidebars are drawn again.
func (h *Hub) StatusChanged(userID int64, inRoom, toPeer Fragment) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for roomID, r := range h.rooms {
		if r.online[userID] == nil && h.remote.rooms[roomID][userID] == nil {
			continue
		}
		r.presence = nil
		f := newByLang(Frame{Data: inRoom.Data}, inRoom.In)
		for _, s := range r.subs {
			s.push(f.frameFor(s), h.cfg.QueueLen)
		}
	}
	if h.feed != nil {
		h.feed.statusChanged(userID, toPeer, h.cfg.QueueLen)
	}
}

// statusChanged redraws the sidebars listing a conversation with the user
// and sends their sockets f.
func (f *feed) statusChanged(userID int64, frag Fragment, limit int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fr := newByLang(Frame{Data: frag.Data}, frag.In)
	for uf := range f.peers[userID] {
		uf.redraw = true
		f.markLocked(uf)
		for _, s := range uf.socks {
			s.push(fr.frameFor(s), limit)
		}
	}
}
