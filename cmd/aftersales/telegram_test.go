package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot/telegram/telegramtest"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/testclock"
)

// botSeq gives each test its own bot (its own id: its own poll lock).
var botSeq atomic.Int64

func newBotToken() string {
	return fmt.Sprintf("%d:AAH%032d", 700000+botSeq.Add(1), botSeq.Load())
}

// randomUserID gives each run its own Telegram users, so that dedupe keys
// left on a shared Redis by an earlier run never match.
func randomUserID(t testing.TB) int64 {
	n, err := rand.Int(rand.Reader, big.NewInt(1<<40))
	require.NoError(t, err)
	return 1<<41 + n.Int64()
}

// runMain starts a real Main with cfg changed by mutate, and returns it with
// a function that stops it (and waits) — tests that restart call it early.
func runMain(tb testing.TB, demo bool, mutate func(*Config)) (*Main, func()) {
	tb.Helper()
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = tb.TempDir()
	if mutate != nil {
		mutate(&cfg)
	}
	if cfg.nowFunc == nil {
		cfg.nowFunc = testclock.NewRunning(testclock.Start()).Now
	}
	require.NoError(tb, cfg.Validate())
	var logs bytes.Buffer
	sw := &syncWriter{w: &logs}
	m := NewMain(cfg, sw)
	serviceLogs.Store(m, sw)
	m.Demo = demo
	m.examples = testclock.ExampleBatch
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(tb, m.Open(ctx))
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			assert.NoError(tb, err)
		case <-time.After(20 * time.Second):
			tb.Error("Main did not stop within 20 s")
		}
		assert.NoError(tb, m.Close())
		if tb.Failed() {
			tb.Logf("the service logged:\n%s", logs.String())
		}
		for name, secret := range map[string]string{
			"the bot token": cfg.TelegramToken[strings.Index(cfg.TelegramToken, ":")+1:],
			"the AppSecret": cfg.WeChatSecret, "the callback Token": cfg.WeChatToken, "the EncodingAESKey": cfg.WeChatAESKey,
		} {
			if secret != "" {
				assert.NotContains(tb, logs.String(), secret, "%s must never be logged", name)
			}
		}
	}
	tb.Cleanup(stop)
	return m, stop
}

// serviceLogs holds the log of each Main that runMain started.
var serviceLogs sync.Map // *Main → *syncWriter

// codeRE finds the demo's verification codes in its log (the log provider).
var codeRE = regexp.MustCompile(`msg="verification code" phone=(\S+) code=(\d{6})`)

// smsCode returns the newest verification code the demo "sent" to phone: the
// log provider writes it to the service's log, where an owner trying the
// demo reads it.
func smsCode(tb testing.TB, m *Main, phone string) string {
	tb.Helper()
	v, ok := serviceLogs.Load(m)
	require.True(tb, ok, "the Main was not started by runMain")
	sw := v.(*syncWriter)
	sw.mu.Lock()
	text := sw.w.String()
	sw.mu.Unlock()
	code := ""
	for _, g := range codeRE.FindAllStringSubmatch(text, -1) {
		if g[1] == casework.MaskPhone(phone) {
			code = g[2]
		}
	}
	require.NotEmpty(tb, code, "no verification code for %s in the service's log", casework.MaskPhone(phone))
	return code
}

// syncWriter lets the service's goroutines log into one buffer.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// tgChat is a homeowner in their private chat with the bot on the fake
// Telegram.
type tgChat struct {
	t    *testing.T
	srv  *telegramtest.Server
	user telegramtest.User
	mark int // bot messages already read
}

func (c *tgChat) id() int64 { return c.user.ID }

// expect waits until the bot says something containing want, and returns
// the bot's messages since the last expect.
func (c *tgChat) expect(want string) []telegramtest.SentMessage {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var got []telegramtest.SentMessage
	err := c.srv.Wait(ctx, func() bool {
		sent := c.srv.Sent(c.id())
		for i := c.mark; i < len(sent); i++ {
			if strings.Contains(sent[i].Text, want) {
				got = sent[c.mark:]
				c.mark = len(sent)
				return true
			}
		}
		return false
	})
	if err != nil {
		var said []string
		for _, m := range c.srv.Sent(c.id())[c.mark:] {
			said = append(said, m.Text)
		}
		c.t.Fatalf("the bot never said %q; it said since: %q", want, said)
	}
	return got
}

