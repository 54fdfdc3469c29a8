package wechat

import (
	"context"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// WeChat's customer-service window (客服消息): after a user's message, the
// account may send that user 5 messages within 48 hours; after a follow, a
// menu click or a scan, 3 within a minute.
const (
	messageQuota  = 5
	messageWindow = 48 * time.Hour
	eventQuota    = 3
	eventWindow   = time.Minute
)

// Grant is what one interaction of a user allows: Count customer-service
// messages until Until.
type Grant struct {
	// ID is the interaction's id (the inbound MessageID). A grant with the ID
	// of the user's last grant of its kind changes nothing: it is WeChat's
	// retry of the same callback.
	ID string
	// Event is set for a follow, a menu click or a scan, whose allowance is
	// kept beside the allowance of the user's last message.
	Event bool
	Count int
	// At is when the interaction came, by the service's clock, and Until
	// when its allowance ends. A store keeps a window for as long as Until
	// is ahead of At, never by the clock of its own machine.
	At    time.Time
	Until time.Time
}

// messageGrant is the allowance of a user's message received at now.
func messageGrant(id string, now time.Time) Grant {
	return Grant{ID: id, Count: messageQuota, At: now, Until: now.Add(messageWindow)}
}

// eventGrant is the allowance of an event received at now.
func eventGrant(id string, now time.Time) Grant {
	return Grant{ID: id, Event: true, Count: eventQuota, At: now, Until: now.Add(eventWindow)}
}

// WindowStore tracks each user's customer-service window, so that a message
// that WeChat would refuse goes by template instead, without asking. It is
// the adapter's count: WeChat's answer (45015, 45047) stays the authority and
// is recorded through Close and Exhaust. Users are OpenIDs.
//
// MemoryWindowStore serves one instance; several instances serving one
// account share a RedisWindowStore.
type WindowStore interface {
	// Open records an interaction. A user's message replaces the allowance
	// of their previous message (counts are not added up); an event's
	// allowance replaces the previous event's.
	Open(ctx context.Context, user string, g Grant) error
	// Take uses one message of the user's allowance at now: the event's
	// while it lasts, then the message's. It returns ErrWindowClosed when no
	// allowance is open and ErrQuotaExceeded when one is open but used up.
	Take(ctx context.Context, user string, now time.Time) error
	// Close ends the user's allowances: WeChat answered 45015, or the user
	// unsubscribed.
	Close(ctx context.Context, user string) error
	// Exhaust uses up the user's allowances: WeChat answered 45047.
	Exhaust(ctx context.Context, user string) error
}

// allowance is one grant's remaining messages.
type allowance struct {
	id    string
	left  int
	until time.Time
}

type window struct {
	message, event allowance
}

// MemoryWindowStore is a WindowStore for a single instance. Windows that
// ended are dropped now and then as new ones open. It is safe for concurrent
// use.
type MemoryWindowStore struct {
	mu        sync.Mutex
	users     map[string]*window
	lastSweep time.Time
}

// NewMemoryWindowStore returns an empty MemoryWindowStore.
func NewMemoryWindowStore() *MemoryWindowStore {
	return &MemoryWindowStore{users: map[string]*window{}}
}

var _ WindowStore = (*MemoryWindowStore)(nil)

// Open implements WindowStore.
func (s *MemoryWindowStore) Open(_ context.Context, user string, g Grant) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(g.At)
	w, ok := s.users[user]
	if !ok {
		w = &window{}
		s.users[user] = w
	}
	al := &w.message
	if g.Event {
		al = &w.event
	}
	if g.ID != "" && al.id == g.ID {
		return nil
	}
	*al = allowance{id: g.ID, left: g.Count, until: g.Until}
	return nil
}

// Take implements WindowStore.
func (s *MemoryWindowStore) Take(_ context.Context, user string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.users[user]
	if !ok {
		return ErrWindowClosed
	}
	open := false
	for _, al := range []*allowance{&w.event, &w.message} {
		if now.Before(al.until) {
			open = true
			if al.left > 0 {
				al.left--
				return nil
			}
		}
	}
	if open {
		return ErrQuotaExceeded
	}
	return ErrWindowClosed
}

// Close implements WindowStore.
func (s *MemoryWindowStore) Close(_ context.Context, user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.users, user)
	return nil
}

