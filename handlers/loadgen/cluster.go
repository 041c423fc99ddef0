package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"agora/db/pgtest"
)

// The cluster phase: the one-room load on PostgreSQL, first on one agora
// process alone, then split over two nodes that share the database through
// one NATS server. Every server is a process of its own (PostgreSQL's
// backends are children of its postmaster), so the CPU of each is read from
// /proc and summed.

type clusterResult struct {
	postgres           string // its version
	one, two, three    loadResult
	oneStore, twoStore storageResult
}

func (b *bench) cluster(ctx context.Context) (r clusterResult, err error) {
	cfg := b.cfg
	bin, err := pgtest.Bin()
	if err != nil {
		return r, fmt.Errorf("cluster: %w", err)
	}
	if out, err := exec.Command(filepath.Join(bin, "postgres"), "--version").Output(); err == nil {
		r.postgres = strings.TrimPrefix(strings.TrimSpace(string(out)), "postgres (PostgreSQL) ")
	}
	natsBin, err := b.buildNATS(ctx)
	if err != nil {
		return r, err
	}
	// As a server runs: fsync and synchronous commit on.
	pg, err := pgtest.Start(ctx, pgtest.Options{Durable: true})
	if err != nil {
		return r, fmt.Errorf("cluster: %w", err)
	}
	defer pg.Stop()
	dsn, err := pg.CreateDatabase(ctx)
	if err != nil {
		return r, fmt.Errorf("cluster: %w", err)
	}
	pgCPU := procTree{name: "postgres", pid: pg.PID()}
	agora := func(name string, more ...string) (*proc, error) {
		return b.start(ctx, name, func(addr string) *exec.Cmd {
			return exec.Command(b.bin, append([]string{"-addr", addr, "-db", dsn}, more...)...)
		})
	}

	// One node alone on PostgreSQL, which also signs the users up there.
	one, err := agora("agora-pg")
	if err != nil {
		return r, err
	}
	users, err := signup(one.addr, cfg.users, b.logf)
	if err != nil {
		return r, err
	}
	spec, err := b.clusterSpec(users, one.addr, "agora-pg")
	if err != nil {
		return r, err
	}
	spec.servers = []cpuMeter{pgCPU}
	if r.one, err = b.countedLoad(ctx, newTarget(one, true), spec, dsn); err != nil {
		return r, err
	}
	if r.oneStore, err = runStorage(ctx, newTarget(one, true), users, cfg, dsn, b.logf); err != nil {
		return r, err
	}
	one.stop()
	r.one.serverErrors = countInFile(one.logPath, "level=ERROR")

	// NATS, and two nodes on it.
	natsAddr, err := freeAddr()
	if err != nil {
		return r, err
	}
	ns, err := b.start(ctx, "nats", func(monitor string) *exec.Cmd {
		host, port, _ := net.SplitHostPort(natsAddr)
		_, mport, _ := net.SplitHostPort(monitor)
		// The monitoring port answers /healthz, which is how startProc
		// knows the server is up.
		return exec.Command(natsBin, "-a", host, "-p", port, "-m", mport)
	})
	if err != nil {
		return r, err
	}
	defer ns.stop()
	var nodes [2]*target
	for i, name := range []string{"agora-node-a", "agora-node-b"} {
		p, err := agora(name, "-nats", "nats://"+natsAddr)
		if err != nil {
			return r, err
		}
		defer p.stop()
		nodes[i] = newTarget(p, true)
		nodes[i].node = i
	}
	if spec, err = b.clusterSpec(users, nodes[0].addr, "agora-2-nodes"); err != nil {
		return r, err
	}
	// Socket i is user i % users': each user's sockets are on one node, and
	// half the senders are on each.
	for i := range spec.seats {
		spec.seats[i].tg = nodes[i%2]
	}
	spec.others = nodes[1:]
	spec.servers = []cpuMeter{pgCPU, ns}
	if r.two, err = b.countedLoad(ctx, nodes[0], spec, dsn); err != nil {
		return r, err
	}
	fresh := newTarget(nodes[1].proc, true) // the load's targets are stopping
	fresh.node = 1
	if r.twoStore, err = runStorage(ctx, newTarget(nodes[0].proc, true), users, cfg, dsn, b.logf, fresh); err != nil {
		return r, err
	}
	for _, n := range nodes {
		n.proc.stop()
		r.two.serverErrors += countInFile(n.proc.logPath, "level=ERROR")
	}
	ns.stop()

	// Three NATS servers routed as one cluster, and three nodes given all
	// their URLs.
	natsProcs, urls, err := b.startNATSCluster(ctx, natsBin, 3)
	if err != nil {
		return r, err
	}
	var three []*target
	for i := range 3 {
		p, err := agora(fmt.Sprintf("agora-3-node-%d", i+1), "-nats", strings.Join(urls, ","))
		if err != nil {
			return r, err
		}
		defer p.stop()
		t := newTarget(p, true)
		t.node = i
		three = append(three, t)
	}
	if spec, err = b.clusterSpec(users, three[0].addr, "agora-3-nodes"); err != nil {
		return r, err
	}
	for i := range spec.seats {
		spec.seats[i].tg = three[i%3]
	}
	spec.others = three[1:]
	spec.servers = append([]cpuMeter{pgCPU}, natsProcs...)
	if r.three, err = b.countedLoad(ctx, three[0], spec, dsn); err != nil {
		return r, err
	}
	for _, n := range three {
		n.proc.stop()
		r.three.serverErrors += countInFile(n.proc.logPath, "level=ERROR")
	}
	return r, nil
}

