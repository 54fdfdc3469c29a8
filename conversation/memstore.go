package conversation

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// memSweepBatch bounds how many expired sessions one Save purges. Each Save
// adds at most one session and purges up to memSweepBatch expired ones, so
// expired sessions cannot pile up while Saves go on.
const memSweepBatch = 64

// MemoryStore is a SessionStore for a single instance. It keeps a deep copy of
// each session (Session.Clone), so that what Load returns shares nothing with
// what Save was given or with other Loads. Sessions expire after their ttl: an expired session is
// dropped when loaded, and every Save purges up to a bounded number of the
// oldest expired sessions. It is safe for concurrent use.
type MemoryStore struct {
	mu       sync.Mutex
	sessions map[string]*memSession
	queue    memQueue // the same sessions, soonest expiry first
}

// memSession is one stored session with its expiry and its place in the
// queue.
type memSession struct {
	key     string
	data    *Session // never modified once stored; Save replaces it
	expires time.Time
	index   int
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{sessions: make(map[string]*memSession)}
}

var _ SessionStore = (*MemoryStore)(nil)

// Load returns a copy of the session stored under key, or (nil, nil) when
// there is none or it expired.
func (m *MemoryStore) Load(ctx context.Context, key string) (*Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := time.Now()
	m.mu.Lock()
	e, ok := m.sessions[key]
	if ok && !now.Before(e.expires) {
		m.remove(e)
		ok = false
	}
	var data *Session
	if ok {
		data = e.data
	}
	m.mu.Unlock()
	if data == nil {
		return nil, nil
	}
	return data.Clone(), nil
}

// Save stores a copy of s under s.User.Key(), replacing what was there, for
// ttl, which must be positive.
func (m *MemoryStore) Save(ctx context.Context, s *Session, ttl time.Duration) error {
	if s == nil {
		return errors.New("conversation: save session: nil session")
	}
	key := s.User.Key()
	if ttl <= 0 {
		return fmt.Errorf("conversation: save session %q: ttl %v is not positive", key, ttl)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	data := s.Clone()
	for i := range data.Media {
		data.Media[i].Err = nil // not kept, as on Redis, where it is not encoded
	}
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	if e, ok := m.sessions[key]; ok {
		e.data = data
		e.expires = now.Add(ttl)
		heap.Fix(&m.queue, e.index)
		return nil
	}
	e := &memSession{key: key, data: data, expires: now.Add(ttl)}
	m.sessions[key] = e
	heap.Push(&m.queue, e)
	return nil
}

// Delete removes the session stored under key, if any.
func (m *MemoryStore) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.sessions[key]; ok {
		m.remove(e)
	}
	return nil
}

// Len returns the number of sessions held, including expired ones not
// purged yet.
func (m *MemoryStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions)
}

// sweep purges up to memSweepBatch expired sessions. m.mu must be held.
func (m *MemoryStore) sweep(now time.Time) {
	for range memSweepBatch {
		if len(m.queue) == 0 || now.Before(m.queue[0].expires) {
			return
		}
		m.remove(m.queue[0])
	}
}

// remove deletes e from the map and the queue. m.mu must be held.
func (m *MemoryStore) remove(e *memSession) {
	delete(m.sessions, e.key)
	heap.Remove(&m.queue, e.index)
}

// memQueue is a container/heap of sessions ordered by expiry, soonest first.
type memQueue []*memSession

func (q memQueue) Len() int           { return len(q) }
func (q memQueue) Less(i, j int) bool { return q[i].expires.Before(q[j].expires) }
func (q memQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index = i
	q[j].index = j
}

func (q *memQueue) Push(x any) {
	e := x.(*memSession)
	e.index = len(*q)
	*q = append(*q, e)
}

func (q *memQueue) Pop() any {
	old := *q
	n := len(old)
	e := old[n-1]
	old[n-1] = nil
	e.index = -1
	*q = old[:n-1]
	return e
}
