package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot/telegram/telegramtest"
	"github.com/aftersales/aftersales/bot/wechat/wechattest"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/sms/smstest"
)

// TestTakeoverOnEveryPlatform is the attack of issue 11 on the demo: a
// stranger who knows 林晓峰's unit and phone reports on Telegram typing the
// number, on WeChat and on the chat page. None of them is told the owner's
// name, sees or opens the owner's case, or receives staff's message to the
// owner. Once one of them types the code that reached the owner's phone
// (here, the demo's log), that account is the owner's.
func TestTakeoverOnEveryPlatform(t *testing.T) {
	const token = "staff-token-0123456789abcdef"
	tg := telegramtest.NewServer(t, newBotToken())
	wx := newWeChatServer(t)
	wx.AddTemplate(wxTemplate, "first", "keyword1", "keyword2", "remark")
	m, _ := runMain(t, true, func(c *Config) {
		lifecycleConfig(tg, wx, "")(c)
		c.APIToken = token
	})
	ctx := context.Background()

	// The owner reports on Telegram, sharing his own contact.
	owner := &tgChat{t: t, srv: tg, user: telegramtest.User{ID: randomUserID(t), FirstName: "晓峰", LanguageCode: "zh-hans"}}
	reportALeak(owner)
	owner.press("sum:submit", "诉求编号")
	cases, _, err := m.Store.FindCases(ctx, casework.CaseFilter{})
	require.NoError(t, err)
	require.Len(t, cases, 1)
	number := cases[0].Number

	// The strangers.
	tgS := &tgChat{t: t, srv: tg, user: telegramtest.User{ID: randomUserID(t) + 1, FirstName: "X", LanguageCode: "zh-hans"}}
	tg.SendText(tgS.user, "报修")
	tgS.expect("请问您的姓名")
	tgS.say("张三", "房号")
	tgS.say("3-1-201", "电话")
	tgS.say("13900000016", "139****0016")
	tgS.say("进度", "这里还没有您提交的报修")
	tgS.say(number, "没有找到")

	p := wechattest.NewPlatform("http://"+m.Addr()+"/wechat/callback", wxToken, wxAppID, "", false)
	p.Server = wx
	wxS := &wxOwner{t: t, srv: wx, p: p, openID: fmt.Sprintf("oWx%013d", randomUserID(t)%1e13)}
	wxS.send(wechattest.Click(wxS.openID, "report"), "请问您的姓名")
	wxS.say("张三", "房号")
	wxS.say("3-1-201", "电话")
	wxS.say("13900000016", "验证码")
	wxS.say("进度", "这里还没有您提交的报修")
	wxS.say(number, "没有找到")

	web := newVisitor(t, "http://"+m.Addr())
	web.say("报修")
	web.say("张三")
	web.say("3-1-201")
	assert.Contains(t, web.say("13900000016"), "验证码")
	assert.Contains(t, web.say("进度"), "这里还没有您提交的报修")
	assert.Contains(t, web.say(number), "没有找到")

	// Staff write to the owner: the owner's Telegram gets it, no stranger.
	staffSays := "师傅明天上午10点上门，请留门"
	resp := apiPost(t, m, token, "/api/v1/cases/"+number+"/messages", `{"text":"`+staffSays+`"}`)
	require.Equal(t, http.StatusAccepted, resp)
	owner.expect(staffSays)
	require.NoError(t, m.jobs.WaitIdle(ctx))
	outbox, err := m.Store.ListOutbox(ctx, cases[0].ID)
	require.NoError(t, err)
	require.NotEmpty(t, outbox)
	for _, msg := range outbox {
		assert.Equal(t, "telegram", msg.Platform, "the owner's messages go to the owner's account only")
		assert.Equal(t, fmt.Sprint(owner.id()), msg.UserID, "the owner's messages go to the owner's account only")
	}
	for name, heard := range map[string]string{"telegram": tgHeard(tg, tgS), "wechat": wxHeard(wx, wxS.openID), "web": strings.Join(web.said, "\n")} {
		assert.NotContains(t, heard, "林晓峰", "%s: no name from the register", name)
		assert.NotContains(t, heard, staffSays, "%s: no notification of the owner's", name)
		assert.NotContains(t, heard, "飘窗下面的墙在渗水", "%s: nothing of the owner's case", name)
	}

	// The code that reached the owner's phone makes the chat page the
	// owner's: a minute later it asks to verify and types the new code.
	wx.Advance(time.Minute)
	assert.Contains(t, web.say("验证"), "业主登记的手机号")
	assert.Contains(t, web.say("13900000016"), "139****0016")
	assert.Contains(t, web.say(smsCode(t, m, "13900000016")), "林晓峰，您好！身份验证成功")
	assert.Contains(t, web.say("进度"), number)
}

