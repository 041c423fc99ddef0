package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"agora/chat"
	"agora/db"
	"agora/handlers"
)

// oldMessages stores messages in the room as if written days ago (as a
// Slack import stores its history), by author.
func oldMessages(t *testing.T, s *db.Store, roomID, author int64, days int, bodies ...string) {
	t.Helper()
	var msgs []db.ImportMessage
	for i, b := range bodies {
		msgs = append(msgs, db.ImportMessage{SlackID: b, AuthorID: author, Body: b, At: time.Now().Add(-time.Duration(days)*24*time.Hour + time.Duration(i)*time.Second)})
	}
	if _, err := s.ImportSlackMessages(context.Background(), roomID, "test", msgs); err != nil {
		t.Fatal(err)
	}
}

// waitAudit waits until the audit list has an entry whose action and
// detail contain want (the job runs on the server's own runner).
func waitAudit(t *testing.T, s *db.Store, want string) chat.AuditEntry {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		entries, err := s.AuditLog(context.Background(), 50)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.Contains(e.Actor+" "+e.Action+" "+e.Detail, want) {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no audit entry %q in %+v", want, entries)
		}
		time.Sleep(20 * time.Millisecond) // polling the store for the job's outcome
	}
}

// TestRetentionAtStartAndPerRoom: a server started with -retention 30
// deletes what is older at start, and says how many in the audit list; an
// admin's room setting deletes at once; bad settings and non-admins are
// refused with nothing changed.
func TestRetentionAtStartAndPerRoom(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.client(t).signup("root")
	bob := ts.client(t).signup("bob")
	admin.postMessage("general", "written today")
	ctx := context.Background()
	root, err := ts.store.UserByUsername(ctx, "root")
	if err != nil {
		t.Fatal(err)
	}
	general, err := ts.store.RoomBySlug(ctx, "general")
	if err != nil {
		t.Fatal(err)
	}
	oldMessages(t, ts.store, general.ID, root.ID, 100, "a hundred days ago", "also long ago", "and again")
	oldMessages(t, ts.store, general.ID, root.ID, 10, "ten days ago")
	ts.stop()

	ts = startServerAt(t, ts.path, handlers.Config{Retention: 30})
	e := waitAudit(t, ts.store, "retention deleted old messages")
	if !strings.Contains(e.Detail, "deleted 3 messages and 0 files") {
		t.Errorf("the audit entry says %q, want 3 messages", e.Detail)
	}
	admin.ts, bob.ts = ts, ts
	page := admin.get("/rooms/general")
	if strings.Contains(page.body, "a hundred days ago") || !strings.Contains(page.body, "ten days ago") || !strings.Contains(page.body, "written today") {
		t.Errorf("after the run at start #general shows:\n%.3000s", page.body)
	}
	li := roomsPage(t, admin)["general"]
	if li == nil || !strings.Contains(text(li), "Now it follows the server's setting: 30 days") {
		t.Errorf("the rooms page does not say the room follows the server's 30 days")
	}

	for _, bad := range []string{"-1", "abc", "40000", "1e3"} {
		res := admin.post("/admin/rooms/general/retention", url.Values{"retention": {bad}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if !strings.Contains(res.body, "Retention is a number of days") {
			t.Errorf("retention %q: the page does not say why", bad)
		}
	}
	// Not an admin: the admin pages are not there for bob (404), nothing changes.
	expectStatus(t, bob.post("/admin/rooms/general/retention", url.Values{"retention": {"1"}}), http.StatusNotFound)
	if r, err := ts.store.AdminRoom(ctx, "general"); err != nil || r.Retention != chat.RetentionServer {
		t.Fatalf("a refused setting changed the room: %+v, %v", r, err)
	}

	res := admin.post("/admin/rooms/general/retention", url.Values{"retention": {"7"}})
	expectStatus(t, res, http.StatusSeeOther)
	waitAudit(t, ts.store, "deleted 1 messages")
	if page := admin.get("/rooms/general"); strings.Contains(page.body, "ten days ago") || !strings.Contains(page.body, "written today") {
		t.Errorf("after the room's 7 days #general shows (ten days ago %v, today %v):\n%.300s", strings.Contains(page.body, "ten days ago"), strings.Contains(page.body, "written today"), page.body)
	}
	if li := roomsPage(t, admin)["general"]; li == nil || !strings.Contains(text(li), "Now it keeps messages for 7 days") {
		t.Error("the rooms page does not say the room keeps 7 days")
	}
	waitAudit(t, ts.store, "set the retention of")

	expectStatus(t, admin.post("/admin/rooms/general/retention", url.Values{"retention": {""}}), http.StatusSeeOther)
	if r, _ := ts.store.AdminRoom(ctx, "general"); r.Retention != chat.RetentionServer {
		t.Errorf("an empty setting left %d, want the server's", r.Retention)
	}
}

// TestRetentionRunsOnceOnTwoNodes: two servers on one database, both with
// -retention, ask for the run at start; the queue's key makes it one job,
// and one audit entry says what it deleted.
func TestRetentionRunsOnceOnTwoNodes(t *testing.T) {
	ts := newTestServer(t)
	ts.client(t).signup("root")
	ctx := context.Background()
	root, _ := ts.store.UserByUsername(ctx, "root")
	general, _ := ts.store.RoomBySlug(ctx, "general")
	oldMessages(t, ts.store, general.ID, root.ID, 400, "last year", "and the year before")
	ts.stop()

	a := startServerAt(t, ts.path, handlers.Config{Retention: 365})
	b := startServerAt(t, ts.path, handlers.Config{Retention: 365})
	waitAudit(t, a.store, "deleted 2 messages")
	count := func(state string) int {
		jobs, err := b.store.JobsIn(ctx, state, 100)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, j := range jobs {
			if j.Kind == "retention" {
				n++
			}
		}
		return n
	}
	// The job is done once its handler returned, tomorrow's asked for.
	for deadline := time.Now().Add(20 * time.Second); count(chat.JobDone) == 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond) // polling the store for the job's outcome
	}
	if done, queued := count(chat.JobDone), count(chat.JobQueued); done != 1 || queued != 1 {
		t.Errorf("retention jobs: %d done, %d queued; want the one run at start and tomorrow's", done, queued)
	}
	entries, _ := b.store.AuditLog(ctx, 50)
	n := 0
	for _, e := range entries {
		if e.Action == "deleted old messages" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d audit entries of deletions, want 1", n)
	}
}
