package lifecycle_test

import (
	"errors"
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

// consoleURL is the service's public URL in the supervisors' tests.
const consoleURL = "https://aftersales.example.com/"

// withConsole configures the service's public URL.
func withConsole(c *lifecycle.Config) { c.PublicURL = consoleURL }

// supNotice returns the last notice to the supervisor 林峰's account about
// the case.
func (e *env) supNotice(t *testing.T, c *casework.Case) bot.Outbound {
	t.Helper()
	var got *bot.Outbound
	for _, m := range e.outbox(t, c.ID) {
		if m.UserID == supervisorChat && len(m.Messages) > 0 {
			got = &m.Messages[0]
		}
	}
	require.NotNil(t, got, "no notice to the supervisor about %s", c.Number)
	return *got
}

// labels returns the choices' labels.
func labels(cs []bot.Choice) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Label)
	}
	return out
}

// choice returns the choice labelled label.
func choice(t *testing.T, cs []bot.Choice, label string) bot.Choice {
	t.Helper()
	for _, c := range cs {
		if c.Label == label {
			return c
		}
	}
	t.Fatalf("no choice %q among %q", label, labels(cs))
	return bot.Choice{}
}

// press presses a supervisor's button as who, in Chinese.
func (e *env) press(t *testing.T, who lifecycle.Who, ch bot.Choice) (*lifecycle.SupervisorReply, error) {
	t.Helper()
	action, number, arg, ok := lifecycle.ParsePayload(ch.Payload)
	require.True(t, ok, ch.Payload)
	require.True(t, lifecycle.SupervisorAction(action), action)
	require.LessOrEqual(t, len(ch.Payload), 64, "fits Telegram's callback data: %s", ch.Payload)
	return e.svc.Supervise(t.Context(), who, l10n.Chinese, action, number, arg)
}

// requireMovedOn checks that err says the case moved on, in words.
func requireMovedOn(t *testing.T, err error, why, says string) {
	t.Helper()
	var moved *lifecycle.MovedOnError
	require.ErrorAs(t, err, &moved)
	assert.Equal(t, why, moved.Why)
	text, ok := lifecycle.ExplainError(l10n.Chinese, err)
	require.True(t, ok)
	assert.Contains(t, text, says)
}

// notTaken dispatches an urgent door-and-window case to MCMC's duty
// engineer 冯磊 and lets AcceptWithin pass: the supervisor is told nobody
// took it.
func (e *env) notTaken(t *testing.T) *casework.Case {
	t.Helper()
	e.bind(t, "冯磊", "duty-feng", "zh")
	c := e.newCase(t, func(c *casework.Case) { c.Urgency = casework.UrgencyUrgent })
	got, err := e.svc.Triage(t.Context(), c)
	require.NoError(t, err)
	require.Equal(t, e.member(t, "冯磊").ID, got.AssigneeID)
	tm := e.fireTimer(t, c, casework.TimerAcceptEscalation)
	e.clock.Advance(31 * time.Minute)
	require.NoError(t, e.svc.Fire(t.Context(), tm))
	return e.reload(t, c)
}

