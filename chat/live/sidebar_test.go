package live

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"agora/chat"
)

// navStore is a store of sidebars: what Nav would read for each user.
type navStore struct {
	mu      sync.Mutex
	rooms   map[int64][]chat.NavRoom
	threads map[int64][]chat.NavThread
	reads   int
	// threadReads counts FollowedThread's.
	threadReads int
	fail        bool
}

func (n *navStore) Nav(_ context.Context, userID int64) ([]chat.NavRoom, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fail {
		return nil, errors.New("store down")
	}
	n.reads++
	return slices.Clone(n.rooms[userID]), nil
}

func (n *navStore) ThreadNav(_ context.Context, userID int64) ([]chat.NavThread, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.threads[userID]), nil
}

func (n *navStore) FollowedThread(_ context.Context, userID, rootID int64) (chat.NavThread, bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fail {
		return chat.NavThread{}, false, errors.New("store down")
	}
	n.threadReads++
	i := slices.IndexFunc(n.threads[userID], func(t chat.NavThread) bool { return t.RootID == rootID })
	if i < 0 {
		return chat.NavThread{}, false, nil
	}
	return n.threads[userID][i], true, nil
}

func (n *navStore) set(userID int64, rooms ...chat.NavRoom) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.rooms[userID] = rooms
}

// textSidebar renders sidebars as text: lists as [current|id:unread/mentions ...],
// a room's counts as <id:unread/mentions>.
type textSidebar struct{}

func (textSidebar) Lists(_ chat.User, rooms []chat.NavRoom, current int64, online map[int64]bool, threads int) []byte {
	var parts []string
	for _, r := range rooms {
		p := fmt.Sprintf("%d:%d/%d", r.ID, r.Unread, r.Mentions)
		if r.IsDM() && online[r.Peer.ID] {
			p += "*"
		}
		parts = append(parts, p)
	}
	if threads > 0 {
		parts = append(parts, fmt.Sprintf("T%d", threads))
	}
	return fmt.Appendf(nil, "[%d|%s]", current, strings.Join(parts, " "))
}

// Threads renders the followed threads' unread replies as {T:n}.
func (textSidebar) Threads(_ chat.User, n int) []byte { return fmt.Appendf(nil, "{T:%d}", n) }

func (textSidebar) Counts(_ chat.User, r chat.NavRoom) []byte {
	return fmt.Appendf(nil, "<%d:%d/%d>", r.ID, r.Unread, r.Mentions)
}

func navRoom(id int64, unread, mentions int, latest int64) chat.NavRoom {
	return chat.NavRoom{Room: chat.Room{ID: id, Kind: chat.KindRoom}, Member: true, Unread: unread, Mentions: mentions, LatestID: latest}
}

// feedHub is a hub whose sidebar ticks only when the test says.
func feedHub(t *testing.T, store *navStore) *Hub {
	h := NewHub(HubConfig{QueueLen: 64, SidebarEvery: time.Hour})
	h.StartFeed(store, textSidebar{}, func(err error) { t.Log(err) })
	t.Cleanup(func() { h.Close(CloseServiceRestart, "") })
	return h
}

// frames takes what waits for s, as the frames it was queued as.
func frames(s *Subscriber) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, f := range s.queue {
		out = append(out, string(f.Data))
	}
	s.queue = s.queue[:0]
	return out
}

var (
	ann  = chat.User{ID: 1, Username: "Ann"}
	bob  = chat.User{ID: 2, Username: "bob"}
	carl = chat.User{ID: 3, Username: "carl"}
)

