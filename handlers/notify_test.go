package handlers_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/coder/websocket"

	"agora/chat"
	"agora/handlers"
	"agora/handlers/metrics"
)

// notifiedJobs waits until every notify job has run (each queues the
// pushes and emails of one message), then counts the jobs of every other
// kind by state: what the messages sent so far queued.
func (ts *testServer) notifiedJobs(t *testing.T) map[string]chat.JobCounts {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, err := ts.store.CountJobsByKind(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		n := out["notify"]
		if n.Failed > 0 {
			t.Fatalf("%d notify jobs failed", n.Failed)
		}
		delete(out, "notify")
		if n.Queued+n.Running == 0 {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("notify jobs still to run: %+v", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sameJobs reports whether two counts of jobs by kind list the same jobs,
// whatever state they have reached since.
func sameJobs(a, b map[string]chat.JobCounts) bool {
	for k, c := range a {
		if c.Total() != b[k].Total() {
			return false
		}
	}
	for k, c := range b {
		if c.Total() != a[k].Total() {
			return false
		}
	}
	return true
}

// The message path reads nothing to tell people away of a message: a
// plain message of a room nobody set to all queues nothing and reads
// nothing; a mention, a direct message or a thread reply queue ONE notify
// job, whatever the number of members and devices, which finds whom to
// push and email; a room set to all is read once by the node, and again
// only when a member changes their level there.
func TestMessagePathReadsNothingToNotify(t *testing.T) {
	m := metrics.New()
	ts := newServerWith(t, handlers.Config{PushPrivate: true, PushSubject: "mailto:ops@example.com", Metrics: m})
	ms := httptest.NewServer(m.Handler())
	defer ms.Close()
	value := func(name string) float64 { return scrape(t, ms.URL)[name] }
	ps, devices := newPushService(t)
	ann := ts.client(t).signup("ann")
	var key struct{ Key string }
	json.Unmarshal([]byte(ann.get("/push/key").body), &key)
	ps.mu.Lock()
	ps.key = key.Key
	ps.mu.Unlock()
	var members []*client
	for _, name := range []string{"bob", "cy", "dee", "eve", "fay"} {
		c := ts.client(t).signup(name)
		c.get("/rooms/general")
		ps.subscribe(c, devices, name)
		members = append(members, c)
	}
	bob := members[0]
	ann.get("/rooms/general")
	ann.postMessage("general", "warm up") // the node learns #general's levels
	reads := value("agora_notify_path_reads_total")
	jobs := value("agora_notify_jobs_total")
	for range 20 {
		ann.postMessage("general", "plain news")
	}
	if got := value("agora_notify_path_reads_total") - reads; got != 0 {
		t.Errorf("20 plain messages read the store %v times on the message path to notify", got)
	}
	if got := value("agora_notify_jobs_total") - jobs; got != 0 {
		t.Errorf("20 plain messages queued %v notify jobs", got)
	}
	if got := ts.notifiedJobs(t)["push"]; got != (chat.JobCounts{}) {
		t.Errorf("plain messages were pushed: %+v", got)
	}

	// A mention of everyone: one notify job, five pushes.
	ann.postMessage("general", "@bob @cy @dee @eve @fay standup")
	if got := value("agora_notify_jobs_total") - jobs; got != 1 {
		t.Errorf("a mention of five queued %v notify jobs, want 1", got)
	}
	if got := ts.notifiedJobs(t)["push"]; got.Total() != 5 {
		t.Errorf("pushes of a mention of five: %+v", got)
	}
	// A direct message: one more.
	expectStatus(t, ann.post("/dm/bob", nil), http.StatusSeeOther)
	ann.post("/rooms/"+dmSlugOf(t, ann, "bob")+"/messages", url.Values{"body": {"a word in private"}})
	if got := value("agora_notify_jobs_total") - jobs; got != 2 {
		t.Errorf("after a direct message: %v notify jobs, want 2", got)
	}

	// bob sets #general to all: his level is read again once, and every
	// message of it is a notify job (and a push to bob) from then on.
	reads = value("agora_notify_path_reads_total")
	expectStatus(t, bob.post("/rooms/general/notify", url.Values{"level": {"all"}}), http.StatusSeeOther)
	before := ts.notifiedJobs(t)["push"]
	for range 3 {
		ann.postMessage("general", "more news")
	}
	if got := value("agora_notify_path_reads_total") - reads; got != 1 {
		t.Errorf("after a change of level the message path read %v times, want 1", got)
	}
	if got := value("agora_notify_jobs_total") - jobs; got != 5 {
		t.Errorf("after 3 messages in a room at all: %v notify jobs, want 5", got)
	}
	after := ts.notifiedJobs(t)["push"]
	if n := after.Total() - before.Total(); n != 3 {
		t.Errorf("3 messages of a room bob set to all pushed %d times, want 3", n)
	}
}

// "Open" means a page one can see: while bob's socket in #general says
// its page is hidden (another tab, the window minimised), a mention there
// is pushed to his phone; once it says visible again, none is. Frames are
// handled in order, so the answer to a command sent after the report
// means the report was taken.
func TestPushWhileTheOpenPageIsHidden(t *testing.T) {
	ts := newServerWith(t, handlers.Config{PushPrivate: true, PushSubject: "mailto:ops@example.com"})
	ps, devices := newPushService(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	ann.get("/rooms/general")
	bob.get("/rooms/general")
	var key struct{ Key string }
	json.Unmarshal([]byte(bob.get("/push/key").body), &key)
	ps.mu.Lock()
	ps.key = key.Key
	ps.mu.Unlock()
	phone := ps.subscribe(bob, devices, "bob-phone")
	sock := bob.dial("general", -1)
	report := func(visible string) {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"visible": visible, "HEADERS": map[string]string{"HX-Request": "true", "HX-Trigger": "visibility"}})
		sock.send(b)
		id := newClientID()
		sock.send(composerFrame("/help", id))
		sock.readUntil(`data-done="` + id + `"`)
	}

	// Visible (as every socket is until it says otherwise): no push.
	before := ts.notifiedJobs(t)
	ann.postMessage("general", "@bob you can see this")
	if after := ts.notifiedJobs(t); !sameJobs(before, after) {
		t.Fatalf("jobs %+v then %+v: a push of what bob's visible page shows", before, after)
	}

	report("0")
	ann.postMessage("general", "@bob your tab is in the background")
	if got := <-ps.arrive; got != phone.path {
		t.Fatalf("a push went to %s", got)
	}
	if got := ps.sent(phone.path); len(got) != 1 || got[0].data["body"] != "@bob your tab is in the background" {
		t.Fatalf("bob's phone got %+v", got)
	}

	report("1")
	before = ts.notifiedJobs(t)
	ann.postMessage("general", "@bob back in front of you")
	if after := ts.notifiedJobs(t); !sameJobs(before, after) {
		t.Fatalf("jobs %+v then %+v: a push of what bob's page shows again", before, after)
	}

	// A report that is not what the page sends ("visible" not a string)
	// is a bad frame like any other: closed with 1007, not to be retried.
	b, _ := json.Marshal(map[string]any{"visible": 7, "HEADERS": map[string]string{"HX-Trigger": "visibility"}})
	sock.send(b)
	sock.expectClose(websocket.StatusInvalidFramePayloadData)
}
