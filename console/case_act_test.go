package console_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/console"
	"github.com/aftersales/aftersales/lifecycle"
)

// actEnv is the console's pages with a lifecycle service: the accounts of
// uiEnv, and engineers of the two parties.
type actEnv struct {
	*uiEnv
	jobs                *fakeJobs
	engineer, engineer2 *casework.Member
	party2              *casework.Party
}

func newActEnv(t *testing.T) *actEnv {
	t.Helper()
	ae := &actEnv{jobs: &fakeJobs{}}
	ae.uiEnv = newUIEnv(t, func(e *apiEnv, cfg *console.Config) {
		ctx := t.Context()
		e.store.SetJobQueue(ae.jobs)
		ae.engineer = &casework.Member{PartyID: e.party.ID, Name: "李工", Phone: "13900001111", Role: "engineer"}
		require.NoError(t, e.store.CreateMember(ctx, ae.engineer))
		ae.party2 = &casework.Party{Code: "DT02", Name: "电梯维保公司", Kind: casework.PartyMaintenance}
		require.NoError(t, e.store.CreateParty(ctx, ae.party2))
		ae.engineer2 = &casework.Member{PartyID: ae.party2.ID, Name: "王工", Phone: "13900002222", Role: "engineer"}
		require.NoError(t, e.store.CreateMember(ctx, ae.engineer2))
		cfg.Lifecycle = lifecycle.New(lifecycle.Config{Store: e.store, Logger: cfg.Logger, NowFunc: e.clock.Now})
	})
	return ae
}

// act posts an action's form for the case at its current version (or the
// version given).
func (b *browser) act(c *casework.Case, action string, form url.Values, version ...int) *httptest.ResponseRecorder {
	b.t.Helper()
	cur, err := b.e.store.FindCaseByNumber(b.t.Context(), c.Number)
	require.NoError(b.t, err)
	v := cur.Version
	if len(version) > 0 {
		v = version[0]
	}
	if form == nil {
		form = url.Values{}
	}
	form.Set("version", strconv.Itoa(v))
	return b.do(http.MethodPost, "/console/cases/"+c.Number+"/act/"+action, form)
}

func (e *actEnv) reload(t *testing.T, c *casework.Case) *casework.Case {
	t.Helper()
	nc, err := e.store.FindCaseByNumber(t.Context(), c.Number)
	require.NoError(t, err)
	return nc
}

func TestCaseActionsOffered(t *testing.T) {
	t.Parallel()
	e := newActEnv(t)
	c := newCase(t, e.apiEnv, &casework.Case{PartyID: e.party.ID, Subcategory: casework.SubLeak})

	page := e.signedIn(t, "supervisor").get("/console/cases/" + c.Number).Body.String()
	for _, a := range []string{"triage", "accept", "reject", "message", "task", "note"} {
		assert.Contains(t, page, `action="/console/cases/`+c.Number+`/act/`+a+`"`, a)
	}
	for _, a := range []string{"dispatch", "resume", "close"} {
		assert.NotContains(t, page, `/act/`+a+`"`, "a registered case cannot be "+a)
	}
	assert.Contains(t, page, `name="version" value="`+strconv.Itoa(c.Version)+`"`)
	assert.Contains(t, page, "王工", "engineers are picked by name")

	party := e.signedIn(t, "party").get("/console/cases/" + c.Number).Body.String()
	assert.Contains(t, party, `/act/note"`, "a party's manager comments")
	assert.NotContains(t, party, `/act/accept"`)
}

func TestCaseAcceptAndDispatchFromThePage(t *testing.T) {
	t.Parallel()
	e := newActEnv(t)
	c := newCase(t, e.apiEnv, &casework.Case{Subcategory: casework.SubLeak})
	b := e.signedIn(t, "supervisor")

	w := b.act(c, "accept", url.Values{"assignee": {"m:" + strconv.FormatInt(e.engineer2.ID, 10)}, "note": {"保修期内"}})
	require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
	assert.Equal(t, "/console/cases/"+c.Number+"?done=accept", w.Header().Get("Location"))
	got := e.reload(t, c)
	assert.Equal(t, casework.StateDispatched, got.State)
	assert.Equal(t, e.engineer2.ID, got.AssigneeID)
	assert.Equal(t, e.party2.ID, got.PartyID, "the engineer's party")
	assert.Equal(t, casework.Staff("7"), got.ReceivedBy, "a hotline case keeps its receiver")
	assert.NotNil(t, got.RespondedAt, "the supervisor's acceptance is the first human contact")

	page := b.get(w.Header().Get("Location")).Body.String()
	assert.Contains(t, page, "已受理。")
	assert.Contains(t, page, `<span class="actor">王主管</span>`, "the timeline names the person")
	assert.Contains(t, page, "改派", "a dispatched case is reassigned")

	// Reassign to a party: its member is picked by role.
	w = b.act(got, "dispatch", url.Values{"assignee": {"p:" + strconv.FormatInt(e.party.ID, 10)}})
	require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
	got = e.reload(t, c)
	assert.Equal(t, e.party.ID, got.PartyID)
	assert.Equal(t, e.engineer.ID, got.AssigneeID)
}