func TestSidebarFollowsRoomAndUserEvents(t *testing.T) {
	store := &navStore{rooms: map[int64][]chat.NavRoom{}}
	// Ann is a member of rooms 10, 11, 12 and 13; 12 had 2 unread, one a mention.
	store.set(ann.ID, navRoom(10, 0, 0, 100), navRoom(11, 0, 0, 110), navRoom(12, 2, 1, 120), navRoom(13, 0, 0, 130))
	h := feedHub(t, store)
	inA, _ := h.Subscribe(10, ann, "phone")
	inB, _ := h.Subscribe(11, ann, "laptop")
	h.SidebarFor(inA) // reconnected: it may have missed changes
	h.SidebarFor(inB)
	h.feedTick()
	if got := frames(inA); !slices.Equal(got, []string{"[10|10:0/0 11:0/0 12:2/1 13:0/0]"}) {
		t.Errorf("socket in 10 first got %q", got)
	}
	if got := frames(inB); !slices.Equal(got, []string{"[11|10:0/0 11:0/0 12:2/1 13:0/0]"}) {
		t.Errorf("socket in 11 first got %q", got)
	}
	if store.reads != 1 {
		t.Errorf("the store was read %d times for one user's two sockets", store.reads)
	}

	tests := []struct {
		name    string
		events  []Event
		user    []chat.UserEvent
		wantA   []string // frames for the socket in 10
		wantB   []string // frames for the socket in 11
		reloads int      // reads of the store it takes
	}{
		{name: "a message elsewhere: one count for both sockets",
			events: []Event{{RoomID: 12, MsgID: 121, Unread: true, Author: bob.ID}},
			wantA:  []string{"<12:3/1>"}, wantB: []string{"<12:3/1>"}},
		{name: "a message in a room she has open counts nowhere",
			events: []Event{{RoomID: 10, MsgID: 101, Unread: true, Author: bob.ID, Mentioned: []string{"ann"}}},
			wantA:  nil, wantB: nil},
		{name: "many messages in many rooms: one frame per socket per tick",
			events: []Event{
				{RoomID: 12, MsgID: 122, Unread: true, Author: bob.ID},
				{RoomID: 13, MsgID: 131, Unread: true, Author: carl.ID, Mentioned: []string{"ann"}},
				{RoomID: 12, MsgID: 123, Unread: true, Author: carl.ID},
				{RoomID: 13, MsgID: 132, Unread: true, Author: bob.ID},
				{RoomID: 14, MsgID: 141, Unread: true, Author: bob.ID}, // not hers
			},
			wantA: []string{"<12:5/1><13:2/1>"}, wantB: []string{"<12:5/1><13:2/1>"}},
		{name: "her own message, a notice, a message already counted: nothing",
			events: []Event{{RoomID: 12, MsgID: 124, Unread: true, Author: ann.ID}, {RoomID: 12, MsgID: 125, Author: bob.ID},
				{RoomID: 13, MsgID: 130, Unread: true, Author: bob.ID}}},
		{name: "read on a third device clears the badge on both",
			user:  []chat.UserEvent{{Kind: chat.UserRead, UserID: ann.ID, RoomID: 12, UpTo: 124}},
			wantA: []string{"<12:0/0>"}, wantB: []string{"<12:0/0>"}},
		{name: "someone else's read changes nothing here",
			user: []chat.UserEvent{{Kind: chat.UserRead, UserID: bob.ID, RoomID: 13, UpTo: 200}}},
		{name: "a read up to an older message keeps what came after",
			user:  []chat.UserEvent{{Kind: chat.UserRead, UserID: ann.ID, RoomID: 13, UpTo: 131}},
			wantA: []string{"<13:1/0>"}, wantB: []string{"<13:1/0>"}},
		{name: "joining a room reads the lists again, and its messages count",
			user:    []chat.UserEvent{{Kind: chat.UserJoined, UserID: ann.ID, RoomID: 14}},
			events:  []Event{{RoomID: 14, MsgID: 142, Unread: true, Author: bob.ID}},
			wantA:   []string{"[10|10:0/0 11:0/0 12:0/0 13:1/0 14:2/0]"},
			wantB:   []string{"[11|10:0/0 11:0/0 12:0/0 13:1/0 14:2/0]"},
			reloads: 1},
		{name: "a room renamed or archived reads the lists again",
			events:  []Event{{RoomID: 13, Seq: 9, Relist: true}},
			wantA:   []string{"[10|10:0/0 11:0/0 12:0/0 13:1/0 14:2/0]"},
			wantB:   []string{"[11|10:0/0 11:0/0 12:0/0 13:1/0 14:2/0]"},
			reloads: 1},
	}
	for _, tc := range tests {
		if tc.name == "joining a room reads the lists again, and its messages count" {
			// What the store says once she joined: 14 with one unread, up to 141.
			store.set(ann.ID, navRoom(10, 0, 0, 101), navRoom(11, 0, 0, 110), navRoom(12, 0, 0, 124),
				navRoom(13, 1, 0, 132), navRoom(14, 1, 0, 141))
		}
		reads := store.reads
		for _, ev := range tc.user {
			h.DeliverUser(ev)
		}
		for _, ev := range tc.events {
			h.Deliver(ev)
		}
		h.feedTick()
		if got := frames(inA); !slices.Equal(got, tc.wantA) {
			t.Errorf("%s: the socket in 10 got %q, want %q", tc.name, got, tc.wantA)
		}
		if got := frames(inB); !slices.Equal(got, tc.wantB) {
			t.Errorf("%s: the socket in 11 got %q, want %q", tc.name, got, tc.wantB)
		}
		if store.reads-reads != tc.reloads {
			t.Errorf("%s: the store was read %d times, want %d", tc.name, store.reads-reads, tc.reloads)
		}
	}
}

