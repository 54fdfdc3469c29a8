package wechattest

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testToken  = "spamtest"
	testAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

// push is what the test account received.
type received struct {
	Query url.Values
	Body  []byte
	Plain []byte // decrypted in safe mode
	Msg   pushedXML
	Ctx   context.Context
}

type pushedXML struct {
	ToUserName   string `xml:"ToUserName"`
	FromUserName string `xml:"FromUserName"`
	CreateTime   int64  `xml:"CreateTime"`
	MsgType      string `xml:"MsgType"`
	Content      string `xml:"Content"`
	MsgID        int64  `xml:"MsgId"`
	Event        string `xml:"Event"`
	EventKey     string `xml:"EventKey"`
}

// testAccount is a minimal official-account callback that checks pushes as
// an adapter must and answers with answer.
type testAccount struct {
	t      *testing.T
	safe   bool
	answer func(r received, attempt int) (status int, body string)

	mu   sync.Mutex
	got  []received
	errs []string
}

func (a *testAccount) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ts, nonce := q.Get("timestamp"), q.Get("nonce")
	fail := func(format string, args ...any) {
		a.mu.Lock()
		a.errs = append(a.errs, fmt.Sprintf(format, args...))
		a.mu.Unlock()
		http.Error(w, "forbidden", http.StatusForbidden)
	}
	if q.Get("signature") != Signature(testToken, ts, nonce) {
		fail("bad signature")
		return
	}
	if sec, _ := strconv.ParseInt(ts, 10, 64); time.Since(time.Unix(sec, 0)) > 5*time.Minute {
		fail("stale timestamp")
		return
	}
	if r.Method == http.MethodGet {
		io.WriteString(w, q.Get("echostr"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		fail("body: %v", err)
		return
	}
	plain := body
	if a.safe {
		if q.Get("encrypt_type") != "aes" {
			fail("encrypt_type %q", q.Get("encrypt_type"))
			return
		}
		plain, err = OpenRequest(body, testToken, testAppID, testAESKey, q.Get("msg_signature"), ts, nonce)
		if err != nil {
			fail("open: %v", err)
			return
		}
	}
	rec := received{Query: q, Body: body, Plain: plain, Ctx: r.Context()}
	if err := xml.Unmarshal(plain, &rec.Msg); err != nil {
		fail("xml: %v", err)
		return
	}
	a.mu.Lock()
	a.got = append(a.got, rec)
	n := len(a.got)
	a.mu.Unlock()

	status, out := http.StatusOK, "success"
	if a.answer != nil {
		status, out = a.answer(rec, n)
	}
	if a.safe && strings.HasPrefix(out, "<xml>") {
		sealed, err := SealReply([]byte(out), testToken, testAppID, testAESKey, ts, nonce)
		if err != nil {
			panic(err)
		}
		out = string(sealed)
	}
	w.WriteHeader(status)
	io.WriteString(w, out)
}

func (a *testAccount) received() []received {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]received(nil), a.got...)
}

func (a *testAccount) rejections() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.errs...)
}

// textReply answers a push with a passive text reply.
func textReply(r received, content string) string {
	return fmt.Sprintf("<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content></xml>",
		r.Msg.FromUserName, r.Msg.ToUserName, time.Now().Unix(), content)
}

func newTestPlatform(t *testing.T, safe bool, answer func(received, int) (int, string)) (*Platform, *testAccount, *Server) {
	t.Helper()
	acct := &testAccount{t: t, safe: safe, answer: answer}
	hs := httptest.NewServer(acct)
	t.Cleanup(hs.Close)
	srv := NewServer(t, testAppID, testSecret)
	p := NewPlatform(hs.URL+"/wechat/callback", testToken, testAppID, testAESKey, safe)
	p.Server = srv
	return p, acct, srv
}

