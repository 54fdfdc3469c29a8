// Package storagetest is the conformance suite every casework.Store backend
// must pass. A backend's _test.go calls Run once with a Harness that opens
// fresh stores, and Bench from a benchmark:
//
//	func TestStore(t *testing.T) {
//		storagetest.Run(t, storagetest.Harness{Open: …, OpenFailing: …, OpenLifecycle: …, OpenMigrated: …})
//	}
//	func BenchmarkStore(b *testing.B) { storagetest.Bench(b, open) }
//
// Any change in storage behaviour goes into this suite first, then into
// every backend.
//
// Beyond what the casework.Store comments say, the suite fixes these
// behaviours, which every backend shares:
//
//   - Times. A store keeps times to the microsecond and returns them in UTC:
//     every time.Time it returns equals the one it was given truncated to the
//     microsecond (t.Truncate(time.Microsecond)) and has Location() == time.UTC.
//     The entity a Create or Update method was given, and the case a
//     TransitionCase or UpdateCase returns, already carry the stored values,
//     so they equal what a later Find returns; the case TransitionCase and
//     UpdateCase return carries its media, as FindCaseByID's does. Zero times (Case.ReceivedAt,
//     Transition.At, Event.At, MediaRef.CreatedAt) are set from the store's
//     clock. Dates (casework.Date) are kept as calendar days.
//   - Case numbers come from casework.DefaultNumbering: the store a Harness
//     opens must number cases SH-YYYYMMDD-NNNN, by the day of ReceivedAt in
//     China time.
//   - CreateCase starts the lifecycle afresh: State registered, Version 1, no
//     HeldFrom, RepairCount 0 and no RespondedAt, OnSiteAt, ResolvedAt or
//     ClosedAt, whatever the given case carried. Its EventCreated is at
//     ReceivedAt, by ReceivedBy.
//   - Intake keys: a case's IntakeKey is kept as given, through every later
//     write, and "" never conflicts. A case refused as a duplicate of a
//     report (its IntakeKey is a case's already, whatever the day it was
//     received) stores nothing and changes nothing: no case, event, media,
//     outbox message or job, and the case and the effects given are left as
//     they were. It takes no number either: the next case of its day gets
//     the next one, without a gap. Of registrations of one report at once,
//     exactly one stores a case and the others fail naming it.
//   - A case's references must exist: a case naming a project, building,
//     unit, owner, party or member that does not exist is refused with a
//     *casework.ValidationError naming the field ("project", "building",
//     "unit", "owner", "party", "assignee"). Registry writes that name a
//     missing parent (a building's project, a unit's building, a member's
//     party, a route's project, building or party) return casework.ErrNotFound.
//   - AddCaseEvent takes the entries that record no change of their own:
//     every casework.EventKinds but created, transition, updated and media
//     (those come with the writes they describe). AddCaseEvent and
//     AddCaseMedia do not change the case's Version, but for the first
//     human contact.
//   - First human contact: every entry after the EventCreated, whatever
//     writes it, is noted on its case (casework.Case.NoteContact) in the
//     same transaction. The first by staff or a party's member sets the
//     case's RespondedAt to the entry's At and, on a chat's case the bot
//     received, its ReceivedBy to that person, with a new Version (once,
//     for a write that changes the case anyway); entries by the bot, the
//     system or the owner, and later entries, change neither.
//   - A case's ProposedSlots read back nil when there are none; a Plan's
//     Disruptions likewise. A Survey is stored when its scores are, its
//     AnsweredAt as given (zero stays zero). Cases stored before the
//     lifecycle migration (0003) read back with WarrantyStatus
//     casework.WarrantyNone ("not_applicable"), what Case.Validate fills in.
//   - Effects (casework.LifecycleStore): each message is stored pending,
//     with no attempts and CreatedAt the store's now, and gets its ID and,
//     when zero, the CaseID of the case written (0 in Enqueue); the job
//     queue then gets, in the same transaction, one casework.JobDeliver per
//     message, in order, then one casework.JobTimer per timer, a zero
//     Timer.CaseID being the case's. The messages given change only when the
//     write is committed. A write with effects and no job queue fails and
//     stores nothing; a queue that fails rolls the whole write back. A
//     message needs a platform and a user ID ("message_platform",
//     "message_user_id"); a timer a known kind and a time ("timer_kind",
//     "timer_at").
//   - Outbox: MarkOutboxSent on a sent message keeps its first SentAt
//     (and MarkOutboxSentRef its first SentRef as well);
//     MarkOutboxAttempt on a message no longer pending changes nothing. The
//     note of an EventDeliveryFailed names the platform, the purpose and the
//     error, never the payload.
//   - UseBindCode: a code expires at its ExpiresAt (used then, not found).
//   - CreateTask's EventNote, by the task's CreatedBy, contains the assignee
//     and the due time in China time as 2006-01-02 15:04; in its effects, a
//     casework.TimerTaskDue with a zero Ref gets the task's ID. CompleteTask
//     adds an EventNote by its actor; on a task done already it changes
//     nothing. ListOutbox and ListTasks of an unknown case are empty.
//   - CaseStats: a median of an even number of durations is the mean of the
//     middle two; ByParty counts every case, those without a party under 0;
//     shares of nothing are 0.
//   - ImportStats counts the distinct records an import wrote, created or
//     matched and updated, so importing the same batch twice gives the same
//     stats. Re-importing updates names and, when given, dates.
//   - FindCases's Text matches literally: % and _ are not wildcards.
//   - FindCases's ReporterPlatform and ReporterUserID are given together or
//     not at all: one alone is a *casework.ValidationError "reporter".
//   - A store that also implements casework.IdentityStore is checked as one
//     (ChatIdentity); SaveChatIdentity refuses an owner, unit or member that
//     does not exist with a *casework.ValidationError naming it, and an
//     identity whose VerifiedAt and VerifiedBy are not set together, or
//     that names a VerifiedPhone without a VerifiedAt, with one naming
//     "verified_by" or "verified_at".
//   - Verification codes: CreateVerificationCode needs a platform, user ID,
//     phone, code hash and expiry ("platform", "user_id", "phone",
//     "code_hash", "expires_at"); a new code has no attempts and no UsedAt,
//     whatever it carried; a zero CreatedAt is the store's now.
//     CountVerificationCodes counts codes created at or after since; its
//     Last is the newest CreatedAt of the phone's or the account's codes,
//     however old. SpendVerificationCode on a used code keeps its first
//     UsedAt, so that of two who use it the second can tell; a zero at is
//     the store's now.
//   - RecordFailure needs a kind and a subject; a zero at is the store's
//     now; CountFailures counts those at or after since.
//   - AttachReportedCases needs the platform and the user ID ("reporter").
//     Each case it attaches gets Version+1, UpdatedAt the store's now and an
//     EventUpdated by casework.ActorBot with the note "业主身份已验证 owner
//     identity verified", at that moment; its owner name and phone stay as
//     typed.
//   - AddOwnerEvent needs an actor and a kind; a zero At is the store's now.
//     ListOwnerEvents orders by At, then ID; an unknown owner's is empty.
//   - A store that also implements staff.Store is checked as one (Staff*).
//     CreateUser and UpdateUser refuse what User.Validate refuses, and a
//     party or a project that does not exist with a
//     *casework.ValidationError naming "party" or "project", storing
//     nothing; ProjectIDs are stored and returned sorted, without repeats,
//     nil when there are none. Both set the account given to the one
//     stored, so UpdateUser's gets back its stored Username. The times of
//     sessions and audit entries are kept as given. A session needs its
//     token hash ("token_hash") and a user that exists (else
//     casework.ErrNotFound); touching an ended session is
//     casework.ErrNotFound. An audit entry needs an action ("action");
//     ListAudit orders by ID, newest first, and a negative Limit is a
//     *casework.ValidationError "limit". An account's row deleted takes its
//     sessions and its projects with it, not its audit entries, and its ID
//     is never given to another account. A service account has no TOTP
//     secret ("totp"); UpdateUser keeps the later of the stored TOTPStep
//     and the account's, and UseTOTPStep moves it forward once per step,
//     however many call it at once.
//   - A store that also implements casework.RosterStore is checked as one
//     (Roster): a roster is replaced whole per project, all or nothing, and
//     listed from Monday to Sunday, then by date; casework.ResolveRoster
//     finds its people in the registry and lists every bad line.
package storagetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/testclock"
)

