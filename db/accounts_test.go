package db_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"agora/chat"
	"agora/db"
)

func TestAccountsOnBothEngines(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		if has, err := s.HasAccounts(ctx); err != nil || has {
			t.Fatalf("a new store has accounts: %v, %v", has, err)
		}
		ann := mustUser(t, s, "ann")
		bob := mustUser(t, s, "bob")
		if has, _ := s.HasAccounts(ctx); !has {
			t.Fatal("HasAccounts after two accounts")
		}

		// Deactivation ends sessions and marks the user; reactivation clears it.
		if err := s.CreateSession(ctx, chat.HashToken("b"), bob.ID, time.Now().Add(time.Hour), "Firefox", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetDeactivated(ctx, bob.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionUser(ctx, chat.HashToken("b")); chat.ErrorCode(err) != chat.EUnauthorized {
			t.Fatalf("a deactivated user's session: %v", err)
		}
		if u, _ := s.UserByID(ctx, bob.ID); !u.Deactivated {
			t.Fatal("bob is not marked deactivated")
		}
		if err := s.SetDeactivated(ctx, bob.ID, false); err != nil {
			t.Fatal(err)
		}
		if err := s.SetAdmin(ctx, bob.ID, true); err != nil {
			t.Fatal(err)
		}
		users, err := s.Users(ctx)
		if err != nil || len(users) != 2 || users[0].Username != "ann" || users[1].Deactivated || !users[1].IsAdmin {
			t.Fatalf("users = %+v, %v", users, err)
		}

		// Invites: uses counted in the same transaction as the account.
		if _, err := s.CreateInvite(ctx, chat.HashToken("code"), ann.ID, 1, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.InviteByCode(ctx, chat.HashToken("code")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateUserWithInvite(ctx, chat.HashToken("code"), "carl", "x"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateUserWithInvite(ctx, chat.HashToken("code"), "dan", "x"); chat.ErrorCode(err) != chat.ENotFound {
			t.Fatalf("a used-up invite made an account: %v", err)
		}
		invites, err := s.Invites(ctx, 10)
		if err != nil || len(invites) != 1 || invites[0].Uses != 1 || invites[0].CreatedBy != "ann" {
			t.Fatalf("invites = %+v, %v", invites, err)
		}
		if err := s.RevokeInvite(ctx, invites[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeInvite(ctx, invites[0].ID); chat.ErrorCode(err) != chat.ENotFound {
			t.Fatalf("revoked twice: %v", err)
		}

		// The audit list, newest first.
		for _, a := range []string{"deactivated", "reactivated"} {
			if err := s.Audit(ctx, ann, a, "bob", ""); err != nil {
				t.Fatal(err)
			}
		}
		log, err := s.AuditLog(ctx, 10)
		if err != nil || len(log) != 2 || log[0].Action != "reactivated" || log[1].Actor != "ann" {
			t.Fatalf("audit log = %+v, %v", log, err)
		}
	})
}

func TestSessionsOnBothEngines(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
		for _, tok := range []string{"a1", "a2", "a3"} {
			if err := s.CreateSession(ctx, chat.HashToken(tok), ann.ID, time.Now().Add(time.Hour), "UA "+tok, "192.0.2.1"); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.CreateSession(ctx, chat.HashToken("b1"), bob.ID, time.Now().Add(time.Hour), "UA b1", "192.0.2.2"); err != nil {
			t.Fatal(err)
		}
		later := time.Now().Add(time.Minute).Truncate(time.Millisecond)
		if err := s.TouchSession(ctx, chat.HashToken("a2"), later, "198.51.100.7"); err != nil {
			t.Fatal(err)
		}
		list, err := s.Sessions(ctx, ann.ID, chat.HashToken("a1"))
		if err != nil || len(list) != 3 {
			t.Fatalf("ann's sessions = %+v, %v", list, err)
		}
		// The last used first, with where it was used from.
		if list[0].ID != chat.SessionID(chat.HashToken("a2")) || list[0].Address != "198.51.100.7" || !list[0].LastSeen.Equal(later) {
			t.Errorf("first session = %+v", list[0])
		}
		for _, ses := range list {
			if ses.Current != (ses.ID == chat.SessionID(chat.HashToken("a1"))) {
				t.Errorf("session %+v: current wrong", ses)
			}
		}

		// Ending by opaque id: only one's own.
		bobID := chat.SessionID(chat.HashToken("b1"))
		if _, err := s.EndSession(ctx, ann.ID, bobID); chat.ErrorCode(err) != chat.ENotFound {
			t.Errorf("ann ending bob's session: %v, want not found", err)
		}
		if _, err := s.SessionUser(ctx, chat.HashToken("b1")); err != nil {
			t.Errorf("bob's session after ann tried to end it: %v", err)
		}
		h, err := s.EndSession(ctx, ann.ID, chat.SessionID(chat.HashToken("a3")))
		if err != nil || string(h) != string(chat.HashToken("a3")) {
			t.Fatalf("end a3 = %x, %v", h, err)
		}
		if _, err := s.SessionUser(ctx, chat.HashToken("a3")); chat.ErrorCode(err) != chat.EUnauthorized {
			t.Errorf("a3 after ending it: %v", err)
		}

		// A new password ends every other session of the user, in one go.
		if err := s.CreateSession(ctx, chat.HashToken("a4"), ann.ID, time.Now().Add(time.Hour), "", ""); err != nil {
			t.Fatal(err)
		}
		ended, err := s.SetPassword(ctx, ann.ID, "new-hash", chat.HashToken("a1"))
		if err != nil || len(ended) != 2 {
			t.Fatalf("set password ended %d sessions, %v; want a2 and a4", len(ended), err)
		}
		if _, hash, err := s.UserCredentials(ctx, "ann"); err != nil || hash != "new-hash" {
			t.Errorf("ann's hash = %q, %v", hash, err)
		}
		if list, _ := s.Sessions(ctx, ann.ID, chat.HashToken("a1")); len(list) != 1 || !list[0].Current {
			t.Errorf("after the change ann has %+v", list)
		}
		if _, err := s.SessionUser(ctx, chat.HashToken("b1")); err != nil {
			t.Errorf("bob's session after ann's change: %v", err)
		}
		if err := s.CreateSession(ctx, chat.HashToken("a5"), ann.ID, time.Now().Add(time.Hour), "", ""); err != nil {
			t.Fatal(err)
		}
		if ended, err := s.EndOtherSessions(ctx, ann.ID, chat.HashToken("a1")); err != nil || len(ended) != 1 {
			t.Errorf("end others = %d, %v; want a5", len(ended), err)
		}
		if ended, err := s.EndOtherSessions(ctx, ann.ID, chat.HashToken("a1")); err != nil || len(ended) != 0 {
			t.Errorf("end others again = %d, %v; want none", len(ended), err)
		}
	})
}

// Many sign-ups at once on a new server, where only the first account may be
// made: one is made and it is the admin, on both engines, and from two nodes
// on one PostgreSQL database.
func TestOnlyOneFirstAccountIsMadeAtOnce(t *testing.T) {
	onEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		a, b := openDSN(t, dsn), openDSN(t, dsn)
		const n = 12
		errs := make([]error, n)
		users := make([]chat.User, n)
		var wg sync.WaitGroup
		for i := range n {
			st := a
			if i%2 == 1 {
				st = b
			}
			wg.Go(func() { users[i], errs[i] = st.CreateFirstUser(ctx, fmt.Sprintf("first%d", i), "hash") })
		}
		wg.Wait()
		made := 0
		for i, err := range errs {
			switch {
			case err == nil:
				made++
				if !users[i].IsAdmin {
					t.Errorf("the first account %s is not the admin", users[i].Username)
				}
			case !errors.Is(err, db.ErrNotFirst):
				t.Errorf("sign-up %d: %v, want ErrNotFirst", i, err)
			}
		}
		if made != 1 {
			t.Fatalf("%d accounts were made as the first, want 1", made)
		}
	})
}

// The username index and chat.NameKeys read names alike on both engines:
// '-' and '_' in a username are read past, as decorations of a name are.
func TestNameLooksTakenReadsPastDecorations(t *testing.T) {
	onEachEngine(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := openDSN(t, dsn)
		if _, err := s.CreateUser(ctx, "Al-1ce_", "", "hash", false); err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]bool{"alice": true, "a l i c e": true, "alice (admin)": true, "al_ice": true, "alicia": false} {
			got, err := s.NameLooksTaken(ctx, name, 0)
			if err != nil || got != want {
				t.Errorf("NameLooksTaken(%q) = %v, %v; want %v", name, got, err, want)
			}
		}
	})
}
