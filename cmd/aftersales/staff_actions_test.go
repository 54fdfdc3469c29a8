package main

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/lifecycle"
	"github.com/aftersales/aftersales/staff"
)

// The staff's actions on cases, end to end: the real Main on the fake
// platforms and clock, a homeowner on Telegram, an engineer on WeChat, and a
// staff member acting through the lifecycle service as the console and the
// API do. What the owner and the engineer receive is compared with golden
// transcripts, one per owner's language.

// TestStaffActionsZH: every staff action, the owner writing in Chinese.
func TestStaffActionsZH(t *testing.T) { testStaffActions(t, "zh") }

// TestStaffActionsEN: the same, the owner writing in English.
func TestStaffActionsEN(t *testing.T) { testStaffActions(t, "en") }

// staffStory is a run of staff actions told as a transcript: what staff
// did, then what the owner and the engineer received.
type staffStory struct {
	t        *testing.T
	w        *lifecycleWorld
	ctx      context.Context
	en       bool
	staff    casework.Actor
	owner    *casework.Owner
	unit     *casework.Unit
	numbers  []string // the cases in the order registered: A, B, C…
	tr       strings.Builder
	ownerAt  int // owner's messages already written
	engineAt int // engineer's messages already written
}

// pick returns the owner's language's variant.
func (s *staffStory) pick(zh, en string) string {
	if s.en {
		return en
	}
	return zh
}

func newStaffStory(t *testing.T, lang string) *staffStory {
	t.Helper()
	w := newLifecycleWorld(t, "")
	s := &staffStory{t: t, w: w, ctx: context.Background(), en: lang == "en", staff: casework.Staff("7")}
	if s.en {
		w.owner.user.LanguageCode = "en"
	}
	w.bindEngineer("吴海涛")

	// 林晓峰 of 3-1-201 used the bot before and proved his phone: the
	// account he reports from is his, in his language.
	owners, err := w.m.Store.FindOwnersByPhone(s.ctx, "13900000016")
	require.NoError(t, err)
	require.Len(t, owners, 1)
	s.owner = owners[0]
	units, err := w.m.Store.OwnerUnits(s.ctx, s.owner.ID)
	require.NoError(t, err)
	require.Len(t, units, 1)
	s.unit = units[0]
	w.tg.AddUser(w.owner.user)
	proven := w.wx.Now().Add(-24 * time.Hour)
	require.NoError(t, w.m.Store.SaveChatIdentity(s.ctx, &casework.ChatIdentity{
		Platform: "telegram", UserID: strconv.FormatInt(w.owner.id(), 10), OwnerID: s.owner.ID, UnitID: s.unit.ID, Lang: lang,
		VerifiedPhone: s.owner.Phone, VerifiedAt: &proven, VerifiedBy: casework.VerifyTelegramContact,
	}))
	s.ownerAt = len(w.tg.Sent(w.owner.id()))
	s.engineAt = len(w.wx.SentTo(w.engineer.openID))
	return s
}

// register stores a case of the owner's as the chat registers one (with
// its deadline timers) and has the bot triage it: each waits for staff.
func (s *staffStory) register(change func(c *casework.Case)) *casework.Case {
	s.t.Helper()
	c := &casework.Case{
		ProjectID: s.unit.ProjectID, BuildingID: s.unit.BuildingID, UnitID: s.unit.ID, OwnerID: s.owner.ID,
		OwnerName: s.owner.Name, OwnerPhone: s.owner.Phone,
		Location: casework.LocationBedroom, LocationDetail: s.pick("飘窗", "bay window"),
		Description: s.pick("飘窗下面的墙在渗水", "The wall under the bay window is damp"),
		Channel:     casework.ChannelTelegram, ReceivedAt: s.w.wx.Now(), ReceivedBy: casework.ActorBot,
		Category: casework.CategoryEngineeringQuality, Subcategory: casework.SubLeak, Urgency: casework.UrgencyNormal,
		WarrantyStatus:   casework.WarrantyUnknown,
		ReporterPlatform: "telegram", ReporterUserID: strconv.FormatInt(s.w.owner.id(), 10), IdentityVerified: true,
		ContactTime: s.pick("晚上", "evenings"),
	}
	if change != nil {
		change(c)
	}
	s.w.m.sla.SetDeadlines(c)
	require.NoError(s.t, s.w.m.Store.CreateCaseWith(s.ctx, c, casework.Effects{Timers: lifecycle.DeadlineTimers(c)}))
	c, err := s.w.m.Lifecycle.Triage(s.ctx, c)
	require.NoError(s.t, err)
	require.Equal(s.t, casework.StateRegistered, c.State, "case %s waits for staff", c.Number)
	s.numbers = append(s.numbers, c.Number)
	return c
}

