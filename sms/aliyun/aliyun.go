// Package aliyun sends verification codes and notices through Alibaba Cloud
// SMS (Dysmsapi, API version 2017-05-25, action SendSms: Sender, Notifier),
// and calls phones with voice notifications through Alibaba Cloud Voice
// Messaging (Dyvmsapi, API version 2017-05-25, action SingleCallByTts:
// Caller), over their HTTP RPC APIs, both signed with the RPC signature v1
// (HMAC-SHA1).
//
// The signing rules follow Alibaba Cloud's "Signature mechanism" (签名机制)
// for RPC APIs (help.aliyun.com/document_detail/101343.html for SMS,
// 28839.html in general): sort every parameter but Signature by name,
// percent-encode names and values per RFC 3986 (only A-Z a-z 0-9 - _ . ~ stay
// literal; space is %20), join them as k=v&k=v, then
//
//	StringToSign = HTTPMethod + "&" + percentEncode("/") + "&" + percentEncode(canonicalized)
//	Signature    = Base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign))
//
// Requests are POSTed as a form, so that the phone number and the code stay
// out of URLs (and proxy logs); the service signs a POST exactly as a GET.
package aliyun

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/sms"
)

// DefaultURL is the Dysmsapi endpoint.
const DefaultURL = "https://dysmsapi.aliyuncs.com/"

const (
	providerName = "aliyun"
	apiVersion   = "2017-05-25"
	timeFormat   = "2006-01-02T15:04:05Z" // ISO 8601, UTC
)

// Sender sends codes through Alibaba Cloud SMS. It is safe for concurrent
// use.
type Sender struct {
	*conn
	signName     string
	templateCode string
}

var _ sms.Sender = (*Sender)(nil)

// New returns a Sender for cfg; cfg.Provider is ignored. cfg.TemplateID is
// the TemplateCode of a verification-code template with one variable
// ${code}.
func New(cfg sms.Config) (*Sender, error) {
	cfg.Provider = sms.ProviderAliyun
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Sender{conn: newConn(cfg, DefaultURL), signName: cfg.SignName, templateCode: cfg.TemplateID}, nil
}

// conn is a signed connection to one of Alibaba Cloud's communication APIs
// (Dysmsapi, Dyvmsapi), which share the RPC signature, the API version and
// the shape of their answers.
type conn struct {
	url         string
	client      *http.Client
	logger      *slog.Logger
	now         func() time.Time
	accessKeyID string
	secret      string
}

// newConn returns a conn for cfg's keys, to cfg.APIURL or else defaultURL.
func newConn(cfg sms.Config, defaultURL string) *conn {
	u := cfg.APIURL
	if u == "" {
		u = defaultURL
	}
	return &conn{
		url:         u,
		client:      cfg.HTTPClientOrDefault(),
		logger:      cfg.LoggerOrDiscard(),
		now:         cfg.NowFunc,
		accessKeyID: cfg.AccessKeyID,
		secret:      cfg.AccessKeySecret,
	}
}

// response is the answer of SendSms and SingleCallByTts, and the shape of
// every RPC error.
type response struct {
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	RequestID string `json:"RequestId"`
	BizID     string `json:"BizId"`  // SendSms
	CallID    string `json:"CallId"` // SingleCallByTts
}

// SendCode sends code to phone (11 digits; Dysmsapi takes mainland numbers
// without a country code). See sms.Sender for the errors.
func (s *Sender) SendCode(ctx context.Context, phone, code string) error {
	if err := sms.ValidatePhone(phone); err != nil {
		return err
	}
	if err := sms.ValidateCode(code); err != nil {
		return err
	}
	param, err := json.Marshal(map[string]string{"code": code})
	if err != nil {
		return fmt.Errorf("sms: aliyun: encode TemplateParam: %w", err)
	}
	r, err := s.do(ctx, phone, kindOf, map[string]string{
		"Action":        "SendSms",
		"PhoneNumbers":  phone,
		"SignName":      s.signName,
		"TemplateCode":  s.templateCode,
		"TemplateParam": string(param),
	})
	if err != nil {
		return err
	}
	s.logger.DebugContext(ctx, "sms code sent",
		"provider", providerName, "phone", casework.MaskPhone(phone),
		"request_id", r.RequestID, "biz_id", r.BizID)
	return nil
}

