package handlers

import (
	"context"
	"time"

	"agora/chat/live"
)

// accountCheckEvery is how often each node looks in the store for accounts
// deactivated from outside it.
const accountCheckEvery = 2 * time.Second

// clockSlack is how far another process's clock may be behind this one's
// and its deactivations still be seen: `agora users` may run on another
// machine, and writes its own time.
const clockSlack = time.Minute

// watchDeactivations closes the sockets of accounts deactivated by another
// process (`agora users deactivate`), on this node: every node runs it, so
// every node closes its own. A deactivation made through this server's admin
// page is closed at once and told to the other nodes; the watch closes it a
// second time, which finds no socket. Requests need no watch: the account's
// sessions went with the deactivation, and every request looks its session up.
func (s *Server) watchDeactivations(ctx context.Context, every time.Duration) {
	defer close(s.accountsDone)
	seen := map[int64]time.Time{} // closed already, by deactivation time
	since := time.Now().Add(-clockSlack)
	tick := time.NewTicker(every)
	defer tick.Stop()
	failing := false // a store that is away is logged once, not at every tick
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		found, err := s.store.DeactivatedSince(ctx, since)
		if err != nil {
			if !failing && ctx.Err() == nil {
				s.log.Warn("look for deactivated accounts", "err", err)
			}
			failing = true
			continue
		}
		failing = false
		for _, d := range found {
			if at, ok := seen[d.UserID]; ok && at.Equal(d.At) {
				continue
			}
			seen[d.UserID] = d.At
			s.hub.CloseUser(d.UserID, live.ClosePolicy, "account deactivated")
		}
		// Forget what is older than any clock we wait for.
		since = time.Now().Add(-clockSlack)
		for id, at := range seen {
			if at.Before(since) {
				delete(seen, id)
			}
		}
	}
}
