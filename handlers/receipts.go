package handlers

import (
	"context"
	"net/http"
	"strconv"
	"sync"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/views"
)

// readReceipts carries reads to the pages that show them. The hub tells it
// of every read, from this node or another (the relay brings them), and
// must not wait: a read is noted here, and one goroutine (carryReceipts)
// works them out, a room at a time, so that the reads of a room that come
// together cost one look at the store and one small frame.
type readReceipts struct {
	mu      sync.Mutex
	pending map[int64]map[int64]int64 // room -> reader -> how far
	wake    chan struct{}
}

func newReadReceipts() *readReceipts {
	return &readReceipts{pending: make(map[int64]map[int64]int64), wake: make(chan struct{}, 1)}
}

// note keeps a read for the worker. A read of a room nobody here has open
// is no one's news here.
func (rr *readReceipts) note(ev chat.UserEvent, open func(roomID int64) bool) {
	if ev.Kind != chat.UserRead || !open(ev.RoomID) {
		return
	}
	rr.mu.Lock()
	readers := rr.pending[ev.RoomID]
	if readers == nil {
		readers = make(map[int64]int64)
		rr.pending[ev.RoomID] = readers
	}
	readers[ev.UserID] = max(readers[ev.UserID], ev.UpTo)
	rr.mu.Unlock()
	select {
	case rr.wake <- struct{}{}:
	default:
	}
}

func (rr *readReceipts) take() map[int64]map[int64]int64 {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	batch := rr.pending
	rr.pending = make(map[int64]map[int64]int64)
	return batch
}

// carryReceipts sends the noted reads to the rooms' sockets until ctx ends.
func (s *Server) carryReceipts(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.receipts.wake:
		}
		for roomID, readers := range s.receipts.take() {
			if err := s.sendReceipts(ctx, roomID, readers); err != nil && ctx.Err() == nil {
				s.log.Error("send read receipts", "room", roomID, "err", err)
			}
		}
	}
}

