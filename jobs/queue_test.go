package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/pgtest"
	"github.com/aftersales/aftersales/internal/testclock"
)

func TestPermanent(t *testing.T) {
	t.Parallel()

	base := errors.New("chat not found")
	err := Permanent(base)
	require.ErrorIs(t, err, base)
	require.EqualError(t, err, "chat not found")
	require.True(t, IsPermanent(err))
	require.True(t, IsPermanent(fmt.Errorf("deliver 7: %w", err)), "wrapped")
	require.False(t, IsPermanent(base))
	require.NoError(t, Permanent(nil))
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()

	h := newRecorder(nil)
	now := newFakeClock().Now
	require.NoError(t, Config{Handler: h, NowFunc: now}.Validate())
	require.ErrorContains(t, Config{NowFunc: now}.Validate(), "no Handler")
	require.ErrorContains(t, Config{Handler: h}.Validate(), "no NowFunc", "a queue without the service's clock would schedule by the real one")
	require.ErrorContains(t, Config{Handler: h, NowFunc: now, DeliverAttempts: -1}.Validate(), "DeliverAttempts")
	require.ErrorContains(t, Config{Handler: h, NowFunc: now, RetryBackoff: time.Minute, RetryBackoffMax: time.Second}.Validate(), "RetryBackoffMax")
	_, err := NewSQLite(nil, Config{Handler: h, NowFunc: now})
	require.Error(t, err)
	db, err := sql.Open("sqlite", ":memory:")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	_, err = NewSQLite(db, Config{Handler: h})
	require.ErrorContains(t, err, "no NowFunc")

	c := Config{Handler: h, NowFunc: now}.withDefaults(defaultPollIntervalSQLite)
	assert.Equal(t, 10, c.DeliverAttempts)
	assert.Equal(t, 200*time.Millisecond, c.PollInterval)
	assert.Equal(t, 10*time.Minute, c.RetryBackoffMax)
}

func TestBackoff(t *testing.T) {
	t.Parallel()

	b := &backoff{base: 2 * time.Second, max: 10 * time.Minute, now: time.Now}
	for n, want := range map[int]time.Duration{1: 2 * time.Second, 2: 4 * time.Second, 5: 32 * time.Second, 9: 512 * time.Second, 10: 10 * time.Minute, 50: 10 * time.Minute} {
		d := b.delay(n)
		assert.InDelta(t, float64(want), float64(d), float64(want)/10, "attempt %d: %s", n, d)
	}
}

// Jobs enqueued in a committed transaction run once; those of a rolled-back
// one never do. The queue takes jobs before it starts.
func TestInsertJobsTx(t *testing.T) {
	t.Parallel()

	forEachBackend(t, func(t *testing.T, b *backend) {
		ctx := t.Context()
		rec := newRecorder(b)
		cfg := testConfig(t, rec)
		q := b.newQueue(t, cfg)

		past := cfg.NowFunc().Add(-time.Minute).UTC().Truncate(time.Second)
		kept := casework.Timer{CaseID: 7, Kind: casework.TimerRespondDeadline, At: past, Ref: 1}
		lost := casework.Timer{CaseID: 8, Kind: casework.TimerRespondDeadline, At: past, Ref: 1}
		require.NoError(t, q.insert(ctx, []casework.Job{deliverJob(1), deliverJob(2), timerJob(kept)}, true))
		require.NoError(t, q.insert(ctx, []casework.Job{deliverJob(3), timerJob(lost)}, false))
		require.NoError(t, q.insert(ctx, nil, true))

		err := q.insert(ctx, []casework.Job{deliverJob(4), {Kind: "mail"}}, true)
		require.ErrorContains(t, err, `unknown kind "mail"`)
		require.ErrorContains(t, q.insert(ctx, []casework.Job{deliverJob(0)}, true), "without an outbox message id")
		require.Equal(t, Stats{Available: 3, Due: 0}, stats(t, q), "a past timer is available at once")

		require.NoError(t, q.Start(ctx))
		waitIdle(t, q)

		require.Equal(t, map[int64]int{1: 1, 2: 1}, rec.deliveredCounts())
		require.Equal(t, []delivery{{Attempt: 1, Final: false}}, rec.delivered(1))
		require.Equal(t, 1, rec.firedCount(kept))
		require.Zero(t, rec.firedCount(lost))
		require.Equal(t, Stats{Completed: 3}, stats(t, q))
		n, err := b.handled(ctx)
		require.NoError(t, err)
		require.Equal(t, 3, n, "the handler's writes through the store's pool")
	})
}