// Harness opens the stores the suite runs against.
type Harness struct {
	// Open returns a fresh, migrated, empty store that no other call of Open
	// shares, numbering cases with casework.DefaultNumbering. The backend
	// closes it in t.Cleanup.
	Open func(t testing.TB) casework.Store
	// OpenFailing returns two stores over one fresh, migrated, empty
	// database. In failing, CreateCase, UpdateCase, TransitionCase, and any
	// entry that is a case's first human contact, fail with err (wrapped
	// or not) right after the case row is written and before its event is
	// written; everything else works. normal is an
	// ordinary store on the same database through which the test inspects
	// what was left behind.
	OpenFailing func(t testing.TB, err error) (failing, normal casework.Store)
	// OpenLifecycle returns a fresh store as Open does, with jobs as its job
	// queue (the backend wraps it in its own job queue type; see
	// JobRecorder), or with no job queue when jobs is nil. Nil skips the
	// lifecycle tests.
	OpenLifecycle func(t testing.TB, jobs *JobRecorder) LifecycleStore
	// OpenMigrated returns a store over a database that had a case written,
	// with its EventCreated, under migrations 0001 and 0002 only and was then
	// migrated to the latest, and that case's number: SH-20261127-0001, the
	// first of its day in case_counters. The case is in a project of its
	// own, registered, received at 2026-11-27T01:30:00.123456Z by the bot
	// through WeChat, an engineering-quality leak of normal urgency and
	// undetermined responsibility. Nil skips the test.
	OpenMigrated func(t testing.TB) (s casework.Store, number string)
	// DeleteStaffUser deletes the row of account id from s, a store Open
	// returned, as no method does (accounts are disabled), for the test of
	// what the schema does then. Nil skips the test.
	DeleteStaffUser func(t testing.TB, s casework.Store, id int64)
}

