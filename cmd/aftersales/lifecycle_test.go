package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot/telegram/telegramtest"
	"github.com/aftersales/aftersales/bot/wechat/wechattest"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/lifecycle"
)

var update = flag.Bool("update", false, "rewrite the golden lifecycle transcripts")

// lifecycleWorld is the whole cast on fake platforms: the service with both
// Telegram and WeChat on, a homeowner on Telegram, an engineer on WeChat,
// and one clock (the fake WeChat's) that the service, its job queue and the
// test share.
type lifecycleWorld struct {
	t        *testing.T
	m        *Main
	stop     func()
	tg       *telegramtest.Server
	wx       *wechattest.Server
	owner    *tgChat
	engineer *wxOwner
}

// lifecycleConfig turns on both platforms on the fakes, with the fake clock.
func lifecycleConfig(tg *telegramtest.Server, wx *wechattest.Server, dataDir string) func(*Config) {
	return func(c *Config) {
		telegramConfig(tg)(c)
		c.WeChatAppID, c.WeChatSecret, c.WeChatToken = wxAppID, wxSecret, wxToken
		c.WeChatAPIURL, c.WeChatTemplateID = wx.URL(), wxTemplate
		c.nowFunc = wx.Now
		if dataDir != "" {
			c.DataDir = dataDir
		}
	}
}

func newLifecycleWorld(t *testing.T, dataDir string) *lifecycleWorld {
	t.Helper()
	tg := telegramtest.NewServer(t, newBotToken())
	wx := newWeChatServer(t)
	wx.AddTemplate(wxTemplate, "first", "keyword1", "keyword2", "remark")
	m, stop := runMain(t, true, lifecycleConfig(tg, wx, dataDir))
	w := &lifecycleWorld{t: t, m: m, stop: stop, tg: tg, wx: wx}
	w.owner = &tgChat{t: t, srv: tg, user: telegramtest.User{ID: randomUserID(t), FirstName: "晓峰", LanguageCode: "zh-hans"}}
	p := wechattest.NewPlatform("http://"+m.Addr()+"/wechat/callback", wxToken, wxAppID, "", false)
	p.Server = wx
	w.engineer = &wxOwner{t: t, srv: wx, p: p, openID: fmt.Sprintf("oEng%012d", randomUserID(t)%1e12)}
	return w
}

// member finds a member of the example project's parties by name.
func (w *lifecycleWorld) member(name string) *casework.Member {
	w.t.Helper()
	ctx := context.Background()
	parties, err := w.m.Store.ListParties(ctx)
	require.NoError(w.t, err)
	for _, p := range parties {
		ms, err := w.m.Store.ListMembers(ctx, p.ID)
		require.NoError(w.t, err)
		for _, m := range ms {
			if m.Name == name {
				return m
			}
		}
	}
	w.t.Fatalf("no member %s", name)
	return nil
}

// bindEngineer binds the WeChat engineer to the member named, with a code
// staff issued.
func (w *lifecycleWorld) bindEngineer(name string) {
	w.t.Helper()
	code, err := w.m.Lifecycle.IssueBindCode(context.Background(), w.member(name).ID, casework.Staff("test"))
	require.NoError(w.t, err)
	w.engineer.send(wechattest.Subscribe(w.engineer.openID), "欢迎")
	w.engineer.say("/bind "+code.Code, "绑定成功")
}

// report has the Telegram owner report a leak and submit it; it returns
// the case as registered.
func (w *lifecycleWorld) report() *casework.Case {
	w.t.Helper()
	reportALeak(w.owner)
	w.owner.press("sum:submit", "诉求编号")
	ctx := context.Background()
	cases, _, err := w.m.Store.FindCases(ctx, casework.CaseFilter{OwnerID: 0, Limit: 10})
	require.NoError(w.t, err)
	require.NotEmpty(w.t, cases)
	return cases[0]
}

// waitState waits until the case reaches state.
func (w *lifecycleWorld) waitState(number string, state casework.State) *casework.Case {
	w.t.Helper()
	var c *casework.Case
	require.Eventually(w.t, func() bool {
		var err error
		c, err = w.m.Store.FindCaseByNumber(context.Background(), number)
		return err == nil && c.State == state
	}, 10*time.Second, 20*time.Millisecond, "case %s never reached %s", number, state)
	return c
}

