// Package assets embeds agora's static files: the stylesheet, the one small
// script, the icons and the web app manifest, and htmx in vendor/ (fetched by
// `make assets`, not committed).
package assets

import (
	"embed"
	"fmt"
	"io/fs"
)

// FS holds the files served under /assets/. vendor/ is embedded as a folder,
// which holds a committed README, so that a checkout where `make assets` has
// not run yet still builds and vets; Check says what such a build lacks.
//
//go:embed app.css nojs.css app.js files.js push.js sw.js switcher.js icon.svg icon-192.png icon-512.png manifest.webmanifest vendor
var FS embed.FS

// fetched are the files `make assets` puts in vendor/.
var fetched = []string{"vendor/htmx.min.js", "vendor/ws.min.js"}

// Check refuses a build without the fetched files: its pages would load no
// htmx, and work only as they do without JavaScript.
func Check() error {
	for _, name := range fetched {
		if _, err := fs.Stat(FS, name); err != nil {
			return fmt.Errorf("assets: %s is not in this build: run `make assets` (it fetches htmx from npm), then build again", name)
		}
	}
	return nil
}
