package main

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"agora/chat/webpush"
)

// The push phase: a burst of Web Pushes through agora's job queue, to a push
// service this program runs, while the one-room fan-out runs on the same
// process. Users who are away (no socket open) subscribe a device each
// through the server's own route, as the browser's script does; a few others
// post messages that mention them all in a room of their own, from the room
// page's form; agora's notify jobs queue a push job per device and message,
// and its runner sends them. The push service checks each push's VAPID
// signature, decrypts it as the browser would, and counts it by its device
// and the message it tells of: none may be missing, none may come twice.

// pushSubject is the contact the push phase's agora gives push services;
// each push must carry it exactly (RFC 8292's sub).
const pushSubject = "mailto:bench@agora.invalid"

// Posting the burst stays inside the server's limit on posts (8 a second
// per user, 30 at once): burstPerSender messages from each sender.
const burstPerSender = 25

// pushDrainLimit bounds the wait for the burst's last push; the fan-out
// beside it sends for at most pushSendLimit past its window.
const (
	pushDrainLimit = 3 * time.Minute
	pushSendLimit  = 40 * time.Second
)

// pushKey is one push the burst should cause: to a device, of a message.
type pushKey struct{ device, message int }

// pushCount counts the pushes a push service accepted against what the
// burst should cause: each of devices gets each of messages, once.
type pushCount struct {
	devices, messages int
	done              chan struct{} // closed once every expected push came

	mu           sync.Mutex
	got          map[pushKey]int
	received     int // pushes accepted (201)
	unique       int // expected pushes that came, once or more
	dups         int // pushes that came again
	stray        int // accepted, but for no expected device and message
	refused      int // pushes refused: bad signature, does not decrypt, not ours
	firstRefusal string
	first, last  time.Time // the first and last push accepted
}

func newPushCount(devices, messages int) *pushCount {
	c := &pushCount{devices: devices, messages: messages, done: make(chan struct{}), got: map[pushKey]int{}}
	if devices*messages == 0 {
		close(c.done)
	}
	return c
}

// add counts an accepted push.
func (c *pushCount) add(k pushKey, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.received++
	if c.first.IsZero() {
		c.first = at
	}
	c.last = at
	if k.device < 0 || k.device >= c.devices || k.message < 0 || k.message >= c.messages {
		c.stray++
		return
	}
	c.got[k]++
	if c.got[k] > 1 {
		c.dups++
		return
	}
	c.unique++
	if c.unique == c.devices*c.messages {
		close(c.done)
	}
}

// refuse counts a push the service refused, keeping the first reason.
func (c *pushCount) refuse(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refused == 0 {
		c.firstRefusal = reason
	}
	c.refused++
}

// pushTally is what a push service counted.
type pushTally struct {
	expected, received, unique int
	lost, dups, stray, refused int
	firstRefusal               string
	first, last                time.Time
}

func (c *pushCount) tally() pushTally {
	c.mu.Lock()
	defer c.mu.Unlock()
	want := c.devices * c.messages
	return pushTally{expected: want, received: c.received, unique: c.unique, lost: want - c.unique, dups: c.dups, stray: c.stray,
		refused: c.refused, firstRefusal: c.firstRefusal, first: c.first, last: c.last}
}

// pushDevice is a browser's side of a subscription: its key pair and auth
// secret, which only it (and so the push service's test of it here) holds.
type pushDevice struct {
	key  *ecdh.PrivateKey
	auth []byte
}

// pushService is the push service (RFC 8030) of the burst's subscriptions,
// on loopback: device i's endpoint is /d/i.
type pushService struct {
	url     string
	subject string
	key     atomic.Value // string: agora's VAPID public key, as GET /push/key says
	devices []pushDevice
	count   *pushCount
	srv     *http.Server
}

