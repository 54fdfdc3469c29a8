package lifecycle_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/l10n"
	"github.com/aftersales/aftersales/lifecycle"
)

func TestDefaultPolicy(t *testing.T) {
	t.Parallel()
	policy := lifecycle.DefaultPolicy()
	for _, tc := range []struct {
		name   string
		change func(c *casework.Case)
		want   lifecycle.WaitReason // "" = dispatched at once
		note   string               // as the timeline says it
	}{
		{"engineering quality in warranty", nil, "", ""},
		{"facilities in warranty", func(c *casework.Case) {
			c.Category, c.Subcategory = casework.CategoryFacilitiesEquipment, casework.SubIntercom
		}, "", ""},
		{"not a warranty matter", func(c *casework.Case) { c.WarrantyStatus = casework.WarrantyNone }, "", ""},
		{"urgent in warranty", func(c *casework.Case) { c.Urgency = casework.UrgencyUrgent }, "", ""},
		{"out of warranty", func(c *casework.Case) { c.WarrantyStatus = casework.WarrantyOut }, lifecycle.WaitOutOfWarranty, "out of warranty"},
		{"unknown warranty", func(c *casework.Case) { c.WarrantyStatus = casework.WarrantyUnknown },
			lifecycle.WaitWarrantyUnknown, "warranty unknown: no completion or delivery date on record"},
		{"urgent out of warranty", func(c *casework.Case) { c.Urgency, c.WarrantyStatus = casework.UrgencyUrgent, casework.WarrantyOut }, "", ""},
		{"urgent unknown warranty", func(c *casework.Case) { c.Urgency, c.WarrantyStatus = casework.UrgencyUrgent, casework.WarrantyUnknown }, "", ""},
		{"design defect", func(c *casework.Case) {
			c.Category, c.Subcategory = casework.CategoryDesignDefect, casework.SubLayout
		}, lifecycle.WaitCategory, "category design_defect is assessed by staff"},
		{"service attitude", func(c *casework.Case) {
			c.Category, c.Subcategory = casework.CategoryServiceAttitude, casework.SubStaff
		}, lifecycle.WaitCategory, "category service_attitude is assessed by staff"},
		{"policy consultation", func(c *casework.Case) {
			c.Category, c.Subcategory = casework.CategoryPolicyConsultation, casework.SubFees
		}, lifecycle.WaitCategory, "category policy_consultation is assessed by staff"},
		{"major complaint", func(c *casework.Case) { c.Urgency = casework.UrgencyMajorComplaint },
			lifecycle.WaitMajorComplaint, "a major complaint is assessed by staff"},
		{"owner's responsibility", func(c *casework.Case) { c.Responsibility = casework.ResponsibilityOwnerOrThirdParty },
			lifecycle.WaitOwnerResponsible, "the owner's or a third party's responsibility"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &casework.Case{
				Category: casework.CategoryEngineeringQuality, Subcategory: casework.SubDoorWindow, Urgency: casework.UrgencyNormal,
				Responsibility: casework.ResponsibilityUndetermined, WarrantyStatus: casework.WarrantyIn,
			}
			if tc.change != nil {
				tc.change(c)
			}
			got := policy.AutoDispatch(c)
			assert.Equal(t, tc.want, got.Reason)
			assert.Equal(t, tc.want != "", got.Waits())
			assert.Equal(t, tc.note, got.String())
			if tc.want == lifecycle.WaitCategory {
				assert.Equal(t, c.Category, got.Category, "the category it names")
			}
		})
	}
}

// requireDeadlineTimers checks that the case's first timers are its three
// service-level deadlines, or as many as it has.
func requireDeadlineTimers(t *testing.T, c *casework.Case, timers []casework.Timer) {
	t.Helper()
	var want []casework.Timer
	for _, d := range []struct {
		kind casework.TimerKind
		at   *time.Time
	}{
		{casework.TimerRespondDeadline, c.RespondBy}, {casework.TimerOnSiteDeadline, c.OnSiteBy}, {casework.TimerResolveDeadline, c.ResolveBy},
	} {
		if d.at != nil {
			want = append(want, casework.Timer{CaseID: c.ID, Kind: d.kind, At: *d.at})
		}
	}
	require.GreaterOrEqual(t, len(timers), len(want))
	for i, w := range want {
		got := timers[i]
		assert.Equal(t, w.Kind, got.Kind)
		assert.Equal(t, w.CaseID, got.CaseID)
		assert.True(t, w.At.Equal(got.At), "%s at %s, want %s", got.Kind, got.At, w.At)
	}
}

func TestTriageAutoDispatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.bind(t, "郑晓东", "eng-zheng", "zh")
	e.bind(t, "郑晓东", "wechat:eng-zheng-wx", "en")
	c := e.newCase(t, nil)

	got, err := e.svc.Triage(t.Context(), c)
	require.NoError(t, err)
	mcmc, zheng := e.parties["MCMC"], e.member(t, "郑晓东")
	assert.Equal(t, casework.StateDispatched, got.State)
	assert.Equal(t, mcmc.ID, got.PartyID)
	assert.Equal(t, zheng.ID, got.AssigneeID)
	assert.Equal(t, "auto-accepted: engineering_quality, warranty in_warranty", got.DecisionReason)
	assert.Nil(t, got.RespondedAt, "the bot's acceptance is no human contact")
	assert.Equal(t, casework.ActorBot, got.ReceivedBy)

	// Timeline: created, accepted, dispatched.
	evs := e.events(t, c.ID)
	require.Len(t, evs, 3)
	assert.Equal(t, casework.ActionAccept, evs[1].Action)
	assert.Equal(t, casework.ActorBot, evs[1].Actor)
	assert.Equal(t, casework.ActionDispatch, evs[2].Action)
	assert.Equal(t, "work order to MCMC / 郑晓东", evs[2].Note)

	// Timers: the three deadlines; a normal case has no accept escalation.
	timers := e.jobs.timers(c.ID)
	require.Len(t, timers, 3)
	requireDeadlineTimers(t, c, timers)

	// Messages: the work order to each of the engineer's accounts, in its
	// language and with its buttons, and the owner told who comes.
	ms := e.outbox(t, c.ID)
	require.Len(t, ms, 3)
	orders := byPurpose(ms, "work_order")
	require.Len(t, orders, 2)
	assert.Equal(t, "telegram", orders[0].Platform)
	assert.Equal(t, "eng-zheng", orders[0].UserID)
	assert.True(t, strings.HasPrefix(orders[0].text(), "【派工单】"+c.Number+"\n"), orders[0].text())
	for _, want := range []string{"任务：工程质量 · 门窗", "位置：卧室 主卧窗户", "地址：海景苑 1-1-101", "业主：张伟 " + casework.MaskPhone(e.owner.Phone) + "（接单后显示完整号码）",
		"紧急程度：一般", "责任单位：" + mcmc.Name, "方便联系时间：晚上"} {
		assert.Contains(t, orders[0].text(), want)
	}
	assert.Equal(t, []bot.Choice{
		{Label: "接单", Payload: lifecycle.Payload(lifecycle.ActTake, c.Number)},
		{Label: "拒单", Payload: lifecycle.Payload(lifecycle.ActDecline, c.Number)},
	}, orders[0].Messages[0].Choices)
	assert.Equal(t, "wechat", orders[1].Platform)
	assert.Equal(t, bot.UserRef{Platform: bot.WeChat, ID: "eng-zheng-wx"}, orders[1].Messages[0].To)
	assert.True(t, strings.HasPrefix(orders[1].text(), "[Work order] "+c.Number), orders[1].text())
	assert.Equal(t, "Take order", orders[1].Messages[0].Choices[0].Label)

	updates := byPurpose(ms, "owner_update")
	require.Len(t, updates, 1, "the reporter's account is the owner's only one")
	assert.Equal(t, ownerChat, updates[0].UserID)
	assert.Equal(t, lifecycle.T(l10n.Chinese, "owner.dispatched", "number", c.Number, "who", mcmc.Name+" 郑晓东",
		"on_site", c.OnSiteBy.In(casework.ChinaTime()).Format("01-02 15:04")), updates[0].text())

	// Each message has its delivery job.
	var ids []int64
	for _, m := range ms {
		assert.Equal(t, casework.OutboxPending, m.Status)
		ids = append(ids, m.ID)
	}
	assert.ElementsMatch(t, ids, e.jobs.deliveries())
}