// A room a user has open on this node is being read: its messages do not
// count on the user's other sockets, and the page they load next shows none.
func TestSidebarDoesNotCountTheRoomBeingRead(t *testing.T) {
	store := &navStore{rooms: map[int64][]chat.NavRoom{}}
	store.set(ann.ID, navRoom(10, 0, 0, 100), navRoom(11, 0, 0, 110))
	h := feedHub(t, store)
	inA, _ := h.Subscribe(10, ann, "phone")
	inB, _ := h.Subscribe(11, ann, "laptop")
	h.feedTick()
	frames(inA)
	frames(inB)
	h.Deliver(Event{RoomID: 11, MsgID: 111, Unread: true, Author: bob.ID})
	h.feedTick()
	if got := frames(inA); len(got) != 0 {
		t.Errorf("the socket in 10 got %q for a message in 11, which ann has open", got)
	}
}

// Messages that arrive while a user's sidebar is being read from the store
// are counted once: those the store saw are not counted again.
func TestSidebarCountsWhatArrivedWhileItWasRead(t *testing.T) {
	store := &navStore{rooms: map[int64][]chat.NavRoom{}}
	h := feedHub(t, store)
	// Delivered before ann's sidebar is read: 121 is in what the store
	// says, 122 came after.
	h.Deliver(Event{RoomID: 12, MsgID: 121, Unread: true, Author: bob.ID})
	h.Deliver(Event{RoomID: 12, MsgID: 122, Unread: true, Author: bob.ID, Mentioned: []string{"ann"}})
	store.set(ann.ID, navRoom(10, 0, 0, 100), navRoom(12, 3, 0, 121))
	inA, _ := h.Subscribe(10, ann, "phone")
	h.SidebarFor(inA)
	h.feedTick()
	if got := frames(inA); !slices.Contains(got, "[10|10:0/0 12:4/1]") {
		t.Errorf("got %q", got)
	}
}

// A store that cannot answer leaves the sidebar as it was and is asked again
// at the next tick.
func TestSidebarRetriesTheStore(t *testing.T) {
	store := &navStore{rooms: map[int64][]chat.NavRoom{}, fail: true}
	store.set(ann.ID, navRoom(10, 0, 0, 100), navRoom(12, 1, 0, 120))
	h := feedHub(t, store)
	inA, _ := h.Subscribe(10, ann, "phone")
	h.SidebarFor(inA)
	h.feedTick()
	if got := frames(inA); slices.ContainsFunc(got, func(f string) bool { return strings.HasPrefix(f, "[") }) {
		t.Errorf("got %q from a store that failed", got)
	}
	store.fail = false
	h.feedTick()
	if got := frames(inA); !slices.Contains(got, "[10|10:0/0 12:1/0]") {
		t.Errorf("got %q", got)
	}
}

