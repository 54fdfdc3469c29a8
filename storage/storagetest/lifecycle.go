package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/testclock"
)

// JobRecorder is the job queue of the lifecycle tests: it records the jobs
// a store hands it and can be told to fail. A backend's test wraps it in a
// type that implements the backend's JobQueue, passing on the jobs and a
// function that looks an outbox message up in the transaction the jobs are
// inserted in:
//
//	func (q queue) InsertJobsTx(ctx context.Context, tx *sql.Tx, jobs []casework.Job) error {
//		return q.r.Insert(jobs, func(id int64) (ok bool, err error) { … SELECT … FROM outbox WHERE id = ? … })
//	}
type JobRecorder struct {
	mu    sync.Mutex
	jobs  []casework.Job
	calls int
	fail  error
}

// Insert records jobs, or returns the error Fail set. visible, when not nil,
// tells whether an outbox message can be seen in the transaction the jobs
// are inserted in: a JobDeliver of a message that can't is an error, as the
// message must be written in that transaction before its job.
func (r *JobRecorder) Insert(jobs []casework.Job, visible func(outboxID int64) (bool, error)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	if len(jobs) == 0 {
		return errors.New("storagetest: no jobs to insert")
	}
	for _, j := range jobs {
		if j.Kind != casework.JobDeliver || visible == nil {
			continue
		}
		ok, err := visible(j.OutboxID)
		if err != nil {
			return fmt.Errorf("storagetest: look up outbox message %d in the transaction: %w", j.OutboxID, err)
		}
		if !ok {
			return fmt.Errorf("storagetest: outbox message %d is not in the jobs' transaction", j.OutboxID)
		}
	}
	r.calls++
	r.jobs = append(r.jobs, jobs...)
	return nil
}

// Fail makes Insert return err from now on; nil: succeed again.
func (r *JobRecorder) Fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = err
}

// Take returns the jobs recorded since the last Take and how many calls of
// Insert recorded them.
func (r *JobRecorder) Take() ([]casework.Job, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	jobs, calls := r.jobs, r.calls
	r.jobs, r.calls = nil, 0
	return jobs, calls
}

// openLifecycle opens a store with a job recorder, or skips.
func openLifecycle(t *testing.T, h Harness) (LifecycleStore, *JobRecorder) {
	t.Helper()
	if h.OpenLifecycle == nil {
		t.Skip("Harness.OpenLifecycle is not set")
	}
	jobs := &JobRecorder{}
	return h.OpenLifecycle(t, jobs), jobs
}

// message returns an unsaved outbox message for the first chat account of
// the tests.
func message(caseID int64, purpose string) *casework.OutboxMessage {
	return &casework.OutboxMessage{CaseID: caseID, Platform: "telegram", UserID: "1001", Purpose: purpose, Payload: []byte(`{"text":"` + purpose + `"}`)}
}

// requireStoredMessage checks that m was stored as a new pending message of
// case caseID, and that the store returns it as it is.
func requireStoredMessage(t testing.TB, s LifecycleStore, m *casework.OutboxMessage, caseID int64) {
	t.Helper()
	require.NotZero(t, m.ID)
	require.Equal(t, caseID, m.CaseID)
	require.Equal(t, casework.OutboxPending, m.Status)
	require.Zero(t, m.Attempts)
	require.Empty(t, m.LastError)
	require.Nil(t, m.SentAt)
	requireUTC(t, m.CreatedAt, "outbox CreatedAt")
	got, err := s.FindOutboxMessage(t.Context(), m.ID)
	require.NoError(t, err)
	requireSameMessage(t, m, got)
}

// requireSameMessage checks that got equals want, comparing times with Equal.
func requireSameMessage(t testing.TB, want, got *casework.OutboxMessage) {
	t.Helper()
	w, g := *want, *got
	requireStoredTime(t, w.CreatedAt, g.CreatedAt, "outbox CreatedAt")
	require.Equal(t, w.SentAt == nil, g.SentAt == nil, "outbox SentAt")
	if w.SentAt != nil {
		requireStoredTime(t, *w.SentAt, *g.SentAt, "outbox SentAt")
	}
	w.CreatedAt, g.CreatedAt, w.SentAt, g.SentAt = time.Time{}, time.Time{}, nil, nil
	require.Equal(t, w, g)
}

// deliver returns the JobDeliver of each message, in order.
func deliver(ms ...*casework.OutboxMessage) []casework.Job {
	out := make([]casework.Job, len(ms))
	for i, m := range ms {
		out[i] = casework.Job{Kind: casework.JobDeliver, OutboxID: m.ID}
	}
	return out
}

// timerJobs returns the JobTimer of each timer, in order.
func timerJobs(ts ...casework.Timer) []casework.Job {
	out := make([]casework.Job, len(ts))
	for i, tm := range ts {
		out[i] = casework.Job{Kind: casework.JobTimer, Timer: tm}
	}
	return out
}

// requireJobs checks that jobs took exactly want, in one call.
func requireJobs(t testing.TB, jobs *JobRecorder, want ...casework.Job) {
	t.Helper()
	got, calls := jobs.Take()
	require.Equal(t, 1, calls, "the jobs of one write are inserted at once")
	require.Equal(t, len(want), len(got), "jobs: %v", got)
	for i := range want {
		w, g := want[i], got[i]
		require.Truef(t, w.Timer.At.Equal(g.Timer.At), "job %d: timer At: want %s, got %s", i, w.Timer.At, g.Timer.At)
		w.Timer.At, g.Timer.At = time.Time{}, time.Time{}
		require.Equal(t, w, g, "job %d", i)
	}
}

// requireNoLifecycleFields checks that c, read back, has the defaults of
// the fields migration 0003 added: no warranty, and nil rather than empty.
func requireNoLifecycleFields(t *testing.T, c *casework.Case) {
	t.Helper()
	require.Equal(t, casework.WarrantyNone, c.WarrantyStatus)
	require.True(t, c.WarrantyUntil.IsZero())
	require.Zero(t, c.ParentID)
	require.Nil(t, c.ProposedSlots)
	require.Nil(t, c.AppointmentAt)
	require.Nil(t, c.Plan)
	require.Nil(t, c.Survey)
	require.Nil(t, c.EscalatedAt)
}

