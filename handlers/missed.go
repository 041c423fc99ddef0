package handlers

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/chat/jobs"
	agoramail "agora/chat/mail"
	"agora/views"
	"agora/views/locale"
)

// The missed-activity email: a mention or direct message still unread
// after the user's delay is emailed, with everything else they have not
// read, in one email. Sending the message only adds a job per person it
// concerns, due after their delay; the job reads what is unread then, so
// what was read in time is never emailed, and marks what it emailed so
// nothing is emailed twice.

const (
	jobMissed = "missed"
	// missedGrace is the least wait, for a delay of 0: long enough for a
	// reader who has the conversation open to have read it.
	missedGrace = 5 * time.Second
	// missedMost is the most messages one email lists.
	missedMost = 50
)

type missedJob struct {
	User int64 `json:"user"`
}

// queueMissed adds a missed-activity job for each member a new message
// concerns who wants one (the notify job calls it). Jobs of one person due
// close together are one: the first gathers what the others would.
func (s *Server) queueMissed(ctx context.Context, m chat.Message, room chat.Room) error {
	if s.mail == nil || m.Kind != chat.MessageText {
		return nil
	}
	// A member of a mentioned group is mentioned too.
	who, err := s.store.EmailRecipients(ctx, room.ID, m.AuthorID, room.IsDM(), append(slices.Clip(m.Mentions), m.GroupMembers...))
	if err != nil {
		return fmt.Errorf("missed-activity email: recipients: %w", err)
	}
	now := time.Now()
	var batch []chat.Job
	for userID, delay := range who {
		wait := max(time.Duration(delay)*time.Minute, s.missedGrace)
		at := now.Add(wait)
		payload, _ := json.Marshal(missedJob{User: userID})
		batch = append(batch, chat.Job{Kind: jobMissed, Payload: payload, RunAt: at, MaxAttempts: emailAttempts,
			Queue: "missed:" + strconv.FormatInt(userID, 10),
			Key:   fmt.Sprintf("missed:%d:%d", userID, at.UnixNano()/int64(max(wait, time.Millisecond)))})
	}
	if len(batch) == 0 {
		return nil
	}
	if _, err := s.jobs.Enqueue(ctx, batch...); err != nil {
		return fmt.Errorf("missed-activity email: queueing: %w", err)
	}
	return nil
}

// sendMissed runs a missed-activity job: one email of what the user has not
// read and was not emailed yet, if anything.
func (s *Server) sendMissed(ctx context.Context, j chat.Job) error {
	var job missedJob
	if err := json.Unmarshal(j.Payload, &job); err != nil {
		return jobs.Permanent(fmt.Errorf("bad missed-activity job: %w", err))
	}
	if s.mail == nil || s.publicURL == "" {
		return errors.New("email is off on this node (no -smtp or -public-url)")
	}
	u, err := s.store.UserByID(ctx, job.User)
	if chat.ErrorCode(err) == chat.ENotFound {
		return nil
	}
	if err != nil {
		return err
	}
	addr, err := s.store.UserEmail(ctx, u.ID)
	if err != nil {
		return err
	}
	settings, err := s.store.NotifySettings(ctx, u.ID)
	if err != nil {
		return err
	}
	if addr == "" || u.Deactivated || settings.Email != chat.EmailMentions {
		return nil
	}
	// Do not disturb: nothing now; what is still unread when it ends goes
	// then, in one email.
	if st, err := s.store.Status(ctx, u.ID); err != nil {
		return err
	} else if st.DND(s.status.now()) {
		payload, _ := json.Marshal(missedJob{User: u.ID})
		_, err := s.jobs.Enqueue(ctx, chat.Job{Kind: jobMissed, Payload: payload, RunAt: st.DNDUntil, MaxAttempts: emailAttempts,
			Queue: "missed:" + strconv.FormatInt(u.ID, 10), Key: fmt.Sprintf("missed:%d:dnd:%d", u.ID, st.DNDUntil.UnixMilli())})
		return err
	}
	missed, err := s.store.MissedBy(ctx, u.ID, missedMost)
	if err != nil || len(missed) == 0 {
		return err
	}
	unsubscribe, err := s.unsubscribeURL(ctx, u.ID)
	if err != nil {
		return err
	}
	// In the language of the recipient's profile (English when they chose
	// none: an email has no browser to ask).
	lang, _ := locale.Parse(u.Language)
	items := make([]views.MissedItem, len(missed))
	var text strings.Builder
	text.WriteString(locale.Text(lang, "mail.missed_hello_text", "Name", u.Name()) + "\n\n")
	for i, x := range missed {
		where := views.RoomTitle(x.Room)
		if x.Room.IsDM() {
			where = locale.Text(lang, "mail.a_dm")
		}
		items[i] = views.MissedItem{Where: where, Author: x.Message.AuthorName, Body: x.Message.Body,
			URL: s.publicURL + "/messages/" + strconv.FormatInt(x.Message.ID, 10)}
		fmt.Fprintf(&text, "%s%s\n%s\n%s\n\n", items[i].Author, locale.Text(lang, "mail.in_where", "Where", where), items[i].Body, items[i].URL)
	}
	settingsURL := s.publicURL + "/settings/notifications"
	fmt.Fprintf(&text, "%s: %s\n%s: %s\n", locale.Text(lang, "mail.change_when"), settingsURL, locale.Text(lang, "mail.stop"), unsubscribe)
	var html bytes.Buffer
	if err := views.MissedEmail(u.Name(), items, settingsURL, unsubscribe).Render(locale.With(ctx, lang), &html); err != nil {
		return jobs.Permanent(fmt.Errorf("render missed-activity email: %w", err))
	}
	subject := locale.Count(lang, "mail.missed_subject", len(missed))
	last := missed[len(missed)-1].Message.ID
	err = s.mail.Send(ctx, agoramail.Message{To: addr, Subject: subject, Text: text.String(), HTML: html.String(),
		ID: fmt.Sprintf("missed-%d-%d@agora", u.ID, last),
		// RFC 8058: a mail client may offer one-click unsubscribing, a POST
		// to the link with this body.
		Headers: map[string]string{"List-Unsubscribe": "<" + unsubscribe + ">", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}})
	if err != nil {
		if agoramail.Permanent(err) {
			return jobs.Permanent(err)
		}
		return err
	}
	return s.store.MarkEmailed(context.WithoutCancel(ctx), u.ID, last)
}