// expectPhotos waits until the bot sent the user n photos in all: a
// notification's photos are messages of their own, which come after its
// text, and an owner looks at them before pressing its buttons.
func (c *tgChat) expectPhotos(n int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := c.srv.Wait(ctx, func() bool {
		photos := 0
		for _, m := range c.srv.Sent(c.id()) {
			if m.Method == "sendPhoto" {
				photos++
			}
		}
		return photos >= n
	})
	require.NoError(c.t, err, "the bot did not send %d photos", n)
	c.mark = len(c.srv.Sent(c.id()))
}

func (c *tgChat) say(text, want string) { c.t.Helper(); c.srv.SendText(c.user, text); c.expect(want) }

// press taps the button with payload on the newest bot message showing it.
func (c *tgChat) press(payload, want string) {
	c.t.Helper()
	c.srv.PressButton(c.user, c.withButton(payload), payload)
	c.expect(want)
}

func (c *tgChat) withButton(payload string) int {
	c.t.Helper()
	sent := c.srv.Sent(c.id())
	for i := len(sent) - 1; i >= 0; i-- {
		if m := sent[i].ReplyMarkup; m != nil {
			for _, b := range m.InlineButtons() {
				if b.CallbackData == payload {
					return sent[i].MessageID
				}
			}
		}
	}
	c.t.Fatalf("no message shows a button %q", payload)
	return 0
}

func (c *tgChat) count(substr string) int {
	n := 0
	for _, m := range c.srv.Sent(c.id()) {
		if strings.Contains(m.Text, substr) {
			n++
		}
	}
	return n
}

func telegramConfig(srv *telegramtest.Server) func(*Config) {
	return func(c *Config) {
		c.TelegramToken = srv.Token()
		c.TelegramAPIURL = srv.URL()
		// The dialogue tests are not about rate limits: let a chat burst.
		c.telegramPerChatRate = 50
	}
}

// reportALeak walks a homeowner through a whole report in Telegram.
func reportALeak(c *tgChat) {
	c.t.Helper()
	c.srv.SendCommand(c.user, "start", "")
	c.expect("请选择您要办理的事项")
	c.press("menu:report", "请问您的姓名")
	c.say("林晓峰", "房号")
	c.say("3-1-201", "电话")
	kb := c.srv.ReplyKeyboard(c.id())
	require.NotNil(c.t, kb, "a share-contact keyboard is offered")
	c.srv.SendContact(c.user, "+8613900000016", c.user.ID)
	c.expect("什么问题")
	c.press("cat:engineering_quality/leak", "位置")
	c.press("loc:bedroom", "描述")
	c.say("飘窗下面的墙在渗水", "什么时候开始")
	c.press("occ:today", "照片")
	c.srv.SendPhoto(c.user, pngBytes, 0)
	c.expect("已收到 1 个附件")
	c.press("media:done", "怎样解决")
	c.press("exp:repair", "联系")
	c.press("ct:anytime", "以上内容都对吗")
}

// TestTelegramReportByLongPolling: a homeowner reports a leak with a photo
// through Telegram, the service long-polling the fake Bot API; the case is
// stored with its photo and the owner gets its number. A double tap on
// Submit registers one case.
func TestTelegramReportByLongPolling(t *testing.T) {
	t.Parallel()
	srv := telegramtest.NewServer(t, newBotToken())
	m, _ := runMain(t, true, telegramConfig(srv))
	c := &tgChat{t: t, srv: srv, user: telegramtest.User{ID: randomUserID(t), FirstName: "晓峰", LanguageCode: "zh-hans"}}
	reportALeak(c)

	summary := c.withButton("sum:submit")
	srv.PressButton(c.user, summary, "sum:submit")
	srv.PressButton(c.user, summary, "sum:submit") // a double tap
	done := c.expect("诉求编号")
	require.NotEmpty(t, done)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, srv.WaitPendingUpdates(ctx, 0))
	cases, n, err := m.Store.FindCases(ctx, casework.CaseFilter{})
	require.NoError(t, err)
	require.Equal(t, 1, n, "the double tap registered one case")
	assert.Equal(t, casework.ChannelTelegram, cases[0].Channel)
	assert.Contains(t, done[0].Text, cases[0].Number)
	full, err := m.Store.FindCaseByID(ctx, cases[0].ID)
	require.NoError(t, err)
	require.Len(t, full.Media, 1)
	assert.Equal(t, "image/png", full.Media[0].ContentType)
	assert.Equal(t, 1, c.count("诉求编号"))

	// Every button press was answered and its keyboard replaced by the choice.
	assert.GreaterOrEqual(t, len(srv.AnsweredCallbacks()), 9)
	msg, ok := srv.Message(c.id(), summary)
	require.True(t, ok)
	assert.Contains(t, msg.Text, "✅ 提交")
	assert.Empty(t, msg.ReplyMarkup.InlineButtons(), "the keyboard is gone after the choice")
	assert.NotEmpty(t, srv.Commands(), "commands registered with setMyCommands")
	assert.Contains(t, fmt.Sprint(srv.Commands()), "report")
}

