package conversation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/lifecycle"
)

// The owner's side of a case's lifecycle in chat (issue 17): what the owner
// is pushed, what they press and type, and what "my reports" shows them.

// pushedTo writes into the transcript what the lifecycle queued for u and
// not yet written — its text, its buttons by label (a button's payload may
// carry a time, which moves with the tests' dates), a photo as [photo] —
// and offers its buttons to u.press, as a platform shows them. It returns
// the texts.
func (w *world) pushedTo(t *testing.T, u *user) []string {
	t.Helper()
	return w.pushedToAs(t, u, "the owner")
}

// pushedToAs is pushedTo for u, who is named in the transcript as who ("the
// engineer").
func (w *world) pushedToAs(t *testing.T, u *user, who string) []string {
	t.Helper()
	ctx := context.Background()
	if w.pushed == nil {
		w.pushed = map[int64]bool{}
	}
	cases, _, err := w.store.FindCases(ctx, casework.CaseFilter{})
	require.NoError(t, err)
	var texts []string
	var offered []bot.Outbound
	for i := len(cases) - 1; i >= 0; i-- { // oldest case first
		ms, err := w.store.ListOutbox(ctx, cases[i].ID)
		require.NoError(t, err)
		for _, m := range ms {
			if m.Platform != string(u.ref.Platform) || m.UserID != u.ref.ID || w.pushed[m.ID] {
				continue
			}
			w.pushed[m.ID] = true
			var p struct {
				Messages []bot.Outbound `json:"messages"`
			}
			require.NoError(t, json.Unmarshal(m.Payload, &p))
			for _, o := range p.Messages {
				w.log.WriteString("# pushed to " + who + ":\n")
				if o.Kind == bot.OutPhoto {
					w.log.WriteString("< [photo]\n")
					continue
				}
				for _, line := range strings.Split(o.Text, "\n") {
					w.log.WriteString("< " + line + "\n")
				}
				for i, c := range o.Choices {
					fmt.Fprintf(&w.log, "    [%d] %s\n", i+1, c.Label)
				}
				texts = append(texts, o.Text)
				offered = append(offered, o)
			}
		}
	}
	w.lastOut = offered
	return texts
}

// engineerWho is who acts from the engineer's bound Telegram account userID.
func (w *world) engineerWho(t *testing.T, userID string) lifecycle.Who {
	t.Helper()
	id, err := w.store.FindChatIdentity(context.Background(), "telegram", userID)
	require.NoError(t, err)
	return lifecycle.Who{User: bot.UserRef{Platform: bot.Telegram, ID: userID}, Identity: id}
}

// onlyCase returns the world's one case, as stored.
func (w *world) onlyCase(t *testing.T) *casework.Case {
	t.Helper()
	cases, _, err := w.store.FindCases(context.Background(), casework.CaseFilter{})
	require.NoError(t, err)
	require.Len(t, cases, 1)
	c, err := w.store.FindCaseByID(context.Background(), cases[0].ID)
	require.NoError(t, err)
	return c
}

// reportLeak has the owner 郭敏 of 3-1-601 report a bathroom leak in words
// and buttons; the policy dispatches it at once to 吴海涛 of the general
// contractor. It returns the case number as the owner reads it.
func reportLeak(t *testing.T, w *world, u *user, pick func(string, string) string) string {
	t.Helper()
	u.command("report")
	u.say(pick("郭敏", "Guo Min"))
	u.say(pick("3栋1单元601", "3-1-601"))
	u.say("13900000018")
	u.typeCode("13900000018")
	u.press("cat:engineering_quality/leak")
	u.say(pick("卫生间吊顶", "the bathroom ceiling"))
	u.say(pick("卫生间吊顶有一块水渍，摸着有点潮", "There is a damp stain on the bathroom ceiling"))
	u.say(pick("昨天", "yesterday"))
	u.press("media:skip")
	u.press("exp:repair")
	u.press("ct:evening")
	u.press("sum:submit")
	c := w.onlyCase(t)
	require.Equal(t, casework.StateDispatched, c.State, "dispatched at once")
	return "SH-20261127-0001" // as the owner reads it on the tests' date: say and press move it
}

