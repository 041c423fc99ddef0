package handlers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"agora/chat"
	"agora/chat/live"
	"agora/chat/live/cluster"
)

// socketCloser closes the sockets a control event concerns: the hub's own,
// or, on a node of a cluster, those on every node.
type socketCloser interface {
	CloseSession(session string, code int, reason string)
	CloseUserInRoom(roomID, userID int64, code int, reason string)
	CloseUser(userID int64, code int, reason string)
	CloseRoom(roomID int64, code int, reason string)
}

// typer tells a room who is typing: the hub's own sockets, or, on a node of
// a cluster, those on every node.
type typer interface {
	Typing(roomID int64, u chat.User)
	StopTyping(roomID, userID int64)
}

// watcher makes a user's open sockets count a room in their sidebars, or
// stop: the hub's own sockets, or, on a node of a cluster, those on every node.
type watcher interface {
	Watch(userID, roomID int64)
	Unwatch(userID, roomID int64)
}

// navChanged draws the user's sidebars again: here and, on a node of a
// cluster, on every node (after a room is added to or taken from them).
func (s *Server) navChanged(ctx context.Context, userID int64) {
	s.refreshNav(ctx, userID)
	if s.shareNav != nil {
		s.shareNav(userID)
	}
}

// spendLogin takes a token from the login limit of key, here and, on a
// node of a cluster, on every node; it reports whether there was one here.
func (s *Server) spendLogin(key string) bool {
	ok := s.loginLimits.Allow(key)
	if s.shareSpend != nil {
		s.shareSpend(key)
	}
	return ok
}

// limitsOf is the set of buckets a login limit's key is in: an account's
// ("user ...") or an address's.
func (s *Server) limitsOf(key string) *limiterSet {
	if strings.HasPrefix(key, "user ") {
		return s.accountLimits
	}
	return s.loginLimits
}

// JoinCluster makes the server one node of a cluster on nc: room events and
// control events reach every node's sockets. Call it before serving.
func (s *Server) JoinCluster(ctx context.Context, nc *nats.Conn, opt cluster.Options) (*cluster.Node, error) {
	if opt.Log == nil {
		opt.Log = s.log
	}
	// Failed logins spent on any node count on every node.
	opt.OnSpend = func(key string) { s.limitsOf(key).Allow(key) }
	// Sidebars changed on another node are drawn again here.
	opt.OnNav = func(userID int64) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.refreshNav(ctx, userID)
	}
	node, err := cluster.Start(ctx, nc, s.hub, eventSource{s}, opt)
	if err != nil {
		return nil, err
	}
	s.broker, s.closer, s.typer, s.watcher = node, node, node, node
	s.shareSpend, s.shareNav = node.Spend, node.RefreshNav
	return node, nil
}

// eventSource is where a node finds the room events NATS did not bring:
// the store, rendered as publishCommitted renders them.
type eventSource struct{ s *Server }

func (e eventSource) RoomSeqs(ctx context.Context, ids []int64) (map[int64]int64, error) {
	return e.s.store.RoomSeqs(ctx, ids)
}

func (e eventSource) RenderedEventsAfter(ctx context.Context, roomID, after int64, limit int) ([]live.Event, error) {
	events, err := e.s.store.EventsAfter(ctx, roomID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("events to fill a gap: %w", err)
	}
	out := make([]live.Event, len(events))
	for i, ev := range events {
		out[i] = e.s.renderEvent(ev)
	}
	return out, nil
}
