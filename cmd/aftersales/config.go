package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/bot/web"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/lifecycle"
	"github.com/aftersales/aftersales/sms"
)

// Config is every setting of the service. Each field is read from an
// environment variable named AFTERSALES_…; flags of the same name (lower case,
// dashes) override them.
type Config struct {
	Addr        string // AFTERSALES_ADDR
	DatabaseURL string // AFTERSALES_DATABASE_URL: sqlite:PATH or postgres://…
	RedisURL    string // AFTERSALES_REDIS_URL, optional
	RedisPrefix string // AFTERSALES_REDIS_PREFIX: namespaces every key, for several services on one Redis
	LogFormat   string // AFTERSALES_LOG_FORMAT: text or json
	LogLevel    string // AFTERSALES_LOG_LEVEL: debug, info, warn, error
	DataDir     string // AFTERSALES_DATA_DIR
	CasePrefix  string // AFTERSALES_CASE_PREFIX: the prefix of case numbers
	TimeZone    string // AFTERSALES_TIMEZONE: the department's time zone (case numbers, dates)
	RulesFile   string // AFTERSALES_CLASSIFY_RULES: staff classification rules (JSON), over the model
	ModelFile   string // AFTERSALES_CLASSIFY_MODEL: a classification model replacing the embedded one
	LLMURL      string // AFTERSALES_CLASSIFY_LLM_URL: an OpenAI-compatible API classifying before the model
	LLMKey      string // AFTERSALES_CLASSIFY_LLM_KEY
	LLMModel    string // AFTERSALES_CLASSIFY_LLM_MODEL
	LLMTimeout  string // AFTERSALES_CLASSIFY_LLM_TIMEOUT
	APIToken    string // AFTERSALES_API_TOKEN: the staff API's bearer token; the API is off without it
	PartyTokens string // AFTERSALES_PARTY_TOKENS: CODE:token,… read-only API tokens of responsible parties
	PublicURL   string // AFTERSALES_PUBLIC_URL: the service's public base URL; the supervisors' chats link to the console under it

	SurveyTTL    string // AFTERSALES_SURVEY_TTL: an unanswered satisfaction survey expires after this
	AnswerWait   string // AFTERSALES_ANSWER_WAIT: an answer (答复) the owner says nothing of is taken as settled after this
	AcceptWithin string // AFTERSALES_URGENT_ACCEPT_WITHIN: an urgent work order not taken by then is escalated
	ReturnVisits string // AFTERSALES_RETURN_VISITS: days after closure of the return visit, by subcategory
	ServiceHours string // AFTERSALES_SERVICE_HOURS: when people answer chats handed to them (人工)
	Hotline      string // AFTERSALES_HOTLINE: the service hotline for emergencies out of those hours

	TelegramToken         string // AFTERSALES_TELEGRAM_TOKEN: enables Telegram
	TelegramAPIURL        string // AFTERSALES_TELEGRAM_API_URL
	TelegramWebhookURL    string // AFTERSALES_TELEGRAM_WEBHOOK_URL: webhook mode when set
	TelegramWebhookSecret string // AFTERSALES_TELEGRAM_WEBHOOK_SECRET

	WeChatAppID      string // AFTERSALES_WECHAT_APPID: enables WeChat
	WeChatSecret     string // AFTERSALES_WECHAT_SECRET
	WeChatToken      string // AFTERSALES_WECHAT_TOKEN: signs the callbacks
	WeChatAESKey     string // AFTERSALES_WECHAT_AES_KEY: safe mode when set
	WeChatAPIURL     string // AFTERSALES_WECHAT_API_URL
	WeChatTemplateID string // AFTERSALES_WECHAT_TEMPLATE_ID: notifications outside the 48-hour window

	// Limits of the public surface (bot.ParseLimit: "30/1m").
	LimitMessages        string // AFTERSALES_LIMIT_MESSAGES: per chat account
	LimitCases           string // AFTERSALES_LIMIT_CASES: per chat account
	LimitAddressMessages string // AFTERSALES_LIMIT_ADDRESS_MESSAGES: per address, chat page
	LimitAddressCases    string // AFTERSALES_LIMIT_ADDRESS_CASES: per address, chat page
	TrustedProxies       string // AFTERSALES_TRUSTED_PROXIES: CIDRs whose X-Forwarded-For is believed

	ChatCookieKey string // AFTERSALES_CHAT_COOKIE_KEY: signs the chat page's visitor cookies

	// Verification codes by SMS, with which owners prove the phone on
	// their record.
	SMSProvider        string // AFTERSALES_SMS_PROVIDER: aliyun, tencent or log; empty: SMS off (demo: log)
	SMSAllowLog        string // AFTERSALES_SMS_ALLOW_LOG: "true" lets serve run with the log provider
	SMSAccessKeyID     string // AFTERSALES_SMS_ACCESS_KEY_ID (Tencent: SecretId)
	SMSAccessKeySecret string // AFTERSALES_SMS_ACCESS_KEY_SECRET (Tencent: SecretKey)
	SMSSignName        string // AFTERSALES_SMS_SIGN_NAME: the approved signature (签名)
	SMSTemplateID      string // AFTERSALES_SMS_TEMPLATE_ID: the approved template, one code parameter
	SMSSDKAppID        string // AFTERSALES_SMS_SDK_APP_ID: Tencent's SmsSdkAppId
	SMSRegion          string // AFTERSALES_SMS_REGION: Tencent's region
	SMSAPIURL          string // AFTERSALES_SMS_API_URL: the provider's API base (a proxy)

	// Urgent work orders by text message and voice call, through the SMS
	// provider's account (urgent.go in package lifecycle).
	SMSUrgentTemplateID     string // AFTERSALES_SMS_URGENT_TEMPLATE_ID: texted to the engineer of an urgent order
	SMSNotTakenTemplateID   string // AFTERSALES_SMS_NOT_TAKEN_TEMPLATE_ID: texted to the duty supervisor
	VoiceUrgentTemplateID   string // AFTERSALES_VOICE_URGENT_TEMPLATE_ID: read out in the engineer's call
	VoiceNotTakenTemplateID string // AFTERSALES_VOICE_NOT_TAKEN_TEMPLATE_ID: read out in the supervisor's call
	VoiceSDKAppID           string // AFTERSALES_VOICE_SDK_APP_ID: Tencent's VoiceSdkAppid
	VoiceShowNumber         string // AFTERSALES_VOICE_SHOW_NUMBER: Alibaba's CalledShowNumber
	VoiceAPIURL             string // AFTERSALES_VOICE_API_URL: the voice API's base (a proxy)

	// telegramPerChatRate overrides Telegram's 1 message/s per chat, for
	// tests about something else.
	telegramPerChatRate float64
	// nowFunc replaces the system's clock, everywhere in the service, for
	// tests that set their own dates and move them.
	nowFunc func() time.Time
	// telegramGlobalRate overrides Telegram's 30 messages/s overall, for load
	// tests of the service's own speed.
	telegramGlobalRate float64
}

