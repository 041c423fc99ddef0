package live

import (
	"agora/chat"
)

// On a node of a cluster, a room's presence list holds the users who have it
// open here and those who have it open on other nodes; a user's arrival or
// departure is announced only when it changes that whole. The cluster
// package tells the hub about other nodes (SetRemoteOnline, RemoteTyping)
// and learns this node's changes through OnLocalPresence.

// remotePresence is what other nodes reported, kept apart from the hub's
// rooms: a room may be open elsewhere before anyone opens it here.
type remotePresence struct {
	rooms   map[int64]map[int64]*remoteUser // room -> user -> on how many other nodes
	users   map[int64]int                   // user -> (room, node) pairs, for OnlineSet
	onLocal func(roomID int64, u chat.User, online bool)
}

type remoteUser struct {
	user  chat.User
	nodes int
}

// OnLocalPresence sets fn to be told, under the hub's lock (so in order, and
// it must be quick), when a user opens the room here for the first time
// (true) or closes it here for the last time (false).
func (h *Hub) OnLocalPresence(fn func(roomID int64, u chat.User, online bool)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.remote.onLocal = fn
}

// localPresenceLocked records that user came online in the room here or
// left it, tells the hook, and tells the room if the change is one overall.
func (h *Hub) localPresenceLocked(roomID int64, r *hubRoom, user chat.User, online bool) {
	if h.remote.onLocal != nil {
		h.remote.onLocal(roomID, user, online)
	}
	if h.remote.rooms[roomID][user.ID] != nil {
		return // online elsewhere all along
	}
	h.presenceChangedLocked(roomID, r, user, online)
}

// SetRemoteOnline records that user has the room open on one more other
// node (online) or one fewer.
func (h *Hub) SetRemoteOnline(roomID int64, user chat.User, online bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	rp := &h.remote
	if rp.rooms == nil {
		rp.rooms, rp.users = make(map[int64]map[int64]*remoteUser), make(map[int64]int)
	}
	room := rp.rooms[roomID]
	o := room[user.ID]
	if online {
		if rp.users[user.ID]++; rp.users[user.ID] == 1 && len(h.users[user.ID]) == 0 {
			h.onlineChangedLocked(user, true) // DM partners' sidebars here light the dot
		}
		if o != nil {
			o.nodes++
			return
		}
		if room == nil {
			room = make(map[int64]*remoteUser)
			rp.rooms[roomID] = room
		}
		room[user.ID] = &remoteUser{user: user, nodes: 1}
	} else {
		if o == nil {
			return
		}
		if rp.users[user.ID]--; rp.users[user.ID] <= 0 {
			delete(rp.users, user.ID)
			if len(h.users[user.ID]) == 0 {
				h.onlineChangedLocked(user, false)
			}
		}
		if o.nodes--; o.nodes > 0 {
			return
		}
		delete(room, user.ID)
		if len(room) == 0 {
			delete(rp.rooms, roomID)
		}
	}
	if r := h.rooms[roomID]; r != nil && r.online[user.ID] == nil {
		h.presenceChangedLocked(roomID, r, user, online)
		if !online && r.typing[user.ID] != nil {
			r.typing[user.ID].timer.Stop()
			delete(r.typing, user.ID)
			h.typingLocked(roomID, r)
		}
	}
}

// RemoteTyping marks user, typing on another node, as typing in the room for
// the next TypingTTL.
func (h *Hub) RemoteTyping(roomID int64, user chat.User) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rooms[roomID]
	if r == nil {
		return
	}
	h.markTypingLocked(roomID, r, user)
}
