package wechat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/internal/testclock"
)

const customPath = "/cgi-bin/message/custom/send"

func to(openID string) bot.UserRef { return bot.UserRef{Platform: bot.WeChat, ID: openID} }

// openWindow records a message of user, as the callback does.
func openWindow(t *testing.T, a *Adapter, user, id string) {
	t.Helper()
	require.NoError(t, a.cfg.Windows.Open(context.Background(), user, messageGrant(id, a.now())))
}

func TestSendWithinWindow(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, nil)
	openWindow(t, a, "oAnn", "m:1")
	err := a.Send(context.Background(), bot.Outbound{To: to("oAnn"), Kind: bot.OutText, Text: "请选择问题类型", Choices: []bot.Choice{
		{Label: "漏水/渗水", Payload: "cat:leak"}, {Label: "墙面开裂", Payload: "cat:crack"},
	}})
	require.NoError(t, err)
	sent := f.sentTo("oAnn")
	require.Len(t, sent, 1)
	assert.Equal(t, "请选择问题类型\n\n请点选，或回复数字：\n"+
		"1. <a href=\"weixin://bizmsgmenu?msgmenucontent=漏水%2F渗水&msgmenuid="+fmt.Sprint(optionID("cat:leak"))+"\">漏水/渗水</a>\n"+
		"2. <a href=\"weixin://bizmsgmenu?msgmenucontent=墙面开裂&msgmenuid="+fmt.Sprint(optionID("cat:crack"))+"\">墙面开裂</a>", sent[0].Content)
	assert.Equal(t, "cat:leak", a.tappedOption(t.Context(), "oAnn", int64(optionID("cat:leak"))), "a tap maps back to the payload")
	assert.NoError(t, a.Send(context.Background(), bot.Outbound{To: to("oAnn"), Kind: bot.OutTyping}), "typing is dropped")
	assert.Len(t, f.sentTo("oAnn"), 1)
}

func TestSendOutsideWindowGoesByTemplate(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, func(c *Config) {
		c.Template = Template{ID: "TPL-generic"}
		c.NowFunc = func() time.Time { return testclock.Date(2026, 11, 27, 1, 30, 0, 0, time.UTC) }
	})
	err := a.Send(context.Background(), bot.Outbound{To: to("oBen"), Kind: bot.OutText, Text: "您的报修 SH-20261127-0042 已派工，工程师将于明天上午上门。"})
	require.NoError(t, err)
	sent := f.sentTo("oBen")
	require.Len(t, sent, 1)
	assert.Equal(t, "template", sent[0].Kind)
	assert.Zero(t, f.callCount(customPath), "no customer-service message tried outside the window")
	assert.Equal(t, "您的报修 SH-20261127-0042 已派工，工程师将于明天上午上门。", sent[0].Data["keyword1"])
	assert.Equal(t, testclock.Text("2026-11-27 09:30"), sent[0].Data["keyword2"], "in China Standard Time")
	assert.NotEmpty(t, sent[0].Data["first"])
	assert.NotEmpty(t, sent[0].Data["remark"])
	assert.Contains(t, string(sent[0].Body), `"template_id":"TPL-generic"`)
}

func TestSendOutsideWindowWithoutTemplate(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, nil)
	err := a.Send(context.Background(), bot.Outbound{To: to("oCat"), Kind: bot.OutText, Text: "通知"})
	var nd *NotDeliveredError
	require.ErrorAs(t, err, &nd)
	assert.Equal(t, "oCat", nd.UserID)
	assert.ErrorIs(t, err, ErrWindowClosed)
	assert.NotContains(t, err.Error(), "通知", "the error never carries the text")
	assert.Zero(t, f.callCount(customPath))
}

