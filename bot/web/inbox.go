package web

import (
	"context"
	"time"

	"github.com/aftersales/aftersales/bot"
)

// Who a message is from.
const (
	fromBot  = "bot"
	fromUser = "user"
)

// message is one entry of a visitor's conversation as the page gets it. The
// visitor's own messages are kept too (From "user", ID the page's message
// id), so that a reloaded page shows both sides.
type message struct {
	Seq            int64        `json:"seq"`
	From           string       `json:"from"`
	Kind           string       `json:"kind"`
	ID             string       `json:"id,omitempty"`
	Text           string       `json:"text,omitempty"`
	Choices        []bot.Choice `json:"choices,omitempty"`
	RequestContact bool         `json:"request_contact,omitempty"`
	BlobKey        string       `json:"blob_key,omitempty"`
}

// inbox is one visitor's last messages, a ring numbered by increasing Seq
// from 1, and the channel that wakes their waiting polls.
type inbox struct {
	msgs    []message // up to MaxMessages; the oldest at head once full
	head    int
	last    int64         // Seq of the newest message; 0 before the first
	notify  chan struct{} // closed, and replaced, when a message is added
	waiters int           // polls waiting; a visitor being waited on is not evicted
	seen    time.Time     // last poll, send or message
}

func newInbox(now time.Time) *inbox {
	return &inbox{notify: make(chan struct{}), seen: now}
}

// add appends m, numbering it, dropping the oldest message when full, and
// wakes the waiters.
func (b *inbox) add(m message, limit int) {
	b.last++
	m.Seq = b.last
	if len(b.msgs) < limit {
		b.msgs = append(b.msgs, m)
	} else {
		b.msgs[b.head] = m
		b.head = (b.head + 1) % len(b.msgs)
	}
	close(b.notify)
	b.notify = make(chan struct{})
}

// after returns the kept messages with Seq > seq, oldest first.
func (b *inbox) after(seq int64) []message {
	n := len(b.msgs)
	first := b.last - int64(n) + 1
	skip := max(seq-first+1, 0)
	if skip >= int64(n) {
		return nil
	}
	out := make([]message, 0, n-int(skip))
	for i := int(skip); i < n; i++ {
		out = append(out, b.msgs[(b.head+i)%n])
	}
	return out
}

// hasUserMessage reports whether the visitor's message id is kept.
func (b *inbox) hasUserMessage(id string) bool {
	for _, m := range b.msgs {
		if m.From == fromUser && m.ID == id {
			return true
		}
	}
	return false
}

// push adds m to the visitor's inbox, creating it if need be.
func (c *Channel) push(visitor string, m message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.opts.NowFunc()
	b := c.inbox(visitor, now)
	b.seen = now
	b.add(m, c.opts.MaxMessages)
}

// pushUser records the visitor's own message once per message id: a
// re-sent message (the page retrying) is not shown twice.
func (c *Channel) pushUser(visitor string, m message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.opts.NowFunc()
	b := c.inbox(visitor, now)
	b.seen = now
	if b.hasUserMessage(m.ID) {
		return
	}
	b.add(m, c.opts.MaxMessages)
}

// poll returns the visitor's messages after seq, waiting up to PollWait for
// one when there are none, and the seq to ask after next time. When seq is
// beyond the newest message — the process restarted, or the visitor was
// evicted, since the page last polled — it starts again from 0. It returns
// early, with no messages, when ctx is done.
func (c *Channel) poll(ctx context.Context, visitor string, seq int64) ([]message, int64) {
	timer := time.NewTimer(c.opts.PollWait)
	defer timer.Stop()
	for {
		c.mu.Lock()
		now := c.opts.NowFunc()
		b := c.inbox(visitor, now)
		b.seen = now
		if seq > b.last {
			seq = 0
		}
		if msgs := b.after(seq); len(msgs) > 0 {
			c.mu.Unlock()
			return msgs, msgs[len(msgs)-1].Seq
		}
		wake, hook := b.notify, c.waitHook
		b.waiters++
		c.mu.Unlock()

		if hook != nil {
			hook()
		}
		woken := false
		select {
		case <-wake:
			woken = true
		case <-timer.C:
		case <-ctx.Done():
		}

		c.mu.Lock()
		b.waiters--
		b.seen = c.opts.NowFunc()
		c.mu.Unlock()
		if !woken {
			return nil, seq
		}
	}
}

// sweepEvery is how often idle visitors and expired uploads are looked for.
const sweepEvery = time.Minute

// inbox returns the visitor's inbox, creating it, and from time to time
// drops idle visitors and expired uploads. c.mu must be held.
func (c *Channel) inbox(visitor string, now time.Time) *inbox {
	if now.Sub(c.lastSweep) >= sweepEvery {
		c.sweep(now)
	}
	if b, ok := c.inboxes[visitor]; ok {
		return b
	}
	if len(c.inboxes) >= c.opts.MaxVisitors {
		c.sweep(now)
	}
	if len(c.inboxes) >= c.opts.MaxVisitors {
		c.evictIdlest()
	}
	b := newInbox(now)
	c.inboxes[visitor] = b
	return b
}

// sweep drops the visitors idle for IdleTTL and the uploads expired. c.mu
// must be held.
func (c *Channel) sweep(now time.Time) {
	c.lastSweep = now
	for id, b := range c.inboxes {
		if b.waiters == 0 && now.Sub(b.seen) >= c.opts.IdleTTL {
			delete(c.inboxes, id)
		}
	}
	for id, u := range c.uploads {
		if !now.Before(u.expires) {
			delete(c.uploads, id)
		}
	}
}

// evictIdlest drops the visitor seen longest ago that no poll waits on.
// c.mu must be held.
func (c *Channel) evictIdlest() {
	var oldest string
	var seen time.Time
	for id, b := range c.inboxes {
		if b.waiters == 0 && (oldest == "" || b.seen.Before(seen)) {
			oldest, seen = id, b.seen
		}
	}
	if oldest != "" {
		delete(c.inboxes, oldest)
	}
}
