// Package mailboxtest is the behaviour every bot.Mailbox must have, run by
// each implementation's tests on a clock the test moves.
package mailboxtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/internal/testclock"
)

// Open returns two instances of one mailbox store (as two processes of the
// service would open it), keeping size entries per box for keep.
type Open func(t *testing.T, size int, keep time.Duration) (a, b bot.Mailbox)

// wakeWithin bounds how long a test waits for a wake that must come; a
// store's cross-instance signal is asynchronous.
const wakeWithin = 10 * time.Second

// Run tests the mailboxes open makes, one store per subtest. Box names are
// random, so that stores shared between test runs do not mix.
func Run(t *testing.T, open Open) {
	t.Helper()
	ctx := context.Background()
	start := testclock.Start()
	put := func(t *testing.T, m bot.Mailbox, box, dedupe, body string, now time.Time) (int64, bool) {
		t.Helper()
		seq, added, err := m.Put(ctx, box, dedupe, []byte(body), now)
		require.NoError(t, err)
		return seq, added
	}
	bodies := func(entries []bot.MailboxEntry) []string {
		var out []string
		for _, e := range entries {
			out = append(out, fmt.Sprintf("%d:%s", e.Seq, e.Body))
		}
		return out
	}

	t.Run("numbered in order, read after a number, on either instance", func(t *testing.T) {
		a, b := open(t, 10, time.Hour)
		v := box()
		got, last, err := b.After(ctx, v, 0, start)
		require.NoError(t, err)
		assert.Empty(t, got)
		assert.Zero(t, last, "a box never written")
		for i, body := range []string{`{"text":"您好"}`, `{"text":"请问您的姓名？"}`, `{"text":"<b>x</b>"}`} {
			seq, added := put(t, a, v, "", body, start.Add(time.Duration(i)*time.Second))
			assert.True(t, added)
			assert.Equal(t, int64(i+1), seq)
		}
		got, last, err = b.After(ctx, v, 0, start.Add(time.Minute))
		require.NoError(t, err)
		assert.Equal(t, []string{`1:{"text":"您好"}`, `2:{"text":"请问您的姓名？"}`, `3:{"text":"<b>x</b>"}`}, bodies(got))
		assert.Equal(t, int64(3), last)
		got, last, _ = a.After(ctx, v, 2, start.Add(time.Minute))
		assert.Equal(t, []string{`3:{"text":"<b>x</b>"}`}, bodies(got))
		assert.Equal(t, int64(3), last)
		got, _, _ = a.After(ctx, v, 3, start.Add(time.Minute))
		assert.Empty(t, got)
		got, _, _ = a.After(ctx, box(), 0, start.Add(time.Minute))
		assert.Empty(t, got, "boxes are apart")
	})

	t.Run("a message with a dedupe key is kept once", func(t *testing.T) {
		a, b := open(t, 10, time.Hour)
		v := box()
		seq, added := put(t, a, v, "user:m1", `{"text":"报修"}`, start)
		assert.True(t, added)
		assert.Equal(t, int64(1), seq)
		seq, added = put(t, b, v, "user:m1", `{"text":"报修"}`, start)
		assert.False(t, added, "the page re-sent the message")
		assert.Equal(t, int64(1), seq, "the number of the kept one")
		put(t, a, v, "", `{"text":"reply"}`, start)
		put(t, a, v, "", `{"text":"reply"}`, start) // no key: both kept
		_, added = put(t, b, v, "user:m2", `{"text":"张伟"}`, start)
		assert.True(t, added)
		got, last, err := a.After(ctx, v, 0, start)
		require.NoError(t, err)
		assert.Len(t, got, 4)
		assert.Equal(t, int64(4), last)
		assert.Equal(t, "user:m1", got[0].Dedupe)
	})

	t.Run("bounded: the oldest are dropped", func(t *testing.T) {
		a, b := open(t, 5, time.Hour)
		v := box()
		for i := range 8 {
			put(t, a, v, fmt.Sprintf("k%d", i), fmt.Sprintf("m%d", i+1), start)
		}
		got, last, err := b.After(ctx, v, 0, start)
		require.NoError(t, err)
		assert.Equal(t, []string{"4:m4", "5:m5", "6:m6", "7:m7", "8:m8"}, bodies(got))
		assert.Equal(t, int64(8), last)
	})

	t.Run("forgotten when untouched for the keep time", func(t *testing.T) {
		a, b := open(t, 10, time.Hour)
		v := box()
		put(t, a, v, "", "m1", start)
		put(t, a, v, "", "m2", start.Add(10*time.Minute))
		got, last, err := b.After(ctx, v, 0, start.Add(70*time.Minute-time.Second))
		require.NoError(t, err)
		assert.Len(t, got, 2, "kept an hour after the last message")
		assert.Equal(t, int64(2), last)
		got, last, err = b.After(ctx, v, 0, start.Add(70*time.Minute))
		require.NoError(t, err)
		assert.Empty(t, got)
		assert.Zero(t, last)
		seq, _ := put(t, a, v, "", "m3", start.Add(71*time.Minute))
		assert.Equal(t, int64(1), seq, "a forgotten box starts again")
		got, _, _ = b.After(ctx, v, 0, start.Add(71*time.Minute))
		assert.Equal(t, []string{"1:m3"}, bodies(got))
	})

	t.Run("a watcher on the other instance wakes at a put to its box", func(t *testing.T) {
		a, b := open(t, 10, time.Hour)
		v, other := box(), box()
		wake, stop := b.Watch(v)
		defer stop()
		put(t, a, other, "", "not yours", start)
		put(t, a, v, "", "yours", start)
		select {
		case <-wake:
		case <-time.After(wakeWithin):
			t.Fatal("the watcher was not woken")
		}
		got, _, err := b.After(ctx, v, 0, start)
		require.NoError(t, err)
		assert.Equal(t, []string{"1:yours"}, bodies(got))

		// A watch of another box is not woken by v's messages.
		wake2, stop2 := b.Watch(other)
		defer stop2()
		wake3, stop3 := a.Watch(v)
		defer stop3()
		put(t, b, v, "", "again", start)
		select {
		case <-wake3:
		case <-time.After(wakeWithin):
			t.Fatal("a watcher on the writing instance was not woken")
		}
		select {
		case <-wake2:
			t.Fatal("a watcher of another box was woken")
		default:
		}
	})

	t.Run("concurrent puts are numbered without gaps or repeats", func(t *testing.T) {
		a, b := open(t, 200, time.Hour)
		v := box()
		var wg sync.WaitGroup
		for w := range 4 {
			m := a
			if w%2 == 1 {
				m = b
			}
			wg.Go(func() {
				for i := range 25 {
					_, added, err := m.Put(ctx, v, fmt.Sprintf("w%d-%d", w, i), []byte("x"), start)
					assert.NoError(t, err)
					assert.True(t, added)
				}
			})
		}
		wg.Wait()
		got, last, err := a.After(ctx, v, 0, start)
		require.NoError(t, err)
		assert.Equal(t, int64(100), last)
		require.Len(t, got, 100)
		for i, e := range got {
			assert.Equal(t, int64(i+1), e.Seq)
		}
	})
}

