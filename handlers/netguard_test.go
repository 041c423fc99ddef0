package handlers_test

import (
	"net/http"
	"strings"
	"testing"
)

// The addresses the last probe got through the webhook guard: an
// IPv4-compatible IPv6 form of loopback, a site-local address and the
// local-use NAT64 prefix (which wraps 10.0.0.1 here). Each is refused before
// anything is dialled, and the bot's owner reads why.
func TestWebhooksToSpecialPurposeAddressesAreRefused(t *testing.T) {
	var logs syncBuffer
	ts := newHookServer(t, false, 0, &logs)
	ann := ts.client(t).signup("ann")
	local := newTestBot(t, func(hookCall) string { return "should never be heard" })
	_, port, _ := strings.Cut(strings.TrimPrefix(local.URL, "http://"), ":")
	targets := map[string]string{
		"compat":    "http://[::127.0.0.1]:" + port + "/hook",
		"sitelocal": "http://[fec0::1]:" + port + "/hook",
		"natlocal":  "http://[64:ff9b:1::a00:1]:8080/hook",
	}
	var mention []string
	for name, u := range targets {
		ann.makeBot(name, u)
		mention = append(mention, "@"+name)
	}
	ann.get("/rooms/general")
	api := ts.api(t, ann.makeToken("s"))
	res, _ := api.post("general", strings.Join(mention, " ")+" hello", "")
	expectAPI(t, res, http.StatusCreated)
	ts.waitHooks(t, int64(len(targets))) // a delivery job per bot
	if local.hits.Load() != 0 {
		t.Fatalf("the loopback webhook was called %d times", local.hits.Load())
	}
	page := doc(t, ann.get("/admin/bots").body)
	for name := range targets {
		if row := byID(page, "bot-"+name); row == nil || !strings.Contains(text(row), "not a public address") {
			t.Errorf("%s (%s) was not refused as a private address: %q", name, targets[name], text(row))
		}
	}
}
