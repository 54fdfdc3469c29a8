package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

// requireDuplicateIntake checks that err is a *casework.DuplicateIntakeError
// matching ErrDuplicateIntake and naming first.
func requireDuplicateIntake(t testing.TB, err error, first *casework.Case, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	require.Truef(t, errors.Is(err, casework.ErrDuplicateIntake), "want ErrDuplicateIntake, got %v", err)
	var dup *casework.DuplicateIntakeError
	require.Truef(t, errors.As(err, &dup), "want a *DuplicateIntakeError, got %T: %v", err, err)
	require.Equal(t, first.ID, dup.ID, "the case registered first")
	require.Equal(t, first.Number, dup.Number, "the case registered first")
}

// requireNotStored checks that c, refused, was left unchanged by the store:
// no ID, number, version or state, nor media IDs.
func requireNotStored(t testing.TB, c *casework.Case, what string) {
	t.Helper()
	require.Zero(t, c.ID, "%s: the case given is unchanged", what)
	require.Empty(t, c.Number, "%s: the case given is unchanged", what)
	require.Zero(t, c.Version, "%s: the case given is unchanged", what)
	require.Empty(t, c.State, "%s: the case given is unchanged", what)
	for i, m := range c.Media {
		require.Zero(t, m.ID, "%s: media %d is unchanged", what, i)
		require.Zero(t, m.CaseID, "%s: media %d is unchanged", what, i)
	}
}

// caseNumber is the number of the seq-th case of the day of received.
func caseNumber(received time.Time, seq int64) string {
	n := casework.DefaultNumbering()
	return n.Format(n.Day(received), seq)
}

// requireCaseCount checks that the store holds n cases.
func requireCaseCount(t testing.TB, s casework.Store, n int, msgAndArgs ...any) {
	t.Helper()
	_, total, err := s.FindCases(t.Context(), casework.CaseFilter{})
	require.NoError(t, err)
	require.Equal(t, n, total, msgAndArgs...)
}

// requireSameTimeline checks that case id's timeline is still want.
func requireSameTimeline(t testing.TB, s casework.Store, id int64, want []*casework.Event, what string) {
	t.Helper()
	got, err := s.ListCaseEvents(t.Context(), id)
	require.NoError(t, err)
	require.Len(t, got, len(want), "%s: the timeline of case %d", what, id)
	for i := range want {
		requireSameEvent(t, want[i], got[i])
	}
}

