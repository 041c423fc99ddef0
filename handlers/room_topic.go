package handlers

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"agora/chat"
)

// handleTopic lets a member set the room's topic: the room is told with a
// notice, and every open page of it shows the new topic at once.
func (s *Server) handleTopic(c echo.Context) error {
	u, _ := userFrom(c)
	a, err := s.pathAccess(c, u)
	if err != nil {
		return err
	}
	room := a.room
	if !a.Topic {
		if !a.member || room.IsDM() {
			return errNoRoom
		}
		return a.deny("You cannot set the topic of this room.")
	}
	topic, err := chat.ValidateTopic(c.FormValue("topic"))
	if err != nil {
		return err
	}
	if !s.postLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		return chat.Errorf(chat.ERateLimit, "You are changing things too fast. Please wait a moment.")
	}
	if _, err := s.setTopic(c.Request().Context(), u, room, topic); err != nil {
		return err
	}
	if isHTMX(c) {
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, "/rooms/"+room.Slug)
}

// setTopic sets the room's topic, if it is another, with a notice by u
// that carries the change: it is one of the room's events, so every page
// of the room, and every one catching up later, shows the new topic. It
// reports whether the topic changed.
func (s *Server) setTopic(ctx context.Context, u chat.User, room chat.Room, topic string) (bool, error) {
	current, err := s.store.RoomTopic(ctx, room.ID)
	if err != nil || current == topic {
		return false, err
	}
	text := says("notice.topic_set", "Name", u.Name(), "Topic", topic)
	if topic == "" {
		text = says("notice.topic_cleared", "Name", u.Name())
	}
	return true, s.changeRoom(ctx, u, room, text, chat.RoomChange{Topic: &topic})
}

// changeRoom writes a change of the room and the notice that tells the
// room of it, in one commit: the notice is the room's event for it.
func (s *Server) changeRoom(ctx context.Context, u chat.User, room chat.Room, n chat.NoticeText, change chat.RoomChange) error {
	_, _, err := s.store.CreateMessage(ctx, chat.Message{RoomID: room.ID, AuthorID: u.ID, Kind: chat.MessageNotice, Body: english(n), Notice: &n, Change: &change})
	return err
}
