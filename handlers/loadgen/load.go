package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// loadSpec is one measured run of messages through a server: the sockets to
// open, and streams of messages sent through them.
type loadSpec struct {
	label   string
	seats   []seat
	roomOf  func(seat int) int // the room index of a seat
	rooms   int
	rate    float64 // messages/s over all streams (sizes the tally)
	streams func(socks []*sock) []stream
	window  time.Duration // sending
	grace   time.Duration // then waiting for the last deliveries; what has not come is lost
	perf    string        // record perf to this prefix ("": not)
	// others are more nodes of a cluster beside the target runLoad is
	// given (each seat names its node); servers are the processes they need
	// besides (PostgreSQL, NATS). The CPU of all of them counts.
	others  []*target
	servers []cpuMeter
	// busy skips waiting for the rest of the machine to go quiet first:
	// for the load generator's own tests, which measure nothing.
	busy bool
	// beforeClose, if set, runs after the last delivery, sockets still open.
	beforeClose func()
	// replyEvery, when above 0, makes every replyEvery-th message of a
	// stream a reply in the thread of the last message its socket saw.
	replyEvery int
	// during, if set, runs beside the sending, from its start (t0): other
	// work on the server whose effect on the fan-out is measured. Sending
	// goes on past the window while it runs, up to maxWindow; sent tells
	// how many messages have been sent so far. It returns the span it
	// loaded the server over: the messages sent in it are summarised apart
	// (loadResult.span, spanLast).
	during    func(ctx context.Context, t0 time.Time, sent func() int64) (from, to time.Time)
	maxWindow time.Duration
	// linkEvery, when above 0, makes every linkEvery-th message of a stream
	// link to a page of site; the run then also waits for their previews.
	linkEvery int
	site      *linkSite
}

// stream sends messages to one room at a fixed period, starting at offset,
// from its sockets in turn (each socket is a browser tab with the room open).
type stream struct {
	room   int
	socks  []*sock
	period time.Duration
	offset time.Duration
}

// loadResult is what a run measured.
type loadResult struct {
	label                     string
	clients, connectFailed    int
	rooms                     int
	sent                      int64
	replies                   int64 // of sent, replies in a thread
	links                     int64 // of sent, messages with a link
	previews                  int64 // link previews received on all sockets
	sendErrs, refused         int64
	window, drain             time.Duration
	offered                   float64 // messages/s actually sent
	delivered, expected       int64
	perSec                    float64 // deliveries/s over the window and the drain
	p50, p99, pmax            time.Duration
	lastP50, lastP99, lastMax time.Duration
	complete                  int64 // messages every receiver got
	lost, neverSeen, dups     int64
	reconnects, evictions     int64
	dead                      int64
	cpu, genCPU               time.Duration
	otherCPU                  time.Duration // the rest of the machine: anything above ~0 competed for the 2 cores
	writesPerDelivery         float64       // the server's write system calls per delivery
	nodes                     []int         // sockets open on each node
	cross, same               latencies     // per delivery, sender and receiver on other nodes / the same node
	parts                     []cpuPart     // CPU of each process (or tree) counted in cpu
	cpuPerDelivery            float64       // µs
	genPerDelivery            float64       // µs
	sidebar, sidebarElsewhere int64         // sidebar fragments received on all sockets
	sidebarWS                 int64         // WebSocket messages holding them
	frames                    int64         // WebSocket messages received on all sockets
	bytesRx                   int64         // payload bytes received on all sockets
	committed                 int64
	serverErrors              int
	closeCodes                string
	// The messages sent while spec.during loaded the server: how many, and
	// their latencies per delivery and to the last receiver.
	spanSent       int64
	span, spanLast latencies
}

// latencies are a percentile summary of some deliveries.
type latencies struct {
	n             int
	p50, p99, max time.Duration
}

// cpuPart is one process's (or process tree's) CPU during a run.
type cpuPart struct {
	name string
	cpu  time.Duration
}

func (r loadResult) perMessage(n int64) float64 {
	if r.sent == 0 {
		return 0
	}
	return float64(n) / float64(r.sent)
}

