package handlers

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/views"
)

// Status: what people say of themselves (text, emoji, do not disturb for a
// while, away), and whether they are active: a person none of whose devices
// did anything for chat.AwayAfter shows as away. The store keeps it all, so
// every node tells the same; each node keeps a book of it for the people it
// shows, refreshed from the store every statusEvery0, and sends a frame
// wherever someone is shown when how they show changed.

const (
	// statusEvery0 is how often a node reads the statuses of the people
	// online (unless Config.StatusEvery says): how late another node's
	// change, or a turn to away, shows.
	statusEvery0 = 30 * time.Second
	// activeEvery is how often one person's activity is written to the
	// store: often enough for the ten minutes of chat.AwayAfter.
	activeEvery = time.Minute
)

// statusBook is this node's knowledge of people's statuses.
type statusBook struct {
	now   func() time.Time
	mu    sync.Mutex
	st    map[int64]chat.Status
	shown map[int64]chat.Presence // as last sent, for those online
	wrote map[int64]time.Time     // when each one's activity was last written
}

func newStatusBook(now func() time.Time) *statusBook {
	if now == nil {
		now = time.Now
	}
	return &statusBook{now: now, st: make(map[int64]chat.Status), shown: make(map[int64]chat.Presence), wrote: make(map[int64]time.Time)}
}

// presence is how u shows now. It never waits on the store: the hub asks it
// under its lock.
func (b *statusBook) presence(u chat.User, online bool) chat.Presence {
	b.mu.Lock()
	st := b.st[u.ID]
	b.mu.Unlock()
	return st.Presence(online, b.now())
}

// learn takes statuses read from the store, keeping activity seen here
// that the store has not been told of yet.
func (b *statusBook) learn(sts map[int64]chat.Status, ids []int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, id := range ids {
		st := sts[id]
		if old := b.st[id]; old.ActiveAt.After(st.ActiveAt) {
			st.ActiveAt = old.ActiveAt
		}
		b.st[id] = st
	}
}

// withPresence sets how each user shows, reading from the store the
// statuses the book lacks.
func (s *Server) withPresence(ctx context.Context, users []chat.User, online func(id int64) bool) []chat.User {
	var missing []int64
	s.status.mu.Lock()
	for _, u := range users {
		if _, ok := s.status.st[u.ID]; !ok {
			missing = append(missing, u.ID)
		}
	}
	s.status.mu.Unlock()
	if len(missing) > 0 {
		sts, err := s.store.Statuses(ctx, missing)
		if err != nil {
			s.log.Error("read statuses", "err", err)
		} else {
			s.status.learn(sts, missing)
		}
	}
	out := make([]chat.User, len(users))
	for i, u := range users {
		u.Presence = s.status.presence(u, online(u.ID))
		out[i] = u
	}
	return out
}

// touchActive records that one of u's devices did something now. A person
// who showed as away for want of activity shows as active at once.
func (s *Server) touchActive(ctx context.Context, u chat.User) {
	now := s.status.now()
	b := s.status
	b.mu.Lock()
	st := b.st[u.ID]
	wasIdle := !st.Away && !st.DND(now) && now.Sub(st.ActiveAt) >= chat.AwayAfter
	st.ActiveAt = now
	b.st[u.ID] = st
	write := now.Sub(b.wrote[u.ID]) >= activeEvery
	if write {
		b.wrote[u.ID] = now
	}
	b.mu.Unlock()
	if write {
		if err := s.store.TouchActive(context.WithoutCancel(ctx), u.ID, now); err != nil {
			s.log.Error("record activity", "user", u.Username, "err", err)
		}
	}
	if wasIdle {
		s.publishShown([]chat.User{u})
	}
}

// publishShown sends a frame for each of the users whose looks changed
// since last sent.
func (s *Server) publishShown(users []chat.User) {
	for _, u := range users {
		p := s.status.presence(u, true)
		s.status.mu.Lock()
		old, seen := s.status.shown[u.ID]
		s.status.shown[u.ID] = p
		s.status.mu.Unlock()
		if seen && old == p {
			continue
		}
		u.Presence = p
		s.hub.StatusChanged(u.ID, fragment(views.StatusChange(u, true)), fragment(views.StatusChange(u, false)))
	}
}

// watchStatuses reads the statuses of the people online every so often
// and sends what changed, until ctx ends.
func (s *Server) watchStatuses(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.sweepStatuses(ctx)
		}
	}
}