// testIntakeKey: a case's IntakeKey round-trips and stays through every
// write; a second case with the key stores nothing, takes no number and
// names the first; "" never conflicts.
func testIntakeKey(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()
	f := newFixture(t, s)
	const key = "telegram:1001:7f3a9c"

	first := f.newCase(t0)
	first.IntakeKey = key
	first.ReporterPlatform, first.ReporterUserID = "telegram", "1001"
	first.Media = []casework.MediaRef{{Kind: casework.MediaPhoto, BlobKey: "k/first.jpg", ContentType: "image/jpeg", Size: 1}}
	f.create(t, first)
	require.Equal(t, key, first.IntakeKey)
	require.Equal(t, caseNumber(t0, 1), first.Number)
	check := func(want *casework.Case) {
		t.Helper()
		got, err := s.FindCaseByID(ctx, want.ID)
		require.NoError(t, err)
		requireSameCase(t, want, got)
		got, err = s.FindCaseByNumber(ctx, want.Number)
		require.NoError(t, err)
		requireSameCase(t, want, got)
		list, n, err := s.FindCases(ctx, casework.CaseFilter{Text: want.Number})
		require.NoError(t, err)
		require.Equal(t, 1, n)
		noMedia := *want
		noMedia.Media = nil
		requireSameCase(t, &noMedia, list[0])
	}
	check(first)
	timeline, err := s.ListCaseEvents(ctx, first.ID)
	require.NoError(t, err)

	// The same report again, on the same day and on another: refused,
	// naming the first, with nothing of it stored.
	for _, received := range []time.Time{at(time.Minute), at(48 * time.Hour)} {
		dup := f.newCase(received)
		dup.IntakeKey = key
		dup.Description = "同一报修又提交了一次"
		dup.Media = []casework.MediaRef{{Kind: casework.MediaPhoto, BlobKey: "k/again.jpg", ContentType: "image/jpeg", Size: 2}}
		requireDuplicateIntake(t, s.CreateCase(ctx, dup), first, "received %s", received)
		requireNotStored(t, dup, "duplicate")
	}
	requireCaseCount(t, s, 1, "the duplicates are not stored")
	check(first)
	requireSameTimeline(t, s, first.ID, timeline, "duplicate")

	// Nor did they take a number: the next cases of both days get the next
	// ones, without a gap, whether they have no key or another.
	other := f.newCase(at(2 * time.Minute))
	other.IntakeKey = "telegram:1001:0b12de"
	f.create(t, other)
	require.Equal(t, caseNumber(t0, 2), other.Number)
	require.Equal(t, caseNumber(t0, 3), f.create(t, f.newCase(at(3*time.Minute))).Number)
	require.Equal(t, caseNumber(at(48*time.Hour), 1), f.create(t, f.newCase(at(48*time.Hour))).Number)
	// Keys are compared exactly: one that differs in case alone is another.
	upper := f.newCase(at(4 * time.Minute))
	upper.IntakeKey = "TELEGRAM:1001:7F3A9C"
	f.create(t, upper)
	require.Equal(t, caseNumber(t0, 4), upper.Number)
	check(upper)

	// Cases staff type in have no key, and never conflict.
	staff1, staff2 := f.newCase(at(5*time.Minute)), f.newCase(at(5*time.Minute))
	staff1.ReceivedBy, staff2.ReceivedBy = casework.Staff("42"), casework.Staff("42")
	f.create(t, staff1)
	f.create(t, staff2)
	require.Empty(t, staff1.IntakeKey)
	check(staff1)
	check(staff2)
	requireCaseCount(t, s, 7)

	// Writes after registration keep the key, and the key keeps refusing
	// the report.
	c, err := s.UpdateCase(ctx, first.ID, first.Version, casework.CaseUpdate{Actor: casework.Staff("7"), Description: ptr("卫生间天花板渗水(已核实)")})
	require.NoError(t, err)
	require.Equal(t, key, c.IntakeKey, "kept by an update")
	c = f.transition(t, c.ID, at(time.Hour), casework.ActionAccept)
	require.Equal(t, key, c.IntakeKey, "kept by a transition")
	check(c)
	dup := f.newCase(at(2 * time.Hour))
	dup.IntakeKey = key
	requireDuplicateIntake(t, s.CreateCase(ctx, dup), c)
	up, err := s.UpdateCase(ctx, staff1.ID, staff1.Version, casework.CaseUpdate{Actor: casework.Staff("7"), ContactTime: ptr("晚上")})
	require.NoError(t, err)
	require.Empty(t, up.IntakeKey, "no key stays none")
	check(up)
	requireCaseCount(t, s, 7)
}

// race runs create(i) for i in [0, n) at once, each in its own goroutine,
// and returns the cases created and the errors of the others.
func race(n int, create func(i int) (*casework.Case, error)) ([]*casework.Case, []error) {
	var (
		mu      sync.Mutex
		created []*casework.Case
		errs    []error
		wg      sync.WaitGroup
	)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			c, err := create(i)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			created = append(created, c)
		})
	}
	close(start)
	wg.Wait()
	return created, errs
}

// intakeRacers is how many registrations of one report race each other.
const intakeRacers = 12

// testIntakeKeyConcurrency: registrations of one report at once, on three
// days, give one case; the others fail naming it and take no number.
func testIntakeKeyConcurrency(t *testing.T, h Harness) {
	s := h.Open(t)
	f := newFixture(t, s)
	const key = "wechat:oOwner-1:c0ffee"
	days := []time.Time{t0, at(24 * time.Hour), at(48 * time.Hour)}

	created, errs := race(intakeRacers, func(i int) (*casework.Case, error) {
		c := f.newCase(days[i%len(days)].Add(time.Duration(i) * time.Second))
		c.IntakeKey = key
		c.Media = []casework.MediaRef{{Kind: casework.MediaPhoto, BlobKey: fmt.Sprintf("k/%d.jpg", i)}}
		return c, s.CreateCase(f.ctx, c)
	})
	require.Len(t, created, 1, "one case for one report; errors: %v", errs)
	won := created[0]
	require.Len(t, errs, intakeRacers-1)
	for _, err := range errs {
		requireDuplicateIntake(t, err, won)
	}
	requireCaseCount(t, s, 1)
	got, err := s.FindCaseByID(f.ctx, won.ID)
	require.NoError(t, err)
	requireSameCase(t, won, got)
	events, err := s.ListCaseEvents(f.ctx, won.ID)
	require.NoError(t, err)
	require.Len(t, events, 1)

	// Every day's counter moved for the case registered alone.
	for _, day := range days {
		want := int64(1)
		if casework.DefaultNumbering().Day(day) == casework.DefaultNumbering().Day(won.ReceivedAt) {
			want = 2
		}
		c := f.create(t, f.newCase(day.Add(time.Hour)))
		require.Equal(t, caseNumber(day, want), c.Number)
	}
}

