package db_test

import (
	"context"
	"testing"
	"time"

	"agora/chat"
	"agora/db"
)

// TestBrowseRoomsOnBothEngines: the room browser lists public rooms and the
// user's own private ones (never others' private rooms or a direct
// conversation), each with its topic, member count, membership and the
// time of its latest message.
func TestBrowseRoomsOnBothEngines(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
		plans, err := s.CreateRoom(ctx, "Plans", "plans", false, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		secret, err := s.CreateRoom(ctx, "Secret", "secret", true, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.DM(ctx, ann, bob); err != nil {
			t.Fatal(err)
		}
		topic := "what we do next"
		if _, _, err := s.CreateMessage(ctx, chat.Message{RoomID: plans.ID, AuthorID: ann.ID, Kind: chat.MessageNotice,
			Body: "ann set the topic", Change: &chat.RoomChange{Topic: &topic}}); err != nil {
			t.Fatal(err)
		}
		before := time.Now().Add(-time.Minute)
		if _, _, err := s.CreateMessage(ctx, chat.Message{RoomID: plans.ID, AuthorID: ann.ID, Kind: chat.MessageText,
			Body: "hello", ClientMsgID: "browse-1"}); err != nil {
			t.Fatal(err)
		}

		byName := func(list []chat.BrowseRoom) map[string]chat.BrowseRoom {
			m := map[string]chat.BrowseRoom{}
			for _, r := range list {
				m[r.Slug] = r
			}
			return m
		}
		forAnn, err := s.BrowseRooms(ctx, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		a := byName(forAnn)
		if len(forAnn) != 3 || a["general"].Slug == "" || a["secret"].Slug == "" {
			t.Fatalf("ann's browser lists %+v, want general, plans and secret", forAnn)
		}
		if p := a["plans"]; p.Topic != topic || p.Members != 1 || !p.Member || p.LastActivity.Before(before) {
			t.Errorf("plans for ann = %+v", p)
		}
		if g := a["general"]; g.Member || !g.LastActivity.IsZero() {
			t.Errorf("general for ann (not a member, no messages) = %+v", g)
		}
		if forAnn[0].Slug != "general" || forAnn[1].Slug != "plans" || forAnn[2].Slug != "secret" {
			t.Errorf("not by name: %s, %s, %s", forAnn[0].Slug, forAnn[1].Slug, forAnn[2].Slug)
		}

		forBob, err := s.BrowseRooms(ctx, bob.ID)
		if err != nil {
			t.Fatal(err)
		}
		b := byName(forBob)
		if _, ok := b["secret"]; ok || len(forBob) != 2 {
			t.Fatalf("bob's browser lists %+v: want general and plans, not ann's private room", forBob)
		}
		if b["plans"].Member || b["plans"].Members != 1 {
			t.Errorf("plans for bob = %+v", b["plans"])
		}
		if _, err := s.Join(ctx, secret.ID, bob.ID); err != nil {
			t.Fatal(err)
		}
		if forBob, err = s.BrowseRooms(ctx, bob.ID); err != nil || len(forBob) != 3 || !byName(forBob)["secret"].Member {
			t.Errorf("after joining, bob's browser lists %+v, %v", forBob, err)
		}
	})
}