func testLifecycleCaseFields(t *testing.T, h Harness) {
	s, _ := openLifecycle(t, h)
	ctx := t.Context()
	f := newFixture(t, s)

	// Without the new fields: defaults, and nil rather than empty.
	plain := f.create(t, f.newCase(t0))
	require.Equal(t, casework.WarrantyNone, plain.WarrantyStatus, "Validate's default")
	got, err := s.FindCaseByID(ctx, plain.ID)
	require.NoError(t, err)
	requireSameCase(t, plain, got)
	requireNoLifecycleFields(t, got)

	// With every one of them.
	c := f.fullCase()
	c.WarrantyStatus, c.WarrantyUntil = casework.WarrantyIn, casework.D(2026, 6, 30)
	c.ReporterPlatform, c.ReporterUserID = "wechat", "oWx-123"
	c.ParentID = plain.ID
	c.ProposedSlots = []time.Time{at(24*time.Hour + 1), at(48 * time.Hour), at(72*time.Hour + 999)}
	c.AppointmentAt = ptr(at(24*time.Hour + 1))
	c.Plan = &casework.Plan{Cause: "防水层破损", Responsibility: casework.ResponsibilityContractor, Content: "重做防水", Duration: "2天",
		Disruptions: []casework.Disruption{casework.DisruptionNoise, casework.DisruptionWaterCut}, StartAt: ptr(at(96*time.Hour + 5))}
	c.Survey = &casework.Survey{Speed: 5, Attitude: 4, Quality: 3, Comment: "还行", AnsweredAt: at(200*time.Hour + 7)}
	c.EscalatedAt = ptr(at(3*time.Hour + 3))
	require.NoError(t, s.CreateCase(ctx, c))
	require.Len(t, c.ProposedSlots, 3)
	requireStoredTime(t, at(72*time.Hour+999), c.ProposedSlots[2], "slot")
	requireStoredTime(t, at(96*time.Hour+5), *c.Plan.StartAt, "Plan.StartAt")
	requireStoredTime(t, at(200*time.Hour+7), c.Survey.AnsweredAt, "Survey.AnsweredAt")
	check := func(want *casework.Case) {
		t.Helper()
		got, err := s.FindCaseByID(ctx, want.ID)
		require.NoError(t, err)
		requireSameCase(t, want, got)
		got, err = s.FindCaseByNumber(ctx, want.Number)
		require.NoError(t, err)
		requireSameCase(t, want, got)
		list, _, err := s.FindCases(ctx, casework.CaseFilter{Text: want.Number})
		require.NoError(t, err)
		require.Len(t, list, 1)
		noMedia := *want
		noMedia.Media = nil
		requireSameCase(t, &noMedia, list[0])
	}
	check(c)
	require.Equal(t, casework.D(2026, 6, 30), c.WarrantyUntil)

	// A survey without its time keeps none.
	ns := f.newCase(t0)
	ns.Survey = &casework.Survey{Speed: 1, Attitude: 1, Quality: 1}
	f.create(t, ns)
	check(ns)

	// Updates set and clear them.
	upd := casework.CaseUpdate{Actor: casework.Staff("7"), ProposedSlots: &[]time.Time{at(5 * time.Hour), at(6*time.Hour + 3)},
		AppointmentAt: ptr(at(7 * time.Hour)), EscalatedAt: ptr(at(8*time.Hour + 1)),
		Plan: &casework.Plan{Cause: "c", Content: "x", Responsibility: casework.ResponsibilityOwnerOrThirdParty}}
	got, err = s.UpdateCase(ctx, plain.ID, plain.Version, upd)
	require.NoError(t, err)
	require.Len(t, got.ProposedSlots, 2)
	requireStoredTime(t, at(6*time.Hour+3), got.ProposedSlots[1], "slot")
	require.Nil(t, got.Plan.StartAt)
	require.Nil(t, got.Plan.Disruptions)
	check(got)
	got, err = s.UpdateCase(ctx, got.ID, got.Version, casework.CaseUpdate{Actor: casework.Staff("7"), ProposedSlots: &[]time.Time{}})
	require.NoError(t, err)
	require.Nil(t, got.ProposedSlots, "no slots read back nil")
	check(got)

	// Transitions carry the appointment, the plan and the survey.
	cur := f.transition(t, plain.ID, at(time.Hour), casework.ActionAccept, casework.ActionDispatch)
	cur, err = s.UpdateCase(ctx, cur.ID, cur.Version, casework.CaseUpdate{Actor: casework.Staff("7"), ProposedSlots: &[]time.Time{at(30 * time.Hour), at(31 * time.Hour)}})
	require.NoError(t, err)
	steps := []casework.Transition{
		{Action: casework.ActionSchedule, AppointmentAt: ptr(at(31*time.Hour + 11)), ClearSlots: true},
		{Action: casework.ActionInspect, Plan: &casework.Plan{Cause: "管道接口松动", Content: "更换接口", Duration: "半天", StartAt: ptr(at(40*time.Hour + 1))}},
		{Action: casework.ActionProposePlan},
		{Action: casework.ActionAgreePlan},
		{Action: casework.ActionStartWork},
		{Action: casework.ActionComplete},
		{Action: casework.ActionOwnerAccept},
		{Action: casework.ActionSurvey, Survey: &casework.Survey{Speed: 4, Attitude: 5, Quality: 2, Comment: "慢", AnsweredAt: at(90*time.Hour + 3)}},
	}
	for i, tr := range steps {
		tr.Actor, tr.At = casework.Staff("7"), at(time.Duration(32+i)*time.Hour)
		cur, err = s.TransitionCase(ctx, cur.ID, cur.Version, tr)
		require.NoError(t, err, tr.Action)
		check(cur)
	}
	require.Nil(t, cur.ProposedSlots, "the owner picked a slot")
	requireStoredTime(t, at(31*time.Hour+11), *cur.AppointmentAt, "AppointmentAt")
	require.Equal(t, "管道接口松动", cur.Plan.Cause)
	require.Equal(t, casework.ResponsibilityUndetermined, cur.Plan.Responsibility)
	require.Equal(t, 2, cur.Survey.Quality)
	requireStoredTime(t, at(8*time.Hour+1), *cur.EscalatedAt, "EscalatedAt")

	// The parent must exist; the reporter comes whole.
	bad := f.newCase(t0)
	bad.ParentID = 999999
	requireInvalid(t, s.CreateCase(ctx, bad), "parent")
	bad = f.newCase(t0)
	bad.ReporterPlatform = "telegram"
	requireInvalid(t, s.CreateCase(ctx, bad), "reporter")
	bad = f.newCase(t0)
	bad.WarrantyStatus = "maybe"
	requireInvalid(t, s.CreateCase(ctx, bad), "warranty_status")
	_, err = s.UpdateCase(ctx, c.ID, c.Version, casework.CaseUpdate{Actor: casework.Staff("7"), ProposedSlots: &[]time.Time{t0, t0, t0, t0}})
	requireInvalid(t, err, "proposed_slots")
}

