package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"

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
	return render(c, http.StatusOK, views.ProfilePage(p, u.DisplayName, "", c.QueryParam("saved") != "", s.withQuota(st)))
}

// handleProfile changes the display name and tells every room the user is in.
func (s *Server) handleProfile(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	name, err := chat.ValidateDisplayName(c.FormValue("display_name"))
	if err == nil && name != "" && name != u.DisplayName {
		err = s.checkDisplayName(ctx, u, name)
	}
	if err == nil && name != u.DisplayName && !s.renameLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		// Each rename is a notice in every room of the user's.
		err = chat.Errorf(chat.ERateLimit, "You have changed your name several times just now. Please wait a minute before changing it again.")
	}
	if chat.ErrorCode(err) == chat.EInternal {
		return err
	}
	if err != nil {
		p, perr := s.page(c, "Your profile", 0)
		if perr != nil {
			return perr
		}
		st, serr := s.store.Storage(c.Request().Context(), u.ID)
		if serr != nil {
			return serr
		}
		return render(c, statusOf[chat.ErrorCode(err)], views.ProfilePage(p, c.FormValue("display_name"), chat.ErrorMessage(err), false, s.withQuota(st)))
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
		if !memberAccess(renamed, room).Post {
			continue // an archived room is read-only: the name shows as it is now anyway
		}
		if err := s.notice(ctx, renamed, room, text); err != nil && !errors.Is(err, chat.ErrArchived) {
			return err
		}
	}
	return c.Redirect(http.StatusSeeOther, "/settings/profile?saved=1")
}

// checkDisplayName refuses a display name that would let u pass for another
// account: equal to, or looking like, another's username or display name.
// Looking like one's own username is fine.
func (s *Server) checkDisplayName(ctx context.Context, u chat.User, name string) error {
	taken, err := s.store.NameLooksTaken(ctx, name, u.ID)
	if err != nil {
		return err
	}
	if taken {
		return chat.Errorf(chat.EInvalid, "%q is, or looks like, the name of another account. Please pick another.", name)
	}
	return nil
}