func startPushService(subject string, devices, messages int) (*pushService, error) {
	ps := &pushService{subject: subject, devices: make([]pushDevice, devices), count: newPushCount(devices, messages)}
	ps.key.Store("")
	for i := range ps.devices {
		k, err := ecdh.P256().GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		ps.devices[i] = pushDevice{key: k, auth: make([]byte, 16)}
		if _, err := rand.Read(ps.devices[i].auth); err != nil {
			return nil, err
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ps.url = "http://" + l.Addr().String()
	ps.srv = &http.Server{Handler: ps, ReadHeaderTimeout: 10 * time.Second}
	go ps.srv.Serve(l)
	return ps, nil
}

func (ps *pushService) close() { ps.srv.Close() }

// endpoint is device i's push endpoint.
func (ps *pushService) endpoint(i int) string { return ps.url + "/d/" + strconv.Itoa(i) }

// subscription is device i's PushSubscription JSON, as a browser's toJSON()
// gives it.
func (ps *pushService) subscription(i int) map[string]any {
	d := ps.devices[i]
	return map[string]any{"endpoint": ps.endpoint(i), "expirationTime": nil, "keys": map[string]string{
		"p256dh": base64.RawURLEncoding.EncodeToString(d.key.PublicKey().Bytes()),
		"auth":   base64.RawURLEncoding.EncodeToString(d.auth)}}
}

// ServeHTTP takes a push: 201 when it is signed by agora's key for this
// service with the phase's subject, and decrypts for its device to a burst
// message's notification; else 400, which agora records as the job's
// failure (a lost push, counted here as refused).
func (ps *pushService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	k, err := ps.read(r)
	if err != nil {
		ps.count.refuse(err.Error())
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ps.count.add(k, time.Now())
	w.WriteHeader(http.StatusCreated)
}

func (ps *pushService) read(r *http.Request) (pushKey, error) {
	i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/d/"))
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/d/") || err != nil || i < 0 || i >= len(ps.devices) {
		return pushKey{}, fmt.Errorf("%s %s: no such endpoint", r.Method, r.URL.Path)
	}
	if ce, ttl := r.Header.Get("Content-Encoding"), r.Header.Get("TTL"); ce != "aes128gcm" || ttl == "" {
		return pushKey{}, fmt.Errorf("device %d: Content-Encoding %q, TTL %q", i, ce, ttl)
	}
	claims, err := webpush.VerifyToken(r.Header.Get("Authorization"), ps.key.Load().(string))
	if err != nil {
		return pushKey{}, fmt.Errorf("device %d: VAPID: %w", i, err)
	}
	if claims["sub"] != ps.subject || claims["aud"] != ps.url {
		return pushKey{}, fmt.Errorf("device %d: VAPID sub %v, aud %v; want %s, %s", i, claims["sub"], claims["aud"], ps.subject, ps.url)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<10))
	if err != nil {
		return pushKey{}, err
	}
	plain, err := webpush.Decrypt(ps.devices[i].key, ps.devices[i].auth, body)
	if err != nil {
		return pushKey{}, fmt.Errorf("device %d: %w", i, err)
	}
	var n struct{ Title, Body, URL, Tag string }
	if err := json.Unmarshal(plain, &n); err != nil {
		return pushKey{}, fmt.Errorf("device %d: the notification is not JSON: %w", i, err)
	}
	m, ok := burstNumber(n.Body)
	if !ok || n.URL == "" {
		return pushKey{}, fmt.Errorf("device %d: not a burst message's notification: %q", i, plain)
	}
	return pushKey{device: i, message: m}, nil
}

// burstBody is burst message m's text: its number first, which a push
// shows (the start of the text), then a mention of each away user.
func burstBody(m int, away []*user) string {
	var b strings.Builder
	fmt.Fprintf(&b, "burst %d:", m)
	for _, u := range away {
		b.WriteString(" @" + u.name)
	}
	return b.String()
}

// burstNumber reads a burst message's number back from a push's text.
func burstNumber(text string) (int, bool) {
	rest, ok := strings.CutPrefix(text, "burst ")
	if !ok {
		return 0, false
	}
	num, _, ok := strings.Cut(rest, ":")
	m, err := strconv.Atoi(num)
	return m, ok && err == nil && m >= 0
}

// pushSetup makes the burst's room (the first sender's), has the other
// senders and the away users join it by opening it, reads agora's VAPID key
// and subscribes device i for away user i, through the routes the browser's
// script uses. It returns the room's slug.
func pushSetup(addr string, senders, away []*user, ps *pushService) (string, error) {
	hc := &http.Client{Transport: transport(func() *net.TCPAddr { return local(3, 200) }), CheckRedirect: noRedirect, Timeout: 30 * time.Second}
	defer hc.CloseIdleConnections()
	slug, err := createRoom(hc, addr, senders[0], "push-burst")
	if err != nil {
		return "", err
	}
	members := append(append([]*user(nil), senders[1:]...), away...)
	if err := fewAtATime(len(members), func(i int) error {
		_, err := openRoom(hc, "http://"+addr, members[i], slug)
		return err
	}); err != nil {
		return "", err
	}
	var key struct{ Key string }
	if err := callJSON(hc, addr, senders[0], "GET", "/push/key", nil, http.StatusOK, &key); err != nil {
		return "", err
	}
	if key.Key == "" {
		return "", errors.New("GET /push/key: no key")
	}
	ps.key.Store(key.Key)
	err = fewAtATime(len(away), func(i int) error {
		return callJSON(hc, addr, away[i], "POST", "/push/subscriptions", ps.subscription(i), http.StatusCreated, nil)
	})
	return slug, err
}

// callJSON sends v (if any) as JSON with u's session and the page's Origin,
// wants status want, and reads the answer into out (if any).
func callJSON(hc *http.Client, addr string, u *user, method, path string, v any, want int, out any) error {
	var body io.Reader
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		body = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, "http://"+addr+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Origin", "http://"+addr)
	req.Header.Set("Cookie", u.cookie)
	if v != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s as %s: %w", method, path, u.name, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		return fmt.Errorf("%s %s as %s: status %d, want %d: %s", method, path, u.name, res.StatusCode, want, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// postBurst posts messages burst messages to the room from the room page's
// form, burstPerSender from each sender (all at once), each mentioning
// every away user. It returns how many were posted, and the first refusal.
func postBurst(ctx context.Context, addr, slug string, senders, away []*user, messages int) (int, error) {
	var posted atomic.Int64
	var first atomic.Value
	var wg sync.WaitGroup
	for s, u := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Transport: transport(func() *net.TCPAddr { return local(3, 201+s) }), CheckRedirect: noRedirect, Timeout: 30 * time.Second}
			defer hc.CloseIdleConnections()
			for m := s; m < messages && ctx.Err() == nil; m += len(senders) {
				res, err := postForm(hc, addr, u, "/rooms/"+slug+"/messages", map[string][]string{"body": {burstBody(m, away)}})
				if err == nil && res.StatusCode != http.StatusSeeOther {
					err = fmt.Errorf("burst message %d from %s: status %d", m, u.name, res.StatusCode)
				}
				if err != nil {
					first.CompareAndSwap(nil, err)
					continue
				}
				posted.Add(1)
			}
		}()
	}
	wg.Wait()
	err, _ := first.Load().(error)
	return int(posted.Load()), err
}

