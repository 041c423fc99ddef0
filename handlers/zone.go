package handlers

import (
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// zoneCookie holds the reader's IANA time zone (Europe/Paris), written by
// app.js. The room page draws its day lines in that zone, so they are in
// place before any script runs. It is a hint: anything the zone database
// does not know is UTC, and app.js puts the lines right either way.
const zoneCookie = "agora_tz"

// zones caches the locations read so far. Only names the zone database
// knows are kept, so it holds a few hundred at most.
var zones sync.Map // string -> *time.Location

// readerZone is the zone named by the request's cookie, or UTC.
func readerZone(c echo.Context) *time.Location {
	ck, err := c.Cookie(zoneCookie)
	if err != nil || !zoneName(ck.Value) {
		return time.UTC
	}
	if loc, ok := zones.Load(ck.Value); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(ck.Value)
	if err != nil {
		return time.UTC
	}
	zones.Store(ck.Value, loc)
	return loc
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
