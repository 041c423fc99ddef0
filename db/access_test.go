package db_test

import (
	"context"
	"maps"
	"slices"
	"testing"

	"agora/chat"
	"agora/db"
)

// The queries that filter in bulk what a user may read (search, the event
// stream) are the access policy's Read written as SQL: for every kind of
// account and every kind of conversation, member or not, archived or not,
// they find exactly the rooms chat.Access lets the user read.
func TestReadableSQLIsTheAccessPolicy(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		root := mustUser(t, s, "root") // the first account: an admin
		ann := mustUser(t, s, "ann")
		gone := mustUser(t, s, "gone")
		guest, err := s.CreateUser(ctx, chat.GuestPrefix+"visitor", "Visitor", "", true)
		if err != nil {
			t.Fatal(err)
		}
		bot, err := s.CreateBot(ctx, "ci", root.ID, "", "secret", []byte("token-hash"))
		if err != nil {
			t.Fatal(err)
		}
		people := []chat.User{root, ann, gone, guest, bot.User}

		general, err := s.RoomBySlug(ctx, "general")
		if err != nil {
			t.Fatal(err)
		}
		room := func(name string, private bool, members ...chat.User) chat.Room {
			t.Helper()
			r, err := s.CreateRoom(ctx, name, chat.Slugify(name), private, root.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range members {
				if _, err := s.Join(ctx, r.ID, u.ID); err != nil {
					t.Fatal(err)
				}
			}
			return r
		}
		// Everyone is in the private room, a guest and a deactivated account
		// included (the store lets this be, whatever the forms allow).
		rooms := []chat.Room{
			general,
			room("open house", false, ann),
			room("inner circle", true, ann, gone, guest, bot.User),
			room("board", true),
			room("old news", false, ann),
			room("old secrets", true, ann, guest),
		}
		for _, pair := range [][2]chat.User{{ann, root}, {ann, bot.User}, {gone, root}, {guest, ann}} {
			dm, _, err := s.DM(ctx, pair[0], pair[1])
			if err != nil {
				t.Fatal(err)
			}
			rooms = append(rooms, dm)
		}
		for _, r := range rooms {
			if _, _, err := s.CreateMessage(ctx, chat.Message{RoomID: r.ID, AuthorID: root.ID, Body: "findme in " + r.Slug}); err != nil {
				t.Fatal(err)
			}
		}
		archived := true
		for i := range rooms {
			if rooms[i].Slug != "old-news" && rooms[i].Slug != "old-secrets" {
				continue
			}
			if _, _, err := s.CreateMessage(ctx, chat.Message{RoomID: rooms[i].ID, AuthorID: root.ID, Kind: chat.MessageNotice,
				Body: "archived", Change: &chat.RoomChange{Archived: &archived}}); err != nil {
				t.Fatal(err)
			}
			rooms[i].Archived = true
		}
		if err := s.SetDeactivated(ctx, gone.ID, true); err != nil {
			t.Fatal(err)
		}

		for _, p := range people {
			u, err := s.UserByID(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{}
			for _, r := range rooms {
				member, err := s.IsMember(ctx, r.ID, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				if chat.Access(u, r, member).Read {
					want[r.Slug] = true
				}
			}
			events, err := s.EventsVisible(ctx, u.ID, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			fromEvents := map[string]bool{}
			for _, e := range events {
				for _, r := range rooms {
					if r.ID == e.RoomID {
						fromEvents[r.Slug] = true
					}
				}
			}
			hits, err := s.Search(ctx, u.ID, chat.SearchQuery{Words: []string{"findme"}}, 100)
			if err != nil {
				t.Fatal(err)
			}
			fromSearch := map[string]bool{}
			for _, h := range hits {
				fromSearch[h.Room.Slug] = true
			}
			wantList := slices.Sorted(maps.Keys(want))
			if got := slices.Sorted(maps.Keys(fromEvents)); !slices.Equal(got, wantList) {
				t.Errorf("%s: the event stream reads %v, the policy %v", u.Username, got, wantList)
			}
			if got := slices.Sorted(maps.Keys(fromSearch)); !slices.Equal(got, wantList) {
				t.Errorf("%s: search reads %v, the policy %v", u.Username, got, wantList)
			}
		}
	})
}
