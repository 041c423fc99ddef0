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
	f := profileForm{name: u.DisplayName, saved: c.QueryParam("saved") != ""}
	f.status.Saved = c.QueryParam("status") != ""
	return s.renderProfile(c, http.StatusOK, f)
}

// profileForm is what the profile page shows besides what the store says:
// the name typed, and either form's outcome.
type profileForm struct {
	name, errMsg string
	saved        bool
	status       views.StatusForm
}

func (s *Server) renderProfile(c echo.Context, code int, f profileForm) error {
	u, _ := userFrom(c)
	ctx := c.Request().Context()
	p, err := s.page(c, "Your profile", 0)
	if err != nil {
		return err
	}
	st, err := s.store.Storage(ctx, u.ID)
	if err != nil {
		return err
	}
	if f.status.Status, err = s.store.Status(ctx, u.ID); err != nil {
		return err
	}
	f.status.Now, f.status.Clock = s.status.now(), readerClock(c)
	return render(c, code, views.ProfilePage(p, f.name, f.errMsg, f.saved, s.withQuota(st), f.status))
}

// handleProfile changes what the form sends: the display name (telling
// every room the user is in), the picture, the theme. A field not sent is
// left as it is.
func (s *Server) handleProfile(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	if isMultipart(c) {
		c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, views.AvatarMaxBytes+64<<10)
	}
	form, err := c.FormParams()
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		err = chat.Errorf(chat.EInvalid, "The picture may be %s at most.", chat.SizeText(views.AvatarMaxBytes))
	} else if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.").SetInternal(err)
	}
	if t := form.Get("theme"); err == nil && t != "" && t != u.Theme {
		if err = s.store.SetTheme(ctx, u.ID, t); err == nil {
			u.Theme = t
		}
	}
	if l, sent := form["language"]; sent && err == nil && l[0] != u.Language {
		if err = s.store.SetLanguage(ctx, u.ID, l[0]); err == nil {
			u.Language = l[0]
			c.Set(ctxUser, u)
			userLanguage(c, u)
		}
	}
	if err == nil && form.Get("remove_avatar") == "on" {
		if err = s.store.RemoveAvatar(ctx, u.ID); err == nil {
			u.Avatar = 0
		}
	} else if fh, ferr := c.FormFile("avatar"); err == nil && ferr == nil && fh.Size > 0 {
		u, err = s.setAvatar(ctx, u, fh)
	}
	name := u.DisplayName
	if _, sent := form["display_name"]; sent && err == nil {
		name, err = chat.ValidateDisplayName(form.Get("display_name"))
		if err == nil && name != "" && name != u.DisplayName {
			err = s.checkDisplayName(ctx, u, name)
		}
		if err == nil && name != u.DisplayName && !s.renameLimits.Allow(strconv.FormatInt(u.ID, 10)) {
			// Each rename is a notice in every room of the user's.
			err = chat.Errorf(chat.ERateLimit, "You have changed your name several times just now. Please wait a minute before changing it again.")
		}
	}
	if chat.ErrorCode(err) == chat.EInternal {
		return err
	}
	if err != nil {
		shown := u.DisplayName
		if _, sent := form["display_name"]; sent {
			shown = form.Get("display_name")
		}
		return s.renderProfile(c, statusOf[chat.ErrorCode(err)], profileForm{name: shown, errMsg: chat.ErrorMessage(err)})
	}
	if name != u.DisplayName {
		if err := s.rename(ctx, u, name); err != nil {
			return err
		}
	}
	return c.Redirect(http.StatusSeeOther, "/settings/profile?saved=1")
}

// rename changes u's display name and tells every room they are in.
func (s *Server) rename(ctx context.Context, u chat.User, name string) error {
	renamed, err := s.store.SetDisplayName(ctx, u.ID, name)
	if err != nil {
		return err
	}
	rooms, err := s.store.MemberRooms(ctx, u.ID)
	if err != nil {
		return err
	}
	text := says("notice.renamed_self", "Old", u.Name(), "Name", renamed.Name())
	for _, room := range rooms {
		if !memberAccess(renamed, room).Post {
			continue // an archived room is read-only: the name shows as it is now anyway
		}
		if err := s.notice(ctx, renamed, room, text); err != nil && !errors.Is(err, chat.ErrArchived) {
			return err
		}
	}
	return nil
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
