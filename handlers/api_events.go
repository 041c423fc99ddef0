package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/chat/live"
)

// The API's event stream: GET /api/v1/events sends, as Server-Sent Events,
// every event of every room the token's user can read, as it commits. It is
// built on the rooms' event log in the store: each event's SSE id is its
// global event id, which rises in commit order, so "the events after id N
// that I may read" is the whole state of a stream. When the hub is given
// any room event (on every node, from the broker), the node's tail reads
// what is new once for all its streams (api_events_tail.go), and each
// stream sends what its user may read; reconnecting with Last-Event-ID
// resumes after that id, nothing lost and nothing twice.

const (
	sseBatch     = 200
	sseKeepalive = 15 * time.Second
	// sseMaxBehind is how many events (in all rooms) a reconnecting stream
	// may have missed and still be caught up event by event; further behind,
	// it is told to resync (read the rooms afresh) and goes on from now.
	sseMaxBehind = 10000
)

// streams holds the open event streams and the tail of the log they share,
// and ends those a close concerns (see end).
type streams struct {
	tail *eventTail
	mu   sync.Mutex
	open map[*stream]struct{}
	done chan struct{} // closed at shutdown: streams end
	once sync.Once
}

// stream is one open GET /api/v1/events: its user, its token, and a signal
// to end.
type stream struct {
	user, token int64
	end         chan struct{}
	ending      sync.Once
}

func newStreams(tail *eventTail) *streams {
	return &streams{tail: tail, open: make(map[*stream]struct{}), done: make(chan struct{})}
}

func (st *streams) subscribe(user, token int64) *stream {
	s := &stream{user: user, token: token, end: make(chan struct{})}
	st.mu.Lock()
	st.open[s] = struct{}{}
	st.mu.Unlock()
	return s
}

func (st *streams) unsubscribe(s *stream) {
	st.mu.Lock()
	delete(st.open, s)
	st.mu.Unlock()
}

// wake tells the tail a room event committed; it never blocks.
func (st *streams) wake(int64, int64) { st.tail.poke() }

// userEvent makes streams ask again about a membership made or ended.
func (st *streams) userEvent(e chat.UserEvent) {
	if e.Kind == chat.UserJoined || e.Kind == chat.UserLeft {
		st.tail.membershipMayHaveChanged(e.RoomID)
	}
}

// end ends the streams a close of sockets concerns, as the hub is told of
// it on this node or from another: a user's (deactivated) and a token's
// (revoked) streams end at once. A user removed from a room stays, reading
// no more of it: the room's memberships are asked anew.
func (st *streams) end(e live.Ended) {
	if e.RoomID != 0 {
		st.tail.membershipMayHaveChanged(e.RoomID)
	}
	token, isToken := tokenOfSession(e.Session)
	st.mu.Lock()
	defer st.mu.Unlock()
	for s := range st.open {
		if isToken && s.token == token || e.UserID != 0 && e.RoomID == 0 && s.user == e.UserID {
			s.ending.Do(func() { close(s.end) })
		}
	}
}

// tokenSession names a token's streams as a session names a browser's
// sockets, so that revoking it ends them on every node the way ending a
// session closes its sockets. It never equals a session's name (a hash).
func tokenSession(id int64) string { return "token:" + strconv.FormatInt(id, 10) }

func tokenOfSession(session string) (int64, bool) {
	v, ok := strings.CutPrefix(session, "token:")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(v, 10, 64)
	return id, err == nil
}

func (st *streams) close() { st.once.Do(func() { close(st.done) }) }

// apiEvent is the data of one stream event.
type apiEvent struct {
	ID      int64      `json:"id"`
	Type    string     `json:"type"` // message, notice, edit, delete, reaction
	Room    apiRoom    `json:"room"`
	Seq     int64      `json:"seq"` // the event's number in its room
	Message apiMessage `json:"message"`
}

// streamEvent is the data of one stream event, as JSON.
func streamEvent(e chat.Event, room chat.Room) ([]byte, error) {
	return json.Marshal(apiEvent{ID: e.ID, Type: eventType(e), Seq: e.Seq,
		Room:    apiRoom{Slug: room.Slug, Name: room.Name, Private: room.Private, Kind: room.Kind, Member: true},
		Message: toAPIMessage(e.Message, room)})
}

// eventType is the SSE event name: a notice (a join, a leave, a rename:
// the room's membership as the room shows it) is told apart from a message.
func eventType(e chat.Event) string {
	if e.Kind == chat.EventMessage && e.Message.Kind == chat.MessageNotice {
		return "notice"
	}
	return e.Kind
}

// A stream is held open and wakes with every event, like a socket: each
// user and each address may hold a few. A bot needs one; an integration a
// handful.
const (
	StreamsPerUser    = 8
	StreamsPerAddress = 32
)

