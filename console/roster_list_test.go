package console_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/testclock"
)

// TestConsoleRoster: the parties page links to the supervisors' duty
// roster, which lists each project's turns in words — across midnight, a
// holiday's date — to those who work cases; an agent sees only the
// projects that are theirs, a party's manager nothing.
func TestConsoleRoster(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	ctx := t.Context()
	gcb := &casework.Party{Code: "GCB", Name: "售后服务部工程组", Kind: casework.PartyInHouse}
	require.NoError(t, e.store.CreateParty(ctx, gcb))
	lin := &casework.Member{PartyID: gcb.ID, Name: "林峰", Phone: "13900009009", Role: casework.RoleSupervisor}
	require.NoError(t, e.store.CreateMember(ctx, lin))
	h := time.Hour
	require.NoError(t, e.store.ReplaceRoster(ctx, []int64{e.project.ID}, []*casework.Duty{
		{ProjectID: e.project.ID, MemberID: lin.ID, Weekday: time.Friday, From: 18 * h, To: 8*h + 30*time.Minute},
		{ProjectID: e.project.ID, MemberID: lin.ID, Date: testclock.Day(2026, 10, 1), From: 0, To: 24 * h},
	}))

	sup := e.signedIn(t, "supervisor")
	w := sup.get("/console/parties")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), `href="/console/roster"`)
	w = sup.get("/console/roster")
	require.Equal(t, http.StatusOK, w.Code)
	page := w.Body.String()
	assert.Contains(t, page, "主管值班表")
	assert.Contains(t, page, "<td>周五</td><td>18:00–次日 08:30</td><td>林峰</td><td>13900009009</td>")
	assert.Contains(t, page, "<td>"+testclock.Day(2026, 10, 1).String()+" 周四</td><td>00:00–24:00</td>")
	assert.Contains(t, page, e.project.Name)

	agent := e.signedIn(t, "agent") // of project2 only
	w = agent.get("/console/roster")
	require.Equal(t, http.StatusOK, w.Code)
	assert.NotContains(t, w.Body.String(), "林峰")
	assert.Contains(t, w.Body.String(), "尚未导入值班表")
	assert.Equal(t, http.StatusForbidden, e.signedIn(t, "party").get("/console/roster").Code)
}
