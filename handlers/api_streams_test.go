package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"agora/chat/live"
	"agora/handlers"
	"agora/handlers/metrics"
)

// openEvents opens GET /api/v1/events and, if it is refused, returns the
// status and the JSON error; an accepted stream stays open until the test
// ends (or close is called).
func openEvents(t *testing.T, a *apiClient, lastEventID string) (status int, errMsg string, retryAfter string, close func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", a.ts.URL+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+a.token)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode == http.StatusOK {
		return res.StatusCode, "", "", func() { cancel(); res.Body.Close() }
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Code == "" {
		t.Fatalf("a refused stream answered %d without a JSON error: %.300s", res.StatusCode, b)
	}
	return res.StatusCode, e.Error.Message, res.Header.Get("Retry-After"), cancel
}

// Event streams are capped like sockets: a user holds at most a few, and
// so does an address, whatever the number of tokens; the next is refused
// with 429 and a JSON error.
func TestEventStreamsAreCappedPerUserAndAddress(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	tokens := []*apiClient{ts.api(t, ann.makeToken("one")), ts.api(t, ann.makeToken("two"))}
	open := 0
	for i := range 20 {
		status, msg, retry, _ := openEvents(t, tokens[i%2], "")
		if status == http.StatusOK {
			open++
			continue
		}
		if status != http.StatusTooManyRequests || !strings.Contains(msg, "event streams") || retry == "" {
			t.Fatalf("stream %d refused with %d %q (Retry-After %q), want 429 saying why", i, status, msg, retry)
		}
		break
	}
	if open == 20 {
		t.Fatal("one account held 20 event streams")
	}
	t.Logf("one account held %d streams", open)
	// Many accounts from one address: capped too.
	total := open
	for u := 0; u < 10 && total < 100; u++ {
		c := ts.client(t).signup("user" + strconv.Itoa(u))
		a := ts.api(t, c.makeToken("t"))
		for range 5 {
			status, _, _, _ := openEvents(t, a, "")
			if status != http.StatusOK {
				t.Logf("one address held %d streams", total)
				return
			}
			total++
		}
	}
	t.Fatalf("one address held %d event streams", total)
}

// Reconnecting far back (Last-Event-ID: 1) replays everything since, for
// every room: a few in a row are fine, a flood of them is refused with 429.
func TestEventStreamReplaysAreRateLimited(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	for i := range 5 {
		ann.postMessage("general", "event "+strconv.Itoa(i))
	}
	api := ts.api(t, ann.makeToken("replay"))
	for i := range 40 {
		status, msg, retry, closeStream := openEvents(t, api, "1")
		closeStream()
		if status == http.StatusOK || strings.Contains(msg, "event streams") {
			continue // replayed (or the last ones not yet let go of)
		}
		if status != http.StatusTooManyRequests || !strings.Contains(msg, "catch up") || retry == "" {
			t.Fatalf("replay %d refused with %d %q (Retry-After %q), want 429 saying why", i, status, msg, retry)
		}
		if i < 5 {
			t.Fatalf("only %d replays were allowed in a row", i)
		}
		// Following from now is not a replay: still allowed.
		if status, msg, _, _ := openEvents(t, api, ""); status != http.StatusOK {
			t.Fatalf("a stream from now was refused after the replays: %d %q", status, msg)
		}
		return
	}
	t.Fatal("40 replays from the first event in a row were all served")
}

// A node's event streams share one read of the rooms' log: with 21 streams
// open, 10 posts cost a read or so each, not one per stream per post (210
// before). Each stream still gets only what its user may read, and a
// membership made or ended while it is open is honoured from then on.
func TestEventStreamsShareOneReadOfTheLog(t *testing.T) {
	m := metrics.New()
	ts := startServerConfig(t, live.HubConfig{}, handlers.Config{Metrics: m})
	ms := httptest.NewServer(m.Handler())
	defer ms.Close()
	bob := ts.client(t).signup("bob")
	bob.post("/rooms", url.Values{"name": {"inner"}, "private": {"on"}})
	var all []*sseStream
	for _, name := range []string{"ann", "carol", "dave"} {
		c := ts.client(t).signup(name)
		for range 7 {
			all = append(all, ts.api(t, c.makeToken("stream")).events(""))
		}
	}
	// The streams have started: a first post reaches each of them (after
	// the notices of the sign-ups, which may still be committing).
	bob.postMessage("general", "warm up")
	for _, s := range all {
		for s.next().Data.Message.Body != "warm up" {
		}
	}
	before := scrape(t, ms.URL)["agora_event_log_reads_total"]
	const posts = 10
	for i := range posts {
		bob.postMessage("general", "post "+strconv.Itoa(i))
	}
	for _, s := range all {
		for i := range posts {
			s.expect("message", "post "+strconv.Itoa(i))
		}
	}
	reads := scrape(t, ms.URL)["agora_event_log_reads_total"] - before
	if reads < 1 || reads > 2*posts {
		t.Errorf("%d streams and %d posts read the log %v times; want at least once, at most once per post", len(all), posts, reads)
	}
	t.Logf("%d streams, %d posts: %v reads of the log", len(all), posts, reads)

	// ann's streams (the first 7) skip the private room until she is added,
	// and skip it again once she is removed.
	ann := all[0]
	bob.postMessage("inner", "before ann")
	bob.postMessage("general", "marker 1")
	ann.expect("message", "marker 1")
	expectStatus(t, bob.post("/rooms/inner/members", url.Values{"username": {"ann"}}), http.StatusSeeOther)
	ann.expect("notice", "bob added ann to #inner")
	bob.postMessage("inner", "with ann")
	ann.expect("message", "with ann")
	expectStatus(t, bob.post("/rooms/inner/members/remove", url.Values{"username": {"ann"}}), http.StatusSeeOther)
	// She is told of her removal, and reads no more of the room.
	ann.expect("notice", "bob removed ann from #inner")
	bob.postMessage("inner", "after ann")
	bob.postMessage("general", "marker 2")
	ann.expect("message", "marker 2")
	// carol, never a member, saw none of it.
	carol := all[7]
	for _, want := range []string{"marker 1", "marker 2"} {
		for {
			ev := carol.next()
			if ev.Data.Room.Slug == "inner" {
				t.Fatalf("carol's stream carried the private room: %s", ev.Raw)
			}
			if ev.Data.Message.Body == want {
				break
			}
		}
	}
}
