// Package smstest has in-process fakes of the two SMS providers' HTTP APIs
// and of their voice-notification APIs, for tests of sms/aliyun and
// sms/tencent and of anything that sends codes or notices or calls: an
// httptest server that speaks the provider's protocol closely enough for an
// unmodified adapter to run against it, plus knobs for the test.
//
//	clock := smstest.NewClock(time.Date(2031, 3, 14, 9, 0, 0, 0, time.UTC))
//	fake := smstest.NewAliyun(t, "LTAI-test", "secret", smstest.WithNowFunc(clock.Now))
//	fake.AddApprovedSignName("海景物业")
//	fake.AddApprovedTemplate("SMS_100001")
//	sender, _ := aliyun.New(sms.Config{APIURL: fake.URL(), NowFunc: clock.Now, …})
//	… send …
//	fake.Sent() // []Message{{Phone: "13900000016", Code: "123456", …}}
//
// # Faithful to the real services
//
// Each fake checks the request signature itself, recomputing it from the
// request as received with the secret it was given. The check is written
// here independently of the adapters' signers, so a bug in a signer fails
// the adapter's tests instead of being mirrored. Both checks are tested
// against the worked examples in the providers' documentation.
//
// Alibaba Cloud (NewAliyun), RPC API, action SendSms, version 2017-05-25:
//   - GET (query) or POST (form body, merged with the query), like the
//     service. Answers are JSON whatever Format asks for: {"RequestId",
//     "Code", "Message"[, "BizId"]}.
//   - A missing common parameter is 400 "Missing<Name>" ("<Name> is
//     mandatory for this action."); a Timestamp more than 15 minutes from
//     the fake's clock is 400 "InvalidTimeStamp.Expired"; an unknown
//     AccessKeyId is 404 "InvalidAccessKeyId.NotFound"; a wrong signature
//     is 400 "SignatureDoesNotMatch" whose message echoes the server's
//     string to sign, as the service does; a SignatureNonce seen in the last
//     15 minutes is 400 "SignatureNonceUsed".
//   - SendSms: a number that is not 1[3-9] and nine digits is
//     "isv.MOBILE_NUMBER_ILLEGAL"; a sign name or template not approved is
//     "isv.SMS_SIGNATURE_ILLEGAL" / "isv.SMS_TEMPLATE_ILLEGAL"; a
//     TemplateParam that is not a JSON object of strings is
//     "isv.INVALID_JSON_PARAM", one without "code" (every approved template
//     here is a verification template with the one variable ${code}) is
//     "isv.TEMPLATE_MISSING_PARAMETERS". These answer HTTP 200, like the
//     service.
//   - Default flow control for verification codes, per sign name and number:
//     1 a minute, 5 an hour, 10 a day (rolling windows here), answered
//     "isv.BUSINESS_LIMIT_CONTROL" ("触发分钟级流控Permits:1" …).
//
// Tencent Cloud (NewTencent), API 3.0, action SendSms, version 2021-01-11:
//   - POST with a JSON body only (the service also takes GET). Every answer
//     is HTTP 200 with {"Response": {…, "RequestId"}}; errors are
//     {"Response": {"Error": {"Code", "Message"}, "RequestId"}}.
//   - TC3-HMAC-SHA256: a malformed Authorization is
//     "AuthFailure.InvalidAuthorization"; X-TC-Timestamp more than 5 minutes
//     from the fake's clock is "AuthFailure.SignatureExpire"; an unknown
//     SecretId is "AuthFailure.SecretIdNotFound"; a wrong signature, a
//     credential date that is not the timestamp's UTC date, unsigned
//     content-type or host, or a scope service other than "sms" is
//     "AuthFailure.SignatureFailure". Then "InvalidAction" for another
//     X-TC-Action and "NoSuchVersion" for another X-TC-Version.
//   - SendSms: another SmsSdkAppId is
//     "UnauthorizedOperation.SmsSdkAppIdVerifyFail"; a sign name or template
//     not approved is "FailedOperation.SignatureIncorrectOrUnapproved" /
//     "FailedOperation.TemplateIncorrectOrUnapproved" (also for a
//     TemplateParamSet that is not one value); a parameter that is not 0–6
//     digits is "InvalidParameterValue.TemplateParameterFormatError". Per
//     number, in SendStatusSet: "Ok", "InvalidParameterValue.
//     IncorrectPhoneNumber" for a number that is not +86 (optional) and
//     1[3-9] and nine digits, or the default flow control per number: 1 in
//     30 s, 5 an hour, 10 a day ("LimitExceeded.PhoneNumberThirtySecondLimit",
//     "…OneHourLimit", "…DailyLimit").
//
// Notices (AddApprovedNoticeTemplate): on either SMS fake a notification
// template's variables must all be given — Alibaba: by name in
// TemplateParam, else "isv.TEMPLATE_MISSING_PARAMETERS"; Tencent: exactly as
// many values in TemplateParamSet, else
// "FailedOperation.TemplateIncorrectOrUnapproved" — and the values are
// recorded in Message.Params. Alibaba's flow control of notices is 50 a day
// per sign name, template and number.
//
// Alibaba Cloud voice (NewAliyunVoice), Dyvmsapi, action SingleCallByTts,
// version 2017-05-25, with the same RPC signature checks: a CalledNumber
// that is neither a mobile nor a landline with its area code is
// "isv.MOBILE_NUMBER_ILLEGAL"; a TtsCode not approved is
// "isv.TTS_TEMPLATE_ILLEGAL"; a CalledShowNumber not added
// (AddShowNumber) is "isv.DISPLAY_NUMBER_ILLEGAL"; a TtsParam that is not a
// JSON object of strings, or PlayTimes not 1–3, is "isv.INVALID_PARAMETERS";
// a variable missing is "isv.TEMPLATE_MISSING_PARAMETERS"; flow control per
// number is 1 a minute, 5 an hour, 20 a day ("isv.BUSINESS_LIMIT_CONTROL").
// Success answers {"RequestId", "Code": "OK", "Message", "CallId"}.
//
// Tencent Cloud voice (NewTencentVoice), Voice Message Service, action
// SendTtsVoice, version 2020-09-02, signed for service "vms" (another
// scope is "AuthFailure.SignatureFailure"): another VoiceSdkAppid is
// "UnauthorizedOperation.VoiceSdkAppidVerifyFail"; a CalledNumber that is
// not +86 and a mobile is "InvalidParameterValue.CalledNumberVerifyFail"; a
// template not approved, or another number of values, is
// "FailedOperation.TemplateIncorrectOrUnapproved"; PlayTimes not 1–3 is
// "FailedOperation.InvalidParameters"; flow control per number, 1 in 30 s,
// 5 an hour, 10 a day, is "LimitExceeded.DeliveryFrequencyLimit". All are
// the request's Error; success answers {"Response": {"SendStatus":
// {"CallId", "SessionContext"}, "RequestId"}}.
//
// Messages the providers do not publish are close paraphrases.
package smstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// Message is a text message the fake accepted for sending: a verification
// code, or a notice.
type Message struct {
	Phone      string // as the provider received it: "13900000016" (Alibaba), "+8613900000016" (Tencent)
	Code       string // a verification template's code variable
	SignName   string
	TemplateID string // TemplateCode (Alibaba) or TemplateId (Tencent)
	// Params are a notice template's values, in the order of the
	// template's variables (AddApprovedNoticeTemplate); nil for a code.
	Params []string
}

