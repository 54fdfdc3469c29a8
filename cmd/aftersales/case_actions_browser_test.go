package main

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/lifecycle"
	"github.com/aftersales/aftersales/staff"
)

// reportDesignDefect has an owner report, on the chat page, a design defect:
// a case the policy leaves to staff. It returns the case and the owner's
// chat page, bound to them.
func reportDesignDefect(t *testing.T, m *Main, base string) (*casework.Case, *visitor) {
	t.Helper()
	v := startReport(t, m, base)
	v.press("cat:design_defect/missing_function")
	v.press("loc:kitchen")
	v.say("厨房没有预留洗碗机的上下水接口")
	v.press("occ:week")
	v.press("media:skip")
	v.press("exp:repair")
	v.press("ct:anytime")
	require.Contains(t, v.press("sum:submit"), "SH-")
	cases, _, err := m.Store.FindCases(t.Context(), casework.CaseFilter{})
	require.NoError(t, err)
	require.Len(t, cases, 1)
	require.Equal(t, casework.StateRegistered, cases[0].State, "a design defect waits for staff")
	return cases[0], v
}

// TestCaseActionsInTheBrowser: a supervisor signs in, opens a case waiting
// for triage, raises its urgency, and accepts it for the in-house engineer
// chosen by name, confirming the dialog; the page says it is done and the
// timeline names the supervisor.
func TestCaseActionsInTheBrowser(t *testing.T) {
	m, base, exe := browserTest(t, &staff.User{Username: "wang", DisplayName: "王主管", Role: staff.RoleSupervisor}, "海景苑-主管-2026-密码")
	ctx := t.Context()
	c, _ := reportDesignDefect(t, m, base)
	gcb, err := m.Store.FindPartyByCode(ctx, "GCB")
	require.NoError(t, err)
	members, err := m.Store.ListMembers(ctx, gcb.ID)
	require.NoError(t, err)
	var taoRan int64
	for _, e := range members {
		if e.Name == "陶然" {
			taoRan = e.ID
		}
	}
	require.NotZero(t, taoRan, "the demo's in-house engineer")
	// 陶然 works from the chat page: the order reaches him there.
	tao := newVisitor(t, base)
	code, err := m.Lifecycle.IssueBindCode(ctx, taoRan, casework.Staff("test"))
	require.NoError(t, err)
	tao.say("/bind " + code.Code)

	bctx, shot := startBrowser(t, exe)
	var after, timeline string
	require.NoError(t, chromedp.Run(bctx,
		signIn(base, "wang", "海景苑-主管-2026-密码"),
		chromedp.Navigate(base+"/console/cases/"+c.Number),
		chromedp.WaitVisible(`#actions`),
		shot("case-actions"),
		chromedp.Click(`details.act-triage summary`),
		chromedp.SetValue(`details.act-triage select[name=urgency]`, "urgent"),
		chromedp.Click(`details.act-triage button`),
		chromedp.WaitVisible(`.notice.done`),
		chromedp.Click(`details.act-accept summary`),
		chromedp.SetValue(`details.act-accept select[name=assignee]`, "m:"+strconv.FormatInt(taoRan, 10)),
		chromedp.Click(`details.act-accept button`),  // confirmed in the dialog
		chromedp.WaitVisible(`details.act-dispatch`), // the new page offers to reassign
		chromedp.Text(`.notice.done`, &after),
		chromedp.Text(`.timeline`, &timeline),
		shot("case-dispatched"),
	))
	assert.Equal(t, "已受理。", after)
	assert.Contains(t, timeline, "王主管")
	got, err := m.Store.FindCaseByNumber(ctx, c.Number)
	require.NoError(t, err)
	assert.Equal(t, casework.StateDispatched, got.State)
	assert.Equal(t, casework.UrgencyUrgent, got.Urgency)
	assert.Equal(t, taoRan, got.AssigneeID)
	assert.Equal(t, casework.Staff("wang"), got.ReceivedBy, "the first person to act on a chat's case is its 受理人")
	tao.waitFor("【派工单】" + c.Number)

	// Reassigned to the property manager's duty engineer: 陶然 is told.
	hjwy, err := m.Store.FindPartyByCode(ctx, "HJWY")
	require.NoError(t, err)
	require.NoError(t, chromedp.Run(bctx,
		chromedp.Click(`details.act-dispatch summary`),
		chromedp.SetValue(`details.act-dispatch select[name=assignee]`, "p:"+strconv.FormatInt(hjwy.ID, 10)),
		// The page before had a notice too: mark it, to wait for the next.
		chromedp.Evaluate(`document.body.dataset.before = '1'`, nil),
		chromedp.Click(`details.act-dispatch button`),
		chromedp.WaitVisible(`body:not([data-before]) .notice.done`),
		chromedp.Text(`.notice.done`, &after),
	))
	assert.Equal(t, "已派工。", after)
	said := tao.waitFor("已改派")
	assert.Contains(t, said, "工单 "+c.Number+" 已改派给他人，您无需再处理")
	got, err = m.Store.FindCaseByNumber(ctx, c.Number)
	require.NoError(t, err)
	assert.Equal(t, hjwy.ID, got.PartyID)
	assert.NotEqual(t, taoRan, got.AssigneeID)
}