func TestTriageUrgentGoesToDutyEngineer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.bind(t, "冯磊", "duty-feng", "zh")
	c := e.newCase(t, func(c *casework.Case) { c.Urgency = casework.UrgencyUrgent })
	require.Equal(t, c.ReceivedAt.Add(time.Hour), *c.RespondBy, "the urgent service level")

	got, err := e.svc.Triage(t.Context(), c)
	require.NoError(t, err)
	assert.Equal(t, casework.StateDispatched, got.State)
	assert.Equal(t, e.member(t, "冯磊").ID, got.AssigneeID, "urgent: the duty member, not the engineer")

	timers := e.jobs.timers(c.ID)
	require.Len(t, timers, 4)
	requireDeadlineTimers(t, c, timers)
	esc := timers[3]
	assert.Equal(t, casework.TimerAcceptEscalation, esc.Kind)
	assert.True(t, t0.Add(30*time.Minute).Equal(esc.At), "escalation at %s", esc.At)
	assert.Equal(t, int64(got.Version), esc.Ref, "the escalation belongs to this dispatch")

	orders := byPurpose(e.outbox(t, c.ID), "work_order")
	require.Len(t, orders, 1)
	assert.Equal(t, "duty-feng", orders[0].UserID)
	assert.Contains(t, orders[0].text(), "紧急程度：紧急")
}

// TestTriageUrgentWhateverTheWarranty: someone trapped in a lift out of
// warranty, or water pouring in with no dates on record, is sent at once to
// the routed party; the timeline and the supervisors say the cost is settled
// after. A normal case out of warranty still waits for staff.
func TestTriageUrgentWhateverTheWarranty(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		change   func(c *casework.Case)
		party    string // "" = waits for staff
		member   string
		problem  string // as the supervisors' notice says it
		warranty string
	}{
		{"lift entrapment out of warranty", func(c *casework.Case) {
			c.Category, c.Subcategory, c.Urgency, c.WarrantyStatus = casework.CategoryFacilitiesEquipment, casework.SubLift, casework.UrgencyUrgent, casework.WarrantyOut
			c.Location, c.LocationDetail, c.Description = "", "", "电梯停在半层不动了，里面困了人"
		}, "TSDT", "何志强", "设施设备 · 电梯", "已过保"},
		{"drain overflowing, warranty unknown", func(c *casework.Case) {
			c.Subcategory, c.Urgency, c.WarrantyStatus, c.WarrantyUntil = casework.SubPlumbing, casework.UrgencyUrgent, casework.WarrantyUnknown, casework.Date{}
			c.Location, c.LocationDetail, c.Description = casework.LocationKitchen, "地漏", "厨房地漏往外冒水，止不住"
		}, "HXJS", "", "工程质量 · 给排水", "保修状态未知"},
		{"normal out of warranty", func(c *casework.Case) {
			c.Category, c.Subcategory, c.WarrantyStatus = casework.CategoryFacilitiesEquipment, casework.SubLift, casework.WarrantyOut
		}, "", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			c := e.newCase(t, tc.change)

			got, err := e.svc.Triage(t.Context(), c)
			require.NoError(t, err)
			if tc.party == "" {
				assert.Equal(t, casework.StateRegistered, got.State)
				assert.Equal(t, "waits for staff: out of warranty", e.lastEvent(t, c.ID).Note)
				return
			}
			assert.Equal(t, casework.StateDispatched, got.State)
			assert.Equal(t, e.parties[tc.party].ID, got.PartyID, "the routed party, at once")
			if tc.member != "" {
				assert.Equal(t, e.member(t, tc.member).ID, got.AssigneeID)
			}
			assert.Contains(t, got.DecisionReason, "urgent, dispatched before the warranty is confirmed: "+lifecycle.CostSettledAfter)
			evs := e.events(t, c.ID)
			require.GreaterOrEqual(t, len(evs), 3)
			assert.Equal(t, casework.ActionAccept, evs[1].Action)
			assert.Contains(t, evs[1].Note, lifecycle.CostSettledAfter, "on the timeline")

			notices := byPurpose(e.outbox(t, c.ID), "triage")
			require.Len(t, notices, 1, "the supervisor is told")
			text := notices[0].text()
			assert.Equal(t, supervisorChat, notices[0].UserID)
			assert.True(t, strings.HasPrefix(text, "紧急报修已直接派工："+c.Number+"\n"), text)
			for _, want := range []string{tc.problem, tc.warranty, "派给：" + e.parties[tc.party].Name, "保修待确认，费用事后核定。"} {
				assert.Contains(t, text, want)
			}
			assert.Len(t, byPurpose(e.outbox(t, c.ID), "owner_update"), 1, "the owner hears who comes")
		})
	}
}

func TestTriageMemberWithoutChatAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.newCase(t, nil)

	got, err := e.svc.Triage(t.Context(), c)
	require.NoError(t, err)
	assert.Equal(t, casework.StateDispatched, got.State)
	assert.Equal(t, e.member(t, "郑晓东").ID, got.AssigneeID)
	assert.Equal(t, "work order to MCMC / 郑晓东; no chat account bound: the order waits in the staff API", e.lastEvent(t, c.ID).Note)

	ms := e.outbox(t, c.ID)
	assert.Empty(t, byPurpose(ms, "work_order"))
	require.Len(t, ms, 1)
	assert.Equal(t, "owner_update", ms[0].Purpose)
}

