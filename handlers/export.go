package handlers

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/db/export"
)

// Exports: the whole server for admins (GET /admin/export), a person's own
// data for them (GET /settings/export). The zip is streamed as it is made
// (see db/export): nothing is held in memory or on disk, however large.

func isExport(c echo.Context) bool {
	p := c.Request().URL.Path
	return p == "/admin/export" || p == "/settings/export"
}

func (s *Server) handleAdminExport(c echo.Context) error {
	if err := s.audit(c, "exported the server", "", ""); err != nil {
		return err
	}
	return s.streamExport(c, 0, "agora-export")
}

func (s *Server) handleMyExport(c echo.Context) error {
	u, _ := userFrom(c)
	if !chat.MayExportOwn(u) {
		return chat.Errorf(chat.EForbidden, "A guest has no data of their own to take out.")
	}
	return s.streamExport(c, u.ID, "agora-"+u.Username)
}

// streamExport writes the zip as the response. An export takes a while and
// reads the whole store: each person may start a few an hour.
func (s *Server) streamExport(c echo.Context, userID int64, name string) error {
	u, _ := userFrom(c)
	if !s.exportLimits.Allow(u.Username) {
		return chat.Errorf(chat.ERateLimit, "You have started several exports lately. Please wait a few minutes.")
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/zip")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+"-"+time.Now().UTC().Format("2006-01-02")+`.zip"`)
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	sum, err := export.Write(c.Request().Context(), s.store, c.Response(), export.Options{UserID: userID})
	if err != nil {
		// The status is sent: the cut zip is all the client can be told, and
		// its reader says it is incomplete. The log has why.
		if !clientGone(c, err) {
			s.log.Error("export", "id", requestID(c), "user", u.Username, "err", err)
		}
		panic(http.ErrAbortHandler) // ends the response without its zip's end
	}
	s.log.Info("export", "id", requestID(c), "user", u.Username, "scope", strings.TrimPrefix(name, "agora-"),
		"messages", sum.Messages, "files", sum.Files, "bytes", sum.Bytes)
	return nil
}