// LifecycleStore is a store with everything the lifecycle needs of one.
type LifecycleStore interface {
	casework.Store
	casework.IdentityStore
	casework.LifecycleStore
}

// Run runs the whole conformance suite against the stores h opens. Every
// subtest opens its own store and runs in parallel with the others.
func Run(t *testing.T, h Harness) {
	require.NotNil(t, h.Open, "Harness.Open is required")
	require.NotNil(t, h.OpenFailing, "Harness.OpenFailing is required")

	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"Ping", testPing},
		{"Project", testProject},
		{"Building", testBuilding},
		{"Unit", testUnit},
		{"FindUnits", testFindUnits},
		{"Owner", testOwner},
		{"OwnerUnit", testOwnerUnit},
		{"FindOwnersByName", testFindOwnersByName},
		{"Party", testParty},
		{"Member", testMember},
		{"Route", testRoute},
		{"Import", testImport},
		{"ImportUpsert", testImportUpsert},
		{"ImportUnknownReferences", testImportUnknownReferences},
		{"CreateCase", testCreateCase},
		{"CreateCaseValidation", testCreateCaseValidation},
		{"CaseRoundTrip", testCaseRoundTrip},
		{"CaseEnums", testCaseEnums},
		{"CaseNumbering", testCaseNumbering},
		{"CaseNumberConcurrency", testCaseNumberConcurrency},
		{"IntakeKey", testIntakeKey},
		{"IntakeKeyConcurrency", testIntakeKeyConcurrency},
		{"FindCasesFilters", testFindCasesFilters},
		{"FindCasesOverdue", testFindCasesOverdue},
		{"FindCasesText", testFindCasesText},
		{"FindCasesPaging", testFindCasesPaging},
		{"UpdateCase", testUpdateCase},
		{"OptimisticConcurrency", testOptimisticConcurrency},
		{"TransitionHappyPath", testTransitionHappyPath},
		{"TransitionHoldResume", testTransitionHoldResume},
		{"TransitionReopen", testTransitionReopen},
		{"TransitionAnswer", testTransitionAnswer},
		{"TransitionInvalid", testTransitionInvalid},
		{"Timeline", testTimeline},
		{"AddCaseEvent", testAddCaseEvent},
		{"AddCaseMedia", testAddCaseMedia},
		{"Atomicity", testAtomicity},
		{"FirstContact", testFirstContact},
		{"FirstContactTasks", testFirstContactTasks},
		{"ChatIdentity", testChatIdentity},
		{"ChatIdentityVerified", testChatIdentityVerified},
		{"VerificationCodes", testVerificationCodes},
		{"VerificationCodeLimits", testVerificationCodeLimits},
		{"AuthFailures", testAuthFailures},
		{"AttachReportedCases", testAttachReportedCases},
		{"OwnerEvents", testOwnerEvents},
		{"StaffUsers", testStaffUsers},
		{"StaffSessions", testStaffSessions},
		{"StaffAudit", testStaffAudit},
		{"StaffUserDeleted", testStaffUserDeleted},
		{"StaffViews", testStaffViews},
		{"StaffServiceAccounts", testStaffServiceAccounts},
		{"StaffTOTP", testStaffTOTP},
		{"Roster", testRoster},
		{"LifecycleCaseFields", testLifecycleCaseFields},
		{"LifecycleEffects", testLifecycleEffects},
		{"LifecycleEffectsAtomicity", testLifecycleEffectsAtomicity},
		{"LifecycleNoJobQueue", testLifecycleNoJobQueue},
		{"LifecycleIntakeKey", testLifecycleIntakeKey},
		{"Outbox", testOutbox},
		{"PendingOutbox", testPendingOutbox},
		{"OutboxSentRef", testOutboxSentRef},
		{"BindCode", testBindCode},
		{"BindCodeConcurrency", testBindCodeConcurrency},
		{"Tasks", testTasks},
		{"CaseStats", testCaseStats},
		{"MigrateLegacyCase", testMigrateLegacyCase},
		{"HandoffOpen", testHandoffOpen}, {"HandoffMessages", testHandoffMessages}, {"HandoffTakeAndEnd", testHandoffTakeAndEnd}, {"ListHandoffs", testListHandoffs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, h)
		})
	}
}

