// Package webhook posts signed JSON to the addresses bots are told of
// messages at, and reads their replies, with the limits a server needs when
// it calls out to addresses that others chose: a timeout, a cap on the
// reply, no redirects, and no connections to the server's own network
// (loopback, private, link-local...) unless the operator allows them:
// netguard checks each address as it is dialled, after the name is resolved,
// so a name that resolves to a private address (or changes to one) is
// refused too.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"agora/chat/netguard"
)

// Limits of one delivery.
const (
	DefaultTimeout = 5 * time.Second
	MaxReply       = 64 << 10
	// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the body,
	// keyed with the bot's webhook secret.
	SignatureHeader = "X-Agora-Signature"
)

// Sign returns the value of SignatureHeader for body.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Client delivers webhooks. Its zero value is not usable: use New.
type Client struct {
	http *http.Client
}

// New returns a client whose deliveries time out after timeout (the
// default when zero). With allowPrivate, it may connect to loopback and
// private addresses (for a bot running beside the server).
func New(allowPrivate bool, timeout time.Duration) *Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	dialer := &net.Dialer{Timeout: timeout, Control: netguard.Control(allowPrivate, "-webhooks-private")}
	transport := &http.Transport{
		Proxy:                  nil, // a proxy would be dialled instead of the checked address
		DialContext:            dialer.DialContext,
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: 16 << 10,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        30 * time.Second,
	}
	return &Client{http: &http.Client{
		Transport: transport,
		Timeout:   timeout,
		// A redirect is answered as it is: never followed, so it cannot
		// lead elsewhere, and refused below like any other non-2xx.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// PermanentError is an answer that trying again would not change: a
// redirect, a refusal (4xx, but for 408 and 429), a reply too large.
type PermanentError struct{ msg string }

func (e *PermanentError) Error() string { return e.msg }

func permanentf(format string, args ...any) error {
	return &PermanentError{fmt.Sprintf(format, args...)}
}

// Post sends body (JSON) to url, signed with secret, and returns the reply
// body of a 2xx answer. Anything else is an error that says what happened,
// fit to show the bot's owner.
func (c *Client) Post(ctx context.Context, url, secret string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("bad webhook URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "agora-webhook/1")
	req.Header.Set(SignatureHeader, Sign(secret, body))
	res, err := c.http.Do(req)
	if err != nil {
		var refused *netguard.RefusedError
		if errors.As(err, &refused) {
			return nil, refused
		}
		var nerr net.Error
		if errors.As(err, &nerr) && nerr.Timeout() {
			return nil, errors.New("no answer in time: the webhook took too long")
		}
		return nil, fmt.Errorf("could not deliver: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 && res.StatusCode < 400 {
		return nil, permanentf("the webhook answered %d (a redirect to %q): redirects are not followed", res.StatusCode, res.Header.Get("Location"))
	}
	if res.StatusCode >= 400 && res.StatusCode < 500 && res.StatusCode != http.StatusRequestTimeout && res.StatusCode != http.StatusTooManyRequests {
		return nil, permanentf("the webhook answered %d", res.StatusCode)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return nil, fmt.Errorf("the webhook answered %d", res.StatusCode)
	}
	reply, err := io.ReadAll(io.LimitReader(res.Body, MaxReply+1))
	if err != nil {
		var nerr net.Error
		if errors.As(err, &nerr) && nerr.Timeout() {
			return nil, errors.New("the reply did not arrive in time")
		}
		return nil, fmt.Errorf("reading the reply: %w", err)
	}
	if len(reply) > MaxReply {
		return nil, permanentf("the reply is larger than %d KiB; it was cut off and ignored", MaxReply>>10)
	}
	return reply, nil
}
