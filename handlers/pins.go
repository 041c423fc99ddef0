package handlers

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/views"
	"agora/views/locale"
)

// maxListed bounds the pins and saved messages one page lists.
const maxListed = 200

// handlePin pins a message for everyone in its room, or unpins it: a
// notice in the room says so, live on every open page.
func (s *Server) handlePin(c echo.Context) error {
	u, _ := userFrom(c)
	m, a, err := s.messageAccess(c, u)
	if err != nil {
		return err
	}
	pinned, err := s.togglePin(c.Request().Context(), u, a, m)
	if err != nil {
		return err
	}
	switch {
	case isHTMX(c):
		return s.renderMenu(c, u, m, a, map[bool]string{true: "Pinned.", false: "Unpinned."}[pinned])
	case c.FormValue("back") == "pins":
		return c.Redirect(http.StatusSeeOther, "/rooms/"+a.room.Slug+"/pins")
	}
	return backToRoom(c, a.room, m)
}

// togglePin pins m, or unpins it if it is pinned, with a notice by u that
// carries the change, and reports whether it is pinned now.
func (s *Server) togglePin(ctx context.Context, u chat.User, a access, m chat.Message) (bool, error) {
	pinned, _, err := s.store.Marks(ctx, u.ID, m.ID)
	if err != nil {
		return false, err
	}
	switch {
	case !a.Post && !a.member:
		return false, a.deny("Join the room to pin its messages.")
	case !a.Post:
		return false, a.deny("You cannot pin messages here.")
	case !pinned && !a.CanPin(m):
		return false, chat.Errorf(chat.EInvalid, "Only a message that is not deleted can be pinned.")
	}
	if !s.postLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		return false, chat.Errorf(chat.ERateLimit, "You are changing things too fast. Please wait a moment.")
	}
	text := says("notice.pinned", "Name", u.Name())
	if pinned {
		text = says("notice.unpinned", "Name", u.Name())
	}
	return !pinned, s.changeRoom(ctx, u, a.room, text, chat.RoomChange{Pin: &chat.PinChange{Message: m.ID, Pinned: !pinned}})
}

// handleSave saves a message for the reader alone, or unsaves it.
func (s *Server) handleSave(c echo.Context) error {
	u, _ := userFrom(c)
	m, a, err := s.messageAccess(c, u)
	if err != nil {
		return err
	}
	saved, err := s.toggleSaved(c.Request().Context(), u, m)
	if err != nil {
		return err
	}
	switch {
	case isHTMX(c):
		return s.renderMenu(c, u, m, a, map[bool]string{true: "Saved.", false: "Unsaved."}[saved])
	case c.FormValue("back") == "saved":
		return c.Redirect(http.StatusSeeOther, "/saved")
	}
	return backToRoom(c, a.room, m)
}

// toggleSaved saves m (which u may read) for u, or unsaves it.
func (s *Server) toggleSaved(ctx context.Context, u chat.User, m chat.Message) (bool, error) {
	if m.Kind != chat.MessageText {
		return false, chat.Errorf(chat.EInvalid, "Only messages can be saved.")
	}
	if !s.reactLimits.Allow(strconv.FormatInt(u.ID, 10)) {
		return false, chat.Errorf(chat.ERateLimit, "You are saving too fast. Please wait a moment.")
	}
	return s.store.ToggleSaved(ctx, u.ID, m.ID)
}

// handlePins lists the room's pinned messages.
func (s *Server) handlePins(c echo.Context) error {
	u, _ := userFrom(c)
	a, err := s.pathAccess(c, u)
	if err != nil {
		return err
	}
	if !a.Read {
		return errNoRoom
	}
	ctx := c.Request().Context()
	pins, err := s.store.Pins(ctx, u.ID, a.room.ID, maxListed)
	if err != nil {
		return err
	}
	title := views.RoomTitle(a.room)
	if a.room.IsDM() {
		peer, err := s.store.DMPeer(ctx, a.room.ID, u.ID)
		if err != nil {
			return err
		}
		title = "@" + peer.Name()
	}
	p, err := s.page(c, locale.F(c.Request().Context(), "pins.pinned_in", "Room", title), a.room.ID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.PinsPage(p, a.room, title, pins, a.Post))
}

// handleSaved lists the reader's saved messages.
func (s *Server) handleSaved(c echo.Context) error {
	u, _ := userFrom(c)
	saved, err := s.store.Saved(c.Request().Context(), u.ID, maxListed)
	if err != nil {
		return err
	}
	p, err := s.page(c, "Saved messages", 0)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.SavedPage(p, saved))
}

// The API's pins and saved messages: the same toggles and lists.

type apiMarked struct {
	Message apiMessage `json:"message"`
	Pinned  *bool      `json:"pinned,omitempty"`
	Saved   *bool      `json:"saved,omitempty"`
}

func (s *Server) handleAPIPin(c echo.Context) error {
	u, m, a, err := s.apiMessageFor(c)
	if err != nil {
		return err
	}
	if err := s.writeAllowed(c); err != nil {
		return err
	}
	pinned, err := s.togglePin(c.Request().Context(), u, a, m)
	if chat.ErrorCode(err) == chat.ERateLimit {
		return tooFast(c, s.limitDelay(u, s.postLimits), chat.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apiMarked{Message: toAPIMessage(m, a.room), Pinned: &pinned})
}

func (s *Server) handleAPISave(c echo.Context) error {
	u, m, a, err := s.apiMessageFor(c)
	if err != nil {
		return err
	}
	if err := s.writeAllowed(c); err != nil {
		return err
	}
	saved, err := s.toggleSaved(c.Request().Context(), u, m)
	if chat.ErrorCode(err) == chat.ERateLimit {
		return tooFast(c, s.limitDelay(u, s.reactLimits), chat.ErrorMessage(err))
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apiMarked{Message: toAPIMessage(m, a.room), Saved: &saved})
}

func (s *Server) handleAPIPins(c echo.Context) error {
	u, _ := userFrom(c)
	a, err := s.apiRoomFor(c, u)
	if err != nil {
		return err
	}
	pins, err := s.store.Pins(c.Request().Context(), u.ID, a.room.ID, maxListed)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apiHitMessages(pins))
}

func (s *Server) handleAPISaved(c echo.Context) error {
	u, _ := userFrom(c)
	saved, err := s.store.Saved(c.Request().Context(), u.ID, maxListed)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apiHitMessages(saved))
}

// apiHitMessages lists messages found with their rooms as the API's
// messages, in the order found.
func apiHitMessages(hits []chat.SearchHit) apiMessages {
	out := apiMessages{Messages: make([]apiMessage, 0, len(hits))}
	for _, h := range hits {
		out.Messages = append(out.Messages, toAPIMessage(h.Message, h.Room))
	}
	return out
}