func TestPlatformPlaintext(t *testing.T) {
	t.Parallel()
	p, acct, srv := newTestPlatform(t, false, func(r received, _ int) (int, string) {
		return http.StatusOK, textReply(r, "收到："+r.Msg.Content)
	})
	ctx := context.Background()

	reply, err := p.Send(ctx, Text("oUser1", "热水器漏水了"))
	require.NoError(t, err)
	require.Empty(t, acct.rejections())
	assert.Equal(t, http.StatusOK, reply.Status)
	assert.Empty(t, reply.Invalid)
	assert.False(t, reply.IsSuccess)
	assert.False(t, reply.Encrypted)
	require.NotNil(t, reply.Msg)
	assert.Equal(t, "text", reply.Msg.MsgType)
	assert.Equal(t, "收到：热水器漏水了", reply.Msg.Content)
	assert.Equal(t, "oUser1", reply.Msg.ToUserName)
	assert.Equal(t, p.AccountID, reply.Msg.FromUserName)

	got := acct.received()
	require.Len(t, got, 1)
	q := got[0].Query
	assert.ElementsMatch(t, []string{"signature", "timestamp", "nonce", "openid"}, keys(q))
	assert.Equal(t, "oUser1", q.Get("openid"))
	assert.Equal(t, p.AccountID, got[0].Msg.ToUserName)
	assert.True(t, strings.HasPrefix(p.AccountID, "gh_"))
	assert.Equal(t, "oUser1", got[0].Msg.FromUserName)
	assert.NotZero(t, got[0].Msg.MsgID)

	// The linked Server saw the message (window open) and the reply.
	u, ok := srv.User("oUser1")
	require.True(t, ok)
	assert.Equal(t, MessageQuota, u.MessageLeft)
	sent := srv.SentTo("oUser1")
	require.Len(t, sent, 1)
	assert.Equal(t, KindPassive, sent[0].Kind)
	assert.Equal(t, "收到：热水器漏水了", sent[0].Content)
}

func keys(q url.Values) []string {
	var out []string
	for k := range q {
		out = append(out, k)
	}
	return out
}

func TestPlatformSafeMode(t *testing.T) {
	t.Parallel()
	p, acct, srv := newTestPlatform(t, true, func(r received, _ int) (int, string) {
		return http.StatusOK, textReply(r, "好的")
	})
	reply, err := p.Send(context.Background(), Text("oUser2", "hello"))
	require.NoError(t, err)
	require.Empty(t, acct.rejections())
	assert.Empty(t, reply.Invalid)
	assert.True(t, reply.Encrypted)
	assert.Equal(t, "好的", reply.Msg.Content)
	assert.Contains(t, string(reply.XML), "<Content><![CDATA[好的]]></Content>")

	got := acct.received()[0]
	assert.ElementsMatch(t, []string{"signature", "timestamp", "nonce", "openid", "encrypt_type", "msg_signature"}, keys(got.Query))
	assert.True(t, strings.HasPrefix(string(got.Body), "<xml><ToUserName><![CDATA["+p.AccountID+"]]></ToUserName><Encrypt><![CDATA["), string(got.Body))
	assert.NotContains(t, string(got.Body), "hello")
	assert.Equal(t, "hello", got.Msg.Content)
	assert.Len(t, srv.SentTo("oUser2"), 1)
}

