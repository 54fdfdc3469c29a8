package casework_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

var t0 = time.Date(2026, 11, 27, 23, 0, 0, 0, casework.ChinaTime())

func TestDefaultSLAPolicyDeadlines(t *testing.T) {
	t.Parallel()
	p := casework.DefaultSLAPolicy()
	require.NoError(t, p.Validate())
	h := time.Hour
	for _, tt := range []struct {
		u                        casework.Urgency
		c                        casework.Category
		respond, onSite, resolve time.Duration
	}{
		{casework.UrgencyUrgent, casework.CategoryEngineeringQuality, h, 4 * h, 24 * h},
		{casework.UrgencyNormal, casework.CategoryEngineeringQuality, 24 * h, 72 * h, 15 * 24 * h},
		{casework.UrgencyNormal, casework.CategoryFacilitiesEquipment, 24 * h, 72 * h, 15 * 24 * h},
		{casework.UrgencyMajorComplaint, casework.CategoryServiceAttitude, 24 * h, 0, 7 * 24 * h},
		{casework.UrgencyNormal, casework.CategoryPolicyConsultation, 24 * h, 0, 7 * 24 * h},
	} {
		dl := p.Deadlines(tt.u, tt.c, t0)
		check := func(name string, got *time.Time, want time.Duration) {
			if want == 0 {
				assert.Nil(t, got, "%s/%s %s", tt.u, tt.c, name)
				return
			}
			require.NotNil(t, got, "%s/%s %s", tt.u, tt.c, name)
			assert.Equal(t, t0.Add(want), *got, "%s/%s %s", tt.u, tt.c, name)
		}
		check("respond", dl.RespondBy, tt.respond)
		check("on site", dl.OnSiteBy, tt.onSite)
		check("resolve", dl.ResolveBy, tt.resolve)
	}
}

func TestSLAPolicyCategorySpecificWins(t *testing.T) {
	t.Parallel()
	p := casework.SLAPolicy{Rules: []casework.SLARule{
		{Urgency: casework.UrgencyNormal, Target: casework.SLATarget{Respond: time.Hour}},
		{Urgency: casework.UrgencyNormal, Category: casework.CategoryDesignDefect, Target: casework.SLATarget{Respond: 2 * time.Hour}},
	}}
	got, ok := p.Target(casework.UrgencyNormal, casework.CategoryDesignDefect)
	require.True(t, ok)
	assert.Equal(t, 2*time.Hour, got.Respond)
	got, ok = p.Target(casework.UrgencyNormal, casework.CategoryOther)
	require.True(t, ok)
	assert.Equal(t, time.Hour, got.Respond)
	_, ok = p.Target(casework.UrgencyUrgent, casework.CategoryOther)
	assert.False(t, ok)
	assert.Equal(t, casework.Deadlines{}, p.Deadlines(casework.UrgencyUrgent, casework.CategoryOther, t0))

	bad := casework.SLAPolicy{Rules: []casework.SLARule{{Urgency: "asap"}}}
	assert.ErrorIs(t, bad.Validate(), casework.ErrInvalid)
}

func TestOverdueAndBreaches(t *testing.T) {
	t.Parallel()
	p := casework.DefaultSLAPolicy()
	mk := func(u casework.Urgency, s casework.State) *casework.Case {
		c := &casework.Case{Urgency: u, Category: casework.CategoryEngineeringQuality, ReceivedAt: t0, State: s}
		p.SetDeadlines(c)
		return c
	}
	at := func(d time.Duration) *time.Time { v := t0.Add(d); return &v }

	c := mk(casework.UrgencyUrgent, casework.StateRegistered)
	assert.False(t, c.Overdue(t0.Add(59*time.Minute)))
	assert.True(t, c.Overdue(t0.Add(61*time.Minute)), "not responded within an hour")
	assert.Equal(t, []casework.Breach{casework.BreachRespond}, c.Breaches(t0.Add(61*time.Minute)))

	c.State, c.RespondedAt = casework.StateAccepted, at(30*time.Minute)
	assert.False(t, c.Overdue(t0.Add(3*time.Hour)))
	assert.True(t, c.Overdue(t0.Add(5*time.Hour)), "not on site within 4 hours")

	c.State, c.OnSiteAt = casework.StateInspected, at(5*time.Hour)
	assert.False(t, c.Overdue(t0.Add(6*time.Hour)), "late on site, now on time for the rest")
	assert.Equal(t, []casework.Breach{casework.BreachOnSite}, c.Breaches(t0.Add(6*time.Hour)))
	assert.True(t, c.Overdue(t0.Add(25*time.Hour)), "not under control within 24 hours")

	c.State, c.ResolvedAt = casework.StateDone, at(26*time.Hour)
	assert.False(t, c.Overdue(t0.Add(100*time.Hour)), "resolved: waiting for the owner is not late")
	assert.Equal(t, []casework.Breach{casework.BreachOnSite, casework.BreachResolve}, c.Breaches(t0.Add(100*time.Hour)))

	held := mk(casework.UrgencyNormal, casework.StateOnHold)
	assert.False(t, held.Overdue(t0.Add(30*24*time.Hour)))
	closed := mk(casework.UrgencyNormal, casework.StateCancelled)
	assert.False(t, closed.Overdue(t0.Add(30*24*time.Hour)))
	assert.Empty(t, closed.Breaches(t0.Add(30*24*time.Hour)))
	rejected := mk(casework.UrgencyNormal, casework.StateRejected)
	assert.False(t, rejected.Overdue(t0.Add(30*24*time.Hour)))
}

