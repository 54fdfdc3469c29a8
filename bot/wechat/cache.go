package wechat

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2/cache"
)

// MemoryCache is a cache.Cache of the SDK for a single instance, safe for
// concurrent use (the SDK's cache.Memory is not: it reads its map without
// the lock). Expired entries are dropped when read, and now and then when
// written.
type MemoryCache struct {
	mu        sync.Mutex
	entries   map[string]memoryEntry
	lastSweep time.Time
}

type memoryEntry struct {
	val     any
	expires time.Time
}

// NewMemoryCache returns an empty MemoryCache.
func NewMemoryCache() *MemoryCache {
	return &MemoryCache{entries: map[string]memoryEntry{}}
}

var _ cache.Cache = (*MemoryCache)(nil)

// Get returns the value of key, nil when there is none or it expired.
func (c *MemoryCache) Get(key string) any {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return nil
	}
	if !time.Now().Before(e.expires) {
		delete(c.entries, key)
		return nil
	}
	return e.val
}

// Set stores val under key for timeout. A timeout that is not positive
// stores nothing: the value would be expired already.
func (c *MemoryCache) Set(key string, val any, timeout time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if now.Sub(c.lastSweep) > time.Minute {
		c.lastSweep = now
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
	}
	if timeout <= 0 {
		delete(c.entries, key)
		return nil
	}
	c.entries[key] = memoryEntry{val: val, expires: now.Add(timeout)}
	return nil
}

// IsExist reports whether key has a value that has not expired.
func (c *MemoryCache) IsExist(key string) bool { return c.Get(key) != nil }

// Delete removes key.
func (c *MemoryCache) Delete(key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
	return nil
}

// redisCacheTimeout bounds a RedisCache command called without a context
// (the SDK's token handle calls Get and Set so).
const redisCacheTimeout = 3 * time.Second

// RedisCache is a cache.Cache of the SDK on Redis (go-redis v9), shared by
// the instances that serve one account, so that they use one access token.
// It stores strings (the SDK caches its tokens and tickets as strings) under
// prefix + key. When Redis cannot be reached Get returns nil, and the SDK
// fetches a new token from WeChat.
type RedisCache struct {
	rdb    goredis.Cmdable
	prefix string
}

// NewRedisCache returns a RedisCache whose keys start with prefix (e.g.
// "aftersales:wechat:").
func NewRedisCache(rdb goredis.Cmdable, prefix string) *RedisCache {
	return &RedisCache{rdb: rdb, prefix: prefix}
}

var _ cache.ContextCache = (*RedisCache)(nil)

func withTimeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), redisCacheTimeout)
}

// Get implements cache.Cache.
func (c *RedisCache) Get(key string) any {
	ctx, cancel := withTimeout()
	defer cancel()
	return c.GetContext(ctx, key)
}

// GetContext returns the string stored under key, nil when there is none.
func (c *RedisCache) GetContext(ctx context.Context, key string) any {
	v, err := c.rdb.Get(ctx, c.prefix+key).Result()
	if err != nil {
		return nil
	}
	return v
}

// Set implements cache.Cache.
func (c *RedisCache) Set(key string, val any, timeout time.Duration) error {
	ctx, cancel := withTimeout()
	defer cancel()
	return c.SetContext(ctx, key, val, timeout)
}

// SetContext stores val, a string or []byte, under key for timeout; a
// timeout that is not positive deletes key.
func (c *RedisCache) SetContext(ctx context.Context, key string, val any, timeout time.Duration) error {
	var s string
	switch v := val.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("wechat: RedisCache stores strings, not %T", val)
	}
	if timeout <= 0 {
		return c.DeleteContext(ctx, key)
	}
	if timeout < time.Millisecond {
		timeout = time.Millisecond
	}
	return c.rdb.Set(ctx, c.prefix+key, s, timeout).Err()
}

// IsExist implements cache.Cache.
func (c *RedisCache) IsExist(key string) bool {
	ctx, cancel := withTimeout()
	defer cancel()
	return c.IsExistContext(ctx, key)
}

// IsExistContext reports whether key has a value.
func (c *RedisCache) IsExistContext(ctx context.Context, key string) bool {
	n, err := c.rdb.Exists(ctx, c.prefix+key).Result()
	return err == nil && n > 0
}

// Delete implements cache.Cache.
func (c *RedisCache) Delete(key string) error {
	ctx, cancel := withTimeout()
	defer cancel()
	return c.DeleteContext(ctx, key)
}

// DeleteContext removes key.
func (c *RedisCache) DeleteContext(ctx context.Context, key string) error {
	err := c.rdb.Del(ctx, c.prefix+key).Err()
	if errors.Is(err, goredis.Nil) {
		return nil
	}
	return err
}
