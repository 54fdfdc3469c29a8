package redis

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/aftersales/aftersales/bot"
)

// Deduper is a bot.Deduper on Redis: a mark is a key with an expiry, shared
// by every instance that uses the same KeyPrefix.
type Deduper struct {
	c *Client
}

var _ bot.Deduper = (*Deduper)(nil)

// Deduper returns the dedupe marks on c.
func (c *Client) Deduper() *Deduper { return &Deduper{c: c} }

// Seen reports whether key was marked and its mark has not expired.
func (d *Deduper) Seen(ctx context.Context, key string) (bool, error) {
	n, err := d.c.rdb.Exists(ctx, d.c.key("dedupe:", key)).Result()
	if err != nil {
		return false, fmt.Errorf("redis: dedupe seen %q: %w", key, err)
	}
	return n > 0, nil
}

// Mark records key as handled for ttl, which must be positive. A key already
// marked keeps its first expiry (SET NX).
func (d *Deduper) Mark(ctx context.Context, key string, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("redis: dedupe mark %q: ttl %v is not positive", key, ttl)
	}
	if err := d.c.rdb.SetNX(ctx, d.c.key("dedupe:", key), "1", ttl).Err(); err != nil {
		return fmt.Errorf("redis: dedupe mark %q: %w", key, err)
	}
	return nil
}

// Lock leases and waiting.
const (
	// DefaultLockLease is the lease of Client.Locker(0): renewed every
	// third of it while held, so that a holder that died (kill -9) keeps
	// the user waiting at most this long.
	DefaultLockLease = 5 * time.Second
	// MinLockLease is the shortest lease Client.Locker accepts; shorter
	// ones are raised to it.
	MinLockLease = 30 * time.Millisecond

	// lockKeyLeases is how many leases a lock's key outlives its last
	// renewal in Redis (its PX): the key's garbage collection, not the
	// lease (see Locker).
	lockKeyLeases = 3

	minLockBackoff = 2 * time.Millisecond
	maxLockBackoff = 50 * time.Millisecond
	releaseTimeout = 2 * time.Second
)

// lockLua is the start of every lock script: KEYS[1] is the lock, ARGV[1]
// the caller's token, ARGV[2] its now and ARGV[3] the expiry it asks for
// (Unix ms on the Client's clock), ARGV[4] the key's PX in ms. A lock's
// value is "token expiry".
//
// holder returns the token and the expiry of the lock, or nil when there is
// none; a value without an expiry (an older version's bare token) comes back
// whole with a nil expiry, and is left to its PX. free reports whether the
// caller may take the lock: no one holds it, the caller does, or its lease
// ended on the caller's clock. take writes the caller's token and expiry.
const lockLua = `
local function holder()
	local v = redis.call("GET", KEYS[1])
	if not v then return nil end
	local tok, exp = string.match(v, "^(%S+) (%-?%d+)$")
	if not tok then return v, nil end
	return tok, tonumber(exp)
end
local function free()
	local tok, exp = holder()
	return not tok or tok == ARGV[1] or (exp ~= nil and exp <= tonumber(ARGV[2]))
end
local function take()
	redis.call("SET", KEYS[1], ARGV[1] .. " " .. ARGV[3], "PX", ARGV[4])
end
`

// acquireScript takes the lock and returns 1 when it is free (see lockLua),
// or returns 0. Taking a lock that holds the caller's token renews it: a
// take whose reply was lost and that the client retried then counts as
// taken, instead of leaving the caller waiting a whole lease for its own
// lock.
var acquireScript = goredis.NewScript(lockLua + `
if not free() then return 0 end
take()
return 1`)

// releaseScript deletes the lock only if it still holds the caller's token,
// so that a holder whose lease ran out cannot release its successor's lock.
var releaseScript = goredis.NewScript(lockLua + `
if holder() == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0`)

// renewScript writes the expiry ARGV[3] (and the PX) only if the lock still
// holds the caller's token, and returns 1, or 0.
var renewScript = goredis.NewScript(lockLua + `
if holder() ~= ARGV[1] then return 0 end
take()
return 1`)

