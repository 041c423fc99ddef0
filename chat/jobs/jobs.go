// Package jobs runs the background work agora keeps in its store (webhook
// deliveries, emails): a Runner claims due jobs one at a time per worker,
// under a lease, runs the handler of their kind, and records the outcome; a
// failure is retried with exponential backoff until the job's attempts are
// spent, and then waits in the store for an admin (/admin/jobs).
//
// Nothing here waits on the message path: enqueueing is one insert, and the
// work happens on the runner's goroutines. Runners on several nodes share
// one PostgreSQL queue; each job runs on one of them at a time.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"agora/chat"
)

// Queue is the store's side of the job queue (db.Store).
type Queue interface {
	EnqueueJobs(ctx context.Context, jobs ...chat.Job) (int, error)
	ClaimJob(ctx context.Context, kinds []string, worker string, now time.Time, lease time.Duration) (chat.Job, bool, error)
	FinishJob(ctx context.Context, id int64, worker string) error
	FailJob(ctx context.Context, id int64, worker, reason string, retryAt time.Time, final bool) error
	ReleaseJob(ctx context.Context, id int64, worker string) error
	NextJobAt(ctx context.Context, kinds []string, now time.Time) (time.Time, error)
	PruneJobs(ctx context.Context, before time.Time) (int64, error)
}

// Handler does one job. An error is retried later, unless it is Permanent.
// ctx ends with the job's lease (Options.Lease) or the runner's Stop.
type Handler func(ctx context.Context, job chat.Job) error

// permanent is an error no retry would cure.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as one that retrying cannot fix (the job's target is
// gone, its input is bad): the job fails at once.
func Permanent(err error) error { return permanent{err} }

// Options tune a Runner; zero values take the defaults.
type Options struct {
	Workers int           // jobs run at once by this runner; default 4
	Lease   time.Duration // how long a claimed job is this runner's; default 2 minutes
	// Poll is how often the store is asked for due jobs that this runner
	// was not told of (enqueued on another node, or due again after a
	// restart); default 1 s.
	Poll time.Duration
	// Backoff is the wait before the first retry, doubled for each next one
	// (up to MaxBackoff); default 5 s.
	Backoff    time.Duration
	MaxBackoff time.Duration // default 1 hour
	// KeepDone is how long done jobs are kept (their keys keep work asked
	// for twice from running twice); default 24 hours.
	KeepDone time.Duration
	Log      *slog.Logger
	// After, when set, is told of each run once its outcome is stored (err
	// nil: done), for metrics and for tests that wait for a job.
	After func(job chat.Job, err error)
}

// Runner runs jobs from a Queue.
type Runner struct {
	q    Queue
	opts Options
	log  *slog.Logger
	id   string // this runner's name on the leases it holds

	mu       sync.Mutex
	handlers map[string]Handler
	kinds    []string
	started  bool

	finished atomic.Int64 // runs whose outcome is stored

	wake   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a runner on q; register handlers with Handle, then Start it.
func New(q Queue, opts Options) *Runner {
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.Lease <= 0 {
		opts.Lease = 2 * time.Minute
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 5 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = time.Hour
	}
	if opts.KeepDone <= 0 {
		opts.KeepDone = 24 * time.Hour
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{q: q, opts: opts, log: log, id: fmt.Sprintf("%016x", rand.Uint64()), handlers: map[string]Handler{},
		wake: make(chan struct{}, 1)}
}

// Handle registers the handler of a kind of job. Only kinds with a handler
// are claimed, so a node that does not know a kind leaves it to one that
// does. It must come before Start.
func (r *Runner) Handle(kind string, h Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		panic("jobs: Handle after Start")
	}
	if _, ok := r.handlers[kind]; !ok {
		r.kinds = append(r.kinds, kind)
	}
	r.handlers[kind] = h
}

// Enqueue stores jobs and wakes this runner's workers for them.
func (r *Runner) Enqueue(ctx context.Context, jobs ...chat.Job) (int, error) {
	n, err := r.q.EnqueueJobs(ctx, jobs...)
	if n > 0 {
		r.Wake()
	}
	return n, err
}

// Finished is how many runs have ended with their outcome stored (done,
// failed, or queued again), for tests and metrics.
func (r *Runner) Finished() int64 { return r.finished.Load() }

// Wake has the workers look for due jobs now (one enqueued, or retried by
// an admin) instead of at the next poll.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Start runs the workers until Stop. Starting a started runner is a no-op.
func (r *Runner) Start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return
	}
	r.started = true
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	kinds := slices.Clone(r.kinds)
	for range r.opts.Workers {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.work(ctx, kinds)
		}()
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.tidy(ctx)
	}()
}

