package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"agora/chat/live"
	"agora/chat/live/cluster"
)

// replyIn posts a reply through the no-JavaScript form and returns its id,
// read from the redirect back to the thread.
func (c *client) replyIn(slug string, root int64, body string, alsoToRoom bool) int64 {
	c.t.Helper()
	form := url.Values{"body": {body}, "thread_id": {strconv.FormatInt(root, 10)}}
	if alsoToRoom {
		form.Set("also_to_room", "1")
	}
	res := c.post("/rooms/"+slug+"/messages", form)
	loc := res.header.Get("Location")
	m := regexp.MustCompile(`^/threads/(\d+)#message-(\d+)$`).FindStringSubmatch(loc)
	if res.status != http.StatusSeeOther || m == nil {
		c.t.Fatalf("reply in %s: %d %q %.300s", slug, res.status, loc, res.body)
	}
	id, _ := strconv.ParseInt(m[2], 10, 64)
	return id
}

// threadsUnreadRe finds the sidebar's Threads count in a page or frames.
var threadsUnreadRe = regexp.MustCompile(`id="threads-unread"[^>]*>(?:<span class="badge unread-badge"[^>]*>(\d+)</span>)?</span>`)

// threadsUnread is the last Threads count in text: "" when it shows none.
func threadsUnread(text string) (string, bool) {
	all := threadsUnreadRe.FindAllStringSubmatch(text, -1)
	if len(all) == 0 {
		return "", false
	}
	return all[len(all)-1][1], true
}

// readThreadsUnread reads until the last Threads count the socket was sent is want.
func (s *sock) readThreadsUnread(want string) {
	s.t.Helper()
	s.readMatching("the Threads count "+strconv.Quote(want), func(text string) bool {
		got, ok := threadsUnread(text)
		return ok && got == want
	})
}

// readMatching reads frames until ok holds for all the text received.
func (s *sock) readMatching(what string, ok func(text string) bool) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for !ok(s.text.String()) {
		_, data, err := s.conn.Read(ctx)
		if err != nil {
			s.t.Fatalf("waiting for %s: %v\nreceived so far:\n%.3000s", what, err, s.text.String())
		}
		s.record(data)
	}
}

// childIDs are the ids of the elements under the element with id.
func childIDs(t *testing.T, page, id string) []string {
	t.Helper()
	el := byID(doc(t, page), id)
	if el == nil {
		t.Fatalf("no #%s on the page:\n%.2000s", id, page)
	}
	var ids []string
	for _, n := range findAll(el, func(n *html.Node) bool {
		v, ok := attr(n, "id")
		return ok && strings.HasPrefix(v, "message-")
	}) {
		v, _ := attr(n, "id")
		ids = append(ids, v)
	}
	return ids
}

func msgID(id int64) string { return "message-" + strconv.FormatInt(id, 10) }

// Two people hold a thread while a third watches the room, which shows
// only the root's summary, live; the root's author follows without asking,
// sees the Threads count on every device and reading the thread on one
// clears it on all.
func TestThreadsOnOneNode(t *testing.T) {
	ts := newTestServer(t)
	checkThreads(t, ts, ts)
}

