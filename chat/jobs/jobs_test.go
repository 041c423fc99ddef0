package jobs_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"agora/chat"
	"agora/chat/jobs"
	"agora/db"
	"agora/db/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func onEachEngine(t *testing.T, test func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { test(t, filepath.Join(t.TempDir(), "agora.db")) })
	t.Run("postgres", func(t *testing.T) { test(t, pgtest.Database(t)) })
}

func open(t *testing.T, dsn string) *db.Store {
	t.Helper()
	s, err := db.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// outcome is one run a runner reported through Options.After.
type outcome struct {
	job chat.Job
	err error
}

func watch(opts jobs.Options) (jobs.Options, chan outcome) {
	ch := make(chan outcome, 1000)
	opts.After = func(j chat.Job, err error) { ch <- outcome{j, err} }
	return opts, ch
}

func next(t *testing.T, ch chan outcome) outcome {
	t.Helper()
	select {
	case o := <-ch:
		return o
	case <-time.After(30 * time.Second):
		t.Fatal("no job ran")
		return outcome{}
	}
}

// A job enqueued before a restart, and one that was running when its
// runner stopped, both run once after it, on a store opened anew on the
// same database.
func TestJobSurvivesRestart(t *testing.T) {
	onEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		started := make(chan struct{})
		r := jobs.New(s, jobs.Options{Workers: 1})
		r.Handle("slow", func(ctx context.Context, j chat.Job) error {
			close(started)
			<-ctx.Done()
			return ctx.Err()
		})
		r.Handle("later", func(context.Context, chat.Job) error { t.Error("ran before the restart"); return nil })
		if _, err := s.EnqueueJobs(ctx, chat.Job{Kind: "slow", Payload: []byte(`{"n":1}`), MaxAttempts: 1},
			chat.Job{Kind: "later", Payload: []byte(`{"n":2}`), MaxAttempts: 3, RunAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		r.Start()
		<-started
		r.Stop()
		s.Close()

		s = open(t, dsn)
		opts, ran := watch(jobs.Options{Workers: 2})
		r = jobs.New(s, opts)
		got := make(chan string, 10)
		for _, kind := range []string{"slow", "later"} {
			r.Handle(kind, func(_ context.Context, j chat.Job) error { got <- j.Kind + string(j.Payload); return nil })
		}
		r.Start()
		defer r.Stop()
		if o := next(t, ran); o.err != nil || o.job.Kind != "slow" {
			t.Fatalf("first run after the restart: %+v", o)
		}
		if g := <-got; g != `slow{"n":1}` {
			t.Fatalf("ran %s", g)
		}
		// The delayed one is still queued, due in an hour: an admin's retry
		// is not needed, but nothing ran it early.
		c, err := s.CountJobs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c.Done != 1 || c.Queued != 1 {
			t.Fatalf("counts %+v, want 1 done and 1 queued", c)
		}
		all, err := s.JobsIn(ctx, chat.JobDone, 10)
		if err != nil || len(all) != 1 || all[0].Attempts != 1 {
			t.Fatalf("done jobs %+v, %v: want the one run, one attempt counted (the stopped one given back)", all, err)
		}
	})
}

// Two nodes' runners on one PostgreSQL database (and two stores on one
// SQLite file) run each of many jobs exactly once between them.
func TestTwoRunnersRunEachJobOnce(t *testing.T) {
	onEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		a, b := open(t, dsn), open(t, dsn)
		const n = 200
		var mu sync.Mutex
		runs := map[string]int{}
		byRunner := map[string]int{}
		done := make(chan struct{}, n*2)
		after := func(chat.Job, error) { done <- struct{}{} }
		for _, node := range []struct {
			name  string
			store *db.Store
		}{{"a", a}, {"b", b}} {
			r := jobs.New(node.store, jobs.Options{Workers: 4, After: after})
			r.Handle("count", func(_ context.Context, j chat.Job) error {
				mu.Lock()
				runs[string(j.Payload)]++
				byRunner[node.name]++
				mu.Unlock()
				return nil
			})
			r.Start()
			defer r.Stop()
		}
		batch := make([]chat.Job, n)
		for i := range batch {
			batch[i] = chat.Job{Kind: "count", Payload: fmt.Appendf(nil, "%d", i), MaxAttempts: 3}
		}
		// Half enqueued on each node, so both are woken.
		if _, err := a.EnqueueJobs(ctx, batch[:n/2]...); err != nil {
			t.Fatal(err)
		}
		if _, err := b.EnqueueJobs(ctx, batch[n/2:]...); err != nil {
			t.Fatal(err)
		}
		for range n {
			select {
			case <-done:
			case <-time.After(60 * time.Second):
				t.Fatalf("only %d of %d jobs ran", len(runs), n)
			}
		}
		// Any extra run would have to come through a lease running out,
		// which takes minutes; every job is done, so none can come.
		c, err := a.CountJobs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if c.Done != n {
			t.Fatalf("counts %+v, want %d done", c, n)
		}
		for i := range n {
			if k := fmt.Sprint(i); runs[k] != 1 {
				t.Errorf("job %s ran %d times", k, runs[k])
			}
		}
		t.Logf("runs per node: %v", byRunner)
	})
}