// TestAnswerAConsultationInTheBrowser: an owner's question about the
// property certificate, taken by phone, is answered by a supervisor on the
// case page with a canned answer; the owner reads it on the chat page,
// presses 问题已解决, and the case is closed.
func TestAnswerAConsultationInTheBrowser(t *testing.T) {
	m, base, exe := browserTest(t, &staff.User{Username: "wang", DisplayName: "王主管", Role: staff.RoleSupervisor}, "海景苑-主管-2026-密码")
	ctx := t.Context()
	owner, ownerPage := reportDesignDefect(t, m, base) // the owner, with their chat page bound
	c, err := m.Lifecycle.Register(ctx, casework.Staff("wang"), lifecycle.IntakeForm{Channel: casework.ChannelHotline,
		OwnerID: owner.OwnerID, UnitID: owner.UnitID, Description: "来电询问产权证什么时候可以办理",
		Category: casework.CategoryPolicyConsultation, Subcategory: casework.SubCertificate})
	require.NoError(t, err)
	ownerPage.waitFor(c.Number)

	bctx, shot := startBrowser(t, exe)
	var done, answer string
	require.NoError(t, chromedp.Run(bctx,
		signIn(base, "wang", "海景苑-主管-2026-密码"),
		chromedp.Navigate(base+"/console/cases/"+c.Number),
		chromedp.WaitVisible(`#actions`),
		chromedp.Click(`details.act-answer summary`),
		// The first canned answer, chosen as a person does: the script
		// fills the text from it.
		chromedp.Evaluate(`(() => { const s = document.querySelector('details.act-answer select[data-fill]');
			s.selectedIndex = 1; s.dispatchEvent(new Event('change', {bubbles: true})); })()`, nil),
		chromedp.Value(`details.act-answer textarea`, &answer),
		shot("case-answer"),
		chromedp.Click(`details.act-answer button`),
		chromedp.WaitVisible(`.notice.done`),
		chromedp.Text(`.notice.done`, &done),
	))
	assert.Equal(t, "答复已发给业主。", done)
	assert.Contains(t, answer, "不动产登记中心", "the canned answer fills the text")
	said := ownerPage.waitFor("这个答复解决您的问题了吗")
	assert.Contains(t, said, answer)
	ownerPage.press("lc:accept:" + c.Number)
	got, err := m.Store.FindCaseByNumber(ctx, c.Number)
	require.NoError(t, err)
	assert.Equal(t, casework.StateClosed, got.State)
	assert.Nil(t, got.Survey, "an answer asks no repair survey")
}
