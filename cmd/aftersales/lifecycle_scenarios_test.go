package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/bot/telegram/telegramtest"
	"github.com/aftersales/aftersales/bot/wechat/wechattest"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/lifecycle"
)

// The lifecycle's scenarios at the service level: the real Main on fake
// platforms and a fake clock, one behaviour each — a restart, a missed
// deadline, an urgent order nobody takes, a repair that fails twice, a low
// survey score, a rejection, an engineer's binding, a survey nobody answers.
// Owners and engineers talk on Telegram, so that these tests run in
// parallel; only the restart keeps an engineer on WeChat, whose SDK has
// process globals.

// scenarioAPIToken is the staff API's bearer token in the scenarios.
const scenarioAPIToken = "scenario-staff-token-0123456789"

// idleTimeout bounds a wait for the job queue: River's scheduler makes due
// timers available every 5 s, and its leader may have to be elected again
// after the clock jumped.
const idleTimeout = 20 * time.Second

// resident is a homeowner of the example project as they introduce
// themselves in the report dialogue.
type resident struct{ name, unit, phone string }

// Homeowners of building 3 on the example project's register, each with a
// home of their own, so that no one is told about another's case.
var (
	residentLin = resident{"林晓峰", "3-1-201", "13900000016"}
	residentGuo = resident{"郭敏", "3-1-601", "13900000018"}
	residentMa  = resident{"马超", "3-1-802", "13900000019"}
)

// scenario is the service of a lifecycle scenario: the real Main, with the
// example project, on a fake Telegram (and, when asked, a fake WeChat) and a
// fake clock, with the staff API on. It can be stopped and started again on
// the same data directory, platforms and people.
type scenario struct {
	t     *testing.T
	dir   string
	clock *testclock.Clock
	tg    *telegramtest.Server
	wx    *wechattest.Server // nil: WeChat is off
	m     *Main
	stop  func()
	// wxEngineer is an engineer's account on WeChat, when WeChat is on.
	wxEngineer *wxOwner
}

// newScenario starts the service; withWeChat turns WeChat on too (such a
// test must not run in parallel with another that does).
func newScenario(t *testing.T, withWeChat bool) *scenario {
	t.Helper()
	s := &scenario{t: t, dir: t.TempDir(), clock: testclock.NewRunning(testclock.Start()), tg: telegramtest.NewServer(t, newBotToken())}
	if withWeChat {
		s.wx = wechattest.NewServer(t, wxAppID, wxSecret)
		s.wx.AddTemplate(wxTemplate, "first", "keyword1", "keyword2", "remark")
		s.wx.SetNow(s.clock.Now) // one clock for WeChat's windows and the service
		s.wxEngineer = &wxOwner{t: t, srv: s.wx, openID: fmt.Sprintf("oEng%012d", randomUserID(t)%1e12)}
	}
	s.start()
	return s
}

// start starts a Main on the scenario's data directory and platforms.
func (s *scenario) start() {
	s.t.Helper()
	s.m, s.stop = runMain(s.t, true, func(c *Config) {
		telegramConfig(s.tg)(c)
		c.DataDir = s.dir
		c.nowFunc = s.clock.Now
		c.APIToken = scenarioAPIToken
		if s.wx != nil {
			c.WeChatAppID, c.WeChatSecret, c.WeChatToken = wxAppID, wxSecret, wxToken
			c.WeChatAPIURL, c.WeChatTemplateID = s.wx.URL(), wxTemplate
		}
	})
	if s.wx != nil {
		s.wxEngineer.p = wechattest.NewPlatform("http://"+s.m.Addr()+"/wechat/callback", wxToken, wxAppID, "", false)
		s.wxEngineer.p.Server = s.wx
	}
}

// restart stops the service and starts another on the same data directory,
// platforms and people, as a deployment does.
func (s *scenario) restart() {
	s.t.Helper()
	s.stop()
	s.start()
}

// world is the scenario as lifecycle_test.go's helpers take it.
func (s *scenario) world() *lifecycleWorld {
	s.t.Helper()
	return &lifecycleWorld{t: s.t, m: s.m, tg: s.tg, wx: s.wx}
}

// member finds a member of the example project's parties by name.
func (s *scenario) member(name string) *casework.Member {
	s.t.Helper()
	return s.world().member(name)
}

// chat returns a new Telegram user talking to the bot.
func (s *scenario) chat(firstName string) *tgChat {
	s.t.Helper()
	return &tgChat{t: s.t, srv: s.tg, user: telegramtest.User{ID: randomUserID(s.t), FirstName: firstName, LanguageCode: "zh-hans"}}
}