// Locker is a bot.Locker on Redis, serialising a user's messages across
// every instance that uses the same KeyPrefix.
//
// A lock is a key holding a random token and the end of its lease, "token
// expiry" (Unix ms), on the clock of the Client that took it
// (Options.NowFunc). A waiter takes the lock when the key is missing, or
// holds its own token, or the expiry is not after its own now; it does so
// in a script, so taking is atomic. While it is held, a goroutine writes
// the expiry now+lease every lease/3 (only while the key still holds the
// token), so a lock lasts as long as its holder needs it; if the holder's
// process dies (or its Client is closed), renewal stops and the lock is
// free one lease later. Unlock stops the renewal and deletes the key only
// if it still holds the token. A waiter polls with a jittered backoff
// growing from 2 ms to 50 ms, so a released lock is taken within about
// 50 ms.
//
// The expiry is in the value, on the Clients' clock, rather than left to
// Redis (SET PX lease), so that one clock decides when a lease ends: the one
// the service reads for every other decision, the same for every instance
// and every waiter, and a fake one in tests, which can then take over a
// dead holder's lock by moving it, without waiting. The key still has a PX
// of lockKeyLeases leases, written with each expiry, but only as garbage
// collection: Redis deletes the lock of a holder that died even if no one
// asks for it again, and, being longer than the lease, the PX never decides
// before the clock does. The instances' clocks must agree to well within a
// lease: a waiter whose clock runs ahead of the holder's by more than two
// thirds of a lease could take a lock that is still renewed.
//
// A holder cut off from Redis for longer than its lease loses the lock
// without being told (a warning is logged).
type Locker struct {
	c     *Client
	lease time.Duration
}

var _ bot.Locker = (*Locker)(nil)

// Locker returns the per-user locks on c with the given lease: how long a
// lock outlives a holder that stopped renewing it. A lease of 0 or less means
// DefaultLockLease; one under MinLockLease is raised to it.
func (c *Client) Locker(lease time.Duration) *Locker {
	switch {
	case lease <= 0:
		lease = DefaultLockLease
	case lease < MinLockLease:
		lease = MinLockLease
	}
	return &Locker{c: c, lease: lease}
}

// leaseArgs returns the ARGV that the lock scripts start with (see lockLua)
// for token, with a lease from now on the Client's clock.
func (l *Locker) leaseArgs(token string) []any {
	now := l.c.now()
	return []any{token, now.UnixMilli(), now.Add(l.lease).UnixMilli(), (lockKeyLeases * l.lease).Milliseconds()}
}

// Lock blocks until it holds the lock for key or ctx is done; then it returns
// an error that matches both bot.ErrLockTimeout and ctx.Err(). Other Redis
// errors are returned at once. The returned unlock releases the lock; calling
// it again does nothing.
func (l *Locker) Lock(ctx context.Context, key string) (unlock func(), err error) {
	rkey := l.c.key("lock:", key)
	token := rand.Text()
	backoff := minLockBackoff
	var timer *time.Timer
	for {
		if err := ctx.Err(); err != nil {
			return nil, lockTimeout(key, err)
		}
		n, err := acquireScript.Run(ctx, l.c.rdb, []string{rkey}, l.leaseArgs(token)...).Int64()
		if err != nil {
			// The take may have been applied even though its reply was lost:
			// take back what may be ours rather than block the user for a
			// lease.
			l.release(ctx, key, rkey, token)
			if cerr := ctx.Err(); cerr != nil {
				return nil, lockTimeout(key, cerr)
			}
			return nil, fmt.Errorf("redis: lock %q: %w", key, err)
		}
		if n == 1 {
			return l.hold(ctx, key, rkey, token), nil
		}

		// Equal jitter: between half and all of the backoff, so that
		// waiters spread out but none spins.
		wait := backoff/2 + mathrand.N(backoff/2+1)
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		} else {
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			return nil, lockTimeout(key, ctx.Err())
		case <-timer.C:
		}
		backoff = min(2*backoff, maxLockBackoff)
	}
}

// hold starts renewing the lease of the lock just taken and returns its
// unlock.
func (l *Locker) hold(ctx context.Context, key, rkey, token string) func() {
	// The renewal outlives Lock's ctx, which may only bound the wait; it
	// ends with unlock or with the Client.
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	if l.c.beginRenewal() {
		go func() {
			defer l.c.renewing.Done()
			defer close(done)
			l.renew(rctx, key, rkey, token)
		}()
	} else {
		close(done) // the Client is closed: the lock is left to its lease
	}
	return sync.OnceFunc(func() {
		stop()
		<-done
		l.release(rctx, key, rkey, token)
	})
}