func testLifecycleEffects(t *testing.T, h Harness) {
	s, jobs := openLifecycle(t, h)
	ctx := t.Context()
	f := newFixture(t, s)

	// CreateCaseWith: zero CaseIDs are the new case's.
	c := f.newCase(t0)
	m1, m2 := message(0, "owner_update"), message(0, "work_order")
	m2.Platform, m2.UserID = "wechat", "oEng-1"
	t1 := casework.Timer{Kind: casework.TimerRespondDeadline, At: at(time.Hour + 7)}
	t2 := casework.Timer{Kind: casework.TimerResolveDeadline, At: at(24 * time.Hour), Ref: 1}
	require.NoError(t, s.CreateCaseWith(ctx, c, casework.Effects{Messages: []*casework.OutboxMessage{m1, m2}, Timers: []casework.Timer{t1, t2}}))
	requireStoredMessage(t, s, m1, c.ID)
	requireStoredMessage(t, s, m2, c.ID)
	require.Less(t, m1.ID, m2.ID)
	require.Equal(t, []byte(`{"text":"owner_update"}`), m1.Payload)
	t1.CaseID, t2.CaseID = c.ID, c.ID
	requireJobs(t, jobs, slices.Concat(deliver(m1, m2), timerJobs(t1, t2))...)
	got, err := s.FindCaseByID(ctx, c.ID)
	require.NoError(t, err)
	requireSameCase(t, c, got)

	// TransitionCaseWith.
	m3 := message(0, "owner_update")
	t3 := casework.Timer{Kind: casework.TimerOnSiteDeadline, At: at(72 * time.Hour), Ref: 2}
	c, err = s.TransitionCaseWith(ctx, c.ID, c.Version, casework.Transition{Action: casework.ActionAccept, Actor: casework.Staff("7"), At: at(time.Hour)},
		casework.Effects{Messages: []*casework.OutboxMessage{m3}, Timers: []casework.Timer{t3}})
	require.NoError(t, err)
	require.Equal(t, casework.StateAccepted, c.State)
	requireStoredMessage(t, s, m3, c.ID)
	t3.CaseID = c.ID
	requireJobs(t, jobs, slices.Concat(deliver(m3), timerJobs(t3))...)

	// UpdateCaseWith: a message for another case stays that case's; a
	// timer with its own case keeps it.
	other := f.create(t, f.newCase(t0))
	m4, m5 := message(other.ID, "escalation"), message(0, "owner_update")
	t4 := casework.Timer{CaseID: other.ID, Kind: casework.TimerTaskDue, At: at(5 * time.Hour)}
	c, err = s.UpdateCaseWith(ctx, c.ID, c.Version, casework.CaseUpdate{Actor: casework.Staff("7"), EscalatedAt: ptr(at(2 * time.Hour))},
		casework.Effects{Messages: []*casework.OutboxMessage{m4, m5}, Timers: []casework.Timer{t4}})
	require.NoError(t, err)
	requireStoredTime(t, at(2*time.Hour), *c.EscalatedAt, "EscalatedAt")
	requireStoredMessage(t, s, m4, other.ID)
	requireStoredMessage(t, s, m5, c.ID)
	requireJobs(t, jobs, slices.Concat(deliver(m4, m5), timerJobs(t4))...)

	// AddCaseEventWith, with timers alone.
	t5 := casework.Timer{Kind: casework.TimerReturnVisit, At: at(240 * time.Hour)}
	e := &casework.Event{CaseID: c.ID, Kind: casework.EventMessage, Actor: casework.Staff("7"), Note: "请业主明早在家"}
	require.NoError(t, s.AddCaseEventWith(ctx, e, casework.Effects{Timers: []casework.Timer{t5}}))
	require.NotZero(t, e.ID)
	t5.CaseID = c.ID
	requireJobs(t, jobs, timerJobs(t5)...)
	m6 := message(0, "owner_update")
	e = &casework.Event{CaseID: c.ID, Kind: casework.EventEscalated, Actor: casework.ActorSystem}
	require.NoError(t, s.AddCaseEventWith(ctx, e, casework.Effects{Messages: []*casework.OutboxMessage{m6}}))
	requireStoredMessage(t, s, m6, c.ID)
	requireJobs(t, jobs, deliver(m6)...)
	events, err := s.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, casework.EventMessage, events[len(events)-2].Kind)
	require.Equal(t, casework.EventEscalated, events[len(events)-1].Kind)

	// Enqueue: a message that concerns no case stays without one.
	m7, m8 := message(0, "staff_reply"), message(c.ID, "owner_update")
	t6 := casework.Timer{CaseID: c.ID, Kind: casework.TimerSurveyExpiry, At: at(100 * time.Hour)}
	require.NoError(t, s.Enqueue(ctx, casework.Effects{Messages: []*casework.OutboxMessage{m7, m8}, Timers: []casework.Timer{t6}}))
	requireStoredMessage(t, s, m7, 0)
	requireStoredMessage(t, s, m8, c.ID)
	requireJobs(t, jobs, slices.Concat(deliver(m7, m8), timerJobs(t6))...)

	// The case's outbox, oldest first.
	list, err := s.ListOutbox(ctx, c.ID)
	require.NoError(t, err)
	want := []*casework.OutboxMessage{m1, m2, m3, m5, m6, m8}
	require.Len(t, list, len(want))
	for i := range want {
		requireSameMessage(t, want[i], list[i])
	}
	list, err = s.ListOutbox(ctx, other.ID)
	require.NoError(t, err)
	require.Len(t, list, 1)
	list, err = s.ListOutbox(ctx, 999999)
	require.NoError(t, err)
	require.Empty(t, list)

	// No effects, no jobs; Enqueue of nothing is nothing.
	_, err = s.TransitionCaseWith(ctx, c.ID, 0, casework.Transition{Action: casework.ActionHold, Actor: casework.Staff("7")}, casework.Effects{})
	require.NoError(t, err)
	require.NoError(t, s.Enqueue(ctx, casework.Effects{}))
	got2, calls := jobs.Take()
	require.Empty(t, got2)
	require.Zero(t, calls)

	// Effects are checked before anything is stored.
	before, err := s.ListOutbox(ctx, c.ID)
	require.NoError(t, err)
	for _, tt := range []struct {
		field string
		eff   casework.Effects
	}{
		{"message_platform", casework.Effects{Messages: []*casework.OutboxMessage{{UserID: "1"}}}},
		{"message_user_id", casework.Effects{Messages: []*casework.OutboxMessage{{Platform: "telegram"}}}},
		{"timer_kind", casework.Effects{Timers: []casework.Timer{{Kind: "someday", At: t0}}}},
		{"timer_at", casework.Effects{Timers: []casework.Timer{{Kind: casework.TimerTaskDue}}}},
	} {
		requireInvalid(t, s.Enqueue(ctx, tt.eff), tt.field)
		requireInvalid(t, s.AddCaseEventWith(ctx, &casework.Event{CaseID: c.ID, Kind: casework.EventNote, Actor: casework.ActorSystem}, tt.eff), tt.field)
	}
	after, err := s.ListOutbox(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, after, len(before))
	// A message for a case that does not exist.
	requireErrNotFound(t, s.Enqueue(ctx, casework.Effects{Messages: []*casework.OutboxMessage{message(999999, "x")}}))
	_, calls = jobs.Take()
	require.Zero(t, calls)
}