// pushResult is the push phase's figures.
type pushResult struct {
	devices, messages, senders int
	posted                     int
	postErr                    string
	posting                    time.Duration // posting the burst's messages
	start                      time.Time     // the first message posted
	drained                    bool          // every expected push came within pushDrainLimit
	count                      pushTally
	jobs                       map[string]int64 // the push jobs' states in the store at the end
	jobsErr                    string
	quiet, burst               loadResult // the fan-out without the burst, and during it
	serverErrors               int
}

// drain is from the first message posted to the last push accepted.
func (r pushResult) drain() time.Duration {
	if r.count.last.IsZero() {
		return 0
	}
	return r.count.last.Sub(r.start)
}

// push runs the push phase on a fresh agora process: the fan-out alone,
// then again with the burst posted a second into its window; the fan-out
// goes on until the burst has drained.
func (b *bench) push(ctx context.Context, users []*user) (pushResult, error) {
	cfg := b.cfg
	r := pushResult{devices: cfg.pushUsers, messages: ceilDiv(cfg.pushes, cfg.pushUsers)}
	r.senders = ceilDiv(r.messages, burstPerSender)
	ps, err := startPushService(pushSubject, r.devices, r.messages)
	if err != nil {
		return r, err
	}
	defer ps.close()
	p, err := b.startAgora(ctx, "agora-push", "-push-private", "-push-subject", pushSubject)
	if err != nil {
		return r, err
	}
	defer p.stop()
	people, err := signupFrom(p.addr, pushUsersFrom, r.devices+r.senders, b.logf)
	if err != nil {
		return r, err
	}
	away, senders := people[:r.devices], people[r.devices:]
	slug, err := pushSetup(p.addr, senders, away, ps)
	if err != nil {
		return r, fmt.Errorf("push setup: %w", err)
	}
	b.logf("push: %d away users subscribed a device each to %s; #%s, %d senders", len(away), ps.url, slug, len(senders))
	pg, err := readPage(p.addr, users[0], "general")
	if err != nil {
		return r, err
	}
	if r.quiet, err = runLoad(ctx, newTarget(p, true), oneRoomSpec(cfg, users, pg, cfg.rate, "agora-push-quiet", b.benchDir, false), b.logf); err != nil {
		return r, err
	}
	if pg, err = readPage(p.addr, users[0], "general"); err != nil {
		return r, err
	}
	spec := oneRoomSpec(cfg, users, pg, cfg.rate, "agora-push-burst", b.benchDir, false)
	// Sending goes on while the burst drains, up to this: each socket
	// keeps a slot per message the window may hold.
	spec.maxWindow = cfg.fanout + pushSendLimit
	spec.during = func(ctx context.Context, t0 time.Time, _ func() int64) (time.Time, time.Time) {
		select {
		case <-time.After(time.Until(t0.Add(time.Second))):
		case <-ctx.Done():
		}
		r.start = time.Now()
		posted, err := postBurst(ctx, p.addr, slug, senders, away, r.messages)
		r.posted, r.posting = posted, time.Since(r.start)
		if err != nil {
			r.postErr = err.Error()
		}
		b.logf("push: %d burst messages posted in %v (%v)", posted, r.posting.Round(time.Millisecond), err)
		select {
		case <-ps.count.done:
			r.drained = true
		case <-time.After(time.Until(r.start.Add(pushDrainLimit))):
		case <-ctx.Done():
		}
		end := time.Now()
		b.logf("push: %d of %d pushes in %v", ps.count.tally().unique, r.devices*r.messages, end.Sub(r.start).Round(time.Millisecond))
		return r.start, end
	}
	if r.burst, err = runLoad(ctx, newTarget(p, true), spec, b.logf); err != nil {
		return r, err
	}
	// Counted after the fan-out's grace too: a push sent twice late would
	// be counted.
	r.count = ps.count.tally()
	r.jobs, err = jobStates(b.dbPath, "push")
	if err != nil {
		r.jobsErr = err.Error()
	}
	p.stop()
	r.serverErrors = countInFile(p.logPath, "level=ERROR")
	return r, nil
}