func TestTriageWaitsForStaff(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(e *env, c *casework.Case)
		why    string // on the timeline
		title  string // of the supervisors' notice, by what the case is
		said   string // why, as the notice says it
	}{
		{"out of warranty", func(_ *env, c *casework.Case) { c.WarrantyStatus = casework.WarrantyOut }, "out of warranty",
			"新报修待研判", "已过保修期，需人工确认是否受理"},
		{"unknown warranty", func(_ *env, c *casework.Case) { c.WarrantyStatus = casework.WarrantyUnknown },
			"warranty unknown: no completion or delivery date on record", "新报修待研判", "缺少竣工或交付日期，无法判断是否在保修期内"},
		{"design defect", func(_ *env, c *casework.Case) {
			c.Category, c.Subcategory = casework.CategoryDesignDefect, casework.SubLayout
		}, "category design_defect is assessed by staff", "新报修待研判", "设计瑕疵类诉求由人工处理"},
		{"service attitude", func(_ *env, c *casework.Case) {
			c.Category, c.Subcategory = casework.CategoryServiceAttitude, casework.SubStaff
		}, "category service_attitude is assessed by staff", "新投诉待处理", "服务态度类诉求由人工处理"},
		{"major complaint", func(_ *env, c *casework.Case) { c.Urgency = casework.UrgencyMajorComplaint },
			"a major complaint is assessed by staff", "新报修待研判", "重大投诉，需人工研判"},
		{"owner's responsibility", func(_ *env, c *casework.Case) { c.Responsibility = casework.ResponsibilityOwnerOrThirdParty },
			"the owner's or a third party's responsibility", "新报修待研判", "初判为业主使用不当或第三方责任，需人工确认"},
		{"no route", func(e *env, c *casework.Case) {
			p := &casework.Project{Code: "NEW", Name: "新园"}
			require.NoError(t, e.store.CreateProject(t.Context(), p))
			c.ProjectID, c.BuildingID, c.UnitID = p.ID, 0, 0
		}, "no routing rule names a party", "新报修待研判", "没有派工规则指定责任单位，需人工派工"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.bind(t, "郑晓东", "eng-zheng", "zh")
			c := e.newCase(t, func(c *casework.Case) { tc.change(e, c) })

			got, err := e.svc.Triage(t.Context(), c)
			require.NoError(t, err)
			assert.Equal(t, casework.StateRegistered, got.State)
			assert.Zero(t, got.PartyID)
			last := e.lastEvent(t, c.ID)
			assert.Equal(t, casework.EventNote, last.Kind)
			assert.Equal(t, casework.ActorBot, last.Actor)
			assert.Equal(t, "waits for staff: "+tc.why, last.Note)

			ms := e.outbox(t, c.ID)
			require.Len(t, ms, 1, "the supervisor alone is told")
			assert.Equal(t, "triage", ms[0].Purpose)
			assert.Equal(t, supervisorChat, ms[0].UserID)
			assert.True(t, strings.HasPrefix(ms[0].text(), tc.title+"："+c.Number+"\n"), ms[0].text())
			assert.True(t, strings.HasSuffix(ms[0].text(), "\n转人工原因："+tc.said), ms[0].text())
			assert.Contains(t, ms[0].text(), "紧急程度：", "the case in words")

			timers := e.jobs.timers(c.ID)
			requireDeadlineTimers(t, c, timers)
			for _, tm := range timers {
				assert.NotEqual(t, casework.TimerAcceptEscalation, tm.Kind)
			}
		})
	}
}

func TestAcceptByStaffDispatchesByRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.bind(t, "郑晓东", "eng-zheng", "zh")
	c := e.newCase(t, func(c *casework.Case) { c.WarrantyStatus = casework.WarrantyUnknown })
	_, err := e.svc.Triage(t.Context(), c)
	require.NoError(t, err)

	got, err := e.svc.Accept(t.Context(), c.Number, casework.Staff("7"), "交付日期已核实", 0, 0)
	require.NoError(t, err)
	assert.Equal(t, casework.StateDispatched, got.State)
	assert.Equal(t, "accepted by staff: 交付日期已核实", got.DecisionReason)
	assert.Equal(t, e.member(t, "郑晓东").ID, got.AssigneeID)
	ms := e.outbox(t, c.ID)
	assert.Len(t, byPurpose(ms, "work_order"), 1)
	updates := byPurpose(ms, "owner_update")
	require.Len(t, updates, 1, "accepted and dispatched: one message")
	assert.Equal(t, lifecycle.T(l10n.Chinese, "owner.dispatched", "number", c.Number, "who", e.parties["MCMC"].Name+" 郑晓东",
		"on_site", got.OnSiteBy.In(casework.ChinaTime()).Format("01-02 15:04")), updates[0].text())

	_, err = e.svc.Dispatch(t.Context(), c.Number, casework.Staff("7"), e.parties["HXJS"].ID, e.member(t, "郑晓东").ID)
	var ve *casework.ValidationError
	require.ErrorAs(t, err, &ve, "a member of another party")
	assert.Equal(t, "member_id", ve.Field)
}

func TestEngineerPermissions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.dispatched(t, nil)
	other := e.bind(t, "吴海涛", "eng-wu", "zh") // HXJS, not the case's party
	unbound := lifecycle.Who{User: bot.UserRef{Platform: bot.Telegram, ID: "stranger"}}
	ownerAccount := e.who(t, ownerChat)
	ctx, n := t.Context(), f.c.Number
	before := e.snapshot(t, f.c)

	for _, tc := range []struct {
		name string
		who  lifecycle.Who
		want error
	}{
		{"engineer of another party", other, lifecycle.ErrForbidden},
		{"unbound account", unbound, lifecycle.ErrNotBound},
		{"owner's account", ownerAccount, lifecycle.ErrNotBound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.TakeOrder(ctx, tc.who, n)
			require.ErrorIs(t, err, tc.want, "TakeOrder")
			require.ErrorIs(t, e.svc.DeclineOrder(ctx, tc.who, n, "不是我们的范围"), tc.want, "DeclineOrder")
			require.ErrorIs(t, e.svc.ProposeSlots(ctx, tc.who, n, []time.Time{t0.Add(24 * time.Hour)}), tc.want, "ProposeSlots")
			_, err = e.svc.CheckIn(ctx, tc.who, n)
			require.ErrorIs(t, err, tc.want, "CheckIn")
			_, err = e.svc.ShowOrder(ctx, tc.who, n, l10n.Chinese)
			require.ErrorIs(t, err, tc.want, "ShowOrder")
			_, err = e.svc.Complete(ctx, tc.who, n, "", nil)
			require.ErrorIs(t, err, tc.want, "Complete")
		})
	}
	_, err := e.svc.MyOrders(ctx, unbound, l10n.Chinese)
	require.ErrorIs(t, err, lifecycle.ErrNotBound)
	assert.Equal(t, before, e.snapshot(t, f.c), "nothing written")

	text, ok := lifecycle.ExplainError(l10n.Chinese, fmt.Errorf("take: %w", lifecycle.ErrForbidden))
	assert.True(t, ok)
	assert.Equal(t, lifecycle.T(l10n.Chinese, "err.forbidden"), text)
	text, ok = lifecycle.ExplainError(l10n.English, lifecycle.ErrNotBound)
	assert.True(t, ok)
	assert.Equal(t, lifecycle.T(l10n.English, "err.not_bound"), text)
	_, ok = lifecycle.ExplainError(l10n.Chinese, errors.New("disk full"))
	assert.False(t, ok, "not the user's error")
}

