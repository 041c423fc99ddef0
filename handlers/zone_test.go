package handlers

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestReaderClock: the cookies name a zone of the database and a way of
// writing hours, or count for nothing; the zone never names a file elsewhere.
func TestReaderClock(t *testing.T) {
	e := echo.New()
	clockOf := func(zone, hours string) (string, bool, bool) {
		req := httptest.NewRequest(http.MethodGet, "/rooms/general", nil)
		if zone != "" {
			req.AddCookie(&http.Cookie{Name: zoneCookie, Value: zone})
		}
		if hours != "" {
			req.AddCookie(&http.Cookie{Name: hourCookie, Value: hours})
		}
		c := readerClock(e.NewContext(req, httptest.NewRecorder()))
		return c.Zone.String(), c.H12, c.Known
	}
	zone, h12, known := clockOf("Europe/Paris", "en-US:h12")
	if zone != "Europe/Paris" || !h12 || !known {
		t.Errorf("Europe/Paris, en-US:h12 reads as %s, h12 %v, known %v", zone, h12, known)
	}
	if zone, h12, known := clockOf("UTC", "de-DE:h23"); zone != "UTC" || h12 || !known {
		t.Errorf("UTC, de-DE:h23 reads as %s, h12 %v, known %v", zone, h12, known)
	}
	if zone, _, known := clockOf("Europe/Paris", ""); zone != "Europe/Paris" || known {
		t.Errorf("a zone alone reads as %s, known %v: want the zone, times unknown", zone, known)
	}
	if _, _, known := clockOf("Europe/Paris", "en-AU:none"); known {
		t.Error("a language whose times app.js cannot match counts as known")
	}
	for _, bad := range []string{"", "Nowhere/Land", "../../../etc/passwd", "/etc/localtime", "Europe//Paris", "Europe/", "a/b;c"} {
		if zone, _, known := clockOf(bad, "en-US:h12"); zone != "UTC" || known {
			t.Errorf("zone %q reads as %s, known %v: want UTC, unknown", bad, zone, known)
		}
	}
}
