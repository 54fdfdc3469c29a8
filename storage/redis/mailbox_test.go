package redis

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/bot/mailboxtest"
	"github.com/aftersales/aftersales/internal/testclock"
)

// openTestMailbox opens a Mailbox on c, closed in tb.Cleanup before c is.
func openTestMailbox(tb testing.TB, c *Client, size int, keep time.Duration) *Mailbox {
	tb.Helper()
	m := c.Mailbox(size, keep)
	tb.Cleanup(func() { assert.NoError(tb, m.Close()) })
	return m
}

// TestMailbox: two instances on one Redis share their boxes and wake each
// other's watchers, as the in-memory mailbox does within one process.
func TestMailbox(t *testing.T) {
	t.Parallel()
	mailboxtest.Run(t, func(t *testing.T, size int, keep time.Duration) (bot.Mailbox, bot.Mailbox) {
		prefix := randomPrefix()
		a := openTestMailbox(t, openTestClientPrefix(t, prefix), size, keep)
		b := openTestMailbox(t, openTestClientPrefix(t, prefix), size, keep)
		return a, b
	})
}

// TestMailboxKeys: a box's keys share its hash tag, expire keep after the
// last Put, and keep any bytes of a body and a dedupe key.
func TestMailboxKeys(t *testing.T) {
	t.Parallel()
	c := openTestClient(t)
	const keep = time.Hour
	m := openTestMailbox(t, c, 2, keep)
	ctx := t.Context()
	now := testclock.Start()

	body := []byte("\x00\xff:12:不是 JSON")
	for i, dedupe := range []string{"user:m:1", "", "user:m:3"} {
		seq, added, err := m.Put(ctx, "v1", dedupe, body, now)
		require.NoError(t, err)
		assert.True(t, added)
		assert.Equal(t, int64(i+1), seq)
	}
	got, last, err := m.After(ctx, "v1", 0, now)
	require.NoError(t, err)
	assert.Equal(t, int64(3), last)
	assert.Equal(t, []bot.MailboxEntry{
		{Seq: 2, Body: body},
		{Seq: 3, Dedupe: "user:m:3", Body: body},
	}, got)

	_, added, err := m.Put(ctx, "v1", "user:m:1", body, now)
	require.NoError(t, err)
	assert.True(t, added, "the entry with that key was dropped, and its key with it")

	keys, err := c.rdb.Keys(ctx, c.prefix+"*").Result()
	require.NoError(t, err)
	want := []string{c.prefix + "mailbox:{v1}:m", c.prefix + "mailbox:{v1}:l", c.prefix + "mailbox:{v1}:d"}
	require.ElementsMatch(t, want, keys)
	for _, k := range want {
		ttl, err := c.rdb.PTTL(ctx, k).Result()
		require.NoError(t, err)
		assert.Greater(t, ttl, keep-time.Minute, k)
		assert.LessOrEqual(t, ttl, keep, k)
	}

	require.NoError(t, m.Close())
	require.NoError(t, m.Close(), "Close twice")
}

// BenchmarkMailboxPutAfter: a message kept for the page, then the page's
// read of its last 20.
func BenchmarkMailboxPutAfter(b *testing.B) {
	m := openTestMailbox(b, openTestClient(b), 0, 0)
	mailboxtest.Bench(b, m)
}
