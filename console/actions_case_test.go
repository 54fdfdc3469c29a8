package console_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

// TestAnswerHoldResumeCancelCloseAPI: the staff API's routes to answer,
// hold, resume, withdraw and close a case, with their refusals.
func TestAnswerHoldResumeCancelCloseAPI(t *testing.T) {
	t.Parallel()
	e := newLifecycleEnv(t)
	owner := func(c *casework.Case) *casework.Case {
		c.OwnerID, c.OwnerName, c.UnitID, c.BuildingID = e.owner.ID, e.owner.Name, e.unit.ID, e.building.ID
		return newCase(t, e.apiEnv, c)
	}
	consult := owner(&casework.Case{Category: casework.CategoryPolicyConsultation, Subcategory: casework.SubCertificate, Description: "产权证什么时候能办？"})
	repair := owner(&casework.Case{Subcategory: casework.SubLeak})
	path := func(c *casework.Case, action string) string { return "/api/v1/cases/" + c.Number + "/" + action }

	// A consultation is answered, never dispatched.
	requireError(t, e.post(t, path(consult, "dispatch"), `{"party_id":`+id(e.party.ID)+`}`), http.StatusBadRequest, "invalid", "category")
	requireError(t, e.post(t, path(consult, "answer"), `{"text":""}`), http.StatusBadRequest, "invalid", "text")
	c := caseOf(t, e.post(t, path(consult, "answer"), `{"text":"预计 6 月底可以办理，届时短信通知您。"}`))
	assert.Equal(t, "done", c["state"])
	d := getDetail(t, e.apiEnv, consult.Number)
	assert.Equal(t, "answer", d.last()["action"])
	assert.Equal(t, "service:api", d.last()["actor"])
	requireError(t, e.post(t, path(repair, "answer"), `{"text":"好的"}`), http.StatusBadRequest, "invalid", "category")

	// Hold and resume a repair.
	requireError(t, e.post(t, path(repair, "hold"), `{"reason":"缺料"}`), http.StatusBadRequest, "invalid", "until")
	requireError(t, e.post(t, path(repair, "hold"), `{"reason":"缺料","until":"下周"}`), http.StatusBadRequest, "invalid", "until")
	requireError(t, e.post(t, path(repair, "hold"), `{"reason":"","until":"`+e.clock.Now().Add(72*time.Hour).Format("2006-01-02")+`"}`), http.StatusBadRequest, "invalid", "reason")
	c = caseOf(t, e.post(t, path(repair, "hold"), `{"reason":"防水材料缺货","until":"`+e.clock.Now().Add(72*time.Hour).Format("2006-01-02")+`"}`))
	assert.Equal(t, "on_hold", c["state"])
	requireError(t, e.post(t, path(repair, "close"), `{}`), http.StatusConflict, "invalid_transition", "")
	c = caseOf(t, e.post(t, path(repair, "resume"), ``))
	assert.Equal(t, "registered", c["state"], "back where it was held")

	// Withdraw at the owner's request; then nothing more.
	requireError(t, e.post(t, path(repair, "cancel"), `{}`), http.StatusBadRequest, "invalid", "reason")
	c = caseOf(t, e.post(t, path(repair, "cancel"), `{"reason":"业主已自行修好"}`))
	assert.Equal(t, "cancelled", c["state"])
	requireError(t, e.post(t, path(repair, "resume"), `{}`), http.StatusConflict, "invalid_transition", "")

	// Close a rejected case.
	rejected := owner(&casework.Case{Subcategory: casework.SubLeak})
	caseOf(t, e.post(t, path(rejected, "reject"), `{"reason":"owner_caused"}`))
	c = caseOf(t, e.post(t, path(rejected, "close"), `{"note":"已电话解释"}`))
	assert.Equal(t, "closed", c["state"])

	// A party's token does none of it.
	r := e.do(t, http.MethodPost, path(rejected, "close"), fs01Token, nil)
	assert.Equal(t, http.StatusForbidden, r.Code)
}

// TestMajorComplaintIsAnsweredByASupervisor: on the case page, an agent is
// not offered the answer of a major complaint and is refused it; a
// supervisor answers it.
func TestMajorComplaintIsAnsweredByASupervisor(t *testing.T) {
	t.Parallel()
	e := newActEnv(t)
	c := newCase(t, e.apiEnv, &casework.Case{ProjectID: e.project2.ID, Category: casework.CategoryServiceAttitude,
		Subcategory: casework.SubPropertyManagement, Urgency: casework.UrgencyMajorComplaint, Description: "物业多次无故停水，要求赔偿"})
	agent := e.signedIn(t, "agent")
	page := agent.get("/console/cases/" + c.Number).Body.String()
	assert.NotContains(t, page, `/act/answer"`)
	assert.Contains(t, page, `/act/accept"`)
	assert.Equal(t, http.StatusForbidden, agent.act(c, "answer", map[string][]string{"text": {"已处理"}}).Code)

	sup := e.signedIn(t, "supervisor")
	page = sup.get("/console/cases/" + c.Number).Body.String()
	assert.Contains(t, page, `/act/answer"`)
	assert.Contains(t, page, "重大投诉由主管答复")
	w := sup.act(c, "answer", map[string][]string{"text": {"经核实，停水系管道检修未提前通知，物业已书面道歉，并减免当月水费。"}})
	require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
	assert.Equal(t, casework.StateDone, e.reload(t, c).State)
}