// section starts a part of the transcript.
func (s *staffStory) section(title string) { fmt.Fprintf(&s.tr, "\n=== %s ===\n", title) }

// does records what the staff member did.
func (s *staffStory) does(what string) { fmt.Fprintf(&s.tr, "staff (%s): %s\n", s.staff, what) }

// idle waits until the job queue has done what is due: every message
// delivered, every timer due fired.
func (s *staffStory) idle() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), idleTimeout)
	defer cancel()
	require.NoError(s.t, s.w.m.jobs.WaitIdle(ctx))
}

// advance moves the clock by d (a number of days and a little) once the
// queue is idle, and waits until what fell due meanwhile was done.
func (s *staffStory) advance(d time.Duration) {
	s.t.Helper()
	s.idle()
	s.w.advance(d)
	s.idle()
	fmt.Fprintf(&s.tr, "(%d days later)\n", int(d/(24*time.Hour)))
}

// received writes what the owner and the engineer were sent since the last
// call; nothing is written as "(nothing)".
func (s *staffStory) received() {
	s.t.Helper()
	s.idle()
	indent := func(text string) string { return strings.ReplaceAll(text, "\n", "\n      ") }
	n := 0
	sent := s.w.tg.Sent(s.w.owner.id())
	for _, m := range sent[s.ownerAt:] {
		n++
		method := ""
		if m.Method != "sendMessage" {
			method = " (" + m.Method + ")"
		}
		fmt.Fprintf(&s.tr, "  → owner%s: %s\n", method, indent(m.Text))
		if m.ReplyMarkup != nil {
			for _, b := range m.ReplyMarkup.InlineButtons() {
				fmt.Fprintf(&s.tr, "      [%s] %s\n", b.Text, b.CallbackData)
			}
		}
	}
	s.ownerAt = len(sent)
	wx := s.w.wx.SentTo(s.w.engineer.openID)
	for _, m := range wx[s.engineAt:] {
		n++
		fmt.Fprintf(&s.tr, "  → engineer (%s %s): %s\n", m.Kind, m.MsgType, indent(m.Content))
	}
	s.engineAt = len(wx)
	if n == 0 {
		s.tr.WriteString("  (nothing)\n")
	}
}

// ownerTaps presses the button with payload on the newest message showing
// it and waits for want.
func (s *staffStory) ownerTaps(label, payload, want string) {
	s.t.Helper()
	s.received()
	fmt.Fprintf(&s.tr, "owner taps [%s]\n", label)
	s.w.owner.press(payload, want)
	s.received()
}

// ownerSays sends text and waits for want.
func (s *staffStory) ownerSays(text, want string) {
	s.t.Helper()
	fmt.Fprintf(&s.tr, "owner writes: %s\n", text)
	s.w.owner.say(text, want)
	s.received()
}

// transitions returns the actions and actors of a case's transitions.
func (s *staffStory) transitions(number string) (actions []casework.Action, actors []casework.Actor) {
	s.t.Helper()
	c, err := s.w.m.Store.FindCaseByNumber(s.ctx, number)
	require.NoError(s.t, err)
	evs, err := s.w.m.Store.ListCaseEvents(s.ctx, c.ID)
	require.NoError(s.t, err)
	for _, e := range evs {
		if e.Kind == casework.EventTransition {
			actions = append(actions, e.Action)
			actors = append(actors, e.Actor)
		}
	}
	return actions, actors
}

// transcript returns the story with what changes from run to run replaced:
// the case numbers by SH-A, SH-B… in the order registered, then dates,
// times and media keys.
func (s *staffStory) transcript() string {
	out := s.tr.String()
	for i, n := range s.numbers {
		out = strings.ReplaceAll(out, n, "SH-"+string(rune('A'+i)))
	}
	return normalizeTranscript(out, "SH-NONE")
}

