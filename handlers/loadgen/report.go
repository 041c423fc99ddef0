package main

import (
	"cmp"
	"fmt"
	"strings"
	"time"
)

// The Bun figures of DESIGN.md ("Performance targets"): measured elsewhere,
// never in this program's runs (there is no Bun here). They are printed as a
// reference only.
const (
	bunCPULow, bunCPUHigh = 0.9, 2.6 // µs of server CPU per delivery
	bunReference          = "Bun pub/sub (uWebSockets): p99 12-32 ms at 0.9-2.6 µs server CPU per delivery; 2.8 KB per idle connection"
)

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1e3) }

// lastMs is a latency to the last receiver, which exists only for messages
// every receiver got.
func lastMs(d time.Duration) string {
	if d == 0 {
		return "none complete"
	}
	return ms(d)
}

func kib(v int64) string { return fmt.Sprintf("%.1f KiB", float64(v)/1024) }
func mib(v int64) string { return fmt.Sprintf("%.1f MiB", float64(v)/(1<<20)) }

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// bunVerdict compares a CPU per delivery with the DESIGN's Bun range.
func bunVerdict(us float64) string {
	switch {
	case us <= 0 || us > bunCPUHigh:
		return "MISSED (> Bun's range)"
	case us > bunCPULow:
		return "within Bun's range"
	default:
		return "met"
	}
}

func pct(part, whole time.Duration) string {
	if whole <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f s (%.0f%%)", part.Seconds(), 100*part.Seconds()/whole.Seconds())
}