func TestOwnerPermissions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.dispatched(t, nil)
	ctx, n := t.Context(), f.c.Number
	// The owner acts from an account of his that did not report the case.
	e.bindOwnerAccount(t, "owner-zhang-2")
	offered := []time.Time{t0.Add(24 * time.Hour), t0.Add(48 * time.Hour)}
	require.NoError(t, e.svc.ProposeSlots(ctx, f.engineer, n, offered))
	before := e.snapshot(t, f.c)

	// An account bound to the owner before bindings were proven (the
	// migration keeps none, but a row written so must still be refused).
	require.NoError(t, e.store.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "telegram", UserID: "unproven-zhang", OwnerID: e.owner.ID, Lang: "zh"}))
	strangers := map[string]lifecycle.Who{
		"unproven binding": e.who(t, "unproven-zhang"),
		"another owner":    e.who(t, otherOwnerChat),
		"unknown account":  {User: bot.UserRef{Platform: bot.Telegram, ID: "stranger"}},
		"engineer":         f.engineer,
	}
	for name, who := range strangers {
		t.Run(name, func(t *testing.T) {
			_, err := e.svc.PickSlot(ctx, who, n, offered[0].Unix())
			require.ErrorIs(t, err, lifecycle.ErrForbidden, "PickSlot")
			require.ErrorIs(t, e.svc.OtherSlots(ctx, who, n, "周末上午"), lifecycle.ErrForbidden, "OtherSlots")
			_, err = e.svc.AgreePlan(ctx, who, n, "")
			require.ErrorIs(t, err, lifecycle.ErrForbidden, "AgreePlan")
			_, err = e.svc.DisagreePlan(ctx, who, n, "太贵了")
			require.ErrorIs(t, err, lifecycle.ErrForbidden, "DisagreePlan")
			_, err = e.svc.OwnerAccept(ctx, who, n)
			require.ErrorIs(t, err, lifecycle.ErrForbidden, "OwnerAccept")
			_, err = e.svc.NotFixed(ctx, who, n, "还是漏")
			require.ErrorIs(t, err, lifecycle.ErrForbidden, "NotFixed")
			_, err = e.svc.SubmitSurvey(ctx, who, n, casework.Survey{Speed: 5, Attitude: 5, Quality: 5})
			require.ErrorIs(t, err, lifecycle.ErrForbidden, "SubmitSurvey")
			_, err = e.svc.ReturnVisitAnswer(ctx, who, n, false)
			require.ErrorIs(t, err, lifecycle.ErrForbidden, "ReturnVisitAnswer")
		})
	}
	assert.Equal(t, before, e.snapshot(t, f.c), "nothing written")

	// Staff's message reaches the owner's proven accounts, not the unproven one.
	require.NoError(t, e.svc.MessageOwner(ctx, n, casework.Staff("7"), "师傅明天上午10点上门，请留门"))
	var to []string
	for _, m := range byPurpose(e.outbox(t, f.c.ID), "staff_message") {
		to = append(to, m.UserID)
	}
	assert.Contains(t, to, ownerChat)
	assert.NotContains(t, to, "unproven-zhang")

	// The owner's second account may act.
	got, err := e.svc.PickSlot(ctx, e.who(t, "owner-zhang-2"), n, offered[1].Unix())
	require.NoError(t, err)
	assert.Equal(t, casework.StateScheduled, got.State)
}

// bindOwnerAccount saves a Telegram account bound to 张伟.
func (e *env) bindOwnerAccount(t *testing.T, userID string) {
	t.Helper()
	proven := t0.Add(-time.Hour)
	require.NoError(t, e.store.SaveChatIdentity(t.Context(), &casework.ChatIdentity{Platform: "telegram", UserID: userID, OwnerID: e.owner.ID, Lang: "en",
		VerifiedPhone: e.owner.Phone, VerifiedAt: &proven, VerifiedBy: casework.VerifySMS}))
}

func TestProposeSlotsAndPickSlot(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.dispatched(t, nil)
	ctx, n := t.Context(), f.c.Number
	day := 24 * time.Hour
	before := e.snapshot(t, f.c)

	for _, tc := range []struct {
		name  string
		slots []time.Time
	}{
		{"none", nil},
		{"four", []time.Time{t0.Add(day), t0.Add(2 * day), t0.Add(3 * day), t0.Add(4 * day)}},
		{"one in the past", []time.Time{t0.Add(day), t0.Add(-time.Minute)}},
		{"now", []time.Time{t0}},
	} {
		err := e.svc.ProposeSlots(ctx, f.engineer, n, tc.slots)
		var ve *casework.ValidationError
		require.ErrorAs(t, err, &ve, tc.name)
		assert.Equal(t, "slots", ve.Field, tc.name)
	}
	assert.Equal(t, before, e.snapshot(t, f.c), "nothing written")

	slots := []time.Time{t0.Add(day), t0.Add(day + 5*time.Hour)}
	require.NoError(t, e.svc.ProposeSlots(ctx, f.engineer, n, slots))
	offers := byPurpose(e.outbox(t, f.c.ID), "appointment")
	require.Len(t, offers, 1)
	assert.Equal(t, ownerChat, offers[0].UserID)
	assert.Equal(t, lifecycle.T(l10n.Chinese, "owner.slots", "number", n), offers[0].text())
	assert.Equal(t, []bot.Choice{
		{Label: "03-11 周三 10:00", Payload: lifecycle.Payload(lifecycle.ActPick, n, strconv.FormatInt(slots[0].Unix(), 10))},
		{Label: "03-11 周三 15:00", Payload: lifecycle.Payload(lifecycle.ActPick, n, strconv.FormatInt(slots[1].Unix(), 10))},
		{Label: "都不方便，换个时间", Payload: lifecycle.Payload(lifecycle.ActOther, n)},
	}, offers[0].Messages[0].Choices)

	for _, bad := range []int64{0, 3, -1, slots[0].Unix() + 60} {
		_, err := e.svc.PickSlot(ctx, f.owner, n, bad)
		require.ErrorIs(t, err, lifecycle.ErrSlotGone, "a time never offered: %d", bad)
	}

	got, err := e.svc.PickSlot(ctx, f.owner, n, slots[1].Unix())
	require.NoError(t, err)
	assert.Equal(t, casework.StateScheduled, got.State)
	require.NotNil(t, got.AppointmentAt)
	assert.True(t, slots[1].Equal(*got.AppointmentAt))
	assert.Empty(t, got.ProposedSlots, "the offer is spent")
	timers := e.jobs.timers(f.c.ID)
	reminder := timers[len(timers)-1]
	assert.Equal(t, casework.TimerAppointmentReminder, reminder.Kind)
	assert.True(t, slots[1].Add(-2*time.Hour).Equal(reminder.At))
	assert.Equal(t, slots[1].Unix(), reminder.Ref)
	booked := byPurpose(e.outbox(t, f.c.ID), "appointment")
	require.Len(t, booked, 2)
	assert.Equal(t, "eng-zheng", booked[1].UserID)
	assert.Equal(t, lifecycle.T(l10n.Chinese, "engineer.booked", "number", n, "at", "03-11 周三 15:00", "address", "海景苑 1-1-101"), booked[1].text())

	// The offer was used up: an old message's button books nothing.
	_, err = e.svc.PickSlot(ctx, f.owner, n, slots[0].Unix())
	require.ErrorIs(t, err, lifecycle.ErrSlotGone)
}