// TestOwnerHistory: the engineer inspects and proposes a plan; the owner
// disagrees, agrees to the revised one, accepts the repair and rates it;
// the history under "my reports" (处理记录) says each step once, in what
// happened — the disagreement, the revised plan, the owner's rating — and
// never calls the rating a return visit (回访), which comes later.
func TestOwnerHistory(t *testing.T) {
	runBoth(t, "owner_history", func(t *testing.T, w *world, u *user, pick func(string, string) string) {
		ctx := context.Background()
		w.withLifecycle(t)
		w.bindMember(t, "吴海涛", "9001", pick("zh", "en"))
		wu := w.engineerWho(t, "9001")
		number := reportLeak(t, w, u, pick)
		real := w.onlyCase(t).Number
		w.pushedTo(t, u)

		w.note("吴海涛 takes the order and inspects the next morning")
		w.clock.Advance(10 * time.Hour)
		_, err := w.lc.TakeOrder(ctx, wu, real)
		require.NoError(t, err)
		_, err = w.lc.CheckIn(ctx, wu, real)
		require.NoError(t, err)
		_, err = w.lc.ReportPlan(ctx, wu, real, casework.Plan{Cause: "楼上卫生间防水层破损", Responsibility: casework.ResponsibilityContractor,
			Content: "楼上卫生间重做防水，本户吊顶更换", Duration: "5 天"}, nil)
		require.NoError(t, err)
		w.pushedTo(t, u)
		u.press(lifecycle.Payload(lifecycle.ActDisagree, number))
		u.say(pick("工期太长了，能不能三天完成", "Five days is too long, can it be done in three?"))

		w.note("吴海涛 revises the plan")
		w.clock.Advance(30 * time.Minute)
		_, err = w.lc.ReportPlan(ctx, wu, real, casework.Plan{Cause: "楼上卫生间防水层破损", Responsibility: casework.ResponsibilityContractor,
			Content: "楼上卫生间重做防水，本户吊顶更换", Duration: "3 天"}, nil)
		require.NoError(t, err)
		w.pushedTo(t, u)
		// The button carries when the plan was proposed; press writes the
		// case number as the owner reads it, and moves it with the dates.
		agree := strings.Replace(w.lastOut[0].Choices[0].Payload, real, number, 1)
		u.press(agree)

		w.note("three days later the work is done")
		_, err = w.lc.StartWork(ctx, wu, real)
		require.NoError(t, err)
		w.clock.Advance(72 * time.Hour)
		_, err = w.lc.Complete(ctx, wu, real, "", []casework.MediaRef{{Kind: casework.MediaPhoto, BlobKey: "done-1"}})
		require.NoError(t, err)
		w.pushedTo(t, u)
		u.press(lifecycle.Payload(lifecycle.ActAccept, number))
		for _, dim := range lifecycle.SurveyQuestions {
			u.press(lifecycle.Payload(lifecycle.ActRate, number, dim+"-5"))
		}
		u.press("comment:skip")

		u.say(pick("进度", "status"))
		u.press("case:" + number)
		history := said(w, u)
		for _, once := range []string{pick("已现场勘查", "inspected on site"), pick("维修方案待您确认", "repair plan awaiting your agreement")} {
			assert.Equal(t, 1, strings.Count(history, once), "%q once in:\n%s", once, history)
		}
		assert.Contains(t, history, pick("您对维修方案提出了意见", "you asked for changes to the repair plan"))
		assert.Contains(t, history, pick("维修方案已调整，待您确认", "repair plan revised"))
		assert.Contains(t, history, pick("您已完成满意度评价", "you rated our service"))
		assert.NotContains(t, history, "回访")
	})
}

