package db_test

import (
	"context"
	"slices"
	"testing"

	"agora/chat"
	"agora/db"
)

// Pins are written with their notice in one commit and refused without
// leaving one; the lists of pins and of saved messages show only what the
// reader may read, on both engines.
func TestPinsAndSavedOnBothEngines(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
		general, _ := s.RoomBySlug(ctx, "general")
		secret, err := s.CreateRoom(ctx, "Secret", "secret", true, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Join(ctx, secret.ID, bob.ID); err != nil {
			t.Fatal(err)
		}
		post := func(room int64, author chat.User, body string) chat.Message {
			t.Helper()
			m, _, err := s.CreateMessage(ctx, chat.Message{RoomID: room, AuthorID: author.ID, Kind: chat.MessageText, Body: body})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		pin := func(room int64, by chat.User, id int64, on bool) error {
			_, _, err := s.CreateMessage(ctx, chat.Message{RoomID: room, AuthorID: by.ID, Kind: chat.MessageNotice,
				Body: by.Username + " pinned a message", Change: &chat.RoomChange{Pin: &chat.PinChange{Message: id, Pinned: on}}})
			return err
		}
		ids := func(hits []chat.SearchHit, err error) []int64 {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			var out []int64
			for _, h := range hits {
				out = append(out, h.Message.ID)
			}
			return out
		}
		first, second := post(general.ID, ann, "first rule"), post(general.ID, bob, "second rule")
		hidden := post(secret.ID, ann, "secret rule")
		gone := post(general.ID, bob, "to be deleted")
		for _, m := range []chat.Message{first, second, gone} {
			if err := pin(general.ID, ann, m.ID, true); err != nil {
				t.Fatal(err)
			}
		}
		if err := pin(secret.ID, bob, hidden.ID, true); err != nil {
			t.Fatal(err)
		}
		// Pinned twice stays one pin.
		if err := pin(general.ID, bob, first.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DeleteMessage(ctx, gone.ID, bob); err != nil {
			t.Fatal(err)
		}
		if got := ids(s.Pins(ctx, bob.ID, general.ID, 50)); !slices.Equal(got, []int64{second.ID, first.ID}) {
			t.Errorf("general's pins: %v, want %v (last pinned first, the deleted one gone)", got, []int64{second.ID, first.ID})
		}
		if pinned, _, err := s.Marks(ctx, bob.ID, first.ID); err != nil || !pinned {
			t.Errorf("first is pinned: %v, %v", pinned, err)
		}
		// Refused: a deleted message, a message of another room. Nothing is
		// written, not even the notice.
		before, _ := s.LatestID(ctx, general.ID)
		if err := pin(general.ID, ann, gone.ID, true); chat.ErrorCode(err) != chat.EInvalid {
			t.Errorf("pinning a deleted message: %v", err)
		}
		if err := pin(general.ID, ann, hidden.ID, true); chat.ErrorCode(err) != chat.EInvalid {
			t.Errorf("pinning another room's message from here: %v", err)
		}
		if err := pin(general.ID, ann, 1<<40, true); chat.ErrorCode(err) != chat.ENotFound {
			t.Errorf("pinning no message: %v", err)
		}
		if after, _ := s.LatestID(ctx, general.ID); after != before {
			t.Errorf("a refused pin left a notice (%d after %d)", after, before)
		}
		// Unpinning a deleted one is fine.
		if err := pin(general.ID, ann, gone.ID, false); err != nil {
			t.Errorf("unpinning a deleted message: %v", err)
		}
		if err := pin(general.ID, ann, first.ID, false); err != nil {
			t.Fatal(err)
		}
		if got := ids(s.Pins(ctx, ann.ID, general.ID, 50)); !slices.Equal(got, []int64{second.ID}) {
			t.Errorf("after unpinning first: %v", got)
		}
		if got := ids(search(s, bob.ID, "is:pinned")); !slices.Equal(got, []int64{hidden.ID, second.ID}) {
			t.Errorf("bob's is:pinned: %v, want %v", got, []int64{hidden.ID, second.ID})
		}

		// Saved: each their own; a room left takes its messages off the list.
		for _, m := range []chat.Message{first, hidden, second} {
			if saved, err := s.ToggleSaved(ctx, bob.ID, m.ID); err != nil || !saved {
				t.Fatalf("save %d: %v, %v", m.ID, saved, err)
			}
		}
		if saved, err := s.ToggleSaved(ctx, bob.ID, second.ID); err != nil || saved {
			t.Fatalf("unsave: %v, %v", saved, err)
		}
		if got := ids(s.Saved(ctx, bob.ID, 50)); !slices.Equal(got, []int64{hidden.ID, first.ID}) {
			t.Errorf("bob's saved: %v, want %v", got, []int64{hidden.ID, first.ID})
		}
		if got := ids(s.Saved(ctx, ann.ID, 50)); len(got) != 0 {
			t.Errorf("ann sees saved messages of bob's: %v", got)
		}
		if _, err := s.Leave(ctx, secret.ID, bob.ID); err != nil {
			t.Fatal(err)
		}
		if got := ids(s.Saved(ctx, bob.ID, 50)); !slices.Equal(got, []int64{first.ID}) {
			t.Errorf("bob's saved after leaving secret: %v, want %v", got, []int64{first.ID})
		}
		if got := ids(s.Pins(ctx, bob.ID, secret.ID, 50)); len(got) != 0 {
			t.Errorf("bob, out of secret, lists its pins: %v", got)
		}
	})
}
