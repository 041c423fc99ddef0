package handlers

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"agora/chat"
)

const csp = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func (s *Server) secureHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.isTLS(c) {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		return next(c)
	}
}

// crossOrigin refuses unsafe requests sent by other sites' pages (CSRF). The
// socket handshake is a GET: coder/websocket's Origin check guards it.
func (s *Server) crossOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := s.cop.Check(c.Request()); err != nil {
			return chat.Errorf(chat.EForbidden, "This form was sent from another site, so it was refused.")
		}
		return next(c)
	}
}

// loadSession puts the signed-in user, if any, into the context.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token := s.sessionToken(c)
		if token == "" {
			return next(c)
		}
		hash := chat.HashToken(token)
		u, err := s.store.SessionUser(c.Request().Context(), hash)
		if err == nil {
			err = s.admit(u)
		}
		switch chat.ErrorCode(err) {
		case "":
			c.Set(ctxUser, u)
			c.Set(ctxSession, string(hash))
			userLanguage(c, u)
			s.touchSession(c, hash)
		case chat.EUnauthorized:
			clearSessionCookie(c)
		default:
			return err
		}
		return next(c)
	}
}

// requireUser sends the signed-out to the login page (GET) or refuses them.
func (s *Server) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, ok := userFrom(c); ok {
			return next(c)
		}
		if c.Request().Method == http.MethodGet && !isWebSocket(c) {
			return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
		}
		return chat.Errorf(chat.EUnauthorized, "Please sign in.")
	}
}

const (
	ctxUser    = "user"
	ctxSession = "session"
)

func userFrom(c echo.Context) (chat.User, bool) {
	u, ok := c.Get(ctxUser).(chat.User)
	return u, ok
}

func sessionFrom(c echo.Context) string {
	s, _ := c.Get(ctxSession).(string)
	return s
}

// isTLS reports whether the visit is over TLS: served so, or, behind a
// trusted proxy, forwarded from it.
func (s *Server) isTLS(c echo.Context) bool {
	return c.Request().TLS != nil || (s.trustProxy && c.Request().Header.Get("X-Forwarded-Proto") == "https")
}

func isHTMX(c echo.Context) bool { return c.Request().Header.Get("HX-Request") == "true" }

func isWebSocket(c echo.Context) bool {
	return strings.EqualFold(c.Request().Header.Get("Upgrade"), "websocket")
}