// TestSupervisorButtonsByCase: each notice carries what its case allows —
// a repair waiting for staff or an order nobody took: dispatch, reassign,
// call, open; a consultation waiting: accept; a taken order: reassign; a
// closed case: the call and the link only. No URL configured, no link.
func TestSupervisorButtonsByCase(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withConsole)
	all := []string{"派给值班单位", "改派", "联系业主", "在工作台打开"}

	waiting := e.newCase(t, func(c *casework.Case) { c.WarrantyStatus = casework.WarrantyOut })
	_, err := e.svc.Triage(t.Context(), waiting)
	require.NoError(t, err)
	n := e.supNotice(t, waiting)
	assert.Contains(t, n.Text, "新报修待研判")
	assert.Equal(t, all, labels(n.Choices))
	assert.Equal(t, lifecycle.Payload(lifecycle.ActSupDispatch, waiting.Number, "0"), n.Choices[0].Payload, "never dispatched")

	consult := e.newCase(t, func(c *casework.Case) {
		c.Category, c.Subcategory, c.WarrantyStatus = casework.CategoryPolicyConsultation, casework.SubFees, casework.WarrantyNone
	})
	_, err = e.svc.Triage(t.Context(), consult)
	require.NoError(t, err)
	assert.Equal(t, []string{"受理", "联系业主", "在工作台打开"}, labels(e.supNotice(t, consult).Choices))

	c := e.notTaken(t)
	n = e.supNotice(t, c)
	assert.Contains(t, n.Text, "紧急派工未及时接单")
	assert.Equal(t, all, labels(n.Choices))
	assert.Equal(t, lifecycle.Payload(lifecycle.ActSupReassign, c.Number, "1"), n.Choices[1].Payload, "dispatched once")

	// Taken, then overdue: it is the engineer's; it may be reassigned.
	f := e.dispatched(t, nil).to(t, casework.StateScheduled)
	e.clock.Set(f.c.OnSiteBy.Add(time.Minute))
	require.NoError(t, e.svc.Fire(t.Context(), casework.Timer{CaseID: f.c.ID, Kind: casework.TimerOnSiteDeadline, At: *f.c.OnSiteBy}))
	assert.Equal(t, []string{"改派", "联系业主", "在工作台打开"}, labels(e.supNotice(t, f.c).Choices))

	// Closed, a low score: the complaint it opened is what the buttons act on.
	low := e.dispatched(t, nil).to(t, casework.StateOwnerAccepted)
	_, err = e.svc.SubmitSurvey(t.Context(), low.owner, low.c.Number, casework.Survey{Speed: 1, Attitude: 2, Quality: 2})
	require.NoError(t, err)
	n = e.supNotice(t, low.c)
	assert.Contains(t, n.Text, "满意度低分")
	assert.Equal(t, []string{"受理", "联系业主", "在工作台打开"}, labels(n.Choices))
	assert.NotContains(t, n.Choices[0].Payload, low.c.Number, "the complaint's, not the closed case's")

	// English, and no URL: no link.
	plain := newEnv(t)
	plain.bind(t, "林峰", supervisorChat, "en")
	w := plain.newCase(t, func(c *casework.Case) { c.WarrantyStatus = casework.WarrantyOut })
	_, err = plain.svc.Triage(t.Context(), w)
	require.NoError(t, err)
	assert.Equal(t, []string{"Dispatch to the duty party", "Reassign", "Call the owner"}, labels(plain.supNotice(t, w).Choices))
}

// TestSupervisorDispatchesAnOrderNobodyTook: 派给值班单位 sends the order
// nobody took to the routed party's next member by role, in the
// supervisor's name; the engineer passed over is told it went to another.
// Pressed again, the button says it was sent meanwhile; an engineer or an
// owner pressing it gets the permission answer, and nothing changes.
func TestSupervisorDispatchesAnOrderNobodyTook(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.notTaken(t)
	dispatch := choice(t, e.supNotice(t, c).Choices, "派给值班单位")
	zheng := e.bind(t, "郑晓东", "eng-zheng", "zh")

	// Not a supervisor: the engineer, the owner, an unknown account.
	before := e.snapshot(t, c)
	for name, who := range map[string]lifecycle.Who{
		"engineer": zheng, "owner": e.who(t, ownerChat),
		"stranger": {User: bot.UserRef{Platform: bot.Telegram, ID: "stranger"}},
	} {
		_, err := e.press(t, who, dispatch)
		require.ErrorIs(t, err, lifecycle.ErrForbidden, name)
		text, ok := lifecycle.ExplainError(l10n.Chinese, err)
		require.True(t, ok)
		assert.Equal(t, lifecycle.T(l10n.Chinese, "err.forbidden"), text, "the usual permission answer")
	}
	assert.Equal(t, before, e.snapshot(t, c), "nothing changed")

	lin := e.who(t, supervisorChat)
	r, err := e.press(t, lin, dispatch)
	require.NoError(t, err)
	assert.Contains(t, r.Text, "已派给 明辰门窗有限公司 郑晓东")
	assert.Contains(t, r.Text, "13900009004", "whom to call")
	assert.Equal(t, []string{"联系业主"}, labels(r.Choices), "what is left to do: Telegram took the notice's buttons away")
	got := e.reload(t, c)
	assert.Equal(t, e.member(t, "郑晓东").ID, got.AssigneeID, "冯磊 let it lie: the next by role")
	last := e.lastEvent(t, c.ID)
	assert.Equal(t, casework.ActionDispatch, last.Action)
	assert.Equal(t, casework.MemberActor(e.member(t, "林峰").ID), last.Actor, "the timeline names the supervisor")
	var order, withdrawn bool
	for _, m := range e.outbox(t, c.ID) {
		order = order || (m.UserID == "eng-zheng" && m.Purpose == "work_order")
		withdrawn = withdrawn || (m.UserID == "duty-feng" && strings.Contains(m.text(), "已改派给他人"))
	}
	assert.True(t, order, "郑晓东 gets the order")
	assert.True(t, withdrawn, "冯磊 is told it went to another")

	// The old button, pressed again, and by another supervisor's hand.
	before = e.snapshot(t, c)
	_, err = e.press(t, lin, dispatch)
	requireMovedOn(t, err, "redispatched", "已于")
	text, _ := lifecycle.ExplainError(l10n.Chinese, err)
	assert.Contains(t, text, "派给 郑晓东")
	assert.Equal(t, before, e.snapshot(t, c), "nothing changed")

	// Once taken, a fresh button says so.
	_, err = e.svc.TakeOrder(t.Context(), zheng, c.Number)
	require.NoError(t, err)
	fresh := lifecycle.Payload(lifecycle.ActSupDispatch, c.Number)
	_, err = e.press(t, lin, bot.Choice{Payload: fresh})
	requireMovedOn(t, err, "taken", "已由 郑晓东 接单")
}

