package handlers

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/labstack/echo/v4"
)

// compress encodes responses: pages, fragments, the stylesheet and scripts
// shrink to a fraction on the wire (htmx from 51 KB to 17 KB). Browsers that
// take zstd get it, the rest gzip. Both run at their fastest level: on the
// room page (about 40 KB of HTML) the standard library's gzip at level 5
// cost a third of the page's CPU, klauspost's gzip at level 1 a fifth of
// that for 10 % more bytes, and zstd's fastest level less again for fewer
// bytes. It leaves alone what must not or need not be compressed: WebSocket
// upgrades (the connection is hijacked and speaks frames of its own), event
// streams (each event must go out as it happens) and stored files (images
// are compressed already; the rest is served as uploaded), and exports (zips,
// compressed already, streamed as they are written).
func compress() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if isWebSocket(c) ||
				strings.Contains(r.Header.Get("Accept"), "text/event-stream") ||
				strings.HasPrefix(r.URL.Path, "/api/v1/events") ||
				strings.HasPrefix(r.URL.Path, "/files/") ||
				isExport(c) {
				return next(c)
			}
			res := c.Response()
			res.Header().Add("Vary", "Accept-Encoding")
			enc := negotiate(r.Header.Get("Accept-Encoding"))
			if enc == "" {
				return next(c)
			}
			w := &encodingWriter{ResponseWriter: res.Writer, enc: enc}
			res.Writer = w
			defer func() {
				w.finish()
				res.Writer = w.ResponseWriter
			}()
			return next(c)
		}
	}
}

// negotiate picks the encoding for an Accept-Encoding header: zstd, else
// gzip, else none. A coding listed with q=0 is refused; "*" stands for any
// coding not listed.
func negotiate(header string) string {
	q := map[string]bool{}
	star, starSet := false, false
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.ToLower(strings.TrimSpace(name))
		ok := true
		if v, found := strings.CutPrefix(strings.TrimSpace(params), "q="); found {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			ok = err == nil && f > 0
		}
		if name == "*" {
			star, starSet = ok, true
			continue
		}
		q[name] = ok
	}
	for _, enc := range []string{"zstd", "gzip"} {
		if ok, listed := q[enc]; listed && ok || !listed && starSet && star {
			return enc
		}
	}
	return ""
}

// minCompress is the smallest body worth encoding: below it the coding's
// own header and trailer would eat what it saves.
const minCompress = 512

// encodingWriter holds back the first minCompress bytes of a response, then
// decides: a body that ends shorter goes out as it is, a longer one through
// the encoder. A handler that set Content-Encoding itself is passed through.
type encodingWriter struct {
	http.ResponseWriter
	enc     string
	code    int
	held    []byte
	out     io.WriteCloser // the encoder, once the body is long enough
	decided bool           // headers sent; out or the plain writer takes the rest
}

func (w *encodingWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *encodingWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	if w.decided {
		if w.out != nil {
			return w.out.Write(p)
		}
		return w.ResponseWriter.Write(p)
	}
	if w.Header().Get("Content-Encoding") != "" || !bodyAllowed(w.code) {
		w.start(false)
		return w.ResponseWriter.Write(p)
	}
	w.held = append(w.held, p...)
	if len(w.held) >= minCompress {
		if err := w.start(true); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// start sends the headers and what was held back, encoded or not.
func (w *encodingWriter) start(encode bool) error {
	w.decided = true
	h := w.Header()
	if h.Get("Content-Type") == "" && len(w.held) > 0 {
		// net/http would sniff the encoded bytes: sniff the plain ones.
		h.Set("Content-Type", http.DetectContentType(w.held))
	}
	if encode {
		h.Del("Content-Length")
		h.Set("Content-Encoding", w.enc)
		w.out = getEncoder(w.enc, w.ResponseWriter)
	}
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.ResponseWriter.WriteHeader(w.code)
	held := w.held
	w.held = nil
	if len(held) == 0 {
		return nil
	}
	var err error
	if w.out != nil {
		_, err = w.out.Write(held)
	} else {
		_, err = w.ResponseWriter.Write(held)
	}
	return err
}

// finish ends the body: the encoder's last block, or what was held back.
func (w *encodingWriter) finish() {
	if !w.decided {
		if w.code == 0 {
			return // nothing written: the error handler answers through the plain writer
		}
		w.start(false)
		return
	}
	if w.out != nil {
		w.out.Close()
		putEncoder(w.enc, w.out)
		w.out = nil
	}
}

// Flush sends what is written so far: a flushed body is encoded, as it
// would be once long enough.
func (w *encodingWriter) Flush() {
	if !w.decided {
		if w.code == 0 {
			w.code = http.StatusOK
		}
		w.start(len(w.held) > 0 && w.Header().Get("Content-Encoding") == "" && bodyAllowed(w.code))
	}
	if f, ok := w.out.(interface{ Flush() error }); ok {
		f.Flush()
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *encodingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *encodingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func bodyAllowed(code int) bool {
	return code >= 200 && code != http.StatusNoContent && code != http.StatusNotModified
}

// Encoders are pooled: making one costs far more than encoding a page.
var (
	gzipPool sync.Pool
	zstdPool sync.Pool
)

func getEncoder(enc string, w io.Writer) io.WriteCloser {
	if enc == "zstd" {
		if z, ok := zstdPool.Get().(*zstd.Encoder); ok {
			z.Reset(w)
			return z
		}
		// One goroutine per encoder and a window of 128 KiB (a page is
		// smaller): browsers accept up to 8 MiB, and memory stays small.
		z, _ := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(128<<10), zstd.WithLowerEncoderMem(true), zstd.WithEncoderCRC(false))
		return z
	}
	if g, ok := gzipPool.Get().(*gzip.Writer); ok {
		g.Reset(w)
		return g
	}
	g, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	return g
}

func putEncoder(enc string, e io.WriteCloser) {
	if enc == "zstd" {
		z := e.(*zstd.Encoder)
		z.Reset(nil)
		zstdPool.Put(z)
		return
	}
	g := e.(*gzip.Writer)
	g.Reset(nil)
	gzipPool.Put(g)
}