// setting describes one configuration variable: its name, its help and where
// it is stored. The README's table is written from the same list.
type setting struct {
	env, flag, help string
	field           func(*Config) *string
}

var settings = []setting{
	{"AFTERSALES_ADDR", "addr", "address the HTTP server listens on", func(c *Config) *string { return &c.Addr }},
	{"AFTERSALES_DATABASE_URL", "database-url", "sqlite:PATH (default: sqlite under the data dir) or postgres://user@host:5432/db", func(c *Config) *string { return &c.DatabaseURL }},
	{"AFTERSALES_REDIS_URL", "redis-url", "redis://host:6379/0, optional: shares sessions and dedupe between instances", func(c *Config) *string { return &c.RedisURL }},
	{"AFTERSALES_REDIS_PREFIX", "redis-prefix", "prefix of every Redis key (default aftersales:): the instances of one service share it; another service on the same Redis needs its own", func(c *Config) *string { return &c.RedisPrefix }},
	{"AFTERSALES_LOG_FORMAT", "log-format", "text or json", func(c *Config) *string { return &c.LogFormat }},
	{"AFTERSALES_LOG_LEVEL", "log-level", "debug, info, warn or error", func(c *Config) *string { return &c.LogLevel }},
	{"AFTERSALES_DATA_DIR", "data-dir", "directory for the embedded database and media", func(c *Config) *string { return &c.DataDir }},
	{"AFTERSALES_CASE_PREFIX", "case-prefix", "prefix of case numbers (诉求编号), e.g. SH → SH-20261127-0042", func(c *Config) *string { return &c.CasePrefix }},
	{"AFTERSALES_TIMEZONE", "timezone", "the department's time zone (IANA name)", func(c *Config) *string { return &c.TimeZone }},
	{"AFTERSALES_WECHAT_APPID", "wechat-appid", "the official account's AppID; enables WeChat", func(c *Config) *string { return &c.WeChatAppID }},
	{"AFTERSALES_WECHAT_SECRET", "wechat-secret", "the official account's AppSecret (secret)", func(c *Config) *string { return &c.WeChatSecret }},
	{"AFTERSALES_WECHAT_TOKEN", "wechat-token", "the callback Token (令牌) WeChat signs callbacks with (secret)", func(c *Config) *string { return &c.WeChatToken }},
	{"AFTERSALES_WECHAT_AES_KEY", "wechat-aes-key", "EncodingAESKey, 43 characters: safe (encrypted) mode (secret)", func(c *Config) *string { return &c.WeChatAESKey }},
	{"AFTERSALES_WECHAT_API_URL", "wechat-api-url", "API base replacing https://api.weixin.qq.com (an egress proxy)", func(c *Config) *string { return &c.WeChatAPIURL }},
	{"AFTERSALES_WECHAT_TEMPLATE_ID", "wechat-template-id", "template message id for notifications outside the 48-hour window", func(c *Config) *string { return &c.WeChatTemplateID }},
	{"AFTERSALES_LIMIT_MESSAGES", "limit-messages", "messages one chat account may send: a burst, refilled over the period (30/1m: 30 at once, then one every 2 s); over it a message is not handled and the sender is asked to slow down; 0: none", func(c *Config) *string { return &c.LimitMessages }},
	{"AFTERSALES_LIMIT_CASES", "limit-cases", "cases one chat account may register (10/24h); a report over it waits at the read-back; 0: none", func(c *Config) *string { return &c.LimitCases }},
	{"AFTERSALES_LIMIT_ADDRESS_MESSAGES", "limit-address-messages", "requests to the chat page's API from one address (600/1m; 429 with Retry-After over it); generous: a kiosk or an estate behind one carrier address is many people", func(c *Config) *string { return &c.LimitAddressMessages }},
	{"AFTERSALES_LIMIT_ADDRESS_CASES", "limit-address-cases", "cases registered from one address of the chat page (200/24h)", func(c *Config) *string { return &c.LimitAddressCases }},
	{"AFTERSALES_TRUSTED_PROXIES", "trusted-proxies", "reverse proxies (CIDRs, comma-separated) whose X-Forwarded-For names the chat page's client; others' is ignored", func(c *Config) *string { return &c.TrustedProxies }},
	{"AFTERSALES_SMS_PROVIDER", "sms-provider", "sends owners' verification codes: aliyun, tencent, or log (writes them to the log; the demo's default, refused by serve without AFTERSALES_SMS_ALLOW_LOG); empty: SMS off", func(c *Config) *string { return &c.SMSProvider }},
	{"AFTERSALES_SMS_ALLOW_LOG", "sms-allow-log", "true lets serve use the log provider (development only)", func(c *Config) *string { return &c.SMSAllowLog }},
	{"AFTERSALES_SMS_ACCESS_KEY_ID", "sms-access-key-id", "the provider's AccessKey ID (Tencent: SecretId)", func(c *Config) *string { return &c.SMSAccessKeyID }},
	{"AFTERSALES_SMS_ACCESS_KEY_SECRET", "sms-access-key-secret", "the provider's AccessKey secret (Tencent: SecretKey) (secret)", func(c *Config) *string { return &c.SMSAccessKeySecret }},
	{"AFTERSALES_SMS_SIGN_NAME", "sms-sign-name", "the approved SMS signature (签名)", func(c *Config) *string { return &c.SMSSignName }},
	{"AFTERSALES_SMS_TEMPLATE_ID", "sms-template-id", "the approved template: Alibaba's TemplateCode with ${code}, Tencent's TemplateId with {1}", func(c *Config) *string { return &c.SMSTemplateID }},
	{"AFTERSALES_SMS_SDK_APP_ID", "sms-sdk-app-id", "Tencent Cloud's SmsSdkAppId", func(c *Config) *string { return &c.SMSSDKAppID }},
	{"AFTERSALES_SMS_REGION", "sms-region", "Tencent Cloud's region (default ap-guangzhou)", func(c *Config) *string { return &c.SMSRegion }},
	{"AFTERSALES_SMS_API_URL", "sms-api-url", "the provider's API base, for an egress proxy", func(c *Config) *string { return &c.SMSAPIURL }},
	{"AFTERSALES_SMS_URGENT_TEMPLATE_ID", "sms-urgent-template-id", "the approved notification template texted to the engineer of an urgent work order, variables number, address, problem (Alibaba ${number}…, Tencent {1}{2}{3}); with _NOT_TAKEN_TEMPLATE_ID it turns urgent texts on", func(c *Config) *string { return &c.SMSUrgentTemplateID }},
	{"AFTERSALES_SMS_NOT_TAKEN_TEMPLATE_ID", "sms-not-taken-template-id", "the approved notification template texted to the duty supervisor when an urgent work order is not taken in time; the same variables", func(c *Config) *string { return &c.SMSNotTakenTemplateID }},
	{"AFTERSALES_VOICE_URGENT_TEMPLATE_ID", "voice-urgent-template-id", "the approved voice template (Alibaba TtsCode, Tencent voice TemplateId) read out to the engineer of an urgent work order, variables number, address, problem; with _NOT_TAKEN_TEMPLATE_ID it turns urgent calls on", func(c *Config) *string { return &c.VoiceUrgentTemplateID }},
	{"AFTERSALES_VOICE_NOT_TAKEN_TEMPLATE_ID", "voice-not-taken-template-id", "the approved voice template read out to the duty supervisor when an urgent work order is not taken in time", func(c *Config) *string { return &c.VoiceNotTakenTemplateID }},
	{"AFTERSALES_VOICE_SDK_APP_ID", "voice-sdk-app-id", "Tencent Cloud's VoiceSdkAppid (the voice application, not the SMS one)", func(c *Config) *string { return &c.VoiceSDKAppID }},
	{"AFTERSALES_VOICE_SHOW_NUMBER", "voice-show-number", "Alibaba Cloud's CalledShowNumber, a number bought for dedicated mode; empty: public mode, which does not call out of business hours", func(c *Config) *string { return &c.VoiceShowNumber }},
	{"AFTERSALES_VOICE_API_URL", "voice-api-url", "the voice API's base, for an egress proxy", func(c *Config) *string { return &c.VoiceAPIURL }},
	{"AFTERSALES_CLASSIFY_RULES", "classify-rules", "staff classification rules (JSON in the format of classify/rules.json): where one matches, it decides the category over the model, and its signals raise the urgency", func(c *Config) *string { return &c.RulesFile }},
	{"AFTERSALES_CLASSIFY_MODEL", "classify-model", "a classification model from `aftersales classify train`, replacing the built-in one", func(c *Config) *string { return &c.ModelFile }},
	{"AFTERSALES_CLASSIFY_LLM_URL", "classify-llm-url", "an OpenAI-compatible chat-completions API (https://api.deepseek.com/v1, a self-hosted model) that classifies owners' words first; the built-in model answers when it is slow, fails or answers nonsense; empty: the model alone", func(c *Config) *string { return &c.LLMURL }},
	{"AFTERSALES_CLASSIFY_LLM_KEY", "classify-llm-key", "the API key of that endpoint (secret)", func(c *Config) *string { return &c.LLMKey }},
	{"AFTERSALES_CLASSIFY_LLM_MODEL", "classify-llm-model", "the model to ask (deepseek-chat, qwen-plus…)", func(c *Config) *string { return &c.LLMModel }},
	{"AFTERSALES_CLASSIFY_LLM_TIMEOUT", "classify-llm-timeout", "how long to wait for its answer before the built-in model answers (4s)", func(c *Config) *string { return &c.LLMTimeout }},
	{"AFTERSALES_CHAT_COOKIE_KEY", "chat-cookie-key", "signs the chat page's visitor cookies (at least 32 characters; secret); default: a key made once and kept in the data dir, which every instance must share", func(c *Config) *string { return &c.ChatCookieKey }},
	{"AFTERSALES_API_TOKEN", "api-token", "bearer token of the staff API under /api/v1 (at least 24 characters; secret); the API is off without it", func(c *Config) *string { return &c.APIToken }},
	{"AFTERSALES_PARTY_TOKENS", "party-tokens", "read-only API tokens of responsible parties, CODE:token,CODE:token (each token at least 24 characters; secret): a party sees only its own cases", func(c *Config) *string { return &c.PartyTokens }},
	{"AFTERSALES_SURVEY_TTL", "survey-ttl", "how long the satisfaction survey waits for the owner's answer before the case closes without it (72h, 3d)", func(c *Config) *string { return &c.SurveyTTL }},
	{"AFTERSALES_ANSWER_WAIT", "answer-wait", "how long staff's answer (答复) to a consultation or complaint waits for the owner to say whether it settles the matter; then it is taken as settled and the case closes (7d)", func(c *Config) *string { return &c.AnswerWait }},
	{"AFTERSALES_URGENT_ACCEPT_WITHIN", "urgent-accept-within", "an urgent work order not taken within this is escalated to the supervisor (30m)", func(c *Config) *string { return &c.AcceptWithin }},
	{"AFTERSALES_RETURN_VISITS", "return-visits", "when the return visit (回访) asks whether the repair held, by subcategory: leak:14d,crack:30d,*:30d; 0 turns one off", func(c *Config) *string { return &c.ReturnVisits }},
	{"AFTERSALES_SERVICE_HOURS", "service-hours", "when people answer the chats owners hand to them (人工), in the department's time zone: 08:30-18:00 (every day) or mon-fri 09:00-17:30; out of them owners are told when people answer next", func(c *Config) *string { return &c.ServiceHours }},
	{"AFTERSALES_HOTLINE", "hotline", "the service hotline (服务热线) owners are told to call in an emergency out of the service hours; none: they are told to report it in the chat, where urgent reports are handled around the clock", func(c *Config) *string { return &c.Hotline }},
	{"AFTERSALES_TELEGRAM_TOKEN", "telegram-token", "the Telegram bot's token from @BotFather; enables Telegram (secret)", func(c *Config) *string { return &c.TelegramToken }},
	{"AFTERSALES_TELEGRAM_API_URL", "telegram-api-url", "Bot API base URL (a proxy or a local Bot API server)", func(c *Config) *string { return &c.TelegramAPIURL }},
	{"AFTERSALES_PUBLIC_URL", "public-url", "the service's public base URL as staff reach it from their phones (https://aftersales.example.com): the supervisors' chat notices offer to open the case's page of the console under it; empty: no such button", func(c *Config) *string { return &c.PublicURL }},
	{"AFTERSALES_TELEGRAM_WEBHOOK_URL", "telegram-webhook-url", "public HTTPS URL of /telegram/webhook; webhook mode instead of long polling", func(c *Config) *string { return &c.TelegramWebhookURL }},
	{"AFTERSALES_TELEGRAM_WEBHOOK_SECRET", "telegram-webhook-secret", "secret token Telegram sends with every webhook call (1–256 of A–Z a–z 0–9 _ -)", func(c *Config) *string { return &c.TelegramWebhookSecret }},
}

