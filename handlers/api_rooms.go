package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"agora/chat"
)

type apiUser struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	IsBot       bool   `json:"is_bot"`
	IsAdmin     bool   `json:"is_admin"`
}

type apiRoom struct {
	Slug    string `json:"slug"`
	Name    string `json:"name"`
	Private bool   `json:"private"`
	Member  bool   `json:"member"`
	Kind    string `json:"kind"`           // "room" or "dm"
	Peer    string `json:"peer,omitempty"` // the other person of a direct conversation
}

func (s *Server) handleAPIMe(c echo.Context) error {
	u, _ := userFrom(c)
	return c.JSON(http.StatusOK, apiUser{Username: u.Username, DisplayName: u.Name(), IsBot: u.IsBot, IsAdmin: u.IsAdmin})
}

// handleAPIRooms lists the rooms the user can see: public rooms, the private
// rooms they are in, and their direct conversations.
func (s *Server) handleAPIRooms(c echo.Context) error {
	u, _ := userFrom(c)
	rooms, err := s.store.VisibleRooms(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	out := struct {
		Rooms []apiRoom `json:"rooms"`
	}{Rooms: make([]apiRoom, 0, len(rooms))}
	for _, r := range rooms {
		if a := chat.Access(u, r.Room, r.Member); !a.Read && !a.Join {
			continue
		}
		out.Rooms = append(out.Rooms, apiRoom{Slug: r.Slug, Name: r.Name, Private: r.Private, Member: r.Member, Kind: r.Kind, Peer: r.Peer.Username})
	}
	return c.JSON(http.StatusOK, out)
}

// handleAPIJoin joins a public room (the room says so, as when a browser
// opens it). A private room the user is not in does not exist for them.
func (s *Server) handleAPIJoin(c echo.Context) error {
	u, _ := userFrom(c)
	a, err := s.pathAccess(c, u)
	if err != nil {
		return err
	}
	if !a.member {
		if !a.Join {
			return a.deny("You cannot join this room.")
		}
		if err := s.writeAllowed(c); err != nil {
			return err
		}
		if a, err = s.join(c.Request().Context(), u, a); err != nil {
			return err
		}
	}
	room := a.room
	return c.JSON(http.StatusOK, apiRoom{Slug: room.Slug, Name: room.Name, Private: room.Private, Member: true, Kind: room.Kind})
}
