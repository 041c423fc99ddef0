// Package webpush sends Web Push messages (RFC 8030) as an application
// server does: the payload encrypted for one browser's subscription with
// aes128gcm (RFC 8291, on RFC 8188's content coding) and the request signed
// with a VAPID token (RFC 8292). It is built on the standard library's
// crypto/ecdh, crypto/ecdsa and crypto/hkdf rather than
// github.com/SherClockHolmes/webpush-go (v1.4.0): that library writes
// "mailto:" before any subject that does not start with "https:", so the
// operator's mailto: subject would go out doubled; it draws its salt and
// key inside, so its output cannot be held against RFC 8291's example as
// Encrypt's is; and it would bring a JWT library for one ES256 signature.
package webpush

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"agora/chat/netguard"
)

// MaxPayload is the most plaintext one message carries: push services take
// 4096 bytes of body, of which the header, the delimiter and the tag use
// 103 (RFC 8291 section 4).
const MaxPayload = 4096 - 86 - 17

// recordSize is the one record's size, the whole body at most.
const recordSize = 4096

var b64 = base64.RawURLEncoding

// Subscription is what a browser's PushSubscription says: where to post,
// and its keys (base64url, padded or not).
type Subscription struct {
	Endpoint string
	P256dh   string // the browser's P-256 public key, uncompressed
	Auth     string // the 16-byte authentication secret
}

// Keys is a VAPID key pair.
type Keys struct {
	private *ecdsa.PrivateKey
}

// NewKeys makes a VAPID key pair.
func NewKeys() (Keys, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Keys{}, fmt.Errorf("vapid keys: %w", err)
	}
	return Keys{private: k}, nil
}

// ParseKeys reads keys kept by Bytes.
func ParseKeys(b []byte) (Keys, error) {
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), b)
	if err != nil {
		return Keys{}, fmt.Errorf("vapid keys: %w", err)
	}
	return Keys{private: k}, nil
}

// Bytes is the private key, to keep (32 bytes).
func (k Keys) Bytes() []byte {
	b, _ := k.private.Bytes()
	return b
}

// PublicKey is the public key as browsers take it (applicationServerKey):
// the uncompressed point, base64url without padding.
func (k Keys) PublicKey() string {
	b, _ := k.private.PublicKey.Bytes()
	return b64.EncodeToString(b)
}

// token is a VAPID JWT (ES256) for the endpoint's origin, signed by k,
// naming sub as the contact, valid until exp.
func (k Keys) token(endpoint, sub string, exp time.Time) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("endpoint %q is not a URL", endpoint)
	}
	header := b64.EncodeToString([]byte(`{"typ":"JWT","alg":"ES256"}`))
	c := map[string]any{"aud": u.Scheme + "://" + u.Host, "exp": exp.Unix()}
	if sub != "" {
		c["sub"] = sub // as the operator wrote it: mailto: is theirs to write
	}
	claims, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	signed := header + "." + b64.EncodeToString(claims)
	digest := sha256.Sum256([]byte(signed))
	r, s, err := ecdsa.Sign(rand.Reader, k.private, digest[:])
	if err != nil {
		return "", fmt.Errorf("vapid token: %w", err)
	}
	// JWS wants r and s as two 32-byte numbers, not ASN.1.
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signed + "." + b64.EncodeToString(sig), nil
}

// decodeKey reads base64url with or without padding (browsers send both).
func decodeKey(s string) ([]byte, error) {
	if b, err := b64.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.URLEncoding.DecodeString(s)
}

