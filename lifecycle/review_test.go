package lifecycle_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/lifecycle"
)

// TestOldOrderButtonsAfterReassign: once staff reassign an order within the
// party, the first engineer's old buttons neither take it back nor decline
// it; the new engineer's do.
func TestOldOrderButtonsAfterReassign(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.dispatched(t, nil)
	ctx, n := t.Context(), f.c.Number
	feng := e.bind(t, "冯磊", "eng-feng", "zh")
	_, err := e.svc.Dispatch(ctx, n, casework.Staff("7"), 0, e.member(t, "冯磊").ID)
	require.NoError(t, err)
	before := e.snapshot(t, f.c)

	_, err = e.svc.TakeOrder(ctx, f.engineer, n)
	require.ErrorIs(t, err, lifecycle.ErrForbidden)
	require.ErrorIs(t, e.svc.DeclineOrder(ctx, f.engineer, n, "不是我的活"), lifecycle.ErrForbidden)
	_, err = e.svc.CheckIn(ctx, f.engineer, n)
	require.ErrorIs(t, err, lifecycle.ErrForbidden)
	assert.Equal(t, before, e.snapshot(t, f.c), "nothing written")

	_, err = e.svc.TakeOrder(ctx, feng, n)
	require.NoError(t, err)
	assert.Equal(t, e.member(t, "冯磊").ID, e.reload(t, f.c).AssigneeID)
}

// TestDeclinedOrderBooksNoVisit: times offered, then the order declined:
// the owner's tap on an offered time books nothing, and the order waits
// for staff with no one assigned; a colleague may take it.
func TestDeclinedOrderBooksNoVisit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.dispatched(t, nil)
	ctx, n := t.Context(), f.c.Number
	_, err := e.svc.TakeOrder(ctx, f.engineer, n)
	require.NoError(t, err)
	slots := []time.Time{t0.Add(24 * time.Hour), t0.Add(30 * time.Hour)}
	require.NoError(t, e.svc.ProposeSlots(ctx, f.engineer, n, slots))
	require.NoError(t, e.svc.DeclineOrder(ctx, f.engineer, n, "人手不够"))

	_, err = e.svc.PickSlot(ctx, f.owner, n, slots[0].Unix())
	require.Error(t, err)
	c := e.reload(t, f.c)
	assert.Equal(t, casework.StateDispatched, c.State)
	assert.Zero(t, c.AssigneeID)
	assert.Empty(t, c.ProposedSlots, "the declined engineer's offer is withdrawn")
	assert.Nil(t, c.AppointmentAt)

	feng := e.bind(t, "冯磊", "eng-feng", "zh")
	_, err = e.svc.TakeOrder(ctx, feng, n)
	require.NoError(t, err, "a colleague takes an order that is with no one")
	assert.Equal(t, e.member(t, "冯磊").ID, e.reload(t, f.c).AssigneeID)
}

// TestRevisedPlanNeedsItsOwnAgreement: the agree button of a plan revised
// since agrees to nothing; the new plan's does.
func TestRevisedPlanNeedsItsOwnAgreement(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.dispatched(t, nil).to(t, casework.StatePlanProposed)
	ctx, n := t.Context(), f.c.Number
	require.NotNil(t, f.c.Plan.ProposedAt)
	oldRef := f.c.Plan.ProposedAt
	e.clock.Advance(time.Hour)
	_, err := e.svc.ReportPlan(ctx, f.engineer, n, casework.Plan{Cause: "五金件损坏", Content: "更换合页和密封条", Duration: "1 天"}, nil)
	require.NoError(t, err)
	plans := byPurpose(e.outbox(t, f.c.ID), "plan")
	require.Len(t, plans, 2)
	stale, fresh := plans[0].Messages[0].Choices[0].Payload, plans[1].Messages[0].Choices[0].Payload
	require.NotEqual(t, stale, fresh)

	_, _, staleRef, ok := lifecycle.ParsePayload(stale)
	require.True(t, ok)
	assert.Equal(t, oldRef.Unix(), mustInt(t, staleRef))
	_, err = e.svc.AgreePlan(ctx, f.owner, n, staleRef)
	require.ErrorIs(t, err, lifecycle.ErrPlanChanged)
	_, _, freshRef, _ := lifecycle.ParsePayload(fresh)
	c, err := e.svc.AgreePlan(ctx, f.owner, n, freshRef)
	require.NoError(t, err)
	assert.Equal(t, casework.StatePlanAgreed, c.State)
	assert.Equal(t, "更换合页和密封条", c.Plan.Content)
}

