package handlers

import (
	"time"

	"github.com/labstack/echo/v4"

	"agora/chat"
)

var errDeactivated = chat.Errorf(chat.EUnauthorized,
	"This account has been deactivated by an admin. Ask an admin of this server if you think that is a mistake.")

// admit is the one check every way of signing in goes through (a session
// cookie, an API token): it refuses deactivated accounts, and guests while
// the server runs without -guests.
func (s *Server) admit(u chat.User) error {
	switch {
	case u.Deactivated:
		return errDeactivated
	case u.IsGuest && !s.guests:
		return chat.Errorf(chat.EUnauthorized, "Guests cannot sign in to this server any more.")
	}
	return nil
}

// touchSession records that the session is in use, at most once a minute
// per session: the sessions page shows it, and it costs no write per request.
func (s *Server) touchSession(c echo.Context, hash []byte) {
	now := time.Now()
	if !s.seen.due(string(hash), now) {
		return
	}
	if err := s.store.TouchSession(c.Request().Context(), hash, now, c.RealIP()); err != nil {
		// Worth a line in the log, not a failed page.
		s.log.Warn("touch session", "err", err)
	}
}
