package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"agora/assets"
	"agora/chat/live"
	"agora/db"
	"agora/handlers"
)

// newServerWith starts the real router on a fresh database with cfg's
// settings (store, hub and assets are filled in).
func newServerWith(t *testing.T, cfg handlers.Config) *testServer {
	t.Helper()
	return startServerAt(t, filepath.Join(t.TempDir(), "agora.db"), cfg)
}

func startServerAt(t *testing.T, path string, cfg handlers.Config) *testServer {
	t.Helper()
	store, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.Hub, cfg.Assets = store, handlers.NewHub(live.HubConfig{}), assets.FS
	app := handlers.New(cfg)
	ts := &testServer{Server: httptest.NewServer(app), store: store, app: app, hub: cfg.Hub, path: path}
	t.Cleanup(ts.stop)
	return ts
}

// concurrently runs n requests at once and counts their statuses.
func concurrently(n int, do func(i int) int) map[int]int {
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			st := do(i)
			mu.Lock()
			counts[st]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return counts
}

func TestLoginBurstIsRefusedBeforeHashing(t *testing.T) {
	ts := newTestServer(t)
	ts.client(t).signup("ann")
	counts := concurrently(200, func(int) int {
		return ts.client(t).post("/login", url.Values{"username": {"ann"}, "password": {"wrong-guess"}}).status
	})
	// The bucket holds 10 attempts: only those were hashed.
	if counts[http.StatusUnauthorized] > 10 || counts[http.StatusTooManyRequests] < 190 {
		t.Fatalf("200 concurrent wrong passwords answered %v: want at most 10 checked, the rest 429", counts)
	}
}

func TestPasswordHashingIsCapped(t *testing.T) {
	// 200 logins from 200 addresses for 200 names: no limit per address or
	// account applies, so only the cap on hashing keeps memory bounded
	// (each hash takes 19 MiB: 200 at once would take 3.8 GB).
	ts := newServerWith(t, handlers.Config{TrustProxy: true})
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	counts := concurrently(200, func(i int) int {
		return ts.client(t).do("POST", "/login", url.Values{"username": {fmt.Sprintf("user%d", i)}, "password": {"wrong-guess"}},
			map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i)}).status
	})
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if counts[http.StatusUnauthorized]+counts[http.StatusTooManyRequests] != 200 {
		t.Fatalf("answers %v: want only 401 and 429", counts)
	}
	if counts[http.StatusTooManyRequests] == 0 {
		t.Errorf("answers %v: nobody was told the server is busy", counts)
	}
	grown := int64(after.HeapSys) - int64(before.HeapSys)
	t.Logf("answers %v; heap grew by %d MiB", counts, grown>>20)
	if grown > 600<<20 {
		t.Fatalf("the heap grew by %d MiB for 200 concurrent logins: hashing is not capped", grown>>20)
	}
	// And the busy answer says so.
	res := ts.client(t).do("POST", "/login", url.Values{"username": {"x1"}, "password": {"wrong-guess"}},
		map[string]string{"X-Forwarded-For": "192.0.2.1"})
	expectStatus(t, res, http.StatusUnauthorized)
}

func TestActionsThatBroadcastAreRateLimited(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	ann.postMessage("general", "hello")
	id := ann.lastMessageID("general")
	msg := fmt.Sprintf("/messages/%d", id)

	limited := func(what string, n int, do func(i int) response, want string) {
		t.Helper()
		for i := range n {
			res := do(i)
			if res.status == http.StatusTooManyRequests {
				if !strings.Contains(res.body, want) {
					t.Errorf("%s: 429 without a clear message:\n%.500s", what, res.body)
				}
				return
			}
			if res.status >= 400 {
				t.Fatalf("%s %d: %d\n%.500s", what, i, res.status, res.body)
			}
		}
		t.Errorf("%d %s in a row were all accepted", n, what)
	}
	limited("edits", 40, func(i int) response {
		return ann.post(msg+"/edit", url.Values{"body": {fmt.Sprintf("edit %d", i)}})
	}, "editing too fast")
	limited("reactions", 60, func(int) response {
		return ann.post(msg+"/reactions", url.Values{"emoji": {"👍"}})
	}, "reacting too fast")
	limited("renames", 20, func(i int) response {
		return ann.post("/settings/profile", url.Values{"display_name": {fmt.Sprintf("Ann %d", i)}})
	}, "changed your name several times")
	limited("rooms", 20, func(i int) response {
		return ann.post("/rooms", url.Values{"name": {fmt.Sprintf("room %d", i)}})
	}, "created several rooms")

	// Joins and leaves post notices: they are limited too.
	bob := ts.client(t).signup("bob")
	limited("joins and leaves", 100, func(i int) response {
		if i%2 == 0 {
			return bob.get("/rooms/room-0")
		}
		return bob.post("/rooms/room-0/leave", nil)
	}, "joining and leaving rooms too fast")
}

