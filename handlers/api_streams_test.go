package handlers_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
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
