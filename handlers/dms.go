package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"agora/chat"
)

// handleDM opens the direct conversation with the named user, making it on
// first use. It is a room of kind "dm" with the two of them as members.
func (s *Server) handleDM(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	if u.IsGuest {
		return chat.Errorf(chat.EForbidden, "Guests cannot send direct messages.")
	}
	peer, err := s.store.UserByUsername(ctx, c.Param("username"))
	if err != nil {
		return err
	}
	if peer.IsGuest {
		return chat.Errorf(chat.ENotFound, "No user is called %q.", c.Param("username"))
	}
	room, err := s.openDM(ctx, u, peer)
	if err != nil {
		return err
	}
	return s.showRoom(c, u, room)
}

// openDM returns the direct conversation of u and peer, making it on first use.
func (s *Server) openDM(ctx context.Context, u, peer chat.User) (chat.Room, error) {
	room, made, err := s.store.DM(ctx, u, peer)
	if err != nil {
		return chat.Room{}, err
	}
	if made {
		// Both sides' open sockets count the new conversation, and the
		// other person's sidebars show it now.
		s.hub.Watch(u.ID, room.ID)
		s.hub.Watch(peer.ID, room.ID)
		s.refreshNav(ctx, peer.ID)
	}
	return room, nil
}

// handleDMForm is the sidebar's "message someone" form, which GETs ?username=.
func (s *Server) handleDMForm(c echo.Context) error {
	name := strings.TrimPrefix(strings.TrimSpace(c.QueryParam("username")), "@")
	if err := chat.ValidateUsername(name); err != nil {
		return s.sideFormError(c, "dm", c.QueryParam("username"), err)
	}
	if _, err := s.store.UserByUsername(c.Request().Context(), name); err != nil {
		return s.sideFormError(c, "dm", c.QueryParam("username"), err)
	}
	return c.Redirect(http.StatusSeeOther, "/dm/"+url.PathEscape(name))
}