// A job that keeps failing is retried after a wait that doubles, then
// fails for good with its last error kept; an admin's retry runs it again.
// A job key asked for twice is one job.
func TestFailingJobIsRetriedWithBackoff(t *testing.T) {
	onEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		const base = 20 * time.Millisecond
		opts, ran := watch(jobs.Options{Workers: 2, Backoff: base})
		r := jobs.New(s, opts)
		var mu sync.Mutex
		var times []time.Time
		heal := false
		r.Handle("flaky", func(_ context.Context, j chat.Job) error {
			mu.Lock()
			defer mu.Unlock()
			times = append(times, time.Now())
			if heal {
				return nil
			}
			return fmt.Errorf("boom %d", j.Attempts)
		})
		r.Handle("doomed", func(context.Context, chat.Job) error {
			return jobs.Permanent(errors.New("the bot is gone"))
		})
		r.Start()
		defer r.Stop()
		n, err := r.Enqueue(ctx, chat.Job{Kind: "flaky", MaxAttempts: 3, Key: "flaky-1"}, chat.Job{Kind: "flaky", MaxAttempts: 3, Key: "flaky-1"})
		if err != nil || n != 1 {
			t.Fatalf("enqueued %d, %v; want the one key once", n, err)
		}
		var id int64
		for attempt := 1; attempt <= 3; attempt++ {
			o := next(t, ran)
			id = o.job.ID
			if o.err == nil || o.err.Error() != fmt.Sprintf("boom %d", attempt) {
				t.Fatalf("run %d: %v", attempt, o.err)
			}
			if attempt < 3 {
				continue
			}
			// The waits between attempts are checked below, from the
			// handler's clock: the store's next run time may be past already.
			j, err := s.JobByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if j.State != chat.JobFailed || j.LastError != "boom 3" || j.Attempts != 3 {
				t.Fatalf("after the last attempt: %+v", j)
			}
		}
		mu.Lock()
		for i := 1; i < len(times); i++ {
			if gap, least := times[i].Sub(times[i-1]), jobs.Backoff(base, time.Hour, i); gap < least-time.Millisecond {
				t.Errorf("retry %d came %v after the failure, before the backoff of %v", i, gap, least)
			}
		}
		heal = true
		mu.Unlock()
		failed, err := s.JobsIn(ctx, chat.JobFailed, 10)
		if err != nil || len(failed) != 1 || failed[0].ID != id {
			t.Fatalf("failed jobs %+v, %v", failed, err)
		}
		if _, err := s.RetryJob(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RetryJob(ctx, id); chat.ErrorCode(err) != chat.ENotFound {
			t.Fatalf("second retry of a job already queued: %v, want not found", err)
		}
		r.Wake()
		if o := next(t, ran); o.err != nil || o.job.ID != id || o.job.Attempts != 1 {
			t.Fatalf("retried run: %+v", o)
		}
		if j, err := s.JobByID(ctx, id); err != nil || j.State != chat.JobDone {
			t.Fatalf("after the retry: %+v, %v", j, err)
		}

		// A permanent failure spends no more attempts.
		if _, err := r.Enqueue(ctx, chat.Job{Kind: "doomed", MaxAttempts: 5}); err != nil {
			t.Fatal(err)
		}
		o := next(t, ran)
		if j, err := s.JobByID(ctx, o.job.ID); err != nil || j.State != chat.JobFailed || j.Attempts != 1 || j.LastError != "the bot is gone" {
			t.Fatalf("permanent failure: %+v, %v", j, err)
		}
	})
}

