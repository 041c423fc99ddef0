package db_test

import (
	"context"
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