func TestPlatformReadsAnswersLikeWeChat(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		safe    bool
		status  int
		body    func(received) string
		success bool
		invalid string
	}{
		"success":              {body: func(received) string { return "success" }, success: true},
		"empty":                {body: func(received) string { return "" }, success: true},
		"empty in safe mode":   {safe: true, body: func(received) string { return "" }, success: true},
		"HTTP 500":             {status: 500, body: func(received) string { return "oops" }, invalid: "HTTP status 500"},
		"JSON":                 {body: func(received) string { return `{"ok":true}` }, invalid: "not a reply XML"},
		"success with newline": {body: func(received) string { return "success\n" }, invalid: "not a reply XML"},
		"wrong recipient": {body: func(r received) string {
			r.Msg.FromUserName = "someone-else"
			return textReply(r, "x")
		}, invalid: "reply ToUserName"},
		"unknown MsgType": {body: func(r received) string {
			return strings.ReplaceAll(textReply(r, "x"), "[text]", "[sticker]")
		}, invalid: "unsupported reply MsgType"},
		"plaintext in safe mode": {safe: true, body: func(r received) string {
			return " " + textReply(r, "x") // the test account seals only bodies starting with <xml>
		}, invalid: "plaintext reply in safe mode"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, _, srv := newTestPlatform(t, tt.safe, func(r received, _ int) (int, string) {
				return cmpOr(tt.status, http.StatusOK), tt.body(r)
			})
			reply, err := p.Send(context.Background(), Text("oUser3", "hi"))
			require.NoError(t, err)
			assert.Equal(t, tt.success, reply.IsSuccess)
			if tt.invalid == "" {
				assert.Empty(t, reply.Invalid)
				assert.Empty(t, srv.SentTo("oUser3"), "nothing reaches the user")
				return
			}
			assert.Contains(t, reply.Invalid, tt.invalid)
			sent := srv.SentTo("oUser3")
			require.Len(t, sent, 1)
			assert.Equal(t, KindNotice, sent[0].Kind)
			assert.Equal(t, ServiceUnavailableNotice, sent[0].Content)
		})
	}
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

func TestSendWithRetries(t *testing.T) {
	t.Parallel()
	abandoned := make(chan error, 3)
	p, acct, srv := newTestPlatform(t, true, func(r received, attempt int) (int, string) {
		if attempt < 3 {
			<-r.Ctx.Done() // too slow: WeChat hangs up
			abandoned <- r.Ctx.Err()
			return http.StatusOK, "success"
		}
		return http.StatusOK, textReply(r, "third time")
	})
	p.Timeout = 100 * time.Millisecond

	attempts, err := p.SendWithRetries(context.Background(), Text("oUser4", "在吗"))
	require.NoError(t, err)
	require.Len(t, attempts, 3)
	for _, a := range attempts[:2] {
		assert.True(t, a.TimedOut)
		assert.ErrorIs(t, a.Err, ErrTimeout)
		assert.Nil(t, a.Reply)
		assert.GreaterOrEqual(t, a.Elapsed, p.Timeout)
	}
	require.NoError(t, attempts[2].Err)
	assert.Equal(t, "third time", attempts[2].Reply.Msg.Content)
	for range 2 {
		assert.ErrorIs(t, <-abandoned, context.Canceled, "the account sees the abandoned request end")
	}

	got := acct.received()
	require.Len(t, got, 3)
	for _, g := range got[1:] {
		assert.Equal(t, got[0].Msg.MsgID, g.Msg.MsgID, "same MsgId")
		assert.Equal(t, got[0].Msg.CreateTime, g.Msg.CreateTime)
	}
	assert.NotEqual(t, got[0].Query.Get("nonce"), got[1].Query.Get("nonce"))

	u, _ := srv.User("oUser4")
	assert.Equal(t, MessageQuota, u.MessageLeft, "one user message, recorded once")
	sent := srv.SentTo("oUser4")
	require.Len(t, sent, 1)
	assert.Equal(t, "third time", sent[0].Content)
}

func TestSendWithRetriesAllTimeOut(t *testing.T) {
	t.Parallel()
	p, acct, srv := newTestPlatform(t, false, func(r received, _ int) (int, string) {
		<-r.Ctx.Done()
		return http.StatusOK, "success"
	})
	p.Timeout = 50 * time.Millisecond

	attempts, err := p.SendWithRetries(context.Background(), Subscribe("oUser5"))
	require.NoError(t, err)
	require.Len(t, attempts, 3)
	for _, a := range attempts {
		assert.True(t, a.TimedOut)
	}
	got := acct.received()
	require.Len(t, got, 3)
	assert.Zero(t, got[0].Msg.MsgID, "events carry no MsgId")
	assert.Equal(t, got[0].Msg.CreateTime, got[2].Msg.CreateTime, "events dedupe by FromUserName+CreateTime")

	sent := srv.SentTo("oUser5")
	require.Len(t, sent, 1)
	assert.Equal(t, KindNotice, sent[0].Kind)

	_, err = p.Send(context.Background(), Text("oUser5", "x"))
	assert.ErrorIs(t, err, ErrTimeout)
}