// bindOnTelegram binds a new Telegram account to the member named, with a
// code staff issued, and returns it.
func (s *scenario) bindOnTelegram(name string) *tgChat {
	s.t.Helper()
	code, err := s.m.Lifecycle.IssueBindCode(context.Background(), s.member(name).ID, casework.Staff("test"))
	require.NoError(s.t, err)
	c := s.chat(name)
	c.srv.SendCommand(c.user, "bind", code.Code)
	c.expect("绑定成功")
	return c
}

// who is the chat account as the lifecycle sees it when it acts.
func (s *scenario) who(c *tgChat) lifecycle.Who {
	s.t.Helper()
	id, err := s.m.Store.FindChatIdentity(context.Background(), string(bot.Telegram), strconv.FormatInt(c.id(), 10))
	require.NoError(s.t, err)
	return lifecycle.Who{User: bot.UserRef{Platform: bot.Telegram, ID: id.UserID}, Identity: id}
}

// report has the Telegram user o report a problem of category
// ("engineering_quality/leak") in the bathroom of r's home, in words, with a
// photo, and submit it; it returns the case registered.
func (s *scenario) report(o *tgChat, r resident, category, words string) *casework.Case {
	s.t.Helper()
	o.srv.SendCommand(o.user, "start", "")
	o.expect("请选择您要办理的事项")
	o.press("menu:report", "请问您的姓名")
	o.say(r.name, "房号")
	o.say(r.unit, "电话")
	o.srv.SendContact(o.user, "+86"+r.phone, o.user.ID)
	o.expect("什么问题")
	o.press("cat:"+category, "位置")
	o.press("loc:bathroom", "描述")
	o.say(words, "什么时候开始")
	o.press("occ:today", "照片")
	o.srv.SendPhoto(o.user, pngBytes, 0)
	o.expect("已收到 1 个附件")
	o.press("media:done", "怎样解决")
	o.press("exp:repair", "联系")
	o.press("ct:anytime", "以上内容都对吗")
	o.srv.PressButton(o.user, o.withButton("sum:submit"), "sum:submit")
	var number string
	for _, msg := range o.expect("诉求编号") {
		if n := caseNumberRe.FindString(msg.Text); n != "" && strings.Contains(msg.Text, "诉求编号") {
			number = n
		}
	}
	require.NotEmpty(s.t, number, "the owner was told the case's number")
	c, err := s.m.Store.FindCaseByNumber(context.Background(), number)
	require.NoError(s.t, err)
	return c
}

// load returns the case as it is now.
func (s *scenario) load(number string) *casework.Case {
	s.t.Helper()
	c, err := s.m.Store.FindCaseByNumber(context.Background(), number)
	require.NoError(s.t, err)
	return c
}

// waitState waits until the case reaches state.
func (s *scenario) waitState(number string, state casework.State) *casework.Case {
	s.t.Helper()
	var c *casework.Case
	require.Eventually(s.t, func() bool {
		var err error
		c, err = s.m.Store.FindCaseByNumber(context.Background(), number)
		return err == nil && c.State == state
	}, 15*time.Second, 20*time.Millisecond, "case %s never reached %s", number, state)
	return c
}

// idle waits until the job queue has nothing to do now: every timer that is
// due has fired and every message queued was delivered (or waits for a
// retry).
func (s *scenario) idle() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), idleTimeout)
	defer cancel()
	require.NoError(s.t, s.m.jobs.WaitIdle(ctx))
}

// advance moves the clock by d once the queue is idle (River takes a job
// that runs across a jump of an hour for stuck), and waits until what fell
// due meanwhile was done.
func (s *scenario) advance(d time.Duration) {
	s.t.Helper()
	s.idle()
	s.clock.Advance(d)
	s.idle()
}

// events returns the kinds of events on a case's timeline, counted.
func (s *scenario) events(caseID int64) map[casework.EventKind]int {
	s.t.Helper()
	evs, err := s.m.Store.ListCaseEvents(context.Background(), caseID)
	require.NoError(s.t, err)
	out := map[casework.EventKind]int{}
	for _, e := range evs {
		out[e.Kind]++
	}
	return out
}

// transitions returns the actions of a case's state changes, in order.
func (s *scenario) transitions(caseID int64) []string {
	s.t.Helper()
	evs, err := s.m.Store.ListCaseEvents(context.Background(), caseID)
	require.NoError(s.t, err)
	var out []string
	for _, e := range evs {
		if e.Kind == casework.EventTransition {
			out = append(out, string(e.Action))
		}
	}
	return out
}

// allSent asserts that every outbox message of the case was sent.
func (s *scenario) allSent(caseID int64) []*casework.OutboxMessage {
	s.t.Helper()
	out, err := s.m.Store.ListOutbox(context.Background(), caseID)
	require.NoError(s.t, err)
	for _, o := range out {
		assert.Equal(s.t, casework.OutboxSent, o.Status, "outbox %d (%s to %s): %s", o.ID, o.Purpose, o.Platform, o.LastError)
	}
	return out
}

