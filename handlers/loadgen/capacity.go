package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"
)

// The capacity phase: many sockets held open in #general (10,000 by default)
// while a few messages a second go to all of them, with the server's
// resident memory and open file descriptors sampled throughout. It says what
// a server holding a big team costs, and that it keeps delivering meanwhile.

type capacityResult struct {
	asked            int    // sockets asked for (-capacity)
	openFiles        uint64 // RLIMIT_NOFILE, which may hold fewer
	load             loadResult
	rss0, rssPeak    int64 // before the sockets, and the most while they were held
	fds0, fdsPeak    int   // the same for open file descriptors
	rssEnd           int64 // after the last delivery, sockets still open
	fdsEnd           int
	samples          int
	sockets, senders int
	users            int // the sockets' users, each with sockets/users of them
}

// capacity runs the phase on a fresh agora. Its users open #general first:
// the team phase, which runs before it on the same database, took half of
// its users out of #general (its Leave button), and a socket to a room its
// user is not in is refused with 404. The users the other phases did not
// need are signed up here, on this process.
func (b *bench) capacity(ctx context.Context, users []*user) (capacityResult, error) {
	cfg := b.cfg
	held, limit := fitOpenFiles(cfg.capSockets)
	if held < cfg.capSockets {
		b.logf("capacity: %d sockets asked for, %d held: the open file limit is %d (each socket is an open file of agora and of this program)", cfg.capSockets, held, limit)
	}
	asked := cfg.capSockets
	cfg.capSockets = held
	p, err := b.startAgora(ctx, "agora-capacity")
	if err != nil {
		return capacityResult{}, err
	}
	defer p.stop()
	if need := cfg.capUsers(); len(users) < need {
		more, err := signupFrom(p.addr, len(users), need-len(users), b.logf)
		if err != nil {
			return capacityResult{}, fmt.Errorf("capacity: %w", err)
		}
		users = append(slices.Clip(users), more...)
	}
	users = users[:cfg.capUsers()]
	start := time.Now()
	if err := joinAll(p.addr, users, "general"); err != nil {
		return capacityResult{}, fmt.Errorf("capacity: %w", err)
	}
	b.logf("capacity: %d users in #general in %v", len(users), time.Since(start).Round(time.Millisecond))
	r, err := runCapacity(ctx, newTarget(p, true), users, cfg, b.logf)
	r.asked, r.openFiles = asked, limit
	return r, err
}

// fitOpenFiles is how many of want sockets fit under this process's open
// file limit (agora, started by it, has the same), keeping some for the
// database, listeners and logs; and the limit.
func fitOpenFiles(want int) (int, uint64) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return want, 0
	}
	const spare = 256
	if rl.Cur < spare*2 {
		return min(want, int(rl.Cur)/2), rl.Cur
	}
	return min(want, int(rl.Cur-spare)), rl.Cur
}

func runCapacity(ctx context.Context, tg *target, users []*user, cfg settings, logf func(string, ...any)) (capacityResult, error) {
	pg, err := readPage(tg.addr, users[0], "general")
	if err != nil {
		return capacityResult{}, err
	}
	senders := min(cfg.capSenders, len(users))
	r := capacityResult{sockets: cfg.capSockets, senders: senders, users: len(users)}
	waitQuiet(ctx, tg.proc.name, logf)
	r.rss0, r.fds0 = tg.proc.rss(), openFDs(tg.proc.pid())

	// Sample while the sockets open, are held and receive.
	sctx, stopSampling := context.WithCancel(ctx)
	var sampled sync.WaitGroup
	sampled.Add(1)
	go func() {
		defer sampled.Done()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			r.rssPeak = max(r.rssPeak, tg.proc.rss())
			r.fdsPeak = max(r.fdsPeak, openFDs(tg.proc.pid()))
			r.samples++
			select {
			case <-sctx.Done():
				return
			case <-tick.C:
			}
		}
	}()

	// Senders at capRate messages/s in all, each from its own user's first
	// socket (sockets 0..senders-1 belong to users 0..senders-1).
	period := time.Duration(float64(senders) / cfg.capRate * float64(time.Second))
	spec := loadSpec{
		label: "capacity", seats: oneRoom(users, 0, cfg.capSockets, pg), roomOf: func(int) int { return 0 }, rooms: 1,
		rate: cfg.capRate, window: cfg.capWindow, grace: cfg.grace,
		streams: func(socks []*sock) []stream {
			if len(socks) < senders {
				return nil
			}
			out := make([]stream, senders)
			for i := range out {
				out[i] = stream{socks: socks[i : i+1], period: period, offset: time.Duration(i) * period / time.Duration(senders)}
			}
			return out
		},
		// Measured while the sockets are still open: runLoad closes them
		// when it returns.
		beforeClose: func() { r.rssEnd, r.fdsEnd = tg.proc.rss(), openFDs(tg.proc.pid()) },
	}
	r.load, err = runLoad(ctx, tg, spec, logf)
	stopSampling()
	sampled.Wait()
	logf("capacity: %d sockets, RSS %d → peak %d KiB, open files %d → peak %d", r.load.clients, r.rss0>>10, r.rssPeak>>10, r.fds0, r.fdsPeak)
	return r, err
}

