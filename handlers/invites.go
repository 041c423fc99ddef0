package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/views"
)

// Invite links: an admin makes one (single-use or with a use count, with an
// expiry); its page is a sign-up form that works whatever the signup mode.

func (s *Server) handleAdminInvites(c echo.Context) error {
	return s.renderAdminInvites(c, http.StatusOK, "", s.takeFlash(c), "")
}

func (s *Server) renderAdminInvites(c echo.Context, status int, newLink, ok, errMsg string) error {
	invites, err := s.store.Invites(c.Request().Context(), 100)
	if err != nil {
		return err
	}
	p, audit, err := s.adminPage(c, "Admin: invites")
	if err != nil {
		return err
	}
	return render(c, status, views.AdminInvitesPage(p, invites, newLink, audit, ok, errMsg))
}

// handleCreateInvite makes an invite link and shows it once.
func (s *Server) handleCreateInvite(c echo.Context) error {
	u, _ := userFrom(c)
	uses, days := 1, 7
	var err error
	if v := c.FormValue("uses"); v != "" {
		if uses, err = strconv.Atoi(v); err != nil || uses < 1 || uses > 1000 {
			return s.renderAdminInvites(c, http.StatusUnprocessableEntity, "", "", "An invite can be used 1 to 1000 times.")
		}
	}
	if v := c.FormValue("days"); v != "" {
		if days, err = strconv.Atoi(v); err != nil || days < 1 || days > 90 {
			return s.renderAdminInvites(c, http.StatusUnprocessableEntity, "", "", "An invite is valid for 1 to 90 days.")
		}
	}
	code, err := chat.NewToken()
	if err != nil {
		return err
	}
	inv, err := s.store.CreateInvite(c.Request().Context(), chat.HashToken(code), u.ID, uses, time.Now().Add(time.Duration(days)*24*time.Hour))
	if err != nil {
		return err
	}
	if err := s.audit(c, "made invite", "#"+strconv.FormatInt(inv.ID, 10),
		strconv.Itoa(uses)+" use(s), valid "+strconv.Itoa(days)+" day(s)"); err != nil {
		return err
	}
	link := s.origin(c) + "/invite/" + code
	return s.renderAdminInvites(c, http.StatusCreated, link, "", "")
}

func (s *Server) handleRevokeInvite(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	if err := s.store.RevokeInvite(c.Request().Context(), id); err != nil {
		if chat.ErrorCode(err) == chat.EInternal {
			return err
		}
		return s.renderAdminInvites(c, http.StatusNotFound, "", "", chat.ErrorMessage(err))
	}
	if err := s.audit(c, "revoked invite", "#"+c.Param("id"), ""); err != nil {
		return err
	}
	return s.adminDone(c, "/admin/invites", "The invite is revoked.")
}

// origin is this server's address as the visitor reached it, for links
// meant to be sent on.
func (s *Server) origin(c echo.Context) string {
	scheme := "http"
	if s.isTLS(c) {
		scheme = "https"
	}
	return scheme + "://" + c.Request().Host
}

// handleInvitePage shows an invite's sign-up form, or why it cannot be used.
func (s *Server) handleInvitePage(c echo.Context) error {
	code := c.Param("code")
	if _, err := s.store.InviteByCode(c.Request().Context(), chat.HashToken(code)); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.InviteSignupPage(views.Page{Title: "You are invited", Assets: s.assetVersion}, code, views.AuthForm{}))
}

// handleInviteSignup makes an account with an invite, in any signup mode.
func (s *Server) handleInviteSignup(c echo.Context) error {
	code := c.Param("code")
	if _, err := s.store.InviteByCode(c.Request().Context(), chat.HashToken(code)); err != nil {
		return err
	}
	u, form, status, err := s.createAccount(c, code, false)
	if err != nil {
		return err
	}
	if status != 0 {
		if status == http.StatusNotFound {
			return chat.Errorf(chat.ENotFound, "%s", form.Error) // the invite was used up meanwhile
		}
		return render(c, status, views.InviteSignupPage(views.Page{Title: "You are invited", Assets: s.assetVersion}, code, form))
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}
