package lifecycle_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/l10n"
	"github.com/aftersales/aftersales/lifecycle"
)

// batchJobs records the jobs of each transaction apart, and hands them on
// to the env's fakeJobs.
type batchJobs struct {
	next    *fakeJobs
	mu      sync.Mutex
	batches [][]casework.Job
}

func (b *batchJobs) InsertJobsTx(ctx context.Context, tx *sql.Tx, jobs []casework.Job) error {
	b.mu.Lock()
	b.batches = append(b.batches, slices.Clone(jobs))
	b.mu.Unlock()
	return b.next.InsertJobsTx(ctx, tx, jobs)
}

// last returns the jobs of the last transaction that had any.
func (b *batchJobs) last() []casework.Job {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.batches[len(b.batches)-1]
}

// phoneCalls returns the case's outbox messages to the phone platforms.
func phoneCalls(ms []message) []message {
	var out []message
	for _, m := range ms {
		if m.Platform == string(bot.SMS) || m.Platform == string(bot.Voice) {
			out = append(out, m)
		}
	}
	return out
}

// requirePhoneAlert checks that ms are a text message and a call of notice
// kind to phone, with the case's essentials as the template's values.
func requirePhoneAlert(t *testing.T, ms []message, c *casework.Case, phone, kind, key string) {
	t.Helper()
	require.Len(t, ms, 2)
	assert.Equal(t, []string{"sms", "voice"}, []string{ms[0].Platform, ms[1].Platform})
	assert.Equal(t, []string{lifecycle.PurposeUrgentSMS, lifecycle.PurposeUrgentCall}, []string{ms[0].Purpose, ms[1].Purpose})
	text := lifecycle.T(l10n.Chinese, key, "number", c.Number, "address", "海景苑 1-1-101", "problem", "卧室 门窗")
	for _, m := range ms {
		assert.Equal(t, phone, m.UserID)
		assert.Equal(t, casework.OutboxPending, m.Status)
		require.Len(t, m.Messages, 1)
		out := m.Messages[0]
		assert.Equal(t, bot.UserRef{Platform: bot.Platform(m.Platform), ID: phone}, out.To)
		assert.Equal(t, kind, out.Template)
		assert.Equal(t, []bot.Param{{Name: "number", Value: c.Number}, {Name: "address", Value: "海景苑 1-1-101"}, {Name: "problem", Value: "卧室 门窗"}}, out.Params)
		assert.Equal(t, text, out.Text)
		assert.Equal(t, text, lifecycle.OutboxText(m.Payload), "the case page shows what it says")
	}
}

// TestUrgentDispatchTextsAndCallsTheEngineer: the urgent order reaches the
// duty engineer by chat, text message and call, all queued with the
// dispatch in its one transaction; the timeline names whom, masked.
func TestUrgentDispatchTextsAndCallsTheEngineer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	batches := &batchJobs{next: e.jobs}
	e.store.SetJobQueue(batches)
	e.bind(t, "冯磊", "duty-feng", "zh")
	c := e.newCase(t, func(c *casework.Case) { c.Urgency = casework.UrgencyUrgent })

	got, err := e.svc.Triage(t.Context(), c)
	require.NoError(t, err)
	require.Equal(t, casework.StateDispatched, got.State)

	ms := e.outbox(t, c.ID)
	requirePhoneAlert(t, phoneCalls(ms), got, "13900009005", lifecycle.NoticeUrgentOrder, "phone.urgent_order")
	require.Len(t, byPurpose(ms, "work_order"), 1, "and by chat")

	// One transaction: the dispatch's jobs deliver the chat, the owner's
	// notice, the text and the call, and set the escalation timer.
	var delivered []int64
	var timers []casework.TimerKind
	for _, j := range batches.last() {
		if j.Kind == casework.JobDeliver {
			delivered = append(delivered, j.OutboxID)
		} else {
			timers = append(timers, j.Timer.Kind)
		}
	}
	for _, m := range ms {
		if m.Purpose != "triage" {
			assert.Contains(t, delivered, m.ID, "%s to %s", m.Purpose, m.Platform)
		}
	}
	assert.Contains(t, timers, casework.TimerAcceptEscalation)

	note := e.lastEvent(t, c.ID).Note
	assert.Contains(t, note, "urgent: SMS and call to 冯磊 (139****9005)")
	assert.NotContains(t, note, "13900009005")
}

