package handlers

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"runtime"
	"strconv"
	"sync"

	"github.com/a-h/templ"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/zstd"
	"github.com/labstack/echo/v4"

	"agora/views"
)

// A room page is mostly its message list and member list, the same for
// every reader of the room at one version (see roomLists). Compressing
// them on every page cost more than everything else the page does, so
// they are compressed once, each on its own, and every page sends those
// bytes between the parts that are its reader's own, compressed per page.
// Both codings allow that: a zstd stream is any number of independent
// frames one after another (RFC 8878, 3.1), and a deflate stream is a run
// of blocks, so pieces each ended by a sync flush (which ends on a byte)
// and made by fresh compressors (which refer to nothing before their
// start) join into one gzip member, closed by an empty final block and
// the CRC of the whole.

// sharedHTML is markup shared by many pages, with its encodings made the
// first time a page needs them.
type sharedHTML struct {
	html []byte

	zstdOnce, flateOnce sync.Once
	zstd                []byte // one zstd frame
	flate               []byte // deflate blocks ending in a sync flush, not final
}

func newSharedHTML(html []byte) *sharedHTML { return &sharedHTML{html: html} }

func (s *sharedHTML) HTML() []byte { return s.html }

func (s *sharedHTML) zstdFrame() []byte {
	s.zstdOnce.Do(func() { s.zstd = appendZstd(nil, s.html) })
	return s.zstd
}

func (s *sharedHTML) deflated() []byte {
	s.flateOnce.Do(func() { s.flate = appendDeflate(nil, s.html) })
	return s.flate
}

// zstdFrames encodes whole pieces: EncodeAll may run on many goroutines
// at once, each piece one frame at the fastest level.
var zstdFrames, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
	zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)), zstd.WithWindowSize(128<<10),
	zstd.WithLowerEncoderMem(true), zstd.WithEncoderCRC(false))

func appendZstd(dst, p []byte) []byte {
	if len(p) == 0 {
		return dst
	}
	return zstdFrames.EncodeAll(p, dst)
}

// deflaters are pooled: making one costs far more than a page's piece.
var deflaters sync.Pool

// appendDeflate appends p as deflate blocks at the fastest level, ended by
// a sync flush: more blocks may follow.
func appendDeflate(dst, p []byte) []byte {
	if len(p) == 0 {
		return dst
	}
	out := bytes.NewBuffer(dst)
	f, ok := deflaters.Get().(*flate.Writer)
	if ok {
		f.Reset(out)
	} else {
		f, _ = flate.NewWriter(out, flate.BestSpeed)
	}
	f.Write(p)
	f.Flush()
	f.Reset(nil)
	deflaters.Put(f)
	return out.Bytes()
}

// gzipHeader is a gzip member's header: deflate, no name, no time, unknown
// system.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

// finalBlock is an empty stored block marked final: it ends the deflate
// stream after pieces that each end in a sync flush.
var finalBlock = []byte{1, 0, 0, 0xff, 0xff}

// pageWriter is what a page is rendered into when its shared parts are to
// be sent as they were encoded once: the page's own markup, and where the
// shared parts go in it.
type pageWriter struct {
	own    []byte
	shared []sharedAt
}

// sharedAt is a shared part that goes after the first end bytes of the
// page's own markup.
type sharedAt struct {
	end  int
	html *sharedHTML
}

func (w *pageWriter) Write(p []byte) (int, error) {
	w.own = append(w.own, p...)
	return len(p), nil
}

func (w *pageWriter) WriteShared(s views.Shared) error {
	if sh, ok := s.(*sharedHTML); ok {
		w.shared = append(w.shared, sharedAt{end: len(w.own), html: sh})
		return nil
	}
	_, err := w.Write(s.HTML())
	return err
}

// each calls f with the page's pieces in order: its own markup between
// the shared parts (own set), and the shared parts (shared set).
func (w *pageWriter) each(f func(own []byte, shared *sharedHTML)) {
	start := 0
	for _, s := range w.shared {
		if s.end > start {
			f(w.own[start:s.end], nil)
		}
		f(nil, s.html)
		start = s.end
	}
	if start < len(w.own) {
		f(w.own[start:], nil)
	}
}

// size is the page's length before any coding.
func (w *pageWriter) size() int {
	n := len(w.own)
	for _, s := range w.shared {
		n += len(s.html.html)
	}
	return n
}

// body is the page as sent with coding enc ("zstd", "gzip", or "" for
// none), appended to dst.
func (w *pageWriter) body(dst []byte, enc string) []byte {
	switch enc {
	case "zstd":
		w.each(func(own []byte, shared *sharedHTML) {
			if shared != nil {
				dst = append(dst, shared.zstdFrame()...)
			} else {
				dst = appendZstd(dst, own)
			}
		})
	case "gzip":
		dst = append(dst, gzipHeader...)
		var crc uint32
		size := 0
		w.each(func(own []byte, shared *sharedHTML) {
			if shared != nil {
				dst = append(dst, shared.deflated()...)
				own = shared.html
			} else {
				dst = appendDeflate(dst, own)
			}
			crc = crc32.Update(crc, crc32.IEEETable, own)
			size += len(own)
		})
		dst = append(dst, finalBlock...)
		dst = binary.LittleEndian.AppendUint32(dst, crc)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(size))
	default:
		w.each(func(own []byte, shared *sharedHTML) {
			if shared != nil {
				own = shared.html
			}
			dst = append(dst, own...)
		})
	}
	return dst
}

// pageBodies are the buffers pages are assembled in.
var pageBodies = sync.Pool{New: func() any { return new([]byte) }}

// renderShared renders comp like render, sending the shared parts it
// writes (see views.SharedWriter) as they were encoded once, in the coding
// the compress middleware chose, the rest encoded for this page.
func renderShared(c echo.Context, status int, comp templ.Component) error {
	var w pageWriter
	if err := comp.Render(c.Request().Context(), &w); err != nil {
		return err
	}
	enc := ""
	res := c.Response()
	if ew, ok := res.Writer.(*encodingWriter); ok && w.size() >= minCompress {
		enc = ew.enc
	}
	buf := pageBodies.Get().(*[]byte)
	defer pageBodies.Put(buf)
	*buf = w.body((*buf)[:0], enc)
	h := res.Header()
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	if enc != "" {
		// The compress middleware passes a body already encoded through.
		h.Set("Content-Encoding", enc)
	}
	h.Set(echo.HeaderContentLength, strconv.Itoa(len(*buf)))
	res.WriteHeader(status)
	if !bodyAllowed(status) {
		return nil
	}
	_, err := res.Write(*buf)
	return err
}
