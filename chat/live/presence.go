package live

import (
	"slices"
	"strings"

	"agora/chat"
)

type onlineUser struct {
	user  chat.User
	conns int
}

// OnOnlineChange sets fn to be told, on a goroutine of its own, when a user
// opens their first socket anywhere (true) or closes their last (false):
// on this node or, in a cluster, on any other (see SetRemoteOnline).
func (h *Hub) OnOnlineChange(fn func(u chat.User, online bool)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.onOnline = fn
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
	if h.feed != nil {
		h.feed.online(u.ID) // the dots of those who hold a conversation with them
	}
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

// presenceChangedLocked tells the room that user came online or went away.
// h.mu is held for writing, so every subscriber sees the changes in the order
// they happened, after the full list it got on subscribing.
func (h *Hub) presenceChangedLocked(roomID int64, r *hubRoom, user chat.User, online bool) {
	r.presence = nil
	if h.cfg.PresenceChange == nil {
		return
	}
	shown := h.shownLocked(user, online)
	f := newByLang(Frame{Data: h.cfg.PresenceChange(roomID, shown, online, "en")}, func(code string) []byte {
		return h.cfg.PresenceChange(roomID, shown, online, code)
	})
	for _, s := range r.subs {
		s.push(f.frameFor(s), h.cfg.QueueLen)
	}
}

// onlineListLocked lists who has the room open here or on another node.
func (h *Hub) onlineListLocked(roomID int64, r *hubRoom) []chat.User {
	var users []chat.User
	if r != nil {
		users = make([]chat.User, 0, len(r.online))
		for _, o := range r.online {
			users = append(users, h.shownLocked(o.user, true))
		}
	}
	for id, o := range h.remote.rooms[roomID] {
		if r == nil || r.online[id] == nil {
			users = append(users, h.shownLocked(o.user, true))
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

// Online returns the users with a socket open in the room, sorted by name.
func (h *Hub) Online(roomID int64) []chat.User {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.onlineListLocked(roomID, h.rooms[roomID])
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

// LookingAt returns which of the users have the room open on a page they
// can see: a socket of theirs in it here whose page is visible (see
// Subscriber.SetHidden) or, in a cluster, the room open on another node,
// whose pages' visibility this node is not told.
func (h *Hub) LookingAt(roomID int64, userIDs []int64) map[int64]bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make(map[int64]bool, len(userIDs))
	for _, id := range userIDs {
		if h.remote.rooms[roomID][id] != nil {
			out[id] = true
			continue
		}
		for _, s := range h.users[id] {
			if s.RoomID == roomID && !s.hidden.Load() {
				out[id] = true
				break
			}
		}
	}
	return out
}
