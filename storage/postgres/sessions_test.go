package postgres

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/conversation"
	"github.com/aftersales/aftersales/conversation/conversationtest"
	"github.com/aftersales/aftersales/internal/testclock"
)

// openRunning opens a migrated DB on a fresh schema and a clock that runs
// with the real time, from the tests' date: the conformance suite waits for
// its short ttls to pass.
func openRunning(tb testing.TB, opts Options) *DB {
	tb.Helper()
	opts.NowFunc = testclock.NewRunning(testclock.Start()).Now
	db, _ := openTestDB(tb, opts)
	return db
}

func TestSessions(t *testing.T) {
	t.Parallel()
	conversationtest.RunSessionStore(t, func(tb testing.TB) conversation.SessionStore { return openRunning(tb, Options{}).Sessions() })
}

func TestDeduper(t *testing.T) {
	t.Parallel()
	conversationtest.RunDeduper(t, func(tb testing.TB) bot.Deduper { return openRunning(tb, Options{}).Deduper() })
}

// BenchmarkSessions measures a Save and a Load of a realistic session, on a
// pool of the production size.
func BenchmarkSessions(b *testing.B) {
	conversationtest.BenchSessionStore(b, func(tb testing.TB) conversation.SessionStore {
		return openRunning(tb, Options{MaxConns: -1}).Sessions()
	})
}

// openOn opens a migrated DB on a fresh schema and the fake clock clock,
// with a SessionStore and a Deduper.
func openOn(t *testing.T, clock *testclock.Clock) (*DB, *SessionStore, *Deduper) {
	t.Helper()
	db, _ := openTestDB(t, Options{NowFunc: clock.Now})
	return db, db.Sessions(), db.Deduper()
}

// TestSessionsOnTheDBClock: sessions and marks expire by the DB's clock.
func TestSessionsOnTheDBClock(t *testing.T) {
	t.Parallel()
	conversationtest.RunOnClock(t, func(t *testing.T, clock *testclock.Clock) (conversation.SessionStore, bot.Deduper) {
		_, sessions, dedupe := openOn(t, clock)
		return sessions, dedupe
	})
}

// TestSessionsAcrossInstances checks that a session and a mark written
// through one DB are there through another on the same database, as after a
// restart or on another instance.
func TestSessionsAcrossInstances(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := testclock.New(testclock.Start())
	first, dbURL := openTestDB(t, Options{NowFunc: clock.Now})
	user := bot.UserRef{Platform: bot.Telegram, ID: "100200300"}
	const msg = "telegram:100200300:4711"
	want := conversationtest.SampleSession(user, clock.Now())
	require.NoError(t, first.Sessions().Save(ctx, want, time.Hour))
	require.NoError(t, first.Deduper().Mark(ctx, msg, time.Hour))
	require.NoError(t, first.Close())

	clock.Advance(time.Minute)
	again := mustOpen(t, dbURL, Options{NowFunc: clock.Now})
	got, err := again.Sessions().Load(ctx, user.Key())
	require.NoError(t, err)
	require.NotNil(t, got)
	require.Equal(t, want.Slots, got.Slots)
	require.Equal(t, want.Step, got.Step)
	seen, err := again.Deduper().Seen(ctx, msg)
	require.NoError(t, err)
	require.True(t, seen)
}

// TestSessionsSweep checks that writes delete the expired sessions and marks,
// at most sweepMost at a time and at most once a minute per store.
func TestSessionsSweep(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clock := testclock.New(testclock.Start())
	db, sessions, dedupe := openOn(t, clock)
	user := bot.UserRef{Platform: bot.Telegram, ID: "100200300"}
	write := func() {
		t.Helper()
		require.NoError(t, sessions.Save(ctx, conversationtest.SampleSession(user, clock.Now()), time.Hour))
		require.NoError(t, dedupe.Mark(ctx, "telegram:100200300:1", time.Hour))
	}
	// expired adds n rows to each table that expired a second ago.
	expired := func(n int) {
		t.Helper()
		at := dbTime(clock.Now().Add(-time.Second))
		for _, q := range []string{
			"INSERT INTO chat_sessions (key, data, expires_at) SELECT 'old:' || i, '{}', $1 FROM generate_series(1, $2) i",
			"INSERT INTO inbound_dedupe (key, expires_at) SELECT 'old:' || i, $1 FROM generate_series(1, $2) i",
		} {
			_, err := db.pool.Exec(ctx, q, at, n)
			require.NoError(t, err)
		}
	}
	count := func() (sessions, marks int) {
		t.Helper()
		require.NoError(t, db.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM chat_sessions),
			(SELECT count(*) FROM inbound_dedupe)`).Scan(&sessions, &marks))
		return sessions, marks
	}

	write() // the first write sweeps
	expired(sweepMost + 10)
	clock.Advance(sweepEvery - time.Second)
	write()
	s, m := count()
	require.Equal(t, sweepMost+11, s, "the last sweep was less than a minute ago")
	require.Equal(t, sweepMost+11, m)

	clock.Advance(time.Second)
	write()
	s, m = count()
	require.Equal(t, 11, s, "a sweep deletes sweepMost at the most")
	require.Equal(t, 11, m)

	clock.Advance(sweepEvery)
	write()
	s, m = count()
	require.Equal(t, 1, s)
	require.Equal(t, 1, m)
}
