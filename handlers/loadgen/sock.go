package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// target is a server under test and the counters its sockets share.
type target struct {
	proc     *proc
	addr     string
	agora    bool // agora: session cookie and ?after=; the baseline takes neither
	node     int  // which of a cluster's nodes (0 when the server runs alone)
	nextAddr atomic.Int64
	stopping atomic.Bool // sockets are being closed on purpose: no reconnects

	composerErrs atomic.Int64 // refusals shown to a sender (rate limit, invalid)
	reconnects   atomic.Int64
	evictions    atomic.Int64 // closes with 1013 (too slow)
	dead         atomic.Int64 // sockets that ended and could not come back
	closeCodes   sync.Map     // "code reason" -> *atomic.Int64 (-1: ended without a close frame)
}

func newTarget(p *proc, agora bool) *target {
	return &target{proc: p, addr: p.addr, agora: agora}
}

// dial opens a room's socket as the browser does: the page's origin, the
// session cookie, ?after=<last message id on the page> and &seq=<last room
// event on it>.
func (tg *target) dial(ctx context.Context, u *user, slug string, after, seq int64) (*wsConn, error) {
	path := "/rooms/" + slug + "/ws"
	if tg.agora {
		path += "?after=" + strconv.FormatInt(after, 10) + "&seq=" + strconv.FormatInt(seq, 10)
	}
	h := http.Header{"Origin": {"http://" + tg.addr}}
	if u != nil {
		h.Set("Cookie", u.cookie)
	}
	return dialWS(ctx, tg.addr, path, h, tg.nextSource())
}

// nextSource is the source address of the next socket: sourceAddrs loopback
// addresses in turn, as many people's browsers behind their own addresses.
func (tg *target) nextSource() *net.TCPAddr {
	return local(1, int(tg.nextAddr.Add(1)%sourceAddrs))
}

// closeCodeList is the close codes the sockets were given, with counts.
func (tg *target) closeCodeList() string {
	var codes []string
	tg.closeCodes.Range(func(k, v any) bool {
		codes = append(codes, fmt.Sprintf("%v ×%d", k, v.(*atomic.Int64).Load()))
		return true
	})
	slices.Sort(codes)
	return strings.Join(codes, ", ")
}

// seat is a socket to open: whose, in which room, after which message and
// room event; keys are the names the sidebar gives the room (its slug, and
// the id in #marks-<id>), to tell fragments about it from those about others.
type seat struct {
	user       *user // nil: anonymous (the baseline)
	slug       string
	after, seq int64
	keys       []string
	tg         *target // the server to connect to, when not the one openMany is given
}

// sock is one browser tab's room socket: it reads every frame, notes the
// last message id (for ?after= on reconnect, as the browser's script does)
// and, in the measured phases, every delivery's latency and the sidebar
// updates it is sent.
type sock struct {
	tg     *target
	seat   seat
	room   int    // index of the room in the phase (the team phase's message → room map)
	tally  *tally // measured phases, or nil
	conn   atomic.Pointer[wsConn]
	lastID int64 // reader goroutine only
	// lastMsg is lastID for the senders: the message a reply goes under.
	lastMsg atomic.Int64
	lastSeq int64 // reader goroutine only
	done    chan struct{}

	// got[g] is 1 + the microseconds from message g's send to its arrival
	// here, 0 while it has not arrived. Written by the reader alone; read
	// once the reader has stopped. Nothing is shared per delivery.
	got       []uint32
	delivered atomic.Int64
	dups      atomic.Int64
	previews  atomic.Int64 // link previews received (each in its message's slot)
	bytes     atomic.Int64 // payload bytes received while measured
	sidebar   atomic.Int64 // sidebar fragments received while measured
	sidebarEl atomic.Int64 // of which about another room than this socket's (or not about one room)
	sidebarWS atomic.Int64 // WebSocket messages received that hold sidebar fragments
	frames    atomic.Int64 // WebSocket messages received while measured

	mu       sync.Mutex
	trackIDs bool
	ids      map[int64]struct{}
	lastNew  time.Time // arrival of the last new message id
}

