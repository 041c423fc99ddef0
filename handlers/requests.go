package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
)

const (
	headerRequestID = "X-Request-Id"
	ctxRequestID    = "request_id"
	// statusClientGone is what the logs and metrics say for a request whose
	// client left before the answer (nginx's 499): nothing was sent.
	statusClientGone = 499
)

// observe gives every request an id (the client's X-Request-Id if it is a
// sane one, else a fresh one), echoes it in the response, answers errors
// through handleError, and writes one log line and one metric per request.
// A client that went away is not an error: it is logged at INFO. What every
// page fetches and health checks are logged at DEBUG when they succeed (see
// quietRoute).
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		id := c.Request().Header.Get(headerRequestID)
		if !validRequestID(id) {
			id = newRequestID()
		}
		c.Set(ctxRequestID, id)
		c.Response().Header().Set(headerRequestID, id)

		err := next(c)
		gone := clientGone(c, err)
		// An error after the answer began cannot change it, but is logged.
		midAnswer := err != nil && c.Response().Committed
		if err != nil && !gone {
			c.Error(err) // answers it (handleError), so the status below is the one sent
		}
		took := time.Since(start)
		status := c.Response().Status
		if gone {
			status = statusClientGone
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		s.metrics.Request(route, status, took)

		level := slog.LevelInfo
		if quietRoute(route) && status < 400 {
			level = slog.LevelDebug
		}
		attrs := []slog.Attr{
			slog.String("id", id),
			slog.String("method", c.Request().Method),
			slog.String("route", route),
			slog.String("path", c.Request().URL.Path),
			slog.Int("status", status),
			slog.Duration("took", took),
		}
		if err != nil && !gone && (status >= 500 || midAnswer) {
			level = slog.LevelError
			attrs = append(attrs, slog.Any("err", err))
		}
		s.log.LogAttrs(context.Background(), level, "request", attrs...)
		return nil
	}
}

// quietRoute says whether a route's successful requests are logged at DEBUG
// rather than INFO: the stylesheets, scripts and icons every page fetches,
// and the health check a load balancer asks every few seconds. They would
// be most of the INFO log and tell nothing the page's own line does not;
// their failures (a missing asset, a 503 health check) stay at INFO or
// above, and the metrics count them all.
func quietRoute(route string) bool {
	return route == "/assets/*" || route == "/me.css" || route == "/healthz"
}

// clientGone reports whether the request failed because its client left:
// its context was cancelled (net/http does that when the connection drops),
// or writing the answer found the connection closed.
func clientGone(c echo.Context, err error) bool {
	var he *echo.HTTPError
	if errors.As(err, &he) && he.Code == http.StatusRequestTimeout {
		// The body was too slow: net/http cancelled the context when its
		// read failed, but the client is there to be told why.
		return false
	}
	if errors.Is(c.Request().Context().Err(), context.Canceled) {
		return true
	}
	return err != nil && (errors.Is(err, context.Canceled) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNRESET))
}

// readForm reads a posted form before any handler looks at it, so a body
// that is too big (413) or too slow to arrive (the server's read timeout:
// 408) is refused as such, instead of reaching a handler as empty fields.
func readForm(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Body == nil || r.Body == http.NoBody || r.Header.Get(echo.HeaderContentType) != echo.MIMEApplicationForm {
			return next(c)
		}
		if err := r.ParseForm(); err != nil {
			var he *echo.HTTPError
			switch {
			case errors.As(err, &he):
				return he
			case errors.Is(err, os.ErrDeadlineExceeded):
				return echo.NewHTTPError(http.StatusRequestTimeout).SetInternal(err)
			default:
				return echo.NewHTTPError(http.StatusBadRequest).SetInternal(err)
			}
		}
		return next(c)
	}
}

// validRequestID accepts a client's id only if it is short and plain, so it
// cannot forge log lines or bloat them.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// recovered turns a handler's panic into an error with its stack, which
// observe then answers (500) and logs once.
func recovered(_ echo.Context, err error, stack []byte) error {
	return fmt.Errorf("panic: %w\n%s", err, stack)
}

// requestID is the request's id, for log lines written while serving it.
func requestID(c echo.Context) string {
	id, _ := c.Get(ctxRequestID).(string)
	return id
}
