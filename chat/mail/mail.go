// Package mail sends agora's emails (address checks, password resets,
// missed activity) over SMTP, through github.com/wneessen/go-mail, which does
// the MIME, STARTTLS and authentication.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one email to one address.
type Message struct {
	To      string
	Subject string
	Text    string // the plain-text body, always sent
	HTML    string // an HTML alternative, when not empty
	// ID is the Message-ID (without the angle brackets): the same for every
	// attempt at one email, so a receiver that got it twice can tell.
	ID string
	// Headers are more header fields, such as List-Unsubscribe.
	Headers map[string]string
}

// Sender sends email through one SMTP server.
type Sender struct {
	host string
	opts []gomail.Option
	from string
}

// Options tune a Sender; zero values take the defaults.
type Options struct {
	// TLS is the configuration of the TLS connection (its RootCAs, for a
	// server with a private certificate); nil: the system's.
	TLS *tls.Config
	// Timeout bounds each step of a conversation with the server; default 30 s.
	Timeout time.Duration
}

// New returns a Sender for an SMTP URL, smtp://user:pass@host:port (STARTTLS
// when the server offers it, port 587 by default) or smtps:// (TLS from the
// start, port 465 by default), sending as from (an address, with or without
// a name: "agora <chat@example.com>").
func New(smtpURL, from string, o Options) (*Sender, error) {
	u, err := url.Parse(smtpURL)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return nil, errors.New("the SMTP URL must look like smtp://user:pass@host:port or smtps://...")
	}
	if _, err := mail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("the mail-from address %q is not an email address", from)
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	tlsConfig := &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	if o.TLS != nil {
		tlsConfig = o.TLS.Clone()
		tlsConfig.ServerName = u.Hostname()
	}
	opts := []gomail.Option{gomail.WithTimeout(o.Timeout), gomail.WithTLSConfig(tlsConfig)}
	port := 0
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("the SMTP URL's port %q is not a port", p)
		}
	}
	switch u.Scheme {
	case "smtp":
		if port == 0 {
			port = 587
		}
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case "smtps":
		if port == 0 {
			port = 465
		}
		opts = append(opts, gomail.WithSSL())
	default:
		return nil, fmt.Errorf("the SMTP URL's scheme is %q: smtp:// (STARTTLS when offered) or smtps:// (TLS)", u.Scheme)
	}
	opts = append(opts, gomail.WithPort(port))
	if user := u.User.Username(); user != "" {
		pass, _ := u.User.Password()
		// The strongest mechanism the server offers; never PLAIN or LOGIN
		// over a connection without TLS (go-mail refuses them there).
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(user), gomail.WithPassword(pass))
	}
	// The client is made per email (see Send): check the settings now, so
	// a bad one stops agora at start, not at the first email.
	if _, err := gomail.NewClient(u.Hostname(), opts...); err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	return &Sender{host: u.Hostname(), opts: opts, from: from}, nil
}

// From is the address emails are sent from.
func (s *Sender) From() string { return s.from }

// Send delivers one email: one connection, one message. An error says what
// the server did (refused, dropped the connection...); the email may be
// tried again.
func (s *Sender) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("to %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	if m.ID != "" {
		msg.SetMessageIDWithValue(m.ID)
	} else {
		msg.SetMessageID()
	}
	for k, v := range m.Headers {
		msg.SetGenHeader(gomail.Header(k), v)
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	c, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp %s: %w", s.host, err)
	}
	return nil
}

// Permanent reports whether err is the server refusing the email for good
// (a 5xx answer, such as no such mailbox): sending it again would not help.
func Permanent(err error) bool {
	var se *gomail.SendError
	return errors.As(err, &se) && se.ErrorCode() >= 500 && se.ErrorCode() < 600
}
