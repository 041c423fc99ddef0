//go:build e2e

package handlers_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"agora/db/pgtest"
)

// startCluster starts a throwaway PostgreSQL, a NATS server on a loopback
// port, and n agora processes (the built binary) on them.
func startCluster(t *testing.T, n int) (dsn string, nodes []*agoraServer) {
	t.Helper()
	ctx := context.Background()
	pg, err := pgtest.Start(ctx, pgtest.Options{})
	if err != nil {
		t.Skip(err) // only when PostgreSQL is not installed; CI installs it
	}
	t.Cleanup(func() { pg.Stop() })
	if dsn, err = pg.CreateDatabase(ctx); err != nil {
		t.Fatal(err)
	}
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats did not start")
	}
	t.Cleanup(ns.Shutdown)
	for range n {
		s := &agoraServer{t: t, addr: freeAddr(t), db: dsn, args: []string{"-nats", ns.ClientURL()}}
		t.Cleanup(func() {
			s.kill()
			if t.Failed() {
				s.mu.Lock()
				t.Logf("node %s log:\n%s", s.addr, s.logs.String())
				s.mu.Unlock()
			}
		})
		s.start()
		nodes = append(nodes, s)
	}
	return dsn, nodes
}

// remote is a real node as the in-process tests' helpers see a server.
func remote(s *agoraServer) *testServer {
	return &testServer{Server: &httptest.Server{URL: "http://" + s.addr}}
}

// Two agora processes on one PostgreSQL and one NATS: alice on node A, bob
// on node B, and everything the in-process cluster test checks.
func TestE2EClusterTwoNodes(t *testing.T) {
	_, nodes := startCluster(t, 2)
	checkTwoNodes(t, remote(nodes[0]), remote(nodes[1]))
}

// follower is a browser-like socket that keeps a room open across node
// deaths: on a dropped connection it reconnects, to the next node, with
// ?after= the last message id it has.
type follower struct {
	c     *client
	nodes []*testServer
	mu    sync.Mutex
	ids   []int64
	twice []int64
	conns int // connections made
}

func (f *follower) run(ctx context.Context, after int64) {
	next := 0
	for ctx.Err() == nil {
		f.c.ts = f.nodes[next%len(f.nodes)]
		next++
		f.mu.Lock()
		if len(f.ids) > 0 {
			after = f.ids[len(f.ids)-1]
		}
		f.mu.Unlock()
		conn, _, err := f.c.dialRaw("/rooms/general/ws?after="+strconv.FormatInt(after, 10), nil)
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		conn.SetReadLimit(1 << 24)
		f.mu.Lock()
		f.conns++
		f.mu.Unlock()
		for {
			_, data, err := conn.Read(ctx)
			if err != nil {
				break
			}
			f.mu.Lock()
			for _, m := range messageIDRe.FindAllSubmatch(data, -1) {
				id, _ := strconv.ParseInt(string(m[1]), 10, 64)
				if slices.Contains(f.ids, id) {
					f.twice = append(f.twice, id)
				} else {
					f.ids = append(f.ids, id)
				}
			}
			f.mu.Unlock()
		}
		conn.CloseNow()
	}
}

func (f *follower) has() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ids)
}

// Node A is killed with SIGKILL while senders on both nodes post: its
// sockets reconnect to B and catch up, every message a sender saw accepted
// is stored once, every socket ends with the same ids, and A comes back.
func TestE2EClusterKillANode(t *testing.T) {
	dsn, nodes := startCluster(t, 2)
	a, b := remote(nodes[0]), remote(nodes[1])
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	const senders, each = 4, 30
	var users []*client
	for i := range senders {
		c := []*testServer{a, b}[i%2].client(t).signup(fmt.Sprintf("sender%d", i))
		c.get("/rooms/general")
		users = append(users, c)
	}
	start := users[0].lastMessageID("general")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var followers []*follower
	var wg sync.WaitGroup
	for i, c := range users {
		// Sockets on A move to B when A dies; those on B stay.
		order := []*testServer{a, b}
		if i%2 == 1 {
			order = []*testServer{b, a}
		}
		f := &follower{c: &client{t: t, http: c.http}, nodes: order}
		followers = append(followers, f)
		wg.Go(func() { f.run(ctx, start) })
	}

	// Each sender posts its messages with fresh client ids, and a message
	// it could not confirm again, with the same id, on the other node.
	var acked sync.Map // client id -> true
	var sent sync.WaitGroup
	var total sync.WaitGroup // a third of the messages, then A dies
	total.Add(senders * each / 3)
	for i, c := range users {
		sent.Go(func() {
			nodesOf := []*testServer{a, b}
			if i%2 == 1 {
				nodesOf = []*testServer{b, a}
			}
			plain := &http.Client{Jar: c.http.Jar, Timeout: 5 * time.Second,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			for j := range each {
				id := fmt.Sprintf("k-%d-%d", i, j)
				for try := 0; ; try++ {
					node := nodesOf[0]
					if try > 0 {
						node = nodesOf[try%2]
					}
					res, err := plain.PostForm(node.URL+"/rooms/general/messages", url.Values{"body": {"kill test " + id}, "client_msg_id": {id}})
					if err == nil {
						res.Body.Close()
						if res.StatusCode == http.StatusSeeOther {
							acked.Store(id, true)
							break
						}
					}
					if try > 50 {
						t.Errorf("%s never accepted: %v", id, err)
						return
					}
					time.Sleep(20 * time.Millisecond) // back off before trying again, as a person would
				}
				if j < each/3 {
					total.Done()
				}
			}
		})
	}
	total.Wait()
	nodes[0].kill()
	sent.Wait()

	var stored []int64
	rows, err := db.Query(`SELECT id FROM messages WHERE room_id = (SELECT id FROM rooms WHERE slug = 'general') AND id > $1 ORDER BY id`, start)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		stored = append(stored, id)
	}
	rows.Close()
	acked.Range(func(k, _ any) bool {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM messages WHERE client_msg_id = $1`, k).Scan(&n); err != nil || n != 1 {
			t.Errorf("acknowledged message %s is stored %d times (%v)", k, n, err)
		}
		return true
	})
	if len(stored) != senders*each {
		t.Errorf("stored %d messages, want %d", len(stored), senders*each)
	}

	deadline := time.Now().Add(30 * time.Second)
	for i, f := range followers {
		if f.mu.Lock(); i%2 == 0 && f.conns < 2 {
			t.Errorf("a socket on node A connected %d times: it never moved to B", f.conns)
		}
		f.mu.Unlock()
		for !slices.Equal(f.has(), stored) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond) // polling for a condition under a deadline
		}
		if got := f.has(); !slices.Equal(got, stored) {
			t.Errorf("a socket ended with %d ids, want the %d stored, in order", len(got), len(stored))
		}
		f.mu.Lock()
		if len(f.twice) > 0 {
			t.Errorf("a socket got messages twice: %v", f.twice)
		}
		f.mu.Unlock()
	}
	cancel()
	wg.Wait()

	// A comes back and serves the same history, live again.
	nodes[0].restart()
	back := &follower{c: &client{t: t, http: users[0].http}, nodes: []*testServer{a}}
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	go back.run(ctx2, start)
	users[1].postMessage("general", "after the restart")
	deadline = time.Now().Add(20 * time.Second)
	for len(back.has()) != len(stored)+1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := back.has(); len(got) != len(stored)+1 || !slices.Equal(got[:len(stored)], stored) {
		t.Errorf("the restarted node gave a socket %d ids, want the %d stored and the new one", len(got), len(stored)+1)
	}
}
