package wechat

import (
	"context"
	"crypto/rand"
	"os"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2/cache"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/internal/testclock"
)

// testRedis returns a client of the test Redis (AFTERSALES_TEST_REDIS_URL,
// default redis://127.0.0.1:6379/0) and a key prefix of the test's own,
// whose keys are deleted when the test ends. When Redis is unreachable the
// test is skipped, or fails in CI (CI=true).
func testRedis(t *testing.T) (*goredis.Client, string) {
	t.Helper()
	u := os.Getenv("AFTERSALES_TEST_REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379/0"
	}
	opts, err := goredis.ParseURL(u)
	require.NoError(t, err)
	rdb := goredis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		if os.Getenv("CI") == "true" {
			t.Fatalf("Redis is unreachable, and in CI that is a failure: %v", err)
		}
		t.Skipf("skipping: Redis is unreachable (set AFTERSALES_TEST_REDIS_URL): %v", err)
	}
	prefix := "aftersales-test:" + rand.Text() + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		keys, _ := rdb.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
		_ = rdb.Close()
	})
	return rdb, prefix
}

func TestWindowStores(t *testing.T) {
	t.Parallel()
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		testWindowStore(t, NewMemoryWindowStore())
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		rdb, prefix := testRedis(t)
		testWindowStore(t, NewRedisWindowStore(rdb, prefix))
	})
}

// testWindowStore is what every WindowStore must do.
func testWindowStore(t *testing.T, s WindowStore) {
	ctx := context.Background()
	t0 := testclock.Start()

	assert.ErrorIs(t, s.Take(ctx, "never", t0), ErrWindowClosed)

	require.NoError(t, s.Open(ctx, "u1", messageGrant("m:1", t0)))
	for range 5 {
		require.NoError(t, s.Take(ctx, "u1", t0.Add(time.Hour)))
	}
	assert.ErrorIs(t, s.Take(ctx, "u1", t0.Add(time.Hour)), ErrQuotaExceeded)
	require.NoError(t, s.Open(ctx, "u1", messageGrant("m:1", t0)), "a retry of the same message")
	assert.ErrorIs(t, s.Take(ctx, "u1", t0.Add(time.Hour)), ErrQuotaExceeded, "gives nothing new")
	require.NoError(t, s.Open(ctx, "u1", messageGrant("m:2", t0.Add(time.Hour))))
	require.NoError(t, s.Take(ctx, "u1", t0.Add(time.Hour)))
	assert.ErrorIs(t, s.Take(ctx, "u1", t0.Add(49*time.Hour)), ErrWindowClosed, "48 hours after the last message")

	// An event's 3 within a minute are spent first, beside the message's.
	require.NoError(t, s.Open(ctx, "u2", messageGrant("m:1", t0)))
	require.NoError(t, s.Open(ctx, "u2", eventGrant("e:1", t0)))
	for range 3 + 5 {
		require.NoError(t, s.Take(ctx, "u2", t0.Add(time.Second)))
	}
	assert.ErrorIs(t, s.Take(ctx, "u2", t0.Add(time.Second)), ErrQuotaExceeded)
	require.NoError(t, s.Open(ctx, "u3", eventGrant("e:1", t0)))
	assert.ErrorIs(t, s.Take(ctx, "u3", t0.Add(2*time.Minute)), ErrWindowClosed, "an event's window lasts a minute")

	require.NoError(t, s.Open(ctx, "u4", messageGrant("m:1", t0)))
	require.NoError(t, s.Exhaust(ctx, "u4"))
	assert.ErrorIs(t, s.Take(ctx, "u4", t0), ErrQuotaExceeded)
	require.NoError(t, s.Close(ctx, "u4"))
	assert.ErrorIs(t, s.Take(ctx, "u4", t0), ErrWindowClosed)
	require.NoError(t, s.Exhaust(ctx, "nobody"))

	// Concurrent takes never exceed the quota.
	require.NoError(t, s.Open(ctx, "u5", messageGrant("m:1", t0)))
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s.Take(ctx, "u5", t0) == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 5, ok)
}

func TestCaches(t *testing.T) {
	t.Parallel()
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		testCache(t, NewMemoryCache())
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		rdb, prefix := testRedis(t)
		c := NewRedisCache(rdb, prefix)
		testCache(t, c)
		assert.Error(t, c.Set("n", 42, time.Minute), "strings only")
	})
}

func testCache(t *testing.T, c cache.Cache) {
	assert.Nil(t, c.Get("k"))
	assert.False(t, c.IsExist("k"))
	require.NoError(t, c.Set("k", "token-1", time.Minute))
	assert.Equal(t, "token-1", c.Get("k"))
	assert.True(t, c.IsExist("k"))
	require.NoError(t, c.Delete("k"))
	assert.Nil(t, c.Get("k"))
	require.NoError(t, c.Set("short", "v", 50*time.Millisecond))
	require.NoError(t, c.Set("never", "v", -time.Second))
	assert.Nil(t, c.Get("never"), "a timeout that is not positive stores nothing")
	time.Sleep(120 * time.Millisecond)
	assert.Nil(t, c.Get("short"), "expired")

	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.Set("shared", "v", time.Minute)
			_ = c.Get("shared")
			if i%10 == 0 {
				_ = c.Delete("shared")
			}
		}()
	}
	wg.Wait()
}

// TestRedisWindowFollowsTheServiceClock: a window is kept by the service's
// clock, not Redis's. A grant dated years before Redis's clock (a test's
// date, or a service clock behind the server's) still holds for its 48
// hours, and the key lives until a minute after the window ends.
func TestRedisWindowFollowsTheServiceClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, prefix := testRedis(t)
	s := NewRedisWindowStore(rdb, prefix)
	at := time.Now().AddDate(-3, 0, 0)

	require.NoError(t, s.Open(ctx, "u1", messageGrant("m:1", at)))
	require.NoError(t, s.Take(ctx, "u1", at.Add(47*time.Hour)))
	ttl, err := rdb.PTTL(ctx, prefix+"window:u1").Result()
	require.NoError(t, err)
	assert.InDelta(t, float64(48*time.Hour+time.Minute), float64(ttl), float64(time.Minute), "the key's time to live: %s", ttl)
	assert.ErrorIs(t, s.Take(ctx, "u1", at.Add(49*time.Hour)), ErrWindowClosed)
}
