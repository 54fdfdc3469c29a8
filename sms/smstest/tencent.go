package smstest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const tencentSkew = 5 * time.Minute

var tencentFlow = []flowLimit{
	{30 * time.Second, 1, "LimitExceeded.PhoneNumberThirtySecondLimit",
		"the number of SMS messages sent from a single mobile number within 30 seconds exceeds the upper limit"},
	{time.Hour, 5, "LimitExceeded.PhoneNumberOneHourLimit",
		"the number of SMS messages sent from a single mobile number within 1 hour exceeds the upper limit"},
	{24 * time.Hour, 10, "LimitExceeded.PhoneNumberDailyLimit",
		"the number of SMS messages sent from a single mobile number every day exceeds the upper limit"},
}

// tencentMessages are the messages for codes the fake answers or FailNext
// may inject.
var tencentMessages = map[string]string{
	"AuthFailure.InvalidAuthorization":                   "The Authorization header is not in the TC3-HMAC-SHA256 format.",
	"AuthFailure.SignatureExpire":                        "The signature is expired, please request again.",
	"AuthFailure.SecretIdNotFound":                       "The SecretId is not found, please ensure that your SecretId is correct.",
	"AuthFailure.SignatureFailure":                       "The provided credentials could not be validated. Please check your signature is correct.",
	"AuthFailure.UnauthorizedOperation":                  "The request is not authorized.",
	"InvalidAction":                                      "The request `Action` is invalid or not found.",
	"UnauthorizedOperation.SmsSdkAppIdVerifyFail":        "SmsSdkAppId verify fail.",
	"FailedOperation.SignatureIncorrectOrUnapproved":     "signature format is incorrect or signature is not approved",
	"FailedOperation.TemplateIncorrectOrUnapproved":      "template is not approved or request content does not match the approved template content",
	"FailedOperation.InsufficientBalanceInSmsPackage":    "insufficient balance in SMS package",
	"InvalidParameterValue.TemplateParameterFormatError": "verification code template parameter format error",
	"InvalidParameterValue.IncorrectPhoneNumber":         "incorrect number format",
	"MissingParameter.EmptyPhoneNumberSet":               "the phone number set is empty",
	"FailedOperation.JsonParseFail":                      "failed to parse the request body",
	"LimitExceeded.DeliveryFrequencyLimit":               "delivery frequency limit",
	"InternalError.Timeout":                              "request timeout",
	// The Voice Message Service's.
	"UnauthorizedOperation.VoiceSdkAppidVerifyFail":     "VoiceSdkAppid verify fail.",
	"InvalidParameterValue.CalledNumberVerifyFail":      "called number verify fail",
	"FailedOperation.InsufficientBalanceInVoicePackage": "insufficient balance in voice package",
	"FailedOperation.InvalidParameters":                 "invalid parameters",
	"InternalError.UpstreamError":                       "voice upstream error",
}

func tencentMessage(code string) string {
	for _, l := range tencentFlow {
		if l.code == code {
			return l.message
		}
	}
	if msg, ok := tencentMessages[code]; ok {
		return msg
	}
	return code
}

// tencentPerNumber reports whether the service reports code per number, in
// SendStatusSet, rather than for the whole request.
func tencentPerNumber(code string) bool {
	return strings.HasPrefix(code, "LimitExceeded.PhoneNumber") ||
		code == "LimitExceeded.DeliveryFrequencyLimit" ||
		code == "InvalidParameterValue.IncorrectPhoneNumber" ||
		code == "FailedOperation.PhoneNumberInBlacklist"
}

// NewTencentVoice starts a fake of Tencent Cloud's Voice Message Service
// (SendTtsVoice, service vms, version 2020-09-02) that knows one
// SecretId/SecretKey pair and one VoiceSdkAppid. Its templates are added
// with AddApprovedNoticeTemplate; Calls lists the calls it accepted.
func NewTencentVoice(tb testing.TB, secretID, secretKey, voiceSDKAppID string, opts ...Option) *Server {
	tb.Helper()
	s := newServer(tb, (*Server).serveTencent, opts)
	s.keys[secretID] = secretKey
	s.sdkAppID = voiceSDKAppID
	s.voice = true
	return s
}

