package lifecycle_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/l10n"
	"github.com/aftersales/aftersales/lifecycle"
)

// ownerUpdates returns the texts the owner was sent about c's progress
// (purpose owner_update), oldest first.
func (e *env) ownerUpdates(t *testing.T, c *casework.Case) []string {
	t.Helper()
	var out []string
	for _, m := range byPurpose(e.outbox(t, c.ID), "owner_update") {
		out = append(out, m.text())
	}
	return out
}

// TestOwnerToldOnceWhoHasTheCase: each acceptance and each dispatch tells
// the owner one thing, once. A case accepted and dispatched in one step is
// one message ("已受理并派给"); a case accepted first and dispatched later
// is told "已受理" once, then only with whom it is; a reassignment, or an
// order sent again after the engineer declined it, says who has it now
// without announcing the acceptance again; the same engineer again is no
// news.
func TestOwnerToldOnceWhoHasTheCase(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	staff := casework.Staff("7")
	e.bind(t, "郑晓东", "eng-zheng", "zh")
	e.bind(t, "冯磊", "eng-feng", "zh")
	zh := func(key string, kv ...string) string { return lifecycle.T(l10n.Chinese, key, kv...) }
	onSite := func(c *casework.Case) string { return c.OnSiteBy.In(casework.ChinaTime()).Format("01-02 15:04") }
	mcmc := e.parties["MCMC"].Name

	// Accepted by the policy and dispatched at once: one message.
	auto, err := e.svc.Triage(ctx, e.newCase(t, nil))
	require.NoError(t, err)
	assert.Equal(t, []string{zh("owner.dispatched", "number", auto.Number, "who", mcmc+" 郑晓东", "on_site", onSite(auto))}, e.ownerUpdates(t, auto))

	// Accepted by staff, routed and dispatched in the same step: one message.
	waiting, err := e.svc.Triage(ctx, e.newCase(t, func(c *casework.Case) { c.WarrantyStatus = casework.WarrantyUnknown }))
	require.NoError(t, err)
	got, err := e.svc.Accept(ctx, waiting.Number, staff, "", 0, 0)
	require.NoError(t, err)
	assert.Equal(t, casework.StateDispatched, got.State)
	assert.Equal(t, []string{zh("owner.dispatched", "number", got.Number, "who", mcmc+" 郑晓东", "on_site", onSite(got))}, e.ownerUpdates(t, got))

	// Accepted with no one to send it to; dispatched by staff later: the
	// second message does not say 已受理 again.
	p := &casework.Project{Code: "NEW", Name: "新园"}
	require.NoError(t, e.store.CreateProject(ctx, p))
	later, err := e.svc.Triage(ctx, e.newCase(t, func(c *casework.Case) { c.ProjectID, c.BuildingID, c.UnitID = p.ID, 0, 0 }))
	require.NoError(t, err)
	_, err = e.svc.Accept(ctx, later.Number, staff, "", 0, 0)
	require.NoError(t, err)
	later, err = e.svc.Dispatch(ctx, later.Number, staff, 0, e.member(t, "郑晓东").ID)
	require.NoError(t, err)
	assert.Equal(t, []string{
		zh("owner.accepted", "number", later.Number),
		zh("owner.assigned", "number", later.Number, "who", mcmc+" 郑晓东", "on_site", onSite(later)),
	}, e.ownerUpdates(t, later))

	// Reassigned to 冯磊: who has it now, and no acceptance.
	f := e.dispatched(t, nil)
	_, err = e.svc.Dispatch(ctx, f.c.Number, staff, 0, e.member(t, "冯磊").ID)
	require.NoError(t, err)
	// Sent to 冯磊 again: nothing new for the owner.
	_, err = e.svc.Dispatch(ctx, f.c.Number, staff, 0, e.member(t, "冯磊").ID)
	require.NoError(t, err)
	assert.Equal(t, []string{
		zh("owner.dispatched", "number", f.c.Number, "who", mcmc+" 郑晓东", "on_site", onSite(f.c)),
		zh("owner.reassigned", "number", f.c.Number, "who", mcmc+" 冯磊", "on_site", onSite(f.c)),
	}, e.ownerUpdates(t, f.c))

	// Declined by 郑晓东, then sent to 冯磊: who has it now.
	d := e.dispatched(t, nil)
	require.NoError(t, e.svc.DeclineOrder(ctx, d.engineer, d.c.Number, "人手不足"))
	_, err = e.svc.Dispatch(ctx, d.c.Number, staff, 0, e.member(t, "冯磊").ID)
	require.NoError(t, err)
	updates := e.ownerUpdates(t, d.c)
	require.Len(t, updates, 2)
	assert.Equal(t, zh("owner.reassigned", "number", d.c.Number, "who", mcmc+" 冯磊", "on_site", onSite(d.c)), updates[1])

	// In every case, one message says 已受理, whatever followed.
	for _, c := range []*casework.Case{auto, got, later, f.c, d.c} {
		n := 0
		for _, u := range e.ownerUpdates(t, c) {
			n += strings.Count(u, "已受理")
		}
		assert.Equal(t, 1, n, "%s: %q", c.Number, e.ownerUpdates(t, c))
	}
}

