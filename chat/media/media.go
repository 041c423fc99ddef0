// Package media looks at uploaded files: what they really are (never what
// the client says), the metadata an image must lose before it is served
// (location above all), its size in pixels before anything decodes it, and
// its thumbnail. Everything streams except the decoding for a thumbnail,
// which the caller bounds.
package media

import (
	"mime"
	"net/http"
	"path"
	"strings"
)

// SniffLen is how many leading bytes Sniff looks at.
const SniffLen = 512

// Image types shown inline, as their content is recognised.
const (
	PNG  = "image/png"
	JPEG = "image/jpeg"
	GIF  = "image/gif"
	WebP = "image/webp"
)

// IsImage reports whether ct is one of the raster types shown inline.
func IsImage(ct string) bool { return ct == PNG || ct == JPEG || ct == GIF || ct == WebP }

// Sniff decides a file's type from its first bytes, with its name's
// extension refining only what the content leaves open (a generic binary or
// text), and never turning content that is not an image into one.
func Sniff(head []byte, name string) string {
	sniffed := http.DetectContentType(head)
	base, _, _ := mime.ParseMediaType(sniffed)
	if IsImage(base) {
		return base
	}
	byExt := mime.TypeByExtension(strings.ToLower(path.Ext(name)))
	extBase, _, _ := mime.ParseMediaType(byExt)
	switch {
	case base == "text/plain" && extBase == "image/svg+xml":
		return extBase // text that says it is a drawing: a download all the same
	case extBase == "" || strings.HasPrefix(extBase, "image/"):
	case base == "application/octet-stream" && !strings.HasPrefix(extBase, "text/"):
		return extBase
	case base == "text/plain" && strings.HasPrefix(extBase, "text/"):
		return extBase + "; charset=utf-8"
	case base == "application/zip" && strings.HasPrefix(extBase, "application/vnd.openxmlformats"):
		return extBase
	}
	return sniffed
}

// Active reports whether a browser might run or render something of its
// own from content of type ct (markup, script, vector images). Such files
// are only ever downloads, served as plain text.
func Active(ct string) bool {
	base, _, _ := mime.ParseMediaType(ct)
	switch {
	case strings.Contains(base, "html"), strings.Contains(base, "xml"), strings.Contains(base, "svg"),
		strings.Contains(base, "script"), base == "text/css":
		return true
	}
	return false
}