// DefaultConfig returns the configuration a new user starts with: SQLite in
// ./data, listening on loopback port 8080.
func DefaultConfig() Config {
	return Config{
		Addr:       "127.0.0.1:8080",
		LogFormat:  "text",
		LogLevel:   "info",
		DataDir:    "data",
		CasePrefix: "SH",
		TimeZone:   "Asia/Shanghai",

		LimitMessages:        "30/1m",
		LimitCases:           "10/24h",
		LimitAddressMessages: "600/1m",
		LimitAddressCases:    "200/24h",

		SurveyTTL:    "72h",
		AnswerWait:   "7d",
		AcceptWithin: "30m",
		ReturnVisits: "leak:14d,plumbing:14d,*:30d",
		ServiceHours: "08:30-18:00",
		LLMTimeout:   "4s",
	}
}

// ConfigError names the variable whose value is wrong.
type ConfigError struct {
	Var    string
	Reason string
}

func (e *ConfigError) Error() string { return e.Var + ": " + e.Reason }

// LoadConfig reads the environment through getenv, then the flags in args,
// over DefaultConfig. It returns the remaining arguments.
func LoadConfig(name string, args []string, getenv func(string) string) (Config, []string, error) {
	cfg := DefaultConfig()
	for _, s := range settings {
		if v, ok := lookup(getenv, s.env); ok {
			*s.field(&cfg) = v
		}
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(discard{})
	for _, s := range settings {
		p := s.field(&cfg)
		fs.StringVar(p, s.flag, *p, s.help+" ("+s.env+")")
	}
	if err := fs.Parse(args); err != nil {
		return cfg, nil, fmt.Errorf("%w\n%s", err, usage())
	}
	return cfg, fs.Args(), nil
}

func lookup(getenv func(string) string, key string) (string, bool) {
	v := getenv(key)
	return strings.TrimSpace(v), v != ""
}

// errHelp is returned by LoadConfig for -h and -help.
var errHelp = flag.ErrHelp

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

var (
	prefixRE        = regexp.MustCompile(`^[A-Z][A-Z0-9]{0,7}$`)
	telegramTokenRE = regexp.MustCompile(`^[0-9]{3,20}:[A-Za-z0-9_-]{20,100}$`)
	webhookSecretRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
	wechatAppIDRE   = regexp.MustCompile(`^wx[0-9a-zA-Z]{16}$`)
	wechatTokenRE   = regexp.MustCompile(`^[A-Za-z0-9]{3,32}$`)
	wechatAESKeyRE  = regexp.MustCompile(`^[A-Za-z0-9]{43}$`)
)

// Validate checks every setting and fills derived defaults (the SQLite path
// under the data dir). Its errors are *ConfigError naming the variable.
func (c *Config) Validate() error {
	var errs []error
	bad := func(v, format string, args ...any) {
		errs = append(errs, &ConfigError{Var: v, Reason: fmt.Sprintf(format, args...)})
	}
	if host, port, err := net.SplitHostPort(c.Addr); err != nil {
		bad("AFTERSALES_ADDR", "%q is not host:port (%v)", c.Addr, err)
	} else if _, err := net.LookupPort("tcp", port); err != nil || (host != "" && strings.ContainsAny(host, " /")) {
		bad("AFTERSALES_ADDR", "%q has no valid port", c.Addr)
	}
	if strings.TrimSpace(c.DataDir) == "" {
		bad("AFTERSALES_DATA_DIR", "must not be empty")
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite:" + filepath.Join(c.DataDir, "aftersales.db")
	}
	switch kind, rest := databaseKind(c.DatabaseURL); kind {
	case "sqlite":
		if rest == "" {
			bad("AFTERSALES_DATABASE_URL", "sqlite: needs a file path, e.g. sqlite:data/aftersales.db")
		}
	case "postgres":
		if u, err := url.Parse(c.DatabaseURL); err != nil || u.Host == "" {
			bad("AFTERSALES_DATABASE_URL", "%s is not a postgres://user@host:5432/db URL", redactURL(c.DatabaseURL))
		}
	default:
		bad("AFTERSALES_DATABASE_URL", "%s: use sqlite:PATH or postgres://…", redactURL(c.DatabaseURL))
	}
	if c.RedisURL != "" {
		u, err := url.Parse(c.RedisURL)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			bad("AFTERSALES_REDIS_URL", "%s is not a redis://host:6379/0 URL", redactURL(c.RedisURL))
		}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("AFTERSALES_LOG_FORMAT", "%q: use text or json", c.LogFormat)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		bad("AFTERSALES_LOG_LEVEL", "%v", err)
	}
	if !prefixRE.MatchString(c.CasePrefix) {
		bad("AFTERSALES_CASE_PREFIX", "%q: use 1–8 capital letters and digits, starting with a letter", c.CasePrefix)
	}
	if c.APIToken != "" && (len(c.APIToken) < 24 || strings.ContainsAny(c.APIToken, " \t\r\n")) {
		bad("AFTERSALES_API_TOKEN", "must be at least 24 characters without spaces (e.g. openssl rand -hex 24)")
	}
	if c.ChatCookieKey != "" && len(c.ChatCookieKey) < web.CookieKeyBytes {
		bad("AFTERSALES_CHAT_COOKIE_KEY", "must be at least %d characters (e.g. openssl rand -hex 32)", web.CookieKeyBytes)
	}
	if d, err := parseDuration(c.SurveyTTL); err != nil || d <= 0 {
		bad("AFTERSALES_SURVEY_TTL", "%q: give a duration such as 72h or 3d", c.SurveyTTL)
	}
	if d, err := parseDuration(c.AnswerWait); err != nil || d <= 0 {
		bad("AFTERSALES_ANSWER_WAIT", "%q: give a duration such as 7d or 72h", c.AnswerWait)
	}
	if d, err := parseDuration(c.AcceptWithin); err != nil || d <= 0 {
		bad("AFTERSALES_URGENT_ACCEPT_WITHIN", "%q: give a duration such as 30m", c.AcceptWithin)
	}
	if _, _, err := c.returnVisits(); err != nil {
		bad("AFTERSALES_RETURN_VISITS", "%v", err)
	}
	if _, err := casework.ParseServiceHours(c.ServiceHours); err != nil {
		bad("AFTERSALES_SERVICE_HOURS", "%q: give HH:MM-HH:MM, with days before it if not every day: mon-fri 09:00-17:30", c.ServiceHours)
	}
	if len(c.Hotline) > 40 || strings.ContainsAny(c.Hotline, "\r\n\t") {
		bad("AFTERSALES_HOTLINE", "give a phone number such as 400-820-8820")
	}
	if _, err := c.partyTokens(); err != nil {
		bad("AFTERSALES_PARTY_TOKENS", "%v", err)
	} else if c.PartyTokens != "" && c.APIToken == "" {
		bad("AFTERSALES_PARTY_TOKENS", "needs AFTERSALES_API_TOKEN: the API is off without it")
	}
	for _, l := range []struct{ v, name string }{
		{c.LimitMessages, "AFTERSALES_LIMIT_MESSAGES"}, {c.LimitCases, "AFTERSALES_LIMIT_CASES"},
		{c.LimitAddressMessages, "AFTERSALES_LIMIT_ADDRESS_MESSAGES"}, {c.LimitAddressCases, "AFTERSALES_LIMIT_ADDRESS_CASES"},
	} {
		if _, err := bot.ParseLimit(l.v); err != nil {
			bad(l.name, "%v", err)
		}
	}
	if _, err := c.trustedProxies(); err != nil {
		bad("AFTERSALES_TRUSTED_PROXIES", "%v", err)
	}
	switch c.SMSProvider {
	case "", sms.ProviderLog:
	case sms.ProviderAliyun, sms.ProviderTencent:
		if err := c.smsConfig(time.Now, nil).Validate(); err != nil {
			bad("AFTERSALES_SMS_PROVIDER", "%s needs AFTERSALES_SMS_ACCESS_KEY_ID, _ACCESS_KEY_SECRET, _SIGN_NAME and _TEMPLATE_ID (Tencent also _SDK_APP_ID): %v", c.SMSProvider, err)
		}
	default:
		bad("AFTERSALES_SMS_PROVIDER", "%q: use aliyun, tencent or log", c.SMSProvider)
	}
	c.validatePhoneNotices(bad)
	if c.SMSAllowLog != "" && c.SMSAllowLog != "true" && c.SMSAllowLog != "false" {
		bad("AFTERSALES_SMS_ALLOW_LOG", "%q: use true or false", c.SMSAllowLog)
	}
	if c.TelegramToken != "" && !telegramTokenRE.MatchString(c.TelegramToken) {
		bad("AFTERSALES_TELEGRAM_TOKEN", "is not a bot token like 123456:ABC-DEF1234ghIkl")
	}
	if c.TelegramAPIURL != "" {
		if u, err := url.Parse(c.TelegramAPIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("AFTERSALES_TELEGRAM_API_URL", "%s is not an http(s) URL", redactURL(c.TelegramAPIURL))
		}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			bad("AFTERSALES_PUBLIC_URL", "%s is not a base URL such as https://aftersales.example.com", redactURL(c.PublicURL))
		}
	}
	if c.TelegramWebhookURL != "" {
		if u, err := url.Parse(c.TelegramWebhookURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("AFTERSALES_TELEGRAM_WEBHOOK_URL", "%s is not an https URL", redactURL(c.TelegramWebhookURL))
		}
		if !webhookSecretRE.MatchString(c.TelegramWebhookSecret) {
			bad("AFTERSALES_TELEGRAM_WEBHOOK_SECRET", "is required with a webhook: 1–256 of A–Z a–z 0–9 _ -")
		}
		if c.TelegramToken == "" {
			bad("AFTERSALES_TELEGRAM_TOKEN", "is required with a webhook URL")
		}
	}
	if c.WeChatAppID != "" {
		if !wechatAppIDRE.MatchString(c.WeChatAppID) {
			bad("AFTERSALES_WECHAT_APPID", "is not an AppID like wx1234567890abcdef")
		}
		if c.WeChatSecret == "" {
			bad("AFTERSALES_WECHAT_SECRET", "is required with an AppID")
		}
		if !wechatTokenRE.MatchString(c.WeChatToken) {
			bad("AFTERSALES_WECHAT_TOKEN", "is required with an AppID: 3–32 letters and digits")
		}
		if c.WeChatAESKey != "" && !wechatAESKeyRE.MatchString(c.WeChatAESKey) {
			bad("AFTERSALES_WECHAT_AES_KEY", "must be 43 letters and digits")
		}
		if c.WeChatAPIURL != "" {
			if u, err := url.Parse(c.WeChatAPIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				bad("AFTERSALES_WECHAT_API_URL", "%s is not an http(s) URL", redactURL(c.WeChatAPIURL))
			}
		}
	}
	if c.RulesFile != "" {
		if _, err := loadRules(c.RulesFile); err != nil {
			bad("AFTERSALES_CLASSIFY_RULES", "%v", err)
		}
	}
	if c.ModelFile != "" {
		if _, err := loadModel(c.ModelFile); err != nil {
			bad("AFTERSALES_CLASSIFY_MODEL", "%v", err)
		}
	}
	if c.LLMURL != "" {
		if u, err := url.Parse(c.LLMURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("AFTERSALES_CLASSIFY_LLM_URL", "%s is not an http(s) URL", redactURL(c.LLMURL))
		}
		if c.LLMModel == "" {
			bad("AFTERSALES_CLASSIFY_LLM_MODEL", "is needed with AFTERSALES_CLASSIFY_LLM_URL")
		}
	}
	if d, err := time.ParseDuration(c.LLMTimeout); err != nil || d <= 0 || d > time.Minute {
		bad("AFTERSALES_CLASSIFY_LLM_TIMEOUT", "%q is not a duration up to 1m such as 4s", c.LLMTimeout)
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil || c.TimeZone == "" {
		bad("AFTERSALES_TIMEZONE", "%q is not an IANA time zone such as Asia/Shanghai", c.TimeZone)
	}
	return errors.Join(errs...)
}

