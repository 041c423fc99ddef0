package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"agora/chat"
	"agora/chat/live"
	"agora/chat/live/cluster"
)

// startNATS runs a NATS server inside the test process, reachable only
// in process.
func startNATS(t *testing.T) *server.Server {
	t.Helper()
	ns, err := server.NewServer(&server.Options{DontListen: true, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats did not start")
	}
	t.Cleanup(ns.Shutdown)
	return ns
}

// joinCluster makes ts a node of the cluster on ns.
func joinCluster(t *testing.T, ts *testServer, ns *server.Server, opt cluster.Options) {
	t.Helper()
	nc, err := nats.Connect(ns.ClientURL(), nats.InProcessServer(ns))
	if err != nil {
		t.Fatal(err)
	}
	node, err := ts.app.JoinCluster(context.Background(), nc, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close(); nc.Close() })
}

// as returns a client of ts that is the same browser as c: its cookies
// (kept per host, not per port) open the same session on the other node.
func (c *client) as(ts *testServer) *client {
	return &client{t: c.t, ts: ts, http: c.http}
}

// Two nodes on one database and one NATS behave as one server: what is done
// on one reaches the sockets on the other, live and in stored order.
func TestTwoNodesBehaveAsOne(t *testing.T) {
	ns := startNATS(t)
	a := newTestServer(t)
	b := startTestServer(t, a.path, live.HubConfig{}, false)
	joinCluster(t, a, ns, cluster.Options{})
	joinCluster(t, b, ns, cluster.Options{})
	checkTwoNodes(t, a, b)
}

// Reading on one device clears a badge on every device of the user, on
// every node: ann's phone is on A, her laptop on B.
func TestReadingClearsBadgesOnEveryNode(t *testing.T) {
	ns := startNATS(t)
	a := newTestServer(t)
	b := startTestServer(t, a.path, live.HubConfig{}, false)
	joinCluster(t, a, ns, cluster.Options{})
	joinCluster(t, b, ns, cluster.Options{})
	checkReadEverywhere(t, a, b)
}

// A publish NATS never carried is found by the tail check.
func TestATailCheckFindsWhatNATSNeverCarried(t *testing.T) {
	ns := startNATS(t)
	a := newTestServer(t)
	b := startTestServer(t, a.path, live.HubConfig{}, false)
	joinCluster(t, a, ns, cluster.Options{
		Drop: func(ev chat.Event) bool { return strings.Contains(ev.Message.Body, "never-on-nats") },
	})
	joinCluster(t, b, ns, cluster.Options{})
	alice, bob := a.client(t).signup("alice"), b.client(t).signup("bob")
	alice.get("/rooms/general")
	bob.get("/rooms/general")
	aliceSock, bobSock := alice.dial("general", -1), bob.dial("general", -1)
	aliceSock.say("never-on-nats")
	bobSock.readUntil("never-on-nats")
}

