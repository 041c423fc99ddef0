package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/views"
)

func (s *Server) handleProfilePage(c echo.Context) error {
	u, _ := userFrom(c)
	p, err := s.page(c, "Your profile", 0)
	if err != nil {
		return err
	}
	st, err := s.store.Storage(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ProfilePage(p, u.DisplayName, "", c.QueryParam("saved") != "", st))
}

// handleProfile changes the display name and tells every room the user is in.
func (s *Server) handleProfile(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	name, err := chat.ValidateDisplayName(c.FormValue("display_name"))
	if err != nil {
		p, perr := s.page(c, "Your profile", 0)
		if perr != nil {
			return perr
		}
		st, serr := s.store.Storage(c.Request().Context(), u.ID)
		if serr != nil {
			return serr
		}
		return render(c, http.StatusUnprocessableEntity, views.ProfilePage(p, c.FormValue("display_name"), chat.ErrorMessage(err), false, st))
	}
	if name == u.DisplayName {
		return c.Redirect(http.StatusSeeOther, "/settings/profile?saved=1")
	}
	renamed, err := s.store.SetDisplayName(ctx, u.ID, name)
	if err != nil {
		return err
	}
	rooms, err := s.store.MemberRooms(ctx, u.ID)
	if err != nil {
		return err
	}
	text := u.Name() + " is now known as " + renamed.Name()
	for _, room := range rooms {
		if err := s.notice(ctx, renamed, room, text); err != nil {
			return err
		}
	}
	return c.Redirect(http.StatusSeeOther, "/settings/profile?saved=1")
}