// TestSurveyLate: the owner accepts the repair and rates the response
// speed, then leaves the survey; three days later it closes and the owner
// is told so. Coming back, they tap the rest of the scores and write a
// comment: it is kept as their comments on the case's timeline and they are
// thanked in those words — never "the report has moved on… (engineers:
// my orders)".
func TestSurveyLate(t *testing.T) {
	runBoth(t, "survey_late", func(t *testing.T, w *world, u *user, pick func(string, string) string) {
		ctx := context.Background()
		w.withLifecycle(t)
		w.bindMember(t, "吴海涛", "9001", pick("zh", "en"))
		wu := w.engineerWho(t, "9001")
		number := reportLeak(t, w, u, pick)
		real := w.onlyCase(t).Number
		w.pushedTo(t, u)

		w.note("吴海涛 fixes it on the spot the next morning")
		w.clock.Advance(10 * time.Hour)
		_, err := w.lc.TakeOrder(ctx, wu, real)
		require.NoError(t, err)
		_, err = w.lc.CheckIn(ctx, wu, real)
		require.NoError(t, err)
		_, err = w.lc.Complete(ctx, wu, real, "", []casework.MediaRef{{Kind: casework.MediaPhoto, BlobKey: "done-1"}})
		require.NoError(t, err)
		w.pushedTo(t, u)
		accepted := w.clock.Now().UTC().Truncate(time.Second)
		u.press(lifecycle.Payload(lifecycle.ActAccept, number))
		u.press(lifecycle.Payload(lifecycle.ActRate, number, "speed-4"))
		rating := w.lastOut

		w.note("three days later the survey expires")
		w.clock.Advance(72 * time.Hour)
		c := w.onlyCase(t)
		require.NoError(t, w.lc.Fire(ctx, casework.Timer{CaseID: c.ID, Kind: casework.TimerSurveyExpiry, At: w.clock.Now(), Ref: accepted.Unix()}))
		told := w.pushedTo(t, u)
		require.Len(t, told, 1)
		assert.Contains(t, told[0], pick("评价已截止", "the survey has closed"))

		w.note("an hour later the owner taps the scores still on screen")
		w.clock.Advance(time.Hour)
		w.lastOut = rating
		u.press(lifecycle.Payload(lifecycle.ActRate, number, "attitude-5"))
		u.press(lifecycle.Payload(lifecycle.ActRate, number, "quality-3"))
		u.say(pick("师傅很好，就是等得久", "The engineer was kind, but we waited long"))
		reply := said(w, u)
		assert.Contains(t, reply, pick("已作为意见记录", "recorded as your comments"))
		for _, hint := range []string{"工程师", "我的工单", "状态已经变了", "engineers", "my orders", "moved on"} {
			assert.NotContains(t, reply, hint)
		}
		c = w.onlyCase(t)
		assert.Equal(t, casework.StateClosed, c.State)
		evs, err := w.store.ListCaseEvents(ctx, c.ID)
		require.NoError(t, err)
		assert.Equal(t, lifecycle.LateSurveyNote(casework.Survey{Speed: 4, Attitude: 5, Quality: 3, Comment: pick("师傅很好，就是等得久", "The engineer was kind, but we waited long")}),
			evs[len(evs)-1].Note, "kept as a note on the timeline")
	})
}

// TestOwnerWithdraws: the owner opens their report under "my reports" and
// taps 撤销报修; asked why, they pick a reason, then change their mind;
// tapping it again they type their own reason and confirm. The report is
// withdrawn, the engineer who took it is told in his language, the case's
// page offers no withdrawal any more, and the history says 已撤销.
func TestOwnerWithdraws(t *testing.T) {
	runBoth(t, "owner_withdraw", func(t *testing.T, w *world, u *user, pick func(string, string) string) {
		ctx := context.Background()
		w.withLifecycle(t)
		staffLang := pick("zh", "en")
		w.bindMember(t, "吴海涛", "9001", staffLang)
		names := map[string]string{"9001": "吴海涛 (" + staffLang + ")"}
		number := reportLeak(t, w, u, pick)
		real := w.onlyCase(t).Number
		w.pushedTo(t, u)
		w.note("吴海涛 takes the order")
		w.clock.Advance(time.Hour)
		_, err := w.lc.TakeOrder(ctx, w.engineerWho(t, "9001"), real)
		require.NoError(t, err)
		w.pushedTo(t, u)

		w.note("an hour later the owner had it repaired by a neighbour")
		w.clock.Advance(time.Hour)
		u.say(pick("进度", "status"))
		u.press("case:" + number)
		u.press("withdraw:" + number)
		u.press("wr:self")
		u.press("wd:no")
		assert.Equal(t, casework.StateDispatched, w.onlyCase(t).State, "kept")
		u.say(pick("进度", "status"))
		u.press("case:" + number)
		u.press("withdraw:" + number)
		u.say(pick("楼下邻居帮忙修好了，不用来了", "A neighbour fixed it, no need to come"))
		u.press("wd:yes")
		assert.Contains(t, said(w, u), pick("已撤销报修", "is withdrawn"))

		c := w.onlyCase(t)
		assert.Equal(t, casework.StateCancelled, c.State)
		got := w.staffSaw(t, "work_order_withdrawn", names, map[int64]bool{})
		require.Len(t, got[names["9001"]], 1, "the engineer is told")
		assert.Contains(t, got[names["9001"]][0], pick("已撤销", "is withdrawn"))

		u.say(pick("进度", "status"))
		u.press("case:" + number)
		page := said(w, u)
		assert.Contains(t, page, pick("已撤销", "cancelled"))
		for _, o := range w.lastOut {
			for _, ch := range o.Choices {
				assert.NotEqual(t, "withdraw:"+real, ch.Payload, "no withdrawal of a withdrawn report")
			}
		}
	})
}

