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

func testCreateCase(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()
	f := newFixture(t, s)

	// 00:30 on 27 November in China is still 26 November in UTC.
	received := testclock.Date(2026, time.November, 26, 16, 30, 0, 500_000_999, time.UTC)
	c := f.newCase(received)
	casework.DefaultSLAPolicy().SetDeadlines(c)
	photoAt := at(-time.Hour)
	c.Media = []casework.MediaRef{
		{Kind: casework.MediaPhoto, BlobKey: "media/2026/11/a.jpg", ContentType: "image/jpeg", Size: 123456},
		{Kind: casework.MediaVideo, BlobKey: "media/2026/11/b.mp4", ContentType: "video/mp4", Size: 9876543, CreatedAt: photoAt},
	}
	// Lifecycle fields a caller sets are not taken.
	c.State, c.Version, c.HeldFrom, c.RepairCount = casework.StateClosed, 7, casework.StateAccepted, 3
	c.RespondedAt, c.OnSiteAt, c.ResolvedAt, c.ClosedAt = ptr(at(0)), ptr(at(0)), ptr(at(0)), ptr(at(0))

	require.NoError(t, s.CreateCase(ctx, c))
	require.NotZero(t, c.ID)
	require.Equal(t, testclock.Text("SH-20261127-0001"), c.Number, "numbered by the day in China time")
	require.Equal(t, 1, c.Version)
	require.Equal(t, casework.StateRegistered, c.State)
	require.Empty(t, c.HeldFrom)
	require.Zero(t, c.RepairCount)
	require.Nil(t, c.RespondedAt)
	require.Nil(t, c.OnSiteAt)
	require.Nil(t, c.ResolvedAt)
	require.Nil(t, c.ClosedAt)
	requireStoredTime(t, received, c.ReceivedAt, "ReceivedAt")
	requireUTC(t, c.CreatedAt, "CreatedAt")
	requireUTC(t, c.UpdatedAt, "UpdatedAt")
	require.NotNil(t, c.ResolveBy)
	requireStoredTime(t, received.Add(15*24*time.Hour), *c.ResolveBy, "ResolveBy")

	require.Len(t, c.Media, 2)
	for i, m := range c.Media {
		require.NotZero(t, m.ID, "media %d", i)
		require.Equal(t, c.ID, m.CaseID, "media %d", i)
		requireUTC(t, m.CreatedAt, "media CreatedAt")
	}
	require.Less(t, c.Media[0].ID, c.Media[1].ID)
	requireStoredTime(t, photoAt, c.Media[1].CreatedAt, "media CreatedAt")

	got, err := s.FindCaseByID(ctx, c.ID)
	require.NoError(t, err)
	requireSameCase(t, c, got)
	got, err = s.FindCaseByNumber(ctx, c.Number)
	require.NoError(t, err)
	requireSameCase(t, c, got)

	events, err := s.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, events, 1)
	e := events[0]
	require.NotZero(t, e.ID)
	require.Equal(t, c.ID, e.CaseID)
	require.Equal(t, 1, e.Seq)
	require.Equal(t, casework.EventCreated, e.Kind)
	require.Equal(t, casework.ActorBot, e.Actor)
	require.Equal(t, casework.StateRegistered, e.To)
	requireStoredTime(t, received, e.At, "event At")

	// A zero ReceivedAt is the store's now.
	c2 := f.newCase(time.Time{})
	require.NoError(t, s.CreateCase(ctx, c2))
	requireUTC(t, c2.ReceivedAt, "ReceivedAt")
	require.True(t, strings.HasPrefix(c2.Number, "SH-"), c2.Number)
	require.Equal(t, casework.DefaultNumbering().Day(c2.ReceivedAt), c2.Number[:len("SH-20060102")])

	_, err = s.FindCaseByID(ctx, 999999)
	requireErrNotFound(t, err)
	_, err = s.FindCaseByNumber(ctx, "SH-20991231-0001")
	requireErrNotFound(t, err)
	_, err = s.ListCaseEvents(ctx, 999999)
	if err != nil {
		requireErrNotFound(t, err)
	}
}

func testCreateCaseValidation(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()
	f := newFixture(t, s)

	tests := []struct {
		field  string
		mutate func(c *casework.Case)
	}{
		{"project", func(c *casework.Case) { c.ProjectID = 0 }},
		{"description", func(c *casework.Case) { c.Description = "  " }},
		{"channel", func(c *casework.Case) { c.Channel = "fax" }},
		{"received_by", func(c *casework.Case) { c.ReceivedBy = "" }},
		{"category", func(c *casework.Case) { c.Category = "roof" }},
		{"subcategory", func(c *casework.Case) { c.Subcategory = casework.SubLift }},
		{"urgency", func(c *casework.Case) { c.Urgency = "asap" }},
		{"responsibility", func(c *casework.Case) { c.Responsibility = "nobody" }},
		{"location", func(c *casework.Case) { c.Location = "roof" }},
		{"phone", func(c *casework.Case) { c.OwnerPhone = "12345" }},
		{"media", func(c *casework.Case) { c.Media = []casework.MediaRef{{Kind: "gif", BlobKey: "k"}} }},
		{"media", func(c *casework.Case) { c.Media = []casework.MediaRef{{Kind: casework.MediaPhoto}} }},
		// References that do not exist.
		{"project", func(c *casework.Case) { c.ProjectID = 999999 }},
		{"building", func(c *casework.Case) { c.BuildingID = 999999 }},
		{"unit", func(c *casework.Case) { c.UnitID = 999999 }},
		{"owner", func(c *casework.Case) { c.OwnerID = 999999 }},
		{"party", func(c *casework.Case) { c.PartyID = 999999 }},
		{"assignee", func(c *casework.Case) { c.AssigneeID = 999999 }},
	}
	for _, tt := range tests {
		c := f.newCase(t0)
		tt.mutate(c)
		requireInvalid(t, s.CreateCase(ctx, c), tt.field, tt.field)
	}
	_, n, err := s.FindCases(ctx, casework.CaseFilter{})
	require.NoError(t, err)
	require.Zero(t, n, "nothing stored")

	// The refused cases took no number.
	c := f.create(t, f.newCase(t0))
	require.Equal(t, testclock.Text("SH-20261127-0001"), c.Number)
}

// fullCase returns a case with every field a caller sets.
func (f *fixture) fullCase() *casework.Case {
	c := &casework.Case{
		ProjectID:      f.project.ID,
		BuildingID:     f.building.ID,
		UnitID:         f.unit.ID,
		OwnerID:        f.owner.ID,
		OwnerName:      "张三",
		OwnerPhone:     "+86 138 1234 5678",
		Location:       casework.LocationBathroom,
		LocationDetail: "主卫淋浴区上方",
		Description:    "卫生间天花板渗水,楼上装修后开始\n已拍照",
		OccurredAt:     ptr(at(-72*time.Hour + 999)),
		OccurredText:   "上周五",
		Expectation:    "尽快查明原因并维修",
		ContactTime:    "工作日晚上7点后",
		Channel:        casework.ChannelHotline,
		ReceivedAt:     t0,
		ReceivedBy:     casework.Staff("42"),
		Category:       casework.CategoryEngineeringQuality,
		Subcategory:    casework.SubLeak,
		Urgency:        casework.UrgencyUrgent,
		Responsibility: casework.ResponsibilityContractor,
		DecisionReason: "保修期内",
		PartyID:        f.party.ID,
		AssigneeID:     f.member.ID,
		Media: []casework.MediaRef{
			{Kind: casework.MediaPhoto, BlobKey: "k/1.jpg", ContentType: "image/jpeg", Size: 1},
			{Kind: casework.MediaVoice, BlobKey: "k/2.amr", ContentType: "audio/amr", Size: 2, CreatedAt: at(time.Second + 1)},
		},
	}
	casework.DefaultSLAPolicy().SetDeadlines(c)
	c.OnSiteBy = ptr(at(4*time.Hour + 7)) // nanoseconds to truncate
	c.IdentityVerified = true             // staff typed it in: they know whom they talk to
	return c
}

