//go:build e2e

package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"agora/db"
)

// TestE2EKill9Soak: 50 people send to #general, half over their sockets and
// half with the form, while the server (the real binary) is killed with
// SIGKILL three times and restarted. Every message a sender saw acknowledged
// (its echo on the socket, or the form's 303) is stored exactly once, and
// every socket, reconnecting with ?after= its last id, ends with the same
// list of ids as the store, in order and without repeats.
func TestE2EKill9Soak(t *testing.T) {
	const (
		senders  = 50
		every    = 500 * time.Millisecond // per sender: 100 messages/s in all
		kills    = 3
		runFor   = 4 * time.Second // between kills, and after the last restart
		settleIn = 60 * time.Second
	)
	srv := newServer(t)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()

	people := make([]*soaker, senders)
	for i := range people {
		people[i] = newSoaker(t, srv, i, i%2 == 0)
	}
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }() // no sender outlives the test, even a failed one
	for _, p := range people {
		wg.Add(2)
		go func() { defer wg.Done(); p.listen(ctx) }()
		go func() { defer wg.Done(); p.send(ctx, every) }()
	}

	for k := range kills {
		time.Sleep(runFor) // traffic flows meanwhile: this is the soak's length, not a wait for an event
		acked := 0
		for _, p := range people {
			acked += p.ackedCount()
		}
		t.Logf("kill %d: SIGKILL with %d messages acknowledged so far", k+1, acked)
		srv.kill()
		srv.restart()
	}
	time.Sleep(runFor)
	for _, p := range people {
		p.stopSending()
	}

	// Every message sent is acknowledged in the end (senders retry with the
	// same client id).
	deadline := time.Now().Add(settleIn)
	for {
		pending := 0
		for _, p := range people {
			pending += p.pendingCount()
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %d messages still unacknowledged", settleIn, pending)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Then one last message, stored after all the others: a socket that has
	// it has everything before it, as messages arrive in id order.
	last := people[1]
	res, err := last.http.PostForm(srv.url("/rooms/general/messages"), url.Values{"body": {soakFinal}})
	if err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the last message: %v %v", err, res)
	}
	res.Body.Close()
	for {
		behind := 0
		for _, p := range people {
			if !p.hasFinal() {
				behind++
			}
		}
		if behind == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %d sockets never got the last message", settleIn, behind)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	wg.Wait()
	srv.stop()

	store, err := db.Open(context.Background(), srv.db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	room, err := store.RoomBySlug(context.Background(), "general")
	if err != nil {
		t.Fatal(err)
	}
	stored, err := store.MessagesAfter(context.Background(), room.ID, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	times := map[string]int{}
	var ids []string
	for _, m := range stored {
		times[m.Body]++
		ids = append(ids, strconv.FormatInt(m.ID, 10))
	}
	acked := 0
	for _, p := range people {
		for _, body := range p.ackedBodies() {
			acked++
			if times[body] != 1 {
				t.Errorf("%s: %q was acknowledged and is stored %d times", p.name, body, times[body])
			}
		}
		if got := p.idList(); got != strings.Join(ids, ",") {
			t.Errorf("%s ends with ids %.200s..., the store has %.200s...", p.name, got, strings.Join(ids, ","))
		}
		if p.reloads > 0 {
			t.Errorf("%s was told to reload (its backlog was over the cap): the soak's rate is too high to check it", p.name)
		}
	}
	reconnects := 0
	for _, p := range people {
		reconnects += p.connects - 1
	}
	t.Logf("%d messages acknowledged and stored once; %d stored in all; %d socket reconnects; %d clients agree", acked, len(stored), reconnects, senders)
}

var soakIDRe = regexp.MustCompile(`id="message-(\d+)"`)

const soakFinal = "soak-the-last-message"

// soaker is one person: a socket that receives (and, for half of them,
// sends), and a sender that posts a numbered message every so often.
type soaker struct {
	t      *testing.T
	srv    *agoraServer
	name   string
	socket bool // sends over the socket, else with the form
	http   *http.Client

	mu       sync.Mutex
	conn     *websocket.Conn
	ids      []int64 // message ids received, in order
	seen     map[int64]bool
	text     map[string]bool // bodies seen in frames
	pending  map[string]string
	acked    []string
	sending  bool
	connects int
	reloads  int
	final    bool // the last message arrived
}

func newSoaker(t *testing.T, srv *agoraServer, i int, socket bool) *soaker {
	t.Helper()
	// Each person from an address of their own (all of 127/8 is loopback),
	// as people are, so per-address limits on sign-ups and sockets hold.
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(10+i))}, Timeout: 5 * time.Second}
	jar, _ := cookiejar.New(nil)
	p := &soaker{
		t: t, srv: srv, name: fmt.Sprintf("soak%02d", i), socket: socket,
		http: &http.Client{Jar: jar, Timeout: 10 * time.Second,
			Transport:     &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 2},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		seen: map[int64]bool{}, text: map[string]bool{}, pending: map[string]string{}, sending: true,
	}
	res, err := p.http.PostForm(srv.url("/signup"), url.Values{"username": {p.name}, "password": {password}})
	if err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("signup %s: %v %v", p.name, err, res)
	}
	res.Body.Close()
	res, err = p.http.Get(srv.url("/rooms/general")) // joins it
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("%s opens #general: %v %v", p.name, err, res)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return p
}

