package db_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"agora/chat"
	"agora/db"
)

// TestRetention deletes what is older than each room's retention, in
// batches, with threads, reactions and files, on both engines: a room of
// its own days, a room kept for ever, a room that follows the server's.
func TestRetention(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		ann, err := s.CreateUser(ctx, "ann", "", "hash", false)
		if err != nil {
			t.Fatal(err)
		}
		room := func(slug string, days int) chat.Room {
			r, err := s.CreateRoom(ctx, slug, slug, false, ann.ID)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.SetRoomRetention(ctx, r.ID, days); err != nil {
				t.Fatal(err)
			}
			return r
		}
		week, forever, server := room("week", 7), room("forever", 0), room("server", chat.RetentionServer)
		say := func(r chat.Room, body string, thread int64) chat.Message {
			m, _, err := s.CreateMessage(ctx, chat.Message{RoomID: r.ID, AuthorID: ann.ID, Body: body, ThreadID: thread})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		var weekIDs []int64
		for _, r := range []chat.Room{week, forever, server} {
			root := say(r, "root of "+r.Slug, 0)
			say(r, "reply in "+r.Slug, root.ID)
			m := say(r, "plain in "+r.Slug, 0)
			if _, err := s.ToggleReaction(ctx, m.ID, ann, "👍"); err != nil {
				t.Fatal(err)
			}
			if r.ID == week.ID {
				weekIDs = append(weekIDs, root.ID, m.ID)
			}
		}
		f, err := s.CreateFile(ctx, chat.File{RoomID: week.ID, OwnerID: ann.ID, Name: "notes.txt", ContentType: "text/plain"}, bytes.NewReader(bytes.Repeat([]byte("x"), 3000)))
		if err != nil {
			t.Fatal(err)
		}
		withFile, _, err := s.CreateMessage(ctx, chat.Message{RoomID: week.ID, AuthorID: ann.ID, File: &f})
		if err != nil {
			t.Fatal(err)
		}
		if has, err := s.HasRoomRetention(ctx); err != nil || !has {
			t.Fatalf("HasRoomRetention: %v, %v", has, err)
		}

		// Ten days on, the server keeping 30: only #week's are old.
		deleteAll := func(now time.Time, serverDays int) (db.Expired, int) {
			var total db.Expired
			batches := 0
			for {
				e, err := s.DeleteExpired(ctx, now, serverDays, 2)
				if err != nil {
					t.Fatal(err)
				}
				if e.Messages == 0 {
					return total, batches
				}
				batches++
				total.Messages += e.Messages
				total.Files += e.Files
				total.Bytes += e.Bytes
			}
		}
		got, batches := deleteAll(time.Now().Add(10*24*time.Hour), 30)
		if got.Messages != 4 || got.Files != 1 || got.Bytes != 3000 || batches != 2 {
			t.Errorf("ten days on: %+v in %d batches; want #week's 4 messages (a reply with its root) and its file of 3000 bytes, in 2 batches of 2", got, batches)
		}
		for _, id := range append(weekIDs, withFile.ID) {
			if _, err := s.MessageByID(ctx, id); chat.ErrorCode(err) != chat.ENotFound {
				t.Errorf("message %d of #week is still there: %v", id, err)
			}
		}
		if _, err := s.FileByID(ctx, f.ID); chat.ErrorCode(err) != chat.ENotFound {
			t.Errorf("the file is still there: %v", err)
		}
		left := func(r chat.Room) int {
			msgs, err := s.AllMessagesAfter(ctx, r.ID, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			return len(msgs)
		}
		if left(week) != 0 || left(forever) != 3 || left(server) != 3 {
			t.Errorf("left: #week %d, #forever %d, #server %d; want 0, 3, 3", left(week), left(forever), left(server))
		}
		// Forty days on: #server's too; #forever keeps everything.
		if got, _ := deleteAll(time.Now().Add(40*24*time.Hour), 30); got.Messages != 3 {
			t.Errorf("forty days on: %+v, want #server's 3", got)
		}
		if left(server) != 0 || left(forever) != 3 {
			t.Errorf("left: #server %d, #forever %d; want 0, 3", left(server), left(forever))
		}
		// The server keeping nothing forever (0) deletes nothing of a room
		// that follows it.
		fresh := room("fresh", chat.RetentionServer)
		say(fresh, "old words", 0)
		if got, _ := deleteAll(time.Now().Add(1000*24*time.Hour), 0); got.Messages != 0 {
			t.Errorf("with no server retention: %+v deleted", got)
		}
		// Search no longer finds what was deleted.
		q, _ := chat.ParseSearch("plain", time.UTC)
		hits, err := s.Search(ctx, ann.ID, q, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			if strings.Contains(h.Message.Body, "week") || strings.Contains(h.Message.Body, "server") {
				t.Errorf("search finds a deleted message: %q", h.Message.Body)
			}
		}

		for _, days := range []int{-2, chat.MaxRetentionDays + 1} {
			if err := s.SetRoomRetention(ctx, week.ID, days); chat.ErrorCode(err) != chat.EInvalid {
				t.Errorf("retention %d: %v, want refused", days, err)
			}
		}
	})
}
