package handlers_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"agora/chat/live"
	"agora/chat/live/cluster"
)

// readFrame is what #read-signal sends: the page is read up to upTo.
func readFrame(upTo string) []byte {
	b, _ := json.Marshal(map[string]any{
		"up_to":   upTo,
		"HEADERS": map[string]string{"HX-Request": "true", "HX-Trigger": "read-signal", "HX-Trigger-Name": "", "HX-Target": "read-signal"},
	})
	return b
}

// seenUnder is the id of the element "Seen" follows on a page, "" without
// one shown.
func seenUnder(t *testing.T, body string) string {
	t.Helper()
	seen := byID(doc(t, body), "seen")
	if seen == nil {
		return ""
	}
	if _, hidden := attr(seen, "hidden"); hidden {
		return "" // the place a live frame fills
	}
	for p := seen.PrevSibling; p != nil; p = p.PrevSibling {
		if p.Type == html.ElementNode {
			id, _ := attr(p, "id")
			return id
		}
	}
	return "(first)"
}

// seenBy is a page's "Seen by": the count and the names, "" without one
// shown.
func seenBy(t *testing.T, body string) string {
	t.Helper()
	page := doc(t, body)
	if n := byID(page, "seen-by"); n == nil {
		return ""
	} else if _, hidden := attr(n, "hidden"); hidden {
		return ""
	}
	var names []string
	for _, li := range findAll(byID(page, "seen-by-names"), func(n *html.Node) bool { return n.Data == "li" }) {
		names = append(names, text(li))
	}
	return text(byID(page, "seen-by-count")) + ": " + strings.Join(names, ", ")
}

// In a direct conversation, "Seen" moves under the message the other
// person read, live on every device of the viewer and on the page as it is
// loaded; never to the reader's own devices; a read past the room's last
// message moves nothing, and bad or foreign reads are refused.
func TestReadReceiptsInADirectConversation(t *testing.T) {
	ts := newTestServer(t)
	ann, bob, carol := ts.client(t).signup("ann"), ts.client(t).signup("bob"), ts.client(t).signup("carol")
	slug := dmSlugOf(t, ann, "bob")
	ann.postMessage(slug, "first")
	first := ann.lastMessageID(slug)
	ann.postMessage(slug, "second")
	second := ann.lastMessageID(slug)
	if seenUnder(t, ann.get("/rooms/"+slug).body) != "" {
		t.Error(`"Seen" shows before bob read anything`)
	}

	// ann has the conversation open on two devices; bob reads on his.
	phone, laptop := ann.dial(slug, -1), ann.dial(slug, -1)
	bobSock := bob.dial(slug, -1)
	bobSock.send(readFrame(itoa(first)))
	for _, s := range []*sock{phone, laptop} {
		if f := s.readUntil(`afterend:#message-` + itoa(first)); !strings.Contains(f, `<p id="seen" class="seen">Seen</p>`) {
			t.Errorf("ann's device got no Seen under the first message:\n%.1500s", f)
		}
	}
	bobSock.send(readFrame(itoa(second)))
	for _, s := range []*sock{phone, laptop} {
		s.readUntil(`afterend:#message-` + itoa(second))
	}
	if got := seenUnder(t, ann.get("/rooms/"+slug).body); got != "message-"+itoa(second) {
		t.Errorf(`on ann's page "Seen" follows %q, want message-%d`, got, second)
	}

	// bob writes; ann reads it on her phone: bob sees Seen, and only that
	// (never his own reads).
	bobSock.say("third")
	phone.readUntil(">third<")
	third := phone.ids[len(phone.ids)-1]
	phone.send(readFrame(itoa(third)))
	bobSock.readUntil(`afterend:#message-` + itoa(third))
	if n := strings.Count(bobSock.text.String(), `class="seen"`); n != 1 {
		t.Errorf("bob's socket got %d Seen marks, want 1 (ann's read, not his own):\n%.3000s", n, bobSock.text.String())
	}

	// Past the room's last message nothing moves; a bad id is refused to
	// the sender alone.
	bobSock.send(readFrame(itoa(third + 1000)))
	bobSock.send(readFrame("not-an-id"))
	bobSock.readUntil("up_to must be a message id.")
	ann.postMessage(slug, "fourth")
	if got := seenUnder(t, ann.get("/rooms/"+slug).body); got != "message-"+itoa(second) {
		t.Errorf(`after a read past the end, "Seen" follows %q on ann's page, want message-%d`, got, second)
	}

	// Without JavaScript: bob's page, loaded, is read, and says so (ann's
	// post led her to the page, which she read).
	fourth := ann.lastMessageID(slug)
	if got := seenUnder(t, bob.get("/rooms/"+slug).body); got != "message-"+itoa(fourth) {
		t.Errorf(`on bob's page "Seen" follows %q, want message-%d (ann read it)`, got, fourth)
	}
	if got := seenUnder(t, ann.get("/rooms/"+slug).body); got != "message-"+itoa(fourth) {
		t.Errorf(`once bob loaded the page, "Seen" follows %q on ann's, want message-%d`, got, fourth)
	}

	// The API: reads as a bot would, and no door for carol.
	bobAPI := ts.api(t, bob.makeToken("bot"))
	var reads struct {
		LastMessageID int64 `json:"last_message_id"`
		Shown         bool  `json:"shown"`
		Reads         []struct {
			Username string `json:"username"`
			UpTo     int64  `json:"up_to"`
		} `json:"reads"`
	}
	res := bobAPI.call("GET", "/api/v1/rooms/"+slug+"/reads", nil)
	expectAPI(t, res, http.StatusOK)
	res.json(t, &reads)
	if !reads.Shown || reads.LastMessageID != fourth || len(reads.Reads) != 1 || reads.Reads[0].Username != "ann" || reads.Reads[0].UpTo != fourth {
		t.Errorf("bob's reads: %s", res.body)
	}
	if r := bobAPI.call("POST", "/api/v1/rooms/"+slug+"/read", map[string]int64{"up_to": fourth + 1000}); r.status != http.StatusUnprocessableEntity || r.errCode(t) != "invalid" {
		t.Errorf("a read past the last message: %d %s", r.status, r.body)
	}
	carolAPI := ts.api(t, carol.makeToken("nosy"))
	for _, r := range []apiRes{
		carolAPI.call("POST", "/api/v1/rooms/"+slug+"/read", map[string]int64{}),
		carolAPI.call("GET", "/api/v1/rooms/"+slug+"/reads", nil),
	} {
		if r.status != http.StatusNotFound {
			t.Errorf("carol, not in the conversation, got %d: %s", r.status, r.body)
		}
	}
	expectStatus(t, carol.get("/rooms/"+slug), http.StatusNotFound)
}

