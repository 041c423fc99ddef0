package handlers

import (
	"context"
	"strings"

	"github.com/nats-io/nats.go"

	"agora/chat"
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
func (s *Server) JoinCluster(_ context.Context, nc *nats.Conn, opt cluster.Options) (*cluster.Node, error) {
	if opt.Log == nil {
		opt.Log = s.log
	}
	// Failed logins spent on any node count on every node.
	opt.OnSpend = func(key string) { s.limitsOf(key).Allow(key) }
	node, err := cluster.Start(nc, s.hub, s.relay, opt)
	if err != nil {
		return nil, err
	}
	var p publisher = node
	s.publish.Store(&p)
	s.closer, s.typer = node, node
	s.shareSpend = node.Spend
	return node, nil
}
