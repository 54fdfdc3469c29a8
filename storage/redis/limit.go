package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/aftersales/aftersales/bot"
)

// Limiter is a bot.Limiter on Redis, shared by every instance: the
// theoretical arrival time of a key's next event (GCRA, as
// bot.MemoryLimiter) in "{prefix}limit:{name}:{key}", expiring when the
// burst is whole again. The time comes from the caller's clock, not from
// Redis's TIME, so that the service's clock alone decides — and tests can
// move it.
type Limiter struct {
	c     *Client
	name  string
	limit bot.Limit
}

// Limiter returns the limiter called name (messages, cases…) with limit l.
func (c *Client) Limiter(name string, l bot.Limit) *Limiter {
	return &Limiter{c: c, name: name, limit: l}
}

var _ bot.Limiter = (*Limiter)(nil)

// gcraScript: KEYS[1] the key; ARGV now, every, burst (ms, ms, count).
// Returns {1, 0} allowed or {0, wait ms}.
var gcraScript = goredis.NewScript(`
local now = tonumber(ARGV[1])
local every = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local nxt = tat + every
local over = nxt - now - burst * every
if over > 0 then return {0, over} end
redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', string.format('%.0f', nxt - now))
return {1, 0}
`)

// Allow implements bot.Limiter.
func (l *Limiter) Allow(ctx context.Context, key string, now time.Time) (bool, time.Duration, error) {
	if l.limit.Off() {
		return true, 0, nil
	}
	res, err := gcraScript.Run(ctx, l.c.rdb, []string{l.c.key("limit:", l.name+":"+key)},
		now.UnixMilli(), max(l.limit.Every.Milliseconds(), 1), l.limit.Burst).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("redis: limit %s: %w", l.name, err)
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("redis: limit %s: unexpected answer %v", l.name, res)
	}
	return res[0] == 1, time.Duration(res[1]) * time.Millisecond, nil
}