// databaseKind splits a database URL into its kind (sqlite, postgres or "")
// and, for sqlite, the path.
func databaseKind(u string) (kind, path string) {
	switch {
	case strings.HasPrefix(u, "sqlite://"):
		return "sqlite", strings.TrimPrefix(u, "sqlite://")
	case strings.HasPrefix(u, "sqlite:"):
		return "sqlite", strings.TrimPrefix(u, "sqlite:")
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return "postgres", ""
	}
	return "", ""
}

// redactURL hides the password of a URL so that it can be logged.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		if err != nil && strings.Contains(s, "@") {
			return "(unparseable URL)"
		}
		return s
	}
	return u.Redacted()
}

func usage() string {
	var b strings.Builder
	b.WriteString(`usage: aftersales [command] [flags]

commands:
  serve                       run the service (the default)
  demo                        run the service with the example project loaded
                              (on data/demo.db unless AFTERSALES_DATABASE_URL is set)
  migrate                     apply database migrations and exit
  import KIND FILE.csv        load units, owners, parties or routes from CSV
                              (all or nothing; re-import updates)
  healthcheck                 ask the running service for /healthz (for containers)
  user add NAME -role ROLE     add a console account (password on stdin); also
       [-project CODE] [-party CODE] [-display-name NAME]
  user list | user disable NAME
  roster import FILE.csv      load the supervisors' duty roster (值班表) of the projects
                              it names, replacing theirs (all or nothing)
  roster list [PROJECT]       print the duty roster
  classify                    read one text per line on stdin, print its category,
                              subcategory, urgency and confidence as JSON
  classify eval FILE.jsonl... score the classifier on labelled texts
  classify train CORPUS.jsonl...
                              train a classification model (-o FILE)

settings (environment variable, or the flag):
`)
	for _, s := range settings {
		fmt.Fprintf(&b, "  %-26s -%-14s %s\n", s.env, s.flag, s.help)
	}
	return b.String()
}

