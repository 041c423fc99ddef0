package handlers_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"agora/chat"
	"agora/chat/webpush"
	"agora/handlers"
)

// pushService is a push service the test runs: it keeps what each
// subscription (a path) was sent, decrypted as the browser would, and
// answers as the test says.
type pushService struct {
	*httptest.Server
	t      *testing.T
	mu     sync.Mutex
	key    string           // the server's VAPID public key, as /push/key says
	codes  map[string][]int // answers to give, in turn, per path; then 201
	got    map[string][]pushed
	arrive chan string
}

type pushed struct {
	data   map[string]string
	claims map[string]any
}

type device struct {
	path string
	key  *ecdh.PrivateKey
	auth []byte
}

func newPushService(t *testing.T) (*pushService, map[string]*device) {
	ps := &pushService{t: t, codes: map[string][]int{}, got: map[string][]pushed{}, arrive: make(chan string, 100)}
	devices := map[string]*device{}
	ps.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ps.mu.Lock()
		d := devices[r.URL.Path]
		code := http.StatusCreated
		if q := ps.codes[r.URL.Path]; len(q) > 0 {
			code, ps.codes[r.URL.Path] = q[0], q[1:]
		}
		ps.mu.Unlock()
		if code == http.StatusCreated && d != nil {
			plain, err := webpush.Decrypt(d.key, d.auth, body)
			if err != nil {
				t.Errorf("%s: the push does not decrypt: %v", r.URL.Path, err)
			}
			var p pushed
			if err := json.Unmarshal(plain, &p.data); err != nil {
				t.Errorf("%s: the payload is not JSON: %q", r.URL.Path, plain)
			}
			ps.mu.Lock()
			key := ps.key
			ps.mu.Unlock()
			if p.claims, err = webpush.VerifyToken(r.Header.Get("Authorization"), key); err != nil {
				t.Errorf("%s: VAPID: %v", r.URL.Path, err)
			}
			if r.Header.Get("Content-Encoding") != "aes128gcm" || r.Header.Get("TTL") == "" {
				t.Errorf("%s: headers %v", r.URL.Path, r.Header)
			}
			ps.mu.Lock()
			ps.got[r.URL.Path] = append(ps.got[r.URL.Path], p)
			ps.mu.Unlock()
		}
		w.WriteHeader(code)
		ps.arrive <- r.URL.Path
	}))
	t.Cleanup(ps.Close)
	return ps, devices
}

// subscribe makes a device for c and subscribes it as the browser's script
// does; it returns the device.
func (ps *pushService) subscribe(c *client, devices map[string]*device, name string) *device {
	ps.t.Helper()
	key, _ := ecdh.P256().GenerateKey(rand.Reader)
	auth := make([]byte, 16)
	_, _ = rand.Read(auth)
	d := &device{path: "/push/" + name, key: key, auth: auth}
	ps.mu.Lock()
	devices[d.path] = d
	ps.mu.Unlock()
	res := c.postJSON("/push/subscriptions", map[string]any{"endpoint": ps.URL + d.path, "expirationTime": nil,
		"keys": map[string]string{"p256dh": base64.RawURLEncoding.EncodeToString(key.PublicKey().Bytes()), "auth": base64.RawURLEncoding.EncodeToString(auth)}})
	expectStatus(ps.t, res, http.StatusCreated)
	return d
}

func (ps *pushService) sent(path string) []pushed {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return append([]pushed(nil), ps.got[path]...)
}

// postJSON posts v as JSON with the client's session.
func (c *client) postJSON(path string, v any) response {
	c.t.Helper()
	b, _ := json.Marshal(v)
	req, _ := http.NewRequest("POST", c.ts.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: string(body)}
}