func checkThreads(t *testing.T, a, b *testServer) {
	ann := a.client(t).signup("ann")
	bob := b.client(t).signup("bob")
	cat := a.client(t).signup("cat")
	annLaptop := b.client(t).login("ann")
	for _, c := range []*client{ann, bob, cat} {
		c.get("/rooms/general")
	}
	ann.postMessage("general", "where do the release notes go?")
	root, _ := strconv.ParseInt(ann.lastMessage("/rooms/general"), 10, 64)

	watcher := cat.dial("general", -1)       // cat watches the room
	annSock := annLaptop.dial("general", -1) // ann's laptop, the room open
	annSock.readUntil(`id="presence"`)

	r1 := bob.replyIn("general", root, "in the wiki, @cat knows", false)
	// The room's sockets get the summary (once rendered, the same bytes for all).
	watcher.readUntil(`id="summary-` + strconv.FormatInt(root, 10) + `"`)
	frames := watcher.readUntil(`data-replies="1"`)
	if strings.Contains(frames, `hx-swap-oob="beforeend:#messages"><article class="message" id="`+msgID(r1)) {
		t.Fatalf("the reply went into the room's list:\n%.2000s", frames)
	}
	// The room's page shows the summary, not the reply.
	page := cat.get("/rooms/general").body
	if slicesContains(childIDs(t, page, "messages"), msgID(r1)) {
		t.Fatal("the room page lists a reply that was not sent to the room")
	}
	sum := findAll(doc(t, page), func(n *html.Node) bool { v, _ := attr(n, "class"); return v == "thread-summary" })
	if len(sum) != 1 {
		t.Fatalf("%d thread summaries on the room page; want 1", len(sum))
	}
	if href, _ := attr(sum[0], "href"); href != "/threads/"+strconv.FormatInt(root, 10) {
		t.Fatalf("summary links %q", href)
	}
	if n, _ := attr(sum[0], "data-replies"); n != "1" || !strings.Contains(text(sum[0]), "1 reply") ||
		strings.Count(renderNode(sum[0]), `class="avatar"`) != 1 || !strings.Contains(renderNode(sum[0]), "<time") {
		t.Fatalf("summary %q with data-replies %q; want 1 reply, bob's face and the last reply's time", renderNode(sum[0]), n)
	}

	// ann (the root's author) follows without asking: her laptop counts it.
	annSock.readThreadsUnread("1")
	// And a reply does not count in the room's badge.
	if strings.Contains(ann.get("/rooms/random").body, `id="unread-general"`) {
		t.Error("a reply counted in the room's unread badge")
	}
	// cat, mentioned, follows too.
	threads := doc(t, cat.get("/threads").body)
	items := findAll(byID(threads, "threads"), func(n *html.Node) bool { _, ok := attr(n, "data-thread"); return ok })
	if len(items) != 1 {
		t.Fatalf("cat follows %d threads; want 1", len(items))
	}
	if id, _ := attr(items[0], "data-thread"); id != strconv.FormatInt(root, 10) {
		t.Fatalf("cat follows thread %s", id)
	}
	if n, _ := attr(items[0], "data-unread"); n != "1" {
		t.Fatalf("cat's thread shows %s unread; want 1", n)
	}

	// A reply to a reply goes to the root; one sent to the room shows there too.
	r2 := cat.replyIn("general", r1, "found it, thanks", true)
	watcher.readUntil(`data-replies="2"`)
	if !slicesContains(childIDs(t, cat.get("/rooms/general").body, "messages"), msgID(r2)) {
		t.Fatal("a reply also sent to the room is not in its list")
	}
	annSock.readThreadsUnread("2")

	// The thread page: the root, the replies in order, the reply composer.
	tp := ann.get("/threads/" + strconv.FormatInt(root, 10))
	expectStatus(t, tp, http.StatusOK)
	if got := childIDs(t, tp.body, "thread-root"); len(got) != 1 || got[0] != msgID(root) {
		t.Fatalf("#thread-root holds %v", got)
	}
	if got := childIDs(t, tp.body, "thread-replies"); len(got) != 2 || got[0] != msgID(r1) || got[1] != msgID(r2) {
		t.Fatalf("#thread-replies holds %v; want %s, %s", got, msgID(r1), msgID(r2))
	}
	form := byID(doc(t, tp.body), "reply-composer")
	if form == nil {
		t.Fatal("no #reply-composer")
	}
	if act, _ := attr(form, "action"); act != "/rooms/general/messages" {
		t.Fatalf("#reply-composer posts to %q", act)
	}
	if hidden := findAll(form, func(n *html.Node) bool { v, _ := attr(n, "name"); return v == "thread_id" }); len(hidden) != 1 {
		t.Fatal("#reply-composer has no thread_id")
	} else if v, _ := attr(hidden[0], "value"); v != strconv.FormatInt(root, 10) {
		t.Fatalf("thread_id = %q", v)
	}
	// Reading it on one device (the phone) clears the count on the laptop.
	annSock.readThreadsUnread("")
	if got, _ := threadsUnread(annLaptop.get("/rooms/random").body); got != "" {
		t.Fatalf("a page after reading counts %q unread replies", got)
	}

	// A reply is edited, reacted to and deleted like any message; the forms
	// go back to the thread, and the summary follows a delete.
	res := bob.post("/messages/"+strconv.FormatInt(r1, 10)+"/edit", url.Values{"body": {"in the wiki (see Releases)"}})
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/threads/"+strconv.FormatInt(root, 10)) {
		t.Fatalf("edit of a reply: %d %q", res.status, res.header.Get("Location"))
	}
	expectStatus(t, cat.post("/messages/"+strconv.FormatInt(r1, 10)+"/reactions", url.Values{"emoji": {"👍"}}), http.StatusSeeOther)
	expectStatus(t, bob.post("/messages/"+strconv.FormatInt(r1, 10)+"/delete", nil), http.StatusSeeOther)
	watcher.readUntil(`data-replies="1"`)
	tp = ann.get("/threads/" + strconv.FormatInt(root, 10))
	if !strings.Contains(tp.body, "message deleted") {
		t.Fatal("the deleted reply is not marked in its thread")
	}

	// Unfollow by hand: the next reply does not count for ann.
	expectStatus(t, ann.post("/threads/"+strconv.FormatInt(root, 10)+"/unfollow", nil), http.StatusSeeOther)
	bob.replyIn("general", root, "one more", false)
	watcher.readUntil(`data-replies="2"`)
	if got, _ := threadsUnread(ann.get("/rooms/random").body); got != "" {
		t.Fatalf("after unfollowing ann counts %q", got)
	}
	if items := findAll(byID(doc(t, ann.get("/threads").body), "threads"), func(n *html.Node) bool { _, ok := attr(n, "data-thread"); return ok }); len(items) != 0 {
		t.Fatal("an unfollowed thread is still listed")
	}
	expectStatus(t, ann.post("/threads/"+strconv.FormatInt(root, 10)+"/follow", nil), http.StatusSeeOther)
	if items := findAll(byID(doc(t, ann.get("/threads").body), "threads"), func(n *html.Node) bool { _, ok := attr(n, "data-thread"); return ok }); len(items) != 1 {
		t.Fatal("a thread followed by hand is not listed")
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Every door refuses a reply that should not be: a message one cannot
// read, one of another room, a deleted root, an archived room, a bad id.
func TestThreadRefusals(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.client(t).signup("admin")
	ann := ts.client(t).signup("ann")
	ann.get("/rooms/general")
	expectStatus(t, admin.post("/rooms", url.Values{"name": {"secret"}, "private": {"on"}}), http.StatusSeeOther)
	admin.postMessage("secret", "not for ann")
	secret := admin.lastMessage("/rooms/secret")
	expectStatus(t, admin.post("/rooms", url.Values{"name": {"plans"}}), http.StatusSeeOther)
	admin.postMessage("plans", "a plan")
	plan := admin.lastMessage("/rooms/plans")
	ann.get("/rooms/plans")
	ann.postMessage("general", "soon deleted")
	gone := ann.lastMessage("/rooms/general")
	expectStatus(t, ann.post("/messages/"+gone+"/delete", nil), http.StatusSeeOther)
	ann.postMessage("general", "fine root")
	root := ann.lastMessage("/rooms/general")

	post := func(slug, thread string) response {
		return ann.post("/rooms/"+slug+"/messages", url.Values{"body": {"a reply"}, "thread_id": {thread}})
	}
	expectStatus(t, post("general", secret), http.StatusNotFound)   // a message she cannot read
	expectStatus(t, post("general", plan), http.StatusNotFound)     // one of another room
	expectStatus(t, post("general", "999999"), http.StatusNotFound) // none
	expectStatus(t, post("general", "abc"), http.StatusUnprocessableEntity)
	expectStatus(t, post("general", "-3"), http.StatusUnprocessableEntity)
	res := post("general", gone) // a deleted root: the thread again, with why
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if el := byID(doc(t, res.body), "reply-error"); el == nil || !strings.Contains(text(el), "deleted") {
		t.Fatalf("no reason beside the reply composer:\n%.1500s", res.body)
	}
	// htmx gets the reason alone.
	hx := ann.do("POST", "/rooms/general/messages", url.Values{"body": {"  "}, "thread_id": {root}}, map[string]string{"HX-Request": "true"})
	expectStatus(t, hx, http.StatusUnprocessableEntity)
	if !strings.HasPrefix(strings.TrimSpace(hx.body), `<p id="reply-error"`) {
		t.Fatalf("htmx got %.300s", hx.body)
	}
	// Pages and follows of a thread she cannot read do not exist for her.
	expectStatus(t, ann.get("/threads/"+secret), http.StatusNotFound)
	expectStatus(t, ann.post("/threads/"+secret+"/follow", nil), http.StatusNotFound)
	expectStatus(t, ann.get("/threads/nope"), http.StatusNotFound)
	// A socket names a thread of its own room only.
	if _, res, err := ann.dialRaw("/rooms/general/ws?thread="+plan, nil); err == nil || res == nil || res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a socket with another room's thread: %v %v", err, res)
	}
	// An archived room takes no replies, admins' included.
	expectStatus(t, admin.post("/admin/rooms/plans/archive", nil), http.StatusSeeOther)
	expectStatus(t, admin.post("/rooms/plans/messages", url.Values{"body": {"late"}, "thread_id": {plan}}), http.StatusForbidden)
	// Nothing refused was stored.
	if replies := childIDs(t, ann.get("/threads/"+root).body, "thread-replies"); len(replies) != 0 {
		t.Fatalf("refused replies were stored: %v", replies)
	}
}