func TestCaseActionRefusals(t *testing.T) {
	t.Parallel()
	e := newActEnv(t)
	c := newCase(t, e.apiEnv, &casework.Case{Subcategory: casework.SubLeak})
	b := e.signedIn(t, "supervisor")

	// A bad value: the form comes back open, its values kept.
	w := b.act(c, "reject", url.Values{"note": {"我的说明"}})
	require.Equal(t, http.StatusBadRequest, w.Code)
	assert.Contains(t, w.Body.String(), "请检查“原因”")
	assert.Contains(t, w.Body.String(), `<details class="act act-reject" open>`)
	assert.Contains(t, w.Body.String(), `value="我的说明"`)
	assert.Equal(t, casework.StateRegistered, e.reload(t, c).State)

	// A stale form: another agent acted since the page was shown.
	seen := c.Version
	require.Equal(t, http.StatusSeeOther, b.act(c, "note", url.Values{"note": {"已电话联系业主"}}).Code)
	require.Equal(t, http.StatusSeeOther, b.act(c, "triage", url.Values{"urgency": {"urgent"}}).Code)
	w = b.act(c, "reject", url.Values{"reason": {"out_of_warranty"}}, seen)
	require.Equal(t, http.StatusConflict, w.Code)
	assert.Contains(t, w.Body.String(), "刚被他人处理过")
	assert.Equal(t, casework.StateRegistered, e.reload(t, c).State, "nothing changed")
	assert.Equal(t, casework.UrgencyUrgent, e.reload(t, c).Urgency)

	// An action the state no longer allows.
	require.Equal(t, http.StatusSeeOther, b.act(c, "reject", url.Values{"reason": {"owner_caused"}}).Code)
	w = b.act(c, "reject", url.Values{"reason": {"owner_caused"}})
	require.Equal(t, http.StatusConflict, w.Code)
	assert.Contains(t, w.Body.String(), "不能执行此操作")

	// A party's manager acts on nothing but notes; an agent of another
	// project does not find the case; an unknown action is no page.
	other := newCase(t, e.apiEnv, &casework.Case{PartyID: e.party.ID, Subcategory: casework.SubLeak})
	assert.Equal(t, http.StatusForbidden, e.signedIn(t, "party").act(other, "accept", nil).Code)
	assert.Equal(t, http.StatusSeeOther, e.signedIn(t, "party").act(other, "note", url.Values{"note": {"已安排人员"}}).Code)
	assert.Equal(t, http.StatusNotFound, e.signedIn(t, "agent").act(other, "accept", nil).Code)
	assert.Equal(t, http.StatusNotFound, b.act(other, "explode", nil).Code)
	assert.Equal(t, casework.StateRegistered, e.reload(t, other).State)

	// A cross-site form is refused before anything is read.
	form := url.Values{"version": {strconv.Itoa(e.reload(t, other).Version)}}
	w = b.do(http.MethodPost, "/console/cases/"+other.Number+"/act/accept", form, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	assert.Equal(t, http.StatusForbidden, w.Code)
	assert.Equal(t, casework.StateRegistered, e.reload(t, other).State)
}

func TestCaseTriageTaskMessageFromThePage(t *testing.T) {
	t.Parallel()
	e := newActEnv(t)
	c := newCase(t, e.apiEnv, &casework.Case{Subcategory: casework.SubLeak})
	b := e.signedIn(t, "supervisor")

	w := b.act(c, "triage", url.Values{"category": {"facilities_equipment"}, "subcategory": {"lift"}, "urgency": {"urgent"}, "note": {"电梯困人"}})
	require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
	got := e.reload(t, c)
	assert.Equal(t, casework.CategoryFacilitiesEquipment, got.Category)
	assert.Equal(t, casework.UrgencyUrgent, got.Urgency)

	due := e.clock.Now().In(casework.ChinaTime()).Add(24 * time.Hour).Format("2006-01-02T15:04")
	w = b.act(c, "task", url.Values{"assignee": {"物业 陈经理"}, "description": {"协调停水"}, "due_at": {due}})
	require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
	tasks, err := e.store.ListTasks(t.Context(), c.ID)
	require.NoError(t, err)
	require.Len(t, tasks, 1)
	assert.Equal(t, "协调停水", tasks[0].Description)

	w = b.act(c, "message", url.Values{"text": {"您好，我们已安排"}})
	require.Equal(t, http.StatusBadRequest, w.Code, "an owner with no chat account")
	assert.Contains(t, w.Body.String(), "请检查“业主”")

	w = b.act(c, "task", url.Values{"assignee": {"物业"}, "description": {"x"}, "due_at": {"明天"}})
	require.Equal(t, http.StatusBadRequest, w.Code)
	assert.Contains(t, w.Body.String(), "完成时间")
	assert.True(t, strings.Contains(w.Body.String(), `value="明天"`), "the value is kept")
}
