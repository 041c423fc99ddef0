package db_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"agora/chat"
	"agora/db"
	"agora/db/pgtest"
)

// TestMain runs one throwaway PostgreSQL cluster for the package's tests.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// onEachEngine runs test once on SQLite and once on PostgreSQL, each time
// with a fresh, empty database named by dsn: the store's conformance suite.
func onEachEngine(t *testing.T, test func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { test(t, filepath.Join(t.TempDir(), "agora.db")) })
	t.Run("postgres", func(t *testing.T) { test(t, pgtest.Database(t)) })
}

// eachStore runs test on a fresh store of each engine.
func eachStore(t *testing.T, test func(t *testing.T, s *db.Store)) {
	onEachEngine(t, func(t *testing.T, dsn string) { test(t, openDSN(t, dsn)) })
}

func openDSN(t *testing.T, dsn string) *db.Store {
	t.Helper()
	s, err := db.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openStore(t *testing.T) (*db.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agora.db")
	return openDSN(t, path), path
}

func TestPragmasOnEveryPooledConnection(t *testing.T) {
	s, _ := openStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := s.Pragmas(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("checked %d connections, want 4 readers and the writer", len(got))
	}
	for i, p := range got {
		if p.JournalMode != "wal" || p.Synchronous != 1 || p.ForeignKeys != 1 || p.BusyTimeout < 1000 {
			t.Errorf("connection %d: %+v, want journal_mode=wal synchronous=1 (NORMAL) foreign_keys=1 busy_timeout>=1000", i, p)
		}
	}
}

func TestGeneralRoomExistsAndMigrationsRunOnce(t *testing.T) {
	onEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s, err := db.Open(ctx, dsn)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		if _, err := s.RoomBySlug(ctx, "general"); err != nil {
			t.Fatalf("general: %v", err)
		}
		s.Close()
		// Opening again must not apply the migrations a second time (which would
		// fail on "table exists" or insert a second general room).
		s2 := openDSN(t, dsn)
		u := mustUser(t, s2, "ann")
		rooms, err := s2.Nav(ctx, u.ID)
		if err != nil || len(rooms) != 1 || rooms[0].Slug != "general" {
			t.Fatalf("rooms after reopen = %+v, %v; want only general", rooms, err)
		}
	})
}

func mustUser(t *testing.T, s *db.Store, name string) chat.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), name, "", "hash", false)
	if err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	return u
}

func TestUsernamesAreUniqueInAnyCase(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		first := mustUser(t, s, "Alice")
		if !first.IsAdmin {
			t.Error("the first account should be the admin")
		}
		_, err := s.CreateUser(context.Background(), "aLICE", "", "hash", false)
		if chat.ErrorCode(err) != chat.EConflict {
			t.Fatalf("second Alice: %v, want a conflict", err)
		}
		second := mustUser(t, s, "bob")
		if second.IsAdmin {
			t.Error("only the first account is the admin")
		}
		got, err := s.UserByUsername(context.Background(), "ALICE")
		if err != nil || got.ID != first.ID {
			t.Fatalf("lookup in other case = %+v, %v", got, err)
		}
	})
}

func TestSessionsExpireAndEnd(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		u := mustUser(t, s, "ann")
		live, old := chat.HashToken("live"), chat.HashToken("old")
		if err := s.CreateSession(ctx, live, u.ID, time.Now().Add(time.Hour), "", ""); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateSession(ctx, old, u.ID, time.Now().Add(-time.Second), "", ""); err != nil {
			t.Fatal(err)
		}
		if got, err := s.SessionUser(ctx, live); err != nil || got.ID != u.ID {
			t.Fatalf("live session = %+v, %v", got, err)
		}
		if _, err := s.SessionUser(ctx, old); chat.ErrorCode(err) != chat.EUnauthorized {
			t.Fatalf("expired session: %v, want unauthorized", err)
		}
		if err := s.DeleteSession(ctx, live); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionUser(ctx, live); chat.ErrorCode(err) != chat.EUnauthorized {
			t.Fatalf("ended session: %v, want unauthorized", err)
		}
	})
}

