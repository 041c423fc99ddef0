// Command loadgen is agora's load generator: it builds the real agora binary,
// starts it, and drives it over loopback the way browsers do (the sign-up
// form, room pages, and the composer frames htmx-ext-ws sends over the room
// sockets), then does the same against a bare coder/websocket broadcast hub
// run as a separate process, and prints both side by side.
//
//	go run ./handlers/loadgen                 # every phase (make bench runs this)
//	go run ./handlers/loadgen -phase team     # one or more phases, comma-separated
//
// Phases:
//
//	room     1,000 sockets of 200 users in one room, 300 messages/s (first at 100/s,
//	         then again with a third of the messages replies in threads, then
//	         with a link in every tenth message, previewed by the job queue)
//	team     1,000 sockets of 200 users in 20 public rooms, each user a member of 10
//	         and with 5 sockets spread over them, 300 messages/s spread over the rooms
//	idle     resident memory per idle socket at 1,000 and 10,000 sockets
//	storage  64 senders at once through their sockets
//	page     the room page with 50 messages, timed at the client, then loaded by
//	         16 signed-in clients at once: pages per second of server CPU
//	push     a burst of 10,000 Web Pushes (100 messages mentioning 100 users
//	         who are away, a device each) through the job queue to a push
//	         service this program runs, which decrypts and counts them; the
//	         one-room fan-out without the burst, then during it
//	capacity 50,000 sockets (or as many as the open file limit allows) of 2,000
//	         users held in one room while a few messages a second go to them all:
//	         delivery, latency, resident memory, CPU and open file descriptors
//	cluster  the room load on PostgreSQL: one agora process, then two nodes
//	         on one NATS server, then three nodes on three NATS servers routed
//	         as one cluster, with the sockets split between them
//
// With -bun (make bench passes the bun binary it fetched) the room phase runs
// on Bun's pub/sub too, printed beside agora and the bare hub.
//
// The table is printed and written to -out. Only loopback addresses are used:
// the servers listen on 127.0.0.1; sign-ups come from 127.2.x.x (about 9 per
// address: the server allows 10 per address, then one per 6 s) and sockets
// from 512 addresses 127.1.1.x to 127.1.3.x, so that ephemeral ports last.
//
// The load stays inside the server's abuse limits as a real team of its size
// would: at most 32 live sockets per user and 128 per address. The room and
// team phases use 200 users with 5 sockets each; the idle and capacity
// phases spread their sockets over more users (400 for 10,000 sockets and
// 2,000 for 50,000, 25 each) and over the 512 addresses (at most 98 each).
// Each socket is an open file of the server and of this program: both run
// with the hard RLIMIT_NOFILE, and the capacity phase holds no more sockets
// than it allows (it says so in the table).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// phaseNames are the phases in the order they run.
func phaseNames() []string {
	return []string{"idle", "room", "storage", "page", "push", "team", "capacity", "cluster"}
}

// settings is the size of every phase.
type settings struct {
	phases map[string]bool

	users          int           // accounts of the room, team, storage and page phases
	socketsPerUser int           // sockets per user in the room and team phases
	manyUsers      int           // idle, capacity: accounts their sockets are spread over (users among them)
	senders        int           // room: users that send
	rate           float64       // room: messages per second per sender
	lowRate        float64       // room: run first at this lower rate too (0: not)
	replies        int           // room: run again with every replies-th message a reply in a thread (0: not)
	links          int           // room: run again with a link in every links-th message (0: not)
	fanout         time.Duration // room: send window
	grace          time.Duration // room: wait for the last deliveries

	rooms        int           // team: public rooms
	roomsPerUser int           // team: rooms each user is a member of
	teamRate     float64       // team: messages per second over all rooms
	teamWindow   time.Duration // team: send window
	teamGrace    time.Duration // team: wait for the last deliveries, then count the rest lost

	idleSmall, idleLarge int           // idle: the two points
	storeSenders         int           // storage: senders at once
	storeBurst           int           // storage: messages per sender, back to back
	pageRequests         int           // page: timed requests, one after another
	pageClients          int           // page: signed-in clients at once
	pageWindow           time.Duration // page: how long they load it, per Accept-Encoding

	pushes    int // push: pushes in the burst (rounded up to whole messages)
	pushUsers int // push: away users, a device each, mentioned by every burst message

	capSockets, capSenders int           // capacity: sockets held, users sending
	capRate                float64       // capacity: messages/s in all
	capWindow              time.Duration // capacity: send window

	perf       bool     // record a CPU profile of agora with perf during the fan-out
	bun        string   // the bun binary for the Bun peer ("": not run)
	bunSkipped string   // why not
	agoraBin   string   // use this agora binary instead of building one
	agoraArgs  []string // more flags for every agora process (-pprof ADDR, say)
	out        string   // the results table
}

