package db_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"agora/chat"
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
		topic := "Q3 <plans>"
		if _, _, err := s.CreateMessage(ctx, chat.Message{RoomID: room.ID, AuthorID: zed.ID, Kind: chat.MessageNotice,
			Body: "zed set the topic", Change: &chat.RoomChange{Topic: &topic}}); err != nil {
			t.Fatalf("set topic: %v", err)
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

func TestRoomChangesOnBothEngines(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
		room, err := s.CreateRoom(ctx, "Plans", "plans", false, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		general, err := s.RoomBySlug(ctx, "general")
		if err != nil {
			t.Fatal(err)
		}
		post := func(r chat.Room, body string) (chat.Message, error) {
			m, _, err := s.CreateMessage(ctx, chat.Message{RoomID: r.ID, AuthorID: ann.ID, Body: body})
			return m, err
		}
		change := func(c chat.RoomChange) chat.Message {
			t.Helper()
			m, _, err := s.CreateMessage(ctx, chat.Message{RoomID: room.ID, AuthorID: ann.ID, Kind: chat.MessageNotice, Body: "changed", Change: &c})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		kept, err := post(room, "findme alpha")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := post(general, "findme beta"); err != nil {
			t.Fatal(err)
		}

		// A rename is a room event that carries the new name.
		change(chat.RoomChange{Name: "Roadmap"})
		if r, _ := s.RoomBySlug(ctx, "plans"); r.Name != "Roadmap" {
			t.Errorf("after the rename the room is called %q", r.Name)
		}
		events, err := s.EventsAfter(ctx, room.ID, 0, 10)
		if err != nil || len(events) != 2 {
			t.Fatalf("events = %d, %v", len(events), err)
		}
		if c := events[1].Message.Change; c == nil || c.Name != "Roadmap" || c.Topic != nil || c.Archived != nil {
			t.Errorf("the rename's event carries %+v", c)
		}
		if events[0].Message.Change != nil {
			t.Error("a plain message carries a room change")
		}

		// Archived: read-only, whatever tries to write.
		yes, no := true, false
		change(chat.RoomChange{Archived: &yes})
		if r, _ := s.RoomBySlug(ctx, "plans"); !r.Archived {
			t.Fatal("the room is not archived")
		}
		seq, _ := s.RoomSeq(ctx, room.ID)
		if _, err := post(room, "into the archive"); !errors.Is(err, chat.ErrArchived) {
			t.Errorf("a message into an archived room: %v", err)
		}
		if _, _, err := s.CreateMessage(ctx, chat.Message{RoomID: room.ID, AuthorID: bob.ID, Kind: chat.MessageNotice, Body: "bob joined"}); !errors.Is(err, chat.ErrArchived) {
			t.Errorf("a notice into an archived room: %v", err)
		}
		if _, err := s.EditMessage(ctx, kept.ID, ann, "rewritten", nil, nil); !errors.Is(err, chat.ErrArchived) {
			t.Errorf("an edit in an archived room: %v", err)
		}
		if _, err := s.ToggleReaction(ctx, kept.ID, bob, "👍"); !errors.Is(err, chat.ErrArchived) {
			t.Errorf("a reaction in an archived room: %v", err)
		}
		if after, _ := s.RoomSeq(ctx, room.ID); after != seq {
			t.Errorf("refused changes moved the room's seq from %d to %d", seq, after)
		}
		if m, _ := s.MessageByID(ctx, kept.ID); m.Body != "findme alpha" || len(m.Reactions) != 0 {
			t.Errorf("the archived message changed: %+v", m)
		}
		if _, err := post(general, "elsewhere is fine"); err != nil {
			t.Errorf("another room refused a message: %v", err)
		}
		// Opened again, it takes messages.
		change(chat.RoomChange{Archived: &no})
		if _, err := post(room, "back again"); err != nil {
			t.Errorf("a message after unarchiving: %v", err)
		}

		// Deleting takes the room and its messages out of search; the rest
		// of the index stays right.
		if hits, _ := search(s, ann.ID, "findme"); len(hits) != 2 {
			t.Fatalf("before deleting, %d hits", len(hits))
		}
		if err := s.DeleteRoom(ctx, room.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RoomBySlug(ctx, "plans"); chat.ErrorCode(err) != chat.ENotFound {
			t.Errorf("the deleted room: %v", err)
		}
		hits, err := search(s, ann.ID, "findme")
		if err != nil || len(hits) != 1 || hits[0].Message.Body != "findme beta" {
			t.Errorf("after deleting, search finds %+v, %v", hits, err)
		}
		if _, err := s.MessageByID(ctx, kept.ID); chat.ErrorCode(err) != chat.ENotFound {
			t.Errorf("a message of the deleted room: %v", err)
		}
		dm, _, err := s.DM(ctx, ann, bob)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []int64{dm.ID, room.ID, 999999} {
			if err := s.DeleteRoom(ctx, id); chat.ErrorCode(err) != chat.ENotFound {
				t.Errorf("deleting room %d: %v, want not found", id, err)
			}
		}
		rooms, err := s.AdminRooms(ctx)
		if err != nil || len(rooms) != 1 || rooms[0].Slug != "general" || rooms[0].Members != 0 {
			t.Errorf("admin rooms = %+v, %v", rooms, err)
		}
	})
}

// Deleting a room with files leaves SQLite's search index exact: its
// external-content rows were each taken out with the text they were
// indexed with (body and file name), which FTS5's integrity check verifies.
func TestDeletingARoomKeepsTheIndexExact(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "agora.db")
	s := openDSN(t, path)
	ann := mustUser(t, s, "ann")
	room, err := s.CreateRoom(ctx, "Files", "files", false, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"budget.xlsx", "plan.pdf"} {
		f, err := s.CreateFile(ctx, chat.File{RoomID: room.ID, OwnerID: ann.ID, Name: name, ContentType: "application/pdf"}, strings.NewReader("content"))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateMessage(ctx, chat.Message{RoomID: room.ID, AuthorID: ann.ID, Body: fmt.Sprint("caption ", i), File: &f}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.CreateMessage(ctx, chat.Message{RoomID: room.ID, AuthorID: ann.ID, Body: "plain words"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRoom(ctx, room.ID); err != nil {
		t.Fatal(err)
	}
	if hits, _ := search(s, ann.ID, "budget"); len(hits) != 0 {
		t.Errorf("the deleted room's file is still found: %+v", hits)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)"); err != nil {
		t.Errorf("the search index is not exact after deleting a room: %v", err)
	}
}