// api calls the staff API with the staff token and decodes its JSON answer.
func (s *scenario) api(method, path string, body any) (int, map[string]any) {
	s.t.Helper()
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(s.t, err)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, "http://"+s.m.Addr()+path, r)
	require.NoError(s.t, err)
	req.Header.Set("Authorization", "Bearer "+scenarioAPIToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(s.t, json.NewDecoder(resp.Body).Decode(&out), "%s %s", method, path)
	return resp.StatusCode, out
}

// TestNotFixedTwiceEscalatesTheThirdRepair: the owner answers "not fixed"
// to a finished repair twice; each time the case goes back to the engineer
// as a repeat repair order, and the second time — the third repair of one
// defect — the supervisor is told and the case is escalated.
func TestNotFixedTwiceEscalatesTheThirdRepair(t *testing.T) {
	t.Parallel()
	s := newScenario(t, false)
	ctx := context.Background()
	supervisor := s.bindOnTelegram("林峰")
	engineer := s.bindOnTelegram("吴海涛")
	owner := s.chat("晓峰")
	c := s.report(owner, residentLin, "engineering_quality/leak", "飘窗下面的墙在渗水")
	owner.expect("已受理并派给")
	engineer.expect("【派工单】" + c.Number)
	who := s.who(engineer)

	repair := func() {
		t.Helper()
		_, err := s.m.Lifecycle.TakeOrder(ctx, who, c.Number)
		require.NoError(t, err)
		_, err = s.m.Lifecycle.CheckIn(ctx, who, c.Number)
		require.NoError(t, err)
		_, err = s.m.Lifecycle.Complete(ctx, who, c.Number, "", nil)
		require.NoError(t, err)
		owner.expect("已完工，请您查看后验收")
	}
	for n := 1; n <= 2; n++ {
		repair()
		owner.press(lifecycle.Payload(lifecycle.ActNotFixed, c.Number), "请描述一下现在的情况")
		owner.say(fmt.Sprintf("第 %d 次修完还是渗水，墙皮又湿了", n), "已重新安排维修")
		engineer.expect("【返修派工单】" + c.Number)
		got := s.waitState(c.Number, casework.StateDispatched)
		assert.Equal(t, n, got.RepairCount)
		assert.Equal(t, s.member("吴海涛").ID, got.AssigneeID, "back to the same engineer")
		if n == 1 {
			assert.Nil(t, got.EscalatedAt, "a second repair is not escalated")
			assert.Zero(t, s.events(c.ID)[casework.EventEscalated])
		}
	}
	supervisor.expect("重复维修升级：" + c.Number + " 已是第 3 次维修")
	s.idle()
	got := s.load(c.Number)
	require.NotNil(t, got.EscalatedAt)
	assert.Equal(t, 1, s.events(c.ID)[casework.EventEscalated])
	assert.Equal(t, 1, supervisor.count("重复维修升级"), "told once, at the third repair")
	assert.Equal(t, 2, engineer.count("【返修派工单】"))
	assert.Equal(t, 1, engineer.count("这是同一问题的第 2 次维修"), "each repeat order says which repair it is")
	assert.Equal(t, 1, engineer.count("这是同一问题的第 3 次维修"))
	assert.Equal(t, []string{"accept", "dispatch", "inspect", "complete", "owner_reject", "dispatch", "inspect", "complete", "owner_reject", "dispatch"}, s.transitions(c.ID))
	s.allSent(c.ID)
}

// finish walks the case from dispatched to done as its engineer would:
// the order taken, on site, the work done.
func (s *scenario) finish(engineer *tgChat, number string) {
	s.t.Helper()
	ctx, who := context.Background(), s.who(engineer)
	_, err := s.m.Lifecycle.TakeOrder(ctx, who, number)
	require.NoError(s.t, err)
	_, err = s.m.Lifecycle.CheckIn(ctx, who, number)
	require.NoError(s.t, err)
	_, err = s.m.Lifecycle.Complete(ctx, who, number, "", nil)
	require.NoError(s.t, err)
}

