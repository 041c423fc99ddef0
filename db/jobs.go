package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"agora/chat"
)

// The job queue: rows of chat.Job that runners claim under a lease. A claim
// is one write transaction that picks the next due job and marks it running
// until the lease ends; a runner that dies leaves a lease that runs out, and
// the job is claimed again. On PostgreSQL the pick skips rows other runners
// hold (FOR UPDATE SKIP LOCKED); on SQLite claims queue behind the store's
// one writer connection. Either way a job is run by one runner at a time.

const jobColumns = `id, kind, queue, payload, state, run_at, attempts, max_attempts, last_error, created_at, finished_at, coalesce(unique_key, '')`

func scanJob(row interface{ Scan(...any) error }) (chat.Job, error) {
	var j chat.Job
	var runAt, created int64
	var finished sql.NullInt64
	err := row.Scan(&j.ID, &j.Kind, &j.Queue, &j.Payload, &j.State, &runAt, &j.Attempts, &j.MaxAttempts, &j.LastError,
		&created, &finished, &j.Key)
	if err != nil {
		return chat.Job{}, err
	}
	j.RunAt, j.CreatedAt, j.FinishedAt = fromDB(runAt), fromDB(created), fromNullDB(finished)
	return j, nil
}

// EnqueueJobs stores jobs to run at their RunAt (now when zero), all or none.
// A job whose Key is already taken is left out: it was asked for before.
// It returns how many were added.
func (s *Store) EnqueueJobs(ctx context.Context, jobs ...chat.Job) (int, error) {
	now := time.Now()
	added := 0
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		added = 0
		for _, j := range jobs {
			if j.Kind == "" || j.MaxAttempts < 1 {
				return fmt.Errorf("job %q: a kind and at least one attempt are needed", j.Kind)
			}
			if j.RunAt.IsZero() {
				j.RunAt = now
			}
			n, err := insertJob(ctx, tx, j, now)
			if err != nil {
				return err
			}
			added += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("enqueue jobs: %w", err)
	}
	return added, nil
}

// insertJob adds j in tx, unless its key is taken: it returns how many
// rows it added.
func insertJob(ctx context.Context, tx *sql.Tx, j chat.Job, now time.Time) (int64, error) {
	var key any
	if j.Key != "" {
		key = j.Key
	}
	if j.Payload == nil {
		j.Payload = []byte{}
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO jobs (kind, queue, payload, state, run_at, max_attempts, created_at, unique_key)
		VALUES (?, ?, ?, 'queued', ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		j.Kind, j.Queue, j.Payload, toDB(j.RunAt), j.MaxAttempts, toDB(now), key)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ClaimJob takes the next due job of one of kinds for worker, marking it
// running until now+lease and counting the attempt; ok is false when none is
// due. A job whose queue already has one running (under a live lease) waits
// its turn. A running job whose lease ran out is due again, unless it has no
// attempt left: then it has failed.
//
// One job of a queue at a time holds on PostgreSQL too, where claims run at
// once: two claims whose snapshots each saw the queue idle would each skip
// the row the other locked and take the next of the same queue, out of
// order. So a claim that picked a job of a queue takes that queue's lock
// (held to its commit) and looks again, in a new snapshot, for a job of the
// queue running or due before its pick: the later of two claims sees the
// earlier's, and a claim that skipped the queue's first job (locked by
// another claim) leaves the queue to that claim.
func (s *Store) ClaimJob(ctx context.Context, kinds []string, worker string, now time.Time, lease time.Duration) (j chat.Job, ok bool, err error) {
	if len(kinds) == 0 {
		return chat.Job{}, false, nil
	}
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET state = 'failed', finished_at = ?1, locked_by = '', locked_until = NULL,
				last_error = CASE WHEN last_error = '' THEN 'its runner stopped during the last attempt' ELSE last_error END
			WHERE state = 'running' AND locked_until <= ?1 AND attempts >= max_attempts`, toDB(now)); err != nil {
			return err
		}
		var busy []string // queues found taken once their lock was held
		for range maxBusyQueues {
			id, queue, runAt, err := pickJob(ctx, tx, s.engine, kinds, busy, now)
			if err != nil {
				return err
			}
			if queue != "" {
				if err := s.engine.lockJobQueue(ctx, tx, queue); err != nil {
					return err
				}
				var taken bool
				if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM jobs
					WHERE queue = ?1 AND id != ?2 AND (
						(state = 'running' AND locked_until > ?3)
						OR (((state = 'queued' AND run_at <= ?3) OR (state = 'running' AND locked_until <= ?3))
							AND (run_at < ?4 OR (run_at = ?4 AND id < ?2)))))`, queue, id, toDB(now), runAt).Scan(&taken); err != nil {
					return err
				}
				if taken {
					busy = append(busy, queue)
					continue
				}
			}
			j, err = scanJob(tx.QueryRowContext(ctx, `UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = ?, locked_until = ?
				WHERE id = ? RETURNING `+jobColumns, worker, toDB(now.Add(lease)), id))
			return err
		}
		return sql.ErrNoRows // the runner looks again at its next poll
	})
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Job{}, false, nil
	}
	if err != nil {
		return chat.Job{}, false, fmt.Errorf("claim job: %w", err)
	}
	return j, true, nil
}

