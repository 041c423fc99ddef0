// Package unfurl fetches the page a message links to and reads what a
// preview shows of it: its OpenGraph and Twitter card tags, or its <title>,
// and the address of its picture. Every address is someone else's choice, so
// a fetch has the limits of a server calling out: one time budget for the
// whole of it (redirects and body included), at most MaxPage bytes read, at
// most MaxRedirects redirects, and no connection to the server's own network
// (loopback, private, link-local...) unless the operator allows it: netguard
// checks each address as it is dialled, so every hop of a redirect is
// checked again, and so is a name that resolves to a private address.
//
// The page is read with an HTML tokenizer, never with regular expressions,
// and nothing of it is kept but short plain text.
package unfurl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"

	"agora/chat"
	"agora/chat/media"
	"agora/chat/netguard"
)

// Limits of one fetch.
const (
	DefaultTimeout = 5 * time.Second
	MaxPage        = 1 << 20 // bytes of a page read, at most
	MaxImage       = 1 << 20 // bytes of a picture, at most: a larger one is not copied
	MaxRedirects   = 3
	// AllowSetting names the switch that lets fetches reach private
	// addresses, for the error that refuses them.
	AllowSetting = "-unfurl-private"
)

// Page is what a preview shows of a page.
type Page struct {
	URL         string // where the page was found, after redirects
	Title       string
	Description string
	Site        string
	Image       string // the absolute http(s) address of its picture, or ""
	Read        int64  // bytes of the body read
}

// Options tune a Client; zero values take the defaults.
type Options struct {
	Private bool          // allow loopback and private addresses
	Timeout time.Duration // the budget of one fetch, all hops and the body included; default DefaultTimeout
	// OnFetch, when set, is told of each request sent (a page or a
	// picture), for the fetch counter.
	OnFetch func()
	// control replaces the address check (tests: a first hop on loopback
	// while private addresses stay refused).
	control func(network, address string, c syscall.RawConn) error
}

// Client fetches pages and pictures for previews.
type Client struct {
	http    *http.Client
	timeout time.Duration
	onFetch func()
}

// ErrRefused wraps a fetch the client would not make: not a page, too many
// redirects, an answer that is not a success.
var ErrRefused = errors.New("no preview")

func refused(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, args...))
}

// New returns a client with opts.
func New(opts Options) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	control := opts.control
	if control == nil {
		control = netguard.Control(opts.Private, AllowSetting)
	}
	dialer := &net.Dialer{Timeout: opts.Timeout, Control: control}
	transport := &http.Transport{
		Proxy:                  nil, // a proxy would be dialled instead of the checked address
		DialContext:            dialer.DialContext,
		TLSHandshakeTimeout:    opts.Timeout,
		ResponseHeaderTimeout:  opts.Timeout,
		MaxResponseHeaderBytes: 16 << 10,
		// As many as the job queue's workers fetch at once (jobs' default):
		// with one, all but one of the fetches at once from one site dialled anew.
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}
	c := &Client{timeout: opts.Timeout, onFetch: opts.OnFetch}
	c.http = &http.Client{
		Transport: transport,
		Timeout:   opts.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > MaxRedirects {
				return refused("more than %d redirects", MaxRedirects)
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return refused("a redirect to a %s: address", req.URL.Scheme)
			}
			// The next hop's address is checked as it is dialled.
			c.counted()
			return nil
		},
	}
	return c
}

func (c *Client) counted() {
	if c.onFetch != nil {
		c.onFetch()
	}
}

// Check says whether raw is an address a preview may be fetched from:
// http or https, with a host.
func Check(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, refused("not an address")
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Hostname() == "" {
		return nil, refused("not an http(s) address")
	}
	u.User, u.Fragment = nil, ""
	return u, nil
}

// get sends a GET for u under the client's budget; the caller closes the
// body and cancels.
func (c *Client) get(ctx context.Context, u *url.URL, accept string) (*http.Response, context.CancelFunc, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		cancel()
		return nil, nil, refused("bad address: %v", err)
	}
	req.Header.Set("User-Agent", "agora-unfurl/1 (link preview)")
	req.Header.Set("Accept", accept)
	c.counted()
	res, err := c.http.Do(req)
	if err != nil {
		cancel()
		var ref *netguard.RefusedError
		if errors.As(err, &ref) {
			return nil, nil, ref
		}
		if errors.Is(err, ErrRefused) {
			return nil, nil, errors.Unwrap(err) // *url.Error around ours
		}
		if timedOut(err) {
			return nil, nil, fmt.Errorf("no answer within %s", c.timeout)
		}
		return nil, nil, fmt.Errorf("fetch: %w", err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		res.Body.Close()
		cancel()
		return nil, nil, refused("the server answered %d", res.StatusCode)
	}
	return res, cancel, nil
}

// Page fetches the page at raw and reads its preview.
func (c *Client) Page(ctx context.Context, raw string) (Page, error) {
	u, err := Check(raw)
	if err != nil {
		return Page{}, err
	}
	res, cancel, err := c.get(ctx, u, "text/html,application/xhtml+xml;q=0.9")
	if err != nil {
		return Page{}, err
	}
	defer cancel()
	defer res.Body.Close()
	ct := res.Header.Get("Content-Type")
	if mt, _, _ := mime.ParseMediaType(ct); mt != "text/html" && mt != "application/xhtml+xml" {
		return Page{}, refused("not a web page (%s)", mt)
	}
	body := &countingReader{r: io.LimitReader(res.Body, MaxPage)}
	// The charset is found in the header or the page's first KiB.
	p := Page{}
	r, err := charset.NewReader(body, ct)
	if err == nil {
		p, err = read(r, res.Request.URL)
	}
	p.Read = body.n
	switch {
	case err == nil:
		return p, nil
	case timedOut(err):
		return p, fmt.Errorf("the page did not arrive within %s", c.timeout)
	}
	return p, fmt.Errorf("read the page: %w", err)
}

