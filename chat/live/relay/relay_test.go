package relay

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
	"agora/chat/live"
)

// fakeSource is a store of room logs: room -> events 1..n.
type fakeSource struct {
	mu   sync.Mutex
	logs map[int64][]chat.Event
	fail bool
}

func (f *fakeSource) add(roomID int64, n int) []chat.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	var added []chat.Event
	for range n {
		seq := int64(len(f.logs[roomID]) + 1)
		ev := chat.Event{RoomID: roomID, Seq: seq, Kind: chat.EventMessage, Message: chat.Message{ID: roomID*1000 + seq, RoomID: roomID}}
		f.logs[roomID] = append(f.logs[roomID], ev)
		added = append(added, ev)
	}
	return added
}

func (f *fakeSource) RoomSeqs(_ context.Context, ids []int64) (map[int64]int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return nil, errors.New("store down")
	}
	out := map[int64]int64{}
	for id, log := range f.logs {
		if ids == nil || slices.Contains(ids, id) {
			out[id] = int64(len(log))
		}
	}
	return out, nil
}

func (f *fakeSource) EventsAfter(_ context.Context, roomID, after int64, limit int) ([]chat.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return nil, errors.New("store down")
	}
	log := f.logs[roomID]
	if after >= int64(len(log)) {
		return nil, nil
	}
	out := log[after:]
	return slices.Clone(out[:min(limit, len(out))]), nil
}

type fakeRenderer struct{}

func (fakeRenderer) Render(e chat.Event) live.Event {
	return live.Event{RoomID: e.RoomID, Seq: e.Seq, Data: fmt.Appendf(nil, "%d:%d", e.RoomID, e.Seq)}
}

// fakeSink records what was delivered, as "room:seq".
type fakeSink struct {
	mu     sync.Mutex
	got    []string
	users  []chat.UserEvent
	serves []int64
	signal chan struct{}
}

func (f *fakeSink) Deliver(ev live.Event) {
	f.mu.Lock()
	f.got = append(f.got, string(ev.Data))
	f.mu.Unlock()
	if f.signal != nil {
		f.signal <- struct{}{}
	}
}

func (f *fakeSink) DeliverUser(ev chat.UserEvent) {
	f.mu.Lock()
	f.users = append(f.users, ev)
	f.mu.Unlock()
	if f.signal != nil {
		f.signal <- struct{}{}
	}
}

func (f *fakeSink) Serves(roomID int64) bool { return slices.Contains(f.serves, roomID) }
func (f *fakeSink) Rooms() []int64           { return f.serves }

func (f *fakeSink) delivered() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.got, " ")
}

// ev is the event seq of room as the writer hands it over.
func ev(room, seq int64) chat.Event {
	return chat.Event{RoomID: room, Seq: seq, Kind: chat.EventMessage, Message: chat.Message{ID: room*1000 + seq, RoomID: room}}
}

func TestRelayOrdersDuplicatesAndGaps(t *testing.T) {
	tests := []struct {
		name     string
		stored   map[int64]int // room -> events in the store before start
		later    map[int64]int // room -> events committed after start
		serves   []int64
		arrive   []chat.Event // what the relay is handed, in this order
		failFill bool
		tails    bool // a tail check runs after the arrivals
		want     string
	}{
		{name: "in order", later: map[int64]int{1: 3}, serves: []int64{1},
			arrive: []chat.Event{ev(1, 1), ev(1, 2), ev(1, 3)}, want: "1:1 1:2 1:3"},
		{name: "duplicates are dropped", later: map[int64]int{1: 3}, serves: []int64{1},
			arrive: []chat.Event{ev(1, 1), ev(1, 2), ev(1, 2), ev(1, 1), ev(1, 3), ev(1, 3)}, want: "1:1 1:2 1:3"},
		{name: "what was committed before start is no news", stored: map[int64]int{1: 5}, later: map[int64]int{1: 1}, serves: []int64{1},
			arrive: []chat.Event{ev(1, 4), ev(1, 5), ev(1, 6)}, want: "1:6"},
		{name: "a gap is filled from the store before the event", later: map[int64]int{1: 4}, serves: []int64{1},
			arrive: []chat.Event{ev(1, 1), ev(1, 4), ev(1, 2), ev(1, 3)}, want: "1:1 1:2 1:3 1:4"},
		{name: "a gap at the start of a room", stored: map[int64]int{1: 2}, later: map[int64]int{1: 3}, serves: []int64{1},
			arrive: []chat.Event{ev(1, 5)}, want: "1:3 1:4 1:5"},
		{name: "a gap in a room nobody here serves is skipped", later: map[int64]int{1: 5}, serves: nil,
			arrive: []chat.Event{ev(1, 1), ev(1, 4), ev(1, 2), ev(1, 5)}, want: "1:1 1:4 1:5"},
		{name: "rooms are ordered apart", later: map[int64]int{1: 2, 2: 2}, serves: []int64{1, 2},
			arrive: []chat.Event{ev(2, 1), ev(1, 1), ev(2, 2), ev(1, 2)}, want: "2:1 1:1 2:2 1:2"},
		{name: "a lost tail is found by the tail check", later: map[int64]int{1: 3}, serves: []int64{1},
			arrive: []chat.Event{ev(1, 1)}, tails: true, want: "1:1 1:2 1:3"},
		{name: "the tail check reads only rooms served", later: map[int64]int{1: 3, 2: 2}, serves: []int64{2},
			arrive: nil, tails: true, want: "2:1 2:2"},
		{name: "a fill that fails delivers nothing out of order", later: map[int64]int{1: 3}, serves: []int64{1},
			arrive: []chat.Event{ev(1, 1), ev(1, 3)}, failFill: true, want: "1:1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := &fakeSource{logs: map[int64][]chat.Event{}}
			for room, n := range tc.stored {
				src.add(room, n)
			}
			sink := &fakeSink{serves: tc.serves}
			r := New(src, fakeRenderer{}, sink, Options{})
			if err := r.loadSeqs(context.Background()); err != nil {
				t.Fatal(err)
			}
			for room, n := range tc.later {
				src.add(room, n)
			}
			src.fail = tc.failFill
			for _, e := range tc.arrive {
				r.accept(e)
			}
			if tc.tails {
				r.checkTails()
			}
			if got := sink.delivered(); got != tc.want {
				t.Errorf("delivered %q, want %q", got, tc.want)
			}
		})
	}
}

