package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/chat/jobs"
	"agora/views"
)

// Send later and reminders: a row of the store (chat.Scheduled) that the
// user sees and changes on /scheduled, and one job of the queue, due at its
// time, that runs it. At its time a message goes through send, the one
// message path, with a client id tied to the row, so a run repeated after a
// crash or on another node sends it once; a reminder is a message from the
// system account in the user's direct conversation with it, so it is
// pushed, emailed and counted like any direct message.

const (
	jobLater = "later"
	// laterAttempts is how often a run is tried (a full rate limit, a store
	// that did not answer): about 20 minutes with the runner's backoff.
	laterAttempts = 8
)

// laterClientID is the client id of the message row id becomes; noticeID
// that of the system account's message about it.
func laterClientID(id int64) string { return "later-" + strconv.FormatInt(id, 10) }
func noticeID(id int64) string      { return "later-notice-" + strconv.FormatInt(id, 10) }

func (s *Server) startLater() {
	s.jobs.Handle(jobLater, s.runLater)
}

// zoneKey carries the reader's zone (their browser's cookie) from the
// request or socket that asked, for times written without one.
type zoneKey struct{}

func withReaderZone(ctx context.Context, c echo.Context) context.Context {
	if loc, ok := readerZone(c); ok {
		return context.WithValue(ctx, zoneKey{}, loc)
	}
	return ctx
}