func TestNumbering(t *testing.T) {
	t.Parallel()
	n := casework.DefaultNumbering()
	// 23:00 in Shanghai on 27 November is 15:00 UTC: the day is the 27th.
	key := n.Day(t0.UTC())
	assert.Equal(t, "SH-20261127", key)
	assert.Equal(t, "SH-20261128", n.Day(t0.Add(time.Hour)))
	assert.Equal(t, "SH-20261127-0042", n.Format(key, 42))
	assert.Equal(t, "SH-20261127-12345", n.Format(key, 12345))
}

func TestNextDeadline(t *testing.T) {
	t.Parallel()
	p := casework.DefaultSLAPolicy()
	c := &casework.Case{Urgency: casework.UrgencyUrgent, Category: casework.CategoryEngineeringQuality, ReceivedAt: t0, State: casework.StateRegistered}
	p.SetDeadlines(c)
	at := func(d time.Duration) *time.Time { v := t0.Add(d); return &v }

	assert.Equal(t, at(time.Hour), c.NextDeadline(), "the response first")
	c.State, c.RespondedAt = casework.StateAccepted, at(10*time.Minute)
	assert.Equal(t, at(4*time.Hour), c.NextDeadline(), "then being on site")
	c.OnSiteBy = at(30 * time.Hour)
	assert.Equal(t, at(24*time.Hour), c.NextDeadline(), "the soonest unmet step, whichever it is")
	c.State = casework.StateOnHold
	assert.Nil(t, c.NextDeadline(), "on hold: the clocks wait")
	c.State, c.ResolvedAt = casework.StateDone, at(20*time.Hour)
	assert.Nil(t, c.NextDeadline(), "resolved: nothing left to meet")
	c.ResolvedAt, c.State = nil, casework.StateCancelled
	assert.Nil(t, c.NextDeadline())
}

// TestPausedDeadlines: the clocks stand still while a case is on hold; a
// deadline still running when it was held moves later by the time held, a
// met or already missed one stays.
func TestPausedDeadlines(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
	at := func(h int) *time.Time { v := t0.Add(time.Duration(h) * time.Hour); return &v }
	held := *at(10)
	paused := 50 * time.Hour
	for _, tc := range []struct {
		name string
		c    casework.Case
		want casework.Deadlines
	}{
		{"every step still to meet", casework.Case{RespondBy: at(24), OnSiteBy: at(72), ResolveBy: at(360)},
			casework.Deadlines{RespondBy: at(74), OnSiteBy: at(122), ResolveBy: at(410)}},
		{"response met", casework.Case{RespondBy: at(24), RespondedAt: at(1), OnSiteBy: at(72), ResolveBy: at(360)},
			casework.Deadlines{RespondBy: at(24), OnSiteBy: at(122), ResolveBy: at(410)}},
		{"on site met, resolution still running", casework.Case{RespondBy: at(24), RespondedAt: at(1), OnSiteBy: at(72), OnSiteAt: at(9), ResolveBy: at(360)},
			casework.Deadlines{RespondBy: at(24), OnSiteBy: at(72), ResolveBy: at(410)}},
		{"response missed before the hold", casework.Case{RespondBy: at(5), OnSiteBy: at(72), ResolveBy: at(360)},
			casework.Deadlines{RespondBy: at(5), OnSiteBy: at(122), ResolveBy: at(410)}},
		{"a step without a deadline", casework.Case{RespondBy: at(24), ResolveBy: at(168)},
			casework.Deadlines{RespondBy: at(74), ResolveBy: at(218)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before := tc.c
			got := tc.c.PausedDeadlines(held, paused)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, before, tc.c, "the case is left as it is")
			assert.Equal(t, before.Deadlines(), tc.c.Deadlines())
		})
	}
	c := casework.Case{RespondBy: at(24)}
	assert.Equal(t, casework.Deadlines{RespondBy: at(24)}, c.PausedDeadlines(held, 0), "no time held, nothing moves")
}
