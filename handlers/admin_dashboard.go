package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/views"
)

// The admins' dashboard: the last 30 days (UTC) at /admin, drawn on the
// server, and the same numbers as JSON for an admin's token.
const (
	statsDays  = 30
	statsRooms = 10
)

// stats counts the 30 days that end today (UTC).
func (s *Server) stats(ctx context.Context) (chat.Stats, error) {
	today := time.Now().UTC().Truncate(24 * time.Hour)
	return s.store.Stats(ctx, today.AddDate(0, 0, 1-statsDays), statsDays, statsRooms)
}

func (s *Server) handleAdminHome(c echo.Context) error {
	st, err := s.stats(c.Request().Context())
	if err != nil {
		return err
	}
	p, audit, err := s.adminPage(c, "Admin: dashboard")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.AdminDashboardPage(p, views.Dashboard(st, s.storageTotal), audit))
}

type apiStats struct {
	From         string          `json:"from"`
	To           string          `json:"to"`
	Messages     int64           `json:"messages"`
	ActivePeople int64           `json:"active_people"`
	Days         []apiStatsDay   `json:"days"`
	BusiestRooms []apiStatsRoom  `json:"busiest_rooms"`
	Storage      apiStatsStorage `json:"storage"`
}

type apiStatsDay struct {
	Date         string `json:"date"`
	Messages     int64  `json:"messages"`
	ActivePeople int64  `json:"active_people"`
	StorageBytes int64  `json:"storage_bytes"`
}

type apiStatsRoom struct {
	Slug     string `json:"slug"`
	Name     string `json:"name"`
	Private  bool   `json:"private"`
	Messages int64  `json:"messages"`
}

type apiStatsStorage struct {
	Bytes      int64 `json:"bytes"`
	Files      int64 `json:"files"`
	LimitBytes int64 `json:"limit_bytes"`
}

// handleAPIAdminStats gives the dashboard's numbers to an admin's token;
// anyone else's is refused (403), as the page is hidden from them.
func (s *Server) handleAPIAdminStats(c echo.Context) error {
	u, _ := userFrom(c)
	if !chat.MayAdminister(u) {
		return chat.Errorf(chat.EForbidden, "Only admins may read the server's statistics.")
	}
	st, err := s.stats(c.Request().Context())
	if err != nil {
		return err
	}
	const date = time.DateOnly
	out := apiStats{
		From: st.Days[0].Day.Format(date), To: st.Days[len(st.Days)-1].Day.Format(date),
		Messages: st.Messages, ActivePeople: st.ActivePeople,
		Days:         make([]apiStatsDay, 0, len(st.Days)),
		BusiestRooms: make([]apiStatsRoom, 0, len(st.BusiestRooms)),
		Storage:      apiStatsStorage{Bytes: st.StorageBytes, Files: st.Files, LimitBytes: s.storageTotal},
	}
	for _, d := range st.Days {
		out.Days = append(out.Days, apiStatsDay{Date: d.Day.Format(date), Messages: d.Messages, ActivePeople: d.ActivePeople, StorageBytes: d.StorageBytes})
	}
	for _, r := range st.BusiestRooms {
		out.BusiestRooms = append(out.BusiestRooms, apiStatsRoom(r))
	}
	return c.JSON(http.StatusOK, out)
}