// maxBusyQueues bounds how many queues one claim passes by because another
// claim took them a moment before.
const maxBusyQueues = 16

// pickJob finds, and on PostgreSQL locks, the next due job of kinds outside
// the busy queues whose queue has none running as far as tx can see: the
// earlier of the first queued job due and the first running job whose lease
// ran out.
//
// Those are two walks of the jobs_due index (state, run_at), each in its
// order and stopping at its first match, rather than one query with an OR
// of both: SQLite answers that OR by gathering every due job and sorting
// them all, on every claim, so a burst of n jobs took O(n²) (6.4 ms a
// claim and its finish with 10,000 queued, 1.3 ms with 1,000), holding the
// store's one writer connection that messages are committed through. On
// PostgreSQL the walk not taken keeps its row locked until the claim
// commits: other claims pass it by for that moment.
func pickJob(ctx context.Context, tx *sql.Tx, e engine, kinds, busy []string, now time.Time) (id int64, queue string, runAt int64, err error) {
	args := []any{toDB(now)}
	marks := func(vals []string) string {
		m := make([]string, len(vals))
		for i, v := range vals {
			args = append(args, v)
			m[i] = "?" + strconv.Itoa(len(args))
		}
		return strings.Join(m, ",")
	}
	// Numbered, as the rest of the query's placeholders are: the two kinds
	// do not mix.
	cond := "j.kind IN (" + marks(kinds) + ")"
	if len(busy) > 0 {
		cond += " AND j.queue NOT IN (" + marks(busy) + ")"
	}
	first := func(due string) (id int64, queue string, runAt int64, err error) {
		err = tx.QueryRowContext(ctx, `SELECT j.id, j.queue, j.run_at FROM jobs j
			WHERE `+due+` AND `+cond+`
				AND (j.queue = '' OR NOT EXISTS (SELECT 1 FROM jobs r
					WHERE r.queue = j.queue AND r.state = 'running' AND r.locked_until > ?1 AND r.id != j.id))
			ORDER BY j.run_at, j.id LIMIT 1`+e.skipLocked(), args...).Scan(&id, &queue, &runAt)
		return id, queue, runAt, err
	}
	id, queue, runAt, err = first("j.state = 'queued' AND j.run_at <= ?1")
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, "", 0, err
	}
	lid, lqueue, lrunAt, lerr := first("j.state = 'running' AND j.locked_until <= ?1")
	switch {
	case lerr != nil && !errors.Is(lerr, sql.ErrNoRows):
		return 0, "", 0, lerr
	case lerr == nil && (err != nil || lrunAt < runAt || (lrunAt == runAt && lid < id)):
		return lid, lqueue, lrunAt, nil
	}
	return id, queue, runAt, err
}

// FinishJob marks a job worker ran as done. A job whose lease another runner
// has since taken (or that failed when its lease ran out) is not changed: the
// answer is then a conflict (chat.EConflict), and this run's outcome is lost.
func (s *Store) FinishJob(ctx context.Context, id int64, worker string) error {
	return s.settleJob(ctx, "finish", id, worker, `UPDATE jobs SET state = 'done', finished_at = ?, locked_by = '', locked_until = NULL
			WHERE id = ? AND state = 'running' AND locked_by = ?`, toDB(time.Now()), id, worker)
}

// FailJob records why a run of the job failed. With attempts left and not
// final, the job is queued again for retryAt; else it has failed, and waits
// for an admin. A job no longer worker's is a conflict, as for FinishJob.
func (s *Store) FailJob(ctx context.Context, id int64, worker, reason string, retryAt time.Time, final bool) error {
	return s.settleJob(ctx, "fail", id, worker, `UPDATE jobs SET last_error = ?1, locked_by = '', locked_until = NULL,
				state = CASE WHEN ?2 = 1 OR attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
				finished_at = CASE WHEN ?2 = 1 OR attempts >= max_attempts THEN CAST(?3 AS BIGINT) ELSE NULL END,
				run_at = ?4
			WHERE id = ?5 AND state = 'running' AND locked_by = ?6`,
		reason, final, toDB(time.Now()), toDB(retryAt), id, worker)
}

// ReleaseJob gives back a job its runner stopped during a run (the process
// is shutting down): queued again, due now, the attempt not counted. A job
// no longer worker's is a conflict, as for FinishJob.
func (s *Store) ReleaseJob(ctx context.Context, id int64, worker string) error {
	return s.settleJob(ctx, "release", id, worker, `UPDATE jobs SET state = 'queued', attempts = attempts - 1, locked_by = '', locked_until = NULL, run_at = ?
			WHERE id = ? AND state = 'running' AND locked_by = ?`, toDB(time.Now()), id, worker)
}

