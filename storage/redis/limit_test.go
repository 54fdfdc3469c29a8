package redis

import (
	"testing"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/bot/limittest"
)

// TestLimiter: the shared limiter behaves as the in-memory one, on the
// caller's clock.
func TestLimiter(t *testing.T) {
	t.Parallel()
	limittest.Run(t, func(t *testing.T, l bot.Limit) bot.Limiter {
		return openTestClient(t).Limiter("test", l)
	})
}
