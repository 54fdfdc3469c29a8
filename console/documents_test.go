package console_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/staff"
)

// docKey is a documents' catalogue key shown as itself: a missing text.
var docKey = regexp.MustCompile(`\bdoc\.[a-z_.]+`)

// printed fetches a document and checks it is the print layout: its own
// stylesheet and print button, no menu, every text translated.
func (b *browser) printed(target string, status int) string {
	b.t.Helper()
	w := b.get(target)
	require.Equal(b.t, status, w.Code, w.Body.String())
	page := w.Body.String()
	assert.NotRegexp(b.t, docKey, page, "an untranslated text on %s", target)
	assert.Contains(b.t, page, `href="/console/static/print.css"`)
	assert.Contains(b.t, page, `<script src="/console/static/print.js" defer></script>`)
	assert.Contains(b.t, page, `data-print`)
	assert.NotContains(b.t, page, `<nav`, "no menu on a document")
	assert.NotContains(b.t, page, `console.css`)
	return page
}

// at formats t as the documents print it: in the department's time zone.
func at(t time.Time) string { return t.In(casework.ChinaTime()).Format("2006-01-02 15:04") }

// printAudit returns the audit entries of prints of number.
func printAudit(t *testing.T, e *uiEnv, number string) []*staff.AuditEntry {
	t.Helper()
	entries, err := e.staff.AuditLog(t.Context(), staff.AuditFilter{Subject: number})
	require.NoError(t, err)
	var out []*staff.AuditEntry
	for _, a := range entries {
		if strings.HasPrefix(a.Detail, "print ") {
			out = append(out, a)
		}
	}
	return out
}

// dispatchTo moves c through acceptance to a work order for the member of
// the seeded party, dispatched by the supervisor at the returned time.
func dispatchTo(t *testing.T, e *uiEnv, c *casework.Case, member *casework.Member) (*casework.Case, time.Time) {
	t.Helper()
	ctx := t.Context()
	c, err := e.store.TransitionCase(ctx, c.ID, c.Version, casework.Transition{Action: casework.ActionAccept, Actor: casework.Staff("supervisor")})
	require.NoError(t, err)
	when := e.clock.Now().Add(-30 * time.Minute).Truncate(time.Second)
	party, mid := e.party.ID, member.ID
	c, err = e.store.TransitionCase(ctx, c.ID, c.Version, casework.Transition{Action: casework.ActionDispatch, Actor: casework.Staff("supervisor"),
		At: when, PartyID: &party, AssigneeID: &mid})
	require.NoError(t, err)
	return c, when
}

func TestPrintRegistrationForm(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	ctx := t.Context()
	// A case the supervisor typed in from a walk-in: the 受理人 is shown by
	// name.
	received := e.clock.Now().Add(-3 * time.Hour).Truncate(time.Second)
	occurred := received.Add(-48 * time.Hour)
	c := &casework.Case{
		ProjectID: e.project.ID, BuildingID: e.building.ID, UnitID: e.unit.ID, OwnerID: e.owner.ID,
		OwnerName: "张三", OwnerPhone: "13812345678", Location: casework.LocationKitchen, LocationDetail: "水槽下方",
		Description: "厨房水管接口漏水，橱柜底板泡坏", OccurredAt: &occurred, Expectation: "更换水管并赔偿橱柜", ContactTime: "工作日晚上",
		Channel: casework.ChannelWalkIn, ReceivedAt: received, ReceivedBy: casework.Staff("supervisor"),
		Category: casework.CategoryEngineeringQuality, Subcategory: casework.SubPlumbing, Urgency: casework.UrgencyNormal,
		Media: []casework.MediaRef{{Kind: casework.MediaPhoto, BlobKey: "cases/pipe.jpg", ContentType: "image/jpeg", Size: 10},
			{Kind: casework.MediaVideo, BlobKey: "cases/pipe.mp4", ContentType: "video/mp4", Size: 10}},
	}
	require.NoError(t, e.store.CreateCase(ctx, c))

	b := e.signedIn(t, "supervisor")
	before := at(e.clock.Now())
	page := b.printed("/console/cases/"+c.Number+"/print/registration", http.StatusOK)
	after := at(e.clock.Now())
	for _, want := range []string{
		"售后服务部", "客户诉求登记表", c.Number, "打印",
		"业主姓名", "张三", "联系电话", "13812345678",
		"<i>项目</i>海景苑", "<i>楼栋</i>3栋", "<i>单元</i>2", "<i>房号</i>1502",
		"问题位置", "厨房 · 水槽下方", "问题描述", "厨房水管接口漏水，橱柜底板泡坏",
		"发生时间", occurred.In(casework.ChinaTime()).Format("2006-01-02"),
		"期望解决方式", "更换水管并赔偿橱柜", "方便联系时间", "工作日晚上",
		"诉求编号", "受理渠道", "来访", "受理时间", at(received), "受理人", "王主管",
		"初步判断", "问题类型", "工程质量 · 给排水", "紧急程度", "一般",
		"/console/cases/" + c.Number + "/media/" + itoa(c.Media[0].ID) + "?thumb=1", "另有 1 个视频或文件",
		"向业主复述", "受理人签字", "业主确认签字", "日期",
	} {
		assert.Contains(t, page, want)
	}
	assert.NotContains(t, page, "/media/"+itoa(c.Media[1].ID), "the video is not printed as a photo")
	assert.True(t, strings.Contains(page, "打印时间：") && (strings.Contains(page, "打印时间："+before) || strings.Contains(page, "打印时间："+after)),
		"printed at the service's time, in the department's zone")
	assert.Contains(t, page, "王主管 于 ")

	// The whole phone is on the paper: the audit log says who printed it.
	entries := printAudit(t, e, c.Number)
	require.Len(t, entries, 1)
	assert.Equal(t, "phone_view", entries[0].Action)
	assert.Equal(t, "print registration", entries[0].Detail)
	assert.Equal(t, "staff:supervisor", entries[0].Actor)

	// A case from the chat was received by the bot: the online service.
	page = b.printed("/console/cases/"+e.onTime.Number+"/print/registration", http.StatusOK)
	assert.Contains(t, page, "在线客服（机器人）")
	assert.Contains(t, page, "微信")
	assert.Contains(t, page, "业主未上传照片")
	assert.Contains(t, page, "<i>房号</i>—", "a public area has no room")
}