// lifecycleSnapshot is what a write left of a case: the case, its
// timeline, its outbox and its tasks.
type lifecycleSnapshot struct {
	c      *casework.Case
	events []*casework.Event
	outbox []*casework.OutboxMessage
	tasks  []*casework.Task
}

func snapshot(t testing.TB, s LifecycleStore, id int64) lifecycleSnapshot {
	t.Helper()
	ctx := t.Context()
	var snap lifecycleSnapshot
	var err error
	snap.c, err = s.FindCaseByID(ctx, id)
	require.NoError(t, err)
	snap.events, err = s.ListCaseEvents(ctx, id)
	require.NoError(t, err)
	snap.outbox, err = s.ListOutbox(ctx, id)
	require.NoError(t, err)
	snap.tasks, err = s.ListTasks(ctx, id)
	require.NoError(t, err)
	return snap
}

// requireUnchanged checks that case id is as in before.
func requireUnchanged(t testing.TB, s LifecycleStore, before lifecycleSnapshot, what string) {
	t.Helper()
	after := snapshot(t, s, before.c.ID)
	requireSameCase(t, before.c, after.c)
	require.Len(t, after.events, len(before.events), "%s: no event stored", what)
	require.Len(t, after.outbox, len(before.outbox), "%s: no message stored", what)
	require.Len(t, after.tasks, len(before.tasks), "%s: no task stored", what)
}

// failingWrites tries every write with effects on s and checks that each
// fails with an error matching want and stores nothing.
func failingWrites(t *testing.T, s LifecycleStore, f *fixture, want func(err error) bool) {
	t.Helper()
	ctx := t.Context()
	c := f.create(t, f.newCase(t0))
	c = f.transition(t, c.ID, at(time.Hour), casework.ActionAccept)
	before := snapshot(t, s, c.ID)
	eff := func() (casework.Effects, *casework.OutboxMessage) {
		m := message(0, "owner_update")
		return casework.Effects{Messages: []*casework.OutboxMessage{m}, Timers: []casework.Timer{{Kind: casework.TimerRespondDeadline, At: at(time.Hour)}}}, m
	}
	check := func(what string, err error, m *casework.OutboxMessage) {
		t.Helper()
		require.Error(t, err, what)
		require.Truef(t, want(err), "%s: unexpected error %v", what, err)
		requireUnchanged(t, s, before, what)
		require.Zero(t, m.ID, "%s: the message given is unchanged", what)
		require.Zero(t, m.CaseID, "%s: the message given is unchanged", what)
		require.Empty(t, m.Status, "%s: the message given is unchanged", what)
	}

	e, m := eff()
	_, err := s.TransitionCaseWith(ctx, c.ID, c.Version, casework.Transition{Action: casework.ActionDispatch, Actor: casework.Staff("7"),
		PartyID: &f.party.ID, AssigneeID: &f.member.ID}, e)
	check("transition", err, m)

	e, m = eff()
	_, err = s.UpdateCaseWith(ctx, c.ID, c.Version, casework.CaseUpdate{Actor: casework.Staff("7"), Description: ptr("never stored")}, e)
	check("update", err, m)

	e, m = eff()
	err = s.AddCaseEventWith(ctx, &casework.Event{CaseID: c.ID, Kind: casework.EventNote, Actor: casework.Staff("7"), Note: "never stored"}, e)
	check("event", err, m)

	e, m = eff()
	e.Messages[0].CaseID = c.ID
	err = s.Enqueue(ctx, e)
	require.Equal(t, c.ID, m.CaseID)
	m.CaseID = 0
	check("enqueue", err, m)

	e, m = eff()
	err = s.CreateTask(ctx, &casework.Task{CaseID: c.ID, Assignee: "物业", Description: "开通水阀", DueAt: at(time.Hour), CreatedBy: casework.Staff("7")}, e)
	check("task", err, m)

	e, m = eff()
	nc := f.newCase(at(time.Minute))
	err = s.CreateCaseWith(ctx, nc, e)
	check("create", err, m)
	_, n, err := s.FindCases(ctx, casework.CaseFilter{})
	require.NoError(t, err)
	require.Equal(t, 1, n, "the failed case is not stored")
	// Nor its number.
	again := f.create(t, f.newCase(at(time.Minute)))
	require.Equal(t, testclock.Text("SH-20261127-0002"), again.Number)
}

func testLifecycleEffectsAtomicity(t *testing.T, h Harness) {
	s, jobs := openLifecycle(t, h)
	f := newFixture(t, s)
	errQueue := errors.New("job queue is down")
	jobs.Fail(errQueue)
	failingWrites(t, s, f, func(err error) bool { return errors.Is(err, errQueue) })
	got, _ := jobs.Take()
	require.Empty(t, got)

	// Once the queue is back, the same writes go through.
	jobs.Fail(nil)
	c := f.create(t, f.newCase(t0))
	m := message(0, "owner_update")
	require.NoError(t, s.AddCaseEventWith(t.Context(), &casework.Event{CaseID: c.ID, Kind: casework.EventNote, Actor: casework.ActorSystem},
		casework.Effects{Messages: []*casework.OutboxMessage{m}}))
	requireStoredMessage(t, s, m, c.ID)
	requireJobs(t, jobs, deliver(m)...)
}

func testLifecycleNoJobQueue(t *testing.T, h Harness) {
	if h.OpenLifecycle == nil {
		t.Skip("Harness.OpenLifecycle is not set")
	}
	s := h.OpenLifecycle(t, nil)
	f := newFixture(t, s)
	failingWrites(t, s, f, func(error) bool { return true })

	// Writes without effects need no queue.
	c := f.create(t, f.newCase(t0))
	_, err := s.TransitionCaseWith(t.Context(), c.ID, c.Version, casework.Transition{Action: casework.ActionAccept, Actor: casework.Staff("7")}, casework.Effects{})
	require.NoError(t, err)
	require.NoError(t, s.CreateTask(t.Context(), &casework.Task{CaseID: c.ID, Assignee: "物业", Description: "d", DueAt: t0, CreatedBy: casework.Staff("7")}, casework.Effects{}))
}