// unsubscribeKeys signs unsubscribe links with a key every node shares,
// kept in the store.
type unsubscribeKeys struct {
	mu  sync.Mutex
	key []byte
}

func (s *Server) unsubscribeKey(ctx context.Context) ([]byte, error) {
	s.unsub.mu.Lock()
	defer s.unsub.mu.Unlock()
	if s.unsub.key != nil {
		return s.unsub.key, nil
	}
	fresh := make([]byte, 32)
	rand.Read(fresh)
	key, err := s.store.ServerKey(ctx, "unsubscribe", fresh)
	if err != nil {
		return nil, err
	}
	s.unsub.key = key
	return key, nil
}

func unsubscribeMAC(key []byte, userID int64) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("agora unsubscribe\x00" + strconv.FormatInt(userID, 10)))
	return mac.Sum(nil)[:18]
}

// unsubscribeURL is the link that turns the user's missed-activity email off
// without signing in: their id, signed.
func (s *Server) unsubscribeURL(ctx context.Context, userID int64) (string, error) {
	key, err := s.unsubscribeKey(ctx)
	if err != nil {
		return "", err
	}
	return s.publicURL + "/notifications/unsubscribe/" + strconv.FormatInt(userID, 10) + "." +
		base64.RawURLEncoding.EncodeToString(unsubscribeMAC(key, userID)), nil
}

var errBadUnsubscribe = chat.Errorf(chat.ENotFound, "This link is not valid: it may have been cut or changed. Turn emails off in your notification settings instead.")

// unsubscribeUser checks an unsubscribe link's token and returns its user.
func (s *Server) unsubscribeUser(c echo.Context) (chat.User, error) {
	ctx := c.Request().Context()
	idText, sig, ok := strings.Cut(c.Param("token"), ".")
	id, err := strconv.ParseInt(idText, 10, 64)
	got, derr := base64.RawURLEncoding.DecodeString(sig)
	if !ok || err != nil || derr != nil {
		return chat.User{}, errBadUnsubscribe
	}
	key, err := s.unsubscribeKey(ctx)
	if err != nil {
		return chat.User{}, err
	}
	if !hmac.Equal(got, unsubscribeMAC(key, id)) {
		return chat.User{}, errBadUnsubscribe
	}
	u, err := s.store.UserByID(ctx, id)
	if chat.ErrorCode(err) == chat.ENotFound {
		return chat.User{}, errBadUnsubscribe
	}
	return u, err
}

func (s *Server) handleUnsubscribePage(c echo.Context) error {
	return s.unsubscribe(c, false)
}

// handleUnsubscribe turns the email off: the page's button, or a mail
// client's one-click POST (RFC 8058).
func (s *Server) handleUnsubscribe(c echo.Context) error {
	return s.unsubscribe(c, true)
}

func (s *Server) unsubscribe(c echo.Context, do bool) error {
	p, err := s.page(c, "Emails about what you missed", 0)
	if err != nil {
		return err
	}
	u, err := s.unsubscribeUser(c)
	if err != nil {
		if chat.ErrorCode(err) == chat.EInternal {
			return err
		}
		return render(c, statusOf[chat.ErrorCode(err)], views.NoticePage(p, "That link does not work", chat.ErrorMessage(err), "form-error", "/settings/notifications", "Notification settings"))
	}
	if do {
		ctx := c.Request().Context()
		n, err := s.store.NotifySettings(ctx, u.ID)
		if err != nil {
			return err
		}
		n.Email = chat.EmailOff
		if err := s.store.SetNotifySettings(ctx, u.ID, n); err != nil {
			return err
		}
		s.log.Info("missed-activity email turned off by its link", "user", u.Username)
	}
	return render(c, http.StatusOK, views.UnsubscribePage(p, u.Username, c.Param("token"), do))
}
