package lifecycle_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/lifecycle"
	"github.com/aftersales/aftersales/when"
)

// TestCandidateSlots: before 17:00 the engineer's buttons start with this
// evening at 19:00, so that an urgent case gets a same-day offer; later in
// the day they start tomorrow morning.
func TestCandidateSlots(t *testing.T) {
	t.Parallel()
	cn := casework.ChinaTime()
	at := func(day, hour int) time.Time { return testclock.Date(2026, 3, day, hour, 0, 0, 0, cn) }
	for _, tc := range []struct {
		name string
		now  time.Time
		want []time.Time
	}{
		{"morning", at(10, 10), []time.Time{at(10, 19), at(11, 9), at(11, 14), at(12, 9), at(12, 14), at(13, 9), at(13, 14)}},
		{"16:59", at(10, 16).Add(59 * time.Minute), []time.Time{at(10, 19), at(11, 9), at(11, 14), at(12, 9), at(12, 14), at(13, 9), at(13, 14)}},
		{"17:00", at(10, 17), []time.Time{at(11, 9), at(11, 14), at(12, 9), at(12, 14), at(13, 9), at(13, 14)}},
		{"late at night", at(10, 23), []time.Time{at(11, 9), at(11, 14), at(12, 9), at(12, 14), at(13, 9), at(13, 14)}},
	} {
		clock := testclock.New(tc.now)
		svc := lifecycle.New(lifecycle.Config{NowFunc: clock.Now})
		assert.Equal(t, tc.want, svc.CandidateSlots(), tc.name)
	}
}

// TestReadSlot: a typed time is read in the department's zone; words that
// name none and a past time are refused, each with its own error; a time
// after the on-site deadline comes back with the deadline, and offered, is
// noted on the timeline as the engineer's choice.
func TestReadSlot(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // t0 is 10:00 in China
	f := e.dispatched(t, nil)
	ctx, n := t.Context(), f.c.Number
	cn := casework.ChinaTime()
	_, err := e.svc.TakeOrder(ctx, f.engineer, n)
	require.NoError(t, err)
	require.NotNil(t, f.c.OnSiteBy)
	deadline := *f.c.OnSiteBy

	got, late, err := e.svc.ReadSlot(ctx, f.engineer, n, "今晚8点")
	require.NoError(t, err)
	assert.Equal(t, t0.In(cn).Add(10*time.Hour), got.In(cn))
	assert.Nil(t, late)

	_, _, err = e.svc.ReadSlot(ctx, f.engineer, n, "明天")
	require.ErrorIs(t, err, when.ErrUnreadable)
	got, _, err = e.svc.ReadSlot(ctx, f.engineer, n, "today 8am")
	require.ErrorIs(t, err, when.ErrPast)
	assert.Equal(t, t0.Add(-2*time.Hour).In(cn), got)

	_, _, err = e.svc.ReadSlot(ctx, f.owner, n, "今晚8点")
	require.ErrorIs(t, err, lifecycle.ErrNotBound, "the owner does not offer times")

	after := deadline.In(cn).AddDate(0, 0, 1)
	got, late, err = e.svc.ReadSlot(ctx, f.engineer, n, after.Format("01-02 15:04"))
	require.NoError(t, err)
	assert.Equal(t, after, got)
	require.NotNil(t, late)
	assert.Equal(t, deadline, *late)

	require.NoError(t, e.svc.ProposeSlots(ctx, f.engineer, n, []time.Time{t0.Add(10 * time.Hour), got}))
	note := e.lastEvent(t, f.c.ID).Note
	assert.Contains(t, note, after.Format("01-02 15:04")+" is after the on-site deadline "+deadline.In(cn).Format("01-02 15:04")+", the engineer's choice")
	assert.NotContains(t, note, t0.In(cn).Add(10*time.Hour).Format("01-02 15:04"), "a time before the deadline is not noted")
}
