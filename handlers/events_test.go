package handlers_test

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

// dialQuery opens a room's socket with a query of its own.
func (c *client) dialQuery(slug, query string) *sock {
	c.t.Helper()
	conn, res, err := c.dialRaw("/rooms/"+slug+"/ws?"+query, nil)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		c.t.Fatalf("dial %s?%s: %v (status %d)", slug, query, err, status)
	}
	conn.SetReadLimit(1 << 24)
	s := &sock{t: c.t, conn: conn, seen: map[int64]int{}}
	c.t.Cleanup(func() { conn.CloseNow() })
	s.readUntil(`<ul id="presence"`)
	return s
}

var messageElementRe = regexp.MustCompile(`<(?:article|div) class="(?:message[^"]*|notice)" id="message-(\d+)"`)

// messageElements lists, in order, the message ids of the message elements
// in the text.
func messageElements(text string) []string {
	var ids []string
	for _, m := range messageElementRe.FindAllStringSubmatch(text, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// A client that was away while a message was edited, another deleted and a
// third reacted to learns each change once, in order, when it reconnects
// with the last message id it has; a page load shows the same.
func TestReconnectGetsEditsDeletesAndReactions(t *testing.T) {
	ts := newTestServer(t)
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	bob.get("/rooms/general")
	ann.get("/rooms/general")
	for _, body := range []string{"first draft", "regrettable", "good news"} {
		bob.postMessage("general", body)
	}
	page := ann.get("/rooms/general").body
	msgs := messages(doc(t, page))
	if len(msgs) < 3 {
		t.Fatalf("the page shows %d messages", len(msgs))
	}
	var ids []string
	for _, m := range msgs[len(msgs)-3:] {
		id, _ := attr(m, "data-id")
		ids = append(ids, id)
	}
	last, _ := strconv.ParseInt(ids[2], 10, 64)
	a := ann.dial("general", last)
	a.conn.Close(websocket.StatusNormalClosure, "")

	// While ann is away.
	expectStatus(t, bob.post("/messages/"+ids[0]+"/edit", url.Values{"body": {"final text"}}), 303)
	expectStatus(t, bob.post("/messages/"+ids[1]+"/delete", nil), 303)
	expectStatus(t, bob.post("/messages/"+ids[2]+"/reactions", url.Values{"emoji": {"🎉"}}), 303)

	again := ann.dial("general", last)
	got := again.readUntil(`id="nav-lists"`)
	if els := messageElements(got); strings.Join(els, ",") != strings.Join(ids, ",") {
		t.Errorf("the reconnect brought messages %v, want the three changes %v once each, in order:\n%s", els, ids, got)
	}
	for _, want := range []string{"final text", "message deleted", "🎉 1"} {
		if !strings.Contains(got, want) {
			t.Errorf("the reconnect lacks %q", want)
		}
	}
	if strings.Contains(got, "first draft") || strings.Contains(got, "regrettable") {
		t.Error("the reconnect shows text that was changed")
	}

	// The page shows the same.
	page = ann.get("/rooms/general").body
	for _, want := range []string{"final text", "message deleted", "🎉 1"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}

	// A client that says how far in the room's log it is (app.js sends
	// ?seq=) is sent nothing it has.
	seq := regexp.MustCompile(`data-seq="(\d+)"`).FindAllStringSubmatch(got, -1)
	top := seq[len(seq)-1][1]
	upToDate := ann.dialQuery("general", "after="+ids[2]+"&seq="+top)
	if els := messageElements(upToDate.readUntil(`id="nav-lists"`)); len(els) != 0 {
		t.Errorf("an up-to-date client was sent %v again", els)
	}
	// And one that is one event behind gets just that event.
	prev, _ := strconv.Atoi(top)
	behind := ann.dialQuery("general", fmt.Sprintf("after=%s&seq=%d", ids[2], prev-1))
	if els := messageElements(behind.readUntil(`id="nav-lists"`)); strings.Join(els, ",") != ids[2] {
		t.Errorf("a client one event behind got %v, want [%s]", els, ids[2])
	}
	expectStatus(t, ann.get("/rooms/general/ws?seq=x"), 422)
}

// A message is rendered once however many members have other rooms open;
// each of them sees the room's counts move in a small fragment, never a
// whole sidebar, and the mentioned see the mention counted.
func TestSidebarCostDoesNotGrowWithMembers(t *testing.T) {
	rendered := func(members int) int64 {
		ts := newTestServer(t)
		ann := ts.client(t).signup("ann")
		ann.get("/rooms/general")
		ann.post("/rooms", url.Values{"name": {"lounge"}})
		general := ts.room(t, "general")
		var socks []*sock
		var seen []int
		for i := range members {
			c := ts.client(t).signup(fmt.Sprintf("member%d", i))
			c.get("/rooms/general") // a member of general...
			c.get("/rooms/lounge")
			s := c.dial("lounge", -1) // ...with lounge open
			// The lists as the hub first read them, whatever changed
			// since the page.
			seen = append(seen, len(s.readUntil(`id="nav-lists"`)))
			socks = append(socks, s)
		}
		before := ts.app.FramesRendered()
		ann.postMessage("general", "hello @member0")
		for i, s := range socks {
			want := "1"
			if i == 0 {
				want = "1 @1"
			}
			if got := s.readCounts(general.ID, want); strings.Contains(got[seen[i]:], `id="nav-lists"`) {
				t.Errorf("member %d was sent a whole sidebar", i)
			}
		}
		return ts.app.FramesRendered() - before
	}
	few, many := rendered(2), rendered(8)
	if few != many || many != 1 {
		t.Errorf("fragments rendered for one message: %d with 2 members elsewhere, %d with 8; want 1", few, many)
	}
}

// A flood in one room is cut off and does not hold up another room.
func TestFloodInOneRoomLeavesOthersFlowing(t *testing.T) {
	ts := newTestServer(t)
	ann, bob, carl := ts.client(t).signup("ann"), ts.client(t).signup("bob"), ts.client(t).signup("carl")
	ann.get("/rooms/general")
	bob.post("/rooms", url.Values{"name": {"quiet"}})
	carl.get("/rooms/quiet")
	flood := ann.dial("general", -1)
	listener := carl.dial("quiet", -1)
	done := make(chan websocket.StatusCode, 1)
	go func() {
		for i := 0; ; i++ {
			if err := flood.conn.Write(t.Context(), websocket.MessageText, composerFrame(fmt.Sprint("spam ", i), newClientID())); err != nil {
				break
			}
		}
		done <- flood.closeCode()
	}()
	bob.postMessage("quiet", "still here")
	listener.readUntil("still here")
	if code := <-done; code != websocket.StatusPolicyViolation {
		t.Errorf("the flood ended with %d, want 1008", code)
	}
	if n := ts.messageCount(t, "quiet"); n < 1 {
		t.Error("the quiet room lost its message")
	}
}