// t0 is the suite's fixed time: 27 November 2026, 09:30 in China (moved
// with the tests' dates, testclock), with nanoseconds a store must truncate.
var t0 = testclock.Date(2026, time.November, 27, 9, 30, 0, 123456789, casework.ChinaTime())

// clock runs from t0.
var clock = testclock.NewRunning(t0)

// Now is the clock a Harness's stores must be opened with (their NowFunc):
// the suite's time, running from t0.
func Now() time.Time { return clock.Now() }

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

func ptr[T any](v T) *T { return &v }

// openAs opens a store and skips the test unless it is also a T, an
// interface a backend may implement (casework.IdentityStore, staff.Store).
func openAs[T any](t *testing.T, h Harness) (casework.Store, T) {
	t.Helper()
	s := h.Open(t)
	v, ok := s.(T)
	if !ok {
		t.Skipf("%T does not implement %v", s, reflect.TypeFor[T]())
	}
	return s, v
}

func testPing(t *testing.T, h Harness) {
	s := h.Open(t)
	require.NoError(t, s.Ping(t.Context()))
}

// fixture is a small registry: one project with two buildings, a unit in
// each, an owner of the first unit, a contractor with an engineer, and a
// second project with one building and unit.
type fixture struct {
	project, project2   *casework.Project
	building, building2 *casework.Building
	buildingP2          *casework.Building
	unit, unit2, unitP2 *casework.Unit
	owner, owner2       *casework.Owner
	party, party2       *casework.Party
	member, member2     *casework.Member
	ctx                 context.Context
	store               casework.Store
}

