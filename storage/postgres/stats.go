package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/aftersales/aftersales/casework"
)

// CaseStats computes the department's figures over the cases received in
// [from, to) (zero times: unbounded), as seen at now. It reads the columns
// the figures need of every such case in one pass of one query; breaches are
// casework.(*Case).Breaches itself, and medians are taken in Go as in
// storage/sqlite: of an even count, the mean of the middle two.
func (db *DB) CaseStats(ctx context.Context, from, to, now time.Time) (*casework.Stats, error) {
	var w where
	if !from.IsZero() {
		w.add("received_at >= ?", from)
	}
	if !to.IsZero() {
		w.add("received_at < ?", to)
	}
	rows, err := db.pool.Query(ctx, `SELECT state, category, project_id, coalesce(party_id, 0), repair_count, received_at,
		respond_by, on_site_by, resolve_by, responded_at, on_site_at, resolved_at,
		survey_speed, survey_attitude, survey_quality
		FROM cases`+w.sql(), w.args...)
	if err != nil {
		return nil, dbErr("postgres: case statistics", err)
	}
	defer rows.Close()
	acc := newStatsAcc(now)
	var c casework.Case
	var speed, attitude, quality *int
	_, err = pgx.ForEachRow(rows, []any{&c.State, &c.Category, &c.ProjectID, &c.PartyID, &c.RepairCount, &c.ReceivedAt,
		&c.RespondBy, &c.OnSiteBy, &c.ResolveBy, &c.RespondedAt, &c.OnSiteAt, &c.ResolvedAt,
		&speed, &attitude, &quality}, func() error {
		c.Survey = nil
		if speed != nil && attitude != nil && quality != nil {
			c.Survey = &casework.Survey{Speed: *speed, Attitude: *attitude, Quality: *quality}
		}
		acc.add(&c)
		return nil
	})
	if err != nil {
		return nil, dbErr("postgres: case statistics", fmt.Errorf("read cases: %w", err))
	}
	return acc.stats(), nil
}

// statsAcc accumulates casework.Stats case by case.
type statsAcc struct {
	now                     time.Time
	s                       casework.Stats
	responses, resolutions  []time.Duration
	breached                int
	goodScores              int
	repaired, repeatRepairs int
}

func newStatsAcc(now time.Time) *statsAcc {
	return &statsAcc{now: now, s: casework.Stats{
		ByState: map[casework.State]int{}, ByCategory: map[casework.Category]int{},
		ByProject: map[int64]int{}, ByParty: map[int64]int{},
	}}
}

// add counts c, which carries its state, category, project, party, repair
// count, receipt, deadlines, the moments they were met and its survey.
func (a *statsAcc) add(c *casework.Case) {
	a.s.Total++
	a.s.ByState[c.State]++
	a.s.ByCategory[c.Category]++
	a.s.ByProject[c.ProjectID]++
	a.s.ByParty[c.PartyID]++
	if c.RespondedAt != nil {
		a.responses = append(a.responses, c.RespondedAt.Sub(c.ReceivedAt))
	}
	if c.ResolvedAt != nil {
		a.resolutions = append(a.resolutions, c.ResolvedAt.Sub(c.ReceivedAt))
	}
	if len(c.Breaches(a.now)) > 0 {
		a.breached++
	}
	if s := c.Survey; s != nil {
		a.s.Surveys++
		for _, v := range []int{s.Speed, s.Attitude, s.Quality} {
			if v >= 4 {
				a.goodScores++
			}
		}
	}
	if c.ResolvedAt != nil || c.RepairCount > 0 {
		a.repaired++
		if c.RepairCount > 0 {
			a.repeatRepairs++
		}
	}
}

// stats returns the figures; a share of nothing is 0.
func (a *statsAcc) stats() *casework.Stats {
	share := func(n, of int) float64 {
		if of == 0 {
			return 0
		}
		return float64(n) / float64(of)
	}
	s := a.s
	s.MedianResponse = median(a.responses)
	s.MedianResolution = median(a.resolutions)
	s.BreachRate = share(a.breached, s.Total)
	s.Satisfaction = share(a.goodScores, 3*s.Surveys)
	s.RepeatRepairRate = share(a.repeatRepairs, a.repaired)
	return &s
}

// median returns the median of ds, sorting it: the middle value, or the mean
// of the middle two; 0 for none.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2]
	}
	return ds[n/2-1] + (ds[n/2]-ds[n/2-1])/2
}
