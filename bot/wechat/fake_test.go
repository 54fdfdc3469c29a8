package wechat

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
)

// The account the tests play.
const (
	testAppID  = "wx1234567890abcdef"
	testSecret = "test-app-secret-0123456789abcdef"
	testToken  = "callbacktoken"
	testAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	testGhID   = "gh_0123456789ab"
)

// fakeAPI is a small fake of api.weixin.qq.com for the unit tests: tokens,
// custom and template messages (with scripted errcodes), media and menus.
type fakeAPI struct {
	srv *httptest.Server

	mu        sync.Mutex
	changed   chan struct{}
	tokens    map[string]bool // valid tokens
	calls     map[string]int
	sent      []fakeSent
	fail      map[string][]int64 // path → errcodes of the next calls
	media     map[string]fakeMedia
	menu      []byte
	sendDelay time.Duration
}

type fakeSent struct {
	Kind    string // "custom" or "template"
	ToUser  string
	MsgType string
	Content string // a text's content
	MediaID string
	Data    map[string]string // a template's fields
	Body    []byte
}

type fakeMedia struct {
	data        []byte
	contentType string
}

func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{
		changed: make(chan struct{}),
		tokens:  map[string]bool{},
		calls:   map[string]int{},
		fail:    map[string][]int64{},
		media:   map[string]fakeMedia{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/cgi-bin/token", f.token)
	mux.HandleFunc("/cgi-bin/message/custom/send", f.api(f.custom))
	mux.HandleFunc("/cgi-bin/message/template/send", f.api(f.template))
	mux.HandleFunc("/cgi-bin/media/get", f.api(f.mediaGet))
	mux.HandleFunc("/cgi-bin/media/upload", f.api(f.mediaUpload))
	mux.HandleFunc("/cgi-bin/menu/create", f.api(f.menuCreate))
	mux.HandleFunc("/files/{id}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		m, ok := f.media[r.PathValue("id")]
		f.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", m.contentType)
		_, _ = w.Write(m.data)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) broadcast() {
	close(f.changed)
	f.changed = make(chan struct{})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; encoding=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func errJSON(code int64, msg string) map[string]any {
	return map[string]any{"errcode": code, "errmsg": msg}
}

func (f *fakeAPI) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.broadcast()
	f.calls["/cgi-bin/token"]++
	q := r.URL.Query()
	if q.Get("appid") != testAppID || q.Get("secret") != testSecret {
		writeJSON(w, errJSON(40125, "invalid appsecret"))
		return
	}
	tok := fmt.Sprintf("TOKEN-%d", f.calls["/cgi-bin/token"])
	f.tokens[tok] = true
	writeJSON(w, map[string]any{"access_token": tok, "expires_in": 7200})
}

// api checks the token and the scripted failures before serve.
func (f *fakeAPI) api(serve func(r *http.Request, body []byte) any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		delay := f.sendDelay
		f.mu.Unlock()
		if delay > 0 && strings.Contains(r.URL.Path, "/send") {
			time.Sleep(delay)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		defer f.broadcast()
		f.calls[r.URL.Path]++
		if q := f.fail[r.URL.Path]; len(q) > 0 {
			f.fail[r.URL.Path] = q[1:]
			writeJSON(w, errJSON(q[0], "scripted failure"))
			return
		}
		if !f.tokens[r.URL.Query().Get("access_token")] {
			writeJSON(w, errJSON(40001, "invalid credential, access_token is invalid or not latest"))
			return
		}
		switch res := serve(r, body).(type) {
		case fakeMedia:
			w.Header().Set("Content-Type", res.contentType)
			_, _ = w.Write(res.data)
		default:
			writeJSON(w, res)
		}
	}
}

func (f *fakeAPI) custom(_ *http.Request, body []byte) any {
	var m struct {
		ToUser  string `json:"touser"`
		MsgType string `json:"msgtype"`
		Text    struct {
			Content string `json:"content"`
		} `json:"text"`
		Image struct {
			MediaID string `json:"media_id"`
		} `json:"image"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return errJSON(47001, "data format error")
	}
	if m.MsgType == "text" && len(m.Text.Content) > maxText {
		return errJSON(45002, "content size out of limit")
	}
	f.sent = append(f.sent, fakeSent{Kind: "custom", ToUser: m.ToUser, MsgType: m.MsgType, Content: m.Text.Content, MediaID: m.Image.MediaID, Body: body})
	return errJSON(0, "ok")
}

func (f *fakeAPI) template(_ *http.Request, body []byte) any {
	var m struct {
		ToUser     string                            `json:"touser"`
		TemplateID string                            `json:"template_id"`
		Data       map[string]struct{ Value string } `json:"data"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return errJSON(47001, "data format error")
	}
	data := map[string]string{}
	for k, v := range m.Data {
		data[k] = v.Value
	}
	f.sent = append(f.sent, fakeSent{Kind: "template", ToUser: m.ToUser, MsgType: "template", Data: data, Body: body})
	return map[string]any{"errcode": 0, "errmsg": "ok", "msgid": 42}
}

func (f *fakeAPI) mediaGet(r *http.Request, _ []byte) any {
	id := r.URL.Query().Get("media_id")
	m, ok := f.media[id]
	switch {
	case !ok:
		return errJSON(40007, "invalid media_id")
	case strings.HasPrefix(m.contentType, "video/"):
		return map[string]any{"video_url": f.srv.URL + "/files/" + id}
	}
	return m
}

func (f *fakeAPI) mediaUpload(r *http.Request, body []byte) any {
	if r.URL.Query().Get("type") != "image" || !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return errJSON(40004, "invalid media type")
	}
	id := fmt.Sprintf("UPLOADED-%d", len(f.media))
	f.media[id] = fakeMedia{data: body, contentType: "image/jpeg"}
	return map[string]any{"type": "image", "media_id": id, "created_at": 1}
}

func (f *fakeAPI) menuCreate(_ *http.Request, body []byte) any {
	f.menu = body
	return errJSON(0, "ok")
}

// failNext makes the next calls to path answer the errcodes, in order.
func (f *fakeAPI) failNext(path string, codes ...int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[path] = append(f.fail[path], codes...)
}

// invalidateTokens makes every token issued so far invalid (40001).
func (f *fakeAPI) invalidateTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = map[string]bool{}
}

