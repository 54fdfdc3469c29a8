package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/aftersales/aftersales/bot"
)

// Mailbox is a bot.Mailbox on Redis, shared by every instance that uses the
// same KeyPrefix. A box is three keys under "{prefix}mailbox:{box}:" (the
// Redis Cluster hash tag {box} keeps them in one slot): "m", a hash of the
// last number ("s") and the caller's time of the last Put ("t", Unix ms);
// "l", the list of entries, oldest first; and "d", a hash from dedupe key to
// number for the entries still kept. Whether a box is forgotten is decided on
// the caller's clock, as bot.MemoryMailbox does, so that the service's clock
// alone decides — and tests can move it; the keys also expire keep after
// their last Put, so that a forgotten box does not stay in Redis.
//
// Every Put publishes the box's name on "{prefix}mailbox", and each Mailbox
// subscribes to it to wake its watchers, its own included.
type Mailbox struct {
	bot.WakeHub
	c    *Client
	size int
	keep time.Duration

	ps        *goredis.PubSub
	done      chan struct{} // closed when the subscriber has stopped
	closeOnce sync.Once
	closeErr  error
}

var _ bot.Mailbox = (*Mailbox)(nil)

// subscribeTimeout bounds how long Client.Mailbox waits for Redis to confirm
// its subscription.
const subscribeTimeout = 3 * time.Second

// Mailbox returns the mailbox on c keeping size entries per box
// (bot.DefaultMailboxSize when size ≤ 0), each box for keep after its last
// Put (bot.DefaultMailboxKeep when keep ≤ 0). It subscribes to the other
// instances' Puts before it returns, so that a Watch right after is woken;
// when Redis does not confirm the subscription in time it logs a warning and
// goes on subscribing in the background. Close stops the subscriber.
func (c *Client) Mailbox(size int, keep time.Duration) *Mailbox {
	size, keep = bot.MailboxLimits(size, keep)
	channel := c.prefix + "mailbox"
	m := &Mailbox{c: c, size: size, keep: keep, done: make(chan struct{})}

	ctx, cancel := context.WithTimeout(context.Background(), subscribeTimeout)
	defer cancel()
	m.ps = c.rdb.Subscribe(ctx, channel)
	if _, err := m.ps.Receive(ctx); err != nil {
		// The PubSub reconnects and subscribes again on its own.
		c.log.Warn("redis: mailbox subscribe: not confirmed yet; watchers may wait for their timeout until it is",
			"channel", channel, "error", err)
	}
	msgs := m.ps.Channel()
	go func() {
		defer close(m.done)
		for msg := range msgs {
			m.Wake(msg.Payload)
		}
	}()
	return m
}

// Close stops the subscriber and waits for it. It does not close the Client.
func (m *Mailbox) Close() error {
	m.closeOnce.Do(func() {
		m.closeErr = m.ps.Close()
		<-m.done
		if m.closeErr != nil {
			m.closeErr = fmt.Errorf("redis: mailbox close: %w", m.closeErr)
		}
	})
	return m.closeErr
}

// keys returns the keys of box: its meta hash, its list and its dedupe hash.
func (m *Mailbox) keys(box string) []string {
	base := m.c.key("mailbox:", "{"+box+"}:")
	return []string{base + "m", base + "l", base + "d"}
}

// mailboxPutScript appends an entry to a box. KEYS: meta, list, dedupe (see
// Mailbox). ARGV: now (Unix ms), keep (ms), size, dedupe, body, channel, box.
// A box not written for keep (or whose meta is gone) is emptied first, so
// that its numbering starts again at 1. Returns {0, seq of the kept entry}
// when dedupe is kept already, else {1, seq}. An entry is "seq:len(dedupe):"
// followed by dedupe and body, binary safe.
var mailboxPutScript = goredis.NewScript(`
local now = tonumber(ARGV[1])
local keep = tonumber(ARGV[2])
local size = tonumber(ARGV[3])
local dedupe = ARGV[4]
local touched = redis.call('HGET', KEYS[1], 't')
if not touched or tonumber(touched) + keep <= now then
	redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
	touched = nil
end
if dedupe ~= '' then
	local kept = redis.call('HGET', KEYS[3], dedupe)
	if kept then return {0, tonumber(kept)} end
end
local seq = redis.call('HINCRBY', KEYS[1], 's', 1)
local id = string.format('%d', seq)
local n = redis.call('RPUSH', KEYS[2], id .. ':' .. #dedupe .. ':' .. dedupe .. ARGV[5])
if dedupe ~= '' then redis.call('HSET', KEYS[3], dedupe, id) end
while n > size do
	local old = redis.call('LPOP', KEYS[2])
	local oseq, olen = string.match(old, '^(%d+):(%d+):')
	local head = #oseq + #olen + 2
	local odedupe = string.sub(old, head + 1, head + tonumber(olen))
	if odedupe ~= '' and redis.call('HGET', KEYS[3], odedupe) == oseq then
		redis.call('HDEL', KEYS[3], odedupe)
	end
	n = n - 1
end
if not touched or tonumber(touched) < now then
	redis.call('HSET', KEYS[1], 't', ARGV[1])
end
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
redis.call('PUBLISH', ARGV[6], ARGV[7])
return {1, seq}
`)

