package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/views"
)

// handleStoragePage shows admins every account's storage, with a form each
// to set its limit.
func (s *Server) handleStoragePage(c echo.Context) error {
	list, err := s.store.StorageByUser(c.Request().Context())
	if err != nil {
		return err
	}
	users := make([]views.UserStorage, 0, len(list))
	for _, us := range list {
		users = append(users, views.UserStorage{Username: us.User.Username, Name: us.User.Name(), Storage: us.Storage})
	}
	p, err := s.page(c, "Storage", 0)
	if err != nil {
		return err
	}
	notice := ""
	if who := c.QueryParam("saved"); who != "" {
		notice = "Saved the limit of " + who + "."
	}
	return render(c, http.StatusOK, views.StoragePage(p, users, notice))
}

// handleSetStorageLimit sets how many MB of files an account may keep;
// empty or 0 removes the limit. Files already stored stay.
func (s *Server) handleSetStorageLimit(c echo.Context) error {
	ctx := c.Request().Context()
	target, err := s.store.UserByUsername(ctx, c.Param("username"))
	if err != nil {
		return err
	}
	var mb int64
	if v := strings.TrimSpace(c.FormValue("limit_mb")); v != "" {
		mb, err = strconv.ParseInt(v, 10, 64)
		if err != nil || mb < 0 || mb > 1<<30 {
			return chat.Errorf(chat.EInvalid, "A storage limit is a whole number of MB, or empty for none.")
		}
	}
	if err := s.store.SetStorageLimit(ctx, target.ID, mb<<20); err != nil {
		return err
	}
	detail := "no limit"
	if mb > 0 {
		detail = strconv.FormatInt(mb, 10) + " MB"
	}
	if err := s.audit(c, "set storage limit", target.Username, detail); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/storage?saved="+target.Username)
}
