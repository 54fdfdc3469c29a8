package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

// Benchmark sizes: dueScheduled timers wait, dueBatch of them become due
// per op, and as many are added at the end, so that the count stays the
// same.
const (
	dueScheduled = 10_000
	dueBatch     = 100
)

// BenchmarkDueWork measures finding the due timers among 10,000 scheduled
// ones, per 100 made due by the fake clock:
//
//   - handled: from moving the clock until the handler has fired all 100,
//     through River's scheduler (which runs every 5 s on the leader, so
//     this is mostly waiting for its tick) and workers;
//   - schedule_fetch: the database work alone, as River does it: the
//     scheduler's query making the due jobs available, and a producer's
//     query locking them for work.
func BenchmarkDueWork(b *testing.B) {
	for _, db := range []struct {
		name string
		open func(testing.TB) *backend
	}{{"sqlite", openSQLite}, {"postgres", openPostgres}} {
		b.Run(db.name, func(b *testing.B) {
			b.Run("handled", func(b *testing.B) { benchHandled(b, db.open(b)) })
			b.Run("schedule_fetch", func(b *testing.B) { benchScheduleFetch(b, db.open(b)) })
		})
	}
}

// dueTimers is a row of timers one second apart from start: the i-th is
// due when the clock passes start+i s.
type dueTimers struct {
	start time.Time
	next  int // the index of the next timer to add
}

// add enqueues the next n timers, in transactions of 1,000.
func (d *dueTimers) add(tb testing.TB, q *testQueue, n int) {
	tb.Helper()
	for n > 0 {
		batch := make([]casework.Job, 0, min(n, 1000))
		for range cap(batch) {
			batch = append(batch, timerJob(casework.Timer{
				CaseID: int64(d.next + 1), Kind: casework.TimerTaskDue, At: d.start.Add(time.Duration(d.next) * time.Second),
			}))
			d.next++
		}
		require.NoError(tb, q.insert(context.Background(), batch, true))
		n -= len(batch)
	}
}

// dueAfter returns the time when op k (from 0) has made its batch due.
func (d *dueTimers) dueAfter(k int) time.Time {
	return d.start.Add(time.Duration((k+1)*dueBatch)*time.Second - time.Second/2)
}

func benchHandled(b *testing.B, be *backend) {
	clk := newFakeClock()
	rec := newRecorder(be)
	cfg := testConfig(b, rec)
	cfg.Logger = nil
	cfg.NowFunc = clk.Now
	cfg.TimerWorkers = 10
	q := be.newQueue(b, cfg)
	timers := &dueTimers{start: clk.Now().Add(time.Hour)}
	timers.add(b, q, dueScheduled)
	require.NoError(b, q.Start(b.Context()))
	require.Equal(b, dueScheduled, stats(b, q).Scheduled)

	b.ResetTimer()
	for k := range b.N {
		clk.Set(timers.dueAfter(k))
		want := (k + 1) * dueBatch
		for rec.firedTotal() < want {
			time.Sleep(time.Millisecond)
		}
		b.StopTimer()
		timers.add(b, q, dueBatch)
		b.StartTimer()
	}
	b.StopTimer()
	require.Equal(b, b.N*dueBatch, rec.firedTotal())
}

func benchScheduleFetch(b *testing.B, be *backend) {
	clk := newFakeClock()
	cfg := testConfig(b, newRecorder(be))
	cfg.Logger = nil
	q := be.newQueue(b, cfg) // never started: the benchmark runs its queries
	timers := &dueTimers{start: clk.Now().Add(time.Hour)}
	timers.add(b, q, dueScheduled)
	ctx := b.Context()

	var inSchedule, inFetch time.Duration
	b.ResetTimer()
	for k := range b.N {
		now := timers.dueAfter(k)
		start := time.Now()
		scheduled, err := q.exec.JobSchedule(ctx, &riverdriver.JobScheduleParams{Max: 10_000, Now: &now})
		require.NoError(b, err)
		fetch := time.Now()
		got, err := q.exec.JobGetAvailable(ctx, &riverdriver.JobGetAvailableParams{
			ClientID: "bench", MaxAttemptedBy: 100, MaxToLock: dueBatch, Now: &now, Queue: QueueTimers,
		})
		require.NoError(b, err)
		inSchedule += fetch.Sub(start)
		inFetch += time.Since(fetch)
		b.StopTimer()
		require.Len(b, scheduled, dueBatch)
		require.Len(b, got.Jobs, dueBatch)
		timers.add(b, q, dueBatch)
		b.StartTimer()
	}
	b.ReportMetric(float64(inSchedule.Nanoseconds())/float64(b.N), "schedule-ns/op")
	b.ReportMetric(float64(inFetch.Nanoseconds())/float64(b.N), "fetch-ns/op")
}
