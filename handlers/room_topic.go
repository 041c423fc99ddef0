package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/chat/live"
	"agora/views"
)

// handleTopic lets a member set the room's topic: the room is told with a
// notice, and every open page of it shows the new topic at once.
func (s *Server) handleTopic(c echo.Context) error {
	ctx := c.Request().Context()
	u, _ := userFrom(c)
	room, member, err := s.pathRoom(c, u)
	if err != nil {
		return err
	}
	if !member || room.IsDM() {
		return errNoRoom
	}
	topic, err := chat.ValidateTopic(c.FormValue("topic"))
	if err != nil {
		return err
	}
	if !s.postLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		return chat.Errorf(chat.ERateLimit, "You are changing things too fast. Please wait a moment.")
	}
	changed, err := s.store.SetRoomTopic(ctx, room.ID, topic)
	if err != nil {
		return err
	}
	if changed {
		text := u.Name() + " set the topic: " + topic
		if topic == "" {
			text = u.Name() + " cleared the topic"
		}
		if err := s.notice(ctx, u, room, text); err != nil {
			return err
		}
		s.hub.Publish(room.ID, live.Frame{Data: renderBytes(views.RoomTopic(topic, true))})
	}
	if isHTMX(c) {
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, "/rooms/"+room.Slug)
}
