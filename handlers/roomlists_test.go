package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The room page's message list is rendered once and shared while nothing in
// it changes; whatever a reader would notice changing shows on the next load
// of every reader: a new message, an edit, a reaction, a delete, an author's
// new name, and each reader's own clock and "new messages" line.
func TestRoomPageListFollowsEveryChange(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	ann.get("/rooms/general")
	bob.get("/rooms/general")
	ann.postMessage("general", "first words")
	page := func(c *client, header map[string]string) string {
		t.Helper()
		res := c.do("GET", "/rooms/general", nil, header)
		expectStatus(t, res, http.StatusOK)
		return res.body
	}
	id := regexp.MustCompile(`<article[^>]*id="message-(\d+)"[^>]*data-author="ann"`).FindStringSubmatch(page(bob, nil))
	if id == nil {
		t.Fatal("bob's page has no message of ann's")
	}
	// Twice the same: the second from the shared list.
	if a, b := page(bob, nil), page(bob, nil); !strings.Contains(a, "first words") || !strings.Contains(b, "first words") {
		t.Fatal("the message is missing from a page")
	}

	// bob has seen it; ann posts again: bob's next page marks it new, ann's
	// (her own message) does not.
	ann.postMessage("general", "second words")
	if p := page(bob, nil); !strings.Contains(p, "second words") || !strings.Contains(p, `id="new-messages"`) {
		t.Errorf("bob's page after ann's second message: new line %v", strings.Contains(p, `id="new-messages"`))
	}
	if p := page(ann, nil); !strings.Contains(p, "second words") || strings.Contains(p, `id="new-messages"`) {
		t.Error("ann's page marks her own message new, or misses it")
	}

	expectStatus(t, ann.post("/messages/"+id[1]+"/edit", url.Values{"body": {"first words, edited"}}), http.StatusSeeOther)
	if p := page(bob, nil); !strings.Contains(p, "first words, edited") {
		t.Error("the edit is not on bob's next page")
	}
	expectStatus(t, bob.post("/messages/"+id[1]+"/reactions", url.Values{"emoji": {"👍"}}), http.StatusSeeOther)
	if p := page(ann, nil); !strings.Contains(p, `class="reaction"`) {
		t.Error("the reaction is not on ann's next page")
	}

	// A new display name changes no room's log, yet every page shows it.
	expectStatus(t, ann.post("/settings/profile", url.Values{"display_name": {"Annabel Lee"}}), http.StatusSeeOther)
	if p := page(bob, nil); !strings.Contains(p, `<span class="author">Annabel Lee</span>`) {
		t.Error("bob's page still shows ann's old name on her messages")
	}

	// Each reader's clock: times written in their zone and hours.
	paris := map[string]string{"Cookie": "agora_tz=Europe/Paris; agora_hc=en-US:h12"}
	tokyo := map[string]string{"Cookie": "agora_tz=Asia/Tokyo; agora_hc=de-DE:h23"}
	pp, pt := page(bob, paris), page(bob, tokyo)
	if !strings.Contains(pp, " AM</time>") && !strings.Contains(pp, " PM</time>") {
		t.Error("a reader counting hours to twelve got no AM/PM time")
	}
	if strings.Contains(pt, " AM</time>") || strings.Contains(pt, " PM</time>") {
		t.Error("a reader counting hours to 23 got the other reader's AM/PM times")
	}

	// The member list marks who has the room open, as it changes.
	online := regexp.MustCompile(`<li data-user="bob" data-online="true">`)
	if online.MatchString(page(ann, nil)) {
		t.Fatal("bob is online in the member list before he opened a socket")
	}
	conn, _, err := bob.dialRaw("/rooms/general/ws?after=0", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := conn.Read(context.Background()); err != nil { // the backlog: subscribed
		t.Fatal(err)
	}
	if !online.MatchString(page(ann, nil)) {
		t.Error("bob's socket is open, yet the member list does not show him online")
	}
	conn.Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(10 * time.Second)
	for online.MatchString(page(ann, nil)) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // polling for a condition under a deadline
	}
	if online.MatchString(page(ann, nil)) {
		t.Error("bob closed his socket, yet the member list shows him online")
	}

	expectStatus(t, ann.post("/messages/"+id[1]+"/delete", nil), http.StatusSeeOther)
	if p := page(bob, nil); strings.Contains(p, "first words, edited") || !strings.Contains(p, "message deleted") {
		t.Error("the deleted message still shows on bob's next page")
	}
}