// Stop ends the workers, cancelling the jobs they run: those are claimed
// again once their lease runs out, here after a restart or on another node.
// It may be started again after.
func (r *Runner) Stop() {
	r.mu.Lock()
	cancel := r.cancel
	r.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	r.wg.Wait()
	r.mu.Lock()
	r.started, r.cancel = false, nil
	r.mu.Unlock()
}

// work claims and runs jobs while there are any due, then waits for a wake,
// the poll, or the next retry it knows of.
func (r *Runner) work(ctx context.Context, kinds []string) {
	poll := time.NewTimer(0)
	defer poll.Stop()
	for {
		ran := r.runOne(ctx, kinds)
		if ctx.Err() != nil {
			return
		}
		if ran {
			// Another may be due: a worker that found work passes the wake
			// on, so the others look too.
			r.Wake()
			continue
		}
		// Until the next retry this runner knows of, or the poll. A job due
		// already but not claimed waits for its queue: the worker running
		// that queue's job wakes the others when it is done.
		wait := r.opts.Poll
		if next, err := r.q.NextJobAt(ctx, kinds, time.Now()); err == nil && !next.IsZero() {
			wait = min(wait, max(time.Until(next), time.Millisecond))
		}
		poll.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-poll.C:
		}
	}
}

// runOne claims one due job and runs it; it reports whether there was one.
func (r *Runner) runOne(ctx context.Context, kinds []string) bool {
	claimed := time.Now()
	job, ok, err := r.q.ClaimJob(ctx, kinds, r.id, claimed, r.opts.Lease)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Error("jobs: claim", "err", err)
		}
		return false
	}
	if !ok {
		return false
	}
	r.mu.Lock()
	h := r.handlers[job.Kind]
	r.mu.Unlock()
	// The lease's end less a margin, so the outcome is written while the
	// job is still this runner's.
	leaseEnd := claimed.Add(r.opts.Lease)
	jctx, cancel := context.WithDeadline(ctx, leaseEnd.Add(-r.opts.Lease/10))
	err = run(jctx, h, job)
	cancel()
	if err == nil {
		if r.record(ctx, job, leaseEnd, "finish", func(ctx context.Context) error {
			return r.q.FinishJob(ctx, job.ID, r.id)
		}) {
			r.after(job, nil)
		}
		return true
	}
	if ctx.Err() != nil {
		// Stopped, not failed: the attempt is given back, and the job is
		// due at once for the next runner (after a restart, or another node).
		r.record(ctx, job, leaseEnd, "release", func(ctx context.Context) error {
			return r.q.ReleaseJob(ctx, job.ID, r.id)
		})
		return true
	}
	var p permanent
	final := errors.As(err, &p)
	retry := time.Now().Add(r.backoff(job.Attempts))
	if !r.record(ctx, job, leaseEnd, "record failure", func(ctx context.Context) error {
		return r.q.FailJob(ctx, job.ID, r.id, err.Error(), retry, final)
	}) {
		return true
	}
	if final || job.Attempts >= job.MaxAttempts {
		r.log.Warn("job failed", "job", job.ID, "kind", job.Kind, "attempts", job.Attempts, "err", err)
	} else {
		r.log.Info("job will be retried", "job", job.ID, "kind", job.Kind, "attempt", job.Attempts, "at", retry, "err", err)
	}
	r.after(job, err)
	return true
}

