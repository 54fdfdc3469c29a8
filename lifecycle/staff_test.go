package lifecycle_test

import (
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

// The staff's actions beyond triage: answers (答复), hold and resume, the
// owner's withdrawal, closing.

var staff = casework.Staff("7")

const day = 24 * time.Hour

// zh renders a Chinese text of the lifecycle's catalogue.
func zh(key string, kv ...string) string { return lifecycle.T(l10n.Chinese, key, kv...) }

// consultation registers a policy consultation (咨询) of 张伟 and has the
// bot triage it: it waits for staff.
func (e *env) consultation(t *testing.T, change func(c *casework.Case)) *casework.Case {
	t.Helper()
	c := e.newCase(t, func(c *casework.Case) {
		c.Category, c.Subcategory, c.Location, c.LocationDetail = casework.CategoryPolicyConsultation, casework.SubFees, "", ""
		c.Description, c.WarrantyStatus, c.WarrantyUntil = "物业费从哪天开始交？", casework.WarrantyNone, casework.Date{}
		if change != nil {
			change(c)
		}
	})
	c, err := e.svc.Triage(t.Context(), c)
	require.NoError(t, err)
	require.Equal(t, casework.StateRegistered, c.State, "a consultation waits for staff")
	return c
}

// complaint registers a complaint about service (投诉) of 张伟, triaged.
func (e *env) complaint(t *testing.T) *casework.Case {
	t.Helper()
	return e.consultation(t, func(c *casework.Case) {
		c.Category, c.Subcategory, c.Description = casework.CategoryServiceAttitude, casework.SubStaff, "客服电话一直没人接"
	})
}

// since returns the case's outbox messages written after the first n.
func (e *env) since(t *testing.T, c *casework.Case, n int) []message {
	t.Helper()
	return e.outbox(t, c.ID)[n:]
}

// transitions returns the actions and actors of the case's transitions.
func (e *env) transitions(t *testing.T, c *casework.Case) (actions []casework.Action, actors []casework.Actor) {
	t.Helper()
	for _, ev := range e.events(t, c.ID) {
		if ev.Kind == casework.EventTransition {
			actions = append(actions, ev.Action)
			actors = append(actors, ev.Actor)
		}
	}
	return actions, actors
}

// requireRefused checks that err is what want matches and that the case,
// its timeline, its outbox and the job queue are as they were.
func (e *env) requireRefused(t *testing.T, c *casework.Case, before snapshot, err error, want error) {
	t.Helper()
	require.ErrorIs(t, err, want)
	assert.Equal(t, before, e.snapshot(t, c), "a refused action changes nothing")
}

// requireInvalid checks that err is a *casework.ValidationError of field.
func requireInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var ve *casework.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, field, ve.Field)
}

func TestAcceptConsultationIsNotDispatched(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.bind(t, "郑晓东", "eng-zheng", "zh")
	ctx := t.Context()
	c := e.consultation(t, nil)

	before := e.snapshot(t, c)
	_, err := e.svc.Accept(ctx, c.Number, staff, "", e.parties["MCMC"].ID, 0)
	requireInvalid(t, err, "category")
	assert.Equal(t, before, e.snapshot(t, c), "no work order for a consultation, even when a party is named")

	n := len(e.outbox(t, c.ID))
	got, err := e.svc.Accept(ctx, c.Number, staff, "费用问题", 0, 0)
	require.NoError(t, err)
	assert.Equal(t, casework.StateAccepted, got.State, "accepted, not dispatched")
	assert.Zero(t, got.PartyID)
	assert.Zero(t, got.AssigneeID)
	ms := e.since(t, c, n)
	require.Len(t, ms, 1, "the owner, and no engineer")
	assert.Equal(t, ownerChat, ms[0].UserID)
	assert.Equal(t, zh("owner.accepted_answer", "kind", "咨询", "number", c.Number, "by", got.ResolveBy.In(casework.ChinaTime()).Format("01-02 15:04")), ms[0].text())
	assert.Contains(t, ms[0].text(), "我们会在")

	// Dispatch refuses it too.
	before = e.snapshot(t, got)
	_, err = e.svc.Dispatch(ctx, c.Number, staff, e.parties["MCMC"].ID, 0)
	requireInvalid(t, err, "category")
	assert.Equal(t, before, e.snapshot(t, got))
}

