package handlers

import (
	"context"
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

// handleError is the one place errors become responses. Users see an error
// page in the app's look; internal details stay in the log (observe's line).
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if isAPI(c) {
		s.apiErrorResponse(err, c)
		return
	}
	status, msg := http.StatusInternalServerError, chat.ErrorMessage(err)
	var he *echo.HTTPError
	if isHook(c) {
		if errors.As(err, &he) {
			status = he.Code
		} else {
			status = statusOf[chat.ErrorCode(err)]
		}
		hookErrorResponse(c, status)
		return
	}
	if errors.As(err, &he) {
		status = he.Code
		switch status {
		case http.StatusNotFound:
			msg = "There is nothing at this address."
		case http.StatusMethodNotAllowed:
			msg = "That action is not available here."
		case http.StatusRequestEntityTooLarge:
			msg = "That was more than the server accepts in one request."
		case http.StatusRequestTimeout:
			msg = "The request took too long to arrive. Please try again."
			// net/http cancelled the request's context when the body's read
			// timed out; the client is still there to read why.
			r := c.Request()
			c.SetRequest(r.WithContext(context.WithoutCancel(r.Context())))
		default:
			if status < 500 {
				msg = http.StatusText(status)
			}
		}
	} else {
		status = statusOf[chat.ErrorCode(err)]
	}
	// The request's one log line, with err for a 5xx, is observe's.
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	p, perr := s.page(c, "Error", 0)
	if perr != nil && !clientGone(c, perr) {
		s.log.Error("error page", "id", requestID(c), "err", perr)
	}
	if rerr := render(c, status, views.ErrorPage(p, status, msg)); rerr != nil && !clientGone(c, rerr) {
		s.log.Error("render error page", "id", requestID(c), "err", rerr)
	}
}