// TestLifecycleRestartLosesNothing: the service stops with a visit booked
// (its reminder a timer in the job queue) and a notification whose
// delivery failed (waiting for its retry), and another starts on the same
// database: after the retry's backoff and at the reminder's time the owner
// gets the notification once and the reminder once, the engineer his
// reminder once, and every message of the case was sent once.
func TestLifecycleRestartLosesNothing(t *testing.T) {
	s := newScenario(t, true)
	s.clock.Freeze() // a retry is due only when the test moves the clock
	ctx := context.Background()
	engineer := s.wxEngineer
	code, err := s.m.Lifecycle.IssueBindCode(ctx, s.member("吴海涛").ID, casework.Staff("test"))
	require.NoError(t, err)
	engineer.send(wechattest.Subscribe(engineer.openID), "欢迎")
	engineer.say("/bind "+code.Code, "绑定成功")

	owner := s.chat("晓峰")
	c := s.report(owner, residentLin, "engineering_quality/leak", "飘窗下面的墙在渗水")
	owner.expect("已受理并派给")
	engineer.expect("【派工单】" + c.Number)
	engineer.say("1", "已接单") // 1. 接单
	owner.expect("吴海涛 已接单")
	engineer.say("1", "请选择 1–3 个可以上门的时间") // 1. 提供预约时间
	engineer.say("1", "已选")               // the first candidate
	engineer.say("1", "已把 1 个时间发给业主")     // 1. 发送
	owner.expect("请选一个")
	offered, err := s.m.Store.FindCaseByNumber(context.Background(), c.Number)
	require.NoError(t, err)
	require.Len(t, offered.ProposedSlots, 1)
	owner.press(lifecycle.Payload(lifecycle.ActPick, c.Number, strconv.FormatInt(offered.ProposedSlots[0].Unix(), 10)), "已预约")
	engineer.expect("业主已选定上门时间")
	c = s.waitState(c.Number, casework.StateScheduled)
	require.NotNil(t, c.AppointmentAt)
	s.idle()

	// Staff write to the owner; Telegram refuses the first try (the bot's
	// token was being replaced), which the adapter does not retry itself
	// and which is not final: the message waits for the queue's retry.
	s.tg.FailNext("sendMessage", 1, http.StatusUnauthorized, "Unauthorized", 0)
	require.NoError(t, s.m.Lifecycle.MessageOwner(ctx, c.Number, casework.Staff("test"), "师傅上门前会先给您打电话"))
	var note *casework.OutboxMessage
	require.Eventually(t, func() bool {
		out, err := s.m.Store.ListOutbox(ctx, c.ID)
		require.NoError(t, err)
		for _, o := range out {
			if o.Purpose == "staff_message" && o.Attempts == 1 {
				note = o
				return true
			}
		}
		return false
	}, 15*time.Second, 20*time.Millisecond, "the first try was recorded")
	assert.Equal(t, casework.OutboxPending, note.Status, "pending a retry when the service stops: %s", note.LastError)
	assert.Zero(t, owner.count("售后服务部留言"))

	s.restart()

	// Past the retry's backoff and the reminder's time, on the new instance.
	s.clock.Advance(c.AppointmentAt.Sub(s.clock.Now()) - 2*time.Hour + time.Minute)
	owner.expect("温馨提醒")
	engineer.expect("提醒：")
	s.idle()
	assert.Equal(t, 1, owner.count("温馨提醒"), "the reminder went once")
	assert.Equal(t, 1, engineer.count("提醒："), "the engineer's reminder went once")
	assert.Equal(t, 1, owner.count("售后服务部留言：\n师傅上门前会先给您打电话"), "the failed notification went once, after the restart")

	// Every message of the case was sent, and each reached the owner once
	// (a message whose button was pressed shows the choice after its text).
	out := s.allSent(c.ID)
	reached := func(text string) int {
		n := 0
		for _, msg := range s.tg.Sent(owner.id()) {
			if strings.HasPrefix(msg.Text, text) {
				n++
			}
		}
		return n
	}
	for _, o := range out {
		if o.Platform != string(bot.Telegram) {
			continue
		}
		var p struct {
			Messages []bot.Outbound `json:"messages"`
		}
		require.NoError(t, json.Unmarshal(o.Payload, &p))
		for _, msg := range p.Messages {
			if msg.Kind == bot.OutText {
				assert.Equal(t, 1, reached(msg.Text), "outbox %d (%s) reached the owner once: %q", o.ID, o.Purpose, msg.Text)
			}
		}
		if o.ID == note.ID {
			assert.Equal(t, 1, o.Attempts, "one failed try, before the stop")
		}
	}
}

