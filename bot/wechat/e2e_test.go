package wechat_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/bot/wechat"
	"github.com/aftersales/aftersales/bot/wechat/wechattest"
)

// End-to-end tests: the adapter with a real bot.Router, between the fake
// WeChat API (wechattest.Server) and the fake WeChat platform pushing signed
// callbacks (wechattest.Platform). They share the SDK's process-wide API URL:
// none runs in parallel.

const (
	appID  = "wx5f3e0c9a71b2d4e8"
	secret = "9d1c4b7e2a5f8c3d6e9a1b4c7d0e3f6a"
	token  = "aftersalesToken2026"
	aesKey = "kWxPEV2UEDyxWpmPdKC3F6qD7yVJKBBgBZHxU6QbRkJ"
)

// env is one account: the fakes, the adapter, the router and the engine.
type env struct {
	api      *wechattest.Server
	platform *wechattest.Platform
	adapter  *wechat.Adapter
	router   *bot.Router
	blobs    string // the blob store's directory
}

type envOptions struct {
	safe    bool
	handler bot.Handler
	edit    func(*wechat.Config)
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	api := wechattest.NewServer(t, appID, secret)
	dir := t.TempDir()
	r := &bot.Router{
		Handler:  o.handler,
		Dedupe:   bot.NewMemoryDeduper(),
		Locker:   bot.NewMemoryLocker(),
		Intake:   &bot.Intake{Blobs: &bot.FileBlobStore{Dir: dir}, Policy: bot.DefaultMediaPolicy()},
		Channels: map[bot.Platform]bot.Channel{},
	}
	cfg := wechat.Config{
		AppID:         appID,
		Secret:        secret,
		Token:         token,
		APIURL:        api.URL(),
		ProcessFunc:   r.Process,
		PassiveBudget: 300 * time.Millisecond,
		Blobs:         r.Intake.Blobs,
		NowFunc:       api.Now, // the platform signs with the fake's clock
	}
	if o.safe {
		cfg.EncodingAESKey = aesKey
	}
	if o.edit != nil {
		o.edit(&cfg)
	}
	a, err := wechat.New(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	r.Channels[bot.WeChat] = a
	mux := http.NewServeMux()
	mux.Handle(wechat.CallbackPath, a.CallbackHandler())
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	p := wechattest.NewPlatform(hs.URL+wechat.CallbackPath, token, appID, aesKey, o.safe)
	p.Server = api
	return &env{api: api, platform: p, adapter: a, router: r, blobs: dir}
}

// engine answers "echo: <text>" after delay, and counts what it handled.
type engine struct {
	delay   time.Duration
	mu      sync.Mutex
	handled []*bot.Inbound
}

func (e *engine) Handle(ctx context.Context, in *bot.Inbound) ([]bot.Outbound, error) {
	e.mu.Lock()
	e.handled = append(e.handled, in)
	e.mu.Unlock()
	if e.delay > 0 {
		select {
		case <-time.After(e.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	text := "echo: " + in.Text
	switch in.Kind {
	case bot.KindFollow:
		text = "欢迎关注！"
	case bot.KindMenu:
		text = "menu: " + in.Payload
	case bot.KindUnfollow:
		return nil, nil
	case bot.KindPhoto, bot.KindVideo, bot.KindVoice:
		text = "media: " + in.Media.BlobKey
	}
	return []bot.Outbound{{To: in.User, Kind: bot.OutText, Text: text}}, nil
}

func (e *engine) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.handled)
}

func (e *engine) last() *bot.Inbound {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.handled[len(e.handled)-1]
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestE2EVerifyURL(t *testing.T) {
	for _, safe := range []bool{false, true} {
		e := newEnv(t, envOptions{safe: safe, handler: &engine{}})
		v, err := e.platform.Verify(ctxT(t))
		require.NoError(t, err)
		assert.True(t, v.OK, "safe=%v: %d %q", safe, v.Status, v.Body)
		for _, tamper := range []wechattest.Tamper{wechattest.WrongSignature(), wechattest.NoSignature(), wechattest.StaleTimestamp(10 * time.Minute)} {
			v, err := e.platform.Verify(ctxT(t), tamper)
			require.NoError(t, err)
			assert.False(t, v.OK)
			assert.Equal(t, http.StatusUnauthorized, v.Status)
		}
	}
}

func TestE2ERoundTrip(t *testing.T) {
	for _, safe := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "safe"}[safe]
		t.Run(name, func(t *testing.T) {
			eng := &engine{}
			e := newEnv(t, envOptions{safe: safe, handler: eng})
			r, err := e.platform.Send(ctxT(t), wechattest.Text("oAlice", "卫生间漏水了"))
			require.NoError(t, err)
			assert.Empty(t, r.Invalid)
			assert.Equal(t, safe, r.Encrypted)
			require.NotNil(t, r.Msg)
			assert.Equal(t, "echo: 卫生间漏水了", r.Msg.Content)
			sent := e.api.SentTo("oAlice")
			require.Len(t, sent, 1)
			assert.Equal(t, wechattest.KindPassive, sent[0].Kind)

			// An unfollow has nothing to say: "success", plain even in safe mode.
			r, err = e.platform.Send(ctxT(t), wechattest.Unsubscribe("oAlice"))
			require.NoError(t, err)
			assert.True(t, r.IsSuccess)
			assert.Empty(t, r.Invalid)
			assert.Equal(t, bot.KindUnfollow, eng.last().Kind)
		})
	}
}

func TestE2ETamperedPushesAreRefused(t *testing.T) {
	for _, safe := range []bool{false, true} {
		eng := &engine{}
		e := newEnv(t, envOptions{safe: safe, handler: eng})
		tampers := map[string]struct {
			tamper wechattest.Tamper
			status int
		}{
			"wrong signature": {wechattest.WrongSignature(), http.StatusUnauthorized},
			"no signature":    {wechattest.NoSignature(), http.StatusUnauthorized},
			"stale":           {wechattest.StaleTimestamp(6 * time.Minute), http.StatusUnauthorized},
			"malformed":       {wechattest.MalformedXML(), http.StatusBadRequest},
			"oversize":        {wechattest.OversizeBody(1 << 20), http.StatusRequestEntityTooLarge},
		}
		if safe {
			tampers["wrong msg_signature"] = struct {
				tamper wechattest.Tamper
				status int
			}{wechattest.WrongMsgSignature(), http.StatusUnauthorized}
			tampers["foreign appid"] = struct {
				tamper wechattest.Tamper
				status int
			}{wechattest.ForeignAppID("wxSOMEONEELSE000"), http.StatusBadRequest}
		}
		for name, tc := range tampers {
			r, err := e.platform.Send(ctxT(t), wechattest.Text("oMallory", "hi"), tc.tamper)
			require.NoError(t, err, name)
			assert.Equal(t, tc.status, r.Status, "safe=%v %s", safe, name)
		}
		assert.Zero(t, eng.count(), "nothing tampered was handled")
	}
}

func TestE2ESlowEngineRepliesByCustomMessage(t *testing.T) {
	eng := &engine{delay: 800 * time.Millisecond}
	e := newEnv(t, envOptions{handler: eng, edit: func(c *wechat.Config) { c.PassiveBudget = 200 * time.Millisecond }})
	attempts, err := e.platform.SendWithRetries(ctxT(t), wechattest.Text("oBob", "什么时候上门？"))
	require.NoError(t, err)
	require.Len(t, attempts, 1, "answered in time: no retry")
	assert.True(t, attempts[0].Reply.IsSuccess)
	assert.Less(t, attempts[0].Elapsed, time.Second)
	sent, err := e.api.WaitSent(ctxT(t), "oBob", 1)
	require.NoError(t, err)
	assert.Equal(t, wechattest.KindCustom, sent[0].Kind)
	assert.Equal(t, "echo: 什么时候上门？", sent[0].Content)
}

func TestE2ERetriesHandledOnce(t *testing.T) {
	// WeChat gets no answer in time (its timeout shorter than the budget, as
	// when the network loses the answers) and pushes the same MsgId again;
	// the engine handles it once and the reply goes once. A retry that
	// arrives after the message was handled is answered "success" at once.
	eng := &engine{delay: 250 * time.Millisecond}
	e := newEnv(t, envOptions{handler: eng, edit: func(c *wechat.Config) { c.PassiveBudget = 400 * time.Millisecond }})
	e.platform.Timeout = 100 * time.Millisecond
	attempts, err := e.platform.SendWithRetries(ctxT(t), wechattest.Text("oCarl", "报修"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(attempts), 2)
	assert.True(t, attempts[0].TimedOut)
	if last := attempts[len(attempts)-1]; !last.TimedOut {
		assert.True(t, last.Reply.IsSuccess, "a retry is never answered with the reply")
	}
	var custom []wechattest.Sent
	require.NoError(t, e.api.Wait(ctxT(t), func() bool {
		custom = custom[:0]
		for _, s := range e.api.SentTo("oCarl") {
			if s.Kind == wechattest.KindCustom {
				custom = append(custom, s)
			}
		}
		return len(custom) > 0
	}))
	time.Sleep(300 * time.Millisecond) // let every retry's handling finish
	assert.Equal(t, 1, eng.count(), "handled once")
	require.Len(t, custom, 1, "the reply went once, by customer-service message")
	assert.Equal(t, "echo: 报修", custom[0].Content)
	assert.Equal(t, 1, e.api.Calls("/cgi-bin/message/custom/send"))
}

func TestE2ERetryWhileHandledAnswersSuccess(t *testing.T) {
	eng := &engine{delay: 600 * time.Millisecond}
	e := newEnv(t, envOptions{handler: eng, edit: func(c *wechat.Config) { c.PassiveBudget = 150 * time.Millisecond }})
	msg := e.platform.Prepare(wechattest.Text("oDora", "进度"))
	var wg sync.WaitGroup
	replies := make([]*wechattest.Reply, 3)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 200 * time.Millisecond)
			r, err := e.platform.Send(ctxT(t), msg)
			assert.NoError(t, err)
			replies[i] = r
		}()
	}
	wg.Wait()
	for _, r := range replies {
		assert.True(t, r.IsSuccess)
	}
	_, err := e.api.WaitSent(ctxT(t), "oDora", 1)
	require.NoError(t, err)
	time.Sleep(200 * time.Millisecond)
	assert.Equal(t, 1, eng.count())
	assert.Len(t, e.api.SentTo("oDora"), 1)
}