// testPendingOutbox: a chat account's pending messages up to one, oldest
// first, and no one else's, nor sent or failed ones, nor later ones.
func testPendingOutbox(t *testing.T, h Harness) {
	s, _ := openLifecycle(t, h)
	ctx := t.Context()
	f := newFixture(t, s)
	c := f.create(t, f.newCase(t0))
	first, sent, other, failed, second, later := message(c.ID, "a"), message(c.ID, "b"), message(c.ID, "c"), message(c.ID, "d"), message(0, "e"), message(c.ID, "f")
	other.UserID = "2002"
	require.NoError(t, s.Enqueue(ctx, casework.Effects{Messages: []*casework.OutboxMessage{first, sent, other, failed, second, later}}))
	require.NoError(t, s.MarkOutboxSent(ctx, sent.ID, at(time.Minute)))
	require.NoError(t, s.MarkOutboxAttempt(ctx, failed.ID, "blocked", true, at(time.Minute)))

	got, err := s.ListPendingOutbox(ctx, "telegram", "1001", second.ID)
	require.NoError(t, err)
	var ids []int64
	for _, m := range got {
		ids = append(ids, m.ID)
	}
	require.Equal(t, []int64{first.ID, second.ID}, ids)
	require.Equal(t, first.Payload, got[0].Payload)

	got, err = s.ListPendingOutbox(ctx, "wechat", "1001", later.ID)
	require.NoError(t, err)
	require.Empty(t, got, "another platform's account is another person")
	got, err = s.ListPendingOutbox(ctx, "telegram", "1001", first.ID-1)
	require.NoError(t, err)
	require.Empty(t, got)
}

func testOutbox(t *testing.T, h Harness) {
	s, _ := openLifecycle(t, h)
	ctx := t.Context()
	f := newFixture(t, s)
	c := f.create(t, f.newCase(t0))

	sent, retried, none := message(c.ID, "owner_update"), message(c.ID, "work_order"), message(0, "staff_reply")
	retried.Platform, retried.Payload = "wechat", []byte("SECRET-PAYLOAD 13812345678")
	require.NoError(t, s.Enqueue(ctx, casework.Effects{Messages: []*casework.OutboxMessage{sent, retried, none}}))
	eventsBefore, err := s.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)

	// Sent, once: the first SentAt stays.
	require.NoError(t, s.MarkOutboxSent(ctx, sent.ID, at(time.Minute+7)))
	require.NoError(t, s.MarkOutboxSent(ctx, sent.ID, at(time.Hour)))
	got, err := s.FindOutboxMessage(ctx, sent.ID)
	require.NoError(t, err)
	require.Equal(t, casework.OutboxSent, got.Status)
	require.NotNil(t, got.SentAt)
	requireStoredTime(t, at(time.Minute+7), *got.SentAt, "SentAt")
	require.Zero(t, got.Attempts)
	requireErrNotFound(t, s.MarkOutboxSent(ctx, 999999, t0))
	// An attempt on a sent message changes nothing.
	require.NoError(t, s.MarkOutboxAttempt(ctx, sent.ID, "late error", true, at(2*time.Hour)))
	got2, err := s.FindOutboxMessage(ctx, sent.ID)
	require.NoError(t, err)
	requireSameMessage(t, got, got2)

	// Attempts, then the final one.
	require.NoError(t, s.MarkOutboxAttempt(ctx, retried.ID, "timeout", false, at(time.Minute)))
	got, err = s.FindOutboxMessage(ctx, retried.ID)
	require.NoError(t, err)
	require.Equal(t, casework.OutboxPending, got.Status)
	require.Equal(t, 1, got.Attempts)
	require.Equal(t, "timeout", got.LastError)
	require.Nil(t, got.SentAt)
	events, err := s.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, events, len(eventsBefore), "an attempt that is not final adds nothing to the timeline")

	require.NoError(t, s.MarkOutboxAttempt(ctx, retried.ID, "errcode 43004: user unsubscribed", true, at(2*time.Hour+3)))
	got, err = s.FindOutboxMessage(ctx, retried.ID)
	require.NoError(t, err)
	require.Equal(t, casework.OutboxFailed, got.Status)
	require.Equal(t, 2, got.Attempts)
	require.Equal(t, "errcode 43004: user unsubscribed", got.LastError)
	require.Equal(t, retried.Payload, got.Payload, "the payload is kept as it is")
	events, err = s.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, events, len(eventsBefore)+1)
	e := events[len(events)-1]
	require.Equal(t, casework.EventDeliveryFailed, e.Kind)
	require.Equal(t, casework.ActorSystem, e.Actor)
	require.Equal(t, len(events), e.Seq)
	requireStoredTime(t, at(2*time.Hour+3), e.At, "event At")
	for _, s := range []string{"wechat", "work_order", "errcode 43004: user unsubscribed"} {
		assert.Contains(t, e.Note, s)
	}
	assert.NotContains(t, e.Note, "SECRET-PAYLOAD")
	assert.NotContains(t, e.Note, "13812345678")

	// A failed message stays failed: no second event.
	require.NoError(t, s.MarkOutboxAttempt(ctx, retried.ID, "again", true, at(3*time.Hour)))
	got2, err = s.FindOutboxMessage(ctx, retried.ID)
	require.NoError(t, err)
	requireSameMessage(t, got, got2)
	events, err = s.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, events, len(eventsBefore)+1)
	got3, err := s.FindCaseByID(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, c.Version, got3.Version, "the case itself is unchanged")

	// A message about no case fails without a timeline.
	require.NoError(t, s.MarkOutboxAttempt(ctx, none.ID, "bad request", true, at(time.Hour)))
	got, err = s.FindOutboxMessage(ctx, none.ID)
	require.NoError(t, err)
	require.Equal(t, casework.OutboxFailed, got.Status)
	require.Equal(t, 1, got.Attempts)
	require.Zero(t, got.CaseID)

	requireErrNotFound(t, s.MarkOutboxAttempt(ctx, 999999, "x", true, t0))
	_, err = s.FindOutboxMessage(ctx, 999999)
	requireErrNotFound(t, err)

	// A long error is kept in whole runes, if shortened.
	long := message(c.ID, "survey")
	require.NoError(t, s.Enqueue(ctx, casework.Effects{Messages: []*casework.OutboxMessage{long}}))
	require.NoError(t, s.MarkOutboxAttempt(ctx, long.ID, strings.Repeat("错", 5000), true, t0))
	got, err = s.FindOutboxMessage(ctx, long.ID)
	require.NoError(t, err)
	require.NotEmpty(t, got.LastError)
	require.LessOrEqual(t, len([]rune(got.LastError)), 5000)
	require.True(t, strings.HasPrefix(got.LastError, "错"))
}