func TestQuotaOfFiveThenTemplate(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, func(c *Config) { c.Template = Template{ID: "TPL"} })
	openWindow(t, a, "oDan", "m:1")
	for i := range 5 {
		require.NoError(t, a.Send(context.Background(), bot.Outbound{To: to("oDan"), Kind: bot.OutText, Text: "第" + strconv.Itoa(i+1) + "条"}))
	}
	require.NoError(t, a.Send(context.Background(), bot.Outbound{To: to("oDan"), Kind: bot.OutText, Text: "第6条"}))
	sent := f.sentTo("oDan")
	require.Len(t, sent, 6)
	assert.Equal(t, 5, f.callCount(customPath))
	assert.Equal(t, "template", sent[5].Kind)

	// The same message retried by WeChat opens nothing new; a new one does.
	openWindow(t, a, "oDan", "m:1")
	require.NoError(t, a.Send(context.Background(), bot.Outbound{To: to("oDan"), Kind: bot.OutText, Text: "x"}))
	assert.Equal(t, 5, f.callCount(customPath))
	openWindow(t, a, "oDan", "m:2")
	require.NoError(t, a.Send(context.Background(), bot.Outbound{To: to("oDan"), Kind: bot.OutText, Text: "y"}))
	assert.Equal(t, 6, f.callCount(customPath))
}

func TestRefusalsAreFinal(t *testing.T) {
	for _, tc := range []struct {
		code int64
		is   error
	}{{45015, ErrWindowClosed}, {45047, ErrQuotaExceeded}, {43004, ErrUnreachable}} {
		t.Run(strconv.FormatInt(tc.code, 10), func(t *testing.T) {
			f := newFakeAPI(t)
			var unreachable []bot.UserRef
			a := newTestAdapter(t, f, func(c *Config) {
				c.UnreachableFunc = func(_ context.Context, u bot.UserRef) error { unreachable = append(unreachable, u); return nil }
			})
			openWindow(t, a, "oEve", "m:1")
			f.failNext(customPath, tc.code)
			err := a.Send(context.Background(), bot.Outbound{To: to("oEve"), Kind: bot.OutText, Text: "维修安排"})
			var nd *NotDeliveredError
			require.ErrorAs(t, err, &nd)
			assert.ErrorIs(t, err, tc.is)
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.code, ae.Code)
			assert.Equal(t, 1, f.callCount(customPath), "not retried")
			// The adapter's count learnt it: the next message is not tried.
			err = a.Send(context.Background(), bot.Outbound{To: to("oEve"), Kind: bot.OutText, Text: "下一条"})
			assert.ErrorAs(t, err, &nd)
			assert.Equal(t, 1, f.callCount(customPath))
			if tc.code == 43004 {
				assert.Equal(t, []bot.UserRef{to("oEve")}, unreachable)
			} else {
				assert.Empty(t, unreachable)
			}
		})
	}
}

func TestBusyIsRetried(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, nil)
	openWindow(t, a, "oFin", "m:1")
	f.failNext(customPath, -1)
	require.NoError(t, a.Send(context.Background(), bot.Outbound{To: to("oFin"), Kind: bot.OutText, Text: "hi"}))
	assert.Equal(t, 2, f.callCount(customPath))
	assert.Len(t, f.sentTo("oFin"), 1)

	f.failNext(customPath, 40003) // invalid openid: not retried
	err := a.Send(context.Background(), bot.Outbound{To: to("oFin"), Kind: bot.OutText, Text: "hi"})
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, int64(40003), ae.Code)
	assert.Equal(t, 3, f.callCount(customPath))
}