func (s *Server) sweepStatuses(ctx context.Context) {
	users := s.hub.OnlineUsers()
	if len(users) == 0 {
		return
	}
	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	sts, err := s.store.Statuses(ctx, ids)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("read statuses", "err", err)
		}
		return
	}
	s.status.learn(sts, ids)
	s.publishShown(users)
}

// statusEvent is told of every per-user event, from this node or another:
// a change of someone's status is shown wherever this node shows them, at
// once rather than at the next sweep.
func (s *Server) statusEvent(ev chat.UserEvent) {
	if ev.Kind == chat.UserStatus {
		go s.refreshStatus(ev.UserID)
	}
}

// refreshStatus reads one person's status from the store (never on the
// relay's or the hub's goroutine) and shows them as it says: after a
// change of status, or as they come online on another node, whose
// activity this node knows only from the store.
func (s *Server) refreshStatus(userID int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := s.store.Status(ctx, userID)
	if err != nil {
		s.log.Error("read a status", "user", userID, "err", err)
		return
	}
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		s.log.Error("read a status", "user", userID, "err", err)
		return
	}
	s.status.learn(map[int64]chat.Status{u.ID: st}, []int64{u.ID})
	s.publishShown([]chat.User{u})
}

// StatusChange is a change of status; nil fields stay as they are.
type StatusChange struct {
	Text, Emoji *string
	// DND turns do-not-disturb on for this long from now; 0 turns it off.
	DND *time.Duration
	// Away: away by the person's word (true) or back (false).
	Away *bool
}

// SetStatus changes u's status and shows it everywhere u is shown. Bad
// values are EInvalid, and nothing changes. (The slash commands /away,
// /dnd and /status call it too.)
func (s *Server) SetStatus(ctx context.Context, u chat.User, ch StatusChange) (chat.Status, error) {
	if u.IsGuest || u.IsBot {
		return chat.Status{}, chat.Errorf(chat.EForbidden, "Guests and bots have no status.")
	}
	// Each change is a frame to every room the person is shown in.
	if !s.statusLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		return chat.Status{}, chat.Errorf(chat.ERateLimit, "You changed your status many times just now. Please wait a moment.")
	}
	st, err := s.store.Status(ctx, u.ID)
	if err != nil {
		return chat.Status{}, err
	}
	text, emoji := st.Text, st.Emoji
	if ch.Text != nil {
		text = *ch.Text
	}
	if ch.Emoji != nil {
		emoji = *ch.Emoji
	}
	if st.Text, st.Emoji, err = chat.ValidateStatus(text, emoji); err != nil {
		return chat.Status{}, err
	}
	now := s.status.now()
	if ch.DND != nil {
		switch d := *ch.DND; {
		case d < 0 || d > chat.MaxDND:
			return chat.Status{}, chat.Errorf(chat.EInvalid, "Do not disturb lasts from 1 minute to 7 days (0 turns it off).")
		case d == 0:
			st.DNDUntil = time.Time{}
		default:
			st.DNDUntil = now.Add(d)
		}
	}
	if ch.Away != nil {
		st.Away = *ch.Away
	}
	if err := s.store.SetStatus(ctx, u.ID, st); err != nil {
		return chat.Status{}, err
	}
	s.status.mu.Lock()
	if local := s.status.st[u.ID].ActiveAt; local.After(st.ActiveAt) {
		st.ActiveAt = local
	}
	if ch.Away != nil && !st.Away {
		st.ActiveAt = now // saying "back" is doing something
	}
	s.status.st[u.ID] = st
	s.status.mu.Unlock()
	s.publishShown([]chat.User{u})
	return st, nil
}

