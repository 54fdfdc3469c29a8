package redis

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/conversation"
	"github.com/aftersales/aftersales/conversation/conversationtest"
	"github.com/aftersales/aftersales/internal/testclock"
)

// testURL returns the URL of the Redis the tests run against.
func testURL() string {
	if u := os.Getenv("AFTERSALES_TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// openTestClient opens a Client on the test Redis under a random key prefix
// of its own; its keys are deleted in tb.Cleanup.
func openTestClient(tb testing.TB) *Client {
	tb.Helper()
	return openTestClientPrefix(tb, randomPrefix())
}

func randomPrefix() string { return "aftersales-test:" + rand.Text() + ":" }

// probeRedis reports, once for all tests, whether the test Redis answers, so
// that when it is down every test skips at once rather than after a dial.
var probeRedis = sync.OnceValue(func() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Open(ctx, testURL(), Options{})
	if err != nil {
		return err
	}
	return c.Close()
})

// openTestClientPrefix opens a Client on the test Redis under prefix, as
// openTestClientOptions.
func openTestClientPrefix(tb testing.TB, prefix string) *Client {
	tb.Helper()
	return openTestClientOptions(tb, Options{KeyPrefix: prefix})
}

// openTestClientOptions opens a Client on the test Redis with opts, whose
// KeyPrefix must be set, and in tb.Cleanup deletes the keys under the prefix
// and closes it. When Redis is unreachable it skips the test, or fails it
// when CI=true.
func openTestClientOptions(tb testing.TB, opts Options) *Client {
	tb.Helper()
	c := dialTestRedis(tb, opts)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var keys []string
		iter := c.rdb.Scan(ctx, 0, c.prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		err := iter.Err()
		if err == nil && len(keys) > 0 {
			err = c.rdb.Del(ctx, keys...).Err()
		}
		if err != nil {
			tb.Errorf("deleting the test keys under %q: %v", c.prefix, err)
		}
		assert.NoError(tb, c.Close())
	})
	return c
}

// dialTestRedis opens a Client on the test Redis with opts, whose KeyPrefix
// must be set, its Logger writing to the test's log until the test ends; it
// neither closes the Client nor deletes its keys. When Redis is unreachable
// it skips the test, or fails it when CI=true.
func dialTestRedis(tb testing.TB, opts Options) *Client {
	tb.Helper()
	if opts.KeyPrefix == "" {
		tb.Fatal("a test Client needs a key prefix of its own (randomPrefix)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	logw := &testWriter{tb: tb}
	tb.Cleanup(logw.close)
	err := probeRedis()
	var c *Client
	if err == nil {
		opts.Logger = slog.New(slog.NewTextHandler(logw, nil))
		c, err = Open(ctx, testURL(), opts)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("Redis at %s is unreachable, and in CI (CI=true) that is a failure: %v", redactURL(testURL()), err)
		}
		tb.Skipf("skipping: Redis at %s is unreachable (set AFTERSALES_TEST_REDIS_URL to test against another): %v", redactURL(testURL()), err)
	}
	return c
}

// testWriter writes a Client's log to the test's log until closed, so that a
// goroutine a failed test left behind cannot panic by logging late.
type testWriter struct {
	mu     sync.Mutex
	tb     testing.TB
	closed bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.tb.Logf("%s", bytes.TrimSuffix(p, []byte("\n")))
	}
	return len(p), nil
}

func (w *testWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}

func TestSessions(t *testing.T) {
	conversationtest.RunSessionStore(t, func(t testing.TB) conversation.SessionStore {
		return openTestClient(t).Sessions()
	})
}

func TestDeduper(t *testing.T) {
	conversationtest.RunDeduper(t, func(t testing.TB) bot.Deduper {
		return openTestClient(t).Deduper()
	})
}

func TestLocker(t *testing.T) {
	conversationtest.RunLocker(t, func(t testing.TB) bot.Locker {
		return openTestClient(t).Locker(5 * time.Second)
	})
}

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	// Nothing listens on port 1.
	start := time.Now()
	_, err := Open(ctx, "redis://:s3cret@127.0.0.1:1/0", Options{})
	require.Error(t, err)
	require.Less(t, time.Since(start), pingTimeout+time.Second)
	require.Contains(t, err.Error(), "127.0.0.1:1")
	require.NotContains(t, err.Error(), "s3cret", "errors must not show the password")

	_, err = Open(ctx, "http://127.0.0.1:6379", Options{})
	require.Error(t, err)

	_, err = Open(ctx, "redis://:s3cret@127.0.0.1:6379/zero", Options{})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "s3cret")

	_, err = Open(ctx, "redis://:s3cret@[::1", Options{})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "s3cret")
}

