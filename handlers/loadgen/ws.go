package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// wsConn is the load generator's WebSocket client: RFC 6455 over a plain TCP
// connection, written for a low cost per received message (one buffered
// reader, no goroutine or context per read), so that on a 2-core machine the
// generator takes as little CPU from the server as it can. It answers pings,
// masks what it sends, and reports the close code and reason it is given.
type wsConn struct {
	c   net.Conn
	br  *bufio.Reader
	wmu sync.Mutex
	wb  []byte
}

type closeErr struct {
	code   int // -1: the connection ended without a close frame
	reason string
	err    error
}

func (e *closeErr) Error() string {
	return fmt.Sprintf("websocket closed: %d %q %v", e.code, e.reason, e.err)
}

func dialWS(ctx context.Context, addr, path string, h http.Header, src *net.TCPAddr) (*wsConn, error) {
	d := net.Dialer{LocalAddr: src, Timeout: 10 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	var key [16]byte
	rand.Read(key[:])
	var req bytes.Buffer
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", path, addr, base64.StdEncoding.EncodeToString(key[:]))
	h.Write(&req)
	req.WriteString("\r\n")
	c.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := c.Write(req.Bytes()); err != nil {
		c.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(c, 16<<10)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		c.Close()
		return nil, fmt.Errorf("dial %s: status %d", path, res.StatusCode)
	}
	c.SetDeadline(time.Time{})
	return &wsConn{c: c, br: br}, nil
}

// next reads the next data message into buf (reusing its capacity); control
// frames are handled on the way.
func (w *wsConn) next(buf []byte) ([]byte, error) {
	buf = buf[:0]
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(w.br, hdr[:2]); err != nil {
			return buf, &closeErr{code: -1, err: err}
		}
		fin, op, n := hdr[0]&0x80 != 0, hdr[0]&0x0f, uint64(hdr[1]&0x7f)
		if hdr[1]&0x80 != 0 {
			return buf, &closeErr{code: -1, err: errors.New("masked frame from the server")}
		}
		switch n {
		case 126:
			if _, err := io.ReadFull(w.br, hdr[:2]); err != nil {
				return buf, &closeErr{code: -1, err: err}
			}
			n = uint64(binary.BigEndian.Uint16(hdr[:2]))
		case 127:
			if _, err := io.ReadFull(w.br, hdr[:8]); err != nil {
				return buf, &closeErr{code: -1, err: err}
			}
			n = binary.BigEndian.Uint64(hdr[:8])
		}
		if n > 64<<20 {
			return buf, &closeErr{code: -1, err: fmt.Errorf("frame of %d bytes", n)}
		}
		if op >= 8 { // control: ping, pong, close (at most 125 bytes)
			payload := make([]byte, n)
			if _, err := io.ReadFull(w.br, payload); err != nil {
				return buf, &closeErr{code: -1, err: err}
			}
			switch op {
			case 0x8:
				e := &closeErr{code: 1005}
				if len(payload) >= 2 {
					e.code, e.reason = int(binary.BigEndian.Uint16(payload)), string(payload[2:])
				}
				w.write(0x8, payload[:min(len(payload), 2)]) // echo the close, as a browser does
				w.c.Close()
				return buf, e
			case 0x9:
				if err := w.write(0xA, payload); err != nil {
					return buf, &closeErr{code: -1, err: err}
				}
			}
			continue
		}
		start := len(buf)
		buf = slices.Grow(buf, int(n))[:start+int(n)]
		if _, err := io.ReadFull(w.br, buf[start:]); err != nil {
			return buf, &closeErr{code: -1, err: err}
		}
		if fin {
			return buf, nil
		}
	}
}

// write sends one masked frame (clients must mask).
func (w *wsConn) write(op byte, payload []byte) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	b := append(w.wb[:0], 0x80|op)
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n < 1<<16:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	var mask [4]byte
	rand.Read(mask[:])
	b = append(b, mask[:]...)
	for i, c := range payload {
		b = append(b, c^mask[i&3])
	}
	w.wb = b
	w.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := w.c.Write(b)
	return err
}

// close ends the connection at once, without a close handshake.
func (w *wsConn) close() { w.c.Close() }

// replyFrame is composerFrame for a reply in the thread of message root.
func replyFrame(body, clientID, pageURL string, root int64) []byte {
	return composerFields(map[string]any{"body": body, "client_msg_id": clientID, "thread_id": strconv.FormatInt(root, 10)}, pageURL)
}

// composerFrame is what htmx-ext-ws sends when the composer is submitted.
func composerFrame(body, clientID, pageURL string) []byte {
	return composerFields(map[string]any{"body": body, "client_msg_id": clientID}, pageURL)
}

// composerFields is the composer's frame with these form values.
func composerFields(fields map[string]any, pageURL string) []byte {
	fields["HEADERS"] = map[string]string{"HX-Request": "true", "HX-Trigger": "composer", "HX-Trigger-Name": "",
		"HX-Target": "composer", "HX-Current-URL": pageURL}
	b, _ := json.Marshal(fields)
	return b
}
