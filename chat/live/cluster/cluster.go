// Package cluster makes a process one node of several that serve as one:
// room events cross nodes over NATS, and each node delivers every room's
// events to its hub in sequence, once, filling what NATS lost from the store.
//
// The committing node renders an event once and publishes it (Publish, the
// live.Broker of a node). Every node, the committing one included, passes
// what it receives through one sequencer goroutine that knows the last seq
// it delivered in each room: the next one is delivered, older ones are
// dropped as duplicates, and a later one means a gap, filled from the store
// before the event itself. A publish lost between commit and NATS leaves no
// later event to reveal it, so the sequencer also compares, every TailEvery,
// the rooms its hub serves with their seq in the store.
//
// Control events (a session ended, a member removed from a room) go to
// every node too, so the sockets concerned close wherever they are; so do
// sidebar changes (a member added to a room, a new DM), so that a user's
// sockets on every node list the room and count its messages.
package cluster

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"agora/chat/live"
)

// Source is where a node finds what it missed: the store, with each event
// rendered as the committing node would have rendered it.
type Source interface {
	// RoomSeqs returns the latest seq of each room (all rooms when ids is nil).
	RoomSeqs(ctx context.Context, ids []int64) (map[int64]int64, error)
	// RenderedEventsAfter returns up to limit of the room's events after
	// seq, in order, rendered.
	RenderedEventsAfter(ctx context.Context, roomID, after int64, limit int) ([]live.Event, error)
}

// Options tune a node. Zero values take the defaults.
type Options struct {
	// Prefix starts every subject, so that clusters can share a NATS
	// server. Default "agora".
	Prefix string
	// TailEvery is how often the rooms the hub serves are checked against
	// the store. Default 500ms.
	TailEvery time.Duration
	// Drop, when set, is asked before each publish and drops the event from
	// NATS when it says so: a fault to test that nothing depends on NATS
	// carrying every event.
	Drop func(live.Event) bool
	// HeartbeatEvery is how often the node tells the others who has what
	// open here; a node not heard from for five of them counts as gone.
	// Default 1s.
	HeartbeatEvery time.Duration
	// OnSpend is told of each token another node spent from a limit it
	// shares (see Spend), to spend it here too.
	OnSpend func(key string)
	// OnNav is told, on a goroutine of its own, when another node asks
	// for a user's sidebars to be drawn again (see RefreshNav): those of
	// the user's sockets that are on this node.
	OnNav func(userID int64)
	Log   *slog.Logger
}

// Node is this process's part of the cluster.
type Node struct {
	nc   *nats.Conn
	hub  *live.Hub
	src  Source
	opt  Options
	subs []*nats.Subscription

	pres *presence

	in   chan live.Event
	quit chan struct{}
	done chan struct{}
	wg   sync.WaitGroup  // the presence loop
	last map[int64]int64 // room -> last seq delivered; only the sequencer touches it
}

// fillPage is how many events a gap fill reads at a time.
const fillPage = 500