// renew extends the lease every lease/3 until ctx is done, the Client is
// closed or the lock is found lost.
func (l *Locker) renew(ctx context.Context, key, rkey, token string) {
	every := l.lease / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.c.closing:
			return
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, every)
		n, err := renewScript.Run(cctx, l.c.rdb, []string{rkey}, l.leaseArgs(token)...).Int64()
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			// Try again at the next tick; the lease outlasts two misses.
			l.c.log.Warn("redis: renewing a lock failed", slog.String("lock_key", key), slog.Any("error", err))
		case n == 0:
			l.c.log.Warn("redis: lock lost before unlock; its lease ran out", slog.String("lock_key", key))
			return
		}
	}
}

// release deletes the lock if it still holds token. It runs even when ctx is
// done, bounded by releaseTimeout; a failure is logged, and the lease ends
// the lock anyway.
func (l *Locker) release(ctx context.Context, key, rkey, token string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	if err := releaseScript.Run(cctx, l.c.rdb, []string{rkey}, token).Err(); err != nil && !errors.Is(err, goredis.Nil) {
		l.c.log.Warn("redis: releasing a lock failed; it will expire", slog.String("lock_key", key), slog.Any("error", err))
	}
}

// lockTimeout returns the error of a Lock whose ctx ended: it matches both
// bot.ErrLockTimeout and cause.
func lockTimeout(key string, cause error) error {
	return fmt.Errorf("redis: lock %q: %w: %w", key, bot.ErrLockTimeout, cause)
}

// orderedScript takes the user's lock (see lockLua: ARGV[1] to ARGV[4]) for
// the waiter ARGV[5] (a member of the user's queue KEYS[2], "seq|token") only
// when no earlier waiter is still alive: each waiter keeps a heartbeat key
// ARGV[6]..token, for ARGV[7] ms of real time, while it polls, and a waiter
// at the head whose heartbeat expired (its instance died) is dropped. It
// returns 1 when the lock was taken (and the waiter left the queue), 0
// otherwise.
var orderedScript = goredis.NewScript(lockLua + `
redis.call('SET', ARGV[6] .. ARGV[1], '1', 'PX', ARGV[7])
while true do
  local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if not head or head == ARGV[5] then break end
  local tok = string.match(head, '|([^|]*)$')
  if tok and redis.call('EXISTS', ARGV[6] .. tok) == 1 then return 0 end
  redis.call('ZREM', KEYS[2], head)
end
if not free() then return 0 end
take()
redis.call('ZREM', KEYS[2], ARGV[5])
redis.call('DEL', ARGV[6] .. ARGV[1])
return 1
`)

// waiterTTL is how long a waiting message's heartbeat outlives its last poll:
// an instance that died while waiting stops blocking later messages after it.
const waiterTTL = 3 * time.Second

var _ bot.OrderedLocker = (*Locker)(nil)

// LockInOrder is Lock, with the lock handed to the waiting messages of key in
// the order of seq (bot.MessageOrder), across instances: a message that holds
// back while an earlier one is still waiting, wherever that one arrived.
func (l *Locker) LockInOrder(ctx context.Context, key, seq string) (unlock func(), err error) {
	rkey, qkey, hb := l.c.key("lock:", key), l.c.key("queue:", key), l.c.key("waiter:", "")
	token := rand.Text()
	member := seq + "|" + token
	pipe := l.c.rdb.TxPipeline()
	pipe.ZAdd(ctx, qkey, goredis.Z{Score: 0, Member: member})
	pipe.PExpire(ctx, qkey, l.lease+waiterTTL)
	pipe.Set(ctx, hb+token, "1", waiterTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("redis: queue for lock %q: %w", key, err)
	}
	leave := func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
		l.c.rdb.ZRem(cctx, qkey, member)
		l.c.rdb.Del(cctx, hb+token)
	}
	backoff := minLockBackoff
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for {
		if err := ctx.Err(); err != nil {
			leave()
			return nil, lockTimeout(key, err)
		}
		args := append(l.leaseArgs(token), member, hb, waiterTTL.Milliseconds())
		n, err := orderedScript.Run(ctx, l.c.rdb, []string{rkey, qkey}, args...).Int64()
		if err != nil {
			l.release(ctx, key, rkey, token)
			leave()
			if cerr := ctx.Err(); cerr != nil {
				return nil, lockTimeout(key, cerr)
			}
			return nil, fmt.Errorf("redis: lock %q: %w", key, err)
		}
		if n == 1 {
			return l.hold(ctx, key, rkey, token), nil
		}
		timer.Reset(backoff/2 + mathrand.N(backoff/2+1))
		select {
		case <-ctx.Done():
			leave()
			return nil, lockTimeout(key, ctx.Err())
		case <-timer.C:
		}
		backoff = min(2*backoff, maxLockBackoff)
	}
}