// pushUsersFrom is the number of the push phase's first account
// (load9000): past the accounts the other phases sign up.
const pushUsersFrom = 9000

// jobStates counts the jobs of a kind in each state, reading the database
// file read-only (as countRows does).
func jobStates(path, kind string) (map[string]int64, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.Query("SELECT state, count(*) FROM jobs WHERE kind = ? GROUP BY state", kind)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var state string
		var n int64
		if err := rows.Scan(&state, &n); err != nil {
			return nil, err
		}
		out[state] = n
	}
	return out, rows.Err()
}

// rows are the push phase's lines of the table: the burst's pushes as the
// push service counted them, then the one-room fan-out during the burst
// (its messages sent while the burst drained) beside the fan-out without it.
func (r pushResult) rows(row func(metric, a, bl, rt, target, v string)) {
	c, bu, q := r.count, r.burst, r.quiet
	row(fmt.Sprintf("(p) push burst: %d messages x %d devices", r.messages, r.devices), "agora", "", "", "", "")
	row("(p) burst messages posted / in", fmt.Sprintf("%d/%d in %s", r.posted, r.messages, ms(r.posting)), "", "", "all", verdict(r.posted == r.messages))
	row("(p) pushes received once / expected", fmt.Sprintf("%d/%d", c.unique, c.expected), "", "", "all", verdict(c.expected > 0 && c.unique == c.expected))
	row("(p) pushes missing at the end / twice", fmt.Sprintf("%d / %d", c.lost, c.dups), "", "", "0 / 0", verdict(c.lost == 0 && c.dups == 0))
	row("(p) pushes refused / not expected", fmt.Sprintf("%d / %d", c.refused, c.stray), "", "", "0 / 0", verdict(c.refused == 0 && c.stray == 0))
	drain, rate := "never drained", "-"
	if r.drained {
		drain = ms(r.drain())
		rate = fmt.Sprintf("%.0f", float64(c.unique)/r.drain().Seconds())
	}
	row("(p) drain: first message posted -> last push", drain, "", "", "", "")
	row("(p) pushes/s over the drain", rate, "", "", "", "")
	jobs := fmt.Sprintf("%d / %d / %d", r.jobs["done"], r.jobs["failed"], r.jobs["queued"]+r.jobs["running"])
	if r.jobsErr != "" {
		jobs = "? (" + r.jobsErr + ")"
	}
	row("(p) push jobs in the store: done / failed / left", jobs, "", "", fmt.Sprintf("%d / 0 / 0", c.expected), verdict(r.jobs["done"] == int64(c.expected) && len(r.jobs) == 1))
	row("(p) the one-room fan-out (a):", "during burst", "without", "ratio", "", "")
	row("(p) messages sent while the burst drained / in all", fmt.Sprintf("%d / %d", bu.spanSent, bu.sent), fmt.Sprintf("- / %d", q.sent), "", "", "")
	row("(p) send -> last receiver p99", lastMs(bu.spanLast.p99), lastMs(q.lastP99), ratio(float64(bu.spanLast.p99), float64(q.lastP99)),
		"<= 25 ms, unchanged", verdict(bu.spanLast.p99 > 0 && bu.spanLast.p99 <= 25*time.Millisecond))
	row("(p) send -> last receiver p50", lastMs(bu.spanLast.p50), lastMs(q.lastP50), ratio(float64(bu.spanLast.p50), float64(q.lastP50)), "", "")
	row("(p) latency per delivery p99", ms(bu.span.p99), ms(q.p99), ratio(float64(bu.span.p99), float64(q.p99)), "", "")
	row("(p) whole run: send -> last receiver p99", lastMs(bu.lastP99), lastMs(q.lastP99), ratio(float64(bu.lastP99), float64(q.lastP99)), "", "")
	row("(p) lost / duplicated / evictions", fmt.Sprintf("%d/%d/%d", bu.lost, bu.dups, bu.evictions), fmt.Sprintf("%d/%d/%d", q.lost, q.dups, q.evictions), "", "0/0/0",
		verdict(bu.lost == 0 && bu.dups == 0 && q.lost == 0 && q.dups == 0))
	row("(p) server CPU (window + drain)", pct(bu.cpu, bu.window+bu.drain), pct(q.cpu, q.window+q.drain), "", "", "")
	row("(p) other processes' CPU (contention)", pct(bu.otherCPU, bu.window+bu.drain), pct(q.otherCPU, q.window+q.drain), "", "~0", "")
	row("(p) server log errors (whole agora process)", fmt.Sprint(r.serverErrors), "", "", "0", "")
}

