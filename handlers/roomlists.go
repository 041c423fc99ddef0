package handlers

import (
	"sync"
	"sync/atomic"

	"agora/chat"
	"agora/views"
)

// roomLists keeps what a room page shows of its room, keyed by the room's
// version (its seq, which every event of the room moves, topic changes
// among them, and the store's counter of account and membership changes,
// which names, tags and member lists follow): the messages, topic and
// members read from the store, and the message list rendered once for each
// ListLook (reader's zone, clock, "new messages" line). Reading and
// rendering 50 messages was most of a page's cost; every reader of an
// unchanged room now shares them. A changed room or account makes a new
// key, so nothing stale is ever served, on any node; old keys just age out.
type roomLists struct {
	mu      sync.Mutex
	entries map[listKey]*roomList
	bytes   atomic.Int64 // rendered bytes held, at most roomListBytes
}

// What the cache may hold: enough for the pages of a few hundred busy
// rooms, little beside the sockets' memory.
const (
	roomListBytes    = 16 << 20
	roomListEntries  = 1024
	roomListLooksMax = 8 // renderings per entry (readers' zones and clocks)
)

type listKey struct {
	room, seq, people int64
	slug              string // links in the list name it
	before, around    int64  // the window (see window)
}

// roomList is what a room page shows of the room at one version: one
// window of its messages, its topic and members. Shared by every page: read
// only.
type roomList struct {
	msgs         []chat.Message
	older, newer bool
	topic        string
	members      []chat.User

	mu       sync.Mutex
	rendered map[views.ListLook]*sharedHTML
	people   map[uint64]*sharedHTML // RoomMembers by views.RoomView.MembersKey
	size     int
	dropped  bool // out of the cache: renderings are no longer kept
}

func newRoomLists() *roomLists {
	return &roomLists{entries: map[listKey]*roomList{}}
}

func (c *roomLists) get(k listKey) *roomList {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries[k]
}

// put keeps l for k, making room first: entries of the same room at older
// versions go at once, and others at random while the cache is full.
func (c *roomLists) put(k listKey, l *roomList) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for old, e := range c.entries {
		if old.room == k.room && (old.seq < k.seq || old.people < k.people) {
			c.drop(old, e)
		}
	}
	for old, e := range c.entries {
		if len(c.entries) < roomListEntries && c.bytes.Load() < roomListBytes {
			break
		}
		c.drop(old, e)
	}
	c.entries[k] = l
}

func (c *roomLists) drop(k listKey, e *roomList) {
	delete(c.entries, k)
	e.mu.Lock()
	e.dropped = true
	c.bytes.Add(-int64(e.size))
	e.mu.Unlock()
}

// render returns the list as look shows it, rendering it the first time.
func (c *roomLists) render(l *roomList, look views.ListLook, draw func() []byte) *sharedHTML {
	return renderOnce(c, l, &l.rendered, look, draw)
}

// renderMembers returns the member list with those online that online
// names, rendering it the first time.
func (c *roomLists) renderMembers(l *roomList, online uint64, draw func() []byte) *sharedHTML {
	return renderOnce(c, l, &l.people, online, draw)
}

// renderOnce returns what draw renders for k, kept in *m: a few of them
// per entry, while the entry is in the cache. Kept, it is encoded once too
// (see sharedHTML).
func renderOnce[K comparable](c *roomLists, l *roomList, m *map[K]*sharedHTML, k K, draw func() []byte) *sharedHTML {
	l.mu.Lock()
	b, ok := (*m)[k]
	l.mu.Unlock()
	if ok {
		return b
	}
	b = newSharedHTML(draw())
	l.mu.Lock()
	if kept, ok := (*m)[k]; ok {
		b = kept // drawn at once by another page: its encodings are made once
	} else if !l.dropped && len(*m) < roomListLooksMax {
		if *m == nil {
			*m = map[K]*sharedHTML{}
		}
		(*m)[k] = b
		// Its two encodings come to about a fifth of it more.
		n := len(b.html) + len(b.html)/5
		l.size += n
		c.bytes.Add(int64(n))
	}
	l.mu.Unlock()
	return b
}
