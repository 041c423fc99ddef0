package handlers_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// makeToken makes a personal access token on the settings page and returns
// it, read from the element it is shown in once.
func (c *client) makeToken(name string) string {
	c.t.Helper()
	res := c.post("/settings/tokens", url.Values{"name": {name}})
	expectStatus(c.t, res, http.StatusOK)
	el := byID(doc(c.t, res.body), "new-token")
	if el == nil {
		c.t.Fatalf("no #new-token on the page:\n%.1000s", res.body)
	}
	return strings.TrimSpace(text(el))
}

// apiClient is a program using the API with a token: no cookies.
type apiClient struct {
	t     *testing.T
	ts    *testServer
	token string
}

func (ts *testServer) api(t *testing.T, token string) *apiClient {
	return &apiClient{t: t, ts: ts, token: token}
}

type apiRes struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the answer into v, failing the test if it is not JSON.
func (r apiRes) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("answer %d is not JSON (%v): %.500s", r.status, err, r.body)
	}
}

// errCode returns the code of a JSON error answer, failing if it has not the error shape.
func (r apiRes) errCode(t *testing.T) string {
	t.Helper()
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	r.json(t, &e)
	if e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("error answer without code and message: %s", r.body)
	}
	return e.Error.Code
}

// raw sends a request with the given body bytes and headers.
func (a *apiClient) raw(method, path string, body []byte, header map[string]string) apiRes {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, a.ts.URL+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if ct := res.Header.Get("Content-Type"); method != http.MethodHead && !strings.HasPrefix(ct, "application/json") {
		a.t.Fatalf("%s %s answered %d with Content-Type %q: %.300s", method, path, res.StatusCode, ct, b)
	}
	return apiRes{status: res.StatusCode, header: res.Header, body: b}
}

// call sends v as JSON (no body when v is nil).
func (a *apiClient) call(method, path string, v any) apiRes {
	a.t.Helper()
	if v == nil {
		return a.raw(method, path, nil, nil)
	}
	b, err := json.Marshal(v)
	if err != nil {
		a.t.Fatal(err)
	}
	return a.raw(method, path, b, map[string]string{"Content-Type": "application/json"})
}

func expectAPI(t *testing.T, r apiRes, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d: %.600s", r.status, want, r.body)
	}
}

type apiMsg struct {
	ID          int64   `json:"id"`
	Room        string  `json:"room"`
	Kind        string  `json:"kind"`
	Author      string  `json:"author"`
	AuthorIsBot bool    `json:"author_is_bot"`
	Body        string  `json:"body"`
	HTML        string  `json:"html"`
	CreatedAt   string  `json:"created_at"`
	EditedAt    *string `json:"edited_at"`
	Deleted     bool    `json:"deleted"`
	ThreadID    *int64  `json:"thread_id"`
	Reactions   []struct {
		Emoji string   `json:"emoji"`
		Users []string `json:"users"`
	} `json:"reactions"`
}

func (a *apiClient) post(slug, body, clientID string) (apiRes, apiMsg) {
	a.t.Helper()
	res := a.call("POST", "/api/v1/rooms/"+slug+"/messages", map[string]string{"body": body, "client_msg_id": clientID})
	var m apiMsg
	if res.status < 300 {
		res.json(a.t, &m)
	}
	return res, m
}

func (a *apiClient) messages(path string) []apiMsg {
	a.t.Helper()
	res := a.call("GET", path, nil)
	expectAPI(a.t, res, http.StatusOK)
	var out struct {
		Messages []apiMsg `json:"messages"`
	}
	res.json(a.t, &out)
	return out.Messages
}

