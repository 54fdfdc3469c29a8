// Package limittest is the behaviour every bot.Limiter must have, run by
// each implementation's tests on a clock the test moves.
package limittest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/internal/testclock"
)

// Run tests the limiters newLimiter makes, one per subtest.
func Run(t *testing.T, newLimiter func(t *testing.T, l bot.Limit) bot.Limiter) {
	t.Helper()
	ctx := context.Background()
	start := testclock.Start()

	t.Run("burst, then one each Every", func(t *testing.T) {
		l := newLimiter(t, bot.Limit{Burst: 3, Every: 10 * time.Second})
		for i := range 3 {
			ok, _, err := l.Allow(ctx, "a", start)
			require.NoError(t, err)
			require.True(t, ok, "event %d of the burst", i+1)
		}
		ok, wait, err := l.Allow(ctx, "a", start)
		require.NoError(t, err)
		require.False(t, ok, "over the burst")
		assert.Equal(t, 10*time.Second, wait)
		ok, _, _ = l.Allow(ctx, "b", start)
		assert.True(t, ok, "another key has its own burst")
		ok, wait, _ = l.Allow(ctx, "a", start.Add(9*time.Second))
		assert.False(t, ok)
		assert.Equal(t, time.Second, wait)
		ok, _, _ = l.Allow(ctx, "a", start.Add(10*time.Second))
		assert.True(t, ok, "one more after Every")
		ok, _, _ = l.Allow(ctx, "a", start.Add(10*time.Second))
		assert.False(t, ok)
		for i := range 3 {
			ok, _, _ = l.Allow(ctx, "a", start.Add(time.Hour))
			assert.True(t, ok, "the burst is whole again after a while (%d)", i+1)
		}
	})

	t.Run("a polite person is never limited", func(t *testing.T) {
		l := newLimiter(t, bot.Limit{Burst: 30, Every: 2 * time.Second})
		for i := range 600 { // a message every 2 s for 20 minutes
			ok, _, err := l.Allow(ctx, "polite", start.Add(time.Duration(i)*2*time.Second))
			require.NoError(t, err)
			require.True(t, ok, "message %d", i+1)
		}
		flood := 0
		for range 100 { // 100 at once
			if ok, _, _ := l.Allow(ctx, "flood", start); ok {
				flood++
			}
		}
		assert.Equal(t, 30, flood, "a flood gets the burst")
	})

	t.Run("off", func(t *testing.T) {
		l := newLimiter(t, bot.Limit{})
		for range 100 {
			ok, _, err := l.Allow(ctx, "x", start)
			require.NoError(t, err)
			require.True(t, ok)
		}
	})
}
