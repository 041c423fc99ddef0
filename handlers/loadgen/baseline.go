package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// The baseline: a minimal broadcast hub on coder/websocket with no storage
// and no rendering: per room, a mutex-guarded set of subscribers with a
// buffered channel each; every composer frame's body is echoed as
// <div id="message-N"> to the room's sockets, one WebSocket write per
// message. The load generator runs it as a separate process (itself, with
// -baseline-addr) so that it is measured as agora is.

type baseSub struct {
	ch   chan *baseMsg
	conn *websocket.Conn
}

// baseMsg is one rendered message; the queue holds pointers to it (8 bytes a
// slot, so the queue costs an idle connection 2 KiB).
type baseMsg struct{ b []byte }

type baseHub struct {
	mu    sync.Mutex
	rooms map[string]map[*baseSub]struct{}
	next  atomic.Int64
}

func serveBaseline(ctx context.Context, addr string, stdout io.Writer) error {
	h := &baseHub{rooms: map[string]map[*baseSub]struct{}{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("GET /rooms/{slug}/ws", h.serve)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	fmt.Fprintln(stdout, "baseline listening on", addr)
	<-ctx.Done()
	srv.Close()
	h.mu.Lock()
	for _, subs := range h.rooms {
		for s := range subs {
			s.conn.CloseNow()
		}
	}
	h.mu.Unlock()
	return nil
}

func (h *baseHub) serve(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return
	}
	c.SetReadLimit(64 << 10)
	room := r.PathValue("slug")
	s := &baseSub{ch: make(chan *baseMsg, 256), conn: c}
	h.mu.Lock()
	if h.rooms[room] == nil {
		h.rooms[room] = map[*baseSub]struct{}{}
	}
	h.rooms[room][s] = struct{}{}
	h.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	defer func() {
		cancel()
		h.mu.Lock()
		delete(h.rooms[room], s)
		h.mu.Unlock()
		c.CloseNow()
	}()
	go func() {
		for {
			select {
			case m := <-s.ch:
				wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
				err := c.Write(wctx, websocket.MessageText, m.b)
				wcancel()
				if err != nil {
					c.CloseNow()
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		var f struct {
			Body    string            `json:"body"`
			Headers map[string]string `json:"HEADERS"`
		}
		if json.Unmarshal(data, &f) != nil || f.Headers["HX-Trigger"] != "composer" {
			continue
		}
		id := h.next.Add(1)
		h.publish(room, &baseMsg{[]byte(`<div id="message-` + strconv.FormatInt(id, 10) + `">` + html.EscapeString(f.Body) + `</div>`)})
	}
}

func (h *baseHub) publish(room string, m *baseMsg) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.rooms[room] {
		select {
		case s.ch <- m:
		default: // too slow: evicted, as the chat example does (but with 1013)
			go s.conn.Close(websocket.StatusTryAgainLater, "too slow")
		}
	}
}