// partyTokens parses AFTERSALES_PARTY_TOKENS (CODE:token,CODE:token) into
// token → party code. Errors never quote a token.
func (c Config) partyTokens() (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(c.PartyTokens) == "" {
		return out, nil
	}
	for i, pair := range strings.Split(c.PartyTokens, ",") {
		code, token, ok := strings.Cut(strings.TrimSpace(pair), ":")
		switch {
		case !ok || code == "":
			return nil, fmt.Errorf("entry %d is not CODE:token", i+1)
		case len(token) < 24 || strings.ContainsAny(token, " \t\r\n"):
			return nil, fmt.Errorf("the token of %s must be at least 24 characters without spaces", code)
		case token == c.APIToken:
			return nil, fmt.Errorf("the token of %s is the staff token", code)
		}
		if _, dup := out[token]; dup {
			return nil, fmt.Errorf("the token of %s is given twice", code)
		}
		out[token] = code
	}
	return out, nil
}

// parseDuration reads a Go duration (90m, 72h) or whole days (14d).
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// returnVisits parses AFTERSALES_RETURN_VISITS (subcategory:delay,…, with
// * for the others) into the delays by subcategory and the default.
func (c Config) returnVisits() (map[casework.Subcategory]time.Duration, time.Duration, error) {
	out := map[casework.Subcategory]time.Duration{}
	def := time.Duration(0)
	for _, pair := range strings.Split(c.ReturnVisits, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		sub, delay, ok := strings.Cut(pair, ":")
		if !ok {
			return nil, 0, fmt.Errorf("%q is not subcategory:delay", pair)
		}
		d, err := parseDuration(delay)
		if err != nil || d < 0 {
			return nil, 0, fmt.Errorf("%q: the delay is not a duration such as 14d", pair)
		}
		if sub == "*" {
			def = d
			continue
		}
		known := false
		for _, subs := range casework.Subcategories {
			known = known || slices.Contains(subs, casework.Subcategory(sub))
		}
		if !known {
			return nil, 0, fmt.Errorf("%q: unknown subcategory %s", pair, sub)
		}
		out[casework.Subcategory(sub)] = d
	}
	return out, def, nil
}