// TestAcceptAnswerPastDeadline: a consultation accepted after its answer
// deadline passed promises no time.
func TestAcceptAnswerPastDeadline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.consultation(t, nil)
	e.clock.Advance(8 * day)
	_, err := e.svc.Accept(t.Context(), c.Number, staff, "", 0, 0)
	require.NoError(t, err)
	ms := e.outbox(t, c.ID)
	assert.Equal(t, zh("owner.accepted_answer_soon", "kind", "咨询", "number", c.Number), ms[len(ms)-1].text())
}

func TestAnswerAcceptsAndAnswersARegisteredCase(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	c := e.consultation(t, nil)
	n := len(e.outbox(t, c.ID))

	got, err := e.svc.Answer(ctx, c.Number, staff, "  物业费从交房之日起计收，详见《前期物业服务合同》第五条。  ")
	require.NoError(t, err)
	assert.Equal(t, casework.StateDone, got.State)
	require.NotNil(t, got.ResolvedAt, "the answer resolves it")
	require.NotNil(t, got.RespondedAt, "staff's answer is the first human contact")
	assert.Zero(t, got.PartyID)
	actions, actors := e.transitions(t, c)
	assert.Equal(t, []casework.Action{casework.ActionAccept, casework.ActionAnswer}, actions, "accepted and answered in one call")
	assert.Equal(t, []casework.Actor{staff, staff}, actors, "the timeline names the staff member")
	last := e.lastEvent(t, c.ID)
	assert.Equal(t, "answer: 物业费从交房之日起计收，详见《前期物业服务合同》第五条。", last.Note)

	ms := e.since(t, c, n)
	require.Len(t, ms, 1)
	assert.Equal(t, "answer", ms[0].Purpose)
	assert.Equal(t, ownerChat, ms[0].UserID)
	assert.Equal(t, zh("owner.answer", "kind", "咨询", "number", c.Number, "text", "物业费从交房之日起计收，详见《前期物业服务合同》第五条。", "wait", "7 天"), ms[0].text())
	assert.Contains(t, ms[0].text(), "7 天内没有收到您的回复")
	assert.Equal(t, []bot.Choice{
		{Label: "问题已解决", Payload: lifecycle.Payload(lifecycle.ActAccept, c.Number)},
		{Label: "仍有疑问", Payload: lifecycle.Payload(lifecycle.ActNotFixed, c.Number, lifecycle.ArgAnswer)},
	}, ms[0].Messages[0].Choices)

	// The owner has AnswerWait to say; the timer belongs to this answer.
	tm := e.fireTimer(t, c, casework.TimerAnswerExpiry)
	at := e.clock.Now().UTC().Truncate(time.Second)
	assert.True(t, at.Add(7*day).Equal(tm.At), "expires at %s", tm.At)
	assert.Equal(t, at.Unix(), tm.Ref)

	// "Settled": owner_accept and closed at once, without a survey.
	got, err = e.svc.OwnerAccept(ctx, e.who(t, ownerChat), c.Number)
	require.NoError(t, err)
	assert.Equal(t, casework.StateClosed, got.State)
	actions, actors = e.transitions(t, c)
	assert.Equal(t, []casework.Action{casework.ActionAccept, casework.ActionAnswer, casework.ActionOwnerAccept, casework.ActionClose}, actions)
	assert.Equal(t, casework.Actor("owner:"+strconv.FormatInt(e.owner.ID, 10)), actors[2], "the owner settled it")
	for _, tm := range e.jobs.timers(c.ID) {
		assert.NotEqual(t, casework.TimerSurveyExpiry, tm.Kind, "no survey of an answer")
		assert.NotEqual(t, casework.TimerReturnVisit, tm.Kind, "no return visit of an answer")
	}
	// Its timer, when it comes, finds the matter settled.
	e.clock.Advance(7 * day)
	e.requireNothing(t, got, tm)
}

func TestAnswerRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	c := e.consultation(t, nil)
	before := e.snapshot(t, c)

	for _, text := range []string{"", "   ", strings.Repeat("答", 2001), "bad\x00text"} {
		_, err := e.svc.Answer(ctx, c.Number, staff, text)
		requireInvalid(t, err, "text")
	}
	assert.Equal(t, before, e.snapshot(t, c))

	// A repair gets a work order, not an answer.
	repair := e.newCase(t, func(c *casework.Case) { c.WarrantyStatus = casework.WarrantyUnknown })
	repairBefore := e.snapshot(t, repair)
	_, err := e.svc.Answer(ctx, repair.Number, staff, "您好，这是答复。")
	requireInvalid(t, err, "category")
	assert.Equal(t, repairBefore, e.snapshot(t, repair))

	// A stale version is refused, and nothing is accepted.
	_, err = e.svc.Answer(lifecycle.WithVersion(ctx, c.Number, c.Version-1), c.Number, staff, "您好，这是答复。")
	e.requireRefused(t, c, before, err, casework.ErrConflict)
	_, err = e.svc.Answer(lifecycle.WithVersion(ctx, c.Number, c.Version), c.Number, staff, "您好，这是答复。")
	require.NoError(t, err, "at the version seen")

	// Answered, it waits for the owner: no second answer meanwhile.
	answered := e.reload(t, c)
	before = e.snapshot(t, answered)
	_, err = e.svc.Answer(ctx, c.Number, staff, "补充说明。")
	e.requireRefused(t, answered, before, err, casework.ErrInvalidTransition)

	_, err = e.svc.Answer(ctx, "SH-20990101-0001", staff, "您好。")
	require.ErrorIs(t, err, casework.ErrNotFound)
}

// TestComplaintNotSettledIsAnsweredAgain: the owner says the answer does not
// settle the complaint; it is reopened with their words, no engineer, no
// repeat repair, the supervisors told; staff answer again and the owner
// settles it.
func TestComplaintNotSettledIsAnsweredAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	owner := e.who(t, ownerChat)
	c := e.complaint(t)
	_, err := e.svc.Answer(ctx, c.Number, staff, "已核实，当天客服热线线路故障，现已修复。")
	require.NoError(t, err)
	first := e.fireTimer(t, c, casework.TimerAnswerExpiry)
	ms := e.outbox(t, c.ID)
	assert.Contains(t, ms[len(ms)-1].text(), "关于您的投诉 "+c.Number)

	e.clock.Advance(time.Hour)
	n := len(ms)
	got, err := e.svc.NotFixed(ctx, owner, c.Number, "我打了三天都没人接，不只是一天")
	require.NoError(t, err)
	assert.Equal(t, casework.StateReopened, got.State)
	assert.Zero(t, got.RepairCount, "an answer is no repair")
	assert.Zero(t, got.PartyID, "no engineer")
	assert.Nil(t, got.ResolvedAt)
	require.NotNil(t, got.ResolveBy)
	assert.True(t, e.clock.Now().Add(7*day).Equal(*got.ResolveBy), "a new answer deadline: %s", got.ResolveBy)
	assert.Equal(t, "not settled: 我打了三天都没人接，不只是一天", e.lastEvent(t, c.ID).Note, "the owner's words on the case")
	out := e.since(t, c, n)
	require.Len(t, out, 1, "the supervisor, nobody else")
	assert.Equal(t, supervisorChat, out[0].UserID)
	assert.Equal(t, "escalation", out[0].Purpose)
	assert.True(t, strings.HasPrefix(out[0].text(), "业主对答复仍有疑问："+c.Number+"：我打了三天都没人接，不只是一天\n请再次答复。"), out[0].text())

	// The first answer's timer is for an answer no longer standing.
	e.requireNothing(t, got, first)
	// The owner's buttons on the old answer no longer apply.
	_, err = e.svc.NotFixed(ctx, owner, c.Number, "还是不行")
	require.ErrorIs(t, err, casework.ErrInvalidTransition)
	_, err = e.svc.OwnerAccept(ctx, owner, c.Number)
	require.ErrorIs(t, err, casework.ErrInvalidTransition)

	e.clock.Advance(time.Hour)
	got, err = e.svc.Answer(ctx, c.Number, casework.Staff("8"), "非常抱歉，经查 3 月 7 日至 9 日热线均有故障，已对供应商追责，并为您减免一个月物业费。")
	require.NoError(t, err)
	assert.Equal(t, casework.StateDone, got.State)
	second := e.fireTimer(t, c, casework.TimerAnswerExpiry)
	assert.NotEqual(t, first.Ref, second.Ref, "the second answer waits on its own")

	got, err = e.svc.OwnerAccept(ctx, owner, c.Number)
	require.NoError(t, err)
	assert.Equal(t, casework.StateClosed, got.State)
	assert.Zero(t, got.RepairCount)
	actions, actors := e.transitions(t, c)
	assert.Equal(t, []casework.Action{casework.ActionAccept, casework.ActionAnswer, casework.ActionOwnerReject,
		casework.ActionAnswer, casework.ActionOwnerAccept, casework.ActionClose}, actions)
	assert.Equal(t, casework.Staff("8"), actors[3])
}

func TestFireAnswerExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *lifecycle.Config) { c.AnswerWait = 36 * time.Hour })
	ctx := t.Context()
	c := e.consultation(t, nil)
	_, err := e.svc.Answer(ctx, c.Number, staff, "产权证预计 6 月办理完毕，届时会短信通知。")
	require.NoError(t, err)
	ms := e.outbox(t, c.ID)
	assert.Contains(t, ms[len(ms)-1].text(), "36 小时内没有收到您的回复", "the wait configured")
	tm := e.fireTimer(t, c, casework.TimerAnswerExpiry)
	assert.True(t, e.clock.Now().UTC().Truncate(time.Second).Add(36*time.Hour).Equal(tm.At))

	e.clock.Advance(36 * time.Hour)
	n := len(e.outbox(t, c.ID))
	require.NoError(t, e.svc.Fire(ctx, tm))
	got := e.reload(t, c)
	assert.Equal(t, casework.StateClosed, got.State, "silence is taken as settled")
	actions, actors := e.transitions(t, c)
	assert.Equal(t, []casework.Action{casework.ActionAccept, casework.ActionAnswer, casework.ActionOwnerAccept, casework.ActionClose}, actions)
	assert.Equal(t, casework.ActorSystem, actors[2])
	out := e.since(t, c, n)
	require.Len(t, out, 1)
	assert.Equal(t, ownerChat, out[0].UserID)
	assert.Equal(t, zh("owner.answer_expired", "kind", "咨询", "number", c.Number, "wait", "36 小时"), out[0].text())

	// Run again (a job retried): nothing more.
	e.requireNothing(t, got, tm)

	// A timer of another time (an earlier answer's) does nothing.
	other := e.consultation(t, nil)
	_, err = e.svc.Answer(ctx, other.Number, staff, "您好，这是答复。")
	require.NoError(t, err)
	stale := e.fireTimer(t, other, casework.TimerAnswerExpiry)
	stale.Ref--
	e.clock.Advance(36 * time.Hour)
	e.requireNothing(t, other, stale)
}

// TestAnswerInEnglish: the owner's language is the account's.
func TestAnswerInEnglish(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, err := e.store.FindChatIdentity(t.Context(), "telegram", ownerChat)
	require.NoError(t, err)
	id.Lang = "en"
	require.NoError(t, e.store.SaveChatIdentity(t.Context(), id))
	c := e.consultation(t, func(c *casework.Case) { c.Category, c.Subcategory = casework.CategoryOther, casework.SubSuggestion })
	_, err = e.svc.Answer(t.Context(), c.Number, staff, "Thank you, we will add benches by the lake.")
	require.NoError(t, err)
	ms := e.outbox(t, c.ID)
	m := ms[len(ms)-1]
	assert.True(t, strings.HasPrefix(m.text(), "About your suggestion "+c.Number+", the after-sales team answers:\nThank you, we will add benches by the lake.\n\n"), m.text())
	assert.Contains(t, m.text(), "within 7 days")
	assert.Equal(t, "Settled", m.Messages[0].Choices[0].Label)
	assert.Equal(t, "I still have questions", m.Messages[0].Choices[1].Label)
}

