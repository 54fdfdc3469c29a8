package lifecycle_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/l10n"
	"github.com/aftersales/aftersales/lifecycle"
)

// What supervisors and engineers are told must read as words in their
// language: no code (a lowercase_snake word: "policy_consultation",
// "out_of_warranty"), no catalogue key ("category.other"), no placeholder
// left ("{summary}").
var (
	snakeWord  = regexp.MustCompile(`\b[a-z][a-z0-9]*(_[a-z0-9]+)+\b`)
	rawKey     = regexp.MustCompile(`\b(category|sub|urgency|state|staff|why|warranty|kind|responsibility|location|wait|urge)\.[a-z]`)
	leftOpen   = regexp.MustCompile(`\{[a-z_]+\}`)
	noticeKeys = []string{ // every notice to supervisors and staff
		"staff.triage", "staff.declined", "staff.disagreed", "staff.repeat", "staff.low_score", "staff.not_taken",
		"staff.task_due", "staff.unsettled", "staff.hold_due", "staff.overdue.respond_deadline",
		"staff.overdue.on_site_deadline", "staff.overdue.resolve_deadline", "staff.overdue.answer", "staff.urged",
		"staff.warranty_pending",
	}
)

// requireWords fails on a code, a key or a placeholder in text.
func requireWords(t *testing.T, who, text string) {
	t.Helper()
	assert.Empty(t, snakeWord.FindAllString(text, -1), "a code in what %s reads:\n%s", who, text)
	assert.Empty(t, rawKey.FindAllString(text, -1), "a catalogue key in what %s reads:\n%s", who, text)
	assert.Empty(t, leftOpen.FindAllString(text, -1), "a placeholder in what %s reads:\n%s", who, text)
}

