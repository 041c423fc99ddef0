package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"agora/chat"
)

// navMentions is the user's mention count of a room, as their sidebar has
// it when a page loads (read from the store: the mentions kept).
func navMentions(t *testing.T, ts *testServer, username, slug string) (mentions int, listed bool) {
	t.Helper()
	ctx := context.Background()
	u, err := ts.store.UserByUsername(ctx, username)
	if err != nil {
		t.Fatal(err)
	}
	rooms, err := ts.store.Nav(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rooms {
		if r.Slug == slug {
			return r.Mentions, true
		}
	}
	return 0, false
}

// groupsPage returns the admin groups page's groups by name, with their
// members' usernames.
func groupsPage(t *testing.T, admin *client) map[string][]string {
	t.Helper()
	res := admin.get("/admin/groups")
	expectStatus(t, res, http.StatusOK)
	out := map[string][]string{}
	for _, g := range findAll(doc(t, res.body), func(n *html.Node) bool { v, _ := attr(n, "data-group"); return n.Data == "li" && v != "" }) {
		name, _ := attr(g, "data-group")
		out[name] = []string{}
		for _, m := range findAll(g, func(n *html.Node) bool { _, ok := attr(n, "data-user"); return n.Data == "li" && ok }) {
			u, _ := attr(m, "data-user")
			out[name] = append(out[name], u)
		}
	}
	return out
}

func pageError(t *testing.T, res response) string {
	t.Helper()
	el := byID(doc(t, res.body), "form-error")
	if el == nil {
		t.Fatalf("no #form-error on the page (%d):\n%.1500s", res.status, res.body)
	}
	return text(el)
}

// Admins keep groups with plain forms; every refusal says why on the page,
// nothing is half made, and a group's name and a username never meet.
func TestAdminsKeepGroups(t *testing.T) {
	ts := newTestServer(t)
	root := ts.client(t).signup("root")
	ann := ts.client(t).signup("ann")
	ts.client(t).signup("bob")

	// Not an admin: the routes do not exist.
	expectStatus(t, ann.get("/admin/groups"), http.StatusNotFound)
	expectStatus(t, ann.post("/admin/groups", url.Values{"name": {"design"}}), http.StatusNotFound)
	res := root.post("/admin/groups", url.Values{"name": {"design"}})
	expectStatus(t, res, http.StatusSeeOther)
	if res.header.Get("Location") != "/admin/groups" {
		t.Fatalf("made a group, redirected to %q", res.header.Get("Location"))
	}
	expectStatus(t, ann.post("/admin/groups/design/members", url.Values{"username": {"ann"}}), http.StatusNotFound)
	expectStatus(t, ann.post("/admin/groups/design/members/remove", url.Values{"username": {"ann"}}), http.StatusNotFound)

	// Names like a user's, taken, odd or too long: refused with the reason.
	for _, c := range []struct {
		name   string
		status int
		says   string
	}{
		{"bob", http.StatusConflict, "username"},
		{"BOB", http.StatusConflict, "username"},
		{"b0b", http.StatusConflict, "username"},
		{"ro-ot", http.StatusConflict, "username"},
		{"Design", http.StatusConflict, "group called"},
		{"des1gn", http.StatusConflict, "group called"},
		{"de sign", http.StatusUnprocessableEntity, "only letters"},
		{"<b>x</b>", http.StatusUnprocessableEntity, "only letters"},
		{"désign", http.StatusUnprocessableEntity, "only letters"},
		{"d\u202esign", http.StatusUnprocessableEntity, "only letters"},
		{"-design", http.StatusUnprocessableEntity, "starts with"},
		{"d", http.StatusUnprocessableEntity, "2 to 32"},
		{"", http.StatusUnprocessableEntity, "2 to 32"},
		{strings.Repeat("x", 33), http.StatusUnprocessableEntity, "2 to 32"},
		{strings.Repeat("x", 5000), http.StatusUnprocessableEntity, "2 to 32"},
		{"guest-team", http.StatusUnprocessableEntity, "guests"},
	} {
		res := root.post("/admin/groups", url.Values{"name": {c.name}})
		if res.status != c.status {
			t.Errorf("group %.40q: %d, want %d", c.name, res.status, c.status)
			continue
		}
		if msg := pageError(t, res); !strings.Contains(msg, c.says) {
			t.Errorf("group %.40q refused with %q, want it to say %q", c.name, msg, c.says)
		}
	}
	if got := groupsPage(t, root); len(got) != 1 || got["design"] == nil {
		t.Fatalf("groups after the refusals: %v", got)
	}

	// The other way round: no account takes a group's name, by any door.
	for _, name := range []string{"design", "DESIGN", "des1gn", "de_sign"} {
		if res := ts.client(t).post("/signup", url.Values{"username": {name}, "password": {"password-x"}}); res.status == http.StatusSeeOther {
			t.Errorf("signed up as %q while a group is called design", name)
		}
	}
	if _, err := ts.store.CreateUser(context.Background(), "Design", "", "", false); chat.ErrorCode(err) != chat.EConflict {
		t.Errorf("the store made the account Design beside the group design: %v", err)
	}
	if res := root.post("/admin/bots", url.Values{"username": {"design"}}); res.status == http.StatusOK {
		t.Error("made a bot called design beside the group")
	}

	// Members: added by username, each once; removing someone who is not
	// in it is an error and changes nothing.
	expectStatus(t, root.post("/admin/groups/design/members", url.Values{"username": {"ann"}}), http.StatusSeeOther)
	expectStatus(t, root.post("/admin/groups/DESIGN/members", url.Values{"username": {"@bob"}}), http.StatusSeeOther)
	res = root.post("/admin/groups/design/members", url.Values{"username": {"ann"}})
	expectStatus(t, res, http.StatusSeeOther)
	if page := root.get("/admin/groups"); !strings.Contains(text(byID(doc(t, page.body), "form-ok")), "already") {
		t.Errorf("adding a member twice does not say so:\n%.1500s", page.body)
	}
	res = root.post("/admin/groups/design/members", url.Values{"username": {"nobody"}})
	expectStatus(t, res, http.StatusNotFound)
	pageError(t, res)
	res = root.post("/admin/groups/nogroup/members", url.Values{"username": {"ann"}})
	expectStatus(t, res, http.StatusNotFound)
	pageError(t, res)
	res = root.post("/admin/groups/design/members/remove", url.Values{"username": {"root"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if msg := pageError(t, res); !strings.Contains(msg, "not in @design") {
		t.Errorf("removing a non-member says %q", msg)
	}
	res = root.post("/admin/groups/design/members/remove", url.Values{"username": {"nobody"}})
	expectStatus(t, res, http.StatusNotFound)
	if got := groupsPage(t, root)["design"]; strings.Join(got, ",") != "ann,bob" {
		t.Fatalf("design's members: %v", got)
	}
	expectStatus(t, root.post("/admin/groups/design/members/remove", url.Values{"username": {"bob"}}), http.StatusSeeOther)
	if got := groupsPage(t, root)["design"]; strings.Join(got, ",") != "ann" {
		t.Fatalf("design's members after removing bob: %v", got)
	}

	// Every change is in the audit list; refusals are not.
	audit := text(byID(doc(t, root.get("/admin/groups").body), "audit"))
	for action, n := range map[string]int{"made group": 1, "added to group": 2, "removed from group": 1} {
		if got := strings.Count(audit, action); got != n {
			t.Errorf("%q %d times in the audit list, want %d:\n%s", action, got, n, audit)
		}
	}
}

// @design mentions each member of the group who can read the room, by
// every door: counts, highlights and bots' webhooks, live and on reload.
func TestGroupMentionReachesMembersWhoCanRead(t *testing.T) {
	var logs syncBuffer
	ts := newHookServer(t, true, 0, &logs)
	root := ts.client(t).signup("root")
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	cat := ts.client(t).signup("cat")
	bot := newTestBot(t, func(hookCall) string { return "" })
	_, secret := root.makeBot("helper", bot.URL+"/hook")
	bot.secret.Store(secret)
	expectStatus(t, root.post("/admin/groups", url.Values{"name": {"Design"}}), http.StatusSeeOther)
	for _, u := range []string{"ann", "bob", "cat", "helper"} {
		expectStatus(t, root.post("/admin/groups/design/members", url.Values{"username": {u}}), http.StatusSeeOther)
	}

	// A private room of ann and bob: cat and the bot are in the group but
	// cannot read it.
	expectStatus(t, ann.post("/rooms", url.Values{"name": {"hush"}, "private": {"on"}}), http.StatusSeeOther)
	expectStatus(t, ann.post("/rooms/hush/members", url.Values{"username": {"bob"}}), http.StatusSeeOther)
	bob.get("/rooms/general")
	bs := bob.dial("general", -1)
	hush := bob.roomID("hush")
	// Deliveries are queued as the message is stored: none for a bot that
	// cannot read the room.
	jobsOf := func() int { return ts.notifiedJobs(t)["webhook"].Total() }
	queued := jobsOf()
	ann.postMessage("hush", "@design have a look, and @root too")
	bs.readCounts(hush, "1 @1")
	if n := jobsOf(); n != queued {
		t.Fatalf("%d deliveries queued for a private room the bot is not in", n-queued)
	}
	select {
	case c := <-bot.calls:
		t.Fatalf("the bot heard a private room it is not in: %+v", c)
	default:
	}
	if n, _ := navMentions(t, ts, "bob", "hush"); n != 1 {
		t.Errorf("bob has %d mentions in hush, want 1", n)
	}
	if n, _ := navMentions(t, ts, "ann", "hush"); n != 0 {
		t.Errorf("ann, who wrote it, has %d mentions in hush", n)
	}
	// cat could not read it when it was sent: joining later finds no mention.
	expectStatus(t, ann.post("/rooms/hush/members", url.Values{"username": {"cat"}}), http.StatusSeeOther)
	if n, listed := navMentions(t, ts, "cat", "hush"); !listed || n != 0 {
		t.Errorf("cat in hush: listed %v, %d mentions, want 0", listed, n)
	}

	// The message shows @design as a group mention, the same for everyone;
	// the group's members' own style rules highlight it.
	page := bob.get("/rooms/hush")
	if !strings.Contains(page.body, `<span class="mention group-mention" data-group="design" title="A group">@design</span>`) ||
		!strings.Contains(page.body, `data-user="root">@root</span>`) || !strings.Contains(page.body, `data-mentions="design root"`) {
		t.Fatalf("the room page does not show the group mention:\n%s", page.body[strings.Index(page.body, `id="messages"`):])
	}
	if css := bob.get("/me.css").body; !strings.Contains(css, `.message[data-mentions~="design"]`) || !strings.Contains(css, `.mention[data-group="design"]`) {
		t.Errorf("bob's /me.css does not highlight design's mentions:\n%s", css)
	}
	if css := root.get("/me.css").body; strings.Contains(css, `"design"`) {
		t.Errorf("root, not in design, has its rules:\n%s", css)
	}
	// Being taken out of the group changes the rules at once (no stale cache).
	first := bob.get("/me.css")
	if again := bob.do("GET", "/me.css", nil, map[string]string{"If-None-Match": first.header.Get("ETag")}); again.status != http.StatusNotModified {
		t.Errorf("unchanged /me.css answered %d, want 304", again.status)
	}
	expectStatus(t, root.post("/admin/groups/design/members/remove", url.Values{"username": {"bob"}}), http.StatusSeeOther)
	if again := bob.do("GET", "/me.css", nil, map[string]string{"If-None-Match": first.header.Get("ETag")}); again.status != http.StatusOK || strings.Contains(again.body, "design") {
		t.Errorf("after leaving design, /me.css answered %d:\n%s", again.status, again.body)
	}
	expectStatus(t, root.post("/admin/groups/design/members", url.Values{"username": {"bob"}}), http.StatusSeeOther)

	// Through the API, in a public room: everyone in the group can read it,
	// so each is mentioned, and the bot in the group hears it.
	cat.get("/rooms/general") // a member of it: the sidebar counts it
	api := ts.api(t, ann.makeToken("script"))
	res, msg := api.post("general", "deploy done, @design", "")
	expectAPI(t, res, http.StatusCreated)
	if !strings.Contains(msg.HTML, `class="mention group-mention" data-group="design"`) {
		t.Errorf("the API's html shows no group mention: %s", msg.HTML)
	}
	call := bot.next(t)
	if call.Event != "mention" || call.Bot != "helper" || call.Message.Body != "deploy done, @design" {
		t.Fatalf("the bot in the group got %+v", call)
	}
	for _, u := range []string{"bob", "cat"} {
		if n, _ := navMentions(t, ts, u, "general"); n != 1 {
			t.Errorf("%s has %d mentions in general, want 1", u, n)
		}
	}
	if n, _ := navMentions(t, ts, "root", "general"); n != 0 {
		t.Errorf("root, not in design, has %d mentions in general", n)
	}
	// Live on the room's socket too: the same bytes for everyone.
	bs.readUntil(`data-group="design" title="A group">@design</span>`)

	// An edit that drops the group mention drops its mentions.
	res = api.call("PATCH", "/api/v1/messages/"+strconv.FormatInt(msg.ID, 10), map[string]string{"body": "deploy done"})
	expectAPI(t, res, http.StatusOK)
	if n, _ := navMentions(t, ts, "cat", "general"); n != 0 {
		t.Errorf("after the edit cat has %d mentions in general", n)
	}
	if page := cat.get("/rooms/general"); strings.Contains(page.body, "group-mention") {
		t.Error("the edited message still shows a group mention")
	}
	// Written with the socket, the same path.
	as := ann.dial("general", -1)
	as.say("sockets reach @DESIGN too")
	as.readUntil(`data-group="design" title="A group">@DESIGN</span>`)
	if n, _ := navMentions(t, ts, "cat", "general"); n != 1 {
		t.Errorf("after a socket's group mention cat has %d mentions in general, want 1", n)
	}
}

// A guest can neither keep groups nor be kept in one; a guest's @design
// still reaches the group's members, as anyone's does.
func TestGroupsAndGuests(t *testing.T) {
	ts := newGuestServer(t)
	root := ts.client(t).signup("root")
	ts.client(t).signup("ann").get("/rooms/general")
	g := ts.client(t)
	expectStatus(t, g.post("/guest", url.Values{"display_name": {"Visitor Vic"}}), http.StatusSeeOther)
	expectStatus(t, g.get("/admin/groups"), http.StatusNotFound)
	expectStatus(t, g.post("/admin/groups", url.Values{"name": {"visitors"}}), http.StatusNotFound)

	expectStatus(t, root.post("/admin/groups", url.Values{"name": {"design"}}), http.StatusSeeOther)
	expectStatus(t, g.post("/admin/groups/design/members", url.Values{"username": {"ann"}}), http.StatusNotFound)
	if got := groupsPage(t, root)["design"]; len(got) != 0 {
		t.Fatalf("a guest's request added %v to design", got)
	}
	g.postMessage("general", "who made this? @design")
	hits, err := ts.store.Search(context.Background(), 1, chat.SearchQuery{Words: []string{"who", "made", "this"}}, 10)
	if err != nil || len(hits) != 1 {
		t.Fatalf("the guest's message: %v, %v", hits, err)
	}
	guest := hits[0].Message.Author
	res := root.post("/admin/groups/design/members", url.Values{"username": {guest}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if msg := pageError(t, res); !strings.Contains(msg, "guest") {
		t.Errorf("adding a guest refused with %q", msg)
	}
	if got := groupsPage(t, root)["design"]; len(got) != 0 {
		t.Fatalf("design holds %v after adding a guest was refused", got)
	}

	expectStatus(t, root.post("/admin/groups/design/members", url.Values{"username": {"ann"}}), http.StatusSeeOther)
	g.postMessage("general", "anyone from @design here?")
	if n, _ := navMentions(t, ts, "ann", "general"); n != 1 {
		t.Errorf("ann has %d mentions in general after a guest's @design, want 1", n)
	}
}
