package handlers_test

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/slack-go/slack"
	"golang.org/x/net/html"
)

// newHook makes an incoming webhook as an admin and returns its URL, read
// from #new-hook.
func newHook(t *testing.T, admin *client, room, username string) string {
	t.Helper()
	res := admin.post("/admin/hooks", url.Values{"room": {room}, "username": {username}})
	expectStatus(t, res, http.StatusCreated)
	el := byID(doc(t, res.body), "new-hook")
	if el == nil {
		t.Fatalf("no #new-hook:\n%.800s", res.body)
	}
	link, _ := attr(el, "value")
	u := mustURL(t, link)
	if !strings.HasPrefix(u.Path, "/hooks/") || u.Host == "" {
		t.Fatalf("hook URL %q", link)
	}
	return link
}

// TestIncomingHookTakesWhatSlackClientsSend posts through slack-go's
// PostWebhook (a client nobody here wrote) and Alertmanager's Slack payload,
// and finds each rendered live in the room, from the hook's bot.
func TestIncomingHookTakesWhatSlackClientsSend(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	ann.get("/rooms/general")
	sock := ann.dial("general", -1)
	hook := newHook(t, ann, "general", "ci")
	sock.readUntil("ci joined") // the bot joined the room, as a notice

	// Text: Slack's bold, a labelled link, an emoji code.
	if err := slack.PostWebhook(hook, &slack.WebhookMessage{Text: "*Deploy* of <https://ci.example/builds/42|build 42> finished :tada:"}); err != nil {
		t.Fatalf("PostWebhook: %v", err)
	}
	got := sock.readUntil("finished 🎉")
	for _, want := range []string{"<strong>Deploy</strong>", `href="https://ci.example/builds/42"`, "build 42", `data-author="ci"`, `<span class="tag">bot</span>`} {
		if !strings.Contains(got, want) {
			t.Errorf("the text message lacks %q:\n%.3000s", want, got)
		}
	}

	// An attachment, as CI tools send them.
	if err := slack.PostWebhook(hook, &slack.WebhookMessage{Attachments: []slack.Attachment{{
		Color: "danger", Title: "Tests failed", TitleLink: "https://ci.example/runs/7", Text: "3 of 120 *failed*",
		Fields: []slack.AttachmentField{{Title: "Branch", Value: "main", Short: true}}, Footer: "agora-ci",
	}}}); err != nil {
		t.Fatalf("PostWebhook: %v", err)
	}
	got = sock.readUntil("agora-ci")
	for _, want := range []string{"<strong>Tests failed</strong>", `href="https://ci.example/runs/7"`, "<strong>failed</strong>", "<strong>Branch</strong>: main"} {
		if !strings.Contains(got, want) {
			t.Errorf("the attachment lacks %q:\n%.3000s", want, got)
		}
	}

	// Blocks: a header and a section with fields; the text is their fallback.
	blocks := slack.Blocks{BlockSet: []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject("plain_text", "Release 1.4", false, false)),
		slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "*Notes:* <https://example.com/r/1.4|what changed>", false, false),
			[]*slack.TextBlockObject{slack.NewTextBlockObject("mrkdwn", "*By* :rocket: ops", false, false)}, nil),
		slack.NewDividerBlock(),
	}}
	if err := slack.PostWebhook(hook, &slack.WebhookMessage{Text: "Release 1.4 is out (fallback)", Blocks: &blocks}); err != nil {
		t.Fatalf("PostWebhook: %v", err)
	}
	got = sock.readUntil("🚀 ops")
	for _, want := range []string{"<strong>Release 1.4</strong>", "<strong>Notes:</strong>", `href="https://example.com/r/1.4"`, "<strong>By</strong>"} {
		if !strings.Contains(got, want) {
			t.Errorf("the blocks lack %q:\n%.3000s", want, got)
		}
	}
	if strings.Contains(got, "(fallback)") {
		t.Error("the text was shown beside blocks; Slack shows it only as their fallback")
	}

	// Alertmanager's Slack receiver, with its payload as it sends it.
	fixture, err := os.ReadFile("testdata/alertmanager_slack.json")
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Post(hook, "application/json", bytes.NewReader(fixture))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || b.String() != "ok" {
		t.Fatalf("alertmanager's post: %d %q", res.StatusCode, b.String())
	}
	got = sock.readUntil("Alertmanager 0.28")
	for _, want := range []string{"🚨 <strong>Production</strong> is paging", "<strong>[FIRING:2] InstanceDown (node prod)</strong>",
		"<code>InstanceDown</code>", `href="http://prometheus.example:9090/graph?g0.expr=up%3D%3D0&amp;g0.tab=1"`, "📈 Graph"} {
		if !strings.Contains(got, want) {
			t.Errorf("the alert lacks %q:\n%.4000s", want, got)
		}
	}
	if strings.Contains(got, `data-author="alertmanager"`) {
		t.Error("the payload's username became the author: a hook posts as its own bot only")
	}

	// Stored like any message: the room page shows them, from the bot.
	page := ann.get("/rooms/general")
	for _, want := range []string{"build 42", "Tests failed", "Release 1.4", "InstanceDown"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the room page lacks %q", want)
		}
	}

	// The older form post, payload=JSON, works too.
	res2 := ts.client(t).post(strings.TrimPrefix(hook, ts.URL), url.Values{"payload": {`{"text":"from a form"}`}})
	if res2.status != http.StatusOK || res2.body != "ok" {
		t.Errorf("payload= form: %d %q", res2.status, res2.body)
	}
	sock.readUntil("from a form")
}