// TestReportLocation: where the problem is is asked only when it is not
// known. A lift is in the common area: not asked. A facility picked by
// button (fire, intercom…) is asked with the common area first, not "where
// in your home". A room named in the owner's first words is taken: not
// asked again.
func TestReportLocation(t *testing.T) {
	runBoth(t, "report_location", func(t *testing.T, w *world, u *user, pick func(string, string) string) {
		u.say(pick("电梯经常停在半路，门打不开，昨天还困过人", "The lift keeps stopping between floors with the doors shut, someone was trapped yesterday"))
		u.say(pick("唐明", "Tang Ming"))
		u.say("3-2-101")
		u.say("13900000026")
		u.typeCode("13900000026")
		u.press("yes")
		assert.NotContains(t, said(w, u), pick("家里的什么位置", "Where in your home"))
		u.press("occ:today")
		u.press("media:skip")
		u.press("exp:repair")
		u.press("ct:anytime")
		u.press("sum:submit")

		w.note("a facility by button: the common area is offered first")
		u.say(pick("报修", "report"))
		u.press("cat:facilities_equipment/other")
		require.NotEmpty(t, w.lastOut)
		ask := w.lastOut[len(w.lastOut)-1]
		assert.Equal(t, "loc:public_area", ask.Choices[0].Payload)
		assert.NotContains(t, ask.Text, pick("家里的什么位置", "Where in your home"))
		u.press("loc:public_area")
		u.say(pick("单元门的门禁刷卡没反应", "The entrance door's card reader does not respond"))
		u.press("occ:week")
		u.press("media:skip")
		u.press("exp:repair")
		u.press("ct:anytime")
		u.press("sum:submit")

		w.note("a room in the first words: taken")
		u.say(pick("厨房水槽下面的下水管一直在漏水", "The waste pipe under the kitchen sink keeps leaking"))
		u.press("yes")
		u.press("occ:today")
		u.press("media:skip")
		u.press("exp:repair")
		u.press("ct:anytime")
		u.press("sum:submit")

		cases, _, err := w.store.FindCases(context.Background(), casework.CaseFilter{})
		require.NoError(t, err)
		require.Len(t, cases, 3)
		got := map[casework.Subcategory]casework.Location{}
		for _, c := range cases {
			got[c.Subcategory] = c.Location
		}
		assert.Equal(t, casework.LocationPublicArea, got[casework.SubLift])
		assert.Equal(t, casework.LocationPublicArea, got[casework.SubOther])
		assert.Equal(t, casework.LocationKitchen, got[casework.SubPlumbing])
	})
}

// TestOwnerHearsOnce: the owner's report is accepted and dispatched at once
// — one message says so — then staff reassign it to 周建国: the owner hears
// who has it now, and is not told again that it is accepted.
func TestOwnerHearsOnce(t *testing.T) {
	runBoth(t, "owner_reassigned", func(t *testing.T, w *world, u *user, pick func(string, string) string) {
		ctx := context.Background()
		w.withLifecycle(t)
		reportLeak(t, w, u, pick)
		c := w.onlyCase(t)
		first := w.pushedTo(t, u)
		require.Len(t, first, 1, "accepted and dispatched: one message")

		w.note("staff reassign it to 周建国")
		w.clock.Advance(time.Hour)
		var zhou int64
		ms, err := w.store.ListMembers(ctx, c.PartyID)
		require.NoError(t, err)
		for _, m := range ms {
			if m.Name == "周建国" {
				zhou = m.ID
			}
		}
		require.NotZero(t, zhou)
		_, err = w.lc.Dispatch(ctx, c.Number, casework.Staff("7"), 0, zhou)
		require.NoError(t, err)
		then := w.pushedTo(t, u)
		require.Len(t, then, 1)
		assert.Contains(t, then[0], "周建国")
		assert.NotContains(t, then[0], pick("已受理", "accepted"))
	})
}