// TestSLABreachEscalates: a case waiting for staff misses its response
// deadline, and so does one the bot accepted and dispatched but whose
// engineer never acts, which then misses its on-site deadline too: the
// supervisor is told of each once, and each is escalated; deadlines already
// met (the engineer of a third took it and was on site) send nothing.
func TestSLABreachEscalates(t *testing.T) {
	t.Parallel()
	s := newScenario(t, false)
	supervisor := s.bindOnTelegram("林峰")
	engineer := s.bindOnTelegram("吴海涛")

	waiting := s.report(s.chat("晓峰"), residentLin, "design_defect/other", "卫生间的门开向过道，和马桶碰在一起")
	supervisor.expect("新报修待研判：" + waiting.Number)
	assert.Equal(t, casework.StateRegistered, waiting.State, "a design defect waits for staff")
	neglected := s.report(s.chat("敏"), residentGuo, "engineering_quality/leak", "卫生间墙角在渗水")
	engineer.expect("【派工单】" + neglected.Number)
	visited := s.report(s.chat("超"), residentMa, "engineering_quality/leak", "卫生间天花板上有一块水印，摸着有点潮")
	engineer.expect("【派工单】" + visited.Number)
	ctx, who := context.Background(), s.who(engineer)
	_, err := s.m.Lifecycle.TakeOrder(ctx, who, visited.Number)
	require.NoError(t, err)
	_, err = s.m.Lifecycle.CheckIn(ctx, who, visited.Number)
	require.NoError(t, err)
	require.NotNil(t, waiting.RespondBy)
	require.NotNil(t, neglected.OnSiteBy)

	// A day: nobody of the department answered the waiting case, nor the
	// neglected one (the bot's acceptance is no answer); the engineer who
	// took the third did.
	require.False(t, neglected.RespondBy.Before(*waiting.RespondBy))
	s.advance(neglected.RespondBy.Sub(s.clock.Now()) + time.Minute)
	supervisor.expect("超时未响应：" + waiting.Number)
	assert.Equal(t, 1, supervisor.count("超时未响应："+neglected.Number))
	assert.Equal(t, 2, supervisor.count("超时未响应："), "the met response deadline sent nothing")
	for _, c := range []*casework.Case{waiting, neglected} {
		got := s.load(c.Number)
		require.NotNil(t, got.EscalatedAt)
		assert.Equal(t, 1, s.events(c.ID)[casework.EventEscalated])
	}

	// Three days: nobody went to the neglected case's home.
	s.advance(neglected.OnSiteBy.Sub(s.clock.Now()) + time.Minute)
	supervisor.expect("超时未到场：" + neglected.Number + "（吴海涛）")
	got := s.load(neglected.Number)
	require.NotNil(t, got.EscalatedAt)
	assert.Equal(t, 2, s.events(neglected.ID)[casework.EventEscalated], "late to respond, then to be on site")
	assert.Equal(t, 1, supervisor.count("超时未到场："+neglected.Number), "told once")
	assert.Zero(t, supervisor.count(visited.Number), "the engineer was on site in time: nothing")
	assert.Nil(t, s.load(visited.Number).EscalatedAt)
	assert.Zero(t, s.events(visited.ID)[casework.EventEscalated])
	assert.Equal(t, 2, supervisor.count("超时未响应："), "the response deadlines are not told again")
	for _, c := range []*casework.Case{waiting, neglected, visited} {
		s.allSent(c.ID)
	}
}

// TestUrgentOrderNotTakenEscalates: an urgent leak goes at once to the
// routed party's engineer; when he does not take it within 30 minutes the
// supervisor is told; another urgent order he took in time sends nothing.
func TestUrgentOrderNotTakenEscalates(t *testing.T) {
	t.Parallel()
	s := newScenario(t, false)
	supervisor := s.bindOnTelegram("林峰")
	engineer := s.bindOnTelegram("吴海涛")

	owner := s.chat("晓峰")
	late := s.report(owner, residentLin, "engineering_quality/leak", "卫生间水管爆了，水漫出来了")
	owner.expect("已受理并派给")
	assert.Equal(t, casework.UrgencyUrgent, late.Urgency, "the classifier's urgent signals")
	engineer.expect("【派工单】" + late.Number)
	late = s.waitState(late.Number, casework.StateDispatched)
	assert.Equal(t, s.member("吴海涛").ID, late.AssigneeID)

	prompt := s.report(s.chat("敏"), residentGuo, "engineering_quality/leak", "厨房水管爆了，水喷了一地")
	engineer.expect("【派工单】" + prompt.Number)
	engineer.press(lifecycle.Payload(lifecycle.ActTake, prompt.Number), "已接单")

	s.advance(31 * time.Minute)
	supervisor.expect("紧急派工未及时接单：" + late.Number + "（吴海涛）")
	assert.Equal(t, 1, supervisor.count("紧急派工未及时接单"), "the order taken in time sent nothing")
	assert.Zero(t, supervisor.count(prompt.Number))
	require.NotNil(t, s.load(late.Number).EscalatedAt)
	assert.Equal(t, 1, s.events(late.ID)[casework.EventEscalated])
	assert.Nil(t, s.load(prompt.Number).EscalatedAt)
	assert.Zero(t, s.events(prompt.ID)[casework.EventEscalated])
	s.allSent(late.ID)
	s.allSent(prompt.ID)
}