func (tg *target) open(ctx context.Context, st seat, room int, tl *tally, trackIDs bool) (*sock, error) {
	c, err := tg.dial(ctx, st.user, st.slug, st.after, st.seq)
	if err != nil {
		return nil, err
	}
	s := &sock{tg: tg, seat: st, room: room, tally: tl, lastID: st.after, lastSeq: st.seq, done: make(chan struct{}), trackIDs: trackIDs}
	if trackIDs {
		s.ids = map[int64]struct{}{}
	}
	if tl != nil {
		s.got = make([]uint32, tl.max)
	}
	s.conn.Store(c)
	go s.readLoop(ctx)
	return s, nil
}

// openMany opens a socket for each seat, 64 dials at a time, on tg or the
// seat's own target; room gives the room index of seat i. Seats that fail
// to connect are left out.
func openMany(ctx context.Context, tg *target, seats []seat, room func(i int) int, tl *tally) ([]*sock, int, error) {
	socks := make([]*sock, len(seats))
	var failed atomic.Int64
	var firstErr atomic.Value
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				to := tg
				if seats[i].tg != nil {
					to = seats[i].tg
				}
				s, err := to.open(ctx, seats[i], room(i), tl, false)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				socks[i] = s
			}
		}()
	}
	for i := range seats {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	var err error
	if e := firstErr.Load(); e != nil {
		err = e.(error)
	}
	return slices.DeleteFunc(socks, func(s *sock) bool { return s == nil }), int(failed.Load()), err
}

// oneRoom is the seats of n sockets in #general, socket i for user
// (from+i) % len(users); no users: anonymous sockets for the baseline.
func oneRoom(users []*user, from, n int, pg pageState) []seat {
	seats := make([]seat, n)
	for i := range seats {
		seats[i] = seat{slug: "general", after: pg.after, seq: pg.seq, keys: []string{"general"}}
		if len(users) > 0 {
			seats[i].user = users[(from+i)%len(users)]
		}
	}
	return seats
}

// closeAll closes the sockets at once (no close handshake) and waits,
// bounded, for their readers to stop.
func closeAll(tg *target, socks []*sock) {
	tg.stopping.Store(true)
	for _, s := range socks {
		s.tg.stopping.Store(true)
		s.conn.Load().close()
	}
	deadline := time.After(10 * time.Second)
	for _, s := range socks {
		select {
		case <-s.done:
		case <-deadline:
			return
		}
	}
}

func (s *sock) readLoop(ctx context.Context) {
	defer close(s.done)
	stop := context.AfterFunc(ctx, func() { s.conn.Load().close() })
	defer stop()
	var buf []byte
	retries := 0
	for {
		w := s.conn.Load()
		data, err := w.next(buf)
		if err != nil {
			w.close()
			if ctx.Err() != nil || s.tg.stopping.Load() {
				return
			}
			code, key := -1, "-1"
			if ce := (*closeErr)(nil); errors.As(err, &ce) {
				code, key = ce.code, fmt.Sprint(ce.code)
				if ce.reason != "" {
					key += " " + strconv.Quote(ce.reason)
				}
			}
			n, _ := s.tg.closeCodes.LoadOrStore(key, new(atomic.Int64))
			n.(*atomic.Int64).Add(1)
			if code == 1013 {
				s.tg.evictions.Add(1)
			}
			// htmx-ext-ws reconnects after 1006 (no close frame), 1011, 1012, 1013.
			switch code {
			case -1, 1006, 1011, 1012, 1013:
				if retries < 5 {
					retries++
					s.tg.reconnects.Add(1)
					time.Sleep(time.Duration(retries) * 200 * time.Millisecond)
					if nc, err := s.tg.dial(ctx, s.seat.user, s.seat.slug, s.lastID, s.lastSeq); err == nil {
						s.conn.Store(nc)
						continue
					}
				}
			}
			s.tg.dead.Add(1)
			return
		}
		buf = data
		s.scan(data, time.Now().UnixNano())
	}
}

