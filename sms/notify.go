package sms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aftersales/aftersales/casework"
)

// Notifier sends notices to phones, for what cannot wait for a chat to be
// read: an urgent work order, one nobody took. There are two media behind
// the one interface: text messages (the providers' template SMS) and voice
// calls (their text-to-speech voice notifications), each its own Notifier,
// so that a caller, an outbox channel, treats them alike and either may be
// missing.
//
// Notify returns nil once the provider has accepted the notice. Otherwise
// the error matches (errors.Is) ErrRateLimited (the provider's flow control
// for the number or the account: a later attempt may pass), ErrConfig (the
// account, a template or a parameter was refused: an operator must act, and
// retrying does not help), ErrInvalidPhone (a number the provider cannot
// reach), or none of them: a transient failure (network, an outage, an
// unexpected answer). Provider failures are *Error values carrying the
// provider's own code; no error holds the full phone number.
type Notifier interface {
	Notify(ctx context.Context, phone string, n Notice) error
}

// Notice is what a Notifier sends: an approved template, named by its kind,
// filled with values.
type Notice struct {
	// Template names the kind of notice ("urgent_order", "not_taken");
	// NotifyConfig.Templates maps it to the provider's approved template.
	Template string
	// Params are the template's variables in the template's order: Alibaba
	// Cloud fills ${name} by name, Tencent Cloud {1}, {2}… by position.
	Params []Param
	// Text is the notice in words, for the log notifier; never sent.
	Text string
}

// Param is a named value of a template.
type Param struct {
	Name  string
	Value string
}

// MaxParamRunes is the longest value a Notice parameter may have. Both
// providers limit a variable's length (Alibaba Cloud by the variable's
// type, 35 characters for "other"; Tencent Cloud 12 characters for an
// individual's account) and refuse the whole message over it, so callers
// clip values (ClipParam) before they queue a notice.
const MaxParamRunes = 35

// ClipParam shortens s to MaxParamRunes characters, ending with "…" when it
// was cut.
func ClipParam(s string) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= MaxParamRunes {
		return string(r)
	}
	return string(r[:MaxParamRunes-1]) + "…"
}

// Validate checks that n names a template and that its parameters have
// names (letters, digits and underscores, starting with a letter, as
// Alibaba Cloud's ${name} wants them), values of at most MaxParamRunes
// characters, and no name twice. The error matches ErrConfig: a notice
// built wrong is not sent.
func (n Notice) Validate() error {
	if strings.TrimSpace(n.Template) == "" {
		return fmt.Errorf("sms: notice names no template: %w", ErrConfig)
	}
	seen := map[string]bool{}
	for _, p := range n.Params {
		if !paramName(p.Name) {
			return fmt.Errorf("sms: notice %s: parameter name %q is not letters, digits and _ starting with a letter: %w", n.Template, p.Name, ErrConfig)
		}
		if seen[p.Name] {
			return fmt.Errorf("sms: notice %s: parameter %s given twice: %w", n.Template, p.Name, ErrConfig)
		}
		seen[p.Name] = true
		if strings.TrimSpace(p.Value) == "" {
			return fmt.Errorf("sms: notice %s: parameter %s is empty: %w", n.Template, p.Name, ErrConfig)
		}
		if len([]rune(p.Value)) > MaxParamRunes {
			return fmt.Errorf("sms: notice %s: parameter %s is longer than %d characters: %w", n.Template, p.Name, MaxParamRunes, ErrConfig)
		}
	}
	return nil
}

