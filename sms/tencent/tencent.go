// Package tencent sends verification codes and notices through Tencent
// Cloud SMS (API 3.0, version 2021-01-11, action SendSms, host
// sms.tencentcloudapi.com: Sender, Notifier), and calls phones with voice
// notifications through Tencent Cloud's Voice Message Service (API 3.0,
// version 2020-09-02, action SendTtsVoice, host vms.tencentcloudapi.com:
// Caller), POSTing JSON signed with TC3-HMAC-SHA256.
//
// The signing rules follow Tencent Cloud's "Signature v3" (签名方法 v3,
// e.g. www.tencentcloud.com/document/product/267/37447):
//
//	CanonicalRequest = Method + "\n" + URI + "\n" + Query + "\n" +
//	                   CanonicalHeaders + "\n" + SignedHeaders + "\n" + hex(SHA256(payload))
//	StringToSign     = "TC3-HMAC-SHA256\n" + Timestamp + "\n" +
//	                   Date + "/" + Service + "/tc3_request\n" + hex(SHA256(CanonicalRequest))
//	SecretDate       = HMAC-SHA256("TC3" + SecretKey, Date)
//	SecretService    = HMAC-SHA256(SecretDate, Service)
//	SecretSigning    = HMAC-SHA256(SecretService, "tc3_request")
//	Signature        = hex(HMAC-SHA256(SecretSigning, StringToSign))
//
// where CanonicalHeaders are "name:value\n" for each signed header, names
// and values lower-cased and trimmed, sorted by name, and Date is the UTC
// date of Timestamp. The service refuses a timestamp more than five minutes
// from its clock.
package tencent

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/sms"
)

// DefaultURL is the SMS API endpoint.
const DefaultURL = "https://sms.tencentcloudapi.com/"

// DefaultRegion is used when sms.Config.Region is empty.
const DefaultRegion = "ap-guangzhou"

const (
	providerName = "tencent"
	service      = "sms"
	action       = "SendSms"
	apiVersion   = "2021-01-11"
	algorithm    = "TC3-HMAC-SHA256"
	contentType  = "application/json; charset=utf-8"
)

// Sender sends codes through Tencent Cloud SMS. It is safe for concurrent
// use.
type Sender struct {
	*conn
	sdkAppID   string
	signName   string
	templateID string
}

var _ sms.Sender = (*Sender)(nil)

// New returns a Sender for cfg; cfg.Provider is ignored. cfg.TemplateID is
// the TemplateId of a verification-code template with one variable {1}.
func New(cfg sms.Config) (*Sender, error) {
	cfg.Provider = sms.ProviderTencent
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c, err := newConn(cfg, DefaultURL)
	if err != nil {
		return nil, err
	}
	return &Sender{conn: c, sdkAppID: cfg.SDKAppID, signName: cfg.SignName, templateID: cfg.TemplateID}, nil
}

// conn is a signed connection to one of Tencent Cloud's API 3.0 services
// (sms, vms), which share the TC3-HMAC-SHA256 signature and the shape of
// their answers.
type conn struct {
	url       string
	host      string // as sent in the Host header, and signed
	path      string // canonical URI
	client    *http.Client
	logger    *slog.Logger
	now       func() time.Time
	secretID  string
	secretKey string
	region    string
}

