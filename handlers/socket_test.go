package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"agora/chat"
	"agora/chat/live"
)

// sock is a room socket as the browser's htmx-ext-ws holds it.
type sock struct {
	t    *testing.T
	conn *websocket.Conn
	seen map[int64]int // message id -> times received
	ids  []int64       // message ids in arrival order
	text strings.Builder
}

var messageIDRe = regexp.MustCompile(`id="message-(\d+)"`)

func (c *client) dialRaw(path string, header http.Header) (*websocket.Conn, *http.Response, error) {
	if header == nil {
		header = http.Header{}
	}
	for _, ck := range c.http.Jar.Cookies(mustURL(c.t, c.ts.URL)) {
		header.Add("Cookie", ck.Name+"="+ck.Value)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return websocket.Dial(ctx, "ws"+strings.TrimPrefix(c.ts.URL, "http")+path, &websocket.DialOptions{HTTPHeader: header})
}

// dial opens the room's socket; after < 0 asks for no backlog.
func (c *client) dial(slug string, after int64) *sock {
	c.t.Helper()
	path := "/rooms/" + slug + "/ws"
	if after >= 0 {
		path += "?after=" + strconv.FormatInt(after, 10)
	}
	conn, res, err := c.dialRaw(path, nil)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		c.t.Fatalf("dial %s: %v (status %d)", path, err, status)
	}
	conn.SetReadLimit(1 << 24)
	s := &sock{t: c.t, conn: conn, seen: map[int64]int{}}
	c.t.Cleanup(func() { conn.CloseNow() })
	// The handshake completes before the server subscribes the socket; the
	// list of who is online is the first thing a subscriber is sent. A
	// browser closes that gap with ?after=, which tests without it do not.
	s.readUntil(`<ul id="presence"`)
	return s
}

// frame is what htmx-ext-ws sends for the composer.
func composerFrame(body, clientID string) []byte {
	b, _ := json.Marshal(map[string]any{
		"body": body, "client_msg_id": clientID,
		"HEADERS": map[string]string{"HX-Request": "true", "HX-Trigger": "composer", "HX-Trigger-Name": "", "HX-Target": "composer"},
	})
	return b
}

func (s *sock) send(b []byte) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.conn.Write(ctx, websocket.MessageText, b); err != nil {
		s.t.Fatalf("write: %v", err)
	}
}

func (s *sock) say(body string) { s.send(composerFrame(body, newClientID())) }

var clientIDs struct {
	sync.Mutex
	n int
}

func newClientID() string {
	clientIDs.Lock()
	defer clientIDs.Unlock()
	clientIDs.n++
	return fmt.Sprintf("cid-%d-%d", time.Now().UnixNano(), clientIDs.n)
}

// readUntil reads frames until the text received so far contains want.
func (s *sock) readUntil(want string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !strings.Contains(s.text.String(), want) {
		_, data, err := s.conn.Read(ctx)
		if err != nil {
			s.t.Fatalf("waiting for %q: %v\nreceived so far:\n%.2000s", want, err, s.text.String())
		}
		s.record(data)
	}
	return s.text.String()
}

func (s *sock) record(data []byte) {
	s.text.Write(data)
	for _, m := range messageIDRe.FindAllSubmatch(data, -1) {
		id, _ := strconv.ParseInt(string(m[1]), 10, 64)
		if s.seen[id] == 0 {
			s.ids = append(s.ids, id)
		}
		s.seen[id]++
	}
}

// closeCode reads until the socket ends and returns its close code (-1 when
// it ended without one).
func (s *sock) closeCode() websocket.StatusCode {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, data, err := s.conn.Read(ctx)
		if err != nil {
			return websocket.CloseStatus(err)
		}
		s.record(data)
	}
}

// expectClose reads until the server closes the socket and checks the code.
func (s *sock) expectClose(want websocket.StatusCode) {
	s.t.Helper()
	if got := s.closeCode(); got != want {
		s.t.Fatalf("socket ended with close code %d, want %d", got, want)
	}
}

