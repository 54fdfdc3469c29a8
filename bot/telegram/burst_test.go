package telegram_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/bot/telegram"
	"github.com/aftersales/aftersales/bot/telegram/telegramtest"
)

// burst sends n messages to each of chats chats at once through an adapter
// with the given limits, against a fake Bot API that enforces the same
// limits, and returns how long they took to drain and how many 429s the
// fake answered.
func burst(tb testing.TB, chats, n int, perChat, global float64) (time.Duration, int) {
	tb.Helper()
	srv := telegramtest.NewServer(tb, "424242:AAHburstburstburstburstburstburst")
	for i := range chats {
		srv.AddUser(telegramtest.User{ID: int64(1000 + i), FirstName: "u"})
	}
	// The fake allows a small burst over the per-chat rate, like Telegram.
	srv.EnforceLimits(perChat*1.5, global*1.05)
	a, err := telegram.New(context.Background(), telegram.Config{
		Token: srv.Token(), APIURL: srv.URL(),
		DispatchFunc: func(context.Context, *bot.Inbound) error { return nil },
		PerChatRate:  rate.Limit(perChat), PerChatBurst: 1, GlobalRate: rate.Limit(global),
	})
	require.NoError(tb, err)
	tb.Cleanup(func() { a.Close() })
	ctx := context.Background()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range chats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range n {
				msg := bot.Outbound{To: bot.UserRef{Platform: bot.Telegram, ID: fmt.Sprint(1000 + i)}, Kind: bot.OutText, Text: fmt.Sprintf("通知 %d", j)}
				assert.NoError(tb, a.Send(ctx, msg))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	n429 := 0
	for _, r := range srv.RequestsFor("sendMessage") {
		if r.ErrorCode == 429 {
			n429++
		}
	}
	total := 0
	for i := range chats {
		total += len(srv.Sent(int64(1000 + i)))
	}
	require.Equal(tb, chats*n, total, "every message delivered")
	return elapsed, n429
}

// TestBurstDrainsAtTheLimit: 300 messages to 30 chats, with limits ten times
// Telegram's (so that the test is quick), drain at the overall limit: not
// faster (the fake would answer 429) and not much slower.
func TestBurstDrainsAtTheLimit(t *testing.T) {
	t.Parallel()
	elapsed, n429 := burst(t, 30, 10, 10, 300)
	rate := 300 / elapsed.Seconds()
	t.Logf("300 messages to 30 chats in %v: %.0f messages/s against a limit of 300/s; %d × 429", elapsed, rate, n429)
	assert.Zero(t, n429, "the adapter keeps to the limits")
	assert.Greater(t, rate, 200.0, "and does not lag far behind them")
}

// BenchmarkBurst1000To100Chats: the figure at Telegram's real limits
// (1 message/s per chat, 30/s overall): 1,000 messages to 100 chats. It
// takes about 33 s; run it with -bench BenchmarkBurst -benchtime 1x.
func BenchmarkBurst1000To100Chats(b *testing.B) {
	for range b.N {
		elapsed, n429 := burst(b, 100, 10, 1, 30)
		b.ReportMetric(1000/elapsed.Seconds(), "msgs/s")
		b.ReportMetric(float64(n429), "429s")
	}
}