// TestLowSurveyScoreOpensComplaint: the owner accepts the repair and rates
// the attitude 2: a complaint case is opened from the case, the supervisor
// is told, and the case itself is closed with the survey.
func TestLowSurveyScoreOpensComplaint(t *testing.T) {
	t.Parallel()
	s := newScenario(t, false)
	supervisor := s.bindOnTelegram("林峰")
	engineer := s.bindOnTelegram("吴海涛")
	owner := s.chat("晓峰")
	c := s.report(owner, residentLin, "engineering_quality/leak", "飘窗下面的墙在渗水")
	engineer.expect("【派工单】" + c.Number)
	s.finish(engineer, c.Number)

	owner.expect("已完工，请您查看后验收")
	owner.press(lifecycle.Payload(lifecycle.ActAccept, c.Number), "响应速度")
	engineer.expect("业主已验收通过")
	owner.press(lifecycle.Payload(lifecycle.ActRate, c.Number, "speed-4"), "服务态度")
	owner.press(lifecycle.Payload(lifecycle.ActRate, c.Number, "attitude-2"), "维修质量")
	owner.press(lifecycle.Payload(lifecycle.ActRate, c.Number, "quality-4"), "还有什么想对我们说的")
	owner.say("师傅进门不换鞋，说话也很冲", "主管会亲自跟进")
	supervisor.expect("满意度低分，已生成投诉单")

	got := s.waitState(c.Number, casework.StateClosed)
	require.NotNil(t, got.Survey)
	assert.Equal(t, 2, got.Survey.Attitude)
	assert.Equal(t, 1, s.events(c.ID)[casework.EventEscalated])
	assert.Equal(t, []string{"accept", "dispatch", "inspect", "complete", "owner_accept", "survey", "close"}, s.transitions(c.ID))

	ctx := context.Background()
	complaints, n, err := s.m.Store.FindCases(ctx, casework.CaseFilter{Category: casework.CategoryServiceAttitude})
	require.NoError(t, err)
	require.Equal(t, 1, n, "one complaint case")
	k, err := s.m.Store.FindCaseByID(ctx, complaints[0].ID)
	require.NoError(t, err)
	assert.Equal(t, c.ID, k.ParentID)
	assert.Equal(t, casework.UrgencyMajorComplaint, k.Urgency)
	assert.Equal(t, casework.CategoryServiceAttitude, k.Category)
	assert.Equal(t, c.OwnerID, k.OwnerID)
	assert.Equal(t, c.IdentityVerified, k.IdentityVerified, "the complaint is the same owner's, as verified as the case")
	assert.True(t, k.Open(), "the complaint waits for staff")
	assert.Contains(t, k.Description, "attitude 2")
	assert.Contains(t, k.Description, "师傅进门不换鞋")
	require.NotNil(t, k.RespondBy, "the complaint has its deadlines")
	s.idle()
	assert.Equal(t, 1, supervisor.count("满意度低分"), "told once")
	assert.Zero(t, owner.count("感谢您的评价！"), "not thanked as if all were well")
	s.allSent(c.ID)
	s.allSent(k.ID)
}

// TestRejectExplainsToTheOwner: staff reject, through the API, a case that
// waits for them as the owner's own doing: the owner is told patiently why,
// with the rule, and whom to ask instead — property management, by name and
// phone; a reason that is not a template is a 400 naming the field.
func TestRejectExplainsToTheOwner(t *testing.T) {
	t.Parallel()
	s := newScenario(t, false)
	owner := s.chat("晓峰")
	c := s.report(owner, residentLin, "design_defect/other", "卫生间门槛是自己改低的，洗澡水会流到卧室")
	require.Equal(t, casework.StateRegistered, s.load(c.Number).State, "a design defect waits for staff")

	path := "/api/v1/cases/" + c.Number + "/reject"
	for _, bad := range []map[string]any{{"reason": "owner_fault"}, {}, {"reason": "owner_caused", "duplicate_of": c.Number}} {
		status, body := s.api(http.MethodPost, path, bad)
		require.Equal(t, http.StatusBadRequest, status, "%v: %v", bad, body)
		errBody, _ := body["error"].(map[string]any)
		if _, dup := bad["duplicate_of"]; dup {
			assert.Equal(t, "duplicate_of", errBody["field"], "%v", body)
		} else {
			assert.Equal(t, "reason", errBody["field"], "%v", body)
		}
	}
	assert.Equal(t, casework.StateRegistered, s.load(c.Number).State, "refused requests change nothing")

	status, body := s.api(http.MethodPost, path, map[string]any{"reason": "owner_caused", "note": "门槛是装修时改低的"})
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.Equal(t, "rejected", body["case"].(map[string]any)["state"])
	owner.expect("关于您的报修 " + c.Number)
	s.idle()
	var explanation string
	for _, msg := range s.tg.Sent(owner.id()) {
		if strings.Contains(msg.Text, "关于您的报修") {
			explanation = msg.Text
		}
	}
	for _, want := range []string{"装修改造或使用不当", "《房屋建筑工程质量保修办法》第十七条", "海景物业服务有限公司", "021-60000005", "门槛是装修时改低的", "人工"} {
		assert.Contains(t, explanation, want)
	}
	got := s.load(c.Number)
	assert.Equal(t, casework.StateRejected, got.State)
	assert.Contains(t, got.DecisionReason, "owner_caused")

	// Rejecting it again is refused and tells the owner nothing more.
	status, body = s.api(http.MethodPost, path, map[string]any{"reason": "not_responsible"})
	assert.Equal(t, http.StatusConflict, status, "%v", body)
	s.idle()
	assert.Equal(t, 1, owner.count("关于您的报修"))
	s.allSent(c.ID)
}

