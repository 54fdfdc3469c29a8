// Package telegram connects the chatbot to Telegram through the Bot API, on
// github.com/go-telegram-bot-api/telegram-bot-api/v5 (v5.5.1). The library is
// used for its types and request encoding; what it lacks or gets wrong is
// done here: a configurable base URL for calls and file downloads, request
// cancellation, a long-polling loop that confirms an update only after the
// router took it, a webhook that checks Telegram's secret token, rate limits
// per chat and overall with retry_after honoured, and the reactions to a user
// who blocked the bot.
package telegram

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"golang.org/x/time/rate"

	"github.com/aftersales/aftersales/bot"
)

var _ bot.RefSender = (*Adapter)(nil)

// DefaultAPIURL is Telegram's Bot API.
const DefaultAPIURL = "https://api.telegram.org"

// Config is what an Adapter needs.
type Config struct {
	Token  string // from @BotFather; a secret: never logged
	APIURL string // base URL: calls go to {APIURL}/bot{token}/{method}; default DefaultAPIURL

	// WebhookURL, when set, selects webhook mode: the adapter registers it
	// with WebhookSecret and serves updates from WebhookHandler. Otherwise the
	// adapter long-polls.
	WebhookURL    string
	WebhookSecret string

	// DispatchFunc hands an inbound message to the router (bot.Router.Dispatch).
	DispatchFunc func(ctx context.Context, in *bot.Inbound) error
	// UnreachableFunc records that a user blocked the bot (403), so staff see it.
	UnreachableFunc func(ctx context.Context, user bot.UserRef) error
	// Blobs opens stored media for outbound photos.
	Blobs bot.BlobStore
	// PollLock, when set, makes sure only one instance long-polls at a time:
	// Run holds its lock "telegram-poller" while polling (a Redis lock when
	// several instances serve one bot).
	PollLock bot.Locker

	PollTimeout  time.Duration // long-poll timeout; default 30 s
	HTTPTimeout  time.Duration // per request; default PollTimeout + 15 s
	PerChatRate  rate.Limit    // messages per second to one chat; default 1
	PerChatBurst int           // default 3
	GlobalRate   rate.Limit    // messages per second overall; default 30
	MaxAttempts  int           // tries of one outbound message on 429 and transient errors; default 8
	Logger       *slog.Logger
	HTTPClient   *http.Client // default: a client with HTTPTimeout
}

// Adapter is the Telegram channel: it implements bot.Channel,
// bot.RefSender (messages it sent can be edited) and bot.MediaFetcher, runs
// the long-polling loop or serves the webhook.
type Adapter struct {
	cfg  Config
	api  *tgbotapi.BotAPI
	self tgbotapi.User
	http *http.Client
	log  *slog.Logger

	life     context.Context // cancelled by Close: ends every request in flight
	stop     context.CancelFunc
	client   *ctxClient
	queue    chan tgbotapi.Update // webhook updates answered 200, to handle
	stopping atomic.Bool          // Run is stopping: the webhook refuses updates

	global  *rate.Limiter
	mu      sync.Mutex
	perChat map[int64]*chatState
}

type chatState struct {
	limiter       *rate.Limiter
	replyKeyboard bool // a reply keyboard (share-contact button) is showing
	lastUsed      time.Time
}

