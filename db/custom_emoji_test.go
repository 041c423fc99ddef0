package db_test

import (
	"context"
	"slices"
	"testing"

	"agora/chat"
	"agora/db"
)

// The store finds a body's custom emoji when it writes it, on both engines:
// in a new message, in an edit, in the message as read back.
func TestCustomEmojiOnBothEngines(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		ann := mustUser(t, s, "ann")
		general, _ := s.RoomBySlug(ctx, "general")
		if _, err := s.CreateCustomEmoji(ctx, "parrot", "image/png", []byte("png"), ann.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateCustomEmoji(ctx, "parrot", "image/png", []byte("png"), ann.ID); chat.ErrorCode(err) != chat.EConflict {
			t.Fatalf("a name taken: %v", err)
		}
		m, _, err := s.CreateMessage(ctx, chat.Message{RoomID: general.ID, AuthorID: ann.ID, Kind: chat.MessageText, Body: "hi :nope: :parrot: :parrot:"})
		if err != nil || !slices.Equal(m.Emoji, []string{"parrot"}) {
			t.Fatalf("created: %q, %v", m.Emoji, err)
		}
		if got, _ := s.MessageByID(ctx, m.ID); !slices.Equal(got.Emoji, []string{"parrot"}) {
			t.Fatalf("read back: %q", got.Emoji)
		}
		if _, err := s.CreateCustomEmoji(ctx, "blob", "image/gif", []byte("gif"), 0); err != nil {
			t.Fatal(err)
		}
		edited, err := s.EditMessage(ctx, m.ID, ann, "now :blob: only", nil, nil)
		if err != nil || !slices.Equal(edited.Emoji, []string{"blob"}) {
			t.Fatalf("edited: %q, %v", edited.Emoji, err)
		}
		list, err := s.CustomEmojiList(ctx)
		if err != nil || len(list) != 2 || list[0].Name != "blob" || list[1].CreatedBy != "ann" || list[1].Size != 3 {
			t.Fatalf("list %+v, %v", list, err)
		}
		if err := s.DeleteCustomEmoji(ctx, "blob"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteCustomEmoji(ctx, "blob"); chat.ErrorCode(err) != chat.ENotFound {
			t.Fatalf("deleting twice: %v", err)
		}
		if ok, err := s.HasCustomEmoji(ctx, "blob"); ok || err != nil {
			t.Fatalf("a deleted emoji is there: %v %v", ok, err)
		}
	})
}
