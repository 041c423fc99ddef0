//go:build e2e

package handlers_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestE2EBotAnswersInBothBrowsers: an admin makes a bot in the browser; a
// person mentions it; the bot's webhook (a server of the test's, on
// loopback, so the server runs with CHAT_WEBHOOKS_PRIVATE=1) answers, and
// both browsers show the reply live, tagged as a bot's. Then the bot speaks
// through the API with its token, and both see that live too.
func TestE2EBotAnswersInBothBrowsers(t *testing.T) {
	t.Setenv("CHAT_WEBHOOKS_PRIVATE", "1") // the server inherits it
	var secret atomic.Value
	secret.Store("")
	var badSigs atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte(secret.Load().(string)))
		mac.Write(body)
		if !hmac.Equal([]byte(r.Header.Get("X-Agora-Signature")), []byte("sha256="+hex.EncodeToString(mac.Sum(nil)))) {
			badSigs.Add(1)
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var call struct {
			Message struct{ Author, Body string } `json:"message"`
		}
		json.Unmarshal(body, &call)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"body": "pong, " + call.Message.Author + ": all systems green"})
	}))
	defer hook.Close()

	srv, alice, bob := twoUsers(t) // alice signed up first: an admin
	alice.navigate("open /admin/bots", chromedp.Navigate(srv.url("/admin/bots")))
	alice.do("fill in the bot form",
		chromedp.SendKeys(chromedp.ID("bot-username"), "deploy"),
		chromedp.SendKeys(chromedp.ID("bot-webhook"), hook.URL+"/hook"),
	)
	if status := alice.navigate("make the bot", chromedp.Click(chromedp.CSS(`form.settings-form button[type="submit"]`))); status != http.StatusOK {
		t.Fatalf("making the bot answered %d\n%s", status, alice.pageSummary())
	}
	token := strings.TrimSpace(evalJS[string](alice, `document.querySelector('#new-token').textContent`))
	secret.Store(strings.TrimSpace(evalJS[string](alice, `document.querySelector('#new-secret').textContent`)))
	alice.screenshot("bot-made", false)

	alice.openRoom(srv, "general")
	bob.openRoom(srv, "general")
	for _, b := range []*browser{alice, bob} {
		b.waitPresence("alice", "bob")
	}
	bob.send("@deploy status?")
	botTagged := `[...document.querySelectorAll('#messages [data-author="deploy"] .tag')].some(e => e.textContent === "bot")`
	for _, b := range []*browser{alice, bob} {
		b.waitJS("the bot's reply", hasMessageJS("pong, bob: all systems green"), liveWait)
		b.waitJS("the bot tag on its reply", botTagged, liveWait)
	}
	bob.screenshot("bot-replied", false)

	// The bot speaks up on its own, with its token: live in both pages.
	req, _ := http.NewRequest("POST", srv.url("/api/v1/rooms/general/messages"),
		bytes.NewReader([]byte(`{"body": "deploy 42 finished", "client_msg_id": "deploy-42"}`)))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("the bot's post answered %d", res.StatusCode)
	}
	for _, b := range []*browser{alice, bob} {
		b.waitJS("the bot's own post", hasMessageJS("deploy 42 finished"), liveWait)
	}
	if n := badSigs.Load(); n != 0 {
		t.Fatalf("%d webhook calls had a bad signature", n)
	}
}
