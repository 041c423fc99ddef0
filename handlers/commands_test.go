package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"agora/chat"
)

// Slash commands take the one message path: the socket, the form and the
// API read them alike. A command that sends no message tells its caller
// alone; an unknown one or one too long is refused with why, the text kept.
func TestSlashCommands(t *testing.T) {
	ts := newTestServer(t)
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	bob.post("/rooms/general/join", nil)
	ann.post("/rooms/general/join", nil)
	ann.post("/rooms", url.Values{"name": {"crew"}, "private": {"on"}})
	annSock, bobSock := ann.dial("crew", -1), bob.dial("general", -1)

	// The socket: /me and /shrug send messages; /topic tells the room with a
	// notice and ann alone what it did.
	annGeneral := ann.dial("general", -1)
	annGeneral.send(composerFrame("/me waves", "cmd-me-1"))
	bobSock.readUntil(`data-client-id="cmd-me-1"`)
	if !strings.Contains(bobSock.text.String(), "<em>waves</em>") {
		t.Errorf("/me did not send an action:\n%.600s", bobSock.text.String())
	}
	// Italics end at a line's end: each line of a /me is an action (an
	// underscore inside stays as typed).
	annGeneral.send(composerFrame("/me waves\r\n\n and _smiles_", "cmd-me-2"))
	frame := bobSock.readUntil(`data-client-id="cmd-me-2"`)
	frame = frame[strings.Index(frame, `data-client-id="cmd-me-2"`):]
	if !strings.Contains(frame, "<em>waves</em>") || !strings.Contains(frame, "<em>and _smiles</em>") || strings.Contains(frame, "_waves") {
		t.Errorf("a /me of two lines reached bob as:\n%.800s", frame)
	}
	annGeneral.send(composerFrame("/shrug fine", "cmd-shrug-1"))
	bobSock.readUntil("fine " + chat.Shrug)
	annGeneral.send(composerFrame("/topic Launch week", "cmd-topic-1"))
	bobSock.readUntil("ann set the topic: Launch week")
	said := annGeneral.readUntil(`data-done="cmd-topic-1"`)
	if !strings.Contains(said, "Topic set.") {
		t.Errorf("ann is not told what /topic did:\n%.600s", said)
	}
	if strings.Contains(bobSock.text.String(), "Topic set.") {
		t.Error("bob is told what ann's command did")
	}

	// /invite adds to the private room, with its notice.
	annSock.send(composerFrame("/invite @bob", "cmd-invite-1"))
	annSock.readUntil("ann added bob to #crew")
	annSock.readUntil("@bob is added.")
	if !strings.Contains(bob.get("/rooms/crew").body, `id="composer"`) {
		t.Error("bob is not in crew after /invite")
	}

	// Refusals over the socket: beside the composer, the socket stays open.
	for body, says := range map[string]string{
		"/frobnicate now":                      "/frobnicate is not a command",
		"/topic " + strings.Repeat("x", 10000): "limit is 4000",
		"/" + strings.Repeat("y", 9999):        "limit is 4000",
		"/invite @nobody":                      "nobody called @nobody",
		"/invite":                              "/invite takes one person",
		"/me":                                  "/me needs what you do",
	} {
		annGeneral.send(composerFrame(body, newClientID()))
		annGeneral.readUntil(says)
	}
	annGeneral.send(composerFrame("still here", "cmd-after"))
	annGeneral.readUntil(`data-client-id="cmd-after"`)

	// "//" sends a message that starts with "/".
	annGeneral.send(composerFrame("//usr/bin is a path", "cmd-slash"))
	bobSock.readUntil("/usr/bin is a path")

	// The form: a refusal is the room again with the text kept; /help's
	// answer is on the room page after the redirect.
	res := ann.post("/rooms/general/messages", url.Values{"body": {"/nope"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if e := byID(doc(t, res.body), "composer-error"); e == nil || !strings.Contains(text(e), "/nope is not a command") {
		t.Error("the form does not say /nope is not a command")
	}
	if b := byID(doc(t, res.body), "body"); b == nil || text(b) != "/nope" {
		t.Error("the refused command's text is not kept in the composer")
	}
	res = ann.post("/rooms/general/messages", url.Values{"body": {"/help"}})
	expectStatus(t, res, http.StatusSeeOther)
	page := ann.get(res.header.Get("Location"))
	if s := byID(doc(t, page.body), "composer-said"); s == nil || !strings.Contains(text(s), "/topic TEXT") {
		t.Errorf("/help's answer is not on the room page")
	}
	if s := byID(doc(t, ann.get("/rooms/general").body), "composer-said"); s != nil && text(s) != "" {
		t.Error("/help's answer is shown twice")
	}

	// The API: a command's answer, or the message it sent.
	api := ts.api(t, bob.makeToken("cmd"))
	r := api.call("POST", "/api/v1/rooms/general/messages", map[string]string{"body": "/topic From a bot", "client_msg_id": "api-topic"})
	var out struct {
		Command string `json:"command"`
		Said    string `json:"said"`
	}
	if r.json(t, &out); r.status != http.StatusOK || out.Command != "topic" || out.Said != "Topic set." {
		t.Errorf("/topic by API: %d %s", r.status, r.body)
	}
	if r = api.call("POST", "/api/v1/rooms/general/messages", map[string]string{"body": "/me nods", "client_msg_id": "api-me"}); r.status != http.StatusCreated {
		t.Errorf("/me by API: %d %s", r.status, r.body)
	}
	for _, body := range []string{"/unknown", "/x " + strings.Repeat("z", 10000)} {
		if r = api.call("POST", "/api/v1/rooms/general/messages", map[string]string{"body": body}); r.status != http.StatusUnprocessableEntity || r.errCode(t) != "invalid" {
			t.Errorf("%.20s by API: %d %s", body, r.status, r.body)
		}
	}

	// /leave takes bob out of crew (the form goes to the lobby).
	res = bob.post("/rooms/crew/messages", url.Values{"body": {"/leave"}})
	if expectStatus(t, res, http.StatusSeeOther); res.header.Get("Location") != "/" {
		t.Errorf("/leave by form goes to %s", res.header.Get("Location"))
	}
	expectStatus(t, bob.get("/rooms/crew"), http.StatusNotFound)
	annSock.readUntil("bob left #crew")
}