// TestOwnerToldOnceInEnglish: the same one message in English.
func TestOwnerToldOnceInEnglish(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	id, err := e.store.FindChatIdentity(ctx, "telegram", ownerChat)
	require.NoError(t, err)
	id.Lang = "en"
	require.NoError(t, e.store.SaveChatIdentity(ctx, id))
	e.bind(t, "冯磊", "eng-feng", "en")
	f := e.dispatched(t, nil)
	_, err = e.svc.Dispatch(ctx, f.c.Number, casework.Staff("7"), 0, e.member(t, "冯磊").ID)
	require.NoError(t, err)
	updates := e.ownerUpdates(t, f.c)
	require.Len(t, updates, 2)
	assert.Contains(t, updates[0], "is accepted and assigned to")
	assert.Contains(t, updates[1], "is now with")
	assert.NotContains(t, updates[1], "accepted")
}

// TestSurveyExpiryTellsTheOwner: a survey unanswered for SurveyTTL closes
// the case and the owner is told so, in their language, with no engineer's
// hint; a rating they give afterwards is kept as a note on the timeline,
// the case stays closed and ErrSurveyLate says thanks in an owner's words.
// A second survey of a case surveyed already is refused as before.
func TestSurveyExpiryTellsTheOwner(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"zh", "en"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ctx := t.Context()
			id, err := e.store.FindChatIdentity(ctx, "telegram", ownerChat)
			require.NoError(t, err)
			id.Lang = lang
			require.NoError(t, e.store.SaveChatIdentity(ctx, id))
			f := e.dispatched(t, nil).to(t, casework.StateOwnerAccepted)
			tm := e.fireTimer(t, f.c, casework.TimerSurveyExpiry)
			e.clock.Advance(72 * time.Hour)
			require.NoError(t, e.svc.Fire(ctx, tm))

			updates := e.ownerUpdates(t, f.c)
			require.NotEmpty(t, updates)
			told := updates[len(updates)-1]
			assert.Equal(t, lifecycle.T(l10n.Lang(lang), "owner.survey_closed", "number", f.c.Number, "wait", map[string]string{"zh": "3 天", "en": "3 days"}[lang]), told)
			closed := e.reload(t, f.c)
			require.Equal(t, casework.StateClosed, closed.State)

			// The owner, still in the survey, rates an hour later.
			e.clock.Advance(time.Hour)
			before := e.reload(t, f.c).Version
			_, err = e.svc.SubmitSurvey(ctx, f.owner, f.c.Number, casework.Survey{Speed: 2, Attitude: 4, Quality: 3, Comment: "师傅很好，就是等得久"})
			require.ErrorIs(t, err, lifecycle.ErrSurveyLate)
			got := e.reload(t, f.c)
			assert.Equal(t, casework.StateClosed, got.State, "the case stays closed")
			assert.Nil(t, got.Survey)
			assert.Equal(t, before, got.Version, "the case itself is unchanged")
			last := e.lastEvent(t, f.c.ID)
			assert.Equal(t, casework.EventNote, last.Kind)
			assert.Equal(t, "survey answered after it closed: speed 2, attitude 4, quality 3; the owner wrote: 师傅很好，就是等得久", last.Note)
			assert.Equal(t, lifecycle.LateSurveyNote(casework.Survey{Speed: 2, Attitude: 4, Quality: 3, Comment: "师傅很好，就是等得久"}), last.Note)
			text, ok := lifecycle.ExplainError(l10n.Lang(lang), err)
			require.True(t, ok)
			assert.Equal(t, lifecycle.T(l10n.Lang(lang), "reply.survey_late"), text)

			// Surveyed already: a second answer is refused, in an owner's words.
			done := e.dispatched(t, nil).to(t, casework.StateClosed)
			_, err = e.svc.SubmitSurvey(ctx, done.owner, done.c.Number, casework.Survey{Speed: 5, Attitude: 5, Quality: 5})
			var te *casework.TransitionError
			require.ErrorAs(t, err, &te)
			text, ok = lifecycle.ExplainErrorTo(l10n.Lang(lang), err, false)
			require.True(t, ok)
			for _, hint := range []string{"工程师", "我的工单", "engineer", "my orders"} {
				assert.NotContains(t, text, hint, "an owner is never shown an engineer's hint")
			}
			text, _ = lifecycle.ExplainErrorTo(l10n.Lang(lang), err, true)
			assert.Contains(t, text, map[string]string{"zh": "我的工单", "en": "my orders"}[lang], "an engineer is pointed to their orders")
		})
	}
}

