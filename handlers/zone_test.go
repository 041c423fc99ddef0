package handlers

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestReaderZone: the zone cookie names a zone of the database or counts
// for nothing; it never names a file elsewhere.
func TestReaderZone(t *testing.T) {
	e := echo.New()
	zoneOf := func(value string) string {
		req := httptest.NewRequest(http.MethodGet, "/rooms/general", nil)
		if value != "" {
			req.AddCookie(&http.Cookie{Name: zoneCookie, Value: value})
		}
		return readerZone(e.NewContext(req, httptest.NewRecorder())).String()
	}
	if got := zoneOf("Europe/Paris"); got != "Europe/Paris" && got != "UTC" {
		t.Errorf("Europe/Paris reads as %s", got)
	}
	for _, bad := range []string{"", "Nowhere/Land", "../../../etc/passwd", "/etc/localtime", "Europe//Paris", "Europe/", "a/b;c"} {
		if got := zoneOf(bad); got != "UTC" {
			t.Errorf("%q reads as %s, want UTC", bad, got)
		}
	}
}
