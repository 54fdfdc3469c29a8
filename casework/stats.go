package casework

import (
	"maps"
	"slices"
	"time"
)

// StatsBuilder computes Stats case by case, so that a store reads the cases
// of a period in one pass and keeps only its SQL and scanning: breaches are
// Case.Breaches itself, medians are taken of every value (of an even count,
// the mean of the middle two). The zero value is not usable: call
// NewStatsBuilder.
type StatsBuilder struct {
	now                     time.Time
	s                       Stats
	responses, resolutions  []time.Duration
	breached                int
	goodScores              int
	repaired, repeatRepairs int
}

// NewStatsBuilder returns a builder of the figures as seen at now.
func NewStatsBuilder(now time.Time) *StatsBuilder {
	return &StatsBuilder{now: now, s: Stats{
		ByState: map[State]int{}, ByCategory: map[Category]int{},
		ByProject: map[int64]int{}, ByParty: map[int64]int{},
	}}
}

// Add counts c. Of c it reads only its state, category, project, party,
// repair count, receipt, deadlines, the moments they were met and its
// survey's scores, so a store need scan only those; it keeps nothing of c.
func (b *StatsBuilder) Add(c *Case) {
	b.s.Total++
	b.s.ByState[c.State]++
	b.s.ByCategory[c.Category]++
	b.s.ByProject[c.ProjectID]++
	b.s.ByParty[c.PartyID]++
	if c.RespondedAt != nil {
		b.responses = append(b.responses, c.RespondedAt.Sub(c.ReceivedAt))
	}
	if c.ResolvedAt != nil {
		b.resolutions = append(b.resolutions, c.ResolvedAt.Sub(c.ReceivedAt))
	}
	if len(c.Breaches(b.now)) > 0 {
		b.breached++
	}
	if s := c.Survey; s != nil {
		b.s.Surveys++
		for _, v := range []int{s.Speed, s.Attitude, s.Quality} {
			if v >= 4 {
				b.goodScores++
			}
		}
	}
	if c.ResolvedAt != nil || c.RepairCount > 0 {
		b.repaired++
		if c.RepairCount > 0 {
			b.repeatRepairs++
		}
	}
}

// Stats returns the figures of the cases added so far, sharing nothing with
// b; a share of nothing is 0, and so is the median of nothing.
func (b *StatsBuilder) Stats() *Stats {
	share := func(n, of int) float64 {
		if of == 0 {
			return 0
		}
		return float64(n) / float64(of)
	}
	s := b.s
	s.ByState, s.ByCategory, s.ByProject, s.ByParty = maps.Clone(s.ByState), maps.Clone(s.ByCategory), maps.Clone(s.ByProject), maps.Clone(s.ByParty)
	s.MedianResponse = median(b.responses)
	s.MedianResolution = median(b.resolutions)
	s.BreachRate = share(b.breached, s.Total)
	s.Satisfaction = share(b.goodScores, 3*s.Surveys)
	s.RepeatRepairRate = share(b.repeatRepairs, b.repaired)
	return &s
}

// median returns the median of ds: the middle value, or the mean of the
// middle two; 0 for none. ds is left as it is.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	ds = slices.Sorted(slices.Values(ds))
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2]
	}
	return ds[n/2-1] + (ds[n/2]-ds[n/2-1])/2
}
