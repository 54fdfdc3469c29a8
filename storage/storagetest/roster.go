package storagetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

// rosterPeople adds the department's engineering group to the fixture: an
// in-house party with two supervisors and an engineer, and a contractor's
// own supervisor, who is not the department's.
func rosterPeople(t *testing.T, s casework.Store, f *fixture) (lin, shen, tao, outsider *casework.Member) {
	t.Helper()
	ctx := t.Context()
	gcb := &casework.Party{Code: "GCB", Name: "售后服务部工程组", Kind: casework.PartyInHouse}
	require.NoError(t, s.CreateParty(ctx, gcb))
	add := func(partyID int64, name, phone, role string) *casework.Member {
		m := &casework.Member{PartyID: partyID, Name: name, Phone: phone, Role: role}
		require.NoError(t, s.CreateMember(ctx, m))
		return m
	}
	return add(gcb.ID, "林峰", "13900009009", casework.RoleSupervisor),
		add(gcb.ID, "沈静", "13900009011", casework.RoleSupervisor),
		add(gcb.ID, "陶然", "13900009010", "engineer"),
		add(f.party.ID, "钱监理", "13700004444", casework.RoleSupervisor)
}

// testRoster: a roster file's lines resolved against the registry (its
// problems listed by line), stored whole per project, listed in the order
// of the week, and replaced all or nothing.
func testRoster(t *testing.T, h Harness) {
	s, rs := openAs[casework.RosterStore](t, h)
	ctx := t.Context()
	f := newFixture(t, s)
	lin, shen, _, _ := rosterPeople(t, s, f)
	hr := time.Hour

	// Resolving: every problem at once, by line.
	_, _, err := casework.ResolveRoster(ctx, s, []casework.DutyRecord{
		{Line: 2, ProjectCode: "HJY", Member: "林峰", Weekday: time.Monday, From: 18 * hr, To: 8 * hr},
		{Line: 3, ProjectCode: "NOPE", Member: "林峰", Weekday: time.Monday, From: 18 * hr, To: 8 * hr},
		{Line: 4, ProjectCode: "HJY", Member: "陶然", Weekday: time.Monday, From: 18 * hr, To: 8 * hr},
		{Line: 5, ProjectCode: "HJY", Member: "钱监理", Weekday: time.Monday, From: 18 * hr, To: 8 * hr},
		{Line: 6, ProjectCode: "HJY", Member: "13900000000", Weekday: time.Monday, From: 18 * hr, To: 8 * hr},
		{Line: 7, ProjectCode: "HJY", Member: "沈静", Weekday: time.Monday, From: 8 * hr, To: 8 * hr},
	})
	var ie *casework.ImportError
	require.ErrorAs(t, err, &ie)
	var lines []int
	for _, l := range ie.Lines {
		lines = append(lines, l.Line)
	}
	assert.Equal(t, []int{3, 4, 5, 6, 7}, lines, "%v", err)
	assert.Contains(t, err.Error(), "line 3: project_code: project NOPE does not exist")
	assert.Contains(t, err.Error(), "line 4: member: 陶然 is the engineer of GCB, not one of the department's supervisors")
	assert.Contains(t, err.Error(), "line 5: member: 钱监理 is the supervisor of FS01, not one of the department's supervisors")
	assert.Contains(t, err.Error(), "139****0000", "a phone is masked in the message")
	assert.NotContains(t, err.Error(), "13900000000")
	assert.Contains(t, err.Error(), "line 7: to: ")

	// Resolved by name or by phone, a turn of each project.
	holiday := casework.D(t0.Year(), 10, 1)
	projectIDs, duties, err := casework.ResolveRoster(ctx, s, []casework.DutyRecord{
		{Line: 2, ProjectCode: "HJY", Member: "林峰", Weekday: time.Sunday, From: 18 * hr, To: 8*hr + 30*time.Minute},
		{Line: 3, ProjectCode: "HJY", Member: "139-0000-9011", Weekday: time.Monday, From: 18 * hr, To: 24 * hr},
		{Line: 4, ProjectCode: "HJY", Member: "沈静", Date: holiday, From: 0, To: 24 * hr},
		{Line: 5, ProjectCode: "LSY", Member: "沈静", Weekday: time.Saturday, From: 9 * hr, To: 17 * hr},
		{Line: 6, ProjectCode: "HJY", Member: "林峰", Weekday: time.Monday, From: 8 * hr, To: 12 * hr},
	})
	require.NoError(t, err)
	assert.Equal(t, []int64{f.project.ID, f.project2.ID}, projectIDs)
	require.Len(t, duties, 5)
	assert.Equal(t, shen.ID, duties[1].MemberID, "by phone")
	assert.Equal(t, lin.ID, duties[0].MemberID, "by name")

	before := Now()
	require.NoError(t, rs.ReplaceRoster(ctx, projectIDs, duties))
	for _, d := range duties {
		require.NotZero(t, d.ID)
		requireUTC(t, d.CreatedAt, "CreatedAt")
		require.False(t, d.CreatedAt.Before(wantMicroUTC(before)), "CreatedAt is the store's now")
	}
	hjy, err := rs.ListDuties(ctx, f.project.ID)
	require.NoError(t, err)
	// Monday's turns first, by the hour, then Sunday's, then the dated.
	require.Equal(t, []*casework.Duty{duties[4], duties[1], duties[0], duties[2]}, hjy)
	assert.Equal(t, time.Weekday(0), hjy[3].Weekday, "a dated turn's weekday reads 0")
	assert.Equal(t, holiday, hjy[3].Date)
	all, err := rs.ListDuties(ctx, 0)
	require.NoError(t, err)
	require.Len(t, all, 5)
	lsy, err := rs.ListDuties(ctx, f.project2.ID)
	require.NoError(t, err)
	require.Equal(t, []*casework.Duty{duties[3]}, lsy)

	// Refused, changing nothing: a bad turn, a turn of a project not
	// replaced, a project or a member that does not exist.
	turn := func(projectID, memberID int64) *casework.Duty {
		return &casework.Duty{ProjectID: projectID, MemberID: memberID, Weekday: time.Friday, From: 18 * hr, To: 8 * hr}
	}
	bad := turn(f.project.ID, lin.ID)
	bad.To = bad.From
	requireInvalid(t, rs.ReplaceRoster(ctx, []int64{f.project.ID}, []*casework.Duty{bad}), "to")
	requireInvalid(t, rs.ReplaceRoster(ctx, []int64{f.project.ID}, []*casework.Duty{turn(f.project2.ID, lin.ID)}), "project")
	requireErrNotFound(t, rs.ReplaceRoster(ctx, []int64{f.project.ID, 999999}, nil))
	requireErrNotFound(t, rs.ReplaceRoster(ctx, []int64{f.project.ID}, []*casework.Duty{turn(f.project.ID, lin.ID), turn(f.project.ID, 999999)}))
	got, err := rs.ListDuties(ctx, f.project.ID)
	require.NoError(t, err)
	require.Equal(t, hjy, got, "nothing changed")

	// Replacing one project's roster leaves the other's; none clears it.
	again := turn(f.project.ID, shen.ID)
	require.NoError(t, rs.ReplaceRoster(ctx, []int64{f.project.ID}, []*casework.Duty{again}))
	got, err = rs.ListDuties(ctx, f.project.ID)
	require.NoError(t, err)
	require.Equal(t, []*casework.Duty{again}, got)
	lsy, err = rs.ListDuties(ctx, f.project2.ID)
	require.NoError(t, err)
	require.Len(t, lsy, 1, "the other project's roster stays")
	require.NoError(t, rs.ReplaceRoster(ctx, []int64{f.project.ID}, nil))
	got, err = rs.ListDuties(ctx, f.project.ID)
	require.NoError(t, err)
	require.Empty(t, got)
}