func runLoad(ctx context.Context, tg *target, spec loadSpec, logf func(string, ...any)) (loadResult, error) {
	maxWindow := spec.window
	if spec.during != nil {
		maxWindow = max(spec.window, spec.maxWindow)
	}
	ctx, cancel := context.WithTimeout(ctx, maxWindow+spec.grace+3*time.Minute)
	defer cancel()
	nodes := append([]*target{tg}, spec.others...)
	meters := spec.servers
	for _, n := range nodes {
		meters = append(meters, n.proc)
	}
	cpuNow := func() []time.Duration {
		out := make([]time.Duration, len(meters))
		for i, m := range meters {
			out[i] = m.cpu()
		}
		return out
	}
	sum := func(f func(*target) int64) (n int64) {
		for _, t := range nodes {
			n += f(t)
		}
		return n
	}
	if !spec.busy {
		waitQuiet(ctx, tg.proc.name, logf)
	}
	start := time.Now()
	tl := newTally(int(spec.rate*maxWindow.Seconds()*1.2) + 100)
	socks, failed, err := openMany(ctx, tg, spec.seats, spec.roomOf, tl)
	logf("%s: %d sockets open in %v (%d failed, first error %v)", spec.label, len(socks), time.Since(start).Round(time.Millisecond), failed, err)
	if ctx.Err() != nil {
		return loadResult{}, ctx.Err()
	}
	streams := spec.streams(socks)
	if len(streams) == 0 {
		closeAll(tg, socks)
		return loadResult{}, fmt.Errorf("%s: too few sockets to send from (%d open)", spec.label, len(socks))
	}
	receivers := make([]int64, spec.rooms)
	for _, s := range socks {
		receivers[s.room]++
	}
	time.Sleep(3 * time.Second) // presence frames of the joins settle
	for _, s := range socks {
		s.bytes.Store(0)
		s.sidebar.Store(0)
		s.sidebarEl.Store(0)
		s.sidebarWS.Store(0)
		s.frames.Store(0)
	}

	var sendErrs, replies, links atomic.Int64
	if spec.site != nil {
		spec.site.tally = tl
	}
	var wg sync.WaitGroup
	refused0 := sum(func(t *target) int64 { return t.composerErrs.Load() })
	writes := func(t *target) int64 { return t.proc.writes() }
	cpu0, gen0, all0, w0 := cpuNow(), selfCPU(), machineBusy(), sum(writes)
	t0 := time.Now()
	until, hardEnd := t0.Add(spec.window), t0.Add(maxWindow)
	var busy atomic.Bool // spec.during runs: sending goes on
	var span chan [2]time.Time
	if spec.during != nil {
		busy.Store(true)
		span = make(chan [2]time.Time, 1)
		go func() {
			from, to := spec.during(ctx, t0, func() int64 { return min(tl.next.Load(), int64(tl.max)) })
			busy.Store(false)
			span <- [2]time.Time{from, to}
		}()
	}
	for _, st := range streams {
		pageURL := "http://" + st.socks[0].tg.addr + "/rooms/" + st.socks[0].seat.slug
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := t0.Add(st.offset)
			for k := 0; ; k++ {
				if d := time.Until(next); d > 0 {
					select {
					case <-time.After(d):
					case <-ctx.Done():
						return
					}
				}
				if now := time.Now(); !now.Before(until) && (!busy.Load() || !now.Before(hardEnd)) {
					return
				}
				g := tl.next.Add(1) - 1
				if g >= int64(tl.max) {
					return
				}
				tl.room[g] = uint16(st.room)
				s := st.socks[k%len(st.socks)]
				tl.from[g] = uint8(s.tg.node)
				ns := time.Now().UnixNano()
				tl.at[g] = ns
				clientID := fmt.Sprintf("lg-%d-%d", g, ns)
				frame := composerFrame(body(g, ns), clientID, pageURL)
				linked := spec.linkEvery > 0 && spec.site != nil && k%spec.linkEvery == spec.linkEvery-1
				if linked {
					frame = composerFrame(linkBody(g, ns, spec.site.link(clientID)), clientID, pageURL)
				}
				var root int64
				if spec.replyEvery > 0 && k%spec.replyEvery == spec.replyEvery-1 {
					if root = s.lastMsg.Load(); root > 0 {
						frame = replyFrame(body(g, ns), fmt.Sprintf("lg-%d-%d", g, ns), pageURL, root)
					}
				}
				if err := s.conn.Load().write(0x1, frame); err != nil {
					sendErrs.Add(1)
				} else {
					tl.sent[g].Store(true)
					if root > 0 {
						replies.Add(1)
					}
					if linked {
						links.Add(1)
					}
				}
				next = next.Add(st.period)
			}
		}()
	}
	var perfDone chan struct{}
	if spec.perf != "" {
		perfDone = perfRecord(tg.proc.pid(), spec.perf, 3*time.Second, max(min(10*time.Second, spec.window-4*time.Second), time.Second), logf)
	}
	wg.Wait()
	window := time.Since(t0)
	var spanFrom, spanTo int64 // Unix nanoseconds; none when equal
	if span != nil {
		// It ends by itself: bounded by ctx, as everything here.
		sp := <-span
		spanFrom, spanTo = sp[0].UnixNano(), sp[1].UnixNano()
	}
	var sent, expected int64
	for g := range tl.max {
		if tl.sent[g].Load() {
			sent++
			expected += receivers[tl.room[g]]
		}
	}
	graceEnd := time.Now().Add(spec.grace)
	delivered := func() (n int64) {
		for _, s := range socks {
			n += s.delivered.Load()
		}
		return n
	}
	previews := func() (n int64) {
		for _, s := range socks {
			n += s.previews.Load()
		}
		return n
	}
	// With links, their previews are part of the run: it ends when every
	// socket has them too.
	for (delivered() < expected || previews() < links.Load()*receivers[0]) && time.Now().Before(graceEnd) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	drained := time.Since(t0)
	cpu1, gen1, all1, w1 := cpuNow(), selfCPU(), machineBusy(), sum(writes)
	if perfDone != nil {
		<-perfDone
	}
	// What was received by now counts; the rest is lost, however late it
	// would have come.
	r := loadResult{label: spec.label, rooms: spec.rooms, expected: expected}
	for _, s := range socks {
		r.sidebar += s.sidebar.Load()
		r.sidebarElsewhere += s.sidebarEl.Load()
		r.sidebarWS += s.sidebarWS.Load()
		r.frames += s.frames.Load()
		r.bytesRx += s.bytes.Load()
	}
	if spec.beforeClose != nil {
		spec.beforeClose()
	}
	closeAll(tg, socks)

	r.clients, r.connectFailed, r.sent, r.sendErrs, r.replies = len(socks), failed, sent, sendErrs.Load(), replies.Load()
	r.links, r.previews = links.Load(), previews()
	r.refused = sum(func(t *target) int64 { return t.composerErrs.Load() }) - refused0
	r.window, r.drain, r.offered = window, drained-window, float64(sent)/window.Seconds()
	r.reconnects = sum(func(t *target) int64 { return t.reconnects.Load() })
	r.evictions = sum(func(t *target) int64 { return t.evictions.Load() })
	r.dead = sum(func(t *target) int64 { return t.dead.Load() })
	for i, m := range meters {
		r.parts = append(r.parts, cpuPart{m.label(), cpu1[i] - cpu0[i]})
		r.cpu += cpu1[i] - cpu0[i]
	}
	r.genCPU = gen1 - gen0
	r.nodes = make([]int, len(nodes))
	for _, s := range socks {
		r.nodes[s.tg.node]++
	}
	r.otherCPU = max((all1-all0)-r.cpu-r.genCPU, 0)
	// Per message: how many of its room's sockets got it, and the latency
	// to the last one. Only sockets whose reader has stopped are read.
	stopped := make([]*sock, 0, len(socks))
	for _, s := range socks {
		select {
		case <-s.done:
			stopped = append(stopped, s) // its got[] is final
		default:
		}
		r.dups += s.dups.Load()
	}
	var all, cross, same []uint32
	var lastLat, spanAll, spanLast []uint32
	for g := range tl.max {
		if !tl.sent[g].Load() {
			continue
		}
		inSpan := tl.at[g] >= spanFrom && tl.at[g] < spanTo
		if inSpan {
			r.spanSent++
		}
		room := int(tl.room[g])
		var n int64
		var last uint32
		for _, s := range stopped {
			if s.room != room {
				continue
			}
			if v := s.got[g]; v != 0 {
				n++
				all = append(all, v-1)
				if inSpan {
					spanAll = append(spanAll, v-1)
				}
				last = max(last, v-1)
				if len(nodes) > 1 && s.tg.node == int(tl.from[g]) {
					same = append(same, v-1)
				} else if len(nodes) > 1 {
					cross = append(cross, v-1)
				}
			}
		}
		r.delivered += n
		if n == 0 {
			r.neverSeen++
		}
		r.lost += max(receivers[room]-n, 0)
		if n >= receivers[room] {
			r.complete++
			lastLat = append(lastLat, last)
			if inSpan {
				spanLast = append(spanLast, last)
			}
		}
	}
	r.perSec = float64(r.delivered) / drained.Seconds()
	if r.delivered > 0 {
		r.writesPerDelivery = float64(w1-w0) / float64(r.delivered)
		r.cpuPerDelivery = float64(r.cpu.Nanoseconds()) / 1e3 / float64(r.delivered)
		r.genPerDelivery = float64(r.genCPU.Nanoseconds()) / 1e3 / float64(r.delivered)
	}
	a, l := summarise(all), summarise(lastLat)
	r.p50, r.p99, r.pmax = a.p50, a.p99, a.max
	r.lastP50, r.lastP99, r.lastMax = l.p50, l.p99, l.max
	r.cross, r.same = summarise(cross), summarise(same)
	r.span, r.spanLast = summarise(spanAll), summarise(spanLast)
	r.closeCodes = tg.closeCodeList()
	for _, n := range spec.others {
		if codes := n.closeCodeList(); codes != "" {
			r.closeCodes += "; " + n.proc.name + ": " + codes
		}
	}
	logf("%s: sent %d, delivered %d/%d, lost %d, dups %d, p50 %v p99 %v, last p99 %v, cpu %v (%.2f µs/delivery), sidebar %d",
		spec.label, r.sent, r.delivered, r.expected, r.lost, r.dups, r.p50, r.p99, r.lastP99, r.cpu, r.cpuPerDelivery, r.sidebar)
	return r, nil
}

