package lifecycle_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/l10n"
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

// TestOtherSlotsNamesATime: an owner who answers "none suit me" with a time
// ("明天晚上7点半") gives the engineer a button that offers it, and the
// timeline says how it was read; a time already past is refused to the
// owner and nothing is sent; words that name no time go on as they are.
func TestOtherSlotsNamesATime(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // t0 is 10:00 in China
	f := e.dispatched(t, nil).to(t, casework.StateScheduled)
	ctx, n := t.Context(), f.c.Number
	cn := casework.ChinaTime()

	before := len(byPurpose(e.outbox(t, f.c.ID), "appointment"))
	require.ErrorIs(t, e.svc.OtherSlots(ctx, f.owner, n, "今天早上8点"), when.ErrPast)
	require.Len(t, byPurpose(e.outbox(t, f.c.ID), "appointment"), before, "nothing sent")

	require.NoError(t, e.svc.OtherSlots(ctx, f.owner, n, "明天晚上7点半"))
	sent := byPurpose(e.outbox(t, f.c.ID), "appointment")
	require.Len(t, sent, before+1)
	at := t0.In(cn).Add(24*time.Hour + 9*time.Hour + 30*time.Minute)
	choices := sent[len(sent)-1].Messages[0].Choices
	require.Len(t, choices, 2)
	assert.Equal(t, lifecycle.Payload(lifecycle.ActSlots, n, strconv.FormatInt(at.Unix(), 10)), choices[0].Payload)
	assert.Equal(t, "提供业主提议的 "+e.svc.SlotLabel(l10n.Chinese, at), choices[0].Label)
	assert.Contains(t, e.lastEvent(t, f.c.ID).Note, "(read as "+at.Format("01-02 15:04")+")")

	require.NoError(t, e.svc.OtherSlots(ctx, f.owner, n, "工作日晚上7点后"))
	sent = byPurpose(e.outbox(t, f.c.ID), "appointment")
	assert.Equal(t, []bot.Choice{{Label: lifecycle.T(l10n.Chinese, "btn.slots"), Payload: lifecycle.Payload(lifecycle.ActSlots, n)}}, sent[len(sent)-1].Messages[0].Choices)
}
