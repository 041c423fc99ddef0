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

// Messages to send later and reminders (chat.Scheduled): a row the user
// sees on /scheduled, and the job that runs it, written in one
// transaction. The job's key is LaterJobKey(id), so editing and cancelling
// find it; a job already claimed (running) is no longer the user's to
// change.

// LaterJobKey is the unique key of the job that runs scheduled row id.
func LaterJobKey(id int64) string { return "later:" + strconv.FormatInt(id, 10) }

const scheduledColumns = `s.id, s.kind, s.user_id, coalesce(s.room_id, 0), coalesce(s.about_id, 0), s.body, s.run_at, s.state, s.error,
	coalesce(s.sent_id, 0), s.created_at, s.done_at`

// scheduledReturning is scheduledColumns without their table, for RETURNING.
var scheduledReturning = strings.ReplaceAll(scheduledColumns, "s.", "")

func scanScheduled(row interface{ Scan(...any) error }, extra ...any) (chat.Scheduled, error) {
	var sc chat.Scheduled
	var at, created int64
	var done sql.NullInt64
	err := row.Scan(append([]any{&sc.ID, &sc.Kind, &sc.UserID, &sc.RoomID, &sc.AboutID, &sc.Body, &at, &sc.State, &sc.Error,
		&sc.SentID, &created, &done}, extra...)...)
	if err != nil {
		return chat.Scheduled{}, err
	}
	sc.At, sc.Created, sc.Done = fromDB(at), fromDB(created), fromNullDB(done)
	return sc, nil
}

// Schedule stores sc (pending, at sc.At) and job, due at the same time,
// with the key LaterJobKey and the payload {"id": N} of the row it runs.
// A user with chat.MaxLaterWaiting pending already is refused.
func (s *Store) Schedule(ctx context.Context, sc chat.Scheduled, job chat.Job) (chat.Scheduled, error) {
	now := time.Now()
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var waiting int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM scheduled WHERE user_id = ? AND state = 'pending'", sc.UserID).Scan(&waiting); err != nil {
			return err
		}
		if waiting >= chat.MaxLaterWaiting {
			return chat.Errorf(chat.EInvalid, "You have %d messages and reminders waiting already: send or cancel some on /scheduled first.", waiting)
		}
		var room, about any
		if sc.RoomID != 0 {
			room = sc.RoomID
		}
		if sc.AboutID != 0 {
			about = sc.AboutID
		}
		var err error
		sc, err = scanScheduled(tx.QueryRowContext(ctx, `INSERT INTO scheduled (kind, user_id, room_id, about_id, body, run_at, state, created_at)
			VALUES (?, ?, ?, ?, ?, ?, 'pending', ?) RETURNING `+scheduledReturning,
			sc.Kind, sc.UserID, room, about, sc.Body, toDB(sc.At), toDB(now)))
		if err != nil {
			return err
		}
		job.Key, job.RunAt = LaterJobKey(sc.ID), sc.At
		job.Payload = []byte(`{"id":` + strconv.FormatInt(sc.ID, 10) + `}`)
		_, err = insertJob(ctx, tx, job, now)
		return err
	})
	if err != nil && chat.ErrorCode(err) == chat.EInternal {
		return chat.Scheduled{}, fmt.Errorf("schedule: %w", err)
	}
	return sc, err
}