// NewTencent starts a fake of Tencent Cloud's SMS API that knows one
// SecretId/SecretKey pair and one SmsSdkAppId. See the package documentation
// for what it checks.
func NewTencent(tb testing.TB, secretID, secretKey, sdkAppID string, opts ...Option) *Server {
	tb.Helper()
	s := newServer(tb, (*Server).serveTencent, opts)
	s.keys[secretID] = secretKey
	s.sdkAppID = sdkAppID
	return s
}

type tencentStatus struct {
	SerialNo       string
	PhoneNumber    string
	Fee            int
	SessionContext string
	Code           string
	Message        string
	IsoCode        string
}

func (s *Server) serveTencent(w http.ResponseWriter, r *http.Request) {
	id := s.requestID()
	fail := func(code string) {
		writeJSON(w, http.StatusOK, map[string]any{"Response": map[string]any{
			"Error": map[string]string{"Code": code, "Message": tencentMessage(code)}, "RequestId": id,
		}})
	}
	statuses := func(set []tencentStatus) {
		writeJSON(w, http.StatusOK, map[string]any{"Response": map[string]any{
			"SendStatusSet": set, "RequestId": id,
		}})
	}
	if st, ok := s.popStatus(); ok {
		http.Error(w, http.StatusText(st), st)
		return
	}
	if r.Method != http.MethodPost {
		fail("UnsupportedOperation") // the real service also takes GET; this fake does not
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		fail("InternalError")
		return
	}

	auth, ok := parseTC3(r.Header.Get("Authorization"))
	if !ok {
		fail("AuthFailure.InvalidAuthorization")
		return
	}
	rawTS := r.Header.Get("X-TC-Timestamp")
	ts, err := strconv.ParseInt(rawTS, 10, 64)
	if err != nil {
		fail("MissingParameter")
		return
	}
	now := s.now()
	if absDuration(now.Sub(time.Unix(ts, 0))) > tencentSkew {
		fail("AuthFailure.SignatureExpire")
		return
	}
	secretKey, ok := s.keys[auth.secretID]
	if !ok {
		fail("AuthFailure.SecretIdNotFound")
		return
	}
	if auth.date != time.Unix(ts, 0).UTC().Format(time.DateOnly) ||
		!slices.Contains(auth.signedHeaders, "content-type") || !slices.Contains(auth.signedHeaders, "host") ||
		!hmac.Equal([]byte(tc3Expected(r, body, auth, rawTS, secretKey)), []byte(auth.signature)) {
		fail("AuthFailure.SignatureFailure")
		return
	}
	act, svc, version := "SendSms", "sms", "2021-01-11"
	if s.voice {
		act, svc, version = "SendTtsVoice", "vms", "2020-09-02"
	}
	if r.Header.Get("X-TC-Action") != act {
		fail("InvalidAction")
		return
	}
	if auth.service != svc {
		fail("AuthFailure.SignatureFailure") // the service signs with its own name
		return
	}
	if v := r.Header.Get("X-TC-Version"); v != version {
		writeJSON(w, http.StatusOK, map[string]any{"Response": map[string]any{
			"Error": map[string]string{"Code": "NoSuchVersion",
				"Message": fmt.Sprintf("The requested version `%s` of API `%s` does not exist.", v, act)},
			"RequestId": id,
		}})
		return
	}
	if s.voice {
		s.tencentCall(w, body, id, now, fail)
		return
	}
	var req struct {
		PhoneNumberSet   []string
		SmsSdkAppID      string `json:"SmsSdkAppId"`
		SignName         string
		TemplateID       string `json:"TemplateId"`
		TemplateParamSet []string
	}
	if err := json.Unmarshal(body, &req); err != nil {
		fail("FailedOperation.JsonParseFail")
		return
	}
	if code, ok := s.popCode(); ok {
		if !tencentPerNumber(code) {
			fail(code)
			return
		}
		set := make([]tencentStatus, len(req.PhoneNumberSet))
		for i, n := range req.PhoneNumberSet {
			set[i] = tencentStatus{PhoneNumber: n, Code: code, Message: tencentMessage(code), IsoCode: "CN"}
		}
		statuses(set)
		return
	}
	vars, notice := s.noticeTemplates[req.TemplateID]
	switch {
	case req.SmsSdkAppID != s.sdkAppID:
		fail("UnauthorizedOperation.SmsSdkAppIdVerifyFail")
		return
	case len(req.PhoneNumberSet) == 0:
		fail("MissingParameter.EmptyPhoneNumberSet")
		return
	case !s.signNames[req.SignName]:
		fail("FailedOperation.SignatureIncorrectOrUnapproved")
		return
	case notice && len(req.TemplateParamSet) != len(vars),
		!notice && (!s.templates[req.TemplateID] || len(req.TemplateParamSet) != 1):
		fail("FailedOperation.TemplateIncorrectOrUnapproved")
		return
	case !notice && (len(req.TemplateParamSet[0]) > 6 || !isDigits(req.TemplateParamSet[0])):
		fail("InvalidParameterValue.TemplateParameterFormatError")
		return
	}
	set := make([]tencentStatus, len(req.PhoneNumberSet))
	for i, n := range req.PhoneNumberSet {
		st := tencentStatus{PhoneNumber: n, IsoCode: "CN"}
		switch l := s.overLimit(n, now, tencentFlow); {
		case !mainlandMobile(strings.TrimPrefix(n, "+86")):
			st.Code, st.IsoCode = "InvalidParameterValue.IncorrectPhoneNumber", ""
			st.Message = tencentMessage(st.Code)
		case l != nil:
			st.Code, st.Message = l.code, l.message
		default:
			st.Code, st.Message, st.Fee = "Ok", "send success", 1
			st.SerialNo = fmt.Sprintf("3369:%d%08d", ts, s.seq)
			m := Message{Phone: n, SignName: req.SignName, TemplateID: req.TemplateID}
			if notice {
				m.Params = slices.Clone(req.TemplateParamSet)
			} else {
				m.Code = req.TemplateParamSet[0]
			}
			s.record(n, now, m)
		}
		set[i] = st
	}
	statuses(set)
}