// TestSupervisorDispatchesADeclinedOrder: the engineer declines; the
// supervisor's 派给值班单位 sends it to his colleague, not back to him.
func TestSupervisorDispatchesADeclinedOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.dispatched(t, nil)
	require.NoError(t, e.svc.DeclineOrder(t.Context(), f.engineer, f.c.Number, "不是我们供货的窗户"))
	n := e.supNotice(t, f.c)
	assert.Contains(t, n.Text, "派工被拒")
	r, err := e.press(t, e.who(t, supervisorChat), choice(t, n.Choices, "派给值班单位"))
	require.NoError(t, err)
	assert.Contains(t, r.Text, "冯磊")
	assert.Contains(t, r.Text, "没有绑定聊天账号", "he has no chat: the supervisor is told to phone him")
	assert.Equal(t, e.member(t, "冯磊").ID, e.reload(t, f.c).AssigneeID)
}

// TestSupervisorDispatchesACaseWaitingForStaff: a case that waits for
// staff is accepted and dispatched to the routed party in one press, both
// in the supervisor's name.
func TestSupervisorDispatchesACaseWaitingForStaff(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.newCase(t, func(c *casework.Case) { c.WarrantyStatus = casework.WarrantyUnknown })
	_, err := e.svc.Triage(t.Context(), c)
	require.NoError(t, err)
	require.Equal(t, casework.StateRegistered, e.reload(t, c).State)

	lin := e.who(t, supervisorChat)
	_, err = e.press(t, lin, choice(t, e.supNotice(t, c).Choices, "派给值班单位"))
	require.NoError(t, err)
	got := e.reload(t, c)
	assert.Equal(t, casework.StateDispatched, got.State)
	assert.Equal(t, e.parties["MCMC"].ID, got.PartyID)
	assert.Equal(t, e.member(t, "郑晓东").ID, got.AssigneeID, "the engineer, as the rules pick")
	actor := casework.MemberActor(e.member(t, "林峰").ID)
	var acts []string
	for _, ev := range e.events(t, c.ID) {
		if ev.Kind == casework.EventTransition {
			assert.Equal(t, actor, ev.Actor, "%s by the supervisor", ev.Action)
			acts = append(acts, string(ev.Action))
		}
	}
	assert.Equal(t, []string{"accept", "dispatch"}, acts)
}

