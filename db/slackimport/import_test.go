package slackimport_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"agora/chat"
	"agora/db"
	"agora/db/pgtest"
	"agora/db/slackimport"
	"agora/db/slackimport/slacktest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func open(t *testing.T, dsn string) *db.Store {
	t.Helper()
	s, err := db.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// dump is what a person would see of an import: accounts, rooms and each
// room's messages in order, written so that two stores compare.
func dump(t *testing.T, s *db.Store) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	users, err := s.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		_, hash, err := s.UserCredentials(ctx, u.Username)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("user %s %q admin=%v bot=%v deactivated=%v password=%v", u.Username, u.DisplayName, u.IsAdmin, u.IsBot, u.Deactivated, hash != ""))
	}
	rooms, err := s.ExportRooms(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rooms {
		members, err := s.MemberNames(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(members)
		out = append(out, fmt.Sprintf("room %s %q private=%v archived=%v topic=%q members=%v", r.Slug, r.Name, r.Private, r.Archived, r.Topic, members))
		msgs, err := s.AllMessagesAfter(ctx, r.ID, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		pos := map[int64]int{}
		for i, m := range msgs {
			pos[m.ID] = i
			edited := ""
			if m.Edited() {
				edited = m.EditedAt.UTC().Format(time.RFC3339)
			}
			line := fmt.Sprintf("  %d %s %s %q edited=%s deleted=%v", i, m.CreatedAt.UTC().Format(time.RFC3339Nano), m.Author, m.Body, edited, m.Deleted())
			if m.ThreadID != 0 {
				line += fmt.Sprintf(" reply-to=%d in-room=%v", pos[m.ThreadID], m.InRoom)
			}
			if m.Thread != nil && m.ThreadID == 0 {
				line += fmt.Sprintf(" replies=%d", m.Thread.Count)
			}
			for _, re := range m.Reactions {
				line += fmt.Sprintf(" %s%v", re.Emoji, re.Users)
			}
			out = append(out, line)
		}
	}
	return out
}

func importOK(t *testing.T, s *db.Store, path string) slackimport.Report {
	t.Helper()
	rep, err := slackimport.Import(context.Background(), s, path, slackimport.Options{})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return rep
}

func skipped(rep slackimport.Report) map[string]int {
	out := map[string]int{}
	for _, s := range rep.Skipped {
		out[s.Reason] = s.Count
	}
	return out
}

// TestImportFixture imports the fixture into SQLite and PostgreSQL, twice
// each: the same accounts, rooms and messages on both, nothing added the
// second time, and the report says what was skipped and why.
func TestImportFixture(t *testing.T) {
	dir := t.TempDir()
	slacktest.WriteFixture(t, filepath.Join(dir, "export"))
	zipPath := filepath.Join(dir, "export.zip")
	slacktest.Zip(t, filepath.Join(dir, "export"), zipPath, nil)

	var dumps [][]string
	for _, engine := range []struct {
		name string
		dsn  func(t *testing.T) string
		path string
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "agora.db") }, zipPath},
		{"postgres", func(t *testing.T) string { return pgtest.Database(t) }, filepath.Join(dir, "export")},
	} {
		t.Run(engine.name, func(t *testing.T) {
			s := open(t, engine.dsn(t))
			rep := importOK(t, s, engine.path)
			if rep.Users != 3 || rep.Bots != 3 || rep.Channels != 3 {
				t.Errorf("users %d bots %d channels %d, want 3 people (ann, bob, carol), 3 bots (deploybot, CI, slackbot), 3 rooms", rep.Users, rep.Bots, rep.Channels)
			}
			// #general: 10 of its 14 entries (the notice and the unknown user
			// skipped, the broken day unread), #random 1, #secret-plans 1.
			if rep.Messages != 12 || rep.Replies != 3 || rep.Edited != 1 || rep.Deleted != 1 || rep.FileLinks != 1 {
				t.Errorf("messages %d replies %d edited %d deleted %d files %d, want 12, 3, 1, 1, 1", rep.Messages, rep.Replies, rep.Edited, rep.Deleted, rep.FileLinks)
			}
			if rep.Reactions != 4 { // 👍 bob, 🎉 ann and bob, 👍 (skin tone) ann
				t.Errorf("reactions %d, want 4", rep.Reactions)
			}
			want := map[string]int{
				slackimport.SkipBadChannel: 2, slackimport.SkipBadJSON: 1, slackimport.SkipUnknownUser: 1,
				slackimport.SkipNotice: 1, slackimport.SkipEmoji: 1, slackimport.SkipUnknownMember: 2, slackimport.SkipDirect: 1,
			}
			if got := skipped(rep); !reflect.DeepEqual(got, want) {
				t.Errorf("skipped %v,\nwant %v", got, want)
			}
			for _, sk := range rep.Skipped {
				if sk.Reason == slackimport.SkipBadJSON && (len(sk.Examples) != 1 || !strings.Contains(sk.Examples[0], "general/2024-01-04.json")) {
					t.Errorf("the broken file is not named: %v", sk.Examples)
				}
				if sk.Reason == slackimport.SkipUnknownUser && !strings.Contains(strings.Join(sk.Examples, " "), "U999") {
					t.Errorf("the unknown user is not named: %v", sk.Examples)
				}
			}
			first := dump(t, s)
			again := importOK(t, s, engine.path)
			if again.Messages != 0 || again.Users != 0 || again.Bots != 0 || again.Channels != 0 || again.Reactions != 0 {
				t.Errorf("the second import added: %+v", again)
			}
			if again.Already.Messages != 12 || again.Already.Users != 4 || again.Already.Channels != 3 {
				t.Errorf("the second import found %+v before, want 12 messages, 4 users, 3 channels", again.Already)
			}
			if second := dump(t, s); !slices.Equal(first, second) {
				t.Errorf("the second import changed the store:\n%s\n---\n%s", strings.Join(first, "\n"), strings.Join(second, "\n"))
			}
			checkImported(t, s, first)
			dumps = append(dumps, first)
		})
	}
	if len(dumps) == 2 && !slices.Equal(dumps[0], dumps[1]) {
		t.Errorf("SQLite and PostgreSQL differ:\n%s\n---\n%s", strings.Join(dumps[0], "\n"), strings.Join(dumps[1], "\n"))
	}
}

// checkImported looks at what a person would: the messages of #general in
// their order with their times, authors, threads and reactions.
func checkImported(t *testing.T, s *db.Store, lines []string) {
	t.Helper()
	text := strings.Join(lines, "\n")
	for _, want := range []string{
		`user ann-lee "Ann L" admin=true bot=false deactivated=false password=false`,
		`user bob "Bob Stone" admin=false`,
		`user carol "" admin=false bot=false deactivated=true`,
		`user deploybot "Deploy Bot" admin=false bot=true`,
		`user CI "CI" admin=false bot=true`,
		`room general "general" private=false archived=false topic="Company-wide **news**" members=[ann-lee bob carol deploybot]`,
		`room random "random" private=false archived=true topic="" members=[ann-lee bob]`,
		`room secret-plans "secret-plans" private=true archived=false`,
		// In ts order, with the times Slack gave.
		`  0 2024-01-02T09:00:01Z ann-lee "Hello **team** @bob, see the site (https://example.com) 🎉" edited= deleted=false 👍[bob ann-lee] 🎉[ann-lee bob]`,
		`  1 2024-01-02T09:00:10Z bob "a thread starts" edited= deleted=false replies=2`,
		`  2 2024-01-02T09:00:11Z ann-lee "first reply" edited= deleted=false reply-to=1 in-room=false`,
		`  3 2024-01-02T09:00:20Z bob "edited text" edited=2024-01-02T09:10:00Z deleted=false`,
		`  4 2024-01-02T09:00:30Z CI "build **passed**\n\n**main #42**\nall green"`, // with its attachment
		`  5 2024-01-02T09:00:40Z ann-lee "the report\n📎 report.pdf (https://acme.slack.com/files/U1/F1/report.pdf)"`,
		`  6 2024-01-02T09:01:10Z ann-lee "also to the room" edited= deleted=false reply-to=1 in-room=true`,
		`  7 2024-01-02T09:01:20Z deploybot "deployed v1.2"`,
		`  8 2024-01-03T09:00:00Z slackbot "" edited= deleted=true replies=1`,
		`  9 2024-01-03T09:00:01Z bob "reply to a deleted start, see #random" edited= deleted=false reply-to=8`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the import lacks\n%s\nin\n%s", want, text)
		}
	}
	if strings.Contains(text, "who am I") || strings.Contains(text, "just between us") || strings.Contains(text, "should never be read") || strings.Contains(text, "has joined") {
		t.Errorf("a skipped message was imported:\n%s", text)
	}
	// The import is searchable like any message.
	ctx := context.Background()
	ann, err := s.UserByUsername(ctx, "ann-lee")
	if err != nil {
		t.Fatal(err)
	}
	q, err := chat.ParseSearch("thread starts", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	hits, err := s.Search(ctx, ann.ID, q, 10)
	if err != nil || len(hits) != 1 {
		t.Errorf("search for an imported message: %d hits, %v", len(hits), err)
	}
}