// startNATSCluster runs n nats-server processes routed to one another and
// returns them with their client URLs.
func (b *bench) startNATSCluster(ctx context.Context, natsBin string, n int) ([]cpuMeter, []string, error) {
	var clientAddrs, routes []string
	for range n {
		a, err := freeAddr()
		if err != nil {
			return nil, nil, err
		}
		c, err := freeAddr()
		if err != nil {
			return nil, nil, err
		}
		clientAddrs = append(clientAddrs, a)
		routes = append(routes, "nats-route://"+c)
	}
	var procs []cpuMeter
	var urls []string
	for i := range n {
		host, port, _ := net.SplitHostPort(clientAddrs[i])
		p, err := b.start(ctx, fmt.Sprintf("nats-%d", i+1), func(monitor string) *exec.Cmd {
			_, mport, _ := net.SplitHostPort(monitor)
			others := slices.Delete(slices.Clone(routes), i, i+1)
			return exec.Command(natsBin, "-a", host, "-p", port, "-m", mport, "-n", fmt.Sprintf("agora-nats-%d", i+1),
				"--cluster_name", "agora", "--cluster", routes[i], "--routes", strings.Join(others, ","))
		})
		if err != nil {
			return nil, nil, err
		}
		procs = append(procs, p)
		urls = append(urls, "nats://"+clientAddrs[i])
	}
	return procs, urls, nil
}

// clusterSpec is the one-room load at the main rate, from #general as addr
// shows it now.
func (b *bench) clusterSpec(users []*user, addr, label string) (loadSpec, error) {
	pg, err := readPage(addr, users[0], "general")
	if err != nil {
		return loadSpec{}, err
	}
	return oneRoomSpec(b.cfg, users, pg, b.cfg.rate, label, b.benchDir, false), nil
}

// countedLoad runs the load and counts the messages it stored.
func (b *bench) countedLoad(ctx context.Context, tg *target, spec loadSpec, dsn string) (loadResult, error) {
	rows := countRows(dsn, "lg %", b.logf)
	r, err := runLoad(ctx, tg, spec, b.logf)
	r.committed = countRows(dsn, "lg %", b.logf) - rows
	return r, err
}

// buildNATS builds nats-server from the module agora already requires, so
// that it runs as a process of its own and its CPU can be read.
func (b *bench) buildNATS(ctx context.Context) (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(b.tmp, "nats-server")
	build := exec.CommandContext(ctx, "go", "build", "-o", out, "github.com/nats-io/nats-server/v2")
	build.Dir = root
	if msg, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build nats-server: %v\n%s", err, msg)
	}
	return out, nil
}

