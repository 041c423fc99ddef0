package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// listed are the data-ids of the items of the list with id on a page.
func listed(t *testing.T, body, id string) []string {
	t.Helper()
	list := byID(doc(t, body), id)
	if list == nil {
		t.Fatalf("no #%s on the page:\n%.1500s", id, body)
	}
	var out []string
	for _, n := range findAll(list, func(n *html.Node) bool { c, _ := attr(n, "class"); return n.Data == "li" && c == "result" }) {
		v, _ := attr(n, "data-id")
		out = append(out, v)
	}
	return out
}

// Pinning: a member pins from the message's menu, everyone in the room sees
// the notice live and finds the message in the room's pins; a non-member, a
// member who left, a deleted message and an archived room are refused and
// change nothing.
func TestPins(t *testing.T) {
	ts := newTestServer(t)
	ann, bob, carol := ts.client(t).signup("ann"), ts.client(t).signup("bob"), ts.client(t).signup("carol")
	bob.post("/rooms/general/join", nil)
	ann.postMessage("general", "the house rules are here")
	rules := strconv.FormatInt(ann.lastMessageID("general"), 10)
	watch := bob.dial("general", -1)

	// The menu offers Pin; the plain form pins and goes back to the room.
	if !strings.Contains(ann.get("/messages/"+rules).body, `action="/messages/`+rules+`/pin"`) {
		t.Fatal("the message's menu has no pin form")
	}
	res := ann.post("/messages/"+rules+"/pin", nil)
	expectStatus(t, res, http.StatusSeeOther)
	if loc := res.header.Get("Location"); loc != "/rooms/general#message-"+rules {
		t.Errorf("after pinning: %s", loc)
	}
	frame := watch.readUntil("ann pinned a message")
	if !strings.Contains(frame, `href="/messages/`+rules+`"`) {
		t.Errorf("the live notice does not link to the pinned message:\n%.800s", frame)
	}
	page := bob.get("/rooms/general/pins")
	expectStatus(t, page, http.StatusOK)
	if got := listed(t, page.body, "pins"); strings.Join(got, ",") != rules || !strings.Contains(page.body, "the house rules are here") {
		t.Errorf("general's pins: %v", got)
	}
	if !strings.Contains(bob.get("/rooms/general").body, `id="pins-link"`) {
		t.Error("the room page does not link its pins")
	}
	// htmx: the menu comes back with Unpin, and says what happened.
	res = bob.do("POST", "/messages/"+rules+"/pin", nil, map[string]string{"HX-Request": "true"})
	expectStatus(t, res, http.StatusOK)
	if !strings.Contains(res.body, ">Pin<") || !strings.Contains(res.body, "Unpinned.") {
		t.Errorf("bob's unpin answers with:\n%.800s", res.body)
	}
	watch.readUntil("bob unpinned a message")
	if got := listed(t, ann.get("/rooms/general/pins").body, "pins"); len(got) != 0 {
		t.Errorf("after unpinning, the pins are %v", got)
	}

	// Carol reads general but is no member: refused, nothing pinned.
	expectStatus(t, carol.post("/messages/"+rules+"/pin", nil), http.StatusForbidden)
	// A private room carol cannot read: it does not exist for her.
	ann.post("/rooms", url.Values{"name": {"board"}, "private": {"on"}})
	ann.post("/rooms/board/members", url.Values{"username": {"bob"}})
	ann.postMessage("board", "board only")
	board := strconv.FormatInt(ann.lastMessageID("board"), 10)
	expectStatus(t, carol.post("/messages/"+board+"/pin", nil), http.StatusNotFound)
	expectStatus(t, carol.get("/rooms/board/pins"), http.StatusNotFound)
	// Bob leaves board: pinning there is as if it did not exist.
	expectStatus(t, bob.post("/rooms/board/leave", nil), http.StatusSeeOther)
	expectStatus(t, bob.post("/messages/"+board+"/pin", nil), http.StatusNotFound)
	expectStatus(t, bob.get("/rooms/board/pins"), http.StatusNotFound)
	// A deleted message.
	ann.postMessage("general", "soon gone")
	gone := strconv.FormatInt(ann.lastMessageID("general"), 10)
	ann.post("/messages/"+gone+"/delete", nil)
	expectStatus(t, ann.post("/messages/"+gone+"/pin", nil), http.StatusUnprocessableEntity)
	// Hostile ids.
	for _, id := range []string{"0", "-1", "abc", "99999999999"} {
		expectStatus(t, ann.post("/messages/"+id+"/pin", nil), http.StatusNotFound)
	}
	if got := listed(t, ann.get("/rooms/general/pins").body, "pins"); len(got) != 0 {
		t.Errorf("refused pins left %v pinned", got)
	}
	if strings.Contains(ann.get("/rooms/general").body, "carol pinned") {
		t.Error("a refused pin left a notice")
	}
}