// The same timer (case, kind, ref, at) enqueued again is one job, while it
// waits and after it ran.
func TestTimerUnique(t *testing.T) {
	t.Parallel()

	forEachBackend(t, func(t *testing.T, b *backend) {
		ctx := t.Context()
		clk := newFakeClock()
		rec := newRecorder(b)
		cfg := testConfig(t, rec)
		cfg.NowFunc = clk.Now
		q := b.newQueue(t, cfg)

		at := clk.Now().Add(time.Hour)
		tm := casework.Timer{CaseID: 3, Kind: casework.TimerReturnVisit, At: at, Ref: 2}
		other := tm
		other.Ref = 3
		require.NoError(t, q.insert(ctx, []casework.Job{timerJob(tm), timerJob(tm), timerJob(other)}, true))
		require.NoError(t, q.insert(ctx, []casework.Job{timerJob(tm)}, true))
		require.Equal(t, Stats{Scheduled: 2}, stats(t, q))

		require.NoError(t, q.Start(ctx))
		clk.Advance(2 * time.Hour)
		require.Eventually(t, func() bool { return rec.firedTotal() == 2 }, 20*time.Second, 20*time.Millisecond)
		waitIdle(t, q)
		require.NoError(t, q.insert(ctx, []casework.Job{timerJob(tm)}, true))
		waitIdle(t, q)

		require.Equal(t, 1, rec.firedCount(tm))
		require.Equal(t, 1, rec.firedCount(other))
		require.Equal(t, Stats{Completed: 2}, stats(t, q))
	})
}

// A timer in the future waits for the clock; one in the past runs at once.
func TestTimerWaitsForClock(t *testing.T) {
	t.Parallel()

	forEachBackend(t, func(t *testing.T, b *backend) {
		ctx := t.Context()
		clk := newFakeClock()
		rec := newRecorder(b)
		cfg := testConfig(t, rec)
		cfg.NowFunc = clk.Now
		q := b.newQueue(t, cfg)
		require.NoError(t, q.Start(ctx))

		now := clk.Now()
		late := casework.Timer{CaseID: 1, Kind: casework.TimerOnSiteDeadline, At: now.Add(-time.Minute), Ref: 1}
		later := casework.Timer{CaseID: 2, Kind: casework.TimerOnSiteDeadline, At: now.Add(time.Hour), Ref: 1}
		require.NoError(t, q.insert(ctx, []casework.Job{timerJob(late), timerJob(later)}, true))
		waitIdle(t, q)
		require.Equal(t, 1, rec.firedCount(late))
		require.Never(t, func() bool { return rec.firedCount(later) > 0 }, time.Second, 50*time.Millisecond)
		require.Equal(t, Stats{Scheduled: 1, Completed: 1}, stats(t, q))

		clk.Advance(59 * time.Minute) // not yet
		require.Equal(t, Stats{Scheduled: 1, Completed: 1}, stats(t, q))
		clk.Advance(2 * time.Minute)
		require.Equal(t, Stats{Scheduled: 1, Completed: 1, Due: 1}, stats(t, q))
		require.Eventually(t, func() bool { return rec.firedCount(later) > 0 }, 20*time.Second, 20*time.Millisecond)
		waitIdle(t, q)

		require.Equal(t, 1, rec.firedCount(later))
		require.Equal(t, Stats{Completed: 2}, stats(t, q))
	})
}

