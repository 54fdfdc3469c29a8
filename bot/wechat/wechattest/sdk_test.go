package wechattest

// Interoperability with the SDK the adapter uses, silenceper/wechat/v2:
// its API client against Server, and its callback server behind Platform.
// The SDK's URI modifier is a process global, so the client tests do not
// run in parallel.

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/officialaccount"
	"github.com/silenceper/wechat/v2/officialaccount/config"
	"github.com/silenceper/wechat/v2/officialaccount/menu"
	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sdkAccount points the SDK at srv for the test.
func sdkAccount(t *testing.T, srv *Server, stable bool) *officialaccount.OfficialAccount {
	t.Helper()
	util.SetURIModifier(func(uri string) string {
		return strings.Replace(uri, "https://api.weixin.qq.com", srv.URL(), 1)
	})
	t.Cleanup(func() { util.SetURIModifier(nil) })
	return officialaccount.NewOfficialAccount(&config.Config{
		AppID: testAppID, AppSecret: testSecret, Token: testToken, EncodingAESKey: testAESKey,
		Cache: cache.NewMemory(), UseStableAK: stable,
	})
}

func TestSDKClient(t *testing.T) {
	srv := NewServer(t, testAppID, testSecret)
	oa := sdkAccount(t, srv, false)

	// Customer-service messages follow the window rules.
	err := oa.GetCustomerMessageManager().Send(message.NewCustomerTextMessage("oSDK1", "您好"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "errcode=45015")

	srv.RecordInbound(Text("oSDK1", "报修"))
	require.NoError(t, oa.GetCustomerMessageManager().Send(message.NewCustomerTextMessage("oSDK1", "您好，已收到")))
	sent := srv.SentTo("oSDK1")
	require.Len(t, sent, 1)
	assert.Equal(t, "您好，已收到", sent[0].Content)
	assert.Equal(t, 1, srv.Calls("/cgi-bin/token"), "the SDK caches the token")

	// Template messages.
	srv.AddTemplate("TPL", "thing1", "time2")
	msgID, err := oa.GetTemplate().Send(&message.TemplateMessage{
		ToUser: "oSDK1", TemplateID: "TPL", URL: "https://example.com/c/1",
		Data: map[string]*message.TemplateDataItem{"thing1": {Value: "维修已完成"}, "time2": {Value: "2025-03-01 15:01"}},
	})
	require.NoError(t, err)
	assert.NotZero(t, msgID)

	// Menus.
	click := &menu.Button{}
	click.SetClickButton("报修", "REPAIR")
	view := &menu.Button{}
	view.SetViewButton("保修", "https://example.com/warranty")
	require.NoError(t, oa.GetMenu().SetMenu([]*menu.Button{click, view}))
	require.NotNil(t, srv.Menu())
	assert.Equal(t, "REPAIR", srv.Menu().Button[0].Key)

	// Media: the SDK only builds the URL, on the real host.
	id := srv.AddMedia([]byte("jpeg"), "image/jpeg")
	u, err := oa.GetMaterial().GetMediaURL(id)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(u, "https://api.weixin.qq.com/cgi-bin/media/get?"))
	resp, err := http.Get(strings.Replace(u, "https://api.weixin.qq.com", srv.URL(), 1))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "jpeg", string(body))

	// A token the server no longer accepts surfaces as 40001; the SDK does
	// not refresh it by itself.
	srv.InvalidateTokens()
	err = oa.GetCustomerMessageManager().Send(message.NewCustomerTextMessage("oSDK1", "again"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "errcode=40001")
}

func TestSDKStableToken(t *testing.T) {
	srv := NewServer(t, testAppID, testSecret)
	oa := sdkAccount(t, srv, true)
	srv.RecordInbound(Subscribe("oSDK2"))
	require.NoError(t, oa.GetCustomerMessageManager().Send(message.NewCustomerTextMessage("oSDK2", "欢迎关注")))
	assert.Equal(t, 1, srv.Calls("/cgi-bin/stable_token"))
	assert.Zero(t, srv.Calls("/cgi-bin/token"))
}