// TestSupervisorReassigns: 改派 lists the people of the parties (the routed
// party first, without the supervisors and the engineer who has it), each
// a button; the one picked gets the order. A pick from the list after the
// order moved on is refused; with many people, the parties come first.
func TestSupervisorReassigns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.dispatched(t, nil).to(t, casework.StateScheduled)
	lin := e.who(t, supervisorChat)
	// An overdue notice offers 改派.
	e.clock.Set(f.c.OnSiteBy.Add(time.Minute))
	require.NoError(t, e.svc.Fire(t.Context(), casework.Timer{CaseID: f.c.ID, Kind: casework.TimerOnSiteDeadline, At: *f.c.OnSiteBy}))
	step, err := e.press(t, lin, choice(t, e.supNotice(t, f.c).Choices, "改派"))
	require.NoError(t, err)
	assert.Contains(t, step.Text, "改派 "+f.c.Number+"（现在：郑晓东）")
	got := labels(step.Choices)
	require.NotEmpty(t, got)
	assert.Equal(t, "明辰门窗有限公司 · 冯磊（值班）", got[0], "the routed party first")
	assert.Contains(t, got, "售后服务部工程组 · 陶然（工程师）")
	for _, l := range got {
		assert.NotContains(t, l, "郑晓东", "not the engineer who has it")
		assert.NotContains(t, l, "林峰", "not a supervisor")
	}
	assert.Equal(t, e.snapshot(t, f.c).version, e.reload(t, f.c).Version, "listing changes nothing")

	tao := choice(t, step.Choices, "售后服务部工程组 · 陶然（工程师）")
	feng := choice(t, step.Choices, "明辰门窗有限公司 · 冯磊（值班）")
	r, err := e.press(t, lin, tao)
	require.NoError(t, err)
	assert.Contains(t, r.Text, "陶然")
	c := e.reload(t, f.c)
	assert.Equal(t, e.member(t, "陶然").ID, c.AssigneeID)
	assert.Equal(t, e.parties["GCB"].ID, c.PartyID)
	assert.Equal(t, casework.StateDispatched, c.State)
	assert.Equal(t, casework.MemberActor(e.member(t, "林峰").ID), e.lastEvent(t, c.ID).Actor)

	// The same list's other pick, now stale.
	_, err = e.press(t, lin, feng)
	requireMovedOn(t, err, "redispatched", "陶然")
	assert.Equal(t, e.member(t, "陶然").ID, e.reload(t, f.c).AssigneeID)

	// Many people: the parties first, then the party's people.
	for i := range 10 {
		require.NoError(t, e.store.CreateMember(t.Context(), &casework.Member{PartyID: e.parties["HXJS"].ID,
			Name: "工人" + strconv.Itoa(i), Phone: "1370000" + strconv.Itoa(1000+i), Role: "engineer"}))
	}
	step, err = e.press(t, lin, bot.Choice{Payload: lifecycle.Payload(lifecycle.ActSupReassign, c.Number)})
	require.NoError(t, err)
	assert.Contains(t, step.Text, "请先选择单位")
	assert.Equal(t, "明辰门窗有限公司", step.Choices[0].Label)
	step, err = e.press(t, lin, choice(t, step.Choices, "华信建设集团有限公司"))
	require.NoError(t, err)
	assert.Len(t, step.Choices, 12, "周建国, 吴海涛 and the ten")
	_, err = e.press(t, lin, choice(t, step.Choices, "华信建设集团有限公司 · 吴海涛（工程师）"))
	require.NoError(t, err)
	assert.Equal(t, e.member(t, "吴海涛").ID, e.reload(t, f.c).AssigneeID)

	// A closed case has nothing to reassign.
	closed := e.dispatched(t, nil).to(t, casework.StateClosed)
	_, err = e.press(t, lin, bot.Choice{Payload: lifecycle.Payload(lifecycle.ActSupReassign, closed.c.Number)})
	requireMovedOn(t, err, "state", "现在是“已办结”")
}

// TestSupervisorAcceptsAConsultation: 受理 accepts a consultation waiting
// for staff in the supervisor's name and points to the console for the
// answer; pressed again, it says the case was accepted.
func TestSupervisorAcceptsAConsultation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withConsole)
	c := e.newCase(t, func(c *casework.Case) {
		c.Category, c.Subcategory, c.WarrantyStatus = casework.CategoryPolicyConsultation, casework.SubCertificate, casework.WarrantyNone
	})
	_, err := e.svc.Triage(t.Context(), c)
	require.NoError(t, err)
	accept := choice(t, e.supNotice(t, c).Choices, "受理")

	_, err = e.press(t, e.bind(t, "陶然", "eng-tao", "zh"), accept)
	require.ErrorIs(t, err, lifecycle.ErrForbidden, "an engineer of the department is no supervisor")

	r, err := e.press(t, e.who(t, supervisorChat), accept)
	require.NoError(t, err)
	assert.Contains(t, r.Text, "已受理 "+c.Number)
	assert.Contains(t, r.Text, "https://aftersales.example.com/console/cases/"+c.Number)
	assert.Equal(t, []string{"联系业主", "在工作台打开"}, labels(r.Choices))
	got := e.reload(t, c)
	assert.Equal(t, casework.StateAccepted, got.State)
	assert.Equal(t, casework.MemberActor(e.member(t, "林峰").ID), e.lastEvent(t, c.ID).Actor)
	var told bool
	for _, m := range e.outbox(t, c.ID) {
		told = told || (m.UserID == ownerChat && m.Purpose == "owner_update")
	}
	assert.True(t, told, "the owner is told by when they will be answered")

	_, err = e.press(t, e.who(t, supervisorChat), accept)
	requireMovedOn(t, err, "state", "已受理")

	// A repair is not accepted to be answered.
	repair := e.newCase(t, func(c *casework.Case) { c.WarrantyStatus = casework.WarrantyOut })
	_, err = e.press(t, e.who(t, supervisorChat), bot.Choice{Payload: lifecycle.Payload(lifecycle.ActSupAccept, repair.Number)})
	var ve *casework.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "category", ve.Field)
}

