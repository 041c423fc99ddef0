package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/chat/live"
	"agora/views"
)

// PasswordLinkTTL is how long a one-time password link handed on by hand
// works: an operator's (`agora users`) or an admin's (#reset-link).
const PasswordLinkTTL = 24 * time.Hour

// The one kind of one-time password link, whoever made it: `agora users
// reset-password` and `create`, an admin on /admin/users, or an email asked
// for at /password/forgot. The page asks for a new password; using the link
// spends it, sets the password, signs out every session of the account, and
// signs in here.

// PasswordLinkMaker is where a password link is kept.
type PasswordLinkMaker interface {
	CreatePasswordLink(ctx context.Context, userID int64, tokenHash []byte, expires time.Time) error
}

// NewPasswordLink makes a password link for the account, valid for ttl,
// keeps its hash, and returns its token: the link is /password/reset/{token}.
func NewPasswordLink(ctx context.Context, store PasswordLinkMaker, userID int64, ttl time.Duration) (string, error) {
	token, err := chat.NewToken()
	if err != nil {
		return "", err
	}
	if err := store.CreatePasswordLink(ctx, userID, chat.HashToken(token), time.Now().Add(ttl)); err != nil {
		return "", err
	}
	return token, nil
}

func (s *Server) newPasswordLink(ctx context.Context, userID int64, ttl time.Duration) (string, error) {
	return NewPasswordLink(ctx, s.store, userID, ttl)
}

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
	return render(c, statusOf[code], views.PasswordLinkGonePage(p, chat.ErrorMessage(err), s.mail != nil))
}

func (s *Server) handlePasswordLink(c echo.Context) error {
	ctx := c.Request().Context()
	hash := chat.HashToken(c.Param("token"))
	u, err := s.store.PasswordLinkUser(ctx, hash)
	if err != nil {
		return s.passwordLinkGone(c, err)
	}
	password := c.FormValue("new_password")
	if password == "" {
		password = c.FormValue("password") // the field's name on every other password form
	}
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
