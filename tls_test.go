package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key to dir, and
// returns their paths and a pool that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "agora test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLS: with -tls-cert and -tls-key agora serves HTTPS with HTTP/2 for
// pages, the session cookie is __Host- and Secure, and room sockets work
// over WSS.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	r := startRun(t, map[string]string{"CHAT_DB": filepath.Join(dir, "tls.db"), "CHAT_TLS_CERT": certFile}, "-tls-key", keyFile)
	if !strings.HasPrefix(r.base, "https://") {
		t.Fatalf("listening on %s, want https://", r.base)
	}

	h2 := newBrowser(t, r.base, &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true})
	res := h2.post("/signup", url.Values{"username": {"ann"}, "password": {"password-ann"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("signup over https: %d", res.StatusCode)
	}
	if res.Proto != "HTTP/2.0" {
		t.Errorf("pages over %s, want HTTP/2.0", res.Proto)
	}
	cookie := res.Header.Get("Set-Cookie")
	if !strings.HasPrefix(cookie, "__Host-") || !strings.Contains(cookie, "Secure") || !strings.Contains(cookie, "HttpOnly") {
		t.Errorf("session cookie over TLS: %q, want __Host-, Secure, HttpOnly", cookie)
	}
	if status, page := h2.get("/rooms/general"); status != http.StatusOK || !strings.Contains(page, `id="composer"`) {
		t.Fatalf("room page over https: %d", status)
	}
	if hsts := func() string {
		res, err := h2.http.Get(r.base + "/login")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.Header.Get("Strict-Transport-Security")
	}(); hsts == "" {
		t.Error("no Strict-Transport-Security over https")
	}

	// The socket over WSS (HTTP/1.1, as browsers open it), with the same
	// cookies; a message sent over it comes back.
	ws := &browser{t: t, base: r.base, http: &http.Client{Jar: h2.http.Jar,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}
	sock := ws.dial("general")
	readUntil(t, sock, `data-user="ann"`)
	say(t, sock, "over wss", "cid-tls-1")
	readUntil(t, sock, "over wss")

	// Plain HTTP on the TLS port is not served.
	plain := &http.Client{Timeout: 5 * time.Second}
	if res, err := plain.Get("http://" + strings.TrimPrefix(r.base, "https://") + "/healthz"); err == nil {
		if res.StatusCode == http.StatusOK {
			t.Error("plain HTTP is served on the TLS port")
		}
		res.Body.Close()
	}
}

// TestTLSRefusals: a key without a certificate, or files that are not a
// pair, stop agora before it serves.
func TestTLSRefusals(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := selfSigned(t, dir)
	otherDir := t.TempDir()
	_, otherKey, _ := selfSigned(t, otherDir)
	for _, args := range [][]string{
		{"-tls-key", keyFile},
		{"-tls-cert", certFile},
		{"-tls-cert", certFile, "-tls-key", otherKey},
		{"-tls-cert", filepath.Join(dir, "missing.pem"), "-tls-key", keyFile},
	} {
		full := append([]string{"agora", "-addr", "127.0.0.1:0", "-db", filepath.Join(dir, "x.db")}, args...)
		if err := run(context.Background(), full, func(string) string { return "" }, &strings.Builder{}); err == nil {
			t.Errorf("agora %v was accepted", args)
		}
	}
}