func newFixture(t testing.TB, s casework.Store) *fixture {
	t.Helper()
	ctx := t.Context()
	f := &fixture{ctx: ctx, store: s}
	f.project = &casework.Project{Code: "HJY", Name: "海景苑", City: "上海", CompletionDate: casework.D(2024, 6, 30)}
	require.NoError(t, s.CreateProject(ctx, f.project))
	f.project2 = &casework.Project{Code: "LSY", Name: "绿水园", City: "杭州"}
	require.NoError(t, s.CreateProject(ctx, f.project2))

	f.building = &casework.Building{ProjectID: f.project.ID, Code: "3", Name: "3栋"}
	require.NoError(t, s.CreateBuilding(ctx, f.building))
	f.building2 = &casework.Building{ProjectID: f.project.ID, Code: "5", Name: "5栋", CompletionDate: casework.D(2025, 3, 31)}
	require.NoError(t, s.CreateBuilding(ctx, f.building2))
	f.buildingP2 = &casework.Building{ProjectID: f.project2.ID, Code: "1", Name: "1栋"}
	require.NoError(t, s.CreateBuilding(ctx, f.buildingP2))

	f.unit = &casework.Unit{ProjectID: f.project.ID, BuildingID: f.building.ID, Building: "3", Entrance: "2", Floor: 15, Room: "1502", DeliveryDate: casework.D(2024, 9, 1)}
	require.NoError(t, s.CreateUnit(ctx, f.unit))
	f.unit2 = &casework.Unit{ProjectID: f.project.ID, BuildingID: f.building2.ID, Building: "5", Floor: 3, Room: "301"}
	require.NoError(t, s.CreateUnit(ctx, f.unit2))
	f.unitP2 = &casework.Unit{ProjectID: f.project2.ID, BuildingID: f.buildingP2.ID, Building: "1", Entrance: "1", Floor: 8, Room: "801"}
	require.NoError(t, s.CreateUnit(ctx, f.unitP2))

	f.owner = &casework.Owner{Name: "张三", Phone: "13812345678"}
	require.NoError(t, s.CreateOwner(ctx, f.owner))
	require.NoError(t, s.BindOwnerUnit(ctx, f.owner.ID, f.unit.ID))
	f.owner2 = &casework.Owner{Name: "Li Si", Phone: "13900001111"}
	require.NoError(t, s.CreateOwner(ctx, f.owner2))
	require.NoError(t, s.BindOwnerUnit(ctx, f.owner2.ID, f.unit2.ID))

	f.party = &casework.Party{Code: "FS01", Name: "防水工程公司", Kind: casework.PartyContractor, Trade: "waterproofing", Phone: "021-61234567"}
	require.NoError(t, s.CreateParty(ctx, f.party))
	f.party2 = &casework.Party{Code: "WY01", Name: "物业公司", Kind: casework.PartyPropertyManagement}
	require.NoError(t, s.CreateParty(ctx, f.party2))
	f.member = &casework.Member{PartyID: f.party.ID, Name: "王工", Phone: "13700002222", Role: "engineer"}
	require.NoError(t, s.CreateMember(ctx, f.member))
	f.member2 = &casework.Member{PartyID: f.party2.ID, Name: "赵经理", Phone: "13700003333", Role: "manager"}
	require.NoError(t, s.CreateMember(ctx, f.member2))
	return f
}

// newCase returns a valid unsaved case in the fixture's first unit, received
// at receivedAt.
func (f *fixture) newCase(receivedAt time.Time) *casework.Case {
	return &casework.Case{
		ProjectID:   f.project.ID,
		BuildingID:  f.building.ID,
		UnitID:      f.unit.ID,
		OwnerID:     f.owner.ID,
		OwnerName:   f.owner.Name,
		OwnerPhone:  f.owner.Phone,
		Location:    casework.LocationBathroom,
		Description: "卫生间天花板渗水",
		Channel:     casework.ChannelWeChat,
		ReceivedAt:  receivedAt,
		ReceivedBy:  casework.ActorBot,
		Category:    casework.CategoryEngineeringQuality,
		Subcategory: casework.SubLeak,
		Urgency:     casework.UrgencyNormal,
	}
}

// create stores c and fails the test on error.
func (f *fixture) create(t testing.TB, c *casework.Case) *casework.Case {
	t.Helper()
	require.NoError(t, f.store.CreateCase(f.ctx, c))
	return c
}

// transition performs the actions on case id in order, each at its own
// time, and returns the case after the last.
func (f *fixture) transition(t testing.TB, id int64, start time.Time, actions ...casework.Action) *casework.Case {
	t.Helper()
	var c *casework.Case
	for i, a := range actions {
		tr := casework.Transition{Action: a, Actor: casework.Staff("7"), At: start.Add(time.Duration(i) * time.Minute)}
		if a == casework.ActionDispatch {
			tr.PartyID, tr.AssigneeID = &f.party.ID, &f.member.ID
		}
		var err error
		c, err = f.store.TransitionCase(f.ctx, id, 0, tr)
		require.NoError(t, err, "action %s", a)
	}
	return c
}

