package lifecycle_test

import (
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

// The owner's urging (催办): who is alerted, in which language, and what the
// owner is told back.

// urges returns the case's outbox messages of urges, by the account they go to.
func (e *env) urges(t *testing.T, c *casework.Case) map[string][]message {
	t.Helper()
	out := map[string][]message{}
	for _, m := range byPurpose(e.outbox(t, c.ID), "urge") {
		out[m.UserID] = append(out[m.UserID], m)
	}
	return out
}

// TestUrgeAlertsTheEngineerThenTheSupervisors: the first urge reaches the
// engineer who has the order, on each of his accounts in its language, with
// the case, the wait and the owner's words — not the supervisors; an urge
// again within the interval is refused and changes nothing; the second urge
// reaches the engineer and the supervisors.
func TestUrgeAlertsTheEngineerThenTheSupervisors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	f := e.dispatched(t, nil)
	e.bind(t, "郑晓东", "wechat:eng-zheng-wx", "en")
	e.bind(t, "林峰", "sup-lin-en", "en")
	received := f.c.ReceivedAt
	e.clock.Advance(5 * time.Hour)

	u, err := e.svc.Urge(ctx, f.owner, f.c.Number, "  都五个小时了还没人联系我  ", 0)
	require.NoError(t, err)
	assert.Equal(t, 1, u.Count)
	assert.Equal(t, "郑晓东", u.Engineer)
	assert.False(t, u.Supervisors, "a first urge of a case on time stays with the engineer")
	assert.True(t, e.clock.Now().Add(lifecycle.DefaultUrgeInterval).Equal(u.Next), "next %s", u.Next)
	assert.Equal(t, f.c.Number, u.Case.Number)

	got := e.urges(t, f.c)
	assert.Len(t, got, 2, "the engineer's two accounts, nobody else: %v", got)
	require.Len(t, got["eng-zheng"], 1)
	zhText := got["eng-zheng"][0].text()
	require.Equal(t, 5*time.Hour+10*time.Minute, e.clock.Now().Sub(received), "reported ten minutes before the dispatch")
	assert.Equal(t, "【业主催办】"+f.c.Number+"（第 1 次催办）\n任务：工程质量 · 门窗\n地址：海景苑 1-1-101\n业主 张伟 已等待 5 小时，请尽快跟进并与业主联系。\n业主留言：都五个小时了还没人联系我", zhText)
	assert.Equal(t, []bot.Choice{
		{Label: "接单", Payload: lifecycle.Payload(lifecycle.ActTake, f.c.Number)},
		{Label: "拒单", Payload: lifecycle.Payload(lifecycle.ActDecline, f.c.Number)},
	}, got["eng-zheng"][0].Messages[0].Choices, "the order's buttons, as it now is")
	require.Len(t, got["eng-zheng-wx"], 1)
	enText := got["eng-zheng-wx"][0].text()
	assert.True(t, strings.HasPrefix(enText, "[The owner is chasing] "+f.c.Number+" (urge 1)\nTask: Construction quality · doors and windows\n"), enText)
	assert.Contains(t, enText, "has waited 5 hours")
	assert.Contains(t, enText, "The owner says: 都五个小时了还没人联系我")
	assert.Equal(t, "Take order", got["eng-zheng-wx"][0].Messages[0].Choices[0].Label)

	last := e.lastEvent(t, f.c.ID)
	assert.Equal(t, casework.EventUrge, last.Kind)
	assert.Equal(t, f.owner.Actor(), last.Actor)
	assert.Equal(t, "业主催办 urged by the owner (1); alerted: staff in the console, engineer 郑晓东; the owner says: 都五个小时了还没人联系我", last.Note)

	// Again within the interval: refused, nothing written.
	e.clock.Advance(time.Hour)
	before := e.snapshot(t, f.c)
	_, err = e.svc.Urge(ctx, f.owner, f.c.Number, "", 0)
	var soon *lifecycle.UrgeTooSoonError
	require.ErrorAs(t, err, &soon)
	assert.True(t, u.Next.Equal(soon.Next), "again from %s", soon.Next)
	assert.Equal(t, before, e.snapshot(t, f.c))

	// The second urge, after the interval: the supervisors too.
	e.clock.Advance(11 * time.Hour)
	u, err = e.svc.Urge(ctx, f.owner, f.c.Number, "", 0)
	require.NoError(t, err)
	assert.Equal(t, 2, u.Count)
	assert.Equal(t, "郑晓东", u.Engineer)
	assert.True(t, u.Supervisors)
	got = e.urges(t, f.c)
	assert.Len(t, got["eng-zheng"], 2)
	assert.Contains(t, got["eng-zheng"][1].text(), "（第 2 次催办）")
	assert.NotContains(t, got["eng-zheng"][1].text(), "业主留言", "no words, no line")
	require.Len(t, got[supervisorChat], 1)
	sup := got[supervisorChat][0].text()
	assert.True(t, strings.HasPrefix(sup, "业主第 2 次催办："+f.c.Number+"\n负责人：郑晓东\n业主已等待 17 小时\n地址：海景苑 1-1-101\n"), sup)
	assert.Contains(t, sup, "类别：工程质量 · 门窗\n紧急程度：一般\n内容：主卧窗户关不严")
	assert.NotContains(t, sup, "已超时")
	require.Len(t, got["sup-lin-en"], 1)
	supEN := got["sup-lin-en"][0].text()
	assert.True(t, strings.HasPrefix(supEN, "The owner urges "+f.c.Number+" (urge 2)\nIn the hands of: 郑晓东\nThe owner has waited 17 hours\nAddress: "), supEN)
	assert.Contains(t, supEN, "Urgency: normal")
	assert.Contains(t, e.lastEvent(t, f.c.ID).Note, "the supervisors (the 2nd urge or more)")
}