func TestE2EEventsAndMenu(t *testing.T) {
	eng := &engine{}
	e := newEnv(t, envOptions{safe: true, handler: eng})
	require.NoError(t, e.adapter.CreateMenu(ctxT(t)))
	menu := e.api.Menu()
	require.NotNil(t, menu)
	require.Len(t, menu.Button, 3)
	for i, want := range [][2]string{{"报修", "report"}, {"我的报修", "status"}, {"联系客服", "human"}} {
		assert.Equal(t, "click", menu.Button[i].Type)
		assert.Equal(t, want[0], menu.Button[i].Name)
		assert.Equal(t, want[1], menu.Button[i].Key)
	}

	r, err := e.platform.Send(ctxT(t), wechattest.Subscribe("oEve"))
	require.NoError(t, err)
	assert.Equal(t, "欢迎关注！", r.Msg.Content)
	assert.Equal(t, bot.KindFollow, eng.last().Kind)
	for _, key := range []string{"report", "status", "human"} {
		r, err = e.platform.Send(ctxT(t), wechattest.Click("oEve", key))
		require.NoError(t, err)
		assert.Equal(t, "menu: "+key, r.Msg.Content)
		assert.Equal(t, bot.KindMenu, eng.last().Kind)
	}
	r, err = e.platform.Send(ctxT(t), wechattest.View("oEve", "https://example.com"))
	require.NoError(t, err)
	assert.True(t, r.IsSuccess)
	assert.Equal(t, 4, eng.count(), "a view click is not for the engine")
}