// Jobs of one queue run one at a time: a queue whose job hangs holds one
// worker, and the other queues' jobs go past it.
func TestQueueHoldsOneWorker(t *testing.T) {
	onEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		opts, ran := watch(jobs.Options{Workers: 3})
		r := jobs.New(s, opts)
		release := make(chan struct{})
		var mu sync.Mutex
		slowRunning := 0
		r.Handle("slow", func(ctx context.Context, j chat.Job) error {
			mu.Lock()
			slowRunning++
			n := slowRunning
			mu.Unlock()
			defer func() { mu.Lock(); slowRunning--; mu.Unlock() }()
			if n > 1 {
				return jobs.Permanent(errors.New("two jobs of one queue ran at once"))
			}
			<-release
			return nil
		})
		r.Handle("fast", func(context.Context, chat.Job) error { return nil })
		var batch []chat.Job
		for range 50 {
			batch = append(batch, chat.Job{Kind: "slow", Queue: "bot:slow", MaxAttempts: 1})
		}
		for range 10 {
			batch = append(batch, chat.Job{Kind: "fast", Queue: "bot:fast", MaxAttempts: 1})
		}
		if _, err := s.EnqueueJobs(ctx, batch...); err != nil {
			t.Fatal(err)
		}
		r.Start()
		defer r.Stop()
		var once sync.Once
		free := func() { once.Do(func() { close(release) }) }
		defer free() // before Stop, which waits for the hanging job
		for range 10 {
			if o := next(t, ran); o.job.Kind != "fast" || o.err != nil {
				t.Fatalf("while the slow queue's first job hangs, ran %+v", o)
			}
		}
		free()
		for range 50 {
			if o := next(t, ran); o.err != nil {
				t.Fatalf("slow job: %v", o.err)
			}
		}
	})
}

// Claims made at the same instant take one job of a queue between them,
// never two: on PostgreSQL each claim's snapshot may see the queue idle while
// another claim is taking its first job (the bug that let two deliveries
// to one bot run at once, out of order).
func TestConcurrentClaimsTakeOneJobOfAQueue(t *testing.T) {
	onEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := open(t, dsn)
		const claimers = 8
		type claim struct {
			job    chat.Job
			worker string
		}
		for round := range 30 {
			// A kind per round: the jobs earlier rounds left are not claimed.
			kind, queue := fmt.Sprintf("deliver-%d", round), fmt.Sprintf("bot:%d", round)
			var batch []chat.Job
			for range claimers + 2 {
				batch = append(batch, chat.Job{Kind: kind, Queue: queue, MaxAttempts: 3})
			}
			if _, err := s.EnqueueJobs(ctx, batch...); err != nil {
				t.Fatal(err)
			}
			start := make(chan struct{})
			claimed := make(chan claim, claimers)
			var wg sync.WaitGroup
			for i := range claimers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					worker := fmt.Sprintf("runner-%d", i)
					j, ok, err := s.ClaimJob(ctx, []string{kind}, worker, time.Now(), time.Minute)
					if err != nil {
						t.Error(err)
					}
					if ok {
						claimed <- claim{j, worker}
					}
				}()
			}
			close(start)
			wg.Wait()
			close(claimed)
			var got []claim
			for c := range claimed {
				got = append(got, c)
			}
			if len(got) != 1 {
				t.Fatalf("round %d: %d claims took jobs of one queue at once, want 1: %+v", round, len(got), got)
			}
			first := got[0]
			// The next waits for the first, then comes after it.
			if _, ok, err := s.ClaimJob(ctx, []string{kind}, "runner-x", time.Now(), time.Minute); err != nil || ok {
				t.Fatalf("round %d: a second job claimed while job %d runs (%v)", round, first.job.ID, err)
			}
			if err := s.FinishJob(ctx, first.job.ID, first.worker); err != nil {
				t.Fatal(err)
			}
			// A second outcome for a run already settled is refused, not
			// stored over the first.
			if err := s.FinishJob(ctx, first.job.ID, first.worker); chat.ErrorCode(err) != chat.EConflict {
				t.Fatalf("round %d: job %d finished twice: %v, want a conflict", round, first.job.ID, err)
			}
			next, ok, err := s.ClaimJob(ctx, []string{kind}, "runner-x", time.Now(), time.Minute)
			if err != nil || !ok || next.ID <= first.job.ID {
				t.Fatalf("round %d: after job %d, claimed %+v, %v, %v", round, first.job.ID, next, ok, err)
			}
		}
	})
}

