package handlers_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"agora/chat/live"
	"agora/chat/live/cluster"
)

// expectEnd reads the stream until it ends, failing if it carries an event
// with a body in never, or does not end.
func (s *sseStream) expectEnd(never ...string) {
	s.t.Helper()
	deadline := time.After(10 * time.Second) // a stream that never ends: far beyond any keepalive here
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return
			}
			for _, body := range never {
				if ev.Data.Message.Body == body {
					s.t.Fatalf("the stream delivered %q after it should have ended", body)
				}
			}
		case <-deadline:
			s.t.Fatal("the event stream did not end")
		}
	}
}

// G1: an open event stream stops at once, on every node, when its account
// is deactivated or its token revoked; a user removed from a room reads no
// more of it through the stream that stays open.
func TestEventStreamsEndOnEveryNodeWhenAccessEnds(t *testing.T) {
	ns := startNATS(t)
	a := newTestServer(t)
	b := startTestServer(t, a.path, live.HubConfig{}, false)
	joinCluster(t, a, ns, cluster.Options{})
	joinCluster(t, b, ns, cluster.Options{})
	root := a.client(t).signup("root")
	ann := a.client(t).signup("ann")
	carl := a.client(t).signup("carl")
	expectStatus(t, root.post("/rooms", url.Values{"name": {"secret"}, "private": {"on"}}), http.StatusSeeOther)
	for _, who := range []string{"ann", "carl"} {
		expectStatus(t, root.post("/rooms/secret/members", url.Values{"username": {who}}), http.StatusSeeOther)
	}
	annToken := ann.makeToken("offboarding")
	carlToken := carl.makeToken("kept")
	carlSpare := carl.makeToken("revoked")
	rootAPI := a.api(t, root.makeToken("root"))
	sent := 0
	post := func(slug, body string) {
		t.Helper()
		sent++
		res, _ := rootAPI.post(slug, body, "g1-"+itoa(int64(sent)))
		expectAPI(t, res, http.StatusCreated)
	}

	// Ann's streams on both nodes, carl's two tokens on node B.
	annOnA, annOnB := a.api(t, annToken).events(""), b.api(t, annToken).events("")
	carlOnB, spareOnB := b.api(t, carlToken).events(""), b.api(t, carlSpare).events("")
	post("secret", "before the offboarding")
	for _, s := range []*sseStream{annOnA, annOnB, carlOnB, spareOnB} {
		s.expect("message", "before the offboarding")
	}

	// Deactivated on node A: ann's streams end on both nodes before the
	// next private message, which neither delivers.
	expectStatus(t, root.post("/admin/users/ann/deactivate", nil), http.StatusSeeOther)
	post("secret", "after the offboarding")
	annOnA.expectEnd("after the offboarding")
	annOnB.expectEnd("after the offboarding")
	if res := b.api(t, annToken).call("GET", "/api/v1/me", nil); res.status != http.StatusUnauthorized {
		t.Errorf("a deactivated account's token answered %d", res.status)
	}

	// A token revoked on node A: its stream on node B ends; carl's other
	// token streams on.
	carlUser, _ := a.store.UserByUsername(t.Context(), "carl")
	tokens, _ := a.store.Tokens(t.Context(), carlUser.ID)
	id := ""
	for _, tk := range tokens {
		if tk.Name == "revoked" {
			id = itoa(tk.ID)
		}
	}
	expectStatus(t, carl.post("/settings/tokens/"+id+"/revoke", nil), http.StatusSeeOther)
	post("secret", "after the revocation")
	spareOnB.expectEnd("after the revocation")
	carlOnB.expect("message", "after the offboarding")
	carlOnB.expect("message", "after the revocation")

	// Removed from the room on node A: carl's stream on node B stays open,
	// and carries nothing more of the room; what follows elsewhere still comes.
	expectStatus(t, root.post("/rooms/secret/members/remove", url.Values{"username": {"carl"}}), http.StatusSeeOther)
	post("secret", "after carl was removed")
	post("general", "in general, later")
	for {
		switch ev := carlOnB.next(); ev.Data.Message.Body {
		case "after carl was removed":
			t.Fatal("the stream of a user removed from the room carried its next message")
		case "in general, later":
			return
		}
	}
}
