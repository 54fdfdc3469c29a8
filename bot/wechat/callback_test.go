package wechat

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
)

// These tests share the SDK's process-wide API URL (ConfigureSDK), each
// with its own fake: they do not run in parallel.

func TestCallbackChecksSignatureAndTimestamp(t *testing.T) {
	f := newFakeAPI(t)
	var handled atomic.Int32
	a := newTestAdapter(t, f, func(c *Config) {
		c.ProcessFunc = func(context.Context, *bot.Inbound, bot.SendFunc) error { handled.Add(1); return nil }
	})
	now := time.Now()
	tests := []struct {
		name   string
		edit   func(q map[string][]string)
		status int
	}{
		{"good", func(map[string][]string) {}, http.StatusOK},
		{"no signature", func(q map[string][]string) { delete(q, "signature") }, http.StatusUnauthorized},
		{"wrong signature", func(q map[string][]string) { q["signature"] = []string{strings.Repeat("0", 40)} }, http.StatusUnauthorized},
		{"signature of another nonce", func(q map[string][]string) { q["nonce"] = []string{"other"} }, http.StatusUnauthorized},
		{"no timestamp", func(q map[string][]string) { delete(q, "timestamp") }, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := callbackQuery(now, "n1")
			tt.edit(q)
			rec := httptest.NewRecorder()
			a.CallbackHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, CallbackPath+"?echostr=hello123&"+q.Encode(), nil))
			assert.Equal(t, tt.status, rec.Code)
			if tt.status == http.StatusOK {
				assert.Equal(t, "hello123", rec.Body.String())
			} else {
				assert.NotContains(t, rec.Body.String(), "hello123")
			}
		})
	}
	for _, skew := range []time.Duration{-6 * time.Minute, 6 * time.Minute, -time.Hour} {
		t.Run("timestamp "+skew.String(), func(t *testing.T) {
			q := callbackQuery(now.Add(skew), "n2") // correctly signed, but stale or from the future
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, CallbackPath+"?"+q.Encode(), strings.NewReader(textXML("oUser", "hi", 1)))
			a.CallbackHandler().ServeHTTP(rec, req)
			assert.Equal(t, http.StatusUnauthorized, rec.Code)
		})
	}
	t.Run("bad signature on a POST is refused before the body is read", func(t *testing.T) {
		q := callbackQuery(now, "n3")
		q.Set("signature", "bad")
		rec := httptest.NewRecorder()
		a.CallbackHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, CallbackPath+"?"+q.Encode(), strings.NewReader(textXML("oUser", "hi", 2))))
		assert.Equal(t, http.StatusUnauthorized, rec.Code)
	})
	assert.Zero(t, handled.Load(), "nothing refused was processed")
}

func TestCallbackRefusesBadBodies(t *testing.T) {
	f := newFakeAPI(t)
	var handled atomic.Int32
	a := newTestAdapter(t, f, func(c *Config) {
		c.ProcessFunc = func(context.Context, *bot.Inbound, bot.SendFunc) error { handled.Add(1); return nil }
	})
	huge := textXML("oUser", strings.Repeat("长", maxCallbackBytes), 1)
	for name, tc := range map[string]struct {
		body   string
		status int
	}{
		"oversize":                  {huge, http.StatusRequestEntityTooLarge},
		"not XML":                   {"hello", http.StatusBadRequest},
		"truncated XML":             {textXML("oUser", "hi", 1)[:60], http.StatusBadRequest},
		"no FromUserName":           {`<xml><ToUserName>gh</ToUserName><MsgType>text</MsgType><Content>x</Content></xml>`, http.StatusBadRequest},
		"empty":                     {"", http.StatusBadRequest},
		"an envelope in plain mode": {"<xml><Encrypt>abc</Encrypt></xml>", http.StatusBadRequest},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.status, post(t, a, tc.body).Code)
		})
	}
	t.Run("method", func(t *testing.T) {
		rec := httptest.NewRecorder()
		a.CallbackHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPut, CallbackPath, nil))
		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	})
	t.Run("encrypt_type=aes without a key", func(t *testing.T) {
		q := callbackQuery(time.Now(), "n")
		q.Set("encrypt_type", "aes")
		rec := httptest.NewRecorder()
		a.CallbackHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, CallbackPath+"?"+q.Encode(), strings.NewReader("<xml><Encrypt>x</Encrypt></xml>")))
		assert.Equal(t, http.StatusBadRequest, rec.Code)
	})
	assert.Zero(t, handled.Load())
}