// ScheduledByID returns one scheduled row.
func (s *Store) ScheduledByID(ctx context.Context, id int64) (chat.Scheduled, error) {
	sc, err := scanScheduled(s.queryRow(ctx, "SELECT "+scheduledColumns+" FROM scheduled s WHERE s.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Scheduled{}, chat.Errorf(chat.ENotFound, "There is no such scheduled message or reminder: it may have been cancelled.")
	}
	if err != nil {
		return chat.Scheduled{}, fmt.Errorf("scheduled %d: %w", id, err)
	}
	return sc, nil
}

// ScheduledOf lists a user's pending messages and reminders, soonest
// first, then those that failed in the last week, latest first, each with
// its room.
func (s *Store) ScheduledOf(ctx context.Context, userID int64) ([]chat.Scheduled, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT "+scheduledColumns+`, coalesce(r.id, 0), coalesce(r.slug, ''), coalesce(r.name, ''), coalesce(r.kind, '')
		FROM scheduled s LEFT JOIN rooms r ON r.id = s.room_id
		WHERE s.user_id = ? AND (s.state = 'pending' OR (s.state = 'failed' AND s.done_at > ?))
		ORDER BY s.state = 'pending' DESC, CASE WHEN s.state = 'pending' THEN s.run_at ELSE -s.done_at END, s.id`,
		userID, toDB(time.Now().Add(-7*24*time.Hour)))
	if err != nil {
		return nil, fmt.Errorf("scheduled of %d: %w", userID, err)
	}
	defer rows.Close()
	var out []chat.Scheduled
	for rows.Next() {
		var r chat.Room
		sc, err := scanScheduled(rows, &r.ID, &r.Slug, &r.Name, &r.Kind)
		if err != nil {
			return nil, fmt.Errorf("scheduled of %d: %w", userID, err)
		}
		sc.Room = r
		out = append(out, sc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("scheduled of %d: %w", userID, err)
	}
	return out, nil
}

// errLaterTaken is the refusal of a change to a row whose job has started.
var errLaterTaken = chat.Errorf(chat.EConflict, "It is being sent right now, or was sent already: it can no longer be changed.")

// EditScheduled changes the body and time of a pending row of userID's,
// and moves its job to the new time. A row another user's, gone or no
// longer pending is not found; one whose job has started is a conflict.
func (s *Store) EditScheduled(ctx context.Context, userID, id int64, body string, at time.Time) (chat.Scheduled, error) {
	var sc chat.Scheduled
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.pendingOf(ctx, tx, userID, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "UPDATE jobs SET run_at = ? WHERE unique_key = ? AND state = 'queued'", toDB(at), LaterJobKey(id))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return errLaterTaken
		}
		sc, err = scanScheduled(tx.QueryRowContext(ctx, "UPDATE scheduled SET body = ?, run_at = ? WHERE id = ? RETURNING "+scheduledReturning,
			body, toDB(at), id))
		return err
	})
	if err != nil && chat.ErrorCode(err) == chat.EInternal {
		return chat.Scheduled{}, fmt.Errorf("edit scheduled %d: %w", id, err)
	}
	return sc, err
}

// CancelScheduled deletes a pending row of userID's and its job (a failed
// one, which has no job waiting, is deleted too: the user has read why).
func (s *Store) CancelScheduled(ctx context.Context, userID, id int64) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var state string
		err := tx.QueryRowContext(ctx, "SELECT state FROM scheduled WHERE id = ? AND user_id = ?", id, userID).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return errLaterGone
		}
		if err != nil {
			return err
		}
		switch state {
		case chat.ScheduledPending:
			res, err := tx.ExecContext(ctx, "DELETE FROM jobs WHERE unique_key = ? AND state = 'queued'", LaterJobKey(id))
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return errLaterTaken
			}
		case chat.ScheduledSent:
			return errLaterTaken
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM scheduled WHERE id = ?", id)
		return err
	})
	if err != nil && chat.ErrorCode(err) == chat.EInternal {
		return fmt.Errorf("cancel scheduled %d: %w", id, err)
	}
	return err
}

var errLaterGone = chat.Errorf(chat.ENotFound, "There is no such scheduled message or reminder of yours: it may have been sent or cancelled.")

// pendingOf checks that row id is userID's and pending.
func (s *Store) pendingOf(ctx context.Context, tx *sql.Tx, userID, id int64) error {
	var state string
	err := tx.QueryRowContext(ctx, "SELECT state FROM scheduled WHERE id = ? AND user_id = ?", id, userID).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return errLaterGone
	}
	if err != nil {
		return err
	}
	if state != chat.ScheduledPending {
		return errLaterTaken
	}
	return nil
}

// FinishScheduled records what running row id came to: sent (sentID, the
// message it became) or failed (why, for its user).
func (s *Store) FinishScheduled(ctx context.Context, id int64, state string, sentID int64, why string) error {
	var sent any
	if sentID != 0 {
		sent = sentID
	}
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE scheduled SET state = ?, sent_id = ?, error = ?, done_at = ? WHERE id = ?",
			state, sent, why, toDB(time.Now()), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("finish scheduled %d: %w", id, err)
	}
	return nil
}

// SystemAccount returns the account the server speaks as (reminders, and
// notices about what it did for a user), making it on first use: a bot
// without a password or token, so nobody signs in as it. A person's
// account of that name is refused: the server never speaks as a person.
func (s *Store) SystemAccount(ctx context.Context, name string) (chat.User, error) {
	var u chat.User
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE username = ?", name))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			u, err = scanUser(tx.QueryRowContext(ctx, `INSERT INTO users (username, display_name, password_hash, is_admin, is_guest, is_bot, created_at)
				VALUES (?, '', '', 0, 0, 1, ?) RETURNING `+userColumns, name, toDB(time.Now())))
			return err
		case err != nil:
			return err
		case !u.IsBot:
			return fmt.Errorf("the account %q is a person's: the server will not speak as it", name)
		}
		return nil
	})
	if err != nil && chat.ErrorCode(err) == chat.EInternal {
		return chat.User{}, fmt.Errorf("system account: %w", err)
	}
	return u, err
}