// sdkCallback is an official-account callback built on the SDK's server.
// Unless naive, it answers "success" itself when there is no reply: in
// safe mode the SDK would otherwise send an encrypted empty body.
func sdkCallback(t *testing.T, naive bool, reply func(*message.MixMessage) *message.Reply) string {
	t.Helper()
	oa := officialaccount.NewOfficialAccount(&config.Config{
		AppID: testAppID, AppSecret: testSecret, Token: testToken, EncodingAESKey: testAESKey, Cache: cache.NewMemory(),
	})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := &writeTracker{ResponseWriter: w}
		s := oa.GetServer(r, ww)
		s.SetMessageHandler(reply)
		if err := s.Serve(); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		if s.ResponseMsg == nil && !naive {
			if !ww.wrote {
				io.WriteString(w, "success")
			}
			return
		}
		if err := s.Send(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	t.Cleanup(hs.Close)
	return hs.URL
}

func TestSDKCallback(t *testing.T) {
	t.Parallel()
	var got []*message.MixMessage
	url := sdkCallback(t, false, func(m *message.MixMessage) *message.Reply {
		got = append(got, m)
		switch m.MsgType {
		case message.MsgTypeText:
			return &message.Reply{MsgType: message.MsgTypeText, MsgData: message.NewText("已收到：" + m.Content)}
		case message.MsgTypeImage:
			return &message.Reply{MsgType: message.MsgTypeNews, MsgData: message.NewNews([]*message.Article{
				message.NewArticle("照片已收到", "工单 42", "", "https://example.com/c/42")})}
		}
		return nil
	})
	for _, safe := range []bool{false, true} {
		got = nil
		srv := NewServer(t, testAppID, testSecret)
		p := NewPlatform(url, testToken, testAppID, testAESKey, safe)
		p.Server = srv
		ctx := context.Background()

		v, err := p.Verify(ctx)
		require.NoError(t, err)
		assert.True(t, v.OK, "safe=%v %+v", safe, v)

		r, err := p.Send(ctx, Text("oSDK3", "空调不制冷"))
		require.NoError(t, err)
		require.Empty(t, r.Invalid, "safe=%v body=%s", safe, r.Body)
		assert.Equal(t, safe, r.Encrypted)
		assert.Equal(t, "已收到：空调不制冷", r.Msg.Content)
		assert.Equal(t, "oSDK3", r.Msg.ToUserName)
		assert.Equal(t, p.AccountID, r.Msg.FromUserName)

		img := srv.AddMedia([]byte("jpeg"), "image/jpeg")
		r, err = p.Send(ctx, Image("oSDK3", img, ""))
		require.NoError(t, err)
		require.Empty(t, r.Invalid)
		require.Len(t, r.Msg.Articles, 1)
		assert.Equal(t, "照片已收到", r.Msg.Articles[0].Title)

		// No reply: "success".
		r, err = p.Send(ctx, Subscribe("oSDK3"))
		require.NoError(t, err)
		assert.True(t, r.IsSuccess, "safe=%v body=%q", safe, r.Body)

		r, err = p.Send(ctx, Location("oSDK3", 22.543096, 114.057865, 15, "深圳市福田区"))
		require.NoError(t, err)
		assert.True(t, r.IsSuccess)

		require.Len(t, got, 4)
		assert.Equal(t, "空调不制冷", got[0].Content)
		assert.NotZero(t, got[0].MsgID)
		assert.Equal(t, img, got[1].MediaID)
		assert.Equal(t, srv.PicURL(img), got[1].PicURL)
		assert.Equal(t, message.EventSubscribe, got[2].Event)
		assert.InDelta(t, 22.543096, got[3].LocationX, 1e-9)
		assert.Equal(t, "深圳市福田区", got[3].Label)

		kinds := []SentKind{}
		for _, s := range srv.SentTo("oSDK3") {
			kinds = append(kinds, s.Kind)
		}
		assert.Equal(t, []SentKind{KindPassive, KindPassive}, kinds)

		r, err = p.Send(ctx, Text("oSDK3", "x"), WrongSignature())
		require.NoError(t, err)
		assert.Equal(t, http.StatusForbidden, r.Status)
		if safe {
			r, err = p.Send(ctx, Text("oSDK3", "x"), WrongMsgSignature())
			require.NoError(t, err)
			assert.Equal(t, http.StatusForbidden, r.Status)
		}
	}
}

// The SDK's own crypto agrees with ours in both directions.
func TestSDKCrypto(t *testing.T) {
	t.Parallel()
	plain := []byte("<xml><Content><![CDATA[漏水]]></Content></xml>")
	ours, err := Encrypt(plain, testAppID, testAESKey, nil)
	require.NoError(t, err)
	_, got, err := util.DecryptMsg(testAppID, ours, testAESKey)
	require.NoError(t, err)
	assert.Equal(t, plain, got)

	theirs, err := util.EncryptMsg([]byte("0123456789abcdef"), plain, testAppID, testAESKey)
	require.NoError(t, err)
	got, err = Decrypt(string(theirs), testAppID, testAESKey)
	require.NoError(t, err)
	assert.Equal(t, plain, got)
	mine, err := Encrypt(plain, testAppID, testAESKey, []byte("0123456789abcdef"))
	require.NoError(t, err)
	assert.Equal(t, string(theirs), mine)

	assert.Equal(t, util.Signature(testToken, "1", "2", "x"), Signature(testToken, "1", "2", "x"))
}

type writeTracker struct {
	http.ResponseWriter
	wrote bool
}

func (w *writeTracker) WriteHeader(code int) {
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *writeTracker) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Left to itself, the SDK answers a nil reply in safe mode with an
// encrypted empty message, which the fake rejects.
func TestSDKSafeModeNilReply(t *testing.T) {
	t.Parallel()
	url := sdkCallback(t, true, func(*message.MixMessage) *message.Reply { return nil })
	p := NewPlatform(url, testToken, testAppID, testAESKey, true)
	r, err := p.Send(context.Background(), Text("oSDK4", "hi"))
	require.NoError(t, err)
	assert.False(t, r.IsSuccess)
	assert.Contains(t, r.Invalid, "encrypted empty reply")

	p.Safe = false
	r, err = p.Send(context.Background(), Text("oSDK4", "hi"))
	require.NoError(t, err)
	assert.True(t, r.IsSuccess, "plaintext mode: the SDK answers success")
}