const (
	msgIDMark    = `id="message-`
	seqMark      = `data-seq="`
	tokenMark    = "lg "
	composerMark = `id="composer-error"`
	oobMark      = `hx-swap-oob="`
	previewMark  = `class="link-preview"`
	articleMark  = `<article `
)

// inUpdate reports whether the end of before lies inside a message sent
// again in place (an <article> that swaps itself out of band), not inside a
// new one (new messages come inside a wrapper that appends them).
func inUpdate(before []byte) bool {
	i := bytes.LastIndex(before, []byte(articleMark))
	if i < 0 {
		return false
	}
	tag := before[i:]
	if j := bytes.IndexByte(tag, '>'); j >= 0 {
		tag = tag[:j]
	}
	return bytes.Contains(tag, []byte(`hx-swap-oob="outerHTML"`))
}

// scan reads one WebSocket message: message ids, refusals, sidebar updates
// and the measured phases' "lg <number> <send unix ns>" tokens. Several
// fragments may share a message.
func (s *sock) scan(data []byte, now int64) {
	for rest := data; ; {
		i := bytes.Index(rest, []byte(msgIDMark))
		if i < 0 {
			break
		}
		rest = rest[i+len(msgIDMark):]
		id, n := digits(rest)
		if n == 0 {
			continue
		}
		if id > s.lastID {
			s.lastID = id
			s.lastMsg.Store(id)
		}
		if s.trackIDs {
			s.mu.Lock()
			if _, ok := s.ids[id]; !ok {
				s.ids[id] = struct{}{}
				s.lastNew = time.Unix(0, now)
			}
			s.mu.Unlock()
		}
	}
	for rest := data; ; {
		i := bytes.Index(rest, []byte(seqMark))
		if i < 0 {
			break
		}
		rest = rest[i+len(seqMark):]
		if seq, n := digits(rest); n > 0 && seq > s.lastSeq {
			s.lastSeq = seq
		}
	}
	if n := bytes.Count(data, []byte(composerMark)); n > 0 {
		s.tg.composerErrs.Add(int64(n))
	}
	if s.tally == nil {
		return
	}
	s.bytes.Add(int64(len(data)))
	s.frames.Add(1)
	if all, elsewhere := sidebarFragments(data, s.seat.keys); all > 0 {
		s.sidebar.Add(int64(all))
		s.sidebarEl.Add(int64(elsewhere))
		s.sidebarWS.Add(1)
	}
	s.previews.Add(int64(bytes.Count(data, []byte(previewMark))))
	for rest := data; ; {
		i := bytes.Index(rest, []byte(tokenMark))
		if i < 0 {
			break
		}
		if inUpdate(data[:len(data)-len(rest)+i]) {
			// A message sent again in place (edited, reacted to): not
			// a delivery of a new one.
			rest = rest[i+len(tokenMark):]
			continue
		}
		rest = rest[i+len(tokenMark):]
		g, n := digits(rest)
		if n == 0 || n >= len(rest) || rest[n] != ' ' {
			continue
		}
		rest = rest[n+1:]
		sent, m := digits(rest)
		if m < 15 {
			continue
		}
		rest = rest[m:]
		s.record(g, sent, now)
	}
}

// sidebarFragments counts the out-of-band swaps in a socket message that
// update the sidebar: the whole #nav-lists (one per online member, as the
// server first did it) or a small fragment for one room's marks, counts or
// badges. elsewhere is how many of them are not about the socket's own room
// (a whole sidebar is about no one room).
//
// A fragment's target is the selector after "swap:" in hx-swap-oob, or else
// the id of the element that carries the attribute.
func sidebarFragments(data []byte, own []string) (all, elsewhere int) {
	for off := 0; ; {
		i := bytes.Index(data[off:], []byte(oobMark))
		if i < 0 {
			return all, elsewhere
		}
		i += off
		vStart := i + len(oobMark)
		vLen := bytes.IndexByte(data[vStart:], '"')
		if vLen < 0 {
			return all, elsewhere
		}
		off = vStart + vLen
		value := string(data[vStart:off])
		tgt := ""
		if _, sel, ok := strings.Cut(value, ":"); ok {
			tgt = sel
		} else {
			tagStart := bytes.LastIndexByte(data[:i], '<')
			tagEnd := bytes.IndexByte(data[off:], '>')
			if tagStart < 0 || tagEnd < 0 {
				continue
			}
			tgt = attr(data[tagStart:off+tagEnd], "id")
		}
		if !isSidebarTarget(tgt) {
			continue
		}
		all++
		if !aboutRoom(tgt, own) {
			elsewhere++
		}
	}
}

