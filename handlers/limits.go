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
	lim  *rate.Limiter
	seen time.Time
}

func newLimiterSet(perSecond float64, burst int) *limiterSet {
	return &limiterSet{every: rate.Limit(perSecond), burst: burst, keys: make(map[string]*keyLimiter)}
}

// Ready reports whether key's bucket has a token, without taking it.
func (l *limiterSet) Ready(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := l.keys[key]
	return k == nil || k.lim.TokensAt(time.Now()) >= 1
}

// Allow takes a token from key's bucket, reporting whether there was one.
func (l *limiterSet) Allow(key string) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
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
	return k.lim.AllowN(now, 1)
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
