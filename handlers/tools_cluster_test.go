package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"agora/chat/live"
	"agora/chat/live/cluster"
)

// The conversation tools on two nodes of one cluster: a command typed on
// one node, a pin or a save made there, shows on the other as on one
// server, and a command's answer stays with its caller.
func TestConversationToolsAcrossNodes(t *testing.T) {
	ns := startNATS(t)
	a := newTestServer(t)
	b := startTestServer(t, a.path, live.HubConfig{}, false)
	joinCluster(t, a, ns, cluster.Options{})
	joinCluster(t, b, ns, cluster.Options{})
	ann, bob := a.client(t).signup("ann"), b.client(t).signup("bob")
	ann.post("/rooms/general/join", nil)
	bob.post("/rooms/general/join", nil)
	annSock, bobSock := ann.dial("general", -1), bob.dial("general", -1)

	// /me on A is a message on B.
	annSock.send(composerFrame("/me waves from A", "across-me"))
	bobSock.readUntil(`data-client-id="across-me"`)
	if !strings.Contains(bobSock.text.String(), "<em>waves from A</em>") {
		t.Errorf("/me on A reached B as:\n%.800s", bobSock.text.String())
	}
	waved := bobSock.ids[len(bobSock.ids)-1]

	// /topic on B: the notice on A, the answer on B alone.
	bobSock.send(composerFrame("/topic Across the cluster", "across-topic"))
	annSock.readUntil("bob set the topic: Across the cluster")
	if said := bobSock.readUntil(`data-done="across-topic"`); !strings.Contains(said, "Topic set.") {
		t.Errorf("bob is not told what /topic did:\n%.800s", said)
	}
	if strings.Contains(annSock.text.String(), "Topic set.") {
		t.Error("ann, on A, is told what bob's command did on B")
	}

	// A pin on A: its notice on B; B's pages list it.
	id := strconv.FormatInt(waved, 10)
	expectStatus(t, ann.post("/messages/"+id+"/pin", nil), http.StatusSeeOther)
	if frame := bobSock.readUntil("ann pinned a message"); !strings.Contains(frame, `href="/messages/`+id+`"`) {
		t.Errorf("the notice on B does not link the pin:\n%.800s", frame)
	}
	if got := listed(t, bob.get("/rooms/general/pins").body, "pins"); strings.Join(got, ",") != id {
		t.Errorf("the pins on B: %v, want %s", got, id)
	}

	// A save on B is bob's on A too, and nobody else's.
	expectStatus(t, bob.post("/messages/"+id+"/save", nil), http.StatusSeeOther)
	if got := listed(t, bob.as(a).get("/saved").body, "saved"); strings.Join(got, ",") != id {
		t.Errorf("bob's saved on A: %v, want %s", got, id)
	}
	if got := listed(t, ann.get("/saved").body, "saved"); len(got) != 0 {
		t.Errorf("ann's saved lists bob's: %v", got)
	}

	// /invite on A lists the private room in bob's sidebar on B at once;
	// /leave on B tells the room on A.
	expectStatus(t, ann.post("/rooms", url.Values{"name": {"crew"}, "private": {"on"}}), http.StatusSeeOther)
	annCrew := ann.dial("crew", -1)
	annCrew.send(composerFrame("/invite @bob", "across-invite"))
	annCrew.readUntil("@bob is added.")
	bobSock.readNavUntil("crew in bob's sidebar on B", func(nav string) bool { return strings.Contains(nav, `data-room="crew"`) })
	bobCrew := bob.dial("crew", -1)
	bobCrew.send(composerFrame("/leave", "across-leave"))
	annCrew.readUntil("bob left #crew")
	// The notice is posted while bob is still a member; his socket in the
	// room closes once he is not, and only then is the room closed to him.
	if code := bobCrew.closeCode(); code != live.ClosePolicy {
		t.Errorf("bob's socket in #crew closed with %d after /leave, want %d", code, live.ClosePolicy)
	}
	expectStatus(t, bob.get("/rooms/crew"), http.StatusNotFound)
}
