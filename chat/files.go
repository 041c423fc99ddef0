package chat

import (
	"fmt"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// File is an uploaded file, attached to the message that carries it.
type File struct {
	ID          int64
	RoomID      int64
	OwnerID     int64
	MessageID   int64 // 0 until the message that carries it is stored
	Name        string
	ContentType string // what the server found the content to be, never what the client said
	Size        int64
	// An image served inline has its size (after EXIF orientation) and the
	// size its thumbnail is shown at, so pages can lay it out before it loads.
	Width, Height           int
	ThumbWidth, ThumbHeight int
	CreatedAt               time.Time
}

// InlineTypes are the only types a file is ever shown as in the page: raster
// images that browsers decode without running anything. SVG and HTML can
// carry script and are always downloads.
var InlineTypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp"}

// Inline reports whether the file is shown in the page (an image with a
// thumbnail) rather than offered as a download.
func (f File) Inline() bool {
	if f.ThumbWidth == 0 {
		return false
	}
	for _, t := range InlineTypes {
		if f.ContentType == t {
			return true
		}
	}
	return false
}

// MaxFileNameBytes bounds a file name; longer names are cut, keeping the extension.
const MaxFileNameBytes = 120

// CleanFileName makes a name a client sent safe to show, to put in a URL path
// segment and in a Content-Disposition header: only its last path element,
// no control, format (bidi, zero-width) or separator characters, no quotes or
// backslashes, no leading dots, at most MaxFileNameBytes bytes. A name with
// nothing left becomes "file".
func CleanFileName(name string) string {
	name = strings.ToValidUTF8(name, "")
	// Both separators, whatever the client's system: "C:\Users\x.txt" is x.txt.
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	space := false
	for _, r := range name {
		switch {
		case r == '"' || r == '\'' || r == '`' || r == ':' || r == '*' || r == '?' || r == '<' || r == '>' || r == '|' || r == '%':
			r = '_'
		case unicode.IsSpace(r):
			r = ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Co, r) ||
			unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r) || r == utf8.RuneError:
			continue
		}
		if r == ' ' {
			if space || b.Len() == 0 {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteRune(r)
	}
	name = strings.TrimLeft(strings.TrimSpace(b.String()), ".")
	name = strings.TrimSpace(name)
	if len(name) > MaxFileNameBytes {
		ext := path.Ext(name)
		if len(ext) > 16 || !utf8.ValidString(ext) {
			ext = ""
		}
		stem := name[:MaxFileNameBytes-len(ext)]
		for !utf8.ValidString(stem) {
			stem = stem[:len(stem)-1]
		}
		name = strings.TrimSpace(stem) + ext
	}
	if name == "" {
		return "file"
	}
	return name
}

// SizeText is a byte count as people read it: 512 B, 3.4 KB, 21 MB.
func SizeText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, suffix := float64(n)/unit, "KB"
	for _, s := range []string{"MB", "GB", "TB"} {
		if v < unit {
			break
		}
		v, suffix = v/unit, s
	}
	if v < 10 {
		return fmt.Sprintf("%.1f %s", v, suffix)
	}
	return fmt.Sprintf("%.0f %s", v, suffix)
}

// Storage is what a user's files take in the store and how much they may.
type Storage struct {
	Used  int64
	Limit int64 // 0: no limit
}

// Left is how many more bytes the user may store; -1 without a limit.
func (s Storage) Left() int64 {
	if s.Limit <= 0 {
		return -1
	}
	return max(0, s.Limit-s.Used)
}