// A fill that failed is done by the next tail check: nothing is lost.
func TestRelayFillsLaterWhatTheStoreCouldNotGive(t *testing.T) {
	src := &fakeSource{logs: map[int64][]chat.Event{}}
	sink := &fakeSink{serves: []int64{1}}
	r := New(src, fakeRenderer{}, sink, Options{})
	if err := r.loadSeqs(context.Background()); err != nil {
		t.Fatal(err)
	}
	src.add(1, 3)
	r.accept(ev(1, 1))
	src.fail = true
	r.accept(ev(1, 3))
	src.fail = false
	r.checkTails()
	r.accept(ev(1, 3))
	if got, want := sink.delivered(), "1:1 1:2 1:3"; got != want {
		t.Errorf("delivered %q, want %q", got, want)
	}
}

// A queue that overflowed is made good from the store, and user events keep
// their place among room events.
func TestRelayQueueOverflow(t *testing.T) {
	src := &fakeSource{logs: map[int64][]chat.Event{}}
	sink := &fakeSink{serves: []int64{1}}
	r := New(src, fakeRenderer{}, sink, Options{QueueLen: 2})
	if err := r.loadSeqs(context.Background()); err != nil {
		t.Fatal(err)
	}
	events := src.add(1, 5)
	r.Accept(events[:1])
	r.AcceptUser(chat.UserEvent{Kind: chat.UserRead, UserID: 7, RoomID: 1, UpTo: 1001})
	r.Accept(events[1:3]) // over QueueLen: dropped
	r.Accept(events[3:4]) // revealing the gap
	drain := func() {
		batch := r.queue
		r.queue, r.queued = nil, 0
		r.handle(batch)
	}
	drain()
	r.Accept(events[4:])
	drain()
	if got, want := sink.delivered(), "1:1 1:2 1:3 1:4 1:5"; got != want {
		t.Errorf("delivered %q, want %q", got, want)
	}
	if len(sink.users) != 1 || sink.users[0].UpTo != 1001 {
		t.Errorf("user events %+v", sink.users)
	}
}

// Through its goroutine: what is accepted is delivered, in order.
func TestRelayRuns(t *testing.T) {
	src := &fakeSource{logs: map[int64][]chat.Event{}}
	sink := &fakeSink{serves: []int64{1}, signal: make(chan struct{}, 64)}
	r := New(src, fakeRenderer{}, sink, Options{})
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	events := src.add(1, 3)
	r.Accept(events[:2])
	r.AcceptUser(chat.UserEvent{Kind: chat.UserJoined, UserID: 7, RoomID: 1})
	r.Accept(events[2:])
	for range 4 {
		select {
		case <-sink.signal:
		case <-time.After(10 * time.Second):
			t.Fatalf("delivered only %q", sink.delivered())
		}
	}
	if got, want := sink.delivered(), "1:1 1:2 1:3"; got != want {
		t.Errorf("delivered %q, want %q", got, want)
	}
}

// Without the store's word at start, a room's first event is taken as its
// start; the store's word, once it comes, takes nothing back.
func TestRelayStartWithoutTheStore(t *testing.T) {
	src := &fakeSource{logs: map[int64][]chat.Event{}, fail: true}
	sink := &fakeSink{}
	r := New(src, fakeRenderer{}, sink, Options{})
	if err := r.loadSeqs(context.Background()); err == nil {
		t.Fatal("no error from a failing store")
	}
	r.accept(ev(1, 3))
	src.fail = false
	if err := r.loadSeqs(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.accept(ev(1, 4))
	if got, want := sink.delivered(), "1:3 1:4"; got != want {
		t.Errorf("delivered %q, want %q", got, want)
	}
}
