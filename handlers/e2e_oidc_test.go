//go:build e2e

package handlers_test

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
)

// startProviderFor runs zitadel/oidc's OpenID provider in this process, with
// one person (ivy), for the agora binary at agoraAddr; it returns the issuer.
func startProviderFor(t *testing.T, agoraAddr string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	users := &opUsers{users: map[string]*storage.User{}}
	users.add("sub-ivy", "ivy", "Ivy", "Green")
	st := storage.NewStorageWithClients(users, map[string]*storage.Client{
		"agora": storage.WebClient("agora", "agora-secret", "http://"+agoraAddr+"/login/oidc/callback"),
	})
	srv := &http.Server{Handler: exampleop.SetupServer(issuer, st, nil, false)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return issuer
}

// startOIDCAgora runs the agora binary signing in with its own provider.
func startOIDCAgora(t *testing.T, extra ...string) *agoraServer {
	t.Helper()
	addr := freeAddr(t)
	issuer := startProviderFor(t, addr)
	s := &agoraServer{t: t, addr: addr, db: filepath.Join(t.TempDir(), "agora.db"),
		args: append([]string{"-oidc-issuer", issuer, "-oidc-client-id", "agora", "-oidc-client-secret", "agora-secret"}, extra...)}
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			s.mu.Lock()
			t.Logf("server log:\n%s", s.logs.String())
			s.mu.Unlock()
		}
	})
	s.start()
	return s
}

// signInWithProvider clicks the login page's button, signs in on the
// provider's own page, and follows the real redirects back.
func (b *browser) signInWithProvider(srv *agoraServer) {
	b.t.Helper()
	b.navigate("open /login", chromedp.Navigate(srv.url("/login")))
	b.navigate("press the provider's button", chromedp.Click(chromedp.ID("oidc-login")))
	b.do("fill in the provider's form",
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "ivy"),
		chromedp.SendKeys(chromedp.ID("password"), "op-password"),
	)
	b.navigate("sign in at the provider", chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
	if loc := b.location(); loc != srv.url("/") {
		b.t.Fatalf("%s: after signing in the browser is at %s, want the lobby\n%s", b.name, loc, b.pageSummary())
	}
	b.do("see the lobby", chromedp.WaitVisible(chromedp.CSS(`section.lobby`)))
	if h := evalJS[string](b, `document.querySelector('section.lobby h1').textContent`); !strings.Contains(h, "Ivy") && !strings.Contains(h, "ivy") {
		b.t.Errorf("%s: the lobby greets %q, want ivy", b.name, h)
	}
}

// TestE2EOIDCSignIn: Chromium signs in through a real provider, following its
// redirects, with passwords allowed and with them refused; a tampered
// callback ends at the login page, signed out.
func TestE2EOIDCSignIn(t *testing.T) {
	for _, passwords := range []bool{true, false} {
		name := "with passwords"
		var extra []string
		if !passwords {
			name, extra = "provider only", []string{"-password-login=false"}
		}
		t.Run(name, func(t *testing.T) {
			srv := startOIDCAgora(t, extra...)
			b := newBrowser(t, context.Background(), "ivy", true)
			b.navigate("open /login", chromedp.Navigate(srv.url("/login")))
			hasPassword := evalJS[bool](b, `document.querySelector('input[name=password]') !== null`)
			if hasPassword != passwords {
				t.Errorf("the login page has a password field: %v, want %v", hasPassword, passwords)
			}
			b.signInWithProvider(srv)
		})
	}
	t.Run("tampered callback", func(t *testing.T) {
		srv := startOIDCAgora(t)
		b := newBrowser(t, context.Background(), "mallory", true)
		b.navigate("open /login", chromedp.Navigate(srv.url("/login")))
		if status := b.navigate("open a forged callback", chromedp.Navigate(srv.url("/login/oidc/callback?code=stolen&state=forged"))); status != http.StatusBadRequest {
			t.Errorf("a forged callback: status %d, want 400", status)
		}
		if msg := evalJS[string](b, `document.querySelector('#form-error').textContent`); !strings.Contains(msg, "did not start here") {
			t.Errorf("the login page says %q", msg)
		}
		b.navigate("open the lobby", chromedp.Navigate(srv.url("/")))
		if loc := b.location(); !strings.Contains(loc, "/login") {
			t.Errorf("signed in after a forged callback: at %s", loc)
		}
	})
}
