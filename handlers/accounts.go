package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/chat/live"
	"agora/views"
)

// admit is the one check every way of signing in goes through (a session
// cookie, an API token, an open event stream): the access policy's.
func (s *Server) admit(u chat.User) error { return chat.Admit(u, s.guests) }

// touchSession records that the session is in use, at most once a minute
// per session: the sessions page shows it, and it costs no write per request.
func (s *Server) touchSession(c echo.Context, hash []byte) {
	now := time.Now()
	if !s.seen.due(string(hash), now) {
		return
	}
	if err := s.store.TouchSession(c.Request().Context(), hash, now, c.RealIP()); err != nil {
		// Worth a line in the log, not a failed page.
		s.log.Warn("touch session", "err", err)
	}
}

var errGuestPassword = chat.Errorf(chat.EForbidden, "A guest has no password to change.")

func (s *Server) handlePasswordPage(c echo.Context) error {
	return s.renderPassword(c, http.StatusOK, "", c.QueryParam("changed") != "")
}

func (s *Server) renderPassword(c echo.Context, status int, errMsg string, changed bool) error {
	if u, _ := userFrom(c); !chat.HasPassword(u) {
		return errGuestPassword
	}
	p, err := s.page(c, "Password", 0)
	if err != nil {
		return err
	}
	return render(c, status, views.PasswordPage(p, errMsg, changed))
}

// handleChangePassword changes the password when the current one is given:
// the current one is a guess like a login's, under the same limits; the new
// one is checked like a new account's. Every other session of the user ends
// and its sockets close on every node; this one stays.
func (s *Server) handleChangePassword(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	if !chat.HasPassword(u) {
		return errGuestPassword
	}
	current, next := c.FormValue("current_password"), c.FormValue("new_password")
	refuse := func(err error) error {
		if chat.ErrorCode(err) == chat.EInternal {
			return err
		}
		return s.renderPassword(c, statusOf[chat.ErrorCode(err)], chat.ErrorMessage(err), false)
	}
	if err := chat.ValidatePassword(next); err != nil {
		return refuse(chat.Errorf(chat.EInvalid, "The new password is not accepted. %s", chat.ErrorMessage(err)))
	}
	if next == current {
		return refuse(chat.Errorf(chat.EInvalid, "The new password is the same as the current one."))
	}
	// The session has shown who it is: its own password change is not held
	// up by guesses at the account from elsewhere (its address's limit and
	// the account's own queue still apply).
	_, right, err := s.checkCredentials(ctx, c.RealIP(), u.Username, current, true)
	if err != nil {
		return refuse(err)
	}
	if !right {
		return refuse(chat.Errorf(chat.EUnauthorized, "The current password is not right. Nothing was changed."))
	}
	hash, err := s.hashPassword(hashSignedIn, next)
	if err != nil {
		return refuse(err)
	}
	ended, err := s.store.SetPassword(ctx, u.ID, hash, []byte(sessionFrom(c)))
	if err != nil {
		return err
	}
	for _, h := range ended {
		s.closer.CloseSession(string(h), live.ClosePolicy, "signed out: the password was changed")
	}
	s.log.Info("password changed", "user", u.Username, "sessions_ended", len(ended))
	return c.Redirect(http.StatusSeeOther, "/settings/password?changed=1")
}

// sessionNotes are what the sessions page says after an action: fixed texts,
// chosen by the redirect's ?ended=, so nothing of the address is echoed.
var sessionNotes = map[string]string{
	"one":    "The session was ended, and its open pages disconnected.",
	"others": "Every other session was ended.",
	"none":   "There was no other session to end.",
}

func (s *Server) handleSessionsPage(c echo.Context) error {
	return s.renderSessions(c, http.StatusOK, sessionNotes[c.QueryParam("ended")], "")
}

func (s *Server) renderSessions(c echo.Context, status int, ok, errMsg string) error {
	u, _ := userFrom(c)
	list, err := s.store.Sessions(c.Request().Context(), u.ID, []byte(sessionFrom(c)))
	if err != nil {
		return err
	}
	p, err := s.page(c, "Sessions", 0)
	if err != nil {
		return err
	}
	return render(c, status, views.SessionsPage(p, list, ok, errMsg))
}

// handleEndSession ends one of the user's sessions, named by its opaque id;
// its sockets close on every node. Ending the one in use is logging out.
// Another user's session is not found.
func (s *Server) handleEndSession(c echo.Context) error {
	u, _ := userFrom(c)
	id := c.Param("id")
	if id == chat.SessionID([]byte(sessionFrom(c))) {
		return s.handleLogout(c)
	}
	hash, err := s.store.EndSession(c.Request().Context(), u.ID, id)
	if err != nil {
		return err
	}
	s.closer.CloseSession(string(hash), live.ClosePolicy, "this session was ended")
	return c.Redirect(http.StatusSeeOther, "/settings/sessions?ended=one")
}

// handleEndOtherSessions ends every session of the user but this one.
func (s *Server) handleEndOtherSessions(c echo.Context) error {
	u, _ := userFrom(c)
	ended, err := s.store.EndOtherSessions(c.Request().Context(), u.ID, []byte(sessionFrom(c)))
	if err != nil {
		return err
	}
	for _, h := range ended {
		s.closer.CloseSession(string(h), live.ClosePolicy, "this session was ended")
	}
	note := "others"
	if len(ended) == 0 {
		note = "none"
	}
	return c.Redirect(http.StatusSeeOther, "/settings/sessions?ended="+note)
}