// sendReceipts sends the sockets of the room what the reads change: in a
// direct conversation "Seen" moves under the message the reader got to (for
// the other person); in a small room, those who read the last message join
// its "Seen by". Only members who show their reads see them.
func (s *Server) sendReceipts(ctx context.Context, roomID int64, readers map[int64]int64) error {
	room, err := s.store.RoomByID(ctx, roomID)
	if err != nil {
		return err
	}
	r, err := s.store.Receipts(ctx, roomID)
	if err != nil || !r.Shown() {
		return err
	}
	on := make(map[int64]bool, len(r.Readers))
	for _, x := range r.Readers {
		on[x.User.ID] = x.Receipts
	}
	if room.IsDM() {
		for id := range readers {
			x, ok := r.Reader(id)
			if !ok || !x.Receipts || x.Seen == 0 {
				continue
			}
			s.hub.PublishTo(roomID, fragment(views.SeenMoved(x.Seen)), func(viewer int64) bool { return viewer != id && on[viewer] })
		}
		return nil
	}
	seen := r.SeenBy()
	var fresh []chat.User
	for _, u := range seen {
		if upTo, ok := readers[u.ID]; ok && upTo >= r.LastID {
			fresh = append(fresh, u)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	f := views.SeenByMore(len(seen), fresh)
	if len(fresh) == len(seen) {
		f = views.SeenByFirst(r.LastID, seen)
	}
	s.hub.PublishTo(roomID, fragment(f), func(viewer int64) bool { return on[viewer] })
	return nil
}

// pageReceipts puts on a room page what its reader sees of reads: nothing
// in a large room, or for someone who turned receipts off.
func (s *Server) pageReceipts(ctx context.Context, v *views.RoomView, room chat.Room, me int64) error {
	r, err := s.store.Receipts(ctx, room.ID)
	if err != nil {
		return err
	}
	mine, ok := r.Reader(me)
	if !r.Shown() || !ok || !mine.Receipts {
		return nil
	}
	v.ReadSignal = true
	if room.IsDM() {
		v.Seen = r.SeenOf(me)
	} else if n := len(v.Messages); n > 0 && v.Messages[n-1].ID == r.LastID {
		v.SeenBy = r.SeenBy()
	}
	return nil
}

// readSignal is a page's word that it was read up to upTo (a message id):
// its read marker moves there, and so the receipts others see.
func (s *Server) readSignal(ctx context.Context, u chat.User, room chat.Room, upTo string) error {
	id, err := strconv.ParseInt(upTo, 10, 64)
	if err != nil || id <= 0 {
		return chat.Errorf(chat.EInvalid, "up_to must be a message id.")
	}
	a, err := s.accessTo(ctx, u, room)
	if err != nil {
		return err
	}
	if !a.member {
		return a.deny("not a member")
	}
	// A position past the room's last message moves nothing (MarkRead).
	_, err = s.store.MarkRead(ctx, room.ID, u.ID, id)
	return err
}

func (s *Server) handlePrivacyPage(c echo.Context) error {
	return s.renderPrivacy(c, http.StatusOK, s.takeFlash(c), "")
}

func (s *Server) renderPrivacy(c echo.Context, status int, ok, errMsg string) error {
	u, _ := userFrom(c)
	on, err := s.store.ReadReceipts(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	p, err := s.page(c, "Privacy", 0)
	if err != nil {
		return err
	}
	return render(c, status, views.PrivacyPage(p, on, ok, errMsg))
}

// handleSetPrivacy turns read receipts on or off (read_receipts=on|off):
// off, the user's reads are not shown to others, nor others' to them.
func (s *Server) handleSetPrivacy(c echo.Context) error {
	u, _ := userFrom(c)
	var on bool
	switch c.FormValue("read_receipts") {
	case "on":
		on = true
	case "off":
	default:
		return s.renderPrivacy(c, http.StatusUnprocessableEntity, "", "Read receipts are on or off.")
	}
	if err := s.store.SetReadReceipts(c.Request().Context(), u.ID, on); err != nil {
		return err
	}
	return s.flashTo(c, "/settings/privacy", "Saved.")
}

// handleAPIRead takes {"up_to"}: the caller (a member) has read the room up
// to that message, the newest when it is 0 or absent. Its answer is where
// the read marker stands.
func (s *Server) handleAPIRead(c echo.Context) error {
	u, _ := userFrom(c)
	var body struct {
		UpTo int64 `json:"up_to"`
	}
	if err := readJSON(c, &body); err != nil {
		return err
	}
	if err := s.writeAllowed(c); err != nil {
		return err
	}
	a, err := s.apiMemberOf(c, u)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	latest, err := s.store.LatestID(ctx, a.room.ID)
	if err != nil {
		return err
	}
	switch {
	case body.UpTo < 0:
		return chat.Errorf(chat.EInvalid, "up_to is a message id.")
	case body.UpTo > latest:
		return chat.Errorf(chat.EInvalid, "up_to is past the room's last message (%d).", latest)
	case body.UpTo == 0:
		body.UpTo = latest
	}
	prev, err := s.store.MarkRead(ctx, a.room.ID, u.ID, body.UpTo)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int64{"up_to": max(prev, body.UpTo)})
}

// apiReads is who has read a room how far, as a member who shows their
// reads sees it: empty in a room of more than 50 members.
type apiReads struct {
	LastMessageID int64     `json:"last_message_id"`
	Shown         bool      `json:"shown"` // false: a large room, or the caller turned receipts off
	Reads         []apiRead `json:"reads"`
}

type apiRead struct {
	Username string `json:"username"`
	UpTo     int64  `json:"up_to"`
}

func (s *Server) handleAPIReads(c echo.Context) error {
	u, _ := userFrom(c)
	a, err := s.apiMemberOf(c, u)
	if err != nil {
		return err
	}
	r, err := s.store.Receipts(c.Request().Context(), a.room.ID)
	if err != nil {
		return err
	}
	out := apiReads{LastMessageID: r.LastID, Reads: []apiRead{}}
	if mine, ok := r.Reader(u.ID); ok && mine.Receipts && r.Shown() {
		out.Shown = true
		for _, x := range r.Readers {
			if x.Receipts && x.User.ID != u.ID {
				out.Reads = append(out.Reads, apiRead{Username: x.User.Username, UpTo: x.UpTo})
			}
		}
	}
	return c.JSON(http.StatusOK, out)
}

// apiMemberOf is the caller's access to the room of the path, which they
// must be a member of: reads are members' alone.
func (s *Server) apiMemberOf(c echo.Context, u chat.User) (access, error) {
	a, err := s.pathAccess(c, u)
	if err == nil && !a.member {
		err = chat.Errorf(chat.ENotFound, "You are not a member of this room: join it first.")
	}
	return a, err
}