// logWatch is a slog handler that passes on the messages a runner logs, so a
// test can act when the runner has met a failure, not after a guessed time.
type logWatch chan string

func (w logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (w logWatch) Handle(_ context.Context, r slog.Record) error {
	select {
	case w <- r.Message:
	default:
	}
	return nil
}
func (w logWatch) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w logWatch) WithGroup(string) slog.Handler      { return w }

// untilLogged waits for the runner to log a message containing text; no run
// may be reported before it, as no outcome can be stored meanwhile.
func untilLogged(t *testing.T, logs logWatch, ran chan outcome, text string) {
	t.Helper()
	for {
		select {
		case m := <-logs:
			if strings.Contains(m, text) {
				return
			}
		case o := <-ran:
			t.Fatalf("job %d reported (%v) while the database was locked, before its outcome could be stored", o.job.ID, o.err)
		case <-time.After(60 * time.Second):
			t.Fatalf("the runner never logged %q", text)
		}
	}
}

// lockFile takes SQLite's write lock on the database at path from a
// connection of its own, as another process would (waiting, as the store
// does, for a write of the runner's to end); unlock gives it back. It runs in
// a job's handler, so it returns its error rather than end the test there.
func lockFile(t *testing.T, path string) (unlock func(), err error) {
	other, err := sql.Open("sqlite", "file:"+path+"?_txlock=immediate&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { other.Close() })
	tx, err := other.Begin()
	if err != nil {
		return nil, fmt.Errorf("lock the database: %w", err)
	}
	var once sync.Once
	return func() { once.Do(func() { tx.Rollback() }) }, nil
}

// A job whose outcome cannot be written at first (the database is locked by
// another process for longer than the store's busy timeout) is done once:
// the runner writes the outcome again once the lock is gone, and reports the
// run only then. It used to report the run done while the job stayed
// running, to run again once its lease ran out (the flake of
// TestTwoRunnersRunEachJobOnce at load 15-20).
func TestOutcomeIsWrittenAgainWhenTheDatabaseWasLocked(t *testing.T) {
	// The first write of the outcome gives up on the lock, within the lease.
	runs, j := runLockedOut(t, 0, "will try again")
	if runs != 1 || j.Attempts != 1 {
		t.Fatalf("handler ran %d times, job %+v; want one run, one attempt", runs, j)
	}
}

// A run whose outcome cannot be stored before its lease ends is not
// reported: the job is run again, and that run, stored, is the one reported.
// "Once" for a job is one stored outcome; its handler runs again only when a
// run's outcome could not be kept for the whole lease.
func TestRunNotStoredWithinItsLeaseRunsAgain(t *testing.T) {
	runs, j := runLockedOut(t, time.Second, "before the lease ended")
	if runs != 2 || j.Attempts != 2 {
		t.Fatalf("handler ran %d times, job %+v; want the second run stored", runs, j)
	}
}

// runLockedOut runs one job under a lease (0: the default) whose first run
// locks the database before its outcome is written; once the runner logs
// text, the lock is given back. The run reported must be the one stored, and
// be reported once. It returns how often the handler ran, and the job as it
// was when reported.
func runLockedOut(t *testing.T, lease time.Duration, text string) (int, chat.Job) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "agora.db")
	s := open(t, path)
	logs := make(logWatch, 100)
	opts, ran := watch(jobs.Options{Workers: 1, Lease: lease, Log: slog.New(logs)})
	r := jobs.New(s, opts)
	var unlock func()
	runs := 0
	r.Handle("send", func(context.Context, chat.Job) error {
		runs++
		if runs > 1 {
			return nil
		}
		var err error
		unlock, err = lockFile(t, path)
		return err
	})
	if _, err := r.Enqueue(ctx, chat.Job{Kind: "send", MaxAttempts: 3}); err != nil {
		t.Fatal(err)
	}
	r.Start()
	defer r.Stop()
	untilLogged(t, logs, ran, text)
	unlock()
	o := next(t, ran)
	j, err := s.JobByID(ctx, o.job.ID)
	if o.err != nil || err != nil || j.State != chat.JobDone {
		t.Fatalf("reported %v; job %+v, %v; want done when reported", o.err, j, err)
	}
	r.Stop()
	if r.Finished() != 1 || len(ran) != 0 {
		t.Fatalf("%d runs reported (%d more queued), want 1", r.Finished(), len(ran))
	}
	return runs, j
}
