// Package wechat connects the chatbot to a WeChat official account (微信公众号)
// on github.com/silenceper/wechat/v2 (v2.1.10). The SDK is used for the
// access token, the message types and the message crypto; what it lacks or
// gets wrong is done here: the callback checks the signatures in constant
// time and refuses stale timestamps before anything is parsed, bounds the
// body and answers a malformed one with 400; every API call takes a context,
// reports WeChat's errcode as a typed error and fetches a new access token
// when WeChat refuses the cached one; the token is cached in a cache safe for
// concurrent use (memory) or on Redis.
//
// WeChat waits 5 seconds for the answer to a callback, then retries it. The
// adapter answers with the first reply when the engine has it within
// Config.PassiveBudget (a passive reply), and otherwise answers "success" and
// delivers the replies later as customer-service messages (客服消息) — within
// the 48-hour window and the quota of messages per user message that it
// tracks in a WindowStore — or, outside it, as a template message when one
// is configured.
package wechat

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/credential"

	"github.com/aftersales/aftersales/bot"
)

// Config is what an Adapter needs. AppID and Secret are always required;
// Token and ProcessFunc too for serving the callback (CreateMenu needs
// neither).
type Config struct {
	AppID  string // the account's AppID (开发者ID)
	Secret string // the AppSecret; a secret: never logged
	Token  string // the callback Token (令牌) that signs WeChat's callbacks; a secret
	// EncodingAESKey (消息加解密密钥, 43 characters) selects safe mode
	// (安全模式): callbacks must then come encrypted (encrypt_type=aes, as in
	// safe and compatible mode) and passive replies are encrypted. Empty:
	// plain mode, in which WeChat's signature does not cover the body.
	EncodingAESKey string
	// APIURL replaces https://api.weixin.qq.com in every API request (an
	// egress proxy, a fake in tests). It is process-wide: see ConfigureSDK.
	APIURL string

	// ProcessFunc hands an inbound message to the router with the function
	// that delivers its replies (bot.Router.Process).
	ProcessFunc func(ctx context.Context, in *bot.Inbound, send bot.SendFunc) error
	// UnreachableFunc records that a user cannot be reached any more (WeChat
	// answered 43004: not subscribed), so staff see it. Unsubscribe events
	// reach the engine as bot.KindUnfollow, which records it itself.
	UnreachableFunc func(ctx context.Context, user bot.UserRef) error

	// Cache keeps the access token; default NewMemoryCache(). Instances that
	// serve one account must share it (NewRedisCache): each fetch of a new
	// token ends the previous one's life within minutes.
	Cache cache.Cache
	// Windows tracks each user's customer-service window; default
	// NewMemoryWindowStore(). Instances that serve one account should share
	// it (NewRedisWindowStore), or a message sent by one instance does not
	// know of the window opened on another.
	Windows WindowStore
	// Template carries messages outside the customer-service window.
	Template Template
	// Blobs opens stored media for outbound photos; without it a photo
	// cannot be sent.
	Blobs bot.BlobStore

	// PassiveBudget is how long a callback waits for the engine's first
	// reply before it answers "success" and the replies go as
	// customer-service messages; default 3 s, at most 4.5 s (WeChat gives up
	// after 5).
	PassiveBudget time.Duration
	// MaxClockSkew is how far a callback's timestamp may be from now;
	// default 5 minutes.
	MaxClockSkew time.Duration
	// ProcessTimeout bounds the handling of one inbound message, waiting for
	// the user's lock included; default 2 minutes.
	ProcessTimeout time.Duration
	// MaxInFlight bounds the messages handled at once; default 256. A
	// callback that finds no room within PassiveBudget is answered 503 and
	// WeChat tries it again.
	MaxInFlight int
	// MaxAttempts is how many times a call is tried when WeChat is busy
	// (errcode -1) or could not be reached; default 3.
	MaxAttempts int
	// Location is the time zone of times in template messages; default
	// China Standard Time.
	Location *time.Location

	// HTTPClient makes every request to WeChat. It is process-wide, set by
	// the first ConfigureSDK: see there. Default: a client with a 30 s
	// timeout.
	HTTPClient *http.Client
	// Logger receives the adapter's log, never a message's text; default:
	// discarded.
	Logger *slog.Logger
	// NowFunc is the service's clock, of the timestamp check and of the
	// customer-service windows; required.
	NowFunc func() time.Time
}

