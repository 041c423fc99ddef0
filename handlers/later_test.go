package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"agora/chat"
	"agora/chat/live"
	"agora/chat/live/cluster"
	"agora/db"
)

// soon is an RFC 3339 time d from now: the send_at of a test that waits for
// it to fire.
func soon(d time.Duration) string { return time.Now().Add(d).UTC().Format(time.RFC3339) }

// scheduledOf is what the store holds for username.
func (ts *testServer) scheduledOf(t *testing.T, username string) []chat.Scheduled {
	t.Helper()
	u, err := ts.store.UserByUsername(context.Background(), username)
	if err != nil {
		t.Fatal(err)
	}
	list, err := ts.store.ScheduledOf(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// dueNow makes username's pending rows due now, through the store's own
// edit (which moves their jobs), so a test need not wait for their time.
func (ts *testServer) dueNow(t *testing.T, username string) {
	t.Helper()
	for _, sc := range ts.scheduledOf(t, username) {
		if sc.State != chat.ScheduledPending {
			continue
		}
		if _, err := ts.store.EditScheduled(context.Background(), sc.UserID, sc.ID, sc.Body, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
}

// countBody is how many messages of slug's latest page carry body exactly.
func (ts *testServer) countBody(t *testing.T, slug, body string) int {
	t.Helper()
	msgs, err := ts.store.Messages(context.Background(), ts.room(t, slug).ID, 0, 200)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range msgs {
		if m.Body == body {
			n++
		}
	}
	return n
}

// Send later from the room's form (no JavaScript): the room says when; the
// message waits on /scheduled, where its text and time change; at its time
// it arrives live for the room, once, from its author.
func TestSendLaterFromTheForm(t *testing.T) {
	ts := newTestServer(t)
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	bob.post("/rooms/general/join", nil)
	watch := bob.dial("general", -1)

	page := ann.get("/rooms/general").body
	if !strings.Contains(page, `name="send_at"`) || !strings.Contains(page, `id="send-at"`) {
		t.Fatal("the composer has no send_at field")
	}
	res := ann.post("/rooms/general/messages", url.Values{"body": {"first draft"}, "send_at": {soon(time.Hour)}})
	expectStatus(t, res, http.StatusSeeOther)
	if loc := res.header.Get("Location"); loc != "/rooms/general" {
		t.Fatalf("after scheduling: %s", loc)
	}
	said := ann.get("/rooms/general")
	if !strings.Contains(said.body, "Scheduled for") {
		t.Errorf("the room does not say the message was scheduled:\n%.1500s", said.body)
	}
	if ts.countBody(t, "general", "first draft") != 0 {
		t.Fatal("a scheduled message was sent at once")
	}
	list := ts.scheduledOf(t, "ann")
	if len(list) != 1 || list[0].State != chat.ScheduledPending {
		t.Fatalf("ann's scheduled: %+v", list)
	}
	id := strconv.FormatInt(list[0].ID, 10)
	sched := ann.get("/scheduled")
	expectStatus(t, sched, http.StatusOK)
	item := byID(doc(t, sched.body), "scheduled-"+id)
	if item == nil || !strings.Contains(text(item), "first draft") || !strings.Contains(sched.body, `action="/scheduled/`+id+`/cancel"`) {
		t.Fatalf("/scheduled does not list it with its forms:\n%.3000s", sched.body)
	}
	// Nobody else sees it, nor changes it.
	if strings.Contains(bob.get("/scheduled").body, "first draft") {
		t.Error("bob's /scheduled shows ann's message")
	}
	expectStatus(t, bob.post("/scheduled/"+id+"/edit", url.Values{"body": {"hijacked"}, "send_at": {soon(time.Hour)}}), http.StatusNotFound)
	expectStatus(t, bob.post("/scheduled/"+id+"/cancel", nil), http.StatusNotFound)

	// Edited: the new text and time; then due now.
	res = ann.post("/scheduled/"+id+"/edit", url.Values{"body": {"final words"}, "send_at": {soon(2 * time.Hour)}})
	expectStatus(t, res, http.StatusSeeOther)
	if l := ts.scheduledOf(t, "ann"); l[0].Body != "final words" || l[0].At.Sub(list[0].At) < 30*time.Minute {
		t.Fatalf("after the edit: %+v", l[0])
	}
	ts.dueNow(t, "ann")
	watch.readUntil("final words")
	waitFor(t, "the row to be sent", func() bool { return len(ts.scheduledOf(t, "ann")) == 0 })
	if n := ts.countBody(t, "general", "final words"); n != 1 {
		t.Errorf("the scheduled message is in general %d times", n)
	}
	if ts.countBody(t, "general", "first draft") != 0 {
		t.Error("the text before the edit was sent")
	}
	m, err := ts.store.MessageByID(context.Background(), ann.lastMessageID("general"))
	if err != nil || m.Body != "final words" || m.AuthorName == "" || m.Author != "ann" {
		t.Errorf("the sent message: %+v (%v)", m, err)
	}
	if strings.Contains(ann.get("/scheduled").body, "final words") {
		t.Error("a sent message is still on /scheduled")
	}

	// Cancelled: never sent.
	ann.post("/rooms/general/messages", url.Values{"body": {"never mind"}, "send_at": {soon(time.Hour)}})
	list = ts.scheduledOf(t, "ann")
	if len(list) != 1 {
		t.Fatalf("ann's scheduled: %+v", list)
	}
	expectStatus(t, ann.post("/scheduled/"+strconv.FormatInt(list[0].ID, 10)+"/cancel", nil), http.StatusSeeOther)
	if len(ts.scheduledOf(t, "ann")) != 0 {
		t.Error("a cancelled message is still scheduled")
	}
	if !strings.Contains(ann.get("/scheduled").body, `id="scheduled-empty"`) {
		t.Error("/scheduled does not say nothing is scheduled")
	}
}

// Hostile times and bodies: refused with the reason beside the composer,
// the text kept, nothing stored.
func TestSendLaterRefusesBadTimes(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	for _, c := range []struct{ body, at, why string }{
		{"too late", "2020-01-01T10:00", "has passed"},
		{"too late", time.Now().Add(-time.Minute).UTC().Format(time.RFC3339), "has passed"},
		{"too far", soon(365 * 24 * time.Hour), "days away"},
		{"bad", "next tuesday", "is not a time"},
		{"bad", "2026-13-45T99:99", "is not a time"},
		{"/topic sneaky", soon(time.Hour), "A command runs at once"},
		{strings.Repeat("x", 4001), soon(time.Hour), "4000"},
	} {
		res := ann.post("/rooms/general/messages", url.Values{"body": {c.body}, "send_at": {c.at}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		errEl := byID(doc(t, res.body), "composer-error")
		if errEl == nil || !strings.Contains(text(errEl), c.why) {
			t.Errorf("send_at %q: the refusal does not say %q:\n%.600s", c.at, c.why, res.body)
		}
		if len(c.body) < 100 && !strings.Contains(res.body, c.body) {
			t.Errorf("send_at %q: the text left the composer", c.at)
		}
	}
	// A year away through the edit form too.
	ann.post("/rooms/general/messages", url.Values{"body": {"ok"}, "send_at": {soon(time.Hour)}})
	list := ts.scheduledOf(t, "ann")
	if len(list) != 1 {
		t.Fatalf("scheduled after the refusals: %+v", list)
	}
	id := strconv.FormatInt(list[0].ID, 10)
	res := ann.post("/scheduled/"+id+"/edit", url.Values{"body": {"ok"}, "send_at": {soon(400 * 24 * time.Hour)}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if errEl := byID(doc(t, res.body), "form-error"); errEl == nil || !strings.Contains(text(errEl), "days away") {
		t.Errorf("the edit's refusal:\n%.1500s", res.body)
	}
	if got := ts.scheduledOf(t, "ann"); !got[0].At.Equal(list[0].At) {
		t.Errorf("a refused edit moved the time: %v, was %v", got[0].At, list[0].At)
	}
	// A private room ann is not in does not exist for her.
	bob := ts.client(t).signup("bob")
	bob.post("/rooms", url.Values{"name": {"board"}, "private": {"on"}})
	expectStatus(t, ann.post("/rooms/board/messages", url.Values{"body": {"hi"}, "send_at": {soon(time.Hour)}}), http.StatusNotFound)
}

// The room left before the time: nothing is posted, the row says why on
// /scheduled, and the agora account tells its author in their direct
// conversation.
func TestSendLaterToARoomLeftIsNotPosted(t *testing.T) {
	ts := newTestServer(t)
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	ann.post("/rooms", url.Values{"name": {"crew"}, "private": {"on"}})
	ann.post("/rooms/crew/members", url.Values{"username": {"bob"}})
	watch := ann.dial("crew", -1)
	expectStatus(t, bob.post("/rooms/crew/messages", url.Values{"body": {"from the past"}, "send_at": {soon(time.Hour)}}), http.StatusSeeOther)
	expectStatus(t, bob.post("/rooms/crew/leave", nil), http.StatusSeeOther)
	watch.readUntil("bob left")
	ts.dueNow(t, "bob")
	waitFor(t, "the message's run", func() bool {
		l := ts.scheduledOf(t, "bob")
		return len(l) == 1 && l[0].State == chat.ScheduledFailed
	})
	if n := ts.countBody(t, "crew", "from the past"); n != 0 {
		t.Errorf("sent to a room its author left: %d", n)
	}
	page := bob.get("/scheduled").body
	if !strings.Contains(page, "Not sent") || !strings.Contains(page, "from the past") {
		t.Errorf("/scheduled does not say it failed:\n%.2000s", page)
	}
	dm := bob.get("/dm/agora")
	expectStatus(t, dm, http.StatusOK)
	if !strings.Contains(dm.body, "was not sent") || !strings.Contains(dm.body, "#crew") {
		t.Errorf("agora's conversation does not say why:\n%.3000s", dm.body)
	}
}

// The socket and the API schedule through the same checks; the API lists,
// edits and cancels.
func TestSendLaterOverTheSocketAndTheAPI(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	ann.post("/rooms/general/join", nil)
	s := ann.dial("general", -1)
	b, _ := json.Marshal(map[string]any{"body": "by socket", "client_msg_id": "c1", "send_at": soon(time.Hour),
		"HEADERS": map[string]string{"HX-Request": "true", "HX-Trigger": "composer"}})
	s.send(b)
	got := s.readUntil(`data-done="c1"`)
	if !strings.Contains(got, "Scheduled for") {
		t.Errorf("the socket's answer:\n%.800s", got)
	}
	b, _ = json.Marshal(map[string]any{"body": "past", "client_msg_id": "c2", "send_at": "2001-01-01T00:00",
		"HEADERS": map[string]string{"HX-Request": "true", "HX-Trigger": "composer"}})
	s.send(b)
	s.readUntil("has passed")

	api := ts.api(t, ann.makeToken("cli"))
	res := api.call("POST", "/api/v1/rooms/general/messages", map[string]string{"body": "by api", "send_at": soon(time.Hour)})
	expectAPI(t, res, http.StatusAccepted)
	var sc struct {
		ID     int64  `json:"id"`
		Kind   string `json:"kind"`
		Room   string `json:"room"`
		SendAt string `json:"send_at"`
		State  string `json:"state"`
	}
	res.json(t, &sc)
	if sc.ID == 0 || sc.Kind != "message" || sc.Room != "general" || sc.State != "pending" {
		t.Errorf("the API's answer: %s", res.body)
	}
	for _, bad := range []string{"yesterday", "2001-01-01T00:00:00Z", soon(366 * 24 * time.Hour)} {
		res := api.call("POST", "/api/v1/rooms/general/messages", map[string]string{"body": "x", "send_at": bad})
		expectAPI(t, res, http.StatusUnprocessableEntity)
	}
	var list struct {
		Scheduled []struct {
			ID   int64  `json:"id"`
			Body string `json:"body"`
		} `json:"scheduled"`
	}
	res = api.call("GET", "/api/v1/scheduled", nil)
	expectAPI(t, res, http.StatusOK)
	res.json(t, &list)
	if len(list.Scheduled) != 2 {
		t.Fatalf("the API lists %s", res.body)
	}
	path := "/api/v1/scheduled/" + strconv.FormatInt(sc.ID, 10)
	expectAPI(t, api.call("PATCH", path, map[string]string{"body": "by api, edited"}), http.StatusOK)
	expectAPI(t, api.call("PATCH", path, map[string]string{"send_at": "garbage"}), http.StatusUnprocessableEntity)
	expectAPI(t, api.call("DELETE", path, nil), http.StatusOK)
	expectAPI(t, api.call("DELETE", path, nil), http.StatusNotFound)
	if l := ts.scheduledOf(t, "ann"); len(l) != 1 || l[0].Body != "by socket" {
		t.Errorf("left scheduled: %+v", l)
	}
}

// A message due while the server is down is sent once it is back, once.
func TestSendLaterSurvivesARestart(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	expectStatus(t, ann.post("/rooms/general/messages", url.Values{"body": {"after the restart"}, "send_at": {soon(time.Hour)}}), http.StatusSeeOther)
	ts.stop()
	// Due while the server is down: the store alone, as an operator's
	// clock would find it.
	store, err := db.Open(context.Background(), ts.path)
	if err != nil {
		t.Fatal(err)
	}
	(&testServer{store: store}).dueNow(t, "ann")
	store.Close()
	ts = startTestServer(t, ts.path, live.HubConfig{}, false)
	waitFor(t, "the message to be sent", func() bool { return ts.countBody(t, "general", "after the restart") > 0 })
	waitFor(t, "the row to be done", func() bool { return len(ts.scheduledOf(t, "ann")) == 0 })
	if n := ts.countBody(t, "general", "after the restart"); n != 1 {
		t.Errorf("sent %d times", n)
	}
}

// Reminders: /remind in the composer and "Remind me" on a message, refused
// clearly when the time is bad; at their time a message from agora in the
// user's conversation with it, live.
func TestReminders(t *testing.T) {
	ts := newTestServer(t)
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	bob.post("/rooms/general/join", nil)
	for _, c := range []struct{ cmd, why string }{
		{"/remind me in -5m to stretch", "has passed"},
		{"/remind me in 400d to renew", "days away"},
		{"/remind me in 1y to renew", "days away"},
		{"/remind me at 2020-01-01 10:00 to vote", "has passed"},
		{"/remind me whenever to x", "could not read when"},
		{"/remind me in 20 bananas to x", "not a length of time"},
		{"/remind me at 25:99 x", "not a time of day"},
		{"/remind me in 20m", "what to remind you of"},
		{"/remind", "needs when and what"},
	} {
		res := ann.post("/rooms/general/messages", url.Values{"body": {c.cmd}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if errEl := byID(doc(t, res.body), "composer-error"); errEl == nil || !strings.Contains(text(errEl), c.why) {
			t.Errorf("%q: the refusal does not say %q:\n%.600s", c.cmd, c.why, res.body)
		}
	}
	if l := ts.scheduledOf(t, "ann"); len(l) != 0 {
		t.Fatalf("refused reminders were stored: %+v", l)
	}
	for _, cmd := range []string{"/remind me in 20m to stretch", "/remind me at 15:00 call the bank", "/remind me tomorrow standup notes"} {
		res := ann.post("/rooms/general/messages", url.Values{"body": {cmd}})
		expectStatus(t, res, http.StatusSeeOther)
		if said := ann.get("/rooms/general").body; !strings.Contains(said, "I will remind you") {
			t.Errorf("%q: the room does not say when:\n%.1000s", cmd, said)
		}
	}
	bob.postMessage("general", "the deploy is at four")
	msg := strconv.FormatInt(bob.lastMessageID("general"), 10)
	if !strings.Contains(ann.get("/messages/"+msg).body, `action="/messages/`+msg+`/remind"`) {
		t.Fatal("the message's menu has no Remind me")
	}
	expectStatus(t, ann.post("/messages/"+msg+"/remind", url.Values{"in": {"soonish"}}), http.StatusUnprocessableEntity)
	expectStatus(t, ann.post("/messages/"+msg+"/remind", url.Values{"in": {"-1h"}}), http.StatusUnprocessableEntity)
	res := ann.do("POST", "/messages/"+msg+"/remind", url.Values{"in": {"1h"}}, map[string]string{"HX-Request": "true"})
	expectStatus(t, res, http.StatusOK)
	if !strings.Contains(res.body, "I will remind you") {
		t.Errorf("the menu's answer:\n%.800s", res.body)
	}
	list := ts.scheduledOf(t, "ann")
	if len(list) != 4 {
		t.Fatalf("ann's reminders: %+v", list)
	}
	if !strings.Contains(ann.get("/scheduled").body, "A reminder of") {
		t.Error("/scheduled does not list the reminder of a message")
	}
	// Brought forward through the store's own edit, so the test need not
	// wait an hour: the reminder of bob's message and the one to stretch.
	ctx := context.Background()
	annID := list[0].UserID
	for _, sc := range list {
		if sc.AboutID != 0 || sc.Body == "stretch" {
			if _, err := ts.store.EditScheduled(ctx, annID, sc.ID, sc.Body, time.Now().Add(time.Second)); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, "two reminders", func() bool { return len(ts.scheduledOf(t, "ann")) == 2 })
	dm := ann.get("/dm/agora")
	expectStatus(t, dm, http.StatusOK)
	if !strings.Contains(dm.body, "Reminder: stretch") || !strings.Contains(dm.body, "the deploy is at four") {
		t.Errorf("agora's conversation:\n%.4000s", dm.body)
	}
	// Nobody signs in as agora, and it is nobody's to take.
	agora := ts.client(t)
	res = agora.post("/login", url.Values{"username": {"agora"}, "password": {""}})
	if res.status == http.StatusSeeOther {
		t.Error("someone signed in as agora")
	}
	res = agora.post("/signup", url.Values{"username": {"agora"}, "password": {"password-agora"}})
	if res.status == http.StatusSeeOther {
		t.Error("someone signed up as agora")
	}
}

// Two nodes of a cluster, each with its job runner, share the queue: each
// message scheduled on either is sent once, and shows live on both.
func TestSendLaterOnTwoNodesIsSentOnce(t *testing.T) {
	ns := startNATS(t)
	a := newTestServer(t)
	b := startTestServer(t, a.path, live.HubConfig{}, false)
	joinCluster(t, a, ns, cluster.Options{})
	joinCluster(t, b, ns, cluster.Options{})
	ann, bob := a.client(t).signup("ann"), b.client(t).signup("bob")
	ann.post("/rooms/general/join", nil)
	bob.post("/rooms/general/join", nil)
	annSock, bobSock := ann.dial("general", -1), bob.dial("general", -1)
	at := soon(time.Hour)
	for i := range 6 {
		c, who := ann, "ann"
		if i%2 == 1 {
			c, who = bob, "bob"
		}
		expectStatus(t, c.post("/rooms/general/messages", url.Values{"body": {"later " + who + " " + strconv.Itoa(i)}, "send_at": {at}}), http.StatusSeeOther)
	}
	a.dueNow(t, "ann")
	b.dueNow(t, "bob")
	for i := range 6 {
		who := map[int]string{0: "ann", 1: "bob"}[i%2]
		annSock.readUntil("later " + who + " " + strconv.Itoa(i))
		bobSock.readUntil("later " + who + " " + strconv.Itoa(i))
	}
	waitFor(t, "every row done", func() bool { return len(a.scheduledOf(t, "ann"))+len(a.scheduledOf(t, "bob")) == 0 })
	for i := range 6 {
		who := map[int]string{0: "ann", 1: "bob"}[i%2]
		if n := a.countBody(t, "general", "later "+who+" "+strconv.Itoa(i)); n != 1 {
			t.Errorf("message %d sent %d times", i, n)
		}
	}
}
