package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
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

// Ten wrong passwords from one address lock that address out of the
// account, not the account's owner, who signs in from another.
func TestOneAddressCannotLockAnAccountForEveryone(t *testing.T) {
	ts := newServerWith(t, handlers.Config{TrustProxy: true})
	ts.client(t).do("POST", "/signup", url.Values{"username": {"alice"}, "password": {"password-alice"}},
		map[string]string{"X-Forwarded-For": "192.0.2.10"})
	for range 12 {
		ts.client(t).do("POST", "/login", url.Values{"username": {"alice"}, "password": {"wrong-guess"}},
			map[string]string{"X-Forwarded-For": "203.0.113.66"})
	}
	res := ts.client(t).do("POST", "/login", url.Values{"username": {"alice"}, "password": {"wrong-again"}},
		map[string]string{"X-Forwarded-For": "203.0.113.66"})
	expectStatus(t, res, http.StatusTooManyRequests)
	// The owner, from an address of her own that has never signed in before.
	res = ts.client(t).do("POST", "/login", url.Values{"username": {"alice"}, "password": {"password-alice"}},
		map[string]string{"X-Forwarded-For": "198.51.100.20"})
	expectStatus(t, res, http.StatusSeeOther)
}

// While guesses from ever-changing addresses keep the hashing gate full,
// the owner still signs in from an address her account has a session from
// (and her signed-in session changes its password): the gate lets them
// before the guesses, never letting more hashes run or wait than before.
func TestOwnerSignsInWhileGuessesFillTheHashingGate(t *testing.T) {
	ts := newServerWith(t, handlers.Config{TrustProxy: true})
	home := map[string]string{"X-Forwarded-For": "192.0.2.10"}
	owner := ts.client(t)
	expectStatus(t, owner.do("POST", "/signup", url.Values{"username": {"alice"}, "password": {"password-alice"}}, home), http.StatusSeeOther)

	stop := make(chan struct{})
	var attempts, busy atomic.Int64
	var wg sync.WaitGroup
	var addr atomic.Int64
	for range 16 {
		wg.Go(func() {
			guesser := ts.client(t)
			for {
				select {
				case <-stop:
					return
				default:
				}
				n := addr.Add(1)
				res := guesser.do("POST", "/login", url.Values{"username": {fmt.Sprintf("user%d", n%50)}, "password": {"wrong-guess"}},
					map[string]string{"X-Forwarded-For": fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255)})
				attempts.Add(1)
				if res.status == http.StatusTooManyRequests && strings.Contains(res.body, "busy") {
					busy.Add(1)
				}
			}
		})
	}
	// The gate is full once guesses are told it is busy.
	waitFor(t, "the guesses to fill the hashing gate", func() bool { return busy.Load() > 0 })
	in := 0
	for range 12 {
		if res := ts.client(t).do("POST", "/login", url.Values{"username": {"alice"}, "password": {"password-alice"}}, home); res.status == http.StatusSeeOther {
			in++
		}
	}
	changed := owner.do("POST", "/settings/password", url.Values{"current_password": {"password-alice"}, "new_password": {"password-alice-2"}}, home)
	close(stop)
	wg.Wait()
	t.Logf("under %d guesses (%d told the server is busy), the owner signed in %d of 12 times; her password change answered %d",
		attempts.Load(), busy.Load(), in, changed.status)
	if in != 12 {
		t.Errorf("the owner signed in %d of 12 times while guesses filled the gate", in)
	}
	if changed.status != http.StatusSeeOther {
		t.Errorf("the owner's password change answered %d while guesses filled the gate", changed.status)
	}
}