func TestReject(t *testing.T) {
	t.Parallel()
	zh := func(key string, kv ...string) string { return lifecycle.T(l10n.Chinese, key, kv...) }
	for _, reason := range lifecycle.RejectReasons {
		t.Run(string(reason), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ctx := t.Context()
			c := e.newCase(t, nil)
			var dup string
			if reason == lifecycle.RejectDuplicate {
				for _, bad := range []string{"", "SH-20990101-0001"} {
					_, err := e.svc.Reject(ctx, c.Number, casework.Staff("7"), reason, "", bad)
					var ve *casework.ValidationError
					require.ErrorAs(t, err, &ve, "duplicate of %q", bad)
					assert.Equal(t, "duplicate_of", ve.Field)
				}
				dup = e.newCase(t, nil).Number
			}

			got, err := e.svc.Reject(ctx, c.Number, casework.Staff("7"), reason, "已电话沟通", dup)
			require.NoError(t, err)
			assert.Equal(t, casework.StateRejected, got.State)
			why := string(reason)
			if dup != "" {
				why += " (" + dup + ")"
			}
			assert.Equal(t, why+": 已电话沟通", got.DecisionReason)

			ms := e.outbox(t, c.ID)
			require.Len(t, ms, 1)
			assert.Equal(t, ownerChat, ms[0].UserID)
			assert.Equal(t, "owner_update", ms[0].Purpose)
			want := zh("reject.head", "number", c.Number) + "\n" +
				zh("reject."+string(reason), "until", "2026-09-28", "dup", dup, "part", "门窗")
			pm := e.parties["HJWY"]
			switch reason {
			case lifecycle.RejectOwnerCaused, lifecycle.RejectNotResponsible:
				want += "\n" + zh("reject.help", "name", pm.Name, "phone", pm.Phone)
			case lifecycle.RejectOutOfWarranty:
				// Intake promised to say what service is on offer.
				want += "\n" + zh("reject.paid_repair") + "\n" + zh("reject.help_property", "name", pm.Name, "phone", pm.Phone)
			}
			want += "\n" + zh("reject.note", "note", "已电话沟通") + "\n" + zh("reject.tail")
			assert.Equal(t, want, ms[0].text())
			assert.NotContains(t, ms[0].text(), "{", "every placeholder filled")
			switch reason {
			case lifecycle.RejectOutOfWarranty:
				assert.Contains(t, ms[0].text(), "门窗的保修期已于 2026-09-28 届满")
				assert.Contains(t, ms[0].text(), "有偿维修：先上门查看并报价")
				assert.Contains(t, ms[0].text(), "海景物业服务有限公司（021-60000005）")
			case lifecycle.RejectDuplicate:
				assert.Contains(t, ms[0].text(), "已经在报修 "+dup+" 中登记")
			}
		})
	}
	t.Run("bad reason", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		c := e.newCase(t, nil)
		_, err := e.svc.Reject(t.Context(), c.Number, casework.Staff("7"), "too_busy", "", "")
		var ve *casework.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "reason", ve.Field)
		assert.Equal(t, casework.StateRegistered, e.reload(t, c).State)
	})
}

// fireTimer returns the last timer of kind set for the case.
func (e *env) fireTimer(t *testing.T, c *casework.Case, kind casework.TimerKind) casework.Timer {
	t.Helper()
	var found *casework.Timer
	for _, tm := range e.jobs.timers(c.ID) {
		if tm.Kind == kind {
			found = &tm
		}
	}
	require.NotNil(t, found, "no %s timer for case %s", kind, c.Number)
	return *found
}

// requireNothing fires tm and checks that it wrote nothing.
func (e *env) requireNothing(t *testing.T, c *casework.Case, tm casework.Timer) {
	t.Helper()
	before := e.snapshot(t, c)
	require.NoError(t, e.svc.Fire(t.Context(), tm))
	assert.Equal(t, before, e.snapshot(t, c), "%s did something", tm.Kind)
}

// requireEscalated fires tm and checks that the supervisor was told with
// the text of key, and the case escalated.
func (e *env) requireEscalated(t *testing.T, c *casework.Case, tm casework.Timer, key string) {
	t.Helper()
	before := len(e.outbox(t, c.ID))
	require.NoError(t, e.svc.Fire(t.Context(), tm))
	ms := e.outbox(t, c.ID)[before:]
	require.Len(t, ms, 1)
	assert.Equal(t, "escalation", ms[0].Purpose)
	assert.Equal(t, supervisorChat, ms[0].UserID)
	head, _, _ := strings.Cut(lifecycle.T(l10n.Chinese, key, "number", c.Number), "\n")
	head, _, _ = strings.Cut(head, "{")
	assert.True(t, strings.HasPrefix(ms[0].text(), head), "%q starts with %q", ms[0].text(), head)
	last := e.lastEvent(t, c.ID)
	assert.Equal(t, casework.EventEscalated, last.Kind)
	got := e.reload(t, c)
	require.NotNil(t, got.EscalatedAt)
	assert.True(t, e.clock.Now().Equal(*got.EscalatedAt))
}

func TestFireDeadlines(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	t.Run("respond", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		c := e.newCase(t, func(c *casework.Case) { c.WarrantyStatus = casework.WarrantyOut })
		_, err := e.svc.Triage(t.Context(), c)
		require.NoError(t, err)
		// Accepted and dispatched at once by the bot, but nobody of the
		// department touched it: late all the same.
		untouched := e.dispatched(t, nil)
		// The engineer took the order: responded.
		met := e.dispatched(t, nil)
		_, err = e.svc.TakeOrder(t.Context(), met.engineer, met.c.Number)
		require.NoError(t, err)
		tm := e.fireTimer(t, c, casework.TimerRespondDeadline)
		e.requireNothing(t, c, tm) // not due yet (a job run early)
		e.clock.Advance(day)
		e.requireEscalated(t, c, tm, "staff.overdue.respond_deadline")
		assert.Equal(t, "respond_deadline missed", e.lastEvent(t, c.ID).Note)
		e.requireEscalated(t, untouched.c, e.fireTimer(t, untouched.c, casework.TimerRespondDeadline), "staff.overdue.respond_deadline")
		e.requireNothing(t, met.c, e.fireTimer(t, met.c, casework.TimerRespondDeadline))
	})
	t.Run("on site", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		late := e.dispatched(t, nil)
		onSite := e.dispatched(t, nil).to(t, casework.StateInspected)
		e.clock.Advance(3 * day)
		e.requireEscalated(t, late.c, e.fireTimer(t, late.c, casework.TimerOnSiteDeadline), "staff.overdue.on_site_deadline")
		assert.Contains(t, e.outbox(t, late.c.ID)[len(e.outbox(t, late.c.ID))-1].text(), "（郑晓东）", "names the assignee")
		e.requireNothing(t, onSite.c, e.fireTimer(t, onSite.c, casework.TimerOnSiteDeadline))
	})
	t.Run("resolve", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		late := e.dispatched(t, nil).to(t, casework.StateInspected)
		done := e.dispatched(t, nil).to(t, casework.StateDone)
		held := e.dispatched(t, nil)
		_, err := e.store.TransitionCase(t.Context(), held.c.ID, 0, casework.Transition{Action: casework.ActionHold, Actor: casework.Staff("7")})
		require.NoError(t, err)
		closed := e.dispatched(t, nil).to(t, casework.StateClosed)
		e.clock.Advance(15 * day)
		e.requireEscalated(t, late.c, e.fireTimer(t, late.c, casework.TimerResolveDeadline), "staff.overdue.resolve_deadline")
		for _, f := range []*flow{done, held, closed} {
			e.requireNothing(t, f.c, e.fireTimer(t, f.c, casework.TimerResolveDeadline))
		}
	})
	t.Run("moved later", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		c := e.newCase(t, func(c *casework.Case) { c.WarrantyStatus = casework.WarrantyOut })
		tm := casework.Timer{CaseID: c.ID, Kind: casework.TimerRespondDeadline, At: t0.Add(-time.Hour)}
		// The timer says it is due, the case's deadline (a day on) says not.
		e.requireNothing(t, c, tm)
	})
}

