package handlers

import (
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// compress gzips responses: pages, fragments, the stylesheet and scripts
// shrink to a fraction on the wire (htmx from 51 KB to 17 KB). It leaves
// alone what must not or need not be compressed: WebSocket upgrades (the
// connection is hijacked and speaks frames of its own), event streams (each
// event must go out as it happens) and stored files (images are compressed
// already; the rest is served as uploaded), and exports (zips, compressed
// already, streamed as they are written).
func compress() echo.MiddlewareFunc {
	return middleware.GzipWithConfig(middleware.GzipConfig{
		// Level 5 costs half of the default's time for a page a few
		// percent larger.
		Level:     5,
		MinLength: 512,
		Skipper: func(c echo.Context) bool {
			r := c.Request()
			return isWebSocket(c) ||
				strings.Contains(r.Header.Get("Accept"), "text/event-stream") ||
				strings.HasPrefix(r.URL.Path, "/api/v1/events") ||
				strings.HasPrefix(r.URL.Path, "/files/") ||
				isExport(c)
		},
	})
}