// Bench puts a visitor's message into m and reads the last 20 of the box,
// as the chat page does for each message.
func Bench(b *testing.B, m bot.Mailbox) {
	ctx := b.Context()
	start := testclock.Start()
	box := "visitor-" + rand.Text()
	body := []byte(`{"from":"user","kind":"text","text":"您好，卫生间的天花板在漏水，楼上的住户不在家，请尽快安排师傅上门查看。"}`)
	for i := 0; b.Loop(); i++ {
		now := start.Add(time.Duration(i) * time.Second)
		seq, _, err := m.Put(ctx, box, fmt.Sprintf("user:m%d", i), body, now)
		if err != nil {
			b.Fatal(err)
		}
		got, _, err := m.After(ctx, box, seq-20, now)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != min(int(seq), 20) {
			b.Fatalf("read %d entries after %d, want %d", len(got), seq-20, min(int(seq), 20))
		}
	}
}

// Sweep tests that a store m (keeping boxes an hour) deletes the boxes
// untouched for the keep time, with their entries, at a Put at most once
// per every. rows counts what the store holds of a box: its row and its
// entries'.
func Sweep(t *testing.T, m bot.Mailbox, every time.Duration, rows func(box string) int) {
	t.Helper()
	ctx := context.Background()
	start := testclock.Start()
	old, fresh := box(), box()
	put := func(box string, at time.Time) {
		t.Helper()
		_, _, err := m.Put(ctx, box, "", []byte("m"), at)
		require.NoError(t, err)
	}
	put(old, start)
	put(fresh, start.Add(59*time.Minute+30*time.Second)) // a sweep, before old expires
	require.Equal(t, 2, rows(old), "a box and its entry")

	put(fresh, start.Add(60*time.Minute+10*time.Second))
	require.Equal(t, 2, rows(old), "expired, but the last sweep was less than every ago")
	put(fresh, start.Add(59*time.Minute+30*time.Second+every))
	require.Zero(t, rows(old), "swept")
	require.Equal(t, 4, rows(fresh), "a box untouched for less than the keep time stays")
}

// box returns a new box's name.
func box() string { return "box-" + rand.Text() }
