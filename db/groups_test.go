package db_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"agora/chat"
	"agora/db"
)

// Groups and usernames share one namespace, on both engines: neither is
// made with a name the other has or looks like, whichever comes first.
func TestGroupsOnBothEngines(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		ann := mustUser(t, s, "ann")
		bob := mustUser(t, s, "bob")
		mustUser(t, s, "cat")
		g, err := s.CreateGroup(ctx, "Design", ann.ID)
		if err != nil || g.Name != "Design" {
			t.Fatalf("CreateGroup = %+v, %v", g, err)
		}
		for _, name := range []string{"design", "DESIGN", "des1gn", "de-sign", "bob", "B0B", "Ann"} {
			if _, err := s.CreateGroup(ctx, name, ann.ID); chat.ErrorCode(err) != chat.EConflict {
				t.Errorf("CreateGroup(%q) = %v, want a conflict", name, err)
			}
		}
		for _, name := range []string{"design", "Des1gn", "de_sign"} {
			if _, err := s.CreateUser(ctx, name, "", "hash", false); chat.ErrorCode(err) != chat.EConflict {
				t.Errorf("CreateUser(%q) beside the group Design = %v, want a conflict", name, err)
			}
			if taken, err := s.NameLooksTaken(ctx, name, 0); err != nil || !taken {
				t.Errorf("NameLooksTaken(%q) = %v, %v beside the group Design", name, taken, err)
			}
		}
		if _, err := s.CreateBot(ctx, "design", ann.ID, "", "secret", []byte("token-hash")); chat.ErrorCode(err) != chat.EConflict {
			t.Errorf("CreateBot(design) = %v, want a conflict", err)
		}

		for _, u := range []string{"bob", "CAT", "bob"} {
			if _, err := s.AddGroupMember(ctx, "design", u); err != nil {
				t.Fatal(err)
			}
		}
		if ch, err := s.AddGroupMember(ctx, "DESIGN", "bob"); err != nil || ch.Changed || ch.Group != "Design" {
			t.Errorf("adding bob again = %+v, %v", ch, err)
		}
		if _, err := s.AddGroupMember(ctx, "nope", "bob"); chat.ErrorCode(err) != chat.ENotFound {
			t.Errorf("adding to no group = %v", err)
		}
		if _, err := s.AddGroupMember(ctx, "design", "nobody"); chat.ErrorCode(err) != chat.ENotFound {
			t.Errorf("adding nobody = %v", err)
		}
		if ch, err := s.RemoveGroupMember(ctx, "design", "ann"); err != nil || ch.Changed {
			t.Errorf("removing ann, not a member = %+v, %v", ch, err)
		}
		all, err := s.Groups(ctx)
		if err != nil || len(all) != 1 || strings.Join(all[0].Members, ",") != "bob,cat" {
			t.Fatalf("Groups = %+v, %v", all, err)
		}
		if names, err := s.UserGroups(ctx, bob.ID); err != nil || !slices.Equal(names, []string{"design"}) {
			t.Errorf("UserGroups(bob) = %v, %v", names, err)
		}
		if names, err := s.UserGroups(ctx, ann.ID); err != nil || len(names) != 0 {
			t.Errorf("UserGroups(ann) = %v, %v", names, err)
		}

		// Mentioned in a private room of ann and bob: each member, with
		// whether they are in the room; an empty group is still a group.
		room, err := s.CreateRoom(ctx, "Hush", "hush", true, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Join(ctx, room.ID, bob.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateGroup(ctx, "empty", ann.ID); err != nil {
			t.Fatal(err)
		}
		groups, found, err := s.GroupMentions(ctx, room.ID, []string{"design", "empty", "ann", "nothing"})
		if err != nil || !slices.Equal(groups, []string{"design", "empty"}) {
			t.Fatalf("GroupMentions: groups %v, %v", groups, err)
		}
		var got []string
		for _, gm := range found {
			got = append(got, gm.Group+":"+gm.User.Username+":"+map[bool]string{true: "in", false: "out"}[gm.Member])
		}
		if want := []string{"design:bob:in", "design:cat:out"}; !slices.Equal(got, want) {
			t.Errorf("GroupMentions = %v, want %v", got, want)
		}

		// The groups a message mentions are kept with it, and its mentions.
		m, _, err := s.CreateMessage(ctx, chat.Message{RoomID: room.ID, AuthorID: ann.ID, Body: "@design look",
			Mentions: []string{"design"}, Groups: []string{"design"}, GroupMembers: []string{"bob"}})
		if err != nil {
			t.Fatal(err)
		}
		read, err := s.MessageByID(ctx, m.ID)
		if err != nil || !slices.Equal(read.Groups, []string{"design"}) {
			t.Errorf("read back: groups %v, %v", read.Groups, err)
		}
		nav, err := s.Nav(ctx, bob.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range nav {
			if r.ID == room.ID && r.Mentions != 1 {
				t.Errorf("bob's mentions in hush: %d, want 1", r.Mentions)
			}
		}
		edited, err := s.EditMessage(ctx, m.ID, ann, "no group now", nil, nil)
		if err != nil || len(edited.Groups) != 0 {
			t.Errorf("edited: groups %v, %v", edited.Groups, err)
		}
	})
}