func testStaffActions(t *testing.T, lang string) {
	s := newStaffStory(t, lang)
	ctx, svc := s.ctx, s.w.m.Lifecycle
	wu := s.w.member("吴海涛")

	// A repair staff accept and dispatch; the engineer takes it.
	s.section("1. accept and dispatch a repair that waited for staff (受理、派工)")
	a := s.register(nil)
	s.does("accept " + a.Number + ", work order to 华信建设集团有限公司 吴海涛")
	got, err := svc.Accept(ctx, a.Number, s.staff, "", wu.PartyID, wu.ID)
	require.NoError(t, err)
	require.Equal(t, casework.StateDispatched, got.State)
	s.w.owner.expect(s.pick("已受理并派给", "is accepted and assigned to"))
	s.w.engineer.expect("【派工单】" + a.Number)
	s.received()
	fmt.Fprintf(&s.tr, "engineer replies: 1\n")
	s.w.engineer.say("1", "已接单")
	s.w.owner.expect(s.pick("吴海涛 已接单", "吴海涛 took your report"))
	s.received()

	// Hold: both told the reason and the date.
	s.section("2. hold (挂起) until a date, with a reason")
	until := s.w.wx.Now().Add(3 * 24 * time.Hour)
	reason := s.pick("防水材料缺货，厂家 3 天后到货", "The waterproofing membrane is out of stock; the supplier delivers in 3 days")
	s.does("hold " + a.Number + " until " + until.In(casework.ChinaTime()).Format("2006-01-02") + ": " + reason)
	held, err := svc.Hold(ctx, a.Number, s.staff, reason, until)
	require.NoError(t, err)
	require.Equal(t, casework.StateOnHold, held.State)
	s.w.owner.expect(reason)
	s.w.engineer.expect(reason)
	s.received()

	// Still on hold on that date: the supervisors are told, nobody else.
	s.section("3. still on hold on the date: the supervisors are told, nobody else")
	s.advance(3*24*time.Hour + time.Minute)
	s.received()
	c, err := s.w.m.Store.FindCaseByNumber(ctx, a.Number)
	require.NoError(t, err)
	require.NotNil(t, c.EscalatedAt, "escalated to the supervisors")

	// Resume: the unmet deadlines move later by the time on hold.
	s.section("4. resume (恢复): the deadlines still running move later by the time on hold")
	s.does("resume " + a.Number)
	resumed, err := svc.Resume(ctx, a.Number, s.staff, "材料已到")
	require.NoError(t, err)
	require.Equal(t, casework.StateDispatched, resumed.State)
	onHold := s.w.wx.Now().Sub(held.UpdatedAt)
	assert.InDelta(t, float64(got.ResolveBy.Add(onHold).Unix()), float64(resumed.ResolveBy.Unix()), 60, "resolve by moved by the time on hold")
	assert.True(t, got.RespondBy.Equal(*resumed.RespondBy), "the response was met: its deadline stays")
	s.w.owner.expect(s.pick("已恢复处理", "has resumed"))
	s.w.engineer.expect("已恢复处理")
	s.received()

	// Cancel at the owner's request.
	s.section("5. cancel (撤销) at the owner's request")
	why := s.pick("已自行找人修好", "already fixed privately")
	s.does("cancel " + a.Number + ": " + why)
	cancelled, err := svc.Cancel(ctx, a.Number, s.staff, why)
	require.NoError(t, err)
	require.Equal(t, casework.StateCancelled, cancelled.State)
	s.w.owner.expect(why)
	s.w.engineer.expect("已撤销")
	s.received()
	actions, actors := s.transitions(a.Number)
	assert.Equal(t, []casework.Action{"accept", "dispatch", "hold", "resume", "cancel"}, actions)
	for _, who := range actors {
		assert.Equal(t, s.staff, who, "every step names the staff member")
	}

	// Reject out of warranty: the paid repair and the property manager.
	s.section("6. reject (不予受理) out of warranty")
	expired := s.w.wx.Now().In(casework.ChinaTime()).AddDate(-1, 0, 0)
	b := s.register(func(c *casework.Case) {
		c.Subcategory, c.Location, c.LocationDetail = casework.SubDecoration, casework.LocationLivingRoom, s.pick("客厅墙面", "living room wall")
		c.Description = s.pick("客厅墙面涂料起皮", "The paint on the living room wall is peeling")
		c.WarrantyStatus = casework.WarrantyOut
		c.WarrantyUntil = casework.Date{Year: expired.Year(), Month: expired.Month(), Day: expired.Day()}
	})
	s.does("reject " + b.Number + ": out of warranty")
	_, err = svc.Reject(ctx, b.Number, s.staff, lifecycle.RejectOutOfWarranty, "", "")
	require.NoError(t, err)
	s.w.owner.expect(s.pick("有偿维修", "paid repair"))
	s.received()

	// Close the rejected case: the owner had the explanation.
	s.section("7. close (归档) the rejected case: the owner had the explanation, nothing more is sent")
	s.does("close " + b.Number)
	closed, err := svc.Close(ctx, b.Number, s.staff, "")
	require.NoError(t, err)
	require.Equal(t, casework.StateClosed, closed.State)
	s.received()

	// A consultation: accepted, answered, settled.
	s.section("8. a consultation (咨询) accepted, answered and settled")
	k := s.register(func(c *casework.Case) {
		c.Category, c.Subcategory, c.Location, c.LocationDetail = casework.CategoryPolicyConsultation, casework.SubCertificate, "", ""
		c.Description, c.WarrantyStatus = s.pick("房产证什么时候能办下来？", "When will the property certificate be ready?"), casework.WarrantyNone
	})
	s.does("accept " + k.Number)
	_, err = svc.Accept(ctx, k.Number, s.staff, "", 0, 0)
	require.NoError(t, err)
	s.w.owner.expect(s.pick("已受理，我们会在", "is accepted; we will answer you by"))
	s.received()
	answer := s.pick("您好，3 号楼的不动产权证预计 6 月底办理完毕，届时我们会短信通知您到售后服务中心领取。",
		"Hello, the property certificates of building 3 should be ready by the end of June; we will text you when you can collect yours at the service centre.")
	s.does("answer " + k.Number + ": " + answer)
	_, err = svc.Answer(ctx, k.Number, s.staff, answer)
	require.NoError(t, err)
	s.w.owner.expect(answer)
	s.ownerTaps(s.pick("问题已解决", "Settled"), lifecycle.Payload(lifecycle.ActAccept, k.Number), s.pick("感谢您的确认", "Thank you for confirming"))
	c = s.w.waitState(k.Number, casework.StateClosed)
	assert.Nil(t, c.Survey, "no survey of an answer")
	actions, _ = s.transitions(k.Number)
	assert.Equal(t, []casework.Action{"accept", "answer", "owner_accept", "close"}, actions)

	// A complaint: answered, not settled, answered again, settled.
	s.section("9. a complaint (投诉) answered, not settled, answered again and settled")
	d := s.register(func(c *casework.Case) {
		c.Category, c.Subcategory, c.Location, c.LocationDetail = casework.CategoryServiceAttitude, casework.SubStaff, "", ""
		c.Description, c.WarrantyStatus = s.pick("打了三次客服电话都没人接", "I called the service line three times and nobody answered"), casework.WarrantyNone
	})
	first := s.pick("您好，经核实，3 月 7 日热线线路故障，当天来电未能接通，现已修复。给您带来不便，非常抱歉。",
		"Hello, we checked: the service line was down on 7 March, so calls that day did not get through; it is fixed now. We are sorry for the trouble.")
	s.does("answer " + d.Number + " (still registered: accepted and answered in one step): " + first)
	_, err = svc.Answer(ctx, d.Number, s.staff, first)
	require.NoError(t, err)
	s.w.owner.expect(first)
	s.ownerTaps(s.pick("仍有疑问", "I still have questions"), lifecycle.Payload(lifecycle.ActNotFixed, d.Number, lifecycle.ArgAnswer),
		s.pick("还有哪些疑问", "still unclear"))
	still := s.pick("我是 3 月 9 日和 10 日打的，不是 7 日", "I called on 9 and 10 March, not on the 7th")
	s.ownerSays(still, s.pick("再次答复", "answer you again"))
	c = s.w.waitState(d.Number, casework.StateReopened)
	assert.Zero(t, c.RepairCount, "an answer found wanting is no repeat repair")
	assert.Zero(t, c.PartyID, "no engineer is involved")
	second := s.pick("再次核实后，9 日和 10 日是值班人员漏接，我们已批评教育并调整排班，并请主管明天上午给您回电致歉。",
		"We checked again: on 9 and 10 March the staff on duty missed your calls. We have spoken to them and changed the rota, and a supervisor will call you tomorrow morning to apologise.")
	s.does("answer " + d.Number + " again: " + second)
	_, err = svc.Answer(ctx, d.Number, s.staff, second)
	require.NoError(t, err)
	s.w.owner.expect(second)
	s.ownerTaps(s.pick("问题已解决", "Settled"), lifecycle.Payload(lifecycle.ActAccept, d.Number), s.pick("感谢您的确认", "Thank you for confirming"))
	s.w.waitState(d.Number, casework.StateClosed)
	actions, _ = s.transitions(d.Number)
	assert.Equal(t, []casework.Action{"accept", "answer", "owner_reject", "answer", "owner_accept", "close"}, actions)

	// A suggestion answered; the owner says nothing: settled after the wait.
	s.section("10. a suggestion (建议) answered; the owner says nothing for 7 days")
	e := s.register(func(c *casework.Case) {
		c.Category, c.Subcategory, c.Location, c.LocationDetail = casework.CategoryOther, casework.SubSuggestion, "", ""
		c.Description, c.WarrantyStatus = s.pick("建议在小区湖边加几张长椅", "Please add a few benches by the lake"), casework.WarrantyNone
	})
	benches := s.pick("感谢您的建议！物业已采购 6 张长椅，下月安装在湖边步道。", "Thank you for the suggestion! Property management has bought 6 benches; they go along the lake path next month.")
	s.does("answer " + e.Number + ": " + benches)
	_, err = svc.Answer(ctx, e.Number, s.staff, benches)
	require.NoError(t, err)
	s.w.owner.expect(benches)
	s.received()
	s.advance(7*24*time.Hour + time.Minute)
	s.w.owner.expect(s.pick("视为问题已解决", "take it as settled"))
	s.received()
	c = s.w.waitState(e.Number, casework.StateClosed)
	actions, actors = s.transitions(e.Number)
	assert.Equal(t, []casework.Action{"accept", "answer", "owner_accept", "close"}, actions)
	assert.Equal(t, casework.ActorSystem, actors[2], "settled by the owner's silence")

	// Reassign: the engineer who had the order is told it is withdrawn.
	s.section("11. reassign (改派) from the engineer who took the order to another")
	f := s.register(nil)
	_, err = svc.Accept(ctx, f.Number, s.staff, "", wu.PartyID, wu.ID)
	require.NoError(t, err)
	s.w.engineer.expect("【派工单】" + f.Number)
	s.w.engineer.say("1", "已接单")
	s.idle()
	s.ownerAt = len(s.w.tg.Sent(s.w.owner.id()))
	s.engineAt = len(s.w.wx.SentTo(s.w.engineer.openID))
	zhou := s.w.member("周建国")
	s.does("reassign " + f.Number + " from 吴海涛 to 周建国")
	moved, err := svc.Dispatch(ctx, f.Number, s.staff, zhou.PartyID, zhou.ID)
	require.NoError(t, err)
	require.Equal(t, zhou.ID, moved.AssigneeID)
	s.w.engineer.expect("已改派")
	s.received()

	// Every message about these cases went out; none failed.
	for _, n := range s.numbers {
		c, err := s.w.m.Store.FindCaseByNumber(ctx, n)
		require.NoError(t, err)
		out, err := s.w.m.Store.ListOutbox(ctx, c.ID)
		require.NoError(t, err)
		for _, o := range out {
			assert.Equal(t, casework.OutboxSent, o.Status, "outbox %d (%s to %s) of %s: %s", o.ID, o.Purpose, o.Platform, n, o.LastError)
		}
	}
	got2 := s.transcript()
	assert.NotContains(t, got2, "{", "every placeholder filled")
	for _, raw := range []string{"policy_consultation", "service_attitude", "engineering_quality", "on_hold", "owner_accept"} {
		assert.NotContains(t, got2, raw, "no raw codes reach the owner or the engineer")
	}
	compareGolden(t, "staff_actions_"+lang+".txt", got2)
	if !s.en {
		// What the staff typed is Chinese in this story: the timeline must
		// read as Chinese, every note the service wrote in words.
		requireTimelineInWords(t, s.w.m, s.numbers, "HXJS", "SH-")
	}
}