// Read receipts off: one's reads show to no one, and others' not to one;
// the switch is a plain form.
func TestReadReceiptsPrivacy(t *testing.T) {
	ts := newTestServer(t)
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	slug := dmSlugOf(t, ann, "bob")
	ann.postMessage(slug, "are you there?")
	msg := ann.lastMessageID(slug)

	page := doc(t, bob.get("/settings/privacy").body)
	if on := byID(page, "privacy-form"); on == nil || !strings.Contains(bob.get("/settings/privacy").body, `value="on" checked`) {
		t.Fatal("the privacy page has no form with receipts on")
	}
	res := bob.post("/settings/privacy", url.Values{"read_receipts": {"maybe"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if !strings.Contains(res.body, "Read receipts are on or off.") {
		t.Errorf("a bad value is not explained:\n%.1000s", res.body)
	}
	expectStatus(t, bob.post("/settings/privacy", url.Values{"read_receipts": {"off"}}), http.StatusSeeOther)
	if body := bob.get("/settings/privacy").body; !strings.Contains(body, `value="off" checked`) || !strings.Contains(body, "Saved.") {
		t.Errorf("the privacy page after off:\n%.2000s", body)
	}

	bobPage := bob.get("/rooms/" + slug).body // bob reads the message
	if seenUnder(t, bobPage) != "" || byID(doc(t, bobPage), "read-signal") != nil {
		t.Error("bob, receipts off, sees Seen or signals his reads")
	}
	if got := seenUnder(t, ann.get("/rooms/"+slug).body); got != "" {
		t.Errorf("ann sees bob's read (under %s) though he turned receipts off", got)
	}
	bobAPI := ts.api(t, bob.makeToken("bot"))
	var reads struct {
		Shown bool              `json:"shown"`
		Reads []json.RawMessage `json:"reads"`
	}
	bobAPI.call("GET", "/api/v1/rooms/"+slug+"/reads", nil).json(t, &reads)
	if reads.Shown || len(reads.Reads) != 0 {
		t.Errorf("bob, receipts off, is shown reads by the API: %+v", reads)
	}

	// On again: his read shows, and he sees ann's.
	expectStatus(t, bob.post("/settings/privacy", url.Values{"read_receipts": {"on"}}), http.StatusSeeOther)
	if got := seenUnder(t, ann.get("/rooms/"+slug).body); got != "message-"+itoa(msg) {
		t.Errorf("with bob's receipts on, ann's Seen follows %q, want message-%d", got, msg)
	}
}

// In a small room, the last message says who read it: the first read
// brings "Seen by", each later one the count and its one name, never the
// list again; a member with receipts off is neither shown nor shown any;
// nothing of a private room reaches anyone outside it; a new message takes
// "Seen by" away.
func TestSeenByInASmallRoom(t *testing.T) {
	ts := newTestServer(t)
	ann, bob, carol, dave, erin := ts.client(t).signup("ann"), ts.client(t).signup("bob"), ts.client(t).signup("carol"), ts.client(t).signup("dave"), ts.client(t).signup("erin")
	expectStatus(t, ann.post("/rooms", url.Values{"name": {"crew"}, "private": {"on"}}), http.StatusSeeOther)
	for _, name := range []string{"bob", "carol", "dave"} {
		expectStatus(t, ann.post("/rooms/crew/members", url.Values{"username": {name}}), http.StatusSeeOther)
	}
	expectStatus(t, dave.post("/settings/privacy", url.Values{"read_receipts": {"off"}}), http.StatusSeeOther)
	ann.postMessage("crew", "plans for friday")
	msg := ann.lastMessageID("crew")
	annSock, daveSock := ann.dial("crew", -1), dave.dial("crew", -1)
	erin.post("/rooms/general/join", nil)
	erinSock := erin.dial("general", -1)

	// dave reads first, but his receipts are off; then bob.
	if page := dave.get("/rooms/crew").body; seenBy(t, page) != "" {
		t.Errorf("dave, receipts off, sees %q", seenBy(t, page))
	}
	bob.get("/rooms/crew")
	first := annSock.readUntil(`id="seen-by-count"`)
	first = first[strings.Index(first, `id="seen-by"`):]
	if !strings.Contains(first, `afterend:#message-`+itoa(msg)) || !strings.Contains(first, `data-reader="bob"`) || strings.Contains(first, "dave") {
		t.Errorf("the first read's frame:\n%.2000s", first)
	}
	before := len(annSock.text.String())
	carolSock := carol.dial("crew", -1)
	carolSock.send(readFrame(itoa(msg)))
	annSock.readUntil(`data-reader="carol"`)
	later := annSock.text.String()[before:]
	if !strings.Contains(later, `<span id="seen-by-count" hx-swap-oob="outerHTML">2</span>`) || strings.Contains(later, `data-reader="bob"`) {
		t.Errorf("a later read redrew the list or missed the count:\n%.2000s", later)
	}
	if got := seenBy(t, ann.get("/rooms/crew").body); got != "2: bob, carol" {
		t.Errorf("ann's page says %q, want 2: bob, carol", got)
	}

	// What came after: dave (off) and erin (outside) were sent none of it.
	annSock.say("one more thing")
	daveSock.readUntil("one more thing")
	if strings.Contains(daveSock.text.String(), "seen-by") {
		t.Errorf("dave, receipts off, was sent receipts:\n%.2000s", daveSock.text.String())
	}
	ann.postMessage("general", "hello all")
	erinSock.readUntil("hello all")
	if strings.Contains(erinSock.text.String(), "seen-by") || strings.Contains(erinSock.text.String(), "plans for friday") {
		t.Errorf("erin, outside the private room, was sent its receipts:\n%.2000s", erinSock.text.String())
	}
	expectStatus(t, erin.get("/rooms/crew"), http.StatusNotFound)
	erinAPI := ts.api(t, erin.makeToken("nosy"))
	if r := erinAPI.call("GET", "/api/v1/rooms/crew/reads", nil); r.status != http.StatusNotFound {
		t.Errorf("erin's API read of the private room's receipts: %d %s", r.status, r.body)
	}
	if r := erinAPI.call("POST", "/api/v1/rooms/crew/read", map[string]int64{}); r.status != http.StatusNotFound {
		t.Errorf("erin's API read of the private room: %d %s", r.status, r.body)
	}

	// The new message has been read by no one but its author.
	if got := seenBy(t, ann.get("/rooms/crew").body); got != "" {
		t.Errorf("after a new message ann's page still says %q", got)
	}
}

// On a cluster: bob reads on node B, ann's page on node A sees "Seen".
func TestReadReceiptsAcrossNodes(t *testing.T) {
	ns := startNATS(t)
	a := newTestServer(t)
	b := startTestServer(t, a.path, live.HubConfig{}, false)
	joinCluster(t, a, ns, cluster.Options{})
	joinCluster(t, b, ns, cluster.Options{})
	ann, bob := a.client(t).signup("ann"), b.client(t).signup("bob")
	slug := dmSlugOf(t, ann, "bob")
	ann.postMessage(slug, "across the cluster")
	msg := ann.lastMessageID(slug)
	annSock := ann.dial(slug, -1)
	bob.get("/rooms/" + slug) // read on B
	if f := annSock.readUntil(`afterend:#message-` + itoa(msg)); !strings.Contains(f, `class="seen"`) {
		t.Errorf("ann, on A, got no Seen:\n%.1500s", f)
	}
}
