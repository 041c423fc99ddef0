package db_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"agora/chat"
	"agora/db"
)

// A file goes in chunk by chunk, comes back the same, travels with its
// message, is found by its name, counts against its owner, and goes with
// its message.
func TestFilesOnEachEngine(t *testing.T) {
	eachStore(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		ann := mustUser(t, s, "ann")
		general, err := s.RoomBySlug(ctx, "general")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Join(ctx, general.ID, ann.ID); err != nil {
			t.Fatal(err)
		}
		content := bytes.Repeat([]byte("0123456789abcdef"), (db.FileChunk*2+1000)/16)
		f, err := s.CreateFile(ctx, chat.File{RoomID: general.ID, OwnerID: ann.ID, Name: "budget-2026.xlsx", ContentType: "application/zip"},
			bytes.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		if f.Size != int64(len(content)) {
			t.Fatalf("size %d, want %d", f.Size, len(content))
		}
		f.Width, f.Height, f.ThumbWidth, f.ThumbHeight = 3, 2, 3, 2
		if err := s.FinishFile(ctx, f, "image/png", []byte("thumb")); err != nil {
			t.Fatal(err)
		}
		// Not yet sent: it belongs to no message.
		if got, _ := s.FileByID(ctx, f.ID); got.MessageID != 0 {
			t.Fatalf("an unsent file has message %d", got.MessageID)
		}
		m, _, err := s.CreateMessage(ctx, chat.Message{RoomID: general.ID, AuthorID: ann.ID, Body: "the numbers", File: &f})
		if err != nil {
			t.Fatal(err)
		}
		if m.File == nil || m.File.MessageID != m.ID {
			t.Fatalf("the stored message carries %+v", m.File)
		}
		// The same file again is refused, and so is the message with it.
		if _, _, err := s.CreateMessage(ctx, chat.Message{RoomID: general.ID, AuthorID: ann.ID, Body: "again", File: &f}); chat.ErrorCode(err) != chat.EInvalid {
			t.Fatalf("a file sent twice: %v", err)
		}
		msgs, err := s.Messages(ctx, general.ID, 0, 10)
		if err != nil || len(msgs) != 1 || msgs[0].File == nil || msgs[0].File.Name != "budget-2026.xlsx" || msgs[0].File.ThumbWidth != 3 {
			t.Fatalf("messages: %+v, %v", msgs, err)
		}
		stored, err := s.FileByID(ctx, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		back, err := io.ReadAll(s.FileContent(ctx, stored))
		if err != nil || !bytes.Equal(back, content) {
			t.Fatalf("read back %d bytes (%v), want %d", len(back), err, len(content))
		}
		if ct, thumb, err := s.FileThumb(ctx, f.ID); err != nil || ct != "image/png" || string(thumb) != "thumb" {
			t.Fatalf("thumbnail %q %q %v", ct, thumb, err)
		}
		for _, q := range []string{"budget", "numbers"} {
			if hits, err := search(s, ann.ID, q); err != nil || len(hits) != 1 {
				t.Errorf("search %q: %d hits, %v", q, len(hits), err)
			}
		}
		if st, err := s.Storage(ctx, ann.ID); err != nil || st.Used != int64(len(content)) || st.Limit != 0 {
			t.Fatalf("storage %+v, %v", st, err)
		}
		if err := s.SetStorageLimit(ctx, ann.ID, 1<<20); err != nil {
			t.Fatal(err)
		}
		if list, err := s.StorageByUser(ctx); err != nil || len(list) != 1 || list[0].Used != int64(len(content)) || list[0].Limit != 1<<20 {
			t.Fatalf("storage by user %+v, %v", list, err)
		}
		if _, err := s.DeleteMessage(ctx, m.ID, ann); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FileByID(ctx, f.ID); chat.ErrorCode(err) != chat.ENotFound {
			t.Errorf("the file outlived its message: %v", err)
		}
		if _, err := io.ReadAll(s.FileContent(ctx, stored)); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("its chunks outlived it: %v", err)
		}
		if hits, _ := search(s, ann.ID, "budget"); len(hits) != 0 {
			t.Error("the deleted file's name is still found")
		}
		if st, _ := s.Storage(ctx, ann.ID); st.Used != 0 {
			t.Errorf("storage after the delete: %d", st.Used)
		}
		// A read that fails part way keeps nothing.
		_, err = s.CreateFile(ctx, chat.File{RoomID: general.ID, OwnerID: ann.ID, Name: "cut.bin", ContentType: "application/octet-stream"},
			io.MultiReader(strings.NewReader(strings.Repeat("x", db.FileChunk+10)), errReader{}))
		if !errors.Is(err, errBroken) {
			t.Fatalf("a broken read: %v", err)
		}
		if n, err := s.DeletePendingFiles(ctx, time.Now().Add(time.Hour)); err != nil || n != 0 {
			t.Errorf("a broken upload left %d files behind (%v)", n, err)
		}
	})
}

var errBroken = errors.New("broken")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBroken }
