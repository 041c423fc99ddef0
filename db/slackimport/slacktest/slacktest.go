// Package slacktest writes Slack workspace exports for tests: a small one
// with every kind of thing an export holds (and a few it should not), and
// large generated ones for benchmarks. Written by the tests, never kept.
package slacktest

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// ts is a Slack timestamp t seconds and us microseconds after the
// fixture's first day.
func ts(sec, us int) string { return fmt.Sprintf("%d.%06d", 1704186000+sec, us) }

// WriteFixture writes a small Slack workspace export into dir, as Slack
// lays one out: users, public and private channels, three days of
// #general (one of them broken), a thread, reactions (one a custom emoji),
// an edit, a deleted thread start, a bot message with an attachment, a
// file, a join notice, a message by a user id users.json lacks, and a
// channel whose name is no room name.
func WriteFixture(t testing.TB, dir string) {
	t.Helper()
	write := func(name string, v any) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var data []byte
		if s, ok := v.(string); ok {
			data = []byte(s)
		} else {
			var err error
			if data, err = json.MarshalIndent(v, "", "  "); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	type m = map[string]any
	write("users.json", []m{
		{"id": "U1", "name": "ann.lee", "real_name": "Ann Lee", "is_admin": true, "profile": m{"email": "ann@example.com", "display_name": "Ann L"}},
		{"id": "U2", "name": "bob", "profile": m{"email": "bob@example.com", "real_name": "Bob Stone"}},
		{"id": "U3", "name": "carol", "deleted": true, "profile": m{"email": "carol@example.com"}},
		{"id": "U4", "name": "deploybot", "is_bot": true, "profile": m{"real_name": "Deploy Bot"}},
	})
	write("channels.json", []m{
		{"id": "C1", "name": "general", "created": 1704000000, "creator": "U1", "members": []string{"U1", "U2", "U3", "U4"},
			"topic": m{"value": "Company-wide *news*"}},
		{"id": "C2", "name": "random", "created": 1704000001, "creator": "U2", "is_archived": true, "members": []string{"U1", "U2", "U77"}},
		{"id": "C3", "name": "../../etc", "created": 1704000002, "creator": "U2", "members": []string{"U2"}},
		{"id": "C4", "name": "news\u202ereversed", "created": 1704000004, "creator": "U2", "members": []string{"U2"}},
	})
	write("groups.json", []m{
		{"id": "G1", "name": "secret-plans", "created": 1704000003, "creator": "U1", "members": []string{"U1"}},
	})
	write("dms.json", []m{{"id": "D1", "members": []string{"U1", "U2"}}})
	write("D1/2024-01-02.json", []m{{"type": "message", "ts": ts(9, 0), "user": "U1", "text": "just between us"}})
	write("general/2024-01-02.json", []m{
		// Out of order on purpose: the day's messages are sorted by ts.
		{"type": "message", "ts": ts(20, 0), "user": "U2", "text": "edited text", "edited": m{"user": "U2", "ts": ts(600, 0)}},
		{"type": "message", "ts": ts(1, 100), "user": "U1", "text": "Hello *team* <@U2|bob>, see <https://example.com|the site> :tada:",
			"reactions": []m{{"name": "+1", "users": []string{"U2"}, "count": 1}, {"name": "tada", "users": []string{"U1", "U2"}, "count": 2},
				{"name": "partyparrot", "users": []string{"U2"}, "count": 1}, {"name": "thumbsup::skin-tone-2", "users": []string{"U1", "U99"}}}},
		{"type": "message", "ts": ts(10, 0), "user": "U2", "text": "a thread starts", "thread_ts": ts(10, 0), "reply_count": 2},
		{"type": "message", "ts": ts(11, 0), "user": "U1", "text": "first reply", "thread_ts": ts(10, 0), "parent_user_id": "U2"},
		{"type": "message", "ts": ts(30, 0), "subtype": "bot_message", "bot_id": "B9", "username": "CI", "text": "build *passed*",
			"attachments": []m{{"title": "main #42", "text": "all green"}}},
		{"type": "message", "ts": ts(40, 0), "user": "U1", "subtype": "file_share", "text": "the report",
			"files": []m{{"id": "F1", "name": "report.pdf", "permalink": "https://acme.slack.com/files/U1/F1/report.pdf"}}},
		{"type": "message", "ts": ts(50, 0), "user": "U3", "subtype": "channel_join", "text": "<@U3> has joined the channel"},
		{"type": "message", "ts": ts(60, 0), "user": "U999", "text": "who am I"},
		{"type": "message", "ts": ts(70, 0), "user": "U1", "subtype": "thread_broadcast", "text": "also to the room", "thread_ts": ts(10, 0)},
		{"type": "message", "ts": ts(80, 0), "user": "U4", "bot_id": "B4", "text": "deployed v1.2"},
	})
	write("general/2024-01-03.json", []m{
		{"type": "message", "ts": ts(86400, 0), "user": "USLACKBOT", "subtype": "tombstone", "text": "This message was deleted.",
			"thread_ts": ts(86400, 0), "reply_count": 1},
		{"type": "message", "ts": ts(86401, 0), "user": "U2", "text": "reply to a deleted start, see <#C2|random>", "thread_ts": ts(86400, 0)},
	})
	write("general/2024-01-04.json", `[{"type": "message", "ts": "1704358800.000000", "user": "U1", "text": "cut off`)
	write("random/2024-01-02.json", []m{{"type": "message", "ts": ts(5, 0), "user": "U2", "text": "random thought"}})
	write("secret-plans/2024-01-02.json", []m{{"type": "message", "ts": ts(6, 0), "user": "U1", "text": "the plan"}})
	write("etc/2024-01-02.json", []m{{"type": "message", "ts": ts(7, 0), "user": "U2", "text": "should never be read"}})
}

// Zip zips dir's files into dest, plus extra entries (name: content).
func Zip(t testing.TB, dir, dest string, extra map[string]string) {
	t.Helper()
	f, err := os.Create(dest)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		w, err := zw.Create(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range extra {
			if !yield(k) {
				return
			}
		}
	})
	for _, name := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(extra[name]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// WriteLarge writes a generated export of channels × days × perDay messages
// of about 100 bytes into dir: 50 members, every tenth message a reply in a
// thread, every seventh with reactions, every fiftieth edited.
func WriteLarge(t testing.TB, dir string, channels, days, perDay int) {
	t.Helper()
	type m = map[string]any
	var users []m
	for i := range 50 {
		users = append(users, m{"id": fmt.Sprintf("U%03d", i), "name": fmt.Sprintf("member%03d", i),
			"profile": m{"email": fmt.Sprintf("member%03d@example.com", i), "real_name": fmt.Sprintf("Member %d", i)}})
	}
	var chans []m
	for c := range channels {
		chans = append(chans, m{"id": fmt.Sprintf("C%03d", c), "name": fmt.Sprintf("channel-%03d", c), "created": 1600000000, "creator": "U000",
			"members": []string{"U000", "U001", "U002", fmt.Sprintf("U%03d", 3+c%47)}})
	}
	write := func(name string, v any) {
		data, err := json.Marshal(v)
		if err == nil {
			err = os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name), data, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	write("users.json", users)
	write("channels.json", chans)
	n := 0
	for c := range channels {
		for d := range days {
			day := 1600041600 + d*86400
			msgs := make([]m, 0, perDay)
			root := ""
			for i := range perDay {
				n++
				ts := fmt.Sprintf("%d.%06d", day+i*30, n%1_000_000)
				msg := m{"type": "message", "ts": ts, "user": fmt.Sprintf("U%03d", n%50),
					"text": fmt.Sprintf("message %d: the *quick* brown fox jumps over <@U%03d> and then some more words", n, (n+1)%50)}
				switch {
				case i%10 == 0:
					root = ts
				case i%10 == 5 && root != "":
					msg["thread_ts"] = root
				}
				if n%7 == 0 {
					msg["reactions"] = []m{{"name": "+1", "users": []string{fmt.Sprintf("U%03d", (n+2)%50)}, "count": 1}}
				}
				if n%50 == 0 {
					msg["edited"] = m{"user": msg["user"], "ts": fmt.Sprintf("%d.000000", day+i*30+5)}
				}
				msgs = append(msgs, msg)
			}
			write(fmt.Sprintf("channel-%03d/%s.json", c, time.Unix(int64(day), 0).UTC().Format("2006-01-02")), msgs)
		}
	}
}
