package api

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"automate/internal/access"
	"automate/internal/clock"
)

// RateLimits are requests per minute per user for each tier; 0 turns a
// tier's limit off.
type RateLimits struct {
	Tier1PerMinute int
	Tier2PerMinute int
}

// DefaultRateLimits are Qlik's published limits.
var DefaultRateLimits = RateLimits{Tier1PerMinute: 1000, Tier2PerMinute: 100}

type bucketKey struct {
	tenant, user string
	tier         tier
}

// limiter holds a token bucket per user and tier, with a burst equal to the
// per-minute limit. Buckets live on this node only.
type limiter struct {
	limits RateLimits
	clock  clock.Clock
	mu     sync.Mutex
	bucket map[bucketKey]*rate.Limiter
	calls  int
}

func newLimiter(l RateLimits, clk clock.Clock) *limiter {
	return &limiter{limits: l, clock: clk, bucket: make(map[bucketKey]*rate.Limiter)}
}

// allow takes a token for p in tier t, or says how long until one is free.
func (l *limiter) allow(p access.Principal, t tier) (time.Duration, bool) {
	perMinute := l.limits.Tier1PerMinute
	if t == tier2 {
		perMinute = l.limits.Tier2PerMinute
	}
	if perMinute <= 0 {
		return 0, true
	}
	now := l.clock.Now()
	k := bucketKey{tenant: p.TenantID, user: p.UserID, tier: t}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	if l.calls%4096 == 0 {
		l.sweep(now)
	}
	b, ok := l.bucket[k]
	if !ok {
		b = rate.NewLimiter(rate.Limit(float64(perMinute)/60), perMinute)
		l.bucket[k] = b
	}
	res := b.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d, false
	}
	return 0, true
}

// sweep drops full buckets: a new bucket is full too, so nothing changes
// for their users, and the map stays as small as the set of active users.
func (l *limiter) sweep(now time.Time) {
	for k, b := range l.bucket {
		if b.TokensAt(now) >= float64(b.Burst()) {
			delete(l.bucket, k)
		}
	}
}
