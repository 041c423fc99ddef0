package db_test

import (
	"context"
	"testing"

	"agora/db"
)

func TestRoomTopicAndMembersOnBothEngines(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		zed := mustUser(t, s, "zed")
		amy := mustUser(t, s, "amy")
		room, err := s.CreateRoom(ctx, "Plans", "plans", false, zed.ID)
		if err != nil {
			t.Fatal(err)
		}
		if topic, err := s.RoomTopic(ctx, room.ID); err != nil || topic != "" {
			t.Fatalf("a new room's topic = %q, %v", topic, err)
		}
		if changed, err := s.SetRoomTopic(ctx, room.ID, "Q3 <plans>"); err != nil || !changed {
			t.Fatalf("set topic: %v, %v", changed, err)
		}
		if changed, err := s.SetRoomTopic(ctx, room.ID, "Q3 <plans>"); err != nil || changed {
			t.Errorf("setting the same topic again reports changed=%v, %v", changed, err)
		}
		if topic, err := s.RoomTopic(ctx, room.ID); err != nil || topic != "Q3 <plans>" {
			t.Errorf("topic = %q, %v", topic, err)
		}
		if _, err := s.RoomTopic(ctx, 999999); err == nil {
			t.Error("a missing room has a topic")
		}
		if _, err := s.Join(ctx, room.ID, amy.ID); err != nil {
			t.Fatal(err)
		}
		members, err := s.RoomMembers(ctx, room.ID)
		if err != nil || len(members) != 2 || members[0].Username != "amy" || members[1].Username != "zed" {
			t.Fatalf("members = %+v, %v; want amy and zed, by name", members, err)
		}
	})
}