// apiPost posts body to the staff API and returns the status.
func apiPost(t *testing.T, m *Main, token, path, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+m.Addr()+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// tgHeard is everything the bot sent to c on Telegram.
func tgHeard(srv *telegramtest.Server, c *tgChat) string {
	var b strings.Builder
	for _, m := range srv.Sent(c.id()) {
		b.WriteString(m.Text + "\n")
	}
	return b.String()
}

// wxHeard is everything the account sent to openID on WeChat.
func wxHeard(srv *wechattest.Server, openID string) string {
	var b strings.Builder
	for _, s := range srv.SentTo(openID) {
		b.WriteString(s.Content + "\n")
	}
	return b.String()
}

// TestOwnersVerifyThroughEachSMSProvider: the service configured for
// Alibaba Cloud SMS or Tencent Cloud SMS (on local fakes that check the
// requests' signatures as the real services do) sends the code; the owner
// types it on the chat page and is the owner. A provider's refusal is logged
// with its code, never the secret, and the owner is answered politely.
func TestOwnersVerifyThroughEachSMSProvider(t *testing.T) {
	const (
		keyID, secret = "LTAI5tTestKeyId0001", "test-secret-0123456789abcdef"
		sign, tmpl    = "海景地产", "SMS_465300001"
		tencentApp    = "1400000001"
	)
	for _, name := range []string{"aliyun", "tencent"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clock := testclock.NewRunning(testclock.Start())
			var fake *smstest.Server
			if name == "aliyun" {
				fake = smstest.NewAliyun(t, keyID, secret, smstest.WithNowFunc(clock.Now))
			} else {
				fake = smstest.NewTencent(t, keyID, secret, tencentApp, smstest.WithNowFunc(clock.Now))
			}
			fake.AddApprovedSignName(sign)
			fake.AddApprovedTemplate(tmpl)
			m, _ := runMain(t, true, func(c *Config) {
				c.nowFunc = clock.Now
				c.SMSProvider, c.SMSAccessKeyID, c.SMSAccessKeySecret = name, keyID, secret
				c.SMSSignName, c.SMSTemplateID, c.SMSSDKAppID, c.SMSAPIURL = sign, tmpl, tencentApp, fake.URL()
			})

			v := newVisitor(t, "http://"+m.Addr())
			v.say("报修")
			v.say("林晓峰")
			v.say("3-1-201")
			assert.Contains(t, v.say("13900000016"), "139****0016")
			sent := fake.Sent()
			require.Len(t, sent, 1)
			assert.Contains(t, sent[0].Phone, "13900000016")
			assert.Equal(t, sign, sent[0].SignName)
			assert.Contains(t, v.say(sent[0].Code), "林晓峰，您好")

			// The provider refuses the next one: the owner is told, the log
			// names the provider's code.
			other := newVisitor(t, "http://"+m.Addr())
			other.say("验证")
			code := "isv.BUSINESS_LIMIT_CONTROL"
			if name == "tencent" {
				code = "LimitExceeded.PhoneNumberDailyLimit"
			}
			fake.FailNext(code)
			assert.Contains(t, other.say("13900000018"), "验证码暂时发送不出去")
			sw, _ := serviceLogs.Load(m)
			logs := sw.(*syncWriter)
			logs.mu.Lock()
			text := logs.w.String()
			logs.mu.Unlock()
			assert.Contains(t, text, code)
			assert.NotContains(t, text, secret, "the secret is never logged")
			assert.NotContains(t, text, "13900000018", "nor a whole phone number")
		})
	}
}

// TestServeRefusesTheLogProvider: serve does not run with codes written to
// its log unless told that this is development; a real provider without its
// keys is a configuration error naming the variable.
func TestServeRefusesTheLogProvider(t *testing.T) {
	t.Parallel()
	var out, errOut strings.Builder
	code := run(context.Background(), []string{"serve"}, env("AFTERSALES_SMS_PROVIDER", "log", "AFTERSALES_DATA_DIR", t.TempDir()), nil, &out, &errOut)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut.String(), "AFTERSALES_SMS_ALLOW_LOG")

	errOut.Reset()
	code = run(context.Background(), []string{"serve"}, env("AFTERSALES_SMS_PROVIDER", "aliyun", "AFTERSALES_DATA_DIR", t.TempDir()), nil, &out, &errOut)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut.String(), "AFTERSALES_SMS_PROVIDER")
	assert.Contains(t, errOut.String(), "AccessKeyID")

	errOut.Reset()
	code = run(context.Background(), []string{"serve"}, env("AFTERSALES_SMS_PROVIDER", "carrier-pigeon", "AFTERSALES_DATA_DIR", t.TempDir()), nil, &out, &errOut)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut.String(), "aliyun, tencent or log")
}
