package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"agora/assets"
	"agora/chat/live"
	"agora/chat/webpush"
	"agora/db"
	"agora/handlers"
)

func TestSidebarFragments(t *testing.T) {
	cases := []struct {
		name           string
		frame          string
		keys           []string
		all, elsewhere int
	}{
		{"a message", `<div hx-swap-oob="beforeend:#messages"><article id="message-7" data-id="7">lg 1 2 x</article></div>`, []string{"general", "1"}, 0, 0},
		{"presence", `<ul hx-swap-oob="beforeend:#presence"><li id="presence-bob">bob</li></ul><li id="presence-al" hx-swap-oob="delete"></li>`, []string{"general", "1"}, 0, 0},
		{"a whole sidebar", `<div id="nav-lists" class="nav-lists" hx-swap-oob="outerHTML"><ul id="room-list"><li><span class="badge unread-badge" id="unread-team-01">3</span></li></ul></div>`, []string{"general", "1"}, 1, 1},
		{"a mark for another room", `<span hx-swap-oob="beforeend:#marks-team-02"><i></i></span>`, []string{"general", "1"}, 1, 1},
		{"a count for the socket's room", `<span id="unread-general" hx-swap-oob="outerHTML">4</span>`, []string{"general", "1"}, 1, 0},
		{"a room's mark, by id, elsewhere", `<div hx-swap-oob="beforeend:#marks-12"><i data-author="load0001"></i></div>`, []string{"team-01", "2"}, 1, 1},
		{"a room's mark, by id, here", `<div hx-swap-oob="beforeend:#marks-2"><i data-author="load0001"></i></div>`, []string{"team-01", "2"}, 1, 0},
		{"a room's counts, elsewhere", `<span class="counts" id="counts-12" hx-swap-oob="outerHTML"><span class="badge unread-badge" id="unread-team-02">3</span></span>`, []string{"team-01", "2"}, 1, 1},
		{"a message and two marks in one frame", `<div hx-swap-oob="beforeend:#messages">x</div><i hx-swap-oob="beforeend:#unread-team-03"></i><i data-oob-id="x" hx-swap-oob="beforeend:[data-room='team-04'] .marks"></i>`, []string{"team-04", "5"}, 2, 1},
	}
	for _, c := range cases {
		all, elsewhere := sidebarFragments([]byte(c.frame), c.keys)
		if all != c.all || elsewhere != c.elsewhere {
			t.Errorf("%s: %d sidebar fragments, %d elsewhere; want %d, %d", c.name, all, elsewhere, c.all, c.elsewhere)
		}
	}
}

func TestSidebarRooms(t *testing.T) {
	page := `<ul class="room-list" id="room-list">
		<li><a href="/rooms/general" data-room="general" aria-current="page"><span class="room-mark">#</span><span class="nav-name">general</span></a></li>
		<li><a href="/rooms/team-01" data-room="team-01" class="unread"><span class="nav-name">team-01</span><span class="badge unread-badge" data-base="2" id="unread-team-01">2</span><span class="marks" id="marks-2" hidden></span></a></li>
		<li><a href="/rooms/team-02" data-room="team-02"><span class="nav-name">team-02</span><span class="counts" id="counts-3"></span></a></li>
	</ul>`
	got := sidebarRooms([]byte(page))
	if len(got) != 2 || got["team-01"] != "2" || got["team-02"] != "3" {
		t.Errorf("rooms %v, want team-01 → 2 and team-02 → 3 (and not the current room, which has no marks)", got)
	}
}