// findCaseIDs returns the IDs FindCases returns for filter, in order, and the total.
func findCaseIDs(t testing.TB, s casework.Store, filter casework.CaseFilter) ([]int64, int) {
	t.Helper()
	cs, total, err := s.FindCases(t.Context(), filter)
	require.NoError(t, err)
	ids := make([]int64, 0, len(cs))
	for _, c := range cs {
		assert.Empty(t, c.Media, "FindCases returns cases without media")
		ids = append(ids, c.ID)
	}
	return ids, total
}

// wantMicroUTC returns tm as a store keeps it.
func wantMicroUTC(tm time.Time) time.Time { return tm.Truncate(time.Microsecond).UTC() }

// requireStoredTime checks that got is want as a store keeps it: truncated to
// the microsecond, in UTC.
func requireStoredTime(t testing.TB, want, got time.Time, field string) {
	t.Helper()
	require.Truef(t, wantMicroUTC(want).Equal(got), "%s: want %s, got %s", field, wantMicroUTC(want), got)
	require.Equalf(t, time.UTC, got.Location(), "%s: a store returns times in UTC", field)
}

// requireUTC checks that tm is set, whole microseconds and in UTC.
func requireUTC(t testing.TB, tm time.Time, field string) {
	t.Helper()
	require.Falsef(t, tm.IsZero(), "%s is not set", field)
	require.Equalf(t, time.UTC, tm.Location(), "%s: a store returns times in UTC", field)
	require.Zerof(t, tm.Nanosecond()%1000, "%s: a store keeps microseconds", field)
}

// caseTimes returns the addresses of every time field of c, by name.
func caseTimes(c *casework.Case) map[string]*time.Time {
	return map[string]*time.Time{"ReceivedAt": &c.ReceivedAt, "CreatedAt": &c.CreatedAt, "UpdatedAt": &c.UpdatedAt}
}

func caseTimePtrs(c *casework.Case) map[string]**time.Time {
	return map[string]**time.Time{
		"OccurredAt": &c.OccurredAt, "RespondBy": &c.RespondBy, "OnSiteBy": &c.OnSiteBy, "ResolveBy": &c.ResolveBy,
		"RespondedAt": &c.RespondedAt, "OnSiteAt": &c.OnSiteAt, "ResolvedAt": &c.ResolvedAt, "ClosedAt": &c.ClosedAt,
		"AppointmentAt": &c.AppointmentAt, "EscalatedAt": &c.EscalatedAt,
	}
}

