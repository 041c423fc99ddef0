package handlers

import (
	"context"
	"sort"
	"sync"
	"time"

	"agora/chat"
)

// The event streams of a node share one read of the rooms' log: each room
// event wakes the tail, which reads what committed since its last read,
// once, for every room, and renders each event's JSON once. A stream then
// picks from the tail what its user may read, asking the access policy
// (a public room needs no query; a membership is asked once per room and
// again only after it may have changed). Before, every event woke every
// stream for a query of its own: a thousand streams made one post cost a
// thousand reads.
//
// The tail keeps the latest tailKeep events. A stream further behind (a
// replay after Last-Event-ID) reads its own way up to the tail, as before.

const tailKeep = 4096

// tailEvent is one event as every stream sends it.
type tailEvent struct {
	id   int64
	room chat.Room
	typ  string // the SSE event name
	data []byte // the apiEvent, as JSON
	// about is the user a notice is about (its author), who is told even
	// when the notice ends their membership: it is written while they are
	// still a member, and a stream reads it when they may be one no more.
	about int64
}

type eventTail struct {
	read  func(ctx context.Context, after int64, limit int) ([]chat.Event, error)
	room  func(ctx context.Context, id int64) (chat.Room, error)
	start func(ctx context.Context) (int64, error) // the latest event id now
	onErr func(error)

	wake chan struct{}

	mu      sync.Mutex
	started bool
	from    int64       // the tail holds every event with an id above from...
	events  []tailEvent // ...in id order, up to the latest it read
	rooms   map[int64]chat.Room
	epochs  map[int64]uint64 // per room: moves when a membership in it may have changed
	changed chan struct{}    // closed (and made anew) when events arrive
}

func newEventTail(read func(context.Context, int64, int) ([]chat.Event, error), room func(context.Context, int64) (chat.Room, error), start func(context.Context) (int64, error), onErr func(error)) *eventTail {
	return &eventTail{read: read, room: room, start: start, onErr: onErr, wake: make(chan struct{}, 1),
		rooms: map[int64]chat.Room{}, epochs: map[int64]uint64{}, changed: make(chan struct{})}
}

// run reads the log whenever it is woken, until done closes. It starts with
// the first stream (ensure), so that a node without streams reads nothing.
// A failed read is logged and tried again a second later; streams wait.
func (t *eventTail) run(done <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-done; cancel() }()
	retry := time.NewTimer(0)
	<-retry.C
	for {
		select {
		case <-t.wake:
		case <-retry.C:
		case <-done:
			return
		}
		more, err := t.readOnce(ctx)
		for err == nil && more {
			more, err = t.readOnce(ctx)
		}
		if err != nil && ctx.Err() == nil {
			t.onErr(err)
			retry.Reset(time.Second)
		}
	}
}

// ensure starts the tail from the latest event, once.
func (t *eventTail) ensure(ctx context.Context, done <-chan struct{}) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.started {
		return nil
	}
	latest, err := t.start(ctx)
	if err != nil {
		return err
	}
	t.from, t.started = latest, true
	go t.run(done)
	t.poke() // anything that committed while it started
	return nil
}

// poke wakes the tail; it never blocks.
func (t *eventTail) poke() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// readOnce reads one batch after the latest event held; it reports whether
// a full batch came (more may wait).
func (t *eventTail) readOnce(ctx context.Context) (bool, error) {
	t.mu.Lock()
	after := t.from
	if n := len(t.events); n > 0 {
		after = t.events[n-1].id
	}
	t.mu.Unlock()
	events, err := t.read(ctx, after, sseBatch)
	if err != nil {
		return false, err
	}
	out := make([]tailEvent, 0, len(events))
	for _, e := range events {
		// A notice is how a room shows a change of its people or its name:
		// read the room again, and let streams ask about memberships anew.
		notice := e.Kind == chat.EventMessage && e.Message.Kind == chat.MessageNotice
		t.mu.Lock()
		room, ok := t.rooms[e.RoomID]
		if notice {
			t.epochs[e.RoomID]++
		}
		t.mu.Unlock()
		if !ok || notice {
			if room, err = t.room(ctx, e.RoomID); err != nil {
				return false, err
			}
		}
		data, err := streamEvent(e, room)
		if err != nil {
			continue // nothing in an event fails to marshal
		}
		te := tailEvent{id: e.ID, room: room, typ: eventType(e), data: data}
		if notice {
			te.about = e.Message.AuthorID
		}
		out = append(out, te)
		t.mu.Lock()
		t.rooms[e.RoomID] = room
		t.mu.Unlock()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.events = append(t.events, out...)
	if over := len(t.events) - tailKeep; over > 0 {
		t.from = t.events[over-1].id
		t.events = append(t.events[:0:0], t.events[over:]...)
	}
	if len(out) > 0 {
		t.signalLocked()
	}
	return len(events) == sseBatch, nil
}

func (t *eventTail) signalLocked() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// membershipMayHaveChanged makes streams ask again whether their users are
// members of the room.
func (t *eventTail) membershipMayHaveChanged(roomID int64) {
	t.mu.Lock()
	t.epochs[roomID]++
	t.mu.Unlock()
}

// since returns the events held after id, whether the tail holds every
// event after id (false: the stream must read up to from itself), from,
// and a channel closed when more arrive.
func (t *eventTail) since(after int64) (events []tailEvent, covered bool, from int64, changed <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if after < t.from {
		return nil, false, t.from, t.changed
	}
	i := sort.Search(len(t.events), func(i int) bool { return t.events[i].id > after })
	return t.events[i:len(t.events):len(t.events)], true, t.from, t.changed
}

func (t *eventTail) epoch(roomID int64) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.epochs[roomID]
}

// streamReader is what one stream knows of its user's memberships, so that
// a private room's event costs a query only when the membership may have
// changed since it last asked.
type streamReader struct {
	user     chat.User
	isMember func(ctx context.Context, roomID, userID int64) (bool, error)
	tail     *eventTail
	known    map[int64]membershipSeen
}

type membershipSeen struct {
	epoch  uint64
	member bool
}

func (r *streamReader) mayRead(ctx context.Context, e tailEvent) (bool, error) {
	room := e.room
	if e.about == r.user.ID || chat.Access(r.user, room, false).Read {
		return true, nil
	}
	epoch := r.tail.epoch(room.ID)
	if seen, ok := r.known[room.ID]; ok && seen.epoch == epoch {
		return seen.member && chat.Access(r.user, room, true).Read, nil
	}
	member, err := r.isMember(ctx, room.ID, r.user.ID)
	if err != nil {
		return false, err
	}
	r.known[room.ID] = membershipSeen{epoch: epoch, member: member}
	return member && chat.Access(r.user, room, true).Read, nil
}
