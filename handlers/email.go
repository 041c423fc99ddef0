package handlers

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/chat/jobs"
	agoramail "agora/chat/mail"
	"agora/views"
	"agora/views/locale"
)

// Email: a verified address per user, password reset by email (or by a link
// an admin makes, for servers without email), and every email sent through
// the job queue, so an SMTP server that refuses or drops the connection
// costs a retry, never the email.

const (
	jobEmail      = "email"
	emailAttempts = 8
	// verifyValid is how long a link that checks an address works.
	verifyValid = 48 * time.Hour
	// ResetValid is how long a password link mailed to its account's owner
	// works: an inbox is read by more than its owner, and the link is
	// asked for by anyone who knows the name.
	ResetValid = time.Hour
)

var errMailOff = chat.Errorf(chat.EForbidden, "This server does not send email: its operator has not set it up.")

// link is an absolute URL of path on this server for an email or a link to
// hand on: on -public-url, or where this request came in when there is none
// (tests, and servers that did not set one).
func (s *Server) link(c echo.Context, path string) string {
	if s.publicURL != "" {
		return s.publicURL + path
	}
	return s.origin(c) + path
}

// queueEmail adds an email to the job queue. key names it, so that the
// same email asked for twice is sent once, and is its Message-ID.
func (s *Server) queueEmail(ctx context.Context, key string, m agoramail.Message) error {
	if s.mail == nil {
		return errMailOff
	}
	m.ID = key + "@agora"
	payload, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("queue email: %w", err)
	}
	_, err = s.jobs.Enqueue(ctx, chat.Job{Kind: jobEmail, Payload: payload, MaxAttempts: emailAttempts, Key: "email:" + key})
	return err
}

// sendEmail runs an email job.
func (s *Server) sendEmail(ctx context.Context, j chat.Job) error {
	var m agoramail.Message
	if err := json.Unmarshal(j.Payload, &m); err != nil {
		return jobs.Permanent(fmt.Errorf("bad email job: %w", err))
	}
	if s.mail == nil {
		return errors.New("email is off on this node (no -smtp)")
	}
	if err := s.mail.Send(ctx, m); err != nil {
		if agoramail.Permanent(err) {
			return jobs.Permanent(err)
		}
		return err
	}
	return nil
}

// newVerifyToken makes the token of a link that checks an address and
// keeps its hash.
func (s *Server) newVerifyToken(ctx context.Context, userID int64, email string) (string, error) {
	token, err := chat.NewToken()
	if err != nil {
		return "", err
	}
	if err := s.store.CreateEmailVerification(ctx, userID, email, chat.HashToken(token), time.Now().Add(verifyValid)); err != nil {
		return "", err
	}
	return token, nil
}

func (s *Server) emailState(ctx context.Context, u chat.User) (views.EmailState, error) {
	st := views.EmailState{MailOn: s.mail != nil}
	var err error
	if st.Verified, err = s.store.UserEmail(ctx, u.ID); err != nil {
		return st, err
	}
	if st.Pending, err = s.store.PendingEmail(ctx, u.ID); err != nil {
		return st, err
	}
	st.Notify, err = s.store.NotifySettings(ctx, u.ID)
	return st, err
}

func (s *Server) handleEmailPage(c echo.Context) error {
	return s.renderEmail(c, http.StatusOK, s.takeFlash(c), "")
}

func (s *Server) renderEmail(c echo.Context, status int, ok, errMsg string) error {
	u, _ := userFrom(c)
	if u.IsGuest {
		return chat.Errorf(chat.EForbidden, "Guests have no email address here.")
	}
	st, err := s.emailState(c.Request().Context(), u)
	if err != nil {
		return err
	}
	p, err := s.page(c, "Email", 0)
	if err != nil {
		return err
	}
	return render(c, status, views.EmailPage(p, st, ok, errMsg))
}