// requireSameCase checks that got equals want in every field, comparing
// times with Equal and checking that got's are in UTC. Neither is modified.
func requireSameCase(t testing.TB, want, got *casework.Case) {
	t.Helper()
	require.NotNil(t, got)
	w, g := *want, *got
	w.Media, g.Media = append([]casework.MediaRef(nil), want.Media...), append([]casework.MediaRef(nil), got.Media...)
	// The times inside slots, plan and survey: compared, then cleared in
	// copies.
	require.Equalf(t, len(w.ProposedSlots), len(g.ProposedSlots), "case %s: ProposedSlots", want.Number)
	require.Equalf(t, w.ProposedSlots == nil, g.ProposedSlots == nil, "case %s: ProposedSlots: want %v, got %v", want.Number, w.ProposedSlots, g.ProposedSlots)
	for i := range w.ProposedSlots {
		require.Truef(t, w.ProposedSlots[i].Equal(g.ProposedSlots[i]), "case %s: slot %d: want %s, got %s", want.Number, i, w.ProposedSlots[i], g.ProposedSlots[i])
		require.Equalf(t, time.UTC, g.ProposedSlots[i].Location(), "case %s: slot %d is not UTC", want.Number, i)
	}
	w.ProposedSlots, g.ProposedSlots = nil, nil
	require.Equalf(t, w.Plan == nil, g.Plan == nil, "case %s: Plan: want %v, got %v", want.Number, w.Plan, g.Plan)
	if w.Plan != nil {
		wp, gp := *w.Plan, *g.Plan
		require.Equalf(t, wp.StartAt == nil, gp.StartAt == nil, "case %s: Plan.StartAt", want.Number)
		if wp.StartAt != nil {
			require.Truef(t, wp.StartAt.Equal(*gp.StartAt), "case %s: Plan.StartAt: want %s, got %s", want.Number, *wp.StartAt, *gp.StartAt)
			require.Equalf(t, time.UTC, gp.StartAt.Location(), "case %s: Plan.StartAt is not UTC", want.Number)
		}
		wp.StartAt, gp.StartAt = nil, nil
		w.Plan, g.Plan = &wp, &gp
	}
	require.Equalf(t, w.Survey == nil, g.Survey == nil, "case %s: Survey: want %v, got %v", want.Number, w.Survey, g.Survey)
	if w.Survey != nil {
		ws, gs := *w.Survey, *g.Survey
		require.Truef(t, ws.AnsweredAt.Equal(gs.AnsweredAt), "case %s: Survey.AnsweredAt: want %s, got %s", want.Number, ws.AnsweredAt, gs.AnsweredAt)
		if !gs.AnsweredAt.IsZero() {
			require.Equalf(t, time.UTC, gs.AnsweredAt.Location(), "case %s: Survey.AnsweredAt is not UTC", want.Number)
		}
		ws.AnsweredAt, gs.AnsweredAt = time.Time{}, time.Time{}
		w.Survey, g.Survey = &ws, &gs
	}
	wt, gt := caseTimes(&w), caseTimes(&g)
	for name, wp := range wt {
		gp := gt[name]
		require.Truef(t, wp.Equal(*gp), "case %s: %s: want %s, got %s", want.Number, name, *wp, *gp)
		if !gp.IsZero() {
			require.Equalf(t, time.UTC, gp.Location(), "case %s: %s is not UTC", want.Number, name)
		}
		*wp, *gp = time.Time{}, time.Time{}
	}
	wpt, gpt := caseTimePtrs(&w), caseTimePtrs(&g)
	for name, wp := range wpt {
		gp := gpt[name]
		if *wp == nil || *gp == nil {
			require.Equalf(t, *wp == nil, *gp == nil, "case %s: %s: want %v, got %v", want.Number, name, *wp, *gp)
			continue
		}
		require.Truef(t, (*wp).Equal(**gp), "case %s: %s: want %s, got %s", want.Number, name, **wp, **gp)
		require.Equalf(t, time.UTC, (*gp).Location(), "case %s: %s is not UTC", want.Number, name)
		*wp, *gp = nil, nil
	}
	require.Equal(t, len(w.Media), len(g.Media), "case %s: media", want.Number)
	for i := range w.Media {
		require.Truef(t, w.Media[i].CreatedAt.Equal(g.Media[i].CreatedAt), "media %d CreatedAt", i)
		w.Media[i].CreatedAt, g.Media[i].CreatedAt = time.Time{}, time.Time{}
	}
	require.Equal(t, w, g)
}

// requireSameEvent checks that got equals want, comparing times with Equal.
func requireSameEvent(t testing.TB, want, got *casework.Event) {
	t.Helper()
	w, g := *want, *got
	requireStoredTime(t, w.At, g.At, "event At")
	w.At, g.At = time.Time{}, time.Time{}
	require.Equal(t, w, g)
}

// requireSameMedia checks that got equals want, comparing times with Equal.
func requireSameMedia(t testing.TB, want, got *casework.MediaRef) {
	t.Helper()
	w, g := *want, *got
	requireStoredTime(t, w.CreatedAt, g.CreatedAt, "media CreatedAt")
	w.CreatedAt, g.CreatedAt = time.Time{}, time.Time{}
	require.Equal(t, w, g)
}

// requireErrNotFound checks errors.Is(err, casework.ErrNotFound).
func requireErrNotFound(t testing.TB, err error, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	require.Truef(t, errors.Is(err, casework.ErrNotFound), "want ErrNotFound, got %v", err)
}

// requireConflict checks that err is a *casework.ConflictError matching ErrConflict.
func requireConflict(t testing.TB, err error, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	require.Truef(t, errors.Is(err, casework.ErrConflict), "want ErrConflict, got %v", err)
	var ce *casework.ConflictError
	require.Truef(t, errors.As(err, &ce), "want a *ConflictError, got %T: %v", err, err)
}

// requireInvalid checks that err is a *casework.ValidationError naming field.
func requireInvalid(t testing.TB, err error, field string, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	require.Truef(t, errors.Is(err, casework.ErrInvalid), "want ErrInvalid, got %v", err)
	var ve *casework.ValidationError
	require.Truef(t, errors.As(err, &ve), "want a *ValidationError, got %T: %v", err, err)
	require.Equal(t, field, ve.Field, fmt.Sprint(msgAndArgs...))
}
