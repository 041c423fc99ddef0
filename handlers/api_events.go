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
// that I may read" is the whole state of a stream. A stream wakes when the
// hub is given any room event (on every node, from the broker), reads what
// is new from the store, and sends it; reconnecting with Last-Event-ID
// resumes after that id, nothing lost and nothing twice.

const (
	sseBatch     = 200
	sseKeepalive = 15 * time.Second
	// sseMaxBehind is how many events (in all rooms) a reconnecting stream
	// may have missed and still be caught up event by event; further behind,
	// it is told to resync (read the rooms afresh) and goes on from now.
	sseMaxBehind = 10000
)

// streams wakes the open event streams when a room event arrives, and ends
// those a close concerns (see end).
type streams struct {
	mu   sync.Mutex
	open map[*stream]struct{}
	done chan struct{} // closed at shutdown: streams end
	once sync.Once
}

// stream is one open GET /api/v1/events: its user, its token, a signal to
// look for new events, and one to end.
type stream struct {
	user, token int64
	wake        chan struct{}
	end         chan struct{}
	ending      sync.Once
}

func newStreams() *streams {
	return &streams{open: make(map[*stream]struct{}), done: make(chan struct{})}
}

func (st *streams) subscribe(user, token int64) *stream {
	s := &stream{user: user, token: token, wake: make(chan struct{}, 1), end: make(chan struct{})}
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

// wake never blocks: a stream that is already due to look keeps one signal.
func (st *streams) wake(int64, int64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for s := range st.open {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// end ends the streams a close of sockets concerns, as the hub is told of
// it on this node or from another: a user's (deactivated) and a token's
// (revoked) streams end at once. A user removed from a room stays, reading
// no more of it: each look asks the store what the user may read now.
func (st *streams) end(e live.Ended) {
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

	rooms := map[int64]chat.Room{}
	keepalive := time.NewTicker(sseKeepalive)
	defer keepalive.Stop()
	for {
		select {
		case <-st.end:
			return nil // ended while it was sending: nothing more goes out
		default:
		}
		events, err := s.store.EventsVisible(ctx, u.ID, after, sseBatch)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("event stream", "id", requestID(c), "user", u.Username, "err", err)
			}
			return nil // the answer has begun: the client reconnects with its last id
		}
		for _, e := range events {
			room, ok := rooms[e.RoomID]
			if !ok {
				if room, err = s.store.RoomByID(ctx, e.RoomID); err != nil {
					return nil
				}
				rooms[e.RoomID] = room
			}
			data, err := json.Marshal(apiEvent{ID: e.ID, Type: eventType(e), Seq: e.Seq,
				Room:    apiRoom{Slug: room.Slug, Name: room.Name, Private: room.Private, Kind: room.Kind, Member: true},
				Message: toAPIMessage(e.Message, room)})
			if err != nil {
				return nil
			}
			if err := writeSSE(w, e.ID, eventType(e), data); err != nil {
				return nil
			}
			after = e.ID
		}
		if len(events) > 0 {
			w.Flush()
		}
		if len(events) == sseBatch {
			continue
		}
		select {
		case <-st.wake:
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