// smsConfig is the SMS provider's configuration.
func (c *Config) smsConfig(now func() time.Time, logger *slog.Logger) sms.Config {
	return sms.Config{
		Provider: c.SMSProvider, AccessKeyID: c.SMSAccessKeyID, AccessKeySecret: c.SMSAccessKeySecret,
		SignName: c.SMSSignName, TemplateID: c.SMSTemplateID, SDKAppID: c.SMSSDKAppID, Region: c.SMSRegion,
		APIURL: c.SMSAPIURL, Logger: logger, NowFunc: now,
	}
}

// noticeMedia are the two ways an urgent notice reaches a phone, with the
// settings of each.
func (c *Config) noticeMedia() []noticeMedium {
	return []noticeMedium{
		{sms.MediumSMS, bot.SMS, "AFTERSALES_SMS", c.SMSUrgentTemplateID, c.SMSNotTakenTemplateID},
		{sms.MediumVoice, bot.Voice, "AFTERSALES_VOICE", c.VoiceUrgentTemplateID, c.VoiceNotTakenTemplateID},
	}
}

// noticeMedium is a medium of urgent notices as configured.
type noticeMedium struct {
	medium             string
	platform           bot.Platform
	prefix             string // of its settings' names
	urgent, notTakenID string
}

// on reports whether the medium's templates are set.
func (n noticeMedium) on() bool { return n.urgent != "" || n.notTakenID != "" }