func TestHold(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	f := e.dispatched(t, nil)
	c := f.c
	until := e.clock.Now().Add(10 * day)
	before := e.snapshot(t, c)

	for _, tc := range []struct {
		reason string
		until  time.Time
		field  string
	}{
		{"", until, "reason"},
		{"   ", until, "reason"},
		{strings.Repeat("等", 501), until, "reason"},
		{"等待配件", time.Time{}, "until"},
		{"等待配件", e.clock.Now(), "until"},
		{"等待配件", e.clock.Now().Add(-day), "until"},
		{"等待配件", e.clock.Now().Add(lifecycle.MaxHold + time.Hour), "until"},
	} {
		_, err := e.svc.Hold(ctx, c.Number, staff, tc.reason, tc.until)
		requireInvalid(t, err, tc.field)
	}
	assert.Equal(t, before, e.snapshot(t, c))
	_, err := e.svc.Hold(lifecycle.WithVersion(ctx, c.Number, c.Version-1), c.Number, staff, "等待配件", until)
	e.requireRefused(t, c, before, err, casework.ErrConflict)

	got, err := e.svc.Hold(lifecycle.WithVersion(ctx, c.Number, c.Version), c.Number, staff, "等待进口五金配件到货", until)
	require.NoError(t, err)
	assert.Equal(t, casework.StateOnHold, got.State)
	assert.Equal(t, casework.StateDispatched, got.HeldFrom)
	last := e.lastEvent(t, c.ID)
	assert.Equal(t, casework.ActionHold, last.Action)
	assert.Equal(t, staff, last.Actor)
	untilDay := until.In(casework.ChinaTime()).Format("2006-01-02")
	assert.Equal(t, "on hold until "+untilDay+": 等待进口五金配件到货", last.Note)

	ms := e.since(t, c, before.outbox)
	require.Len(t, ms, 2)
	assert.Equal(t, ownerChat, ms[0].UserID)
	assert.Equal(t, zh("owner.hold", "kind", "报修", "number", c.Number, "until", untilDay, "reason", "等待进口五金配件到货"), ms[0].text())
	assert.Equal(t, "eng-zheng", ms[1].UserID)
	assert.Equal(t, zh("engineer.hold", "number", c.Number, "until", untilDay, "reason", "等待进口五金配件到货"), ms[1].text())
	assert.Empty(t, ms[1].Messages[0].Choices)

	tm := e.fireTimer(t, c, casework.TimerResumeDue)
	assert.True(t, until.Equal(tm.At))

	// On hold already: no second hold.
	held := e.snapshot(t, got)
	_, err = e.svc.Hold(ctx, c.Number, staff, "再等等", until)
	e.requireRefused(t, got, held, err, casework.ErrInvalidTransition)
	// Nor of a case that is done.
	done := e.dispatched(t, nil).to(t, casework.StateDone)
	doneBefore := e.snapshot(t, done.c)
	_, err = e.svc.Hold(ctx, done.c.Number, staff, "等待配件", until)
	e.requireRefused(t, done.c, doneBefore, err, casework.ErrInvalidTransition)
}

