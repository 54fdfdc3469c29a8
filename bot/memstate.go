package bot

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// MemoryDeduper is a Deduper for a single instance: marks live in an
// ExpiringMap and expire after their ttl, so memory follows the number of
// live marks. It is safe for concurrent use.
//
// Marking a key that is already marked and not expired keeps its first
// expiry, like the Redis deduper's SET NX.
type MemoryDeduper struct {
	mu    sync.Mutex
	marks *ExpiringMap[struct{}]
}

// NewMemoryDeduper returns an empty MemoryDeduper.
func NewMemoryDeduper() *MemoryDeduper {
	return &MemoryDeduper{marks: NewExpiringMap[struct{}]()}
}

var _ Deduper = (*MemoryDeduper)(nil)

// Seen reports whether key was marked and its mark has not expired.
func (d *MemoryDeduper) Seen(ctx context.Context, key string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.marks.Get(key, time.Now())
	return ok, nil
}

// Mark records key as handled for ttl, which must be positive. A key already
// marked keeps its first expiry.
func (d *MemoryDeduper) Mark(ctx context.Context, key string, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("bot: mark %q: ttl %v is not positive", key, ttl)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.marks.Get(key, now); ok {
		return nil
	}
	d.marks.Set(key, struct{}{}, now.Add(ttl), now)
	return nil
}

// Len returns the number of marks held, including expired ones not purged
// yet.
func (d *MemoryDeduper) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.marks.Len()
}

// MemoryLocker is a Locker for a single instance: one lock per key, created
// when first wanted and freed when nobody holds or waits for it. Lock waits
// without starting goroutines and gives up when ctx is done. A holder cannot
// die without its process, so the locks need no lease.
type MemoryLocker struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

// keyLock is one key's lock: a one-slot semaphore, and the number of
// goroutines holding or waiting for it (guarded by MemoryLocker.mu).
type keyLock struct {
	sem  chan struct{}
	refs int
}

// NewMemoryLocker returns a MemoryLocker holding no locks.
func NewMemoryLocker() *MemoryLocker {
	return &MemoryLocker{locks: make(map[string]*keyLock)}
}

var _ Locker = (*MemoryLocker)(nil)

// Lock blocks until it holds the lock for key or ctx is done; then it returns
// an error that matches both ErrLockTimeout and ctx.Err(). The returned
// unlock releases the lock; calling it again does nothing.
func (l *MemoryLocker) Lock(ctx context.Context, key string) (unlock func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, lockTimeout(key, err)
	}
	l.mu.Lock()
	kl, ok := l.locks[key]
	if !ok {
		kl = &keyLock{sem: make(chan struct{}, 1)}
		l.locks[key] = kl
	}
	kl.refs++
	l.mu.Unlock()

	select {
	case kl.sem <- struct{}{}:
		return sync.OnceFunc(func() {
			<-kl.sem
			l.release(key, kl)
		}), nil
	case <-ctx.Done():
		l.release(key, kl)
		return nil, lockTimeout(key, ctx.Err())
	}
}

// Len returns the number of keys whose lock is held or waited for.
func (l *MemoryLocker) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.locks)
}

// release drops one reference to kl and frees it when it was the last.
func (l *MemoryLocker) release(key string, kl *keyLock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	kl.refs--
	if kl.refs == 0 {
		delete(l.locks, key)
	}
}

// lockTimeout returns the error of a Lock whose ctx ended: it matches both
// ErrLockTimeout and cause.
func lockTimeout(key string, cause error) error {
	return fmt.Errorf("lock %q: %w: %w", key, ErrLockTimeout, cause)
}