// zoneOf is the zone u's times are read and written in: their browser's,
// else the one kept with their notification settings, else UTC.
func (s *Server) zoneOf(ctx context.Context, u chat.User) *time.Location {
	if loc, ok := ctx.Value(zoneKey{}).(*time.Location); ok {
		return loc
	}
	if n, err := s.store.NotifySettings(ctx, u.ID); err == nil && n.Zone != "" && zoneName(n.Zone) {
		if loc, err := time.LoadLocation(n.Zone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// when writes t for its user: "Mon 7 Dec 15:04 (Europe/Paris)".
func when(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("Mon 2 Jan 2006 15:04") + " (" + loc.String() + ")"
}

// scheduleMessage checks a message to send in room at sendAt and stores it
// with its job. The checks are send's (membership, the body, the rate),
// done now so a refusal is told now; send asks them again at its time.
func (s *Server) scheduleMessage(ctx context.Context, u chat.User, room chat.Room, body, sendAt string) (chat.Scheduled, string, error) {
	loc := s.zoneOf(ctx, u)
	at, err := chat.ParseSendAt(sendAt, loc)
	if err != nil {
		return chat.Scheduled{}, "", err
	}
	if _, text, isCmd := chat.ParseCommand(body); isCmd {
		return chat.Scheduled{}, "", chat.Errorf(chat.EInvalid, "A command runs at once: clear the time to run it, or start with // to send a message that begins with /.")
	} else {
		body = text
	}
	a, err := s.accessTo(ctx, u, room)
	if err != nil {
		return chat.Scheduled{}, "", err
	}
	if !a.Post {
		return chat.Scheduled{}, "", a.deny("You are not a member of " + views.RoomTitle(room) + ".")
	}
	if _, err := chat.ValidateBody(chat.ReplaceShortcodes(body)); err != nil {
		return chat.Scheduled{}, "", err
	}
	if err := chat.CheckLaterTime(at, time.Now(), "This message"); err != nil {
		return chat.Scheduled{}, "", err
	}
	if !s.postLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		return chat.Scheduled{}, "", chat.Errorf(chat.ERateLimit, "You are sending messages too fast. Please wait a moment.")
	}
	sc, err := s.store.Schedule(ctx, chat.Scheduled{Kind: chat.ScheduledMessage, UserID: u.ID, RoomID: room.ID, Body: body, At: at},
		chat.Job{Kind: jobLater, MaxAttempts: laterAttempts})
	if err != nil {
		return chat.Scheduled{}, "", err
	}
	s.jobs.Wake()
	return sc, "Scheduled for " + when(at, loc) + ": see Scheduled (/scheduled) to edit or cancel it.", nil
}

// remind stores a reminder for u at at: of text, or of the message about.
func (s *Server) remind(ctx context.Context, u chat.User, at time.Time, text string, about int64) (string, error) {
	if !chat.MayHoldDMs(u) || u.IsBot {
		return "", chat.Errorf(chat.EInvalid, "Reminders come in a direct conversation with @%s, which guests and bots do not have.", chat.SystemName)
	}
	if !s.postLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		return "", chat.Errorf(chat.ERateLimit, "You are setting reminders too fast. Please wait a moment.")
	}
	if _, err := s.store.Schedule(ctx, chat.Scheduled{Kind: chat.ScheduledReminder, UserID: u.ID, AboutID: about, Body: text, At: at},
		chat.Job{Kind: jobLater, MaxAttempts: laterAttempts}); err != nil {
		return "", err
	}
	s.jobs.Wake()
	return "I will remind you on " + when(at, s.zoneOf(ctx, u)) + ", in your conversation with @" + chat.SystemName + ".", nil
}

// runLater runs one row at its time. A row cancelled since (gone) or run
// already (not pending) is nothing to do.
func (s *Server) runLater(ctx context.Context, j chat.Job) error {
	var p struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(j.Payload, &p); err != nil {
		return jobs.Permanent(fmt.Errorf("bad later job: %w", err))
	}
	sc, err := s.store.ScheduledByID(ctx, p.ID)
	if chat.ErrorCode(err) == chat.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if sc.State != chat.ScheduledPending {
		return nil
	}
	u, err := s.store.UserByID(ctx, sc.UserID)
	if chat.ErrorCode(err) == chat.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if sc.Kind == chat.ScheduledReminder {
		return s.sendReminder(ctx, u, sc)
	}
	return s.sendLater(ctx, u, sc)
}

// sendLater sends a scheduled message through send. A refusal that would
// be the same next time (not a member any more, the room archived or gone)
// fails the row, and the user is told why in their conversation with the
// system account; a full rate limit or a store error is tried again.
func (s *Server) sendLater(ctx context.Context, u chat.User, sc chat.Scheduled) error {
	room, err := s.store.RoomByID(ctx, sc.RoomID)
	if err == nil {
		var m chat.Message
		m, _, err = s.send(ctx, u, room, sc.Body, laterClientID(sc.ID), nil, inThread{})
		if err == nil {
			return s.store.FinishScheduled(ctx, sc.ID, chat.ScheduledSent, m.ID, "")
		}
	}
	switch chat.ErrorCode(err) {
	case chat.ERateLimit, chat.EInternal:
		return err
	}
	why := chat.ErrorMessage(err)
	if u.Deactivated {
		return s.store.FinishScheduled(ctx, sc.ID, chat.ScheduledFailed, 0, why)
	}
	where := "a room that is gone"
	if room.ID != 0 {
		where = views.RoomTitle(room)
	}
	notice := fmt.Sprintf("Your message to %s, scheduled for %s, was not sent: %s Its text is kept on /scheduled.",
		where, when(sc.At, s.zoneOf(ctx, u)), why)
	if _, err := s.tell(ctx, u, notice, noticeID(sc.ID)); err != nil {
		return err
	}
	return s.store.FinishScheduled(ctx, sc.ID, chat.ScheduledFailed, 0, why)
}

// sendReminder tells u of their reminder. A reminder about a message says
// whose and where, and links it, if u may still read it.
func (s *Server) sendReminder(ctx context.Context, u chat.User, sc chat.Scheduled) error {
	if u.Deactivated {
		return s.store.FinishScheduled(ctx, sc.ID, chat.ScheduledFailed, 0, "The account is deactivated.")
	}
	body := "⏰ Reminder: " + sc.Body
	if sc.AboutID != 0 || sc.Body == "" {
		body = "⏰ Reminder about a message that was deleted since, or that you can no longer read."
		if m, err := s.store.MessageByID(ctx, sc.AboutID); err == nil && m.DeletedAt.IsZero() {
			if room, err := s.store.RoomByID(ctx, m.RoomID); err == nil {
				if a, err := s.accessTo(ctx, u, room); err == nil && a.Read {
					body = "⏰ Reminder about a message of @" + m.AuthorName + " in " + views.RoomTitle(room) + ":\n> " +
						strings.ReplaceAll(excerpt(m.Body, 300), "\n", "\n> ")
					if s.publicURL != "" {
						body += "\n" + s.publicURL + "/messages/" + strconv.FormatInt(m.ID, 10)
					}
				}
			}
		}
	}
	m, err := s.tell(ctx, u, body, noticeID(sc.ID))
	if err != nil {
		return err
	}
	return s.store.FinishScheduled(ctx, sc.ID, chat.ScheduledSent, m.ID, "")
}

// excerpt is the first n characters of s, marked when cut.
func excerpt(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// tell sends u a message from the system account in their direct
// conversation with it (opened again if they left it), through send, so it
// is pushed and counted as any direct message; clientID makes it once.
func (s *Server) tell(ctx context.Context, u chat.User, body, clientID string) (chat.Message, error) {
	sys, err := s.store.SystemAccount(ctx, chat.SystemName)
	if err != nil {
		return chat.Message{}, err
	}
	room, err := s.reopenDM(ctx, u, sys)
	if err != nil {
		return chat.Message{}, err
	}
	m, _, err := s.send(ctx, sys, room, body, clientID, nil, inThread{})
	return m, err
}

// ---- The composer's send_at, and the page of what is scheduled ----------

// postLater is the room form with a send_at: the room again with what was
// scheduled, or with the reason and the text kept.
func (s *Server) postLater(c echo.Context, u chat.User, a access) error {
	ctx := withReaderZone(c.Request().Context(), c)
	body := c.FormValue("body")
	var said string
	var err error
	if c.FormValue("thread_id") != "" {
		err = chat.Errorf(chat.EInvalid, "A reply in a thread is sent at once: clear the time to send it.")
	} else {
		_, said, err = s.scheduleMessage(ctx, u, a.room, body, c.FormValue("send_at"))
	}
	switch code := chat.ErrorCode(err); code {
	case "":
	case chat.EInvalid, chat.ERateLimit:
		return s.renderRoom(c, statusOf[code], u, a, window{}, strings.ToValidUTF8(body, "\uFFFD"), chat.ErrorMessage(err))
	default:
		return err
	}
	if isHTMX(c) {
		return c.NoContent(http.StatusNoContent)
	}
	return s.adminDone(c, "/rooms/"+a.room.Slug, said)
}

func (s *Server) handleScheduled(c echo.Context) error {
	return s.renderScheduled(c, http.StatusOK, s.takeFlash(c), 0, "")
}

// renderScheduled shows the user's scheduled messages and reminders; failed
// (with its id) is the row whose edit was refused, and why.
func (s *Server) renderScheduled(c echo.Context, status int, said string, failed int64, why string) error {
	u, _ := userFrom(c)
	ctx := c.Request().Context()
	list, err := s.store.ScheduledOf(ctx, u.ID)
	if err != nil {
		return err
	}
	p, err := s.page(c, "Scheduled", 0)
	if err != nil {
		return err
	}
	return render(c, status, views.ScheduledPage(p, views.ScheduledView{List: list, Zone: s.zoneOf(withReaderZone(ctx, c), u),
		Said: said, Failed: failed, Error: why}))
}

func scheduledID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, chat.Errorf(chat.ENotFound, "There is no such scheduled message or reminder.")
	}
	return id, nil
}