// newConn returns a conn for cfg's keys and region, to cfg.APIURL or else
// defaultURL.
func newConn(cfg sms.Config, defaultURL string) (*conn, error) {
	raw := cfg.APIURL
	if raw == "" {
		raw = defaultURL
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("sms: tencent: APIURL: %w", err)
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	region := cfg.Region
	if region == "" {
		region = DefaultRegion
	}
	return &conn{
		url:       raw,
		host:      strings.ToLower(u.Host),
		path:      path,
		client:    cfg.HTTPClientOrDefault(),
		logger:    cfg.LoggerOrDiscard(),
		now:       cfg.NowFunc,
		secretID:  cfg.AccessKeyID,
		secretKey: cfg.AccessKeySecret,
		region:    region,
	}, nil
}

type request struct {
	PhoneNumberSet   []string
	SmsSdkAppID      string `json:"SmsSdkAppId"`
	SignName         string
	TemplateID       string `json:"TemplateId"`
	TemplateParamSet []string
}

type apiError struct {
	Code    string
	Message string
}

type sendStatus struct {
	SerialNo    string
	PhoneNumber string
	Code        string
	Message     string
}

// response is the part of every answer the conn reads: the error, if any,
// and the request's id.
type response struct {
	Response struct {
		Error     *apiError
		RequestID string `json:"RequestId"`
	}
}

// smsResponse is SendSms's answer.
type smsResponse struct {
	Response struct {
		SendStatusSet []sendStatus
	}
}

// SendCode sends code to phone (11 digits; sent as +86…). See sms.Sender
// for the errors.
func (s *Sender) SendCode(ctx context.Context, phone, code string) error {
	if err := sms.ValidatePhone(phone); err != nil {
		return err
	}
	if err := sms.ValidateCode(code); err != nil {
		return err
	}
	st, id, err := s.sendSms(ctx, phone, request{
		PhoneNumberSet:   []string{"+86" + phone},
		SmsSdkAppID:      s.sdkAppID,
		SignName:         s.signName,
		TemplateID:       s.templateID,
		TemplateParamSet: []string{code},
	})
	if err != nil {
		return err
	}
	s.logger.DebugContext(ctx, "sms code sent",
		"provider", providerName, "phone", casework.MaskPhone(phone),
		"request_id", id, "serial_no", st.SerialNo)
	return nil
}

// sendSms calls SendSms for the one number of req and returns its status,
// or the error of the request or of the number.
func (c *conn) sendSms(ctx context.Context, phone string, req request) (*sendStatus, string, error) {
	raw, id, err := c.do(ctx, phone, service, action, apiVersion, req, kindOf)
	if err != nil {
		return nil, id, err
	}
	var r smsResponse
	if err := json.Unmarshal(raw, &r); err != nil || len(r.Response.SendStatusSet) == 0 {
		return nil, id, &sms.Error{Provider: providerName, Status: http.StatusOK,
			Message: "answer has no SendStatusSet", RequestID: id, Kind: sms.KindTransient}
	}
	st := r.Response.SendStatusSet[0]
	if st.Code != "Ok" {
		return nil, id, c.fail(http.StatusOK, st.Code, st.Message, id, kindOf)
	}
	return &st, id, nil
}

// do signs and POSTs payload, as JSON, as action of version on the API of
// svc, and returns the answer and the request's id. An error in the answer
// is an *sms.Error whose Kind kind gives; phone, masked, names the
// recipient in a network error.
func (c *conn) do(ctx context.Context, phone, svc, act, version string, payload any, kind func(string) sms.Kind) ([]byte, string, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, "", fmt.Errorf("sms: tencent: encode request: %w", err)
	}
	timestamp := c.now().Unix()
	auth := authorization(c.secretID, c.secretKey, timestamp, svc, c.path,
		map[string]string{"content-type": contentType, "host": c.host, "x-tc-action": strings.ToLower(act)},
		body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, "", fmt.Errorf("sms: tencent: build request: %w", err)
	}
	req.Host = c.host
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-TC-Action", act)
	req.Header.Set("X-TC-Version", version)
	req.Header.Set("X-TC-Timestamp", strconv.FormatInt(timestamp, 10))
	req.Header.Set("X-TC-Region", c.region)
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("sms: tencent: %s to %s: %w", act, casework.MaskPhone(phone), err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, "", fmt.Errorf("sms: tencent: read answer (HTTP %d): %w", resp.StatusCode, err)
	}
	// API 3.0 answers 200 even for errors; anything else is a gateway's.
	var r response
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &r) != nil {
		return nil, "", &sms.Error{Provider: providerName, Status: resp.StatusCode,
			Message: "unexpected answer: " + http.StatusText(resp.StatusCode), Kind: sms.KindTransient}
	}
	id := r.Response.RequestID
	if e := r.Response.Error; e != nil {
		return nil, id, c.fail(resp.StatusCode, e.Code, e.Message, id, kind)
	}
	return raw, id, nil
}

func (c *conn) fail(status int, code, msg, requestID string, kind func(string) sms.Kind) error {
	if c.secretKey != "" {
		msg = strings.ReplaceAll(msg, c.secretKey, "[redacted]")
	}
	if r := []rune(msg); len(r) > 300 {
		msg = string(r[:300]) + "…"
	}
	return &sms.Error{Provider: providerName, Status: status, Code: code,
		Message: msg, RequestID: requestID, Kind: kind(code)}
}