// Start joins the cluster on nc: it learns every room's seq from src, then
// takes room and control events from NATS.
func Start(ctx context.Context, nc *nats.Conn, hub *live.Hub, src Source, opt Options) (*Node, error) {
	if opt.Prefix == "" {
		opt.Prefix = "agora"
	}
	if opt.TailEvery <= 0 {
		opt.TailEvery = 500 * time.Millisecond
	}
	if opt.HeartbeatEvery <= 0 {
		opt.HeartbeatEvery = time.Second
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	seqs, err := src.RoomSeqs(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("join cluster: %w", err)
	}
	n := &Node{nc: nc, hub: hub, src: src, opt: opt, last: seqs,
		in: make(chan live.Event, 8192), quit: make(chan struct{}), done: make(chan struct{})}
	rooms, err := nc.Subscribe(opt.Prefix+".room.*", n.onRoomEvent)
	if err != nil {
		return nil, fmt.Errorf("join cluster: %w", err)
	}
	control, err := nc.Subscribe(opt.Prefix+".control", n.onControl)
	if err != nil {
		rooms.Unsubscribe()
		return nil, fmt.Errorf("join cluster: %w", err)
	}
	n.pres = newPresence(n)
	pres, err := nc.Subscribe(n.pres.subject(), n.pres.onMsg)
	if err != nil {
		rooms.Unsubscribe()
		control.Unsubscribe()
		return nil, fmt.Errorf("join cluster: %w", err)
	}
	// A busy room must not make NATS drop this node as a slow consumer
	// before the sequencer sees a gap: the queue between them is large.
	rooms.SetPendingLimits(1<<20, 256<<20)
	spends, err := nc.Subscribe(opt.Prefix+".spend", n.onSpend)
	if err != nil {
		rooms.Unsubscribe()
		control.Unsubscribe()
		pres.Unsubscribe()
		return nil, fmt.Errorf("join cluster: %w", err)
	}
	n.subs = []*nats.Subscription{rooms, control, pres, spends}
	hub.OnLocalPresence(n.pres.onLocal)
	n.wg.Add(1)
	go n.presenceLoop()
	go n.run()
	return n, nil
}

// Close leaves the cluster. The NATS connection stays the caller's.
func (n *Node) Close() {
	for _, s := range n.subs {
		s.Unsubscribe()
	}
	n.hub.OnLocalPresence(nil)
	close(n.quit)
	<-n.done
	n.wg.Wait()
}

// Publish is live.Broker's: it hands a committed, rendered event to this
// node's sequencer and to the other nodes. It never blocks: an event that
// finds the sequencer's queue full is left to gap filling.
func (n *Node) Publish(ev live.Event) {
	n.enqueue(ev)
	if n.opt.Drop != nil && n.opt.Drop(ev) {
		return
	}
	if err := n.nc.Publish(n.opt.Prefix+".room."+strconv.FormatInt(ev.RoomID, 10), encodeEvent(ev)); err != nil {
		n.opt.Log.Warn("cluster: publish room event", "room", ev.RoomID, "seq", ev.Seq, "err", err)
	}
}

func (n *Node) enqueue(ev live.Event) {
	select {
	case n.in <- ev:
	default:
	}
}

func (n *Node) onRoomEvent(m *nats.Msg) {
	ev, err := decodeEvent(m.Data)
	if err != nil {
		n.opt.Log.Warn("cluster: bad room event", "subject", m.Subject, "err", err)
		return
	}
	n.enqueue(ev)
}

// run is the sequencer: the one goroutine that delivers room events to the hub.
func (n *Node) run() {
	defer close(n.done)
	tick := time.NewTicker(n.opt.TailEvery)
	defer tick.Stop()
	for {
		select {
		case ev := <-n.in:
			n.accept(ev)
		case <-tick.C:
			n.checkTails()
		case <-n.quit:
			return
		}
	}
}

func (n *Node) accept(ev live.Event) {
	last, known := n.last[ev.RoomID]
	switch {
	case known && ev.Seq <= last:
		// Had it: the local copy of a node's own event, or a late one.
	case ev.Seq == last+1:
		n.hub.Deliver(ev)
		n.last[ev.RoomID] = ev.Seq
	case !n.hub.Serves(ev.RoomID):
		// Nobody here has the room open or in a sidebar: nothing to fill.
		n.last[ev.RoomID] = ev.Seq
	default:
		// A room unknown at start was made since: its log began under our eyes.
		n.fill(ev.RoomID, last, ev.Seq)
	}
}

// fill delivers the room's events after last from the store, up to at least
// upTo (or to the room's end when upTo is 0).
func (n *Node) fill(roomID, last, upTo int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		events, err := n.src.RenderedEventsAfter(ctx, roomID, last, fillPage)
		if err != nil {
			n.opt.Log.Error("cluster: fill a gap from the store", "room", roomID, "after", last, "err", err)
			return
		}
		for _, ev := range events {
			if ev.Seq == last+1 {
				n.hub.Deliver(ev)
				last = ev.Seq
			}
		}
		n.last[roomID] = last
		if len(events) < fillPage || (upTo > 0 && last >= upTo) {
			return
		}
	}
}

// checkTails fills the rooms the hub serves up to their seq in the store.
func (n *Node) checkTails() {
	ids := n.hub.Rooms()
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	seqs, err := n.src.RoomSeqs(ctx, ids)
	cancel()
	if err != nil {
		n.opt.Log.Error("cluster: check room tails", "err", err)
		return
	}
	for id, seq := range seqs {
		if last := n.last[id]; seq > last {
			n.fill(id, last, seq)
		}
	}
}

// Spend tells the other nodes that this one spent a token of the limit
// named key (failed logins, say), so that a limit holds across the cluster
// instead of once per node.
func (n *Node) Spend(key string) {
	b := appendBytes(nil, []byte(n.pres.id))
	b = appendBytes(b, []byte(key))
	if err := n.nc.Publish(n.opt.Prefix+".spend", b); err != nil {
		n.opt.Log.Warn("cluster: publish a spent token", "err", err)
	}
}

func (n *Node) onSpend(m *nats.Msg) {
	r := reader{b: m.Data}
	node, key := string(r.bytes()), string(r.bytes())
	if r.err != nil || node == n.pres.id || n.opt.OnSpend == nil {
		return
	}
	n.opt.OnSpend(key)
}

// Control events: what closes sockets on every node, and what changes
// the sidebars of a user's sockets wherever they are.
const (
	ctlSession = 's' // close the sockets of a session
	ctlMember  = 'm' // close a user's sockets in a room
	ctlUser    = 'u' // close all of a user's sockets (a deactivated account)
	ctlRoom    = 'r' // close all of a room's sockets (a deleted room)
	ctlWatch   = 'w' // a user's sockets count a room in their sidebars (a new member)
	ctlUnwatch = 'x' // they stop counting it
	ctlNav     = 'n' // draw the user's sidebars again
)

// Watch makes the user's sockets on every node count the room in their
// sidebars, as the hub's Watch does for this node's.
func (n *Node) Watch(userID, roomID int64) {
	n.hub.Watch(userID, roomID)
	n.control(ctlWatch, roomID, userID, 0, "", "")
}