// editScheduled checks and stores a new text and time for row id of u's.
func (s *Server) editScheduled(ctx context.Context, u chat.User, id int64, body, sendAt string) (chat.Scheduled, error) {
	sc, err := s.store.ScheduledByID(ctx, id)
	if err != nil || sc.UserID != u.ID {
		return chat.Scheduled{}, chat.Errorf(chat.ENotFound, "There is no such scheduled message or reminder of yours.")
	}
	loc := s.zoneOf(ctx, u)
	at := sc.At
	if strings.TrimSpace(sendAt) != "" {
		if at, err = chat.ParseSendAt(sendAt, loc); err != nil {
			return chat.Scheduled{}, err
		}
	}
	if sc.Kind == chat.ScheduledMessage || sc.AboutID == 0 {
		if _, err := chat.ValidateBody(chat.ReplaceShortcodes(body)); err != nil {
			return chat.Scheduled{}, err
		}
	} else {
		body = sc.Body
	}
	what := map[string]string{chat.ScheduledMessage: "This message", chat.ScheduledReminder: "This reminder"}[sc.Kind]
	if err := chat.CheckLaterTime(at, time.Now(), what); err != nil {
		return chat.Scheduled{}, err
	}
	return s.store.EditScheduled(ctx, u.ID, id, body, at)
}

func (s *Server) handleEditScheduled(c echo.Context) error {
	u, _ := userFrom(c)
	id, err := scheduledID(c)
	if err != nil {
		return err
	}
	ctx := withReaderZone(c.Request().Context(), c)
	sc, err := s.editScheduled(ctx, u, id, c.FormValue("body"), c.FormValue("send_at"))
	switch code := chat.ErrorCode(err); code {
	case "":
	case chat.EInvalid, chat.EConflict:
		return s.renderScheduled(c, statusOf[code], "", id, chat.ErrorMessage(err))
	default:
		return err
	}
	return s.adminDone(c, "/scheduled", "Changed: now "+when(sc.At, s.zoneOf(ctx, u))+".")
}

func (s *Server) handleCancelScheduled(c echo.Context) error {
	u, _ := userFrom(c)
	id, err := scheduledID(c)
	if err != nil {
		return err
	}
	err = s.store.CancelScheduled(c.Request().Context(), u.ID, id)
	if code := chat.ErrorCode(err); code == chat.EConflict {
		return s.renderScheduled(c, statusOf[code], "", id, chat.ErrorMessage(err))
	} else if err != nil {
		return err
	}
	return s.adminDone(c, "/scheduled", "Cancelled.")
}