// Call is a voice notification the fake accepted.
type Call struct {
	Phone      string   // as the provider received it: "13900000016" (Alibaba), "+8613900000016" (Tencent)
	TemplateID string   // TtsCode (Alibaba) or TemplateId (Tencent)
	Params     []string // the template's values, in the order of its variables
	ShowNumber string   // Alibaba's CalledShowNumber; "" in public mode
	PlayTimes  int      // as asked, or the service's default
}

// Option configures a fake.
type Option func(*Server)

// WithNowFunc sets the fake's clock, against which it checks request
// timestamps and counts flow control; the default is time.Now.
func WithNowFunc(now func() time.Time) Option {
	return func(s *Server) { s.now = now }
}

// Clock is a settable clock for tests; pass its Now method as NowFunc to
// both the adapter and the fake.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Server is a fake SMS provider on an httptest.Server, closed when the test
// ends. Its methods are safe for concurrent use.
type Server struct {
	srv *httptest.Server
	now func() time.Time

	mu        sync.Mutex
	keys      map[string]string // key id → secret
	sdkAppID  string            // Tencent only: SmsSdkAppId, or VoiceSdkAppid for voice
	voice     bool              // a voice-notification API, not SMS
	signNames map[string]bool
	templates map[string]bool
	// noticeTemplates are the notification (SMS) or voice templates, by
	// ID, with their variables' names in order.
	noticeTemplates map[string][]string
	showNumbers     map[string]bool // Alibaba voice only
	calls           []Call
	failCodes       []string
	failStatus      []int
	nonces          map[string]time.Time // Alibaba only
	history         map[string][]time.Time
	sent            []Message
	requests        int
	seq             int
}