// TestUrgentDispatchFailsWhole: when the dispatch's transaction fails,
// nothing of it is queued — no chat, no text, no call.
func TestUrgentDispatchFailsWhole(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.bind(t, "冯磊", "duty-feng", "zh")
	c := e.newCase(t, func(c *casework.Case) { c.Urgency = casework.UrgencyUrgent })
	e.store.SetJobQueue(failDispatch{e.jobs})

	_, err := e.svc.Triage(t.Context(), c)
	require.ErrorContains(t, err, "queue down")

	assert.Equal(t, casework.StateAccepted, e.reload(t, c).State, "accepted, not dispatched")
	ms := e.outbox(t, c.ID)
	assert.Empty(t, phoneCalls(ms))
	assert.Empty(t, byPurpose(ms, "work_order"))
}

// failDispatch is a job queue that fails the transaction of an urgent
// dispatch, the one that sets the take-over timer.
type failDispatch struct{ next *fakeJobs }

func (f failDispatch) InsertJobsTx(ctx context.Context, tx *sql.Tx, jobs []casework.Job) error {
	for _, j := range jobs {
		if j.Kind == casework.JobTimer && j.Timer.Kind == casework.TimerAcceptEscalation {
			return errors.New("queue down")
		}
	}
	return f.next.InsertJobsTx(ctx, tx, jobs)
}

// TestNormalDispatchRingsNoPhone: a normal order goes by chat only.
func TestNormalDispatchRingsNoPhone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.dispatched(t, nil)
	assert.Empty(t, phoneCalls(e.outbox(t, f.c.ID)))
	assert.NotContains(t, e.lastEvent(t, f.c.ID).Note, "urgent")
}

// setPhone changes a member's phone on record behind the registry's back:
// members imported before phones were required may have none.
func (e *env) setPhone(t *testing.T, name, phone string) {
	t.Helper()
	_, err := e.store.WriteDB().ExecContext(t.Context(), `UPDATE members SET phone = ? WHERE id = ?`, phone, e.member(t, name).ID)
	require.NoError(t, err)
}

// TestUrgentDispatchMemberWithoutPhone: no text or call, and the timeline
// says why.
func TestUrgentDispatchMemberWithoutPhone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.bind(t, "冯磊", "duty-feng", "zh")
	e.setPhone(t, "冯磊", "")
	c := e.newCase(t, func(c *casework.Case) { c.Urgency = casework.UrgencyUrgent })

	_, err := e.svc.Triage(t.Context(), c)
	require.NoError(t, err)

	assert.Empty(t, phoneCalls(e.outbox(t, c.ID)))
	assert.Len(t, byPurpose(e.outbox(t, c.ID), "work_order"), 1)
	assert.Contains(t, e.lastEvent(t, c.ID).Note, "urgent: 冯磊 has no phone on record: not texted or called")
}

// TestUrgentRedispatchRingsTheNewEngineer: staff reassign the urgent order:
// the new engineer's phone rings too.
func TestUrgentRedispatchRingsTheNewEngineer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.bind(t, "冯磊", "duty-feng", "zh")
	c := e.newCase(t, func(c *casework.Case) { c.Urgency = casework.UrgencyUrgent })
	_, err := e.svc.Triage(t.Context(), c)
	require.NoError(t, err)

	_, err = e.svc.Dispatch(t.Context(), c.Number, casework.Staff("7"), e.parties["HXJS"].ID, e.member(t, "吴海涛").ID)
	require.NoError(t, err)

	calls := phoneCalls(e.outbox(t, c.ID))
	require.Len(t, calls, 4)
	assert.Equal(t, "13900009002", calls[2].UserID)
	assert.Equal(t, "13900009002", calls[3].UserID)
}

// TestNotTakenTextsAndCallsTheDutySupervisor: 30 minutes on, the duty
// supervisor's phone rings before the chat escalation, once even when the
// timer runs again.
func TestNotTakenTextsAndCallsTheDutySupervisor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.bind(t, "冯磊", "duty-feng", "zh")
	c := e.newCase(t, func(c *casework.Case) { c.Urgency = casework.UrgencyUrgent })
	got, err := e.svc.Triage(t.Context(), c)
	require.NoError(t, err)
	tm := e.fireTimer(t, c, casework.TimerAcceptEscalation)
	e.clock.Advance(31 * time.Minute)
	before := len(e.outbox(t, c.ID))

	require.NoError(t, e.svc.Fire(t.Context(), tm))

	ms := e.outbox(t, c.ID)[before:]
	requirePhoneAlert(t, phoneCalls(ms), got, "13900009009", lifecycle.NoticeNotTaken, "phone.not_taken")
	esc := byPurpose(ms, "escalation")
	require.Len(t, esc, 1, "and the chat, as before")
	assert.Equal(t, supervisorChat, esc[0].UserID)
	var note string
	for _, ev := range e.events(t, c.ID) {
		if ev.Kind == casework.EventNote && strings.HasPrefix(ev.Note, "urgent order not taken") {
			note = ev.Note
		}
	}
	assert.Equal(t, "urgent order not taken: SMS and call to 林峰 (139****9009)", note)

	// The timer runs again (its job was retried): no phone rings twice.
	require.NoError(t, e.svc.Fire(t.Context(), tm))
	assert.Len(t, phoneCalls(e.outbox(t, c.ID)[before:]), 2)
}