func TestTokenRefreshedWhenRefused(t *testing.T) {
	for _, code := range []int64{40001, 42001} {
		t.Run(strconv.FormatInt(code, 10), func(t *testing.T) {
			f := newFakeAPI(t)
			a := newTestAdapter(t, f, nil)
			openWindow(t, a, "oGil", "m:1")
			require.Equal(t, 1, f.callCount("/cgi-bin/token"), "New fetched a token")
			require.NoError(t, a.Send(context.Background(), bot.Outbound{To: to("oGil"), Kind: bot.OutText, Text: "1"}))
			assert.Equal(t, 1, f.callCount("/cgi-bin/token"), "cached")

			if code == 40001 {
				f.invalidateTokens() // another process fetched a new token
			} else {
				f.failNext(customPath, code)
			}
			require.NoError(t, a.Send(context.Background(), bot.Outbound{To: to("oGil"), Kind: bot.OutText, Text: "2"}))
			assert.Equal(t, 2, f.callCount("/cgi-bin/token"), "a new token, once")
			assert.Equal(t, 3, f.callCount(customPath))
			assert.Len(t, f.sentTo("oGil"), 2)
		})
	}
	t.Run("refused twice", func(t *testing.T) {
		f := newFakeAPI(t)
		a := newTestAdapter(t, f, nil)
		openWindow(t, a, "oGil", "m:1")
		f.failNext(customPath, 40001, 40001)
		err := a.Send(context.Background(), bot.Outbound{To: to("oGil"), Kind: bot.OutText, Text: "1"})
		var ae *APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, int64(40001), ae.Code)
		assert.Equal(t, 2, f.callCount(customPath), "one retry with a new token, no more")
	})
}

func TestNewChecksCredentials(t *testing.T) {
	f := newFakeAPI(t)
	_, err := New(context.Background(), Config{AppID: testAppID, Secret: "wrong-secret-value", APIURL: f.srv.URL, NowFunc: time.Now})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "40125")
	assert.NotContains(t, err.Error(), "wrong-secret-value")

	for name, cfg := range map[string]Config{
		"no AppID":       {Secret: "s"},
		"no secret":      {AppID: "wx1"},
		"short AES key":  {AppID: "wx1", Secret: "s", EncodingAESKey: "short"},
		"budget too big": {AppID: "wx1", Secret: "s", PassiveBudget: 5 * time.Second},
		"no token":       {AppID: "wx1", Secret: "s", ProcessFunc: func(context.Context, *bot.Inbound, bot.SendFunc) error { return nil }},
	} {
		assert.Error(t, cfg.Validate(), name)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	a := &Adapter{cfg: Config{Secret: "s3cr3t-value"}}
	err := a.redact(errors.New(`Get "https://api.weixin.qq.com/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=s3cr3t-value": dial tcp: refused; ` +
		`Post "https://api.weixin.qq.com/cgi-bin/message/custom/send?access_token=86_ABCdef-123": EOF`))
	assert.NotContains(t, err.Error(), "s3cr3t")
	assert.NotContains(t, err.Error(), "ABCdef")
	plain := errors.New("plain")
	assert.Same(t, plain, a.redact(plain))
}

func TestSplitText(t *testing.T) {
	t.Parallel()
	assert.Empty(t, splitText("", maxText))
	assert.Equal(t, []string{"短消息"}, splitText("短消息", maxText))

	long := strings.Repeat("第一行内容\n", 300) // 4,800 bytes
	parts := splitText(long, maxText)
	assert.Len(t, parts, 3)
	for _, p := range parts {
		assert.LessOrEqual(t, len(p), maxText)
		assert.True(t, utf8.ValidString(p))
		assert.True(t, strings.HasSuffix(strings.TrimRight(p, "\n"), "第一行内容"), "cut at a line break")
	}
	assert.Equal(t, strings.ReplaceAll(long, "\n", ""), strings.ReplaceAll(strings.Join(parts, ""), "\n", ""), "nothing lost")

	noBreaks := strings.Repeat("漏", 1500) // 4,500 bytes, 3 bytes a character
	parts = splitText(noBreaks, maxText)
	assert.Equal(t, noBreaks, strings.Join(parts, ""))
	for _, p := range parts {
		assert.LessOrEqual(t, len(p), maxText)
		assert.True(t, utf8.ValidString(p), "never cut inside a character")
	}
}

