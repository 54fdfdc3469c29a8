package wechattest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/internal/testclock"
)

const (
	testAppID  = "wx2c2769f8efd9abc2"
	testSecret = "0123456789abcdef0123456789abcdef"
)

// apiAnswer is a decoded JSON answer of the fake.
type apiAnswer struct {
	ErrCode     int    `json:"errcode"`
	ErrMsg      string `json:"errmsg"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	MsgID       int64  `json:"msgid"`
	VideoURL    string `json:"video_url"`
	Menu        *Menu  `json:"menu"`
}

func call(t *testing.T, srv *Server, method, path string, query url.Values, body any) (apiAnswer, *http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, srv.URL()+path+"?"+query.Encode(), rd)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var a apiAnswer
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(raw, &a), string(raw))
	}
	return a, resp, raw
}

func token(t *testing.T, srv *Server) string {
	t.Helper()
	a, _, _ := call(t, srv, http.MethodGet, "/cgi-bin/token", url.Values{"grant_type": {"client_credential"}, "appid": {testAppID}, "secret": {testSecret}}, nil)
	require.Zero(t, a.ErrCode, a.ErrMsg)
	return a.AccessToken
}

func post(t *testing.T, srv *Server, path, tok string, body any) apiAnswer {
	t.Helper()
	a, resp, _ := call(t, srv, http.MethodPost, path, url.Values{"access_token": {tok}}, body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "WeChat answers errors with HTTP 200")
	return a
}

func sendText(t *testing.T, srv *Server, tok, openID, content string) apiAnswer {
	t.Helper()
	return post(t, srv, "/cgi-bin/message/custom/send", tok, map[string]any{
		"touser": openID, "msgtype": "text", "text": map[string]string{"content": content},
	})
}

// fakeClock is a settable clock for Server.SetNow.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func newClockedServer(t *testing.T) (*Server, *fakeClock) {
	srv := NewServer(t, testAppID, testSecret)
	clock := &fakeClock{t: testclock.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
	srv.SetNow(clock.Now)
	return srv, clock
}

func TestToken(t *testing.T) {
	t.Parallel()
	srv, _ := newClockedServer(t)
	good := url.Values{"grant_type": {"client_credential"}, "appid": {testAppID}, "secret": {testSecret}}
	a, _, _ := call(t, srv, http.MethodGet, "/cgi-bin/token", good, nil)
	assert.Zero(t, a.ErrCode)
	assert.NotEmpty(t, a.AccessToken)
	assert.EqualValues(t, 7200, a.ExpiresIn)

	tests := map[string]struct {
		query url.Values
		code  int
	}{
		"wrong secret":     {url.Values{"grant_type": {"client_credential"}, "appid": {testAppID}, "secret": {"nope"}}, CodeInvalidAppSecret},
		"wrong appid":      {url.Values{"grant_type": {"client_credential"}, "appid": {"wx0"}, "secret": {testSecret}}, CodeInvalidAppID},
		"no appid":         {url.Values{"grant_type": {"client_credential"}, "secret": {testSecret}}, CodeAppIDMissing},
		"wrong grant_type": {url.Values{"grant_type": {"password"}, "appid": {testAppID}, "secret": {testSecret}}, CodeInvalidGrantType},
	}
	for name, tt := range tests {
		a, resp, _ := call(t, srv, http.MethodGet, "/cgi-bin/token", tt.query, nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode, name)
		assert.Equal(t, tt.code, a.ErrCode, name)
		assert.Empty(t, a.AccessToken, name)
	}
	wrong, _, _ := call(t, srv, http.MethodGet, "/cgi-bin/token", tests["wrong secret"].query, nil)
	assert.True(t, strings.HasPrefix(wrong.ErrMsg, "invalid appsecret rid: "), wrong.ErrMsg)

	a, _, _ = call(t, srv, http.MethodPost, "/cgi-bin/token", good, nil)
	assert.Equal(t, CodeRequireGET, a.ErrCode)
}

func TestTokenLifecycle(t *testing.T) {
	t.Parallel()
	srv, _ := newClockedServer(t)
	srv.AddUser("ann")
	srv.AddTemplate("tpl")
	send := func(tok string) int {
		return post(t, srv, "/cgi-bin/message/template/send", tok, map[string]any{"touser": "ann", "template_id": "tpl"}).ErrCode
	}

	first := token(t, srv)
	assert.Zero(t, send(first))
	assert.Equal(t, CodeAccessTokenMissing, send(""))
	assert.Equal(t, CodeInvalidCredential, send("86_made-up"))

	// A new token leaves the old one 5 minutes.
	second := token(t, srv)
	assert.NotEqual(t, first, second)
	srv.Advance(4 * time.Minute)
	assert.Zero(t, send(first))
	srv.Advance(2 * time.Minute)
	assert.Equal(t, CodeAccessTokenExpired, send(first))
	assert.Zero(t, send(second))

	// Natural expiry after 7200 s.
	srv.Advance(TokenLifetime)
	assert.Equal(t, CodeAccessTokenExpired, send(second))

	third := token(t, srv)
	srv.ExpireTokens()
	assert.Equal(t, CodeAccessTokenExpired, send(third))
	fourth := token(t, srv)
	srv.InvalidateTokens()
	a := post(t, srv, "/cgi-bin/message/template/send", fourth, map[string]any{"touser": "ann", "template_id": "tpl"})
	assert.Equal(t, CodeInvalidCredential, a.ErrCode)
	assert.True(t, strings.HasPrefix(a.ErrMsg, "invalid credential, access_token is invalid or not latest"), a.ErrMsg)
}

func TestStableToken(t *testing.T) {
	t.Parallel()
	srv, _ := newClockedServer(t)
	body := map[string]any{"grant_type": "client_credential", "appid": testAppID, "secret": testSecret}
	a, _, _ := call(t, srv, http.MethodPost, "/cgi-bin/stable_token", nil, body)
	require.Zero(t, a.ErrCode, a.ErrMsg)
	assert.EqualValues(t, 7200, a.ExpiresIn)
	first := a.AccessToken

	srv.Advance(time.Hour)
	a, _, _ = call(t, srv, http.MethodPost, "/cgi-bin/stable_token", nil, body)
	assert.Equal(t, first, a.AccessToken, "the same token while it is valid")
	assert.EqualValues(t, 3600, a.ExpiresIn)

	// /cgi-bin/token does not supersede the stable token.
	token(t, srv)
	srv.Advance(time.Hour - time.Minute)
	a, _, _ = call(t, srv, http.MethodGet, "/cgi-bin/menu/delete", url.Values{"access_token": {first}}, nil)
	assert.Zero(t, a.ErrCode, a.ErrMsg)

	body["force_refresh"] = true
	a, _, _ = call(t, srv, http.MethodPost, "/cgi-bin/stable_token", nil, body)
	assert.NotEqual(t, first, a.AccessToken)

	body["secret"] = "wrong"
	a, _, _ = call(t, srv, http.MethodPost, "/cgi-bin/stable_token", nil, body)
	assert.Equal(t, CodeInvalidAppSecret, a.ErrCode)
}

func TestCustomMessageWindow(t *testing.T) {
	t.Parallel()
	srv, _ := newClockedServer(t)
	tok := token(t, srv)

	assert.Equal(t, CodeResponseOutOfTime, sendText(t, srv, tok, "stranger", "hi").ErrCode, "unknown openid")
	srv.AddUser("follower")
	assert.Equal(t, CodeResponseOutOfTime, sendText(t, srv, tok, "follower", "hi").ErrCode, "follower who never wrote")

	srv.RecordInbound(Text("ann", "热水器漏水"))
	for i := range MessageQuota {
		a := sendText(t, srv, tok, "ann", "reply")
		require.Zero(t, a.ErrCode, "message %d: %s", i+1, a.ErrMsg)
	}
	a := sendText(t, srv, tok, "ann", "one too many")
	assert.Equal(t, CodeResponseCountLimit, a.ErrCode)
	assert.True(t, strings.HasPrefix(a.ErrMsg, "out of response count limit"), a.ErrMsg)
	u, _ := srv.User("ann")
	assert.Zero(t, u.MessageLeft)

	// A new message resets the quota.
	srv.Advance(10 * time.Hour)
	tok = token(t, srv) // the old one expired meanwhile
	srv.RecordInbound(Text("ann", "还在吗"))
	assert.Zero(t, sendText(t, srv, tok, "ann", "yes").ErrCode)

	// 48 hours after the last message the window closes.
	srv.Advance(MessageWindow - time.Second)
	tok = token(t, srv)
	assert.Zero(t, sendText(t, srv, tok, "ann", "still in time").ErrCode)
	srv.Advance(time.Second)
	a = sendText(t, srv, tok, "ann", "too late")
	assert.Equal(t, CodeResponseOutOfTime, a.ErrCode)
	assert.True(t, strings.HasPrefix(a.ErrMsg, "response out of time limit or subscription is canceled"), a.ErrMsg)

	sent := srv.SentTo("ann")
	require.Len(t, sent, MessageQuota+2)
	assert.Equal(t, KindCustom, sent[0].Kind)
	assert.Equal(t, "text", sent[0].MsgType)
	assert.Equal(t, "reply", sent[0].Content)
	assert.Equal(t, "still in time", sent[len(sent)-1].Content)
}

func TestCustomMessageEventWindow(t *testing.T) {
	t.Parallel()
	srv, _ := newClockedServer(t)
	tok := token(t, srv)

	for _, ev := range []Inbound{Subscribe("bob"), Click("bob", "REPAIR"), Scan("bob", "123", "ticket")} {
		srv.RecordInbound(ev)
		for range EventQuota {
			require.Zero(t, sendText(t, srv, tok, "bob", "welcome").ErrCode, ev.Event)
		}
		assert.Equal(t, CodeResponseCountLimit, sendText(t, srv, tok, "bob", "4th").ErrCode, ev.Event)
	}

	srv.RecordInbound(Click("bob", "REPAIR"))
	srv.Advance(EventWindow)
	assert.Equal(t, CodeResponseOutOfTime, sendText(t, srv, tok, "bob", "late").ErrCode)

	// A VIEW click opens nothing.
	srv.RecordInbound(View("bob", "https://example.com"))
	assert.Equal(t, CodeResponseOutOfTime, sendText(t, srv, tok, "bob", "no").ErrCode)

	// A message window and an event window add up, the event's spent first.
	srv.RecordInbound(Text("bob", "hello"))
	srv.RecordInbound(Click("bob", "REPAIR"))
	for range EventQuota + MessageQuota {
		require.Zero(t, sendText(t, srv, tok, "bob", "x").ErrCode)
	}
	assert.Equal(t, CodeResponseCountLimit, sendText(t, srv, tok, "bob", "x").ErrCode)

	// Unfollowing closes everything.
	srv.RecordInbound(Text("bob", "bye"))
	srv.RecordInbound(Unsubscribe("bob"))
	assert.Equal(t, CodeResponseOutOfTime, sendText(t, srv, tok, "bob", "x").ErrCode)
	u, ok := srv.User("bob")
	require.True(t, ok)
	assert.False(t, u.Subscribed)
}

func TestCustomMessageValidation(t *testing.T) {
	t.Parallel()
	srv, _ := newClockedServer(t)
	tok := token(t, srv)
	srv.RecordInbound(Text("ann", "hi"))
	img := srv.AddMedia([]byte{0xff, 0xd8}, "image/jpeg")

	tests := map[string]struct {
		body map[string]any
		code int
	}{
		"2048 bytes":    {map[string]any{"touser": "ann", "msgtype": "text", "text": map[string]string{"content": strings.Repeat("a", 2048)}}, 0},
		"2049 bytes":    {map[string]any{"touser": "ann", "msgtype": "text", "text": map[string]string{"content": strings.Repeat("a", 2049)}}, CodeContentSizeLimit},
		"683 hanzi":     {map[string]any{"touser": "ann", "msgtype": "text", "text": map[string]string{"content": strings.Repeat("修", 683)}}, CodeContentSizeLimit},
		"empty text":    {map[string]any{"touser": "ann", "msgtype": "text", "text": map[string]string{"content": ""}}, CodeEmptyContent},
		"no touser":     {map[string]any{"msgtype": "text", "text": map[string]string{"content": "x"}}, CodeInvalidOpenID},
		"bad msgtype":   {map[string]any{"touser": "ann", "msgtype": "sticker"}, CodeInvalidMessageType},
		"image":         {map[string]any{"touser": "ann", "msgtype": "image", "image": map[string]string{"media_id": img}}, 0},
		"unknown image": {map[string]any{"touser": "ann", "msgtype": "image", "image": map[string]string{"media_id": "nope"}}, CodeInvalidMediaID},
		"two articles": {map[string]any{"touser": "ann", "msgtype": "news", "news": map[string]any{"articles": []Article{
			{Title: "a", URL: "https://a"}, {Title: "b", URL: "https://b"}}}}, CodeArticleSizeLimit},
	}
	for name, tt := range tests {
		assert.Equal(t, tt.code, post(t, srv, "/cgi-bin/message/custom/send", tok, tt.body).ErrCode, name)
	}
	a, _, _ := call(t, srv, http.MethodPost, "/cgi-bin/message/custom/send", url.Values{"access_token": {tok}}, "not an object")
	assert.Equal(t, CodeDataFormatError, a.ErrCode)
}

func TestTemplateMessage(t *testing.T) {
	t.Parallel()
	srv, _ := newClockedServer(t)
	tok := token(t, srv)
	srv.AddTemplate("repair-done", "character_string1", "thing2", "time3", "phrase4")
	srv.AddUser("ann")
	data := func(kv ...string) map[string]TemplateItem {
		d := map[string]TemplateItem{}
		for i := 0; i < len(kv); i += 2 {
			d[kv[i]] = TemplateItem{Value: kv[i+1]}
		}
		return d
	}
	good := data("character_string1", "WO-2025-0042", "thing2", "厨房水槽漏水", "time3", "2025年3月1日 15:01", "phrase4", "已完成")

	a := post(t, srv, "/cgi-bin/message/template/send", tok, map[string]any{
		"touser": "ann", "template_id": "repair-done", "url": "https://example.com/case/42", "data": good,
	})
	require.Zero(t, a.ErrCode, a.ErrMsg)
	assert.Equal(t, "ok", a.ErrMsg)
	assert.NotZero(t, a.MsgID)

	sent := srv.SentTo("ann")
	require.Len(t, sent, 1)
	assert.Equal(t, KindTemplate, sent[0].Kind)
	assert.Equal(t, "repair-done", sent[0].TemplateID)
	assert.Equal(t, a.MsgID, sent[0].MsgID)
	assert.Equal(t, "https://example.com/case/42", sent[0].URL)
	assert.Equal(t, "character_string1: WO-2025-0042\nthing2: 厨房水槽漏水\ntime3: 2025年3月1日 15:01\nphrase4: 已完成", sent[0].Content)

	srv.Advance(30 * 24 * time.Hour) // no window needed
	tok = token(t, srv)
	tests := map[string]struct {
		body map[string]any
		code int
		msg  string
	}{
		"unknown template": {map[string]any{"touser": "ann", "template_id": "nope", "data": good}, CodeInvalidTemplateID, "invalid template_id"},
		"not a follower":   {map[string]any{"touser": "zed", "template_id": "repair-done", "data": good}, CodeRequireSubscribe, "require subscribe"},
		"chinese in character_string": {map[string]any{"touser": "ann", "template_id": "repair-done",
			"data": data("character_string1", "工单42", "thing2", "x", "time3", "15:01", "phrase4", "已完成")},
			CodeArgumentInvalid, "argument invalid! data.character_string1.value invalid"},
		"thing over 20": {map[string]any{"touser": "ann", "template_id": "repair-done",
			"data": data("character_string1", "42", "thing2", strings.Repeat("漏", 21), "time3", "15:01", "phrase4", "已完成")},
			CodeArgumentInvalid, "argument invalid! data.thing2.value invalid"},
		"missing keyword": {map[string]any{"touser": "ann", "template_id": "repair-done",
			"data": data("character_string1", "42", "thing2", "x", "time3", "15:01")},
			CodeArgumentInvalid, "argument invalid! data.phrase4.value is empty"},
	}
	for name, tt := range tests {
		a := post(t, srv, "/cgi-bin/message/template/send", tok, tt.body)
		assert.Equal(t, tt.code, a.ErrCode, name)
		assert.True(t, strings.HasPrefix(a.ErrMsg, tt.msg+" rid: "), "%s: %s", name, a.ErrMsg)
	}
	assert.Len(t, srv.SentTo("ann"), 1)
}

func TestTemplateValueRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		field, value string
		ok           bool
	}{
		{"thing1", "热水器不出热水", true},
		{"thing1", strings.Repeat("a", 21), false},
		{"number2", "3.5", true},
		{"number2", "three", false},
		{"letter3", "ABC", true},
		{"letter3", "AB1", false},
		{"symbol4", "#", true},
		{"character_string5", "WO-42_a", true},
		{"character_string5", strings.Repeat("1", 33), false},
		{"amount6", "¥199.00", true},
		{"amount6", "199元", true},
		{"amount6", "199", false},
		{"phone_number7", "+86-0755-66888866", true},
		{"phone_number7", "call me", false},
		{"car_number8", "粤A8Z888挂", true},
		{"car_number8", "粤A8Z888挂12", false},
		{"name9", "张三", true},
		{"name9", "Zhang San", true},
		{"phrase10", "已完成", true},
		{"phrase10", "done", false},
		{"phrase10", "", false},
		{"const11", "", true},
		{"first", "", true},
		{"keyword1", strings.Repeat("x", 200), true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.ok, checkTemplateValue(tt.field, tt.value) == "", "%s=%q", tt.field, tt.value)
	}
}

func TestMediaGet(t *testing.T) {
	t.Parallel()
	srv, _ := newClockedServer(t)
	tok := token(t, srv)
	jpeg := []byte{0xff, 0xd8, 0xff, 0xe0, 'J', 'F', 'I', 'F'}
	id := srv.AddMedia(jpeg, "image/jpeg")
	assert.Len(t, id, 64)

	get := func(id string) (apiAnswer, *http.Response, []byte) {
		return call(t, srv, http.MethodGet, "/cgi-bin/media/get", url.Values{"access_token": {tok}, "media_id": {id}}, nil)
	}
	_, resp, body := get(id)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, jpeg, body)
	assert.Equal(t, "image/jpeg", resp.Header.Get("Content-Type"))
	assert.Equal(t, `attachment; filename="`+id+`.jpg"`, resp.Header.Get("Content-Disposition"))

	a, resp, _ := get("nope")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, CodeInvalidMediaID, a.ErrCode)

	// The picture URL in image messages needs no token.
	picResp, err := http.Get(srv.PicURL(id))
	require.NoError(t, err)
	pic, _ := io.ReadAll(picResp.Body)
	picResp.Body.Close()
	assert.Equal(t, jpeg, pic)

	// Videos come as a URL.
	vid := srv.AddMedia([]byte("mp4"), "video/mp4")
	a, _, _ = get(vid)
	assert.Equal(t, srv.PicURL(vid), a.VideoURL)

	// Temporary media last 3 days.
	srv.Advance(MediaLifetime - time.Minute)
	tok = token(t, srv)
	_, resp, _ = get(id)
	assert.Equal(t, "image/jpeg", resp.Header.Get("Content-Type"))
	srv.Advance(time.Minute)
	tok = token(t, srv)
	a, _, _ = get(id)
	assert.Equal(t, CodeInvalidMediaID, a.ErrCode)
}

func TestMenu(t *testing.T) {
	t.Parallel()
	srv, _ := newClockedServer(t)
	tok := token(t, srv)
	assert.Nil(t, srv.Menu())

	a, _, _ := call(t, srv, http.MethodGet, "/cgi-bin/menu/get", url.Values{"access_token": {tok}}, nil)
	assert.Equal(t, CodeMenuNotExist, a.ErrCode)

	menu := Menu{Button: []Button{
		{Type: "click", Name: "报修", Key: "REPAIR"},
		{Name: "我的", SubButton: []Button{
			{Type: "click", Name: "我的工单", Key: "MY_CASES"},
			{Type: "view", Name: "保修政策", URL: "https://example.com/warranty"},
		}},
	}}
	require.Zero(t, post(t, srv, "/cgi-bin/menu/create", tok, menu).ErrCode)
	assert.Equal(t, &menu, srv.Menu())
	a, _, _ = call(t, srv, http.MethodGet, "/cgi-bin/menu/get", url.Values{"access_token": {tok}}, nil)
	assert.Equal(t, &menu, a.Menu)

	five := make([]Button, 6)
	for i := range five {
		five[i] = Button{Type: "click", Name: "b", Key: "k"}
	}
	tests := map[string]struct {
		menu Menu
		code int
	}{
		"no buttons":        {Menu{}, CodeInvalidButtonSize},
		"four buttons":      {Menu{Button: []Button{{Type: "click", Name: "a", Key: "a"}, {Type: "click", Name: "b", Key: "b"}, {Type: "click", Name: "c", Key: "c"}, {Type: "click", Name: "d", Key: "d"}}}, CodeInvalidButtonSize},
		"six sub-buttons":   {Menu{Button: []Button{{Name: "a", SubButton: five}}}, CodeInvalidSubButtons},
		"click without key": {Menu{Button: []Button{{Type: "click", Name: "a"}}}, CodeInvalidButtonKey},
		"view without url":  {Menu{Button: []Button{{Type: "view", Name: "a"}}}, CodeInvalidButtonURL},
		"sub view no url":   {Menu{Button: []Button{{Name: "a", SubButton: []Button{{Type: "view", Name: "b"}}}}}, CodeInvalidSubURL},
		"sub click no key":  {Menu{Button: []Button{{Name: "a", SubButton: []Button{{Type: "click", Name: "b"}}}}}, CodeInvalidSubKey},
		"long name":         {Menu{Button: []Button{{Type: "click", Name: "售后服务中心", Key: "a"}}}, CodeInvalidButtonName},
		"bad type":          {Menu{Button: []Button{{Type: "tap", Name: "a", Key: "a"}}}, CodeInvalidButtonType},
		"third level":       {Menu{Button: []Button{{Name: "a", SubButton: []Button{{Name: "b", SubButton: []Button{{Type: "click", Name: "c", Key: "c"}}}}}}}, CodeInvalidSubMenuLevel},
	}
	for name, tt := range tests {
		assert.Equal(t, tt.code, post(t, srv, "/cgi-bin/menu/create", tok, tt.menu).ErrCode, name)
	}
	assert.Equal(t, &menu, srv.Menu(), "failed creates leave the menu")
}

func TestFailureInjection(t *testing.T) {
	t.Parallel()
	srv, _ := newClockedServer(t)
	tok := token(t, srv)
	srv.RecordInbound(Text("ann", "hi"))
	const path = "/cgi-bin/message/custom/send"

	srv.FailNext(path, 2, CodeSystemError, "system error")
	a := sendText(t, srv, tok, "ann", "1")
	assert.Equal(t, CodeSystemError, a.ErrCode)
	assert.Equal(t, "system error", a.ErrMsg)
	assert.Equal(t, CodeSystemError, sendText(t, srv, tok, "ann", "2").ErrCode)
	assert.Zero(t, sendText(t, srv, tok, "ann", "3").ErrCode)
	assert.Len(t, srv.SentTo("ann"), 1, "failed calls have no effect")
	u, _ := srv.User("ann")
	assert.Equal(t, MessageQuota-1, u.MessageLeft, "nor use quota")

	srv.FailNextStatus(path, 1, http.StatusBadGateway)
	_, resp, _ := call(t, srv, http.MethodPost, path, url.Values{"access_token": {tok}}, map[string]any{})
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)

	assert.Equal(t, 4, srv.Calls(path))
	assert.Equal(t, 1, srv.Calls("/cgi-bin/token"))
	reqs := srv.Requests()
	require.Len(t, reqs, 5)
	assert.Equal(t, "/cgi-bin/token", reqs[0].Path)
	assert.Equal(t, http.MethodGet, reqs[0].Method)
	assert.Equal(t, tok, reqs[1].Query.Get("access_token"))
	assert.JSONEq(t, `{"touser":"ann","msgtype":"text","text":{"content":"1"}}`, string(reqs[1].Body))
}

func TestWait(t *testing.T) {
	t.Parallel()
	srv, _ := newClockedServer(t)
	tok := token(t, srv)
	srv.RecordInbound(Text("ann", "hi"))

	go func() {
		for _, s := range []string{"a", "b", "c"} {
			body := `{"touser":"ann","msgtype":"text","text":{"content":"` + s + `"}}`
			resp, err := http.Post(srv.URL()+"/cgi-bin/message/custom/send?access_token="+tok, "application/json", strings.NewReader(body))
			if err == nil {
				resp.Body.Close()
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := srv.WaitSent(ctx, "ann", 3)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "c"}, []string{got[0].Content, got[1].Content, got[2].Content})

	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	err = srv.Wait(short, func() bool { return len(srv.SentTo("nobody")) > 0 })
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestUnknownPath(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, testAppID, testSecret)
	_, resp, _ := call(t, srv, http.MethodGet, "/cgi-bin/nope", nil, nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}