func (c *client) lastMessageID(slug string) int64 {
	c.t.Helper()
	msgs := messages(doc(c.t, c.get("/rooms/"+slug).body))
	if len(msgs) == 0 {
		return 0
	}
	v, _ := attr(msgs[len(msgs)-1], "data-id")
	id, _ := strconv.ParseInt(v, 10, 64)
	return id
}

func (ts *testServer) messageCount(t *testing.T, slug string) int {
	t.Helper()
	room, err := ts.store.RoomBySlug(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := ts.store.MessagesAfter(context.Background(), room.ID, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	return len(msgs)
}

func TestTwoUsersChatLive(t *testing.T) {
	ts := newTestServer(t)
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	ann.get("/rooms/general")
	bob.get("/rooms/general")
	a, b := ann.dial("general", -1), bob.dial("general", -1)
	// Each sees the other come online.
	a.readUntil(`data-user="bob"`)
	b.readUntil(`data-user="ann"`)

	a.say("hi <b>bob</b>")
	got := b.readUntil("hi &lt;b&gt;bob&lt;/b&gt;")
	if !messageIDRe.MatchString(got) {
		t.Fatalf("no message element in %q", got)
	}
	a.readUntil("hi &lt;b&gt;bob&lt;/b&gt;") // the sender's own page gets it the same way
	b.say("hello ann")
	a.readUntil("hello ann")
	if !strings.Contains(bob.get("/rooms/general").body, "hi &lt;b&gt;bob&lt;/b&gt;") {
		t.Error("the live message is not stored")
	}
	// A form post reaches live sockets too.
	ann.postMessage("general", "sent without javascript")
	b.readUntil("sent without javascript")
}

func TestRoomsAreIsolated(t *testing.T) {
	ts := newTestServer(t)
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	bob.post("/rooms", url.Values{"name": {"elsewhere"}})
	ann.get("/rooms/general")
	a := ann.dial("general", -1)
	bob.postMessage("elsewhere", "not for general")
	bob.postMessage("general", "for general")
	got := a.readUntil("for general")
	if strings.Contains(got, "not for general") {
		t.Fatal("a message of another room reached general's socket")
	}
}

func TestStalledClientIsEvictedAndTheRoomFlows(t *testing.T) {
	ts := newTestServerWith(t, live.HubConfig{QueueLen: 16})
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	ann.get("/rooms/general")
	bob.get("/rooms/general")
	stalled := ann.dial("general", -1)
	reader := bob.dial("general", -1)
	reader.readUntil(`data-user="ann"`)
	general, _ := ts.store.RoomBySlug(context.Background(), "general")

	// Far more than the socket buffers and the queue hold, while ann reads
	// nothing and bob reads every frame.
	pad := strings.Repeat("x", 64<<10)
	for i := range 400 {
		marker := fmt.Sprintf("<p>frame %d</p>", i)
		ts.hub.Publish(general.ID, live.Frame{Data: []byte(marker + pad)})
		reader.readUntil(marker)
	}
	bob.postMessage("general", "still flowing")
	reader.readUntil("still flowing")
	// The stalled client learns it was dropped in a way that makes htmx
	// reconnect and catch up: 1013 if the close frame got through before
	// the write watchdog cut the connection (a client that reads nothing
	// may never get it), else an abnormal closure, which a browser reports
	// as 1006.
	if code := stalled.closeCode(); code != websocket.StatusTryAgainLater && code != -1 {
		t.Fatalf("the stalled socket ended with %d, want 1013 or no close frame", code)
	}
}

func TestReconnectCatchesUpExactlyOnce(t *testing.T) {
	ts := newTestServer(t)
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	bob.get("/rooms/general")
	last := ann.lastMessageID("general")
	a := ann.dial("general", last)
	a.say("before the drop")
	a.readUntil("before the drop")
	a.conn.Close(websocket.StatusNormalClosure, "")
	seenBefore := a.ids[len(a.ids)-1]

	// Bob keeps talking while ann is away, and while she reconnects.
	var missed []string
	for i := range 5 {
		missed = append(missed, fmt.Sprintf("missed %d", i))
		bob.postMessage("general", missed[i])
	}
	b := bob.dial("general", -1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 20 {
			b.send(composerFrame(fmt.Sprintf("during %d", i), newClientID()))
		}
		b.say("the end")
	}()
	again := ann.dial("general", seenBefore)
	again.readUntil("the end")
	<-done
	for _, m := range missed {
		if !strings.Contains(again.text.String(), m) {
			t.Errorf("the backlog lacks %q", m)
		}
	}
	for i := range 20 {
		if !strings.Contains(again.text.String(), fmt.Sprintf("during %d<", i)) {
			t.Errorf("lost %q", fmt.Sprintf("during %d", i))
		}
	}
	for id, n := range again.seen {
		if n != 1 {
			t.Errorf("message %d arrived %d times", id, n)
		}
		if id <= seenBefore {
			t.Errorf("message %d was already on the page (after=%d)", id, seenBefore)
		}
	}
	for i := 1; i < len(again.ids); i++ {
		if again.ids[i] <= again.ids[i-1] {
			t.Errorf("ids out of order: %v", again.ids)
			break
		}
	}
}

func TestTooFarBehindGetsTheLatestPage(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	ann.get("/rooms/general")
	general, _ := ts.store.RoomBySlug(context.Background(), "general")
	u, _ := ts.store.UserByUsername(context.Background(), "ann")
	for i := range 600 {
		ts.store.CreateMessage(context.Background(), chat.Message{RoomID: general.ID, AuthorID: u.ID, Body: fmt.Sprint("old ", i)})
	}
	s := ann.dial("general", 1)
	got := s.readUntil("old 599")
	if !strings.Contains(got, `id="messages" hx-swap-oob="innerHTML"`) || len(s.ids) != 50 {
		t.Fatalf("expected the latest 50 in place of the list, got %d messages", len(s.ids))
	}
}

func TestResentMessageIsStoredOnce(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	ann.get("/rooms/general")
	before := ts.messageCount(t, "general")
	a := ann.dial("general", -1)
	frame := composerFrame("only once", "same-client-id")
	a.send(frame)
	a.send(frame)
	a.say("marker")
	got := a.readUntil("marker")
	if n := strings.Count(got, "only once"); n != 1 {
		t.Errorf("the resent message was broadcast %d times", n)
	}
	if n := ts.messageCount(t, "general") - before; n != 2 {
		t.Errorf("%d messages stored, want 2", n)
	}
	// A plain form post with the same id is the same message too.
	ann.post("/rooms/general/messages", url.Values{"body": {"only once"}, "client_msg_id": {"same-client-id"}})
	if n := ts.messageCount(t, "general") - before; n != 2 {
		t.Errorf("%d messages stored after the form resend, want 2", n)
	}
}

func TestHostileFramesAreRefused(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	ann.get("/rooms/general")
	for _, tc := range []struct {
		name string
		typ  websocket.MessageType
		data []byte
		code websocket.StatusCode
	}{
		{"not JSON", websocket.MessageText, []byte("hello"), websocket.StatusInvalidFramePayloadData},
		{"binary", websocket.MessageBinary, composerFrame("binary", "b1"), websocket.StatusUnsupportedData},
		{"invalid UTF-8", websocket.MessageText, []byte(`{"body":"` + "\xff\xfe" + `","HEADERS":{"HX-Trigger":"composer"}}`), websocket.StatusInvalidFramePayloadData},
		{"over the read limit", websocket.MessageText, composerFrame(strings.Repeat("x", 100<<10), "big"), websocket.StatusMessageTooBig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.messageCount(t, "general")
			s := ann.dial("general", -1)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			s.conn.Write(ctx, tc.typ, tc.data)
			s.expectClose(tc.code)
			if n := ts.messageCount(t, "general"); n != before {
				t.Errorf("%d messages stored by a refused frame", n-before)
			}
		})
	}
	t.Run("invalid bodies keep the socket and store nothing", func(t *testing.T) {
		before := ts.messageCount(t, "general")
		s := ann.dial("general", -1)
		s.say("   ")
		s.readUntil(`id="composer-error"`)
		if !strings.Contains(s.text.String(), "empty") {
			t.Errorf("no reason given: %q", s.text.String())
		}
		s.say(strings.Repeat("y", 4001))
		s.readUntil("limit is 4000")
		if n := ts.messageCount(t, "general"); n != before {
			t.Errorf("%d messages stored", n-before)
		}
	})
	t.Run("flood", func(t *testing.T) {
		flooder := ts.client(t).signup("flood")
		flooder.get("/rooms/general")
		s := flooder.dial("general", -1)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for range 2000 {
			if s.conn.Write(ctx, websocket.MessageText, []byte(`{"typing":"1","HEADERS":{"HX-Trigger":"typing-signal"}}`)) != nil {
				break
			}
		}
		s.expectClose(websocket.StatusPolicyViolation)
	})
}

func TestHandshakesThatAreRefused(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	ann.get("/rooms/general")
	ann.post("/rooms", url.Values{"name": {"hidden"}, "private": {"on"}})
	bob := ts.client(t).signup("bob")

	_, res, err := ann.dialRaw("/rooms/general/ws", http.Header{"Origin": {"http://evil.example"}})
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin handshake: err=%v status=%v, want 403", err, res)
	}
	_, res, err = ts.client(t).dialRaw("/rooms/general/ws", nil)
	if err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
		t.Errorf("no session: err=%v, want 401", err)
	}
	_, res, err = bob.dialRaw("/rooms/hidden/ws", nil)
	if err == nil || res == nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("non-member on a private room: err=%v, want 404", err)
	}
	_, res, err = ann.dialRaw("/rooms/general/ws?after=-5", nil)
	if err == nil || res == nil || res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad after: err=%v, want 422", err)
	}
}

