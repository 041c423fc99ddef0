package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/views"
)

// Guests (with -guests) chat in public rooms under a display name, with no
// password. Their username is made up for them; the name they pick may not be
// an account's, so nobody can pass for a member.

func (s *Server) handleGuestPage(c echo.Context) error {
	if !s.guests {
		return echo.ErrNotFound
	}
	return render(c, http.StatusOK, views.GuestPage(views.Page{Title: "Join as a guest", Assets: s.assetVersion}, "", ""))
}

func (s *Server) handleGuest(c echo.Context) error {
	if !s.guests {
		return echo.ErrNotFound
	}
	ctx := c.Request().Context()
	typed := c.FormValue("display_name")
	fail := func(status int, msg string) error {
		return render(c, status, views.GuestPage(views.Page{Title: "Join as a guest", Assets: s.assetVersion}, typed, msg))
	}
	if !s.spendLogin("guest " + c.RealIP()) {
		return fail(http.StatusTooManyRequests, "Too many attempts. Please wait a minute and try again.")
	}
	name, err := chat.ValidateDisplayName(typed)
	if err == nil && name == "" {
		err = chat.Errorf(chat.EInvalid, "Please enter a name to show to others.")
	}
	if err != nil {
		return fail(http.StatusUnprocessableEntity, chat.ErrorMessage(err))
	}
	taken, err := s.store.NameLooksTaken(ctx, name, 0)
	if err != nil {
		return err
	}
	if taken {
		return fail(http.StatusUnprocessableEntity, "That name belongs to an account, or looks too much like one. Please pick another.")
	}
	token, err := chat.NewToken()
	if err != nil {
		return err
	}
	username := chat.GuestPrefix + strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(token))[:10]
	// No password hash: CheckPassword never accepts an empty one, so a guest
	// account cannot be logged into, only used through its session.
	u, err := s.store.CreateUser(ctx, username, name, "", true)
	if err != nil {
		return err
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/rooms/general")
}
