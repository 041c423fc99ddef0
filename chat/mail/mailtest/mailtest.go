// Package mailtest runs a real SMTP server (github.com/emersion/go-smtp) in
// process on loopback for tests: it keeps what it receives, and can refuse
// or drop the connection on the next attempts to send.
package mailtest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Received is one email the server accepted.
type Received struct {
	From string
	To   []string
	Data []byte // the message as sent: headers and MIME body
}

// Header returns a header field of the message.
func (r Received) Header(name string) string {
	m, err := mail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		return ""
	}
	return m.Header.Get(name)
}

// Text returns the message's text/plain part, decoded.
func (r Received) Text() string { return r.part("text/plain") }

// HTML returns the message's text/html part, decoded.
func (r Received) HTML() string { return r.part("text/html") }

func (r Received) part(want string) string {
	m, err := mail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		return ""
	}
	return findPart(textproto.MIMEHeader(m.Header), m.Body, want)
}

func findPart(h textproto.MIMEHeader, body io.Reader, want string) string {
	typ, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		return ""
	}
	if strings.HasPrefix(typ, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return ""
			}
			if s := findPart(p.Header, p, want); s != "" {
				return s
			}
		}
	}
	if typ != want {
		return ""
	}
	switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, _ := io.ReadAll(body)
	return string(b)
}

// Server is an SMTP server on 127.0.0.1.
type Server struct {
	srv  *smtp.Server
	addr string
	got  chan Received

	mu     sync.Mutex
	refuse int // next sessions answered 451 at MAIL FROM
	drop   int // next sessions whose connection is closed at DATA
}

// Start runs a server until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{addr: ln.Addr().String(), got: make(chan Received, 100)}
	s.srv = smtp.NewServer(backend{s})
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout = 30 * time.Second
	s.srv.WriteTimeout = 30 * time.Second
	s.srv.AllowInsecureAuth = true
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// URL is the server's address as -smtp takes it.
func (s *Server) URL() string { return "smtp://" + s.addr }

// Refuse has the next n attempts answered "451 try again later".
func (s *Server) Refuse(n int) { s.mu.Lock(); s.refuse += n; s.mu.Unlock() }

// Drop has the next n attempts' connections closed as the message comes.
func (s *Server) Drop(n int) { s.mu.Lock(); s.drop += n; s.mu.Unlock() }

// Next returns the next email received, failing the test after a while.
func (s *Server) Next(t testing.TB) Received {
	t.Helper()
	select {
	case r := <-s.got:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("no email arrived")
		return Received{}
	}
}

// Pending returns the emails received and not yet taken by Next.
func (s *Server) Pending() []Received {
	var out []Received
	for {
		select {
		case r := <-s.got:
			out = append(out, r)
		default:
			return out
		}
	}
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: b.s, conn: c}, nil
}

type session struct {
	s    *Server
	conn *smtp.Conn
	r    Received
}

func (x *session) Reset()        { x.r = Received{} }
func (x *session) Logout() error { return nil }

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if x.s.refuse > 0 {
		x.s.refuse--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	x.r.From = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.r.To = append(x.r.To, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	x.s.mu.Lock()
	drop := x.s.drop > 0
	if drop {
		x.s.drop--
	}
	x.s.mu.Unlock()
	if drop {
		x.conn.Conn().Close()
		io.Copy(io.Discard, r)
		return errors.New("dropped")
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.r.Data = data
	x.s.got <- x.r
	return nil
}