func testCaseRoundTrip(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()
	f := newFixture(t, s)

	c := f.fullCase()
	require.NoError(t, s.CreateCase(ctx, c))
	require.Equal(t, "13812345678", c.OwnerPhone, "normalised")

	check := func(want *casework.Case) {
		t.Helper()
		got, err := s.FindCaseByID(ctx, want.ID)
		require.NoError(t, err)
		requireSameCase(t, want, got)
		got, err = s.FindCaseByNumber(ctx, want.Number)
		require.NoError(t, err)
		requireSameCase(t, want, got)
		// FindCases returns the same case without its media.
		list, n, err := s.FindCases(ctx, casework.CaseFilter{Text: want.Number})
		require.NoError(t, err)
		require.Equal(t, 1, n)
		noMedia := *want
		noMedia.Media = nil
		requireSameCase(t, &noMedia, list[0])
	}
	check(c)

	// Through the lifecycle, every moment and field set by a transition
	// round-trips too.
	steps := []casework.Transition{
		{Action: casework.ActionAccept, DecisionReason: ptr("在保修期内,受理")},
		{Action: casework.ActionDispatch, PartyID: &f.party2.ID, AssigneeID: &f.member2.ID, Note: "改派物业"},
		{Action: casework.ActionHold, Note: "业主出差"},
		{Action: casework.ActionResume},
		{Action: casework.ActionInspect},
		{Action: casework.ActionComplete},
		{Action: casework.ActionOwnerReject, Note: "仍渗水"},
		{Action: casework.ActionDispatch},
		{Action: casework.ActionInspect},
		{Action: casework.ActionComplete},
		{Action: casework.ActionOwnerAccept},
		{Action: casework.ActionClose},
	}
	for i, tr := range steps {
		tr.Actor = casework.Staff("7")
		tr.At = at(time.Duration(i+1)*time.Hour + time.Duration(i)) // odd nanoseconds
		got, err := s.TransitionCase(ctx, c.ID, c.Version, tr)
		require.NoError(t, err, tr.Action)
		require.Equal(t, c.Version+1, got.Version)
		check(got)
		c = got
	}
	require.Equal(t, casework.StateClosed, c.State)
	require.Equal(t, 1, c.RepairCount)
	require.Equal(t, f.party2.ID, c.PartyID)
	require.Equal(t, "在保修期内,受理", c.DecisionReason)

	upd := casework.CaseUpdate{Actor: casework.Staff("7"), Description: ptr("改:卫生间渗水"), Deadlines: &casework.Deadlines{ResolveBy: ptr(at(100*time.Hour + 3))}}
	got, err := s.UpdateCase(ctx, c.ID, c.Version, upd)
	require.NoError(t, err)
	require.Nil(t, got.RespondBy)
	requireStoredTime(t, at(100*time.Hour+3), *got.ResolveBy, "ResolveBy")
	check(got)
}

// testCaseEnums stores every value of every enum a case carries, so a
// backend's constraints can not lag behind the domain.
func testCaseEnums(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()
	f := newFixture(t, s)

	var pairs [][2]string
	for _, cat := range casework.Categories {
		for _, sub := range casework.Subcategories[cat] {
			pairs = append(pairs, [2]string{string(cat), string(sub)})
		}
	}
	require.GreaterOrEqual(t, len(pairs), len(casework.Locations))
	for i, p := range pairs {
		c := f.newCase(at(time.Duration(i) * time.Minute))
		c.Category, c.Subcategory = casework.Category(p[0]), casework.Subcategory(p[1])
		c.Channel = casework.Channels[i%len(casework.Channels)]
		c.Urgency = casework.Urgencies[i%len(casework.Urgencies)]
		c.Responsibility = casework.Responsibilities[i%len(casework.Responsibilities)]
		c.Location = casework.Locations[i%len(casework.Locations)]
		if i == 0 {
			c.Location = "" // not said
		}
		c.Media = []casework.MediaRef{{Kind: casework.MediaKinds[i%len(casework.MediaKinds)], BlobKey: fmt.Sprintf("k/%d", i)}}
		require.NoError(t, s.CreateCase(ctx, c), "%v", p)
		got, err := s.FindCaseByID(ctx, c.ID)
		require.NoError(t, err)
		requireSameCase(t, c, got)
	}

	// Every state and held-from state, every action and event kind.
	c := f.create(t, f.newCase(t0))
	for _, a := range []casework.Action{casework.ActionHold, casework.ActionResume, casework.ActionReject, casework.ActionAccept,
		casework.ActionDispatch, casework.ActionSchedule, casework.ActionDispatch, casework.ActionSchedule, casework.ActionInspect,
		casework.ActionProposePlan, casework.ActionDisagreePlan, casework.ActionProposePlan, casework.ActionProposePlan,
		casework.ActionAgreePlan, casework.ActionHold, casework.ActionResume, casework.ActionStartWork, casework.ActionHold,
		casework.ActionResume, casework.ActionComplete, casework.ActionOwnerReject, casework.ActionHold, casework.ActionResume,
		casework.ActionDispatch, casework.ActionInspect, casework.ActionComplete, casework.ActionOwnerAccept, casework.ActionSurvey,
		casework.ActionClose, casework.ActionReopen, casework.ActionCancel} {
		got := f.transition(t, c.ID, at(time.Hour), a)
		found, err := s.FindCaseByID(ctx, c.ID)
		require.NoError(t, err)
		requireSameCase(t, got, found)
	}
	// An answer (答复) is for a case that gets no work order.
	consult := f.newCase(t0)
	consult.Category, consult.Subcategory = casework.CategoryPolicyConsultation, casework.SubFees
	consult = f.create(t, consult)
	f.transition(t, consult.ID, at(time.Hour), casework.ActionAccept, casework.ActionAnswer)
	answered, err := s.ListCaseEvents(ctx, consult.ID)
	require.NoError(t, err)
	for _, k := range []casework.EventKind{casework.EventNote, casework.EventUrge} {
		require.NoError(t, s.AddCaseEvent(ctx, &casework.Event{CaseID: c.ID, Kind: k, Actor: casework.ActorSystem}))
	}
	events, err := s.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	actions, states, kinds := map[casework.Action]bool{}, map[casework.State]bool{}, map[casework.EventKind]bool{}
	for _, e := range append(events, answered...) {
		actions[e.Action], states[e.To], kinds[e.Kind] = true, true, true
	}
	for _, a := range casework.Actions {
		assert.True(t, actions[a], "action %s", a)
	}
	for _, st := range casework.States {
		assert.True(t, states[st], "state %s", st)
	}
	for _, k := range []casework.EventKind{casework.EventCreated, casework.EventTransition, casework.EventNote, casework.EventUrge} {
		assert.True(t, kinds[k], "event kind %s", k)
	}
}

func testCaseNumbering(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()
	f := newFixture(t, s)

	cst := casework.ChinaTime()
	for _, tt := range []struct {
		received time.Time
		want     string
	}{
		{testclock.Date(2026, 11, 26, 23, 59, 59, 999_999_999, cst), "SH-20261126-0001"},
		{testclock.Date(2026, 11, 26, 16, 0, 0, 0, time.UTC), "SH-20261127-0001"}, // midnight in China
		{testclock.Date(2026, 11, 27, 23, 0, 0, 0, cst), "SH-20261127-0002"},
		{testclock.Date(2026, 11, 26, 8, 0, 0, 0, cst), "SH-20261126-0002"}, // registered late, numbered by its own day
		{testclock.Date(2026, 11, 28, 0, 0, 1, 0, cst), "SH-20261128-0001"},
		{testclock.Date(2026, 11, 28, 1, 0, 0, 0, cst), "SH-20261128-0002"},
		{testclock.Date(2027, 1, 1, 0, 0, 0, 0, cst), "SH-20270101-0001"},
	} {
		c := f.create(t, f.newCase(tt.received))
		require.Equal(t, testclock.Text(tt.want), c.Number)
		got, err := s.FindCaseByNumber(ctx, testclock.Text(tt.want))
		require.NoError(t, err)
		require.Equal(t, c.ID, got.ID)
	}
}

