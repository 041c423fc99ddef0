// Package assets embeds agora's static files: the stylesheet, the one small
// script, the icons and the web app manifest, and htmx in vendor/ (fetched by `make assets`, not committed).
package assets

import "embed"

// FS holds the files served under /assets/.
//
//go:embed app.css app.js files.js icon.svg icon-192.png icon-512.png manifest.webmanifest vendor/htmx.min.js vendor/ws.min.js
var FS embed.FS
