package handlers

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/chat/live"
	"agora/views"
)

const (
	cookieName       = "agora_session"
	secureCookieName = "__Host-agora_session" // behind TLS: bound to this host and path /
)

// dummyHash makes a login for an unknown username cost what a wrong password
// costs, so response times do not tell which usernames exist.
var dummyHash, _ = chat.HashPassword("not a real password")

func (s *Server) handleSignupPage(c echo.Context) error {
	return s.renderAuth(c, http.StatusOK, true, views.AuthForm{})
}

func (s *Server) handleLoginPage(c echo.Context) error {
	if _, ok := userFrom(c); ok {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return s.renderAuth(c, http.StatusOK, false, views.AuthForm{Next: safeNext(c.QueryParam("next"))})
}

func (s *Server) renderAuth(c echo.Context, status int, signup bool, f views.AuthForm) error {
	p := views.Page{Assets: s.assetVersion, Title: "Log in"}
	f.Guests = s.guests
	if signup {
		p.Title = "Sign up"
		return render(c, status, views.SignupPage(p, f))
	}
	return render(c, status, views.LoginPage(p, f))
}

func (s *Server) handleSignup(c echo.Context) error {
	ctx := c.Request().Context()
	username, password := strings.TrimSpace(c.FormValue("username")), c.FormValue("password")
	form := views.AuthForm{Username: username}
	fail := func(err error) error {
		if chat.ErrorCode(err) == chat.EInternal {
			return err
		}
		form.Error = chat.ErrorMessage(err)
		return s.renderAuth(c, http.StatusUnprocessableEntity, true, form)
	}
	if !s.spendLogin("signup " + c.RealIP()) {
		form.Error = "Too many attempts. Please wait a minute and try again."
		return s.renderAuth(c, http.StatusTooManyRequests, true, form)
	}
	if err := chat.ValidateUsername(username); err != nil {
		return fail(err)
	}
	if err := chat.ValidatePassword(password); err != nil {
		return fail(err)
	}
	hash, err := chat.HashPassword(password)
	if err != nil {
		return err
	}
	u, err := s.store.CreateUser(ctx, username, "", hash, false)
	if err != nil {
		return fail(err)
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

func (s *Server) handleLogin(c echo.Context) error {
	ctx := c.Request().Context()
	username, password := strings.TrimSpace(c.FormValue("username")), c.FormValue("password")
	form := views.AuthForm{Username: username, Next: safeNext(c.FormValue("next"))}
	// Only failures spend tokens: a guesser is slowed per address and per
	// account, and people who type their password right are never held up.
	ipKey, userKey := "login "+c.RealIP(), "user "+strings.ToLower(username)
	if !s.loginLimits.Ready(ipKey) || !s.loginLimits.Ready(userKey) {
		form.Error = "Too many failed attempts. Please wait a minute and try again."
		return s.renderAuth(c, http.StatusTooManyRequests, false, form)
	}
	u, hash, err := s.store.UserCredentials(ctx, username)
	switch chat.ErrorCode(err) {
	case "":
	case chat.ENotFound:
		hash = dummyHash
	default:
		return err
	}
	if !chat.CheckPassword(hash, password) || err != nil || u.IsGuest {
		s.spendLogin(ipKey)
		s.spendLogin(userKey)
		form.Error = "Wrong username or password."
		return s.renderAuth(c, http.StatusUnauthorized, false, form)
	}
	// A new session at every login: a token planted before login is worthless after it.
	if old := sessionToken(c); old != "" {
		_ = s.store.DeleteSession(ctx, chat.HashToken(old))
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	next := form.Next
	if next == "" {
		next = "/"
	}
	return c.Redirect(http.StatusSeeOther, next)
}

func (s *Server) handleLogout(c echo.Context) error {
	if session := sessionFrom(c); session != "" {
		if err := s.store.DeleteSession(c.Request().Context(), []byte(session)); err != nil {
			return err
		}
		s.closer.CloseSession(session, live.ClosePolicy, "signed out")
	}
	clearSessionCookie(c)
	return c.Redirect(http.StatusSeeOther, "/login")
}

func (s *Server) startSession(c echo.Context, u chat.User) error {
	token, err := chat.NewToken()
	if err != nil {
		return err
	}
	expires := time.Now().Add(sessionTTL)
	if err := s.store.CreateSession(c.Request().Context(), chat.HashToken(token), u.ID, expires); err != nil {
		return err
	}
	name := cookieName
	if s.isTLS(c) {
		name = secureCookieName
	}
	c.SetCookie(&http.Cookie{
		Name: name, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.isTLS(c),
	})
	return nil
}

func sessionToken(c echo.Context) string {
	for _, name := range []string{secureCookieName, cookieName} {
		if ck, err := c.Cookie(name); err == nil && ck.Value != "" {
			return ck.Value
		}
	}
	return ""
}

func clearSessionCookie(c echo.Context) {
	for _, name := range []string{cookieName, secureCookieName} {
		if _, err := c.Cookie(name); err == nil {
			c.SetCookie(&http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
				SameSite: http.SameSiteLaxMode, Secure: name == secureCookieName})
		}
	}
}

// safeNext keeps a post-login destination only if it is a path on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return ""
	}
	return next
}
