package bot

import (
	"container/heap"
	"context"
	"fmt"
	"sync"
	"time"
)

// sweepBatch bounds how many expired entries one write purges, so that a
// burst of expiries costs a little on each of the following writes rather
// than a long pause on one. Each write adds at most one entry and purges up
// to sweepBatch, so expired entries cannot pile up while writes go on.
const sweepBatch = 64

// MemoryDeduper is a Deduper for a single instance: marks live in a map and
// expire after their ttl. Expired marks are dropped when looked up, and every
// Mark purges up to a bounded number of the oldest expired marks, so memory
// follows the number of live marks. It is safe for concurrent use.
//
// Marking a key that is already marked and not expired keeps its first
// expiry, like the Redis deduper's SET NX.
type MemoryDeduper struct {
	mu      sync.Mutex
	entries map[string]*expiring
	queue   expiryQueue // the same entries, soonest expiry first
}

// NewMemoryDeduper returns an empty MemoryDeduper.
func NewMemoryDeduper() *MemoryDeduper {
	return &MemoryDeduper{entries: make(map[string]*expiring)}
}

var _ Deduper = (*MemoryDeduper)(nil)

// Seen reports whether key was marked and its mark has not expired.
func (d *MemoryDeduper) Seen(ctx context.Context, key string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.entries[key]
	if !ok {
		return false, nil
	}
	if !now.Before(e.expires) {
		d.remove(e)
		return false, nil
	}
	return true, nil
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
	d.sweep(now)
	if e, ok := d.entries[key]; ok {
		if now.Before(e.expires) {
			return nil
		}
		e.expires = now.Add(ttl)
		heap.Fix(&d.queue, e.index)
		return nil
	}
	e := &expiring{key: key, expires: now.Add(ttl)}
	d.entries[key] = e
	heap.Push(&d.queue, e)
	return nil
}

// Len returns the number of marks held, including expired ones not purged
// yet.
func (d *MemoryDeduper) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.entries)
}

// sweep purges up to sweepBatch expired marks. d.mu must be held.
func (d *MemoryDeduper) sweep(now time.Time) {
	for range sweepBatch {
		if len(d.queue) == 0 || now.Before(d.queue[0].expires) {
			return
		}
		d.remove(d.queue[0])
	}
}

// remove deletes e from the map and the queue. d.mu must be held.
func (d *MemoryDeduper) remove(e *expiring) {
	delete(d.entries, e.key)
	heap.Remove(&d.queue, e.index)
}

// expiring is a key with its expiry and its place in an expiryQueue.
type expiring struct {
	key     string
	expires time.Time
	index   int
}

// expiryQueue is a container/heap of entries ordered by expiry, soonest
// first; each entry knows its index so that it can be fixed or removed in
// O(log n).
type expiryQueue []*expiring

func (q expiryQueue) Len() int           { return len(q) }
func (q expiryQueue) Less(i, j int) bool { return q[i].expires.Before(q[j].expires) }
func (q expiryQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index = i
	q[j].index = j
}

func (q *expiryQueue) Push(x any) {
	e := x.(*expiring)
	e.index = len(*q)
	*q = append(*q, e)
}

func (q *expiryQueue) Pop() any {
	old := *q
	n := len(old)
	e := old[n-1]
	old[n-1] = nil
	e.index = -1
	*q = old[:n-1]
	return e
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
