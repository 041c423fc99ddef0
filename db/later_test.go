package db_test

import (
	"context"
	"testing"
	"time"

	"agora/chat"
	"agora/db"
)

// A scheduled row and its job are one: made together, moved together by an
// edit, gone together on cancel; a row whose job a runner claimed is no
// longer the user's to change; the system account is made once and never
// a person's. On both engines.
func TestScheduledOnBothEngines(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
		general, _ := s.RoomBySlug(ctx, "general")
		at := time.Now().Add(time.Hour).Truncate(time.Millisecond)
		sc, err := s.Schedule(ctx, chat.Scheduled{Kind: chat.ScheduledMessage, UserID: ann.ID, RoomID: general.ID, Body: "later", At: at},
			chat.Job{Kind: "later", MaxAttempts: 3})
		if err != nil {
			t.Fatal(err)
		}
		if sc.ID == 0 || sc.State != chat.ScheduledPending || !sc.At.Equal(at) {
			t.Fatalf("scheduled: %+v", sc)
		}
		if next, err := s.NextJobAt(ctx, []string{"later"}, time.Now()); err != nil || !next.Equal(at) {
			t.Fatalf("the job is due %v (%v), want %v", next, err, at)
		}
		// Moved: the job follows.
		at2 := at.Add(time.Hour)
		if _, err := s.EditScheduled(ctx, ann.ID, sc.ID, "later still", at2); err != nil {
			t.Fatal(err)
		}
		if next, _ := s.NextJobAt(ctx, []string{"later"}, time.Now()); !next.Equal(at2) {
			t.Errorf("after the edit the job is due %v, want %v", next, at2)
		}
		if _, err := s.EditScheduled(ctx, bob.ID, sc.ID, "mine", at2); chat.ErrorCode(err) != chat.ENotFound {
			t.Errorf("bob edits ann's: %v", err)
		}
		list, err := s.ScheduledOf(ctx, ann.ID)
		if err != nil || len(list) != 1 || list[0].Body != "later still" || list[0].Room.Slug != "general" {
			t.Fatalf("ann's list: %+v (%v)", list, err)
		}
		// Claimed by a runner: no longer changed nor cancelled.
		if _, ok, err := s.ClaimJob(ctx, []string{"later"}, "w", at2.Add(time.Second), time.Minute); err != nil || !ok {
			t.Fatalf("claim: %v %v", ok, err)
		}
		if _, err := s.EditScheduled(ctx, ann.ID, sc.ID, "too late", at2); chat.ErrorCode(err) != chat.EConflict {
			t.Errorf("edit of a running one: %v", err)
		}
		if err := s.CancelScheduled(ctx, ann.ID, sc.ID); chat.ErrorCode(err) != chat.EConflict {
			t.Errorf("cancel of a running one: %v", err)
		}
		if err := s.FinishScheduled(ctx, sc.ID, chat.ScheduledFailed, 0, "You left."); err != nil {
			t.Fatal(err)
		}
		if list, _ := s.ScheduledOf(ctx, ann.ID); len(list) != 1 || list[0].Error != "You left." {
			t.Errorf("a failed one is listed with why: %+v", list)
		}
		// A failed one is dismissed.
		if err := s.CancelScheduled(ctx, ann.ID, sc.ID); err != nil {
			t.Fatal(err)
		}
		// Cancelled before its time: the job goes too.
		r, err := s.Schedule(ctx, chat.Scheduled{Kind: chat.ScheduledReminder, UserID: bob.ID, Body: "tea", At: at},
			chat.Job{Kind: "later", MaxAttempts: 3})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CancelScheduled(ctx, ann.ID, r.ID); chat.ErrorCode(err) != chat.ENotFound {
			t.Errorf("ann cancels bob's: %v", err)
		}
		if err := s.CancelScheduled(ctx, bob.ID, r.ID); err != nil {
			t.Fatal(err)
		}
		if next, _ := s.NextJobAt(ctx, []string{"later"}, time.Now()); !next.IsZero() {
			t.Errorf("a job is left after cancelling: due %v", next)
		}
		// At most MaxLaterWaiting each.
		for i := range chat.MaxLaterWaiting + 1 {
			_, err := s.Schedule(ctx, chat.Scheduled{Kind: chat.ScheduledReminder, UserID: bob.ID, Body: "x", At: at},
				chat.Job{Kind: "later", MaxAttempts: 3})
			if i < chat.MaxLaterWaiting && err != nil {
				t.Fatal(err)
			}
			if i == chat.MaxLaterWaiting && chat.ErrorCode(err) != chat.EInvalid {
				t.Errorf("the %dth waiting: %v", i+1, err)
			}
		}
		// The system account: made once, a bot, its name nobody else's.
		sys, err := s.SystemAccount(ctx, chat.SystemName)
		if err != nil || !sys.IsBot {
			t.Fatalf("system account: %+v %v", sys, err)
		}
		if again, err := s.SystemAccount(ctx, chat.SystemName); err != nil || again.ID != sys.ID {
			t.Errorf("made twice: %+v %v", again, err)
		}
		for _, name := range []string{"agora", "Agora", "ag0ra", "a-gora"} {
			if _, err := s.CreateUser(ctx, name, "", "x", false); chat.ErrorCode(err) != chat.EConflict {
				t.Errorf("a person named %q: %v", name, err)
			}
		}
	})
}
