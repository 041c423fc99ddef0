package handlers

import (
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"agora/views"
	"agora/views/locale"
)

// The reader's clock, as app.js finds it in the browser: zoneCookie holds
// their IANA time zone (Europe/Paris), hourCookie their language and how it
// writes a time ("en-US:h12", "de-DE:h23"; app.js writes it only when its
// own formatter writes times as views.Clock does). The room page then comes
// with its day lines and times as app.js would draw them. Both are hints:
// anything else counts as not known, and app.js puts times right either way.
const (
	zoneCookie = "agora_tz"
	hourCookie = "agora_hc"
)

// zones caches the locations read so far. Only names the zone database
// knows are kept, so it holds a few hundred at most.
var zones sync.Map // string -> *time.Location

// readerClock is the clock the request's cookies describe. A first visit
// has neither cookie: its times are written in UTC in the way the browser's
// language writes hours, when that way is one views.Clock can write, so that
// app.js, finding UTC is the browser's zone too (data-off says so), keeps
// them and makes no formatter while the page loads. Any other reader without
// a zone gets UTC and not known: times are left to app.js.
//
// A page in another language than English is timed in the browser's own
// way when the browser speaks that language (de-AT for German), and else in
// the page language's (app.js formats with the same choice), so an hours
// cookie made for another language counts as none.
func readerClock(c echo.Context) views.Clock {
	lang := langOf(c)
	zone, ok := readerZone(c)
	clock := views.Clock{Zone: zone, Lang: lang}
	ck, err := c.Cookie(hourCookie)
	hours := err == nil
	if hours && lang != locale.English {
		hours = speaks(ck.Value[:max(strings.LastIndexByte(ck.Value, ':'), 0)], lang)
	}
	if !ok {
		if hours {
			return clock
		}
		clock.H12, clock.Known = firstVisitHours(c.Request().Header.Get("Accept-Language"), lang)
		return clock
	}
	if hours {
		switch ck.Value[strings.LastIndexByte(ck.Value, ':')+1:] {
		case "h12":
			clock.H12, clock.Known = true, true
		case "h23":
			clock.Known = true
		}
	}
	return clock
}

// readerZone is the zone named by the request's cookie, or UTC and false.
func readerZone(c echo.Context) (*time.Location, bool) {
	ck, err := c.Cookie(zoneCookie)
	if err != nil || !zoneName(ck.Value) {
		return time.UTC, false
	}
	if loc, ok := zones.Load(ck.Value); ok {
		return loc.(*time.Location), true
	}
	loc, err := time.LoadLocation(ck.Value)
	if err != nil {
		return time.UTC, false
	}
	zones.Store(ck.Value, loc)
	return loc, true
}

// zoneName accepts what IANA zone names are made of (Area/City_Name,
// Etc/GMT+5), and nothing that could reach elsewhere in the file system:
// LoadLocation reads files named after its argument.
func zoneName(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '/' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '+', c == '-':
		case c == '/' && s[i-1] != '/':
		default:
			return false
		}
	}
	return true
}

// hourCycles is how Chromium's formatter writes a two-digit time for the
// language tags whose way views.Clock can write ("01:05 PM" or "13:05");
// tags not listed (en-AU's "01:05 pm", da's "13.05", ko's "PM 01:05") are
// left to app.js.
var hourCycles = map[string]bool{ // tag -> counts hours to twelve
	"en": true, "en-US": true,
	"en-GB": false, "de": false, "de-DE": false, "de-AT": false, "de-CH": false,
	"fr": false, "fr-FR": false, "it": false, "it-IT": false, "nl": false, "nl-NL": false,
	"es": false, "es-ES": false, "pt": false, "pt-BR": false, "pt-PT": false,
	"sv": false, "pl": false, "ru": false, "nb": false, "cs": false, "tr": false,
	"uk": false, "ja": false, "zh": false,
}

// firstVisitHours reads the first language of an Accept-Language header
// (the browser's own language) and says whether it counts hours to twelve
// and whether its way of writing times is known at all. A page in another
// language than English whose browser does not speak it is timed in that
// language's way.
func firstVisitHours(accept string, lang locale.Lang) (h12, known bool) {
	tag, _, _ := strings.Cut(accept, ",")
	tag, _, _ = strings.Cut(tag, ";")
	tag = strings.TrimSpace(tag)
	if lang != locale.English && !speaks(tag, lang) {
		tag = lang.Code()
	}
	h12, known = hourCycles[tag]
	return h12, known
}

// speaks reports whether a browser language tag (de-AT) is lang.
func speaks(tag string, lang locale.Lang) bool {
	primary, _, _ := strings.Cut(tag, "-")
	return strings.EqualFold(primary, lang.Code())
}
