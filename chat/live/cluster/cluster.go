// Package cluster makes a process one node of several that serve as one:
// committed room events and per-user events (reads, memberships) cross
// nodes over NATS, and each node hands what it receives to its relay, the
// same one that takes its own commits (see package relay): the relay puts
// each room's events in order, drops duplicates and fills gaps from the
// store, on one node and on many alike.
//
// Control events (a session ended, a member removed from a room) go to
// every node too, so the sockets concerned close wherever they are.
package cluster

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"agora/chat"
	"agora/chat/live"
)

// Inbox takes what the node receives: the relay.
type Inbox interface {
	Accept([]chat.Event)
	AcceptUser(chat.UserEvent)
}

// Options tune a node. Zero values take the defaults.
type Options struct {
	// Prefix starts every subject, so that clusters can share a NATS
	// server. Default "agora".
	Prefix string
	// Drop, when set, is asked before each publish and drops the event from
	// NATS when it says so: a fault to test that nothing depends on NATS
	// carrying every event.
	Drop func(chat.Event) bool
	// HeartbeatEvery is how often the node tells the others who has what
	// open here; a node not heard from for five of them counts as gone.
	// Default 1s.
	HeartbeatEvery time.Duration
	// OnSpend is told of each token another node spent from a limit it
	// shares (see Spend), to spend it here too.
	OnSpend func(key string)
	Log     *slog.Logger
}

// Node is this process's part of the cluster.
type Node struct {
	nc    *nats.Conn
	hub   *live.Hub
	inbox Inbox
	opt   Options
	subs  []*nats.Subscription

	pres *presence
	wg   sync.WaitGroup // the presence loop
	quit chan struct{}
}

// Start joins the cluster on nc: room and user events from NATS go to
// inbox, control events and presence to hub.
func Start(nc *nats.Conn, hub *live.Hub, inbox Inbox, opt Options) (*Node, error) {
	if opt.Prefix == "" {
		opt.Prefix = "agora"
	}
	if opt.HeartbeatEvery <= 0 {
		opt.HeartbeatEvery = time.Second
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	n := &Node{nc: nc, hub: hub, inbox: inbox, opt: opt, quit: make(chan struct{})}
	n.pres = newPresence(n)
	for _, s := range []struct {
		subject string
		fn      nats.MsgHandler
	}{
		{opt.Prefix + ".room.*", n.onRoomEvent},
		{opt.Prefix + ".user", n.onUserEvent},
		{opt.Prefix + ".control", n.onControl},
		{n.pres.subject(), n.pres.onMsg},
		{opt.Prefix + ".spend", n.onSpend},
	} {
		sub, err := nc.Subscribe(s.subject, s.fn)
		if err != nil {
			for _, sub := range n.subs {
				sub.Unsubscribe()
			}
			return nil, fmt.Errorf("join cluster: %w", err)
		}
		// A busy room must not make NATS drop this node as a slow
		// consumer before the relay sees a gap: the queue is large.
		sub.SetPendingLimits(1<<20, 256<<20)
		n.subs = append(n.subs, sub)
	}
	// The subscriptions are in place at the server before the node counts
	// itself joined.
	if err := nc.FlushTimeout(10 * time.Second); err != nil {
		n.Close()
		return nil, fmt.Errorf("join cluster: %w", err)
	}
	hub.OnLocalPresence(n.pres.onLocal)
	n.wg.Add(1)
	go n.presenceLoop()
	return n, nil
}

// Close leaves the cluster. The NATS connection stays the caller's.
func (n *Node) Close() {
	for _, s := range n.subs {
		s.Unsubscribe()
	}
	n.hub.OnLocalPresence(nil)
	close(n.quit)
	n.wg.Wait()
}

// Publish hands committed events to this node's relay and to the other
// nodes. It never blocks: the store's writer calls it.
func (n *Node) Publish(events []chat.Event) {
	n.inbox.Accept(events)
	for _, ev := range events {
		if n.opt.Drop != nil && n.opt.Drop(ev) {
			continue
		}
		b, err := json.Marshal(ev)
		if err == nil {
			err = n.nc.Publish(n.opt.Prefix+".room."+strconv.FormatInt(ev.RoomID, 10), b)
		}
		if err != nil {
			n.opt.Log.Warn("cluster: publish room event", "room", ev.RoomID, "seq", ev.Seq, "err", err)
		}
	}
}

// PublishUser hands a per-user event to this node's relay and to the
// other nodes.
func (n *Node) PublishUser(ev chat.UserEvent) {
	n.inbox.AcceptUser(ev)
	b, err := json.Marshal(wireUserEvent{Node: n.pres.id, Event: ev})
	if err == nil {
		err = n.nc.Publish(n.opt.Prefix+".user", b)
	}
	if err != nil {
		n.opt.Log.Warn("cluster: publish user event", "user", ev.UserID, "err", err)
	}
}

// wireUserEvent names the node that sent it: that node handed it to its
// relay already.
type wireUserEvent struct {
	Node  string         `json:"n"`
	Event chat.UserEvent `json:"e"`
}

func (n *Node) onRoomEvent(m *nats.Msg) {
	var ev chat.Event
	if err := json.Unmarshal(m.Data, &ev); err != nil {
		n.opt.Log.Warn("cluster: bad room event", "subject", m.Subject, "err", err)
		return
	}
	// The node's own events come back too: the relay drops them as
	// duplicates, as it does anything it has.
	n.inbox.Accept([]chat.Event{ev})
}

func (n *Node) onUserEvent(m *nats.Msg) {
	var w wireUserEvent
	if err := json.Unmarshal(m.Data, &w); err != nil {
		n.opt.Log.Warn("cluster: bad user event", "err", err)
		return
	}
	if w.Node != n.pres.id {
		n.inbox.AcceptUser(w.Event)
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

// Control events: what closes sockets on every node.
const (
	ctlSession = 's' // close the sockets of a session
	ctlMember  = 'm' // close a user's sockets in a room
	ctlUser    = 'u' // close all of a user's sockets (a deactivated account)
	ctlRoom    = 'r' // close all of a room's sockets (a deleted room)
)

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
	}
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
