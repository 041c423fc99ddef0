package db_test

import (
	"context"
	"fmt"
	"testing"

	"agora/chat"
	"agora/db"
)

// Push subscriptions on both engines: kept per user, an endpoint moves to
// whoever subscribes it last, at most 20 per user (the oldest go); and the
// targets of a message follow push on/off and each room's level, with the
// settings the sender needs (the quiet time).
func TestPushSubscriptionsAndTargets(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		ann, bob, cy := mustUser(t, s, "ann"), mustUser(t, s, "bob"), mustUser(t, s, "cy")
		room, err := s.CreateRoom(ctx, "Design", "design", false, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []chat.User{bob, cy} {
			if _, err := s.Join(ctx, room.ID, u.ID); err != nil {
				t.Fatal(err)
			}
		}
		sub := func(u chat.User, name string) {
			t.Helper()
			if err := s.AddPushSubscription(ctx, u.ID, chat.PushSubscription{Endpoint: "https://push.example.net/" + name, P256dh: "k-" + name, Auth: "a-" + name}); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 22 {
			sub(bob, fmt.Sprintf("bob-%d", i))
		}
		subs, err := s.PushSubscriptions(ctx, bob.ID)
		if err != nil || len(subs) != 20 || subs[0].Endpoint != "https://push.example.net/bob-21" {
			t.Fatalf("bob's subscriptions: %d, %v (newest %+v)", len(subs), err, subs[0])
		}
		sub(cy, "shared")
		sub(bob, "shared") // the same browser, now bob's
		if cys, _ := s.PushSubscriptions(ctx, cy.ID); len(cys) != 0 {
			t.Fatalf("cy still has %+v", cys)
		}
		sub(cy, "cy")
		if err := s.DeletePushSubscription(ctx, cy.ID, "https://push.example.net/shared"); chat.ErrorCode(err) != chat.ENotFound {
			t.Fatalf("cy deleting bob's subscription: %v", err)
		}

		targets := func(mentions ...string) map[int64]int {
			t.Helper()
			subs, settings, err := s.PushTargets(ctx, room.ID, ann.ID, false, mentions)
			if err != nil {
				t.Fatal(err)
			}
			n := map[int64]int{}
			for _, p := range subs {
				n[p.UserID]++
				if _, ok := settings[p.UserID]; !ok {
					t.Fatalf("no settings for %d", p.UserID)
				}
			}
			return n
		}
		if n := targets(); len(n) != 0 {
			t.Fatalf("a plain message at mentions is pushed to %v", n)
		}
		if n := targets("bob"); n[bob.ID] != 20 || n[cy.ID] != 0 {
			t.Fatalf("a mention of bob is pushed to %v", n)
		}
		if err := s.SetRoomNotify(ctx, room.ID, cy.ID, chat.NotifyAll); err != nil {
			t.Fatal(err)
		}
		if n := targets(); n[cy.ID] != 1 || n[bob.ID] != 0 {
			t.Fatalf("a plain message with cy at all is pushed to %v", n)
		}
		if err := s.SetRoomNotify(ctx, room.ID, bob.ID, chat.NotifyNothing); err != nil {
			t.Fatal(err)
		}
		quiet := chat.DefaultNotifySettings
		quiet.Push, quiet.QuietStart, quiet.QuietEnd, quiet.Zone = chat.PushOff, 22*60, 7*60, "Europe/Berlin"
		if err := s.SetNotifySettings(ctx, cy.ID, quiet); err != nil {
			t.Fatal(err)
		}
		if n := targets("bob", "cy"); len(n) != 0 {
			t.Fatalf("bob at nothing and cy with push off are pushed to: %v", n)
		}
		if got, _ := s.NotifySettings(ctx, cy.ID); got != quiet {
			t.Fatalf("settings kept %+v, want %+v", got, quiet)
		}
		quiet.Push = chat.PushOn
		if err := s.SetNotifySettings(ctx, cy.ID, quiet); err != nil {
			t.Fatal(err)
		}
		subs, settings, err := s.PushTargets(ctx, room.ID, ann.ID, false, nil)
		if err != nil || len(subs) != 1 || settings[cy.ID].QuietStart != 22*60 || settings[cy.ID].Zone != "Europe/Berlin" {
			t.Fatalf("cy's target %+v with %+v, %v", subs, settings, err)
		}

		if err := s.DropPushSubscription(ctx, subs[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PushSubscriptionByID(ctx, subs[0].ID); chat.ErrorCode(err) != chat.ENotFound {
			t.Fatalf("a dropped subscription: %v", err)
		}
	})
}
