package bot_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/bot/limittest"
	"github.com/aftersales/aftersales/internal/testclock"
)

func TestMemoryLimiter(t *testing.T) {
	t.Parallel()
	limittest.Run(t, func(_ *testing.T, l bot.Limit) bot.Limiter { return bot.NewMemoryLimiter(l) })
}

func TestParseLimit(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bot.Limit{
		"30/1m": {Burst: 30, Every: 2 * time.Second}, "10/24h": {Burst: 10, Every: 144 * time.Minute},
		"200/1d": {Burst: 200, Every: 432 * time.Second}, "0": {}, "off": {},
	} {
		got, err := bot.ParseLimit(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "30", "x/1m", "0/1m", "-1/1m", "30/", "30/soon", "30/0s", "3/0d"} {
		_, err := bot.ParseLimit(in)
		assert.Error(t, err, in)
	}
}

// echo is a Handler that answers every message and counts them.
type echo struct {
	mu sync.Mutex
	n  int
}

func (e *echo) Handle(_ context.Context, in *bot.Inbound) ([]bot.Outbound, error) {
	e.mu.Lock()
	e.n++
	e.mu.Unlock()
	return []bot.Outbound{{To: in.User, Kind: bot.OutText, Text: "ok"}}, nil
}

// outbox is a Channel that keeps what it was asked to send.
type outbox struct {
	mu   sync.Mutex
	sent []string
}

func (o *outbox) Platform() bot.Platform { return bot.Telegram }
func (o *outbox) Send(_ context.Context, m bot.Outbound) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, m.Text)
	return nil
}

// TestRouterLimitsEachUser: a user over the message limit is not handled,
// is told to slow down once a minute, and a platform's retry of a refused
// message is not handled later; another user is not affected.
func TestRouterLimitsEachUser(t *testing.T) {
	t.Parallel()
	clock := testclock.New(testclock.Start())
	h, out := &echo{}, &outbox{}
	r := &bot.Router{
		Handler: h, Dedupe: bot.NewMemoryDeduper(), Locker: bot.NewMemoryLocker(),
		Channels: map[bot.Platform]bot.Channel{bot.Telegram: out},
		Limit:    bot.NewMemoryLimiter(bot.Limit{Burst: 5, Every: 2 * time.Second}),
		Notice:   bot.NewMemoryLimiter(bot.Limit{Burst: 1, Every: time.Minute}),
		NowFunc:  clock.Now,
	}
	flooder := bot.UserRef{Platform: bot.Telegram, ID: "1"}
	for i := range 20 {
		require.NoError(t, r.Dispatch(context.Background(), &bot.Inbound{User: flooder, MessageID: fmt.Sprint(i), Kind: bot.KindText, Text: "报修"}))
	}
	assert.Equal(t, 5, h.n, "the burst is handled")
	slow := 0
	for _, s := range out.sent {
		if strings.Contains(s, "请稍后再试") {
			slow++
		}
	}
	assert.Equal(t, 1, slow, "told once")
	require.NoError(t, r.Dispatch(context.Background(), &bot.Inbound{User: flooder, MessageID: "7", Kind: bot.KindText, Text: "报修"}))
	clock.Advance(time.Hour)
	require.NoError(t, r.Dispatch(context.Background(), &bot.Inbound{User: flooder, MessageID: "7", Kind: bot.KindText, Text: "报修"}))
	assert.Equal(t, 5, h.n, "a refused message retried later is not handled: it was marked")
	require.NoError(t, r.Dispatch(context.Background(), &bot.Inbound{User: bot.UserRef{Platform: bot.Telegram, ID: "2"}, MessageID: "1", Kind: bot.KindText, Text: "报修"}))
	assert.Equal(t, 6, h.n, "another user is not limited")
}
