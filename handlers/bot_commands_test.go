package handlers_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// commandCall is what a bot's webhook receives for a command.
type commandCall struct {
	Event   string `json:"event"`
	Bot     string `json:"bot"`
	Command string `json:"command"`
	Text    string `json:"text"`
	User    struct {
		Username string `json:"username"`
	} `json:"user"`
	Room struct {
		Slug string `json:"slug"`
	} `json:"room"`
}

// Bots' own commands: an admin registers one at /admin/bots (names that are
// built-ins, taken, or malformed are refused); it shows in the composer's
// list and /help; typed by anyone, its text reaches the bot's webhook
// signed, and the answer is shown to the caller alone, or posted when the
// bot asks; a bot that fails, and a command of 10,000 characters, are
// refused clearly with the text kept.
func TestBotCommands(t *testing.T) {
	ts := newHookServer(t, true, 2*time.Second, io.Discard)
	ann, bob := ts.client(t).signup("ann"), ts.client(t).signup("bob")
	ann.post("/rooms/general/join", nil)
	bob.post("/rooms/general/join", nil)

	var secret atomic.Value
	secret.Store("")
	calls := make(chan commandCall, 16)
	var hits, badSigs atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte(secret.Load().(string)))
		mac.Write(body)
		if !hmac.Equal([]byte(r.Header.Get("X-Agora-Signature")), []byte("sha256="+hex.EncodeToString(mac.Sum(nil)))) {
			badSigs.Add(1)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var c commandCall
		json.Unmarshal(body, &c)
		calls <- c
		w.Header().Set("Content-Type", "application/json")
		switch c.Text {
		case "public":
			io.WriteString(w, `{"body": "deployed by **bot**", "response_type": "in_channel"}`)
		case "fail":
			http.Error(w, "down", http.StatusInternalServerError)
		case "quiet":
		default:
			io.WriteString(w, `{"body": "only you see this"}`)
		}
	}))
	t.Cleanup(hook.Close)
	_, sec := ann.makeBot("deploybot", hook.URL)
	secret.Store(sec)

	// Registering: refusals first.
	expectStatus(t, bob.post("/admin/bots/deploybot/commands", url.Values{"name": {"deploy"}}), http.StatusNotFound)
	for _, c := range []struct{ name, about, why string }{
		{"topic", "", "built-in"},
		{"remind", "", "built-in"},
		{"status", "", "built-in"},
		{"bad name!", "", "letters, digits"},
		{"", "", "1 to 32"},
		{"deploy", strings.Repeat("d", 101), "at most 100"},
		{"deploy", "bidi \u202e text", "control or text-direction"},
	} {
		res := ann.post("/admin/bots/deploybot/commands", url.Values{"name": {c.name}, "description": {c.about}})
		if res.status != http.StatusUnprocessableEntity && res.status != http.StatusConflict {
			t.Errorf("command %q: %d", c.name, res.status)
		}
		if el := byID(doc(t, res.body), "command-error"); el == nil || !strings.Contains(text(el), c.why) {
			t.Errorf("command %q: the refusal does not say %q", c.name, c.why)
		}
	}
	res := ann.post("/admin/bots/deploybot/commands", url.Values{"name": {"/Deploy"}, "description": {"Deploy the app"}})
	expectStatus(t, res, http.StatusSeeOther)
	page := ann.get("/admin/bots").body
	if !strings.Contains(page, `data-command="deploy"`) || !strings.Contains(page, "takes /deploy now") {
		t.Errorf("/admin/bots does not list /deploy:\n%.3000s", page)
	}
	ann.makeBot("otherbot", hook.URL)
	expectStatus(t, ann.post("/admin/bots/otherbot/commands", url.Values{"name": {"deploy"}}), http.StatusConflict)

	// Listed for everyone's composer, and by /help.
	if room := bob.get("/rooms/general").body; !strings.Contains(room, `data-command="deploy"`) || !strings.Contains(room, "Deploy the app (@deploybot)") {
		t.Error("the composer's list lacks /deploy")
	}
	bob.post("/rooms/general/messages", url.Values{"body": {"/help"}})
	if said := bob.get("/rooms/general").body; !strings.Contains(said, "/deploy TEXT") {
		t.Error("/help does not list /deploy")
	}

	// Shown to the caller alone (the form), signed, with who and where.
	watch := ann.dial("general", -1)
	res = bob.post("/rooms/general/messages", url.Values{"body": {"/deploy staging"}})
	expectStatus(t, res, http.StatusSeeOther)
	c := <-calls
	if c.Event != "command" || c.Command != "deploy" || c.Text != "staging" || c.User.Username != "bob" || c.Room.Slug != "general" || c.Bot != "deploybot" {
		t.Errorf("the bot received %+v", c)
	}
	if said := bob.get("/rooms/general").body; !strings.Contains(said, "@deploybot: only you see this") {
		t.Errorf("bob is not shown the answer:\n%.1500s", said)
	}
	// Posted when the bot asks, over bob's socket: ann sees it live.
	bs := bob.dial("general", -1)
	bs.send(composerFrame("/deploy public", "cmd-public"))
	<-calls
	watch.readUntil("deployed by <strong>bot</strong>")
	if strings.Contains(watch.text.String(), "only you see this") {
		t.Error("ann was shown bob's private answer")
	}
	// The API: what the bot said.
	api := ts.api(t, bob.makeToken("cli"))
	r := api.call("POST", "/api/v1/rooms/general/messages", map[string]string{"body": "/deploy x"})
	expectAPI(t, r, http.StatusOK)
	<-calls
	if !strings.Contains(string(r.body), "only you see this") {
		t.Errorf("the API's answer: %s", r.body)
	}

	// A bot that fails: refused beside the composer, the text kept.
	res = bob.post("/rooms/general/messages", url.Values{"body": {"/deploy fail"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	<-calls
	if el := byID(doc(t, res.body), "composer-error"); el == nil || !strings.Contains(text(el), "@deploybot did not answer /deploy") {
		t.Errorf("the failure is not said:\n%.1500s", res.body)
	}
	if !strings.Contains(res.body, "/deploy fail") {
		t.Error("the text left the composer")
	}
	// 10,000 characters: refused before the bot hears of it.
	before := hits.Load()
	res = bob.post("/rooms/general/messages", url.Values{"body": {"/deploy " + strings.Repeat("x", 10000)}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if el := byID(doc(t, res.body), "composer-error"); el == nil || !strings.Contains(text(el), "the limit is 4000") {
		t.Errorf("the long command's refusal:\n%.800s", res.body)
	}
	r = api.call("POST", "/api/v1/rooms/general/messages", map[string]string{"body": "/deploy " + strings.Repeat("x", 10000)})
	expectAPI(t, r, http.StatusUnprocessableEntity)
	if hits.Load() != before {
		t.Error("the bot was called with a command over the limit")
	}
	if badSigs.Load() != 0 {
		t.Errorf("%d calls were not signed with the bot's secret", badSigs.Load())
	}

	// Removed: unknown again.
	expectStatus(t, ann.post("/admin/bots/deploybot/commands/deploy/remove", nil), http.StatusSeeOther)
	res = bob.post("/rooms/general/messages", url.Values{"body": {"/deploy x"}})
	expectStatus(t, res, http.StatusUnprocessableEntity)
	if !strings.Contains(res.body, "/deploy is not a command") {
		t.Errorf("a removed command:\n%.800s", res.body)
	}
}
