package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/chat/live"
	"agora/views"
)

// The admins' rooms page: every room, and for each a rename, a topic,
// archiving (read-only, out of the sidebars) and deletion behind a
// confirmation. A change is a notice in the room that carries it (see
// changeRoom), so open pages follow it live on every node; every action is
// in the audit list.

func (s *Server) handleAdminRooms(c echo.Context) error {
	return s.renderAdminRooms(c, http.StatusOK, s.takeFlash(c), "")
}

func (s *Server) renderAdminRooms(c echo.Context, status int, ok, errMsg string) error {
	rooms, err := s.store.AdminRooms(c.Request().Context())
	if err != nil {
		return err
	}
	p, audit, err := s.adminPage(c, "Admin: rooms")
	if err != nil {
		return err
	}
	return render(c, status, views.AdminRoomsPage(p, rooms, s.retention, audit, ok, errMsg))
}

// adminRoomsError shows the rooms page with the reason an action was refused.
func (s *Server) adminRoomsError(c echo.Context, err error) error {
	code := chat.ErrorCode(err)
	if code == chat.EInternal || code == chat.ENotFound {
		return err
	}
	return s.renderAdminRooms(c, statusOf[code], "", chat.ErrorMessage(err))
}

// adminRoom loads the room named in the path, with its topic and members:
// a room, never a direct conversation, which is not the admins' to change.
func (s *Server) adminRoom(c echo.Context) (chat.AdminRoom, error) {
	return s.store.AdminRoom(c.Request().Context(), c.Param("slug"))
}

// adminNotice allows an admin's notice under the same limit as everyone's:
// each is a message in a room.
func (s *Server) adminNotice(c echo.Context) error {
	u, _ := userFrom(c)
	if !s.noticeLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		return chat.Errorf(chat.ERateLimit, "You are changing rooms too fast. Please wait a minute.")
	}
	return nil
}

func (s *Server) handleAdminRenameRoom(c echo.Context) error {
	u, _ := userFrom(c)
	r, err := s.adminRoom(c)
	if err != nil {
		return err
	}
	name, _, err := chat.ValidateRoomName(c.FormValue("name"))
	if err == nil && name != r.Name {
		err = s.adminNotice(c)
	}
	if err != nil {
		return s.adminRoomsError(c, err)
	}
	if name == r.Name {
		return s.adminDone(c, "/admin/rooms", views.RoomTitle(r.Room)+" is called that already.")
	}
	old := views.RoomTitle(r.Room)
	text := says("notice.room_renamed", "Name", u.Name(), "Room", old, "New", "#"+name)
	if err := s.changeRoom(c.Request().Context(), u, r.Room, text, chat.RoomChange{Name: name}); err != nil {
		return err
	}
	if err := s.audit(c, "renamed room", r.Slug, old+" → #"+name); err != nil {
		return err
	}
	return s.adminDone(c, "/admin/rooms", old+" is now #"+name+".")
}

func (s *Server) handleAdminRoomTopic(c echo.Context) error {
	u, _ := userFrom(c)
	r, err := s.adminRoom(c)
	if err != nil {
		return err
	}
	topic, err := chat.ValidateTopic(c.FormValue("topic"))
	if err == nil && topic != r.Topic {
		err = s.adminNotice(c)
	}
	if err != nil {
		return s.adminRoomsError(c, err)
	}
	changed, err := s.setTopic(c.Request().Context(), u, r.Room, topic)
	if err != nil {
		return err
	}
	if !changed {
		return s.adminDone(c, "/admin/rooms", "The topic of "+views.RoomTitle(r.Room)+" is that already.")
	}
	action, detail := "set the topic of", topic
	if topic == "" {
		action = "cleared the topic of"
	}
	if err := s.audit(c, action, r.Slug, detail); err != nil {
		return err
	}
	return s.adminDone(c, "/admin/rooms", "The topic of "+views.RoomTitle(r.Room)+" is set.")
}

func (s *Server) handleAdminArchiveRoom(c echo.Context) error   { return s.setArchived(c, true) }
func (s *Server) handleAdminUnarchiveRoom(c echo.Context) error { return s.setArchived(c, false) }

// setArchived archives a room (read-only: no messages, edits or reactions
// by any way; out of the sidebars; its page readable with a banner) or
// opens it again.
func (s *Server) setArchived(c echo.Context, archived bool) error {
	u, _ := userFrom(c)
	r, err := s.adminRoom(c)
	if err != nil {
		return err
	}
	title := views.RoomTitle(r.Room)
	if r.Archived == archived {
		return s.adminDone(c, "/admin/rooms", title+" is like that already.")
	}
	if err := s.adminNotice(c); err != nil {
		return s.adminRoomsError(c, err)
	}
	text, action, done := says("notice.archived", "Name", u.Name(), "Room", title), "archived room", title+" is archived."
	if !archived {
		text, action, done = says("notice.reopened", "Name", u.Name(), "Room", title), "unarchived room", title+" is open again."
	}
	ctx := c.Request().Context()
	if err := s.changeRoom(ctx, u, r.Room, text, chat.RoomChange{Archived: &archived}); err != nil {
		return err
	}
	if err := s.audit(c, action, r.Slug, ""); err != nil {
		return err
	}
	return s.adminDone(c, "/admin/rooms", done)
}

// handleAdminDeleteRoomPage asks for the confirmation a deletion needs: the
// room's name, typed. It works without JavaScript.
func (s *Server) handleAdminDeleteRoomPage(c echo.Context) error {
	r, err := s.adminRoom(c)
	if err != nil {
		return err
	}
	return s.renderDeleteRoom(c, http.StatusOK, r, "")
}

func (s *Server) renderDeleteRoom(c echo.Context, status int, r chat.AdminRoom, errMsg string) error {
	p, audit, err := s.adminPage(c, "Admin: delete "+views.RoomTitle(r.Room))
	if err != nil {
		return err
	}
	return render(c, status, views.AdminDeleteRoomPage(p, r, audit, errMsg))
}

// handleAdminDeleteRoom deletes a room and everything in it, once its name
// was typed to confirm. Before it goes, the room is archived with a notice
// (unless it was already), so the sidebars of its members drop it live on
// every node; then its sockets close (1008) on every node.
func (s *Server) handleAdminDeleteRoom(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	r, err := s.adminRoom(c)
	if err != nil {
		return err
	}
	if typed := strings.Join(strings.Fields(c.FormValue("confirm")), " "); typed != r.Name {
		return s.renderDeleteRoom(c, http.StatusUnprocessableEntity, r,
			"The name typed is not the room's: nothing was deleted. Type "+r.Name+" exactly to delete the room.")
	}
	if !r.Archived {
		archived := true
		if err := s.changeRoom(ctx, u, r.Room, says("notice.room_deleted", "Name", u.Name(), "Room", views.RoomTitle(r.Room)), chat.RoomChange{Archived: &archived}); err != nil {
			return err
		}
	}
	if err := s.store.DeleteRoom(ctx, r.ID); err != nil {
		return err
	}
	s.closer.CloseRoom(r.ID, live.ClosePolicy, "this room was deleted")
	detail := views.RoomTitle(r.Room) + ", " + strconv.Itoa(r.Members) + " members"
	if err := s.audit(c, "deleted room", r.Slug, detail); err != nil {
		return err
	}
	return s.adminDone(c, "/admin/rooms", views.RoomTitle(r.Room)+" is deleted.")
}
