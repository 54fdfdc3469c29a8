// Package sms sends one-time verification codes by text message, to prove
// that a chat user holds the phone number on a homeowner's record.
//
// The package holds the vocabulary every provider shares: the Sender
// interface, the errors a provider's failures are mapped to, the Config the
// service reads, and LogSender for development. The real providers live in
// sms/aliyun (Alibaba Cloud SMS) and sms/tencent (Tencent Cloud SMS);
// sms/provider builds the one a Config names, and sms/smstest has local fakes
// of both HTTP APIs.
//
// Phone numbers are mainland China mobile numbers as the product stores
// them: 11 digits, e.g. "13900000016". Adapters add the country code where
// the provider wants one. A number is never logged or put in an error in
// full: see casework.MaskPhone.
package sms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aftersales/aftersales/casework"
)

// Sender sends a verification code to a phone.
//
// SendCode returns nil once the provider has accepted the message. Otherwise
// the error matches (errors.Is) ErrRateLimited, ErrConfig or ErrInvalidPhone,
// or none of them, in which case the failure is transient (network, provider
// outage, an unexpected answer) and a later attempt may succeed. Provider
// failures are *Error values carrying the provider's own code.
type Sender interface {
	SendCode(ctx context.Context, phone, code string) error
}

// The errors a provider's failures are mapped to, so that the caller can
// answer the user politely and log clearly.
var (
	// ErrRateLimited means the provider's own flow control refused the
	// message: too many codes to this number (per minute, hour or day) or
	// the account's daily quota. It clears by itself; the user may try later.
	ErrRateLimited = errors.New("sms: rate limited by the provider")

	// ErrConfig means the provider refused the account or its settings: a
	// wrong key or secret, a rejected signature, a clock too far off, a sign
	// name or template not approved, no balance, no permission. Retrying does
	// not help; an operator must fix the configuration.
	ErrConfig = errors.New("sms: provider configuration rejected")

	// ErrInvalidPhone means the number is not one the provider can send to.
	ErrInvalidPhone = errors.New("sms: invalid phone number")
)

// Kind classifies a provider failure; each Kind but KindTransient matches one
// of the sentinel errors.
type Kind int

// The kinds of provider failure.
const (
	// KindTransient is any failure that is none of the others.
	KindTransient Kind = iota
	// KindRateLimited matches ErrRateLimited.
	KindRateLimited
	// KindConfig matches ErrConfig.
	KindConfig
	// KindInvalidPhone matches ErrInvalidPhone.
	KindInvalidPhone
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case KindRateLimited:
		return "rate limited"
	case KindConfig:
		return "configuration"
	case KindInvalidPhone:
		return "invalid phone"
	default:
		return "transient"
	}
}

// Error is a failure reported by a provider. It never holds the access key
// secret, the full phone number or the code.
type Error struct {
	Provider  string // "aliyun" or "tencent"
	Status    int    // HTTP status of the answer; 0 when there was none
	Code      string // the provider's error code, e.g. "isv.BUSINESS_LIMIT_CONTROL"; may be empty
	Message   string // the provider's message, trimmed of anything sensitive
	RequestID string // the provider's request id, for its support desk; may be empty
	Kind      Kind
}

// Error describes the failure with the provider, its code and message.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sms: %s", e.Provider)
	if e.Status != 0 && e.Status != http.StatusOK {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, ": %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	fmt.Fprintf(&b, " (%s", e.Kind)
	if e.RequestID != "" {
		fmt.Fprintf(&b, "; request %s", e.RequestID)
	}
	b.WriteString(")")
	return b.String()
}

// Is reports whether target is the sentinel error of e's Kind.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrRateLimited:
		return e.Kind == KindRateLimited
	case ErrConfig:
		return e.Kind == KindConfig
	case ErrInvalidPhone:
		return e.Kind == KindInvalidPhone
	}
	return false
}

// ValidatePhone checks that phone is an 11-digit mainland mobile number
// ("1" and ten digits). The error, which matches ErrInvalidPhone, shows the
// number masked.
func ValidatePhone(phone string) error {
	if len(phone) != 11 || phone[0] != '1' || !allDigits(phone) {
		return fmt.Errorf("sms: phone %q is not an 11-digit mainland mobile number: %w",
			casework.MaskPhone(phone), ErrInvalidPhone)
	}
	return nil
}

