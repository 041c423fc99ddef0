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

	"agora/chat/live/cluster/natstest"
	"agora/db/pgtest"
)

// startCluster starts a throwaway PostgreSQL, natsServers NATS servers on
// loopback ports (routed to one another as one NATS cluster when more than
// one), and n agora processes (the built binary) given all their URLs.
func startCluster(t *testing.T, n, natsServers int) (dsn string, nodes []*agoraServer, nc *natstest.Cluster) {
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
	if nc, err = natstest.Start(natsServers, natstest.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Shutdown)
	urls := nc.URLs()
	for range n {
		s := &agoraServer{t: t, addr: freeAddr(t), db: dsn, args: []string{"-nats", urls}}
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
	return dsn, nodes, nc
}

// remote is a real node as the in-process tests' helpers see a server.
func remote(s *agoraServer) *testServer {
	return &testServer{Server: &httptest.Server{URL: "http://" + s.addr}}
}

// Two agora processes on one PostgreSQL and one NATS: alice on node A, bob
// on node B, and everything the in-process cluster test checks.
func TestE2EClusterTwoNodes(t *testing.T) {
	_, nodes, _ := startCluster(t, 2, 1)
	checkTwoNodes(t, remote(nodes[0]), remote(nodes[1]))
}

// Threads on two agora processes on one PostgreSQL and one NATS: what
// TestThreadsOnTwoNodes checks in process, with PostgreSQL's own SQL for
// replies, summaries and followers.
func TestE2EClusterThreads(t *testing.T) {
	_, nodes, _ := startCluster(t, 2, 1)
	checkThreads(t, remote(nodes[0]), remote(nodes[1]))
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

// clusterLoad is messages posted on every node of a cluster while it is
// disrupted, and room sockets that follow them from node to node.
type clusterLoad struct {
	t         *testing.T
	db        *sql.DB
	nodes     []*testServer
	users     []*client // the senders, one per node in turn
	followers []*follower
	start     int64   // the last message id before the load
	stored    []int64 // the messages the load stored, in order
}

// underLoad signs up senders users on the nodes in turn, opens a socket for
// each that reconnects to the next node whenever it drops (starting on the
// sender's own node), and has each post each messages through the form:
// fresh client ids, and a message it could not confirm sent again, with
// the same id, to the next node. Once a third are sent, disrupt runs (while
// the rest go on). Then: every message a sender saw accepted is stored
// once, all are stored, and every socket ends with exactly the stored
// messages, in order, none twice.
func underLoad(t *testing.T, dsn string, nodes []*testServer, senders, each int, disrupt func()) *clusterLoad {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	l := &clusterLoad{t: t, db: db, nodes: nodes}
	// order is the nodes starting at the i-th.
	order := func(i int) []*testServer {
		return append(slices.Clone(nodes[i%len(nodes):]), nodes[:i%len(nodes)]...)
	}
	for i := range senders {
		c := nodes[i%len(nodes)].client(t).signup(fmt.Sprintf("sender%d", i))
		c.get("/rooms/general")
		l.users = append(l.users, c)
	}
	l.start = l.users[0].lastMessageID("general")

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for i, c := range l.users {
		f := &follower{c: &client{t: t, http: c.http}, nodes: order(i)}
		l.followers = append(l.followers, f)
		wg.Go(func() { f.run(ctx, l.start) })
	}

	var acked sync.Map // client id -> true
	var sent sync.WaitGroup
	var third sync.WaitGroup
	third.Add(senders * (each / 3))
	for i, c := range l.users {
		sent.Go(func() {
			nodesOf := order(i)
			plain := &http.Client{Jar: c.http.Jar, Timeout: 5 * time.Second,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			for j := range each {
				id := fmt.Sprintf("k-%d-%d", i, j)
				for try := 0; ; try++ {
					node := nodesOf[try%len(nodesOf)]
					res, err := plain.PostForm(node.URL+"/rooms/general/messages", url.Values{"body": {"cluster test " + id}, "client_msg_id": {id}})
					if err == nil {
						res.Body.Close()
						if res.StatusCode == http.StatusSeeOther {
							acked.Store(id, true)
							break
						}
					}
					if try > 100 {
						t.Errorf("%s never accepted: %v", id, err)
						return
					}
					time.Sleep(20 * time.Millisecond) // back off before trying again, as a person would
				}
				if j < each/3 {
					third.Done()
				}
			}
		})
	}
	third.Wait()
	disrupt()
	sent.Wait()

	rows, err := db.Query(`SELECT id FROM messages WHERE room_id = (SELECT id FROM rooms WHERE slug = 'general') AND id > $1 AND body LIKE 'cluster test %' ORDER BY id`, l.start)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		l.stored = append(l.stored, id)
	}
	rows.Close()
	acked.Range(func(k, _ any) bool {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM messages WHERE client_msg_id = $1`, k).Scan(&n); err != nil || n != 1 {
			t.Errorf("acknowledged message %s is stored %d times (%v)", k, n, err)
		}
		return true
	})
	if len(l.stored) != senders*each {
		t.Errorf("stored %d messages, want %d", len(l.stored), senders*each)
	}
	// Between the messages, notices may arrive (a sign-up's join): a
	// socket must have every stored message, in order, and nothing twice.
	deadline := time.Now().Add(30 * time.Second)
	for _, f := range l.followers {
		for !slices.Equal(l.ofLoad(f.has()), l.stored) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond) // polling for a condition under a deadline
		}
		if got := l.ofLoad(f.has()); !slices.Equal(got, l.stored) {
			t.Errorf("a socket ended with %d of the load's ids, want the %d stored, in order", len(got), len(l.stored))
		}
		f.mu.Lock()
		if len(f.twice) > 0 {
			t.Errorf("a socket got messages twice: %v", f.twice)
		}
		f.mu.Unlock()
	}
	return l
}

// ofLoad keeps the ids of messages the load stored.
func (l *clusterLoad) ofLoad(ids []int64) []int64 {
	return slices.DeleteFunc(ids, func(id int64) bool { _, found := slices.BinarySearch(l.stored, id); return !found })
}

// Node A is killed with SIGKILL while senders on both nodes post: its
// sockets reconnect to B and catch up, every message a sender saw accepted
// is stored once, every socket ends with the same ids, and A comes back.
func TestE2EClusterKillANode(t *testing.T) {
	dsn, nodes, _ := startCluster(t, 2, 1)
	a := remote(nodes[0])
	l := underLoad(t, dsn, []*testServer{a, remote(nodes[1])}, 4, 30, func() { nodes[0].kill() })
	for i, f := range l.followers {
		if f.mu.Lock(); i%2 == 0 && f.conns < 2 {
			t.Errorf("a socket on node A connected %d times: it never moved to B", f.conns)
		}
		f.mu.Unlock()
	}

	// A comes back and serves the same history, live again.
	nodes[0].restart()
	back := &follower{c: &client{t: t, http: l.users[0].http}, nodes: []*testServer{a}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go back.run(ctx, l.start)
	l.users[1].postMessage("general", "after the restart")
	deadline := time.Now().Add(20 * time.Second)
	for len(back.has()) != len(l.stored)+1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := back.has(); len(got) != len(l.stored)+1 || !slices.Equal(got[:len(l.stored)], l.stored) {
		t.Errorf("the restarted node gave a socket %d ids, want the %d stored and the new one", len(got), len(l.stored)+1)
	}
}

// Three nodes on a three-server NATS cluster: the NATS server most nodes
// are connected to dies while senders on every node post. The nodes move
// to the other two servers and nothing is lost or doubled.
func TestE2EClusterLosesANATSServer(t *testing.T) {
	dsn, nodes, nc := startCluster(t, 3, 3)
	var servers []*testServer
	for _, n := range nodes {
		servers = append(servers, remote(n))
	}
	busiest := 0
	for i, s := range nc.Servers {
		if s.NumClients() > nc.Servers[busiest].NumClients() {
			busiest = i
		}
	}
	if nc.Servers[busiest].NumClients() == 0 {
		t.Fatal("no node is connected to any NATS server")
	}
	underLoad(t, dsn, servers, 6, 30, func() { nc.Stop(busiest) })
	for i, s := range nc.Servers {
		if i != busiest && s.NumClients() == 0 {
			t.Logf("NATS server %d has no clients after the loss", i+1)
		}
	}
	clients := 0
	for i, s := range nc.Servers {
		if i != busiest {
			clients += s.NumClients()
		}
	}
	if clients < len(nodes) {
		t.Errorf("%d clients on the NATS servers left, want every node's (%d)", clients, len(nodes))
	}
}

// A rolling restart of three nodes on a three-server NATS cluster under
// load: each node in turn stops gracefully (its sockets are closed with
// 1012 and reconnect elsewhere) and starts again before the next one
// goes. Nothing is lost or doubled.
func TestE2EClusterRollingRestart(t *testing.T) {
	dsn, nodes, _ := startCluster(t, 3, 3)
	var servers []*testServer
	for _, n := range nodes {
		servers = append(servers, remote(n))
	}
	l := underLoad(t, dsn, servers, 6, 45, func() {
		for _, n := range nodes {
			n.stop()
			n.restart()
		}
	})
	for _, f := range l.followers {
		if f.mu.Lock(); f.conns < 2 {
			t.Errorf("a socket connected %d times through the restarts", f.conns)
		}
		f.mu.Unlock()
	}
}
