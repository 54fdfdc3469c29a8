package bot

import (
	"container/heap"
	"time"
)

// sweepBatch bounds how many expired entries one Set purges, so that a
// burst of expiries costs a little on each of the following writes rather
// than a long pause on one. Each Set adds at most one entry and purges up to
// sweepBatch, so expired entries cannot pile up while writes go on.
const sweepBatch = 64

// ExpiringMap is a map whose entries expire: an expired entry is dropped
// when it is looked up, and every Set purges a bounded number of the oldest
// expired entries, so memory follows the number of live entries. It backs
// the in-memory dedupe marks and chat sessions. It is not safe for
// concurrent use: callers hold their own lock.
type ExpiringMap[V any] struct {
	entries map[string]*expiring[V]
	queue   expiryQueue[V] // the same entries, soonest expiry first
}

// NewExpiringMap returns an empty ExpiringMap.
func NewExpiringMap[V any]() *ExpiringMap[V] {
	return &ExpiringMap[V]{entries: make(map[string]*expiring[V])}
}

// Get returns the value under key if it has not expired at now.
func (m *ExpiringMap[V]) Get(key string, now time.Time) (V, bool) {
	e, ok := m.entries[key]
	if !ok {
		var zero V
		return zero, false
	}
	if !now.Before(e.expires) {
		m.remove(e)
		var zero V
		return zero, false
	}
	return e.value, true
}

// Set stores v under key until expires, replacing what was there, after
// purging some expired entries.
func (m *ExpiringMap[V]) Set(key string, v V, expires, now time.Time) {
	for range sweepBatch {
		if len(m.queue) == 0 || now.Before(m.queue[0].expires) {
			break
		}
		m.remove(m.queue[0])
	}
	if e, ok := m.entries[key]; ok {
		e.value, e.expires = v, expires
		heap.Fix(&m.queue, e.index)
		return
	}
	e := &expiring[V]{key: key, value: v, expires: expires}
	m.entries[key] = e
	heap.Push(&m.queue, e)
}

// Delete removes key, if it is there.
func (m *ExpiringMap[V]) Delete(key string) {
	if e, ok := m.entries[key]; ok {
		m.remove(e)
	}
}

// Len returns the number of entries held, including expired ones not purged
// yet.
func (m *ExpiringMap[V]) Len() int { return len(m.entries) }

func (m *ExpiringMap[V]) remove(e *expiring[V]) {
	delete(m.entries, e.key)
	heap.Remove(&m.queue, e.index)
}

// expiring is an entry with its expiry and its place in an expiryQueue.
type expiring[V any] struct {
	key     string
	value   V
	expires time.Time
	index   int
}

// expiryQueue is a container/heap of entries ordered by expiry, soonest
// first; each entry knows its index so that it can be fixed or removed in
// O(log n).
type expiryQueue[V any] []*expiring[V]

func (q expiryQueue[V]) Len() int           { return len(q) }
func (q expiryQueue[V]) Less(i, j int) bool { return q[i].expires.Before(q[j].expires) }
func (q expiryQueue[V]) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index = i
	q[j].index = j
}

func (q *expiryQueue[V]) Push(x any) {
	e := x.(*expiring[V])
	e.index = len(*q)
	*q = append(*q, e)
}

func (q *expiryQueue[V]) Pop() any {
	old := *q
	n := len(old)
	e := old[n-1]
	old[n-1] = nil
	e.index = -1
	*q = old[:n-1]
	return e
}