// Threads on two nodes of one cluster: the watcher and ann's phone on A,
// bob and ann's laptop on B.
func TestThreadsOnTwoNodes(t *testing.T) {
	ns := startNATS(t)
	a := newTestServer(t)
	b := startTestServer(t, a.path, live.HubConfig{}, false)
	joinCluster(t, a, ns, cluster.Options{})
	joinCluster(t, b, ns, cluster.Options{})
	checkThreads(t, a, b)
}

// The API: message JSON carries thread_id and reply_count, a post takes
// thread_id, the replies route lists a thread, SSE events carry thread_id,
// and a bot mentioned in a thread answers in the thread.
func TestThreadsThroughTheAPI(t *testing.T) {
	var logs syncBuffer
	ts := newHookServer(t, true, 0, &logs)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	bot := newTestBot(t, func(c hookCall) string { return "on it, @" + c.Message.Author })
	_, secret := ann.makeBot("helper", bot.URL+"/hook")
	bot.secret.Store(secret)
	annAPI, bobAPI := ts.api(t, ann.makeToken("a")), ts.api(t, bob.makeToken("b"))
	ann.get("/rooms/general")
	bob.get("/rooms/general")
	stream := bobAPI.events("")

	res, root := annAPI.post("general", "a question", "")
	expectAPI(t, res, http.StatusCreated)
	stream.expect("message", "a question")
	var reply threadMsg
	r := bobAPI.call("POST", "/api/v1/rooms/general/messages", map[string]any{"body": "an answer", "thread_id": root.ID})
	expectAPI(t, r, http.StatusCreated)
	r.json(t, &reply)
	if reply.ThreadID == nil || *reply.ThreadID != root.ID {
		t.Fatalf("the reply's thread_id = %v; want %d", reply.ThreadID, root.ID)
	}
	ev := stream.next()
	if !strings.Contains(ev.Raw, `"thread_id":`+strconv.FormatInt(root.ID, 10)) {
		t.Fatalf("the SSE event of a reply does not carry its thread_id: %s", ev.Raw)
	}
	// The root carries its count; a room message's thread_id is null.
	var rootNow threadMsg
	list := annAPI.call("GET", "/api/v1/rooms/general/messages", nil)
	var page struct {
		Messages []map[string]any `json:"messages"`
	}
	list.json(t, &page)
	for _, m := range page.Messages {
		if v, ok := m["thread_id"]; !ok || v != nil {
			t.Fatalf("a room message's thread_id is %v (present %v); want null", v, ok)
		}
		if int64(m["id"].(float64)) == root.ID {
			rootNow.ReplyCount = int(m["reply_count"].(float64))
		}
		if int64(m["id"].(float64)) == reply.ID {
			t.Fatal("the room's messages list a reply not sent to the room")
		}
	}
	if rootNow.ReplyCount != 1 {
		t.Fatalf("the root's reply_count = %d; want 1", rootNow.ReplyCount)
	}
	// Hostile: another room's message, none, a bad id.
	expectAPI(t, bob.ts.api(t, "").call("GET", "/api/v1/messages/"+strconv.FormatInt(root.ID, 10)+"/replies", nil), http.StatusUnauthorized)
	bob.post("/rooms", url.Values{"name": {"elsewhere"}})
	res, other := bobAPI.post("elsewhere", "over here", "")
	expectAPI(t, res, http.StatusCreated)
	if r := bobAPI.call("POST", "/api/v1/rooms/general/messages", map[string]any{"body": "x", "thread_id": other.ID}); r.status != http.StatusNotFound || r.errCode(t) == "" {
		t.Fatalf("a reply to another room's message: %d %s", r.status, r.body)
	}
	if r := bobAPI.call("POST", "/api/v1/rooms/general/messages", map[string]any{"body": "x", "thread_id": -1}); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("a negative thread_id: %d %s", r.status, r.body)
	}
	expectAPI(t, bobAPI.call("GET", "/api/v1/messages/99999999/replies", nil), http.StatusNotFound)

	// A bot mentioned in a thread hears it with its thread_id, and answers there.
	r = bobAPI.call("POST", "/api/v1/rooms/general/messages", map[string]any{"body": "@helper can you check?", "thread_id": root.ID})
	expectAPI(t, r, http.StatusCreated)
	if call := bot.next(t); call.Message.Body != "@helper can you check?" || call.Message.ThreadID == nil || *call.Message.ThreadID != root.ID {
		t.Fatalf("the bot heard %+v", call)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var replies struct {
			Messages []threadMsg `json:"messages"`
		}
		rr := bobAPI.call("GET", "/api/v1/messages/"+strconv.FormatInt(root.ID, 10)+"/replies", nil)
		expectAPI(t, rr, http.StatusOK)
		rr.json(t, &replies)
		if n := len(replies.Messages); n == 3 && replies.Messages[2].Author == "helper" && *replies.Messages[2].ThreadID == root.ID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bot's answer is not in the thread: %s", rr.body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Paging: after the first reply, two.
	var after struct {
		Messages []threadMsg `json:"messages"`
	}
	bobAPI.call("GET", "/api/v1/messages/"+strconv.FormatInt(root.ID, 10)+"/replies?after="+strconv.FormatInt(reply.ID, 10)+"&limit=5", nil).json(t, &after)
	if len(after.Messages) != 2 {
		t.Fatalf("replies after the first: %d; want 2", len(after.Messages))
	}
}