func TestKeyNamespaces(t *testing.T) {
	t.Parallel()
	c := openTestClient(t)
	ctx := t.Context()
	user := bot.UserRef{Platform: bot.Telegram, ID: "100200300"}

	require.NoError(t, c.Sessions().Save(ctx, conversationtest.SampleSession(user, time.Now()), time.Minute))
	require.NoError(t, c.Deduper().Mark(ctx, user.Key()+":42", time.Minute))
	const lease = 5 * time.Second
	unlock, err := c.Locker(lease).Lock(ctx, user.Key())
	require.NoError(t, err)
	defer unlock()

	keys, err := c.rdb.Keys(ctx, c.prefix+"*").Result()
	require.NoError(t, err)
	require.ElementsMatch(t, []string{
		c.prefix + "session:telegram:100200300",
		c.prefix + "dedupe:telegram:100200300:42",
		c.prefix + "lock:telegram:100200300",
	}, keys)

	ttl, err := c.rdb.PTTL(ctx, c.prefix+"lock:telegram:100200300").Result()
	require.NoError(t, err)
	require.Greater(t, ttl, time.Duration(0))
	require.LessOrEqual(t, ttl, lockKeyLeases*lease)
	ttl, err = c.rdb.PTTL(ctx, c.prefix+"session:telegram:100200300").Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 50*time.Second)

	unlock()
	n, err := c.rdb.Exists(ctx, c.prefix+"lock:telegram:100200300").Result()
	require.NoError(t, err)
	require.Zero(t, n, "unlock must delete the lock")
}

func TestDefaultOptions(t *testing.T) {
	t.Parallel()
	c := newClient(&goredis.Options{Addr: "127.0.0.1:1"}, Options{})
	defer c.Close()
	require.Equal(t, "aftersales:", c.prefix)
	require.Equal(t, "aftersales:lock:wechat:x", c.key("lock:", "wechat:x"))
	require.NotNil(t, c.log)
	require.NotNil(t, c.now)

	clock := testclock.New(testclock.Start())
	c = newClient(&goredis.Options{Addr: "127.0.0.1:1"}, Options{NowFunc: clock.Now})
	defer c.Close()
	require.Equal(t, testclock.Start(), c.now(), "the Client keeps Options.NowFunc")
}

// TestLockerLeaseExpires checks that a lock whose holder died (it stopped
// renewing) is taken once its lease runs out, on the real clock: the lease
// in the lock's value, or, for a value without one (an older version's bare
// token), the key's expiry in Redis.
func TestLockerLeaseExpires(t *testing.T) {
	t.Parallel()
	const lease = 200 * time.Millisecond
	for _, tc := range []struct {
		name  string
		value func() string
		px    time.Duration
	}{
		{"expiry in the value", func() string { return fmt.Sprint("dead-holder ", time.Now().Add(lease).UnixMilli()) }, time.Minute},
		{"bare token", func() string { return "dead-holder" }, lease},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := openTestClient(t)
			ctx := t.Context()
			require.NoError(t, c.rdb.Set(ctx, c.key("lock:", "telegram:1"), tc.value(), tc.px).Err())
			start := time.Now()

			lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			unlock, err := c.Locker(time.Second).Lock(lctx, "telegram:1")
			require.NoError(t, err)
			defer unlock()
			require.GreaterOrEqual(t, time.Since(start), lease/2, "the dead holder's lock must be waited for")
		})
	}
}

// TestAcquireOwnToken checks that taking a lock is idempotent for its token:
// a retried take whose first reply was lost finds the lock already its own.
func TestAcquireOwnToken(t *testing.T) {
	t.Parallel()
	c := openTestClient(t)
	ctx := t.Context()
	key := c.key("lock:", "telegram:1")
	acquire := func(token string, lease time.Duration) int64 {
		t.Helper()
		n, err := acquireScript.Run(ctx, c.rdb, []string{key}, c.Locker(lease).leaseArgs(token)...).Int64()
		require.NoError(t, err)
		return n
	}
	require.EqualValues(t, 1, acquire("mine", time.Second))
	require.EqualValues(t, 1, acquire("mine", time.Minute), "a retry with the same token takes it")
	ttl, err := c.rdb.PTTL(ctx, key).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 50*time.Second, "and renews the lease")
	require.EqualValues(t, 0, acquire("theirs", time.Minute))
	got, err := c.rdb.Get(ctx, key).Result()
	require.NoError(t, err)
	token, _, _ := strings.Cut(got, " ")
	require.Equal(t, "mine", token)
}

// TestLockerRenews checks that a lock held for several leases stays held,
// for another instance too, and is free as soon as it is unlocked.
func TestLockerRenews(t *testing.T) {
	t.Parallel()
	prefix := randomPrefix()
	a := openTestClientPrefix(t, prefix).Locker(MinLockLease * 3)
	b := openTestClientPrefix(t, prefix).Locker(MinLockLease * 3)
	ctx := t.Context()

	unlock, err := a.Lock(ctx, "telegram:1")
	require.NoError(t, err)
	require.Never(t, func() bool {
		ctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		unlock, err := b.Lock(ctx, "telegram:1")
		if err == nil {
			unlock()
			return true
		}
		return false
	}, 10*MinLockLease*3, 10*time.Millisecond, "a renewed lock must stay held beyond its lease")
	unlock()

	lctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	unlock, err = b.Lock(lctx, "telegram:1")
	require.NoError(t, err)
	unlock()
}

