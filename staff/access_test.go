package staff

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/aftersales/aftersales/casework"
)

func TestWhoSeesWhichCase(t *testing.T) {
	t.Parallel()
	hjy, other := &casework.Case{ProjectID: 1, PartyID: 7}, &casework.Case{ProjectID: 2, PartyID: 8}
	admin := &User{Role: RoleAdmin}
	supervisor := &User{Role: RoleSupervisor}
	agent := &User{Role: RoleAgent, ProjectIDs: []int64{1}}
	party := &User{Role: RoleParty, PartyID: 7}
	for _, tc := range []struct {
		u          *User
		hjy, other bool
		act, users bool
	}{
		{admin, true, true, true, true},
		{supervisor, true, true, true, false},
		{agent, true, false, true, false},
		{party, true, false, false, false},
	} {
		assert.Equal(t, tc.hjy, tc.u.MaySeeCase(hjy), tc.u.Role)
		assert.Equal(t, tc.other, tc.u.MaySeeCase(other), tc.u.Role)
		assert.Equal(t, tc.act, tc.u.MayAct(), tc.u.Role)
		assert.Equal(t, tc.users, tc.u.MayManageUsers(), tc.u.Role)
	}

	var f casework.CaseFilter
	assert.True(t, agent.ScopeCases(&f))
	assert.Equal(t, []int64{1}, f.ProjectIDs, "an agent lists their projects")
	f = casework.CaseFilter{ProjectID: 2}
	assert.False(t, agent.ScopeCases(&f), "another project: nothing")
	f = casework.CaseFilter{}
	assert.True(t, party.ScopeCases(&f))
	assert.Equal(t, int64(7), f.PartyID, "a party lists its cases")
	f = casework.CaseFilter{PartyID: 8}
	assert.False(t, party.ScopeCases(&f))
	f = casework.CaseFilter{ProjectID: 2}
	assert.True(t, supervisor.ScopeCases(&f))
	assert.Empty(t, f.ProjectIDs)
}

func TestUserValidate(t *testing.T) {
	t.Parallel()
	ok := User{Username: "zhang.wei", Role: RoleAgent, Kind: KindPerson}
	assert.NoError(t, ok.Validate())
	for name, u := range map[string]User{
		"short name":         {Username: "z", Role: RoleAgent, Kind: KindPerson},
		"capitals":           {Username: "ZhangWei", Role: RoleAgent, Kind: KindPerson},
		"leading dot":        {Username: ".zw", Role: RoleAgent, Kind: KindPerson},
		"unknown role":       {Username: "zw", Role: "boss", Kind: KindPerson},
		"party without one":  {Username: "zw", Role: RoleParty, Kind: KindPerson},
		"agent with a party": {Username: "zw", Role: RoleAgent, Kind: KindPerson, PartyID: 3},
		"scoped admin":       {Username: "zw", Role: RoleAdmin, Kind: KindPerson, ProjectIDs: []int64{1}},
	} {
		assert.Error(t, u.Validate(), name)
	}
}