// checkTwoNodes holds two nodes of one cluster, a and b (in this process or
// real processes), to behaving as one server.
func checkTwoNodes(t *testing.T, a, b *testServer) {
	alice := a.client(t).signup("alice")
	bob := b.client(t).signup("bob")
	alice.get("/rooms/general")
	bob.get("/rooms/general")
	aliceSock := alice.dial("general", -1)
	bobSock := bob.dial("general", -1)

	// Presence and typing cross nodes: each sees the other online, and
	// alice sees bob typing.
	aliceSock.readUntil(`data-user="bob"`)
	if !strings.Contains(bob.dial("general", -1).readUntil(`</ul>`), `data-user="alice"`) {
		t.Error("a socket opened on B does not list alice, online on A")
	}
	bobSock.send([]byte(`{"typing":"1","HEADERS":{"HX-Trigger":"typing-signal"}}`))
	aliceSock.readUntil("bob is typing")

	aliceSock.say("hello from A")
	bobSock.readUntil("hello from A")
	bobSock.say("hello from B")
	aliceSock.readUntil("hello from B")
	for i := range 10 {
		[]*sock{aliceSock, bobSock}[i%2].say(fmt.Sprintf("burst %d", i))
	}
	for i := range 10 {
		aliceSock.readUntil(fmt.Sprintf("burst %d<", i))
		bobSock.readUntil(fmt.Sprintf("burst %d<", i))
	}
	stored := alice.lastMessageID("general")
	for _, s := range []*sock{aliceSock, bobSock} {
		if !slices.IsSorted(s.ids) || len(s.ids) != 12 || s.ids[len(s.ids)-1] != stored {
			t.Fatalf("a socket got ids %v; want 12 in stored order ending at %d\n%s", s.ids, stored, s.text.String())
		}
		for id, n := range s.seen {
			if n != 1 {
				t.Errorf("message %d arrived %d times", id, n)
			}
		}
	}

	// Edits, deletes and reactions on A reach B.
	first := aliceSock.ids[0]
	hx := map[string]string{"HX-Request": "true"}
	expectStatus(t, alice.do("POST", fmt.Sprintf("/messages/%d/edit", first), url.Values{"body": {"edited on A"}}, hx), http.StatusOK)
	bobSock.readUntil("edited on A")
	expectStatus(t, alice.do("POST", fmt.Sprintf("/messages/%d/reactions", first), url.Values{"emoji": {"👍"}}, hx), http.StatusNoContent)
	bobSock.readUntil("👍")
	expectStatus(t, alice.do("POST", fmt.Sprintf("/messages/%d/delete", first), nil, hx), http.StatusNoContent)
	bobSock.readUntil("message deleted")

	// A sidebar on B follows a message on A, in a room bob has not open.
	alice.post("/rooms", url.Values{"name": {"news"}})
	bob.get("/rooms/news")
	bob.post("/rooms", url.Values{"name": {"elsewhere"}})
	bobElsewhere := bob.dial("elsewhere", -1)
	alice.postMessage("news", "for the sidebar")
	bobElsewhere.readCounts(bob.roomID("news"), "1")

	// Added to a private room on A, bob's sidebar on B lists it at once and
	// counts what is said in it.
	alice.post("/rooms", url.Values{"name": {"secret"}, "private": {"on"}})
	expectStatus(t, alice.post("/rooms/secret/members", url.Values{"username": {"bob"}}), http.StatusSeeOther)
	bobSock.readNavUntil("the secret room", func(nav string) bool { return strings.Contains(nav, `data-room="secret"`) })
	aliceSecret := alice.dial("secret", -1)
	aliceSecret.say("for bob's sidebar on B")
	bobSock.readCounts(bob.roomID("secret"), "1")

	// Removal from a private room on A closes the member's socket on B.
	bobSecret := bob.dial("secret", -1)
	expectStatus(t, alice.post("/rooms/secret/members/remove", url.Values{"username": {"bob"}}), http.StatusSeeOther)
	bobSecret.expectClose(websocket.StatusCode(live.ClosePolicy))

	// A DM partner's presence dot in a sidebar on A follows their sockets
	// on B: lit when dana opens a room there, out when she closes it.
	dana := b.client(t).signup("dana")
	expectStatus(t, alice.post("/dm/dana", nil), http.StatusSeeOther)
	dana.get("/rooms/general")
	danaSock := dana.dial("general", -1)
	aliceSock.readNavUntil("dana's dot lit", func(nav string) bool { return dmDot(nav, "dana") == "lit" })
	danaSock.conn.Close(websocket.StatusNormalClosure, "")
	aliceSock.readNavUntil("dana's dot out", func(nav string) bool { return dmDot(nav, "dana") == "out" })

	// Logging out on A closes the session's socket on B.
	aliceOnB := alice.as(b).dial("general", -1)
	expectStatus(t, alice.post("/logout", nil), http.StatusSeeOther)
	aliceOnB.expectClose(websocket.StatusCode(live.ClosePolicy))
}