func testBindCode(t *testing.T, h Harness) {
	s, _ := openLifecycle(t, h)
	ctx := t.Context()
	f := newFixture(t, s)

	b := &casework.BindCode{Code: "K7Q2-9XPA", MemberID: f.member.ID, IssuedBy: casework.Staff("7"), ExpiresAt: at(24*time.Hour + 9)}
	require.NoError(t, s.CreateBindCode(ctx, b))
	requireUTC(t, b.CreatedAt, "CreatedAt")
	requireStoredTime(t, at(24*time.Hour+9), b.ExpiresAt, "ExpiresAt")
	require.Nil(t, b.UsedAt)

	requireConflict(t, s.CreateBindCode(ctx, &casework.BindCode{Code: "K7Q2-9XPA", MemberID: f.member2.ID, IssuedBy: casework.Staff("8"), ExpiresAt: at(time.Hour)}))
	requireErrNotFound(t, s.CreateBindCode(ctx, &casework.BindCode{Code: "NOBODY", MemberID: 999999, IssuedBy: casework.Staff("7"), ExpiresAt: at(time.Hour)}))
	requireInvalid(t, s.CreateBindCode(ctx, &casework.BindCode{MemberID: f.member.ID, IssuedBy: casework.Staff("7"), ExpiresAt: at(time.Hour)}), "code")
	requireInvalid(t, s.CreateBindCode(ctx, &casework.BindCode{Code: "X", MemberID: f.member.ID, ExpiresAt: at(time.Hour)}), "issued_by")
	requireInvalid(t, s.CreateBindCode(ctx, &casework.BindCode{Code: "X", MemberID: f.member.ID, IssuedBy: casework.Staff("7")}), "expires_at")

	_, err := s.UseBindCode(ctx, "UNKNOWN", t0)
	requireErrNotFound(t, err)

	// Expired at its ExpiresAt exactly; the failed use does not spend it.
	_, err = s.UseBindCode(ctx, b.Code, at(24*time.Hour+9))
	requireErrNotFound(t, err)
	used, err := s.UseBindCode(ctx, b.Code, at(time.Hour+3))
	require.NoError(t, err)
	require.Equal(t, b.Code, used.Code)
	require.Equal(t, f.member.ID, used.MemberID)
	require.Equal(t, casework.Staff("7"), used.IssuedBy)
	require.NotNil(t, used.UsedAt)
	requireStoredTime(t, at(time.Hour+3), *used.UsedAt, "UsedAt")
	require.True(t, b.CreatedAt.Equal(used.CreatedAt))
	require.True(t, b.ExpiresAt.Equal(used.ExpiresAt))

	// Used once only.
	_, err = s.UseBindCode(ctx, b.Code, at(time.Hour+4))
	requireErrNotFound(t, err)

	// A member's chat accounts.
	for _, id := range []*casework.ChatIdentity{
		{Platform: "wechat", UserID: "oEng-1", MemberID: f.member.ID},
		{Platform: "telegram", UserID: "2002", MemberID: f.member.ID},
		{Platform: "telegram", UserID: "2003", MemberID: f.member2.ID},
		{Platform: "telegram", UserID: "1001", OwnerID: f.owner.ID},
	} {
		require.NoError(t, s.SaveChatIdentity(ctx, id))
	}
	ids, err := s.FindChatIdentitiesByMember(ctx, f.member.ID)
	require.NoError(t, err)
	require.Len(t, ids, 2)
	require.Equal(t, [2]string{"telegram", "2002"}, [2]string{ids[0].Platform, ids[0].UserID}, "ordered by platform")
	require.Equal(t, [2]string{"wechat", "oEng-1"}, [2]string{ids[1].Platform, ids[1].UserID})
	ids, err = s.FindChatIdentitiesByMember(ctx, 999999)
	require.NoError(t, err)
	require.Empty(t, ids)
}

func testBindCodeConcurrency(t *testing.T, h Harness) {
	s, _ := openLifecycle(t, h)
	ctx := t.Context()
	f := newFixture(t, s)
	for round := range 5 {
		code := fmt.Sprintf("RACE-%d", round)
		require.NoError(t, s.CreateBindCode(ctx, &casework.BindCode{Code: code, MemberID: f.member.ID, IssuedBy: casework.Staff("7"), ExpiresAt: at(time.Hour)}))
		const users = 8
		errs := make([]error, users)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range users {
			wg.Go(func() {
				<-start
				_, errs[i] = s.UseBindCode(ctx, code, at(time.Duration(i)*time.Second))
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
				continue
			}
			requireErrNotFound(t, err)
		}
		require.Equal(t, 1, won, "round %d: exactly one use wins", round)
	}
}

func testTasks(t *testing.T, h Harness) {
	s, jobs := openLifecycle(t, h)
	ctx := t.Context()
	f := newFixture(t, s)
	c := f.create(t, f.newCase(t0))
	other := f.create(t, f.newCase(t0))

	valid := func() *casework.Task {
		return &casework.Task{CaseID: c.ID, Assignee: "物业公司", Description: "协调楼上业主开门检查", DueAt: at(48*time.Hour + 7), CreatedBy: casework.Staff("7")}
	}
	for _, tt := range []struct {
		field  string
		mutate func(*casework.Task)
	}{
		{"task_assignee", func(t *casework.Task) { t.Assignee = " " }},
		{"task_description", func(t *casework.Task) { t.Description = "" }},
		{"task_due_at", func(t *casework.Task) { t.DueAt = time.Time{} }},
		{"task_created_by", func(t *casework.Task) { t.CreatedBy = "" }},
	} {
		task := valid()
		tt.mutate(task)
		requireInvalid(t, s.CreateTask(ctx, task, casework.Effects{}), tt.field)
	}
	missing := valid()
	missing.CaseID = 999999
	requireErrNotFound(t, s.CreateTask(ctx, missing, casework.Effects{}))

	// With a reminder to the assignee's follower and a due timer.
	task := valid()
	m := message(0, "task_created")
	due := casework.Timer{Kind: casework.TimerTaskDue, At: task.DueAt}
	require.NoError(t, s.CreateTask(ctx, task, casework.Effects{Messages: []*casework.OutboxMessage{m}, Timers: []casework.Timer{due}}))
	require.NotZero(t, task.ID)
	requireUTC(t, task.CreatedAt, "CreatedAt")
	requireStoredTime(t, at(48*time.Hour+7), task.DueAt, "DueAt")
	require.Nil(t, task.DoneAt)
	requireStoredMessage(t, s, m, c.ID)
	due.CaseID, due.Ref = c.ID, task.ID
	requireJobs(t, jobs, slices.Concat(deliver(m), timerJobs(due))...)
	got, err := s.FindTaskByID(ctx, task.ID)
	require.NoError(t, err)
	requireSameTask(t, task, got)

	events, err := s.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	e := events[len(events)-1]
	require.Equal(t, casework.EventNote, e.Kind)
	require.Equal(t, casework.Staff("7"), e.Actor)
	assert.Contains(t, e.Note, "物业公司")
	assert.Contains(t, e.Note, at(48*time.Hour).In(casework.ChinaTime()).Format("2006-01-02 15:04"))
	cur, err := s.FindCaseByID(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, c.Version+1, cur.Version, "a task does not change the case's version but by the first human contact, as this, by staff")

	// Ordered by due time.
	early := valid()
	early.Assignee, early.DueAt = "自来水公司", at(24*time.Hour)
	require.NoError(t, s.CreateTask(ctx, early, casework.Effects{}))
	elsewhere := valid()
	elsewhere.CaseID = other.ID
	require.NoError(t, s.CreateTask(ctx, elsewhere, casework.Effects{}))
	list, err := s.ListTasks(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, list, 2)
	requireSameTask(t, early, list[0])
	requireSameTask(t, task, list[1])
	list, err = s.ListTasks(ctx, 999999)
	require.NoError(t, err)
	require.Empty(t, list)

	// Done, once.
	before := len(events) + 1 // the early task's note
	require.NoError(t, s.CompleteTask(ctx, early.ID, at(30*time.Hour+3), casework.Staff("8")))
	require.NoError(t, s.CompleteTask(ctx, early.ID, at(31*time.Hour), casework.Staff("9")))
	got, err = s.FindTaskByID(ctx, early.ID)
	require.NoError(t, err)
	require.NotNil(t, got.DoneAt)
	requireStoredTime(t, at(30*time.Hour+3), *got.DoneAt, "DoneAt")
	events, err = s.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, events, before+1, "one note for the completion")
	e = events[len(events)-1]
	require.Equal(t, casework.EventNote, e.Kind)
	require.Equal(t, casework.Staff("8"), e.Actor)
	assert.Contains(t, e.Note, "自来水公司")

	// Due: not done, due by then, of every case, soonest first.
	due1, err := s.ListDueTasks(ctx, at(48*time.Hour+7), 10)
	require.NoError(t, err)
	require.Len(t, due1, 2, "the early task is done")
	requireSameTask(t, task, due1[0])
	requireSameTask(t, elsewhere, due1[1])
	none, err := s.ListDueTasks(ctx, at(47*time.Hour), 10)
	require.NoError(t, err)
	require.Empty(t, none, "not due yet")
	one, err := s.ListDueTasks(ctx, at(72*time.Hour), 1)
	require.NoError(t, err)
	require.Len(t, one, 1, "at most limit")
	_, err = s.ListDueTasks(ctx, t0, 0)
	requireInvalid(t, err, "limit")

	requireErrNotFound(t, s.CompleteTask(ctx, 999999, t0, casework.Staff("7")))
	requireInvalid(t, s.CompleteTask(ctx, task.ID, t0, ""), "actor")
	_, err = s.FindTaskByID(ctx, 999999)
	requireErrNotFound(t, err)
}

