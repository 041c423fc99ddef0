package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/views"
)

// dmPeer is the person named in the path whom u may hold a direct
// conversation with: guests hold none, and none is held with a guest.
func (s *Server) dmPeer(c echo.Context, u chat.User) (chat.User, error) {
	if u.IsGuest {
		return chat.User{}, chat.Errorf(chat.EForbidden, "Guests cannot send direct messages.")
	}
	peer, err := s.store.UserByUsername(c.Request().Context(), c.Param("username"))
	if err != nil {
		return chat.User{}, err
	}
	if peer.IsGuest {
		return chat.User{}, chat.Errorf(chat.ENotFound, "No user is called %q.", c.Param("username"))
	}
	return peer, nil
}

// handleDM opens the direct conversation with the named user, making it on
// first use. It is a room of kind "dm" with the two of them as members.
func (s *Server) handleDM(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	peer, err := s.dmPeer(c, u)
	if err != nil {
		return err
	}
	// Opening a conversation that does not exist yet makes it: not from
	// another site's link. Someone who left one reads it again only after
	// opening it again. Either way, a button asks first.
	room, err := s.store.RoomBySlug(ctx, chat.DMSlug(u.ID, peer.ID))
	exists := err == nil
	if err != nil && chat.ErrorCode(err) != chat.ENotFound {
		return err
	}
	member := false
	if exists {
		if member, err = s.store.IsMember(ctx, room.ID, u.ID); err != nil {
			return err
		}
	}
	switch {
	case member:
		return s.showRoom(c, u, room)
	case !exists && !crossSite(c):
		if room, err = s.openDM(ctx, u, peer); err != nil {
			return err
		}
		return s.showRoom(c, u, room)
	}
	p, err := s.page(c, peer.Name(), 0)
	if err != nil {
		return err
	}
	text := "Open a direct conversation with " + peer.Name() + "?"
	if exists {
		text = "You left your conversation with " + peer.Name() + ". Open it again to read and send messages."
	}
	return render(c, http.StatusOK, views.ConfirmOpenPage(p, peer.Name(), text, "/dm/"+peer.Username, "Open the conversation"))
}

// handleOpenDM makes (or rejoins) the direct conversation with the named
// user by the user's own click, and goes to it.
func (s *Server) handleOpenDM(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	peer, err := s.dmPeer(c, u)
	if err != nil {
		return err
	}
	room, err := s.openDM(ctx, u, peer)
	if err != nil {
		return err
	}
	if _, err := s.store.Join(ctx, room.ID, u.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/dm/"+url.PathEscape(peer.Username))
}

// openDM returns the direct conversation of u and peer, making it on first
// use: then both sides' open sockets count it, and the other person's
// sidebars show it now (the store tells of the memberships it made).
func (s *Server) openDM(ctx context.Context, u, peer chat.User) (chat.Room, error) {
	room, _, err := s.store.DM(ctx, u, peer)
	return room, err
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