// handleSetEmail mails a link to the address given; the address is the
// user's once the link is followed.
func (s *Server) handleSetEmail(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	if u.IsGuest {
		return chat.Errorf(chat.EForbidden, "Guests have no email address here.")
	}
	refuse := func(err error) error {
		if chat.ErrorCode(err) == chat.EInternal {
			return err
		}
		return s.renderEmail(c, statusOf[chat.ErrorCode(err)], "", chat.ErrorMessage(err))
	}
	if s.mail == nil {
		return refuse(errMailOff)
	}
	addr, err := validEmail(c.FormValue("email"))
	if err != nil {
		return refuse(err)
	}
	if !s.mailLimits.Allow("user:" + strconv.FormatInt(u.ID, 10)) {
		return refuse(chat.Errorf(chat.ERateLimit, "Too many links were sent to you lately. Please wait a few minutes."))
	}
	token, err := s.newVerifyToken(ctx, u.ID, addr)
	if err != nil {
		return err
	}
	link := s.link(c, "/settings/email/verify/"+token)
	// In the language of the page that asked: theirs.
	lang := langOf(c)
	if err := s.queueEmail(ctx, "verify-"+tokenKey(token), agoramail.Message{To: addr, Subject: locale.Text(lang, "mail.verify_subject"),
		Text: locale.Text(lang, "mail.verify_body", "Name", u.Name(), "Link", link)}); err != nil {
		return err
	}
	return s.flashTo(c, "/settings/email", "A link was sent to "+addr+". Follow it to use that address.")
}

// tokenKey names an email by its token without carrying the token: the
// job's key is kept for a day after it is sent.
func tokenKey(token string) string { return hex.EncodeToString(chat.HashToken(token)[:12]) }

// flashTo redirects to page with a line for it to show (see adminDone).
func (s *Server) flashTo(c echo.Context, page, text string) error { return s.adminDone(c, page, text) }

func validEmail(v string) (string, error) {
	v = strings.TrimSpace(v)
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || len(v) > 254 || !strings.Contains(v[strings.LastIndexByte(v, '@')+1:], ".") {
		return "", chat.Errorf(chat.EInvalid, "That is not an email address such as name@example.com.")
	}
	return v, nil
}

// handleVerifyEmail follows a verification link. It needs no session: the
// link may be opened on another device.
func (s *Server) handleVerifyEmail(c echo.Context) error {
	u, addr, err := s.store.VerifyEmail(c.Request().Context(), chat.HashToken(c.Param("token")))
	if err != nil {
		code := chat.ErrorCode(err)
		if code == chat.EInternal {
			return err
		}
		p, _ := s.page(c, "Email address", 0)
		return render(c, statusOf[code], views.NoticePage(p, "That link does not work", chat.ErrorMessage(err), "form-error", "/settings/email", "Email settings"))
	}
	s.log.Info("email verified", "user", u.Username)
	p, err := s.page(c, "Email address", 0)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.NoticePage(p, "Address verified", addr+" is now the address of "+u.Username+".", "email-verified", "/", "Go to agora"))
}

func (s *Server) handleForgotPage(c echo.Context) error {
	p, err := s.page(c, "Forgot your password?", 0)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ForgotPage(p, false, s.mail != nil, ""))
}

// handleForgot mails a reset link to the account's verified address. The
// answer is the same whatever the name: nobody learns who has an account,
// or an address, here.
func (s *Server) handleForgot(c echo.Context) error {
	p, err := s.page(c, "Forgot your password?", 0)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(c.FormValue("username"))
	if name == "" || len(name) > 254 {
		return render(c, http.StatusUnprocessableEntity, views.ForgotPage(p, false, s.mail != nil, "Give your username or your email address."))
	}
	if s.mail == nil {
		return render(c, http.StatusServiceUnavailable, views.ForgotPage(p, false, false, chat.ErrorMessage(errMailOff)+" Ask an admin for a reset link."))
	}
	if !s.mailLimits.Allow("ip:" + c.RealIP()) {
		return render(c, http.StatusTooManyRequests, views.ForgotPage(p, false, true, "Too many links were asked for from here lately. Please wait a few minutes."))
	}
	if err := s.mailReset(c, name); err != nil {
		// Logged, not shown: the answer must not tell accounts apart.
		s.log.Error("password reset email", "err", err)
	}
	return render(c, http.StatusOK, views.ForgotPage(p, true, true, ""))
}

func (s *Server) mailReset(c echo.Context, name string) error {
	ctx := c.Request().Context()
	u, addr, err := s.store.UserByLogin(ctx, name)
	if chat.ErrorCode(err) == chat.ENotFound || (err == nil && addr == "") {
		return nil
	}
	if err != nil {
		return err
	}
	// A flood of requests for one account would be a flood of email to it.
	if !s.mailLimits.Allow("user:" + strconv.FormatInt(u.ID, 10)) {
		return nil
	}
	token, err := s.newPasswordLink(ctx, u.ID, ResetValid)
	if err != nil {
		return err
	}
	link := s.link(c, "/password/reset/"+token)
	// In the language the account chose, else that of the page that asked.
	lang, ok := locale.Parse(u.Language)
	if !ok {
		lang = langOf(c)
	}
	return s.queueEmail(ctx, "reset-"+tokenKey(token), agoramail.Message{To: addr, Subject: locale.Text(lang, "mail.reset_subject"),
		Text: locale.Text(lang, "mail.reset_body", "Name", u.Name(), "Username", u.Username, "Link", link)})
}

