// Package relay is the one path by which a node's sockets learn of room
// events. The store's writer commits and hands the committed events over
// (Accept); on a cluster, the events other nodes committed arrive from NATS
// the same way. One goroutine takes them in order and, for each room, knows
// the last seq it delivered: the next one is rendered once and delivered,
// an older one is a duplicate and dropped, a later one reveals a gap, which
// is filled from the store before it. A node alone is a cluster of one: the
// same code, with nothing arriving from elsewhere.
//
// A hand-over lost on the way (a full queue, a NATS message that never
// came) leaves no later event to reveal it when the room goes quiet, so the
// relay also compares, every TailEvery, the rooms its sink serves with their
// seq in the store.
package relay

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"agora/chat"
	"agora/chat/live"
)

// Source is where the relay finds what it missed: the store.
type Source interface {
	// RoomSeqs returns the latest seq of each room (all rooms when ids is nil).
	RoomSeqs(ctx context.Context, ids []int64) (map[int64]int64, error)
	// EventsAfter returns up to limit of the room's events after seq, in order.
	EventsAfter(ctx context.Context, roomID, after int64, limit int) ([]chat.Event, error)
}

// Renderer turns a committed event into what the hub delivers, once for
// every receiver on this node.
type Renderer interface {
	Render(chat.Event) live.Event
}

// Sink takes the rendered events, in each room's order, and the per-user
// events (reads, memberships) in the order they came: the hub.
type Sink interface {
	Deliver(live.Event)
	DeliverUser(chat.UserEvent)
	// Serves reports whether anyone here cares about the room's events (a
	// socket has it open, or a sidebar counts it): a gap in another room
	// need not be read from the store.
	Serves(roomID int64) bool
	// Rooms lists the rooms it serves.
	Rooms() []int64
}

// Options tune a relay. Zero values take the defaults.
type Options struct {
	// TailEvery is how often the rooms the sink serves are checked against
	// the store. Default 500ms.
	TailEvery time.Duration
	// QueueLen bounds the hand-overs waiting for the relay; beyond it room
	// events are dropped and left to gap filling. Default 65536.
	QueueLen int
	// OnRender, when set, is told how long each batch took to render and
	// deliver, and how many new messages it carried.
	OnRender func(d time.Duration, created int)
	Log      *slog.Logger
}

// fillPage is how many events a gap fill reads at a time.
const fillPage = 500

// item is one hand-over: a batch of room events, or one user event.
type item struct {
	events []chat.Event
	user   *chat.UserEvent
}

// Relay is a node's relay. Make it with New, then Start it.
type Relay struct {
	src  Source
	r    Renderer
	sink Sink
	opt  Options

	mu      sync.Mutex
	queue   []item
	queued  int // room events in queue
	dropped bool
	wake    chan struct{}

	quit  chan struct{}
	done  chan struct{}
	close sync.Once

	last  map[int64]int64 // room -> last seq delivered; only the run goroutine touches it
	known bool            // last holds every room's seq as it stood at start
}

