package main

import (
	"context"
	"time"
)

type idleResult struct {
	rss0, rssSmall, rssLarge int64
	small, large             int
	users                    int // whose the sockets are (0: anonymous, the baseline)
	failed                   int
	died                     int64
}

// perConn is the resident memory per socket at the small or the large point.
func (r idleResult) perConn(large bool) float64 {
	if large {
		return float64(r.rssLarge-r.rss0) / float64(max(r.large, 1))
	}
	return float64(r.rssSmall-r.rss0) / float64(max(r.small, 1))
}

// runIdle opens idleSmall, then idleLarge sockets to #general and reads the
// server's resident memory after each point has been quiet a few seconds.
func runIdle(ctx context.Context, tg *target, users []*user, cfg settings, logf func(string, ...any)) (idleResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var pg pageState
	if tg.agora {
		var err error
		if pg, err = readPage(tg.addr, users[0], "general"); err != nil {
			return idleResult{}, err
		}
	}
	waitQuiet(ctx, tg.proc.name, logf)
	r := idleResult{rss0: tg.proc.rss(), users: len(users)}
	start := time.Now()
	zero := func(int) int { return 0 }
	socks, failed, err := openMany(ctx, tg, oneRoom(users, 0, cfg.idleSmall, pg), zero, nil)
	r.failed += failed
	time.Sleep(3 * time.Second)
	r.small, r.rssSmall = len(socks), tg.proc.rss()
	more, failed, err2 := openMany(ctx, tg, oneRoom(users, cfg.idleSmall, cfg.idleLarge-cfg.idleSmall, pg), zero, nil)
	r.failed += failed
	socks = append(socks, more...)
	time.Sleep(5 * time.Second)
	r.large, r.rssLarge = len(socks), tg.proc.rss()
	r.died = tg.dead.Load() + tg.reconnects.Load()
	logf("idle %s: %d+%d sockets in %v, %d failed (%v, %v); RSS %d → %d → %d KiB",
		tg.proc.name, r.small, r.large-r.small, time.Since(start).Round(time.Millisecond), r.failed, err, err2,
		r.rss0>>10, r.rssSmall>>10, r.rssLarge>>10)
	closeAll(tg, socks)
	return r, ctx.Err()
}
