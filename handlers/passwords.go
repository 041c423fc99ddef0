package handlers

import (
	"runtime"
	"sync"

	"agora/chat"
)

// hashGate caps the password hashes computed at once. Each argon2id hash
// takes 19 MiB for its run: without a cap, a burst of logins is a burst of
// memory (200 at once took 3.5 GB). A few more than the slots may wait for
// one; beyond that the server is busy and says so at once.
//
// Waiting is by priority, not by arrival: a full gate was anyone's to fill
// (a dozen guesses at once from changing addresses kept every login out).
// A newcomer of higher priority than the lowest waiting takes that one's
// place, which is refused as busy; a free slot goes to the highest waiting,
// the earliest first. And one account has at most maxPerAccount waiting, so
// guesses at one account queue behind each other, not in front of others.
type hashGate struct {
	slots         int
	maxWait       int
	maxPerAccount int

	mu      sync.Mutex
	running int
	waiting []*hashWaiter // in arrival order
}

// Priorities of a hash: who is more likely the account's owner.
const (
	hashAny      = iota // an address that failed recently
	hashFresh           // an address with no recent failures
	hashKnown           // an address the account has a session from
	hashSignedIn        // a signed-in session checking its own password (a change), or a new account's password
)

type hashWaiter struct {
	priority int
	account  string
	ready    chan bool // true: a slot is this waiter's; false: refused as busy
}

func newHashGate() *hashGate {
	n := max(2, runtime.GOMAXPROCS(0))
	return &hashGate{slots: n, maxWait: 4 * n, maxPerAccount: 2}
}

var errHashBusy = chat.Errorf(chat.ERateLimit, "The server is busy checking passwords. Please try again in a moment.")

// do runs fn in a slot, or refuses with errHashBusy. account keys the
// per-account queue ("" for none).
func (g *hashGate) do(priority int, account string, fn func()) error {
	g.mu.Lock()
	if g.running < g.slots && len(g.waiting) == 0 {
		g.running++
		g.mu.Unlock()
		defer g.release()
		fn()
		return nil
	}
	if !g.makeRoomLocked(priority, account) {
		g.mu.Unlock()
		return errHashBusy
	}
	w := &hashWaiter{priority: priority, account: account, ready: make(chan bool, 1)}
	g.waiting = append(g.waiting, w)
	g.mu.Unlock()
	if !<-w.ready {
		return errHashBusy
	}
	defer g.release()
	fn()
	return nil
}

// makeRoomLocked reports whether a waiter of this priority and account may
// join the queue, refusing a waiter of lower priority to make room if need
// be: first in the account's own queue, then in the whole.
func (g *hashGate) makeRoomLocked(priority int, account string) bool {
	if account != "" {
		same := 0
		for _, w := range g.waiting {
			if w.account == account {
				same++
			}
		}
		if same >= g.maxPerAccount {
			return g.evictLocked(priority, func(w *hashWaiter) bool { return w.account == account })
		}
	}
	if len(g.waiting) >= g.maxWait {
		return g.evictLocked(priority, func(*hashWaiter) bool { return true })
	}
	return true
}

// evictLocked refuses the latest waiter of the lowest priority among those
// that match, if that priority is below priority.
func (g *hashGate) evictLocked(priority int, match func(*hashWaiter) bool) bool {
	victim := -1
	for i, w := range g.waiting {
		if match(w) && w.priority < priority && (victim < 0 || w.priority <= g.waiting[victim].priority) {
			victim = i
		}
	}
	if victim < 0 {
		return false
	}
	g.waiting[victim].ready <- false
	g.waiting = append(g.waiting[:victim], g.waiting[victim+1:]...)
	return true
}

// release frees a slot, handing it to the first waiter of the highest priority.
func (g *hashGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	next := -1
	for i, w := range g.waiting {
		if next < 0 || w.priority > g.waiting[next].priority {
			next = i
		}
	}
	if next < 0 {
		g.running--
		return
	}
	g.waiting[next].ready <- true // the slot passes on: running stays
	g.waiting = append(g.waiting[:next], g.waiting[next+1:]...)
}

// checkPassword checks a password against its hash inside the gate.
func (s *Server) checkPassword(priority int, account, hash, password string) (ok bool, err error) {
	err = s.hashes.do(priority, account, func() { ok = chat.CheckPassword(hash, password) })
	return ok, err
}

// hashPassword hashes a new password inside the gate, waiting with the
// given priority: a sign-up's is an address's (it has passed the sign-up
// limit), a password change's the signed-in's (it proved the current one).
func (s *Server) hashPassword(priority int, password string) (hash string, err error) {
	if gateErr := s.hashes.do(priority, "", func() { hash, err = chat.HashPassword(password) }); gateErr != nil {
		return "", gateErr
	}
	return hash, err
}
