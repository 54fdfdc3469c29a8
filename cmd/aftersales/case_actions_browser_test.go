package main

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/staff"
)

// reportDesignDefect has an owner report, on the chat page, a design defect:
// a case the policy leaves to staff. It returns the case.
func reportDesignDefect(t *testing.T, m *Main, base string) *casework.Case {
	t.Helper()
	v := newVisitor(t, base)
	v.say("报修")
	v.say("张伟")
	v.say("1-1-101")
	v.say("13900000001")
	v.say(smsCode(t, m, "13900000001"))
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
	return cases[0]
}

// TestCaseActionsInTheBrowser: a supervisor signs in, opens a case waiting
// for triage, raises its urgency, and accepts it for the in-house engineer
// chosen by name, confirming the dialog; the page says it is done and the
// timeline names the supervisor.
func TestCaseActionsInTheBrowser(t *testing.T) {
	m, base, exe := browserTest(t, &staff.User{Username: "wang", DisplayName: "王主管", Role: staff.RoleSupervisor}, "海景苑-主管-2026-密码")
	ctx := t.Context()
	c := reportDesignDefect(t, m, base)
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

	bctx, shot := startBrowser(t, exe)
	var after, timeline string
	require.NoError(t, chromedp.Run(bctx,
		chromedp.Navigate(base+"/console/login"),
		chromedp.WaitVisible(`input[name=username]`),
		chromedp.SendKeys(`input[name=username]`, "wang"),
		chromedp.SendKeys(`input[name=password]`, "海景苑-主管-2026-密码"),
		chromedp.Click(`button.primary`),
		chromedp.WaitVisible(`.tiles`),
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
}
