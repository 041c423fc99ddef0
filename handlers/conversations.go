package handlers

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/views"
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
	room, err := s.store.DM(ctx, u, peer)
	if err != nil {
		return err
	}
	return s.showRoom(c, u, room)
}

// handleDMForm is the sidebar's "message someone" form, which GETs ?username=.
func (s *Server) handleDMForm(c echo.Context) error {
	name := strings.TrimPrefix(strings.TrimSpace(c.QueryParam("username")), "@")
	if err := chat.ValidateUsername(name); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/dm/"+url.PathEscape(name))
}

// handleAddMember lets a member of a private room add someone by username.
func (s *Server) handleAddMember(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	room, member, err := s.pathRoom(c, u)
	if err != nil {
		return err
	}
	if !member || room.IsDM() {
		return errNoRoom
	}
	name := strings.TrimPrefix(strings.TrimSpace(c.FormValue("username")), "@")
	other, err := s.store.UserByUsername(ctx, name)
	if err != nil {
		return err
	}
	if other.IsGuest && room.Private {
		return chat.Errorf(chat.EInvalid, "Guests cannot join private rooms.")
	}
	added, err := s.store.Join(ctx, room.ID, other.ID)
	if err != nil {
		return err
	}
	if added {
		if err := s.notice(ctx, other, room, u.Name()+" added "+other.Name()+" to "+views.RoomTitle(room)); err != nil {
			return err
		}
		s.refreshNav(ctx, other.ID)
	}
	return c.Redirect(http.StatusSeeOther, "/rooms/"+room.Slug)
}

// handleRemoveMember lets the creator of a private room (or an admin) take
// someone out of it: their open sockets there close, and the room leaves
// their sidebar at once.
func (s *Server) handleRemoveMember(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	room, member, err := s.pathRoom(c, u)
	if err != nil {
		return err
	}
	if !member || room.IsDM() || !room.Private {
		return errNoRoom
	}
	if room.CreatedBy != u.ID && !u.IsAdmin {
		return chat.Errorf(chat.EForbidden, "Only the room's creator can remove members.")
	}
	other, err := s.store.UserByUsername(ctx, strings.TrimPrefix(strings.TrimSpace(c.FormValue("username")), "@"))
	if err != nil {
		return err
	}
	if other.ID == u.ID {
		return chat.Errorf(chat.EInvalid, "To leave the room, use Leave.")
	}
	// Told while they are still a member, so the notice is in their hands too.
	if err := s.notice(ctx, other, room, u.Name()+" removed "+other.Name()+" from "+views.RoomTitle(room)); err != nil {
		return err
	}
	removed, err := s.store.Leave(ctx, room.ID, other.ID)
	if err != nil {
		return err
	}
	if removed {
		s.hub.CloseUserInRoom(room.ID, other.ID, chat.ClosePolicy, "removed from this room")
		s.refreshNav(ctx, other.ID)
	}
	return c.Redirect(http.StatusSeeOther, "/rooms/"+room.Slug)
}

func (s *Server) handleSearch(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	q := strings.ToValidUTF8(c.QueryParam("q"), "")
	if len(q) > 256 {
		q = q[:256]
	}
	var hits []chat.SearchHit
	if strings.TrimSpace(q) != "" {
		var err error
		if hits, err = s.store.Search(ctx, u.ID, q, 50); err != nil {
			return err
		}
	}
	p, err := s.page(c, "Search", 0)
	if err != nil {
		return err
	}
	p.Query = q
	return render(c, http.StatusOK, views.SearchPage(p, q, hits))
}