// Saving is for the saver alone: /saved lists what they saved and may still
// read; nobody else sees it, and a message they cannot read cannot be saved.
func TestSaved(t *testing.T) {
	ts := newTestServer(t)
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	ann.postMessage("general", "worth keeping")
	keep := strconv.FormatInt(ann.lastMessageID("general"), 10)
	ann.post("/rooms", url.Values{"name": {"board"}, "private": {"on"}})
	ann.post("/rooms/board/members", url.Values{"username": {"bob"}})
	ann.postMessage("board", "board secret")
	secret := strconv.FormatInt(ann.lastMessageID("board"), 10)

	res := bob.do("POST", "/messages/"+keep+"/save", nil, map[string]string{"HX-Request": "true"})
	expectStatus(t, res, http.StatusOK)
	if !strings.Contains(res.body, ">Unsave<") || !strings.Contains(res.body, "Saved.") {
		t.Errorf("saving answers with:\n%.800s", res.body)
	}
	expectStatus(t, bob.post("/messages/"+secret+"/save", url.Values{"back": {"saved"}}), http.StatusSeeOther)
	if got := listed(t, bob.get("/saved").body, "saved"); strings.Join(got, ",") != secret+","+keep {
		t.Errorf("bob's saved: %v, want %s,%s", got, secret, keep)
	}
	if got := listed(t, ann.get("/saved").body, "saved"); len(got) != 0 {
		t.Errorf("ann sees saved messages: %v", got)
	}
	if !strings.Contains(bob.get("/search?q=is:saved").body, "board secret") {
		t.Error("is:saved does not find bob's saved message")
	}
	// Out of board, its message leaves bob's list, and cannot be saved again.
	expectStatus(t, bob.post("/rooms/board/leave", nil), http.StatusSeeOther)
	if got := listed(t, bob.get("/saved").body, "saved"); strings.Join(got, ",") != keep {
		t.Errorf("bob's saved after leaving board: %v", got)
	}
	expectStatus(t, bob.post("/messages/"+secret+"/save", nil), http.StatusNotFound)
	// Unsave from the list.
	res = bob.post("/messages/"+keep+"/save", url.Values{"back": {"saved"}})
	if expectStatus(t, res, http.StatusSeeOther); res.header.Get("Location") != "/saved" {
		t.Errorf("unsaving from the list goes to %s", res.header.Get("Location"))
	}
	if got := listed(t, bob.get("/saved").body, "saved"); len(got) != 0 {
		t.Errorf("after unsaving: %v", got)
	}
}

// The API pins and saves as the forms do, with the same rights.
func TestPinsAndSavedAPI(t *testing.T) {
	ts := newTestServer(t)
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	ann.postMessage("general", "pin me by API")
	id := strconv.FormatInt(ann.lastMessageID("general"), 10)
	annAPI, bobAPI := ts.api(t, ann.makeToken("a")), ts.api(t, bob.makeToken("b"))

	var got struct {
		Message struct {
			ID int64 `json:"id"`
		} `json:"message"`
		Pinned *bool `json:"pinned"`
		Saved  *bool `json:"saved"`
	}
	r := annAPI.call("POST", "/api/v1/messages/"+id+"/pin", nil)
	if r.json(t, &got); r.status != http.StatusOK || got.Pinned == nil || !*got.Pinned {
		t.Fatalf("pin by API: %d %s", r.status, r.body)
	}
	var list struct {
		Messages []struct {
			ID   int64  `json:"id"`
			Body string `json:"body"`
		} `json:"messages"`
	}
	r = bobAPI.call("GET", "/api/v1/rooms/general/pins", nil)
	if r.json(t, &list); r.status != http.StatusOK || len(list.Messages) != 1 || list.Messages[0].Body != "pin me by API" {
		t.Errorf("pins by API: %d %s", r.status, r.body)
	}
	// Bob is no member of general here (the API does not join him): 403.
	if r = bobAPI.call("POST", "/api/v1/messages/"+id+"/pin", nil); r.status != http.StatusForbidden || r.errCode(t) != "forbidden" {
		t.Errorf("a non-member pins by API: %d %s", r.status, r.body)
	}
	r = bobAPI.call("POST", "/api/v1/messages/"+id+"/save", nil)
	if r.json(t, &got); r.status != http.StatusOK || got.Saved == nil || !*got.Saved {
		t.Errorf("save by API: %d %s", r.status, r.body)
	}
	list.Messages = nil
	r = bobAPI.call("GET", "/api/v1/saved", nil)
	if r.json(t, &list); len(list.Messages) != 1 {
		t.Errorf("bob's saved by API: %s", r.body)
	}
	list.Messages = nil
	r = annAPI.call("GET", "/api/v1/saved", nil)
	if r.json(t, &list); len(list.Messages) != 0 {
		t.Errorf("ann's saved by API: %s", r.body)
	}
	if r = bobAPI.call("POST", "/api/v1/messages/999999/save", nil); r.status != http.StatusNotFound {
		t.Errorf("saving no message: %d", r.status)
	}
}