// openFDs counts the process's open file descriptors (sockets among them).
func openFDs(pid int) int {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0
	}
	return len(entries)
}

// rows adds the phase to the results table.
func (r capacityResult) rows(row func(metric, a, bl, rt, target, v string)) {
	l := r.load
	row("(f) capacity: sockets held (connect failures)", fmt.Sprintf("%d (%d)", l.clients, l.connectFailed), "n/a", "", fmt.Sprint(r.asked), verdict(l.clients >= r.asked))
	if r.sockets < r.asked {
		row("(f) capacity: held fewer: open file limit", fmt.Sprintf("RLIMIT_NOFILE %d", r.openFiles), "n/a", "", "", "raise it (ulimit -Hn)")
	}
	row("(f) capacity: messages sent / offered rate", fmt.Sprintf("%d / %.1f/s", l.sent, l.offered), "n/a", "", "", "")
	row("(f) capacity: deliveries received / expected", fmt.Sprintf("%d/%d", l.delivered, l.expected), "n/a", "", "", "")
	row("(f) capacity: lost / duplicated deliveries", fmt.Sprintf("%d/%d", l.lost, l.dups), "n/a", "", "0/0", verdict(l.lost == 0 && l.dups == 0))
	row("(f) capacity: latency per delivery p50 / p99", ms(l.p50)+" / "+ms(l.p99), "n/a", "", "", "")
	row("(f) capacity: send -> last receiver p50 / p99", lastMs(l.lastP50)+" / "+lastMs(l.lastP99), "n/a", "", "", "")
	row("(f) capacity: evictions / reconnects / dead", fmt.Sprintf("%d/%d/%d", l.evictions, l.reconnects, l.dead), "n/a", "", "", "")
	row("(f) capacity: server RSS before / peak / end", mib(r.rss0)+" / "+mib(r.rssPeak)+" / "+mib(r.rssEnd), "n/a", "", "", "")
	if l.clients > 0 {
		row("(f) capacity: RSS per socket (end - before)", kib((r.rssEnd-r.rss0)/int64(l.clients)), "n/a", "", "", "")
	}
	row("(f) capacity: open files before / peak / end", fmt.Sprintf("%d / %d / %d", r.fds0, r.fdsPeak, r.fdsEnd), "n/a", "", "", "")
	row("(f) capacity: server CPU (window + drain)", pct(l.cpu, l.window+l.drain), "n/a", "", "", "")
	row("(f) capacity: server CPU per delivery", fmt.Sprintf("%.2f µs", l.cpuPerDelivery), "n/a", "", "", "")
	row("(f) capacity: other processes' CPU (contention)", pct(l.otherCPU, l.window+l.drain), "n/a", "", "~0", "")
}

// note explains the phase under the table.
func (r capacityResult) note(cfg settings) string {
	held := ""
	if r.sockets < r.asked {
		held = fmt.Sprintf(" (%d asked for: the open file limit, RLIMIT_NOFILE %d, bounds the sockets of agora and of this program)", r.asked, r.openFiles)
	}
	return fmt.Sprintf("(f) capacity: %d sockets%s of %d users held in #general for %v while %d senders send %.1f msg/s in all;\n"+
		"    RSS (VmRSS) and open files (/proc/<pid>/fd) sampled every 250 ms (%d samples); \"end\" is after the last delivery, sockets open.\n",
		r.sockets, held, r.users, cfg.capWindow, r.senders, cfg.capRate, r.samples)
}
