package handlers

import (
	"context"
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
		users = append(users, views.UserStorage{Username: us.User.Username, Name: us.User.Name(), Storage: s.withQuota(us.Storage),
			Own: us.Storage.Limit > 0})
	}
	total, err := s.store.TotalStorage(c.Request().Context())
	if err != nil {
		return err
	}
	p, err := s.page(c, "Storage", 0)
	if err != nil {
		return err
	}
	notice := ""
	if who := c.QueryParam("saved"); who != "" {
		notice = "Saved the limit of " + who + "."
	}
	server := views.ServerStorage{Quota: s.storageQuota, Storage: chat.Storage{Used: total, Limit: s.storageTotal}}
	return render(c, http.StatusOK, views.StoragePage(p, users, server, notice))
}

// handleSetStorageLimit sets how many MB of files an account may keep;
// empty or 0 gives it the server's default again. Files already stored stay.
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
			return chat.Errorf(chat.EInvalid, "A storage limit is a whole number of MB, or empty for the server's default.")
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

// withQuota is st with the server's default quota where no limit of its own
// was set.
func (s *Server) withQuota(st chat.Storage) chat.Storage {
	if st.Limit <= 0 {
		st.Limit = s.storageQuota
	}
	return st
}

// storageLeft is the most the user may store now: what is left of their
// limit (theirs, or the server's default), and of the server's total; -1
// without either. quota reports whether the user's own limit is the nearer.
func (s *Server) storageLeft(ctx context.Context, userID int64) (left int64, server bool, err error) {
	st, err := s.store.Storage(ctx, userID)
	if err != nil {
		return 0, false, err
	}
	left = s.withQuota(st).Left()
	if s.storageTotal > 0 {
		total, err := s.store.TotalStorage(ctx)
		if err != nil {
			return 0, false, err
		}
		if serverLeft := max(0, s.storageTotal-total); left < 0 || serverLeft < left {
			return serverLeft, true, nil
		}
	}
	return left, false, nil
}