// The dot beside a conversation follows the partner, on this node or another.
func TestSidebarDotsFollowPartners(t *testing.T) {
	store := &navStore{rooms: map[int64][]chat.NavRoom{}}
	dm := chat.NavRoom{Room: chat.Room{ID: 20, Kind: chat.KindDM}, Member: true, Peer: bob}
	store.set(ann.ID, navRoom(10, 0, 0, 100), dm)
	h := feedHub(t, store)
	inA, _ := h.Subscribe(10, ann, "phone")
	h.feedTick()
	if got := frames(inA); !slices.Contains(got, "[10|10:0/0 20:0/0]") {
		t.Errorf("got %q", got)
	}
	bobs, _ := h.Subscribe(10, bob, "b")
	h.feedTick()
	if got := frames(inA); !slices.Contains(got, "[10|10:0/0 20:0/0*]") {
		t.Errorf("with bob online here, got %q", got)
	}
	h.Unsubscribe(bobs)
	h.SetRemoteOnline(30, bob, true)
	h.feedTick()
	if got := frames(inA); !slices.Contains(got, "[10|10:0/0 20:0/0*]") {
		t.Errorf("with bob online on another node, got %q", got)
	}
	h.SetRemoteOnline(30, bob, false)
	h.feedTick()
	if got := frames(inA); !slices.Contains(got, "[10|10:0/0 20:0/0]") {
		t.Errorf("with bob gone, got %q", got)
	}
}

// The rooms a sidebar counts are served: the relay fills their gaps.
func TestSidebarRoomsAreServed(t *testing.T) {
	store := &navStore{rooms: map[int64][]chat.NavRoom{}}
	store.set(ann.ID, navRoom(10, 0, 0, 100), navRoom(12, 0, 0, 120))
	h := feedHub(t, store)
	s, _ := h.Subscribe(10, ann, "phone")
	h.feedTick()
	if !h.Serves(12) || h.Serves(13) {
		t.Errorf("serves 12: %v, 13: %v", h.Serves(12), h.Serves(13))
	}
	rooms := h.Rooms()
	slices.Sort(rooms)
	if !slices.Equal(rooms, []int64{10, 12}) {
		t.Errorf("rooms %v", rooms)
	}
	h.Unsubscribe(s)
	if h.Serves(12) || len(h.Rooms()) != 0 {
		t.Errorf("still serves %v once ann left", h.Rooms())
	}
}