// offered returns the payload of the button for the i-th visit time
// offered on the case: its time, in Unix seconds.
func (w *lifecycleWorld) offered(number string, i int) string {
	w.t.Helper()
	c, err := w.m.Store.FindCaseByNumber(context.Background(), number)
	require.NoError(w.t, err)
	require.Greater(w.t, len(c.ProposedSlots), i, "times offered on %s", number)
	return lifecycle.Payload(lifecycle.ActPick, number, strconv.FormatInt(c.ProposedSlots[i].Unix(), 10))
}

// agreeButton returns the payload of the agree button of the case's plan.
func (w *lifecycleWorld) agreeButton(number string) string {
	w.t.Helper()
	c, err := w.m.Store.FindCaseByNumber(context.Background(), number)
	require.NoError(w.t, err)
	require.NotNil(w.t, c.Plan)
	require.NotNil(w.t, c.Plan.ProposedAt)
	return lifecycle.Payload(lifecycle.ActAgree, number, strconv.FormatInt(c.Plan.ProposedAt.Unix(), 10))
}

// advance moves the shared clock.
func (w *lifecycleWorld) advance(d time.Duration) { w.wx.Advance(d) }

// TestLifecycleEndToEnd: the whole life of a case across both platforms,
// with the fake clock: the owner reports a leak on Telegram; it is accepted
// and dispatched by policy to the general contractor (building 3's leaks are its by the routing rules), whose engineer
// on WeChat takes the order and offers visit times; the owner picks one and
// both are reminded before the visit; the engineer checks in and reports a
// plan with a photo; the owner agrees; the engineer starts and marks the
// work done with a photo; the owner accepts and rates; two weeks later the
// return visit asks whether it is still dry. Both sides' chats are compared
// with golden transcripts.
func TestLifecycleEndToEnd(t *testing.T) {
	w := newLifecycleWorld(t, "")
	w.bindEngineer("吴海涛")
	c := w.report()
	number := c.Number
	w.owner.expect("已受理并派给")
	c = w.waitState(number, casework.StateDispatched)
	assert.Equal(t, w.member("吴海涛").ID, c.AssigneeID)
	assert.Equal(t, casework.WarrantyIn, c.WarrantyStatus)
	// The deadline timers were set with the registration and again by the
	// triage: three jobs, not six.
	stats, err := w.m.jobs.Stats(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 3, stats.Scheduled, "respond, on-site and resolve deadlines, once each: %+v", stats)

	// The engineer gets the work order on WeChat, numbered options to type.
	w.engineer.expect("【派工单】" + number)
	w.engineer.expectImages(1) // the owner's photo of the leak
	w.engineer.say("1", "已接单") // 1. 接单
	w.owner.expect("吴海涛 已接单")
	w.engineer.say("1", "请选择 1–3 个可以上门的时间") // 1. 提供预约时间
	w.engineer.say("1", "已选")               // the first candidate
	w.engineer.say("2", "已选")               // the next one (1 is now 发送)
	w.engineer.say("1", "已把 2 个时间发给业主")     // 1. 发送

	// The owner picks the first time on Telegram.
	w.owner.expect("请选一个")
	w.owner.press(w.offered(number, 0), "已预约")
	w.engineer.expect("业主已选定上门时间")
	c = w.waitState(number, casework.StateScheduled)
	require.NotNil(t, c.AppointmentAt)

	// Two hours before the visit both are reminded, once.
	w.advance(c.AppointmentAt.Sub(w.wx.Now()) - 2*time.Hour + time.Minute)
	w.owner.expect("温馨提醒")
	w.engineer.expect("提醒：")
	w.advance(time.Hour)

	// On site: check in, findings and plan with a photo.
	w.engineer.say("1", "已签到") // 1. 到场签到
	w.owner.expect("已到达现场")
	w.engineer.say("1", "请描述现场查明的原因") // 1. 提交勘查结果和方案
	w.engineer.say("卫生间防水层破损，水从地漏周边渗到楼下", "责任判断")
	w.engineer.say("1", "请描述维修内容") // 1. 施工单位
	w.engineer.say("重做卫生间地面防水，闭水试验 48 小时", "预计工期")
	w.engineer.say("3 天", "施工会有哪些影响")
	w.engineer.say("2", "已选：噪音")    // 2. 噪音
	w.engineer.say("1", "计划什么时候开工") // 1. 完成
	w.engineer.say("1", "请上传现场照片")  // 1. 与您约定
	media := w.wx.AddMedia(pngBytes, "image/png")
	w.engineer.send(wechattest.Image(w.engineer.openID, media, ""), "已收到 1 张照片")
	w.engineer.say("1", "方案已发给业主确认") // 1. 完成
	w.owner.expect("勘查结果和维修方案")
	w.owner.expectPhotos(1) // the engineer's photo of the site
	w.owner.press(w.agreeButton(number), "已确认方案")
	w.engineer.expect("业主已同意维修方案")
	w.engineer.say("1", "已开工") // 1. 开始施工
	w.owner.expect("施工期间会有：噪音")
	w.engineer.say("1", "请上传完工照片") // 1. 完工
	media = w.wx.AddMedia(pngBytes, "image/png")
	w.engineer.send(wechattest.Image(w.engineer.openID, media, ""), "已收到 1 张照片")
	w.engineer.say("1", "已提交完工")

	// Acceptance and the survey on Telegram.
	w.owner.expect("已完工，请您查看后验收")
	w.owner.expectPhotos(2) // the photo of the finished work
	w.owner.press(lifecycle.Payload(lifecycle.ActAccept, number), "响应速度")
	w.engineer.expect("业主已验收通过")
	w.owner.press(lifecycle.Payload(lifecycle.ActRate, number, "speed-5"), "服务态度")
	w.owner.press(lifecycle.Payload(lifecycle.ActRate, number, "attitude-5"), "维修质量")
	w.owner.press(lifecycle.Payload(lifecycle.ActRate, number, "quality-4"), "还有什么想对我们说的")
	w.owner.say("师傅很专业，谢谢", "感谢您的评价")
	c = w.waitState(number, casework.StateClosed)
	require.NotNil(t, c.Survey)
	assert.Equal(t, casework.Survey{Speed: 5, Attitude: 5, Quality: 4, Comment: "师傅很专业，谢谢", AnsweredAt: c.Survey.AnsweredAt}, *c.Survey)
	assert.Equal(t, 0, c.RepairCount)

	// Two weeks later: the return visit.
	w.advance(14*24*time.Hour + time.Minute)
	w.owner.expect("还干燥吗")
	w.owner.press(lifecycle.Payload(lifecycle.ActVisitOK, number), "感谢您的反馈")

	// Every message about the case went out once; none failed.
	ctx := context.Background()
	out, err := w.m.Store.ListOutbox(ctx, c.ID)
	require.NoError(t, err)
	require.NotEmpty(t, out)
	for _, o := range out {
		assert.Equal(t, casework.OutboxSent, o.Status, "outbox %d (%s to %s)", o.ID, o.Purpose, o.Platform)
	}
	assert.Equal(t, 1, w.owner.count("温馨提醒"), "the reminder went once")
	assert.Equal(t, 1, w.owner.count("还干燥吗"), "the return visit asked once")
	evs, err := w.m.Store.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	var kinds []string
	for _, e := range evs {
		if e.Kind == casework.EventTransition {
			kinds = append(kinds, string(e.Action))
		}
	}
	assert.Equal(t, []string{"accept", "dispatch", "schedule", "inspect", "propose_plan", "agree_plan", "start_work", "complete", "owner_accept", "survey", "close"}, kinds)

	full, err := w.m.Store.FindCaseByID(ctx, c.ID)
	require.NoError(t, err)
	assert.Len(t, full.Media, 3, "the owner's photo, the plan's and the finished work's")

	var tr strings.Builder
	tr.WriteString("# homeowner on Telegram\n")
	for _, msg := range w.tg.Sent(w.owner.id()) {
		if msg.Method != "sendMessage" {
			fmt.Fprintf(&tr, "bot (%s): %s\n", msg.Method, msg.Text)
		} else {
			fmt.Fprintf(&tr, "bot: %s\n", msg.Text)
		}
		if msg.ReplyMarkup != nil {
			for _, b := range msg.ReplyMarkup.InlineButtons() {
				fmt.Fprintf(&tr, "  [%s] %s\n", b.Text, b.CallbackData)
			}
		}
	}
	tr.WriteString("\n# engineer on WeChat\n")
	for _, s := range w.wx.SentTo(w.engineer.openID) {
		fmt.Fprintf(&tr, "%s %s: %s\n", s.Kind, s.MsgType, s.Content)
	}
	compareGolden(t, "lifecycle_end_to_end.txt", normalizeTranscript(tr.String(), number))
	requireTimelineInWords(t, w.m, []string{number}, "HXJS", "SH-")
}

