package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"agora/chat"
)

// Presence and typing across nodes. Each node announces when a user opens a
// room here for the first time or closes it for the last time, and every
// HeartbeatEvery sends the whole list of who has what open here. Another
// node's users count as online until it says otherwise, or until nothing
// was heard from it for five heartbeats (a node that died).

type wireUser struct {
	ID          int64  `json:"id"`
	Username    string `json:"u"`
	DisplayName string `json:"d,omitempty"`
	Guest       bool   `json:"g,omitempty"`
	Bot         bool   `json:"b,omitempty"`
}

func toWire(u chat.User) wireUser {
	return wireUser{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Guest: u.IsGuest, Bot: u.IsBot}
}

func (w wireUser) user() chat.User {
	return chat.User{ID: w.ID, Username: w.Username, DisplayName: w.DisplayName, IsGuest: w.Guest, IsBot: w.Bot}
}

type seat struct {
	Room int64    `json:"r"`
	User wireUser `json:"u"`
}

type seatKey struct{ room, user int64 }

// presenceMsg is one presence or typing message between nodes.
type presenceMsg struct {
	Node string `json:"n"`
	Kind string `json:"k"` // on, off, all (a heartbeat), typing, stop
	Seat seat   `json:"s,omitzero"`
	All  []seat `json:"a,omitempty"`
}

type peer struct {
	seen  time.Time
	seats map[seatKey]chat.User
}

// presence is the node's share of cluster presence.
type presence struct {
	n     *Node
	id    string
	mu    sync.Mutex
	local map[seatKey]chat.User // who has what open here
	peers map[string]*peer
}

func newPresence(n *Node) *presence {
	var b [8]byte
	rand.Read(b[:])
	return &presence{n: n, id: hex.EncodeToString(b[:]), local: make(map[seatKey]chat.User), peers: make(map[string]*peer)}
}

func (p *presence) subject() string { return p.n.opt.Prefix + ".presence" }

func (p *presence) publishLocked(m presenceMsg) {
	m.Node = p.id
	b, _ := json.Marshal(m)
	if err := p.n.nc.Publish(p.subject(), b); err != nil {
		p.n.opt.Log.Warn("cluster: publish presence", "err", err)
	}
}

// onLocal is the hub's OnLocalPresence hook.
func (p *presence) onLocal(roomID int64, u chat.User, online bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := seatKey{roomID, u.ID}
	kind := "off"
	if online {
		p.local[k] = u
		kind = "on"
	} else {
		delete(p.local, k)
	}
	p.publishLocked(presenceMsg{Kind: kind, Seat: seat{Room: roomID, User: toWire(u)}})
}

func (p *presence) heartbeat() {
	p.mu.Lock()
	defer p.mu.Unlock()
	all := make([]seat, 0, len(p.local))
	for k, u := range p.local {
		all = append(all, seat{Room: k.room, User: toWire(u)})
	}
	p.publishLocked(presenceMsg{Kind: "all", All: all})
}

// change is one remote seat coming or going, applied to the hub after the
// presence lock is let go (the hub calls onLocal under its own lock).
type change struct {
	room   int64
	user   chat.User
	online bool
}

func (p *presence) apply(changes []change) {
	for _, c := range changes {
		p.n.hub.SetRemoteOnline(c.room, c.user, c.online)
	}
}

func (p *presence) onMsg(m *nats.Msg) {
	var msg presenceMsg
	if err := json.Unmarshal(m.Data, &msg); err != nil {
		p.n.opt.Log.Warn("cluster: bad presence message", "err", err)
		return
	}
	if msg.Node == p.id {
		return
	}
	u := msg.Seat.User.user()
	switch msg.Kind {
	case "typing":
		p.n.hub.RemoteTyping(msg.Seat.Room, u)
		return
	case "stop":
		p.n.hub.StopTyping(msg.Seat.Room, u.ID)
		return
	}
	p.mu.Lock()
	pr := p.peers[msg.Node]
	if pr == nil {
		pr = &peer{seats: make(map[seatKey]chat.User)}
		p.peers[msg.Node] = pr
	}
	pr.seen = time.Now()
	var changes []change
	switch msg.Kind {
	case "on", "off":
		k := seatKey{msg.Seat.Room, u.ID}
		_, had := pr.seats[k]
		if msg.Kind == "on" && !had {
			pr.seats[k] = u
			changes = append(changes, change{k.room, u, true})
		} else if msg.Kind == "off" && had {
			delete(pr.seats, k)
			changes = append(changes, change{k.room, u, false})
		}
	case "all":
		now := make(map[seatKey]chat.User, len(msg.All))
		for _, s := range msg.All {
			now[seatKey{s.Room, s.User.ID}] = s.User.user()
		}
		for k, u := range now {
			if _, had := pr.seats[k]; !had {
				changes = append(changes, change{k.room, u, true})
			}
		}
		for k, u := range pr.seats {
			if _, still := now[k]; !still {
				changes = append(changes, change{k.room, u, false})
			}
		}
		pr.seats = now
	}
	p.mu.Unlock()
	p.apply(changes)
}

// expire forgets the users of nodes not heard from within ttl.
func (p *presence) expire(ttl time.Duration) {
	p.mu.Lock()
	var changes []change
	for id, pr := range p.peers {
		if time.Since(pr.seen) > ttl {
			for k, u := range pr.seats {
				changes = append(changes, change{k.room, u, false})
			}
			delete(p.peers, id)
		}
	}
	p.mu.Unlock()
	p.apply(changes)
}

// Typing marks the user as typing in the room on every node.
func (n *Node) Typing(roomID int64, u chat.User) {
	n.hub.Typing(roomID, u)
	n.pres.mu.Lock()
	defer n.pres.mu.Unlock()
	n.pres.publishLocked(presenceMsg{Kind: "typing", Seat: seat{Room: roomID, User: toWire(u)}})
}

// StopTyping clears the user's typing mark in the room on every node.
func (n *Node) StopTyping(roomID, userID int64) {
	n.hub.StopTyping(roomID, userID)
	n.pres.mu.Lock()
	defer n.pres.mu.Unlock()
	n.pres.publishLocked(presenceMsg{Kind: "stop", Seat: seat{Room: roomID, User: wireUser{ID: userID}}})
}

// presenceLoop sends heartbeats and expires silent nodes until quit.
func (n *Node) presenceLoop() {
	defer n.wg.Done()
	t := time.NewTicker(n.opt.HeartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			n.pres.heartbeat()
			n.pres.expire(5 * n.opt.HeartbeatEvery)
		case <-n.quit:
			return
		}
	}
}
