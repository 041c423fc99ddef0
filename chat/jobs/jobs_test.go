package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
			next, ok, err := s.ClaimJob(ctx, []string{kind}, "runner-x", time.Now(), time.Minute)
			if err != nil || !ok || next.ID <= first.job.ID {
				t.Fatalf("round %d: after job %d, claimed %+v, %v, %v", round, first.job.ID, next, ok, err)
			}
		}
	})
}