// kindOf maps a Tencent Cloud error or send-status code to a Kind. Codes
// from the common error list and the SMS product's (tencentcloud-sdk-go
// sms/v20210111/errors.go). The rule: limits that clear by themselves within
// a day are KindRateLimited; anything an operator must fix is KindConfig.
func kindOf(code string) sms.Kind {
	switch code {
	case "LimitExceeded.PhoneNumberDailyLimit",
		"LimitExceeded.PhoneNumberOneHourLimit",
		"LimitExceeded.PhoneNumberThirtySecondLimit",
		"LimitExceeded.PhoneNumberSameContentDailyLimit",
		"LimitExceeded.DeliveryFrequencyLimit",
		"LimitExceeded.AppDailyLimit", // the app's daily quota set in the console
		"LimitExceeded.DailyLimit":
		return sms.KindRateLimited
	case "InvalidParameterValue.IncorrectPhoneNumber",
		"FailedOperation.PhoneNumberInBlacklist": // the number opted out: we cannot reach it
		return sms.KindInvalidPhone
	case "FailedOperation.TemplateIncorrectOrUnapproved",
		"FailedOperation.SignatureIncorrectOrUnapproved",
		"FailedOperation.InsufficientBalanceInSmsPackage",
		"FailedOperation.MissingSignatureList",
		"FailedOperation.MissingTemplateList",
		"InvalidParameterValue.SdkAppIdNotExist",
		"InvalidParameterValue.TemplateParameterFormatError",
		"InvalidParameterValue.TemplateParameterLengthLimit",
		"InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
		"InvalidParameterValue.ContentLengthLimit",
		"FailedOperation.ContainSensitiveWord",
		"InvalidParameter.AppidAndBizId",
		"UnsupportedOperation.UnsuportedRegion": // sic
		return sms.KindConfig
	}
	if strings.HasPrefix(code, "AuthFailure.") || strings.HasPrefix(code, "UnauthorizedOperation.") {
		// SecretIdNotFound, SignatureFailure, SignatureExpire (our clock),
		// UnauthorizedOperation (CAM), SmsSdkAppIdVerifyFail, arrears, IP whitelist…
		return sms.KindConfig
	}
	return sms.KindTransient
}

// authorization returns the Authorization header for a POST of payload to
// uri of service svc ("sms", "vms"), signing headers (lower-case names →
// values), with the credential scope's date taken from timestamp in UTC.
func authorization(secretID, secretKey string, timestamp int64, svc, uri string, headers map[string]string, payload []byte) string {
	canonical, signed := canonicalRequest(http.MethodPost, uri, "", headers, payload)
	date := time.Unix(timestamp, 0).UTC().Format(time.DateOnly)
	scope := date + "/" + svc + "/tc3_request"
	sig := signature(secretKey, date, svc, stringToSign(timestamp, scope, canonical))
	return algorithm + " Credential=" + secretID + "/" + scope +
		", SignedHeaders=" + signed + ", Signature=" + sig
}

// canonicalRequest builds the canonical request and the SignedHeaders list.
func canonicalRequest(method, uri, query string, headers map[string]string, payload []byte) (canonical, signedHeaders string) {
	names := make([]string, 0, len(headers))
	for name := range headers {
		names = append(names, strings.ToLower(strings.TrimSpace(name)))
	}
	sort.Strings(names)
	lower := make(map[string]string, len(headers))
	for name, value := range headers {
		lower[strings.ToLower(strings.TrimSpace(name))] = strings.ToLower(strings.TrimSpace(value))
	}
	var h strings.Builder
	for _, name := range names {
		h.WriteString(name + ":" + lower[name] + "\n")
	}
	signedHeaders = strings.Join(names, ";")
	canonical = method + "\n" + uri + "\n" + query + "\n" + h.String() + "\n" +
		signedHeaders + "\n" + sha256Hex(payload)
	return canonical, signedHeaders
}

// stringToSign builds the TC3 string to sign.
func stringToSign(timestamp int64, scope, canonicalRequest string) string {
	return algorithm + "\n" + strconv.FormatInt(timestamp, 10) + "\n" + scope + "\n" +
		sha256Hex([]byte(canonicalRequest))
}

// signature derives the signing key from secretKey, date and service and
// signs stringToSign with it.
func signature(secretKey, date, service, stringToSign string) string {
	secretDate := hmacSHA256([]byte("TC3"+secretKey), date)
	secretService := hmacSHA256(secretDate, service)
	secretSigning := hmacSHA256(secretService, "tc3_request")
	return hex.EncodeToString(hmacSHA256(secretSigning, stringToSign))
}

func hmacSHA256(key []byte, msg string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msg))
	return mac.Sum(nil)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
