package db_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"agora/chat"
	"agora/db"
)

// The dashboard's numbers, on both engines: messages and people by the day
// they wrote (bots are not people, notices not messages, a deleted message
// was still written), the busiest rooms without direct conversations, and
// the storage of the files kept at each day's end.
func TestStatsOnBothEngines(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		from := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -29)
		day := func(i int) time.Time { return from.AddDate(0, 0, i).Add(time.Hour) }
		ann := mustUser(t, s, "ann")
		bob := mustUser(t, s, "bob")
		bot, err := s.CreateBot(ctx, "helper", ann.ID, "", "secret", []byte("token-hash"))
		if err != nil {
			t.Fatal(err)
		}
		general, err := s.RoomBySlug(ctx, "general")
		if err != nil {
			t.Fatal(err)
		}
		busy, err := s.CreateRoom(ctx, "Busy Room", "busy", true, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		dm, _, err := s.DM(ctx, ann, bob)
		if err != nil {
			t.Fatal(err)
		}
		post := func(room chat.Room, author chat.User, at time.Time) chat.Message {
			t.Helper()
			m, _, err := s.CreateMessage(ctx, chat.Message{RoomID: room.ID, AuthorID: author.ID, Kind: chat.MessageText, Body: "hi"})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Backdate(ctx, "messages", m.ID, at); err != nil {
				t.Fatal(err)
			}
			return m
		}
		post(general, ann, from.Add(-time.Millisecond)) // the day before: not counted
		post(general, ann, day(0))
		post(busy, bob, day(0))
		for range 3 {
			post(busy, ann, day(5))
		}
		post(busy, bot.User, day(5))
		gone := post(busy, ann, day(5))
		if _, err := s.DeleteMessage(ctx, gone.ID, ann); err != nil {
			t.Fatal(err)
		}
		post(dm, bob, day(29))
		if _, _, err := s.CreateMessage(ctx, chat.Message{RoomID: busy.ID, AuthorID: ann.ID, Kind: chat.MessageNotice, Body: "joined"}); err != nil {
			t.Fatal(err)
		}
		file := func(size int, at time.Time) {
			t.Helper()
			f, err := s.CreateFile(ctx, chat.File{RoomID: general.ID, OwnerID: ann.ID, Name: "f.bin", ContentType: "application/octet-stream"},
				strings.NewReader(strings.Repeat("x", size)))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Backdate(ctx, "files", f.ID, at); err != nil {
				t.Fatal(err)
			}
		}
		file(200, from.AddDate(0, 0, -3))
		file(1000, day(3))
		file(500, day(29))

		st, err := s.Stats(ctx, from, 30, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Days) != 30 || !st.Days[0].Day.Equal(from) || !st.Days[29].Day.Equal(from.AddDate(0, 0, 29)) {
			t.Fatalf("%d days from %v to %v, want 30 from %v", len(st.Days), st.Days[0].Day, st.Days[len(st.Days)-1].Day, from)
		}
		want := map[int][3]int64{0: {2, 2, 200}, 2: {0, 0, 200}, 3: {0, 0, 1200}, 5: {5, 1, 1200}, 28: {0, 0, 1200}, 29: {1, 1, 1700}}
		for i, d := range st.Days {
			w, ok := want[i]
			if !ok {
				w = [3]int64{0, 0, 1200}
				if i < 3 {
					w[2] = 200
				}
			}
			if got := [3]int64{d.Messages, d.ActivePeople, d.StorageBytes}; got != w {
				t.Errorf("day %d: messages, people, storage %v, want %v", i, got, w)
			}
		}
		if st.Messages != 8 || st.ActivePeople != 2 || st.StorageBytes != 1700 || st.Files != 3 {
			t.Errorf("totals: %d messages, %d people, %d bytes in %d files; want 8, 2, 1700, 3", st.Messages, st.ActivePeople, st.StorageBytes, st.Files)
		}
		if len(st.BusiestRooms) != 2 || st.BusiestRooms[0] != (chat.RoomStats{Slug: "busy", Name: "Busy Room", Private: true, Messages: 6}) ||
			st.BusiestRooms[1] != (chat.RoomStats{Slug: "general", Name: "general", Messages: 1}) {
			t.Errorf("busiest rooms: %+v", st.BusiestRooms)
		}
		if st, err := s.Stats(ctx, from, 30, 1); err != nil || len(st.BusiestRooms) != 1 {
			t.Errorf("asked for 1 room, got %+v, %v", st.BusiestRooms, err)
		}
	})
}