// validatePhoneNotices checks the settings of urgent texts and calls: a
// medium needs both its templates and a real provider (the log provider
// needs none), Tencent's voice its VoiceSdkAppid.
func (c *Config) validatePhoneNotices(bad func(v, format string, args ...any)) {
	for _, n := range c.noticeMedia() {
		if !n.on() {
			continue
		}
		switch c.SMSProvider {
		case sms.ProviderAliyun, sms.ProviderTencent:
		case "":
			bad(n.prefix+"_URGENT_TEMPLATE_ID", "urgent notices by %s need AFTERSALES_SMS_PROVIDER (aliyun or tencent) and its keys", n.medium)
			continue
		default:
			continue // log: the templates are not used; an unknown provider is reported once
		}
		if n.urgent == "" {
			bad(n.prefix+"_URGENT_TEMPLATE_ID", "is required with %s_NOT_TAKEN_TEMPLATE_ID", n.prefix)
		}
		if n.notTakenID == "" {
			bad(n.prefix+"_NOT_TAKEN_TEMPLATE_ID", "is required with %s_URGENT_TEMPLATE_ID", n.prefix)
		}
	}
	if c.SMSProvider == sms.ProviderTencent && (c.VoiceUrgentTemplateID != "" || c.VoiceNotTakenTemplateID != "") && c.VoiceSDKAppID == "" {
		bad("AFTERSALES_VOICE_SDK_APP_ID", "Tencent Cloud's calls need the voice application's VoiceSdkAppid")
	}
	if c.VoiceAPIURL != "" {
		if u, err := url.Parse(c.VoiceAPIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("AFTERSALES_VOICE_API_URL", "%s is not an http(s) URL", redactURL(c.VoiceAPIURL))
		}
	}
}

