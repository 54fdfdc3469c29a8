package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/internal/testclock"
)

// openDyingClient opens a Client on the test Redis with opts, for a test
// that closes it to play an instance that is killed: its renewals stop and
// its locks stay until their lease ends. It is closed in tb.Cleanup only if
// the test did not close it; its keys are left for a Client of
// openTestClientOptions under the same prefix to delete.
func openDyingClient(tb testing.TB, opts Options) *Client {
	tb.Helper()
	c := dialTestRedis(tb, opts)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// lockValue returns the token and the expiry stored in the lock of key.
func lockValue(ctx context.Context, c *Client, key string) (token string, expiry time.Time, err error) {
	v, err := c.rdb.Get(ctx, c.key("lock:", key)).Result()
	if err != nil {
		return "", time.Time{}, err
	}
	token, ms, ok := strings.Cut(v, " ")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil {
		return "", time.Time{}, fmt.Errorf("lock value %q is not \"token expiry\"", v)
	}
	return token, time.UnixMilli(n), nil
}

// TestLockLeaseTakeoverOnTheFakeClock: instance A takes a user's lock, then
// its process dies (its Client closes: renewal stops, and it never
// unlocks). Instance B cannot take the lock while A's lease lasts on the
// clock, and takes it as soon as the clock passes the lease's end, with no
// wait for Redis to expire the key: the clock, a fake one here, decides.
func TestLockLeaseTakeoverOnTheFakeClock(t *testing.T) {
	t.Parallel()
	const (
		lease = DefaultLockLease
		key   = "wechat:oGZUI0egBJY1zhBYw2KhdUfwVJJE"
	)
	for _, tc := range []struct {
		name string
		lock func(ctx context.Context, l *Locker, n int) (unlock func(), err error)
	}{
		{"Lock", func(ctx context.Context, l *Locker, _ int) (func(), error) {
			return l.Lock(ctx, key)
		}},
		{"LockInOrder", func(ctx context.Context, l *Locker, n int) (func(), error) {
			return l.LockInOrder(ctx, key, fmt.Sprintf("%04d", n))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := testclock.New(testclock.Start())
			prefix := randomPrefix()
			b := openTestClientOptions(t, Options{KeyPrefix: prefix, NowFunc: clock.Now}).Locker(lease)
			a := openDyingClient(t, Options{KeyPrefix: prefix, NowFunc: clock.Now})
			ctx := t.Context()

			_, err := tc.lock(ctx, a.Locker(lease), 1)
			require.NoError(t, err)
			_, expiry, err := lockValue(ctx, a, key)
			require.NoError(t, err)
			require.True(t, testclock.Start().Add(lease).Equal(expiry), "the lease ends a lease from now on the clock, not at %v", expiry)
			require.NoError(t, a.Close(), "A dies holding the lock")

			tryLock := func(n int, within time.Duration) (func(), error) {
				lctx, cancel := context.WithTimeout(ctx, within)
				defer cancel()
				return tc.lock(lctx, b, n)
			}
			_, err = tryLock(2, 200*time.Millisecond)
			require.ErrorIs(t, err, bot.ErrLockTimeout, "A's lease has not ended on the clock")

			clock.Advance(lease - time.Millisecond)
			_, err = tryLock(3, 200*time.Millisecond)
			require.ErrorIs(t, err, bot.ErrLockTimeout, "a millisecond before its end, A's lease still holds")

			clock.Advance(time.Millisecond)
			// Redis would keep A's key for lockKeyLeases leases of real time.
			unlock, err := tryLock(4, 5*time.Second)
			require.NoError(t, err, "A's lease ended on the clock: B takes the lock at once")
			unlock()
		})
	}
}

// TestLockRenewedIsNotTakenOver: a holder that keeps renewing keeps its
// lock however far the clock moves in all, as long as it moves less than a
// lease between two renewals.
func TestLockRenewedIsNotTakenOver(t *testing.T) {
	t.Parallel()
	const (
		lease = 600 * time.Millisecond // renewed every 200 ms of real time
		key   = "telegram:100200300"
	)
	clock := testclock.New(testclock.Start())
	prefix := randomPrefix()
	a := openTestClientOptions(t, Options{KeyPrefix: prefix, NowFunc: clock.Now})
	b := openTestClientOptions(t, Options{KeyPrefix: prefix, NowFunc: clock.Now}).Locker(lease)
	ctx := t.Context()

	unlock, err := a.Locker(lease).Lock(ctx, key)
	require.NoError(t, err)
	defer unlock()
	for step := range 4 {
		clock.Advance(lease * 3 / 4)
		lctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		_, err := b.Lock(lctx, key)
		cancel()
		require.ErrorIs(t, err, bot.ErrLockTimeout, "step %d: A renewed less than a lease ago on the clock", step)

		// A's next renewal writes a lease from the clock's new time.
		want := clock.Now().Add(lease)
		require.Eventually(t, func() bool {
			_, expiry, err := lockValue(ctx, a, key)
			return err == nil && expiry.Equal(want)
		}, 10*time.Second, time.Millisecond, "step %d: A renews its lease", step)
	}
}

// TestCloseStopsRenewals checks that closing a Client stops the renewals of
// the locks it holds, as the death of its process would, and waits for
// them; the locks stay.
func TestCloseStopsRenewals(t *testing.T) {
	// Not parallel: it counts goroutines.
	prefix := randomPrefix()
	keep := openTestClientPrefix(t, prefix)
	c := openDyingClient(t, Options{KeyPrefix: prefix})
	ctx := t.Context()
	require.Zero(t, renewing())

	for i := range 3 {
		_, err := c.Locker(time.Second).Lock(ctx, fmt.Sprint("telegram:", i))
		require.NoError(t, err)
	}
	require.Equal(t, 3, renewing())
	require.NoError(t, c.Close())
	require.Zero(t, renewing(), "Close must wait for the renewals to stop")

	n, err := keep.rdb.Exists(ctx, keep.key("lock:", "telegram:0"), keep.key("lock:", "telegram:1"), keep.key("lock:", "telegram:2")).Result()
	require.NoError(t, err)
	require.EqualValues(t, 3, n, "the locks are left to their lease")
}
