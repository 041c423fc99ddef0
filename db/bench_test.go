package db_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"agora/chat"
	"agora/db"
	"agora/db/pgtest"
)

// benchSenders is the number of goroutines storing messages at once, as 64
// sockets posting together would.
const benchSenders = 64

// BenchmarkCreateMessage stores 100-byte messages from 64 concurrent senders
// (each its own author, each message with a fresh client id) through the
// same Store method the message path uses, into a real SQLite file and into
// PostgreSQL (a cluster of its own with fsync and synchronous commit on, as
// a real server has them). It reports committed messages per second and the
// errors seen ("database is locked" among them), which must stay 0.
func BenchmarkCreateMessage(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchCreateMessage(b, filepath.Join(b.TempDir(), "bench.db")) })
	b.Run("postgres", func(b *testing.B) {
		if _, err := pgtest.Bin(); err != nil {
			b.Skip("PostgreSQL: ", err)
		}
		ctx := context.Background()
		c, err := pgtest.Start(ctx, pgtest.Options{Durable: true})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Stop()
		dsn, err := c.CreateDatabase(ctx)
		if err != nil {
			b.Fatal(err)
		}
		benchCreateMessage(b, dsn)
	})
}

func benchCreateMessage(b *testing.B, dsn string) {
	ctx := context.Background()
	store, err := db.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	room, err := store.RoomBySlug(ctx, "general")
	if err != nil {
		b.Fatal(err)
	}
	authors := make([]chat.User, benchSenders)
	for i := range authors {
		if authors[i], err = store.CreateUser(ctx, fmt.Sprintf("sender%02d", i), "", "x", false); err != nil {
			b.Fatal(err)
		}
		if _, err := store.Join(ctx, room.ID, authors[i].ID); err != nil {
			b.Fatal(err)
		}
	}
	body := "a message of about one hundred bytes, as the performance targets say: " + strings.Repeat("x", 30)

	var next, errs, locked atomic.Int64
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((benchSenders + procs - 1) / procs) // parallelism × GOMAXPROCS goroutines ≥ 64
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		n := next.Add(1) - 1
		author := authors[n%benchSenders]
		seq := 0
		for pb.Next() {
			seq++
			_, created, err := store.CreateMessage(ctx, chat.Message{
				RoomID: room.ID, AuthorID: author.ID, Kind: chat.MessageText, Body: body,
				ClientMsgID: fmt.Sprintf("b%d-%d-%d", n, seq, b.N),
			})
			switch {
			case err != nil:
				if errs.Add(1) == 1 {
					b.Errorf("create message: %v", err)
				}
				if strings.Contains(err.Error(), "locked") || strings.Contains(err.Error(), "busy") {
					locked.Add(1)
				}
			case !created:
				b.Errorf("message %d-%d was taken for a resend", n, seq)
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(errs.Load()), "errors")
	b.ReportMetric(float64(locked.Load()), "locked")
}

// BenchmarkClaimJob claims and finishes one job at a time, as a runner's
// worker does, from a queue that holds (at least) 1,000 or 10,000 due jobs
// besides those done: what one push of a burst costs the store's writer.
// The time per claim must not grow with the queue.
func BenchmarkClaimJob(b *testing.B) {
	for _, queued := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("queued=%d", queued), func(b *testing.B) {
			ctx := context.Background()
			store, err := db.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			jobs := make([]chat.Job, queued+b.N)
			for i := range jobs {
				jobs[i] = chat.Job{Kind: "push", Payload: []byte(`{}`), MaxAttempts: 6, Key: fmt.Sprint("push:", i)}
			}
			if _, err := store.EnqueueJobs(ctx, jobs...); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				j, ok, err := store.ClaimJob(ctx, []string{"push"}, "bench", time.Now(), time.Minute)
				if err != nil || !ok {
					b.Fatalf("claim: %v, %v", ok, err)
				}
				if err := store.FinishJob(ctx, j.ID, "bench"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