// note explains the push phase's rows below the table.
func (r pushResult) note() string {
	var b strings.Builder
	fmt.Fprintf(&b, "(p) push: %d users who are away (no socket) subscribe a device each (POST /push/subscriptions, endpoints on a push service this\n", r.devices)
	fmt.Fprintf(&b, "    program runs on loopback; agora with -push-private); %d senders post %d messages at once from the room page's form, each\n", r.senders, r.messages)
	fmt.Fprintf(&b, "    mentioning all of them. The service checks each push's VAPID token (sub %s), decrypts it as the browser would\n", pushSubject)
	fmt.Fprintf(&b, "    (aes128gcm) and counts it by device and message; counted again after the fan-out's grace. The fan-out (a) runs alone,\n")
	fmt.Fprintf(&b, "    then again with the burst posted 1 s into it, sending until the burst drains (at most %v more); \"during burst\" is its\n", pushSendLimit)
	fmt.Fprintf(&b, "    messages sent from the first post to the last push, \"without\" the whole run alone, on the same agora process.\n")
	if r.postErr != "" {
		fmt.Fprintf(&b, "    first refused post: %s\n", r.postErr)
	}
	if r.count.firstRefusal != "" {
		fmt.Fprintf(&b, "    first refused push: %s\n", r.count.firstRefusal)
	}
	return b.String()
}
