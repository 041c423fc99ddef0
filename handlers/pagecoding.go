package handlers

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"hash/maphash"
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
// every reader of the room at one version (see roomLists), and the rest is
// mostly the same from one load to the next for one reader. Compressing it
// all on every page cost more than everything else the page does, so a
// page is sent in pieces, each compressed once and kept: the shared lists
// with their rendering, the page's own markup between them by its content
// (pieceCodings), and only what is new on every render (the composer's
// client_msg_id) goes out as it is. Both codings allow that: a zstd stream
// is any number of independent frames one after another (RFC 8878, 3.1),
// and a deflate stream is a run of blocks, so pieces each ended by a sync
// flush (which ends on a byte) and made by fresh compressors (which refer
// to nothing before their start) join into one gzip member, closed by an
// empty final block and the CRC of the whole.

// sharedHTML is markup sent in many pages, with its encodings made the
// first time a page needs them.
type sharedHTML struct {
	html []byte

	zstdOnce, flateOnce sync.Once
	zstd                []byte // one zstd frame
	flate               []byte // deflate blocks ending in a sync flush, not final
}

func newSharedHTML(html []byte) *sharedHTML { return &sharedHTML{html: html} }

func (s *sharedHTML) HTML() []byte { return s.html }

// plain is the markup, none for no piece.
func (s *sharedHTML) plain() []byte {
	if s == nil {
		return nil
	}
	return s.html
}

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

// appendZstdRaw appends p as a zstd frame of one raw block: for a few
// bytes that are new on every page, not worth an encoder's time.
func appendZstdRaw(dst, p []byte) []byte {
	if len(p) == 0 {
		return dst
	}
	// Magic; a single segment with a 4-byte content size; the last block,
	// raw, of len(p) bytes (at most 128 KiB: fresh parts are a few bytes).
	dst = append(dst, 0x28, 0xb5, 0x2f, 0xfd, 0xa0)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(p)))
	h := uint32(len(p))<<3 | 1
	dst = append(dst, byte(h), byte(h>>8), byte(h>>16))
	return append(dst, p...)
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

// appendStored appends p as stored (uncompressed) deflate blocks, not
// final, which end on a byte as a sync flush does.
func appendStored(dst, p []byte) []byte {
	for len(p) > 0 {
		n := min(len(p), 0xffff)
		dst = append(dst, 0)
		dst = binary.LittleEndian.AppendUint16(dst, uint16(n))
		dst = binary.LittleEndian.AppendUint16(dst, ^uint16(n))
		dst = append(dst, p[:n]...)
		p = p[n:]
	}
	return dst
}

// gzipHeader is a gzip member's header: deflate, no name, no time, unknown
// system.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}

// finalBlock is an empty stored block marked final: it ends the deflate
// stream after pieces that each end on a byte.
var finalBlock = []byte{1, 0, 0, 0xff, 0xff}

// pieceCodings keeps the encodings of pages' own pieces by their content,
// so a piece sent again (the same reader's sidebar and composer on the
// next load, the tail of a room's page for every reader of a language)
// is compressed once. A hit is compared byte for byte: a piece is only
// ever sent as its own encoding.
type pieceCodings struct {
	mu      sync.Mutex
	seed    maphash.Seed
	entries map[uint64]*sharedHTML
	bytes   int
}

// What pieceCodings may hold: the pieces of a few thousand readers' pages.
const (
	pieceCodingsBytes   = 16 << 20
	pieceCodingsEntries = 8192
)

func newPieceCodings() *pieceCodings {
	return &pieceCodings{seed: maphash.MakeSeed(), entries: map[uint64]*sharedHTML{}}
}