var (
	caseNumberRe = regexp.MustCompile(`SH-\d{8}-\d{4}`)
	slotRe       = regexp.MustCompile(`\d{2}-\d{2}( 周.)? \d{2}:\d{2}`)
	dateRe       = regexp.MustCompile(`\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?`)
	blobRe       = regexp.MustCompile(`[0-9a-f]{64}`)
)

// normalizeTranscript replaces what changes from run to run — the case
// number, dates and times, media keys — with placeholders.
func normalizeTranscript(s, number string) string {
	s = strings.ReplaceAll(s, number, "SH-CASE")
	s = caseNumberRe.ReplaceAllString(s, "SH-OTHER")
	s = dateRe.ReplaceAllString(s, "YYYY-MM-DD")
	s = slotRe.ReplaceAllString(s, "MM-DD HH:MM")
	return blobRe.ReplaceAllString(s, "BLOB")
}

func compareGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "no golden file: run go test ./cmd/aftersales/ -run %s -update", t.Name())
	assert.Equal(t, string(want), got, "transcript differs from %s (after a deliberate change: -update, and read the diff)", path)
}

// waitFor reads the chat page until the bot said something containing want,
// as the page's script polls; it returns what was said meanwhile.
func (v *visitor) waitFor(want string) string {
	v.t.Helper()
	var said strings.Builder
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		got := v.read()
		said.WriteString(got)
		if strings.Contains(got, want) {
			return said.String()
		}
		time.Sleep(20 * time.Millisecond)
	}
	v.t.Fatalf("the chat page never showed %q; it showed %q", want, said.String())
	return ""
}