func TestPrintWorkOrder(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	ctx := t.Context()
	e.party.Phone = "021-55550000"
	require.NoError(t, e.store.UpdateParty(ctx, e.party))
	member := &casework.Member{PartyID: e.party.ID, Name: "孙立军", Phone: "13900009011", Role: "engineer"}
	require.NoError(t, e.store.CreateMember(ctx, member))
	c, dispatched := dispatchTo(t, e, e.overdue, member)

	b := e.signedIn(t, "supervisor")
	page := b.printed("/console/cases/"+c.Number+"/print/work-order", http.StatusOK)
	for _, want := range []string{
		"维修任务派工单", c.Number, "工程质量 · 渗漏水", "紧急",
		"派工时间", at(dispatched), "派工人", "王主管",
		"责任单位", "防水工程公司", "021-55550000", "责任人", "孙立军", "13900009011",
		"处理时限", "到场时限", "完成时限", at(*c.ResolveBy), "响应时限", at(*c.RespondBy),
		"地址", "海景苑 3-2-1502", "卫生间", "卫生间天花板渗水",
		"张三", "13812345678", "/media/" + itoa(c.Media[0].ID) + "?thumb=1",
		"维修人员签字", "业主验收签字", "验收合格", "完工时间",
	} {
		assert.Contains(t, page, want)
	}
	assert.NotContains(t, page, "同一问题第", "the first repair")
	assert.NotContains(t, page, "尚未派工")

	// The owner rejected the repair: the next order says which repair it is.
	for _, a := range []casework.Action{casework.ActionInspect, casework.ActionComplete, casework.ActionOwnerReject} {
		var err error
		c, err = e.store.TransitionCase(ctx, c.ID, c.Version, casework.Transition{Action: a, Actor: casework.MemberActor(member.ID)})
		require.NoError(t, err, a)
	}
	party, mid := e.party.ID, member.ID
	c, err := e.store.TransitionCase(ctx, c.ID, c.Version, casework.Transition{Action: casework.ActionDispatch, Actor: casework.Staff("supervisor"),
		PartyID: &party, AssigneeID: &mid})
	require.NoError(t, err)
	page = b.printed("/console/cases/"+c.Number+"/print/work-order", http.StatusOK)
	assert.Contains(t, page, "同一问题第 2 次维修")

	// A repair case not dispatched yet prints with the unit to fill in.
	page = b.printed("/console/cases/"+e.onTime.Number+"/print/work-order", http.StatusOK)
	assert.Contains(t, page, "尚未派工")

	// A consultation, a complaint, praise: answered, never a work order.
	page = b.printed("/console/cases/"+e.other.Number+"/print/work-order", http.StatusNotFound)
	assert.Contains(t, page, "不派工，没有派工单")
	assert.NotContains(t, page, "维修人员签字")

	// English, from the console's language cookie.
	b.cookies["aftersales_console_lang"] = &http.Cookie{Name: "aftersales_console_lang", Value: "en"}
	page = b.printed("/console/cases/"+c.Number+"/print/work-order", http.StatusOK)
	for _, want := range []string{"Repair work order", "Print", "Construction quality · leak", "Case: ", "Responsible unit", "On site by", "Engineer&#39;s signature",
		"Owner&#39;s acceptance signature", "Repair no. 2", "After-sales Service Department", `<html lang="en">`} {
		assert.Contains(t, page, want)
	}
	assert.NotContains(t, page, "派工时间")
}