// tencentVoiceFlow is the fake's flow control of voice notifications per
// called number (the service's own is configured per application; these
// are its usual defaults): 1 in 30 s, 5 an hour, 10 a day.
var tencentVoiceFlow = []flowLimit{
	{30 * time.Second, 1, "LimitExceeded.DeliveryFrequencyLimit", tencentMessages["LimitExceeded.DeliveryFrequencyLimit"]},
	{time.Hour, 5, "LimitExceeded.DeliveryFrequencyLimit", tencentMessages["LimitExceeded.DeliveryFrequencyLimit"]},
	{24 * time.Hour, 10, "LimitExceeded.DeliveryFrequencyLimit", tencentMessages["LimitExceeded.DeliveryFrequencyLimit"]},
}

// tencentCall answers SendTtsVoice once the request passed the common
// checks. Every failure is the request's Error: there is one callee.
func (s *Server) tencentCall(w http.ResponseWriter, body []byte, id string, now time.Time, fail func(code string)) {
	var req struct {
		TemplateID       string `json:"TemplateId"`
		CalledNumber     string
		VoiceSdkAppid    string
		TemplateParamSet []string
		PlayTimes        *int
		SessionContext   string
	}
	if err := json.Unmarshal(body, &req); err != nil {
		fail("FailedOperation.JsonParseFail")
		return
	}
	if code, ok := s.popCode(); ok {
		fail(code)
		return
	}
	vars, ok := s.noticeTemplates[req.TemplateID]
	plays := 2 // the service's default
	if req.PlayTimes != nil {
		plays = *req.PlayTimes
	}
	switch {
	case req.VoiceSdkAppid != s.sdkAppID:
		fail("UnauthorizedOperation.VoiceSdkAppidVerifyFail")
		return
	case !strings.HasPrefix(req.CalledNumber, "+86") || !mainlandMobile(strings.TrimPrefix(req.CalledNumber, "+86")):
		fail("InvalidParameterValue.CalledNumberVerifyFail")
		return
	case !ok || len(req.TemplateParamSet) != len(vars):
		fail("FailedOperation.TemplateIncorrectOrUnapproved")
		return
	case plays < 1 || plays > 3:
		fail("FailedOperation.InvalidParameters")
		return
	}
	if l := s.overLimit("call|"+req.CalledNumber, now, tencentVoiceFlow); l != nil {
		fail(l.code)
		return
	}
	s.recordCall("call|"+req.CalledNumber, now, Call{Phone: req.CalledNumber, TemplateID: req.TemplateID,
		Params: slices.Clone(req.TemplateParamSet), PlayTimes: plays})
	writeJSON(w, http.StatusOK, map[string]any{"Response": map[string]any{
		"SendStatus": map[string]string{
			"CallId":         fmt.Sprintf("12582bce-%04x-11eb-96b8-5254%08x", s.seq&0xffff, s.seq),
			"SessionContext": req.SessionContext,
		},
		"RequestId": id,
	}})
}

