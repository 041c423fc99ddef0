package unfurl

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"agora/chat/netguard"
)

func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func page(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(body))
	}
}

func TestPageReadsOpenGraphThenTwitterThenTitle(t *testing.T) {
	cases := []struct {
		name, html               string
		title, desc, site, image string
	}{
		{"opengraph", `<html><head><title>Plain</title>
			<meta property="og:title" content="OG &amp; title"><meta property="og:description" content="OG description">
			<meta property="og:site_name" content="Example"><meta property="og:image" content="/pic.png">
			<meta name="twitter:title" content="Twitter title"></head><body>x</body></html>`,
			"OG & title", "OG description", "Example", "/pic.png"},
		{"twitter", `<head><meta name="twitter:title" content="Card"><meta name="twitter:description" content="Card text">
			<meta name="twitter:image" content="https://cdn.example.com/c.jpg"><title>Plain</title></head>`,
			"Card", "Card text", "", "https://cdn.example.com/c.jpg"},
		{"title", "<title>\n  Just   a\ttitle\n</title><meta name=description content='Described'><svg><title>drawing</title></svg>",
			"Just a title", "Described", "", ""},
		{"svg title is not the page's", "<svg><title>drawing</title></svg><title>Page</title>", "Page", "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, page(tc.html))
			c := New(Options{Private: true})
			p, err := c.Page(context.Background(), srv.URL+"/a/b")
			if err != nil {
				t.Fatal(err)
			}
			site := tc.site
			if site == "" {
				site = "127.0.0.1"
			}
			img := tc.image
			if strings.HasPrefix(img, "/") {
				img = srv.URL + img
			}
			if p.Title != tc.title || p.Description != tc.desc || p.Site != site || p.Image != img {
				t.Errorf("got title %q desc %q site %q image %q; want %q %q %q %q", p.Title, p.Description, p.Site, p.Image, tc.title, tc.desc, site, img)
			}
		})
	}
}

// A title with markup in it is text: the tokenizer gives it as written, and
// the page shows it escaped (views escape every field).
func TestScriptInTitleStaysText(t *testing.T) {
	srv := serve(t, page(`<title><script>alert(1)</script> hi</title><meta property="og:description" content="<img src=x onerror=alert(2)>">`))
	p, err := New(Options{Private: true}).Page(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != "<script>alert(1)</script> hi" || p.Description != "<img src=x onerror=alert(2)>" {
		t.Fatalf("title %q, description %q", p.Title, p.Description)
	}
}

// A huge page is read up to MaxPage and no further: a title past it is
// never seen, and the fetch ends without reading the rest.
func TestHugePageIsReadToTheLimit(t *testing.T) {
	var wrote atomic.Int64
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><head><meta property=og:description content=early>"))
		chunk := bytes.Repeat([]byte("<p>filler</p>"), 8<<10)
		for range 64 << 20 / len(chunk) { // 64 MiB on offer
			n, err := w.Write(chunk)
			wrote.Add(int64(n))
			if err != nil {
				return
			}
		}
		w.Write([]byte("<title>late</title>"))
	})
	p, err := New(Options{Private: true}).Page(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if p.Read > MaxPage {
		t.Errorf("read %d bytes, more than %d", p.Read, MaxPage)
	}
	if p.Title != "" || p.Description != "early" {
		t.Errorf("title %q, description %q: only what lies in the first MiB may be read", p.Title, p.Description)
	}
}

// A page that never answers, or answers and then hangs, ends with the
// budget (made short here; the default stays DefaultTimeout).
func TestSlowPageEndsWithTheBudget(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	hang := serve(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	trickle := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><head>"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	if DefaultTimeout != 5*time.Second {
		t.Fatalf("the default budget is %s, not 5 s", DefaultTimeout)
	}
	c := New(Options{Private: true, Timeout: 200 * time.Millisecond})
	for _, u := range []string{hang.URL, trickle.URL} {
		if _, err := c.Page(context.Background(), u); err == nil || !strings.Contains(err.Error(), "within") {
			t.Errorf("%s: %v, want an error saying it took too long", u, err)
		}
	}
}

