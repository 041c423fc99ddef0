package handlers

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
)

// Buffer sizes for a hijacked room socket. net/http hands a hijacker the 4
// KiB reader and writer it served the request with, and never gets them
// back; the WebSocket library keeps them for the socket's life. Most sockets
// are idle for hours, so they get small ones: reads are a client's small
// frames, and a write of up to socketWriteBuffer bytes (a message or a few)
// still goes out in one system call; a larger one takes two.
const (
	socketReadBuffer  = 512
	socketWriteBuffer = 2048
)

// smallBuffers is the response writer a socket is accepted on: its Hijack
// swaps net/http's buffers for small ones.
type smallBuffers struct{ http.ResponseWriter }

func (w smallBuffers) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
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
	return conn, bufio.NewReadWriter(bufio.NewReaderSize(conn, socketReadBuffer), bufio.NewWriterSize(conn, socketWriteBuffer)), nil
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