// piece returns p as a kept piece, the one kept for its content if any.
func (c *pieceCodings) piece(p []byte) *sharedHTML {
	h := maphash.Bytes(c.seed, p)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[h]; e != nil && bytes.Equal(e.html, p) {
		return e
	}
	e := newSharedHTML(bytes.Clone(p))
	for old, o := range c.entries {
		if len(c.entries) < pieceCodingsEntries && c.bytes < pieceCodingsBytes {
			break
		}
		c.bytes -= 2 * len(o.html) // with its encodings, at most about as much again
		delete(c.entries, old)
	}
	c.entries[h] = e
	c.bytes += 2 * len(e.html)
	return e
}

// pageWriter is what a page is rendered into when it is sent in pieces:
// the page's own markup, and where the shared and fresh parts go in it.
type pageWriter struct {
	own   []byte
	parts []partAt
}

// partAt is a shared part, or a fresh one, that goes after the first end
// bytes of the page's own markup.
type partAt struct {
	end    int
	shared *sharedHTML
	fresh  []byte
}

func (w *pageWriter) Write(p []byte) (int, error) {
	w.own = append(w.own, p...)
	return len(p), nil
}

func (w *pageWriter) WriteShared(s views.Shared) error {
	if sh, ok := s.(*sharedHTML); ok {
		w.parts = append(w.parts, partAt{end: len(w.own), shared: sh})
		return nil
	}
	_, err := w.Write(s.HTML())
	return err
}

func (w *pageWriter) WriteFresh(p []byte) error {
	w.parts = append(w.parts, partAt{end: len(w.own), fresh: bytes.Clone(p)})
	return nil
}

// size is the page's length before any coding.
func (w *pageWriter) size() int {
	n := len(w.own)
	for _, p := range w.parts {
		n += len(p.shared.plain()) + len(p.fresh)
	}
	return n
}

// each calls f with the page's pieces in order: a kept piece (the shared
// parts, and the page's own markup between them as kept by codings), or a
// fresh one.
func (w *pageWriter) each(codings *pieceCodings, f func(kept *sharedHTML, fresh []byte)) {
	start := 0
	for _, p := range w.parts {
		if p.end > start {
			f(codings.piece(w.own[start:p.end]), nil)
		}
		f(p.shared, p.fresh)
		start = p.end
	}
	if start < len(w.own) {
		f(codings.piece(w.own[start:]), nil)
	}
}

// body is the page as sent with coding enc ("zstd", "gzip", or "" for
// none), appended to dst.
func (w *pageWriter) body(dst []byte, enc string, codings *pieceCodings) []byte {
	switch enc {
	case "zstd":
		w.each(codings, func(kept *sharedHTML, fresh []byte) {
			if kept != nil {
				dst = append(dst, kept.zstdFrame()...)
			} else {
				dst = appendZstdRaw(dst, fresh)
			}
		})
	case "gzip":
		dst = append(dst, gzipHeader...)
		var crc uint32
		size := 0
		w.each(codings, func(kept *sharedHTML, fresh []byte) {
			if kept != nil {
				dst = append(dst, kept.deflated()...)
				fresh = kept.html
			} else {
				dst = appendStored(dst, fresh)
			}
			crc = crc32.Update(crc, crc32.IEEETable, fresh)
			size += len(fresh)
		})
		dst = append(dst, finalBlock...)
		dst = binary.LittleEndian.AppendUint32(dst, crc)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(size))
	default:
		start := 0
		for _, p := range w.parts {
			dst = append(dst, w.own[start:p.end]...)
			dst = append(dst, p.shared.plain()...)
			dst = append(dst, p.fresh...)
			start = p.end
		}
		dst = append(dst, w.own[start:]...)
	}
	return dst
}

// pageBodies are the buffers pages are assembled in.
var pageBodies = sync.Pool{New: func() any { return new([]byte) }}

// renderPieces renders comp like render, sending it in pieces (see
// pieceCodings), in the coding the compress middleware chose.
func (s *Server) renderPieces(c echo.Context, status int, comp templ.Component) error {
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
	*buf = w.body((*buf)[:0], enc, s.pieces)
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
