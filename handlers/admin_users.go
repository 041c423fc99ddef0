package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/chat/live"
	"agora/views"
)

// auditShown is how many admin actions the admin pages list.
const auditShown = 100

// requireAdmin hides the admin pages from everyone else: they are "not
// found", as if they did not exist. It guards the admin group, which holds
// every admin route.
func (s *Server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if u, ok := userFrom(c); !ok || !chat.MayAdminister(u) {
			return echo.ErrNotFound
		}
		return next(c)
	}
}

// audit records what the signed-in admin did.
func (s *Server) audit(c echo.Context, action, target, detail string) error {
	u, _ := userFrom(c)
	return s.store.Audit(c.Request().Context(), u, action, target, detail)
}

func (s *Server) handleAdminUsers(c echo.Context) error {
	return s.renderAdminUsers(c, http.StatusOK, s.takeFlash(c), "")
}

func (s *Server) renderAdminUsers(c echo.Context, status int, ok, errMsg string) error {
	users, err := s.store.Users(c.Request().Context())
	if err != nil {
		return err
	}
	p, audit, err := s.adminPage(c, "Admin: users")
	if err != nil {
		return err
	}
	return render(c, status, views.AdminUsersPage(p, users, audit, ok, errMsg))
}

// adminPage is what every admin page has: the page data, and the audit list
// of what admins did.
func (s *Server) adminPage(c echo.Context, title string) (views.Page, []chat.AuditEntry, error) {
	audit, err := s.store.AuditLog(c.Request().Context(), auditShown)
	if err != nil {
		return views.Page{}, nil, err
	}
	p, err := s.page(c, title, 0)
	return p, audit, err
}

// pathUser loads the account named in the path, refusing the admin's own:
// an admin who deactivated themselves could lock everyone out.
func (s *Server) pathUser(c echo.Context) (chat.User, error) {
	me, _ := userFrom(c)
	u, err := s.store.UserByUsername(c.Request().Context(), c.Param("username"))
	if err != nil {
		return chat.User{}, err
	}
	if u.ID == me.ID {
		return chat.User{}, chat.Errorf(chat.EInvalid, "You cannot change your own account here. Ask another admin.")
	}
	return u, nil
}

// handleDeactivatePage asks before deactivating: the users page links it,
// and its form posts to handleDeactivate. It works without JavaScript.
func (s *Server) handleDeactivatePage(c echo.Context) error {
	u, err := s.pathUser(c)
	if err != nil {
		return s.adminUsersError(c, err)
	}
	if u.Deactivated {
		return s.adminDone(c, "/admin/users", u.Username+" is deactivated already.")
	}
	p, audit, err := s.adminPage(c, "Admin: deactivate "+u.Username)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.AdminDeactivatePage(p, u, audit))
}

// handleDeactivate stops an account: its sessions end at once, its sockets
// and event streams close on every node (1008, so browsers do not
// reconnect), and signing in is refused. Everything it wrote stays. The
// last active admin is never deactivated.
func (s *Server) handleDeactivate(c echo.Context) error {
	u, err := s.pathUser(c)
	if err != nil {
		return s.adminUsersError(c, err)
	}
	if err := s.store.SetDeactivated(c.Request().Context(), u.ID, true); err != nil {
		return s.adminUsersError(c, err)
	}
	s.closer.CloseUser(u.ID, live.ClosePolicy, "account deactivated")
	if err := s.audit(c, "deactivated", u.Username, ""); err != nil {
		return err
	}
	return s.adminDone(c, "/admin/users", u.Username+" is deactivated.")
}

func (s *Server) handleActivate(c echo.Context) error {
	u, err := s.pathUser(c)
	if err != nil {
		return s.adminUsersError(c, err)
	}
	if err := s.store.SetDeactivated(c.Request().Context(), u.ID, false); err != nil {
		return err
	}
	if err := s.audit(c, "reactivated", u.Username, ""); err != nil {
		return err
	}
	return s.adminDone(c, "/admin/users", u.Username+" can sign in again.")
}

func (s *Server) handleMakeAdmin(c echo.Context) error {
	u, err := s.pathUser(c)
	if err == nil && !chat.MayBecomeAdmin(u) {
		err = chat.Errorf(chat.EInvalid, "Only an active account can be an admin.")
	}
	if err != nil {
		return s.adminUsersError(c, err)
	}
	if err := s.store.SetAdmin(c.Request().Context(), u.ID, true); err != nil {
		return err
	}
	if err := s.audit(c, "made admin", u.Username, ""); err != nil {
		return err
	}
	return s.adminDone(c, "/admin/users", u.Username+" is an admin now.")
}

// handleDemote takes admin away from an account. The last active admin
// keeps it: the store checks inside the write, so two admins demoting each
// other at once leave one.
func (s *Server) handleDemote(c echo.Context) error {
	u, err := s.pathUser(c)
	if err == nil && !u.IsAdmin {
		err = chat.Errorf(chat.EInvalid, "%s is not an admin.", u.Username)
	}
	if err == nil {
		err = s.store.SetAdmin(c.Request().Context(), u.ID, false)
	}
	if err != nil {
		return s.adminUsersError(c, err)
	}
	if err := s.audit(c, "removed admin", u.Username, ""); err != nil {
		return err
	}
	return s.adminDone(c, "/admin/users", u.Username+" is no longer an admin.")
}

// adminUsersError shows the users page with the reason an action was refused.
func (s *Server) adminUsersError(c echo.Context, err error) error {
	code := chat.ErrorCode(err)
	if code == chat.EInternal {
		return err
	}
	return s.renderAdminUsers(c, statusOf[code], "", chat.ErrorMessage(err))
}