// TestOwnerWithdraw: the owner withdraws a case in chat while no work has
// started: it is cancelled, the engineer who took the order is told it is
// withdrawn (in his language) and the timeline records the owner's reason;
// the owner's account that asked is answered in chat, not pushed. Another
// owner may not withdraw it, and once the work started it is too late.
func TestOwnerWithdraw(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	f := e.dispatched(t, nil).to(t, casework.StateScheduled)
	engineerEn := e.bind(t, "郑晓东", "eng-zheng-en", "en")
	assert.True(t, lifecycle.OwnerMayWithdraw(f.c))

	_, err := e.svc.OwnerWithdraw(ctx, e.who(t, otherOwnerChat), f.c.Number, "不需要了")
	require.ErrorIs(t, err, lifecycle.ErrForbidden, "another owner's case")
	_, err = e.svc.OwnerWithdraw(ctx, f.owner, f.c.Number, " ")
	var ve *casework.ValidationError
	require.ErrorAs(t, err, &ve, "a reason is required")

	before := len(e.ownerUpdates(t, f.c))
	got, err := e.svc.OwnerWithdraw(ctx, f.owner, f.c.Number, "我自己找人修了")
	require.NoError(t, err)
	assert.Equal(t, casework.StateCancelled, got.State)
	assert.False(t, lifecycle.OwnerMayWithdraw(got))
	last := e.lastEvent(t, f.c.ID)
	assert.Equal(t, casework.ActionCancel, last.Action)
	assert.Equal(t, f.owner.Actor(), last.Actor)
	assert.Equal(t, "withdrawn by the owner in chat: 我自己找人修了", last.Note)
	assert.Len(t, e.ownerUpdates(t, f.c), before, "the owner who asked has the answer in chat")
	told := withdrawn(t, e.outbox(t, f.c.ID))
	require.NotEmpty(t, told["telegram:eng-zheng"])
	assert.Equal(t, lifecycle.T(l10n.Chinese, "withdrawn.cancelled", "number", f.c.Number), told["telegram:eng-zheng"][0].Text)
	require.NotEmpty(t, told["telegram:"+engineerEn.User.ID])
	assert.Equal(t, lifecycle.T(l10n.English, "withdrawn.cancelled", "number", f.c.Number), told["telegram:"+engineerEn.User.ID][0].Text)
	// His old buttons now say the order was withdrawn.
	_, err = e.svc.CheckIn(ctx, f.engineer, f.c.Number)
	require.ErrorIs(t, err, lifecycle.ErrOrderCancelled)

	// Too late once the work started; and for a case on hold from there.
	started := e.dispatched(t, nil).to(t, casework.StateInProgress)
	assert.False(t, lifecycle.OwnerMayWithdraw(started.c))
	snap := e.snapshot(t, started.c)
	_, err = e.svc.OwnerWithdraw(ctx, started.owner, started.c.Number, "不修了")
	require.ErrorIs(t, err, lifecycle.ErrWithdrawTooLate)
	assert.Equal(t, snap, e.snapshot(t, started.c), "nothing written")
	for _, lang := range []l10n.Lang{l10n.Chinese, l10n.English} {
		text, ok := lifecycle.ExplainError(lang, err)
		require.True(t, ok)
		assert.Equal(t, lifecycle.T(lang, "err.withdraw_late"), text)
	}
	held, err := e.svc.Hold(ctx, started.c.Number, casework.Staff("7"), "等待配件", e.clock.Now().Add(24*time.Hour))
	require.NoError(t, err)
	assert.False(t, lifecycle.OwnerMayWithdraw(held), "held while the work was under way")

	// A case still waiting for staff, on hold before any work, may be withdrawn.
	waiting, err := e.svc.Triage(ctx, e.newCase(t, func(c *casework.Case) { c.WarrantyStatus = casework.WarrantyUnknown }))
	require.NoError(t, err)
	waiting, err = e.svc.Hold(ctx, waiting.Number, casework.Staff("7"), "等业主出差回来", e.clock.Now().Add(24*time.Hour))
	require.NoError(t, err)
	assert.True(t, lifecycle.OwnerMayWithdraw(waiting))
	got, err = e.svc.OwnerWithdraw(ctx, f.owner, waiting.Number, "不需要了")
	require.NoError(t, err)
	assert.Equal(t, casework.StateCancelled, got.State)
}
