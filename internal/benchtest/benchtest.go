// Package benchtest helps benchmarks report what a person waits: the
// percentiles of the times each operation took.
package benchtest

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"
)

// ReportPercentiles reports the given percentiles (0.5, 0.95, 0.99) of
// durations, in µs, as "p50-µs", "p95-µs"…; nothing when there are none.
func ReportPercentiles(b *testing.B, durations []time.Duration, percentiles ...float64) {
	if len(durations) == 0 {
		return
	}
	slices.Sort(durations)
	for _, p := range percentiles {
		i := int(math.Ceil(p*float64(len(durations)))) - 1
		b.ReportMetric(float64(durations[max(i, 0)])/float64(time.Microsecond), fmt.Sprintf("p%g-µs", p*100))
	}
}
