package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/bot/wechat/wechattest"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/testclock"
)

// The WeChat SDK's base URL and HTTP client are process-wide, so the service
// tests on WeChat do not run in parallel with each other.

const (
	wxAppID    = "wx0123456789abcdef"
	wxSecret   = "0123456789abcdef0123456789abcdef"
	wxToken    = "aftersalesToken2026"
	wxAESKey   = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	wxTemplate = "tmplNotify01"
)

// wxOwner is a homeowner talking to the official account on the fake WeChat.
type wxOwner struct {
	t      *testing.T
	srv    *wechattest.Server
	p      *wechattest.Platform
	openID string
	mark   int
}

// newWeChatServer is a fake WeChat whose clock runs from the tests' date.
// The service under test takes the same clock (Config.nowFunc = srv.Now):
// the platform signs its callbacks with it.
func newWeChatServer(tb testing.TB) *wechattest.Server {
	tb.Helper()
	srv := wechattest.NewServer(tb, wxAppID, wxSecret)
	srv.SetNow(testclock.NewRunning(testclock.Start()).Now)
	return srv
}

// wechatService starts the service with WeChat on a fake API and returns an
// owner whose messages the fake platform signs (and, in safe mode, encrypts).
func wechatService(t *testing.T, safe bool, mutate func(*Config)) (*Main, *wxOwner) {
	t.Helper()
	srv := newWeChatServer(t)
	srv.AddTemplate(wxTemplate, "first", "keyword1", "keyword2", "remark")
	m, _ := runMain(t, true, func(c *Config) {
		c.WeChatAppID, c.WeChatSecret, c.WeChatToken = wxAppID, wxSecret, wxToken
		c.WeChatAPIURL, c.WeChatTemplateID = srv.URL(), wxTemplate
		c.nowFunc = srv.Now // the fake's clock, which tests move forward
		if safe {
			c.WeChatAESKey = wxAESKey
		}
		if mutate != nil {
			mutate(c)
		}
	})
	key := ""
	if safe {
		key = wxAESKey
	}
	p := wechattest.NewPlatform("http://"+m.Addr()+"/wechat/callback", wxToken, wxAppID, key, safe)
	p.Server = srv
	return m, &wxOwner{t: t, srv: srv, p: p, openID: fmt.Sprintf("oWx%013d", randomUserID(t)%1e13)}
}

// send delivers msg as WeChat would and waits until the account, passively
// or by customer-service message, says something containing want.
func (o *wxOwner) send(msg wechattest.Inbound, want string) {
	o.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	r, err := o.p.Send(ctx, msg)
	require.NoError(o.t, err)
	require.Equal(o.t, http.StatusOK, r.Status, "%s", r.Body)
	o.expect(want)
}

func (o *wxOwner) say(text, want string) { o.t.Helper(); o.send(wechattest.Text(o.openID, text), want) }

func (o *wxOwner) expect(want string) {
	o.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := o.srv.Wait(ctx, func() bool {
		sent := o.srv.SentTo(o.openID)
		for i := o.mark; i < len(sent); i++ {
			if strings.Contains(sent[i].Content, want) {
				o.mark = len(sent)
				return true
			}
		}
		return false
	})
	if err != nil {
		var said []string
		for _, s := range o.srv.SentTo(o.openID)[o.mark:] {
			said = append(said, string(s.Kind)+": "+s.Content)
		}
		o.t.Fatalf("the account never said %q; it said: %q", want, said)
	}
}

// expectImages waits until the account was sent n images in all: a
// notification's photos are messages of their own, after its text, and the
// engineer looks at them before answering.
func (o *wxOwner) expectImages(n int) {
	o.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := o.srv.Wait(ctx, func() bool {
		images := 0
		for _, s := range o.srv.SentTo(o.openID) {
			if s.MsgType == "image" {
				images++
			}
		}
		return images >= n
	})
	require.NoError(o.t, err, "the account was not sent %d images", n)
	o.mark = len(o.srv.SentTo(o.openID))
}

func (o *wxOwner) count(substr string) int {
	n := 0
	for _, s := range o.srv.SentTo(o.openID) {
		n += strings.Count(s.Content, substr)
	}
	return n
}