// Image fetches a picture: at most MaxImage bytes, of a type shown inline
// (by its content, never by what the server says). It returns the bytes and
// their type.
func (c *Client) Image(ctx context.Context, raw string) ([]byte, string, error) {
	u, err := Check(raw)
	if err != nil {
		return nil, "", err
	}
	res, cancel, err := c.get(ctx, u, "image/png,image/jpeg,image/gif,image/webp")
	if err != nil {
		return nil, "", err
	}
	defer cancel()
	defer res.Body.Close()
	if res.ContentLength > MaxImage {
		return nil, "", refused("the picture is larger than %d KiB", MaxImage>>10)
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, MaxImage+1))
	if timedOut(err) {
		return nil, "", fmt.Errorf("the picture did not arrive within %s", c.timeout)
	}
	if err != nil {
		return nil, "", fmt.Errorf("read the picture: %w", err)
	}
	if len(data) > MaxImage {
		return nil, "", refused("the picture is larger than %d KiB", MaxImage>>10)
	}
	ct := media.Sniff(data[:min(len(data), media.SniffLen)], "")
	if !media.IsImage(ct) {
		return nil, "", refused("the picture is not a PNG, JPEG, GIF or WebP image (%s)", ct)
	}
	return data, ct, nil
}

func timedOut(err error) bool {
	var nerr net.Error
	return errors.As(err, &nerr) && nerr.Timeout() || errors.Is(err, context.DeadlineExceeded)
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n += int64(k)
	return k, err
}

// read tokenizes a page and keeps what a preview needs. OpenGraph tags come
// first, then Twitter's, then the plain <title> and description.
func read(r io.Reader, base *url.URL) (Page, error) {
	var og, tw, plain struct{ title, desc, site, image string }
	z := html.NewTokenizer(r)
	inTitle, svg := false, 0
	var title strings.Builder
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			err := z.Err()
			if errors.Is(err, io.EOF) {
				err = nil
			}
			p := Page{URL: base.String()}
			p.Title = first(og.title, tw.title, plain.title)
			p.Description = first(og.desc, tw.desc, plain.desc)
			p.Site = first(og.site, siteOf(base))
			if img := first(og.image, tw.image); img != "" {
				p.Image = resolve(base, img)
			}
			p.Title = clean(p.Title, chat.MaxPreviewTitle)
			p.Description = clean(p.Description, chat.MaxPreviewDescription)
			p.Site = clean(p.Site, chat.MaxPreviewSite)
			return p, err
		case html.TextToken:
			if inTitle {
				title.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch atom.Lookup(name) {
			case atom.Title:
				// The document's title, not an SVG drawing's.
				inTitle = svg == 0 && plain.title == "" && tt == html.StartTagToken
			case atom.Svg:
				if tt == html.StartTagToken {
					svg++
				}
			case atom.Meta:
				if !hasAttr {
					continue
				}
				var key, content string
				for {
					k, v, more := z.TagAttr()
					switch string(k) {
					case "property", "name":
						if key == "" {
							key = strings.ToLower(strings.TrimSpace(string(v)))
						}
					case "content":
						content = string(v)
					}
					if !more {
						break
					}
				}
				set := func(dst *string) {
					if *dst == "" {
						*dst = content
					}
				}
				switch key {
				case "og:title":
					set(&og.title)
				case "og:description":
					set(&og.desc)
				case "og:site_name":
					set(&og.site)
				case "og:image", "og:image:url", "og:image:secure_url":
					set(&og.image)
				case "twitter:title":
					set(&tw.title)
				case "twitter:description":
					set(&tw.desc)
				case "twitter:image", "twitter:image:src":
					set(&tw.image)
				case "description":
					set(&plain.desc)
				}
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch atom.Lookup(name) {
			case atom.Title:
				if inTitle {
					plain.title = title.String()
					inTitle = false
				}
			case atom.Svg:
				svg = max(0, svg-1)
			}
		}
	}
}

func first(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// siteOf names a page's site by its host, without "www.".
func siteOf(u *url.URL) string { return strings.TrimPrefix(u.Hostname(), "www.") }

// resolve makes a picture's address absolute against the page's; only http
// and https addresses are kept.
func resolve(base *url.URL, ref string) string {
	r, err := url.Parse(strings.TrimSpace(ref))
	if err != nil {
		return ""
	}
	abs := base.ResolveReference(r)
	if abs.Scheme != "http" && abs.Scheme != "https" || abs.Hostname() == "" {
		return ""
	}
	return abs.String()
}

// clean makes a page's text fit to show on one line: valid UTF-8, runs of
// white space as one space, no control, format (bidi, zero-width) or private
// characters, and at most max runes (cut with an ellipsis).
func clean(s string, limit int) string {
	s = strings.ToValidUTF8(s, "")
	var b strings.Builder
	n, space := 0, false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Co, r) || r == utf8.RuneError:
			continue
		}
		if space && n < limit {
			b.WriteByte(' ')
			n++
			space = false
		}
		if n >= limit {
			return strings.TrimRight(b.String(), " ") + "…"
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