// allowOnly lets the first hop dial a loopback test server while every
// other address is judged by the guard with private addresses refused.
func allowOnly(addr string) func(string, string, syscall.RawConn) error {
	guard := netguard.Control(false, AllowSetting)
	return func(network, address string, c syscall.RawConn) error {
		if address == addr {
			return nil
		}
		return guard(network, address, c)
	}
}

func TestRedirectToAPrivateAddressIsRefused(t *testing.T) {
	inside := serve(t, page("<title>secret</title>"))
	var fetched atomic.Int64
	outside := serve(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inside.URL+"/admin", http.StatusFound)
	})
	c := New(Options{control: allowOnly(outside.Listener.Addr().String()), OnFetch: func() { fetched.Add(1) }})
	_, err := c.Page(context.Background(), outside.URL)
	var ref *netguard.RefusedError
	if !errors.As(err, &ref) {
		t.Fatalf("got %v, want the private address refused", err)
	}
	if !strings.Contains(err.Error(), AllowSetting) {
		t.Errorf("%q does not name %s", err, AllowSetting)
	}
	// Without the exception, the first hop is refused too.
	if _, err := New(Options{}).Page(context.Background(), inside.URL); !errors.As(err, &ref) {
		t.Errorf("loopback: got %v, want refused", err)
	}
}

func TestRedirectsAreCounted(t *testing.T) {
	var srv *httptest.Server
	srv = serve(t, func(w http.ResponseWriter, r *http.Request) {
		n := len(r.URL.Path) // /, //, ///: one more slash a hop
		if n > 10 {
			page("<title>end</title>")(w, r)
			return
		}
		http.Redirect(w, r, srv.URL+strings.Repeat("/", n+1), http.StatusFound)
	})
	c := New(Options{Private: true})
	if _, err := c.Page(context.Background(), srv.URL+"/"); err == nil || !errors.Is(err, ErrRefused) {
		t.Fatalf("ten redirects: %v, want refused", err)
	}
	p, err := c.Page(context.Background(), srv.URL+strings.Repeat("/", 8)) // three hops
	if err != nil || p.Title != "end" {
		t.Fatalf("three redirects: %+v, %v", p, err)
	}
	if _, err := c.Page(context.Background(), srv.URL+strings.Repeat("/", 7)); !errors.Is(err, ErrRefused) {
		t.Fatalf("four redirects: %v, want refused", err)
	}
}

func TestOnlyPagesAndOnlyImages(t *testing.T) {
	var pic bytes.Buffer
	png.Encode(&pic, image.NewRGBA(image.Rect(0, 0, 4, 4)))
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/pic":
			w.Header().Set("Content-Type", "text/html") // the server's word is not taken
			w.Write(pic.Bytes())
		case "/fake.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write([]byte("<html><script>alert(1)</script></html>"))
		case "/huge.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write(pic.Bytes())
			w.Write(make([]byte, 2<<20))
		case "/svg":
			w.Header().Set("Content-Type", "image/svg+xml")
			w.Write([]byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`))
		case "/404":
			http.NotFound(w, r)
		}
	})
	c := New(Options{Private: true})
	if data, ct, err := c.Image(context.Background(), srv.URL+"/pic"); err != nil || ct != "image/png" || !bytes.Equal(data, pic.Bytes()) {
		t.Errorf("a PNG: %s, %v", ct, err)
	}
	for _, path := range []string{"/fake.png", "/huge.png", "/svg", "/404"} {
		if _, _, err := c.Image(context.Background(), srv.URL+path); !errors.Is(err, ErrRefused) {
			t.Errorf("%s: %v, want refused", path, err)
		}
	}
	if _, err := c.Page(context.Background(), srv.URL+"/fake.png"); !errors.Is(err, ErrRefused) {
		t.Errorf("a picture as a page: %v, want refused", err)
	}
	for _, u := range []string{"ftp://example.com/", "javascript:alert(1)", "http:///nohost"} {
		if _, err := c.Page(context.Background(), u); !errors.Is(err, ErrRefused) {
			t.Errorf("%s: %v, want refused", u, err)
		}
	}
}

func TestCleanKeepsOneLineOfText(t *testing.T) {
	if got := clean("a\u202e b\x00\n\n c\u200b", 50); got != "a b c" {
		t.Errorf("got %q", got)
	}
	if got := clean(strings.Repeat("é", 10), 4); got != "éééé…" {
		t.Errorf("got %q", got)
	}
}
