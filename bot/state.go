package bot

import (
	"context"
	"errors"
	"fmt"
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

// OrderedLocker is a Locker that also hands a user's lock to waiting messages
// in the order the platform sent them, whichever instance received them: a
// message waits while an earlier message of the same user waits too.
// Messages that never wait together cannot be reordered; one that arrives
// after a later one was already handled is handled after it.
type OrderedLocker interface {
	Locker
	// LockInOrder is Lock for a message whose place in its user's sequence
	// is seq: strings that sort as the messages were sent (see MessageOrder).
	LockInOrder(ctx context.Context, key, seq string) (unlock func(), err error)
}

// MessageOrder returns a string that sorts inbound messages of one user in
// the order they were sent: by the platform's time in seconds, then by the
// platform's message id, compared as a number when it is one (Telegram
// message ids and WeChat MsgIds grow).
func MessageOrder(in *Inbound) string {
	return fmt.Sprintf("%012d|%020s", in.Time.Unix(), in.MessageID)
}
