package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// bench is one run of the load generator: the agora binary it built, the
// database it shares between agora's processes, and the servers it started.
type bench struct {
	cfg      settings
	tmp      string
	benchDir string
	bin      string // agora
	self     string // this program, which also serves the baseline
	dbPath   string
	procs    []*proc
	logs     []string
	logf     func(format string, args ...any)
}

func newBench(ctx context.Context, cfg settings, stderr io.Writer) (*bench, error) {
	b := &bench{cfg: cfg, benchDir: filepath.Dir(cfg.out)}
	b.logf = func(format string, args ...any) {
		fmt.Fprintf(stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
	}
	n, err := raiseNofile() // before any child starts, so the servers inherit it
	if err != nil {
		return nil, fmt.Errorf("raise the open file limit: %w", err)
	}
	b.logf("RLIMIT_NOFILE %d", n)
	if b.self, err = os.Executable(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(b.benchDir, 0o755); err != nil {
		return nil, err
	}
	if b.tmp, err = os.MkdirTemp("", "agora-loadgen-"); err != nil {
		return nil, err
	}
	b.dbPath = filepath.Join(b.tmp, "load.db")
	b.bin = cfg.agoraBin
	if b.bin == "" {
		root, err := repoRoot()
		if err != nil {
			os.RemoveAll(b.tmp)
			return nil, err
		}
		b.bin = filepath.Join(b.tmp, "agora")
		build := exec.CommandContext(ctx, "go", "build", "-o", b.bin, ".")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			os.RemoveAll(b.tmp)
			return nil, fmt.Errorf("go build: %v\n%s", err, out)
		}
	}
	return b, nil
}

// cleanup stops every server still running, keeps their logs beside the
// results, and removes the temporary directory.
func (b *bench) cleanup() {
	for _, p := range b.procs {
		p.stop()
	}
	for _, name := range b.logs {
		if data, err := os.ReadFile(filepath.Join(b.tmp, name+".log")); err == nil {
			_ = os.WriteFile(filepath.Join(b.benchDir, name+".log"), data, 0o644)
		}
	}
	os.RemoveAll(b.tmp)
}

func (b *bench) start(ctx context.Context, name string, cmd func(addr string) *exec.Cmd) (*proc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p, err := startProc(ctx, name, cmd(addr), addr, filepath.Join(b.tmp, name+".log"), b.logf)
	if err != nil {
		return nil, err
	}
	b.procs = append(b.procs, p)
	b.logs = append(b.logs, name)
	return p, nil
}

func (b *bench) startAgora(ctx context.Context, name string, extra ...string) (*proc, error) {
	return b.start(ctx, name, func(addr string) *exec.Cmd {
		args := append([]string{"-addr", addr, "-db", b.dbPath}, extra...)
		return exec.Command(b.bin, append(args, b.cfg.agoraArgs...)...)
	})
}

func (b *bench) startBaseline(ctx context.Context, name string) (*proc, error) {
	return b.start(ctx, name, func(addr string) *exec.Cmd {
		return exec.Command(b.self, "-baseline-addr", addr)
	})
}

// results is everything a run measured; phases not run stay zero.
type results struct {
	began          time.Time
	took           time.Duration
	users          int
	agIdle, blIdle idleResult
	agLow, blLow   loadResult
	agRoom, blRoom loadResult
	agThreads      loadResult // the room phase again, some messages replies in threads
	agLinks        loadResult // the room phase again, some messages with a link
	links          linkResult
	bnLow, bnRoom  loadResult // the Bun peer, when it ran
	bunVersion     string
	agTeam, blTeam loadResult
	store          storageResult
	page           pageResult
	capacity       capacityResult
	cluster        clusterResult
	push           pushResult
}

func (b *bench) runPhases(ctx context.Context) (*results, error) {
	cfg := b.cfg
	res := &results{began: time.Now()}
	defer func() { res.took = time.Since(res.began) }()

	// Accounts: the sign-up form, then #general once (which joins it). The
	// cluster phase makes its own, in PostgreSQL. The idle and capacity
	// phases use them all; the others the first cfg.users, so that their
	// figures stay comparable from run to run.
	var users []*user
	if cfg.sqlitePhases() {
		p, err := b.startAgora(ctx, "agora-setup")
		if err != nil {
			return nil, err
		}
		users, err = signup(p.addr, cfg.signups(), b.logf)
		p.stop()
		if err != nil {
			return nil, err
		}
	}
	res.users = len(users)
	team := users[:min(cfg.users, len(users))]
	var err error

	if cfg.phases["idle"] {
		if res.agIdle, res.blIdle, err = b.idle(ctx, users); err != nil {
			return nil, err
		}
	}
	if cfg.phases["room"] || cfg.phases["storage"] || cfg.phases["page"] {
		if err := b.room(ctx, team, res); err != nil {
			return nil, err
		}
	}
	if cfg.phases["push"] {
		if res.push, err = b.push(ctx, team); err != nil {
			return nil, err
		}
	}
	if cfg.phases["team"] {
		if res.agTeam, res.blTeam, err = b.team(ctx, team); err != nil {
			return nil, err
		}
	}
	if cfg.phases["capacity"] {
		if res.capacity, err = b.capacity(ctx, users); err != nil {
			return nil, err
		}
	}
	if cfg.phases["cluster"] {
		if res.cluster, err = b.cluster(ctx); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// idle measures memory per idle socket, each server fresh.
func (b *bench) idle(ctx context.Context, users []*user) (ag, bl idleResult, err error) {
	p, err := b.startAgora(ctx, "agora-idle")
	if err != nil {
		return ag, bl, err
	}
	ag, err = runIdle(ctx, newTarget(p, true), users, b.cfg, b.logf)
	p.stop()
	if err != nil {
		return ag, bl, err
	}
	bp, err := b.startBaseline(ctx, "baseline-idle")
	if err != nil {
		return ag, bl, err
	}
	bl, err = runIdle(ctx, newTarget(bp, false), nil, b.cfg, b.logf)
	bp.stop()
	return ag, bl, err
}

// room runs the one-room fan-out (at the low rate first, then with replies
// in threads after), then storage and the page on the same agora process,
// then the fan-out against the baseline.
func (b *bench) room(ctx context.Context, users []*user, res *results) error {
	cfg := b.cfg
	// The links run's pages are on this machine, and its fetch counter is
	// read from the process's metrics.
	var extra []string
	metricsAddr := ""
	if cfg.phases["room"] && cfg.links > 0 {
		var err error
		if metricsAddr, err = freeAddr(); err != nil {
			return err
		}
		extra = []string{"-unfurl-private", "-metrics", metricsAddr}
	}
	p, err := b.startAgora(ctx, "agora-room", extra...)
	if err != nil {
		return err
	}
	pg, err := readPage(p.addr, users[0], "general")
	if err != nil {
		return err
	}
	if cfg.phases["room"] {
		rows := countRows(b.dbPath, "lg %", b.logf)
		if cfg.lowRate > 0 {
			if res.agLow, err = runLoad(ctx, newTarget(p, true), oneRoomSpec(cfg, users, pg, cfg.lowRate, "agora-low", b.benchDir, false), b.logf); err != nil {
				return err
			}
			res.agLow.committed = countRows(b.dbPath, "lg %", b.logf) - rows
			rows += res.agLow.committed
			if pg, err = readPage(p.addr, users[0], "general"); err != nil {
				return err
			}
		}
		if res.agRoom, err = runLoad(ctx, newTarget(p, true), oneRoomSpec(cfg, users, pg, cfg.rate, "agora", b.benchDir, cfg.perf), b.logf); err != nil {
			return err
		}
		res.agRoom.committed = countRows(b.dbPath, "lg %", b.logf) - rows
		rows += res.agRoom.committed
		if cfg.replies > 0 {
			// The same fan-out, a reply every cfg.replies messages: a reply
			// goes to every socket of the room as the plain message does
			// (into the thread where it is open) with its root's summary.
			if pg, err = readPage(p.addr, users[0], "general"); err != nil {
				return err
			}
			spec := oneRoomSpec(cfg, users, pg, cfg.rate, "agora-threads", b.benchDir, false)
			spec.replyEvery = cfg.replies
			if res.agThreads, err = runLoad(ctx, newTarget(p, true), spec, b.logf); err != nil {
				return err
			}
			res.agThreads.committed = countRows(b.dbPath, "lg %", b.logf) - rows
			rows += res.agThreads.committed
		}
		if cfg.links > 0 {
			if err := b.links(ctx, p, users, metricsAddr, rows, res); err != nil {
				return err
			}
		}
	}
	if cfg.phases["storage"] {
		if res.store, err = runStorage(ctx, newTarget(p, true), users, cfg, b.dbPath, b.logf); err != nil {
			return err
		}
	}
	if cfg.phases["page"] {
		if res.page, err = runPage(ctx, p, users, cfg.pageRequests, cfg.pageClients, cfg.pageWindow, b.logf); err != nil {
			return err
		}
	}
	p.stop()
	res.store.locked = countInFile(p.logPath, "database is locked")
	res.agRoom.serverErrors = countInFile(p.logPath, "level=ERROR")
	if !cfg.phases["room"] {
		return nil
	}
	bp, err := b.startBaseline(ctx, "baseline-room")
	if err != nil {
		return err
	}
	defer bp.stop()
	if cfg.lowRate > 0 {
		if res.blLow, err = runLoad(ctx, newTarget(bp, false), oneRoomSpec(cfg, nil, pageState{}, cfg.lowRate, "baseline-low", b.benchDir, false), b.logf); err != nil {
			return err
		}
	}
	if res.blRoom, err = runLoad(ctx, newTarget(bp, false), oneRoomSpec(cfg, nil, pageState{}, cfg.rate, "baseline", b.benchDir, false), b.logf); err != nil {
		return err
	}
	bp.stop()
	bn, err := b.startBun(ctx, "bun-room")
	if err != nil || bn == nil {
		return err
	}
	defer bn.stop()
	res.bunVersion = bunVersion(cfg.bun)
	if cfg.lowRate > 0 {
		if res.bnLow, err = runLoad(ctx, newTarget(bn, false), oneRoomSpec(cfg, nil, pageState{}, cfg.lowRate, "bun-low", b.benchDir, false), b.logf); err != nil {
			return err
		}
	}
	res.bnRoom, err = runLoad(ctx, newTarget(bn, false), oneRoomSpec(cfg, nil, pageState{}, cfg.rate, "bun", b.benchDir, false), b.logf)
	return err
}

// links runs the fan-out with a link in every cfg.links-th message, each
// to a page of its own on a site here: the job queue fetches them all.
func (b *bench) links(ctx context.Context, p *proc, users []*user, metricsAddr string, rows int64, res *results) error {
	cfg := b.cfg
	site, err := startLinkSite(b.dbPath)
	if err != nil {
		return err
	}
	defer site.close()
	pg, err := readPage(p.addr, users[0], "general")
	if err != nil {
		return err
	}
	before, merr := metric(metricsAddr, "agora_unfurl_fetches_total")
	spec := oneRoomSpec(cfg, users, pg, cfg.rate, "agora-links", b.benchDir, false)
	spec.linkEvery, spec.site = cfg.links, site
	if res.agLinks, err = runLoad(ctx, newTarget(p, true), spec, b.logf); err != nil {
		return err
	}
	res.agLinks.committed = countRows(b.dbPath, "lg %", b.logf) - rows
	after, aerr := metric(metricsAddr, "agora_unfurl_fetches_total")
	l := &res.links
	l.links, l.previews = res.agLinks.links, res.agLinks.previews
	l.previewsExpected = res.agLinks.links * int64(res.agLinks.clients)
	l.fetches = after - before
	l.pages, l.images, l.beforeCommit, l.inStore = site.pages.Load(), site.images.Load(), site.beforeCommit.Load(), site.checkedInStore.Load()
	if merr != nil || aerr != nil {
		l.metricsErr = fmt.Sprint(errors.Join(merr, aerr))
	}
	return nil
}

// team sets the rooms up on a fresh agora process and runs the team phase
// on it, then on the baseline.
func (b *bench) team(ctx context.Context, users []*user) (ag, bl loadResult, err error) {
	cfg := b.cfg
	if cfg.rooms > 1<<16 || cfg.roomsPerUser > cfg.rooms || len(users) < cfg.rooms {
		return ag, bl, fmt.Errorf("team: %d rooms, %d per user, %d users: not a layout", cfg.rooms, cfg.roomsPerUser, len(users))
	}
	p, err := b.startAgora(ctx, "agora-team")
	if err != nil {
		return ag, bl, err
	}
	slugs, err := teamSetup(p.addr, users, cfg, b.logf)
	if err != nil {
		return ag, bl, err
	}
	pages := make([]pageState, len(slugs))
	ids := map[string]string{}
	for r, slug := range slugs {
		// User r is a member of room r (memberOf starts at i mod rooms),
		// and its sidebar shows the ids of the next rooms.
		if pages[r], err = readPage(p.addr, users[r], slug); err != nil {
			return ag, bl, err
		}
		for s, id := range pages[r].rooms {
			ids[s] = id
		}
	}
	seats, roomOf := teamSeats(cfg, users, slugs, pages, ids)
	rows := countRows(b.dbPath, "lg %", b.logf)
	ag, err = runLoad(ctx, newTarget(p, true), teamSpec(cfg, "agora-team", seats, roomOf), b.logf)
	if err != nil {
		return ag, bl, err
	}
	// Messages still being committed when the phase ended are not counted:
	// the phase is bounded in time.
	ag.committed = countRows(b.dbPath, "lg %", b.logf) - rows
	p.stop()
	ag.serverErrors = countInFile(p.logPath, "level=ERROR")

	bp, err := b.startBaseline(ctx, "baseline-team")
	if err != nil {
		return ag, bl, err
	}
	defer bp.stop()
	seats, roomOf = teamSeats(cfg, nil, slugs, make([]pageState, len(slugs)), ids)
	bl, err = runLoad(ctx, newTarget(bp, false), teamSpec(cfg, "baseline-team", seats, roomOf), b.logf)
	return ag, bl, err
}
