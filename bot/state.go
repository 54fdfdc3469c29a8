package bot

import (
	"context"
	"errors"
	"time"
)

// Deduper remembers which inbound messages were handled, so that a platform's
// retry of the same message (WeChat retries a MsgId up to three times) is
// handled once. The Router consults it while holding the user's lock.
type Deduper interface {
	// Seen reports whether key was marked and its mark has not expired.
	Seen(ctx context.Context, key string) (bool, error)
	// Mark records key as handled for ttl.
	Mark(ctx context.Context, key string, ttl time.Duration) error
}

// Locker serialises the handling of one user's messages, within one instance
// and, on Redis, across every instance serving the same bot.
type Locker interface {
	// Lock blocks until it holds the lock for key or ctx is done. The returned
	// unlock releases it; calling unlock twice is harmless. A lock whose holder
	// died expires on its own.
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// ErrLockTimeout is returned by Lock when ctx ended before the lock was free.
var ErrLockTimeout = errors.New("timed out waiting for the user's lock")