// rows adds the phase to the results table, beside the SQLite one-room
// figures of the same run (sqlite, and store for its burst) when it has them.
func (r clusterResult) rows(b *strings.Builder, sqlite loadResult, store storageResult) {
	row := func(metric, s, one, two, three, rt, rt3, target, v string) {
		fmt.Fprintf(b, "%-46s %-24s %-24s %-24s %-24s %-6s %-6s %-6s %s\n", metric, s, one, two, three, rt, rt3, target, v)
	}
	b.WriteString("\n")
	row("(g) cluster: metric", "sqlite, 1 node", "postgres, 1 node", "postgres, 2 nodes", "postgres, 3 nodes", "2 / 1", "3 / 1", "target", "verdict")
	line := func(metric string, f func(loadResult) string, rt, target, v string) {
		s := "-"
		if sqlite.sent > 0 {
			s = f(sqlite)
		}
		row(metric, s, f(r.one), f(r.two), f(r.three), rt, "", target, v)
	}
	// line3 is line with the 3 / 1 ratio too.
	line3 := func(metric string, f func(loadResult) string, num func(loadResult) float64, target, v string) {
		s := "-"
		if sqlite.sent > 0 {
			s = f(sqlite)
		}
		row(metric, s, f(r.one), f(r.two), f(r.three), ratio(num(r.two), num(r.one)), ratio(num(r.three), num(r.one)), target, v)
	}
	perDelivery := func(d time.Duration, l loadResult) float64 {
		if l.delivered == 0 {
			return 0
		}
		return float64(d.Nanoseconds()) / 1e3 / float64(l.delivered)
	}
	two := r.two
	line("(g) clients (per node)", func(l loadResult) string {
		if len(l.nodes) > 1 {
			parts := make([]string, len(l.nodes))
			for i, n := range l.nodes {
				parts[i] = fmt.Sprint(n)
			}
			return fmt.Sprintf("%d (%s)", l.clients, strings.Join(parts, "+"))
		}
		return fmt.Sprint(l.clients)
	}, "", "", "")
	line("(g) messages sent / offered rate", func(l loadResult) string { return fmt.Sprintf("%d / %.0f/s", l.sent, l.offered) }, "", "", "")
	line("(g) deliveries received / expected", func(l loadResult) string { return fmt.Sprintf("%d/%d", l.delivered, l.expected) }, "", "", "")
	line("(g) lost deliveries (never-seen msgs)", func(l loadResult) string { return fmt.Sprintf("%d (%d)", l.lost, l.neverSeen) }, "", "0", verdict(two.sent > 0 && two.lost == 0 && (r.three.sent == 0 || r.three.lost == 0)))
	line("(g) duplicated deliveries", func(l loadResult) string { return fmt.Sprint(l.dups) }, "", "0", verdict(two.sent > 0 && two.dups == 0 && r.three.dups == 0))
	line3("(g) latency per delivery p50 / p99", func(l loadResult) string { return ms(l.p50) + " / " + ms(l.p99) }, func(l loadResult) float64 { return float64(l.p99) }, "", "")
	split := func(pick func(loadResult) latencies) func(loadResult) string {
		return func(l loadResult) string {
			if len(l.nodes) < 2 {
				return "(all as above)"
			}
			if x := pick(l); x.n > 0 {
				return ms(x.p50) + " / " + ms(x.p99)
			}
			return "none"
		}
	}
	line("(g) cross-node delivery p50 / p99", split(func(l loadResult) latencies { return l.cross }), ratio(float64(two.cross.p99), float64(r.one.p99)), "", "")
	line("(g) same-node delivery p50 / p99", split(func(l loadResult) latencies { return l.same }), ratio(float64(two.same.p99), float64(r.one.p99)), "", "")
	line3("(g) send -> last receiver p50 / p99", func(l loadResult) string { return lastMs(l.lastP50) + " / " + lastMs(l.lastP99) }, func(l loadResult) float64 { return float64(l.lastP99) }, "", "")
	line3("(g) CPU per delivery, all processes", func(l loadResult) string { return fmt.Sprintf("%.2f µs", l.cpuPerDelivery) }, func(l loadResult) float64 { return l.cpuPerDelivery }, "", "")
	for _, part := range []struct{ name, prefix string }{{"agora (every node)", "agora"}, {"postgres (and its backends)", "postgres"}, {"nats-server", "nats"}} {
		line("(g)   of which "+part.name, func(l loadResult) string {
			var d time.Duration
			found := false
			for _, p := range l.parts {
				if strings.HasPrefix(p.name, part.prefix) {
					d, found = d+p.cpu, true
				}
			}
			if !found {
				return "-"
			}
			return fmt.Sprintf("%.2f µs", perDelivery(d, l))
		}, "", "", "")
	}
	line3("(g) agora write syscalls per delivery", func(l loadResult) string { return fmt.Sprintf("%.3f", l.writesPerDelivery) }, func(l loadResult) float64 { return l.writesPerDelivery }, "", "")
	line3("(g) CPU of all processes (window + drain)", func(l loadResult) string { return pct(l.cpu, l.window+l.drain) }, func(l loadResult) float64 { return l.cpu.Seconds() }, "", "")
	line("(g) messages committed / sent", func(l loadResult) string { return fmt.Sprintf("%d/%d", l.committed, l.sent) }, "", "all",
		verdict(two.sent > 0 && two.committed == two.sent && r.three.committed == r.three.sent))
	line("(g) messages committed per second (the load)", func(l loadResult) string {
		return fmt.Sprintf("%.0f/s", float64(l.committed)/l.window.Seconds())
	}, "", "", "")
	burst := func(st storageResult) string {
		if st.received == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f/s (%d/%d)", st.rate, st.committed, st.senders*st.burst)
	}
	row("(g) committed msgs/s via sockets (burst)", burst(store), burst(r.oneStore), burst(r.twoStore), "-", ratio(r.twoStore.rate, r.oneStore.rate), "", "", "(g*)")
	line("(g) evictions (1013) / reconnects / dead", func(l loadResult) string { return fmt.Sprintf("%d/%d/%d", l.evictions, l.reconnects, l.dead) }, "", "", "")
	line("(g) send errors / refused by server", func(l loadResult) string { return fmt.Sprintf("%d/%d", l.sendErrs, l.refused) }, "", "", "")
	line("(g) other processes' CPU (contention)", func(l loadResult) string { return pct(l.otherCPU, l.window+l.drain) }, "", "~0", "")
	line("(g) load generator CPU per delivery", func(l loadResult) string { return fmt.Sprintf("%.2f µs", l.genPerDelivery) }, "", "", "")
	line("(g) server log errors", func(l loadResult) string { return fmt.Sprint(l.serverErrors) }, "", "0", "")
}

