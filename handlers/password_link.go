package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/chat/live"
	"agora/views"
)

// PasswordLinkTTL is how long a one-time password link works.
const PasswordLinkTTL = 24 * time.Hour

// The one-time password links of `agora users reset-password` and `create`:
// the page asks for a new password; using the link spends it, sets the
// password, signs out every session of the account, and signs in here.

func (s *Server) handlePasswordLinkPage(c echo.Context) error {
	u, err := s.store.PasswordLinkUser(c.Request().Context(), chat.HashToken(c.Param("token")))
	if err != nil {
		return s.passwordLinkGone(c, err)
	}
	return s.renderPasswordLink(c, http.StatusOK, u, "")
}

func (s *Server) renderPasswordLink(c echo.Context, status int, u chat.User, errMsg string) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	p := views.Page{Assets: s.assetVersion, Title: "Choose a password"}
	return render(c, status, views.PasswordLinkPage(p, c.Request().URL.Path, u.Username, errMsg))
}

func (s *Server) passwordLinkGone(c echo.Context, err error) error {
	code := chat.ErrorCode(err)
	if code == chat.EInternal {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	p := views.Page{Assets: s.assetVersion, Title: "Choose a password"}
	return render(c, statusOf[code], views.PasswordLinkGonePage(p, chat.ErrorMessage(err)))
}

func (s *Server) handlePasswordLink(c echo.Context) error {
	ctx := c.Request().Context()
	hash := chat.HashToken(c.Param("token"))
	u, err := s.store.PasswordLinkUser(ctx, hash)
	if err != nil {
		return s.passwordLinkGone(c, err)
	}
	password := c.FormValue("new_password")
	if err := chat.ValidatePassword(password); err != nil {
		return s.renderPasswordLink(c, http.StatusUnprocessableEntity, u, chat.ErrorMessage(err))
	}
	pwHash, err := s.hashPassword(hashSignedIn, password) // the link proved who it is for
	if code := chat.ErrorCode(err); code == chat.ERateLimit {
		return s.renderPasswordLink(c, statusOf[code], u, chat.ErrorMessage(err))
	} else if err != nil {
		return err
	}
	u, ended, err := s.store.UsePasswordLink(ctx, hash, pwHash)
	if err != nil {
		return s.passwordLinkGone(c, err)
	}
	for _, h := range ended {
		s.closer.CloseSession(string(h), live.ClosePolicy, "signed out: the password was set")
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}