// Encrypt encrypts plaintext for the subscription (RFC 8291): an ECDH
// agreement between a fresh key of ours (asPrivate, nil for a fresh one)
// and the browser's, mixed with its auth secret, keys one aes128gcm record
// (RFC 8188) whose header carries salt (nil for a fresh one) and our public
// key.
func Encrypt(sub Subscription, plaintext []byte, asPrivate *ecdh.PrivateKey, salt []byte) ([]byte, error) {
	if len(plaintext) > MaxPayload {
		return nil, fmt.Errorf("a push payload is at most %d bytes, not %d", MaxPayload, len(plaintext))
	}
	uaRaw, err := decodeKey(sub.P256dh)
	if err != nil {
		return nil, fmt.Errorf("the subscription's p256dh is not base64url: %w", err)
	}
	uaPublic, err := ecdh.P256().NewPublicKey(uaRaw)
	if err != nil {
		return nil, fmt.Errorf("the subscription's p256dh is not a P-256 key: %w", err)
	}
	auth, err := decodeKey(sub.Auth)
	if err != nil || len(auth) != 16 {
		return nil, errors.New("the subscription's auth secret is not 16 bytes of base64url")
	}
	if asPrivate == nil {
		if asPrivate, err = ecdh.P256().GenerateKey(rand.Reader); err != nil {
			return nil, err
		}
	}
	if salt == nil {
		salt = make([]byte, 16)
		if _, err := rand.Read(salt); err != nil {
			return nil, err
		}
	}
	shared, err := asPrivate.ECDH(uaPublic)
	if err != nil {
		return nil, fmt.Errorf("ecdh: %w", err)
	}
	asPublic := asPrivate.PublicKey().Bytes()

	gcm, nonce, err := recordKeys(shared, auth, uaRaw, asPublic, salt)
	if err != nil {
		return nil, err
	}
	// One record, the last: the plaintext, then the delimiter 2, no padding.
	record := append(append([]byte{}, plaintext...), 2)

	var body bytes.Buffer
	body.Write(salt)
	_ = binary.Write(&body, binary.BigEndian, uint32(recordSize))
	body.WriteByte(byte(len(asPublic)))
	body.Write(asPublic)
	body.Write(gcm.Seal(nil, nonce, record, nil))
	return body.Bytes(), nil
}

// recordKeys derives the record's cipher and nonce (RFC 8291 section 3.4):
// IKM = HKDF(auth, ecdh_secret, "WebPush: info" || 0 || ua_public ||
// as_public), then RFC 8188's CEK and nonce from IKM and the salt.
func recordKeys(shared, auth, uaPublic, asPublic, salt []byte) (cipher.AEAD, []byte, error) {
	keyInfo := append(append([]byte("WebPush: info\x00"), uaPublic...), asPublic...)
	ikm, err := hkdf.Key(sha256.New, shared, auth, string(keyInfo), 32)
	if err != nil {
		return nil, nil, err
	}
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		return nil, nil, err
	}
	cek, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, nil, err
	}
	nonce, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, nil, err
	}
	gcm, err := cipher.NewGCM(block)
	return gcm, nonce, err
}

// Decrypt is what a browser does with a message for the subscription whose
// private key and auth secret it holds: for tests, which play the push
// service and the browser.
func Decrypt(uaPrivate *ecdh.PrivateKey, auth, body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("too short for an aes128gcm header")
	}
	salt, idlen := body[:16], int(body[20])
	if len(body) < 21+idlen {
		return nil, errors.New("too short for its key id")
	}
	asPublic, err := ecdh.P256().NewPublicKey(body[21 : 21+idlen])
	if err != nil {
		return nil, fmt.Errorf("key id: %w", err)
	}
	shared, err := uaPrivate.ECDH(asPublic)
	if err != nil {
		return nil, err
	}
	gcm, nonce, err := recordKeys(shared, auth, uaPrivate.PublicKey().Bytes(), asPublic.Bytes(), salt)
	if err != nil {
		return nil, err
	}
	record, err := gcm.Open(nil, nonce, body[21+idlen:], nil)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	end := bytes.LastIndexByte(record, 2)
	if end < 0 || len(bytes.Trim(record[end+1:], "\x00")) != 0 {
		return nil, errors.New("no last-record delimiter")
	}
	return record[:end], nil
}

// VerifyToken checks a VAPID Authorization header's token and key against
// the public key (base64url) and returns its claims: what a push service
// does, for tests.
func VerifyToken(header, publicKey string) (map[string]any, error) {
	rest, ok := strings.CutPrefix(header, "vapid ")
	if !ok {
		return nil, fmt.Errorf("not a vapid header: %q", header)
	}
	var t, k string
	for _, field := range strings.Split(rest, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(field), "=")
		switch name {
		case "t":
			t = value
		case "k":
			k = value
		}
	}
	if k != publicKey {
		return nil, fmt.Errorf("k=%q, want %q", k, publicKey)
	}
	parts := bytes.Split([]byte(t), []byte("."))
	if len(parts) != 3 {
		return nil, errors.New("a JWT has three parts")
	}
	raw, err := b64.DecodeString(publicKey)
	if err != nil {
		return nil, err
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		return nil, err
	}
	sig, err := b64.DecodeString(string(parts[2]))
	if err != nil || len(sig) != 64 {
		return nil, errors.New("the signature is not 64 bytes")
	}
	digest := sha256.Sum256(append(append(parts[0], '.'), parts[1]...))
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return nil, errors.New("bad signature")
	}
	payload, err := b64.DecodeString(string(parts[1]))
	if err != nil {
		return nil, err
	}
	claims := map[string]any{}
	return claims, json.Unmarshal(payload, &claims)
}