// reportWithPhoto is a homeowner's whole report on WeChat: they follow the
// account, choose 报修 from the menu, answer by typing and by the numbers of
// the options, send a photo and submit.
func reportWithPhoto(t *testing.T, m *Main, o *wxOwner) *casework.Case {
	t.Helper()
	o.send(wechattest.Subscribe(o.openID), "欢迎")
	o.send(wechattest.Click(o.openID, "report"), "请问您的姓名")
	o.say("林晓峰", "房号")
	o.say("3-1-201", "电话")
	o.say("13900000016", "验证码")
	o.say(smsCode(t, m, "13900000016"), "什么问题")
	o.say("1", "位置") // 1. 漏水/渗水
	o.say("4", "描述") // 4. 卫生间
	o.say("卫生间天花板渗水，墙皮起泡", "什么时候开始")
	o.say("1", "照片") // 1. 今天
	media := o.srv.AddMedia(pngBytes, "image/png")
	o.send(wechattest.Image(o.openID, media, ""), "已收到 1 个附件")
	o.say("1", "怎样解决")    // 1. 完成
	o.say("1", "联系")      // 1. 尽快维修
	o.say("1", "以上内容都对吗") // 1. 随时
	o.say("1", "诉求编号")    // 1. 提交
	ctx := context.Background()
	cases, n, err := m.Store.FindCases(ctx, casework.CaseFilter{})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	c, err := m.Store.FindCaseByID(ctx, cases[0].ID)
	require.NoError(t, err)
	assert.Equal(t, casework.ChannelWeChat, c.Channel)
	assert.Equal(t, casework.SubLeak, c.Subcategory)
	require.Len(t, c.Media, 1, "the photo was downloaded by MediaId at once and attached")
	assert.Equal(t, "image/png", c.Media[0].ContentType)
	assert.Equal(t, 1, o.count(c.Number), "the case number was told once")
	return c
}

// TestWeChatReportPlainMode: a report with a photo through the official
// account in plain mode; later, outside the 48-hour customer-service window,
// a notification goes as a template message.
func TestWeChatReportPlainMode(t *testing.T) {
	m, o := wechatService(t, false, nil)
	c := reportWithPhoto(t, m, o)

	o.srv.Advance(49 * time.Hour)
	user := bot.UserRef{Platform: bot.WeChat, ID: o.openID}
	require.NoError(t, m.Router.Send(context.Background(), []bot.Outbound{{To: user, Kind: bot.OutText, Text: "您的报修 " + c.Number + " 已派工，工程师将与您预约上门时间。"}}))
	sent := o.srv.SentTo(o.openID)
	last := sent[len(sent)-1]
	assert.Equal(t, wechattest.SentKind("template"), last.Kind, "outside the window: a template message")
	assert.Equal(t, wxTemplate, last.TemplateID)
	assert.Contains(t, last.Content, c.Number)
}

// TestWeChatReportSafeMode: the same report with callbacks and passive
// replies encrypted (安全模式).
func TestWeChatReportSafeMode(t *testing.T) {
	m, o := wechatService(t, true, nil)
	reportWithPhoto(t, m, o)
	// Every passive reply was encrypted and signed: the fake platform counts
	// only those as passive replies, and anything else as WeChat's "service
	// unavailable" notice to the user.
	passive := 0
	for _, sent := range o.srv.SentTo(o.openID) {
		assert.NotEqual(t, wechattest.KindNotice, sent.Kind, "WeChat could not show a reply: %s", sent.Content)
		if sent.Kind == wechattest.KindPassive {
			passive++
		}
	}
	assert.Greater(t, passive, 5, "most answers were passive replies")
}

// TestWeChatRetriesOfOneMsgIdMakeOneCase: the submit reaches the service
// three times with one MsgId (WeChat retries when it did not get the
// answer): one case, one confirmation; the retries are answered "success".
// (bot/wechat's own tests cover a slow engine answering "success" in time
// and replying by customer-service message.)
func TestWeChatRetriesOfOneMsgIdMakeOneCase(t *testing.T) {
	m, o := wechatService(t, false, nil)
	o.send(wechattest.Subscribe(o.openID), "欢迎")
	o.send(wechattest.Click(o.openID, "report"), "请问您的姓名")
	o.say("林晓峰", "房号")
	o.say("3-1-201", "电话")
	o.say("13900000016", "验证码")
	o.say(smsCode(t, m, "13900000016"), "什么问题")
	o.say("1", "位置")
	o.say("4", "描述")
	o.say("卫生间天花板渗水", "什么时候开始")
	o.say("1", "照片")
	o.say("2", "怎样解决") // 2. 跳过
	o.say("1", "联系")
	o.say("1", "以上内容都对吗")

	submit := o.p.Prepare(wechattest.Text(o.openID, "1"))
	ctx := context.Background()
	for try := range 3 {
		r, err := o.p.Send(ctx, submit)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.Status)
		if try > 0 {
			assert.True(t, r.IsSuccess, "try %d: a message already handled is answered success", try+1)
		}
	}
	o.expect("诉求编号")
	_, n, err := m.Store.FindCases(ctx, casework.CaseFilter{})
	require.NoError(t, err)
	assert.Equal(t, 1, n, "one case for three deliveries of one MsgId")
	time.Sleep(300 * time.Millisecond) // a second confirmation would have come by now
	assert.Equal(t, 1, o.count("诉求编号"), "one confirmation")
}

