package db_test

import (
	"context"
	"testing"

	"agora/chat"
	"agora/db"
)

// A room's version moves with every event of the room, with every change to
// any account (the names a page shows) and with every join and leave.
func TestRoomVersionOnBothEngines(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		ann := mustUser(t, s, "ann")
		bob := mustUser(t, s, "bob")
		room, err := s.CreateRoom(ctx, "Plans", "plans", false, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		version := func() [2]int64 {
			t.Helper()
			seq, people, err := s.RoomVersion(ctx, room.ID)
			if err != nil {
				t.Fatal(err)
			}
			return [2]int64{seq, people}
		}
		v0 := version()
		m, _, err := s.CreateMessage(ctx, chat.Message{RoomID: room.ID, AuthorID: ann.ID, Body: "hello"})
		if err != nil {
			t.Fatal(err)
		}
		v1 := version()
		if v1[0] <= v0[0] || v1[1] != v0[1] {
			t.Fatalf("a message moved the version from %v to %v", v0, v1)
		}
		if _, err := s.ToggleReaction(ctx, m.ID, bob, "👍"); err != nil {
			t.Fatal(err)
		}
		v2 := version()
		if v2[0] <= v1[0] {
			t.Fatalf("a reaction left the room's seq at %d", v2[0])
		}
		if _, err := s.SetDisplayName(ctx, bob.ID, "Bobby"); err != nil {
			t.Fatal(err)
		}
		v3 := version()
		if v3[0] != v2[0] || v3[1] <= v2[1] {
			t.Fatalf("a new display name moved the version from %v to %v", v2, v3)
		}
		if err := s.SetAdmin(ctx, bob.ID, true); err != nil {
			t.Fatal(err)
		}
		if v4 := version(); v4[1] <= v3[1] {
			t.Fatalf("an account change left the people counter at %d", v4[1])
		}
		v5 := version()
		if _, err := s.Join(ctx, room.ID, bob.ID); err != nil {
			t.Fatal(err)
		}
		v6 := version()
		if v6[1] <= v5[1] {
			t.Fatalf("bob joining left the people counter at %d", v6[1])
		}
		if _, err := s.Leave(ctx, room.ID, bob.ID); err != nil {
			t.Fatal(err)
		}
		if v7 := version(); v7[1] <= v6[1] {
			t.Fatalf("bob leaving left the people counter at %d", v7[1])
		}
		if _, _, err := s.RoomVersion(ctx, room.ID+1000); chat.ErrorCode(err) != chat.ENotFound {
			t.Errorf("the version of no room: %v", err)
		}
	})
}
