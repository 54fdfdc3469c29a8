package conversation

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aftersales/aftersales/bot"
)

// MemoryStore is a SessionStore for a single instance. It keeps a deep copy
// of each session (Session.Clone), so that what Load returns shares nothing
// with what Save was given or with other Loads. Sessions expire after their
// ttl (a bot.ExpiringMap: memory follows the number of live sessions). It is
// safe for concurrent use.
type MemoryStore struct {
	mu       sync.Mutex
	sessions *bot.ExpiringMap[*Session] // values are never modified once stored; Save replaces them
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{sessions: bot.NewExpiringMap[*Session]()}
}

var _ SessionStore = (*MemoryStore)(nil)

// Load returns a copy of the session stored under key, or (nil, nil) when
// there is none or it expired.
func (m *MemoryStore) Load(ctx context.Context, key string) (*Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	s, ok := m.sessions.Get(key, time.Now())
	m.mu.Unlock()
	if !ok {
		return nil, nil
	}
	return s.Clone(), nil
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
	m.sessions.Set(key, data, now.Add(ttl), now)
	return nil
}

// Delete removes the session stored under key, if any.
func (m *MemoryStore) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions.Delete(key)
	return nil
}

// Len returns the number of sessions held, including expired ones not
// purged yet.
func (m *MemoryStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sessions.Len()
}