// Unwatch undoes Watch on every node.
func (n *Node) Unwatch(userID, roomID int64) {
	n.hub.Unwatch(userID, roomID)
	n.control(ctlUnwatch, roomID, userID, 0, "", "")
}

// RefreshNav asks the other nodes to draw the user's sidebars again (their
// OnNav); this node's are the caller's to draw.
func (n *Node) RefreshNav(userID int64) {
	n.control(ctlNav, 0, userID, 0, n.pres.id, "") // the session field names the asking node
}

// CloseSession closes the session's sockets on every node.
func (n *Node) CloseSession(session string, code int, reason string) {
	n.hub.CloseSession(session, code, reason)
	n.control(ctlSession, 0, 0, code, session, reason)
}

// CloseUserInRoom closes the user's sockets in the room on every node.
func (n *Node) CloseUserInRoom(roomID, userID int64, code int, reason string) {
	n.hub.CloseUserInRoom(roomID, userID, code, reason)
	n.control(ctlMember, roomID, userID, code, "", reason)
}

// CloseUser closes all of the user's sockets on every node.
func (n *Node) CloseUser(userID int64, code int, reason string) {
	n.hub.CloseUser(userID, code, reason)
	n.control(ctlUser, 0, userID, code, "", reason)
}

// CloseRoom closes all of the room's sockets on every node.
func (n *Node) CloseRoom(roomID int64, code int, reason string) {
	n.hub.CloseRoom(roomID, code, reason)
	n.control(ctlRoom, roomID, 0, code, "", reason)
}

func (n *Node) control(kind byte, roomID, userID int64, code int, session, reason string) {
	b := []byte{kind}
	b = binary.AppendVarint(b, roomID)
	b = binary.AppendVarint(b, userID)
	b = binary.AppendVarint(b, int64(code))
	b = appendBytes(b, []byte(session))
	b = appendBytes(b, []byte(reason))
	if err := n.nc.Publish(n.opt.Prefix+".control", b); err != nil {
		n.opt.Log.Warn("cluster: publish control event", "err", err)
	}
}

func (n *Node) onControl(m *nats.Msg) {
	r := reader{b: m.Data}
	kind := r.byte()
	roomID, userID, code := r.varint(), r.varint(), int(r.varint())
	session, reason := string(r.bytes()), string(r.bytes())
	if r.err != nil {
		n.opt.Log.Warn("cluster: bad control event", "err", r.err)
		return
	}
	switch kind {
	case ctlSession:
		n.hub.CloseSession(session, code, reason)
	case ctlMember:
		n.hub.CloseUserInRoom(roomID, userID, code, reason)
	case ctlUser:
		n.hub.CloseUser(userID, code, reason)
	case ctlRoom:
		n.hub.CloseRoom(roomID, code, reason)
	case ctlWatch:
		n.hub.Watch(userID, roomID)
	case ctlUnwatch:
		n.hub.Unwatch(userID, roomID)
	case ctlNav:
		// Control events of one node arrive in order: a Watch sent before
		// is in place when the sidebar is drawn.
		if n.opt.OnNav != nil && session != n.pres.id {
			go n.opt.OnNav(userID)
		}
	}
}

// The wire form of a room event: varints and length-prefixed bytes, in the
// order of live.Event's fields.
func encodeEvent(ev live.Event) []byte {
	b := make([]byte, 0, 32+len(ev.Data)+len(ev.Sidebar)+len(ev.Mention))
	b = binary.AppendVarint(b, ev.RoomID)
	b = binary.AppendVarint(b, ev.Seq)
	b = binary.AppendVarint(b, ev.MsgID)
	b = appendBytes(b, ev.Data)
	b = appendBytes(b, ev.Sidebar)
	b = appendBytes(b, ev.Mention)
	b = binary.AppendUvarint(b, uint64(len(ev.Mentioned)))
	for _, m := range ev.Mentioned {
		b = appendBytes(b, []byte(m))
	}
	return b
}

func decodeEvent(b []byte) (live.Event, error) {
	r := reader{b: b}
	ev := live.Event{RoomID: r.varint(), Seq: r.varint(), MsgID: r.varint()}
	ev.Data, ev.Sidebar, ev.Mention = r.bytes(), r.bytes(), r.bytes()
	n := r.uvarint()
	if n > uint64(len(b)) {
		return live.Event{}, errors.New("bad mention count")
	}
	for range n {
		ev.Mentioned = append(ev.Mentioned, string(r.bytes()))
	}
	if r.err == nil && len(r.b) > 0 {
		r.err = errors.New("trailing bytes")
	}
	return ev, r.err
}

// appendBytes appends p with its length; nil and empty stay apart (a nil
// Sidebar means "no sidebar fragment").
func appendBytes(b, p []byte) []byte {
	if p == nil {
		return binary.AppendUvarint(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(p))+1)
	return append(b, p...)
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) fail() { r.err, r.b = errors.New("truncated"), nil }

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if n == 0 || r.err != nil {
		return nil
	}
	n--
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}
