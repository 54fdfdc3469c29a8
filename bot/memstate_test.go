package bot_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/conversation/conversationtest"
)

func TestMemoryDeduper(t *testing.T) {
	conversationtest.RunDeduper(t, func(testing.TB) bot.Deduper { return bot.NewMemoryDeduper() })
}

func TestMemoryLocker(t *testing.T) {
	conversationtest.RunLocker(t, func(testing.TB) bot.Locker { return bot.NewMemoryLocker() })
}

// TestMemoryDeduperSweep checks that expired marks are purged in batches by
// later Marks even when nobody looks them up, so memory follows the live
// marks.
func TestMemoryDeduperSweep(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d := bot.NewMemoryDeduper()
	const ttl = 50 * time.Millisecond
	for i := range 1000 {
		require.NoError(t, d.Mark(ctx, fmt.Sprintf("old:%d", i), ttl))
	}
	time.Sleep(ttl) // until every old mark expired
	expired := d.Len()

	marks := 0
	for d.Len() > marks {
		require.NoError(t, d.Mark(ctx, fmt.Sprintf("new:%d", marks), time.Hour))
		marks++
		require.LessOrEqual(t, marks, expired/16+2, "expired marks must be swept in batches")
	}
	require.Equal(t, marks, d.Len())
}

// TestMemoryLockerFreesKeys checks that a key's lock is freed once nobody
// holds or waits for it, whether waiters got it or gave up.
func TestMemoryLockerFreesKeys(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	l := bot.NewMemoryLocker()

	unlock, err := l.Lock(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, 1, l.Len())

	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			defer cancel()
			_, err := l.Lock(ctx, "a")
			assert.ErrorIs(t, err, bot.ErrLockTimeout)
		})
	}
	wg.Wait()
	require.Equal(t, 1, l.Len(), "waiters that gave up must drop their reference")

	for i := range 10 {
		wg.Go(func() {
			unlock, err := l.Lock(ctx, "a")
			if assert.NoError(t, err) {
				unlock()
			}
		})
		wg.Go(func() {
			unlock, err := l.Lock(ctx, fmt.Sprintf("k%d", i))
			if assert.NoError(t, err) {
				unlock()
				unlock()
			}
		})
	}
	unlock()
	wg.Wait()
	unlock()
	require.Equal(t, 0, l.Len(), "unused keys must be freed")
}

func BenchmarkMemoryLocker(b *testing.B) {
	l := bot.NewMemoryLocker()
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		unlock, err := l.Lock(ctx, "telegram:100200300")
		if err != nil {
			b.Fatal(err)
		}
		unlock()
	}
}
