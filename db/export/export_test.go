package export_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"agora/chat"
	"agora/db"
	"agora/db/export"
	"agora/db/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// onEachEngine runs test on a fresh SQLite file and a fresh PostgreSQL database.
func onEachEngine(t *testing.T, test func(t *testing.T, s *db.Store)) {
	for name, dsn := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "agora.db") },
		"postgres": func(t *testing.T) string { return pgtest.Database(t) },
	} {
		t.Run(name, func(t *testing.T) {
			s, err := db.Open(context.Background(), dsn(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			test(t, s)
		})
	}
}

// zipOf is an export read back: each entry's bytes by name.
func zipOf(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc) // checks the CRC too
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		out[f.Name] = data
	}
	return out
}

func lines[T any](t *testing.T, data []byte) []T {
	t.Helper()
	var out []T
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("a line that is not JSON: %q: %v", sc.Text(), err)
		}
		out = append(out, v)
	}
	return out
}

// TestExportHasEverythingAndNoSecrets builds a small server (rooms, a
// private room, a direct conversation, an edit, a delete, reactions, a file)
// and reads its export back, whole and for one person.
func TestExportHasEverythingAndNoSecrets(t *testing.T) {
	onEachEngine(t, func(t *testing.T, s *db.Store) {
		ctx := context.Background()
		hash, _ := chat.HashPassword("a password nobody may see")
		ann, _ := s.CreateUser(ctx, "ann", "Ann A.", hash, false)
		bob, _ := s.CreateUser(ctx, "bob", "", hash, false)
		cat, _ := s.CreateUser(ctx, "cat", "", hash, false)
		if _, err := s.CreateToken(ctx, ann.ID, "ci", chat.HashToken("token-nobody-may-see")); err != nil {
			t.Fatal(err)
		}
		general, _ := s.RoomBySlug(ctx, "general")
		for _, u := range []chat.User{ann, bob, cat} {
			s.Join(ctx, general.ID, u.ID)
		}
		secret, err := s.CreateRoom(ctx, "secret plans", "secret-plans", true, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		post := func(u chat.User, r chat.Room, body string, f *chat.File) chat.Message {
			m, _, err := s.CreateMessage(ctx, chat.Message{RoomID: r.ID, AuthorID: u.ID, Kind: chat.MessageText, Body: body, File: f})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		hello := post(ann, general, "hello <b>all</b>", nil)
		post(bob, general, "hi ann", nil)
		edited := post(bob, general, "typo", nil)
		if _, err := s.EditMessage(ctx, edited.ID, bob, "fixed", nil, nil); err != nil {
			t.Fatal(err)
		}
		gone := post(cat, general, "oops", nil)
		if _, err := s.DeleteMessage(ctx, gone.ID, cat); err != nil {
			t.Fatal(err)
		}
		for _, u := range []chat.User{bob, cat} {
			if _, err := s.ToggleReaction(ctx, hello.ID, u, "🎉"); err != nil {
				t.Fatal(err)
			}
		}
		post(ann, secret, "the plan", nil)
		content := bytes.Repeat([]byte("0123456789"), 60_000) // several chunks
		f, err := s.CreateFile(ctx, chat.File{RoomID: general.ID, OwnerID: bob.ID, Name: "report.txt", ContentType: "text/plain"}, bytes.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		post(bob, general, "the report", &f)
		dm, _, err := s.DM(ctx, ann, bob)
		if err != nil {
			t.Fatal(err)
		}
		post(ann, dm, "just between us", nil)
		post(bob, dm, "sure", nil)
		other, _, _ := s.DM(ctx, ann, cat)
		post(cat, other, "not for bob", nil)

		var buf bytes.Buffer
		var last export.Progress
		sum, err := export.Write(ctx, s, &buf, export.Options{Progress: func(p export.Progress) { last = p }})
		if err != nil {
			t.Fatal(err)
		}
		raw := buf.Bytes()
		for _, secret := range []string{"argon2", "token-nobody-may-see", "password"} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("the export holds %q", secret)
			}
		}
		z := zipOf(t, raw)
		users := lines[export.User](t, z["users.jsonl"])
		if len(users) != 3 || users[0].Username != "ann" || !users[0].Admin || users[0].DisplayName != "Ann A." {
			t.Errorf("users.jsonl: %+v", users)
		}
		if strings.Contains(string(z["users.jsonl"]), "hash") || strings.Contains(string(z["users.jsonl"]), "token") {
			t.Errorf("users.jsonl names a hash or a token: %s", z["users.jsonl"])
		}
		rooms := lines[export.Room](t, z["rooms.jsonl"])
		if len(rooms) != 4 {
			t.Fatalf("rooms.jsonl: %+v", rooms)
		}
		msgs := lines[export.Message](t, z["messages/general.jsonl"])
		if len(msgs) != 5 {
			t.Fatalf("general: %d messages: %s", len(msgs), z["messages/general.jsonl"])
		}
		if msgs[0].Body != "hello <b>all</b>" || len(msgs[0].Reactions) != 1 || strings.Join(msgs[0].Reactions[0].Users, ",") != "bob,cat" {
			t.Errorf("the first message: %+v", msgs[0])
		}
		if msgs[2].Body != "fixed" || msgs[2].EditedAt == nil {
			t.Errorf("the edited message: %+v", msgs[2])
		}
		if msgs[3].DeletedAt == nil || msgs[3].Body == "oops" {
			t.Errorf("the deleted message: %+v", msgs[3])
		}
		if msgs[4].File == nil || !bytes.Equal(z[msgs[4].File.Path], content) || msgs[4].File.Size != int64(len(content)) {
			t.Errorf("the file: %+v; %d bytes in the zip", msgs[4].File, len(z[msgs[4].File.Path]))
		}
		if len(lines[export.Message](t, z["messages/secret-plans.jsonl"])) != 1 || len(lines[export.Message](t, z["messages/"+dm.Slug+".jsonl"])) != 2 {
			t.Error("the private room or the direct conversation is missing messages")
		}
		if sum.Users != 3 || sum.Rooms != 4 || sum.Messages != 9 || sum.Files != 1 || sum.FileBytes != int64(len(content)) || sum.Bytes != int64(len(raw)) {
			t.Errorf("summary %+v", sum)
		}
		if last.Done != last.Total {
			t.Errorf("the last progress: %+v, want done = total", last)
		}

		// Bob's own: his account, his messages, his conversation with ann
		// (both sides), his file; not ann's messages in rooms, nor the
		// conversation between ann and cat, nor the private room.
		buf.Reset()
		if _, err := export.Write(ctx, s, &buf, export.Options{UserID: bob.ID}); err != nil {
			t.Fatal(err)
		}
		z = zipOf(t, buf.Bytes())
		if users := lines[export.User](t, z["users.jsonl"]); len(users) != 1 || users[0].Username != "bob" {
			t.Errorf("bob's users.jsonl: %+v", users)
		}
		all := string(bytes.Join(func() [][]byte {
			var out [][]byte
			for _, v := range z {
				out = append(out, v)
			}
			return out
		}(), nil))
		for _, want := range []string{"hi ann", "fixed", "the report", "just between us", "sure"} {
			if !strings.Contains(all, want) {
				t.Errorf("bob's export lacks %q", want)
			}
		}
		for _, not := range []string{"hello <b>all</b>", "the plan", "not for bob", "secret-plans"} {
			if strings.Contains(all, not) {
				t.Errorf("bob's export holds %q", not)
			}
		}
		if _, ok := z[msgs[4].File.Path]; !ok {
			t.Error("bob's export lacks his file")
		}
	})
}