// TestNotFixedGetsNewDeadlines: a repeat repair runs on deadlines of its
// own from the owner's "not fixed", with their timers, and forgets the old
// visit.
func TestNotFixedGetsNewDeadlines(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.dispatched(t, nil).to(t, casework.StateDone)
	e.clock.Advance(20 * 24 * time.Hour) // well past the first deadlines
	now := e.clock.Now()
	c, err := e.svc.NotFixed(t.Context(), f.owner, f.c.Number, "还是关不严")
	require.NoError(t, err)
	assert.Equal(t, casework.StateDispatched, c.State)
	assert.Equal(t, 1, c.RepairCount)
	require.NotNil(t, c.ResolveBy)
	require.NotNil(t, c.OnSiteBy)
	assert.True(t, c.ResolveBy.After(now), "resolve by %s, now %s", c.ResolveBy, now)
	assert.True(t, c.OnSiteBy.After(now))
	assert.Nil(t, c.AppointmentAt, "the first visit is forgotten")
	assert.False(t, c.Overdue(now), "a repeat repair is not overdue at once")
	var resolve *casework.Timer
	for _, tm := range e.jobs.timers(c.ID) {
		if tm.Kind == casework.TimerResolveDeadline && tm.At.Equal(*c.ResolveBy) {
			resolve = &tm
		}
	}
	require.NotNil(t, resolve, "the new resolve deadline has its timer")
}

// TestDeliverLastTryDoesNotWaitForever: on its last attempt a message held
// back by an older one that keeps failing goes anyway.
func TestDeliverLastTryDoesNotWaitForever(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.dispatched(t, nil)
	ctx := t.Context()
	for _, text := range []string{"第一条", "第二条"} {
		require.NoError(t, e.svc.MessageOwner(ctx, f.c.Number, casework.Staff("7"), text))
	}
	ms := byPurpose(e.outbox(t, f.c.ID), "staff_message")
	require.Len(t, ms, 2)
	down := errors.New("telegram: 502 bad gateway")
	e.push.errFunc = func(out []bot.Outbound) error {
		if strings.Contains(out[0].Text, "第一条") {
			return down
		}
		return nil
	}
	require.Error(t, e.svc.Deliver(ctx, ms[1].ID, 9, false), "held back while retries remain")
	require.NoError(t, e.svc.Deliver(ctx, ms[1].ID, 10, true))
	got, err := e.store.FindOutboxMessage(ctx, ms[1].ID)
	require.NoError(t, err)
	assert.Equal(t, casework.OutboxSent, got.Status)
	got, err = e.store.FindOutboxMessage(ctx, ms[0].ID)
	require.NoError(t, err)
	assert.Equal(t, casework.OutboxPending, got.Status, "the older one is its own job's to retry")
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	require.NoError(t, err)
	return n
}

// TestDeclinedOrderIsNotTaken: an order taken and then declined is open
// again: a colleague sees the take and decline buttons, not the taken
// order's, and an urgent one's escalation still counts it untaken.
func TestDeclinedOrderIsNotTaken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.dispatched(t, nil)
	ctx, n := t.Context(), f.c.Number
	_, err := e.svc.TakeOrder(ctx, f.engineer, n)
	require.NoError(t, err)
	require.NoError(t, e.svc.DeclineOrder(ctx, f.engineer, n, "人手不够"))
	feng := e.bind(t, "冯磊", "eng-feng", "zh")
	o, err := e.svc.ShowOrder(ctx, feng, n, "zh")
	require.NoError(t, err)
	var actions []string
	for _, ch := range o.Choices {
		a, _, _, _ := lifecycle.ParsePayload(ch.Payload)
		actions = append(actions, a)
	}
	assert.Equal(t, []string{lifecycle.ActTake, lifecycle.ActDecline}, actions)

	o2, err := e.svc.TakeOrder(ctx, feng, n)
	require.NoError(t, err)
	actions = actions[:0]
	for _, ch := range o2.Choices {
		a, _, _, _ := lifecycle.ParsePayload(ch.Payload)
		actions = append(actions, a)
	}
	assert.Equal(t, []string{lifecycle.ActSlots, lifecycle.ActCheckIn}, actions, "taken again by the colleague")
}
