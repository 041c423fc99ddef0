package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"

	"agora/chat"
	"agora/handlers"
)

// A room at nothing shows no unread count, and mentions still do; the
// level is set by the room menu's form and by the API, and the sidebar open
// in another room follows it at once. Bad levels and rooms one is not in
// change nothing.
func TestRoomAtNothingCountsMentionsOnly(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	carol := ts.client(t).signup("carol")
	for _, r := range []string{"design", "lounge"} {
		expectStatus(t, ann.post("/rooms", url.Values{"name": {r}}), http.StatusSeeOther)
		bob.get("/rooms/" + r)
	}
	design := bob.roomID("design")
	if byID(doc(t, bob.get("/rooms/design").body), "notify-form") == nil {
		t.Fatal("the room menu has no notification form")
	}

	res := bob.post("/rooms/design/notify", url.Values{"level": {"loud"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	expectStatus(t, carol.post("/rooms/design/notify", url.Values{"level": {"all"}}), http.StatusNotFound)
	expectStatus(t, bob.post("/rooms/no-such-room/notify", url.Values{"level": {"all"}}), http.StatusNotFound)

	res = bob.post("/rooms/design/notify", url.Values{"level": {"nothing"}})
	expectStatus(t, res, http.StatusSeeOther)
	if loc := res.header.Get("Location"); loc != "/rooms/design" {
		t.Fatalf("after the form: %q", loc)
	}
	if form := byID(doc(t, bob.get("/rooms/design").body), "notify-form"); form == nil || !strings.Contains(nodeHTML(form), `value="nothing" checked`) {
		t.Fatalf("the form does not show the level set:\n%s", nodeHTML(form))
	}

	inLounge := bob.dial("lounge", 0)
	inLounge.readUntil(`id="nav-lists"`)
	ann.postMessage("design", "plain news")
	ann.postMessage("design", "@bob have a look")
	inLounge.readCounts(design, "@1")

	api := ts.api(t, bob.makeToken("levels"))
	expectAPI(t, api.call("PUT", "/api/v1/rooms/design/notify", map[string]string{"level": "everything"}), http.StatusUnprocessableEntity)
	expectAPI(t, ts.api(t, carol.makeToken("c")).call("PUT", "/api/v1/rooms/design/notify", map[string]string{"level": "all"}), http.StatusNotFound)
	res2 := api.call("PUT", "/api/v1/rooms/design/notify", map[string]string{"level": "all"})
	expectAPI(t, res2, http.StatusOK)
	inLounge.readCounts(design, "2 @1")
}

// A status (emoji, text, do not disturb) shows in presence, the member list
// and the header of a direct conversation, live where the person is shown;
// set by the profile's form and by the API. Bad values are refused with a
// reason and change nothing.
func TestStatusShowsWherePeopleAreShown(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	ann.get("/rooms/general")
	bob.get("/rooms/general")
	watch := bob.dial("general", 0)
	ann.dial("general", 0)
	watch.readUntil(`id="presence-ann" data-user="ann" data-status="active"`)

	for name, form := range map[string]url.Values{
		"text too long":    {"status_text": {strings.Repeat("x", 101)}},
		"not an emoji":     {"status_emoji": {"smile"}},
		"dnd negative":     {"dnd_minutes": {"-5"}},
		"dnd not a number": {"dnd_minutes": {"soon"}},
		"dnd too long":     {"dnd_minutes": {"20000"}},
		"away maybe":       {"away": {"maybe"}},
		"control chars":    {"status_text": {"two\nlines"}},
	} {
		res := ann.post("/settings/status", form)
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if byID(doc(t, res.body), "status-error") == nil {
			t.Errorf("%s: no reason on the page", name)
		}
	}
	if st, _ := ts.store.Status(t.Context(), mustUserID(t, ts, "ann")); st.Text != "" || st.Emoji != "" || !st.DNDUntil.IsZero() || st.Away {
		t.Fatalf("refused forms changed the status: %+v", st)
	}

	res := ann.post("/settings/status", url.Values{"status_text": {"In a meeting"}, "status_emoji": {":calendar:"}, "dnd_minutes": {"60"}, "away": {"off"}})
	expectStatus(t, res, http.StatusSeeOther)
	page := doc(t, ann.get(res.header.Get("Location")).body)
	if byID(page, "status-saved") == nil || byID(page, "dnd-until") == nil || value(byID(page, "status_text")) != "In a meeting" {
		t.Fatal("the profile does not show the status saved")
	}
	watch.readUntil(`id="presence-ann" data-user="ann" data-status="dnd"`)
	room := doc(t, bob.get("/rooms/general").body)
	if m := byID(room, "member-ann"); m == nil || !strings.Contains(nodeHTML(m), `data-status="dnd"`) || !strings.Contains(nodeHTML(m), "📅") {
		t.Fatalf("the member list shows ann as %s", nodeHTML(m))
	}
	expectStatus(t, bob.post("/dm/ann", nil), http.StatusSeeOther)
	dm := doc(t, bob.get("/dm/ann").body)
	if h := byID(dm, "dm-status-ann"); h == nil || !strings.Contains(nodeHTML(h), `data-status="dnd"`) || !strings.Contains(text(h), "In a meeting") {
		t.Fatalf("the direct conversation's header shows ann as %s", nodeHTML(h))
	}

	// The API, as the slash commands use it: do not disturb off, away on.
	api := ts.api(t, ann.makeToken("status"))
	for _, bad := range []map[string]any{{"dnd_minutes": -1}, {"status_emoji": "not one"}, {"status_text": strings.Repeat("y", 101)}, {"away": "yes"}} {
		if r := api.call("PUT", "/api/v1/me/status", bad); r.status != http.StatusUnprocessableEntity && r.status != http.StatusBadRequest {
			t.Errorf("%v: %d, want 422 or 400", bad, r.status)
		}
	}
	r := api.call("PUT", "/api/v1/me/status", map[string]any{"dnd_minutes": 0, "away": true})
	expectAPI(t, r, http.StatusOK)
	var got struct {
		Text     string     `json:"status_text"`
		Emoji    string     `json:"status_emoji"`
		DNDUntil *time.Time `json:"dnd_until"`
		Away     bool       `json:"away"`
		State    string     `json:"state"`
	}
	r.json(t, &got)
	if got.Text != "In a meeting" || got.Emoji != "📅" || got.DNDUntil != nil || !got.Away || got.State != chat.StateAway {
		t.Fatalf("the API's status: %+v", got)
	}
	watch.readUntil(`id="presence-ann" data-user="ann" data-status="away"`)
	api.call("GET", "/api/v1/me/status", nil).json(t, &got)
	if !got.Away || got.State != chat.StateAway {
		t.Fatalf("GET /api/v1/me/status: %+v", got)
	}
}

// clock is a clock a test moves by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// readMore reads until want is in the text more times than n, and returns
// the text.
func (s *sock) readMore(want string, n int) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for strings.Count(s.text.String(), want) <= n {
		_, data, err := s.conn.Read(ctx)
		if err != nil {
			s.t.Fatalf("waiting for %q once more: %v\nreceived so far:\n%.3000s", want, err, s.text.String())
		}
		s.record(data)
	}
	return s.text.String()
}

// Ten minutes without anything from any of her devices, and ann shows as
// away; the next thing she does shows her active again.
func TestAwayAfterTenIdleMinutes(t *testing.T) {
	c := &clock{t: time.Now()}
	ts := newServerWith(t, handlers.Config{StatusEvery: 10 * time.Millisecond, Now: c.Now})
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	ann.get("/rooms/general")
	bob.get("/rooms/general")
	watch := bob.dial("general", 0)
	annSock := ann.dial("general", 0)
	const active, away = `id="presence-ann" data-user="ann" data-status="active"`, `id="presence-ann" data-user="ann" data-status="away"`
	watch.readUntil(active)
	c.advance(chat.AwayAfter - time.Second)
	annSock.say("still here") // activity, a second before she would go away
	watch.readUntil("still here")
	c.advance(chat.AwayAfter - time.Second)
	if strings.Contains(watch.text.String(), away) {
		t.Fatal("ann went away while active")
	}
	c.advance(2 * time.Second)
	watch.readUntil(away)
	n := strings.Count(watch.text.String(), active)
	annSock.say("back")
	watch.readMore(active, n)
}

// nodeHTML is n as HTML, or "<none>".
func nodeHTML(n *html.Node) string {
	if n == nil {
		return "<none>"
	}
	return renderNode(n)
}

// While do not disturb lasts, a mention is not emailed: the missed-activity
// job puts itself off until do not disturb ends, when what is still unread
// goes in one email.
func TestDoNotDisturbHoldsTheEmail(t *testing.T) {
	ts, smtpd, runner := newMailServerStopped(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	runner.Start()
	verifyEmail(t, ts, smtpd, bob, "bob@example.com")
	runner.Stop()
	bob.get("/rooms/general")
	expectStatus(t, bob.post("/settings/notifications", url.Values{"email": {"mentions"}, "email_delay": {"0"}}), http.StatusSeeOther)
	expectStatus(t, bob.post("/settings/status", url.Values{"dnd_minutes": {"90"}}), http.StatusSeeOther)
	st, err := ts.store.Status(t.Context(), mustUserID(t, ts, "bob"))
	if err != nil || st.DNDUntil.IsZero() {
		t.Fatalf("bob's status %+v, %v: want do not disturb on", st, err)
	}

	ann.get("/rooms/general")
	ann.postMessage("general", "@bob the build is red")
	c, err := ts.store.CountJobs(t.Context())
	if err != nil || c.Queued < 1 {
		t.Fatalf("jobs %+v, %v: want the notify job of the mention", c, err)
	}
	before := ts.app.JobsFinished()
	runner.Start()
	ts.waitHooks(t, before+int64(c.Queued))
	runner.Stop()
	if sent := smtpd.Pending(); len(sent) != 0 {
		t.Fatalf("emailed during do not disturb: %s", sent[0].Text())
	}
	queued, err := ts.store.JobsIn(t.Context(), chat.JobQueued, 10)
	if err != nil {
		t.Fatal(err)
	}
	var later []time.Time
	for _, j := range queued {
		if j.Kind == "missed" {
			later = append(later, j.RunAt)
		}
	}
	if len(later) != 1 || !later[0].Equal(st.DNDUntil.Truncate(time.Millisecond)) {
		t.Fatalf("missed-activity jobs due %v, want one when do not disturb ends (%v)", later, st.DNDUntil)
	}
}
