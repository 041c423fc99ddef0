package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"agora/db"
)

// TestBackupWhileWriting copies the database of a running agora while eight
// people post, then opens the copy: it holds every message acknowledged
// before the backup started, and serves at once as -db.
func TestBackupWhileWriting(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "live.db")
	r := startRun(t, map[string]string{"CHAT_DB": src})

	var (
		mu    sync.Mutex
		acked []string // bodies answered 303: committed
		wg    sync.WaitGroup
	)
	stop := make(chan struct{})
	var stopOnce sync.Once
	halt := func() { stopOnce.Do(func() { close(stop) }) }
	defer func() { halt(); wg.Wait() }()
	for w := range 8 {
		b := newBrowser(t, r.base, nil).signup(fmt.Sprintf("writer%d", w))
		b.get("/rooms/general")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf("w%d-m%d", w, i)
				res, err := b.http.PostForm(r.base+"/rooms/general/messages", url.Values{"body": {body}})
				if err != nil {
					t.Errorf("post: %v", err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode == http.StatusSeeOther {
					mu.Lock()
					acked = append(acked, body)
					mu.Unlock()
				}
			}
		}()
	}
	waitAcked := func(n int) {
		for {
			mu.Lock()
			got := len(acked)
			mu.Unlock()
			if got >= n {
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	waitAcked(100)

	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	dest := filepath.Join(dir, "copy.db")
	var out strings.Builder
	if err := run(context.Background(), []string{"agora", "backup", "-db", src, dest}, func(string) string { return "" }, &out); err != nil {
		t.Fatalf("backup: %v", err)
	}
	mu.Lock()
	during := len(acked) - len(before)
	mu.Unlock()
	waitAcked(len(before) + during + 20) // writes go on after the backup too
	halt()
	wg.Wait()
	if !strings.Contains(out.String(), dest) {
		t.Errorf("backup said %q", out.String())
	}
	t.Logf("%d messages acknowledged before the backup, %d while it ran", len(before), during)

	// The copy opens with the store and holds every message acknowledged
	// before the backup started, once.
	store, err := db.Open(context.Background(), dest)
	if err != nil {
		t.Fatalf("open the copy: %v", err)
	}
	room, err := store.RoomBySlug(context.Background(), "general")
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := store.MessagesAfter(context.Background(), room.ID, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, m := range msgs {
		count[m.Body]++
	}
	for _, body := range before {
		if count[body] != 1 {
			t.Errorf("message %q, acknowledged before the backup, is in the copy %d times", body, count[body])
		}
	}
	store.Close()

	// And agora serves it as it is.
	cp := startRun(t, map[string]string{"CHAT_DB": dest})
	last := before[len(before)-1]
	reader := newBrowser(t, cp.base, nil)
	res := reader.post("/login", url.Values{"username": {"writer0"}, "password": {"password-writer0"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login on the copy: %d", res.StatusCode)
	}
	if status, page := reader.get("/search?q=" + url.QueryEscape(last)); status != http.StatusOK || !strings.Contains(page, last) {
		t.Errorf("the copy's server does not find %q: %d", last, status)
	}
}

// TestBackupRefusals: a PostgreSQL source is sent to pg_dump; an existing
// destination, a missing source and a missing destination are refused, and
// nothing is written.
func TestBackupRefusals(t *testing.T) {
	dir := t.TempDir()
	noEnv := func(string) string { return "" }
	backup := func(args ...string) (string, error) {
		var out strings.Builder
		err := run(context.Background(), append([]string{"agora", "backup"}, args...), noEnv, &out)
		return out.String(), err
	}
	if _, err := backup("-db", "postgres://agora@db/agora", filepath.Join(dir, "x.db")); err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("a postgres:// source: %v, want a pointer to pg_dump", err)
	}
	if _, err := backup("-db", filepath.Join(dir, "missing.db"), filepath.Join(dir, "y.db")); err == nil {
		t.Error("a missing source was accepted")
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); err == nil {
		t.Error("backing up a missing source created it")
	}
	src := filepath.Join(dir, "src.db")
	s, err := db.Open(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := backup("-db", src); err == nil {
		t.Error("no destination was accepted")
	}
	existing := filepath.Join(dir, "existing.db")
	os.WriteFile(existing, []byte("keep me"), 0o600)
	if _, err := backup("-db", src, existing); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("an existing destination: %v", err)
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me" {
		t.Error("an existing destination was overwritten")
	}
	notDB := filepath.Join(dir, "notes.txt")
	os.WriteFile(notDB, []byte("not a database at all, just text"), 0o600)
	if _, err := backup("-db", notDB, filepath.Join(dir, "z.db")); err == nil {
		t.Error("a file that is not an agora database was copied")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") || e.Name() == "x.db" || e.Name() == "y.db" || e.Name() == "z.db" {
			t.Errorf("a refused backup left %s", e.Name())
		}
	}
	if out, err := backup("-h"); err != nil || !strings.Contains(out, "DEST") {
		t.Errorf("agora backup -h: %v %q", err, out)
	}
}