// Exhaust implements WindowStore.
func (s *MemoryWindowStore) Exhaust(_ context.Context, user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w, ok := s.users[user]; ok {
		w.message.left, w.event.left = 0, 0
	}
	return nil
}

// Len returns the number of users with a window, ended ones not dropped yet
// included.
func (s *MemoryWindowStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.users)
}

// sweep drops ended windows, at most once a minute and only when there are
// many. s.mu must be held.
func (s *MemoryWindowStore) sweep(now time.Time) {
	if len(s.users) < 1024 || now.Sub(s.lastSweep) < time.Minute {
		return
	}
	s.lastSweep = now
	for user, w := range s.users {
		if !now.Before(w.message.until) && !now.Before(w.event.until) {
			delete(s.users, user)
		}
	}
}

// RedisWindowStore is a WindowStore on Redis, shared by the instances that
// serve one account: a hash per user, "{prefix}window:{openid}", that
// expires a minute after its last allowance. The expiry is set as a time to
// live counted from the grant, not as a time of Redis's clock, so that the
// service's clock alone says when a window ends.
type RedisWindowStore struct {
	rdb    goredis.Cmdable
	prefix string
}

// NewRedisWindowStore returns a RedisWindowStore whose keys start with
// prefix (e.g. "aftersales:wechat:").
func NewRedisWindowStore(rdb goredis.Cmdable, prefix string) *RedisWindowStore {
	return &RedisWindowStore{rdb: rdb, prefix: prefix}
}

var _ WindowStore = (*RedisWindowStore)(nil)

func (s *RedisWindowStore) key(user string) string { return s.prefix + "window:" + user }

// openScript: KEYS[1] the hash; ARGV kind ("m" or "e"), id, count, until
// (ms), at (ms).
var openScript = goredis.NewScript(`
local k = ARGV[1]
if ARGV[2] ~= '' and redis.call('HGET', KEYS[1], k .. 'i') == ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], k .. 'i', ARGV[2], k .. 'l', ARGV[3], k .. 'u', ARGV[4])
local mu = tonumber(redis.call('HGET', KEYS[1], 'mu') or '0')
local eu = tonumber(redis.call('HGET', KEYS[1], 'eu') or '0')
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', math.max(math.max(mu, eu) - tonumber(ARGV[5]), 0) + 60000))
return 1
`)

// takeScript: KEYS[1] the hash; ARGV now (ms). Returns 1 taken, 2 used up,
// 0 closed.
var takeScript = goredis.NewScript(`
local now = tonumber(ARGV[1])
local open = false
for _, k in ipairs({'e', 'm'}) do
  local u = tonumber(redis.call('HGET', KEYS[1], k .. 'u') or '0')
  if now < u then
    open = true
    local l = tonumber(redis.call('HGET', KEYS[1], k .. 'l') or '0')
    if l > 0 then
      redis.call('HINCRBY', KEYS[1], k .. 'l', -1)
      return 1
    end
  end
end
if open then return 2 end
return 0
`)

// Open implements WindowStore.
func (s *RedisWindowStore) Open(ctx context.Context, user string, g Grant) error {
	kind := "m"
	if g.Event {
		kind = "e"
	}
	return openScript.Run(ctx, s.rdb, []string{s.key(user)}, kind, g.ID, g.Count, strconv.FormatInt(g.Until.UnixMilli(), 10), strconv.FormatInt(g.At.UnixMilli(), 10)).Err()
}

// Take implements WindowStore.
func (s *RedisWindowStore) Take(ctx context.Context, user string, now time.Time) error {
	n, err := takeScript.Run(ctx, s.rdb, []string{s.key(user)}, strconv.FormatInt(now.UnixMilli(), 10)).Int64()
	switch {
	case err != nil:
		return err
	case n == 1:
		return nil
	case n == 2:
		return ErrQuotaExceeded
	}
	return ErrWindowClosed
}

// Close implements WindowStore.
func (s *RedisWindowStore) Close(ctx context.Context, user string) error {
	return s.rdb.Del(ctx, s.key(user)).Err()
}

// exhaustScript: KEYS[1] the hash.
var exhaustScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'ml', 0, 'el', 0)
end
return 0
`)

// Exhaust implements WindowStore.
func (s *RedisWindowStore) Exhaust(ctx context.Context, user string) error {
	return exhaustScript.Run(ctx, s.rdb, []string{s.key(user)}).Err()
}