// The idle phase holds up to 15,000 sockets, the capacity phase up to
// 50,000. The server allows 32 live sockets per user and 128 per client
// address (handlers.SocketsPerUser, handlers.SocketsPerAddress;
// loadgen_test.go checks these fit under them): their users have at most
// manySocketsPerUser sockets each, and all sockets come from sourceAddrs
// addresses (at most 98 each at 50,000).
const (
	manySocketsPerUser = 25
	sourceAddrs        = 512
	maxCapacity        = 50000
)

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// signups is how many accounts the phases to run need, signed up on SQLite
// first: the idle phase uses more of them than the others. The capacity
// phase signs up the many more it needs itself, when it starts.
func (s settings) signups() int {
	if s.phases["idle"] {
		return s.manyUsers
	}
	return s.users
}

// sqlitePhases tells whether a phase other than cluster runs: they share
// the accounts signed up on SQLite first, and the main table.
func (s settings) sqlitePhases() bool {
	return slices.ContainsFunc(phaseNames(), func(p string) bool { return p != "cluster" && s.phases[p] })
}

// capUsers is how many users the capacity phase spreads its sockets over.
func (s settings) capUsers() int {
	return max(s.users, ceilDiv(s.capSockets, manySocketsPerUser))
}

func parseSettings(args []string, stderr io.Writer) (settings, string, error) {
	s := settings{
		users: 200, socketsPerUser: 5, senders: 100,
		rooms: 20, roomsPerUser: 10, teamGrace: 8 * time.Second,
		grace:     15 * time.Second,
		idleSmall: 1000, storeSenders: 64, storeBurst: 25, pageRequests: 200, pageClients: 16,
		capSenders: 10,
	}
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	phase := fs.String("phase", "all", "phases to run, comma-separated: all, or "+strings.Join(phaseNames(), ", "))
	seconds := fs.Int("seconds", 20, "room: length of the send window in seconds (max 120)")
	fs.Float64Var(&s.rate, "rate", 3, "room: messages/s per sender, 100 senders (max 6: the server allows 8 per user)")
	fs.Float64Var(&s.lowRate, "low-rate", 1, "room: the same fan-out first at this rate per sender (0: skip)")
	fs.IntVar(&s.replies, "replies", 3, "room: the same fan-out again with every Nth message a reply in a thread, to the last message its sender saw (3: a third; 0: skip)")
	fs.IntVar(&s.links, "links", 10, "room: the same fan-out again with a link in every Nth message, each to a page of its own that the job queue fetches and previews (10: a tenth; 0: skip)")
	teamSeconds := fs.Int("team-seconds", 20, "team: length of the send window in seconds (max 120)")
	fs.Float64Var(&s.teamRate, "team-rate", 300, "team: messages/s over all rooms (max 1000)")
	pageSeconds := fs.Int("page-seconds", 5, "page: seconds the 16 clients load the room page, per Accept-Encoding (max 60)")
	fs.IntVar(&s.pushes, "pushes", 10000, "push: pushes in the burst, to -push-users devices (max 50000)")
	fs.IntVar(&s.pushUsers, "push-users", 100, "push: users who are away, a device each, mentioned in every burst message (max 300)")
	fs.IntVar(&s.idleLarge, "idle", 10000, "idle: sockets at the large point (max 15000)")
	fs.IntVar(&s.capSockets, "capacity", maxCapacity, "capacity: sockets held (max 50000; fewer if the open file limit is lower)")
	fs.Float64Var(&s.capRate, "capacity-rate", 5, "capacity: messages/s in all, from 10 senders (max 60)")
	capSeconds := fs.Int("capacity-seconds", 30, "capacity: length of the send window in seconds (max 300)")
	fs.BoolVar(&s.perf, "perf", false, "record a CPU profile of agora with perf during the one-room fan-out (perf-agora.txt beside -out)")
	fs.StringVar(&s.bun, "bun", "", "the bun binary: run the room phase on Bun's pub/sub too (make bench fetches bin/bun)")
	fs.StringVar(&s.agoraBin, "agora-bin", "", "use this agora binary instead of building one")
	agoraArgs := fs.String("agora-args", "", "more flags for every agora process, space-separated (-pprof 127.0.0.1:6060, say)")
	fs.StringVar(&s.out, "out", filepath.Join("handlers", "testdata", "bench", "results.txt"), "where the results table is written")
	baseline := fs.String("baseline-addr", "", "serve the bare hub on this address (the load generator starts itself so)")
	if err := fs.Parse(args); err != nil {
		return s, "", err
	}
	s.agoraArgs = strings.Fields(*agoraArgs)
	s.bun, s.bunSkipped = findBun(s.bun)
	s.fanout = time.Duration(min(max(*seconds, 1), 120)) * time.Second
	s.teamWindow = time.Duration(min(max(*teamSeconds, 1), 120)) * time.Second
	s.pageWindow = time.Duration(min(max(*pageSeconds, 1), 60)) * time.Second
	s.rate = min(max(s.rate, 0.1), 6)
	s.lowRate = min(max(s.lowRate, 0), 6)
	s.replies = max(s.replies, 0)
	s.links = max(s.links, 0)
	s.teamRate = min(max(s.teamRate, 1), 1000)
	s.pushUsers = min(max(s.pushUsers, 1), 300)
	s.pushes = min(max(s.pushes, s.pushUsers), 50000)
	s.idleLarge = min(max(s.idleLarge, 1), 15000)
	s.idleSmall = min(s.idleSmall, s.idleLarge)
	s.capSockets = min(max(s.capSockets, s.capSenders), maxCapacity)
	s.capRate = min(max(s.capRate, 0.1), 60)
	s.capWindow = time.Duration(min(max(*capSeconds, 1), 300)) * time.Second
	s.manyUsers = max(s.users, ceilDiv(s.idleLarge, manySocketsPerUser))
	s.phases = map[string]bool{}
	for _, p := range strings.Split(*phase, ",") {
		switch p = strings.TrimSpace(p); {
		case p == "all":
			for _, n := range phaseNames() {
				s.phases[n] = true
			}
		case slices.Contains(phaseNames(), p):
			s.phases[p] = true
		default:
			return s, "", fmt.Errorf("unknown phase %q (want all or %s)", p, strings.Join(phaseNames(), ", "))
		}
	}
	return s, *baseline, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, baselineAddr, err := parseSettings(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if baselineAddr != "" {
		return serveBaseline(ctx, baselineAddr, stdout)
	}
	b, err := newBench(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer b.cleanup()
	res, err := b.runPhases(ctx)
	if err != nil {
		return err
	}
	table := res.table(cfg)
	fmt.Fprint(stdout, "\n"+table)
	return os.WriteFile(cfg.out, []byte(table), 0o644)
}