// TestNotTakenSupervisorWithoutPhone: the chat escalation still goes; the
// timeline says the supervisor could not be called.
func TestNotTakenSupervisorWithoutPhone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.setPhone(t, "林峰", "")
	e.bind(t, "冯磊", "duty-feng", "zh")
	c := e.newCase(t, func(c *casework.Case) { c.Urgency = casework.UrgencyUrgent })
	_, err := e.svc.Triage(t.Context(), c)
	require.NoError(t, err)
	tm := e.fireTimer(t, c, casework.TimerAcceptEscalation)
	e.clock.Advance(31 * time.Minute)
	before := len(e.outbox(t, c.ID))

	require.NoError(t, e.svc.Fire(t.Context(), tm))

	ms := e.outbox(t, c.ID)[before:]
	assert.Empty(t, phoneCalls(ms))
	assert.Len(t, byPurpose(ms, "escalation"), 1)
	found := false
	for _, ev := range e.events(t, c.ID) {
		found = found || ev.Note == "urgent order not taken: 林峰 has no phone on record: not texted or called"
	}
	assert.True(t, found, "the timeline says so")
}

// TestTakenInTimeCallsNobody: the engineer took the order: no supervisor's
// phone rings.
func TestTakenInTimeCallsNobody(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	duty := e.bind(t, "冯磊", "duty-feng", "zh")
	c := e.newCase(t, func(c *casework.Case) { c.Urgency = casework.UrgencyUrgent })
	_, err := e.svc.Triage(t.Context(), c)
	require.NoError(t, err)
	_, err = e.svc.TakeOrder(t.Context(), duty, c.Number)
	require.NoError(t, err)
	e.clock.Advance(31 * time.Minute)
	before := len(e.outbox(t, c.ID))

	require.NoError(t, e.svc.Fire(t.Context(), e.fireTimer(t, c, casework.TimerAcceptEscalation)))
	assert.Len(t, e.outbox(t, c.ID), before)
}

// TestPhoneDeliveryFailures: a provider's refusal fails the text message
// on the case at once; throttling leaves it pending, to be tried again.
func TestPhoneDeliveryFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.bind(t, "冯磊", "duty-feng", "zh")
	c := e.newCase(t, func(c *casework.Case) { c.Urgency = casework.UrgencyUrgent })
	_, err := e.svc.Triage(t.Context(), c)
	require.NoError(t, err)
	calls := phoneCalls(e.outbox(t, c.ID))
	require.Len(t, calls, 2)
	text, call := calls[0], calls[1]

	e.push.errFunc = func(out []bot.Outbound) error {
		switch out[0].To.Platform {
		case bot.SMS:
			return fmt.Errorf("phone: sms to 139****9005: isv.MOBILE_NUMBER_ILLEGAL: %w", bot.ErrUndeliverable)
		case bot.Voice:
			return errors.New("phone: voice to 139****9005: rate limited, will retry: isv.BUSINESS_LIMIT_CONTROL")
		}
		return nil
	}
	err = e.svc.Deliver(t.Context(), text.ID, 1, false)
	var p *lifecycle.Permanent
	require.ErrorAs(t, err, &p, "given up at once")
	err = e.svc.Deliver(t.Context(), call.ID, 1, false)
	require.Error(t, err)
	require.False(t, errors.As(err, &p), "retried")

	after := phoneCalls(e.outbox(t, c.ID))
	assert.Equal(t, casework.OutboxFailed, after[0].Status)
	assert.Contains(t, after[0].LastError, "isv.MOBILE_NUMBER_ILLEGAL")
	assert.Equal(t, casework.OutboxPending, after[1].Status)
	assert.Contains(t, after[1].LastError, "isv.BUSINESS_LIMIT_CONTROL")

	e.push.errFunc = nil
	require.NoError(t, e.svc.Deliver(t.Context(), call.ID, 2, false))
	assert.Equal(t, casework.OutboxSent, phoneCalls(e.outbox(t, c.ID))[1].Status)
}
