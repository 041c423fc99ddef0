package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"agora/handlers"
)

// With sign-up closed, a new server takes its first account (the admin)
// from the sign-up form. Twelve sign-ups at once, from twelve addresses, all
// find no account yet: one account is made, the others are told sign-up is
// closed (or to try again), never made.
func TestClosedSignupMakesOneFirstAccountUnderConcurrentSignups(t *testing.T) {
	ts := newServerWith(t, handlers.Config{TrustProxy: true, Signup: handlers.SignupClosed})
	counts := concurrently(12, func(i int) int {
		return ts.client(t).do("POST", "/signup", url.Values{"username": {fmt.Sprintf("first%d", i)}, "password": {"password-first"}},
			map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i+1)}).status
	})
	if counts[http.StatusSeeOther] != 1 || counts[http.StatusSeeOther]+counts[http.StatusForbidden]+counts[http.StatusTooManyRequests] != 12 {
		t.Fatalf("12 concurrent sign-ups on a new closed server answered %v: want one account made (303), the rest 403 or 429", counts)
	}
	// And the store agrees: one account, whoever it was.
	made := 0
	for i := range 12 {
		if _, err := ts.store.UserByUsername(t.Context(), fmt.Sprintf("first%d", i)); err == nil {
			made++
		}
	}
	if made != 1 {
		t.Fatalf("%d accounts exist, want 1", made)
	}
}
