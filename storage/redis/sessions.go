package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/aftersales/aftersales/conversation"
)

// SessionStore is a conversation.SessionStore on Redis: each session is its
// JSON encoding under its user's key, expiring after the ttl of its last Save.
type SessionStore struct {
	c *Client
}

var _ conversation.SessionStore = (*SessionStore)(nil)

// Sessions returns the dialogue sessions on c.
func (c *Client) Sessions() *SessionStore { return &SessionStore{c: c} }

// Load returns the session stored under key, or (nil, nil) when there is
// none or it expired.
func (s *SessionStore) Load(ctx context.Context, key string) (*conversation.Session, error) {
	data, err := s.c.rdb.Get(ctx, s.c.key("session:", key)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redis: load session %q: %w", key, err)
	}
	sess, err := conversation.UnmarshalSession(data)
	if err != nil {
		return nil, fmt.Errorf("redis: load session %q: %w", key, err)
	}
	return sess, nil
}

// Save stores sess under sess.User.Key(), replacing what was there, for ttl,
// which must be positive.
func (s *SessionStore) Save(ctx context.Context, sess *conversation.Session, ttl time.Duration) error {
	key, data, err := conversation.MarshalSession(sess, ttl)
	if err != nil {
		return fmt.Errorf("redis: save session %q: %w", key, err)
	}
	if err := s.c.rdb.Set(ctx, s.c.key("session:", key), data, ttl).Err(); err != nil {
		return fmt.Errorf("redis: save session %q: %w", key, err)
	}
	return nil
}

// Delete removes the session stored under key, if any.
func (s *SessionStore) Delete(ctx context.Context, key string) error {
	if err := s.c.rdb.Del(ctx, s.c.key("session:", key)).Err(); err != nil {
		return fmt.Errorf("redis: delete session %q: %w", key, err)
	}
	return nil
}
