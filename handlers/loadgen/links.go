package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// The links run, (l): the one-room fan-out again with a link in every nth
// message, each to a page of its own on a small web server here, so that
// every link is fetched (by the job queue) and its preview shown under its
// message to the whole room. It shows what previews cost the fan-out, and
// that no page is fetched on the message path: each request the page
// server gets is checked against the store, and one for a message not yet
// committed would be counted as fetched on the message path.

// linkSite is the web server the links point to.
type linkSite struct {
	srv    *http.Server
	addr   string
	tally  *tally
	dbPath string
	db     *sql.DB
	pic    []byte

	pages, images  atomic.Int64 // requests for pages and for their picture
	beforeCommit   atomic.Int64 // page requests for a message not committed yet
	checkedInStore atomic.Int64 // page requests that had to ask the store (no socket had the message yet)
}

func startLinkSite(dbPath string) (*linkSite, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		ln.Close()
		return nil, err
	}
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(x * 4), 120, uint8(y * 4), 255})
		}
	}
	var pic bytes.Buffer
	png.Encode(&pic, img)
	s := &linkSite{addr: ln.Addr().String(), dbPath: dbPath, db: db, pic: pic.Bytes()}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 5 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

func (s *linkSite) close() {
	s.srv.Close()
	s.db.Close()
}

// link is the address message g links to; its path names the message's
// client id, so the site can ask the store whether it is committed.
func (s *linkSite) link(clientID string) string { return "http://" + s.addr + "/p/" + clientID }

func (s *linkSite) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/pic.png" {
		s.images.Add(1)
		w.Header().Set("Content-Type", "image/png")
		w.Write(s.pic)
		return
	}
	id, ok := strings.CutPrefix(r.URL.Path, "/p/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	s.pages.Add(1)
	if !s.committed(id) {
		s.beforeCommit.Add(1)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html><html><head><title>Page %[1]s</title>
<meta property="og:title" content="A page for %[1]s"><meta property="og:site_name" content="Load test">
<meta property="og:description" content="The page a load generator's message links to, previewed by the job queue.">
<meta property="og:image" content="/pic.png"></head><body><p>%[1]s</p></body></html>`, id)
}

// committed reports whether the message with this client id (lg-G-NS) is
// in the store: delivered to a socket already (so committed), or found there.
func (s *linkSite) committed(clientID string) bool {
	parts := strings.Split(clientID, "-")
	if len(parts) == 3 {
		if g, err := strconv.ParseInt(parts[1], 10, 64); err == nil && s.tally != nil && g >= 0 && g < int64(s.tally.max) && s.tally.seen[g].Load() {
			return true
		}
	}
	s.checkedInStore.Add(1)
	var n int
	if err := s.db.QueryRow("SELECT count(*) FROM messages WHERE client_msg_id = ?", clientID).Scan(&n); err != nil {
		return false
	}
	return n > 0
}

// metric reads one counter from an agora process's -metrics address.
func metric(addr, name string) (float64, error) {
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, fmt.Errorf("no %s at %s", name, addr)
}

// linkResult is what the links run measured beside its load.
type linkResult struct {
	links                 int64 // messages sent with a link
	fetches               float64
	pages, images         int64
	beforeCommit, inStore int64
	previews              int64 // preview frames received, all sockets
	previewsExpected      int64
	previewWait           time.Duration // after the window, until the previews stopped coming
	metricsErr            string
}

// waitPreviews waits, sockets still open, until every socket got the
// preview of every link (or the time is up).
func waitPreviews(ctx context.Context, socks func() int64, want int64, limit time.Duration) time.Duration {
	start := time.Now()
	for socks() < want && time.Since(start) < limit && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}