// Sender posts pushes. Its zero value is not usable: use NewSender.
type Sender struct {
	keys    Keys
	subject string
	http    *http.Client
}

// DefaultTimeout is how long one push may take, connection included.
const DefaultTimeout = 10 * time.Second

// NewSender sends pushes signed by keys, naming subject (such as
// mailto:ops@example.com, exactly as given) as the contact. Endpoints on
// loopback or private addresses are refused unless allowPrivate.
func NewSender(keys Keys, subject string, allowPrivate bool, timeout time.Duration) *Sender {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	dialer := &net.Dialer{Timeout: timeout, Control: netguard.Control(allowPrivate, "-push-private")}
	transport := &http.Transport{
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       30 * time.Second,
	}
	return &Sender{keys: keys, subject: subject, http: &http.Client{
		Transport: transport,
		Timeout:   timeout,
		// A push service answers; it does not send us elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// ErrGone is a subscription the push service no longer knows (404, 410):
// delete it.
var ErrGone = errors.New("the subscription is gone")

// Send encrypts payload for sub and posts it, to live ttl. A refusal that
// trying again will not change is a *PermanentError; ErrGone when the
// subscription is gone; any other error may pass.
func (s *Sender) Send(ctx context.Context, sub Subscription, payload []byte, ttl time.Duration, topic string) error {
	u, err := url.Parse(sub.Endpoint)
	if err != nil || u.Scheme != "https" && u.Scheme != "http" {
		return &PermanentError{Reason: "the endpoint is not an http(s) URL"}
	}
	body, err := Encrypt(sub, payload, nil, nil)
	if err != nil {
		return &PermanentError{Reason: err.Error()}
	}
	token, err := s.keys.token(sub.Endpoint, s.subject, time.Now().Add(12*time.Hour))
	if err != nil {
		return &PermanentError{Reason: err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.Endpoint, bytes.NewReader(body))
	if err != nil {
		return &PermanentError{Reason: err.Error()}
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Encoding", "aes128gcm")
	req.Header.Set("TTL", strconv.Itoa(int(ttl/time.Second)))
	req.Header.Set("Urgency", "high")
	if topic != "" {
		req.Header.Set("Topic", topic)
	}
	req.Header.Set("Authorization", "vapid t="+token+", k="+s.keys.PublicKey())
	res, err := s.http.Do(req)
	if err != nil {
		var refused *netguard.RefusedError
		if errors.As(err, &refused) {
			return &PermanentError{Reason: refused.Error()}
		}
		return fmt.Errorf("push to %s: %w", u.Host, err)
	}
	defer res.Body.Close()
	reason, _ := io.ReadAll(io.LimitReader(res.Body, 512))
	switch {
	case res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusGone:
		return ErrGone
	case res.StatusCode >= 200 && res.StatusCode < 300:
		return nil
	case res.StatusCode >= 300 && res.StatusCode < 400:
		return &PermanentError{Reason: fmt.Sprintf("the push service answered %s (a redirect is not followed)", res.Status)}
	case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500 || res.StatusCode == http.StatusRequestTimeout:
		return fmt.Errorf("push to %s: %s %s", u.Host, res.Status, bytes.TrimSpace(reason))
	default:
		return &PermanentError{Reason: fmt.Sprintf("the push service answered %s %s", res.Status, bytes.TrimSpace(reason))}
	}
}

// PermanentError is a push that trying again will not deliver.
type PermanentError struct{ Reason string }

func (e *PermanentError) Error() string { return "push refused: " + e.Reason }

// ValidSubscription checks what a browser sent before it is kept: an https
// endpoint (http only with allowPlain, for tests and private setups) and
// keys that encrypt.
func ValidSubscription(sub Subscription, allowPlain bool) error {
	u, err := url.Parse(sub.Endpoint)
	if err != nil || u.Host == "" || len(sub.Endpoint) > 2048 || !(u.Scheme == "https" || allowPlain && u.Scheme == "http") {
		return errors.New("the endpoint is not an https URL")
	}
	_, err = Encrypt(sub, nil, nil, nil)
	return err
}