func TestTokensAreShownOnceAndStoredAsHashes(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	page := ann.get("/settings/tokens")
	expectStatus(t, page, http.StatusOK)
	if byID(doc(t, page.body), "new-token") != nil {
		t.Fatal("a token is shown before one was made")
	}
	token := ann.makeToken("ci <script>")
	if !strings.HasPrefix(token, "agora_") || len(token) < 40 {
		t.Fatalf("token %q", token)
	}
	// Listed by name (escaped), never used, and not shown again.
	page = ann.get("/settings/tokens")
	if strings.Contains(page.body, token) {
		t.Fatal("the token is shown again on the list")
	}
	if !strings.Contains(page.body, "ci &lt;script&gt;") || strings.Contains(page.body, "ci <script>") {
		t.Fatalf("token name not listed escaped:\n%.2000s", page.body)
	}
	row := findAll(doc(t, page.body), func(n *html.Node) bool { return n.Data == "tr" && hasIDPrefix(n, "token-") })
	if len(row) != 1 || !strings.Contains(text(row[0]), "never") {
		t.Fatalf("want one token row saying never used, got %d", len(row))
	}

	me := ts.api(t, token).call("GET", "/api/v1/me", nil)
	expectAPI(t, me, http.StatusOK)
	var got map[string]any
	me.json(t, &got)
	if got["username"] != "ann" || got["display_name"] != "ann" || got["is_bot"] != false || got["is_admin"] != true {
		t.Fatalf("me: %v", got)
	}
	// Last used shows now; a second call within the minute writes nothing new.
	page = ann.get("/settings/tokens")
	row = findAll(doc(t, page.body), func(n *html.Node) bool { return n.Data == "tr" && hasIDPrefix(n, "token-") })
	if strings.Contains(text(row[0]), "never") {
		t.Fatal("last used still says never after a call")
	}

	// Only a hash is stored: the token is nowhere in the database files.
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(ts.path + suffix)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(token)) || bytes.Contains(b, []byte(strings.TrimPrefix(token, "agora_"))) {
			t.Fatalf("the token is stored as is in agora.db%s", suffix)
		}
	}

	// Refused names store nothing.
	for _, name := range []string{"", "   ", strings.Repeat("x", 65), "bad\x01name"} {
		res := ann.post("/settings/tokens", url.Values{"name": {name}})
		expectStatus(t, res, http.StatusUnprocessableEntity)
		if byID(doc(t, res.body), "new-token") != nil || byID(doc(t, res.body), "form-error") == nil {
			t.Fatalf("name %q: want an error and no token", name)
		}
	}
	tokens, err := ts.store.Tokens(t.Context(), 1)
	if err != nil || len(tokens) != 1 {
		t.Fatalf("tokens stored: %d, %v", len(tokens), err)
	}
}

func byMsgID(msgs []apiMsg, id int64) apiMsg {
	for _, m := range msgs {
		if m.ID == id {
			return m
		}
	}
	return apiMsg{}
}

// hasIDPrefix reports whether n's id starts with prefix.
func hasIDPrefix(n *html.Node, prefix string) bool {
	id, _ := attr(n, "id")
	return strings.HasPrefix(id, prefix)
}