func paramName(s string) bool {
	if s == "" || !('a' <= s[0] && s[0] <= 'z' || 'A' <= s[0] && s[0] <= 'Z') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Values returns the parameters' values in order, as Tencent Cloud's
// TemplateParamSet takes them.
func (n Notice) Values() []string {
	out := make([]string, len(n.Params))
	for i, p := range n.Params {
		out[i] = p.Value
	}
	return out
}

// JSON returns the parameters as a JSON object of strings, as Alibaba
// Cloud's TemplateParam and TtsParam take them; "" when there are none.
func (n Notice) JSON() string {
	if len(n.Params) == 0 {
		return ""
	}
	m := make(map[string]string, len(n.Params))
	for _, p := range n.Params {
		m[p.Name] = p.Value
	}
	raw, _ := json.Marshal(m) // a map of strings: cannot fail
	return string(raw)
}

// ValidateCallee checks that phone is a number a voice call can reach: a
// mainland mobile (11 digits) or a mainland landline with its area code
// ("021-61234567", "02161234567"). It returns the number as digits only.
// The error, which matches ErrInvalidPhone, shows the number masked.
func ValidateCallee(phone string) (string, error) {
	digits := strings.ReplaceAll(phone, "-", "")
	if ValidatePhone(digits) == nil {
		return digits, nil
	}
	if len(digits) >= 10 && len(digits) <= 12 && digits[0] == '0' && digits[1] != '0' && allDigits(digits) {
		return digits, nil
	}
	return "", fmt.Errorf("sms: phone %q is neither a mainland mobile nor a landline with its area code: %w",
		casework.MaskPhone(phone), ErrInvalidPhone)
}

// The media a Notifier sends by.
const (
	MediumSMS   = "sms"   // template text messages
	MediumVoice = "voice" // text-to-speech voice notifications
)

// NotifyConfig chooses and configures a Notifier: one provider, one medium.
// sms/provider.NewNotifier builds it.
type NotifyConfig struct {
	// Provider is "log", "aliyun" or "tencent".
	Provider string
	// Medium is MediumSMS or MediumVoice.
	Medium string

	// AccessKeyID and AccessKeySecret are the account's keys, as in Config:
	// one Alibaba Cloud AccessKey, or one Tencent Cloud SecretId/SecretKey,
	// serves both SMS and voice. The secret is never logged nor put in an
	// error.
	AccessKeyID     string
	AccessKeySecret string

	// SignName is the approved SMS signature (短信签名); SMS only.
	SignName string
	// Templates maps each kind of notice (Notice.Template) to the
	// provider's approved template: for SMS, Alibaba Cloud's TemplateCode
	// ("SMS_123456789") or Tencent Cloud's TemplateId; for voice, Alibaba
	// Cloud's TtsCode ("TTS_123456789") or Tencent Cloud's voice TemplateId.
	// A notice of a kind not listed is refused with ErrConfig.
	Templates map[string]string
	// SDKAppID is Tencent Cloud's application: SmsSdkAppId for SMS,
	// VoiceSdkAppid for voice (two different applications).
	SDKAppID string
	// ShowNumber is, for Alibaba Cloud voice, the CalledShowNumber: a
	// number bought for dedicated mode (专属模式); empty is public mode (公共
	// 模式), which the provider does not call out of business hours.
	ShowNumber string
	// PlayTimes is how often a voice notice is played in the call, 1–3;
	// 0 means 2.
	PlayTimes int

	// APIURL overrides the endpoint (a proxy; tests point it at a fake);
	// empty means the provider's for the medium.
	APIURL string
	// Region is Tencent Cloud's X-TC-Region; empty means "ap-guangzhou".
	Region string

	// HTTPClient sends the requests; nil means a client with a 10 s timeout.
	HTTPClient *http.Client
	// Logger receives the log notifier's notices (required for "log") and
	// the providers' debug lines.
	Logger *slog.Logger
	// NowFunc is the clock for request timestamps; required for "aliyun"
	// and "tencent".
	NowFunc func() time.Time
}

// As checks cfg for provider's notifier of medium — the provider set, the
// medium the one asked for, the rest as Validate checks it — and returns it
// with the provider set. The error matches ErrConfig.
func (c NotifyConfig) As(provider, medium string) (NotifyConfig, error) {
	c.Provider = provider
	if err := c.Validate(); err != nil {
		return c, err
	}
	if c.Medium != medium {
		return c, fmt.Errorf("sms: %s: a %s notifier does not send %s: %w", provider, medium, c.Medium, ErrConfig)
	}
	return c, nil
}

// Validate checks that the fields the provider and medium need are set and
// names the missing ones. The error matches ErrConfig.
func (c NotifyConfig) Validate() error {
	if c.Medium != MediumSMS && c.Medium != MediumVoice {
		return fmt.Errorf("sms: notify config: Medium %q is neither sms nor voice: %w", c.Medium, ErrConfig)
	}
	var missing []string
	need := func(name, value string) {
		if strings.TrimSpace(value) == "" {
			missing = append(missing, name)
		}
	}
	switch c.Provider {
	case ProviderLog:
		if c.Logger == nil {
			missing = append(missing, "Logger")
		}
	case ProviderAliyun, ProviderTencent:
		need("AccessKeyID", c.AccessKeyID)
		need("AccessKeySecret", c.AccessKeySecret)
		if c.Medium == MediumSMS {
			need("SignName", c.SignName)
		}
		if c.Provider == ProviderTencent {
			need("SDKAppID", c.SDKAppID)
		}
		if len(c.Templates) == 0 {
			missing = append(missing, "Templates")
		}
		for kind, id := range c.Templates {
			if strings.TrimSpace(kind) == "" || strings.TrimSpace(id) == "" {
				return fmt.Errorf("sms: notify config: Templates has an empty kind or template (%q: %q): %w", kind, id, ErrConfig)
			}
		}
		if c.NowFunc == nil {
			missing = append(missing, "NowFunc")
		}
	case "":
		return fmt.Errorf("sms: notify config: Provider is required (log, aliyun or tencent): %w", ErrConfig)
	default:
		return fmt.Errorf("sms: notify config: unknown Provider %q (want log, aliyun or tencent): %w", c.Provider, ErrConfig)
	}
	if len(missing) > 0 {
		return fmt.Errorf("sms: notify config for %s by %q: missing %s: %w",
			c.Medium, c.Provider, strings.Join(missing, ", "), ErrConfig)
	}
	if c.PlayTimes < 0 || c.PlayTimes > 3 {
		return fmt.Errorf("sms: notify config: PlayTimes %d is not 1–3 (0: 2): %w", c.PlayTimes, ErrConfig)
	}
	if c.APIURL != "" {
		u, err := url.Parse(c.APIURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("sms: notify config: APIURL %q is not an absolute http(s) URL: %w", c.APIURL, ErrConfig)
		}
	}
	return nil
}

// PlayTimesOrDefault returns PlayTimes, or 2 when it is 0.
func (c NotifyConfig) PlayTimesOrDefault() int {
	if c.PlayTimes == 0 {
		return 2
	}
	return c.PlayTimes
}

// Template returns the provider's template for a notice's kind, or an
// error matching ErrConfig when none is configured.
func (c NotifyConfig) Template(kind string) (string, error) {
	id, ok := c.Templates[kind]
	if !ok {
		return "", fmt.Errorf("sms: no %s template is configured for notices of kind %q: %w", c.Medium, kind, ErrConfig)
	}
	return id, nil
}

// LogValue shows the configuration without the secret.
func (c NotifyConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("provider", c.Provider),
		slog.String("medium", c.Medium),
		slog.String("access_key_id", c.AccessKeyID),
		slog.Bool("access_key_secret_set", c.AccessKeySecret != ""),
		slog.String("sign_name", c.SignName),
		slog.Any("templates", c.Templates),
		slog.String("sdk_app_id", c.SDKAppID),
		slog.String("show_number", c.ShowNumber),
		slog.String("api_url", c.APIURL),
		slog.String("region", c.Region),
	)
}

