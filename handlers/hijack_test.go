package handlers

import (
	"bufio"
	"bytes"
	"net"
	"testing"
)

// TestGatheredMessageIsOneWrite: a message bigger than a socket's write
// buffer reaches the connection in one write (one system call on a real
// socket), and what another goroutine writes meanwhile (a ping) follows it
// whole, not inside it.
func TestGatheredMessageIsOneWrite(t *testing.T) {
	server, client := net.Pipe()
	defer server.Close()
	defer client.Close()
	out := &gatheringConn{Conn: server}
	bw := bufio.NewWriterSize(out, socketWriteBuffer)

	// Each Write on a pipe is read by one Read when the reader's buffer is
	// large enough: count the writes by the reads.
	reads := make(chan []byte)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := client.Read(buf)
			if err != nil {
				close(reads)
				return
			}
			reads <- bytes.Clone(buf[:n])
		}
	}()

	header := []byte{0x81, 0x7f}
	payload := bytes.Repeat([]byte("m"), 3*socketWriteBuffer+123)
	var gathered []byte
	out.gather(&gathered)
	bw.Write(header)
	bw.Write(payload)
	bw.Flush()
	// A ping written while the message is gathered joins it, after it.
	ping := []byte{0x89, 0x00}
	bw.Write(ping)
	bw.Flush()
	sendErr := make(chan error, 1)
	go func() { sendErr <- out.send() }()
	got := <-reads
	if err := <-sendErr; err != nil {
		t.Fatalf("send: %v", err)
	}
	want := append(append(append([]byte{}, header...), payload...), ping...)
	if !bytes.Equal(got, want) {
		t.Fatalf("one write of %d bytes expected, the first read has %d", len(want), len(got))
	}

	// Not gathering, writes go straight through.
	go func() { bw.Write(ping); bw.Flush() }()
	if got := <-reads; !bytes.Equal(got, ping) {
		t.Fatalf("a ping alone: read %q", got)
	}
	client.Close()
	for range reads {
	}
}
