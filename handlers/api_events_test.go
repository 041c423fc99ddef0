package handlers_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sseEvent is one Server-Sent Event as a client parses it.
type sseEvent struct {
	ID    int64
	Event string
	Data  struct {
		ID      int64  `json:"id"`
		Type    string `json:"type"`
		Seq     int64  `json:"seq"`
		Room    struct{ Slug string }
		Message apiMsg `json:"message"`
	}
	Raw string
}

// sseStream is an open GET /api/v1/events, read as EventSource does.
type sseStream struct {
	t      *testing.T
	cancel context.CancelFunc
	events chan sseEvent
}

func (a *apiClient) events(lastEventID string) *sseStream {
	a.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", a.ts.URL+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Accept", "text/event-stream")
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		a.t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		a.t.Fatalf("events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	s := &sseStream{t: a.t, cancel: cancel, events: make(chan sseEvent, 100)}
	go func() {
		defer res.Body.Close()
		defer close(s.events)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Event != "" {
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.ID, _ = strconv.ParseInt(line[4:], 10, 64)
			case strings.HasPrefix(line, "event: "):
				ev.Event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.Raw = line[6:]
				json.Unmarshal([]byte(ev.Raw), &ev.Data)
			}
		}
	}()
	a.t.Cleanup(s.close)
	return s
}

func (s *sseStream) close() { s.cancel() }

func (s *sseStream) next() sseEvent {
	s.t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			s.t.Fatal("the event stream ended")
		}
		return ev
	case <-time.After(10 * time.Second):
		s.t.Fatal("no event within 10 s")
		return sseEvent{}
	}
}

// expect reads the next event and checks its type and message body.
func (s *sseStream) expect(typ, body string) sseEvent {
	s.t.Helper()
	ev := s.next()
	if ev.Event != typ || ev.Data.Type != typ || ev.Data.Message.Body != body || ev.ID != ev.Data.ID || ev.ID == 0 {
		s.t.Fatalf("want %s %q, got %s %s", typ, body, ev.Event, ev.Raw)
	}
	return ev
}

func TestEventStreamCarriesEveryChangeAndResumes(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	bob.post("/rooms", url.Values{"name": {"bob only"}, "private": {"on"}})
	bob.get("/rooms/general")
	api := ts.api(t, ann.makeToken("stream"))

	stream := api.events("")
	// A message typed in a browser shows up as an event.
	b := bob.dial("general", -1)
	b.say("hello stream")
	first := stream.expect("message", "hello stream")
	if first.Data.Room.Slug != "general" || first.Data.Message.Author != "bob" || first.Data.Seq == 0 {
		t.Fatalf("event: %s", first.Raw)
	}
	msgID := strconv.FormatInt(first.Data.Message.ID, 10)
	// A private room's events never reach a non-member: the next event ann
	// gets is the one after it in general.
	bob.postMessage("bob-only", "secret plans")
	bob.postMessage("general", "public again")
	stream.expect("message", "public again")
	// Edits, reactions, deletes.
	expectStatus(t, bob.post("/messages/"+msgID+"/edit", url.Values{"body": {"hello, edited"}}), http.StatusSeeOther)
	stream.expect("edit", "hello, edited")
	expectStatus(t, ann.post("/messages/"+msgID+"/reactions", url.Values{"emoji": {"👀"}}), http.StatusSeeOther)
	ev := stream.expect("reaction", "hello, edited")
	if len(ev.Data.Message.Reactions) != 1 || ev.Data.Message.Reactions[0].Users[0] != "ann" {
		t.Fatalf("reaction event: %s", ev.Raw)
	}
	// ann joins a public room: a notice.
	bob.post("/rooms", url.Values{"name": {"side"}})
	ann.get("/rooms/side")
	stream.expect("notice", "ann joined #side")
	last := ev.ID
	stream.close()

	// Away: a message, an edit and a delete happen (and one in the private room).
	bob.postMessage("general", "while you were away")
	awayID := strconv.FormatInt(bob.lastMessageIDOf(t, "general"), 10)
	bob.postMessage("bob-only", "still secret")
	expectStatus(t, bob.post("/messages/"+awayID+"/edit", url.Values{"body": {"away, edited"}}), http.StatusSeeOther)
	expectStatus(t, bob.post("/messages/"+msgID+"/delete", url.Values{}), http.StatusSeeOther)

	// Back with the last id seen before the notice: everything after it
	// comes, once and in order, then the stream goes on live.
	again := api.events(strconv.FormatInt(last, 10))
	again.expect("notice", "ann joined #side")
	e1 := again.expect("message", "while you were away") // as it was sent; the edit follows
	e2 := again.expect("edit", "away, edited")
	e3 := again.expect("delete", "")
	if !(last < e1.ID && e1.ID < e2.ID && e2.ID < e3.ID) || !e3.Data.Message.Deleted {
		t.Fatalf("out of order or not deleted: %d %d %d %d %s", last, e1.ID, e2.ID, e3.ID, e3.Raw)
	}
	b.say("live again")
	again.expect("message", "live again")
}

func TestEventStreamTellsALostClientToResync(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	ann.get("/rooms/general")
	api := ts.api(t, ann.makeToken("stream"))
	for _, id := range []string{"999999", "not-a-number", "-4"} {
		s := api.events(id)
		ev := s.next()
		if ev.Event != "resync" || !strings.Contains(ev.Raw, `"reason"`) {
			t.Fatalf("Last-Event-ID %s: %s %s", id, ev.Event, ev.Raw)
		}
		// ...and then follows from there.
		ann.postMessage("general", "after resync "+id)
		s.expect("message", "after resync "+id)
		s.close()
	}
	// Without a token there is no stream.
	r := ts.api(t, "").raw("GET", "/api/v1/events", nil, nil)
	expectAPI(t, r, http.StatusUnauthorized)
}

// lastMessageIDOf is the id of the newest message in the room, from the store.
func (c *client) lastMessageIDOf(t *testing.T, slug string) int64 {
	t.Helper()
	room, err := c.ts.store.RoomBySlug(t.Context(), slug)
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.ts.store.LatestID(t.Context(), room.ID)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