func TestE2EMedia(t *testing.T) {
	eng := &engine{}
	e := newEnv(t, envOptions{handler: eng})
	jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte("x"), 4000)...)
	amr := append([]byte("#!AMR\n"), bytes.Repeat([]byte{1}, 500)...)
	mp4 := append([]byte("\x00\x00\x00\x18ftypmp42"), bytes.Repeat([]byte{2}, 500)...)

	check := func(msg wechattest.Inbound, kind bot.Kind, want []byte) {
		t.Helper()
		r, err := e.platform.Send(ctxT(t), msg)
		require.NoError(t, err)
		require.NotNil(t, r.Msg, "%s", r.Body)
		in := eng.last()
		assert.Equal(t, kind, in.Kind)
		require.NotNil(t, in.Media)
		require.NoError(t, in.Media.Err)
		assert.Equal(t, "media: "+in.Media.BlobKey, r.Msg.Content)
		got, err := os.ReadFile(filepath.Join(e.blobs, filepath.FromSlash(in.Media.BlobKey)))
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	check(wechattest.Image("oFay", e.api.AddMedia(jpeg, "image/jpeg"), ""), bot.KindPhoto, jpeg)
	check(wechattest.Voice("oFay", e.api.AddMedia(amr, "audio/amr"), ""), bot.KindVoice, amr)
	check(wechattest.Video("oFay", e.api.AddMedia(mp4, "video/mp4"), ""), bot.KindVideo, mp4)

	// Recognised speech is text.
	r, err := e.platform.Send(ctxT(t), wechattest.Voice("oFay", e.api.AddMedia(amr, "audio/amr"), "客厅灯不亮"))
	require.NoError(t, err)
	assert.Equal(t, "echo: 客厅灯不亮", r.Msg.Content)
	assert.Equal(t, bot.KindText, eng.last().Kind)

	// An expired MediaId: the photo comes from its PicUrl.
	id := e.api.AddMedia(jpeg, "image/jpeg")
	e.api.Advance(4 * 24 * time.Hour)
	check(wechattest.Image("oFay", id, ""), bot.KindPhoto, jpeg)
}