// record stores the outcome of a run with write, trying again with backoff
// while the job is still this runner's, until its lease ends: a write lost to
// a busy or briefly unreachable database would leave the job running until
// the lease ran out, and then have it run again. It reports whether the
// outcome is stored; only then is the run reported (After, Finished).
//
// So a job's handler runs at least once, and a second time only when the
// outcome of a run could not be stored for the whole of its lease (or the
// process died between the two): what "once" means for work whose effect is
// outside the store. Each stored outcome is reported exactly once.
//
// The outcome is worth keeping even when the runner is stopping: then it is
// tried until it is stored, the lease ends, or the attempt after the stop.
func (r *Runner) record(ctx context.Context, job chat.Job, leaseEnd time.Time, what string, write func(context.Context) error) bool {
	wait := outcomeBackoff
	for attempt := 1; ; attempt++ {
		stopped := ctx.Err() != nil
		wctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), leaseEnd)
		err := write(wctx)
		cancel()
		if err == nil {
			if attempt > 1 {
				r.log.Info("jobs: outcome stored after a retry", "job", job.ID, "kind", job.Kind, "what", what, "attempts", attempt)
			}
			return true
		}
		if chat.ErrorCode(err) == chat.EConflict {
			r.log.Warn("jobs: the job was no longer this runner's; its outcome is not stored", "job", job.ID, "kind", job.Kind, "what", what, "err", err)
			return false
		}
		left := time.Until(leaseEnd)
		if stopped || left <= 0 {
			r.log.Error("jobs: "+what+": the outcome could not be stored before the lease ended; the job will run again",
				"job", job.ID, "kind", job.Kind, "attempts", attempt, "err", err)
			return false
		}
		r.log.Warn("jobs: "+what+": will try again", "job", job.ID, "kind", job.Kind, "attempt", attempt, "err", err)
		t := time.NewTimer(min(wait, left))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
		wait = min(2*wait, maxOutcomeBackoff)
	}
}

// The waits between tries to store a run's outcome: short, as the usual cause
// is a database busy for a moment (SQLite's busy timeout already waited).
const (
	outcomeBackoff    = 50 * time.Millisecond
	maxOutcomeBackoff = 2 * time.Second
)

func (r *Runner) after(job chat.Job, err error) {
	r.finished.Add(1)
	if r.opts.After != nil {
		r.opts.After(job, err)
	}
}

// run calls h, turning a panic into the job's failure rather than the
// process's end.
func run(ctx context.Context, h Handler, job chat.Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = Permanent(fmt.Errorf("the handler panicked: %v", p))
		}
	}()
	if h == nil {
		return Permanent(fmt.Errorf("no handler for jobs of kind %q", job.Kind))
	}
	return h(ctx, job)
}

// backoff is the wait after a job's attempt-th failed run: Backoff doubled
// for each earlier failure, at most MaxBackoff, and up to a quarter more at
// random, so that jobs that failed together do not all come back together.
func (r *Runner) backoff(attempt int) time.Duration {
	return Backoff(r.opts.Backoff, r.opts.MaxBackoff, attempt) + time.Duration(rand.Int64N(int64(Backoff(r.opts.Backoff, r.opts.MaxBackoff, attempt)/4)+1))
}

// Backoff is base doubled attempt-1 times, at most limit: the least wait
// after an attempt-th failure.
func Backoff(base, limit time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// tidy deletes done jobs once they are old, hourly.
func (r *Runner) tidy(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := r.q.PruneJobs(ctx, time.Now().Add(-r.opts.KeepDone)); err != nil && ctx.Err() == nil {
			r.log.Error("jobs: prune", "err", err)
		} else if n > 0 {
			r.log.Debug("jobs: pruned", "done", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