func TestPrintPlan(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	ctx := t.Context()
	member := &casework.Member{PartyID: e.party.ID, Name: "孙立军", Phone: "13900009011", Role: "engineer"}
	require.NoError(t, e.store.CreateMember(ctx, member))
	c, _ := dispatchTo(t, e, e.overdue, member)
	b := e.signedIn(t, "supervisor")
	target := "/console/cases/" + c.Number + "/print/plan"

	// No plan yet: a page that says so.
	page := b.printed(target, http.StatusNotFound)
	assert.Contains(t, page, "尚无维修方案")
	assert.NotContains(t, page, "业主确认签字")

	engineer := casework.MemberActor(member.ID)
	start := e.clock.Now().Add(72 * time.Hour).Truncate(time.Minute)
	plan := &casework.Plan{Cause: "楼上卫生间防水层破损", Responsibility: casework.ResponsibilityContractor,
		Content: "重做楼上卫生间防水，修补本户吊顶", Duration: "3天",
		Disruptions: []casework.Disruption{casework.DisruptionNoise, casework.DisruptionWaterCut}, StartAt: &start}
	c, err := e.store.TransitionCase(ctx, c.ID, c.Version, casework.Transition{Action: casework.ActionInspect, Actor: engineer, Plan: plan})
	require.NoError(t, err)
	page = b.printed(target, http.StatusOK)
	assert.Contains(t, page, "方案尚未提交业主确认")

	propose := func(when time.Time) {
		t.Helper()
		p := *plan
		p.ProposedAt = &when
		c, err = e.store.TransitionCase(ctx, c.ID, c.Version, casework.Transition{Action: casework.ActionProposePlan, Actor: engineer, Plan: &p, At: when})
		require.NoError(t, err)
	}
	first := e.clock.Now().Add(-20 * time.Minute).Truncate(time.Second)
	propose(first)
	page = b.printed(target, http.StatusOK)
	for _, want := range []string{
		"书面维修方案", c.Number, "张三", "13812345678", "海景苑 3-2-1502", "工程质量 · 渗漏水",
		"防水工程公司", "孙立军 13900009011",
		"原因", "楼上卫生间防水层破损", "责任认定", "施工单位", "维修内容", "重做楼上卫生间防水，修补本户吊顶",
		"工期", "3天", "施工影响", "噪音、停水", "计划开工", at(start), "方案提交业主", at(first),
		"方案已于 " + at(first) + " 提交业主，业主尚未确认",
		"业主确认签字", "售后服务部经办人签字", "同意以上方案",
	} {
		assert.Contains(t, page, want)
	}

	// The owner disagreed in the chat; the engineer revised the plan; an
	// unverified chat account agreed to the new one.
	refused := first.Add(5 * time.Minute)
	c, err = e.store.TransitionCase(ctx, c.ID, c.Version, casework.Transition{Action: casework.ActionDisagreePlan, Actor: "chat:wechat:0a1b2c3d4e5f",
		Note: "工期太长", At: refused})
	require.NoError(t, err)
	page = b.printed(target, http.StatusOK)
	assert.Contains(t, page, "业主于 "+at(refused)+" 表示不同意：工期太长")

	second := refused.Add(5 * time.Minute)
	propose(second)
	page = b.printed(target, http.StatusOK)
	assert.Contains(t, page, "方案已于 "+at(second)+" 提交业主，业主尚未确认", "the refusal was of the plan before")
	agreed := second.Add(2 * time.Minute)
	c, err = e.store.TransitionCase(ctx, c.ID, c.Version, casework.Transition{Action: casework.ActionAgreePlan, Actor: "chat:wechat:0a1b2c3d4e5f", At: agreed})
	require.NoError(t, err)
	page = b.printed(target, http.StatusOK)
	assert.Contains(t, page, "业主已于 "+at(agreed)+" 同意此方案：聊天账号（微信，身份未核实）点击“同意方案”")

	b.cookies["aftersales_console_lang"] = &http.Cookie{Name: "aftersales_console_lang", Value: "en"}
	page = b.printed(target, http.StatusOK)
	for _, want := range []string{"Written repair plan", "Cause", "contractor", "noise", "Owner&#39;s signature",
		"The owner agreed to this plan at " + at(agreed) + ": a chat account on WeChat (identity not verified) pressed “Agree"} {
		assert.Contains(t, page, want)
	}
}