// TestAnswerWaitSetting: AFTERSALES_ANSWER_WAIT is a positive duration, and
// the wait it sets is the one the owner is told of and the timer keeps.
func TestAnswerWaitSetting(t *testing.T) {
	for _, v := range []string{"soon", "0s", "-1h", "7days"} {
		var out, errOut strings.Builder
		code := run(context.Background(), []string{"migrate"}, env("AFTERSALES_ANSWER_WAIT", v, "AFTERSALES_DATA_DIR", t.TempDir()), nil, &out, &errOut)
		assert.Equal(t, exitUsage, code, "AFTERSALES_ANSWER_WAIT=%s", v)
		assert.Contains(t, errOut.String(), "AFTERSALES_ANSWER_WAIT", v)
	}
	assert.Equal(t, "7d", DefaultConfig().AnswerWait)

	m, _ := runMain(t, true, func(c *Config) { c.AnswerWait = "36h" })
	ctx := context.Background()
	owners, err := m.Store.FindOwnersByPhone(ctx, "13900000016")
	require.NoError(t, err)
	require.Len(t, owners, 1)
	units, err := m.Store.OwnerUnits(ctx, owners[0].ID)
	require.NoError(t, err)
	require.NoError(t, m.Store.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "web", UserID: "visitor-1", Lang: "zh"}))
	c := &casework.Case{
		ProjectID: units[0].ProjectID, BuildingID: units[0].BuildingID, UnitID: units[0].ID, OwnerID: owners[0].ID,
		OwnerName: owners[0].Name, OwnerPhone: owners[0].Phone, Description: "物业费怎么交？",
		Channel: casework.ChannelWeb, ReceivedAt: m.now(), ReceivedBy: casework.ActorBot,
		Category: casework.CategoryPolicyConsultation, Subcategory: casework.SubFees, Urgency: casework.UrgencyNormal,
		ReporterPlatform: "web", ReporterUserID: "visitor-1",
	}
	m.sla.SetDeadlines(c)
	require.NoError(t, m.Store.CreateCase(ctx, c))
	_, err = m.Lifecycle.Answer(ctx, c.Number, casework.Staff("7"), "可在物业前台或小程序缴纳。")
	require.NoError(t, err)
	out, err := m.Store.ListOutbox(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, out, 1)
	assert.Contains(t, lifecycle.OutboxText(out[0].Payload), "36 小时内没有收到您的回复")
}