// TestLockerRenewalStops checks that unlocking stops the renewal goroutine.
func TestLockerRenewalStops(t *testing.T) {
	// Not parallel: it counts goroutines.
	l := openTestClient(t).Locker(time.Second)
	ctx := t.Context()
	require.Zero(t, renewing())

	var unlocks []func()
	defer func() {
		for _, unlock := range unlocks {
			unlock()
		}
	}()
	for i := range 3 {
		unlock, err := l.Lock(ctx, fmt.Sprint("telegram:", i))
		require.NoError(t, err)
		unlocks = append(unlocks, unlock)
	}
	require.Equal(t, 3, renewing())
	for _, unlock := range unlocks {
		unlock()
	}
	require.Zero(t, renewing(), "unlock must wait for its renewal to stop")
}

// renewing counts the goroutines renewing a lock, in every Client.
func renewing() int {
	buf := make([]byte, 1<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "created by github.com/aftersales/aftersales/storage/redis.(*Locker).hold")
}

// TestTwoInstances checks the product's promise: two instances on one Redis,
// each receiving the same messages of one user at the same time (platforms
// retry, and a load balancer may send the retry elsewhere), handle each
// message exactly once and one message at a time, the way the Router does:
// lock the user, skip what the deduper has seen, handle, mark, unlock.
func TestTwoInstances(t *testing.T) {
	t.Parallel()
	prefix := randomPrefix()
	type instance struct {
		name   string
		locker bot.Locker
		dedupe bot.Deduper
	}
	var instances []instance
	for _, name := range []string{"a", "b"} {
		c := openTestClientPrefix(t, prefix)
		instances = append(instances, instance{name, c.Locker(5 * time.Second), c.Deduper()})
	}
	user := bot.UserRef{Platform: bot.WeChat, ID: "oGZUI0egBJY1zhBYw2KhdUfwVJJE"}

	type handling struct {
		msg, instance string
		start, end    time.Time
	}
	var (
		mu      sync.Mutex
		handled []handling
		active  atomic.Int32
	)
	deliver := func(inst instance, msg string) error {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		unlock, err := inst.locker.Lock(ctx, user.Key())
		if err != nil {
			return err
		}
		defer unlock()
		dk := user.Key() + ":" + msg
		seen, err := inst.dedupe.Seen(ctx, dk)
		if err != nil || seen {
			return err
		}

		h := handling{msg: msg, instance: inst.name, start: time.Now()}
		if n := active.Add(1); n != 1 {
			t.Errorf("%s handled by %s while %d other handlings ran", msg, inst.name, n-1)
		}
		time.Sleep(10 * time.Millisecond)
		active.Add(-1)
		h.end = time.Now()
		mu.Lock()
		handled = append(handled, h)
		mu.Unlock()

		return inst.dedupe.Mark(ctx, dk, time.Hour)
	}

	const rounds = 10
	for round := range rounds {
		msgs := []string{fmt.Sprintf("msg%d-1", round), fmt.Sprintf("msg%d-2", round)}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, msg := range msgs {
			for _, inst := range instances {
				wg.Go(func() {
					<-start
					assert.NoError(t, deliver(inst, msg))
				})
			}
		}
		close(start)
		wg.Wait()
	}

	var want, got []string
	for round := range rounds {
		want = append(want, fmt.Sprintf("msg%d-1", round), fmt.Sprintf("msg%d-2", round))
	}
	slices.SortFunc(handled, func(x, y handling) int { return x.start.Compare(y.start) })
	byInstance := map[string]int{}
	for i, h := range handled {
		got = append(got, h.msg)
		byInstance[h.instance]++
		if i > 0 {
			prev := handled[i-1]
			require.False(t, h.start.Before(prev.end), "%s (on %s) started before %s (on %s) ended", h.msg, h.instance, prev.msg, prev.instance)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	require.Equal(t, want, got, "every message handled exactly once")
	t.Logf("handled per instance: %v", byInstance)
}

func BenchmarkSessions(b *testing.B) {
	conversationtest.BenchSessionStore(b, func(tb testing.TB) conversation.SessionStore {
		return openTestClient(tb).Sessions()
	})
}

func BenchmarkLockUnlock(b *testing.B) {
	l := openTestClient(b).Locker(5 * time.Second)
	ctx := b.Context()
	for b.Loop() {
		unlock, err := l.Lock(ctx, "telegram:100200300")
		if err != nil {
			b.Fatal(err)
		}
		unlock()
	}
}