func TestE2EWindowAndTemplates(t *testing.T) {
	eng := &engine{}
	e := newEnv(t, envOptions{handler: eng, edit: func(c *wechat.Config) {
		c.Template = wechat.Template{ID: "TPL_generic"}
	}})
	e.api.AddTemplate("TPL_generic", "first", "keyword1", "keyword2", "remark")
	e.api.AddUser("oGus") // a follower who never wrote: no window
	ctx := ctxT(t)

	notice := bot.Outbound{To: bot.UserRef{Platform: bot.WeChat, ID: "oGus"}, Kind: bot.OutText, Text: "您的报修已派工。"}
	require.NoError(t, e.adapter.Send(ctx, notice))
	sent := e.api.SentTo("oGus")
	require.Len(t, sent, 1)
	assert.Equal(t, wechattest.KindTemplate, sent[0].Kind)
	assert.Equal(t, "您的报修已派工。", sent[0].Data["keyword1"].Value)
	assert.Zero(t, e.api.Calls("/cgi-bin/message/custom/send"))

	// After a message, customer-service messages: five of them.
	_, err := e.platform.Send(ctx, wechattest.Text("oGus", "好的"))
	require.NoError(t, err)
	for range 5 {
		require.NoError(t, e.adapter.Send(ctx, notice))
	}
	require.NoError(t, e.adapter.Send(ctx, notice))
	kinds := map[wechattest.SentKind]int{}
	for _, s := range e.api.SentTo("oGus") {
		kinds[s.Kind]++
	}
	assert.Equal(t, map[wechattest.SentKind]int{wechattest.KindTemplate: 2, wechattest.KindPassive: 1, wechattest.KindCustom: 5}, kinds)
	assert.Equal(t, 5, e.api.Calls("/cgi-bin/message/custom/send"), "the sixth did not try")
}

func TestE2EWeChatRefusalsAreFinal(t *testing.T) {
	e := newEnv(t, envOptions{handler: &engine{}, edit: func(c *wechat.Config) {
		// A count that believes everything is open, to reach WeChat's own refusals.
		c.Windows = openWindows{}
	}})
	ctx := ctxT(t)
	to := bot.UserRef{Platform: bot.WeChat, ID: "oHal"}
	msg := bot.Outbound{To: to, Kind: bot.OutText, Text: "维修结果"}

	e.api.AddUser("oHal")
	err := e.adapter.Send(ctx, msg)
	var nd *wechat.NotDeliveredError
	require.ErrorAs(t, err, &nd)
	assert.ErrorIs(t, err, wechat.ErrWindowClosed, "45015")
	assert.Equal(t, 1, e.api.Calls("/cgi-bin/message/custom/send"), "not retried")

	_, err = e.platform.Send(ctx, wechattest.Text("oHal", "在吗"))
	require.NoError(t, err)
	for range 5 {
		require.NoError(t, e.adapter.Send(ctx, msg))
	}
	err = e.adapter.Send(ctx, msg)
	require.ErrorAs(t, err, &nd)
	assert.ErrorIs(t, err, wechat.ErrQuotaExceeded, "45047")
	assert.Equal(t, 7, e.api.Calls("/cgi-bin/message/custom/send"))
}

// openWindows is a WindowStore that lets everything through.
type openWindows struct{}