// TestEngineerBindsThroughTheAPI: an order dispatched to an engineer with
// no chat account waits in the staff API; staff issue him a bind code
// through the API, he binds his Telegram account with it and the waiting
// order comes to him; the code binds once.
func TestEngineerBindsThroughTheAPI(t *testing.T) {
	t.Parallel()
	s := newScenario(t, false)
	owner := s.chat("晓峰")
	c := s.report(owner, residentLin, "engineering_quality/leak", "飘窗下面的墙在渗水")
	owner.expect("已受理并派给")
	c = s.waitState(c.Number, casework.StateDispatched)
	wu := s.member("吴海涛")
	require.Equal(t, wu.ID, c.AssigneeID)

	status, body := s.api(http.MethodGet, "/api/v1/work-orders/waiting", nil)
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.EqualValues(t, 1, body["total"], "%v", body)
	order := body["work_orders"].([]any)[0].(map[string]any)
	assert.Equal(t, c.Number, order["case"].(map[string]any)["number"])
	assert.Equal(t, "吴海涛", order["assignee_name"])

	status, body = s.api(http.MethodPost, fmt.Sprintf("/api/v1/members/%d/bind-codes", wu.ID), nil)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	code, _ := body["code"].(string)
	require.NotEmpty(t, code)
	assert.EqualValues(t, wu.ID, body["member_id"])

	engineer := s.chat("海涛")
	engineer.srv.SendCommand(engineer.user, "bind", code)
	engineer.expect("绑定成功：华信建设集团有限公司 吴海涛")
	engineer.expect("【派工单】" + c.Number)
	impostor := s.chat("某人")
	impostor.srv.SendCommand(impostor.user, "bind", code)
	impostor.expect("绑定码无效")
	engineer.srv.SendCommand(engineer.user, "bind", code)
	engineer.expect("绑定码无效")

	engineer.press(lifecycle.Payload(lifecycle.ActTake, c.Number), "已接单")
	owner.expect("吴海涛 已接单")
	status, body = s.api(http.MethodGet, "/api/v1/work-orders/waiting", nil)
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.EqualValues(t, 0, body["total"], "no order waits any more: %v", body)
	s.idle()
	assert.Equal(t, 1, engineer.count("【派工单】"), "the waiting order was sent once")
	assert.Zero(t, impostor.count("【派工单】"))
	id, err := s.m.Store.FindChatIdentity(context.Background(), string(bot.Telegram), strconv.FormatInt(impostor.id(), 10))
	if err == nil {
		assert.Zero(t, id.MemberID, "a used code binds no one")
	}
	s.allSent(c.ID)
}

// TestSurveyExpires: the owner accepts the repair and never rates it;
// 72 hours later the case is closed, noting that the survey expired, with
// no survey stored, and the owner is told the survey closed. Rating it
// afterwards from the old buttons, the owner is thanked in an owner's words
// and the rating is kept as a note: the case stays closed.
func TestSurveyExpires(t *testing.T) {
	t.Parallel()
	s := newScenario(t, false)
	engineer := s.bindOnTelegram("吴海涛")
	owner := s.chat("晓峰")
	c := s.report(owner, residentLin, "engineering_quality/leak", "飘窗下面的墙在渗水")
	engineer.expect("【派工单】" + c.Number)
	s.finish(engineer, c.Number)
	owner.expect("已完工，请您查看后验收")
	owner.press(lifecycle.Payload(lifecycle.ActAccept, c.Number), "响应速度")
	s.waitState(c.Number, casework.StateOwnerAccepted)

	s.advance(71 * time.Hour)
	assert.Equal(t, casework.StateOwnerAccepted, s.load(c.Number).State, "not before 72 hours")
	s.advance(time.Hour + time.Minute)
	got := s.waitState(c.Number, casework.StateClosed)
	assert.Nil(t, got.Survey, "no survey stored")
	require.NotNil(t, got.ClosedAt)
	evs, err := s.m.Store.ListCaseEvents(context.Background(), c.ID)
	require.NoError(t, err)
	last := evs[len(evs)-1]
	assert.Equal(t, casework.EventTransition, last.Kind)
	assert.Equal(t, casework.ActionClose, last.Action)
	assert.Contains(t, last.Note, "survey expired")
	assert.Equal(t, []string{"accept", "dispatch", "inspect", "complete", "owner_accept", "close"}, s.transitions(c.ID))
	owner.expect("评价已截止")

	owner.press(lifecycle.Payload(lifecycle.ActRate, c.Number, "speed-4"), "服务态度")
	owner.press(lifecycle.Payload(lifecycle.ActRate, c.Number, "attitude-5"), "维修质量")
	owner.press(lifecycle.Payload(lifecycle.ActRate, c.Number, "quality-4"), "还有什么想对我们说")
	owner.say("修得不错", "已作为意见记录")
	assert.Zero(t, owner.count("我的工单"), "no engineer's hint to an owner")
	evs, err = s.m.Store.ListCaseEvents(context.Background(), c.ID)
	require.NoError(t, err)
	assert.Equal(t, "survey answered after it closed: speed 4, attitude 5, quality 4; the owner wrote: 修得不错", evs[len(evs)-1].Note)
	assert.Equal(t, casework.StateClosed, s.load(c.Number).State)
	s.allSent(c.ID)
}