// Defaults of Config.
const (
	DefaultPassiveBudget  = 3 * time.Second
	DefaultMaxClockSkew   = 5 * time.Minute
	DefaultProcessTimeout = 2 * time.Minute
	DefaultMaxInFlight    = 256
	DefaultMaxAttempts    = 3
)

// maxPassiveBudget keeps a safe distance from WeChat's 5 seconds.
const maxPassiveBudget = 4500 * time.Millisecond

// Validate checks the configuration without applying defaults.
func (c *Config) Validate() error {
	var errs []error
	if c.NowFunc == nil {
		errs = append(errs, errors.New("no NowFunc: the windows are counted by the service's clock"))
	}
	if c.AppID == "" || strings.ContainsAny(c.AppID, "&?#/ ") {
		errs = append(errs, errors.New("the AppID is empty or malformed"))
	}
	if c.Secret == "" {
		errs = append(errs, errors.New("no AppSecret"))
	}
	if c.ProcessFunc != nil && c.Token == "" {
		errs = append(errs, errors.New("no callback Token"))
	}
	if c.EncodingAESKey != "" {
		if _, err := decodeAESKey(c.EncodingAESKey); err != nil {
			errs = append(errs, err)
		}
	}
	if c.PassiveBudget > maxPassiveBudget {
		errs = append(errs, fmt.Errorf("PassiveBudget %v is too close to WeChat's 5 s (at most %v)", c.PassiveBudget, maxPassiveBudget))
	}
	if c.Template.ID == "" && c.Template.URL != "" {
		errs = append(errs, errors.New("a template URL without a template ID"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("wechat: %w", errors.Join(errs...))
	}
	return nil
}

// decodeAESKey checks an EncodingAESKey: 43 characters of base64 for a
// 32-byte key.
func decodeAESKey(s string) ([]byte, error) {
	if len(s) != 43 {
		return nil, fmt.Errorf("the EncodingAESKey has %d characters, not 43", len(s))
	}
	key, err := base64.StdEncoding.DecodeString(s + "=")
	if err != nil || len(key) != 32 {
		return nil, errors.New("the EncodingAESKey is not base64 for a 32-byte key")
	}
	return key, nil
}

// Adapter is the WeChat channel: it implements bot.Channel and
// bot.MediaFetcher, serves the callback and creates the custom menu.
type Adapter struct {
	cfg      Config
	log      *slog.Logger
	http     *http.Client
	tokens   credential.AccessTokenContextHandle
	tokenKey string // the SDK's cache key of the access token

	life  context.Context // cancelled by Close
	stop  context.CancelFunc
	slots chan struct{} // one per message being handled

	mu       sync.Mutex
	stopping bool           // Run is stopping: callbacks are refused with 503
	inflight sync.WaitGroup // messages being handled; Add under mu

	pics picURLs

	ready      atomic.Bool // an access token was had: the API answers
	noUserInfo atomic.Bool // user/info answered 48001: not asked again
}

var (
	_ bot.Channel      = (*Adapter)(nil)
	_ bot.MediaFetcher = (*Adapter)(nil)
)

// New checks the configuration, configures the SDK (ConfigureSDK with
// APIURL and HTTPClient) and fetches an access token, which also checks the
// AppID and the AppSecret and that this server's IP address is on the
// account's whitelist. ctx bounds the fetch.
func New(ctx context.Context, cfg Config) (*Adapter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.PassiveBudget <= 0 {
		cfg.PassiveBudget = DefaultPassiveBudget
	}
	if cfg.MaxClockSkew <= 0 {
		cfg.MaxClockSkew = DefaultMaxClockSkew
	}
	if cfg.ProcessTimeout <= 0 {
		cfg.ProcessTimeout = DefaultProcessTimeout
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Location == nil {
		cfg.Location = time.FixedZone("CST", 8*60*60)
	}
	if cfg.Cache == nil {
		cfg.Cache = NewMemoryCache()
	}
	if cfg.Windows == nil {
		cfg.Windows = NewMemoryWindowStore()
	}
	if cfg.Template.ID != "" && cfg.Template.DataFunc == nil {
		cfg.Template.DataFunc = GenericTemplateData
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ConfigureSDK(cfg.APIURL, cfg.HTTPClient)
	life, stop := context.WithCancel(context.WithoutCancel(ctx))
	a := &Adapter{
		cfg:      cfg,
		log:      cfg.Logger.With("platform", bot.WeChat),
		http:     httpClient(),
		tokens:   credential.NewDefaultAccessToken(cfg.AppID, cfg.Secret, credential.CacheKeyOfficialAccountPrefix, cfg.Cache),
		tokenKey: fmt.Sprintf("%s_access_token_%s", credential.CacheKeyOfficialAccountPrefix, cfg.AppID),
		life:     life,
		stop:     stop,
		slots:    make(chan struct{}, cfg.MaxInFlight),
	}
	switch _, err := a.accessToken(ctx); {
	case err == nil:
		a.ready.Store(true)
		a.log.Info("wechat official account ready", "app_id", cfg.AppID, "safe_mode", cfg.EncodingAESKey != "", "template", cfg.Template.ID != "")
	case refusedByWeChat(err):
		// WeChat itself said no: a wrong AppID or AppSecret, or this
		// server's address not on the account's whitelist. That is for
		// the operator to fix before the service runs.
		stop()
		return nil, fmt.Errorf("wechat: access token: %w", err)
	default:
		// WeChat could not be reached: the rest of the service runs, and
		// the adapter keeps asking (Ready, /readyz).
		a.log.Warn("wechat: the API did not answer at start; asking again in the background", "error", err)
		go a.retryToken()
	}
	return a, nil
}

// Ready reports whether WeChat's API gave the adapter an access token.
func (a *Adapter) Ready() bool { return a.ready.Load() }

// tokenRetryMax caps the wait between two tries of the first access token.
const tokenRetryMax = time.Minute

// retryToken asks for the first access token until WeChat gives one or the
// adapter is closed, waiting 1 s, then twice as long each time, up to a
// minute.
func (a *Adapter) retryToken() {
	wait := time.Second
	for {
		select {
		case <-a.life.Done():
			return
		case <-time.After(wait):
		}
		ctx, cancel := context.WithTimeout(a.life, 15*time.Second)
		_, err := a.accessToken(ctx)
		cancel()
		if err == nil {
			a.ready.Store(true)
			a.log.Info("wechat official account ready", "app_id", a.cfg.AppID)
			return
		}
		a.log.Warn("wechat: still no access token", "error", err, "next_try", min(2*wait, tokenRetryMax).String())
		wait = min(2*wait, tokenRetryMax)
	}
}

// refusedByWeChat tells a refusal from WeChat (the SDK's "errcode=…" error,
// with WeChat's code) from a request that did not reach it or got no answer.
func refusedByWeChat(err error) bool {
	return strings.Contains(err.Error(), "errcode=")
}

// Platform returns bot.WeChat.
func (a *Adapter) Platform() bot.Platform { return bot.WeChat }

// Run waits until ctx ends, then refuses new callbacks (503: WeChat tries
// them again, on this instance after a restart or on another) and waits for
// the messages being handled to be delivered. It returns nil.
func (a *Adapter) Run(ctx context.Context) error {
	<-ctx.Done()
	a.mu.Lock()
	a.stopping = true
	a.mu.Unlock()
	a.inflight.Wait()
	return nil
}

// Close cancels every request and every message still being handled. Call
// it after Run returned.
func (a *Adapter) Close() error {
	a.mu.Lock()
	a.stopping = true
	a.mu.Unlock()
	a.stop()
	return nil
}

func (a *Adapter) now() time.Time { return a.cfg.NowFunc() }