// TestLifecycleOwnerOnWeChatEngineerOnTheChatPage: the owner reports on
// WeChat and the engineer works from the local chat page, no platform
// account needed. Two days later — outside WeChat's 48-hour window — the
// visit times reach the owner as a template message carrying the options,
// and the owner's reply of a number books one.
func TestLifecycleOwnerOnWeChatEngineerOnTheChatPage(t *testing.T) {
	m, owner := wechatService(t, false, nil)
	v := newVisitor(t, "http://"+m.Addr())
	w := &lifecycleWorld{t: t, m: m}
	code, err := m.Lifecycle.IssueBindCode(context.Background(), w.member("吴海涛").ID, casework.Staff("test"))
	require.NoError(t, err)
	assert.Contains(t, v.say("/bind "+code.Code), "绑定成功")
	assert.Contains(t, v.say("/bind "+code.Code), "绑定码无效", "a code binds once")

	c := reportWithPhoto(t, m, owner)
	owner.expect("已受理并派给")
	order := v.waitFor("【派工单】" + c.Number)
	assert.Contains(t, order, "[接单|"+lifecycle.Payload(lifecycle.ActTake, c.Number)+"]")
	// The order's photo is shown on the page, to the engineer's browser
	// only. It is a message of its own, sent after the order's text.
	for deadline := time.Now().Add(15 * time.Second); len(v.media) == 0 && time.Now().Before(deadline); {
		v.read()
	}
	require.NotEmpty(t, v.media, "the work order's photo")
	resp, err := v.client.Get(v.media[0])
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "image/"))
	resp, err = http.Get(v.media[0])
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "not without the engineer's cookie")
	assert.Contains(t, v.press(lifecycle.Payload(lifecycle.ActTake, c.Number)), "已接单")
	owner.expect("吴海涛 已接单")

	owner.srv.Advance(49 * time.Hour) // the owner has not written for two days
	assert.Contains(t, v.press(lifecycle.Payload(lifecycle.ActSlots, c.Number)), "请选择 1–3 个可以上门的时间")
	assert.Contains(t, v.say("1"), "已选")
	assert.Contains(t, v.say("1"), "已把 1 个时间发给业主")
	owner.expect("维修人员可以在以下时间上门")
	sent := owner.srv.SentTo(owner.openID)
	last := sent[len(sent)-1]
	assert.Equal(t, wechattest.KindTemplate, last.Kind, "outside the window the notification is a template message")
	assert.Contains(t, last.Content, "1. ", "with its numbered options")

	owner.say("1", "已预约") // the number picks the option the template carried
	v.waitFor("业主已选定上门时间")
	c = w.waitState(c.Number, casework.StateScheduled)
	require.NotNil(t, c.AppointmentAt)
}