// tc3Auth is a parsed TC3-HMAC-SHA256 Authorization header.
type tc3Auth struct {
	secretID, date, service string
	signedHeaders           []string
	signature               string
}

// parseTC3 parses "TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request,
// SignedHeaders=a;b, Signature=HEX".
func parseTC3(h string) (tc3Auth, bool) {
	var a tc3Auth
	rest, ok := strings.CutPrefix(h, "TC3-HMAC-SHA256 ")
	if !ok {
		return a, false
	}
	for _, field := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(field), "=")
		if !ok {
			return a, false
		}
		switch k {
		case "Credential":
			parts := strings.Split(v, "/")
			if len(parts) != 4 || parts[3] != "tc3_request" {
				return a, false
			}
			a.secretID, a.date, a.service = parts[0], parts[1], parts[2]
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		}
	}
	return a, a.secretID != "" && len(a.signedHeaders) > 0 && a.signature != ""
}

// tc3Expected is the server's side of TC3-HMAC-SHA256: it rebuilds the
// canonical request from the request as received (the headers the client
// says it signed, the Host it sent, the body) and signs it with secretKey.
func tc3Expected(r *http.Request, body []byte, a tc3Auth, timestamp, secretKey string) string {
	var headers strings.Builder
	for _, name := range a.signedHeaders {
		value := r.Header.Get(name)
		if name == "host" {
			value = r.Host
		}
		fmt.Fprintf(&headers, "%s:%s\n", name, strings.ToLower(strings.TrimSpace(value)))
	}
	uri := r.URL.EscapedPath()
	if uri == "" {
		uri = "/"
	}
	canonical := strings.Join([]string{
		r.Method, uri, r.URL.RawQuery, headers.String(), strings.Join(a.signedHeaders, ";"), hexSHA256(body),
	}, "\n")
	toSign := strings.Join([]string{
		"TC3-HMAC-SHA256", timestamp, a.date + "/" + a.service + "/tc3_request", hexSHA256([]byte(canonical)),
	}, "\n")
	key := []byte("TC3" + secretKey)
	for _, part := range []string{a.date, a.service, "tc3_request"} {
		key = hmacSum(key, part)
	}
	return hex.EncodeToString(hmacSum(key, toSign))
}

func hmacSum(key []byte, msg string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msg))
	return mac.Sum(nil)
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