func (res *results) table(cfg settings) string {
	var b strings.Builder
	row := func(metric, a, bl, rt, target, v string) {
		fmt.Fprintf(&b, "%-46s %-18s %-18s %-8s %-18s %s\n", metric, a, bl, rt, target, v)
	}
	fmt.Fprintf(&b, "agora load generator, %s, %d CPUs shared by server and load generator, loopback\n", res.began.UTC().Format(time.RFC3339), numCPU())
	fmt.Fprintf(&b, "baseline: in-memory coder/websocket hub, no storage, no rendering, one write per message per socket, 256-message queue\n")
	fmt.Fprintf(&b, "load generator: raw RFC 6455 client, one goroutine per socket; its CPU competes with the server's on the same cores\n")
	if cfg.bun != "" && cfg.phases["room"] {
		fmt.Fprintf(&b, "Bun: measured in this run, beside agora and the bare hub (h); DESIGN.md's figures, measured elsewhere: %s\n\n", bunReference)
	} else {
		fmt.Fprintf(&b, "reference, NOT measured in this run (DESIGN.md, measured elsewhere): %s\n\n", bunReference)
	}
	if cfg.sqlitePhases() {
		row("metric", "agora", "baseline", "ratio", "target", "verdict")
	}

	fan := func(tag string, af, bf loadResult) {
		span := func(r loadResult) time.Duration { return r.window + r.drain }
		row(tag+" clients (connect failures)", fmt.Sprintf("%d (%d)", af.clients, af.connectFailed), fmt.Sprintf("%d (%d)", bf.clients, bf.connectFailed), "", "1000", "")
		row(tag+" messages sent / offered rate", fmt.Sprintf("%d / %.0f/s", af.sent, af.offered), fmt.Sprintf("%d / %.0f/s", bf.sent, bf.offered), "", "", "")
		row(tag+" deliveries received / expected", fmt.Sprintf("%d/%d", af.delivered, af.expected), fmt.Sprintf("%d/%d", bf.delivered, bf.expected), "", "", "")
		row(tag+" deliveries/s (window + drain)", fmt.Sprintf("%.0f", af.perSec), fmt.Sprintf("%.0f", bf.perSec), ratio(af.perSec, bf.perSec), "", "")
		row(tag+" latency per delivery p50", ms(af.p50), ms(bf.p50), ratio(float64(af.p50), float64(bf.p50)), "", "")
		row(tag+" latency per delivery p99", ms(af.p99), ms(bf.p99), ratio(float64(af.p99), float64(bf.p99)), "", "")
		row(tag+" latency per delivery max", ms(af.pmax), ms(bf.pmax), ratio(float64(af.pmax), float64(bf.pmax)), "", "")
		row(tag+" send -> last receiver p50", lastMs(af.lastP50), lastMs(bf.lastP50), ratio(float64(af.lastP50), float64(bf.lastP50)), "", "")
		row(tag+" send -> last receiver p99", lastMs(af.lastP99), lastMs(bf.lastP99), ratio(float64(af.lastP99), float64(bf.lastP99)),
			"<= 25 ms", verdict(af.lost == 0 && af.lastP99 > 0 && af.lastP99 <= 25*time.Millisecond))
		row(tag+" send -> last receiver max", lastMs(af.lastMax), lastMs(bf.lastMax), ratio(float64(af.lastMax), float64(bf.lastMax)), "", "")
		row(tag+" messages complete (all receivers) / sent", fmt.Sprintf("%d/%d", af.complete, af.sent), fmt.Sprintf("%d/%d", bf.complete, bf.sent), "", "all", "")
		row(tag+" lost deliveries (never-seen msgs)", fmt.Sprintf("%d (%d)", af.lost, af.neverSeen), fmt.Sprintf("%d (%d)", bf.lost, bf.neverSeen), "", "0", verdict(af.lost == 0))
		row(tag+" duplicated deliveries", fmt.Sprint(af.dups), fmt.Sprint(bf.dups), "", "0", verdict(af.dups == 0))
		row(tag+" evictions (1013) / reconnects / dead", fmt.Sprintf("%d/%d/%d", af.evictions, af.reconnects, af.dead), fmt.Sprintf("%d/%d/%d", bf.evictions, bf.reconnects, bf.dead), "", "", "")
		row(tag+" send errors / refused by server", fmt.Sprintf("%d/%d", af.sendErrs, af.refused), fmt.Sprintf("%d/%d", bf.sendErrs, bf.refused), "", "", "")
		row(tag+" server CPU (window + drain)", pct(af.cpu, span(af)), pct(bf.cpu, span(bf)), ratio(af.cpu.Seconds(), bf.cpu.Seconds()), "", "")
	}
	tail := func(tag string, af, bf loadResult) {
		row(tag+" server write syscalls per delivery", fmt.Sprintf("%.3f", af.writesPerDelivery), fmt.Sprintf("%.3f", bf.writesPerDelivery), ratio(af.writesPerDelivery, bf.writesPerDelivery), "", "")
		row(tag+" bytes received per message (all sockets)", fmt.Sprintf("%.0f", af.perMessage(af.bytesRx)), fmt.Sprintf("%.0f", bf.perMessage(bf.bytesRx)), ratio(af.perMessage(af.bytesRx), bf.perMessage(bf.bytesRx)), "", "")
		row(tag+" other processes' CPU (contention)", pct(af.otherCPU, af.window+af.drain), pct(bf.otherCPU, bf.window+bf.drain), "", "~0", "")
		row(tag+" load generator CPU per delivery", fmt.Sprintf("%.2f µs", af.genPerDelivery), fmt.Sprintf("%.2f µs", bf.genPerDelivery), "", "", "")
		row(tag+" messages committed / sent", fmt.Sprintf("%d/%d", af.committed, af.sent), "n/a", "", "all", verdict(af.committed == af.sent))
		row(tag+" server log errors (whole agora process)", fmt.Sprint(af.serverErrors), "", "", "0", "")
	}

	if cfg.phases["room"] {
		af, bf := res.agRoom, res.blRoom
		fan("(a)", af, bf)
		row("(a) server CPU per delivery", fmt.Sprintf("%.2f µs", af.cpuPerDelivery), fmt.Sprintf("%.2f µs", bf.cpuPerDelivery), ratio(af.cpuPerDelivery, bf.cpuPerDelivery),
			"<= Bun 0.9-2.6 µs", bunVerdict(af.cpuPerDelivery))
		row("(a) agora CPU per delivery / Bun's (ref.)", fmt.Sprintf("%.2f-%.2fx", af.cpuPerDelivery/bunCPUHigh, af.cpuPerDelivery/bunCPULow), "", "", "<= 1x", "")
		tail("(a)", af, bf)
		if cfg.lowRate > 0 {
			al, bl := res.agLow, res.blLow
			lr := fmt.Sprintf("(a@%.0f/s)", float64(cfg.senders)*cfg.lowRate)
			row(lr+" deliveries/s", fmt.Sprintf("%.0f", al.perSec), fmt.Sprintf("%.0f", bl.perSec), ratio(al.perSec, bl.perSec), "", "")
			row(lr+" latency per delivery p50 / p99", ms(al.p50)+" / "+ms(al.p99), ms(bl.p50)+" / "+ms(bl.p99), ratio(float64(al.p99), float64(bl.p99)), "", "")
			row(lr+" send -> last receiver p99", lastMs(al.lastP99), lastMs(bl.lastP99), ratio(float64(al.lastP99), float64(bl.lastP99)), "(<= 25 ms)", "")
			row(lr+" lost / duplicated / evictions", fmt.Sprintf("%d/%d/%d", al.lost, al.dups, al.evictions), fmt.Sprintf("%d/%d/%d", bl.lost, bl.dups, bl.evictions), "", "", "")
			row(lr+" server CPU per delivery", fmt.Sprintf("%.2f µs", al.cpuPerDelivery), fmt.Sprintf("%.2f µs", bl.cpuPerDelivery), ratio(al.cpuPerDelivery, bl.cpuPerDelivery), "", "")
			row(lr+" server write syscalls per delivery", fmt.Sprintf("%.3f", al.writesPerDelivery), fmt.Sprintf("%.3f", bl.writesPerDelivery), ratio(al.writesPerDelivery, bl.writesPerDelivery), "", "")
			row(lr+" load generator CPU per delivery", fmt.Sprintf("%.2f µs", al.genPerDelivery), fmt.Sprintf("%.2f µs", bl.genPerDelivery), "", "", "")
			row(lr+" other processes' CPU", fmt.Sprintf("%.1f s", al.otherCPU.Seconds()), fmt.Sprintf("%.1f s", bl.otherCPU.Seconds()), "", "~0", "")
			row(lr+" messages committed / sent", fmt.Sprintf("%d/%d", al.committed, al.sent), "n/a", "", "all", "")
		}
		if cfg.replies > 0 {
			res.threadRows(row, cfg.replies)
		}
		if cfg.links > 0 {
			res.linkRows(row, cfg.links)
		}
	}
	if cfg.phases["team"] {
		at, bt := res.agTeam, res.blTeam
		fan("(e) team:", at, bt)
		target, v := "<= 1.5x one room", "(no one-room run)"
		if cfg.phases["room"] && res.agRoom.cpuPerDelivery > 0 {
			target = fmt.Sprintf("<= %.2f µs", 1.5*res.agRoom.cpuPerDelivery)
			v = verdict(at.cpuPerDelivery > 0 && at.cpuPerDelivery <= 1.5*res.agRoom.cpuPerDelivery)
		}
		row("(e) team: server CPU per delivery", fmt.Sprintf("%.2f µs", at.cpuPerDelivery), fmt.Sprintf("%.2f µs", bt.cpuPerDelivery), ratio(at.cpuPerDelivery, bt.cpuPerDelivery), target, v)
		if cfg.phases["room"] {
			row("(e) team / one-room CPU per delivery", ratio(at.cpuPerDelivery, res.agRoom.cpuPerDelivery), ratio(bt.cpuPerDelivery, res.blRoom.cpuPerDelivery), "", "<= 1.5x", "")
		}
		perFrame := func(r loadResult) string {
			if n := r.delivered + r.sidebar; n > 0 {
				return fmt.Sprintf("%.2f µs", float64(r.cpu.Nanoseconds())/1e3/float64(n))
			}
			return "-"
		}
		row("(e) team: server CPU per frame (message or sidebar)", perFrame(at), perFrame(bt), "", "", "")
		row("(e) team: sidebar fragments per message", fmt.Sprintf("%.1f", at.perMessage(at.sidebar)), fmt.Sprintf("%.1f", bt.perMessage(bt.sidebar)), "", "", "")
		row("(e) team:   of which on sockets in other rooms", fmt.Sprintf("%.1f", at.perMessage(at.sidebarElsewhere)), fmt.Sprintf("%.1f", bt.perMessage(bt.sidebarElsewhere)), "", "", "")
		row("(e) team: WebSocket messages holding them, per message", fmt.Sprintf("%.1f", at.perMessage(at.sidebarWS)), fmt.Sprintf("%.1f", bt.perMessage(bt.sidebarWS)), "", "", "")
		// What one socket receives each second: its room's messages, and
		// everything else (the sidebars of its user's other rooms).
		perSock := func(r loadResult, n int64) float64 {
			if secs := (r.window + r.drain).Seconds(); r.clients > 0 && secs > 0 {
				return float64(n) / float64(r.clients) / secs
			}
			return 0
		}
		room, frames := perSock(at, at.delivered), perSock(at, at.frames)
		row("(e) team: WebSocket messages per socket per second", fmt.Sprintf("%.1f", frames), fmt.Sprintf("%.1f", perSock(bt, bt.frames)), "",
			fmt.Sprintf("<= 4 + %.1f (its room's)", room), verdict(at.frames > 0 && frames <= 4+room))
		row("(e) team:   of which hold sidebar fragments", fmt.Sprintf("%.1f", perSock(at, at.sidebarWS)), fmt.Sprintf("%.1f", perSock(bt, bt.sidebarWS)), "", "", "")
		tail("(e) team:", at, bt)
	}
	if cfg.phases["idle"] {
		ai, bi := res.agIdle, res.blIdle
		row("(b) idle RSS, no sockets", mib(ai.rss0), mib(bi.rss0), ratio(float64(ai.rss0), float64(bi.rss0)), "", "")
		row(fmt.Sprintf("(b) idle RSS, %d sockets", ai.small), mib(ai.rssSmall), mib(bi.rssSmall), ratio(float64(ai.rssSmall), float64(bi.rssSmall)), "", "")
		row(fmt.Sprintf("(b) per connection at %d", ai.small), kib(int64(ai.perConn(false))), kib(int64(bi.perConn(false))), ratio(ai.perConn(false), bi.perConn(false)), "", "")
		row(fmt.Sprintf("(b) idle RSS, %d sockets", ai.large), mib(ai.rssLarge), mib(bi.rssLarge), ratio(float64(ai.rssLarge), float64(bi.rssLarge)), "", "")
		row(fmt.Sprintf("(b) per connection at %d", ai.large), kib(int64(ai.perConn(true))), kib(int64(bi.perConn(true))), ratio(ai.perConn(true), bi.perConn(true)),
			"<= 12 KiB @10k", verdict(ai.large >= 10000 && ai.perConn(true) <= 12*1024))
		row("(b) connect failures / sockets lost idle", fmt.Sprintf("%d/%d", ai.failed, ai.died), fmt.Sprintf("%d/%d", bi.failed, bi.died), "", "", "")
	}
	if cfg.phases["storage"] {
		st := res.store
		row(fmt.Sprintf("(c) socket path: %d senders x %d burst", st.senders, st.burst), fmt.Sprintf("%d in %s", st.received, ms(st.elapsed)), "n/a", "", "", "")
		row("(c) committed msgs/s via sockets (burst)", fmt.Sprintf("%.0f", st.rate), "n/a", "", ">= 100000", verdict(st.rate >= 100000)+" (*)")
		row("(c) committed rows / refused / locked", fmt.Sprintf("%d/%d/%d", st.committed, st.refused, st.locked), "n/a", "", "locked 0", verdict(st.locked == 0))
	}
	if cfg.phases["page"] {
		pg := res.page
		row(fmt.Sprintf("(d) GET room page (%d msgs, %d B) p50", pg.msgs, pg.bytes), ms(pg.p50), "n/a", "", "<= 1 ms", verdict(pg.p50 <= time.Millisecond)+" (**)")
		row("(d) GET room page p99", ms(pg.p99), "n/a", "", "", "")
		for _, l := range pg.loads {
			tag := fmt.Sprintf("(d) %d clients, %s:", l.clients, cmp.Or(l.coding, "identity"))
			row(tag+" pages/s", fmt.Sprintf("%.0f", l.perSecond()), "n/a", "", "", "")
			row(tag+" pages per server CPU-second", fmt.Sprintf("%.0f", l.perCPUSecond()), "n/a", "", ">= 5000", verdict(l.perCPUSecond() >= 5000))
			row(tag+" server CPU per page", fmt.Sprintf("%.0f µs", float64(l.cpu.Microseconds())/float64(max(l.pages, 1))), "n/a", "", "", "")
			row(tag+" bytes per page / p50 / p99", fmt.Sprintf("%d / %s / %s", l.bytes, ms(l.p50), ms(l.p99)), "n/a", "", "", "")
			row(tag+" other processes' CPU", pct(l.otherCPU, l.took), "n/a", "", "~0", "")
		}
	}
	if cfg.phases["push"] {
		res.push.rows(row)
	}

	if cfg.phases["capacity"] {
		res.capacity.rows(row)
	}
	if cfg.phases["room"] {
		res.sideBySide(&b, cfg)
	}
	if cfg.phases["cluster"] {
		res.cluster.rows(&b, res.agRoom, res.store)
	}

	b.WriteString("\n")
	if cfg.phases["room"] {
		af, bf := res.agRoom, res.blRoom
		fmt.Fprintf(&b, "(a) one room: %d users x %d sockets; %d senders at %.0f msg/s for %v; latency from the send timestamp in the body to each arrival, grace %v.\n",
			cfg.users, cfg.socketsPerUser, cfg.senders, cfg.rate, cfg.fanout, cfg.grace)
		fmt.Fprintf(&b, "    CPU from /proc/<pid>/stat utime+stime over the send window and drain (%v + %v agora, %v + %v baseline).\n",
			af.window.Round(time.Millisecond), af.drain.Round(time.Millisecond), bf.window.Round(time.Millisecond), bf.drain.Round(time.Millisecond))
		fmt.Fprintf(&b, "    sockets closed under the clients (code, reason): agora [%s]; baseline [%s]\n", af.closeCodes, bf.closeCodes)
		if cfg.lowRate > 0 {
			fmt.Fprintf(&b, "(a@%.0f/s) the same fan-out run first at %.0f msg/s per sender (close codes: agora [%s]; baseline [%s]).\n",
				float64(cfg.senders)*cfg.lowRate, cfg.lowRate, res.agLow.closeCodes, res.blLow.closeCodes)
		}
	}
	if cfg.phases["team"] {
		at, bt := res.agTeam, res.blTeam
		fmt.Fprintf(&b, "(e) team: %d users, %d public rooms, each user a member of %d and with %d sockets on every other one of them (%d sockets,\n",
			cfg.users, cfg.rooms, cfg.roomsPerUser, cfg.socketsPerUser, cfg.users*cfg.socketsPerUser)
		fmt.Fprintf(&b, "    %d per room); %.0f msg/s spread evenly over the rooms for %v, each room's messages from its sockets in turn. The phase\n",
			cfg.users*cfg.socketsPerUser/cfg.rooms, cfg.teamRate, cfg.teamWindow)
		fmt.Fprintf(&b, "    ends %v after the last send: what has not arrived by then is lost. CPU over %v + %v agora, %v + %v baseline.\n",
			cfg.teamGrace, at.window.Round(time.Millisecond), at.drain.Round(time.Millisecond), bt.window.Round(time.Millisecond), bt.drain.Round(time.Millisecond))
		fmt.Fprintf(&b, "    Sidebar fragments: out-of-band swaps of #nav-lists or of a room's entry, count or marks in the sidebar, counted on every socket;\n")
		fmt.Fprintf(&b, "    \"other rooms\" leaves out those naming the socket's own room; a WebSocket message may carry several of them, and\n")
		fmt.Fprintf(&b, "    messages too (a socket's waiting frames go out as one). The baseline has no sidebar.\n")
		fmt.Fprintf(&b, "    sockets closed under the clients: agora [%s]; baseline [%s]\n", at.closeCodes, bt.closeCodes)
	}
	if cfg.phases["idle"] {
		fmt.Fprintf(&b, "(b) agora: the sockets of %d users in #general, each user's spread evenly; VmRSS after connecting and 3-5 s of quiet;\n"+
			"    per connection = (RSS_n - RSS_0) / n.\n", res.agIdle.users)
	}
	if cfg.phases["storage"] {
		fmt.Fprintf(&b, "(*) the socket path is rate-limited per user (8 msg/s after a burst of 30) and per socket (20 frames/s after 300):\n")
		fmt.Fprintf(&b, "    64 senders can sustain at most 512 msg/s; this is the burst rate. The store's own rate is BenchmarkCreateMessage.\n")
	}
	if cfg.phases["page"] {
		fmt.Fprintf(&b, "(**) measured at the client over one keep-alive loopback connection, request to last byte, %d requests.\n", res.page.requests)
		fmt.Fprintf(&b, "(d) N clients: that many signed-in users load #general at once, each over its own keep-alive connection, for %v per\n"+
			"    Accept-Encoding (a browser's \"gzip, deflate, br, zstd\", then \"gzip\"); server CPU is utime+stime from /proc over that time.\n", cfg.pageWindow)
	}
	if cfg.phases["push"] {
		b.WriteString(res.push.note())
	}
	if cfg.phases["capacity"] {
		b.WriteString(res.capacity.note(cfg))
	}
	if cfg.phases["cluster"] {
		b.WriteString(res.cluster.note(cfg, cfg.phases["room"]))
	}
	fmt.Fprintf(&b, "load generator run time %v\n", res.took.Round(time.Second))
	return b.String()
}