// threadMsg is a message's JSON as far as threads go.
type threadMsg struct {
	ID         int64  `json:"id"`
	Author     string `json:"author"`
	ThreadID   *int64 `json:"thread_id"`
	ReplyCount int    `json:"reply_count"`
}

// A reply is searched (its result opens the thread at the reply) and
// exported with its root.
func TestRepliesAreSearchedAndExported(t *testing.T) {
	ts := newTestServer(t)
	admin := ts.client(t).signup("admin")
	admin.get("/rooms/general")
	admin.postMessage("general", "the root of it")
	root, _ := strconv.ParseInt(admin.lastMessage("/rooms/general"), 10, 64)
	reply := admin.replyIn("general", root, "zanzibar is the answer", false)

	res := admin.get("/search?q=zanzibar")
	expectStatus(t, res, http.StatusOK)
	want := "/threads/" + strconv.FormatInt(root, 10) + "#" + msgID(reply)
	if !strings.Contains(res.body, `href="`+want+`"`) {
		t.Fatalf("the search result does not open the thread at the reply (%s):\n%.2000s", want, res.body)
	}

	files := readZip(t, admin.get("/admin/export"))
	lines := files["messages/general.jsonl"]
	var found bool
	for _, line := range strings.Split(lines, "\n") {
		if strings.Contains(line, "zanzibar") {
			found = strings.Contains(line, `"thread_id":`+strconv.FormatInt(root, 10))
		}
	}
	if !found {
		t.Fatalf("the export has no reply with its thread_id:\n%s", lines)
	}
}