// timelineLatin finds, on the console's case page in Chinese, the timeline
// entries that still carry words of English (three Latin letters or more
// in a row, but for the party codes and names given): a note the page does
// not say in the reader's language.
var timelineEntry = regexp.MustCompile(`(?s)<li><time>[^<]*</time> <span class="actor">[^<]*</span>(.*?)</li>`)
var latinWord = regexp.MustCompile(`[A-Za-z]{3,}`)

// requireTimelineInWords signs a supervisor in to the console of m and
// checks that the timeline of every case numbers names is said in Chinese.
func requireTimelineInWords(t *testing.T, m *Main, numbers []string, allowed ...string) {
	t.Helper()
	ctx := t.Context()
	require.NoError(t, m.Staff.AddUser(ctx, &staff.User{Username: "timeline-reader", Role: staff.RoleSupervisor}, "timeline-reader-password", "test"))
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := &http.Client{Jar: jar}
	base := "http://" + m.Addr()
	resp, err := client.PostForm(base+"/console/login", url.Values{"username": {"timeline-reader"}, "password": {"timeline-reader-password"}})
	require.NoError(t, err)
	resp.Body.Close()
	for _, n := range numbers {
		resp, err := client.Get(base + "/console/cases/" + n)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, n)
		entries := timelineEntry.FindAllStringSubmatch(string(body), -1)
		require.NotEmpty(t, entries, "the timeline of %s", n)
		for _, e := range entries {
			text := html.UnescapeString(e[1])
			if i := strings.Index(text, "消息发送失败"); i >= 0 {
				// The platform's own error is quoted as it came.
				if j := strings.Index(text[i:], "次："); j >= 0 {
					text = text[:i+j]
				}
			}
			for _, a := range allowed {
				text = strings.ReplaceAll(text, a, "")
			}
			assert.Empty(t, latinWord.FindAllString(text, -1), "a timeline entry of %s not in words: %q", n, html.UnescapeString(e[1]))
		}
	}
}