func (f *fakeAPI) addMedia(id string, data []byte, contentType string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.media[id] = fakeMedia{data: data, contentType: contentType}
}

func (f *fakeAPI) callCount(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[path]
}

func (f *fakeAPI) sentTo(user string) []fakeSent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeSent
	for _, s := range f.sent {
		if s.ToUser == user {
			out = append(out, s)
		}
	}
	return out
}

// waitSent waits until n messages reached user.
func (f *fakeAPI) waitSent(t *testing.T, user string, n int) []fakeSent {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		f.mu.Lock()
		ch := f.changed
		f.mu.Unlock()
		if got := f.sentTo(user); len(got) >= n {
			return got
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("waiting for %d messages to %s; got %d", n, user, len(f.sentTo(user)))
		}
	}
}

// newTestAdapter returns an Adapter on f with cfg's non-zero fields over
// the test account's. Its clock is the system's, which the tests' callbacks
// are signed with; a test about windows sets one of its own.
func newTestAdapter(t *testing.T, f *fakeAPI, edit func(*Config)) *Adapter {
	t.Helper()
	cfg := Config{
		AppID:         testAppID,
		Secret:        testSecret,
		Token:         testToken,
		APIURL:        f.srv.URL,
		PassiveBudget: 300 * time.Millisecond,
		ProcessFunc:   func(context.Context, *bot.Inbound, bot.SendFunc) error { return nil },
		NowFunc:       time.Now,
	}
	if edit != nil {
		edit(&cfg)
	}
	a, err := New(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	return a
}

// withRouter sets cfg.ProcessFunc to a real bot.Router over h, in memory,
// whose WeChat channel is the adapter; it returns a function that gives
// the router once the adapter exists.
func withRouter(cfg *Config, h bot.Handler) func(*Adapter) *bot.Router {
	r := &bot.Router{Handler: h, Dedupe: bot.NewMemoryDeduper(), Locker: bot.NewMemoryLocker(), Channels: map[bot.Platform]bot.Channel{}}
	cfg.ProcessFunc = r.Process
	return func(a *Adapter) *bot.Router {
		r.Channels[bot.WeChat] = a
		return r
	}
}

// callbackQuery returns the query WeChat signs a callback with at now.
func callbackQuery(now time.Time, nonce string) url.Values {
	ts := strconv.FormatInt(now.Unix(), 10)
	return url.Values{
		"timestamp": {ts},
		"nonce":     {nonce},
		"signature": {util.Signature(testToken, ts, nonce)},
		"openid":    {"ignored"},
	}
}

// post delivers a callback body in plain mode, signed now.
func post(t *testing.T, a *Adapter, body string) *httptest.ResponseRecorder {
	t.Helper()
	q := callbackQuery(time.Now(), "nonce123")
	req := httptest.NewRequest(http.MethodPost, CallbackPath+"?"+q.Encode(), strings.NewReader(body))
	rec := httptest.NewRecorder()
	a.CallbackHandler().ServeHTTP(rec, req)
	return rec
}

// postSafe delivers a callback body encrypted as in safe mode.
func postSafe(t *testing.T, a *Adapter, plain string) *httptest.ResponseRecorder {
	t.Helper()
	q := callbackQuery(time.Now(), "nonce456")
	enc, err := util.EncryptMsg([]byte("0123456789abcdef"), []byte(plain), testAppID, testAESKey)
	require.NoError(t, err)
	q.Set("encrypt_type", "aes")
	q.Set("msg_signature", util.Signature(testToken, q.Get("timestamp"), q.Get("nonce"), string(enc)))
	body := "<xml><ToUserName><![CDATA[" + testGhID + "]]></ToUserName><Encrypt><![CDATA[" + string(enc) + "]]></Encrypt></xml>"
	req := httptest.NewRequest(http.MethodPost, CallbackPath+"?"+q.Encode(), strings.NewReader(body))
	rec := httptest.NewRecorder()
	a.CallbackHandler().ServeHTTP(rec, req)
	return rec
}

// textXML is a text message from user.
func textXML(user, content string, msgID int64) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>%s</Content><MsgId>%d</MsgId></xml>`,
		testGhID, user, time.Now().Unix(), cdata(content), msgID)
}

// cdata writes s as CDATA, splitting a "]]>" inside it as WeChat does.
func cdata(s string) string {
	return "<![CDATA[" + strings.ReplaceAll(s, "]]>", "]]]]><![CDATA[>") + "]]>"
}

// eventXML is an event from user.
func eventXML(user, event, key string, createTime int64) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[%s]]></Event><EventKey><![CDATA[%s]]></EventKey></xml>`,
		testGhID, user, createTime, event, key)
}

// passiveText decodes a plain passive text reply.
func passiveText(t *testing.T, body []byte) message.Text {
	t.Helper()
	var m struct {
		ToUserName   string
		FromUserName string
		CreateTime   int64
		MsgType      string
		Content      string
	}
	require.NoError(t, xml.Unmarshal(body, &m), "passive reply: %s", body)
	return message.Text{CommonToken: message.CommonToken{ToUserName: message.CDATA(m.ToUserName), FromUserName: message.CDATA(m.FromUserName), CreateTime: m.CreateTime, MsgType: message.MsgType(m.MsgType)}, Content: message.CDATA(m.Content)}
}

// echo is an engine that answers every text with "echo: " and the text,
// after delay.
func echo(delay time.Duration, replies ...string) bot.HandlerFunc {
	return func(ctx context.Context, in *bot.Inbound) ([]bot.Outbound, error) {
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if len(replies) > 0 {
			out := make([]bot.Outbound, len(replies))
			for i, r := range replies {
				out[i] = bot.Outbound{To: in.User, Kind: bot.OutText, Text: r}
			}
			return out, nil
		}
		return []bot.Outbound{{To: in.User, Kind: bot.OutText, Text: "echo: " + in.Text}}, nil
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