// do signs and POSTs one call of the action params name, with the common
// parameters added, and decodes the answer. Anything but Code "OK" is an
// *sms.Error whose Kind kind gives; phone, masked, names the recipient in
// a network error.
func (c *conn) do(ctx context.Context, phone string, kind func(code string) sms.Kind, params map[string]string) (*response, error) {
	nonce, err := newNonce()
	if err != nil {
		return nil, err
	}
	common := map[string]string{
		"AccessKeyId":      c.accessKeyID,
		"Format":           "JSON",
		"RegionId":         "cn-hangzhou",
		"SignatureMethod":  "HMAC-SHA1",
		"SignatureNonce":   nonce,
		"SignatureVersion": "1.0",
		"Timestamp":        c.now().UTC().Format(timeFormat),
		"Version":          apiVersion,
	}
	for k, v := range params {
		common[k] = v
	}
	params = common
	signature := sign(c.secret, stringToSign(http.MethodPost, params))
	body := canonicalize(params) + "&Signature=" + percentEncode(signature)

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, strings.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("sms: aliyun: build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sms: aliyun: %s to %s: %w", params["Action"], casework.MaskPhone(phone), err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("sms: aliyun: read answer (HTTP %d): %w", resp.StatusCode, err)
	}

	var r response
	decodeErr := json.Unmarshal(raw, &r)
	if resp.StatusCode == http.StatusOK && decodeErr == nil && r.Code == "OK" {
		return &r, nil
	}
	e := &sms.Error{
		Provider:  providerName,
		Status:    resp.StatusCode,
		Code:      r.Code,
		Message:   c.clean(r.Message),
		RequestID: r.RequestID,
		Kind:      kind(r.Code),
	}
	switch {
	case resp.StatusCode >= 500:
		e.Kind = sms.KindTransient
	case decodeErr != nil || r.Code == "":
		e.Kind = sms.KindTransient
		e.Message = "unexpected answer: " + http.StatusText(resp.StatusCode)
	}
	return nil, e
}

// kindOf maps a Dysmsapi or RPC gateway error code to a Kind. Codes from
// Alibaba Cloud's "API错误码" list for SMS (help.aliyun.com/document_detail/
// 101346.html) and the RPC gateway's common errors. The rule: limits that
// clear by themselves within a day are KindRateLimited; anything an operator
// must fix is KindConfig.
func kindOf(code string) sms.Kind {
	switch code {
	case "isv.BUSINESS_LIMIT_CONTROL", // per-number flow control: 1/min, 5/h, 10/day by default
		"isv.DAY_LIMIT_CONTROL": // the account's daily quota set in the console
		return sms.KindRateLimited
	case "isv.MOBILE_NUMBER_ILLEGAL":
		return sms.KindInvalidPhone
	case "InvalidAccessKeyId.NotFound",
		"InvalidAccessKeyId.Inactive",
		"SignatureDoesNotMatch",
		"InvalidTimeStamp.Expired", // our clock is more than 15 minutes off
		"isv.SMS_TEMPLATE_ILLEGAL",
		"isv.SMS_SIGNATURE_ILLEGAL",
		"isv.SMS_SIGN_ILLEGAL",
		"isv.SIGN_STATE_ILLEGAL",
		"isv.SMS_SIGNATURE_SCENE_ILLEGAL",
		"isv.TEMPLATE_MISSING_PARAMETERS",
		"isv.INVALID_JSON_PARAM",
		"isv.INVALID_PARAMETERS",
		"isv.PARAM_LENGTH_LIMIT",      // a variable's value is too long for its type
		"isv.PARAM_NOT_SUPPORT_URL",   // a variable holds a URL
		"isv.BLACK_KEY_CONTROL_LIMIT", // a variable holds a forbidden word
		"isv.DOMESTIC_NUMBER_NOT_SUPPORTED",
		"isv.DENY_IP_RANGE",
		"isv.MONTH_LIMIT_CONTROL",
		"isp.RAM_PERMISSION_DENY",
		"isv.ACCOUNT_NOT_EXISTS",
		"isv.ACCOUNT_ABNORMAL",
		"isv.AMOUNT_NOT_ENOUGH",
		"isv.OUT_OF_SERVICE",
		"isv.PRODUCT_UN_SUBSCRIPT",
		"isv.PRODUCT_UNSUBSCRIBE":
		return sms.KindConfig
	}
	return sms.KindTransient
}

// clean makes a provider message safe for an error: on SignatureDoesNotMatch
// the service echoes its string to sign, which holds the phone number and
// the code, so that part is cut; the secret is never echoed, but is redacted
// should it ever be.
func (c *conn) clean(msg string) string {
	if i := strings.Index(msg, "string to sign"); i >= 0 {
		msg = strings.TrimSuffix(strings.TrimRight(msg[:i], " ."), " server") + " (the echoed string to sign is omitted)"
	}
	if c.secret != "" {
		msg = strings.ReplaceAll(msg, c.secret, "[redacted]")
	}
	if r := []rune(msg); len(r) > 300 {
		msg = string(r[:300]) + "…"
	}
	return msg
}

// stringToSign builds the RPC v1 string to sign from every parameter but
// Signature.
func stringToSign(method string, params map[string]string) string {
	return method + "&" + percentEncode("/") + "&" + percentEncode(canonicalize(params))
}

// canonicalize sorts params by name and joins them, percent-encoded, as
// k=v&k=v. Signature is left out.
func canonicalize(params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = percentEncode(k) + "=" + percentEncode(params[k])
	}
	return strings.Join(pairs, "&")
}

// sign is Base64(HMAC-SHA1(secret + "&", stringToSign)).
func sign(secret, stringToSign string) string {
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// percentEncode encodes the UTF-8 bytes of s per RFC 3986: only A-Z a-z 0-9
// and - _ . ~ stay literal; everything else, space included, becomes %XY
// with upper-case hex. (This is the documented java.net.URLEncoder result
// with "+"→"%20", "*"→"%2A" and "%7E"→"~".)
func percentEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) * 3)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0x0f])
		}
	}
	return b.String()
}

// newNonce returns a random SignatureNonce; the service refuses a nonce it
// saw in the last 15 minutes.
func newNonce() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("sms: aliyun: signature nonce: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
