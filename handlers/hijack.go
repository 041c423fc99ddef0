package handlers

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"sync"
)

// Buffer sizes for a hijacked room socket. net/http hands a hijacker the 4
// KiB reader and writer it served the request with, and never gets them
// back; the WebSocket library keeps them for the socket's life. Most sockets
// are idle for hours, so they get small ones: reads are a client's small
// frames, and the socket's writer gathers each message whole under the write
// buffer (see gatheringConn), which then only has to hold a control frame
// written on its own (a ping, or a close with its reason: at most 129 bytes).
const (
	socketReadBuffer  = 512
	socketWriteBuffer = 256
)

// smallBuffers is the response writer a socket is accepted on: its Hijack
// swaps net/http's buffers for small ones, over a gatheringConn (out).
type smallBuffers struct {
	http.ResponseWriter
	out *gatheringConn
}

func (w *smallBuffers) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	// Bytes net/http already read past the request (a client may send its
	// first frame at once) are read first.
	if n := brw.Reader.Buffered(); n > 0 {
		early, _ := brw.Reader.Peek(n)
		conn = &prefixedConn{Conn: conn, prefix: bytes.Clone(early)}
	}
	// Anything net/http wrote but did not flush (the 101 answer) goes out now.
	if err := brw.Writer.Flush(); err != nil {
		conn.Close()
		return nil, nil, err
	}
	w.out = &gatheringConn{Conn: conn}
	return conn, bufio.NewReadWriter(bufio.NewReaderSize(conn, socketReadBuffer), bufio.NewWriterSize(w.out, socketWriteBuffer)), nil
}

// gatheringConn is what a socket's small write buffer writes to. While the
// socket's writer gathers, the pieces of a message (its frame's header, then
// its payload a buffer at a time) are collected and go out in one write when
// it sends: one system call per WebSocket message whatever its size, where
// the small buffer alone took two or three for a message over 2 KiB (on
// loopback most of a delivery's cost is that system call). Its lock keeps
// frames whole and in order: a control frame written meanwhile by another
// goroutine (a ping, a pong) joins what is gathered, or waits until it is
// sent.
type gatheringConn struct {
	net.Conn
	mu       sync.Mutex
	gathered *[]byte // non-nil while gathering
}

func (c *gatheringConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gathered != nil {
		*c.gathered = append(*c.gathered, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// gather collects what is written into buf until send.
func (c *gatheringConn) gather(buf *[]byte) {
	c.mu.Lock()
	c.gathered = buf
	c.mu.Unlock()
}

// send writes what was gathered, in one write, and stops gathering.
func (c *gatheringConn) send() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := *c.gathered
	c.gathered = nil
	if len(b) == 0 {
		return nil
	}
	_, err := c.Conn.Write(b)
	return err
}

// prefixedConn reads prefix before what comes from the connection.
type prefixedConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixedConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

var _ io.Reader = (*prefixedConn)(nil)