func TestRenderChoices(t *testing.T) {
	t.Parallel()
	u := to("o")
	link := func(content, label, payload string) string {
		return `<a href="weixin://bizmsgmenu?msgmenucontent=` + content + `&msgmenuid=` + fmt.Sprint(optionID(payload)) + `">` + label + `</a>`
	}
	assert.Equal(t, "问题出在哪里？\n\n请点选，或回复数字：\n1. "+link("客厅", "客厅", "room")+"\n2. "+link("卫生间", "卫生间", "bath"),
		render(bot.Outbound{To: u, Text: "问题出在哪里？", Choices: []bot.Choice{{Label: "客厅", Payload: "room"}, {Label: "卫生间", Payload: "bath"}}}))
	assert.Equal(t, "Where is it?\n\nTap an option or reply with its number:\n1. "+link("Living%20room", "Living room", "room")+"\n2. "+link("Bath%26shower", "Bath&amp;shower", "bath"),
		render(bot.Outbound{To: u, Text: "Where is it?", Choices: []bot.Choice{{Label: "Living room", Payload: "room"}, {Label: "Bath&shower", Payload: "bath"}}}),
		"ASCII is percent-encoded in the link, & escaped in the label")
	assert.Equal(t, "请选择您要办理的事项：\n1. "+link("我要报修", "我要报修", "r")+"\n2. "+link("我的报修", "我的报修", "m"),
		render(bot.Outbound{To: u, Text: "请选择您要办理的事项：\n", Choices: []bot.Choice{{Label: "我要报修", Payload: "r"}, {Label: "我的报修", Payload: "m"}}}), "a question ending in a colon needs no header")
	assert.Equal(t, "请点选，或回复数字：\n1. "+link("是", "是", "yes"), render(bot.Outbound{To: u, Choices: []bot.Choice{{Label: "是", Payload: "yes"}}}))
	assert.Equal(t, "请提供您的手机号。", render(bot.Outbound{To: u, Text: "请提供您的手机号。", RequestContact: true}), "RequestContact: just the text")
	assert.Equal(t, "问题出在哪里？\n\n回复数字选择：\n1. 客厅", renderPlain(bot.Outbound{To: u, Text: "问题出在哪里？", Choices: []bot.Choice{{Label: "客厅"}}}))
	assert.Contains(t, render(bot.Outbound{To: u, Text: "Please check your report:\nName: 林晓峰\nHome: 海景苑 3-1-201", Choices: []bot.Choice{{Label: "Submit"}}}),
		"\n\nTap an option or reply with its number:\n", "an English message naming Chinese places is English")
	assert.Contains(t, render(bot.Outbound{To: u, Text: "请为本次维修打分", Choices: []bot.Choice{{Label: "5"}, {Label: "4"}}}),
		"\n\n请点选，或回复数字：\n", "options without letters: the text tells")
	assert.Equal(t, "Where?\n\nTap an option or reply with its number:\n1. <b>", render(bot.Outbound{To: u, Text: "Where?", Choices: []bot.Choice{{Label: "<b>"}}}), "a label with markup is no link")
}

// TestRenderChoicesWithinTheTextLimit: links make options longer; when they
// would not fit in one WeChat text, the options are written plain, which
// do.
func TestRenderChoicesWithinTheTextLimit(t *testing.T) {
	t.Parallel()
	var choices []bot.Choice
	for i := range 10 {
		choices = append(choices, bot.Choice{Label: strings.Repeat("卫", 20) + fmt.Sprint(i), Payload: fmt.Sprint("p", i)})
	}
	o := bot.Outbound{To: to("o"), Text: strings.Repeat("说明", 100), Choices: choices}
	require.Greater(t, len(renderOptions(o, true)), maxText, "the case: links would not fit")
	got := render(o)
	assert.LessOrEqual(t, len(got), maxText)
	assert.Equal(t, renderPlain(o), got)
	assert.Contains(t, got, "10. "+choices[9].Label)
}