// TestMajorComplaintReachesTheSupervisor: an owner reports cracks in their
// own words, speaking for the whole building after two years and three
// failed repairs, and threatening the housing bureau. The words make it a
// major complaint (重大投诉): it is not dispatched by the bot but waits for
// staff, and the supervisor is told so in chat.
func TestMajorComplaintReachesTheSupervisor(t *testing.T) {
	t.Parallel()
	s := newScenario(t, false)
	supervisor := s.bindOnTelegram("林峰")
	c := s.report(s.chat("晓峰"), residentLin, "engineering_quality/crack",
		"我们这栋楼三十多户的外墙和客厅墙面都裂了，交房两年修了三次还在裂，再不给个说法我们就集体去住建局")
	assert.Equal(t, casework.UrgencyMajorComplaint, c.Urgency)
	assert.Equal(t, casework.StateRegistered, c.State, "waits for staff")
	var notice string
	for _, m := range supervisor.expect("新报修待研判：" + c.Number) {
		if strings.Contains(m.Text, c.Number) {
			notice = m.Text
		}
	}
	assert.Contains(t, notice, "重大投诉")
}

// TestLiftEntrapmentOutOfWarrantyGoesAtOnce: someone is trapped in a lift
// whose warranty has ended. The case does not wait for staff: the lift's
// maintenance company's engineer gets the work order at once, the owner
// hears who comes and that the cost is settled after, and the supervisor's
// notice says so too.
func TestLiftEntrapmentOutOfWarrantyGoesAtOnce(t *testing.T) {
	t.Parallel()
	s := newScenario(t, false)
	supervisor := s.bindOnTelegram("林峰")
	lift := s.bindOnTelegram("何志强")

	o := s.chat("晓峰")
	o.srv.SendCommand(o.user, "start", "")
	o.expect("请选择您要办理的事项")
	o.press("menu:report", "请问您的姓名")
	o.say(residentLin.name, "房号")
	o.say(residentLin.unit, "电话")
	o.srv.SendContact(o.user, "+86"+residentLin.phone, o.user.ID)
	o.expect("什么问题")
	o.say("电梯停在半层不动了，里面困了人", "设施设备 · 电梯")
	o.press("yes", "什么时候开始")
	o.press("occ:today", "照片")
	o.press("media:skip", "怎样解决")
	o.press("exp:repair", "联系")
	o.press("ct:anytime", "以上内容都对吗")
	o.srv.PressButton(o.user, o.withButton("sum:submit"), "sum:submit")
	var number string
	for _, msg := range o.expect("诉求编号") {
		if n := caseNumberRe.FindString(msg.Text); n != "" && strings.Contains(msg.Text, "诉求编号") {
			number = n
		}
	}
	require.NotEmpty(t, number)
	o.expect("费用事后核定")
	o.expect("已受理并派给 通顺电梯工程有限公司 何志强")

	c := s.waitState(number, casework.StateDispatched)
	assert.Equal(t, casework.UrgencyUrgent, c.Urgency)
	assert.Equal(t, casework.WarrantyOut, c.WarrantyStatus)
	assert.Equal(t, s.member("何志强").ID, c.AssigneeID, "the lift's maintenance company, at once")
	lift.expect("【派工单】" + number)
	supervisor.expect("紧急报修已直接派工：" + number)
	assert.Equal(t, 1, supervisor.count("保修待确认，费用事后核定"))
	assert.Zero(t, supervisor.count("新报修待研判"), "it did not wait for staff")
	s.idle()
	s.allSent(c.ID)
}