// noticeConfig is the configuration of the provider's notifier for
// medium n: the SMS provider's account with the medium's templates.
func (c *Config) noticeConfig(n noticeMedium, now func() time.Time, logger *slog.Logger) sms.NotifyConfig {
	cfg := sms.NotifyConfig{
		Provider: c.SMSProvider, Medium: n.medium, AccessKeyID: c.SMSAccessKeyID, AccessKeySecret: c.SMSAccessKeySecret,
		Templates: map[string]string{lifecycle.NoticeUrgentOrder: n.urgent, lifecycle.NoticeNotTaken: n.notTakenID},
		Region:    c.SMSRegion, Logger: logger, NowFunc: now,
	}
	if n.medium == sms.MediumSMS {
		cfg.SignName, cfg.SDKAppID, cfg.APIURL = c.SMSSignName, c.SMSSDKAppID, c.SMSAPIURL
	} else {
		cfg.SDKAppID, cfg.ShowNumber, cfg.APIURL = c.VoiceSDKAppID, c.VoiceShowNumber, c.VoiceAPIURL
	}
	return cfg
}

// trustedProxies parses AFTERSALES_TRUSTED_PROXIES: CIDRs, or single
// addresses, comma-separated.
func (c *Config) trustedProxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(c.TrustedProxies, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or CIDR such as 10.0.0.0/8", f)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