func (openWindows) Open(context.Context, string, wechat.Grant) error { return nil }
func (openWindows) Take(context.Context, string, time.Time) error    { return nil }
func (openWindows) Close(context.Context, string) error              { return nil }
func (openWindows) Exhaust(context.Context, string) error            { return nil }

func TestE2ETokenRefresh(t *testing.T) {
	e := newEnv(t, envOptions{handler: &engine{}})
	ctx := ctxT(t)
	_, err := e.platform.Send(ctx, wechattest.Text("oIda", "hi"))
	require.NoError(t, err)
	msg := bot.Outbound{To: bot.UserRef{Platform: bot.WeChat, ID: "oIda"}, Kind: bot.OutText, Text: "1"}
	require.NoError(t, e.adapter.Send(ctx, msg))
	require.Equal(t, 1, e.api.Calls("/cgi-bin/token"))

	e.api.InvalidateTokens() // 40001
	require.NoError(t, e.adapter.Send(ctx, msg))
	assert.Equal(t, 2, e.api.Calls("/cgi-bin/token"))

	e.api.ExpireTokens() // 42001
	require.NoError(t, e.adapter.Send(ctx, msg))
	assert.Equal(t, 3, e.api.Calls("/cgi-bin/token"))
	assert.Len(t, e.api.SentTo("oIda"), 4)
}

func TestE2ELongRepliesAndChoices(t *testing.T) {
	long := strings.Repeat("报修须知：请保持电话畅通。\n", 200) // ~7 KB
	e := newEnv(t, envOptions{handler: bot.HandlerFunc(func(_ context.Context, in *bot.Inbound) ([]bot.Outbound, error) {
		return []bot.Outbound{
			{To: in.User, Kind: bot.OutText, Text: long},
			{To: in.User, Kind: bot.OutText, Text: "请选择问题类型", Choices: []bot.Choice{{Label: "漏水/渗水", Payload: "a"}, {Label: "墙面开裂", Payload: "b"}}},
		}, nil
	})})
	r, err := e.platform.Send(ctxT(t), wechattest.Text("oJon", "报修"))
	require.NoError(t, err)
	require.NotNil(t, r.Msg)
	assert.LessOrEqual(t, len(r.Msg.Content), wechattest.TextLimit)
	var sent []wechattest.Sent
	require.NoError(t, e.api.Wait(ctxT(t), func() bool {
		sent = e.api.SentTo("oJon")
		return len(sent) > 0 && strings.Contains(sent[len(sent)-1].Content, "请选择问题类型")
	}))
	assert.True(t, strings.HasPrefix(sent[len(sent)-1].Content, "请选择问题类型"), "one message, one question: %q", sent[len(sent)-1].Content)
	var all strings.Builder
	for _, s := range sent {
		assert.LessOrEqual(t, len(s.Content), wechattest.TextLimit)
		all.WriteString(s.Content)
	}
	assert.True(t, strings.HasSuffix(all.String(), "请选择问题类型\n\n请点选，或回复数字：\n1. 漏水/渗水\n2. 墙面开裂"), "links show as their labels")
	assert.Equal(t, wechattest.KindPassive, sent[0].Kind)
	for _, s := range sent[1:] {
		assert.Equal(t, wechattest.KindCustom, s.Kind)
	}
}

