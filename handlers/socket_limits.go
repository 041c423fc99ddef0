package handlers

import (
	"strconv"
	"sync"
	"time"
)

// A person has a socket per open tab; a few dozen is plenty. An address may
// be a whole office behind one NAT, so it gets more. Exported for the load
// generator, whose simulated team must fit under them as a real one does.
const (
	SocketsPerUser    = 32
	SocketsPerAddress = 128
)

// socketCount counts the open sockets of each user and client address, so a
// client cannot hold thousands of them.
type socketCount struct {
	perUser, perAddr int

	mu     sync.Mutex
	byUser map[int64]int
	byAddr map[string]int
}

func newSocketCount(perUser, perAddr int) *socketCount {
	return &socketCount{perUser: perUser, perAddr: perAddr, byUser: make(map[int64]int), byAddr: make(map[string]int)}
}

// acquire counts a socket for the user at addr, or reports which cap it is
// over. The returned release must be called once the socket is gone.
func (sc *socketCount) acquire(userID int64, addr string) (release func(), refused string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	switch {
	case sc.byUser[userID] >= sc.perUser:
		return nil, "You have " + strconv.Itoa(sc.perUser) + " live connections open already. Please close some tabs."
	case sc.byAddr[addr] >= sc.perAddr:
		return nil, "Too many live connections come from your address. Please close some tabs."
	}
	sc.byUser[userID]++
	sc.byAddr[addr]++
	var once sync.Once
	return func() {
		once.Do(func() {
			sc.mu.Lock()
			defer sc.mu.Unlock()
			if sc.byUser[userID]--; sc.byUser[userID] <= 0 {
				delete(sc.byUser, userID)
			}
			if sc.byAddr[addr]--; sc.byAddr[addr] <= 0 {
				delete(sc.byAddr, addr)
			}
		})
	}, ""
}

// seenEvery is how often a session's last-seen time is written: a busy
// reader makes one write a minute, not one per request.
const seenEvery = time.Minute

// seenMarks remembers when each session's last-seen time was last written.
type seenMarks struct {
	mu   sync.Mutex
	last map[string]time.Time
}

func newSeenMarks() *seenMarks { return &seenMarks{last: make(map[string]time.Time)} }

// due reports whether the session's last-seen time should be written now,
// and if so counts it as written.
func (m *seenMarks) due(session string, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.last[session]; ok && now.Sub(t) < seenEvery {
		return false
	}
	if len(m.last) >= 10000 {
		for k, t := range m.last {
			if now.Sub(t) >= seenEvery {
				delete(m.last, k)
			}
		}
	}
	m.last[session] = now
	return true
}
