package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/bot/mailboxtest"
	"github.com/aftersales/aftersales/internal/testclock"
)

// TestMailbox runs the conformance suite on two DBs on one database, as two
// instances of the service open it, with a Mailbox each.
func TestMailbox(t *testing.T) {
	t.Parallel()
	mailboxtest.Run(t, func(t *testing.T, size int, keep time.Duration) (bot.Mailbox, bot.Mailbox) {
		a, dbURL := openTestDB(t, Options{})
		return a.Mailbox(size, keep), mustOpen(t, dbURL, Options{}).Mailbox(size, keep)
	})
}

// wakeWithin bounds how long a test waits for a wake that must come.
const wakeWithin = 10 * time.Second

// TestMailboxTwinPuts checks that Puts of one message racing on two
// instances store it once and all report its number, the losers of the race
// through the violation of mailbox_entries_dedupe_idx.
func TestMailboxTwinPuts(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a, dbURL := openTestDB(t, Options{})
	ms := []*Mailbox{a.Mailbox(0, time.Hour), mustOpen(t, dbURL, Options{}).Mailbox(0, time.Hour)}
	start := testclock.Start()
	for round := range 10 {
		box := fmt.Sprintf("visitor-%d", round)
		var wg sync.WaitGroup
		added := make([]bool, 6)
		for i := range added {
			wg.Go(func() {
				seq, ok, err := ms[i%2].Put(ctx, box, "user:m1", []byte("报修"), start)
				assert.NoError(t, err)
				assert.Equal(t, int64(1), seq)
				added[i] = ok
			})
		}
		wg.Wait()
		n := 0
		for _, ok := range added {
			if ok {
				n++
			}
		}
		require.Equal(t, 1, n, "added once")
	}
}

// TestMailboxListenerReconnects cuts the listener's connection: it connects
// again, wakes every watcher (their Puts may have come meanwhile), and
// wakes them at Puts again.
func TestMailboxListenerReconnects(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, dbURL := openTestDB(t, Options{})
	m := db.Mailbox(10, time.Hour)
	other := mustOpen(t, dbURL, Options{}).Mailbox(10, time.Hour)
	pid := m.l.pid.Load()
	require.NotZero(t, pid, "listening once Mailbox returns")

	wake, stop := m.Watch("v")
	defer stop()
	_, err := db.pool.Exec(ctx, "SELECT pg_terminate_backend($1)", pid)
	require.NoError(t, err)
	waitWake(t, wake, "after connecting again")
	require.NotEqual(t, pid, m.l.pid.Load())

	wake, stop = m.Watch("v")
	defer stop()
	_, _, err = other.Put(ctx, "v", "", []byte("m"), testclock.Start())
	require.NoError(t, err)
	waitWake(t, wake, "at a Put on the new connection")
}

// TestMailboxListenerPings checks that a listener quiet for longer than its
// ping interval checks its connection and goes on listening on it.
func TestMailboxListenerPings(t *testing.T) {
	t.Parallel()
	db, _ := openTestDB(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	l := startListener(ctx, cancel, db.pool.Config().ConnConfig, db.logger, 20*time.Millisecond)
	defer func() { cancel(); <-l.done }()
	pid := l.pid.Load()
	require.NotZero(t, pid)
	time.Sleep(200 * time.Millisecond) // several pings

	wake, stop := l.watch("v")
	defer stop()
	_, _, err := db.Mailbox(10, time.Hour).Put(t.Context(), "v", "", []byte("m"), testclock.Start())
	require.NoError(t, err)
	waitWake(t, wake, "after pings")
	require.Equal(t, pid, l.pid.Load(), "on the same connection")
	stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	assert.Empty(t, l.watched, "a stopped watch is forgotten")
}

// TestMailboxClosed checks that Close stops the listener, and that a Mailbox
// of a closed DB starts none.
func TestMailboxClosed(t *testing.T) {
	t.Parallel()
	_, dbURL := openTestDB(t, Options{})
	db := mustOpen(t, dbURL, Options{})
	l := db.Mailbox(0, 0).l
	require.NoError(t, db.Close())
	select {
	case <-l.done:
	default:
		t.Fatal("the listener runs on")
	}
	closed := mustOpen(t, dbURL, Options{})
	require.NoError(t, closed.Close())
	select {
	case <-closed.Mailbox(0, 0).l.done:
	case <-time.After(wakeWithin):
		t.Fatal("a closed DB's Mailbox listens")
	}
}

// TestMailboxSweep checks that a Put deletes the boxes untouched for the
// keep time, with their entries, at most once a minute.
func TestMailboxSweep(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, _ := openTestDB(t, Options{})
	m := db.Mailbox(0, time.Hour)
	count := func(box string) (n int) {
		t.Helper()
		require.NoError(t, db.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM mailboxes WHERE box = $1)
			+ (SELECT count(*) FROM mailbox_entries WHERE box = $1)`, box).Scan(&n))
		return n
	}
	mailboxtest.Sweep(t, m, sweepEvery, count)
}

// BenchmarkMailboxPutAfter puts a visitor's message and reads the last 20 of
// the box, as the chat page does for each message.
func BenchmarkMailboxPutAfter(b *testing.B) {
	db, _ := openTestDB(b, Options{MaxConns: -1})
	m := db.Mailbox(0, 0)
	mailboxtest.Bench(b, m)
}

func waitWake(t *testing.T, wake <-chan struct{}, when string) {
	t.Helper()
	select {
	case <-wake:
	case <-time.After(wakeWithin):
		t.Fatalf("the watcher was not woken %s", when)
	}
}