// A delivery that fails is retried until it succeeds or runs out of
// attempts; Permanent gives up at once.
func TestDeliverRetries(t *testing.T) {
	t.Parallel()

	forEachBackend(t, func(t *testing.T, b *backend) {
		ctx := t.Context()
		rec := newRecorder(b)
		errDown := errors.New("platform down")
		rec.deliverFunc = func(id int64, attempt int, _ bool) error {
			switch {
			case id == 1 && attempt < 3: // fails twice, then succeeds
				return errDown
			case id == 2: // the user blocked the bot
				return Permanent(errors.New("forbidden"))
			case id == 3: // fails every time
				return errDown
			}
			return nil
		}
		rec.fireFunc = func(_ casework.Timer, attempt int) error {
			if attempt == 1 {
				return errDown
			}
			return nil
		}
		cfg := testConfig(t, rec)
		cfg.DeliverAttempts = 3
		q := b.newQueue(t, cfg)
		require.NoError(t, q.Start(ctx))

		tm := casework.Timer{CaseID: 5, Kind: casework.TimerSurveyExpiry, At: cfg.NowFunc().UTC().Truncate(time.Second)}
		require.NoError(t, q.insert(ctx, []casework.Job{deliverJob(1), deliverJob(2), deliverJob(3), timerJob(tm)}, true))
		waitIdle(t, q)

		three := []delivery{{1, false}, {2, false}, {3, true}}
		require.Equal(t, three, rec.delivered(1))
		require.Equal(t, []delivery{{1, false}}, rec.delivered(2))
		require.Equal(t, three, rec.delivered(3))
		require.Equal(t, 2, rec.firedCount(tm))
		require.Equal(t, Stats{Completed: 2, Cancelled: 1, Discarded: 1}, stats(t, q))
	})
}

// Jobs left by a stopped queue run once on a new queue over the same
// database, and a stopped queue starts again.
func TestRestart(t *testing.T) {
	t.Parallel()

	forEachBackend(t, func(t *testing.T, b *backend) {
		ctx := t.Context()
		clk := newFakeClock()
		rec := newRecorder(b)
		cfg := testConfig(t, rec)
		cfg.NowFunc = clk.Now

		first := b.newQueue(t, cfg)
		require.NoError(t, first.Start(ctx))
		var timers []casework.Job
		for i := range 5 {
			timers = append(timers, timerJob(casework.Timer{
				CaseID: int64(i + 1), Kind: casework.TimerResolveDeadline, At: clk.Now().Add(time.Hour + time.Duration(i)*time.Minute),
			}))
		}
		require.NoError(t, first.insert(ctx, timers, true))
		require.NoError(t, first.Stop(ctx))
		require.NoError(t, first.insert(ctx, []casework.Job{deliverJob(10), deliverJob(11)}, true))
		require.Equal(t, Stats{Available: 2, Scheduled: 5}, stats(t, first))
		require.Zero(t, rec.firedTotal())
		require.Empty(t, rec.deliveredCounts())

		second := b.newQueue(t, cfg)
		clk.Advance(2 * time.Hour)
		require.NoError(t, second.Start(ctx))
		require.Eventually(t, func() bool { return rec.firedTotal() == 5 }, 20*time.Second, 20*time.Millisecond)
		waitIdle(t, second)
		require.Equal(t, map[int64]int{10: 1, 11: 1}, rec.deliveredCounts())
		for _, j := range timers {
			require.Equal(t, 1, rec.firedCount(j.Timer), "case %d", j.Timer.CaseID)
		}

		require.NoError(t, second.Stop(ctx))
		require.NoError(t, second.insert(ctx, []casework.Job{deliverJob(12)}, true))
		require.NoError(t, second.Start(ctx))
		waitIdle(t, second)
		require.Equal(t, map[int64]int{10: 1, 11: 1, 12: 1}, rec.deliveredCounts())
		require.Equal(t, Stats{Completed: 8}, stats(t, second))
	})
}