func TestPlainModeRoundTrip(t *testing.T) {
	f := newFakeAPI(t)
	var cfg Config
	router := withRouter(&cfg, echo(0))
	a := newTestAdapter(t, f, func(c *Config) { c.ProcessFunc = cfg.ProcessFunc })
	router(a)

	rec := post(t, a, textXML("oAlice", "楼上漏水 <&> ]]> end", 1001))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Header().Get("Content-Type"), "xml")
	reply := passiveText(t, rec.Body.Bytes())
	assert.Equal(t, "oAlice", string(reply.ToUserName))
	assert.Equal(t, testGhID, string(reply.FromUserName))
	assert.Equal(t, "text", string(reply.MsgType))
	assert.Equal(t, "echo: 楼上漏水 <&> ]]> end", string(reply.Content))
	assert.Empty(t, f.sentTo("oAlice"), "a passive reply uses no customer-service message")
}

func TestSafeModeRoundTrip(t *testing.T) {
	f := newFakeAPI(t)
	var cfg Config
	router := withRouter(&cfg, bot.HandlerFunc(func(ctx context.Context, in *bot.Inbound) ([]bot.Outbound, error) {
		if in.Text == "quiet" {
			return nil, nil
		}
		return []bot.Outbound{{To: in.User, Kind: bot.OutText, Text: "收到：" + in.Text}}, nil
	}))
	a := newTestAdapter(t, f, func(c *Config) {
		c.ProcessFunc = cfg.ProcessFunc
		c.EncodingAESKey = testAESKey
	})
	router(a)

	rec := postSafe(t, a, textXML("oBob", "门窗关不上", 2001))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var env struct {
		Encrypt      string
		MsgSignature string
		TimeStamp    string
		Nonce        string
	}
	require.NoError(t, xml.Unmarshal(rec.Body.Bytes(), &env), rec.Body.String())
	assert.Equal(t, util.Signature(testToken, env.TimeStamp, env.Nonce, env.Encrypt), env.MsgSignature, "the reply is signed")
	_, plain, err := util.DecryptMsg(testAppID, env.Encrypt, testAESKey)
	require.NoError(t, err)
	reply := passiveText(t, plain)
	assert.Equal(t, "oBob", string(reply.ToUserName))
	assert.Equal(t, "收到：门窗关不上", string(reply.Content))
	assert.NotContains(t, rec.Body.String(), "门窗", "the reply is encrypted")

	t.Run("nothing to say is a plain success", func(t *testing.T) {
		rec := postSafe(t, a, textXML("oBob", "quiet", 2002))
		assert.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, "success", rec.Body.String())
	})
	t.Run("wrong msg_signature", func(t *testing.T) {
		q := callbackQuery(time.Now(), "n9")
		enc, err := util.EncryptMsg([]byte("0123456789abcdef"), []byte(textXML("oBob", "x", 2003)), testAppID, testAESKey)
		require.NoError(t, err)
		q.Set("encrypt_type", "aes")
		q.Set("msg_signature", util.Signature(testToken, q.Get("timestamp"), q.Get("nonce"), "something else"))
		req := httptest.NewRequest(http.MethodPost, CallbackPath+"?"+q.Encode(), strings.NewReader("<xml><Encrypt><![CDATA["+string(enc)+"]]></Encrypt></xml>"))
		rec := httptest.NewRecorder()
		a.CallbackHandler().ServeHTTP(rec, req)
		assert.Equal(t, http.StatusUnauthorized, rec.Code)
	})
	t.Run("plaintext refused in safe mode", func(t *testing.T) {
		rec := post(t, a, textXML("oBob", "plain", 2004))
		assert.Equal(t, http.StatusBadRequest, rec.Code)
	})
	t.Run("another account's ciphertext", func(t *testing.T) {
		q := callbackQuery(time.Now(), "n10")
		enc, err := util.EncryptMsg([]byte("0123456789abcdef"), []byte(textXML("oBob", "x", 2005)), "wxOTHER", testAESKey)
		require.NoError(t, err)
		q.Set("encrypt_type", "aes")
		q.Set("msg_signature", util.Signature(testToken, q.Get("timestamp"), q.Get("nonce"), string(enc)))
		req := httptest.NewRequest(http.MethodPost, CallbackPath+"?"+q.Encode(), strings.NewReader("<xml><Encrypt><![CDATA["+string(enc)+"]]></Encrypt></xml>"))
		rec := httptest.NewRecorder()
		a.CallbackHandler().ServeHTTP(rec, req)
		assert.Equal(t, http.StatusBadRequest, rec.Code)
	})
	assert.Empty(t, f.sentTo("oBob"))
}

func TestSlowHandlerAnswersSuccessThenCustomMessage(t *testing.T) {
	f := newFakeAPI(t)
	var cfg Config
	router := withRouter(&cfg, echo(700*time.Millisecond))
	a := newTestAdapter(t, f, func(c *Config) {
		c.ProcessFunc = cfg.ProcessFunc
		c.PassiveBudget = 200 * time.Millisecond
	})
	router(a)

	start := time.Now()
	rec := post(t, a, textXML("oCarol", "进度", 3001))
	took := time.Since(start)
	assert.Equal(t, "success", rec.Body.String())
	assert.Less(t, took, 600*time.Millisecond, "answered within the budget, well before WeChat's 5 s")
	sent := f.waitSent(t, "oCarol", 1)
	assert.Equal(t, "custom", sent[0].Kind)
	assert.Equal(t, "echo: 进度", sent[0].Content)
}