// A direct message and a mention reach the member's every subscribed
// device as a push service receives them: encrypted for that device, VAPID
// signed with sub exactly -push-subject, JSON with the conversation's URL.
// Nothing while the member has the conversation open, nothing while they
// do not want to be disturbed, nothing in their quiet time, nothing with
// push off. A device its push service no longer knows (410) is dropped; a
// push answered 500 is tried again and arrives once.
func TestPushReachesTheMembersDevices(t *testing.T) {
	ts := newServerWith(t, handlers.Config{PushPrivate: true, PushSubject: "mailto:ops@example.com"})
	ps, devices := newPushService(t)
	ann := ts.client(t).signup("ann")
	bob := ts.client(t).signup("bob")
	ann.get("/rooms/general")
	bob.get("/rooms/general")
	res := bob.get("/push/key")
	expectStatus(t, res, http.StatusOK)
	var key struct{ Key string }
	if json.Unmarshal([]byte(res.body), &key); len(key.Key) != 87 {
		t.Fatalf("/push/key: %s", res.body)
	}
	ps.mu.Lock()
	ps.key = key.Key
	ps.mu.Unlock()
	phone := ps.subscribe(bob, devices, "bob-phone")
	laptop := ps.subscribe(bob, devices, "bob-laptop")

	before := ts.app.JobsFinished()
	ann.postMessage("general", "@bob the deploy is done")
	ann.postMessage("general", "nobody in particular")
	<-ps.arrive
	<-ps.arrive
	ts.waitHooks(t, before+2)
	for _, d := range []*device{phone, laptop} {
		got := ps.sent(d.path)
		if len(got) != 1 {
			t.Fatalf("%s got %d pushes, want the mention only", d.path, len(got))
		}
		p := got[0]
		if p.data["title"] != "ann in #general" || p.data["body"] != "@bob the deploy is done" || !strings.HasPrefix(p.data["url"], "/rooms/general?around=") || p.data["tag"] == "" {
			t.Errorf("%s: payload %v", d.path, p.data)
		}
		if p.claims["sub"] != "mailto:ops@example.com" || p.claims["aud"] != ps.URL {
			t.Errorf("%s: claims %v", d.path, p.claims)
		}
	}
	// The URL opens the conversation at the message.
	u := ps.sent(phone.path)[0].data["url"]
	if page := bob.get(u); page.status != http.StatusOK || !strings.Contains(page.body, "the deploy is done") {
		t.Errorf("the push's URL %s answers %d", u, page.status)
	}

	// With the room open on a device, no push of it.
	sock := bob.dial("general", -1)
	sock.readUntil(`id="presence-bob"`)
	before = ts.app.JobsFinished()
	c0 := ts.notifiedJobs(t)
	ann.postMessage("general", "@bob you are looking at this")
	if c1 := ts.notifiedJobs(t); !sameJobs(c0, c1) {
		t.Fatalf("jobs %+v then %+v: a push for a conversation open on bob's screen", c0, c1)
	}
	sock.conn.Close(websocket.StatusNormalClosure, "")

	// Do not disturb, then quiet time, then push off: no push queued.
	expectStatus(t, bob.post("/settings/status", url.Values{"dnd_minutes": {"30"}}), http.StatusSeeOther)
	ann.postMessage("general", "@bob during do not disturb")
	ts.notifiedJobs(t) // decided while it lasts
	expectStatus(t, bob.post("/settings/status", url.Values{"dnd_minutes": {"0"}}), http.StatusSeeOther)
	now := time.Now().UTC()
	from, to := now.Add(-time.Hour).Format("15:04"), now.Add(time.Hour).Format("15:04")
	expectStatus(t, bob.post("/settings/notifications", url.Values{"email": {"mentions"}, "dnd_start": {from}, "dnd_end": {to}}), http.StatusSeeOther)
	ann.postMessage("general", "@bob during quiet time")
	ts.notifiedJobs(t)
	expectStatus(t, bob.post("/settings/notifications", url.Values{"email": {"mentions"}, "dnd_start": {""}, "dnd_end": {""}, "push": {"off"}}), http.StatusSeeOther)
	ann.postMessage("general", "@bob with push off")
	if c1 := ts.notifiedJobs(t); !sameJobs(c0, c1) {
		t.Fatalf("jobs %+v then %+v: a push during do not disturb, quiet time or with push off", c0, c1)
	}
	expectStatus(t, bob.post("/settings/notifications", url.Values{"email": {"mentions"}, "push": {"on"}}), http.StatusSeeOther)

	// The laptop's subscription is gone (410): dropped. The phone's push
	// service fails once (500): the job tries again, and the push arrives once.
	ps.mu.Lock()
	ps.codes[laptop.path] = []int{http.StatusGone}
	ps.codes[phone.path] = []int{http.StatusInternalServerError}
	ps.mu.Unlock()
	expectStatus(t, bob.post("/dm/ann", nil), http.StatusSeeOther)
	res = ann.post("/rooms/dm-1-2/messages", url.Values{"body": {"lunch at one?"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("a direct message: %d", res.status)
	}
	seen := map[string]int{}
	for seen[phone.path] < 2 || seen[laptop.path] < 1 {
		seen[<-ps.arrive]++
	}
	subs, err := ts.store.PushSubscriptions(t.Context(), mustUserID(t, ts, "bob"))
	if err != nil || len(subs) != 1 || !strings.HasSuffix(subs[0].Endpoint, phone.path) {
		t.Fatalf("bob's subscriptions after a 410: %+v, %v", subs, err)
	}
	got := ps.sent(phone.path)
	if len(got) != 2 || got[1].data["body"] != "lunch at one?" || got[1].data["title"] != "ann" {
		t.Fatalf("the phone got %+v", got)
	}
}

// Subscriptions that cannot be used are refused with the reason, and none
// is kept: bad keys, a plain or private endpoint (without -push-private),
// no session; an unsubscribe needs the user's own endpoint.
func TestPushSubscriptionsRefused(t *testing.T) {
	ts := newTestServer(t)
	bob := ts.client(t).signup("bob")
	eve := ts.client(t).signup("eve")
	key, _ := ecdh.P256().GenerateKey(rand.Reader)
	good := map[string]string{"p256dh": base64.RawURLEncoding.EncodeToString(key.PublicKey().Bytes()), "auth": base64.RawURLEncoding.EncodeToString(make([]byte, 16))}
	for name, body := range map[string]map[string]any{
		"loopback":     {"endpoint": "https://127.0.0.1/push/x", "keys": good},
		"private":      {"endpoint": "https://10.1.2.3/push/x", "keys": good},
		"metadata":     {"endpoint": "https://169.254.169.254/latest", "keys": good},
		"localhost":    {"endpoint": "https://localhost/push", "keys": good},
		"plain http":   {"endpoint": "http://push.example.net/x", "keys": good},
		"not a URL":    {"endpoint": "push me", "keys": good},
		"short auth":   {"endpoint": "https://push.example.net/x", "keys": map[string]string{"p256dh": good["p256dh"], "auth": "AAAA"}},
		"bad p256dh":   {"endpoint": "https://push.example.net/x", "keys": map[string]string{"p256dh": "BBBB", "auth": good["auth"]}},
		"missing keys": {"endpoint": "https://push.example.net/x"},
	} {
		res := bob.postJSON("/push/subscriptions", body)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `"error"`) {
			t.Errorf("%s: %d %s", name, res.status, res.body)
		}
	}
	if res := bob.post("/push/subscriptions", url.Values{"endpoint": {"https://push.example.net/x"}}); res.status != http.StatusBadRequest {
		t.Errorf("a form, not JSON: %d", res.status)
	}
	if res := ts.client(t).postJSON("/push/subscriptions", map[string]any{"endpoint": "https://push.example.net/x", "keys": good}); res.status != http.StatusSeeOther && res.status != http.StatusUnauthorized {
		t.Errorf("no session: %d", res.status)
	}
	if subs, _ := ts.store.PushSubscriptions(t.Context(), mustUserID(t, ts, "bob")); len(subs) != 0 {
		t.Fatalf("refused subscriptions were kept: %+v", subs)
	}

	expectStatus(t, bob.postJSON("/push/subscriptions", map[string]any{"endpoint": "https://push.example.net/bob", "keys": good}), http.StatusCreated)
	if res := eve.postJSON("/push/subscriptions/delete", map[string]string{"endpoint": "https://push.example.net/bob"}); res.status != http.StatusNotFound {
		t.Errorf("eve unsubscribing bob's device: %d", res.status)
	}
	expectStatus(t, bob.postJSON("/push/subscriptions/delete", map[string]string{"endpoint": "https://push.example.net/bob"}), http.StatusNoContent)
	if subs, _ := ts.store.PushSubscriptions(t.Context(), mustUserID(t, ts, "bob")); len(subs) != 0 {
		t.Fatalf("after unsubscribing: %+v", subs)
	}

	// The quiet time: two different times, or none.
	for _, bad := range []url.Values{{"dnd_start": {"22:00"}, "dnd_end": {""}}, {"dnd_start": {"25:00"}, "dnd_end": {"07:00"}}, {"dnd_start": {"08:00"}, "dnd_end": {"08:00"}}, {"push": {"loud"}}} {
		bad.Set("email", "mentions")
		if res := bob.post("/settings/notifications", bad); res.status != http.StatusUnprocessableEntity {
			t.Errorf("%v: %d", bad, res.status)
		}
	}
	if n, _ := ts.store.NotifySettings(t.Context(), mustUserID(t, ts, "bob")); n.QuietStart != -1 || n.Push != chat.PushOn {
		t.Fatalf("refused settings changed them: %+v", n)
	}
}
