package db_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"agora/chat"
	"agora/db"
)

// A preview is kept once per address and replaced by a newer fetch; shown
// under a message it is the room's next event (kind preview), in catch-up
// too; removed by its author it stays removed, even when a fetch finishes
// later; only its author removes it. On both engines.
func TestLinkPreviewsOnBothEngines(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		ann, bob := mustUser(t, s, "ann"), mustUser(t, s, "bob")
		general, _ := s.RoomBySlug(ctx, "general")
		m, _, err := s.CreateMessage(ctx, chat.Message{RoomID: general.ID, AuthorID: ann.ID, Kind: chat.MessageText, Body: "https://example.com/a"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.LinkPreview(ctx, "https://example.com/a"); chat.ErrorCode(err) != chat.ENotFound {
			t.Fatalf("no preview yet: %v", err)
		}
		at := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
		p, err := s.SaveLinkPreview(ctx, chat.LinkPreview{URL: "https://example.com/a", Title: "Old", FetchedAt: at,
			ImageWidth: 40, ImageHeight: 20}, "image/png", []byte("png bytes"))
		if err != nil {
			t.Fatal(err)
		}
		again, err := s.SaveLinkPreview(ctx, chat.LinkPreview{URL: "https://example.com/a", Title: "New", Site: "Example",
			FetchedAt: at.Add(time.Minute), ImageWidth: 40, ImageHeight: 20}, "image/png", []byte("png bytes 2"))
		if err != nil || again.ID != p.ID {
			t.Fatalf("a second fetch of one address: id %d (was %d), %v", again.ID, p.ID, err)
		}
		if got, err := s.LinkPreview(ctx, "https://example.com/a"); err != nil || got.Title != "New" || !got.FetchedAt.Equal(at.Add(time.Minute)) {
			t.Fatalf("kept %+v, %v", got, err)
		}
		seq, _ := s.RoomSeq(ctx, general.ID)
		shown, err := s.AttachPreview(ctx, m.ID, p.ID)
		if err != nil || shown.Preview == nil || shown.Preview.Title != "New" || !shown.Preview.HasImage() {
			t.Fatalf("attach: %+v, %v", shown.Preview, err)
		}
		events, err := s.EventsAfter(ctx, general.ID, seq, 10)
		if err != nil || len(events) != 1 || events[0].Kind != chat.EventPreview || events[0].Message.Preview == nil {
			t.Fatalf("events after attaching: %+v, %v", events, err)
		}
		if ct, data, err := s.PreviewImage(ctx, m.ID); err != nil || ct != "image/png" || string(data) != "png bytes 2" {
			t.Fatalf("picture %q %q %v", ct, data, err)
		}
		if _, err := s.RemovePreview(ctx, m.ID, bob); chat.ErrorCode(err) != chat.EForbidden {
			t.Fatalf("bob removed ann's preview: %v", err)
		}
		gone, err := s.RemovePreview(ctx, m.ID, ann)
		if err != nil || gone.Preview != nil {
			t.Fatalf("remove: %+v, %v", gone.Preview, err)
		}
		if _, err := s.RemovePreview(ctx, m.ID, ann); chat.ErrorCode(err) != chat.EInvalid {
			t.Fatalf("removing twice: %v", err)
		}
		if _, err := s.AttachPreview(ctx, m.ID, p.ID); !errors.Is(err, db.ErrPreviewGone) {
			t.Fatalf("a fetch finishing after the removal: %v", err)
		}
		if got, _ := s.MessageByID(ctx, m.ID); got.Preview != nil {
			t.Fatal("the removed preview came back")
		}
		if _, _, err := s.PreviewImage(ctx, m.ID); chat.ErrorCode(err) != chat.ENotFound {
			t.Fatalf("the picture of a removed preview: %v", err)
		}
		// A deleted message takes no preview.
		d, _, _ := s.CreateMessage(ctx, chat.Message{RoomID: general.ID, AuthorID: ann.ID, Kind: chat.MessageText, Body: "x https://example.com/a"})
		if _, err := s.DeleteMessage(ctx, d.ID, ann); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AttachPreview(ctx, d.ID, p.ID); !errors.Is(err, db.ErrPreviewGone) {
			t.Fatalf("attach to a deleted message: %v", err)
		}
	})
}