// Two instances on one PostgreSQL schema share the work; each job runs once.
func TestTwoInstances(t *testing.T) {
	t.Parallel()

	b := openPostgres(t)
	ctx := t.Context()
	rec := newRecorder(b)
	var (
		mu    sync.Mutex
		byApp = map[string]int{}
	)
	clk := testclock.NewRunning(testDate) // the instances' clocks agree
	newInstance := func(name string) *testQueue {
		cfg := testConfig(t, &countingHandler{Handler: rec, count: func() { mu.Lock(); byApp[name]++; mu.Unlock() }})
		cfg.NowFunc = clk.Now
		cfg.DeliverWorkers = 2
		cfg.TimerWorkers = 2
		return b.newQueue(t, cfg)
	}
	one, two := newInstance("one"), newInstance("two")
	require.NoError(t, one.Start(ctx))
	require.NoError(t, two.Start(ctx))

	const n = 150
	past := clk.Now().Add(-time.Second).UTC().Truncate(time.Second)
	for i := range n / 10 {
		q := one
		if i%2 == 1 {
			q = two
		}
		var jobs []casework.Job
		for j := range 10 {
			id := int64(i*10 + j + 1)
			jobs = append(jobs, deliverJob(id), timerJob(casework.Timer{CaseID: id, Kind: casework.TimerTaskDue, At: past}))
		}
		require.NoError(t, q.insert(ctx, jobs, true))
	}
	waitIdle(t, one)

	counts := rec.deliveredCounts()
	require.Len(t, counts, n)
	for id, c := range counts {
		require.Equal(t, 1, c, "outbox %d", id)
	}
	for id := int64(1); id <= n; id++ {
		require.Equal(t, 1, rec.firedCount(casework.Timer{CaseID: id, Kind: casework.TimerTaskDue, At: past}), "case %d", id)
	}
	require.Equal(t, Stats{Completed: 2 * n}, stats(t, two))
	t.Logf("jobs worked by instance: %v", byApp)
}

// countingHandler counts the calls of a Handler.
type countingHandler struct {
	Handler
	count func()
}

func (h *countingHandler) Deliver(ctx context.Context, id int64, attempt int, final bool) error {
	h.count()
	return h.Handler.Deliver(ctx, id, attempt, final)
}

func (h *countingHandler) Fire(ctx context.Context, t casework.Timer) error {
	h.count()
	return h.Handler.Fire(ctx, t)
}

// Store transactions that enqueue and handlers that write run at once over
// the one SQLite connection without a deadlock.
func TestSharedConnection(t *testing.T) {
	t.Parallel()

	forEachBackend(t, func(t *testing.T, b *backend) {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		rec := newRecorder(b)
		q := b.newQueue(t, testConfig(t, rec))
		require.NoError(t, q.Start(ctx))

		const writers, txs = 4, 25
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Go(func() {
				for i := range txs {
					id := int64(w*txs + i + 1)
					if err := q.insert(ctx, []casework.Job{deliverJob(2*id - 1), deliverJob(2 * id)}, true); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.NoError(t, q.WaitIdle(ctx))

		counts := rec.deliveredCounts()
		require.Len(t, counts, 2*writers*txs)
		for id, c := range counts {
			require.Equal(t, 1, c, "outbox %d", id)
		}
		n, err := b.handled(ctx)
		require.NoError(t, err)
		require.Equal(t, 2*writers*txs, n)
	})
}

// Stop waits for the running jobs, which complete and don't run again.
func TestStopWaitsForRunningJobs(t *testing.T) {
	t.Parallel()

	forEachBackend(t, func(t *testing.T, b *backend) {
		ctx := t.Context()
		rec := newRecorder(b)
		started, release := make(chan struct{}), make(chan struct{})
		rec.deliverFunc = func(int64, int, bool) error {
			close(started)
			<-release
			return nil
		}
		q := b.newQueue(t, testConfig(t, rec))
		require.NoError(t, q.Start(ctx))
		require.NoError(t, q.insert(ctx, []casework.Job{deliverJob(1)}, true))
		<-started

		stopped := make(chan error, 1)
		go func() { stopped <- q.Stop(ctx) }()
		select {
		case err := <-stopped:
			t.Fatalf("Stop returned (%v) while a job ran", err)
		case <-time.After(300 * time.Millisecond):
		}
		close(release)
		require.NoError(t, <-stopped)
		require.Equal(t, Stats{Completed: 1}, stats(t, q))
		require.Equal(t, map[int64]int{1: 1}, rec.deliveredCounts())
	})
}

// Instances starting at once migrate one after the other.
func TestMigrateConcurrent(t *testing.T) {
	t.Parallel()

	_, dbURL := pgtest.NewSchema(t)
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		q, err := NewPostgres(pgtest.Open(t, dbURL, 2), Config{Handler: newRecorder(nil), NowFunc: newFakeClock().Now})
		require.NoError(t, err)
		wg.Go(func() { errs <- q.Migrate(t.Context()) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