// TestTelegramWebhook: the same service in webhook mode: the fake Bot API
// delivers updates with the secret token, the owner completes the first
// steps; a request with a wrong secret is refused with 401 and handled not.
func TestTelegramWebhook(t *testing.T) {
	t.Parallel()
	srv := telegramtest.NewServer(t, newBotToken())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	m, _ := runMain(t, true, func(c *Config) {
		telegramConfig(srv)(c)
		c.Addr = addr
		c.TelegramWebhookURL = "http://" + addr + "/telegram/webhook"
		c.TelegramWebhookSecret = "s3cret-Token_for-hooks"
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, srv.Wait(ctx, func() bool { u, _ := srv.Webhook(); return u != "" }))
	url, secret := srv.Webhook()
	assert.Equal(t, "http://"+m.Addr()+"/telegram/webhook", url)
	assert.Equal(t, "s3cret-Token_for-hooks", secret)

	c := &tgChat{t: t, srv: srv, user: telegramtest.User{ID: randomUserID(t), FirstName: "Wei", LanguageCode: "en"}}
	c.srv.SendCommand(c.user, "start", "")
	c.expect("What would you like to do")
	c.press("menu:report", "What is your name")
	c.say("Lin Xiaofeng", "home's number")
	for _, d := range srv.WebhookDeliveries() {
		assert.Equal(t, http.StatusOK, d.Status)
		assert.Equal(t, "s3cret-Token_for-hooks", d.Secret)
	}

	for _, bad := range []string{"", "s3cret-Token_for-hookz", "s3cret"} {
		req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":5,"type":"private"},"from":{"id":5,"first_name":"x"},"text":"/start"}}`))
		require.NoError(t, err)
		if bad != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", bad)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "secret %q", bad)
	}
	// An oversize body with the right secret is refused too.
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"update_id":2,"message":{"text":"`+strings.Repeat("x", 2<<20)+`"}}`))
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	assert.Empty(t, srv.Sent(5), "nothing was handled for the refused requests")
}

// TestTelegram429StormLosesNothing: Telegram answers a burst of sends with
// 429 and retry_after; every reply still arrives, and none is retried before
// retry_after has passed.
func TestTelegram429StormLosesNothing(t *testing.T) {
	t.Parallel()
	srv := telegramtest.NewServer(t, newBotToken())
	runMain(t, true, telegramConfig(srv))
	c := &tgChat{t: t, srv: srv, user: telegramtest.User{ID: randomUserID(t), FirstName: "芳", LanguageCode: "zh-hans"}}
	srv.FailNext("sendMessage", 3, 429, "Too Many Requests: retry after 1", 1)
	c.srv.SendCommand(c.user, "start", "")
	c.expect("请选择您要办理的事项")
	c.press("menu:report", "请问您的姓名")
	assert.Equal(t, 1, c.count("请选择您要办理的事项"), "delivered once, not lost, not doubled")

	var last429 time.Time
	retried := false
	for _, r := range srv.RequestsFor("sendMessage") {
		if r.ErrorCode == 429 {
			assert.Equal(t, 1, r.RetryAfter)
			last429 = r.Time
			continue
		}
		if !last429.IsZero() && r.OK && !retried {
			retried = true
			assert.GreaterOrEqual(t, r.Time.Sub(last429), 900*time.Millisecond, "retry_after was honoured")
		}
	}
	assert.True(t, retried)
}

// TestTelegramRestartMidDialogue: the service stops in the middle of a
// report while the owner keeps typing; another start, on the same database
// and Redis, takes up the messages sent meanwhile: none is lost and none is
// handled twice, and the dialogue goes on where it was.
func TestTelegramRestartMidDialogue(t *testing.T) {
	t.Parallel()
	rds := redisForTest(t)
	srv := telegramtest.NewServer(t, newBotToken())
	dir := t.TempDir()
	cfg := func(c *Config) {
		telegramConfig(srv)(c)
		c.DataDir = dir
		rds.apply(c)
	}
	m1, stop1 := runMain(t, true, cfg)
	_ = m1
	c := &tgChat{t: t, srv: srv, user: telegramtest.User{ID: randomUserID(t), FirstName: "郭敏", LanguageCode: "zh-hans"}}
	c.srv.SendCommand(c.user, "report", "")
	c.expect("请问您的姓名")
	c.say("郭敏", "房号")
	stop1()

	// While the service is down the owner answers, and Telegram keeps it.
	srv.SendText(c.user, "3-1-601")
	require.Equal(t, 1, srv.PendingUpdates())

	m2, _ := runMain(t, true, cfg)
	c.expect("电话")
	c.say("13900000018", "验证码")
	c.say(smsCode(t, m2, "13900000018"), "什么问题")
	wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, srv.WaitPendingUpdates(wctx, 0))
	assert.Equal(t, 1, c.count("请问您的姓名"))
	assert.Equal(t, 1, c.count("请问您的房号"))
	assert.Equal(t, 1, c.count("请提供您的联系电话"))
	assert.Equal(t, 1, c.count("什么问题"))
}

// TestTelegramBlockedUserIsMarkedUnreachable: a user who blocks the bot
// (Telegram's my_chat_member update) is marked unreachable on their chat
// identity, where staff see it, and reachable again when they come back; a
// reply that meets 403 marks them too, and is not retried.
func TestTelegramBlockedUserIsMarkedUnreachable(t *testing.T) {
	t.Parallel()
	srv := telegramtest.NewServer(t, newBotToken())
	m, _ := runMain(t, true, telegramConfig(srv))
	c := &tgChat{t: t, srv: srv, user: telegramtest.User{ID: randomUserID(t), FirstName: "静", LanguageCode: "zh-hans"}}
	c.srv.SendCommand(c.user, "start", "")
	c.expect("请选择您要办理的事项")
	ctx := context.Background()
	unreachable := func() bool {
		id, err := m.Store.FindChatIdentity(ctx, "telegram", fmt.Sprint(c.id()))
		require.NoError(t, err)
		return id.Unreachable
	}
	assert.False(t, unreachable())

	srv.BlockUser(c.id())
	require.Eventually(t, unreachable, 10*time.Second, 10*time.Millisecond, "blocking the bot marks the user unreachable")
	srv.UnblockUser(c.id())
	c.expect("欢迎")
	assert.False(t, unreachable(), "back again")

	// The user blocks the bot while their reply is on its way.
	srv.FailNext("sendMessage", 1, 403, "Forbidden: bot was blocked by the user", 0)
	srv.SendText(c.user, "帮助")
	require.Eventually(t, unreachable, 10*time.Second, 10*time.Millisecond, "a 403 marks the user unreachable")
	n403 := 0
	for _, r := range srv.RequestsFor("sendMessage") {
		if r.ErrorCode == 403 {
			n403++
		}
	}
	assert.Equal(t, 1, n403, "a 403 is final: no retries")
}

// TestTelegramGroupChatGetsAPointer: in a group the bot does not take
// reports; it points to the private chat.
func TestTelegramGroupChatGetsAPointer(t *testing.T) {
	t.Parallel()
	srv := telegramtest.NewServer(t, newBotToken())
	m, _ := runMain(t, true, telegramConfig(srv))
	user := telegramtest.User{ID: randomUserID(t), FirstName: "磊", LanguageCode: "zh-hans"}
	group := -1000000000000 - randomUserID(t)%1000000
	srv.SendInGroup(user, group, "/report@"+srv.BotUsername())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sent, err := srv.WaitSent(ctx, group, 1)
	require.NoError(t, err)
	assert.Contains(t, sent[0].Text, "私聊")
	_, n, err := m.Store.FindCases(context.Background(), casework.CaseFilter{})
	require.NoError(t, err)
	assert.Zero(t, n)
}

// testRedis is the test Redis and a key prefix of the test's own, so that
// the state one test keeps there (limits, sessions, locks) never meets
// another test's, nor that of a run on another date.
type testRedis struct{ URL, Prefix string }

// apply configures the service to use it.
func (r testRedis) apply(c *Config) { c.RedisURL, c.RedisPrefix = r.URL, r.Prefix }

// env is the service's environment to use it.
func (r testRedis) env() []string {
	return []string{"AFTERSALES_REDIS_URL=" + r.URL, "AFTERSALES_REDIS_PREFIX=" + r.Prefix}
}

// redisForTest returns the test Redis with a new key prefix, whose keys are
// deleted when the test ends, skipping (or failing in CI) when Redis does
// not answer.
func redisForTest(t testing.TB) testRedis {
	t.Helper()
	redisURL := os.Getenv("AFTERSALES_TEST_REDIS_URL")
	if redisURL == "" {
		redisURL = "redis://127.0.0.1:6379/0"
	}
	u, err := url.Parse(redisURL)
	require.NoError(t, err)
	conn, err := net.DialTimeout("tcp", u.Host, time.Second)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Redis at %s is unreachable, and in CI that is a failure: %v", redactURL(redisURL), err)
		}
		t.Skipf("skipping: Redis at %s is unreachable: %v", redactURL(redisURL), err)
	}
	conn.Close()
	r := testRedis{URL: redisURL, Prefix: "aftersales-test-" + rand.Text() + ":"}
	t.Cleanup(func() {
		opts, err := goredis.ParseURL(redisURL)
		require.NoError(t, err)
		rdb := goredis.NewClient(opts)
		defer rdb.Close()
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, r.Prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		assert.NoError(t, iter.Err())
	})
	return r
}

// TestTelegramOnePollerAmongInstances: two instances of the service share
// Redis and the bot; only one long-polls at a time (Telegram would end one
// of two concurrent polls with 409), and when it stops the other takes over.
func TestTelegramOnePollerAmongInstances(t *testing.T) {
	t.Parallel()
	rds := redisForTest(t)
	srv := telegramtest.NewServer(t, newBotToken())
	cfg := func(c *Config) { telegramConfig(srv)(c); rds.apply(c) }
	_, stop1 := runMain(t, true, cfg)
	c := &tgChat{t: t, srv: srv, user: telegramtest.User{ID: randomUserID(t), FirstName: "帆", LanguageCode: "zh-hans"}}
	c.srv.SendCommand(c.user, "start", "")
	c.expect("请选择您要办理的事项")
	_, _ = runMain(t, true, cfg)
	c.press("menu:report", "请问您的姓名")
	stop1()
	c.say("杨帆", "房号")
	for _, r := range srv.RequestsFor("getUpdates") {
		assert.NotEqual(t, 409, r.ErrorCode, "two instances polled at once: %s", r.Description)
	}
	assert.Equal(t, 1, c.count("请问您的姓名"))
}

// TestTelegramPollingBacksOff: getUpdates failing (a proxy's 502, a 429)
// delays polling, retry_after honoured, and nothing is lost.
func TestTelegramPollingBacksOff(t *testing.T) {
	t.Parallel()
	srv := telegramtest.NewServer(t, newBotToken())
	srv.FailNext("getUpdates", 1, 502, "Bad Gateway", 0)
	srv.FailNext("getUpdates", 1, 429, "Too Many Requests: retry after 1", 1)
	runMain(t, true, telegramConfig(srv))
	c := &tgChat{t: t, srv: srv, user: telegramtest.User{ID: randomUserID(t), FirstName: "娜", LanguageCode: "zh-hans"}}
	c.srv.SendCommand(c.user, "start", "")
	c.expect("请选择您要办理的事项")
	reqs := srv.RequestsFor("getUpdates")
	require.GreaterOrEqual(t, len(reqs), 3)
	assert.Equal(t, 502, reqs[0].Status)
	assert.Equal(t, 429, reqs[1].ErrorCode)
	assert.GreaterOrEqual(t, reqs[2].Time.Sub(reqs[1].Time), 900*time.Millisecond, "retry_after honoured")

	// A contact that is not the sender's own is refused.
	c.press("menu:report", "请问您的姓名")
	c.say("李娜", "房号")
	c.say("1-1-302", "电话")
	c.srv.SendContact(c.user, "+8613900000003", c.user.ID+1)
	c.expect("请分享您本人的电话号码")
}

// serviceLog returns what the Main that runMain started has logged so far.
func serviceLog(m *Main) string {
	v, ok := serviceLogs.Load(m)
	if !ok {
		return ""
	}
	sw := v.(*syncWriter)
	sw.mu.Lock()
	defer sw.mu.Unlock()
	return sw.w.String()
}