// ValidateCode checks that code is 4 to 6 ASCII digits, which is what both
// providers' verification-code templates accept. The error does not show the
// code.
func ValidateCode(code string) error {
	if len(code) < 4 || len(code) > 6 || !allDigits(code) {
		return errors.New("sms: a verification code must be 4 to 6 digits")
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// LogSender writes each code to a logger instead of sending it. It is for
// development and tests only: anyone who reads the log can pass the check.
type LogSender struct {
	logger *slog.Logger
}

// NewLogSender returns a LogSender that writes to logger, which must not be
// nil.
func NewLogSender(logger *slog.Logger) *LogSender {
	return &LogSender{logger: logger}
}

// SendCode logs the code at WARN level with the phone masked. It checks the
// phone and code as the real providers' adapters do.
func (s *LogSender) SendCode(ctx context.Context, phone, code string) error {
	if err := ValidatePhone(phone); err != nil {
		return err
	}
	if err := ValidateCode(code); err != nil {
		return err
	}
	s.logger.WarnContext(ctx, "verification code",
		"phone", casework.MaskPhone(phone),
		"code", code,
		"note", `SMS provider "log" writes codes to the log instead of sending them; not for production`)
	return nil
}

// Provider names accepted in Config.Provider.
const (
	ProviderLog     = "log"
	ProviderAliyun  = "aliyun"
	ProviderTencent = "tencent"
)

// Config chooses and configures the SMS provider. sms/provider.New builds a
// Sender from it.
type Config struct {
	// Provider is "log", "aliyun" or "tencent".
	Provider string

	// AccessKeyID is Alibaba Cloud's AccessKeyId or Tencent Cloud's SecretId.
	AccessKeyID string
	// AccessKeySecret is Alibaba Cloud's AccessKeySecret or Tencent Cloud's
	// SecretKey. It is never logged nor put in an error.
	AccessKeySecret string

	// SignName is the approved sign name (短信签名) shown as 【…】.
	SignName string
	// TemplateID is the approved verification-code template: Alibaba
	// Cloud's TemplateCode ("SMS_123456789", with one variable ${code}) or
	// Tencent Cloud's TemplateId ("1234567", with one variable {1}).
	TemplateID string

	// APIURL overrides the provider's endpoint (tests point it at a fake);
	// empty means the real one.
	APIURL string
	// Region is Tencent Cloud's X-TC-Region; empty means "ap-guangzhou".
	Region string
	// SDKAppID is Tencent Cloud's SmsSdkAppId, e.g. "1400006666".
	SDKAppID string

	// HTTPClient sends the requests; nil means a client with a 10 s timeout.
	HTTPClient *http.Client
	// Logger receives LogSender's codes (required for "log") and the real
	// providers' debug lines (optional).
	Logger *slog.Logger
	// NowFunc is the clock for request timestamps; required for "aliyun"
	// and "tencent", whose signatures include the time.
	NowFunc func() time.Time
}

// Validate checks that the fields the chosen provider needs are set and
// names the missing ones. The error matches ErrConfig.
func (c Config) Validate() error {
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
		need("SignName", c.SignName)
		need("TemplateID", c.TemplateID)
		if c.Provider == ProviderTencent {
			need("SDKAppID", c.SDKAppID)
		}
		if c.NowFunc == nil {
			missing = append(missing, "NowFunc")
		}
	case "":
		return fmt.Errorf("sms: config: Provider is required (log, aliyun or tencent): %w", ErrConfig)
	default:
		return fmt.Errorf("sms: config: unknown Provider %q (want log, aliyun or tencent): %w", c.Provider, ErrConfig)
	}
	if len(missing) > 0 {
		return fmt.Errorf("sms: config for provider %q: missing %s: %w",
			c.Provider, strings.Join(missing, ", "), ErrConfig)
	}
	if c.APIURL != "" {
		u, err := url.Parse(c.APIURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("sms: config: APIURL %q is not an absolute http(s) URL: %w", c.APIURL, ErrConfig)
		}
	}
	return nil
}

// LogValue shows the configuration without the secret, so that logging a
// Config is safe.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("provider", c.Provider),
		slog.String("access_key_id", c.AccessKeyID),
		slog.Bool("access_key_secret_set", c.AccessKeySecret != ""),
		slog.String("sign_name", c.SignName),
		slog.String("template_id", c.TemplateID),
		slog.String("api_url", c.APIURL),
		slog.String("region", c.Region),
		slog.String("sdk_app_id", c.SDKAppID),
	)
}

// String shows the configuration without the secret.
func (c Config) String() string {
	return c.LogValue().String()
}

// HTTPClientOrDefault returns c.HTTPClient, or a client with a 10 s timeout
// when it is nil.
func (c Config) HTTPClientOrDefault() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// LoggerOrDiscard returns c.Logger, or a logger that drops everything when
// it is nil.
func (c Config) LoggerOrDiscard() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}