func TestLeavingOrLoggingOutClosesSockets(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	ann.get("/rooms/general")
	s := ann.dial("general", -1)
	s.readUntil(`data-user="ann"`)
	expectStatus(t, ann.post("/rooms/general/leave", nil), http.StatusSeeOther)
	s.expectClose(websocket.StatusPolicyViolation)
	if !strings.Contains(ann.get("/rooms/general").body, "ann left #general") {
		t.Error("no leave notice")
	}

	// A socket that stays open after leaving (opened before a leave in another
	// tab) cannot post: every frame re-checks membership.
	s2 := ann.dial("general", -1)
	s2.readUntil(`data-user="ann"`)
	annUser, _ := ts.store.UserByUsername(context.Background(), "ann")
	general, _ := ts.store.RoomBySlug(context.Background(), "general")
	ts.store.Leave(context.Background(), general.ID, annUser.ID)
	before := ts.messageCount(t, "general")
	s2.say("after leaving")
	s2.expectClose(websocket.StatusPolicyViolation)
	if ts.messageCount(t, "general") != before {
		t.Error("a frame from a former member was stored")
	}

	ann.get("/rooms/general")
	s3 := ann.dial("general", -1)
	s3.readUntil(`data-user="ann"`)
	ann.post("/logout", nil)
	s3.expectClose(websocket.StatusPolicyViolation)
}

