package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/views"
)

// statusOf maps chat error codes to HTTP statuses, in one table.
var statusOf = map[string]int{
	chat.EInvalid:      http.StatusUnprocessableEntity,
	chat.ENotFound:     http.StatusNotFound,
	chat.EConflict:     http.StatusConflict,
	chat.EUnauthorized: http.StatusUnauthorized,
	chat.EForbidden:    http.StatusForbidden,
	chat.ERateLimit:    http.StatusTooManyRequests,
	chat.EInternal:     http.StatusInternalServerError,
}

// handleError is the one place errors become responses and are logged. Users
// see an error page in the app's look; internal details stay in the log.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg := http.StatusInternalServerError, chat.ErrorMessage(err)
	var he *echo.HTTPError
	if errors.As(err, &he) {
		status = he.Code
		switch status {
		case http.StatusNotFound:
			msg = "There is nothing at this address."
		case http.StatusMethodNotAllowed:
			msg = "That action is not available here."
		case http.StatusRequestEntityTooLarge:
			msg = "That was more than the server accepts in one request."
		default:
			if status < 500 {
				msg = http.StatusText(status)
			}
		}
	} else {
		status = statusOf[chat.ErrorCode(err)]
	}
	if status >= 500 {
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	p, perr := s.page(c, "Error", 0)
	if perr != nil {
		s.log.Error("error page", "err", perr)
	}
	if rerr := render(c, status, views.ErrorPage(p, status, msg)); rerr != nil {
		s.log.Error("render error page", "err", rerr)
	}
}