func TestFireAcceptEscalation(t *testing.T) {
	t.Parallel()
	urgent := func(c *casework.Case) { c.Urgency = casework.UrgencyUrgent }
	t.Run("not taken", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.bind(t, "冯磊", "duty-feng", "zh")
		c := e.newCase(t, urgent)
		_, err := e.svc.Triage(t.Context(), c)
		require.NoError(t, err)
		e.clock.Advance(31 * time.Minute)
		before := len(e.outbox(t, c.ID))
		require.NoError(t, e.svc.Fire(t.Context(), e.fireTimer(t, c, casework.TimerAcceptEscalation)))
		// The supervisor's phone rings (urgent_test.go), then the chat.
		ms := e.outbox(t, c.ID)[before:]
		require.Len(t, ms, 3)
		assert.Equal(t, []string{lifecycle.PurposeUrgentSMS, lifecycle.PurposeUrgentCall, "escalation"}, []string{ms[0].Purpose, ms[1].Purpose, ms[2].Purpose})
		assert.Equal(t, supervisorChat, ms[2].UserID)
		head, _, _ := strings.Cut(lifecycle.T(l10n.Chinese, "staff.not_taken", "number", c.Number), "{")
		assert.True(t, strings.HasPrefix(ms[2].text(), head), "%q starts with %q", ms[2].text(), head)
		assert.Contains(t, ms[2].text(), "（冯磊）")
		assert.Equal(t, casework.EventEscalated, e.lastEvent(t, c.ID).Kind)
		require.NotNil(t, e.reload(t, c).EscalatedAt)
	})
	t.Run("taken", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		duty := e.bind(t, "冯磊", "duty-feng", "zh")
		c := e.newCase(t, urgent)
		_, err := e.svc.Triage(t.Context(), c)
		require.NoError(t, err)
		_, err = e.svc.TakeOrder(t.Context(), duty, c.Number)
		require.NoError(t, err)
		e.clock.Advance(31 * time.Minute)
		e.requireNothing(t, c, e.fireTimer(t, c, casework.TimerAcceptEscalation))
	})
	t.Run("moved on", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		f := e.dispatched(t, urgent) // to 冯磊, on duty, who has no account
		tm := e.fireTimer(t, f.c, casework.TimerAcceptEscalation)
		_, err := e.store.TransitionCase(t.Context(), f.c.ID, 0, casework.Transition{Action: casework.ActionInspect, Actor: casework.Staff("7")})
		require.NoError(t, err)
		e.clock.Advance(31 * time.Minute)
		e.requireNothing(t, f.c, tm)
	})
}

// TestFireAcceptEscalationAfterReassign: the escalation timer of a work
// order that staff reassigned does not fire for the new order, which has a
// timer of its own.
func TestFireAcceptEscalationAfterReassign(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.bind(t, "冯磊", "duty-feng", "zh")
	c := e.newCase(t, func(c *casework.Case) { c.Urgency = casework.UrgencyUrgent })
	_, err := e.svc.Triage(t.Context(), c)
	require.NoError(t, err)
	first := e.fireTimer(t, c, casework.TimerAcceptEscalation)
	e.clock.Advance(25 * time.Minute)
	_, err = e.svc.Dispatch(t.Context(), c.Number, casework.Staff("7"), e.parties["HXJS"].ID, 0)
	require.NoError(t, err)
	e.clock.Advance(5 * time.Minute)
	// The new order went out 5 minutes ago; its own timer fires in 25.
	e.requireNothing(t, c, first)
}

func TestFireAppointmentReminder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.dispatched(t, nil).to(t, casework.StateScheduled)
	tm := e.fireTimer(t, f.c, casework.TimerAppointmentReminder)
	require.Equal(t, f.c.AppointmentAt.Unix(), tm.Ref)

	moved := tm
	moved.Ref = f.slots[1].Unix() // the visit was rebooked since
	e.requireNothing(t, f.c, moved)

	require.NoError(t, e.svc.Fire(t.Context(), tm))
	rs := byPurpose(e.outbox(t, f.c.ID), "reminder")
	require.Len(t, rs, 2)
	at := "03-11 周三 10:00"
	assert.Equal(t, ownerChat, rs[0].UserID)
	assert.Equal(t, lifecycle.T(l10n.Chinese, "owner.reminder", "number", f.c.Number, "at", at), rs[0].text())
	assert.Equal(t, "eng-zheng", rs[1].UserID)
	assert.Equal(t, lifecycle.T(l10n.Chinese, "engineer.reminder", "number", f.c.Number, "at", at, "address", "海景苑 1-1-101"), rs[1].text())

	f.to(t, casework.StateInspected)
	e.requireNothing(t, f.c, tm)
}

func TestFireDisruptionWarning(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.dispatched(t, nil).to(t, casework.StatePlanAgreed)
	tm := e.fireTimer(t, f.c, casework.TimerDisruptionWarning)
	require.Equal(t, f.c.Plan.StartAt.Unix(), tm.Ref)
	assert.True(t, f.c.Plan.StartAt.Add(-24*time.Hour).Equal(tm.At), "a day ahead")

	moved := tm
	moved.Ref = f.c.Plan.StartAt.Add(time.Hour).Unix()
	e.requireNothing(t, f.c, moved)

	require.NoError(t, e.svc.Fire(t.Context(), tm))
	ms := byPurpose(e.outbox(t, f.c.ID), "disruption")
	require.Len(t, ms, 1)
	assert.Equal(t, ownerChat, ms[0].UserID)
	assert.True(t, strings.HasPrefix(ms[0].text(), "温馨提醒：报修 "+f.c.Number+" 将于 03-13 周五 10:00 开工。\n"), ms[0].text())
	assert.Contains(t, ms[0].text(), "噪音")

	f.to(t, casework.StateDone)
	e.requireNothing(t, f.c, tm)
}

func TestFireSurveyExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	unanswered := e.dispatched(t, nil).to(t, casework.StateOwnerAccepted)
	answered := e.dispatched(t, nil).to(t, casework.StateClosed)

	tm := e.fireTimer(t, unanswered.c, casework.TimerSurveyExpiry)
	assert.True(t, t0.Add(72*time.Hour).Equal(tm.At))
	e.clock.Advance(72 * time.Hour)
	require.NoError(t, e.svc.Fire(t.Context(), tm))
	got := e.reload(t, unanswered.c)
	assert.Equal(t, casework.StateClosed, got.State)
	assert.Nil(t, got.Survey)
	last := e.lastEvent(t, got.ID)
	assert.Equal(t, casework.ActionClose, last.Action)
	assert.Equal(t, "survey expired unanswered", last.Note)
	visit := e.fireTimer(t, got, casework.TimerReturnVisit)
	assert.True(t, e.clock.Now().Add(30*24*time.Hour).Equal(visit.At), "door and window: the default 30 days")

	e.requireNothing(t, answered.c, e.fireTimer(t, answered.c, casework.TimerSurveyExpiry))
}