func TestServerRestartLosesNothing(t *testing.T) {
	ts := newTestServer(t)
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	ann.get("/rooms/general")
	bob.get("/rooms/general")
	a := ann.dial("general", ann.lastMessageID("general"))
	bob.postMessage("general", "before restart")
	a.readUntil("before restart")

	// Ann's browser reads on while the server goes down, as a browser does.
	closed := make(chan websocket.StatusCode)
	go func() { closed <- a.closeCode() }()
	next := ts.restart(t)
	if code := <-closed; code != websocket.StatusServiceRestart {
		t.Fatalf("shutdown closed the socket with %d, want 1012", code)
	}
	lastSeen := a.ids[len(a.ids)-1]

	bob.ts = next
	ann.ts = next
	bob.postMessage("general", "while ann reconnects")
	again := ann.dial("general", lastSeen)
	bob.postMessage("general", "after restart")
	got := again.readUntil("after restart")
	if !strings.Contains(got, "while ann reconnects") {
		t.Error("lost the message sent between the restart and the reconnect")
	}
	for id, n := range again.seen {
		if n != 1 || id <= lastSeen {
			t.Errorf("message %d: received %d times (last seen before restart %d)", id, n, lastSeen)
		}
	}
}

func (ts *testServer) room(t *testing.T, slug string) chat.Room {
	t.Helper()
	room, err := ts.store.RoomBySlug(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	return room
}