// TestE2ETapAnOption: options reach the user as links they can tap, in the
// passive reply and in customer-service messages alike; a tap comes back
// as the option's text with its bizmsgmenuid, and reaches the engine as a
// press on the choice with its payload, as a button does on Telegram. A
// tap on an option whose id is not known (another account's link, a
// forgotten one) is the label's words; a typed number stays a text.
func TestE2ETapAnOption(t *testing.T) {
	for _, safe := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "safe"}[safe]
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			var got []*bot.Inbound
			e := newEnv(t, envOptions{safe: safe, handler: bot.HandlerFunc(func(_ context.Context, in *bot.Inbound) ([]bot.Outbound, error) {
				mu.Lock()
				got = append(got, in)
				mu.Unlock()
				return []bot.Outbound{{To: in.User, Kind: bot.OutText, Text: "请核对：卫生间漏水", Choices: []bot.Choice{
					{Label: "对", Payload: "confirm:yes"}, {Label: "不对，我来改", Payload: "confirm:edit"},
				}}}, nil
			})})
			last := func() *bot.Inbound {
				mu.Lock()
				defer mu.Unlock()
				return got[len(got)-1]
			}
			r, err := e.platform.Send(ctxT(t), wechattest.Text("oTap", "报修"))
			require.NoError(t, err)
			assert.Equal(t, safe, r.Encrypted)
			sent := e.api.SentTo("oTap")
			require.Len(t, sent, 1)
			assert.Equal(t, wechattest.KindPassive, sent[0].Kind)
			assert.Equal(t, "请核对：卫生间漏水\n\n请点选，或回复数字：\n1. 对\n2. 不对，我来改", sent[0].Content, "the user sees the labels, numbered")
			assert.Contains(t, sent[0].Raw, `<a href="weixin://bizmsgmenu?msgmenucontent=不对，我来改&msgmenuid=`)
			require.Len(t, sent[0].Options, 2)

			edit, ok := sent[0].Option("不对，我来改")
			require.True(t, ok)
			_, err = e.platform.Send(ctxT(t), wechattest.Tap("oTap", edit))
			require.NoError(t, err)
			assert.Equal(t, bot.KindButton, last().Kind)
			assert.Equal(t, "confirm:edit", last().Payload)
			assert.Equal(t, "不对，我来改", last().Text)

			unknown := wechattest.Option{ID: "42", Content: "对", Label: "对"}
			_, err = e.platform.Send(ctxT(t), wechattest.Tap("oTap", unknown))
			require.NoError(t, err)
			assert.Equal(t, bot.KindText, last().Kind, "an unknown id: the words")
			assert.Equal(t, "对", last().Text)

			_, err = e.platform.Send(ctxT(t), wechattest.Text("oTap", "1"))
			require.NoError(t, err)
			assert.Equal(t, bot.KindText, last().Kind)
			assert.Equal(t, "1", last().Text, "a typed number is for the engine to map")

			// A customer-service message (a notification later) carries taps too.
			require.NoError(t, e.adapter.Send(ctxT(t), bot.Outbound{To: bot.UserRef{Platform: bot.WeChat, ID: "oTap"}, Kind: bot.OutText,
				Text: "Pick a time:", Choices: []bot.Choice{{Label: "Mon 9:00-12:00", Payload: "lc:slot:1"}, {Label: "Tue 14:00-17:00", Payload: "lc:slot:2"}}}))
			sent = e.api.SentTo("oTap")
			cs := sent[len(sent)-1]
			assert.Equal(t, wechattest.KindCustom, cs.Kind)
			assert.Equal(t, "Pick a time:\n1. Mon 9:00-12:00\n2. Tue 14:00-17:00", cs.Content)
			tue, ok := cs.Option("Tue 14:00-17:00")
			require.True(t, ok)
			assert.Equal(t, "Tue 14:00-17:00", tue.Content, "the percent-encoded content decodes to the label")
			_, err = e.platform.Send(ctxT(t), wechattest.Tap("oTap", tue))
			require.NoError(t, err)
			assert.Equal(t, bot.KindButton, last().Kind)
			assert.Equal(t, "lc:slot:2", last().Payload)
		})
	}
}

// TestE2EUserLanguage: the language of the user's WeChat (user/info) comes
// with their messages, asked once and cached; an account that may not read
// user info (48001) is not asked again, and its users' messages come
// without a language.
func TestE2EUserLanguage(t *testing.T) {
	eng := &engine{}
	e := newEnv(t, envOptions{handler: eng})
	e.api.SetLanguage("oEn", "en")
	for _, text := range []string{"Hello", "My ceiling leaks"} {
		_, err := e.platform.Send(ctxT(t), wechattest.Text("oEn", text))
		require.NoError(t, err)
		assert.Equal(t, "en", eng.last().Language)
	}
	_, err := e.platform.Send(ctxT(t), wechattest.Text("oZh", "你好"))
	require.NoError(t, err)
	assert.Equal(t, "zh_CN", eng.last().Language)
	assert.Equal(t, 2, e.api.Calls("/cgi-bin/user/info"), "once per user")

	d := newEnv(t, envOptions{handler: eng})
	d.api.DenyUserInfo()
	for range 2 {
		_, err := d.platform.Send(ctxT(t), wechattest.Text("oAny", "hi"))
		require.NoError(t, err)
		assert.Empty(t, eng.last().Language)
	}
	assert.Equal(t, 1, d.api.Calls("/cgi-bin/user/info"), "48001: not asked again")
}