func testCaseNumberConcurrency(t *testing.T, h Harness) {
	s := h.Open(t)
	f := newFixture(t, s)
	const writers, perWriter = 16, 25

	numbers := make(chan string, writers*perWriter)
	errs := make(chan error, writers*perWriter)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				c := f.newCase(at(time.Duration(w*perWriter+i) * time.Second))
				if err := s.CreateCase(f.ctx, c); err != nil {
					errs <- err
					continue
				}
				numbers <- c.Number
			}
		})
	}
	wg.Wait()
	close(numbers)
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	var got []string
	for n := range numbers {
		got = append(got, n)
	}
	slices.Sort(got)
	want := make([]string, writers*perWriter)
	for i := range want {
		want[i] = testclock.Text(fmt.Sprintf("SH-20261127-%04d", i+1))
	}
	require.Equal(t, want, got, "every number once, sequences 1..%d", len(want))

	_, n, err := s.FindCases(f.ctx, casework.CaseFilter{})
	require.NoError(t, err)
	require.Equal(t, writers*perWriter, n)
}

func testFindCasesFilters(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()
	f := newFixture(t, s)

	mk := func(i int, mutate func(c *casework.Case), actions ...casework.Action) int64 {
		t.Helper()
		c := f.newCase(at(time.Duration(i) * time.Hour))
		mutate(c)
		f.create(t, c)
		if len(actions) > 0 {
			f.transition(t, c.ID, at(time.Duration(i)*time.Hour+time.Minute), actions...)
		}
		return c.ID
	}
	c1 := mk(1, func(c *casework.Case) { c.ReporterPlatform, c.ReporterUserID = "telegram", "1001" })
	c2 := mk(2, func(c *casework.Case) {
		c.ReporterPlatform, c.ReporterUserID = "wechat", "1001"
		c.BuildingID, c.UnitID, c.OwnerID, c.OwnerName = f.building2.ID, f.unit2.ID, f.owner2.ID, f.owner2.Name
		c.Urgency, c.Category, c.Subcategory, c.Channel = casework.UrgencyUrgent, casework.CategoryFacilitiesEquipment, casework.SubLift, casework.ChannelHotline
	}, casework.ActionAccept)
	c3 := mk(3, func(c *casework.Case) {
		c.UnitID, c.OwnerID, c.Location = 0, 0, casework.LocationPublicArea
		c.Urgency, c.Category, c.Subcategory, c.Channel = casework.UrgencyMajorComplaint, casework.CategoryServiceAttitude, casework.SubStaff, casework.ChannelWalkIn
	}, casework.ActionAccept, casework.ActionDispatch)
	c4 := mk(4, func(c *casework.Case) {
		c.ProjectID, c.BuildingID, c.UnitID, c.OwnerID = f.project2.ID, f.buildingP2.ID, f.unitP2.ID, 0
		c.Subcategory, c.Channel = casework.SubCrack, casework.ChannelLetter
	}, casework.ActionAccept, casework.ActionHold)
	c5 := mk(5, func(c *casework.Case) {
		c.Category, c.Subcategory, c.Channel = casework.CategoryPolicyConsultation, casework.SubFees, casework.ChannelWeb
	}, casework.ActionAccept, casework.ActionComplete, casework.ActionOwnerAccept, casework.ActionClose)
	c6 := mk(6, func(c *casework.Case) {
		c.ReporterPlatform, c.ReporterUserID = "telegram", "1001"
		c.BuildingID, c.UnitID, c.OwnerID, c.OwnerName = f.building2.ID, f.unit2.ID, f.owner2.ID, f.owner2.Name
		c.Urgency, c.Subcategory, c.PartyID = casework.UrgencyUrgent, casework.SubPlumbing, f.party2.ID
	}, casework.ActionReject)

	for _, tt := range []struct {
		name   string
		filter casework.CaseFilter
		want   []int64
	}{
		{"all", casework.CaseFilter{}, []int64{c6, c5, c4, c3, c2, c1}},
		{"one state", casework.CaseFilter{States: []casework.State{casework.StateRegistered}}, []int64{c1}},
		{"several states", casework.CaseFilter{States: []casework.State{casework.StateAccepted, casework.StateDispatched, casework.StateOnHold}}, []int64{c4, c3, c2}},
		{"closed and rejected", casework.CaseFilter{States: []casework.State{casework.StateClosed, casework.StateRejected}}, []int64{c6, c5}},
		{"state without cases", casework.CaseFilter{States: []casework.State{casework.StateCancelled}}, nil},
		{"assignee", casework.CaseFilter{AssigneeID: f.member.ID}, []int64{c3}},
		{"assignee without cases", casework.CaseFilter{AssigneeID: f.member2.ID}, nil},
		{"urgency", casework.CaseFilter{Urgency: casework.UrgencyUrgent}, []int64{c6, c2}},
		{"category", casework.CaseFilter{Category: casework.CategoryEngineeringQuality}, []int64{c6, c4, c1}},
		{"project", casework.CaseFilter{ProjectID: f.project2.ID}, []int64{c4}},
		{"projects", casework.CaseFilter{ProjectIDs: []int64{f.project.ID}}, []int64{c6, c5, c3, c2, c1}},
		{"several projects", casework.CaseFilter{ProjectIDs: []int64{f.project2.ID, f.project.ID}}, []int64{c6, c5, c4, c3, c2, c1}},
		{"projects, one unknown", casework.CaseFilter{ProjectIDs: []int64{999999, f.project2.ID}}, []int64{c4}},
		{"projects and project", casework.CaseFilter{ProjectIDs: []int64{f.project.ID, f.project2.ID}, ProjectID: f.project2.ID}, []int64{c4}},
		{"project outside projects", casework.CaseFilter{ProjectIDs: []int64{f.project.ID}, ProjectID: f.project2.ID}, nil},
		{"projects with others", casework.CaseFilter{ProjectIDs: []int64{f.project.ID}, Urgency: casework.UrgencyUrgent}, []int64{c6, c2}},
		{"building", casework.CaseFilter{BuildingID: f.building2.ID}, []int64{c6, c2}},
		{"unit", casework.CaseFilter{UnitID: f.unit.ID}, []int64{c5, c1}},
		{"owner", casework.CaseFilter{OwnerID: f.owner2.ID}, []int64{c6, c2}},
		{"party by dispatch", casework.CaseFilter{PartyID: f.party.ID}, []int64{c3}},
		{"party at registration", casework.CaseFilter{PartyID: f.party2.ID}, []int64{c6}},
		{"channel", casework.CaseFilter{Channel: casework.ChannelWeChat}, []int64{c6, c1}},
		{"reporter", casework.CaseFilter{ReporterPlatform: "telegram", ReporterUserID: "1001"}, []int64{c6, c1}},
		{"reporter on another platform", casework.CaseFilter{ReporterPlatform: "wechat", ReporterUserID: "1001"}, []int64{c2}},
		{"reporter without cases", casework.CaseFilter{ReporterPlatform: "telegram", ReporterUserID: "2002"}, nil},
		{"reporter with others", casework.CaseFilter{ReporterPlatform: "telegram", ReporterUserID: "1001", States: []casework.State{casework.StateRegistered}}, []int64{c1}},
		{"combined", casework.CaseFilter{ProjectID: f.project.ID, Category: casework.CategoryEngineeringQuality, Urgency: casework.UrgencyNormal}, []int64{c1}},
		{"combined with states", casework.CaseFilter{BuildingID: f.building.ID, States: []casework.State{casework.StateDispatched, casework.StateClosed}}, []int64{c5, c3}},
		{"no match", casework.CaseFilter{ProjectID: f.project2.ID, Urgency: casework.UrgencyUrgent}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ids, n := findCaseIDs(t, s, tt.filter)
			require.Equal(t, len(tt.want), n)
			if tt.want == nil {
				require.Empty(t, ids)
				return
			}
			require.Equal(t, tt.want, ids)
		})
	}

	for _, tt := range []struct {
		field  string
		filter casework.CaseFilter
	}{
		{"state", casework.CaseFilter{States: []casework.State{"lost"}}},
		{"urgency", casework.CaseFilter{Urgency: "asap"}},
		{"category", casework.CaseFilter{Category: "roof"}},
		{"channel", casework.CaseFilter{Channel: "fax"}},
		{"limit", casework.CaseFilter{Limit: -1}},
		{"offset", casework.CaseFilter{Offset: -1}},
		{"text", casework.CaseFilter{Text: strings.Repeat("x", 201)}},
		{"reporter", casework.CaseFilter{ReporterPlatform: "telegram"}},
		{"reporter", casework.CaseFilter{ReporterUserID: "1001"}},
	} {
		_, _, err := s.FindCases(ctx, tt.filter)
		requireInvalid(t, err, tt.field)
	}
}