// threadRows are the one-room fan-out again with every nth message a reply
// in a thread, beside the plain run (a) in the second column: a reply costs
// what a message of the room costs, within 10 %, or threads make busy
// rooms slower.
func (res *results) threadRows(row func(metric, a, bl, rt, target, v string), n int) {
	at, af := res.agThreads, res.agRoom
	tag := "(t)"
	row(fmt.Sprintf("%s the fan-out (a), 1 in %d a reply", tag, n), "agora", "(a) plain", "ratio", "", "")
	row(tag+" messages sent / replies", fmt.Sprintf("%d / %d", at.sent, at.replies), fmt.Sprintf("%d / 0", af.sent), "", "", "")
	row(tag+" deliveries received / expected", fmt.Sprintf("%d/%d", at.delivered, at.expected), fmt.Sprintf("%d/%d", af.delivered, af.expected), "", "", "")
	row(tag+" lost / duplicated / evictions", fmt.Sprintf("%d/%d/%d", at.lost, at.dups, at.evictions), fmt.Sprintf("%d/%d/%d", af.lost, af.dups, af.evictions), "", "0/0/0",
		verdict(at.lost == 0 && at.dups == 0))
	row(tag+" latency per delivery p50 / p99", ms(at.p50)+" / "+ms(at.p99), ms(af.p50)+" / "+ms(af.p99), ratio(float64(at.p99), float64(af.p99)), "", "")
	row(tag+" send -> last receiver p99", lastMs(at.lastP99), lastMs(af.lastP99), ratio(float64(at.lastP99), float64(af.lastP99)), "", "")
	row(tag+" server CPU per delivery", fmt.Sprintf("%.2f µs", at.cpuPerDelivery), fmt.Sprintf("%.2f µs", af.cpuPerDelivery), ratio(at.cpuPerDelivery, af.cpuPerDelivery),
		"<= 1.10x (a)", verdict(at.delivered > 0 && at.cpuPerDelivery <= 1.1*af.cpuPerDelivery))
	row(tag+" server write syscalls per delivery", fmt.Sprintf("%.3f", at.writesPerDelivery), fmt.Sprintf("%.3f", af.writesPerDelivery), ratio(at.writesPerDelivery, af.writesPerDelivery), "", "")
	row(tag+" bytes received per message (all sockets)", fmt.Sprintf("%.0f", at.perMessage(at.bytesRx)), fmt.Sprintf("%.0f", af.perMessage(af.bytesRx)), ratio(at.perMessage(at.bytesRx), af.perMessage(af.bytesRx)), "", "")
	row(tag+" other processes' CPU (contention)", pct(at.otherCPU, at.window+at.drain), pct(af.otherCPU, af.window+af.drain), "", "~0", "")
	row(tag+" messages committed / sent", fmt.Sprintf("%d/%d", at.committed, at.sent), fmt.Sprintf("%d/%d", af.committed, af.sent), "", "all", verdict(at.committed == at.sent))
}