// requireSameTask checks that got equals want, comparing times with Equal.
func requireSameTask(t testing.TB, want, got *casework.Task) {
	t.Helper()
	w, g := *want, *got
	requireStoredTime(t, w.DueAt, g.DueAt, "task DueAt")
	requireStoredTime(t, w.CreatedAt, g.CreatedAt, "task CreatedAt")
	require.Equal(t, w.DoneAt == nil, g.DoneAt == nil, "task DoneAt")
	if w.DoneAt != nil {
		requireStoredTime(t, *w.DoneAt, *g.DoneAt, "task DoneAt")
	}
	w.DueAt, g.DueAt, w.CreatedAt, g.CreatedAt, w.DoneAt, g.DoneAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}, nil, nil
	require.Equal(t, w, g)
}

func testCaseStats(t *testing.T, h Harness) {
	s, _ := openLifecycle(t, h)
	ctx := t.Context()
	f := newFixture(t, s)
	policy := casework.DefaultSLAPolicy()
	now := at(48 * time.Hour)

	// Nothing yet: zeros, no NaN.
	st, err := s.CaseStats(ctx, time.Time{}, time.Time{}, now)
	require.NoError(t, err)
	require.Zero(t, st.Total)
	require.Zero(t, st.BreachRate)
	require.Zero(t, st.Satisfaction)
	require.Zero(t, st.RepeatRepairRate)
	require.Zero(t, st.MedianResponse)
	require.Zero(t, st.MedianResolution)
	require.Empty(t, st.ByState)

	type step struct {
		after  time.Duration // from receipt
		action casework.Action
		survey *casework.Survey
	}
	mk := func(received time.Time, mutate func(c *casework.Case), steps ...step) *casework.Case {
		t.Helper()
		c := f.newCase(received)
		mutate(c)
		policy.SetDeadlines(c)
		f.create(t, c)
		for _, st := range steps {
			tr := casework.Transition{Action: st.action, Actor: casework.Staff("7"), At: received.Add(st.after), Survey: st.survey}
			if st.action == casework.ActionDispatch {
				tr.PartyID, tr.AssigneeID = &f.party.ID, &f.member.ID
			}
			var err error
			c, err = s.TransitionCase(ctx, c.ID, 0, tr)
			require.NoError(t, err, st.action)
		}
		return c
	}
	none := func(*casework.Case) {}
	// A: responded in 1h, resolved in 5h, surveyed 5/5/4, closed; no breach.
	a := mk(t0, none, step{time.Hour, casework.ActionAccept, nil}, step{2 * time.Hour, casework.ActionDispatch, nil},
		step{3 * time.Hour, casework.ActionInspect, nil}, step{5 * time.Hour, casework.ActionComplete, nil},
		step{6 * time.Hour, casework.ActionOwnerAccept, nil},
		step{7 * time.Hour, casework.ActionSurvey, &casework.Survey{Speed: 5, Attitude: 5, Quality: 4, AnsweredAt: at(7 * time.Hour)}},
		step{8 * time.Hour, casework.ActionClose, nil})
	// B: urgent, responded in 3h: late (1h).
	b := mk(at(time.Minute), func(c *casework.Case) { c.Urgency = casework.UrgencyUrgent },
		step{3 * time.Hour, casework.ActionAccept, nil}, step{3*time.Hour + time.Minute, casework.ActionDispatch, nil})
	// C: a design defect in the second project, responded in 2h, resolved
	// in 10h, then rejected by the owner: a repeat repair, no longer
	// resolved.
	c := mk(at(2*time.Minute), func(c *casework.Case) {
		c.ProjectID, c.BuildingID, c.UnitID, c.OwnerID = f.project2.ID, f.buildingP2.ID, f.unitP2.ID, 0
		c.Category, c.Subcategory = casework.CategoryDesignDefect, casework.SubLayout
	}, step{2 * time.Hour, casework.ActionAccept, nil}, step{10 * time.Hour, casework.ActionComplete, nil},
		step{11 * time.Hour, casework.ActionOwnerReject, nil})
	// D: a suggestion never answered: late by now.
	d := mk(at(3*time.Minute), func(c *casework.Case) { c.Category, c.Subcategory = casework.CategoryOther, casework.SubSuggestion })
	// E: responded in 30m, resolved in 3h, surveyed 3/2/4.
	e := mk(at(4*time.Minute), none, step{30 * time.Minute, casework.ActionAccept, nil}, step{31 * time.Minute, casework.ActionDispatch, nil},
		step{time.Hour, casework.ActionInspect, nil}, step{3 * time.Hour, casework.ActionComplete, nil},
		step{4 * time.Hour, casework.ActionOwnerAccept, nil},
		step{5 * time.Hour, casework.ActionSurvey, &casework.Survey{Speed: 3, Attitude: 2, Quality: 4}})
	// Outside the period: before and at its end.
	mk(at(-48*time.Hour), none, step{time.Minute, casework.ActionAccept, nil})
	mk(at(time.Hour), none)

	require.Equal(t, casework.StateClosed, a.State)
	require.Equal(t, casework.StateReopened, c.State)
	require.Equal(t, 1, c.RepairCount)
	for _, cs := range []*casework.Case{a, b, c, d, e} {
		require.Equal(t, len(cs.Breaches(now)) > 0, cs == b || cs == d, "case %s breaches: %v", cs.Number, cs.Breaches(now))
	}

	st, err = s.CaseStats(ctx, at(-time.Hour), at(time.Hour), now)
	require.NoError(t, err)
	require.Equal(t, 5, st.Total)
	require.Equal(t, map[casework.State]int{casework.StateClosed: 1, casework.StateDispatched: 1, casework.StateReopened: 1,
		casework.StateRegistered: 1, casework.StateSurveyed: 1}, st.ByState)
	require.Equal(t, map[casework.Category]int{casework.CategoryEngineeringQuality: 3, casework.CategoryDesignDefect: 1,
		casework.CategoryOther: 1}, st.ByCategory)
	require.Equal(t, map[int64]int{f.project.ID: 4, f.project2.ID: 1}, st.ByProject)
	require.Equal(t, map[int64]int{f.party.ID: 3, 0: 2}, st.ByParty)
	require.Equal(t, 90*time.Minute, st.MedianResponse, "of 30m, 1h, 2h, 3h")
	require.Equal(t, 4*time.Hour, st.MedianResolution, "of 3h and 5h; C's was undone")
	require.InDelta(t, 0.4, st.BreachRate, 1e-9)
	require.Equal(t, 2, st.Surveys)
	require.InDelta(t, 4.0/6, st.Satisfaction, 1e-9)
	require.InDelta(t, 1.0/3, st.RepeatRepairRate, 1e-9, "C of A, C, E")

	// Unbounded, the others count too; an odd number of responses.
	st, err = s.CaseStats(ctx, time.Time{}, time.Time{}, now)
	require.NoError(t, err)
	require.Equal(t, 7, st.Total)
	require.Equal(t, time.Hour, st.MedianResponse, "of 1m, 30m, 1h, 2h, 3h")
	// From alone, to alone.
	st, err = s.CaseStats(ctx, at(time.Hour), time.Time{}, now)
	require.NoError(t, err)
	require.Equal(t, 1, st.Total)
	st, err = s.CaseStats(ctx, time.Time{}, t0, now)
	require.NoError(t, err)
	require.Equal(t, 1, st.Total)
	// A period without cases.
	st, err = s.CaseStats(ctx, at(1000*time.Hour), at(2000*time.Hour), now)
	require.NoError(t, err)
	require.Zero(t, st.Total)
	require.Zero(t, st.Satisfaction)
}