func (s *Server) handleAPIEvents(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	release, refused := s.streamCount.acquire(u.ID, c.RealIP())
	if refused != "" {
		return tooFast(c, 0, "Too many event streams are open for this account or from this address. Close one before opening another.")
	}
	defer release()
	latest, err := s.store.LatestEventID(ctx)
	if err != nil {
		return err
	}
	// Where to start: after the client's last event, or from now.
	after, resync := latest, ""
	if v := c.Request().Header.Get("Last-Event-ID"); v != "" {
		id, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		switch {
		case err != nil || id < 0 || id > latest:
			resync = "Last-Event-ID is not an event of this server."
		case latest-id > sseMaxBehind:
			resync = "Too many events were missed to send them one by one."
		default:
			after = id
		}
	}
	// A replay reads back what was missed, for every room of the user: it
	// costs a query per batch where following costs one per event. Each
	// user may ask for a few in a row, then one every few seconds.
	if after < latest || resync != "" {
		key := strconv.FormatInt(u.ID, 10)
		if !s.replayLimits.Allow(key) {
			return tooFast(c, s.replayLimits.Delay(key), "Too many reconnections that catch up on missed events. Please wait a moment before reconnecting.")
		}
	}

	w := c.Response()
	// The stream outlives the server's read timeout, which would otherwise
	// end it: nothing more is read from this request.
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set(echo.HeaderContentType, "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // proxies must not hold events back
	w.WriteHeader(http.StatusOK)
	st := s.streams.subscribe(u.ID, c.Get(ctxToken).(int64))
	defer s.streams.unsubscribe(st)
	if resync != "" {
		// The client reads the rooms afresh (GET .../messages), then follows from here.
		data, _ := json.Marshal(map[string]any{"reason": resync, "latest": latest})
		if err := writeSSE(w, latest, "resync", data); err != nil {
			return nil
		}
	} else if _, err := w.Write([]byte(": agora events\n\n")); err != nil {
		return nil
	}
	w.Flush()

	if err := s.streams.tail.ensure(ctx, s.streams.done); err != nil {
		s.log.Error("event stream", "id", requestID(c), "user", u.Username, "err", err)
		return nil
	}
	reader := &streamReader{user: u, isMember: s.store.IsMember, tail: s.streams.tail, known: map[int64]membershipSeen{}}
	keepalive := time.NewTicker(sseKeepalive)
	defer keepalive.Stop()
	for {
		select {
		case <-st.end:
			return nil // ended while it was sending: nothing more goes out
		default:
		}
		events, covered, from, changed := s.streams.tail.since(after)
		if !covered {
			// Behind the tail (a replay): read this user's events up to
			// where the tail begins, a batch at a time.
			if after, err = s.replayUpTo(ctx, w, u, after, from); err != nil {
				if ctx.Err() == nil {
					s.log.Error("event stream", "id", requestID(c), "user", u.Username, "err", err)
				}
				return nil // the answer has begun: the client reconnects with its last id
			}
			continue
		}
		for _, e := range events {
			ok, err := reader.mayRead(ctx, e)
			if err != nil {
				return nil
			}
			if ok {
				if err := writeSSE(w, e.id, e.typ, e.data); err != nil {
					return nil
				}
			}
			after = e.id
		}
		if len(events) > 0 {
			w.Flush()
		}
		select {
		case <-changed:
		case <-st.end:
			return nil // deactivated, or its token revoked: here or on another node
		case <-keepalive.C:
			// A comment keeps proxies from closing an idle stream; a revoked
			// token (or a deactivated user) ends it, should the word that
			// ended it have been missed.
			if !s.tokenStillWorks(ctx, c) {
				return nil
			}
			if _, err := w.Write([]byte(": keepalive\n\n")); err != nil {
				return nil
			}
			w.Flush()
		case <-s.streams.done:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// replayUpTo sends one batch of the events after id that u may read, and
// returns the id it has sent everything up to: upTo once a batch reaches
// it (what lies beyond, the tail holds).
func (s *Server) replayUpTo(ctx context.Context, w *echo.Response, u chat.User, after, upTo int64) (int64, error) {
	s.metrics.EventLogReads.Inc()
	events, err := s.store.EventsVisible(ctx, u.ID, after, sseBatch)
	if err != nil {
		return after, err
	}
	rooms := map[int64]chat.Room{}
	for _, e := range events {
		if e.ID > upTo {
			break
		}
		room, ok := rooms[e.RoomID]
		if !ok {
			if room, err = s.store.RoomByID(ctx, e.RoomID); err != nil {
				return after, err
			}
			rooms[e.RoomID] = room
		}
		data, err := streamEvent(e, room)
		if err != nil {
			return after, err
		}
		if err := writeSSE(w, e.ID, eventType(e), data); err != nil {
			return after, err
		}
		after = e.ID
	}
	w.Flush()
	if len(events) < sseBatch || events[len(events)-1].ID >= upTo {
		after = max(after, upTo)
	}
	return after, nil
}

// eventsSince is the tail's read of the log, counted.
func (s *Server) eventsSince(ctx context.Context, after int64, limit int) ([]chat.Event, error) {
	s.metrics.EventLogReads.Inc()
	return s.store.EventsSince(ctx, after, limit)
}

// writeSSE writes one event. data is JSON, which has no raw newlines.
func writeSSE(w http.ResponseWriter, id int64, event string, data []byte) error {
	b := make([]byte, 0, len(data)+64)
	b = append(b, "id: "...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, "\nevent: "...)
	b = append(b, event...)
	b = append(b, "\ndata: "...)
	b = append(b, data...)
	b = append(b, "\n\n"...)
	_, err := w.Write(b)
	return err
}

// tokenStillWorks checks the request's token, and its user, again, for a
// long stream.
func (s *Server) tokenStillWorks(ctx context.Context, c echo.Context) bool {
	_, token, _ := strings.Cut(c.Request().Header.Get("Authorization"), " ")
	u, _, _, err := s.store.TokenUser(ctx, chat.HashToken(strings.TrimSpace(token)))
	return err == nil && s.admit(u) == nil
}
