package handlers

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiterSet keeps one token bucket per key (a user, a client address).
type limiterSet struct {
	every rate.Limit
	burst int

	mu   sync.Mutex
	keys map[string]*keyLimiter
}

type keyLimiter struct {
	lim    *rate.Limiter
	credit float64 // tokens given back (Take's refund), spent before the bucket's
	seen   time.Time
}

func newLimiterSet(perSecond float64, burst int) *limiterSet {
	return &limiterSet{every: rate.Limit(perSecond), burst: burst, keys: make(map[string]*keyLimiter)}
}

// Allow takes a token from key's bucket, reporting whether there was one.
func (l *limiterSet) Allow(key string) bool {
	_, ok := l.Take(key)
	return ok
}

// Take takes a token from key's bucket, if it has one, and returns a
// function that gives it back: the token is spent before the costly work
// (hashing a password), and refunded when the work shows it was honest.
func (l *limiterSet) Take(key string) (refund func(), ok bool) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	k := l.limiterLocked(key, now)
	switch {
	case k.credit >= 1:
		k.credit--
	case !k.lim.AllowN(now, 1):
		return nil, false
	}
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		// A refund never fills the bucket past its burst.
		k.credit = min(k.credit+1, float64(l.burst)-k.lim.TokensAt(time.Now()))
	}, true
}

func (l *limiterSet) limiterLocked(key string, now time.Time) *keyLimiter {
	k := l.keys[key]
	if k == nil {
		// Buckets idle long enough to be full again carry no state worth keeping.
		if len(l.keys) >= 10000 {
			full := time.Duration(float64(l.burst)/float64(l.every)) * time.Second
			for key, k := range l.keys {
				if now.Sub(k.seen) > full {
					delete(l.keys, key)
				}
			}
		}
		k = &keyLimiter{lim: rate.NewLimiter(l.every, l.burst)}
		l.keys[key] = k
	}
	k.seen = now
	return k
}

// Full reports whether key's bucket is full: nothing spent from it lately
// that has not come back.
func (l *limiterSet) Full(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := l.keys[key]
	return k == nil || k.credit+k.lim.TokensAt(time.Now()) >= float64(l.burst)
}

// Delay is how long until key's bucket has a token again.
func (l *limiterSet) Delay(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := l.keys[key]
	if k == nil {
		return 0
	}
	missing := 1 - k.lim.TokensAt(time.Now())
	if missing <= 0 {
		return 0
	}
	return time.Duration(missing / float64(l.every) * float64(time.Second))
}