// linkRows are the one-room fan-out again with a link in every nth message,
// beside the plain run (a): each link's page is fetched by the job queue
// and its preview sent to the whole room, so a linked message costs its
// preview's delivery too. The fetch counter (agora_unfurl_fetches_total)
// and the pages' server show every fetch; a page asked for before its
// message was committed would be a fetch on the message path.
func (res *results) linkRows(row func(metric, a, bl, rt, target, v string), n int) {
	al, af, l := res.agLinks, res.agRoom, res.links
	tag := "(l)"
	row(fmt.Sprintf("%s the fan-out (a), 1 in %d with a link", tag, n), "agora", "(a) plain", "ratio", "", "")
	row(tag+" messages sent / with a link", fmt.Sprintf("%d / %d", al.sent, al.links), fmt.Sprintf("%d / 0", af.sent), "", "", "")
	row(tag+" deliveries received / expected", fmt.Sprintf("%d/%d", al.delivered, al.expected), fmt.Sprintf("%d/%d", af.delivered, af.expected), "", "", "")
	row(tag+" lost / duplicated / evictions", fmt.Sprintf("%d/%d/%d", al.lost, al.dups, al.evictions), fmt.Sprintf("%d/%d/%d", af.lost, af.dups, af.evictions), "", "0/0/0",
		verdict(al.lost == 0 && al.dups == 0))
	row(tag+" previews received / expected (all sockets)", fmt.Sprintf("%d/%d", l.previews, l.previewsExpected), "", "", "all", verdict(l.previews >= l.previewsExpected))
	row(tag+" latency per delivery p50 / p99", ms(al.p50)+" / "+ms(al.p99), ms(af.p50)+" / "+ms(af.p99), ratio(float64(al.p99), float64(af.p99)), "", "")
	row(tag+" send -> last receiver p99", lastMs(al.lastP99), lastMs(af.lastP99), ratio(float64(al.lastP99), float64(af.lastP99)), "", "")
	// A preview is sent to every socket of the room as a frame of its own
	// (or joined to the next message's): a delivery like a message's. Per
	// message delivered, the previews' fan-out alone adds 1/n.
	perDelivery := 0.0
	if d := al.delivered + l.previews; d > 0 {
		perDelivery = float64(al.cpu.Nanoseconds()) / 1e3 / float64(d)
	}
	row(tag+" server CPU per delivery, previews' frames counted (all the previews' work included)", fmt.Sprintf("%.2f µs", perDelivery), fmt.Sprintf("%.2f µs", af.cpuPerDelivery), ratio(perDelivery, af.cpuPerDelivery),
		"<= 1.10x (a)", verdict(al.delivered > 0 && perDelivery <= 1.1*af.cpuPerDelivery))
	row(fmt.Sprintf("%s server CPU per message delivered (the same CPU; the previews' frames are %.0f %% more deliveries)", tag, 100/float64(n)),
		fmt.Sprintf("%.2f µs", al.cpuPerDelivery), fmt.Sprintf("%.2f µs", af.cpuPerDelivery), ratio(al.cpuPerDelivery, af.cpuPerDelivery), "", "")
	row(tag+" bytes received per message (all sockets)", fmt.Sprintf("%.0f", al.perMessage(al.bytesRx)), fmt.Sprintf("%.0f", af.perMessage(af.bytesRx)), ratio(al.perMessage(al.bytesRx), af.perMessage(af.bytesRx)), "", "")
	fetches := fmt.Sprintf("%.0f", l.fetches)
	if l.metricsErr != "" {
		fetches = "? (" + l.metricsErr + ")"
	}
	row(tag+" fetches (agora_unfurl_fetches_total) / pages + pictures served", fetches+" / "+fmt.Sprintf("%d + %d", l.pages, l.images), "", "", "", "")
	row(tag+" pages fetched before their message was committed", fmt.Sprintf("%d (of %d; %d asked the store)", l.beforeCommit, l.pages, l.inStore), "", "", "0: none on the message path",
		verdict(l.pages > 0 && l.beforeCommit == 0))
	row(tag+" other processes' CPU (contention)", pct(al.otherCPU, al.window+al.drain), pct(af.otherCPU, af.window+af.drain), "", "~0", "")
	row(tag+" messages committed / sent", fmt.Sprintf("%d/%d", al.committed, al.sent), fmt.Sprintf("%d/%d", af.committed, af.sent), "", "all", verdict(al.committed == al.sent))
}