func TestSocketsPerUserAndAddressAreCapped(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	ann.get("/rooms/general")
	var socks []*sock
	for range 32 {
		socks = append(socks, ann.dial("general", -1))
	}
	_, res, err := ann.dialRaw("/rooms/general/ws", nil)
	if err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the 33rd socket of one user: err %v, response %v; want 429", err, res)
	}
	// Closed sockets free their places.
	for _, s := range socks {
		s.conn.CloseNow()
	}
	var again *sock
	waitFor(t, "a place to free up", func() bool {
		conn, _, err := ann.dialRaw("/rooms/general/ws", nil)
		if err != nil {
			return false
		}
		again = &sock{t: t, conn: conn, seen: map[int64]int{}}
		return true
	})
	t.Cleanup(func() { again.conn.CloseNow() })

	// Everyone here is 127.0.0.1: three more users and ann fill its 128.
	for i := range 3 {
		u := ts.client(t).signup(fmt.Sprintf("user%d", i))
		u.get("/rooms/general")
		for range 32 {
			u.dial("general", -1)
		}
	}
	for range 31 {
		ann.dial("general", -1)
	}
	last := ts.client(t).signup("last")
	last.get("/rooms/general")
	_, res, err = last.dialRaw("/rooms/general/ws", nil)
	if err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("socket 129 from one address: err %v, response %v; want 429", err, res)
	}
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestNamesCannotImpersonate(t *testing.T) {
	// Each visitor from an address of its own, so the sign-up and guest
	// limits per address stay out of the way.
	ts := newServerWith(t, handlers.Config{Guests: true, TrustProxy: true})
	n := 0
	from := func() map[string]string {
		n++
		return map[string]string{"X-Forwarded-For": fmt.Sprintf("192.0.2.%d", n)}
	}
	ts.client(t).signup("alice")
	bob := ts.client(t).signup("bob")
	for _, name := range []string{
		"alice", "ALICE", "Alice",
		"\u0430lice",                // Cyrillic а
		"\u0430l\u0456\u0441\u0435", // Cyrillic а, і, с, е
		"al1ce", "aIice", "ａｌｉｃｅ", "𝐚𝐥𝐢𝐜𝐞", "alicé",
	} {
		res := bob.post("/settings/profile", url.Values{"display_name": {name}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if !strings.Contains(res.body, "name of another account") {
			t.Errorf("%q refused without saying why:\n%.400s", name, res.body)
		}
		// Guests are held to the same rule.
		expectStatus(t, ts.client(t).do("POST", "/guest", url.Values{"display_name": {name}}, from()), http.StatusUnprocessableEntity)
	}
	for _, name := range []string{
		"ali\u200bce", "alice\u200d", "\u202eecila", "bob\u2066x", "bo\u00adb", "\ufeffbob", "bob\x1b[31m", "bob\x00", "\u3164",
	} {
		res := bob.post("/settings/profile", url.Values{"display_name": {name}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if !strings.Contains(res.body, "characters") {
			t.Errorf("%q refused without saying why:\n%.400s", name, res.body)
		}
		expectStatus(t, ts.client(t).do("POST", "/guest", url.Values{"display_name": {name + "z"}}, from()), http.StatusUnprocessableEntity)
	}
	// Looking like one's own username is fine, and so is an honest name.
	for _, name := range []string{"BOB", "Bob Builder", "Алиса"} {
		expectStatus(t, bob.post("/settings/profile", url.Values{"display_name": {name}}), http.StatusSeeOther)
	}
	// A new username may not look like an existing one either.
	for _, name := range []string{"ALICE", "aIice", "a1ice", "bob"} {
		res := ts.client(t).do("POST", "/signup", url.Values{"username": {name}, "password": {"long-enough-pw"}}, from())
		expectStatus(t, res, http.StatusUnprocessableEntity)
	}
	// Room names: no control, invisible or text-direction characters.
	for _, name := range []string{"ro\x00om", "ro\x1bom", "\u202eroom", "ro\u200bom"} {
		res := bob.post("/rooms", url.Values{"name": {name}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
	}
}

func TestNextIsStrict(t *testing.T) {
	ts := newTestServer(t)
	ts.client(t).signup("ann")
	login := func(next string) string {
		res := ts.client(t).post("/login", url.Values{"username": {"ann"}, "password": {"password-ann"}, "next": {next}})
		expectStatus(t, res, http.StatusSeeOther)
		return res.header.Get("Location")
	}
	for _, next := range []string{
		"/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "/\\evil.example", "\\/evil.example",
		"//evil.example", "///evil.example", "/\\/evil.example", " /evil.example", "/ /x", "https://evil.example/",
		"https:evil.example", "javascript:alert(1)", "/%2F/evil.example", "/x\u2028y", "/\u00a0/evil.example", "",
	} {
		if loc := login(next); loc != "/" {
			t.Errorf("next=%q redirected to %q", next, loc)
		}
	}
	for _, next := range []string{"/rooms/general", "/rooms/general?around=5#message-5", "/search?q=a%20b"} {
		if loc := login(next); loc != next {
			t.Errorf("next=%q redirected to %q", next, loc)
		}
	}
	// The login page does not carry a bad next into its form either.
	if page := ts.client(t).get("/login?next=" + url.QueryEscape("/\t/evil.example")).body; strings.Contains(page, "evil.example") {
		t.Error("the login form keeps a bad next")
	}
}

func TestCrossSiteLinksAskBeforeChangingAnything(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	ann.post("/rooms", url.Values{"name": {"random"}})
	bob := ts.client(t).signup("bob")
	ctx := context.Background()
	room, _ := ts.store.RoomBySlug(ctx, "random")
	before := ts.messageCount(t, "random")
	crossSite := map[string]string{"Sec-Fetch-Site": "cross-site"}

	res := bob.do("GET", "/rooms/random", nil, crossSite)
	expectStatus(t, res, http.StatusOK)
	form := byID(doc(t, res.body), "confirm-open")
	if action, _ := attr(form, "action"); form == nil || action != "/rooms/random/join" {
		t.Fatalf("no Join button on a cross-site visit:\n%.800s", res.body)
	}
	if member, _ := ts.store.IsMember(ctx, room.ID, 2); member || ts.messageCount(t, "random") != before {
		t.Fatal("a cross-site GET joined the room")
	}
	expectStatus(t, bob.do("GET", "/rooms/random/messages", nil, crossSite), http.StatusForbidden)
	expectStatus(t, bob.post("/rooms/random/join", nil), http.StatusSeeOther)
	if member, _ := ts.store.IsMember(ctx, room.ID, 2); !member {
		t.Fatal("the Join button did not join")
	}
	// Same-origin navigation joins at once, as the contract says.
	carl := ts.client(t).signup("carl")
	expectStatus(t, carl.do("GET", "/rooms/random", nil, map[string]string{"Sec-Fetch-Site": "same-origin"}), http.StatusOK)
	if member, _ := ts.store.IsMember(ctx, room.ID, 3); !member {
		t.Fatal("same-origin navigation did not join")
	}

	// A direct conversation is not made by another site's link.
	res = bob.do("GET", "/dm/ann", nil, crossSite)
	expectStatus(t, res, http.StatusOK)
	if form := byID(doc(t, res.body), "confirm-open"); form == nil {
		t.Fatalf("no Open button:\n%.800s", res.body)
	}
	if _, err := ts.store.RoomBySlug(ctx, "dm-1-2"); err == nil {
		t.Fatal("a cross-site GET made a direct conversation")
	}
	expectStatus(t, bob.post("/dm/ann", nil), http.StatusSeeOther)
	if _, err := ts.store.RoomBySlug(ctx, "dm-1-2"); err != nil {
		t.Fatal("the Open button made no conversation")
	}
	// And without Sec-Fetch-Site, GET makes it on first use.
	expectStatus(t, carl.get("/dm/ann"), http.StatusOK)
	if _, err := ts.store.RoomBySlug(ctx, "dm-1-3"); err != nil {
		t.Fatal("GET /dm/ann did not make the conversation")
	}
}

func TestWhoLeftADirectConversationCannotReadIt(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	ann.get("/dm/bob")
	bob.postMessage("dm-1-2", "before leaving")
	expectStatus(t, bob.post("/rooms/dm-1-2/leave", nil), http.StatusSeeOther)
	ann.postMessage("dm-1-2", "after bob left")

	res := bob.get("/dm/ann")
	expectStatus(t, res, http.StatusOK)
	if strings.Contains(res.body, "after bob left") || strings.Contains(res.body, "before leaving") {
		t.Fatal("someone who left a conversation reads it")
	}
	if byID(doc(t, res.body), "confirm-open") == nil {
		t.Error("no way to open the conversation again")
	}
	expectStatus(t, bob.get("/rooms/dm-1-2"), http.StatusNotFound)
	expectStatus(t, bob.get("/rooms/dm-1-2/messages"), http.StatusNotFound)
	if _, res, err := bob.dialRaw("/rooms/dm-1-2/ws", nil); err == nil || res.StatusCode != http.StatusNotFound {
		t.Fatal("the socket of a left conversation opened")
	}
	// Opening it again is a choice, by POST.
	expectStatus(t, bob.post("/dm/ann", nil), http.StatusSeeOther)
	if !strings.Contains(bob.get("/dm/ann").body, "after bob left") {
		t.Error("opened again, the conversation does not show")
	}
}

func TestGuestSessionsEndWhenGuestsAreOff(t *testing.T) {
	ts := newGuestServer(t)
	ts.client(t).signup("ann")
	g := ts.client(t)
	expectStatus(t, g.post("/guest", url.Values{"display_name": {"Visitor"}}), http.StatusSeeOther)
	g.postMessage("general", "as a guest")

	ts = ts.restart(t) // without -guests
	g.ts = ts
	res := g.get("/")
	expectStatus(t, res, http.StatusSeeOther)
	if !strings.HasPrefix(res.header.Get("Location"), "/login") {
		t.Errorf("a guest session without -guests goes to %q", res.header.Get("Location"))
	}
	before := ts.messageCount(t, "general")
	expectStatus(t, g.post("/rooms/general/messages", url.Values{"body": {"still here"}}), http.StatusUnauthorized)
	if _, res, err := g.dialRaw("/rooms/general/ws", nil); err == nil || res.StatusCode != http.StatusUnauthorized {
		t.Error("a guest's socket opened without -guests")
	}
	if ts.messageCount(t, "general") != before {
		t.Error("a guest posted without -guests")
	}
}

func TestOnlyTheHostCookieCountsBehindTLS(t *testing.T) {
	ts := newServerWith(t, handlers.Config{TrustProxy: true})
	tls := map[string]string{"X-Forwarded-Proto": "https"}
	res := ts.client(t).do("POST", "/signup", url.Values{"username": {"ann"}, "password": {"password-ann"}}, tls)
	expectStatus(t, res, http.StatusSeeOther)
	cookie, _, _ := strings.Cut(res.header.Get("Set-Cookie"), ";")
	token, ok := strings.CutPrefix(cookie, "__Host-agora_session=")
	if !ok {
		t.Fatalf("cookie %q", cookie)
	}
	with := func(cookie string, header map[string]string) int {
		h := map[string]string{"Cookie": cookie}
		for k, v := range header {
			h[k] = v
		}
		return ts.client(t).do("GET", "/", nil, h).status
	}
	if st := with("__Host-agora_session="+token, tls); st != http.StatusOK {
		t.Errorf("the __Host- cookie behind TLS: %d", st)
	}
	if st := with("agora_session="+token, tls); st != http.StatusSeeOther {
		t.Errorf("the plain cookie behind TLS was accepted: %d", st)
	}
	if st := with("agora_session="+token, nil); st != http.StatusOK {
		t.Errorf("the plain cookie over plain HTTP: %d", st)
	}
}

func TestRemovingANonMemberPostsNoNotice(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	ts.client(t).signup("bob")
	ann.post("/rooms", url.Values{"name": {"staff"}, "private": {"on"}})
	before := ts.messageCount(t, "staff")
	res := ann.post("/rooms/staff/members/remove", url.Values{"username": {"bob"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if !strings.Contains(res.body, "bob is not a member") {
		t.Errorf("no clear error:\n%.400s", res.body)
	}
	if ts.messageCount(t, "staff") != before {
		t.Error("removing a non-member posted a notice")
	}
}

// Decorations do not make a name another: alice with a title in brackets, a
// full stop, spaced out, starred or tagged reads as alice, and is refused
// as a display name (for guests too) and as a username.
func TestDecoratedNamesCannotImpersonate(t *testing.T) {
	ts := newServerWith(t, handlers.Config{Guests: true, TrustProxy: true})
	n := 0
	from := func() map[string]string {
		n++
		return map[string]string{"X-Forwarded-For": fmt.Sprintf("192.0.2.%d", n)}
	}
	ts.client(t).signup("alice")
	bob := ts.client(t).signup("bob")
	for _, name := range []string{"alice (admin)", "alice.", "a l i c e", "[mod] alice", "★ alice ★", "alice!", "Alice（admin）", "a.l.i.c.e"} {
		res := bob.post("/settings/profile", url.Values{"display_name": {name}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if !strings.Contains(res.body, "name of another account") {
			t.Errorf("%q refused without saying why:\n%.400s", name, res.body)
		}
		expectStatus(t, ts.client(t).do("POST", "/guest", url.Values{"display_name": {name}}, from()), http.StatusUnprocessableEntity)
	}
	for _, name := range []string{"alice_", "al-ice", "a-l-i-c-e"} {
		res := ts.client(t).do("POST", "/signup", url.Values{"username": {name}, "password": {"long-enough-pw"}}, from())
		expectStatus(t, res, http.StatusUnprocessableEntity)
	}
	// Honest names that merely contain it are fine.
	for _, name := range []string{"Bob (alice's brother)", "Bob Builder", "malice"} {
		expectStatus(t, bob.post("/settings/profile", url.Values{"display_name": {name}}), http.StatusSeeOther)
	}
}
