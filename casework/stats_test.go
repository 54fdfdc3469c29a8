package casework_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

func TestStatsBuilder(t *testing.T) {
	t.Parallel()
	h := time.Hour
	now := t0.Add(100 * h)
	at := func(d time.Duration) *time.Time { v := t0.Add(d); return &v }
	survey := func(speed, attitude, quality int) *casework.Survey {
		return &casework.Survey{Speed: speed, Attitude: attitude, Quality: quality}
	}
	// c returns a case received at t0 with a response deadline 24h later.
	c := func(mutate func(*casework.Case)) *casework.Case {
		c := &casework.Case{State: casework.StateRegistered, Category: casework.CategoryEngineeringQuality,
			ProjectID: 1, ReceivedAt: t0, RespondBy: at(24 * h)}
		if mutate != nil {
			mutate(c)
		}
		return c
	}
	responded := func(d time.Duration) func(*casework.Case) {
		return func(c *casework.Case) { c.State, c.RespondedAt = casework.StateAccepted, at(d) }
	}
	resolved := func(respond, resolve time.Duration, repairs int) func(*casework.Case) {
		return func(c *casework.Case) {
			c.State, c.RespondedAt, c.ResolvedAt, c.RepairCount = casework.StateClosed, at(respond), at(resolve), repairs
		}
	}

	for _, tt := range []struct {
		name  string
		cases []*casework.Case
		want  casework.Stats // the maps are checked only when set
	}{
		{name: "none"},
		{
			name:  "one open case within its deadline",
			cases: []*casework.Case{c(func(c *casework.Case) { c.RespondBy = at(200 * h) })},
			want: casework.Stats{Total: 1,
				ByState: map[casework.State]int{casework.StateRegistered: 1}, ByCategory: map[casework.Category]int{casework.CategoryEngineeringQuality: 1},
				ByProject: map[int64]int{1: 1}, ByParty: map[int64]int{0: 1}},
		},
		{
			name:  "an open case past its deadline breaches",
			cases: []*casework.Case{c(nil), c(func(c *casework.Case) { c.RespondBy = at(200 * h) })},
			want:  casework.Stats{Total: 2, BreachRate: 0.5},
		},
		{
			name:  "a late response breaches; an odd count's median is the middle",
			cases: []*casework.Case{c(responded(h)), c(responded(2 * h)), c(responded(30 * h))},
			want:  casework.Stats{Total: 3, MedianResponse: 2 * h, BreachRate: 1.0 / 3},
		},
		{
			name:  "an even count's median is the mean of the middle two",
			cases: []*casework.Case{c(responded(h)), c(responded(2 * h)), c(responded(5 * h)), c(responded(20 * h))},
			want:  casework.Stats{Total: 4, MedianResponse: 3*h + 30*time.Minute},
		},
		{
			name: "resolutions and repeat repairs",
			cases: []*casework.Case{
				c(resolved(h, 10*h, 0)), c(resolved(h, 20*h, 1)),
				c(func(c *casework.Case) { c.State, c.RespondedAt, c.RepairCount = casework.StateInProgress, at(h), 1 }),
				c(responded(h)),
			},
			want: casework.Stats{Total: 4, MedianResponse: h, MedianResolution: 15 * h, RepeatRepairRate: 2.0 / 3},
		},
		{
			name: "satisfaction is the share of 4 and 5 among every score",
			cases: []*casework.Case{
				c(func(c *casework.Case) { resolved(h, 2*h, 0)(c); c.Survey = survey(5, 4, 3) }),
				c(func(c *casework.Case) { resolved(h, 2*h, 0)(c); c.Survey = survey(1, 2, 5) }),
				c(resolved(h, 2*h, 0)),
			},
			want: casework.Stats{Total: 3, MedianResponse: h, MedianResolution: 2 * h, Surveys: 2, Satisfaction: 0.5},
		},
		{
			name: "counts by state, category, project and party",
			cases: []*casework.Case{
				c(func(c *casework.Case) { c.RespondBy, c.PartyID = nil, 3 }),
				c(func(c *casework.Case) { c.RespondBy, c.PartyID, c.ProjectID = nil, 3, 2 }),
				c(func(c *casework.Case) {
					c.RespondBy, c.State, c.Category = nil, casework.StateRejected, casework.CategoryPolicyConsultation
				}),
			},
			want: casework.Stats{Total: 3,
				ByState:    map[casework.State]int{casework.StateRegistered: 2, casework.StateRejected: 1},
				ByCategory: map[casework.Category]int{casework.CategoryEngineeringQuality: 2, casework.CategoryPolicyConsultation: 1},
				ByProject:  map[int64]int{1: 2, 2: 1}, ByParty: map[int64]int{3: 2, 0: 1}},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := casework.NewStatsBuilder(now)
			for _, c := range tt.cases {
				b.Add(c)
			}
			got := b.Stats()
			require.NotNil(t, got.ByState)
			require.NotNil(t, got.ByCategory)
			require.NotNil(t, got.ByProject)
			require.NotNil(t, got.ByParty)
			if tt.want.ByState != nil {
				assert.Equal(t, tt.want.ByState, got.ByState)
				assert.Equal(t, tt.want.ByCategory, got.ByCategory)
				assert.Equal(t, tt.want.ByProject, got.ByProject)
				assert.Equal(t, tt.want.ByParty, got.ByParty)
			}
			assert.Equal(t, tt.want.Total, got.Total)
			assert.Equal(t, tt.want.MedianResponse, got.MedianResponse)
			assert.Equal(t, tt.want.MedianResolution, got.MedianResolution)
			assert.InDelta(t, tt.want.BreachRate, got.BreachRate, 1e-9)
			assert.InDelta(t, tt.want.Satisfaction, got.Satisfaction, 1e-9)
			assert.Equal(t, tt.want.Surveys, got.Surveys)
			assert.InDelta(t, tt.want.RepeatRepairRate, got.RepeatRepairRate, 1e-9)
		})
	}
}

func TestStatsBuilderStatsSharesNothing(t *testing.T) {
	t.Parallel()
	b := casework.NewStatsBuilder(t0)
	b.Add(&casework.Case{State: casework.StateRegistered, ReceivedAt: t0})
	first := b.Stats()
	b.Add(&casework.Case{State: casework.StateRegistered, ReceivedAt: t0})
	second := b.Stats()
	assert.Equal(t, 1, first.ByState[casework.StateRegistered])
	assert.Equal(t, 2, second.ByState[casework.StateRegistered])
}
