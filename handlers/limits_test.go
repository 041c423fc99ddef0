package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"agora/handlers"
)

// Behind a trusted proxy whose clients are on a private network too (an
// office), the client writes whatever it likes to the left of the address
// the proxy appends. A new forged entry on every guess must not make a new
// client of it: the guesses still count against the one address.
func TestForgedForwardedForDoesNotEscapeAddressLimits(t *testing.T) {
	ts := newServerWith(t, handlers.Config{TrustProxy: true})
	ts.client(t).signup("ann")
	limited := false
	for i := range 15 {
		res := ts.client(t).do("POST", "/login", url.Values{"username": {fmt.Sprintf("nobody%d", i)}, "password": {"wrong-guess"}},
			map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d, 10.0.0.5", i+1)})
		if res.status == http.StatusTooManyRequests {
			limited = true
			break
		}
		expectStatus(t, res, http.StatusUnauthorized)
	}
	if !limited {
		t.Fatal("15 wrong passwords from 10.0.0.5, each with a new forged address before it, were all checked")
	}
	// Another client of the same proxy is not held up by them.
	res := ts.client(t).do("POST", "/login", url.Values{"username": {"ann"}, "password": {"password-ann"}},
		map[string]string{"X-Forwarded-For": "10.0.0.6"})
	expectStatus(t, res, http.StatusSeeOther)
	// A proxy chained on the same machine is skipped: the client is the address before it.
	for i := range 12 {
		ts.client(t).do("POST", "/login", url.Values{"username": {fmt.Sprintf("x%d", i)}, "password": {"wrong-guess"}},
			map[string]string{"X-Forwarded-For": fmt.Sprintf("203.0.113.%d, 10.0.0.7, 127.0.0.1", i+1)})
	}
	res = ts.client(t).do("POST", "/login", url.Values{"username": {"ann"}, "password": {"password-ann"}},
		map[string]string{"X-Forwarded-For": "10.0.0.7, 127.0.0.1"})
	expectStatus(t, res, http.StatusTooManyRequests)
}