// TestWeChatRefusesForgedAndBrokenCallbacks: the URL check works with the
// right Token; a wrong signature, a stale timestamp, malformed XML and an
// oversize body are refused, and nothing of them is handled.
func TestWeChatRefusesForgedAndBrokenCallbacks(t *testing.T) {
	m, o := wechatService(t, false, nil)
	ctx := context.Background()
	v, err := o.p.Verify(ctx)
	require.NoError(t, err)
	assert.True(t, v.OK, "echostr check: status %d body %q", v.Status, v.Body)
	v, err = o.p.Verify(ctx, wechattest.WrongSignature())
	require.NoError(t, err)
	assert.False(t, v.OK)

	for name, tc := range map[string]struct {
		tamper wechattest.Tamper
		status int
	}{
		"wrong signature": {wechattest.WrongSignature(), http.StatusUnauthorized},
		"stale timestamp": {wechattest.StaleTimestamp(10 * time.Minute), http.StatusUnauthorized},
		"malformed XML":   {wechattest.MalformedXML(), http.StatusBadRequest},
		"oversize body":   {wechattest.OversizeBody(2 << 20), http.StatusRequestEntityTooLarge},
	} {
		r, err := o.p.Send(ctx, wechattest.Text(o.openID, "报修"), tc.tamper)
		require.NoError(t, err, name)
		assert.Equal(t, tc.status, r.Status, name)
	}
	assert.Empty(t, o.srv.SentTo(o.openID), "nothing was handled")
	_, err = m.Store.FindChatIdentity(ctx, "wechat", o.openID)
	assert.ErrorIs(t, err, casework.ErrNotFound, "the forged messages never reached the engine")
}

// TestWeChatMenuCommand: `aftersales wechat menu` creates 报修 / 我的报修 /
// 联系客服 through the API.
func TestWeChatMenuCommand(t *testing.T) {
	srv := newWeChatServer(t)
	var out, errOut strings.Builder
	code := run(context.Background(), []string{"wechat", "menu"}, env(
		"AFTERSALES_WECHAT_APPID", wxAppID, "AFTERSALES_WECHAT_SECRET", wxSecret,
		"AFTERSALES_WECHAT_TOKEN", wxToken, "AFTERSALES_WECHAT_API_URL", srv.URL(),
		"AFTERSALES_DATA_DIR", t.TempDir()), nil, &out, &errOut)
	require.Equal(t, exitOK, code, errOut.String())
	menu := fmt.Sprint(srv.Menu())
	for _, want := range []string{"报修", "我的报修", "联系客服", "report", "status", "human"} {
		assert.Contains(t, menu, want)
	}
	assert.NotContains(t, errOut.String(), wxSecret)
}

// TestWeChatSlowStepAnswersSuccessInTime: a photo whose download from WeChat
// takes 3.5 s (a slow media/get) makes the step slower than the 3 s budget:
// WeChat gets "success" before its 5 s run out, and the reply follows as a
// customer-service message.
func TestWeChatSlowStepAnswersSuccessInTime(t *testing.T) {
	srv := newWeChatServer(t)
	target, err := url.Parse(srv.URL())
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/cgi-bin/media/get" {
			time.Sleep(3500 * time.Millisecond)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(slow.Close)
	m, _ := runMain(t, true, func(c *Config) {
		c.WeChatAppID, c.WeChatSecret, c.WeChatToken, c.WeChatAPIURL = wxAppID, wxSecret, wxToken, slow.URL
		c.nowFunc = srv.Now
	})
	p := wechattest.NewPlatform("http://"+m.Addr()+"/wechat/callback", wxToken, wxAppID, "", false)
	p.Server = srv
	o := &wxOwner{t: t, srv: srv, p: p, openID: fmt.Sprintf("oWx%013d", randomUserID(t)%1e13)}
	o.send(wechattest.Click(o.openID, "report"), "请问您的姓名")
	o.say("林晓峰", "房号")
	o.say("3-1-201", "电话")
	o.say("13900000016", "验证码")
	o.say(smsCode(t, m, "13900000016"), "什么问题")
	o.say("1", "位置")
	o.say("4", "描述")
	o.say("卫生间天花板渗水", "什么时候开始")
	o.say("1", "照片")

	media := srv.AddMedia(pngBytes, "image/png")
	r, err := p.Send(context.Background(), wechattest.Image(o.openID, media, ""))
	require.NoError(t, err, "answered within WeChat's 5 s")
	assert.True(t, r.IsSuccess, "the step was slower than the budget: success")
	assert.Less(t, r.Elapsed, 4500*time.Millisecond)
	o.expect("已收到 1 个附件")
	last := srv.SentTo(o.openID)[len(srv.SentTo(o.openID))-1]
	assert.Equal(t, wechattest.SentKind("custom"), last.Kind, "the reply came as a customer-service message")
}

// TestServesWhileWeChatIsUnreachable: the WeChat API not answering at start
// takes neither Telegram nor the chat page down; /readyz says WeChat is not
// ready.
func TestServesWhileWeChatIsUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing answers there
	m, _ := runMain(t, true, func(c *Config) {
		c.WeChatAppID, c.WeChatSecret, c.WeChatToken, c.WeChatAPIURL = wxAppID, wxSecret, wxToken, dead
	})
	code, body := getJSON(t, "http://"+m.Addr()+"/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, fmt.Sprint(body), "wechat")
	v := newVisitor(t, "http://"+m.Addr())
	assert.Contains(t, v.say("报修"), "请问您的姓名", "the chat page works")
}
