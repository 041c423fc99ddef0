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
// conversation with.
func (s *Server) dmPeer(c echo.Context, u chat.User) (chat.User, error) {
	return s.peerNamed(c, u, c.Param("username"))
}

// peerNamed is the person called name whom u may hold a direct
// conversation with: guests hold none, and none is held with a guest.
func (s *Server) peerNamed(c echo.Context, u chat.User, name string) (chat.User, error) {
	if !chat.MayHoldDMs(u) {
		return chat.User{}, chat.Errorf(chat.EForbidden, "Guests cannot send direct messages.")
	}
	peer, err := s.store.UserByUsername(c.Request().Context(), name)
	if err != nil {
		return chat.User{}, err
	}
	if !chat.MayMessage(u, peer) {
		return chat.User{}, chat.Errorf(chat.ENotFound, "No user is called %q.", name)
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
	var a access
	if exists {
		if a, err = s.accessTo(ctx, u, room); err != nil {
			return err
		}
	}
	switch {
	case a.Read:
		return s.showRoom(c, u, a)
	case !exists && !crossSite(c):
		if room, err = s.openDM(ctx, u, peer); err != nil {
			return err
		}
		return s.showRoom(c, u, memberAccess(u, room))
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
	if _, err := s.reopenDM(ctx, u, peer); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/dm/"+url.PathEscape(peer.Username))
}

// reopenDM is openDM by u's own choice: someone who left the conversation
// is in it again.
func (s *Server) reopenDM(ctx context.Context, u, peer chat.User) (chat.Room, error) {
	room, err := s.openDM(ctx, u, peer)
	if err != nil {
		return room, err
	}
	if _, err := s.store.Join(ctx, room.ID, u.ID); err != nil {
		return room, err
	}
	return room, nil
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