// TestNoticesToStaffAreInWords drives every notice to the supervisors — a
// case of each kind and each reason waiting for staff, every escalation,
// the urges — with the supervisor 林峰 reading in Chinese on one account and
// English on another, and the engineer likewise, and checks that each
// notice of the catalogue was sent, in both languages, and reads in words.
func TestNoticesToStaffAreInWords(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *lifecycle.Config) { c.RepeatEscalation = 2 })
	ctx := t.Context()
	e.bind(t, "林峰", "sup-lin-en", "en")
	e.bind(t, "冯磊", "duty-feng", "zh")
	e.bind(t, "冯磊", "duty-feng-en", "en")
	owner := e.who(t, ownerChat)
	var cases []*casework.Case
	keep := func(c *casework.Case) *casework.Case { cases = append(cases, c); return c }

	// Waiting for staff: every reason, every kind of case.
	for _, change := range []func(c *casework.Case){
		func(c *casework.Case) { c.WarrantyStatus = casework.WarrantyOut },
		func(c *casework.Case) { c.WarrantyStatus, c.WarrantyUntil = casework.WarrantyUnknown, casework.Date{} },
		func(c *casework.Case) { c.Responsibility = casework.ResponsibilityOwnerOrThirdParty },
		func(c *casework.Case) { c.Urgency = casework.UrgencyMajorComplaint },
		func(c *casework.Case) {
			c.Category, c.Subcategory = casework.CategoryDesignDefect, casework.SubMissingFunction
		},
	} {
		c, err := e.svc.Triage(ctx, e.newCase(t, change))
		require.NoError(t, err)
		keep(c)
	}
	p := &casework.Project{Code: "NEW", Name: "新园"}
	require.NoError(t, e.store.CreateProject(ctx, p))
	noRoute, err := e.svc.Triage(ctx, e.newCase(t, func(c *casework.Case) { c.ProjectID, c.BuildingID, c.UnitID = p.ID, 0, 0 }))
	require.NoError(t, err)
	keep(noRoute)
	consult := keep(e.consultation(t, nil))
	complaint := keep(e.complaint(t))
	for _, sub := range []casework.Subcategory{casework.SubSuggestion, casework.SubPraise, casework.SubOther} {
		keep(e.consultation(t, func(c *casework.Case) { c.Category, c.Subcategory = casework.CategoryOther, sub }))
	}

	// An urgent order nobody takes.
	urgent, err := e.svc.Triage(ctx, e.newCase(t, func(c *casework.Case) { c.Urgency = casework.UrgencyUrgent }))
	require.NoError(t, err)
	keep(urgent)
	// An urgent case out of warranty, sent at once all the same.
	pending, err := e.svc.Triage(ctx, e.newCase(t, func(c *casework.Case) {
		c.Urgency, c.WarrantyStatus = casework.UrgencyUrgent, casework.WarrantyOut
	}))
	require.NoError(t, err)
	keep(pending)
	// Orders declined, disagreed with, failed again, rated low.
	declined := e.dispatched(t, nil)
	keep(declined.c)
	require.NoError(t, e.svc.DeclineOrder(ctx, declined.engineer, declined.c.Number, "不属于我方范围"))
	e.bind(t, "郑晓东", "eng-zheng-en", "en")
	disagreed := e.dispatched(t, nil).to(t, casework.StatePlanProposed)
	keep(disagreed.c)
	_, err = e.svc.DisagreePlan(ctx, owner, disagreed.c.Number, "工期太长")
	require.NoError(t, err)
	notFixed := e.dispatched(t, nil).to(t, casework.StateDone)
	keep(notFixed.c)
	_, err = e.svc.NotFixed(ctx, owner, notFixed.c.Number, "还是漏水")
	require.NoError(t, err)
	lowScore := e.dispatched(t, nil).to(t, casework.StateOwnerAccepted)
	keep(lowScore.c)
	_, err = e.svc.SubmitSurvey(ctx, owner, lowScore.c.Number, casework.Survey{Speed: 1, Attitude: 2, Quality: 1, Comment: "等了很久"})
	require.NoError(t, err)
	back := e.dispatched(t, nil).to(t, casework.StateClosed)
	keep(back.c)
	visit := e.fireTimer(t, back.c, casework.TimerReturnVisit)
	// The complaint answered, and the owner not satisfied.
	_, err = e.svc.Answer(ctx, complaint.Number, staff, "已核实，当天热线故障。")
	require.NoError(t, err)
	_, err = e.svc.NotFixed(ctx, owner, complaint.Number, "不只是一天")
	require.NoError(t, err)
	// On hold, a task, and cases left to run late.
	held := e.dispatched(t, nil)
	keep(held.c)
	_, err = e.svc.Hold(ctx, held.c.Number, staff, "等待配件", e.clock.Now().Add(day))
	require.NoError(t, err)
	tasked := e.dispatched(t, nil)
	keep(tasked.c)
	_, err = e.svc.AddTask(ctx, tasked.c.Number, staff, "物业", "协调开通楼顶检修通道", e.clock.Now().Add(day))
	require.NoError(t, err)
	lateOnSite := e.dispatched(t, nil)
	keep(lateOnSite.c)
	lateResolve := e.dispatched(t, nil).to(t, casework.StateInspected)
	keep(lateResolve.c)
	urged := e.dispatched(t, nil)
	keep(urged.c)

	e.clock.Advance(31 * time.Minute)
	require.NoError(t, e.svc.Fire(ctx, e.fireTimer(t, urgent, casework.TimerAcceptEscalation)))
	_, err = e.svc.Urge(ctx, owner, urged.c.Number, "都等了好久了", 0)
	require.NoError(t, err)
	e.clock.Advance(day)
	require.NoError(t, e.svc.Fire(ctx, e.fireTimer(t, held.c, casework.TimerResumeDue)))
	require.NoError(t, e.svc.Fire(ctx, e.fireTimer(t, tasked.c, casework.TimerTaskDue)))
	require.NoError(t, e.svc.Fire(ctx, e.fireTimer(t, cases[0], casework.TimerRespondDeadline)))
	_, err = e.svc.Urge(ctx, owner, urged.c.Number, "", 0)
	require.NoError(t, err)
	e.clock.Advance(30 * day)
	require.NoError(t, e.svc.Fire(ctx, visit))
	_, err = e.svc.ReturnVisitAnswer(ctx, owner, back.c.Number, false)
	require.NoError(t, err)
	require.NoError(t, e.svc.Fire(ctx, e.fireTimer(t, lateOnSite.c, casework.TimerOnSiteDeadline)))
	require.NoError(t, e.svc.Fire(ctx, e.fireTimer(t, lateResolve.c, casework.TimerResolveDeadline)))
	require.NoError(t, e.svc.Fire(ctx, e.fireTimer(t, consult, casework.TimerResolveDeadline)))

	// What the supervisors and engineers read.
	read := map[l10n.Lang][]string{}
	for _, c := range cases {
		for _, m := range e.outbox(t, c.ID) {
			lang := l10n.Chinese
			switch m.UserID {
			case "sup-lin-en", "eng-zheng-en", "duty-feng-en":
				lang = l10n.English
			case supervisorChat, "eng-zheng", "duty-feng":
			default:
				continue // the owner's
			}
			if m.Purpose == "work_order" || m.Purpose == "plan" || m.Purpose == "acceptance" || m.Purpose == "appointment" {
				continue // the engineer's work order and its steps show the owner's words and the case in words of their own tests
			}
			requireWords(t, m.UserID, m.text())
			read[lang] = append(read[lang], m.text())
		}
	}
	// Each notice of the catalogue was sent, in both languages.
	for _, lang := range []l10n.Lang{l10n.Chinese, l10n.English} {
		heads := noticeHeads(lang)
		for _, key := range noticeKeys {
			hs, ok := heads[key]
			require.True(t, ok, "notice %s has a head", key)
			for _, h := range hs {
				assert.True(t, slices.ContainsFunc(read[lang], func(s string) bool { return strings.HasPrefix(s, h) }),
					"no %s notice %s starts %q", lang, key, h)
			}
		}
		assert.True(t, slices.ContainsFunc(read[lang], func(s string) bool {
			return strings.HasPrefix(s, lifecycle.T(lang, "engineer.urged", "number", urged.c.Number, "n", "1")[:12])
		}), "the engineer's alert of an urge, in %s", lang)
	}
	// The words that replaced the codes.
	joined := strings.Join(read[l10n.Chinese], "\n")
	for _, want := range []string{
		"新咨询待处理：" + consult.Number, "新投诉待处理：" + complaint.Number, "新建议待处理：", "新表扬待处理：", "新诉求待处理：",
		"类别：政策咨询 · 费用", "类别：其他建议或表扬\n", "紧急程度：重大投诉", "保修：已过保修期（保修至 2026-09-28）",
		"保修：保修状态未知", "责任初判：业主使用不当或第三方", "转人工原因：设计瑕疵类诉求由人工处理",
		"业主反馈：回访时业主反映问题又出现了", "业主反馈：还是漏水",
		"评分：响应速度 1 分，服务态度 2 分，维修质量 1 分\n业主留言：等了很久", "业主留言：都等了好久了",
		"超时未答复：" + consult.Number, "保修待确认，费用事后核定。",
	} {
		assert.Contains(t, joined, want)
	}
	joined = strings.Join(read[l10n.English], "\n")
	for _, want := range []string{
		"New question to answer: " + consult.Number, "Category: Policy question · fees", "Urgency: major complaint",
		"Warranty: out of warranty (until 2026-09-28)", "The owner says: at the return visit, the problem is back",
		"Waiting for staff because: Design defect cases are handled by staff", "Scores: response speed 1, attitude 2, quality of the repair 1",
	} {
		assert.Contains(t, joined, want)
	}
}