func TestPack(t *testing.T) {
	t.Parallel()
	u := to("o")
	units := pack([]bot.Outbound{
		{To: u, Kind: bot.OutTyping},
		{To: u, Kind: bot.OutText, Text: "一"},
		{To: u, Kind: bot.OutText, Text: "二", Choices: []bot.Choice{{Label: "是"}}},
		{To: u, Kind: bot.OutPhoto, BlobKey: "2026/11/27/x.jpg", Text: "照片说明"},
		{To: u, Kind: bot.OutText, Text: strings.Repeat("x", maxText)},
	})
	require.Len(t, units, 5)
	assert.Equal(t, "一", units[0].text)
	assert.Equal(t, "二\n\n请点选，或回复数字：\n1. "+optionLink(bot.Choice{Label: "是"}), units[1].text, "a question with options is a message of its own")
	assert.Equal(t, "2026/11/27/x.jpg", units[2].blobKey)
	assert.Equal(t, "照片说明", units[3].text, "a caption follows its photo")
	assert.Equal(t, strings.Repeat("x", maxText), units[4].text, "a full message stands alone")
	for _, un := range units {
		assert.NotNil(t, un.src)
	}
}

// TestPackOneQuestionPerMessage: statements are joined into one message, a
// question with options never: not to the greeting before it, not to a
// statement after it.
func TestPackOneQuestionPerMessage(t *testing.T) {
	t.Parallel()
	u := to("o")
	units := pack([]bot.Outbound{
		{To: u, Kind: bot.OutText, Text: "林晓峰，您好！已登记您的房号：海景苑 3-1-201。"},
		{To: u, Kind: bot.OutText, Text: "已把您之前在这里提交的 1 条报修关联到您名下。"},
		{To: u, Kind: bot.OutText, Text: "听起来是【工程质量 · 渗漏水】，对吗？", Choices: []bot.Choice{{Label: "对", Payload: "yes"}, {Label: "不对，我来选", Payload: "no"}}},
		{To: u, Kind: bot.OutText, Text: "提示：您的身份尚未验证。"},
	})
	require.Len(t, units, 3)
	assert.Equal(t, "林晓峰，您好！已登记您的房号：海景苑 3-1-201。\n\n已把您之前在这里提交的 1 条报修关联到您名下。", units[0].text)
	assert.Equal(t, "听起来是【工程质量 · 渗漏水】，对吗？\n\n请点选，或回复数字：\n1. "+optionLink(bot.Choice{Label: "对", Payload: "yes"})+
		"\n2. "+optionLink(bot.Choice{Label: "不对，我来选", Payload: "no"}), units[1].text)
	assert.Equal(t, "提示：您的身份尚未验证。", units[2].text)
}

// TestTemplateContentKeepsTheOptions: outside the window a long
// notification's text is shortened so that its numbered options, which a
// reply by number picks, all fit in the template's 200 characters.
func TestTemplateContentKeepsTheOptions(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("维修内容说明", 60)
	msg := bot.Outbound{Text: long, Choices: []bot.Choice{{Label: "接单", Payload: "lc:take:SH-1"}, {Label: "拒单", Payload: "lc:decline:SH-1"}}}
	got := templateContent(msg)
	assert.LessOrEqual(t, utf8.RuneCountInString(got), 200)
	assert.Contains(t, got, "1. 接单")
	assert.Contains(t, got, "2. 拒单")
	assert.Contains(t, got, "…", "the text was shortened")
	assert.Equal(t, "短消息", templateContent(bot.Outbound{Text: "短消息"}))
}

// TestStartsWithoutWeChat: WeChat's API not answering at start does not stop
// the adapter: it is not Ready, keeps asking in the background, and is
// Ready once the API answers. A refusal by WeChat itself still stops it.
func TestStartsWithoutWeChat(t *testing.T) {
	f := newFakeAPI(t)
	var down atomic.Bool
	down.Store(true)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "bad gateway", http.StatusBadGateway)
			return
		}
		f.srv.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	a, err := New(context.Background(), Config{AppID: testAppID, Secret: testSecret, APIURL: proxy.URL, NowFunc: time.Now})
	require.NoError(t, err, "the rest of the service runs")
	t.Cleanup(func() { _ = a.Close() })
	assert.False(t, a.Ready())
	down.Store(false)
	require.Eventually(t, a.Ready, 10*time.Second, 20*time.Millisecond, "ready once WeChat answers")
}