func testFindCasesOverdue(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()
	f := newFixture(t, s)

	now := at(10 * 24 * time.Hour).Truncate(time.Microsecond)
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	A := casework.ActionAccept
	type crafted struct {
		name                         string
		respondBy, onSiteBy, resolve *time.Time
		actions                      []casework.Action
		actionsAt                    time.Time // zero: t0 plus a minute
		overdue                      bool      // what casework.(*Case).Overdue says
	}
	cases := []crafted{
		{name: "respond deadline passed, not responded", respondBy: &past, overdue: true},
		{name: "every deadline ahead", respondBy: &future, onSiteBy: &future, resolve: &future},
		{name: "responded, on-site deadline passed", respondBy: &past, onSiteBy: &past, resolve: &future, actions: []casework.Action{A, casework.ActionDispatch}, overdue: true},
		{name: "on site, resolve deadline passed", respondBy: &past, onSiteBy: &past, resolve: &past, actions: []casework.Action{A, casework.ActionDispatch, casework.ActionInspect}, overdue: true},
		{name: "on hold, on-site deadline passed", respondBy: &past, onSiteBy: &past, actions: []casework.Action{A, casework.ActionHold}},
		{name: "resolved, awaiting the owner", respondBy: &past, resolve: &past, actions: []casework.Action{A, casework.ActionComplete}},
		{name: "closed", respondBy: &past, onSiteBy: &past, resolve: &past, actions: []casework.Action{A, casework.ActionComplete, casework.ActionOwnerAccept, casework.ActionClose}},
		{name: "rejected", respondBy: &past, onSiteBy: &past, resolve: &past, actions: []casework.Action{casework.ActionReject}},
		{name: "cancelled", respondBy: &past, actions: []casework.Action{casework.ActionCancel}},
		{name: "no deadlines"},
		{name: "deadline exactly now", respondBy: &now},
		{name: "a microsecond late", respondBy: ptr(now.Add(-time.Microsecond)), overdue: true},
		{name: "in progress, resolve deadline passed", respondBy: &past, onSiteBy: &past, resolve: &past,
			actions: []casework.Action{A, casework.ActionDispatch, casework.ActionInspect, casework.ActionProposePlan, casework.ActionAgreePlan, casework.ActionStartWork}, overdue: true},
		{name: "reopened, resolve deadline passed", respondBy: &past, resolve: &past, actions: []casework.Action{A, casework.ActionComplete, casework.ActionOwnerReject}, overdue: true},
		{name: "responded late, the rest on time", respondBy: ptr(now.Add(-2 * time.Hour)), onSiteBy: &future, resolve: &future, actions: []casework.Action{A}, actionsAt: past},
		{name: "on site late, not resolved, resolve ahead", respondBy: &past, onSiteBy: ptr(now.Add(-2 * time.Hour)), resolve: &future,
			actions: []casework.Action{A, casework.ActionDispatch, casework.ActionInspect}, actionsAt: past},
	}
	var wantOverdue []int64
	for i, cr := range cases {
		c := f.newCase(at(time.Duration(i) * time.Second))
		c.Description = cr.name
		c.RespondBy, c.OnSiteBy, c.ResolveBy = cr.respondBy, cr.onSiteBy, cr.resolve
		f.create(t, c)
		start := cr.actionsAt
		if start.IsZero() {
			start = at(time.Minute)
		}
		if len(cr.actions) > 0 {
			f.transition(t, c.ID, start, cr.actions...)
		}
		stored, err := s.FindCaseByID(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, cr.overdue, stored.Overdue(now), "the crafted case %q disagrees with casework", cr.name)
		if cr.overdue {
			wantOverdue = append([]int64{c.ID}, wantOverdue...) // newest first
		}
	}
	require.Len(t, wantOverdue, 6)

	// Urged: the cases with an urge among their events.
	urged := wantOverdue[len(wantOverdue)-1]
	require.NoError(t, s.AddCaseEvent(ctx, &casework.Event{CaseID: urged, Kind: casework.EventUrge, Actor: casework.ActorBot, Note: "owner urged"}))
	require.NoError(t, s.AddCaseEvent(ctx, &casework.Event{CaseID: urged, Kind: casework.EventUrge, Actor: casework.ActorBot, Note: "again"}))
	ids, n := findCaseIDs(t, s, casework.CaseFilter{Urged: true})
	require.Equal(t, []int64{urged}, ids, "urged twice, listed once")
	require.Equal(t, 1, n)
	counts, err := s.UrgeCounts(ctx, wantOverdue)
	require.NoError(t, err)
	require.Len(t, counts, 1, "only the urged case")
	require.Equal(t, 2, counts[urged].N)
	events, err := s.ListCaseEvents(ctx, urged)
	require.NoError(t, err)
	require.True(t, events[len(events)-1].At.Equal(counts[urged].Last), "when last: %v", counts[urged].Last)
	counts, err = s.UrgeCounts(ctx, nil)
	require.NoError(t, err)
	require.Empty(t, counts)

	// Oldest first: the same cases, the other way round.
	newest, _ := findCaseIDs(t, s, casework.CaseFilter{Limit: 500})
	oldest, _ := findCaseIDs(t, s, casework.CaseFilter{Limit: 500, Order: casework.OrderOldest})
	require.Len(t, oldest, len(newest))
	slices.Reverse(newest)
	require.Equal(t, newest, oldest)

	// Soonest deadline first: the store's order is casework's
	// Case.NextDeadline, the cases with none last, then the oldest first.
	var all []*casework.Case
	withDeadline := 0
	for _, id := range oldest {
		c, err := s.FindCaseByID(ctx, id)
		require.NoError(t, err)
		all = append(all, c)
		if c.NextDeadline() != nil {
			withDeadline++
		}
	}
	require.GreaterOrEqual(t, withDeadline, 3, "the crafted cases have deadlines to sort by")
	require.Less(t, withDeadline, len(all), "and some have none")
	slices.SortStableFunc(all, func(a, b *casework.Case) int {
		da, db := a.NextDeadline(), b.NextDeadline()
		switch {
		case da == nil && db == nil:
			return 0
		case da == nil:
			return 1
		case db == nil:
			return -1
		}
		return da.Compare(*db)
	})
	wantDue := make([]int64, len(all))
	for i, c := range all {
		wantDue[i] = c.ID
	}
	require.NotEqual(t, oldest, wantDue, "the crafted cases' deadlines are not in the order they came")
	due, _ := findCaseIDs(t, s, casework.CaseFilter{Limit: 500, Order: casework.OrderDue})
	require.Equal(t, wantDue, due)
	due2, n := findCaseIDs(t, s, casework.CaseFilter{Limit: 2, Offset: 2, Order: casework.OrderDue})
	require.Equal(t, wantDue[2:4], due2, "a page of the list by deadline")
	require.Equal(t, len(all), n)
	_, _, err = s.FindCases(ctx, casework.CaseFilter{Order: "cheapest"})
	require.ErrorIs(t, err, casework.ErrInvalid, "an unknown order is refused")

	// Unanswered: no person acted on it yet.
	everyCase, _ := findCaseIDs(t, s, casework.CaseFilter{Limit: 500})
	var wantUnanswered []int64
	for _, id := range everyCase {
		c, err := s.FindCaseByID(ctx, id)
		require.NoError(t, err)
		if c.RespondedAt == nil {
			wantUnanswered = append(wantUnanswered, id)
		}
	}
	require.NotEmpty(t, wantUnanswered)
	require.Less(t, len(wantUnanswered), len(everyCase), "some were answered")
	ids, _ = findCaseIDs(t, s, casework.CaseFilter{Unanswered: true, Limit: 500})
	require.Equal(t, wantUnanswered, ids)

	ids, n = findCaseIDs(t, s, casework.CaseFilter{OverdueAt: &now})
	require.Equal(t, wantOverdue, ids, "FindCases agrees with Case.Overdue")
	require.Equal(t, len(wantOverdue), n)

	// Before every deadline nothing is overdue; far later, every open case
	// with an unmet deadline is.
	ids, _ = findCaseIDs(t, s, casework.CaseFilter{OverdueAt: ptr(t0)})
	require.Empty(t, ids)
	later := now.Add(365 * 24 * time.Hour)
	all, _, err = s.FindCases(ctx, casework.CaseFilter{Limit: 500})
	require.NoError(t, err)
	var wantLater []int64
	for _, c := range all {
		if c.Overdue(later) {
			wantLater = append(wantLater, c.ID)
		}
	}
	ids, _ = findCaseIDs(t, s, casework.CaseFilter{OverdueAt: &later})
	require.Equal(t, wantLater, ids)
	require.Greater(t, len(wantLater), len(wantOverdue))

	// With other filters.
	ids, _ = findCaseIDs(t, s, casework.CaseFilter{OverdueAt: &now, States: []casework.State{casework.StateRegistered}})
	require.Len(t, ids, 2)
	ids, _ = findCaseIDs(t, s, casework.CaseFilter{OverdueAt: &now, ProjectID: f.project2.ID})
	require.Empty(t, ids)
}