// TestIncomingHookRefusals: every bad post is answered in Slack's words and
// stores nothing; the admin pages are admins' only; a revoked hook is gone.
func TestIncomingHookRefusals(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	expectStatus(t, bob.get("/admin/hooks"), http.StatusNotFound)
	expectStatus(t, bob.post("/admin/hooks", url.Values{"room": {"general"}}), http.StatusNotFound)
	expectStatus(t, ann.post("/admin/hooks", url.Values{"room": {"nowhere"}}), http.StatusUnprocessableEntity)
	expectStatus(t, ann.post("/admin/hooks", url.Values{"room": {"general"}, "username": {"bob"}}), http.StatusConflict)
	expectStatus(t, ann.post("/admin/hooks", url.Values{"room": {"general"}, "username": {"b0b"}}), http.StatusConflict)
	expectStatus(t, ann.post("/admin/hooks", url.Values{"room": {"general"}, "username": {"no spaces"}}), http.StatusUnprocessableEntity)

	hook := newHook(t, ann, "general", "")
	path := strings.TrimPrefix(hook, ts.URL)
	if page := ann.get("/admin/hooks"); strings.Contains(page.body, path) {
		t.Error("the hook's secret URL is shown again on the list")
	}
	before := ts.messageCount(t, "general")
	post := func(body string, contentType string) response {
		t.Helper()
		res, err := http.Post(ts.URL+path, contentType, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(res.Body)
		return response{status: res.StatusCode, header: res.Header, body: b.String()}
	}
	for _, c := range []struct {
		name, body, ctype string
		status            int
		word              string
	}{
		{"bad JSON", `{"text": "unclosed`, "application/json", 400, "invalid_payload"},
		{"not an object", `["text"]`, "application/json", 400, "invalid_payload"},
		{"no text", `{"text": "   ", "attachments": [{"color": "good"}]}`, "application/json", 400, "no_text"},
		{"a form without payload", "text=hi", "application/x-www-form-urlencoded", 400, "invalid_payload"},
		{"huge", `{"text": "` + strings.Repeat("x", 200_000) + `"}`, "application/json", 413, "request_too_large"},
	} {
		if res := post(c.body, c.ctype); res.status != c.status || res.body != c.word {
			t.Errorf("%s: %d %q, want %d %q", c.name, res.status, res.body, c.status, c.word)
		}
	}
	res, err := http.Post(ts.URL+"/hooks/not-a-secret", "application/json", strings.NewReader(`{"text":"hi"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown secret: %d, want 404", res.StatusCode)
	}
	if n := ts.messageCount(t, "general"); n != before {
		t.Errorf("refused posts stored messages: %d, then %d", before, n)
	}

	// A long text arrives cut, with the cut said, rather than refused.
	if res := post(`{"text": "`+strings.Repeat("y", 5000)+`"}`, "application/json"); res.status != 200 {
		t.Errorf("a long text: %d %q", res.status, res.body)
	}

	// Per hook: a burst is refused with 429 and Retry-After, as Slack does.
	limited := false
	for i := range 60 {
		res := post(`{"text": "burst `+strconv.Itoa(i)+`"}`, "application/json")
		if res.status == http.StatusTooManyRequests {
			if res.body != "rate_limited" || res.header.Get("Retry-After") == "" {
				t.Errorf("429: %q, Retry-After %q", res.body, res.header.Get("Retry-After"))
			}
			limited = true
			break
		}
		if res.status != http.StatusOK {
			t.Fatalf("burst %d: %d %q", i, res.status, res.body)
		}
	}
	if !limited {
		t.Error("60 posts at once were all taken: no limit per hook")
	}

	// An archived room's hook answers 410, as Slack's does for an archived channel.
	ann.post("/rooms", url.Values{"name": {"alerts"}})
	alerts := strings.TrimPrefix(newHook(t, ann, "alerts", "pager"), ts.URL)
	expectStatus(t, ann.post("/admin/rooms/alerts/archive", nil), http.StatusSeeOther)
	res, err = http.Post(ts.URL+alerts, "application/json", strings.NewReader(`{"text":"hi"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusGone {
		t.Errorf("a hook of an archived room: %d, want 410", res.StatusCode)
	}
	expectStatus(t, ann.post("/admin/hooks", url.Values{"room": {"alerts"}}), http.StatusUnprocessableEntity)

	// Revoked: 404 from then on.
	page := doc(t, ann.get("/admin/hooks").body)
	forms := findAll(page, func(n *html.Node) bool {
		a, _ := attr(n, "action")
		return n.Data == "form" && strings.HasSuffix(a, "/revoke")
	})
	for _, f := range forms {
		action, _ := attr(f, "action")
		expectStatus(t, ann.post(action, nil), http.StatusSeeOther)
	}
	if len(forms) != 2 {
		t.Fatalf("%d revoke forms, want 2", len(forms))
	}
	if res := post(`{"text":"after revoking"}`, "application/json"); res.status != http.StatusNotFound || res.body != "no_service" {
		t.Errorf("a revoked hook: %d %q, want 404 no_service", res.status, res.body)
	}
	if !strings.Contains(ann.get("/admin/hooks").body, "revoked incoming hook") {
		t.Error("the audit list does not say the hook was revoked")
	}
}