// An event NATS lost is filled from the store as soon as the next one
// shows the gap, before it, without waiting for the tail check.
func TestANodeFillsAGapBeforeTheNextEvent(t *testing.T) {
	ns := startNATS(t)
	a := newTestServer(t)
	b := startTestServer(t, a.path, live.HubConfig{}, false)
	joinCluster(t, a, ns, cluster.Options{
		Drop: func(ev chat.Event) bool { return strings.Contains(ev.Message.Body, "lost-in-transit") },
	})
	joinCluster(t, b, ns, cluster.Options{})
	alice, bob := a.client(t).signup("alice"), b.client(t).signup("bob")
	alice.get("/rooms/general")
	bob.get("/rooms/general")
	aliceSock, bobSock := alice.dial("general", -1), bob.dial("general", -1)
	aliceSock.say("before")
	bobSock.readUntil("before<")
	aliceSock.readUntil("before<")
	// From here on both sockets must see the same: what came before (bob's
	// joining, which reaches A's socket live or not, as NATS is quick) is
	// not the point.
	aliceSock.ids, bobSock.ids = nil, nil
	aliceSock.say("lost-in-transit")
	aliceSock.readUntil("lost-in-transit")
	aliceSock.say("after")
	bobSock.readUntil("after<")
	aliceSock.readUntil("after<")
	if !slices.Equal(bobSock.ids, aliceSock.ids) || len(bobSock.ids) != 2 {
		t.Fatalf("B got %v, A got %v: want the same two, in order", bobSock.ids, aliceSock.ids)
	}
}

// A node that goes silent (here: cut off from NATS, as a killed node is)
// takes its users' presence with it within five heartbeats.
func TestADeadNodesUsersGoOffline(t *testing.T) {
	ns := startNATS(t)
	a := newTestServer(t)
	b := startTestServer(t, a.path, live.HubConfig{}, false)
	joinCluster(t, a, ns, cluster.Options{HeartbeatEvery: 50 * time.Millisecond})
	nc, err := nats.Connect(ns.ClientURL(), nats.InProcessServer(ns))
	if err != nil {
		t.Fatal(err)
	}
	node, err := b.app.JoinCluster(context.Background(), nc, cluster.Options{HeartbeatEvery: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(node.Close)
	alice, bob := a.client(t).signup("alice"), b.client(t).signup("bob")
	alice.get("/rooms/general")
	bob.get("/rooms/general")
	aliceSock := alice.dial("general", -1)
	bob.dial("general", -1)
	aliceSock.readUntil(`<li id="presence-bob"`)
	nc.Close()
	aliceSock.readUntil(`<li id="presence-bob" hx-swap-oob="delete">`)
}

// Failed logins count on every node: a guesser cannot get ten tries per node.
func TestLoginLimitsHoldAcrossNodes(t *testing.T) {
	ns := startNATS(t)
	a := newTestServer(t)
	b := startTestServer(t, a.path, live.HubConfig{}, false)
	joinCluster(t, a, ns, cluster.Options{})
	joinCluster(t, b, ns, cluster.Options{})
	a.client(t).signup("carol")
	guesser := b.client(t)
	for range 10 {
		expectStatus(t, guesser.post("/login", url.Values{"username": {"carol"}, "password": {"wrong"}}), http.StatusUnauthorized)
	}
	expectStatus(t, guesser.post("/login", url.Values{"username": {"carol"}, "password": {"wrong"}}), http.StatusTooManyRequests)
	// On A, even the right password waits now, once B's spent tokens arrive
	// (a right password spends none, so asking again changes nothing).
	probe := a.client(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		res := probe.post("/login", url.Values{"username": {"carol"}, "password": {"password-carol"}})
		if res.status == http.StatusTooManyRequests {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node A still answers %d to carol's login after ten failures on B", res.status)
		}
		time.Sleep(20 * time.Millisecond) // polling for a condition under a deadline
	}
}

// readNavUntil reads the socket's sidebars until one satisfies ok, and
// returns it; what came before it is skipped.
func (s *sock) readNavUntil(want string, ok func(nav string) bool) string {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		nav := s.nextNav()
		if ok(nav) {
			return nav
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no sidebar with %s; the last:\n%s", want, nav)
		}
	}
}

// dmDot tells how a sidebar shows the presence of the user it has a DM
// with: "lit", "out", or "" when it does not list the DM.
func dmDot(nav, username string) string {
	i := strings.Index(nav, `href="/dm/`+username+`"`)
	if i < 0 {
		return ""
	}
	item := nav[i:]
	if end := strings.Index(item, "</a>"); end >= 0 {
		item = item[:end]
	}
	if strings.Contains(item, `data-online="true"`) {
		return "lit"
	}
	return "out"
}