// String shows the configuration without the secret.
func (c NotifyConfig) String() string { return c.LogValue().String() }

// Common returns the fields NotifyConfig shares with Config (keys, URL,
// region, client, logger, clock), for the helpers the adapters share.
func (c NotifyConfig) Common() Config {
	return Config{
		Provider: c.Provider, AccessKeyID: c.AccessKeyID, AccessKeySecret: c.AccessKeySecret,
		SignName: c.SignName, SDKAppID: c.SDKAppID, APIURL: c.APIURL, Region: c.Region,
		HTTPClient: c.HTTPClient, Logger: c.Logger, NowFunc: c.NowFunc,
	}
}

// LogNotifier writes each notice to a logger instead of sending it, for
// development and the demo. It checks the phone and the notice as the real
// providers' adapters do.
type LogNotifier struct {
	logger *slog.Logger
	medium string
}

var _ Notifier = (*LogNotifier)(nil)

// NewLogNotifier returns a LogNotifier for medium (MediumSMS or
// MediumVoice) that writes to logger, which must not be nil.
func NewLogNotifier(logger *slog.Logger, medium string) *LogNotifier {
	return &LogNotifier{logger: logger, medium: medium}
}

// Notify logs the notice at WARN level with the phone masked: a text
// message needs a mainland mobile number, a call a mobile or a landline.
func (l *LogNotifier) Notify(ctx context.Context, phone string, n Notice) error {
	var err error
	if l.medium == MediumVoice {
		_, err = ValidateCallee(phone)
	} else {
		err = ValidatePhone(phone)
	}
	if err != nil {
		return err
	}
	if err := n.Validate(); err != nil {
		return err
	}
	l.logger.WarnContext(ctx, "phone notice",
		"medium", l.medium,
		"phone", casework.MaskPhone(phone),
		"template", n.Template,
		"text", n.Text,
		"note", `provider "log" writes notices to the log instead of sending them or calling; not for production`)
	return nil
}

// ErrNotConfigured is matched by the errors of a notice for a medium that
// has no provider configured; it also matches ErrConfig.
var ErrNotConfigured = fmt.Errorf("no provider is configured for this medium: %w", ErrConfig)

// Off is a Notifier for a medium the operator left unconfigured: it sends
// nothing and refuses every notice with an error that says which setting is
// missing, so that the refusal shows where the notice was queued.
type Off struct {
	// Why names the missing setting, e.g. "set AFTERSALES_VOICE_URGENT_TEMPLATE_ID".
	Why string
}

// Notify refuses n.
func (o Off) Notify(context.Context, string, Notice) error {
	return fmt.Errorf("sms: %s: %w", o.Why, ErrNotConfigured)
}

// IsPermanent reports whether err is a refusal that no retry cures: an
// invalid number, or the account, a template or a parameter refused.
// Rate limits and transient failures are not.
func IsPermanent(err error) bool {
	return errors.Is(err, ErrInvalidPhone) || errors.Is(err, ErrConfig)
}