// note explains the phase under the table.
func (r clusterResult) note(cfg settings, sqlite bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "(g) cluster: the one-room load (%d users x %d sockets in #general, %d senders at %.0f msg/s for %v) on PostgreSQL %s\n",
		cfg.users, cfg.socketsPerUser, cfg.senders, cfg.rate, cfg.fanout, r.postgres)
	fmt.Fprintf(&b, "    (a throwaway cluster, fsync and synchronous_commit on): first one agora process alone on it, then two agora\n")
	fmt.Fprintf(&b, "    processes with -nats on one nats-server (built from the module, a process of its own), each user's sockets on\n")
	fmt.Fprintf(&b, "    one node, users alternating; then three agora processes on three nats-servers routed as one NATS cluster, each\n")
	fmt.Fprintf(&b, "    node given the three URLs, users in turn. Cross-node: the sender's socket on another node than the receiver's.\n")
	fmt.Fprintf(&b, "    CPU: utime+stime from /proc of every agora node, nats-server, and the postmaster with every backend (living\n")
	fmt.Fprintf(&b, "    children, and cutime+cstime for those that ended), over the send window and drain.\n")
	if sqlite {
		fmt.Fprintf(&b, "    The sqlite column is (a) of this run: one agora process, its store in-process.\n")
	}
	fmt.Fprintf(&b, "    (g*) %d users who did not send post %d messages each back to back (on both nodes in turn), timed at a listener\n", cfg.storeSenders, cfg.storeBurst)
	fmt.Fprintf(&b, "    (on the last node): the socket path's limits cap it, as in (c); BenchmarkCreateMessage/postgres is the store's own rate.\n")
	fmt.Fprintf(&b, "    sockets closed under the clients: one node [%s]; two nodes [%s]; three nodes [%s]\n", r.one.closeCodes, r.two.closeCodes, r.three.closeCodes)
	return b.String()
}
