package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limit is a rate with a burst: Burst events at once, and then one more
// each Every. "30/1m" is 30 at once and one every 2 s after; "10/24h" is 10
// a day.
type Limit struct {
	Burst int
	Every time.Duration
}

// ParseLimit reads "N/DURATION" (30/1m, 10/24h, 200/1d); "0" or "off" is no
// limit (the zero Limit).
func ParseLimit(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if s == "0" || s == "off" {
		return Limit{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	burst, err := strconv.Atoi(n)
	if !ok || err != nil || burst < 1 {
		return Limit{}, fmt.Errorf("%q is not a limit like 30/1m or 10/24h", s)
	}
	if strings.HasSuffix(per, "d") {
		days, err := strconv.Atoi(strings.TrimSuffix(per, "d"))
		if err != nil || days < 1 {
			return Limit{}, fmt.Errorf("%q is not a limit like 30/1m or 10/24h", s)
		}
		per = strconv.Itoa(24*days) + "h"
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return Limit{}, fmt.Errorf("%q is not a limit like 30/1m or 10/24h", s)
	}
	return Limit{Burst: burst, Every: d / time.Duration(burst)}, nil
}

// Off reports whether l limits nothing.
func (l Limit) Off() bool { return l.Burst <= 0 || l.Every <= 0 }

// Limiter takes one event for a key, at a time the caller's clock says,
// within a Limit: ok, or not and how long until one more is allowed.
// Implementations use the generic cell rate algorithm (GCRA): each key keeps
// the theoretical arrival time of its next event, so that memory and Redis
// give the same answers to the same times.
type Limiter interface {
	Allow(ctx context.Context, key string, now time.Time) (ok bool, retryAfter time.Duration, err error)
}

// gcra is one step of the algorithm: tat is the key's theoretical arrival
// time (zero: none). It returns whether the event is allowed, the new tat
// to keep (unchanged when refused), and the wait when refused.
func gcra(l Limit, tat, now time.Time) (ok bool, next time.Time, retryAfter time.Duration) {
	if tat.Before(now) {
		tat = now
	}
	next = tat.Add(l.Every)
	if over := next.Sub(now) - time.Duration(l.Burst)*l.Every; over > 0 {
		return false, tat, over
	}
	return true, next, 0
}

// MemoryLimiter is a Limiter in one process's memory, for a service without
// Redis. It is safe for concurrent use; a key is forgotten once its burst
// is whole again.
type MemoryLimiter struct {
	limit Limit
	mu    sync.Mutex
	tats  *ExpiringMap[time.Time]
}

// NewMemoryLimiter returns a MemoryLimiter for l.
func NewMemoryLimiter(l Limit) *MemoryLimiter {
	return &MemoryLimiter{limit: l, tats: NewExpiringMap[time.Time]()}
}

// Allow implements Limiter.
func (m *MemoryLimiter) Allow(_ context.Context, key string, now time.Time) (bool, time.Duration, error) {
	if m.limit.Off() {
		return true, 0, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	tat, _ := m.tats.Get(key, now)
	ok, next, wait := gcra(m.limit, tat, now)
	if ok {
		m.tats.Set(key, next, next, now)
	}
	return ok, wait, nil
}