func TestPrintPlanAgreedByTheOwner(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	ctx := t.Context()
	member := &casework.Member{PartyID: e.party.ID, Name: "孙立军", Phone: "13900009011", Role: "engineer"}
	require.NoError(t, e.store.CreateMember(ctx, member))
	c, _ := dispatchTo(t, e, e.overdue, member)
	proposed := e.clock.Now().Add(-10 * time.Minute).Truncate(time.Second)
	plan := &casework.Plan{Cause: "防水层破损", Content: "重做防水", ProposedAt: &proposed}
	c, err := e.store.TransitionCase(ctx, c.ID, c.Version, casework.Transition{Action: casework.ActionInspect, Actor: casework.MemberActor(member.ID), Plan: plan, At: proposed})
	require.NoError(t, err)
	c, err = e.store.TransitionCase(ctx, c.ID, c.Version, casework.Transition{Action: casework.ActionProposePlan, Actor: casework.MemberActor(member.ID), Plan: plan, At: proposed})
	require.NoError(t, err)
	agreed := proposed.Add(3 * time.Minute)
	_, err = e.store.TransitionCase(ctx, c.ID, c.Version, casework.Transition{Action: casework.ActionAgreePlan, Actor: casework.Actor("owner:" + itoa(e.owner.ID)), At: agreed})
	require.NoError(t, err)

	page := e.signedIn(t, "supervisor").printed("/console/cases/"+c.Number+"/print/plan", http.StatusOK)
	assert.Contains(t, page, "业主已于 "+at(agreed)+" 同意此方案：业主本人（已验证身份）在聊天中点击“同意方案”")
	assert.Contains(t, page, "与业主约定", "no start date yet")
	assert.Contains(t, page, "待定", "responsibility undetermined")
	assert.Contains(t, page, "<td>无</td>", "no disruption")
}

func TestPrintPermissions(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	docs := []string{"registration", "work-order", "plan"}

	// Not signed in: to the login.
	anon := e.browser(t)
	for _, d := range docs {
		w := anon.get("/console/cases/" + e.overdue.Number + "/print/" + d)
		require.Equal(t, http.StatusSeeOther, w.Code)
		assert.Equal(t, "/console/login?next=%2Fconsole%2Fcases%2F"+e.overdue.Number+"%2Fprint%2F"+d, w.Header().Get("Location"))
	}

	// An agent of another project, a party of another case: as if there
	// were no such case.
	agent := e.signedIn(t, "agent") // 绿水园 only
	party := e.signedIn(t, "party") // the waterproofing contractor: the overdue case only
	for _, d := range docs {
		for _, n := range []string{e.overdue.Number, e.onTime.Number} {
			w := agent.get("/console/cases/" + n + "/print/" + d)
			assert.Equal(t, http.StatusNotFound, w.Code, "agent, %s of %s", d, n)
			assert.NotContains(t, w.Body.String(), "卫生间天花板渗水")
		}
		w := party.get("/console/cases/" + e.onTime.Number + "/print/" + d)
		assert.Equal(t, http.StatusNotFound, w.Code, "party, %s of another party's case", d)
		assert.NotContains(t, w.Body.String(), "电梯")
		assert.Equal(t, http.StatusNotFound, party.get("/console/cases/NO-SUCH/print/"+d).Code)
	}
	assert.Empty(t, printAudit(t, e, e.onTime.Number), "nothing printed")

	// The party prints the work order of its own case, with the phone as
	// the case page shows it to them: masked.
	page := party.printed("/console/cases/"+e.overdue.Number+"/print/work-order", http.StatusOK)
	assert.Contains(t, page, "维修任务派工单")
	assert.Contains(t, page, "防水工程公司")
	assert.Contains(t, page, "138****5678")
	assert.NotContains(t, page, "13812345678")
	entries := printAudit(t, e, e.overdue.Number)
	require.Len(t, entries, 1)
	assert.Equal(t, "case_view", entries[0].Action, "no phone seen")
	assert.Equal(t, "print work_order", entries[0].Detail)

	// The agent prints the cases of their project.
	page = agent.printed("/console/cases/"+e.other.Number+"/print/registration", http.StatusOK)
	assert.Contains(t, page, "Praise for the repair crew")
}