// New checks the configuration, calls getMe (which also checks the token)
// and returns an Adapter. ctx bounds getMe.
func New(ctx context.Context, cfg Config) (*Adapter, error) {
	if cfg.Token == "" || strings.ContainsAny(cfg.Token, "/?# ") {
		return nil, errors.New("telegram: the token is empty or malformed")
	}
	if cfg.DispatchFunc == nil {
		return nil, errors.New("telegram: no DispatchFunc")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if cfg.PollTimeout <= 0 {
		cfg.PollTimeout = 30 * time.Second
	}
	if cfg.HTTPTimeout <= 0 {
		cfg.HTTPTimeout = cfg.PollTimeout + 15*time.Second
	}
	if cfg.PerChatRate <= 0 {
		cfg.PerChatRate = 1
	}
	if cfg.PerChatBurst <= 0 {
		cfg.PerChatBurst = 3
	}
	if cfg.GlobalRate <= 0 {
		cfg.GlobalRate = 30
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 8
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: cfg.HTTPTimeout}
	}
	life, stop := context.WithCancel(context.WithoutCancel(ctx))
	a := &Adapter{
		cfg:     cfg,
		http:    hc,
		log:     cfg.Logger.With("platform", bot.Telegram),
		life:    life,
		stop:    stop,
		global:  rate.NewLimiter(cfg.GlobalRate, max(1, int(cfg.GlobalRate))),
		perChat: map[int64]*chatState{},
		queue:   make(chan tgbotapi.Update, 1024),
	}
	client := &ctxClient{client: hc, ctx: life}
	a.client = client
	type result struct {
		api *tgbotapi.BotAPI
		err error
	}
	done := make(chan result, 1)
	go func() {
		api, err := tgbotapi.NewBotAPIWithClient(cfg.Token, cfg.APIURL+"/bot%s/%s", client)
		done <- result{api, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			stop()
			return nil, fmt.Errorf("telegram: getMe: %w", a.redact(r.err))
		}
		a.api, a.self = r.api, r.api.Self
	case <-ctx.Done():
		stop()
		return nil, fmt.Errorf("telegram: getMe: %w", ctx.Err())
	}
	a.log.Info("telegram bot ready", "bot_username", a.self.UserName, "mode", a.mode())
	return a, nil
}

func (a *Adapter) mode() string {
	if a.cfg.WebhookURL != "" {
		return "webhook"
	}
	return "long_polling"
}

// Platform returns bot.Telegram.
func (a *Adapter) Platform() bot.Platform { return bot.Telegram }

// Username returns the bot's username, as getMe reported it.
func (a *Adapter) Username() string { return a.self.UserName }

// Close cancels every request still in flight. Call it after Run returned:
// Run finishes the updates it took before it returns.
func (a *Adapter) Close() error {
	a.stopping.Store(true)
	a.stop()
	return nil
}

// ctxClient gives every request of the library (which makes them without a
// context) the adapter's lifetime context, so Close cancels them. A long
// poll (getUpdates) is also ended with the polling it belongs to (poll):
// an instance that stops polling lets go of the poll lock only after its
// poll is gone, so the next poller's is never answered "terminated by other
// getUpdates request".
type ctxClient struct {
	client *http.Client
	ctx    context.Context
	poll   atomic.Pointer[context.Context]
}

func (c *ctxClient) Do(req *http.Request) (*http.Response, error) {
	pc := c.poll.Load()
	if pc == nil || !strings.HasSuffix(req.URL.Path, "/getUpdates") {
		return c.client.Do(req.WithContext(c.ctx))
	}
	ctx, cancel := context.WithCancel(c.ctx)
	stop := context.AfterFunc(*pc, cancel)
	release := func() { stop(); cancel() }
	resp, err := c.client.Do(req.WithContext(ctx))
	if err != nil {
		release()
		return nil, err
	}
	// The library closes the body once it read the answer.
	resp.Body = &releaseOnClose{ReadCloser: resp.Body, release: release}
	return resp, nil
}

// releaseOnClose releases a request's context when its body is closed.
type releaseOnClose struct {
	io.ReadCloser
	release func()
}

func (r *releaseOnClose) Close() error {
	err := r.ReadCloser.Close()
	r.release()
	return err
}

// redact removes the bot token from an error's text: the library's URLs
// carry it, and net/http puts URLs into its errors.
func (a *Adapter) redact(err error) error {
	if err == nil || a.cfg.Token == "" || !strings.Contains(err.Error(), a.cfg.Token) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), a.cfg.Token, "<token>"), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// commands are registered with setMyCommands, in Chinese by default and in
// English for users whose Telegram speaks English.
var commands = map[string][][2]string{
	"": {
		{"start", "开始 / 主菜单"}, {"report", "我要报修"}, {"status", "我的报修进度"},
		{"help", "帮助"}, {"lang", "English / 中文"}, {"cancel", "取消当前操作"}, {"orders", "我的工单（工程师）"},
	},
	"en": {
		{"start", "Start / main menu"}, {"report", "Report a problem"}, {"status", "My cases"},
		{"help", "Help"}, {"lang", "中文 / English"}, {"cancel", "Cancel what I'm doing"}, {"orders", "My work orders (engineers)"},
	},
}