// New returns a relay that is not running yet.
func New(src Source, r Renderer, sink Sink, opt Options) *Relay {
	if opt.TailEvery <= 0 {
		opt.TailEvery = 500 * time.Millisecond
	}
	if opt.QueueLen <= 0 {
		opt.QueueLen = 1 << 16
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	return &Relay{src: src, r: r, sink: sink, opt: opt, last: make(map[int64]int64),
		wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
}

// Start learns every room's seq from the store (what was committed before
// is no one's news), then runs until Close. If the store cannot answer now,
// the relay keeps asking before it delivers anything; the error says so.
func (r *Relay) Start(ctx context.Context) error {
	err := r.loadSeqs(ctx)
	go r.run()
	return err
}

// Close stops the relay; what is still queued is not delivered. It is
// idempotent.
func (r *Relay) Close() {
	r.close.Do(func() { close(r.quit) })
	<-r.done
}

// Accept hands committed events to the relay, in commit order. It never
// blocks, so the store's writer can call it: what finds the queue full is
// left to gap filling.
func (r *Relay) Accept(events []chat.Event) {
	if len(events) == 0 {
		return
	}
	r.mu.Lock()
	if r.queued+len(events) > r.opt.QueueLen {
		r.dropped = true
		r.mu.Unlock()
		return
	}
	r.queue = append(r.queue, item{events: events})
	r.queued += len(events)
	r.mu.Unlock()
	r.signal()
}

// AcceptUser hands over a per-user event (a read, a membership). It never
// blocks; user events are few and are not dropped.
func (r *Relay) AcceptUser(ev chat.UserEvent) {
	r.mu.Lock()
	r.queue = append(r.queue, item{user: &ev})
	r.mu.Unlock()
	r.signal()
}

func (r *Relay) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *Relay) loadSeqs(ctx context.Context) error {
	seqs, err := r.src.RoomSeqs(ctx, nil)
	if err != nil {
		return err
	}
	// Rooms first seen since (an event arrived before the load) keep what
	// they delivered: the larger of the two.
	for id, seq := range seqs {
		r.last[id] = max(r.last[id], seq)
	}
	r.known = true
	return nil
}

// run is the one goroutine that delivers.
func (r *Relay) run() {
	defer close(r.done)
	tick := time.NewTicker(r.opt.TailEvery)
	defer tick.Stop()
	var batch []item
	for {
		select {
		case <-r.wake:
		case <-tick.C:
			if !r.known {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				if err := r.loadSeqs(ctx); err != nil {
					r.opt.Log.Error("relay: read the rooms' seqs", "err", err)
				}
				cancel()
			}
			if r.known {
				r.checkTails()
			}
			continue
		case <-r.quit:
			return
		}
		r.mu.Lock()
		batch, r.queue = r.queue, batch[:0]
		r.queued = 0
		dropped := r.dropped
		r.dropped = false
		r.mu.Unlock()
		if dropped {
			r.opt.Log.Warn("relay: queue full, events left to gap filling")
		}
		r.handle(batch)
		clear(batch)
	}
}

// handle delivers a batch of hand-overs in order.
func (r *Relay) handle(batch []item) {
	start := time.Now()
	created := 0
	for _, it := range batch {
		if it.user != nil {
			r.sink.DeliverUser(*it.user)
			continue
		}
		for _, ev := range it.events {
			if !ev.IsUpdate() {
				created++
			}
			r.accept(ev)
		}
	}
	if r.opt.OnRender != nil {
		r.opt.OnRender(time.Since(start), created)
	}
}

// accept delivers ev if it is the room's next, drops it if it was
// delivered, and fills the gap before it otherwise.
func (r *Relay) accept(ev chat.Event) {
	last, seen := r.last[ev.RoomID]
	switch {
	case seen && ev.Seq <= last:
		// Had it: a node's own event back from NATS, or a late one.
	case ev.Seq == last+1:
		r.deliver(ev)
	case !r.known:
		// The store has not told where rooms stood: take this one as the start.
		r.deliver(ev)
	case !r.sink.Serves(ev.RoomID):
		// Nobody here has the room open or in a sidebar: nothing to fill,
		// and the event itself still wakes what follows every room.
		r.deliver(ev)
	default:
		r.fill(ev.RoomID, last, ev.Seq)
	}
}

func (r *Relay) deliver(ev chat.Event) {
	r.sink.Deliver(r.r.Render(ev))
	r.last[ev.RoomID] = ev.Seq
}

// fill delivers the room's events after last from the store, up to at least
// upTo.
func (r *Relay) fill(roomID, last, upTo int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		events, err := r.src.EventsAfter(ctx, roomID, last, fillPage)
		if err != nil {
			r.opt.Log.Error("relay: fill a gap from the store", "room", roomID, "after", last, "err", err)
			return
		}
		for _, ev := range events {
			if ev.Seq == last+1 {
				r.deliver(ev)
				last = ev.Seq
			}
		}
		if len(events) < fillPage || last >= upTo {
			return
		}
	}
}

// checkTails fills the rooms the sink serves up to their seq in the store.
func (r *Relay) checkTails() {
	ids := r.sink.Rooms()
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	seqs, err := r.src.RoomSeqs(ctx, ids)
	cancel()
	if err != nil {
		r.opt.Log.Error("relay: check room tails", "err", err)
		return
	}
	for id, seq := range seqs {
		if last := r.last[id]; seq > last {
			r.fill(id, last, seq)
		}
	}
}