// The client and the baseline hub together: a composer frame sent in one
// room reaches that room's sockets and no other room's.
func TestBaselineRoomsOverTheClient(t *testing.T) {
	addr := startBaseline(t)
	ctx := context.Background()
	dial := func(slug string) *wsConn {
		c, err := dialWS(ctx, addr, "/rooms/"+slug+"/ws", http.Header{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.close)
		return c
	}
	a, b, other := dial("one"), dial("one"), dial("two")
	if err := a.write(0x1, composerFrame(body(0, time.Now().UnixNano()), "c1", "http://"+addr+"/rooms/one")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*wsConn{a, b} {
		c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		data, err := c.next(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, []byte(`id="message-1"`)) || !strings.Contains(string(data), "lg 0 ") {
			t.Fatalf("got %q, want message 1 with its token", data)
		}
	}
	// A second message in the other room: it is the first thing that socket
	// reads, so the first never reached it.
	if err := other.write(0x1, composerFrame("hello", "c2", "http://"+addr+"/rooms/two")); err != nil {
		t.Fatal(err)
	}
	other.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	data, err := other.next(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(`id="message-2"`)) {
		t.Fatalf("the other room's socket got %q, want message 2 only", data)
	}
}

// startBaseline serves the bare hub in the test process until the test ends.
func startBaseline(t *testing.T) string {
	t.Helper()
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serveBaseline(ctx, addr, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			res.Body.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("the baseline does not answer: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A load split over two nodes: every delivery is counted once, as from the
// sender's node to the receiver's. Both "nodes" here are one baseline hub
// (so every socket gets every message) reached through two targets.
func TestLoadOverTwoNodes(t *testing.T) {
	addr := startBaseline(t)
	self, err := os.FindProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	nodes := make([]*target, 2)
	for i := range nodes {
		nodes[i] = newTarget(&proc{name: fmt.Sprint("node-", i), addr: addr, cmd: &exec.Cmd{Process: self}}, false)
		nodes[i].node = i
	}
	seats := oneRoom(nil, 0, 6, pageState{})
	for i := range seats {
		seats[i].tg = nodes[i%2]
	}
	spec := loadSpec{
		label: "two nodes", seats: seats, roomOf: func(int) int { return 0 }, rooms: 1, rate: 20,
		window: time.Second, grace: 10 * time.Second, others: nodes[1:], busy: true,
		servers: []cpuMeter{procTree{name: "tree", pid: os.Getpid()}},
		streams: func(socks []*sock) []stream {
			return []stream{{socks: socks[0:1], period: 100 * time.Millisecond}, {socks: socks[1:2], period: 100 * time.Millisecond}}
		},
	}
	r, err := runLoad(context.Background(), nodes[0], spec, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if r.sent == 0 || r.lost != 0 || r.dups != 0 || r.delivered != 6*r.sent {
		t.Fatalf("sent %d, delivered %d, lost %d, duplicated %d: want every message on all 6 sockets once", r.sent, r.delivered, r.lost, r.dups)
	}
	if !slices.Equal(r.nodes, []int{3, 3}) {
		t.Errorf("sockets per node %v, want 3 and 3", r.nodes)
	}
	// Each message reaches the 3 sockets of its sender's node and the 3 of the other.
	if int64(r.cross.n) != 3*r.sent || int64(r.same.n) != 3*r.sent {
		t.Errorf("%d cross-node and %d same-node deliveries of %d messages, want 3 of each per message", r.cross.n, r.same.n, r.sent)
	}
	var names []string
	for _, p := range r.parts {
		names = append(names, p.name)
	}
	if !slices.Equal(names, []string{"tree", "node-0", "node-1"}) {
		t.Errorf("CPU counted for %v, want the servers' tree and both nodes", names)
	}
}

// Work beside a load (spec.during) keeps it sending past its window until
// the work ends, and the messages sent in the span it names are summarised
// apart: here the span is everything after the window, and the work ends
// once five messages more than the window holds were sent.
func TestLoadSendsOnWhileWorkBesideItRuns(t *testing.T) {
	addr := startBaseline(t)
	self, err := os.FindProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	tg := newTarget(&proc{name: "baseline", addr: addr, cmd: &exec.Cmd{Process: self}}, false)
	const window, period = time.Second, 100 * time.Millisecond
	inWindow := int64(window / period) // at most, one stream from its start
	spec := loadSpec{
		label: "beside", seats: oneRoom(nil, 0, 3, pageState{}), roomOf: func(int) int { return 0 }, rooms: 1, rate: 10,
		window: window, maxWindow: 20 * time.Second, grace: 10 * time.Second, busy: true,
		streams: func(socks []*sock) []stream { return []stream{{socks: socks[0:1], period: period}} },
		during: func(ctx context.Context, t0 time.Time, sent func() int64) (time.Time, time.Time) {
			// Sending that stopped with the window would leave it waiting
			// until the longest window allowed.
			for sent() < inWindow+5 && time.Since(t0) < 20*time.Second {
				time.Sleep(10 * time.Millisecond)
			}
			return t0.Add(window), time.Now()
		},
	}
	r, err := runLoad(context.Background(), tg, spec, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if r.sent < inWindow+5 || r.lost != 0 || r.dups != 0 {
		t.Fatalf("sent %d (lost %d, duplicated %d), want at least %d: sending stopped with the window", r.sent, r.lost, r.dups, inWindow+5)
	}
	if r.spanSent < 5 || r.spanSent >= r.sent || int64(r.spanLast.n) != r.spanSent || int64(r.span.n) != 3*r.spanSent {
		t.Fatalf("%d of %d messages in the span after the window, %d complete, %d deliveries: want those sent after it, each on 3 sockets",
			r.spanSent, r.sent, r.spanLast.n, r.span.n)
	}
}

// A process tree's CPU holds its own and its children's.
func TestProcTreeCPU(t *testing.T) {
	child := exec.Command("sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 30")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	own, ok := readStat(os.Getpid())
	if !ok || own.ppid != os.Getppid() {
		t.Fatalf("read our own /proc stat: %+v, %v (parent %d)", own, ok, os.Getppid())
	}
	// Wait for the child to have used CPU of its own (its loop), then the
	// tree must count it: more than we used up to the moment it is read.
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, ok := readStat(child.Process.Pid)
		if ok && st.ppid == os.Getpid() && st.cpu > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the child used no CPU")
		}
		time.Sleep(10 * time.Millisecond) // polling for a condition under a deadline
	}
	kid, _ := readStat(child.Process.Pid)
	ours, _ := readStat(os.Getpid())
	if tree := (procTree{name: "us", pid: os.Getpid()}).cpu(); tree < ours.cpu+kid.cpu {
		t.Errorf("tree CPU %v, less than ours %v plus the child's %v", tree, ours.cpu, kid.cpu)
	}
}

// The idle and capacity phases fit under the server's socket limits at their
// largest: no user holds more live sockets than it allows, nor does any
// source address (it refuses the rest with 429).
func TestSocketsFitServerLimits(t *testing.T) {
	for _, args := range [][]string{nil, {"-idle", "15000", "-capacity", "50000"}, {"-phase", "idle,capacity", "-idle", "3000", "-capacity", "12345"}} {
		cfg, _, err := parseSettings(args, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		users := make([]*user, max(cfg.signups(), cfg.capUsers()))
		for i := range users {
			users[i] = &user{name: fmt.Sprint("load", i)}
		}
		idle := append(oneRoom(users[:cfg.signups()], 0, cfg.idleSmall, pageState{}), oneRoom(users[:cfg.signups()], cfg.idleSmall, cfg.idleLarge-cfg.idleSmall, pageState{})...)
		capacity := oneRoom(users[:cfg.capUsers()], 0, cfg.capSockets, pageState{})
		for phase, seats := range map[string][]seat{"idle": idle, "capacity": capacity} {
			perUser := map[*user]int{}
			perAddr := map[string]int{}
			tg := &target{}
			for _, st := range seats {
				perUser[st.user]++
				perAddr[tg.nextSource().IP.String()]++
			}
			if m := slices.Max(slices.Collect(maps.Values(perUser))); m > handlers.SocketsPerUser {
				t.Errorf("%v: %s: %d sockets of %d users, up to %d a user; the server allows %d", args, phase, len(seats), len(users), m, handlers.SocketsPerUser)
			}
			if m := slices.Max(slices.Collect(maps.Values(perAddr))); m > handlers.SocketsPerAddress {
				t.Errorf("%v: %s: %d sockets from %d addresses, up to %d an address; the server allows %d", args, phase, len(seats), len(perAddr), m, handlers.SocketsPerAddress)
			}
		}
		// The room and team phases: the first cfg.users users, each with
		// cfg.socketsPerUser sockets, as they always had.
		if cfg.socketsPerUser > handlers.SocketsPerUser || cfg.users > len(users) {
			t.Errorf("%v: %d users x %d sockets in the room phase, of %d signed up", args, cfg.users, cfg.socketsPerUser, len(users))
		}
	}
}

// After the team phase a user it took out of #general has its socket there
// refused (404, as for a room one is not in); the capacity phase, which runs
// after it on the same database, makes its users members again first, as
// opening the page does in a browser. Against the real server, in process.
func TestCapacityUsersRejoinGeneral(t *testing.T) {
	addr, _ := serveInProcess(t, handlers.Config{})
	users, err := signup(addr, 2, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	// Two rooms, one each: user 1 is in team-01 only.
	cfg := settings{users: 2, rooms: 2, roomsPerUser: 1}
	if _, err := teamSetup(addr, users, cfg, t.Logf); err != nil {
		t.Fatal(err)
	}
	tg := &target{addr: addr, agora: true}
	ctx := context.Background()
	if _, err := tg.dial(ctx, users[1], "general", 0, 0); err == nil || !strings.Contains(err.Error(), "status 404") {
		t.Fatalf("user 1's socket in #general after leaving it: %v, want status 404", err)
	}
	if err := joinAll(addr, users, "general"); err != nil {
		t.Fatal(err)
	}
	pg, err := readPage(addr, users[0], "general")
	if err != nil {
		t.Fatal(err)
	}
	socks, failed, err := openMany(ctx, tg, oneRoom(users, 0, 4, pg), func(int) int { return 0 }, nil)
	closeAll(tg, socks)
	if failed != 0 || len(socks) != 4 {
		t.Fatalf("%d of 4 sockets open after joining again, %d failed: %v", len(socks), failed, err)
	}
}

// serveInProcess runs the real server in the test's process, on a fresh
// SQLite file, with cfg's options; it returns its address and the file's
// path.
func serveInProcess(t *testing.T, cfg handlers.Config) (addr, dbPath string) {
	t.Helper()
	dbPath = filepath.Join(t.TempDir(), "load.db")
	store, err := db.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.Hub, cfg.Assets = store, handlers.NewHub(live.HubConfig{}), assets.FS
	app := handlers.New(cfg)
	ts := httptest.NewServer(app)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		app.Shutdown(ctx)
		ts.Close()
		store.Close()
	})
	return strings.TrimPrefix(ts.URL, "http://"), dbPath
}

// The room phase's threads run against the real server, in process: every
// other message a reply in a thread, each reaches every socket of the room
// once (into the thread where it is open, with its root's summary), none is
// refused, and all are stored.
func TestRepliesUnderLoad(t *testing.T) {
	addr, dbPath := serveInProcess(t, handlers.Config{})
	users, err := signup(addr, 3, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := readPage(addr, users[0], "general")
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.FindProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	tg := newTarget(&proc{name: "agora", addr: addr, cmd: &exec.Cmd{Process: self}}, true)
	spec := loadSpec{
		label: "replies", seats: oneRoom(users, 0, 6, pg), roomOf: func(int) int { return 0 }, rooms: 1, rate: 10,
		window: 2 * time.Second, grace: 10 * time.Second, busy: true, replyEvery: 2,
		streams: func(socks []*sock) []stream {
			return []stream{{socks: socks[0:1], period: 200 * time.Millisecond}, {socks: socks[1:2], period: 200 * time.Millisecond, offset: 100 * time.Millisecond}}
		},
	}
	r, err := runLoad(context.Background(), tg, spec, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if r.replies == 0 || r.replies > r.sent/2 {
		t.Fatalf("%d replies of %d messages; want about half", r.replies, r.sent)
	}
	if r.refused != 0 || r.sendErrs != 0 {
		t.Fatalf("%d refused, %d send errors", r.refused, r.sendErrs)
	}
	if r.lost != 0 || r.dups != 0 || r.delivered != 6*r.sent {
		t.Fatalf("sent %d, delivered %d, lost %d, duplicated %d: want every message and reply on all 6 sockets once", r.sent, r.delivered, r.lost, r.dups)
	}
	if n := countRows(dbPath, "lg %", t.Logf); n != r.sent {
		t.Fatalf("%d of %d messages stored", n, r.sent)
	}
}

// The push phase's count: each device gets each message once. A push again
// is counted twice, a push for no expected device or message apart, and
// one missing is lost; the burst is done only once every expected one came.
func TestPushCount(t *testing.T) {
	c := newPushCount(2, 3)
	at := time.Now()
	for d := range 2 {
		for m := range 3 {
			if d == 1 && m == 2 {
				continue
			}
			c.add(pushKey{d, m}, at)
		}
	}
	c.add(pushKey{0, 1}, at)
	c.add(pushKey{2, 0}, at)
	c.add(pushKey{0, 3}, at)
	c.refuse("does not decrypt")
	select {
	case <-c.done:
		t.Fatal("done with a push missing")
	default:
	}
	got := c.tally()
	want := pushTally{expected: 6, received: 8, unique: 5, lost: 1, dups: 1, stray: 2, refused: 1, firstRefusal: "does not decrypt", first: at, last: at}
	if got != want {
		t.Fatalf("tally %+v,\nwant %+v", got, want)
	}
	c.add(pushKey{1, 2}, at)
	select {
	case <-c.done:
	default:
		t.Fatal("not done once every push came")
	}
	if got := c.tally(); got.lost != 0 || got.unique != 6 || got.dups != 1 {
		t.Fatalf("after the last push: %+v", got)
	}
	if m, ok := burstNumber(burstBody(41, []*user{{name: "load9000"}})); !ok || m != 41 {
		t.Fatalf("burst number read back: %d, %v", m, ok)
	}
	for _, text := range []string{"", "burst :", "burst x: @a", "burst -1: @a", "hello burst 3: @a"} {
		if m, ok := burstNumber(text); ok {
			t.Errorf("%q read as burst message %d", text, m)
		}
	}
}

// The push phase against the real server, in process: away users subscribe
// through its routes, a sender's messages mention them, and every push
// comes to the push service once, signed with the server's key and
// decrypting for its device. A push signed with another key is refused and
// counted so; it is no burst push.
func TestPushBurstOverTheRealServer(t *testing.T) {
	addr, dbPath := serveInProcess(t, handlers.Config{PushPrivate: true, PushSubject: pushSubject})
	const devices, messages = 3, 4
	people, err := signupFrom(addr, pushUsersFrom, devices+1, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	away, senders := people[:devices], people[devices:]
	ps, err := startPushService(pushSubject, devices, messages)
	if err != nil {
		t.Fatal(err)
	}
	defer ps.close()
	slug, err := pushSetup(addr, senders, away, ps)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if n, err := postBurst(ctx, addr, slug, senders, away, messages); n != messages || err != nil {
		t.Fatalf("posted %d of %d: %v", n, messages, err)
	}
	select {
	case <-ps.count.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("the burst did not drain: %+v", ps.count.tally())
	}
	if c := ps.count.tally(); c.unique != devices*messages || c.lost != 0 || c.dups != 0 || c.stray != 0 || c.refused != 0 {
		t.Fatalf("pushes counted %+v, want %d once each", c, devices*messages)
	}
	// The store's side: a push job per device and message, none failed.
	states, err := jobStates(dbPath, "push")
	if err != nil || states["queued"]+states["running"]+states["done"] != devices*messages || states["failed"] != 0 {
		t.Fatalf("push jobs by state %v, %v: want %d, none failed", states, err, devices*messages)
	}
	other, err := webpush.NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	sub := ps.subscription(0)
	keys := sub["keys"].(map[string]string)
	forged := webpush.NewSender(other, pushSubject, true, 0)
	err = forged.Send(ctx, webpush.Subscription{Endpoint: ps.endpoint(0), P256dh: keys["p256dh"], Auth: keys["auth"]},
		[]byte(`{"title":"x","body":"burst 0: @load9000","url":"/rooms/x","tag":"t"}`), time.Minute, "")
	if err == nil {
		t.Fatal("a push signed with another key was taken")
	}
	if c := ps.count.tally(); c.refused != 1 || c.unique != devices*messages || c.dups != 0 || !strings.Contains(c.firstRefusal, "VAPID") {
		t.Fatalf("after a forged push: %+v, want it refused for its VAPID token", c)
	}
}

// The room phase's links run against the real server, in process: every
// other message links to a page of the site, each page is fetched once by
// the job queue after its message was committed, every socket gets every
// message once and every preview, and a preview is not taken for a message
// delivered twice.
func TestLinksUnderLoad(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "load.db")
	store, err := db.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	app := handlers.New(handlers.Config{Store: store, Hub: handlers.NewHub(live.HubConfig{}), Assets: assets.FS, Unfurl: true, UnfurlPrivate: true})
	ts := httptest.NewServer(app)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		app.Shutdown(ctx)
		ts.Close()
		store.Close()
	})
	site, err := startLinkSite(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(site.close)
	addr := strings.TrimPrefix(ts.URL, "http://")
	users, err := signup(addr, 3, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := readPage(addr, users[0], "general")
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.FindProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	tg := newTarget(&proc{name: "agora", addr: addr, cmd: &exec.Cmd{Process: self}}, true)
	spec := loadSpec{
		label: "links", seats: oneRoom(users, 0, 6, pg), roomOf: func(int) int { return 0 }, rooms: 1, rate: 10,
		window: 2 * time.Second, grace: 15 * time.Second, busy: true, linkEvery: 2, site: site,
		streams: func(socks []*sock) []stream {
			return []stream{{socks: socks[0:1], period: 200 * time.Millisecond}, {socks: socks[1:2], period: 200 * time.Millisecond, offset: 100 * time.Millisecond}}
		},
	}
	r, err := runLoad(context.Background(), tg, spec, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if r.links == 0 || r.links > r.sent/2 {
		t.Fatalf("%d links in %d messages; want about half", r.links, r.sent)
	}
	if r.lost != 0 || r.dups != 0 || r.delivered != 6*r.sent {
		t.Fatalf("sent %d, delivered %d, lost %d, duplicated %d: want every message on all 6 sockets once", r.sent, r.delivered, r.lost, r.dups)
	}
	if r.previews != 6*r.links {
		t.Fatalf("%d previews received, want %d (every link's on all 6 sockets)", r.previews, 6*r.links)
	}
	if site.pages.Load() != r.links || site.beforeCommit.Load() != 0 {
		t.Fatalf("%d pages fetched for %d links, %d before their message was committed", site.pages.Load(), r.links, site.beforeCommit.Load())
	}
	if got, want := app.UnfurlFetches(), site.pages.Load()+site.images.Load(); got != want {
		t.Fatalf("the fetch counter says %d, the site served %d", got, want)
	}
}