// TestUrgeOverdueAlertsTheSupervisorsAtOnce: the first urge of a case past
// a deadline reaches the supervisors as well, marked overdue.
func TestUrgeOverdueAlertsTheSupervisorsAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.dispatched(t, nil)
	e.clock.Advance(25 * time.Hour) // nobody answered within the day
	require.True(t, e.reload(t, f.c).Overdue(e.clock.Now()))

	u, err := e.svc.Urge(t.Context(), f.owner, f.c.Number, "", 0)
	require.NoError(t, err)
	assert.Equal(t, 1, u.Count)
	assert.True(t, u.Supervisors)
	assert.Equal(t, "郑晓东", u.Engineer)
	got := e.urges(t, f.c)
	require.Len(t, got[supervisorChat], 1)
	assert.True(t, strings.HasPrefix(got[supervisorChat][0].text(), "业主第 1 次催办："+f.c.Number+"（已超时）\n负责人：郑晓东\n业主已等待 25 小时\n"), got[supervisorChat][0].text())
	assert.Len(t, got["eng-zheng"], 1)
	assert.Contains(t, e.lastEvent(t, f.c.ID).Note, "the supervisors (overdue)")
}

// TestUrgeWithNoEngineerToAlert: a consultation waiting for staff, and an
// order whose engineer has no chat account, alert nobody in chat: the urge
// is on the case for the staff's console, and the caller learns that no
// engineer was alerted. The interval given is the one kept.
func TestUrgeWithNoEngineerToAlert(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	owner := e.who(t, ownerChat)
	consult := e.consultation(t, nil)
	n := len(e.outbox(t, consult.ID))
	u, err := e.svc.Urge(ctx, owner, consult.Number, "", 2*time.Hour)
	require.NoError(t, err)
	assert.Equal(t, lifecycle.Urged{Case: u.Case, Count: 1, Next: e.clock.Now().Add(2 * time.Hour)}, *u)
	assert.Len(t, e.outbox(t, consult.ID), n, "nothing sent")
	assert.Equal(t, "业主催办 urged by the owner (1); alerted: staff in the console", e.lastEvent(t, consult.ID).Note)
	e.clock.Advance(2 * time.Hour)
	u, err = e.svc.Urge(ctx, owner, consult.Number, "", 2*time.Hour)
	require.NoError(t, err, "the interval given")
	assert.Equal(t, 2, u.Count)
	assert.True(t, u.Supervisors, "the second urge reaches the supervisors")
	assert.Empty(t, u.Engineer)
	assert.Len(t, e.urges(t, consult)[supervisorChat], 1)

	unbound := e.newCase(t, nil)
	unbound, err = e.svc.Triage(ctx, unbound) // to 郑晓东, who has no chat account
	require.NoError(t, err)
	require.NotZero(t, unbound.AssigneeID)
	u, err = e.svc.Urge(ctx, owner, unbound.Number, "", 0)
	require.NoError(t, err)
	assert.Empty(t, u.Engineer)
	assert.False(t, u.Supervisors)
	assert.Empty(t, e.urges(t, unbound))
}

// TestUrgeRefusals: another owner's case, no such case, a closed case and
// words too long are refused with nothing written.
func TestUrgeRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	f := e.dispatched(t, nil)
	before := e.snapshot(t, f.c)

	_, err := e.svc.Urge(ctx, e.who(t, otherOwnerChat), f.c.Number, "", 0)
	require.ErrorIs(t, err, lifecycle.ErrForbidden)
	_, err = e.svc.Urge(ctx, f.owner, "SH-20000101-9999", "", 0)
	require.ErrorIs(t, err, casework.ErrNotFound)
	_, err = e.svc.Urge(ctx, f.owner, f.c.Number, strings.Repeat("快", 501), 0)
	requireInvalid(t, err, "words")
	assert.Equal(t, before, e.snapshot(t, f.c))

	closed := e.dispatched(t, nil).to(t, casework.StateClosed)
	before = e.snapshot(t, closed.c)
	_, err = e.svc.Urge(ctx, closed.owner, closed.c.Number, "", 0)
	require.ErrorIs(t, err, lifecycle.ErrNotOpen)
	assert.Equal(t, before, e.snapshot(t, closed.c))
}

// TestWaitedText: how long the owner waited, as people say it.
func TestWaitedText(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration][2]string{
		30 * time.Second:             {"1 分钟", "a minute"},
		40 * time.Minute:             {"40 分钟", "40 minutes"},
		time.Hour + 59*time.Minute:   {"1 小时", "an hour"},
		5*time.Hour + 10*time.Minute: {"5 小时", "5 hours"},
		47 * time.Hour:               {"47 小时", "47 hours"},
		50 * time.Hour:               {"2 天", "2 days"},
		10*day + 23*time.Hour:        {"10 天", "10 days"},
	} {
		assert.Equal(t, want[0], lifecycle.WaitedText(l10n.Chinese, d), d)
		assert.Equal(t, want[1], lifecycle.WaitedText(l10n.English, d), d)
	}
}

// TestUrges counts a timeline's urges.
func TestUrges(t *testing.T) {
	t.Parallel()
	n, last := lifecycle.Urges(nil)
	assert.Zero(t, n)
	assert.True(t, last.IsZero())
	n, last = lifecycle.Urges([]*casework.Event{
		{Kind: casework.EventCreated, At: t0},
		{Kind: casework.EventUrge, At: t0.Add(time.Hour)},
		{Kind: casework.EventNote, At: t0.Add(2 * time.Hour)},
		{Kind: casework.EventUrge, At: t0.Add(13 * time.Hour)},
	})
	assert.Equal(t, 2, n)
	assert.True(t, t0.Add(13*time.Hour).Equal(last))
}