// summarise sorts latencies in microseconds and takes their percentiles.
func summarise(us []uint32) latencies {
	if len(us) == 0 {
		return latencies{}
	}
	slices.Sort(us)
	at := func(p float64) time.Duration {
		return time.Duration(us[min(int(p*float64(len(us))), len(us)-1)]) * time.Microsecond
	}
	return latencies{n: len(us), p50: at(0.5), p99: at(0.99), max: at(1)}
}

// oneRoomSpec is the one-room fan-out: every user's sockets in #general,
// senders users sending at rate messages/s each, evenly staggered.
func oneRoomSpec(cfg settings, users []*user, pg pageState, rate float64, label, benchDir string, perf bool) loadSpec {
	clients := cfg.users * cfg.socketsPerUser
	spec := loadSpec{
		label: label, seats: oneRoom(users, 0, clients, pg), roomOf: func(int) int { return 0 }, rooms: 1,
		rate:   float64(cfg.senders) * rate,
		window: cfg.fanout, grace: cfg.grace,
		streams: func(socks []*sock) []stream {
			if len(socks) < cfg.senders {
				return nil
			}
			// Socket i belongs to user i % users: sockets 0..senders-1 are
			// the senders' first sockets.
			period := time.Duration(float64(time.Second) / rate)
			out := make([]stream, cfg.senders)
			for i := range out {
				out[i] = stream{socks: socks[i : i+1], period: period, offset: time.Duration(i) * period / time.Duration(cfg.senders)}
			}
			return out
		},
	}
	if perf {
		spec.perf = filepath.Join(benchDir, "perf-"+label)
	}
	return spec
}