func TestVerify(t *testing.T) {
	t.Parallel()
	for _, safe := range []bool{false, true} {
		p, acct, _ := newTestPlatform(t, safe, nil)
		v, err := p.Verify(context.Background())
		require.NoError(t, err)
		assert.True(t, v.OK, "%+v", v)
		assert.Equal(t, v.Echostr, v.Body)
		assert.Len(t, v.Echostr, 19)

		v, err = p.Verify(context.Background(), WrongSignature())
		require.NoError(t, err)
		assert.False(t, v.OK)
		assert.Equal(t, http.StatusForbidden, v.Status)
		assert.Equal(t, []string{"bad signature"}, acct.rejections())
	}
}

func TestTampers(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		safe   bool
		tamper Tamper
		want   string
	}{
		"wrong signature":     {false, WrongSignature(), "bad signature"},
		"no signature":        {false, NoSignature(), "bad signature"},
		"stale timestamp":     {false, StaleTimestamp(10 * time.Minute), "stale timestamp"},
		"malformed XML":       {false, MalformedXML(), "xml:"},
		"oversize body":       {false, OversizeBody(100 << 10), "body: http: request body too large"},
		"wrong msg_signature": {true, WrongMsgSignature(), "open: " + ErrBadSignature.Error()},
		"foreign appid":       {true, ForeignAppID("wx0000000000000000"), "open: " + ErrAppIDMismatch.Error()},
		"malformed envelope":  {true, MalformedXML(), "open: " + ErrBadEnvelope.Error()},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, acct, srv := newTestPlatform(t, tt.safe, nil)
			reply, err := p.Send(context.Background(), Text("oUser6", "x"), tt.tamper)
			require.NoError(t, err)
			assert.Equal(t, http.StatusForbidden, reply.Status)
			rej := acct.rejections()
			require.Len(t, rej, 1)
			assert.True(t, strings.HasPrefix(rej[0], tt.want), rej[0])
			_, known := srv.User("oUser6")
			assert.False(t, known, "a forged push is not the user's doing")
			assert.Empty(t, srv.SentTo("oUser6"))
		})
	}

	// Oversize pushes are still correctly signed XML.
	p, acct, _ := newTestPlatform(t, true, nil)
	req, err := p.NewRequest(context.Background(), Text("oUser6", "x"), OversizeBody(8<<10))
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	acct.ServeHTTP(rec, req)
	assert.Equal(t, "success", rec.Body.String())
	assert.GreaterOrEqual(t, req.ContentLength, int64(8<<10))
}

func TestBodyXML(t *testing.T) {
	t.Parallel()
	p, acct, srv := newTestPlatform(t, true, nil)
	raw := []byte("<xml><ToUserName><![CDATA[gh_x]]></ToUserName><FromUserName><![CDATA[oUser7]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[miniprogrampage]]></MsgType></xml>")
	_, err := p.Send(context.Background(), Inbound{FromUserName: "oUser7", MsgType: "miniprogrampage"}, BodyXML(raw))
	require.NoError(t, err)
	assert.Equal(t, raw, acct.received()[0].Plain)
	_, known := srv.User("oUser7")
	assert.True(t, known)
}