// TestImportHostileExports: a zip entry that climbs out of the export is
// never read and is reported; a users.json that is not JSON, or an export
// that is not one, stops the import before anything is written.
func TestImportHostileExports(t *testing.T) {
	dir := t.TempDir()
	slacktest.WriteFixture(t, filepath.Join(dir, "export"))
	zipPath := filepath.Join(dir, "evil.zip")
	slacktest.Zip(t, filepath.Join(dir, "export"), zipPath, map[string]string{
		"../outside.json":               `[]`,
		"general/../../2024-01-09.json": `[{"type":"message","ts":"1704790800.000000","user":"U1","text":"climbed out"}]`,
		"/abs/users.json":               `[]`,
	})
	s := open(t, filepath.Join(dir, "agora.db"))
	rep := importOK(t, s, zipPath)
	if n := skipped(rep)[slackimport.SkipUnsafeEntry]; n != 3 {
		t.Errorf("%d unsafe entries reported, want 3: %+v", n, rep.Skipped)
	}
	if rep.Messages != 12 {
		t.Errorf("%d messages imported beside the unsafe entries, want 12:\n%s", rep.Messages, strings.Join(dump(t, s), "\n"))
	}
	if text := strings.Join(dump(t, s), "\n"); strings.Contains(text, "climbed out") {
		t.Error("an entry outside the export was read")
	}
	if _, err := os.Stat(filepath.Join(dir, "outside.json")); err == nil {
		t.Error("an entry was written outside")
	}

	for _, c := range []struct {
		name, users, want string
	}{
		{"malformed users.json", `[{"id": "U1", "name": `, "users.json is not a list of users"},
		{"no users.json", "", "users.json"},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "export")
			slacktest.WriteFixture(t, bad)
			if c.users == "" {
				os.Remove(filepath.Join(bad, "users.json"))
			} else {
				os.WriteFile(filepath.Join(bad, "users.json"), []byte(c.users), 0o644)
			}
			s := open(t, filepath.Join(t.TempDir(), "agora.db"))
			_, err := slackimport.Import(context.Background(), s, bad, slackimport.Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("import: %v, want an error saying %q", err, c.want)
			}
			if users, _ := s.Users(context.Background()); len(users) != 0 {
				t.Errorf("%d accounts made by a refused import", len(users))
			}
		})
	}
	notZip := filepath.Join(dir, "not.zip")
	os.WriteFile(notZip, []byte("hello"), 0o644)
	if _, err := slackimport.Import(context.Background(), s, notZip, slackimport.Options{}); err == nil || !strings.Contains(err.Error(), "neither a directory nor a zip") {
		t.Errorf("import of a file that is no zip: %v", err)
	}
}

// TestImportMatchesAccountsByEmail: a member whose email an account here
// has (verified) is that account, not a new one; an existing room of the
// same name with messages is not written into.
func TestImportMatchesAccountsByEmail(t *testing.T) {
	dir := t.TempDir()
	slacktest.WriteFixture(t, filepath.Join(dir, "export"))
	s := open(t, filepath.Join(dir, "agora.db"))
	ctx := context.Background()
	boss, err := s.CreateUser(ctx, "boss", "", "hash", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateEmailVerification(ctx, boss.ID, "Ann@Example.com", []byte("token"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.VerifyEmail(ctx, []byte("token")); err != nil {
		t.Fatal(err)
	}
	general, err := s.RoomBySlug(ctx, "general")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateMessage(ctx, chat.Message{RoomID: general.ID, AuthorID: boss.ID, Body: "already here"}); err != nil {
		t.Fatal(err)
	}
	rep := importOK(t, s, filepath.Join(dir, "export"))
	if rep.MatchedUsers != 1 || rep.Users != 2 {
		t.Errorf("matched %d, made %d; want ann matched to boss, 2 made", rep.MatchedUsers, rep.Users)
	}
	text := strings.Join(dump(t, s), "\n")
	if strings.Contains(text, "user ann-lee") || !strings.Contains(text, `boss "Hello **team**`) {
		t.Errorf("ann's messages are not boss's:\n%s", text)
	}
	if !strings.Contains(text, `room general-2 "general-2"`) {
		t.Errorf("#general with messages was written into:\n%s", text)
	}
	if _, err := s.ImportedAccountByEmail(ctx, "bob@EXAMPLE.com"); err != nil {
		t.Errorf("bob's account is not there to claim by email: %v", err)
	}
	if _, err := s.ImportedAccountByEmail(ctx, "ann@example.com"); chat.ErrorCode(err) != chat.ENotFound {
		t.Errorf("boss's own account is offered to claim: %v", err)
	}
}

// TestImportBotUserPostsAsItself: a bot that users.json lists (with its
// bot_id in its profile) and whose messages name only that bot_id is one
// account, not two, on the first import and the second.
func TestImportBotUserPostsAsItself(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "export")
	files := map[string]string{
		"users.json": `[{"id": "U1", "name": "ann", "profile": {"display_name": "ann"}},
			{"id": "U9", "name": "deploybot", "is_bot": true, "profile": {"real_name": "Deploy Bot", "bot_id": "B9"}}]`,
		"channels.json":           `[{"id": "C1", "name": "general", "created": 1704186000, "creator": "U1", "members": ["U1", "U9"]}]`,
		"general/2024-01-02.json": `[{"type": "message", "ts": "1704186000.000100", "subtype": "bot_message", "bot_id": "B9", "username": "deploybot", "text": "deployed v1.3"}]`,
	}
	for name, body := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := open(t, filepath.Join(t.TempDir(), "agora.db"))
	for range 2 {
		importOK(t, s, dir)
		text := strings.Join(dump(t, s), "\n")
		if strings.Contains(text, "deploybot2") || !strings.Contains(text, `deploybot "deployed v1.3"`) {
			t.Fatalf("the bot's message is not its own account's:\n%s", text)
		}
	}
}