func TestPrivateRoomsAreListedForMembersOnly(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
		secret, err := s.CreateRoom(ctx, "Secret plans", "secret-plans", true, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateRoom(ctx, "secret plans", "secret-plans", false, bob.ID); chat.ErrorCode(err) != chat.EConflict {
			t.Fatalf("same slug again: %v, want conflict", err)
		}
		for _, tc := range []struct {
			user chat.User
			want int
		}{{ann, 2}, {bob, 1}} {
			rooms, err := s.Nav(ctx, tc.user.ID)
			if err != nil || len(rooms) != tc.want {
				t.Errorf("%s sees %d rooms (%v), want %d", tc.user.Username, len(rooms), err, tc.want)
			}
		}
		if ok, _ := s.IsMember(ctx, secret.ID, bob.ID); ok {
			t.Error("bob is a member of ann's private room")
		}
		if joined, err := s.Join(ctx, secret.ID, bob.ID); err != nil || !joined {
			t.Fatalf("join = %v, %v", joined, err)
		}
		if joined, _ := s.Join(ctx, secret.ID, bob.ID); joined {
			t.Error("joining twice reported a new join")
		}
		if left, _ := s.Leave(ctx, secret.ID, bob.ID); !left {
			t.Error("leave reported no membership")
		}
	})
}

func TestMessagesPagesAndResends(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		u := mustUser(t, s, "ann")
		general, _ := s.RoomBySlug(ctx, "general")
		var ids []int64
		for i := range 120 {
			m, created, err := s.CreateMessage(ctx, chat.Message{RoomID: general.ID, AuthorID: u.ID, Body: "m" + itoa(i)})
			if err != nil || !created {
				t.Fatalf("message %d: %v %v", i, created, err)
			}
			ids = append(ids, m.ID)
		}
		latest, err := s.Messages(ctx, general.ID, 0, 50)
		if err != nil || len(latest) != 50 || latest[0].ID != ids[70] || latest[49].ID != ids[119] {
			t.Fatalf("latest page: %d messages, %v", len(latest), err)
		}
		older, _ := s.Messages(ctx, general.ID, latest[0].ID, 50)
		if len(older) != 50 || older[49].ID != ids[69] {
			t.Fatalf("older page ends at %d, want %d", older[len(older)-1].ID, ids[69])
		}
		after, _ := s.MessagesAfter(ctx, general.ID, ids[110], 500)
		if len(after) != 9 || after[0].ID != ids[111] {
			t.Fatalf("after: %d messages", len(after))
		}

		first, created, err := s.CreateMessage(ctx, chat.Message{RoomID: general.ID, AuthorID: u.ID, Body: "once", ClientMsgID: "c1"})
		if err != nil || !created {
			t.Fatal(err)
		}
		again, created, err := s.CreateMessage(ctx, chat.Message{RoomID: general.ID, AuthorID: u.ID, Body: "once", ClientMsgID: "c1"})
		if err != nil || created || again.ID != first.ID {
			t.Fatalf("resend: created=%v id=%d (first %d) err=%v", created, again.ID, first.ID, err)
		}
	})
}

func TestConcurrentWritersNeverSeeLocked(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		u := mustUser(t, s, "ann")
		general, _ := s.RoomBySlug(ctx, "general")
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for w := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 25 {
					if _, _, err := s.CreateMessage(ctx, chat.Message{RoomID: general.ID, AuthorID: u.ID, Body: "w" + itoa(w) + "-" + itoa(i)}); err != nil {
						errs <- err
						return
					}
					if _, err := s.Messages(ctx, general.ID, 0, 10); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		msgs, _ := s.MessagesAfter(ctx, general.ID, 0, 1000)
		if len(msgs) != 16*25 {
			t.Fatalf("stored %d messages, want %d", len(msgs), 16*25)
		}
	})
}

func itoa(i int) string {
	return string(rune('0'+i/100%10)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10))
}