func TestRetriesOfOneMsgIdAreHandledOnce(t *testing.T) {
	f := newFakeAPI(t)
	var calls atomic.Int32
	slow := echo(600 * time.Millisecond)
	var cfg Config
	router := withRouter(&cfg, bot.HandlerFunc(func(ctx context.Context, in *bot.Inbound) ([]bot.Outbound, error) {
		calls.Add(1)
		return slow(ctx, in)
	}))
	a := newTestAdapter(t, f, func(c *Config) {
		c.ProcessFunc = cfg.ProcessFunc
		c.PassiveBudget = 150 * time.Millisecond
	})
	router(a)

	// WeChat's first try and two retries of the same MsgId, the retries
	// arriving while the first is still being handled.
	body := textXML("oDave", "你好", 4001)
	var wg sync.WaitGroup
	answers := make([]string, 3)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 100 * time.Millisecond)
			answers[i] = post(t, a, body).Body.String()
		}()
	}
	wg.Wait()
	assert.Equal(t, []string{"success", "success", "success"}, answers)
	f.waitSent(t, "oDave", 1)
	// A retry after the message was handled is answered at once.
	assert.Equal(t, "success", post(t, a, body).Body.String())
	require.NoError(t, a.Close())
	assert.Equal(t, int32(1), calls.Load(), "handled once")
	assert.Len(t, f.sentTo("oDave"), 1, "the replies went once, by customer-service message")
}

func TestFirstReplyPassiveRestByCustomMessage(t *testing.T) {
	f := newFakeAPI(t)
	long := strings.Repeat("很长的说明。", 150) // 2,700 bytes: its own messages
	var cfg Config
	router := withRouter(&cfg, echo(0, "已收到您的报修。", "请问问题出现在哪个位置？", long, "最后一条"))
	a := newTestAdapter(t, f, func(c *Config) { c.ProcessFunc = cfg.ProcessFunc })
	router(a)

	rec := post(t, a, textXML("oErin", "报修", 5001))
	reply := passiveText(t, rec.Body.Bytes())
	assert.Equal(t, "已收到您的报修。\n\n请问问题出现在哪个位置？", string(reply.Content), "short replies share the passive reply")
	sent := f.waitSent(t, "oErin", 2)
	require.Len(t, sent, 2)
	for _, s := range sent {
		assert.Equal(t, "custom", s.Kind)
		assert.LessOrEqual(t, len(s.Content), maxText)
	}
	assert.Equal(t, long+"\n\n最后一条", sent[0].Content+sent[1].Content, "the long text cut in two; the last reply joined to its end")
}

func TestHandlerErrorWithinBudget(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, func(c *Config) {
		c.ProcessFunc = func(context.Context, *bot.Inbound, bot.SendFunc) error { return assert.AnError }
	})
	rec := post(t, a, textXML("oFay", "hi", 6001))
	assert.Equal(t, http.StatusInternalServerError, rec.Code, "not handled: WeChat's retry may do better")
}

func TestRouterApologyIsPassive(t *testing.T) {
	f := newFakeAPI(t)
	var cfg Config
	router := withRouter(&cfg, bot.HandlerFunc(func(context.Context, *bot.Inbound) ([]bot.Outbound, error) {
		return nil, assert.AnError
	}))
	a := newTestAdapter(t, f, func(c *Config) { c.ProcessFunc = cfg.ProcessFunc })
	router(a)
	rec := post(t, a, textXML("oGus", "hi", 6002))
	assert.Contains(t, string(passiveText(t, rec.Body.Bytes()).Content), "系统繁忙")
}

func TestShutdownDrainsAndRefuses(t *testing.T) {
	f := newFakeAPI(t)
	var cfg Config
	router := withRouter(&cfg, echo(400*time.Millisecond))
	a := newTestAdapter(t, f, func(c *Config) {
		c.ProcessFunc = cfg.ProcessFunc
		c.PassiveBudget = 100 * time.Millisecond
	})
	router(a)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- a.Run(ctx) }()

	assert.Equal(t, "success", post(t, a, textXML("oHal", "a", 7001)).Body.String())
	cancel()
	require.NoError(t, <-ran)
	assert.Len(t, f.sentTo("oHal"), 1, "Run returned after the message in flight was delivered")
	assert.Equal(t, http.StatusServiceUnavailable, post(t, a, textXML("oHal", "b", 7002)).Code)
}

func TestVerifyIsConstantTimeCompare(t *testing.T) {
	t.Parallel()
	assert.True(t, equal("abc", "abc"))
	assert.False(t, equal("abc", "abd"))
	assert.False(t, equal("", "abc"))
}