// Put implements bot.Mailbox.
func (m *Mailbox) Put(ctx context.Context, box, dedupe string, body []byte, now time.Time) (int64, bool, error) {
	res, err := mailboxPutScript.Run(ctx, m.c.rdb, m.keys(box),
		now.UnixMilli(), max(m.keep.Milliseconds(), 1), m.size, dedupe, body,
		m.c.prefix+"mailbox", box).Int64Slice()
	if err != nil {
		return 0, false, fmt.Errorf("redis: mailbox put %q: %w", box, err)
	}
	if len(res) != 2 {
		return 0, false, fmt.Errorf("redis: mailbox put %q: unexpected answer %v", box, res)
	}
	return res[1], res[0] == 1, nil
}

// mailboxAfterScript reads a box. KEYS: meta, list. ARGV: now (Unix ms), keep
// (ms), after. Returns {last, entries numbered above after…}, or {0} for a
// box forgotten or never written. The list holds consecutive numbers ending
// at last, so the entries above after are a range of it.
var mailboxAfterScript = goredis.NewScript(`
local now = tonumber(ARGV[1])
local keep = tonumber(ARGV[2])
local after = tonumber(ARGV[3])
local meta = redis.call('HMGET', KEYS[1], 't', 's')
if not meta[1] or tonumber(meta[1]) + keep <= now then return {0} end
local last = tonumber(meta[2]) or 0
local first = last - redis.call('LLEN', KEYS[2]) + 1
local out = {last}
if after >= last then return out end
for _, e in ipairs(redis.call('LRANGE', KEYS[2], math.max(after - first + 1, 0), -1)) do
	out[#out + 1] = e
end
return out
`)

// After implements bot.Mailbox.
func (m *Mailbox) After(ctx context.Context, box string, after int64, now time.Time) ([]bot.MailboxEntry, int64, error) {
	res, err := mailboxAfterScript.Run(ctx, m.c.rdb, m.keys(box)[:2],
		now.UnixMilli(), max(m.keep.Milliseconds(), 1), after).Slice()
	if err != nil {
		return nil, 0, fmt.Errorf("redis: mailbox after %q: %w", box, err)
	}
	var last int64
	ok := len(res) > 0
	if ok {
		last, ok = res[0].(int64)
	}
	if !ok {
		return nil, 0, fmt.Errorf("redis: mailbox after %q: unexpected answer %v", box, res)
	}
	var entries []bot.MailboxEntry
	for _, r := range res[1:] {
		s, _ := r.(string)
		e, err := decodeMailboxEntry(s)
		if err != nil {
			return nil, 0, fmt.Errorf("redis: mailbox after %q: %w", box, err)
		}
		if e.Seq > after {
			entries = append(entries, e)
		}
	}
	return entries, last, nil
}

// errMailboxEntry is returned for a list element that is not an entry.
var errMailboxEntry = errors.New("malformed entry")

// decodeMailboxEntry parses "seq:len(dedupe):" dedupe body.
func decodeMailboxEntry(s string) (bot.MailboxEntry, error) {
	seqText, rest, ok1 := strings.Cut(s, ":")
	lenText, rest, ok2 := strings.Cut(rest, ":")
	seq, err1 := strconv.ParseInt(seqText, 10, 64)
	n, err2 := strconv.Atoi(lenText)
	if !ok1 || !ok2 || err1 != nil || err2 != nil || n < 0 || n > len(rest) {
		return bot.MailboxEntry{}, errMailboxEntry
	}
	return bot.MailboxEntry{Seq: seq, Dedupe: rest[:n], Body: []byte(rest[n:])}, nil
}