func TestAPIRefusesRequestsWithoutAWorkingToken(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	token := ann.makeToken("script")
	bobToken := bob.makeToken("bob's")

	for name, header := range map[string]string{
		"no token":       "",
		"bad token":      "Bearer agora_notarealtoken",
		"empty bearer":   "Bearer ",
		"other scheme":   "Basic " + token,
		"token alone":    token,
		"session cookie": "",
	} {
		req, _ := http.NewRequest("GET", ts.URL+"/api/v1/me", nil)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		if name == "session cookie" {
			// A signed-in browser's cookie is not a token.
			for _, ck := range ann.http.Jar.Cookies(mustURL(t, ts.URL)) {
				req.AddCookie(ck)
			}
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		r := apiRes{status: res.StatusCode, header: res.Header, body: b}
		if r.status != http.StatusUnauthorized || r.errCode(t) != "unauthorized" || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: %d %s", name, r.status, b)
		}
	}
	// The signed-in browser's cookie does not post either (and no CSRF is needed for that).
	res := ann.do("POST", "/api/v1/rooms/general/messages", nil, map[string]string{"Content-Type": "application/json"})
	expectStatus(t, res, http.StatusUnauthorized)

	// Revoking: only the owner can, and the token stops working at once.
	tokens, _ := ts.store.Tokens(t.Context(), 1)
	revoke := "/settings/tokens/" + strconv.FormatInt(tokens[0].ID, 10) + "/revoke"
	expectStatus(t, bob.post(revoke, url.Values{}), http.StatusNotFound)
	expectAPI(t, ts.api(t, token).call("GET", "/api/v1/me", nil), http.StatusOK)
	res = ann.post(revoke, url.Values{})
	expectStatus(t, res, http.StatusSeeOther)
	r := ts.api(t, token).call("GET", "/api/v1/me", nil)
	expectAPI(t, r, http.StatusUnauthorized)
	if !strings.Contains(ann.get("/settings/tokens").body, "revoked") {
		t.Error("the revoked token is not shown as revoked")
	}
	// Bob's token is untouched.
	expectAPI(t, ts.api(t, bobToken).call("GET", "/api/v1/me", nil), http.StatusOK)
	// A revoke form from another site is refused like any other form.
	res = bob.do("POST", "/settings/tokens/2/revoke", url.Values{}, map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"})
	expectStatus(t, res, http.StatusForbidden)
	expectAPI(t, ts.api(t, bobToken).call("GET", "/api/v1/me", nil), http.StatusOK)
	// Unknown API paths answer JSON too.
	r = ts.api(t, bobToken).call("GET", "/api/v1/nothing-here", nil)
	if r.status != http.StatusNotFound || r.errCode(t) != "not_found" {
		t.Fatalf("unknown path: %d %s", r.status, r.body)
	}
}

func TestAPIRoomsJoinAndMessages(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	bob.post("/rooms", url.Values{"name": {"secret plans"}, "private": {"on"}})
	bob.post("/rooms", url.Values{"name": {"open"}})
	bob.postMessage("secret-plans", "private words")
	api := ts.api(t, ann.makeToken("script"))

	var rooms struct {
		Rooms []struct {
			Slug    string `json:"slug"`
			Name    string `json:"name"`
			Private bool   `json:"private"`
			Member  bool   `json:"member"`
		} `json:"rooms"`
	}
	res := api.call("GET", "/api/v1/rooms", nil)
	expectAPI(t, res, http.StatusOK)
	res.json(t, &rooms)
	seen := map[string]bool{}
	for _, r := range rooms.Rooms {
		seen[r.Slug] = r.Member
	}
	if _, ok := seen["secret-plans"]; ok {
		t.Fatal("a private room the user is not in is listed")
	}
	if member, ok := seen["open"]; !ok || member {
		t.Fatalf("rooms: %+v", rooms)
	}

	// A private room the user is not in does not exist for them, whatever the call.
	for _, r := range []apiRes{
		api.call("GET", "/api/v1/rooms/secret-plans/messages", nil),
		api.call("POST", "/api/v1/rooms/secret-plans/messages", map[string]string{"body": "let me in"}),
		api.call("POST", "/api/v1/rooms/secret-plans/join", nil),
		api.call("GET", "/api/v1/rooms/no-such-room/messages", nil),
	} {
		if r.status != http.StatusNotFound || r.errCode(t) != "not_found" {
			t.Fatalf("private room: %d %s", r.status, r.body)
		}
	}
	if ts.messageCount(t, "secret-plans") != 1 {
		t.Fatal("something was stored in the private room")
	}

	// Join a public room; joining twice is harmless.
	res = api.call("POST", "/api/v1/rooms/open/join", nil)
	expectAPI(t, res, http.StatusOK)
	expectAPI(t, api.call("POST", "/api/v1/rooms/open/join", nil), http.StatusOK)
	if !strings.Contains(bob.get("/rooms/open").body, "ann joined #open") {
		t.Fatal("the join is not announced")
	}
	if strings.Count(bob.get("/rooms/open").body, "ann joined") != 1 {
		t.Fatal("joined twice")
	}

	// A post is live in a browser that has the room open.
	bob.get("/rooms/general")
	live := bob.dial("general", -1)
	res, m := api.post("general", "hello from a **script** <b>", "script-1")
	expectAPI(t, res, http.StatusCreated)
	if m.ID == 0 || m.Author != "ann" || m.Body != "hello from a **script** <b>" || m.Room != "general" || m.Deleted || m.EditedAt != nil {
		t.Fatalf("posted: %+v", m)
	}
	if !strings.Contains(m.HTML, "<strong>script</strong>") || strings.Contains(m.HTML, "<b>") {
		t.Fatalf("html: %q", m.HTML)
	}
	if _, err := time.Parse(time.RFC3339, m.CreatedAt); err != nil {
		t.Fatalf("created_at %q: %v", m.CreatedAt, err)
	}
	live.readUntil(`id="message-` + strconv.FormatInt(m.ID, 10) + `"`)
	live.readUntil("hello from a")
	// The same client_msg_id again: 200 and the same message, stored once.
	before := ts.messageCount(t, "general")
	res, again := api.post("general", "hello from a **script** <b>", "script-1")
	expectAPI(t, res, http.StatusOK)
	if again.ID != m.ID || ts.messageCount(t, "general") != before {
		t.Fatalf("resend made a new message: %d vs %d", again.ID, m.ID)
	}
	// The same id in another room is a conflict, not a silent success.
	res, _ = api.post("open", "elsewhere", "script-1")
	if res.status != http.StatusConflict || res.errCode(t) != "conflict" {
		t.Fatalf("client id reused in another room: %d %s", res.status, res.body)
	}

	// Pages: oldest first, before/after/limit.
	var ids []int64
	for i := range 7 {
		_, m := api.post("open", "n"+strconv.Itoa(i), "")
		ids = append(ids, m.ID)
	}
	all := api.messages("/api/v1/rooms/open/messages")
	if len(all) != 8 || all[0].Kind != "notice" || all[len(all)-1].ID != ids[6] {
		t.Fatalf("list: %+v", all)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID <= all[i-1].ID {
			t.Fatal("not oldest first")
		}
	}
	page := api.messages("/api/v1/rooms/open/messages?limit=3")
	if len(page) != 3 || page[2].ID != ids[6] || page[0].ID != ids[4] {
		t.Fatalf("latest 3: %+v", page)
	}
	page = api.messages("/api/v1/rooms/open/messages?limit=2&before=" + strconv.FormatInt(ids[4], 10))
	if len(page) != 2 || page[0].ID != ids[2] || page[1].ID != ids[3] {
		t.Fatalf("before: %+v", page)
	}
	page = api.messages("/api/v1/rooms/open/messages?limit=2&after=" + strconv.FormatInt(ids[1], 10))
	if len(page) != 2 || page[0].ID != ids[2] || page[1].ID != ids[3] {
		t.Fatalf("after: %+v", page)
	}
	if len(api.messages("/api/v1/rooms/open/messages?limit=100000")) != 8 {
		t.Fatal("a large limit is not capped to what there is")
	}
	for _, q := range []string{"limit=0", "limit=-1", "limit=x", "before=x", "after=-3", "before=5&after=2"} {
		r := api.call("GET", "/api/v1/rooms/open/messages?"+q, nil)
		if r.status != http.StatusUnprocessableEntity || r.errCode(t) != "invalid" {
			t.Fatalf("?%s: %d %s", q, r.status, r.body)
		}
	}
	// Reading a public room does not join it; posting does, as a browser's visit does.
	expectAPI(t, ts.api(t, bob.makeToken("b")).call("GET", "/api/v1/rooms/general/messages", nil), http.StatusOK)
	carl := ts.client(t).signup("carl")
	carlAPI := ts.api(t, carl.makeToken("c"))
	if len(carlAPI.messages("/api/v1/rooms/open/messages")) != 8 {
		t.Fatal("a public room is not readable without joining")
	}
	res, _ = carlAPI.post("open", "carl posts", "")
	expectAPI(t, res, http.StatusCreated)
	if !strings.Contains(bob.get("/rooms/open").body, "carl joined #open") {
		t.Fatal("posting did not join")
	}
}

func TestAPIDirectMessages(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	carl := ts.client(t).signup("carl")
	api := ts.api(t, ann.makeToken("s"))
	if got := api.messages("/api/v1/dm/bob/messages"); len(got) != 0 {
		t.Fatalf("a conversation not yet started has %d messages", len(got))
	}
	res := api.call("POST", "/api/v1/dm/bob/messages", map[string]string{"body": "psst bob", "client_msg_id": "dm-1"})
	expectAPI(t, res, http.StatusCreated)
	var m apiMsg
	res.json(t, &m)
	if !strings.Contains(bob.get("/dm/ann").body, "psst bob") {
		t.Fatal("bob does not see the direct message")
	}
	if got := api.messages("/api/v1/dm/bob/messages"); len(got) != 1 || got[0].ID != m.ID {
		t.Fatalf("dm list: %+v", got)
	}
	// Carl cannot read it by its room, nor touch it.
	carlAPI := ts.api(t, carl.makeToken("c"))
	r := carlAPI.call("GET", "/api/v1/rooms/"+m.Room+"/messages", nil)
	expectAPI(t, r, http.StatusNotFound)
	r = carlAPI.call("POST", "/api/v1/messages/"+strconv.FormatInt(m.ID, 10)+"/reactions", map[string]string{"emoji": "👍"})
	expectAPI(t, r, http.StatusNotFound)
	r = api.call("POST", "/api/v1/dm/nobody/messages", map[string]string{"body": "hi"})
	if r.status != http.StatusNotFound || r.errCode(t) != "not_found" {
		t.Fatalf("dm to nobody: %d %s", r.status, r.body)
	}
}

func TestAPIEditDeleteAndReactHaveTheFormsRights(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann") // the first account: an admin
	bob := ts.client(t).signup("bob")
	carl := ts.client(t).signup("carl")
	annAPI, bobAPI, carlAPI := ts.api(t, ann.makeToken("a")), ts.api(t, bob.makeToken("b")), ts.api(t, carl.makeToken("c"))
	_, mine := bobAPI.post("general", "bob's words", "")
	path := "/api/v1/messages/" + strconv.FormatInt(mine.ID, 10)
	ann.get("/rooms/general")
	live := ann.dial("general", -1)

	// Someone else's message: 403, and nothing changes.
	r := carlAPI.call("PATCH", path, map[string]string{"body": "carl was here"})
	if r.status != http.StatusForbidden || r.errCode(t) != "forbidden" {
		t.Fatalf("edit by another: %d %s", r.status, r.body)
	}
	expectAPI(t, carlAPI.call("DELETE", path, nil), http.StatusForbidden)
	if got := byMsgID(bobAPI.messages("/api/v1/rooms/general/messages"), mine.ID); got.Body != "bob's words" || got.Deleted {
		t.Fatalf("changed by another: %+v", got)
	}
	// A message in a private room the user is not in: 404.
	bob.post("/rooms", url.Values{"name": {"hideout"}, "private": {"on"}})
	_, hidden := bobAPI.post("hideout", "hidden words", "")
	hpath := "/api/v1/messages/" + strconv.FormatInt(hidden.ID, 10)
	for _, r := range []apiRes{
		carlAPI.call("PATCH", hpath, map[string]string{"body": "x"}),
		carlAPI.call("DELETE", hpath, nil),
		carlAPI.call("POST", hpath+"/reactions", map[string]string{"emoji": "👍"}),
		carlAPI.call("PATCH", "/api/v1/messages/999999", map[string]string{"body": "x"}),
		carlAPI.call("DELETE", "/api/v1/messages/abc", nil),
	} {
		if r.status != http.StatusNotFound || r.errCode(t) != "not_found" {
			t.Fatalf("hidden message: %d %s", r.status, r.body)
		}
	}
	if got := bobAPI.messages("/api/v1/rooms/hideout/messages"); got[0].Body != "hidden words" || len(got[0].Reactions) != 0 {
		t.Fatalf("hidden message changed: %+v", got[0])
	}

	// The author edits: live in the browser.
	r = bobAPI.call("PATCH", path, map[string]string{"body": "bob's better words"})
	expectAPI(t, r, http.StatusOK)
	var edited apiMsg
	r.json(t, &edited)
	if edited.Body != "bob's better words" || edited.EditedAt == nil {
		t.Fatalf("edited: %+v", edited)
	}
	live.readUntil("bob&#39;s better words")
	r = bobAPI.call("PATCH", path, map[string]string{"body": "  "})
	expectAPI(t, r, http.StatusUnprocessableEntity)

	// Reactions toggle.
	r = carlAPI.call("POST", path+"/reactions", map[string]string{"emoji": "🎉"})
	expectAPI(t, r, http.StatusOK)
	var reacted apiMsg
	r.json(t, &reacted)
	if len(reacted.Reactions) != 1 || reacted.Reactions[0].Emoji != "🎉" || reacted.Reactions[0].Users[0] != "carl" {
		t.Fatalf("reactions: %+v", reacted.Reactions)
	}
	live.readUntil(`data-users="carl"`)
	r = carlAPI.call("POST", path+"/reactions", map[string]string{"emoji": "🎉"})
	r.json(t, &reacted)
	if len(reacted.Reactions) != 0 {
		t.Fatalf("second toggle left %+v", reacted.Reactions)
	}
	r = carlAPI.call("POST", path+"/reactions", map[string]string{"emoji": "🦄🦄"})
	expectAPI(t, r, http.StatusUnprocessableEntity)

	// An admin may delete anyone's message, as with the form.
	r = annAPI.call("DELETE", path, nil)
	expectAPI(t, r, http.StatusOK)
	var deleted apiMsg
	r.json(t, &deleted)
	if !deleted.Deleted || deleted.Body != "" || deleted.HTML != "" {
		t.Fatalf("deleted: %+v", deleted)
	}
	live.readUntil("message deleted")
	expectAPI(t, bobAPI.call("PATCH", path, map[string]string{"body": "back"}), http.StatusForbidden)
}

func TestAPIRefusesBadBodiesAndStoresNothing(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	api := ts.api(t, ann.makeToken("s"))
	res, _ := api.post("general", "first", "")
	expectAPI(t, res, http.StatusCreated)
	count := ts.messageCount(t, "general")
	jsonCT := map[string]string{"Content-Type": "application/json"}
	long := strings.Repeat("é", 4001)
	cases := []struct {
		name   string
		body   []byte
		header map[string]string
		status int
	}{
		{"invalid JSON", []byte(`{"body": "unterminated`), jsonCT, 400},
		{"not an object", []byte(`["body"]`), jsonCT, 400},
		{"wrong type", []byte(`{"body": 42}`), jsonCT, 400},
		{"two values", []byte(`{"body": "a"} {"body": "b"}`), jsonCT, 400},
		{"empty body", nil, jsonCT, 400},
		{"no content type", []byte(`{"body": "hi"}`), nil, 400},
		{"form content type", []byte(`body=hi`), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 400},
		{"text content type", []byte(`{"body": "hi"}`), map[string]string{"Content-Type": "text/plain"}, 400},
		{"latin-1 charset", []byte(`{"body": "hi"}`), map[string]string{"Content-Type": "application/json; charset=iso-8859-1"}, 400},
		{"invalid UTF-8", []byte("{\"body\": \"bad \xff\xfe bytes\"}"), jsonCT, 400},
		{"no body field", []byte(`{"text": "hi"}`), jsonCT, 422},
		{"blank", []byte(`{"body": "   "}`), jsonCT, 422},
		{"over-long", []byte(`{"body": "` + long + `"}`), jsonCT, 422},
		{"control characters", []byte(`{"body": "bell \u0007"}`), jsonCT, 422},
		{"bad client id", []byte(`{"body": "hi", "client_msg_id": "has spaces"}`), jsonCT, 422},
		{"huge", []byte(`{"body": "` + strings.Repeat("a", 1<<20) + `"}`), jsonCT, 422},
	}
	for _, c := range cases {
		r := api.raw("POST", "/api/v1/rooms/general/messages", c.body, c.header)
		if r.status != c.status {
			t.Errorf("%s: %d, want %d: %.300s", c.name, r.status, c.status, r.body)
			continue
		}
		r.errCode(t)
		if got := ts.messageCount(t, "general"); got != count {
			t.Fatalf("%s: stored something (%d messages, was %d)", c.name, got, count)
		}
	}
	// Nor does a refused post join the room or open a conversation.
	bob := ts.client(t).signup("bob")
	bob.post("/rooms", url.Values{"name": {"quiet"}})
	r := api.raw("POST", "/api/v1/rooms/quiet/messages", []byte(`{"body": ""}`), jsonCT)
	expectAPI(t, r, http.StatusUnprocessableEntity)
	if strings.Contains(bob.get("/rooms/quiet").body, "ann joined") {
		t.Fatal("a refused post joined the room")
	}
}

func TestAPIFloodIsAnswered429WithRetryAfter(t *testing.T) {
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	api := ts.api(t, ann.makeToken("s"))
	var limited apiRes
	for i := range 200 {
		res, _ := api.post("general", "flood "+strconv.Itoa(i), "")
		if res.status == http.StatusTooManyRequests {
			limited = res
			break
		}
		expectAPI(t, res, http.StatusCreated)
	}
	if limited.status == 0 {
		t.Fatal("200 posts in a row were all accepted")
	}
	if limited.errCode(t) != "rate_limit" {
		t.Fatalf("429 code: %s", limited.body)
	}
	secs, err := strconv.Atoi(limited.header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 60 {
		t.Fatalf("Retry-After %q", limited.header.Get("Retry-After"))
	}
}

func TestAPIIsNotBlockedAsCrossOrigin(t *testing.T) {
	// A page on another site may call the API with a token it was given:
	// the API trusts no cookie, so there is nothing to forge.
	ts := newTestServer(t)
	ann := ts.client(t).signup("ann")
	api := ts.api(t, ann.makeToken("s"))
	b, _ := json.Marshal(map[string]string{"body": "from a dashboard"})
	r := api.raw("POST", "/api/v1/rooms/general/messages", b, map[string]string{
		"Content-Type": "application/json", "Origin": "https://dashboard.example", "Sec-Fetch-Site": "cross-site"})
	expectAPI(t, r, http.StatusCreated)
	// ...while the same from a browser with only its cookie gets nothing done.
	res := ann.do("POST", "/api/v1/rooms/general/messages", nil, map[string]string{
		"Content-Type": "application/json", "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
	expectStatus(t, res, http.StatusUnauthorized)
}