// handleAdminReset makes a reset link for an account and shows it to the
// admin once: for servers without email, or people without an address.
func (s *Server) handleAdminReset(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := s.store.UserByUsername(ctx, c.Param("username"))
	if err != nil {
		return err
	}
	if u.IsGuest || u.IsBot || u.Deactivated {
		return s.renderAdminUsers(c, http.StatusUnprocessableEntity, "", u.Username+" has no password to reset.")
	}
	token, err := s.newPasswordLink(ctx, u.ID, PasswordLinkTTL)
	if err != nil {
		return err
	}
	if err := s.audit(c, "made a reset link for", u.Username, ""); err != nil {
		return err
	}
	p, audit, err := s.adminPage(c, "Admin: reset link")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.AdminResetLinkPage(p, u.Username, s.link(c, "/password/reset/"+token), audit))
}

func (s *Server) handleNotificationsPage(c echo.Context) error {
	return s.renderNotifications(c, http.StatusOK, s.takeFlash(c), "")
}

func (s *Server) renderNotifications(c echo.Context, status int, ok, errMsg string) error {
	u, _ := userFrom(c)
	st, err := s.emailState(c.Request().Context(), u)
	if err != nil {
		return err
	}
	p, err := s.page(c, "Notifications", 0)
	if err != nil {
		return err
	}
	return render(c, status, views.NotificationsPage(p, st, ok, errMsg))
}

// handleSetNotifications keeps how the user is told of what they missed:
// email off or mentions, after email_delay minutes; push on or off; a daily
// quiet time (dnd_start, dnd_end as HH:MM in the reader's zone; both empty
// for none). push and the quiet time are left as they are when not sent.
func (s *Server) handleSetNotifications(c echo.Context) error {
	u, _ := userFrom(c)
	ctx := c.Request().Context()
	n, err := s.store.NotifySettings(ctx, u.ID)
	if err != nil {
		return err
	}
	n.Email, n.EmailDelay = c.FormValue("email"), chat.DefaultNotifySettings.EmailDelay
	if n.Email != chat.EmailOff && n.Email != chat.EmailMentions {
		return s.renderNotifications(c, http.StatusUnprocessableEntity, "", "Email is off or mentions.")
	}
	if v := strings.TrimSpace(c.FormValue("email_delay")); v != "" {
		d, err := strconv.Atoi(v)
		if err != nil || d < 0 || d > 1440 {
			return s.renderNotifications(c, http.StatusUnprocessableEntity, "", "The delay is a whole number of minutes, from 0 to 1440.")
		}
		n.EmailDelay = d
	}
	form, _ := c.FormParams()
	if _, sent := form["push"]; sent {
		if n.Push = form.Get("push"); n.Push != chat.PushOn && n.Push != chat.PushOff {
			return s.renderNotifications(c, http.StatusUnprocessableEntity, "", "Push is on or off.")
		}
	}
	_, sentStart := form["dnd_start"]
	_, sentEnd := form["dnd_end"]
	if sentStart || sentEnd {
		start, okStart := clockMinutes(form.Get("dnd_start"))
		end, okEnd := clockMinutes(form.Get("dnd_end"))
		if !okStart || !okEnd || (start < 0) != (end < 0) || start >= 0 && start == end {
			return s.renderNotifications(c, http.StatusUnprocessableEntity, "", "A quiet time is two different times of day, such as 22:00 and 07:00, or none (both empty).")
		}
		n.QuietStart, n.QuietEnd = start, end
		if zone, ok := readerZone(c); ok {
			n.Zone = zone.String()
		}
	}
	if err := s.store.SetNotifySettings(ctx, u.ID, n); err != nil {
		return err
	}
	return s.flashTo(c, "/settings/notifications", "Saved.")
}

// clockMinutes reads HH:MM (or HH:MM:SS, as some browsers send a time) as
// minutes after midnight; "" is -1, none.
func clockMinutes(v string) (int, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return -1, true
	}
	for _, layout := range []string{"15:04", "15:04:05"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.Hour()*60 + t.Minute(), true
		}
	}
	return 0, false
}