func TestFireResumeDue(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	f := e.dispatched(t, nil)
	until := e.clock.Now().Add(3 * day)
	c, err := e.svc.Hold(ctx, f.c.Number, staff, "业主出国，下月回来", until)
	require.NoError(t, err)
	tm := e.fireTimer(t, c, casework.TimerResumeDue)

	e.clock.Advance(3 * day)
	n := len(e.outbox(t, c.ID))
	e.requireEscalated(t, c, tm, "staff.hold_due")
	out := e.since(t, c, n)
	require.Len(t, out, 1, "the supervisors and nobody else")
	assert.Contains(t, out[0].text(), "挂起原因：业主出国，下月回来")
	assert.Contains(t, out[0].text(), "原定 "+until.In(casework.ChinaTime()).Format("2006-01-02")+" 恢复处理")

	// Resumed, its timer does nothing; nor does an earlier hold's.
	resumed := e.dispatched(t, nil)
	r, err := e.svc.Hold(ctx, resumed.c.Number, staff, "等待配件", e.clock.Now().Add(day))
	require.NoError(t, err)
	rtm := e.fireTimer(t, r, casework.TimerResumeDue)
	r, err = e.svc.Resume(ctx, r.Number, staff, "")
	require.NoError(t, err)
	e.clock.Advance(day)
	e.requireNothing(t, r, rtm)
	again, err := e.svc.Hold(ctx, r.Number, staff, "又缺配件", e.clock.Now().Add(day))
	require.NoError(t, err)
	e.requireNothing(t, again, rtm)
}

// TestResumeMovesTheUnmetDeadlines: held 50 hours after the engineer was on
// site, the case resumes with its resolve deadline 50 hours later and its
// met deadlines as they were; the timer of the moved deadline is set, the
// owner and the engineer told.
func TestResumeMovesTheUnmetDeadlines(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	f := e.dispatched(t, nil).to(t, casework.StateInspected)
	c := f.c
	require.NotNil(t, c.RespondedAt, "the engineer took the order")
	require.NotNil(t, c.OnSiteAt)
	_, err := e.svc.Resume(ctx, c.Number, staff, "")
	require.ErrorIs(t, err, casework.ErrInvalidTransition, "not on hold")

	e.clock.Advance(time.Hour)
	held, err := e.svc.Hold(ctx, c.Number, staff, "等待材料", e.clock.Now().Add(5*day))
	require.NoError(t, err)
	e.clock.Advance(50 * time.Hour)
	before := e.snapshot(t, held)
	_, err = e.svc.Resume(lifecycle.WithVersion(ctx, c.Number, held.Version-1), c.Number, staff, "")
	e.requireRefused(t, held, before, err, casework.ErrConflict)
	_, err = e.svc.Resume(ctx, c.Number, staff, "bad\x00note")
	requireInvalid(t, err, "note")
	timersBefore := len(e.jobs.timers(c.ID))

	got, err := e.svc.Resume(lifecycle.WithVersion(ctx, c.Number, held.Version), c.Number, staff, "材料已到")
	require.NoError(t, err)
	assert.Equal(t, casework.StateInspected, got.State, "back where it was held")
	assert.Empty(t, got.HeldFrom)
	assert.True(t, c.RespondBy.Equal(*got.RespondBy), "met: stays")
	assert.True(t, c.OnSiteBy.Equal(*got.OnSiteBy), "met: stays")
	assert.True(t, c.ResolveBy.Add(50*time.Hour).Equal(*got.ResolveBy), "resolve by %s, was %s", got.ResolveBy, c.ResolveBy)
	stored := e.reload(t, c)
	assert.True(t, got.ResolveBy.Equal(*stored.ResolveBy), "stored on the case")

	timers := e.jobs.timers(c.ID)[timersBefore:]
	require.Len(t, timers, 1, "the moved deadline's timer, only")
	assert.Equal(t, casework.TimerResolveDeadline, timers[0].Kind)
	assert.True(t, got.ResolveBy.Equal(timers[0].At))

	last := e.lastEvent(t, c.ID)
	assert.Equal(t, staff, last.Actor)
	assert.True(t, strings.HasPrefix(last.Note, "resumed after 2d 2h on hold; deadlines moved later: resolve "), last.Note)
	assert.True(t, strings.HasSuffix(last.Note, ": 材料已到"), last.Note)

	ms := e.since(t, held, before.outbox)
	require.Len(t, ms, 2)
	resolve := got.ResolveBy.In(casework.ChinaTime()).Format("01-02 15:04")
	assert.Equal(t, ownerChat, ms[0].UserID)
	assert.Equal(t, zh("owner.resumed", "kind", "报修", "number", c.Number, "resolve", resolve), ms[0].text())
	assert.NotContains(t, ms[0].text(), "材料已到", "the note is for the timeline")
	assert.Equal(t, "eng-zheng", ms[1].UserID)
	assert.Equal(t, zh("engineer.resumed", "number", c.Number, "resolve", resolve), ms[1].text())
	assert.Equal(t, []bot.Choice{
		{Label: "提交勘查结果和方案", Payload: lifecycle.Payload(lifecycle.ActPlan, c.Number)},
		{Label: "现场已修复", Payload: lifecycle.Payload(lifecycle.ActDone, c.Number)},
	}, ms[1].Messages[0].Choices, "the order's buttons as it now is")

	// The old resolve timer, when it comes, finds the deadline moved.
	e.clock.Advance(c.ResolveBy.Sub(e.clock.Now()) + time.Minute)
	e.requireNothing(t, got, casework.Timer{CaseID: c.ID, Kind: casework.TimerResolveDeadline, At: *c.ResolveBy})
}