func TestFireReturnVisit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.dispatched(t, nil).to(t, casework.StateClosed)
	tm := e.fireTimer(t, f.c, casework.TimerReturnVisit)
	e.clock.Advance(30 * 24 * time.Hour)

	require.NoError(t, e.svc.Fire(t.Context(), tm))
	last := e.lastEvent(t, f.c.ID)
	assert.Equal(t, casework.EventReturnVisit, last.Kind)
	assert.Equal(t, "return visit asked", last.Note)
	ms := byPurpose(e.outbox(t, f.c.ID), "return_visit")
	require.Len(t, ms, 1)
	assert.Equal(t, lifecycle.T(l10n.Chinese, "owner.return_visit.other", "number", f.c.Number), ms[0].text())
	assert.Equal(t, []bot.Choice{
		{Label: "一切正常", Payload: lifecycle.Payload(lifecycle.ActVisitOK, f.c.Number)},
		{Label: "问题又出现了", Payload: lifecycle.Payload(lifecycle.ActVisitBad, f.c.Number)},
	}, ms[0].Messages[0].Choices)

	got, err := e.svc.ReturnVisitAnswer(t.Context(), f.owner, f.c.Number, false)
	require.NoError(t, err)
	assert.Equal(t, casework.StateDispatched, got.State, "reopened and sent back to its party")
	assert.Equal(t, 1, got.RepairCount)
	e.requireNothing(t, f.c, tm)
}

func TestFireTaskDue(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.dispatched(t, nil)
	ctx := t.Context()
	due := t0.Add(48 * time.Hour)
	open, err := e.svc.AddTask(ctx, f.c.Number, casework.Staff("7"), "物业", "协调开通楼顶检修通道", due)
	require.NoError(t, err)
	tm := e.fireTimer(t, f.c, casework.TimerTaskDue)
	assert.Equal(t, casework.Timer{CaseID: f.c.ID, Kind: casework.TimerTaskDue, At: due, Ref: due.Unix()}, tm)

	other := tm
	other.Ref++
	e.requireNothing(t, f.c, other)

	e.clock.Advance(48 * time.Hour)
	e.requireEscalated(t, f.c, tm, "staff.task_due")
	assert.Equal(t, "coordination task due: 物业: 协调开通楼顶检修通道", e.lastEvent(t, f.c.ID).Note)

	require.NoError(t, e.store.CompleteTask(ctx, open.ID, e.clock.Now(), casework.Staff("7")))
	e.requireNothing(t, f.c, tm)
}

func TestFireIgnoresUnknownTimersAndCases(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.dispatched(t, nil)
	e.requireNothing(t, f.c, casework.Timer{CaseID: f.c.ID, Kind: "coffee_break", At: t0})
	require.NoError(t, e.svc.Fire(t.Context(), casework.Timer{CaseID: 99999, Kind: casework.TimerRespondDeadline, At: t0}))
}

// pending returns the id of the case's first pending outbox message.
func (e *env) pending(t *testing.T, c *casework.Case) message {
	t.Helper()
	for _, m := range e.outbox(t, c.ID) {
		if m.Status == casework.OutboxPending {
			return m
		}
	}
	t.Fatalf("case %s has no pending message", c.Number)
	return message{}
}

func TestDeliver(t *testing.T) {
	t.Parallel()
	t.Run("sent once", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		f := e.dispatched(t, nil)
		m := e.pending(t, f.c)
		require.NoError(t, e.svc.Deliver(t.Context(), m.ID, 1, false))
		require.NoError(t, e.svc.Deliver(t.Context(), m.ID, 2, false), "a job run twice")
		assert.Equal(t, 1, e.push.callCount())
		assert.Equal(t, m.Messages, e.push.pushed)
		got, err := e.store.FindOutboxMessage(t.Context(), m.ID)
		require.NoError(t, err)
		assert.Equal(t, casework.OutboxSent, got.Status)
		require.NotNil(t, got.SentAt)
		assert.True(t, t0.Equal(*got.SentAt))
	})
	t.Run("undeliverable", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.push.errFunc = func([]bot.Outbound) error {
			return fmt.Errorf("telegram: 403 bot was blocked by the user: %w", bot.ErrUndeliverable)
		}
		f := e.dispatched(t, nil)
		m := e.pending(t, f.c)
		err := e.svc.Deliver(t.Context(), m.ID, 1, false)
		var p *lifecycle.Permanent
		require.ErrorAs(t, err, &p, "given up at once")
		require.ErrorIs(t, err, bot.ErrUndeliverable)
		got, err := e.store.FindOutboxMessage(t.Context(), m.ID)
		require.NoError(t, err)
		assert.Equal(t, casework.OutboxFailed, got.Status)
		assert.Equal(t, 1, got.Attempts)
		assert.Contains(t, got.LastError, "blocked")
		last := e.lastEvent(t, f.c.ID)
		assert.Equal(t, casework.EventDeliveryFailed, last.Kind)
		assert.Equal(t, casework.ActorSystem, last.Actor)

		require.NoError(t, e.svc.Deliver(t.Context(), m.ID, 2, false), "a failed message is left alone")
		assert.Equal(t, 1, e.push.callCount())
	})
	t.Run("in order", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		f := e.dispatched(t, nil)
		for _, text := range []string{"第一条", "第二条"} {
			require.NoError(t, e.svc.MessageOwner(t.Context(), f.c.Number, casework.Staff("7"), text))
		}
		ms := byPurpose(e.outbox(t, f.c.ID), "staff_message")
		require.Len(t, ms, 2)
		first, second := ms[0], ms[1]
		require.Equal(t, first.UserID, second.UserID)
		// The older message waits for a retry: the newer one is held back,
		// and its own attempts are not spent on the older one's failure.
		down := errors.New("telegram: 502 bad gateway")
		e.push.errFunc = func(out []bot.Outbound) error {
			if strings.Contains(out[0].Text, "第一条") {
				return down
			}
			return nil
		}
		err := e.svc.Deliver(t.Context(), second.ID, 1, false)
		require.ErrorIs(t, err, down)
		for _, m := range []message{first, second} {
			got, err := e.store.FindOutboxMessage(t.Context(), m.ID)
			require.NoError(t, err)
			assert.Equal(t, casework.OutboxPending, got.Status)
			assert.Zero(t, got.Attempts, "the older message's own job counts its failures")
		}
		// Once the platform answers, the newer message's job sends both, in
		// order, and the older one's job has nothing left to do.
		e.push.errFunc = nil
		require.NoError(t, e.svc.Deliver(t.Context(), second.ID, 2, false))
		require.NoError(t, e.svc.Deliver(t.Context(), first.ID, 2, false))
		var texts []string
		for _, o := range e.push.pushed {
			if strings.Contains(o.Text, "条") {
				texts = append(texts, o.Text)
			}
		}
		require.Len(t, texts, 2)
		assert.Contains(t, texts[0], "第一条")
		assert.Contains(t, texts[1], "第二条")
	})
	t.Run("retried until final", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		down := errors.New("telegram: 502 bad gateway")
		e.push.errFunc = func([]bot.Outbound) error { return down }
		f := e.dispatched(t, nil)
		m := e.pending(t, f.c)
		events := len(e.events(t, f.c.ID))

		err := e.svc.Deliver(t.Context(), m.ID, 1, false)
		require.ErrorIs(t, err, down)
		var p *lifecycle.Permanent
		assert.False(t, errors.As(err, &p), "retried")
		got, err := e.store.FindOutboxMessage(t.Context(), m.ID)
		require.NoError(t, err)
		assert.Equal(t, casework.OutboxPending, got.Status)
		assert.Equal(t, 1, got.Attempts)
		assert.Equal(t, down.Error(), got.LastError)
		assert.Len(t, e.events(t, f.c.ID), events, "no failure on the timeline yet")

		require.ErrorIs(t, e.svc.Deliver(t.Context(), m.ID, 10, true), down)
		got, err = e.store.FindOutboxMessage(t.Context(), m.ID)
		require.NoError(t, err)
		assert.Equal(t, casework.OutboxFailed, got.Status)
		assert.Equal(t, 2, got.Attempts)
		assert.Equal(t, casework.EventDeliveryFailed, e.lastEvent(t, f.c.ID).Kind)
	})
	t.Run("unreadable payload", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		c := e.newCase(t, nil)
		m := &casework.OutboxMessage{CaseID: c.ID, Platform: "telegram", UserID: ownerChat, Purpose: "owner_update", Payload: []byte("{not json")}
		require.NoError(t, e.store.Enqueue(t.Context(), casework.Effects{Messages: []*casework.OutboxMessage{m}}))
		var p *lifecycle.Permanent
		require.ErrorAs(t, e.svc.Deliver(t.Context(), m.ID, 1, false), &p)
		got, err := e.store.FindOutboxMessage(t.Context(), m.ID)
		require.NoError(t, err)
		assert.Equal(t, casework.OutboxFailed, got.Status)
		assert.Zero(t, e.push.callCount())
	})
	t.Run("unknown message", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		require.ErrorIs(t, e.svc.Deliver(t.Context(), 12345, 1, false), casework.ErrNotFound)
	})
}