// attr is the value of a double-quoted attribute in an element's start tag.
func attr(tag []byte, name string) string {
	for off := 0; ; {
		i := bytes.Index(tag[off:], []byte(name+`="`))
		if i < 0 {
			return ""
		}
		i += off
		off = i + len(name) + 2
		if i > 0 && tag[i-1] != ' ' && tag[i-1] != '\t' && tag[i-1] != '\n' {
			continue // the tail of another attribute's name, such as data-id
		}
		end := bytes.IndexByte(tag[off:], '"')
		if end < 0 {
			return ""
		}
		return string(tag[off : off+end])
	}
}

// isSidebarTarget tells whether an out-of-band target is in the sidebar:
// the lists, a room's entry, its unread or mention count or marks.
func isSidebarTarget(tgt string) bool {
	tgt = strings.ToLower(tgt)
	for _, w := range []string{"nav", "sidebar", "room-list", "dm-list", "unread", "mention", "marks", "badge", "counts", "data-room"} {
		if strings.Contains(tgt, w) {
			return true
		}
	}
	return false
}

// aboutRoom tells whether a sidebar target names the room by one of its
// keys: an id ending in "-<key>" or an attribute selector on it.
func aboutRoom(tgt string, keys []string) bool {
	for _, k := range keys {
		if strings.HasSuffix(tgt, "-"+k) || strings.Contains(tgt, "="+k+"]") ||
			strings.Contains(tgt, "'"+k+"'") || strings.Contains(tgt, "&#34;"+k+"&#34;") {
			return true
		}
	}
	return false
}

func digits(b []byte) (int64, int) {
	var v int64
	i := 0
	for i < len(b) && i < 19 && b[i] >= '0' && b[i] <= '9' {
		v = v*10 + int64(b[i]-'0')
		i++
	}
	return v, i
}

// tally numbers a measured phase's messages: message g was sent at the time
// in its body, to room room[g]; every socket of that room should receive it
// exactly once.
type tally struct {
	max  int
	next atomic.Int64
	sent []atomic.Bool
	room []uint16
	from []uint8       // the node of the socket that sent it
	at   []int64       // when it was sent, Unix nanoseconds
	bad  atomic.Int64  // tokens with a number out of range
	seen []atomic.Bool // received by some socket: committed
}

func newTally(max int) *tally {
	return &tally{max: max, sent: make([]atomic.Bool, max), room: make([]uint16, max), from: make([]uint8, max), at: make([]int64, max),
		seen: make([]atomic.Bool, max)}
}

func (s *sock) record(g, sentNs, now int64) {
	if g < 0 || g >= int64(len(s.got)) {
		s.tally.bad.Add(1)
		return
	}
	if s.got[g] != 0 {
		s.dups.Add(1)
		return
	}
	us := max(now-sentNs, 0) / 1000
	s.got[g] = uint32(min(us+1, 1<<32-1))
	s.delivered.Add(1)
	// Read before it is written: every socket records every message, and a
	// store to the one shared flag each time kept its cache line moving
	// between the cores the server needs.
	if !s.tally.seen[g].Load() {
		s.tally.seen[g].Store(true)
	}
}

// body is a 100-byte message carrying its number and send time.
// linkBody is body with a link to a page after its token.
func linkBody(g, ns int64, link string) string {
	b := fmt.Sprintf("lg %d %d %s ", g, ns, link)
	return b + strings.Repeat("x", max(bodyBytes-len(b), 1))
}

func body(g, ns int64) string {
	b := fmt.Sprintf("lg %d %d ", g, ns)
	return b + strings.Repeat("x", max(bodyBytes-len(b), 1))
}
