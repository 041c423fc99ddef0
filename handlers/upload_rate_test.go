package handlers_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"agora/handlers"
)

// An upload that trickles (a byte at a time, each in time to keep an idle
// timeout from firing) is cut off once it falls below the minimum rate: the
// server answers 408 while the client is still sending. Here the grace
// period is short and the rate high, so the test's trickle falls below it
// at once; the client would go on for 1,000 bytes.
func TestTricklingUploadIsCutOff(t *testing.T) {
	ts := newServerWith(t, handlers.Config{UploadGrace: 100 * time.Millisecond, UploadMinRate: 64 << 10})
	ann := ts.client(t).signup("ann")
	cookies := ann.http.Jar.Cookies(mustURL(t, ts.URL))
	if len(cookies) == 0 {
		t.Fatal("no session cookie")
	}
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
	fmt.Fprintf(conn, "POST /rooms/general/files HTTP/1.1\r\nHost: %s\r\nCookie: %s=%s\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: %d\r\n\r\n%s",
		ts.Listener.Addr(), cookies[0].Name, cookies[0].Value, len(head)+100_000, head)
	answered := make(chan *http.Response, 1)
	go func() {
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			answered <- nil
			return
		}
		body, _ := io.ReadAll(res.Body)
		res.Body = io.NopCloser(strings.NewReader(string(body)))
		answered <- res
	}()
	pace := time.NewTicker(10 * time.Millisecond) // the trickle's pace, not a wait for the server
	defer pace.Stop()
	var res *http.Response
	sent := 0
trickle:
	for sent < 1000 {
		select {
		case res = <-answered:
			break trickle
		case <-pace.C:
			if _, err := conn.Write([]byte{'x'}); err != nil {
				res = <-answered // the server closed the connection: its answer is there
				break trickle
			}
			sent++
		}
	}
	if sent == 1000 {
		t.Fatal("an upload trickling a byte at a time was never cut off")
	}
	if res == nil {
		t.Fatalf("the connection closed after %d bytes without an answer", sent)
	}
	if res.StatusCode != http.StatusRequestTimeout {
		body, _ := io.ReadAll(res.Body)
		t.Fatalf("a trickling upload answered %d, want 408:\n%.300s", res.StatusCode, body)
	}
	// Nothing of it was kept.
	if strings.Contains(ann.get("/rooms/general").body, "slow.bin") {
		t.Error("the cut-off upload shows in the room")
	}
}