func testFindCasesText(t *testing.T, h Harness) {
	s := h.Open(t)
	f := newFixture(t, s)

	mk := func(i int, owner, desc, detail, expect string) *casework.Case {
		t.Helper()
		c := f.newCase(at(time.Duration(i) * time.Minute))
		c.OwnerID, c.OwnerName, c.Description, c.LocationDetail, c.Expectation = 0, owner, desc, detail, expect
		return f.create(t, c)
	}
	c1 := mk(1, "张三", "卫生间天花板渗水", "", "")
	c2 := mk(2, "Li Si", "Water leak under the kitchen sink", "", "")
	c3 := mk(3, "王五", "厨房地面 100% 开裂", "主卧飘窗下方", "")
	c4 := mk(4, "赵六", "门窗 a_b 问题", "", "尽快更换密封条")
	c5 := mk(5, "钱七", "其他问题 aXb 100X", "", "")
	c6 := mk(6, "孙八", `路径 C:\temp 有反斜杠`, "", "")

	for _, tt := range []struct {
		text string
		want []*casework.Case
	}{
		{"渗水", []*casework.Case{c1}},
		{"天花板", []*casework.Case{c1}},
		{"LEAK", []*casework.Case{c2}},
		{"leak", []*casework.Case{c2}},
		{"KITCHEN Sink", []*casework.Case{c2}},
		{"100%", []*casework.Case{c3}},
		{"%", []*casework.Case{c3}},
		{"a_b", []*casework.Case{c4}},
		{"_", []*casework.Case{c4}},
		{`\`, []*casework.Case{c6}},
		{`C:\temp`, []*casework.Case{c6}},
		{"飘窗", []*casework.Case{c3}},      // location detail
		{"密封条", []*casework.Case{c4}},     // expectation
		{"张三", []*casework.Case{c1}},      // owner name
		{"li si", []*casework.Case{c2}},   // owner name, any case
		{c5.Number, []*casework.Case{c5}}, // case number
		{strings.ToLower(c2.Number), []*casework.Case{c2}},
		{testclock.Text("sh-20261127"), []*casework.Case{c6, c5, c4, c3, c2, c1}},
		{"不存在", nil},
	} {
		ids, n := findCaseIDs(t, s, casework.CaseFilter{Text: tt.text})
		var want []int64
		for _, c := range tt.want {
			want = append(want, c.ID)
		}
		require.Equal(t, len(want), n, "%q", tt.text)
		if want == nil {
			require.Empty(t, ids, "%q", tt.text)
			continue
		}
		require.Equal(t, want, ids, "%q", tt.text)
	}

	ids, _ := findCaseIDs(t, s, casework.CaseFilter{Text: "问题", States: []casework.State{casework.StateRegistered}})
	require.Equal(t, []int64{c5.ID, c4.ID}, ids)
}

func testFindCasesPaging(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()
	f := newFixture(t, s)

	// Created out of order, two received at the same moment.
	type rec struct {
		id       int64
		received time.Time
	}
	var all []rec
	for _, m := range []int{3, 0, 5, 2, 2, 6, 1} {
		c := f.create(t, f.newCase(at(time.Duration(m)*time.Minute)))
		all = append(all, rec{c.ID, c.ReceivedAt})
	}
	slices.SortFunc(all, func(a, b rec) int {
		if c := b.received.Compare(a.received); c != 0 {
			return c
		}
		return int(b.id - a.id)
	})
	want := make([]int64, len(all))
	for i, r := range all {
		want[i] = r.id
	}

	ids, n := findCaseIDs(t, s, casework.CaseFilter{})
	require.Equal(t, 7, n)
	require.Equal(t, want, ids, "newest first by received time, then by ID")

	var paged []int64
	for off := 0; off < 7; off += 3 {
		ids, n := findCaseIDs(t, s, casework.CaseFilter{Limit: 3, Offset: off})
		require.Equal(t, 7, n, "the total ignores paging")
		require.LessOrEqual(t, len(ids), 3)
		paged = append(paged, ids...)
	}
	require.Equal(t, want, paged)

	ids, n = findCaseIDs(t, s, casework.CaseFilter{Offset: 7})
	require.Equal(t, 7, n)
	require.Empty(t, ids)

	cs, _, err := s.FindCases(ctx, casework.CaseFilter{Limit: 1000})
	require.NoError(t, err)
	require.Len(t, cs, 7, "a limit above 500 is capped, not refused")
}

func testUpdateCase(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()
	f := newFixture(t, s)

	c := f.create(t, f.newCase(t0))
	urgent := casework.UrgencyUrgent
	d := casework.DefaultSLAPolicy().Deadlines(urgent, c.Category, c.ReceivedAt)
	upd := casework.CaseUpdate{
		Actor:          casework.Staff("7"),
		Note:           "升级为紧急:漏水影响楼下",
		Urgency:        &urgent,
		Subcategory:    ptr(casework.SubPlumbing),
		Responsibility: ptr(casework.ResponsibilityContractor),
		Location:       ptr(casework.LocationKitchen),
		LocationDetail: ptr("水槽下方"),
		Description:    ptr("厨房水管漏水"),
		Expectation:    ptr("今天上门"),
		ContactTime:    ptr("随时"),
		UnitID:         &f.unit2.ID,
		OwnerID:        &f.owner2.ID,
		PartyID:        &f.party.ID,
		AssigneeID:     &f.member.ID,
		Deadlines:      &d,
	}
	got, err := s.UpdateCase(ctx, c.ID, 1, upd)
	require.NoError(t, err)
	want := *c
	require.NoError(t, upd.Apply(&want))
	// Staff's first act on the case: its first human contact.
	require.True(t, want.NoteContact(upd.Actor, got.UpdatedAt))
	want.Version = 2
	want.RespondBy, want.OnSiteBy, want.ResolveBy = ptr(wantMicroUTC(*d.RespondBy)), ptr(wantMicroUTC(*d.OnSiteBy)), ptr(wantMicroUTC(*d.ResolveBy))
	want.UpdatedAt = got.UpdatedAt
	want.Media = got.Media
	requireSameCase(t, &want, got)
	requireUTC(t, got.UpdatedAt, "UpdatedAt")
	found, err := s.FindCaseByID(ctx, c.ID)
	require.NoError(t, err)
	requireSameCase(t, got, found)

	events, err := s.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, events, 2)
	require.Equal(t, casework.EventUpdated, events[1].Kind)
	require.Equal(t, 2, events[1].Seq)
	require.Equal(t, casework.Staff("7"), events[1].Actor)
	require.Equal(t, upd.Note, events[1].Note)
	requireUTC(t, events[1].At, "event At")

	// Errors change nothing.
	_, err = s.UpdateCase(ctx, c.ID, 1, casework.CaseUpdate{Actor: casework.ActorSystem, Description: ptr("stale")})
	requireConflict(t, err, "stale version")
	_, err = s.UpdateCase(ctx, c.ID, 2, casework.CaseUpdate{Actor: casework.ActorSystem, Urgency: ptr(casework.Urgency("asap"))})
	requireInvalid(t, err, "urgency")
	_, err = s.UpdateCase(ctx, c.ID, 2, casework.CaseUpdate{Description: ptr("no actor")})
	requireInvalid(t, err, "actor")
	_, err = s.UpdateCase(ctx, c.ID, 2, casework.CaseUpdate{Actor: casework.ActorSystem, PartyID: ptr(int64(999999))})
	requireInvalid(t, err, "party")
	_, err = s.UpdateCase(ctx, c.ID, 2, casework.CaseUpdate{Actor: casework.ActorSystem, UnitID: ptr(int64(999999))})
	requireInvalid(t, err, "unit")
	_, err = s.UpdateCase(ctx, 999999, 1, casework.CaseUpdate{Actor: casework.ActorSystem})
	requireErrNotFound(t, err)
	found, err = s.FindCaseByID(ctx, c.ID)
	require.NoError(t, err)
	requireSameCase(t, got, found)
	events, err = s.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, events, 2)
}

func testOptimisticConcurrency(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()
	f := newFixture(t, s)
	c := f.create(t, f.newCase(t0))

	// Rounds of two writers with the same version: exactly one wins.
	version := c.Version
	for round := range 5 {
		var wg sync.WaitGroup
		results := make([]error, 2)
		cases := make([]*casework.Case, 2)
		for w := range 2 {
			wg.Go(func() {
				if round%2 == 0 {
					cases[w], results[w] = s.UpdateCase(ctx, c.ID, version, casework.CaseUpdate{
						Actor: casework.Staff(fmt.Sprint(w)), Description: ptr(fmt.Sprintf("round %d writer %d", round, w))})
					return
				}
				action := casework.ActionHold
				if round%4 == 3 {
					action = casework.ActionResume
				}
				cases[w], results[w] = s.TransitionCase(ctx, c.ID, version, casework.Transition{Action: action, Actor: casework.Staff(fmt.Sprint(w))})
			})
		}
		wg.Wait()
		var winner int = -1
		for w, err := range results {
			if err == nil {
				require.Equal(t, -1, winner, "round %d: both writers won", round)
				winner = w
				continue
			}
			// The loser finds the version moved on. A store checks the version
			// before the action, so a losing hold is a conflict, not an
			// invalid transition.
			requireConflict(t, err, "round %d", round)
		}
		require.NotEqual(t, -1, winner, "round %d: nobody won", round)
		require.Equal(t, version+1, cases[winner].Version)
		version++
	}
	got, err := s.FindCaseByID(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, version, got.Version)
	events, err := s.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, events, 1+5, "one event per winning write")

	// Version 0 is "whatever it is" for a transition.
	got, err = s.TransitionCase(ctx, c.ID, 0, casework.Transition{Action: casework.ActionAccept, Actor: casework.ActorSystem})
	require.NoError(t, err)
	require.Equal(t, version+1, got.Version)
	_, err = s.TransitionCase(ctx, c.ID, version, casework.Transition{Action: casework.ActionDispatch, Actor: casework.ActorSystem})
	requireConflict(t, err, "stale transition")
}

func testTransitionHappyPath(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()
	f := newFixture(t, s)
	c := f.newCase(t0)
	casework.DefaultSLAPolicy().SetDeadlines(c)
	f.create(t, c)

	type step struct {
		action casework.Action
		to     casework.State
	}
	path := []step{
		{casework.ActionAccept, casework.StateAccepted},
		{casework.ActionDispatch, casework.StateDispatched},
		{casework.ActionSchedule, casework.StateScheduled},
		{casework.ActionInspect, casework.StateInspected},
		{casework.ActionProposePlan, casework.StatePlanProposed},
		{casework.ActionAgreePlan, casework.StatePlanAgreed},
		{casework.ActionStartWork, casework.StateInProgress},
		{casework.ActionComplete, casework.StateDone},
		{casework.ActionOwnerAccept, casework.StateOwnerAccepted},
		{casework.ActionSurvey, casework.StateSurveyed},
		{casework.ActionClose, casework.StateClosed},
	}
	when := func(i int) time.Time { return at(time.Duration(i+1)*time.Hour + 321) }
	from := casework.StateRegistered
	for i, st := range path {
		tr := casework.Transition{Action: st.action, Actor: casework.Staff("7"), At: when(i), Note: "step " + string(st.action)}
		switch st.action {
		case casework.ActionAccept:
			tr.DecisionReason = ptr("保修期内")
		case casework.ActionDispatch:
			tr.PartyID, tr.AssigneeID = &f.party.ID, &f.member.ID
		}
		got, err := s.TransitionCase(ctx, c.ID, i+1, tr)
		require.NoError(t, err, st.action)
		require.Equal(t, st.to, got.State, st.action)
		require.Equal(t, i+2, got.Version, st.action)
		found, err := s.FindCaseByID(ctx, c.ID)
		require.NoError(t, err)
		requireSameCase(t, got, found)
		c = got
	}
	require.Equal(t, "保修期内", c.DecisionReason)
	require.Equal(t, f.party.ID, c.PartyID)
	require.Equal(t, f.member.ID, c.AssigneeID)
	require.NotNil(t, c.RespondedAt)
	requireStoredTime(t, when(0), *c.RespondedAt, "RespondedAt: at accept")
	require.NotNil(t, c.OnSiteAt)
	requireStoredTime(t, when(3), *c.OnSiteAt, "OnSiteAt: at inspect")
	require.NotNil(t, c.ResolvedAt)
	requireStoredTime(t, when(7), *c.ResolvedAt, "ResolvedAt: at complete")
	require.NotNil(t, c.ClosedAt)
	requireStoredTime(t, when(10), *c.ClosedAt, "ClosedAt: at close")
	require.Len(t, c.Media, 0)

	events, err := s.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, events, 1+len(path))
	for i, st := range path {
		e := events[i+1]
		require.Equal(t, i+2, e.Seq)
		require.Equal(t, c.ID, e.CaseID)
		require.Equal(t, casework.EventTransition, e.Kind)
		require.Equal(t, st.action, e.Action)
		require.Equal(t, from, e.From)
		require.Equal(t, st.to, e.To)
		require.Equal(t, casework.Staff("7"), e.Actor)
		require.Equal(t, "step "+string(st.action), e.Note)
		requireStoredTime(t, when(i), e.At, "event At")
		from = st.to
	}

	// A zero Transition.At is the store's now.
	got, err := s.TransitionCase(ctx, c.ID, 0, casework.Transition{Action: casework.ActionReopen, Actor: casework.ActorSystem})
	require.NoError(t, err)
	events, err = s.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	requireUTC(t, events[len(events)-1].At, "event At")
	require.Equal(t, casework.StateReopened, got.State)
}

func testTransitionHoldResume(t *testing.T, h Harness) {
	s := h.Open(t)
	f := newFixture(t, s)

	// Held before anything else: staff holding the case is its first
	// human contact.
	c := f.create(t, f.newCase(t0))
	got := f.transition(t, c.ID, at(time.Hour), casework.ActionHold)
	require.Equal(t, casework.StateOnHold, got.State)
	require.Equal(t, casework.StateRegistered, got.HeldFrom)
	require.NotNil(t, got.RespondedAt)
	requireStoredTime(t, at(time.Hour), *got.RespondedAt, "RespondedAt")
	require.Equal(t, 2, got.Version)
	got = f.transition(t, c.ID, at(2*time.Hour), casework.ActionResume)
	require.Equal(t, casework.StateRegistered, got.State)
	require.Empty(t, got.HeldFrom)
	require.Equal(t, 3, got.Version)

	// Held while dispatched, resumed to dispatched.
	got = f.transition(t, c.ID, at(3*time.Hour), casework.ActionAccept, casework.ActionDispatch, casework.ActionHold)
	require.Equal(t, casework.StateOnHold, got.State)
	require.Equal(t, casework.StateDispatched, got.HeldFrom)
	requireStoredTime(t, at(time.Hour), *got.RespondedAt, "RespondedAt is not moved")
	found, err := s.FindCaseByID(f.ctx, c.ID)
	require.NoError(t, err)
	requireSameCase(t, got, found)
	got = f.transition(t, c.ID, at(5*time.Hour), casework.ActionResume)
	require.Equal(t, casework.StateDispatched, got.State)
	require.Empty(t, got.HeldFrom)
	require.Equal(t, 7, got.Version)
	requireStoredTime(t, at(time.Hour), *got.RespondedAt, "RespondedAt is not moved")

	events, err := s.ListCaseEvents(f.ctx, c.ID)
	require.NoError(t, err)
	last := events[len(events)-1]
	require.Equal(t, casework.ActionResume, last.Action)
	require.Equal(t, casework.StateOnHold, last.From)
	require.Equal(t, casework.StateDispatched, last.To)
}

func testTransitionReopen(t *testing.T, h Harness) {
	s := h.Open(t)
	f := newFixture(t, s)
	c := f.create(t, f.newCase(t0))

	got := f.transition(t, c.ID, at(time.Hour), casework.ActionAccept, casework.ActionDispatch, casework.ActionInspect, casework.ActionComplete, casework.ActionOwnerReject)
	require.Equal(t, casework.StateReopened, got.State)
	require.Equal(t, 1, got.RepairCount)
	require.Nil(t, got.ResolvedAt)
	got = f.transition(t, c.ID, at(2*time.Hour), casework.ActionDispatch, casework.ActionInspect, casework.ActionComplete, casework.ActionOwnerAccept, casework.ActionClose)
	require.NotNil(t, got.ClosedAt)
	require.NotNil(t, got.ResolvedAt)
	got = f.transition(t, c.ID, at(3*time.Hour), casework.ActionReopen)
	require.Equal(t, casework.StateReopened, got.State)
	require.Equal(t, 2, got.RepairCount)
	require.Nil(t, got.ResolvedAt)
	require.Nil(t, got.ClosedAt)
	found, err := s.FindCaseByID(f.ctx, c.ID)
	require.NoError(t, err)
	requireSameCase(t, got, found)
}

// testTransitionAnswer: a consultation answered (答复), found wanting by the
// owner and answered again, then settled and closed; and a case resumed
// from hold with its deadlines moved later, in the resume's transaction.
func testTransitionAnswer(t *testing.T, h Harness) {
	s := h.Open(t)
	f := newFixture(t, s)
	k := f.newCase(t0)
	k.Category, k.Subcategory, k.Location = casework.CategoryPolicyConsultation, casework.SubFees, ""
	c := f.create(t, k)

	got := f.transition(t, c.ID, at(time.Hour), casework.ActionAccept, casework.ActionAnswer, casework.ActionOwnerReject)
	require.Equal(t, casework.StateReopened, got.State)
	require.Zero(t, got.RepairCount, "an answer found wanting is no repeat repair")
	require.Nil(t, got.ResolvedAt)
	got = f.transition(t, c.ID, at(2*time.Hour), casework.ActionAnswer)
	require.Equal(t, casework.StateDone, got.State)
	requireStoredTime(t, at(2*time.Hour), *got.ResolvedAt, "ResolvedAt")
	got = f.transition(t, c.ID, at(3*time.Hour), casework.ActionOwnerAccept, casework.ActionClose)
	require.Equal(t, casework.StateClosed, got.State)
	found, err := s.FindCaseByID(f.ctx, c.ID)
	require.NoError(t, err)
	requireSameCase(t, got, found)
	events, err := s.ListCaseEvents(f.ctx, c.ID)
	require.NoError(t, err)
	var actions []casework.Action
	for _, e := range events {
		if e.Kind == casework.EventTransition {
			actions = append(actions, e.Action)
		}
	}
	require.Equal(t, []casework.Action{casework.ActionAccept, casework.ActionAnswer, casework.ActionOwnerReject,
		casework.ActionAnswer, casework.ActionOwnerAccept, casework.ActionClose}, actions)
	require.Equal(t, casework.StateAccepted, events[2].From)
	require.Equal(t, casework.StateDone, events[2].To)

	// Held for 50 hours: the deadlines still running move with the resume.
	r := f.newCase(t0)
	casework.DefaultSLAPolicy().SetDeadlines(r)
	r = f.create(t, r)
	held := f.transition(t, r.ID, at(time.Hour), casework.ActionAccept, casework.ActionHold)
	d := held.PausedDeadlines(at(time.Hour), 50*time.Hour)
	resumed, err := s.TransitionCase(f.ctx, r.ID, held.Version, casework.Transition{Action: casework.ActionResume, Actor: casework.Staff("7"),
		At: at(51 * time.Hour), Deadlines: &d})
	require.NoError(t, err)
	require.Equal(t, casework.StateAccepted, resumed.State)
	requireStoredTime(t, r.OnSiteBy.Add(50*time.Hour), *resumed.OnSiteBy, "OnSiteBy")
	requireStoredTime(t, r.ResolveBy.Add(50*time.Hour), *resumed.ResolveBy, "ResolveBy")
	require.NotNil(t, resumed.RespondedAt, "staff's acceptance was the response")
	requireStoredTime(t, *r.RespondBy, *resumed.RespondBy, "RespondBy: met, it stays")
	found, err = s.FindCaseByID(f.ctx, r.ID)
	require.NoError(t, err)
	requireSameCase(t, resumed, found)
}

func testTransitionInvalid(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()
	f := newFixture(t, s)
	c := f.create(t, f.newCase(t0))

	unchanged := func() {
		t.Helper()
		got, err := s.FindCaseByID(ctx, c.ID)
		require.NoError(t, err)
		requireSameCase(t, c, got)
		events, err := s.ListCaseEvents(ctx, c.ID)
		require.NoError(t, err)
		require.Len(t, events, 1)
	}

	_, err := s.TransitionCase(ctx, c.ID, 1, casework.Transition{Action: casework.ActionComplete, Actor: casework.ActorSystem, At: at(time.Hour)})
	require.Error(t, err)
	require.True(t, errors.Is(err, casework.ErrInvalidTransition), "want ErrInvalidTransition, got %v", err)
	var te *casework.TransitionError
	require.True(t, errors.As(err, &te), "want *TransitionError, got %T", err)
	require.Equal(t, casework.StateRegistered, te.From)
	require.Equal(t, casework.ActionComplete, te.Action)
	unchanged()

	_, err = s.TransitionCase(ctx, c.ID, 0, casework.Transition{Action: casework.ActionResume, Actor: casework.ActorSystem})
	require.True(t, errors.Is(err, casework.ErrInvalidTransition), "resume without hold: %v", err)
	_, err = s.TransitionCase(ctx, c.ID, 1, casework.Transition{Action: "fly", Actor: casework.ActorSystem})
	requireInvalid(t, err, "action")
	_, err = s.TransitionCase(ctx, c.ID, 1, casework.Transition{Action: casework.ActionAccept})
	requireInvalid(t, err, "actor")
	_, err = s.TransitionCase(ctx, c.ID, 1, casework.Transition{Action: casework.ActionAccept, Actor: casework.ActorSystem, PartyID: ptr(int64(999999))})
	requireInvalid(t, err, "party")
	_, err = s.TransitionCase(ctx, c.ID, 5, casework.Transition{Action: casework.ActionAccept, Actor: casework.ActorSystem})
	requireConflict(t, err, "stale version")
	_, err = s.TransitionCase(ctx, 999999, 0, casework.Transition{Action: casework.ActionAccept, Actor: casework.ActorSystem})
	requireErrNotFound(t, err)
	unchanged()

	// A cancelled case allows nothing.
	got := f.transition(t, c.ID, at(time.Hour), casework.ActionCancel)
	require.NotNil(t, got.ClosedAt)
	for _, a := range casework.Actions {
		_, err := s.TransitionCase(ctx, c.ID, 0, casework.Transition{Action: a, Actor: casework.ActorSystem})
		require.True(t, errors.Is(err, casework.ErrInvalidTransition), "%s on a cancelled case: %v", a, err)
	}
}

func testTimeline(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()
	f := newFixture(t, s)
	c := f.create(t, f.newCase(t0))
	other := f.create(t, f.newCase(t0)) // its events must not interleave

	note := func(id int64, kind casework.EventKind, text string, when time.Time) *casework.Event {
		t.Helper()
		e := &casework.Event{CaseID: id, Kind: kind, Actor: casework.Staff("7"), Note: text, At: when}
		require.NoError(t, s.AddCaseEvent(ctx, e))
		require.NotZero(t, e.ID)
		return e
	}
	f.transition(t, c.ID, at(time.Hour), casework.ActionAccept)
	n1 := note(c.ID, casework.EventNote, "已电话联系业主", at(2*time.Hour+1))
	require.Equal(t, 3, n1.Seq)
	requireStoredTime(t, at(2*time.Hour+1), n1.At, "At")
	note(other.ID, casework.EventNote, "另一案", time.Time{})
	f.transition(t, c.ID, at(3*time.Hour), casework.ActionDispatch)
	u := note(c.ID, casework.EventUrge, "业主催办", time.Time{})
	require.Equal(t, 5, u.Seq)
	requireUTC(t, u.At, "a zero At is the store's now")
	require.NoError(t, s.AddCaseMedia(ctx, &casework.MediaRef{CaseID: c.ID, Kind: casework.MediaPhoto, BlobKey: "k/x.jpg"}, casework.Staff("7")))
	note(c.ID, casework.EventNote, "等待上门", at(5*time.Hour))

	events, err := s.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	kinds := make([]casework.EventKind, len(events))
	for i, e := range events {
		require.Equal(t, i+1, e.Seq, "Seq 1..n, ascending")
		require.Equal(t, c.ID, e.CaseID)
		kinds[i] = e.Kind
	}
	require.Equal(t, []casework.EventKind{casework.EventCreated, casework.EventTransition, casework.EventNote, casework.EventTransition,
		casework.EventUrge, casework.EventMedia, casework.EventNote}, kinds)
	requireSameEvent(t, n1, events[2])
	require.Equal(t, "等待上门", events[6].Note)
	require.Equal(t, casework.Staff("7"), events[5].Actor)

	otherEvents, err := s.ListCaseEvents(ctx, other.ID)
	require.NoError(t, err)
	require.Len(t, otherEvents, 2)
	require.Equal(t, 2, otherEvents[1].Seq)

	// Notes do not change the case's version.
	got, err := s.FindCaseByID(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, 3, got.Version)
}

func testAddCaseEvent(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()
	f := newFixture(t, s)
	c := f.create(t, f.newCase(t0))

	requireErrNotFound(t, s.AddCaseEvent(ctx, &casework.Event{CaseID: 999999, Kind: casework.EventNote, Actor: casework.ActorSystem}))
	requireInvalid(t, s.AddCaseEvent(ctx, &casework.Event{CaseID: c.ID, Kind: casework.EventNote}), "actor")
	for _, k := range []casework.EventKind{casework.EventTransition, casework.EventCreated, casework.EventUpdated, casework.EventMedia, "shout"} {
		requireInvalid(t, s.AddCaseEvent(ctx, &casework.Event{CaseID: c.ID, Kind: k, Actor: casework.ActorSystem}), "kind", k)
	}
	events, err := s.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, events, 1)

	// Every other kind of the domain is taken as it is.
	var kinds []casework.EventKind
	for _, k := range casework.EventKinds {
		switch k {
		case casework.EventCreated, casework.EventTransition, casework.EventUpdated, casework.EventMedia:
			continue
		}
		e := &casework.Event{CaseID: c.ID, Kind: k, Actor: casework.Staff("7"), Note: "note " + string(k)}
		require.NoError(t, s.AddCaseEvent(ctx, e), k)
		kinds = append(kinds, k)
	}
	require.Contains(t, kinds, casework.EventDeliveryFailed)
	events, err = s.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, events, 1+len(kinds))
	for i, k := range kinds {
		require.Equal(t, k, events[i+1].Kind)
		require.Equal(t, "note "+string(k), events[i+1].Note)
	}
	got, err := s.FindCaseByID(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, 2, got.Version, "events change no version but by the first human contact, staff's first entry")
	require.NotNil(t, got.RespondedAt)
	requireStoredTime(t, events[1].At, *got.RespondedAt, "RespondedAt")
}

func testAddCaseMedia(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()
	f := newFixture(t, s)
	c := f.newCase(t0)
	c.Media = []casework.MediaRef{{Kind: casework.MediaPhoto, BlobKey: "k/1.jpg", ContentType: "image/jpeg", Size: 10}}
	f.create(t, c)

	m := &casework.MediaRef{CaseID: c.ID, Kind: casework.MediaDocument, BlobKey: "k/2.pdf", ContentType: "application/pdf", Size: 2048, CreatedAt: at(time.Hour + 9)}
	require.NoError(t, s.AddCaseMedia(ctx, m, casework.Staff("7")))
	require.NotZero(t, m.ID)
	requireStoredTime(t, at(time.Hour+9), m.CreatedAt, "CreatedAt")
	got, err := s.FindCaseByID(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, got.Media, 2)
	requireSameMedia(t, m, &got.Media[1])
	require.Equal(t, 2, got.Version, "media do not change the version but by the first human contact, as this, by staff")

	events, err := s.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, events, 2)
	require.Equal(t, casework.EventMedia, events[1].Kind)
	require.Equal(t, casework.Staff("7"), events[1].Actor)

	requireErrNotFound(t, s.AddCaseMedia(ctx, &casework.MediaRef{CaseID: 999999, Kind: casework.MediaPhoto, BlobKey: "k"}, casework.ActorBot))
	requireInvalid(t, s.AddCaseMedia(ctx, &casework.MediaRef{CaseID: c.ID, Kind: "gif", BlobKey: "k"}, casework.ActorBot), "media")
	requireInvalid(t, s.AddCaseMedia(ctx, &casework.MediaRef{CaseID: c.ID, Kind: casework.MediaPhoto, BlobKey: "k"}, ""), "actor")
}

func testAtomicity(t *testing.T, h Harness) {
	errFault := errors.New("injected fault")
	failing, normal := h.OpenFailing(t, errFault)
	ctx := t.Context()
	f := newFixture(t, normal)
	c := f.create(t, f.newCase(t0))
	c = f.transition(t, c.ID, at(time.Hour), casework.ActionAccept)
	eventsBefore, err := normal.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)

	unchanged := func(what string) {
		t.Helper()
		got, err := normal.FindCaseByID(ctx, c.ID)
		require.NoError(t, err)
		requireSameCase(t, c, got)
		events, err := normal.ListCaseEvents(ctx, c.ID)
		require.NoError(t, err)
		require.Len(t, events, len(eventsBefore), "%s: no event stored", what)
		for i := range events {
			requireSameEvent(t, eventsBefore[i], events[i])
		}
	}

	_, err = failing.TransitionCase(ctx, c.ID, c.Version, casework.Transition{Action: casework.ActionDispatch, Actor: casework.ActorSystem,
		At: at(2 * time.Hour), PartyID: &f.party.ID})
	require.Error(t, err)
	require.True(t, errors.Is(err, errFault), "want the injected fault, got %v", err)
	unchanged("transition")

	_, err = failing.UpdateCase(ctx, c.ID, c.Version, casework.CaseUpdate{Actor: casework.ActorSystem, Description: ptr("never stored")})
	require.True(t, errors.Is(err, errFault), "want the injected fault, got %v", err)
	unchanged("update")

	nc := f.newCase(at(time.Minute))
	nc.Media = []casework.MediaRef{{Kind: casework.MediaPhoto, BlobKey: "k"}}
	err = failing.CreateCase(ctx, nc)
	require.True(t, errors.Is(err, errFault), "want the injected fault, got %v", err)
	_, n, err := normal.FindCases(ctx, casework.CaseFilter{})
	require.NoError(t, err)
	require.Equal(t, 1, n, "the failed case is not stored")
	_, err = normal.FindCaseByNumber(ctx, testclock.Text("SH-20261127-0002"))
	requireErrNotFound(t, err)

	// Neither its number: the counter moved back with the rest.
	again := f.create(t, f.newCase(at(time.Minute)))
	require.Equal(t, testclock.Text("SH-20261127-0002"), again.Number)

	// The failing store still reads and writes what is not a case.
	got, err := failing.FindCaseByID(ctx, c.ID)
	require.NoError(t, err)
	requireSameCase(t, c, got)
	require.NoError(t, failing.AddCaseEvent(ctx, &casework.Event{CaseID: c.ID, Kind: casework.EventNote, Actor: casework.ActorSystem}))
}