// noticeHeads returns how each notice of noticeKeys begins in lang: its
// text up to the first placeholder; the triage notice, which begins with
// its title, by each title.
func noticeHeads(lang l10n.Lang) map[string][]string {
	out := map[string][]string{}
	for _, key := range noticeKeys {
		if key == "staff.triage" {
			for _, kind := range []string{"report", "consult", "complaint", "suggestion", "praise", "other"} {
				out[key] = append(out[key], lifecycle.T(lang, "staff.triage_title."+kind))
			}
			continue
		}
		head, _, _ := strings.Cut(lifecycle.T(lang, key), "{")
		out[key] = []string{head}
	}
	return out
}

// TestNoticeCatalogueIsCovered: every notice to supervisors and staff in the
// catalogue is one TestNoticesToStaffAreInWords drives, so that a new one
// is checked too.
func TestNoticeCatalogueIsCovered(t *testing.T) {
	t.Parallel()
	parts := map[string]bool{ // pieces of notices, not notices
		"staff.summary": true, "staff.unassigned": true, "staff.warranty": true, "staff.responsibility": true,
		"staff.reason.return_visit_bad": true, "staff.scores": true, "staff.scores_comment": true,
	}
	for _, lang := range []l10n.Lang{l10n.Chinese, l10n.English} {
		for _, key := range lifecycle.CatalogKeys(lang) {
			if !strings.HasPrefix(key, "staff.") || parts[key] || strings.HasPrefix(key, "staff.triage_title.") {
				continue
			}
			assert.Contains(t, noticeKeys, key, "a notice to staff the test does not drive")
		}
	}
}