// testLifecycleIntakeKey: CreateCaseWith refuses a report registered
// already as CreateCase does, and writes none of its effects: no outbox
// message, no job; at once, one registration of a report and its effects.
func testLifecycleIntakeKey(t *testing.T, h Harness) {
	s, jobs := openLifecycle(t, h)
	ctx := t.Context()
	f := newFixture(t, s)
	const key = "telegram:1001:effects"
	eff := func(i int) (casework.Effects, *casework.OutboxMessage, casework.Timer) {
		m := message(0, fmt.Sprintf("owner_update_%d", i))
		tm := casework.Timer{Kind: casework.TimerRespondDeadline, At: at(time.Duration(i+1) * time.Hour)}
		return casework.Effects{Messages: []*casework.OutboxMessage{m}, Timers: []casework.Timer{tm}}, m, tm
	}

	first := f.newCase(t0)
	first.IntakeKey = key
	e, m, tm := eff(0)
	require.NoError(t, s.CreateCaseWith(ctx, first, e))
	requireStoredMessage(t, s, m, first.ID)
	tm.CaseID = first.ID
	requireJobs(t, jobs, slices.Concat(deliver(m), timerJobs(tm))...)
	before := snapshot(t, s, first.ID)

	// Again with effects, and again without.
	dup := f.newCase(at(time.Minute))
	dup.IntakeKey = key
	e, m, _ = eff(1)
	requireDuplicateIntake(t, s.CreateCaseWith(ctx, dup, e), first)
	requireNotStored(t, dup, "duplicate with effects")
	require.Zero(t, m.ID, "the message given is unchanged")
	require.Zero(t, m.CaseID, "the message given is unchanged")
	require.Empty(t, m.Status, "the message given is unchanged")
	requireDuplicateIntake(t, s.CreateCaseWith(ctx, dup, casework.Effects{}), first)
	requireNotStored(t, dup, "duplicate without effects")
	got, calls := jobs.Take()
	require.Empty(t, got, "no jobs of a duplicate")
	require.Zero(t, calls)
	requireUnchanged(t, s, before, "duplicate")
	requireCaseCount(t, s, 1)
	next := f.newCase(at(2 * time.Minute))
	e, m, tm = eff(2)
	require.NoError(t, s.CreateCaseWith(ctx, next, e))
	require.Equal(t, caseNumber(t0, 2), next.Number, "the duplicate took no number")
	requireStoredMessage(t, s, m, next.ID)
	tm.CaseID = next.ID
	requireJobs(t, jobs, slices.Concat(deliver(m), timerJobs(tm))...)

	// At once: one case, its message and its jobs; nothing of the others.
	const raced = "telegram:1001:raced"
	msgs := make([]*casework.OutboxMessage, intakeRacers)
	timers := make([]casework.Timer, intakeRacers)
	created, errs := race(intakeRacers, func(i int) (*casework.Case, error) {
		c := f.newCase(at(time.Duration(i) * time.Second))
		c.IntakeKey = raced
		var e casework.Effects
		e, msgs[i], timers[i] = eff(i)
		return c, s.CreateCaseWith(ctx, c, e)
	})
	require.Len(t, created, 1, "one case for one report; errors: %v", errs)
	won := created[0]
	require.Len(t, errs, intakeRacers-1)
	for _, err := range errs {
		requireDuplicateIntake(t, err, won)
	}
	requireCaseCount(t, s, 3)
	require.Equal(t, caseNumber(t0, 3), won.Number)
	var wonMsg *casework.OutboxMessage
	var wonTimer casework.Timer
	for i, m := range msgs {
		if m.ID == 0 {
			require.Zero(t, m.CaseID, "message %d of a duplicate is unchanged", i)
			continue
		}
		require.Nil(t, wonMsg, "one message stored")
		wonMsg, wonTimer = m, timers[i]
	}
	require.NotNil(t, wonMsg)
	requireStoredMessage(t, s, wonMsg, won.ID)
	wonTimer.CaseID = won.ID
	requireJobs(t, jobs, slices.Concat(deliver(wonMsg), timerJobs(wonTimer))...)
	outbox, err := s.ListOutbox(ctx, won.ID)
	require.NoError(t, err)
	require.Len(t, outbox, 1)
	require.Equal(t, caseNumber(t0, 4), f.create(t, f.newCase(at(time.Hour))).Number, "no number taken by the duplicates")
}
