package storagetest

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/benchtest"
)

// benchWriters is how many goroutines write at once in CreateCase/writers=8.
const benchWriters = 8

// benchCases is how many cases the lookup benchmarks search.
const benchCases = 10_000

// Bench measures a backend with the operations the department's load is made
// of. open returns a fresh, migrated, empty store, as Harness.Open does.
//
//   - CreateCase/writers=8: 8 goroutines register cases at once, each with its
//     event; reports cases/s.
//   - FindCaseByNumber: lookups by case number among 10,000 cases; reports
//     the 50th and 99th percentile of a lookup's duration in µs.
//   - FindCases/overdue: the first page of the overdue list over the same
//     cases, with its total.
//   - CaseStats: the statistics of the same cases, when the store is a
//     casework.LifecycleStore.
func Bench(b *testing.B, open func(b testing.TB) casework.Store) {
	b.Run(fmt.Sprintf("CreateCase/writers=%d", benchWriters), func(b *testing.B) {
		benchCreateCase(b, open(b))
	})

	s := open(b)
	f := newFixture(b, s)
	numbers := seedCases(b, f, benchCases)

	b.Run("FindCaseByNumber", func(b *testing.B) {
		durations := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			n := numbers[(i*7919)%len(numbers)]
			start := time.Now()
			c, err := s.FindCaseByNumber(b.Context(), n)
			durations = append(durations, time.Since(start))
			if err != nil || c.Number != n {
				b.Fatalf("FindCaseByNumber(%s): %v", n, err)
			}
		}
		b.StopTimer()
		reportPercentiles(b, durations)
	})

	b.Run("FindCases/overdue", func(b *testing.B) {
		now := at(20 * 24 * time.Hour)
		filter := casework.CaseFilter{OverdueAt: &now, Limit: 50}
		durations := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			start := time.Now()
			cs, total, err := s.FindCases(b.Context(), filter)
			durations = append(durations, time.Since(start))
			if err != nil || len(cs) == 0 || total < len(cs) {
				b.Fatalf("FindCases: %d of %d: %v", len(cs), total, err)
			}
		}
		b.StopTimer()
		reportPercentiles(b, durations)
	})

	ls, ok := s.(casework.LifecycleStore)
	if !ok {
		return
	}
	b.Run("CaseStats", func(b *testing.B) {
		now := at(20 * 24 * time.Hour)
		durations := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			start := time.Now()
			st, err := ls.CaseStats(b.Context(), time.Time{}, time.Time{}, now)
			durations = append(durations, time.Since(start))
			if err != nil || st.Total != benchCases {
				b.Fatalf("CaseStats: %v, %v", st, err)
			}
		}
		b.StopTimer()
		reportPercentiles(b, durations)
	})
}

func benchCreateCase(b *testing.B, s casework.Store) {
	f := newFixture(b, s)
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((benchWriters + procs - 1) / procs) // ⌈8/GOMAXPROCS⌉ goroutines per P
	var seq atomic.Int64
	policy := casework.DefaultSLAPolicy()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c := f.newCase(at(time.Duration(seq.Add(1)) * time.Second))
			policy.SetDeadlines(c)
			if err := s.CreateCase(b.Context(), c); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cases/s")
}

// seedCases registers n cases spread over 30 days, with the default
// deadlines, from several writers at once, and returns their numbers.
func seedCases(b *testing.B, f *fixture, n int) []string {
	b.Helper()
	policy := casework.DefaultSLAPolicy()
	urgencies := casework.Urgencies
	numbers := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	for range benchWriters {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || failed.Load() != nil {
					return
				}
				c := f.newCase(at(time.Duration(i) * (30 * 24 * time.Hour / time.Duration(n))))
				c.Urgency = urgencies[i%len(urgencies)]
				if i%5 == 0 {
					c.UnitID, c.OwnerID, c.BuildingID = f.unit2.ID, f.owner2.ID, f.building2.ID
				}
				policy.SetDeadlines(c)
				if err := f.store.CreateCase(f.ctx, c); err != nil {
					failed.Store(err)
					return
				}
				numbers[i] = c.Number
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatalf("seeding %d cases: %v", n, err)
	}
	return numbers
}

// reportPercentiles reports the 50th and 99th percentile of durations in µs.
func reportPercentiles(b *testing.B, durations []time.Duration) {
	benchtest.ReportPercentiles(b, durations, 0.50, 0.99)
}
