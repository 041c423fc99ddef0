package db_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"agora/chat"
	"agora/db"
)

// activeAdmins counts the accounts that can still administer the server.
func activeAdmins(t *testing.T, s *db.Store) int {
	t.Helper()
	users, err := s.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, u := range users {
		if chat.MayAdminister(u) {
			n++
		}
	}
	return n
}

// G15: two admins on two nodes taking each other away at the same moment
// (deactivating, demoting, or one of each) leave one active admin: the
// check is inside the write, so the second finds the first already gone.
func TestTwoAdminsTakingEachOtherAwayAtOnceLeaveOne(t *testing.T) {
	onEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		a, b := openDSN(t, dsn), openDSN(t, dsn)
		ann := mustUser(t, a, "ann") // the first account: an admin
		bob := mustUser(t, a, "bob")
		type takeAway func(s *db.Store, id int64) error
		deactivate := func(s *db.Store, id int64) error { return s.SetDeactivated(ctx, id, true) }
		demote := func(s *db.Store, id int64) error { return s.SetAdmin(ctx, id, false) }
		for round, pair := range [][2]takeAway{
			{deactivate, deactivate}, {demote, demote}, {deactivate, demote}, {demote, deactivate},
			{deactivate, deactivate}, {demote, demote}, {deactivate, demote}, {demote, deactivate},
		} {
			for _, id := range []int64{ann.ID, bob.ID} {
				if err := a.SetDeactivated(ctx, id, false); err != nil {
					t.Fatal(err)
				}
				if err := a.SetAdmin(ctx, id, true); err != nil {
					t.Fatal(err)
				}
			}
			var errs [2]error
			start := make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() { <-start; errs[0] = pair[0](a, bob.ID) }) // ann, on node a, takes bob away
			wg.Go(func() { <-start; errs[1] = pair[1](b, ann.ID) }) // bob, on node b, takes ann away
			close(start)
			wg.Wait()
			if n := activeAdmins(t, a); n != 1 {
				t.Fatalf("round %d: %d active admins left (errors %v, %v), want 1", round, n, errs[0], errs[1])
			}
			refused := 0
			for _, err := range errs {
				switch {
				case err == nil:
				case errors.Is(err, db.ErrLastAdmin):
					refused++
				default:
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if refused != 1 {
				t.Fatalf("round %d: %d refused, want exactly one (errors %v, %v)", round, refused, errs[0], errs[1])
			}
		}
		// Alone, the last active admin is never taken away either way, and
		// an ordinary account is deactivated as before.
		for _, id := range []int64{ann.ID, bob.ID} {
			if err := a.SetDeactivated(ctx, id, false); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.SetAdmin(ctx, bob.ID, false); err != nil {
			t.Fatal(err)
		}
		if err := a.SetAdmin(ctx, ann.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := b.SetDeactivated(ctx, ann.ID, true); !errors.Is(err, db.ErrLastAdmin) || chat.ErrorCode(err) != chat.EInvalid {
			t.Errorf("deactivating the last admin: %v, want ErrLastAdmin", err)
		}
		if err := b.SetAdmin(ctx, ann.ID, false); !errors.Is(err, db.ErrLastAdmin) {
			t.Errorf("demoting the last admin: %v, want ErrLastAdmin", err)
		}
		if err := b.SetDeactivated(ctx, bob.ID, true); err != nil {
			t.Errorf("deactivating an ordinary account: %v", err)
		}
	})
}

// G14: the store refuses a delete in an archived room, admins included,
// inside the write: a room archived after the handler looked is still read-only.
func TestArchivedRoomTakesNoDeleteInTheStore(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		ann := mustUser(t, s, "ann") // an admin
		bob := mustUser(t, s, "bob")
		general, err := s.RoomBySlug(ctx, "general")
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, u := range []chat.User{ann, bob} {
			if _, err := s.Join(ctx, general.ID, u.ID); err != nil {
				t.Fatal(err)
			}
			m, _, err := s.CreateMessage(ctx, chat.Message{RoomID: general.ID, AuthorID: u.ID, Body: "before the archive"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, m.ID)
		}
		archived := true
		if _, _, err := s.CreateMessage(ctx, chat.Message{RoomID: general.ID, AuthorID: ann.ID, Kind: chat.MessageNotice,
			Body: "archived", Change: &chat.RoomChange{Archived: &archived}}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			by chat.User
			id int64
		}{{bob, ids[1]}, {ann, ids[1]}, {ann, ids[0]}} {
			if _, err := s.DeleteMessage(ctx, c.id, c.by); !errors.Is(err, chat.ErrArchived) {
				t.Errorf("%s deleting message %d in an archived room: %v, want ErrArchived", c.by.Username, c.id, err)
			}
			if m, err := s.MessageByID(ctx, c.id); err != nil || m.Deleted() {
				t.Errorf("message %d: deleted %v, %v", c.id, m.Deleted(), err)
			}
		}
	})
}