// handleSetStatus is the status form: status_text, status_emoji,
// dnd_minutes (0 clears; empty leaves it), away (on, or off).
func (s *Server) handleSetStatus(c echo.Context) error {
	u, _ := userFrom(c)
	ch, err := statusForm(c.FormValue)
	if err == nil {
		_, err = s.SetStatus(c.Request().Context(), u, ch)
	}
	if code := chat.ErrorCode(err); code == chat.EInvalid || code == chat.EForbidden || code == chat.ERateLimit {
		return s.renderProfile(c, statusOf[code], profileForm{name: u.DisplayName, status: views.StatusForm{Error: chat.ErrorMessage(err)}})
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/settings/profile?status=saved")
}

// statusForm reads a status change from form (or API) fields.
func statusForm(value func(string) string) (StatusChange, error) {
	var ch StatusChange
	text, emoji := value("status_text"), value("status_emoji")
	ch.Text, ch.Emoji = &text, &emoji
	if v := strings.TrimSpace(value("dnd_minutes")); v != "" {
		m, err := strconv.Atoi(v)
		if err != nil || m < 0 || time.Duration(m)*time.Minute > chat.MaxDND {
			return ch, chat.Errorf(chat.EInvalid, "Do not disturb is a whole number of minutes, up to 7 days (0 turns it off).")
		}
		d := time.Duration(m) * time.Minute
		ch.DND = &d
	}
	switch v := value("away"); v {
	case "":
	case "on", "true", "1":
		away := true
		ch.Away = &away
	case "off", "false", "0":
		away := false
		ch.Away = &away
	default:
		return ch, chat.Errorf(chat.EInvalid, "Away is on or off.")
	}
	return ch, nil
}

// handleRoomNotify sets the member's notification level for the room.
func (s *Server) handleRoomNotify(c echo.Context) error {
	u, _ := userFrom(c)
	a, err := s.pathAccess(c, u)
	if err != nil {
		return err
	}
	if !a.member {
		return chat.Errorf(chat.ENotFound, "You are not a member of this room: join it first.")
	}
	level := c.FormValue("level")
	if err := chat.ValidNotifyLevel(level); err != nil {
		return err
	}
	if err := s.store.SetRoomNotify(c.Request().Context(), a.room.ID, u.ID, level); err != nil {
		return err
	}
	if isHTMX(c) {
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, "/rooms/"+a.room.Slug)
}

// apiStatus is a status as the API shows it.
type apiStatus struct {
	Text     string     `json:"status_text"`
	Emoji    string     `json:"status_emoji"`
	DNDUntil *time.Time `json:"dnd_until"`
	Away     bool       `json:"away"`
	State    string     `json:"state"`
}

func (s *Server) apiStatusOf(u chat.User, st chat.Status) apiStatus {
	out := apiStatus{Text: st.Text, Emoji: st.Emoji, Away: st.Away}
	if st.DND(s.status.now()) {
		t := st.DNDUntil.UTC()
		out.DNDUntil = &t
	}
	online := s.hub.OnlineSet([]int64{u.ID})[u.ID]
	out.State = s.status.presence(u, online).State
	return out
}

func (s *Server) handleAPIStatus(c echo.Context) error {
	u, _ := userFrom(c)
	st, err := s.store.Status(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	s.status.learn(map[int64]chat.Status{u.ID: st}, []int64{u.ID})
	return c.JSON(http.StatusOK, s.apiStatusOf(u, st))
}

// handleAPISetStatus takes {"status_text", "status_emoji", "dnd_minutes",
// "away"}; a field left out stays as it is.
func (s *Server) handleAPISetStatus(c echo.Context) error {
	u, _ := userFrom(c)
	var body struct {
		Text       *string `json:"status_text"`
		Emoji      *string `json:"status_emoji"`
		DNDMinutes *int    `json:"dnd_minutes"`
		Away       *bool   `json:"away"`
	}
	if err := readJSON(c, &body); err != nil {
		return err
	}
	if err := s.writeAllowed(c); err != nil {
		return err
	}
	ch := StatusChange{Text: body.Text, Emoji: body.Emoji, Away: body.Away}
	if body.DNDMinutes != nil {
		if *body.DNDMinutes < 0 || time.Duration(*body.DNDMinutes)*time.Minute > chat.MaxDND {
			return chat.Errorf(chat.EInvalid, "dnd_minutes is from 0 (off) to 10080 (7 days).")
		}
		d := time.Duration(*body.DNDMinutes) * time.Minute
		ch.DND = &d
	}
	st, err := s.SetStatus(c.Request().Context(), u, ch)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.apiStatusOf(u, st))
}

// handleAPIRoomNotify takes {"level"}: the member's notification level.
func (s *Server) handleAPIRoomNotify(c echo.Context) error {
	u, _ := userFrom(c)
	var body struct {
		Level string `json:"level"`
	}
	if err := readJSON(c, &body); err != nil {
		return err
	}
	if err := s.writeAllowed(c); err != nil {
		return err
	}
	a, err := s.pathAccess(c, u)
	if err != nil {
		return err
	}
	if !a.member {
		return chat.Errorf(chat.ENotFound, "You are not a member of this room: join it first.")
	}
	if err := s.store.SetRoomNotify(c.Request().Context(), a.room.ID, u.ID, body.Level); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"level": body.Level})
}