// handleRemindMessage is the message menu's "Remind me": field in.
func (s *Server) handleRemindMessage(c echo.Context) error {
	u, _ := userFrom(c)
	m, a, err := s.messageAccess(c, u)
	if err != nil {
		return err
	}
	ctx := withReaderZone(c.Request().Context(), c)
	said, err := s.remindOf(ctx, u, m, c.FormValue("in"))
	if err != nil {
		return err
	}
	if isHTMX(c) {
		return s.renderMenu(c, u, m, a, said)
	}
	return s.adminDone(c, "/rooms/"+a.room.Slug, said)
}

// remindOf sets a reminder of m, which u may read, in the menu's terms.
func (s *Server) remindOf(ctx context.Context, u chat.User, m chat.Message, in string) (string, error) {
	if m.Kind != chat.MessageText || !m.DeletedAt.IsZero() {
		return "", chat.Errorf(chat.EInvalid, "Only a message can be the subject of a reminder.")
	}
	at, err := chat.RemindIn(in, time.Now(), s.zoneOf(ctx, u))
	if err != nil {
		return "", err
	}
	return s.remind(ctx, u, at, "", m.ID)
}

// ---- The API ----------------------------------------------------------

// apiScheduled is a scheduled message or reminder in the API.
type apiScheduled struct {
	ID      int64  `json:"id"`
	Kind    string `json:"kind"`           // "message" or "reminder"
	Room    string `json:"room,omitempty"` // a message's room's slug
	About   int64  `json:"about,omitempty"`
	Body    string `json:"body"`
	SendAt  string `json:"send_at"` // RFC 3339
	State   string `json:"state"`   // "pending" or "failed"
	Error   string `json:"error,omitempty"`
	Created string `json:"created_at"`
}

func toAPIScheduled(sc chat.Scheduled, room chat.Room) apiScheduled {
	return apiScheduled{ID: sc.ID, Kind: sc.Kind, Room: room.Slug, About: sc.AboutID, Body: sc.Body, SendAt: sc.At.Format(time.RFC3339),
		State: sc.State, Error: sc.Error, Created: sc.Created.Format(time.RFC3339)}
}

// postAPILater schedules an API post with send_at: 202 and the row.
func (s *Server) postAPILater(c echo.Context, u chat.User, room chat.Room, in apiPost) error {
	if in.ThreadID != 0 {
		return chat.Errorf(chat.EInvalid, "A reply in a thread is sent at once: leave out send_at.")
	}
	sc, _, err := s.scheduleMessage(c.Request().Context(), u, room, *in.Body, in.SendAt)
	if chat.ErrorCode(err) == chat.ERateLimit {
		return tooFast(c, s.postLimits.Delay(strconv.FormatInt(u.ID, 10)), chat.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, toAPIScheduled(sc, room))
}

func (s *Server) handleAPIScheduled(c echo.Context) error {
	u, _ := userFrom(c)
	list, err := s.store.ScheduledOf(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	out := struct {
		Scheduled []apiScheduled `json:"scheduled"`
	}{Scheduled: make([]apiScheduled, 0, len(list))}
	for _, sc := range list {
		out.Scheduled = append(out.Scheduled, toAPIScheduled(sc, sc.Room))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) handleAPIEditScheduled(c echo.Context) error {
	u, _ := userFrom(c)
	id, err := scheduledID(c)
	if err != nil {
		return err
	}
	var in struct {
		Body   *string `json:"body"`
		SendAt string  `json:"send_at"`
	}
	if err := readJSON(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	old, err := s.store.ScheduledByID(ctx, id)
	if err != nil || old.UserID != u.ID {
		return chat.Errorf(chat.ENotFound, "There is no such scheduled message or reminder of yours.")
	}
	body := old.Body
	if in.Body != nil {
		body = *in.Body
	}
	sc, err := s.editScheduled(ctx, u, id, body, in.SendAt)
	if err != nil {
		return err
	}
	room, _ := s.store.RoomByID(ctx, sc.RoomID)
	return c.JSON(http.StatusOK, toAPIScheduled(sc, room))
}

func (s *Server) handleAPICancelScheduled(c echo.Context) error {
	u, _ := userFrom(c)
	id, err := scheduledID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	sc, err := s.store.ScheduledByID(ctx, id)
	if err != nil || sc.UserID != u.ID {
		return chat.Errorf(chat.ENotFound, "There is no such scheduled message or reminder of yours.")
	}
	if err := s.store.CancelScheduled(ctx, u.ID, id); err != nil {
		return err
	}
	// What was cancelled, as it was.
	room, _ := s.store.RoomByID(ctx, sc.RoomID)
	return c.JSON(http.StatusOK, toAPIScheduled(sc, room))
}

func (s *Server) handleAPIRemind(c echo.Context) error {
	u, m, _, err := s.apiMessageFor(c)
	if err != nil {
		return err
	}
	var in struct {
		In string `json:"in"`
	}
	if err := readJSON(c, &in); err != nil {
		return err
	}
	said, err := s.remindOf(c.Request().Context(), u, m, in.In)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]string{"said": said})
}
