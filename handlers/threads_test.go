package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
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
