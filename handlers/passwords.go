package handlers

import (
	"runtime"
	"sync/atomic"

	"agora/chat"
)

// hashGate caps the password hashes computed at once. Each argon2id hash
// takes 19 MiB for its run: without a cap, a burst of logins is a burst of
// memory (200 at once took 3.5 GB). A few more than the slots may wait for
// one; beyond that the server is busy and says so at once.
type hashGate struct {
	slots   chan struct{}
	waiting atomic.Int32
	maxWait int32
}

func newHashGate() *hashGate {
	n := max(2, runtime.GOMAXPROCS(0))
	return &hashGate{slots: make(chan struct{}, n), maxWait: int32(4 * n)}
}

var errHashBusy = chat.Errorf(chat.ERateLimit, "The server is busy checking passwords. Please try again in a moment.")

// do runs fn in a slot, or refuses with errHashBusy when too many wait.
func (g *hashGate) do(fn func()) error {
	if g.waiting.Add(1) > g.maxWait {
		g.waiting.Add(-1)
		return errHashBusy
	}
	g.slots <- struct{}{}
	g.waiting.Add(-1)
	defer func() { <-g.slots }()
	fn()
	return nil
}

// checkPassword checks a password against its hash inside the gate.
func (s *Server) checkPassword(hash, password string) (ok bool, err error) {
	err = s.hashes.do(func() { ok = chat.CheckPassword(hash, password) })
	return ok, err
}

// hashPassword hashes a new password inside the gate.
func (s *Server) hashPassword(password string) (hash string, err error) {
	if gateErr := s.hashes.do(func() { hash, err = chat.HashPassword(password) }); gateErr != nil {
		return "", gateErr
	}
	return hash, err
}