// A reply counts for those who follow its thread (not in its room's badge),
// on every socket of theirs but one that has the thread open; reading the
// thread on one device clears it on all; a new follow or unfollow reads
// that thread again, alone.
func TestSidebarCountsFollowedThreads(t *testing.T) {
	store := &navStore{rooms: map[int64][]chat.NavRoom{}, threads: map[int64][]chat.NavThread{}}
	store.set(ann.ID, navRoom(10, 0, 0, 100), navRoom(11, 0, 0, 110))
	store.threads[ann.ID] = []chat.NavThread{{RootID: 90, Room: chat.Room{ID: 10, Kind: chat.KindRoom}, Member: true, Unread: 1, LatestID: 95}}
	h := feedHub(t, store)
	phone, _ := h.Subscribe(11, ann, "phone")
	laptop, _ := h.Subscribe(11, ann, "laptop")
	h.feedTick()
	for _, s := range []*Subscriber{phone, laptop} {
		if got := frames(s); !slices.Equal(got, []string{"[11|10:0/0 11:0/0 T1]"}) {
			t.Fatalf("first frames %q; want the lists with one unread thread reply", got)
		}
	}
	h.feed.event(Event{RoomID: 10, MsgID: 101, Author: bob.ID, Thread: 90})
	h.feed.event(Event{RoomID: 10, MsgID: 102, Author: bob.ID, Thread: 77}) // a thread ann does not follow
	h.feed.event(Event{RoomID: 10, MsgID: 103, Author: ann.ID, Thread: 90}) // her own reply
	h.feedTick()
	for _, s := range []*Subscriber{phone, laptop} {
		if got := frames(s); !slices.Equal(got, []string{"{T:2}"}) {
			t.Fatalf("after a reply: %q; want {T:2} and no room count", got)
		}
	}
	// Read on the phone (it opened the thread): cleared on both.
	h.feed.user(chat.UserEvent{Kind: chat.UserThreadRead, UserID: ann.ID, Thread: 90, UpTo: 103})
	h.feedTick()
	for _, s := range []*Subscriber{phone, laptop} {
		if got := frames(s); !slices.Equal(got, []string{"{T:0}"}) {
			t.Fatalf("after reading: %q; want {T:0}", got)
		}
	}
	// With the thread open on a socket, its replies are read as they come.
	open, _ := h.SubscribeThread(10, 90, ann, "tablet")
	h.feedTick()
	frames(phone)
	frames(laptop)
	frames(open)
	h.feed.event(Event{RoomID: 10, MsgID: 104, Author: bob.ID, Thread: 90})
	h.feedTick()
	if got := frames(laptop); len(got) != 0 {
		t.Fatalf("a reply to a thread open on another device counted: %q", got)
	}
	// A new follow reads that thread alone: the Threads count, not the lists.
	store.mu.Lock()
	store.threads[ann.ID] = append(store.threads[ann.ID], chat.NavThread{RootID: 80, Room: chat.Room{ID: 11, Kind: chat.KindRoom}, Member: true, Unread: 3, LatestID: 99})
	navReads := store.reads
	store.mu.Unlock()
	h.feed.user(chat.UserEvent{Kind: chat.UserFollow, UserID: ann.ID, Thread: 80})
	h.feedTick()
	if got := frames(laptop); !slices.Equal(got, []string{"{T:3}"}) {
		t.Fatalf("after a follow: %q; want {T:3}", got)
	}
	// A reply the tick had not seen when the store was read counts once.
	store.mu.Lock()
	store.threads[ann.ID][1].Unread, store.threads[ann.ID][1].LatestID = 4, 105
	store.mu.Unlock()
	h.feed.event(Event{RoomID: 11, MsgID: 105, Author: bob.ID, Thread: 80})
	h.feed.user(chat.UserEvent{Kind: chat.UserFollow, UserID: ann.ID, Thread: 80})
	h.feedTick()
	if got := frames(laptop); !slices.Equal(got, []string{"{T:4}"}) {
		t.Fatalf("a reply and the store's count of it: %q; want {T:4}", got)
	}
	// A thread in a room ann may no longer read does not count.
	store.mu.Lock()
	store.threads[ann.ID] = append(store.threads[ann.ID], chat.NavThread{RootID: 70, Room: chat.Room{ID: 12, Kind: chat.KindRoom, Private: true}, Unread: 5, LatestID: 99})
	store.mu.Unlock()
	h.feed.user(chat.UserEvent{Kind: chat.UserFollow, UserID: ann.ID, Thread: 70})
	h.feedTick()
	if got := frames(laptop); !slices.Equal(got, []string{"{T:4}"}) {
		t.Fatalf("a thread of a private room she left counted: %q", got)
	}
	// An unfollow takes the thread's count away; replies to it count no more.
	store.mu.Lock()
	store.threads[ann.ID] = slices.DeleteFunc(store.threads[ann.ID], func(t chat.NavThread) bool { return t.RootID == 80 })
	store.mu.Unlock()
	h.feed.user(chat.UserEvent{Kind: chat.UserFollow, UserID: ann.ID, Thread: 80})
	h.feedTick()
	h.feed.event(Event{RoomID: 11, MsgID: 106, Author: bob.ID, Thread: 80})
	h.feedTick()
	if got := frames(laptop); !slices.Equal(got, []string{"{T:0}"}) {
		t.Fatalf("after unfollowing: %q; want {T:0} alone", got)
	}
	// A store that fails is asked again at the next tick.
	store.mu.Lock()
	store.fail = true
	store.threads[ann.ID] = append(store.threads[ann.ID], chat.NavThread{RootID: 60, Room: chat.Room{ID: 11, Kind: chat.KindRoom}, Member: true, Unread: 2, LatestID: 107})
	store.mu.Unlock()
	h.feed.user(chat.UserEvent{Kind: chat.UserFollow, UserID: ann.ID, Thread: 60})
	h.feedTick()
	if got := frames(laptop); len(got) != 0 {
		t.Fatalf("a failed read sent %q", got)
	}
	store.mu.Lock()
	store.fail = false
	store.mu.Unlock()
	h.feedTick()
	if got := frames(laptop); !slices.Equal(got, []string{"{T:2}"}) {
		t.Fatalf("after the store came back: %q; want {T:2}", got)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	if store.reads != navReads || store.threadReads != 5 {
		t.Fatalf("%d sidebar reads and %d thread reads for the follows; want none and 5 (the failed one is not counted)", store.reads-navReads, store.threadReads)
	}
}
