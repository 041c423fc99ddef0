package webpush_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"agora/chat/webpush"
)

var b64 = base64.RawURLEncoding

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := b64.DecodeString(s)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return b
}

// RFC 8291 section 5's example, byte for byte: its application server key
// and salt in, its body out; and the browser's side reads it back.
func TestEncryptMatchesRFC8291Example(t *testing.T) {
	asPrivate, err := ecdh.P256().NewPrivateKey(mustB64(t, "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"))
	if err != nil {
		t.Fatal(err)
	}
	sub := webpush.Subscription{
		Endpoint: "https://push.example.net/push/JzLQ3raZJfFBR0aqvOMsLrt54w4rJUsV",
		P256dh:   "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
		Auth:     "BTBZMqHH6r4Tts7J_aSIgg",
	}
	body, err := webpush.Encrypt(sub, []byte("When I grow up, I want to be a watermelon"), asPrivate, mustB64(t, "DGv6ra1nlYgDCS1FRnbzlw"))
	if err != nil {
		t.Fatal(err)
	}
	const want = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
	if got := b64.EncodeToString(body); got != want {
		t.Fatalf("body\n got %s\nwant %s", got, want)
	}
	uaPrivate, err := ecdh.P256().NewPrivateKey(mustB64(t, "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := webpush.Decrypt(uaPrivate, mustB64(t, sub.Auth), body)
	if err != nil || string(plain) != "When I grow up, I want to be a watermelon" {
		t.Fatalf("decrypted %q, %v", plain, err)
	}
}

// browser is a subscription's private side.
type browser struct {
	key  *ecdh.PrivateKey
	auth []byte
}

func newBrowser(t *testing.T, endpoint string) (browser, webpush.Subscription) {
	t.Helper()
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	_, _ = rand.Read(auth)
	// Browsers send padded base64url as often as not.
	return browser{key, auth}, webpush.Subscription{Endpoint: endpoint,
		P256dh: base64.URLEncoding.EncodeToString(key.PublicKey().Bytes()), Auth: base64.URLEncoding.EncodeToString(auth)}
}

// The sender posts what a push service takes: aes128gcm that the browser's
// keys open, a VAPID token signed by the server's key for the endpoint's
// origin with sub exactly the subject given, and a TTL. 404 and 410 say the
// subscription is gone; 500 may pass; 400 and a redirect will not.
func TestSendAsAPushServiceSeesIt(t *testing.T) {
	keys, err := webpush.NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	kept, err := webpush.ParseKeys(keys.Bytes())
	if err != nil || kept.PublicKey() != keys.PublicKey() {
		t.Fatalf("keys kept and read back differ: %v", err)
	}
	type got struct {
		header http.Header
		body   []byte
	}
	answer := make(chan int, 1)
	seen := make(chan got, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen <- got{r.Header.Clone(), b}
		code := <-answer
		if code == http.StatusFound {
			w.Header().Set("Location", "http://169.254.169.254/")
		}
		w.WriteHeader(code)
	}))
	defer srv.Close()
	ua, sub := newBrowser(t, srv.URL+"/push/abc")
	sender := webpush.NewSender(kept, "mailto:ops@example.com", true, 5*time.Second)

	answer <- http.StatusCreated
	if err := sender.Send(t.Context(), sub, []byte(`{"title":"ann"}`), time.Hour, "room-1"); err != nil {
		t.Fatal(err)
	}
	g := <-seen
	plain, err := webpush.Decrypt(ua.key, ua.auth, g.body)
	if err != nil || string(plain) != `{"title":"ann"}` {
		t.Fatalf("the browser reads %q, %v", plain, err)
	}
	if g.header.Get("Content-Encoding") != "aes128gcm" || g.header.Get("TTL") != "3600" || g.header.Get("Topic") != "room-1" {
		t.Errorf("headers %v", g.header)
	}
	claims, err := webpush.VerifyToken(g.header.Get("Authorization"), keys.PublicKey())
	if err != nil {
		t.Fatalf("VAPID: %v (%s)", err, g.header.Get("Authorization"))
	}
	if claims["sub"] != "mailto:ops@example.com" || claims["aud"] != srv.URL {
		t.Errorf("claims %v", claims)
	}
	if exp, _ := claims["exp"].(float64); time.Unix(int64(exp), 0).After(time.Now().Add(24 * time.Hour)) {
		t.Errorf("exp %v is more than 24 hours away (RFC 8292 section 2)", claims["exp"])
	}

	for code, want := range map[int]func(error) bool{
		http.StatusGone:                func(err error) bool { return errors.Is(err, webpush.ErrGone) },
		http.StatusNotFound:            func(err error) bool { return errors.Is(err, webpush.ErrGone) },
		http.StatusInternalServerError: func(err error) bool { var p *webpush.PermanentError; return err != nil && !errors.As(err, &p) },
		http.StatusBadRequest:          func(err error) bool { var p *webpush.PermanentError; return errors.As(err, &p) },
		http.StatusFound:               func(err error) bool { var p *webpush.PermanentError; return errors.As(err, &p) },
	} {
		answer <- code
		err := sender.Send(t.Context(), sub, []byte("x"), time.Minute, "")
		<-seen
		if !want(err) {
			t.Errorf("answered %d: %v", code, err)
		}
	}
}

// Without allowPrivate, an endpoint on loopback is never dialled.
func TestSendRefusesPrivateEndpoints(t *testing.T) {
	called := false
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	defer srv.Close()
	keys, _ := webpush.NewKeys()
	_, sub := newBrowser(t, srv.URL+"/push")
	err := webpush.NewSender(keys, "mailto:ops@example.com", false, time.Second).Send(t.Context(), sub, []byte("x"), time.Minute, "")
	var p *webpush.PermanentError
	if !errors.As(err, &p) || !strings.Contains(err.Error(), "-push-private") || called {
		t.Fatalf("err %v, called %v", err, called)
	}
}

// Subscriptions that cannot be pushed to are refused before they are kept.
func TestValidSubscription(t *testing.T) {
	_, good := newBrowser(t, "https://push.example.net/abc")
	if err := webpush.ValidSubscription(good, false); err != nil {
		t.Fatal(err)
	}
	for name, sub := range map[string]webpush.Subscription{
		"plain http":  {Endpoint: "http://push.example.net/abc", P256dh: good.P256dh, Auth: good.Auth},
		"no endpoint": {P256dh: good.P256dh, Auth: good.Auth},
		"bad key":     {Endpoint: good.Endpoint, P256dh: b64.EncodeToString(bytes.Repeat([]byte{4}, 65)), Auth: good.Auth},
		"short auth":  {Endpoint: good.Endpoint, P256dh: good.P256dh, Auth: "AAAA"},
		"not base64":  {Endpoint: good.Endpoint, P256dh: "!!!", Auth: good.Auth},
	} {
		if webpush.ValidSubscription(sub, false) == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A push service that never answers costs the sender its timeout, and the
// error is one to try again.
func TestSendGivesUpOnAHangingService(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	keys, _ := webpush.NewKeys()
	_, sub := newBrowser(t, srv.URL+"/push")
	err := webpush.NewSender(keys, "", true, 200*time.Millisecond).Send(t.Context(), sub, []byte("x"), time.Minute, "")
	var p *webpush.PermanentError
	if err == nil || errors.As(err, &p) || errors.Is(err, webpush.ErrGone) {
		t.Fatalf("a hanging push service: %v", err)
	}
}
