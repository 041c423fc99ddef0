package handlers_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"agora/chat"
	"agora/chat/jobs"
)

// A webhook that keeps answering 503 is tried again after waits that
// double, then its delivery shows on /admin/jobs with the last error; the
// admin's retry delivers it once the bot is back. Nobody else sees the page.
func TestFailingDeliveryIsRetriedThenShownInAdminJobs(t *testing.T) {
	ts := newHookServer(t, true, 0, io.Discard)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	var mu sync.Mutex
	var times []time.Time
	healed := false
	delivered := make(chan string, 4)
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var call hookCall
		json.NewDecoder(r.Body).Decode(&call)
		mu.Lock()
		defer mu.Unlock()
		times = append(times, time.Now())
		if !healed {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		delivered <- call.Message.Body
	}))
	defer flaky.Close()
	ann.makeBot("flaky", flaky.URL)
	bob.get("/rooms/general")
	bob.postMessage("general", "@flaky are you up?")
	ts.waitHooks(t, 8)

	mu.Lock()
	if len(times) != 8 {
		t.Fatalf("the webhook was called %d times, want 8 attempts", len(times))
	}
	for i := 1; i < len(times); i++ {
		if gap, least := times[i].Sub(times[i-1]), jobs.Backoff(5*time.Millisecond, 20*time.Millisecond, i); gap < least {
			t.Errorf("attempt %d came %v after the last, before the backoff of %v", i+1, gap, least)
		}
	}
	mu.Unlock()

	expectStatus(t, bob.get("/admin/jobs"), http.StatusNotFound)
	failed, err := ts.store.JobsIn(t.Context(), chat.JobFailed, 10)
	if err != nil || len(failed) != 1 {
		t.Fatalf("failed jobs %+v, %v", failed, err)
	}
	id := strconv.FormatInt(failed[0].ID, 10)
	expectStatus(t, bob.post("/admin/jobs/"+id+"/retry", nil), http.StatusNotFound)
	res := ann.get("/admin/jobs")
	expectStatus(t, res, http.StatusOK)
	row := byID(doc(t, res.body), "job-"+id)
	if row == nil || !strings.Contains(text(row), "the webhook answered 503") || !strings.Contains(text(row), "8 of 8 attempts") {
		t.Fatalf("the failed delivery is not on the page:\n%.3000s", res.body)
	}

	mu.Lock()
	healed = true
	mu.Unlock()
	res = ann.post("/admin/jobs/"+id+"/retry", nil)
	expectStatus(t, res, http.StatusSeeOther)
	select {
	case body := <-delivered:
		if body != "@flaky are you up?" {
			t.Fatalf("delivered %q", body)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the retried delivery never came")
	}
	ts.waitHooks(t, 9)
	page := doc(t, ann.get("/admin/jobs").body)
	if byID(page, "job-"+id) != nil || byID(page, "jobs-empty") == nil {
		t.Fatal("the delivered job is still listed as failed")
	}
	if a := byID(page, "audit"); a == nil || !strings.Contains(text(a), "retried job #"+id) {
		t.Error("the retry is not in the audit log")
	}
	// A second retry, or of a job that never was: 404 with the reason on the page.
	for _, bad := range []string{id, "999999", "nope"} {
		res := ann.post("/admin/jobs/"+bad+"/retry", nil)
		expectStatus(t, res, http.StatusNotFound)
		if byID(doc(t, res.body), "form-error") == nil {
			t.Errorf("retry %s: no error on the page", bad)
		}
	}
}

// Issue 24's G9: members flooding mentions of a bot that does not answer
// filled a shared queue, and deliveries to every other bot were dropped.
// Now each bot's deliveries wait in a queue of their own, in the store:
// another bot is told at once, and the slow one gets every message once.
func TestFloodedSlowBotDelaysNoOtherBot(t *testing.T) {
	ts := newHookServer(t, true, 2*time.Minute, io.Discard)
	ann := ts.client(t).signup("ann")
	entered := make(chan struct{})
	release := make(chan struct{})
	var mu sync.Mutex
	got := map[int64]int{}
	all := make(chan struct{})
	const flood = 4 * 30
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var call hookCall
		json.NewDecoder(r.Body).Decode(&call)
		mu.Lock()
		first := len(got) == 0
		got[call.Message.ID]++
		if len(got) == flood && got[call.Message.ID] == 1 {
			close(all)
		}
		mu.Unlock()
		if first {
			close(entered)
			<-release
		}
	}))
	defer slow.Close()
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	defer free() // before the server closes, which waits for its handlers
	quick := newTestBot(t, func(hookCall) string { return "" })
	ann.makeBot("slow", slow.URL)
	_, secret := ann.makeBot("quick", quick.URL)
	quick.secret.Store(secret)

	var posters []*client
	for _, name := range []string{"bob", "cy", "dee", "eve"} {
		c := ts.client(t).signup(name)
		c.get("/rooms/general")
		posters = append(posters, c)
	}
	for i := range 30 {
		for _, c := range posters {
			c.postMessage("general", "@slow flood "+strconv.Itoa(i))
		}
	}
	<-entered
	posters[0].postMessage("general", "@quick still there?")
	if call := quick.next(t); call.Message.Body != "@quick still there?" {
		t.Fatalf("quick got %+v", call)
	}
	// Every delivery to the slow bot is waiting, none dropped.
	c := ts.notifiedJobs(t)["webhook"]
	if c.Failed != 0 || c.Queued+c.Running+c.Done != flood+1 || c.Done > 1 {
		t.Fatalf("jobs %+v: want %d waiting for the slow bot and quick's", c, flood)
	}
	free()
	select {
	case <-all:
	case <-time.After(5 * time.Minute): // one at a time, on a loaded machine
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("the slow bot got %d of %d messages", len(got), flood)
	}
	ts.waitHooks(t, flood+1)
	mu.Lock()
	defer mu.Unlock()
	for id, n := range got {
		if n != 1 {
			t.Errorf("message %d was delivered %d times", id, n)
		}
	}
}
