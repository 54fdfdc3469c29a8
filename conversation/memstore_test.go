package conversation_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/conversation"
	"github.com/aftersales/aftersales/conversation/conversationtest"
)

func TestMemoryStore(t *testing.T) {
	conversationtest.RunSessionStore(t, func(testing.TB) conversation.SessionStore {
		return conversation.NewMemoryStore()
	})
}

// TestMemoryStoreSweep checks that expired sessions are purged in batches by
// later Saves even when nobody loads them, so memory follows the live
// sessions.
func TestMemoryStoreSweep(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	m := conversation.NewMemoryStore()
	const ttl = 50 * time.Millisecond
	for i := range 1000 {
		s := conversationtest.SampleSession(bot.UserRef{Platform: bot.WeChat, ID: fmt.Sprint(i)}, time.Now())
		require.NoError(t, m.Save(ctx, s, ttl))
	}
	time.Sleep(ttl) // until every old session expired
	expired := m.Len()

	saves := 0
	for m.Len() > saves {
		s := conversationtest.SampleSession(bot.UserRef{Platform: bot.Telegram, ID: fmt.Sprint(saves)}, time.Now())
		require.NoError(t, m.Save(ctx, s, time.Hour))
		saves++
		require.LessOrEqual(t, saves, expired/16+2, "expired sessions must be swept in batches")
	}
	require.Equal(t, saves, m.Len())
}

// TestMemoryStoreHeap10k measures the heap that 10,000 realistic open
// sessions take; the product's target is at most 200 MB.
func TestMemoryStoreHeap10k(t *testing.T) {
	// Not parallel: other tests would allocate meanwhile.
	const (
		sessions = 10_000
		target   = 200 << 20
	)
	ctx := t.Context()
	now := time.Now()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	m := conversation.NewMemoryStore()
	for i := range sessions {
		s := conversationtest.SampleSession(bot.UserRef{Platform: bot.WeChat, ID: fmt.Sprintf("oGZUI0egBJY1zhBYw2Kh%08d", i)}, now)
		require.NoError(t, m.Save(ctx, s, time.Hour))
	}

	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(m)
	require.Equal(t, sessions, m.Len())

	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("MemoryStore heap growth for %d sessions: %.1f MB (%d bytes/session); target ≤ 200 MB",
		sessions, float64(growth)/(1<<20), growth/sessions)
	require.LessOrEqual(t, growth, int64(target))
}

func BenchmarkMemoryStore(b *testing.B) {
	conversationtest.BenchSessionStore(b, func(testing.TB) conversation.SessionStore {
		return conversation.NewMemoryStore()
	})
}