// settleJob stores the outcome of worker's run of job id with query, which
// changes the job only while worker still holds it.
func (s *Store) settleJob(ctx context.Context, what string, id int64, worker, query string, args ...any) error {
	var n int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("%s job %d: %w", what, id, err)
	}
	if n == 0 {
		return chat.Errorf(chat.EConflict, "Job %d is no longer held by runner %s: its lease ran out, and it was claimed again or failed.", id, worker)
	}
	return nil
}

// RetryJob queues a failed job again, now, with its attempts anew.
func (s *Store) RetryJob(ctx context.Context, id int64) (chat.Job, error) {
	var j chat.Job
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		j, err = scanJob(tx.QueryRowContext(ctx, `UPDATE jobs SET state = 'queued', attempts = 0, run_at = ?, finished_at = NULL
			WHERE id = ? AND state = 'failed' RETURNING `+jobColumns, toDB(time.Now()), id))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Job{}, chat.Errorf(chat.ENotFound, "There is no failed job %d: it may have been retried already.", id)
	}
	if err != nil {
		return chat.Job{}, fmt.Errorf("retry job %d: %w", id, err)
	}
	return j, nil
}

// JobByID returns one job.
func (s *Store) JobByID(ctx context.Context, id int64) (chat.Job, error) {
	j, err := scanJob(s.read.QueryRowContext(ctx, "SELECT "+jobColumns+" FROM jobs WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Job{}, chat.Errorf(chat.ENotFound, "There is no job %d.", id)
	}
	if err != nil {
		return chat.Job{}, fmt.Errorf("job %d: %w", id, err)
	}
	return j, nil
}

// JobsIn lists up to limit jobs in a state, the latest first.
func (s *Store) JobsIn(ctx context.Context, state string, limit int) ([]chat.Job, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT "+jobColumns+" FROM jobs WHERE state = ? ORDER BY coalesce(finished_at, run_at) DESC, id DESC LIMIT ?",
		state, limit)
	if err != nil {
		return nil, fmt.Errorf("jobs %s: %w", state, err)
	}
	defer rows.Close()
	var out []chat.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("jobs %s: %w", state, err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("jobs %s: %w", state, err)
	}
	return out, nil
}

// CountJobsByKind counts the jobs of each kind in each state, in one
// read (a job moving on between two reads would count twice or never).
func (s *Store) CountJobsByKind(ctx context.Context) (map[string]chat.JobCounts, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT kind, state, count(*) FROM jobs GROUP BY kind, state")
	if err != nil {
		return nil, fmt.Errorf("count jobs by kind: %w", err)
	}
	defer rows.Close()
	out := map[string]chat.JobCounts{}
	for rows.Next() {
		var kind, state string
		var n int
		if err := rows.Scan(&kind, &state, &n); err != nil {
			return nil, fmt.Errorf("count jobs by kind: %w", err)
		}
		c := out[kind]
		c.Add(state, n)
		out[kind] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count jobs by kind: %w", err)
	}
	return out, nil
}

// CountJobs counts the jobs in each state.
func (s *Store) CountJobs(ctx context.Context) (chat.JobCounts, error) {
	var c chat.JobCounts
	rows, err := s.read.QueryContext(ctx, "SELECT state, count(*) FROM jobs GROUP BY state")
	if err != nil {
		return c, fmt.Errorf("count jobs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return c, fmt.Errorf("count jobs: %w", err)
		}
		c.Add(state, n)
	}
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("count jobs: %w", err)
	}
	return c, nil
}

// NextJobAt is when the earliest queued job of one of kinds that is not
// due yet at now will be, or zero when none is waiting for its time.
func (s *Store) NextJobAt(ctx context.Context, kinds []string, now time.Time) (time.Time, error) {
	if len(kinds) == 0 {
		return time.Time{}, nil
	}
	args := []any{toDB(now)}
	for _, k := range kinds {
		args = append(args, k)
	}
	var at sql.NullInt64
	err := s.read.QueryRowContext(ctx, "SELECT min(run_at) FROM jobs WHERE state = 'queued' AND run_at > ? AND kind IN (?"+
		strings.Repeat(",?", len(kinds)-1)+")", args...).Scan(&at)
	if err != nil {
		return time.Time{}, fmt.Errorf("next job: %w", err)
	}
	return fromNullDB(at), nil
}

// PruneJobs deletes the jobs done before t: their keys were kept that long,
// so the same work asked for again meanwhile was not done twice.
func (s *Store) PruneJobs(ctx context.Context, t time.Time) (int64, error) {
	var n int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM jobs WHERE state = 'done' AND finished_at < ?", toDB(t))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune jobs: %w", err)
	}
	return n, nil
}