// TestResumeConsultation: a consultation held while accepted resumes to be
// answered, its answer deadline moved; no engineer is told.
func TestResumeConsultation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	c := e.consultation(t, nil)
	c, err := e.svc.Accept(ctx, c.Number, staff, "", 0, 0)
	require.NoError(t, err)
	_, err = e.svc.Hold(ctx, c.Number, staff, "等待开发商法务部回复", e.clock.Now().Add(3*day))
	require.NoError(t, err)
	e.clock.Advance(day)
	n := len(e.outbox(t, c.ID))
	got, err := e.svc.Resume(ctx, c.Number, staff, "")
	require.NoError(t, err)
	assert.Equal(t, casework.StateAccepted, got.State)
	assert.True(t, c.ResolveBy.Add(day).Equal(*got.ResolveBy))
	ms := e.since(t, c, n)
	require.Len(t, ms, 1)
	assert.Equal(t, zh("owner.resumed", "kind", "咨询", "number", c.Number, "resolve", got.ResolveBy.In(casework.ChinaTime()).Format("01-02 15:04")), ms[0].text())
}

func TestCancel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	f := e.dispatched(t, nil).to(t, casework.StateScheduled)
	c := f.c
	before := e.snapshot(t, c)
	_, err := e.svc.Cancel(ctx, c.Number, staff, " ")
	requireInvalid(t, err, "reason")
	_, err = e.svc.Cancel(lifecycle.WithVersion(ctx, c.Number, c.Version-1), c.Number, staff, "业主已自行修好")
	e.requireRefused(t, c, before, err, casework.ErrConflict)

	got, err := e.svc.Cancel(lifecycle.WithVersion(ctx, c.Number, c.Version), c.Number, staff, "业主已自行修好")
	require.NoError(t, err)
	assert.Equal(t, casework.StateCancelled, got.State)
	require.NotNil(t, got.ClosedAt)
	last := e.lastEvent(t, c.ID)
	assert.Equal(t, staff, last.Actor)
	assert.Equal(t, "withdrawn at the owner's request: 业主已自行修好", last.Note)
	ms := e.since(t, c, before.outbox)
	require.Len(t, ms, 2)
	assert.Equal(t, ownerChat, ms[0].UserID)
	assert.Equal(t, zh("owner.cancelled", "kind", "报修", "number", c.Number, "reason", "业主已自行修好"), ms[0].text())
	assert.Equal(t, "eng-zheng", ms[1].UserID)
	assert.Equal(t, zh("withdrawn.cancelled", "number", c.Number), ms[1].text())
	assert.Empty(t, ms[1].Messages[0].Choices, "a plain text")
	// The visit's reminder, when it comes, finds the case withdrawn.
	for _, tm := range e.jobs.timers(c.ID) {
		if tm.Kind == casework.TimerAppointmentReminder {
			e.requireNothing(t, got, tm)
		}
	}

	// Cancelled is final.
	final := e.snapshot(t, got)
	_, err = e.svc.Cancel(ctx, c.Number, staff, "再撤一次")
	e.requireRefused(t, got, final, err, casework.ErrInvalidTransition)

	// A consultation has no engineer to tell.
	k := e.consultation(t, nil)
	n := len(e.outbox(t, k.ID))
	_, err = e.svc.Cancel(ctx, k.Number, staff, "业主已在物业前台问清楚")
	require.NoError(t, err)
	out := e.since(t, k, n)
	require.Len(t, out, 1)
	assert.Equal(t, zh("owner.cancelled", "kind", "咨询", "number", k.Number, "reason", "业主已在物业前台问清楚"), out[0].text())
}

