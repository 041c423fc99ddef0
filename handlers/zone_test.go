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
	var clockFor func(zone, hours, accept string) (string, bool, bool)
	clockOf := func(zone, hours string) (string, bool, bool) {
		return clockFor(zone, hours, "")
	}
	clockFor = func(zone, hours, accept string) (string, bool, bool) {
		req := httptest.NewRequest(http.MethodGet, "/rooms/general", nil)
		if accept != "" {
			req.Header.Set("Accept-Language", accept)
		}
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
	// A first visit (no cookie at all) is written in UTC the way the
	// browser's language writes hours, where that way is known; a zone
	// without its hours, or hours app.js could not match, are not guessed.
	if zone, h12, known := clockFor("", "", "en-US,en;q=0.9"); zone != "UTC" || !h12 || !known {
		t.Errorf("a first visit in en-US reads as %s, h12 %v, known %v: want UTC, h12, known", zone, h12, known)
	}
	if _, h12, known := clockFor("", "", "de-DE;q=1, en;q=0.5"); h12 || !known {
		t.Errorf("a first visit in de-DE reads as h12 %v, known %v: want 24 hours, known", h12, known)
	}
	for _, accept := range []string{"", "en-AU", "ko", "*", "da,en"} {
		if _, _, known := clockFor("", "", accept); known {
			t.Errorf("a first visit with Accept-Language %q counts as known", accept)
		}
	}
	if _, _, known := clockFor("", "en-AU:none", "en-US"); known {
		t.Error("a browser that said its times cannot be matched is guessed for again")
	}
	for _, bad := range []string{"", "Nowhere/Land", "../../../etc/passwd", "/etc/localtime", "Europe//Paris", "Europe/", "a/b;c"} {
		if zone, _, known := clockOf(bad, "en-US:h12"); zone != "UTC" || known {
			t.Errorf("zone %q reads as %s, known %v: want UTC, unknown", bad, zone, known)
		}
	}
}