// listen keeps the socket open: on every (re)connect it asks for what came
// after the last id it has, as the browser does, and records what arrives.
func (p *soaker) listen(ctx context.Context) {
	for ctx.Err() == nil {
		p.mu.Lock()
		after := int64(0)
		if len(p.ids) > 0 {
			after = p.ids[len(p.ids)-1]
		}
		p.mu.Unlock()
		u, _ := url.Parse(p.srv.url("/"))
		h := http.Header{"Origin": {p.srv.url("")}}
		for _, ck := range p.http.Jar.Cookies(u) {
			h.Add("Cookie", ck.Name+"="+ck.Value)
		}
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		conn, _, err := websocket.Dial(dctx, "ws://"+p.srv.addr+"/rooms/general/ws?after="+strconv.FormatInt(after, 10),
			&websocket.DialOptions{HTTPClient: p.http, HTTPHeader: h})
		cancel()
		if err != nil {
			select { // the server is down: try again shortly
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		conn.SetReadLimit(1 << 24)
		p.mu.Lock()
		p.conn = conn
		p.connects++
		p.mu.Unlock()
		p.resendPending(ctx)
		for {
			_, data, err := conn.Read(ctx)
			if err != nil {
				break
			}
			p.record(data)
		}
		p.mu.Lock()
		p.conn = nil
		p.mu.Unlock()
		conn.CloseNow()
	}
}

func (p *soaker) record(data []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if strings.Contains(string(data), `id="messages" hx-swap-oob="innerHTML"`) {
		p.reloads++
	}
	for _, m := range soakIDRe.FindAllSubmatch(data, -1) {
		id, _ := strconv.ParseInt(string(m[1]), 10, 64)
		if !p.seen[id] {
			p.seen[id] = true
			p.ids = append(p.ids, id)
		}
	}
	if strings.Contains(string(data), soakFinal) {
		p.final = true
	}
	// A body seen in any frame (live or backlog) was stored.
	for body := range p.pending {
		if strings.Contains(string(data), body) {
			delete(p.pending, body)
			p.acked = append(p.acked, body)
		}
	}
}

// send posts a new message every so often; a message not yet acknowledged is
// sent again with the same client id (stored once, however often it comes).
func (p *soaker) send(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		p.mu.Lock()
		sending := p.sending
		p.mu.Unlock()
		if sending {
			body := fmt.Sprintf("soak-%s-m%04d-end", p.name, n)
			p.mu.Lock()
			p.pending[body] = fmt.Sprintf("%s-%d", p.name, n)
			p.mu.Unlock()
		}
		if p.socket {
			p.resendPending(ctx)
		} else {
			p.postPending(ctx)
		}
	}
}

// resendPending sends the socket sender's unacknowledged messages.
func (p *soaker) resendPending(ctx context.Context) {
	if !p.socket {
		return
	}
	p.mu.Lock()
	conn := p.conn
	var frames [][]byte
	for body, cid := range p.pending {
		f, _ := json.Marshal(map[string]any{"body": body, "client_msg_id": cid,
			"HEADERS": map[string]string{"HX-Request": "true", "HX-Trigger": "composer"}})
		frames = append(frames, f)
	}
	p.mu.Unlock()
	if conn == nil {
		return
	}
	for _, f := range frames {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := conn.Write(wctx, websocket.MessageText, f)
		cancel()
		if err != nil {
			return // the reader sees the socket end and reconnects
		}
	}
}

// postPending posts the form sender's unacknowledged messages; a 303 is the
// acknowledgement.
func (p *soaker) postPending(ctx context.Context) {
	p.mu.Lock()
	todo := map[string]string{}
	for body, cid := range p.pending {
		todo[body] = cid
	}
	p.mu.Unlock()
	bodies := slices.Sorted(func(yield func(string) bool) {
		for b := range todo {
			if !yield(b) {
				return
			}
		}
	})
	for _, body := range bodies {
		req, _ := http.NewRequestWithContext(ctx, "POST", p.srv.url("/rooms/general/messages"),
			strings.NewReader(url.Values{"body": {body}, "client_msg_id": {todo[body]}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := p.http.Do(req)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return
			}
			continue // the server is down: sent again next time
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusSeeOther {
			p.mu.Lock()
			if _, ok := p.pending[body]; ok {
				delete(p.pending, body)
				p.acked = append(p.acked, body)
			}
			p.mu.Unlock()
		} else if res.StatusCode != http.StatusTooManyRequests && res.StatusCode < 500 {
			p.t.Errorf("%s: posting %q: status %d", p.name, body, res.StatusCode)
		}
	}
}

func (p *soaker) hasFinal() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.final
}

func (p *soaker) stopSending() {
	p.mu.Lock()
	p.sending = false
	p.mu.Unlock()
}

func (p *soaker) pendingCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending)
}

func (p *soaker) ackedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.acked)
}

func (p *soaker) ackedBodies() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.acked)
}

// idList is the ids received, in order; they must rise.
func (p *soaker) idList() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	parts := make([]string, len(p.ids))
	for i, id := range p.ids {
		if i > 0 && id < p.ids[i-1] {
			return fmt.Sprintf("out of order at %d: %d after %d", i, id, p.ids[i-1])
		}
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}