// TestUrgentWhateverTheWarranty: someone trapped in a lift whose warranty
// has ended is an urgent safety case: it goes at once to the lift's
// maintenance company, the owner hears who comes, and that the cost is
// settled after. A card reader out of warranty is not urgent: it waits for
// staff, and the owner is promised no engineer's visit, only that the
// service desk contacts them by the response time.
func TestUrgentWhateverTheWarranty(t *testing.T) {
	runBoth(t, "urgent_warranty", func(t *testing.T, w *world, u *user, pick func(string, string) string) {
		ctx := context.Background()
		w.withLifecycle(t)
		u.say(pick("电梯停在半层不动了，里面困了人", "The lift stopped between floors and someone is trapped inside"))
		u.say(pick("唐明", "Tang Ming"))
		u.say("3-2-101")
		u.say("13900000026")
		u.typeCode("13900000026")
		u.press("yes")
		u.press("occ:today")
		u.press("media:skip")
		u.press("exp:repair")
		u.press("ct:anytime")
		u.press("sum:submit")
		said1 := said(w, u)
		assert.Contains(t, said1, pick("费用事后核定", "any cost is settled afterwards"))
		assert.Contains(t, said1, pick("工程师将于", "an engineer is with you by"), "an engineer is on the way: the promise holds")
		w.pushedTo(t, u)

		cases, _, err := w.store.FindCases(ctx, casework.CaseFilter{})
		require.NoError(t, err)
		require.Len(t, cases, 1)
		lift := cases[0]
		assert.Equal(t, casework.WarrantyOut, lift.WarrantyStatus)
		assert.Equal(t, casework.StateDispatched, lift.State, "at once, whatever the warranty")
		party, err := w.store.FindPartyByID(ctx, lift.PartyID)
		require.NoError(t, err)
		assert.Equal(t, "TSDT", party.Code, "the lift's maintenance company")

		w.note("a card reader out of warranty: it waits for staff")
		u.say(pick("报修", "report"))
		u.press("cat:facilities_equipment/other")
		u.press("loc:public_area")
		u.say(pick("单元门的门禁刷卡没反应", "The entrance door's card reader does not respond"))
		u.press("occ:week")
		u.press("media:skip")
		u.press("exp:repair")
		u.press("ct:anytime")
		u.press("sum:submit")
		said2 := said(w, u)
		assert.NotContains(t, said2, pick("工程师将于", "an engineer"), "nobody is sent yet")
		assert.Contains(t, said2, pick("客服将于", "our service desk contacts you by"))
		cases, _, err = w.store.FindCases(ctx, casework.CaseFilter{})
		require.NoError(t, err)
		require.Len(t, cases, 2)
		assert.Equal(t, casework.StateRegistered, cases[0].State, "waits for staff")
	})
}

// TestSafetyAdviceFitsTheWater: water pouring in from the flat above is not
// stopped by closing the owner's own main valve: the owner is told to have
// the flat above and the property management shut it off, to move
// valuables and keep away from wet electrics — when they first say it and
// again when the report is in. A pipe burst in their own kitchen still
// calls for the main valve.
func TestSafetyAdviceFitsTheWater(t *testing.T) {
	runBoth(t, "safety_advice_above", func(t *testing.T, w *world, u *user, pick func(string, string) string) {
		ownValve := pick("关闭入户总水阀", "Close the main water valve")
		above := pick("请马上联系楼上住户和物业", "contact the flat above and the property management office")
		u.say(pick("楼上漏水漏下来了，卫生间天花板一直在滴水", "Water is pouring through the bathroom ceiling from upstairs"))
		first := said(w, u)
		assert.Contains(t, first, above)
		assert.NotContains(t, first, ownValve)
		u.say(pick("郭敏", "Guo Min"))
		u.say(pick("3栋1单元601", "3-1-601"))
		u.say("13900000018")
		u.typeCode("13900000018")
		u.press("yes")
		if pick("zh", "en") == "en" {
			u.press("loc:bathroom") // the English words name no room the bot knows
		}
		u.press("occ:today")
		u.press("media:skip")
		u.press("exp:repair")
		u.press("ct:anytime")
		u.press("sum:submit")
		submitted := said(w, u)
		assert.Contains(t, submitted, above)
		assert.NotContains(t, submitted, ownValve)

		w.note("a pipe burst in the owner's own kitchen: their main valve")
		u.say(pick("厨房水管爆了，水一直在喷", "The kitchen water pipe burst and water is spraying everywhere"))
		burst := said(w, u)
		assert.Contains(t, burst, ownValve)
		assert.NotContains(t, burst, above)
	})
}
