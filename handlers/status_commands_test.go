package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"agora/chat"
	"agora/chat/live"
	"agora/chat/live/cluster"
)

// /status, /away and /dnd answer their caller alone and change how they
// show, live, in the rooms that list them and in the header of a direct
// conversation with them; bad input is refused with why and changes
// nothing, over the socket and the form alike.
func TestSlashStatusCommands(t *testing.T) {
	ts := newTestServer(t)
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	ann.get("/rooms/general")
	bob.get("/rooms/general")
	expectStatus(t, bob.post("/dm/ann", nil), http.StatusSeeOther)
	watch := bob.dial("general", 0)
	dm := bob.dial(dmSlugOf(t, bob, "ann"), 0)
	me := ann.dial("general", 0)
	watch.readUntil(`id="presence-ann" data-user="ann" data-status="active"`)
	dm.readUntil(`id="nav-lists"`) // bob's feed knows his conversations

	said := func(body, want string) {
		t.Helper()
		id := newClientID()
		me.send(composerFrame(body, id))
		if got := me.readUntil(`data-done="` + id + `"`); !strings.Contains(got[strings.LastIndex(got, `data-done="`+id):], want) {
			t.Fatalf("%s: ann is not told %q:\n%.800s", body, want, got[strings.LastIndex(got, `data-done="`+id):])
		}
	}

	said("/status :calendar: In a meeting", "Status set: 📅 In a meeting")
	watch.readUntil("📅 In a meeting")
	dm.readUntil("In a meeting")
	if st, _ := ts.store.Status(t.Context(), mustUserID(t, ts, "ann")); st.Text != "In a meeting" || st.Emoji != "📅" {
		t.Fatalf("after /status: %+v", st)
	}
	said("/status Lunch", "Status set: Lunch")
	watch.readUntil("Lunch")
	n := strings.Count(watch.text.String(), `id="presence-ann"`)
	said("/status", "Status cleared.")
	got := watch.readMore(`id="presence-ann"`, n)
	if last := got[strings.LastIndex(got, `id="presence-ann"`):]; strings.Contains(last[:min(len(last), 300)], "Lunch") {
		t.Errorf("bob still sees ann's status after /status alone:\n%.300s", last)
	}

	said("/dnd 1h", "Do not disturb until")
	watch.readUntil(`id="presence-ann" data-user="ann" data-status="dnd"`)
	dm.readUntil(`id="dm-status-ann" class="dm-status" data-status="dnd"`)
	st, _ := ts.store.Status(t.Context(), mustUserID(t, ts, "ann"))
	if left := time.Until(st.DNDUntil); left < 59*time.Minute || left > time.Hour {
		t.Errorf("/dnd 1h lasts until %v", st.DNDUntil)
	}
	said("/dnd off", "Do not disturb is off.")
	watch.readUntil(`id="presence-ann" data-user="ann" data-status="active"`)
	said("/dnd tomorrow", "Do not disturb until")
	watch.readMore(`id="presence-ann" data-user="ann" data-status="dnd"`, 1)
	st, _ = ts.store.Status(t.Context(), mustUserID(t, ts, "ann"))
	if u := st.DNDUntil.UTC(); u.Hour() != chat.DNDUntilTomorrow || u.Minute() != 0 || !u.After(time.Now()) || time.Until(u) > 33*time.Hour {
		t.Errorf("/dnd tomorrow lasts until %v", u)
	}
	said("/DND OFF", "Do not disturb is off.")

	said("/away", "You show as away")
	watch.readUntil(`id="presence-ann" data-user="ann" data-status="away"`)
	dm.readUntil(`id="dm-status-ann" class="dm-status" data-status="away"`)
	said("/away", "You are back.")
	watch.readMore(`id="presence-ann" data-user="ann" data-status="active"`, 2)
	for _, s := range []string{"Status set", "Do not disturb", "You are back"} {
		if strings.Contains(watch.text.String()+dm.text.String(), s) {
			t.Errorf("bob is told %q, meant for ann alone", s)
		}
	}

	// Refusals: beside the composer, the socket open, nothing changed.
	before, _ := ts.store.Status(t.Context(), mustUserID(t, ts, "ann"))
	for body, says := range map[string]string{
		"/dnd banana":                           "/dnd takes how long",
		"/dnd":                                  "/dnd takes how long",
		"/dnd 400d":                             "from 1 minute to 7 days",
		"/dnd 10s":                              "from 1 minute to 7 days",
		"/dnd -1h":                              "from 1 minute to 7 days",
		"/status " + strings.Repeat("x", 10000): "limit is 4000",
		"/status " + strings.Repeat("x", 150):   "at most 100 characters",
	} {
		me.send(composerFrame(body, newClientID()))
		me.readUntil(says)
	}
	if after, _ := ts.store.Status(t.Context(), mustUserID(t, ts, "ann")); after != before {
		t.Errorf("refused commands changed the status: %+v, was %+v", after, before)
	}
	me.send(composerFrame("still here", "after-refusals"))
	me.readUntil(`data-client-id="after-refusals"`)

	// The form: a refusal is the room again with the text kept; an answer
	// is on the room page after the redirect.
	res := ann.post("/rooms/general/messages", url.Values{"body": {"/dnd banana"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if e := byID(doc(t, res.body), "composer-error"); e == nil || !strings.Contains(text(e), "/dnd takes how long") {
		t.Error("the form does not say what /dnd takes")
	}
	if b := byID(doc(t, res.body), "body"); b == nil || text(b) != "/dnd banana" {
		t.Error("the refused command's text is not kept in the composer")
	}
	res = ann.post("/rooms/general/messages", url.Values{"body": {"/status 🎉 Party"}})
	expectStatus(t, res, http.StatusSeeOther)
	if s := byID(doc(t, ann.get(res.header.Get("Location")).body), "composer-said"); s == nil || !strings.Contains(text(s), "Status set: 🎉 Party") {
		t.Error("/status's answer is not on the room page")
	}
	watch.readUntil("🎉 Party")

	// /help lists them.
	res = ann.post("/rooms/general/messages", url.Values{"body": {"/help"}})
	help := text(byID(doc(t, ann.get(res.header.Get("Location")).body), "composer-said"))
	for _, c := range []string{"/status", "/away", "/dnd 1h", "/mute", "/unmute"} {
		if !strings.Contains(help, c) {
			t.Errorf("/help does not list %s: %s", c, help)
		}
	}
}

// /mute puts the room at nothing for its caller: their sidebar, open in
// another room, drops the room's unread count at once (mentions still
// count); /mute again, or /unmute, brings it back. (Bob types them by form
// and API here, as a socket open in #design would read what comes.)
func TestSlashMute(t *testing.T) {
	ts := newTestServer(t)
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	for _, r := range []string{"design", "lounge"} {
		expectStatus(t, ann.post("/rooms", url.Values{"name": {r}}), http.StatusSeeOther)
		bob.get("/rooms/" + r)
	}
	expectStatus(t, bob.post("/rooms/design/notify", url.Values{"level": {"all"}}), http.StatusSeeOther)
	design := bob.roomID("design")
	inLounge := bob.dial("lounge", 0)
	inLounge.readUntil(`id="nav-lists"`)
	ann.postMessage("design", "plain news")
	inLounge.readCounts(design, "1")

	api := ts.api(t, bob.makeToken("mute"))
	said := func(body, want string) {
		t.Helper()
		var out struct {
			Said string `json:"said"`
		}
		r := api.call("POST", "/api/v1/rooms/design/messages", map[string]string{"body": body})
		if r.json(t, &out); r.status != http.StatusOK || !strings.Contains(out.Said, want) {
			t.Fatalf("%s: %d %s, want %q", body, r.status, r.body, want)
		}
	}
	res := bob.post("/rooms/design/messages", url.Values{"body": {"/mute"}})
	if expectStatus(t, res, http.StatusSeeOther); !strings.HasPrefix(res.header.Get("Location"), "/rooms/design") {
		t.Errorf("/mute by form goes to %s", res.header.Get("Location"))
	}
	inLounge.readCounts(design, "")
	if lvl, _ := ts.store.RoomNotify(t.Context(), design, mustUserID(t, ts, "bob")); lvl != chat.NotifyNothing {
		t.Fatalf("after /mute the level is %q", lvl)
	}
	ann.postMessage("design", "@bob have a look")
	inLounge.readCounts(design, "@1")
	said("/mute", "#design is unmuted")
	inLounge.readCounts(design, "2 @1")
	said("/unmute", "#design is not muted")
	said("/mute", "#design is muted")
	inLounge.readCounts(design, "@1")
	said("/unmute", "#design is unmuted")
	inLounge.readCounts(design, "2 @1")
	if strings.Contains(ann.get("/rooms/design").body, "muted") {
		t.Error("ann is told of bob's /mute")
	}

	// Over the socket, to the same effect.
	inDesign := bob.dial("design", 0)
	inDesign.send(composerFrame("/mute", "mute-by-socket"))
	if got := inDesign.readUntil(`data-done="mute-by-socket"`); !strings.Contains(got[strings.LastIndex(got, `data-done="mute-by-socket"`):], "#design is muted") {
		t.Error("/mute over the socket does not say what it did")
	}
	if lvl, _ := ts.store.RoomNotify(t.Context(), design, mustUserID(t, ts, "bob")); lvl != chat.NotifyNothing {
		t.Fatalf("after /mute by socket the level is %q", lvl)
	}
}

// A status set on node A shows on node B at once (not at B's next sweep of
// statuses, half a minute away): in presence and the member list of a room
// open on B, and in the header of a direct conversation open on B; by the
// slash commands and by the form alike.
func TestStatusAcrossNodes(t *testing.T) {
	ns := startNATS(t)
	a := newTestServer(t)
	b := startTestServer(t, a.path, live.HubConfig{}, false)
	joinCluster(t, a, ns, cluster.Options{})
	joinCluster(t, b, ns, cluster.Options{})
	ann, bob := a.client(t).signup("ann"), b.client(t).signup("bob")
	ann.post("/rooms/general/join", nil)
	bob.post("/rooms/general/join", nil)
	expectStatus(t, bob.post("/dm/ann", nil), http.StatusSeeOther)
	annSock := ann.dial("general", 0)
	bobSock := bob.dial("general", 0)
	bobDM := bob.dial(dmSlugOf(t, bob, "ann"), 0)
	bobSock.readUntil(`id="presence-ann" data-user="ann" data-status="active"`)
	bobDM.readUntil(`id="nav-lists"`) // bob's feed knows his conversations

	annSock.send(composerFrame("/dnd 2h", "across-dnd"))
	annSock.readUntil(`data-done="across-dnd"`)
	bobSock.readUntil(`id="presence-ann" data-user="ann" data-status="dnd"`)
	bobSock.readUntil(`id="member-ann" class="member-state" data-status="dnd"`)
	bobDM.readUntil(`id="dm-status-ann" class="dm-status" data-status="dnd"`)

	annSock.send(composerFrame("/status :calendar: Planning on A", "across-status"))
	annSock.readUntil(`data-done="across-status"`)
	bobSock.readUntil("📅 Planning on A")
	bobDM.readUntil("Planning on A")

	expectStatus(t, ann.post("/settings/status", url.Values{"status_text": {"Back on A"}, "dnd_minutes": {"0"}}), http.StatusSeeOther)
	bobSock.readUntil(`id="presence-ann" data-user="ann" data-status="active" title="@ann · active · Back on A"`)

	// And the other way: bob's /away on B shows on A.
	bobSock.send(composerFrame("/away", "across-away"))
	annSock.readUntil(`id="presence-bob" data-user="bob" data-status="away"`)
}