func TestBindSendsWaitingOrders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	c := e.newCase(t, nil)
	_, err := e.svc.Triage(ctx, c)
	require.NoError(t, err)
	require.Empty(t, byPurpose(e.outbox(t, c.ID), "work_order"))

	code, err := e.svc.IssueBindCode(ctx, e.member(t, "郑晓东").ID, casework.Staff("7"))
	require.NoError(t, err)
	assert.Len(t, code.Code, 8)
	assert.True(t, t0.Add(72*time.Hour).Equal(code.ExpiresAt))

	who := lifecycle.Who{User: bot.UserRef{Platform: bot.Telegram, ID: "eng-zheng"}}
	m, p, err := e.svc.Bind(ctx, who, " "+strings.ToLower(code.Code)+" ")
	require.NoError(t, err)
	assert.Equal(t, "郑晓东", m.Name)
	assert.Equal(t, "MCMC", p.Code)
	orders := byPurpose(e.outbox(t, c.ID), "work_order")
	require.Len(t, orders, 1)
	assert.Equal(t, "eng-zheng", orders[0].UserID)
	assert.Equal(t, "work order sent to the newly bound account", e.lastEvent(t, c.ID).Note)

	_, _, err = e.svc.Bind(ctx, who, code.Code)
	require.ErrorIs(t, err, casework.ErrNotFound, "a code is used once")
}

func TestPayload(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		action, number string
		arg            []string
		want           string
		wantArg        string
	}{
		{lifecycle.ActTake, "SH-20260310-0001", nil, "lc:take:SH-20260310-0001", ""},
		{lifecycle.ActPick, "SH-20260310-0001", []string{"2"}, "lc:pick:SH-20260310-0001:2", "2"},
		{lifecycle.ActRate, "SH-1", []string{"speed-4"}, "lc:rate:SH-1:speed-4", "speed-4"},
		{lifecycle.ActRate, "SH-1", []string{"a", "b"}, "lc:rate:SH-1:a:b", "a:b"},
	} {
		p := lifecycle.Payload(tc.action, tc.number, tc.arg...)
		assert.Equal(t, tc.want, p)
		action, number, arg, ok := lifecycle.ParsePayload(p)
		assert.True(t, ok, p)
		assert.Equal(t, tc.action, action, p)
		assert.Equal(t, tc.number, number, p)
		assert.Equal(t, tc.wantArg, arg, p)
	}
	for _, bad := range []string{"", "lc:", "lc:take", "lc:take:", "lc::SH-1", "lc::", "take:SH-1", "LC:take:SH-1", "slot:send", " lc:take:SH-1"} {
		action, number, arg, ok := lifecycle.ParsePayload(bad)
		assert.False(t, ok, "%q", bad)
		assert.Empty(t, action+number+arg, "%q", bad)
	}
}

func FuzzParsePayload(f *testing.F) {
	for _, s := range []string{"lc:take:SH-20260310-0001", "lc:pick:SH-1:2", "lc:rate:SH-1:speed-4", "lc:", "lc::", "lc:a:b:", "x", "lc:a:b:c:d", "lc:接单:编号:参数"} {
		f.Add(s, "take", "SH-1", "")
	}
	f.Fuzz(func(t *testing.T, p, action, number, arg string) {
		a, n, g, ok := lifecycle.ParsePayload(p)
		if !ok {
			if a != "" || n != "" || g != "" {
				t.Fatalf("ParsePayload(%q) = %q, %q, %q, false", p, a, n, g)
			}
		} else {
			if a == "" || n == "" || strings.Contains(a, ":") || strings.Contains(n, ":") {
				t.Fatalf("ParsePayload(%q) = %q, %q, %q", p, a, n, g)
			}
			rebuilt := lifecycle.Payload(a, n, g)
			if g == "" {
				rebuilt = lifecycle.Payload(a, n)
			}
			if rebuilt != p && rebuilt+":" != p {
				t.Fatalf("ParsePayload(%q) = %q, %q, %q, rebuilt as %q", p, a, n, g, rebuilt)
			}
		}

		// What Payload builds parses back, when its parts can be told apart.
		if action == "" || number == "" || strings.Contains(action, ":") || strings.Contains(number, ":") {
			return
		}
		args := []string{arg}
		if arg == "" {
			args = nil
		}
		built := lifecycle.Payload(action, number, args...)
		a, n, g, ok = lifecycle.ParsePayload(built)
		if !ok || a != action || n != number || g != arg {
			t.Fatalf("ParsePayload(Payload(%q, %q, %q) = %q) = %q, %q, %q, %v", action, number, arg, built, a, n, g, ok)
		}
	})
}

// TestStaffActOnTheVersionTheySaw: an action under WithVersion is refused
// when the case changed since the version the person saw, and changes
// nothing; at the version it goes through, its later steps included.
func TestStaffActOnTheVersionTheySaw(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.bind(t, "郑晓东", "eng-zheng", "zh")
	c := e.newCase(t, func(c *casework.Case) { c.WarrantyStatus = casework.WarrantyUnknown })
	c, err := e.svc.Triage(t.Context(), c)
	require.NoError(t, err)
	seen := c.Version
	_, err = e.svc.Reject(lifecycle.WithVersion(t.Context(), c.Number, seen-1), c.Number, casework.Staff("7"), lifecycle.RejectOutOfWarranty, "", "")
	require.ErrorIs(t, err, casework.ErrConflict, "a stale form")
	again, err := e.svc.Accept(lifecycle.WithVersion(t.Context(), c.Number, seen), c.Number, casework.Staff("7"), "", 0, 0)
	require.NoError(t, err, "accepting, then dispatching the case it just changed")
	assert.Equal(t, casework.StateDispatched, again.State)
	_, err = e.svc.Reject(lifecycle.WithVersion(t.Context(), c.Number, seen), c.Number, casework.Staff("8"), lifecycle.RejectOutOfWarranty, "", "")
	require.ErrorIs(t, err, casework.ErrConflict, "another agent acted meanwhile")
}