func testMigrateLegacyCase(t *testing.T, h Harness) {
	if h.OpenMigrated == nil {
		t.Skip("Harness.OpenMigrated is not set")
	}
	s, number := h.OpenMigrated(t)
	ctx := t.Context()
	c, err := s.FindCaseByNumber(ctx, number)
	require.NoError(t, err)
	requireNoLifecycleFields(t, c) // the defaults of cases stored before 0003
	require.Empty(t, c.ReporterPlatform)
	require.Empty(t, c.ReporterUserID)
	require.False(t, c.IdentityVerified, "the bot received it: nobody proved who reported it (0004)")
	require.Empty(t, c.IntakeKey, "registered before reports had keys (0005)")
	require.Equal(t, casework.StateRegistered, c.State)
	require.Equal(t, casework.ChannelWeChat, c.Channel)
	requireStoredTime(t, t0, c.ReceivedAt, "ReceivedAt")
	events, err := s.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, events, 1)
	require.Equal(t, casework.EventCreated, events[0].Kind)

	// It goes on as any other case.
	got, err := s.TransitionCase(ctx, c.ID, c.Version, casework.Transition{Action: casework.ActionAccept, Actor: casework.Staff("7"), At: at(time.Hour)})
	require.NoError(t, err)
	got, err = s.UpdateCase(ctx, got.ID, got.Version, casework.CaseUpdate{Actor: casework.Staff("7"), AppointmentAt: ptr(at(24 * time.Hour))})
	require.NoError(t, err)
	found, err := s.FindCaseByID(ctx, c.ID)
	require.NoError(t, err)
	requireSameCase(t, got, found)
	require.NoError(t, s.AddCaseEvent(ctx, &casework.Event{CaseID: c.ID, Kind: casework.EventDeliveryFailed, Actor: casework.ActorSystem, Note: "x"}))
	events, err = s.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, events, 4)
	require.Equal(t, 4, events[3].Seq)
	// And a new case takes the next number of its day.
	next := &casework.Case{ProjectID: c.ProjectID, Description: "新的", Channel: casework.ChannelWeb, ReceivedAt: t0, ReceivedBy: casework.ActorBot,
		Category: casework.CategoryOther}
	require.NoError(t, s.CreateCase(ctx, next))
	require.NotEqual(t, number, next.Number)
	// Cases without a key, the old one among them, don't conflict; reports
	// with keys do.
	keyed := &casework.Case{ProjectID: c.ProjectID, Description: "新的", Channel: casework.ChannelWeb, ReceivedAt: t0, ReceivedBy: casework.ActorBot,
		Category: casework.CategoryOther, IntakeKey: "web:v1:1"}
	require.NoError(t, s.CreateCase(ctx, keyed))
	again := *keyed
	again.ID, again.Number = 0, ""
	requireDuplicateIntake(t, s.CreateCase(ctx, &again), keyed)
	last := &casework.Case{ProjectID: c.ProjectID, Description: "新的", Channel: casework.ChannelWeb, ReceivedAt: t0, ReceivedBy: casework.ActorBot,
		Category: casework.CategoryOther}
	require.NoError(t, s.CreateCase(ctx, last))
	require.Equal(t, caseNumber(t0, 4), last.Number, "after the legacy case's 0001, 0002 and 0003, the duplicate took none")
}