// TestSupervisorCallsTheOwner: 联系业主 shows the owner's phone whole, to
// tap, and the timeline records the view in the supervisor's name; others
// see nothing.
func TestSupervisorCallsTheOwner(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.notTaken(t)
	call := choice(t, e.supNotice(t, c).Choices, "联系业主")

	before := e.snapshot(t, c)
	_, err := e.press(t, e.who(t, ownerChat), call)
	require.ErrorIs(t, err, lifecycle.ErrForbidden)
	assert.Equal(t, before, e.snapshot(t, c))

	r, err := e.press(t, e.who(t, supervisorChat), call)
	require.NoError(t, err)
	assert.Equal(t, c.Number+" 业主 张伟：13900000001\n地址：海景苑 1-1-101\n问题：卧室 门窗", r.Text)
	last := e.lastEvent(t, c.ID)
	assert.Equal(t, casework.EventNote, last.Kind)
	assert.Equal(t, casework.MemberActor(e.member(t, "林峰").ID), last.Actor)
	assert.Equal(t, "owner's phone shown in chat", last.Note)
	assert.Equal(t, []string{"派给值班单位", "改派"}, labels(r.Choices), "what is left to do")
	assert.NotContains(t, last.Note, "13900000001", "the timeline does not repeat the phone")
}

// TestSupervisorOpensTheConsole: the link to the case's page, on the
// configured URL; none configured, the reply says to search for it.
func TestSupervisorOpensTheConsole(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withConsole)
	c := e.newCase(t, nil)
	open := bot.Choice{Payload: lifecycle.Payload(lifecycle.ActSupOpen, c.Number, "0")}
	r, err := e.press(t, e.who(t, supervisorChat), open)
	require.NoError(t, err)
	assert.Equal(t, "在工作台打开 "+c.Number+"：https://aftersales.example.com/console/cases/"+c.Number, r.Text)
	assert.Equal(t, []string{"派给值班单位", "改派", "联系业主"}, labels(r.Choices))
	_, err = e.press(t, e.who(t, ownerChat), open)
	require.ErrorIs(t, err, lifecycle.ErrForbidden)

	plain := newEnv(t)
	r, err = plain.press(t, plain.who(t, supervisorChat), bot.Choice{Payload: lifecycle.Payload(lifecycle.ActSupOpen, plain.newCase(t, nil).Number)})
	require.NoError(t, err)
	assert.Contains(t, r.Text, "网址未配置")

	// A case that does not exist.
	_, err = e.press(t, e.who(t, supervisorChat), bot.Choice{Payload: lifecycle.Payload(lifecycle.ActSupOpen, "SH-19990101-0001")})
	require.True(t, errors.Is(err, casework.ErrNotFound), "%v", err)
}

// TestSupervisorReassignsARepeatRepair: the notice of a repeat repair —
// composed before the order goes back to its engineer — offers 改派, which
// still works once the order was sent again.
func TestSupervisorReassignsARepeatRepair(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *lifecycle.Config) { c.RepeatEscalation = 2 })
	f := e.dispatched(t, nil).to(t, casework.StateDone)
	_, err := e.svc.NotFixed(t.Context(), f.owner, f.c.Number, "窗户还是关不严")
	require.NoError(t, err)
	n := e.supNotice(t, f.c)
	assert.Contains(t, n.Text, "重复维修升级")
	reassign := choice(t, n.Choices, "改派")
	assert.Equal(t, lifecycle.Payload(lifecycle.ActSupReassign, f.c.Number), reassign.Payload, "no stamp: the order is sent again after the notice")
	require.Equal(t, casework.StateDispatched, e.reload(t, f.c).State)

	lin := e.who(t, supervisorChat)
	step, err := e.press(t, lin, reassign)
	require.NoError(t, err)
	_, err = e.press(t, lin, choice(t, step.Choices, "售后服务部工程组 · 陶然（工程师）"))
	require.NoError(t, err)
	assert.Equal(t, e.member(t, "陶然").ID, e.reload(t, f.c).AssigneeID)
}