func TestInboundXML(t *testing.T) {
	t.Parallel()
	head := func(typ string) string {
		return "<xml><ToUserName><![CDATA[gh_123456789abc]]></ToUserName>\n<FromUserName><![CDATA[oUser]]></FromUserName>\n<CreateTime>1740819600</CreateTime>\n<MsgType><![CDATA[" + typ + "]]></MsgType>\n"
	}
	tests := map[string]struct {
		msg  Inbound
		want string
	}{
		"text": {Text("oUser", "a]]>b"), head("text") + "<Content><![CDATA[a]]]]><![CDATA[>b]]></Content>\n<MsgId>24500000000000001</MsgId>\n</xml>"},
		"image": {Image("oUser", "MEDIA", "http://mmbiz.qpic.cn/x"), head("image") +
			"<PicUrl><![CDATA[http://mmbiz.qpic.cn/x]]></PicUrl>\n<MediaId><![CDATA[MEDIA]]></MediaId>\n<MsgId>24500000000000001</MsgId>\n</xml>"},
		"voice": {Voice("oUser", "MEDIA", "热水器坏了"), head("voice") +
			"<MediaId><![CDATA[MEDIA]]></MediaId>\n<Format><![CDATA[amr]]></Format>\n<Recognition><![CDATA[热水器坏了]]></Recognition>\n<MsgId>24500000000000001</MsgId>\n</xml>"},
		"video": {Video("oUser", "MEDIA", "THUMB"), head("video") +
			"<MediaId><![CDATA[MEDIA]]></MediaId>\n<ThumbMediaId><![CDATA[THUMB]]></ThumbMediaId>\n<MsgId>24500000000000001</MsgId>\n</xml>"},
		"location": {Location("oUser", 23.134521, 113.358803, 20, "广州市天河区"), head("location") +
			"<Location_X>23.134521</Location_X>\n<Location_Y>113.358803</Location_Y>\n<Scale>20</Scale>\n<Label><![CDATA[广州市天河区]]></Label>\n<MsgId>24500000000000001</MsgId>\n</xml>"},
		"subscribe":   {Subscribe("oUser"), head("event") + "<Event><![CDATA[subscribe]]></Event>\n<EventKey><![CDATA[]]></EventKey>\n</xml>"},
		"unsubscribe": {Unsubscribe("oUser"), head("event") + "<Event><![CDATA[unsubscribe]]></Event>\n<EventKey><![CDATA[]]></EventKey>\n</xml>"},
		"click":       {Click("oUser", "REPAIR"), head("event") + "<Event><![CDATA[CLICK]]></Event>\n<EventKey><![CDATA[REPAIR]]></EventKey>\n</xml>"},
		"view":        {View("oUser", "https://x"), head("event") + "<Event><![CDATA[VIEW]]></Event>\n<EventKey><![CDATA[https://x]]></EventKey>\n</xml>"},
		"scan": {Scan("oUser", "42", "TICKET"), head("event") +
			"<Event><![CDATA[SCAN]]></Event>\n<EventKey><![CDATA[42]]></EventKey>\n<Ticket><![CDATA[TICKET]]></Ticket>\n</xml>"},
	}
	for name, tt := range tests {
		m := tt.msg
		m.ToUserName, m.CreateTime = "gh_123456789abc", 1740819600
		if !m.IsEvent() {
			m.MsgID = 24500000000000001
		}
		assert.Equal(t, tt.want, string(m.XML()), name)
	}
}

func TestPrepare(t *testing.T) {
	t.Parallel()
	srv, clock := newClockedServer(t)
	p := NewPlatform("http://unused", testToken, testAppID, testAESKey, false)
	p.Server = srv

	a := p.Prepare(Text("oUser", "x"))
	b := p.Prepare(Text("oUser", "y"))
	assert.Greater(t, b.MsgID, a.MsgID, "increasing MsgIds")
	assert.Greater(t, a.MsgID, int64(1e16))
	assert.Equal(t, clock.Now().Unix(), a.CreateTime, "CreateTime on the Server's clock")
	assert.Equal(t, p.AccountID, a.ToUserName)

	img := p.Prepare(Image("oUser", "MEDIA", ""))
	assert.Equal(t, srv.PicURL("MEDIA"), img.PicURL)
	assert.Zero(t, p.Prepare(Click("oUser", "K")).MsgID)
}