func TestClose(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()

	// Rejected: the owner had the explanation; closed without a word and
	// without a return visit.
	r := e.newCase(t, func(c *casework.Case) { c.WarrantyStatus = casework.WarrantyOut })
	r, err := e.svc.Reject(ctx, r.Number, staff, lifecycle.RejectOutOfWarranty, "", "")
	require.NoError(t, err)
	before := e.snapshot(t, r)
	timers := len(e.jobs.timers(r.ID))
	_, err = e.svc.Close(lifecycle.WithVersion(ctx, r.Number, r.Version-1), r.Number, staff, "")
	e.requireRefused(t, r, before, err, casework.ErrConflict)
	got, err := e.svc.Close(lifecycle.WithVersion(ctx, r.Number, r.Version), r.Number, staff, "")
	require.NoError(t, err)
	assert.Equal(t, casework.StateClosed, got.State)
	assert.Len(t, e.outbox(t, r.ID), before.outbox, "no second message")
	assert.Len(t, e.jobs.timers(r.ID), timers, "no return visit: nothing was repaired")
	last := e.lastEvent(t, r.ID)
	assert.Equal(t, staff, last.Actor)
	assert.Equal(t, "closed by staff", last.Note)

	// Accepted by the owner, the survey unanswered: told it is closed; the
	// return visit is set.
	f := e.dispatched(t, nil).to(t, casework.StateOwnerAccepted)
	n := len(e.outbox(t, f.c.ID))
	got, err = e.svc.Close(ctx, f.c.Number, staff, "业主电话确认满意，不再填写评价")
	require.NoError(t, err)
	assert.Equal(t, casework.StateClosed, got.State)
	assert.Equal(t, "业主电话确认满意，不再填写评价", e.lastEvent(t, f.c.ID).Note)
	ms := e.since(t, f.c, n)
	require.Len(t, ms, 1, "the owner; the engineer was thanked at the acceptance")
	assert.Equal(t, zh("owner.closed", "kind", "报修", "number", f.c.Number), ms[0].text())
	assert.NotContains(t, ms[0].text(), "不再填写评价", "the note is for the timeline")
	visit := e.fireTimer(t, f.c, casework.TimerReturnVisit)
	assert.True(t, e.clock.Now().Add(30*day).Truncate(time.Second).Equal(visit.At), "door and window: a month on")

	// An open repair cannot be closed.
	open := e.dispatched(t, nil)
	openBefore := e.snapshot(t, open.c)
	_, err = e.svc.Close(ctx, open.c.Number, staff, "")
	e.requireRefused(t, open.c, openBefore, err, casework.ErrInvalidTransition)
}

func TestMovedDeadlineTimers(t *testing.T) {
	t.Parallel()
	at := func(h int) *time.Time { v := t0.Add(time.Duration(h) * time.Hour); return &v }
	c := &casework.Case{ID: 9, RespondBy: at(24), RespondedAt: at(1), OnSiteBy: at(72), ResolveBy: at(360)}
	got := lifecycle.MovedDeadlineTimers(c, casework.Deadlines{RespondBy: at(30), OnSiteBy: at(72), ResolveBy: at(400)})
	assert.Equal(t, []casework.Timer{{CaseID: 9, Kind: casework.TimerResolveDeadline, At: *at(400)}}, got,
		"the response was met, the on-site deadline did not move")
	got = lifecycle.MovedDeadlineTimers(&casework.Case{ID: 9}, casework.Deadlines{OnSiteBy: at(5)})
	assert.Equal(t, []casework.Timer{{CaseID: 9, Kind: casework.TimerOnSiteDeadline, At: *at(5)}}, got, "a deadline new to the case")
}