func newServer(tb testing.TB, handler func(*Server, http.ResponseWriter, *http.Request), opts []Option) *Server {
	tb.Helper()
	s := &Server{
		now:       time.Now,
		keys:      map[string]string{},
		signNames: map[string]bool{},
		templates: map[string]bool{},
		nonces:    map[string]time.Time{},
		history:   map[string][]time.Time{},

		noticeTemplates: map[string][]string{},
		showNumbers:     map[string]bool{},
	}
	for _, opt := range opts {
		opt(s)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.requests++
		s.seq++
		handler(s, w, r)
	}))
	tb.Cleanup(s.srv.Close)
	return s
}

// URL is the base URL to put in sms.Config.APIURL.
func (s *Server) URL() string { return s.srv.URL + "/" }

// Sent returns the codes accepted so far, oldest first.
func (s *Server) Sent() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

// Calls returns the voice notifications accepted so far, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Requests returns how many HTTP requests reached the fake.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// AddApprovedSignName approves a sign name; others are refused with the
// provider's code.
func (s *Server) AddApprovedSignName(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signNames[name] = true
}

// AddApprovedTemplate approves a verification-code template with one
// variable (${code} at Alibaba, {1} at Tencent); others are refused with the
// provider's code.
func (s *Server) AddApprovedTemplate(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.templates[id] = true
}

// AddApprovedNoticeTemplate approves a notification template — an SMS
// template of a text-message fake, a voice template of a voice fake — whose
// variables are vars, in the template's order: Alibaba Cloud's ${name} by
// name, Tencent Cloud's {1}, {2}… by position. A message must fill every
// one (Alibaba) or exactly as many (Tencent).
func (s *Server) AddApprovedNoticeTemplate(id string, vars ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noticeTemplates[id] = slices.Clone(vars)
}

// AddShowNumber makes number one of the account's numbers to call from
// (Alibaba Cloud voice, dedicated mode); a call showing another is refused
// with isv.DISPLAY_NUMBER_ILLEGAL.
func (s *Server) AddShowNumber(number string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.showNumbers[number] = true
}

// FailNext makes the next request that passes authentication fail with the
// provider error code, e.g. "isv.BUSINESS_LIMIT_CONTROL" or
// "LimitExceeded.PhoneNumberDailyLimit", in the shape the provider uses for
// it. Calls queue up, one per request.
func (s *Server) FailNext(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failCodes = append(s.failCodes, code)
}

// FailNextStatus makes the next request fail with HTTP status, before any
// check, as a failing gateway would. Calls queue up, one per request.
func (s *Server) FailNextStatus(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failStatus = append(s.failStatus, status)
}

func (s *Server) popCode() (string, bool) {
	if len(s.failCodes) == 0 {
		return "", false
	}
	code := s.failCodes[0]
	s.failCodes = s.failCodes[1:]
	return code, true
}

func (s *Server) popStatus() (int, bool) {
	if len(s.failStatus) == 0 {
		return 0, false
	}
	st := s.failStatus[0]
	s.failStatus = s.failStatus[1:]
	return st, true
}

func (s *Server) requestID() string {
	return fmt.Sprintf("5A1E%04X-0F0F-4C2B-9A7D-%012X", s.seq&0xffff, s.seq)
}

// flowLimit is one window of a provider's default flow control.
type flowLimit struct {
	window  time.Duration
	max     int
	code    string
	message string
}

// overLimit returns the first limit that one more message under key would
// break, or nil.
func (s *Server) overLimit(key string, now time.Time, limits []flowLimit) *flowLimit {
	for i, l := range limits {
		n := 0
		for _, t := range s.history[key] {
			if now.Sub(t) < l.window {
				n++
			}
		}
		if n >= l.max {
			return &limits[i]
		}
	}
	return nil
}

func (s *Server) record(key string, now time.Time, m Message) {
	s.history[key] = append(s.history[key], now)
	s.sent = append(s.sent, m)
}

func (s *Server) recordCall(key string, now time.Time, c Call) {
	s.history[key] = append(s.history[key], now)
	s.calls = append(s.calls, c)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// mainlandMobile reports whether n is 1[3-9] and nine digits.
func mainlandMobile(n string) bool {
	return len(n) == 11 && n[0] == '1' && n[1] >= '3' && n[1] <= '9' && isDigits(n)
}

// mainlandLandline reports whether n is a mainland landline with its area
// code: 0, not 00, and 9 to 11 more digits.
func mainlandLandline(n string) bool {
	return len(n) >= 10 && len(n) <= 12 && n[0] == '0' && n[1] != '0' && isDigits(n)
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