// The composer's socket frame takes thread_id too: a reply over the socket
// goes the same one path; a bad one is told to the sender alone.
func TestReplyOverTheSocket(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	ann.get("/rooms/general")
	ann.postMessage("general", "root over here")
	root := ann.lastMessage("/rooms/general")
	s := ann.dial("general", -1)
	frame, _ := json.Marshal(map[string]any{"body": "a reply by socket", "client_msg_id": newClientID(), "thread_id": root,
		"HEADERS": map[string]string{"HX-Request": "true", "HX-Trigger": "composer"}})
	s.send(frame)
	s.readUntil(`id="summary-` + root + `"`)
	if got := childIDs(t, ann.get("/threads/"+root).body, "thread-replies"); len(got) != 1 {
		t.Fatalf("the thread holds %v after a reply by socket", got)
	}
	bad, _ := json.Marshal(map[string]any{"body": "x", "client_msg_id": newClientID(), "thread_id": "nope",
		"HEADERS": map[string]string{"HX-Request": "true", "HX-Trigger": "composer"}})
	s.send(bad)
	s.readUntil(`id="composer-error"`)
}

// A thread in a direct conversation: its two people reply and read it,
// the reply stays out of the conversation's list, and a third person can
// neither read it, follow it nor reply to it from a room of theirs.
func TestThreadInADirectConversation(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	cat := ts.client(t).signup("cat")
	cat.get("/rooms/general")
	ann.get("/dm/bob")
	ann.postMessage("dm-1-2", "lunch on friday?")
	root, _ := strconv.ParseInt(ann.lastMessage("/dm/bob"), 10, 64)
	rootID := strconv.FormatInt(root, 10)

	tp := bob.get("/threads/" + rootID)
	expectStatus(t, tp, http.StatusOK)
	if act, _ := attr(byID(doc(t, tp.body), "reply-composer"), "action"); act != "/rooms/dm-1-2/messages" {
		t.Fatalf("the DM thread's composer posts to %q", act)
	}
	reply := bob.replyIn("dm-1-2", root, "yes, the usual place", false)
	if ids := childIDs(t, ann.get("/dm/bob").body, "messages"); slicesContains(ids, msgID(reply)) {
		t.Fatal("a reply in a DM's thread shows in the conversation's list")
	}
	if got := childIDs(t, ann.get("/threads/"+rootID).body, "thread-replies"); len(got) != 1 || got[0] != msgID(reply) {
		t.Fatalf("ann's thread holds %v", got)
	}
	// ann, the root's author, follows it; /threads names the conversation by bob.
	items := findAll(byID(doc(t, bob.get("/threads").body), "threads"), func(n *html.Node) bool { _, ok := attr(n, "data-thread"); return ok })
	if len(items) != 1 {
		t.Fatalf("bob follows %d threads; want the DM's", len(items))
	}
	if !strings.Contains(text(byID(doc(t, ann.get("/threads").body), "threads")), "bob") {
		t.Error("ann's /threads does not name the conversation by bob")
	}
	// cat: 404 everywhere, nothing stored.
	expectStatus(t, cat.get("/threads/"+rootID), http.StatusNotFound)
	expectStatus(t, cat.post("/threads/"+rootID+"/follow", nil), http.StatusNotFound)
	expectStatus(t, cat.post("/rooms/general/messages", url.Values{"body": {"me too"}, "thread_id": {rootID}}), http.StatusNotFound)
	expectStatus(t, cat.post("/rooms/dm-1-2/messages", url.Values{"body": {"me too"}, "thread_id": {rootID}}), http.StatusNotFound)
	if got := childIDs(t, ann.get("/threads/"+rootID).body, "thread-replies"); len(got) != 1 {
		t.Fatalf("refused replies were stored: %v", got)
	}
}
