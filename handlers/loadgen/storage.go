package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"
)

type storageResult struct {
	senders, burst int
	received       int
	elapsed        time.Duration
	rate           float64
	refused        int64
	committed      int64
	locked         int
}

// runStorage has 64 users post at once through their own sockets, each a
// burst of messages back to back, and measures, at a listening socket, how
// fast the messages come back committed and published. The server's limits
// (8 messages/s per user after a burst of 30; 20 frames/s per socket after
// 300) cap what the socket path can carry: the burst stays within them.
//
// On a cluster (others: more nodes beside tg), the senders take the nodes in
// turn and the listener is on the last node.
func runStorage(ctx context.Context, tg *target, users []*user, cfg settings, dbPath string, logf func(string, ...any), others ...*target) (storageResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	nodes := append([]*target{tg}, others...)
	refused := func() (n int64) {
		for _, t := range nodes {
			n += t.composerErrs.Load()
		}
		return n
	}
	r := storageResult{senders: min(cfg.storeSenders, len(users)-cfg.senders-1), burst: cfg.storeBurst}
	pg, err := readPage(tg.addr, users[0], "general")
	if err != nil {
		return r, err
	}
	listener, err := nodes[len(nodes)-1].open(ctx, seat{user: users[len(users)-1], slug: "general", after: pg.after, seq: pg.seq}, 0, nil, true)
	if err != nil {
		return r, fmt.Errorf("storage listener: %w", err)
	}
	// Users who did not send in the fan-out: their buckets are full.
	seats := oneRoom(users[cfg.senders:cfg.senders+r.senders], 0, r.senders, pg)
	for i := range seats {
		seats[i].tg = nodes[i%len(nodes)]
	}
	senders, failed, err := openMany(ctx, tg, seats, func(int) int { return 0 }, nil)
	if failed > 0 {
		logf("storage: %d sender sockets failed: %v", failed, err)
	}
	time.Sleep(2 * time.Second)
	refused0 := refused()
	rows0 := countRows(dbPath, "st %", logf)
	want := len(senders) * r.burst
	t0 := time.Now()
	var wg sync.WaitGroup
	for i, s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range r.burst {
				body := fmt.Sprintf("st %d-%d see https://example.com/p/%d cc @load0000 ", i, k, k)
				body += strings.Repeat("y", max(bodyBytes-len(body), 1))
				err := s.conn.Load().write(0x1, composerFrame(body, fmt.Sprintf("st-%d-%d-%d", i, k, t0.UnixNano()), "http://"+s.tg.addr+"/rooms/general"))
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		listener.mu.Lock()
		n := len(listener.ids)
		listener.mu.Unlock()
		if n >= want {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	listener.mu.Lock()
	r.received, r.elapsed = len(listener.ids), listener.lastNew.Sub(t0)
	listener.mu.Unlock()
	if r.elapsed > 0 {
		r.rate = float64(r.received) / r.elapsed.Seconds()
	}
	r.refused = refused() - refused0
	closeAll(tg, append(senders, listener))
	r.committed = countRows(dbPath, "st %", logf) - rows0
	logf("storage: %+v", r)
	return r, ctx.Err()
}

// countRows counts the messages whose body matches a LIKE pattern, reading
// the database file read-only beside the running server (WAL allows it), or
// the PostgreSQL database a postgres:// URL names.
func countRows(path, like string, logf func(string, ...any)) int64 {
	driver, dsn, query := "sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)", "SELECT count(*) FROM messages WHERE body LIKE ?"
	if strings.HasPrefix(path, "postgres://") {
		driver, dsn, query = "pgx", path, "SELECT count(*) FROM messages WHERE body LIKE $1"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		logf("open %s: %v", path, err)
		return -1
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow(query, like).Scan(&n); err != nil {
		logf("count rows: %v", err)
		return -1
	}
	return n
}
