package smstest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	aliyunTimeFormat = "2006-01-02T15:04:05Z"
	aliyunReplay     = 15 * time.Minute // Timestamp tolerance and nonce memory
)

var aliyunFlow = []flowLimit{
	{time.Minute, 1, "isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1"},
	{time.Hour, 5, "isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permits:5"},
	{24 * time.Hour, 10, "isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permits:10"},
}

// aliyunNoticeFlow is the default flow control of notification templates:
// 50 a day per sign name, template and number.
var aliyunNoticeFlow = []flowLimit{
	{24 * time.Hour, 50, "isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permits:50"},
}

// aliyunCallFlow is Voice Messaging's default flow control per called
// number: 1 a minute, 5 an hour, 20 a day.
var aliyunCallFlow = []flowLimit{
	{time.Minute, 1, "isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1"},
	{time.Hour, 5, "isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permits:5"},
	{24 * time.Hour, 20, "isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permits:20"},
}

// aliyunMessages are the service's messages for codes the fake answers or
// FailNext may inject.
var aliyunMessages = map[string]string{
	"isv.BUSINESS_LIMIT_CONTROL":      "触发号码天级流控Permits:10",
	"isv.DAY_LIMIT_CONTROL":           "触发日发送限额",
	"isv.MOBILE_NUMBER_ILLEGAL":       "非法手机号",
	"isv.SMS_SIGNATURE_ILLEGAL":       "该账号下找不到对应签名",
	"isv.SMS_TEMPLATE_ILLEGAL":        "该账号下找不到对应模板",
	"isv.TEMPLATE_MISSING_PARAMETERS": "模板缺少变量",
	"isv.INVALID_JSON_PARAM":          "JSON参数不合法，只接受字符串值",
	"isv.AMOUNT_NOT_ENOUGH":           "账户余额不足",
	"isv.OUT_OF_SERVICE":              "业务停机",
	"isv.ACCOUNT_NOT_EXISTS":          "账户不存在",
	"isp.RAM_PERMISSION_DENY":         "RAM权限DENY",
	"isp.SYSTEM_ERROR":                "isp.SYSTEM_ERROR",
	"isv.TTS_TEMPLATE_ILLEGAL":        "TTS模板不合法",
	"isv.DISPLAY_NUMBER_ILLEGAL":      "号显不合法",
	"isv.INVALID_PARAMETERS":          "参数异常",
	"isv.PARAM_LENGTH_LIMIT":          "参数长度受限",
	"isv.BLACK_KEY_CONTROL_LIMIT":     "模板变量中存在黑名单关键字",
	"isv.COMPLAINT_REJECT":            "防骚扰拦截",
	"isv.VOICE_CALL_FAIL":             "呼叫发起失败",
}

// NewAliyun starts a fake of Alibaba Cloud's Dysmsapi that knows one
// AccessKey pair. See the package documentation for what it checks.
func NewAliyun(tb testing.TB, accessKeyID, secret string, opts ...Option) *Server {
	tb.Helper()
	s := newServer(tb, (*Server).serveAliyun, opts)
	s.keys[accessKeyID] = secret
	return s
}

// NewAliyunVoice starts a fake of Alibaba Cloud's Dyvmsapi (voice
// notifications, SingleCallByTts) that knows one AccessKey pair. Its
// templates are added with AddApprovedNoticeTemplate, its show numbers with
// AddShowNumber; Calls lists the calls it accepted.
func NewAliyunVoice(tb testing.TB, accessKeyID, secret string, opts ...Option) *Server {
	tb.Helper()
	s := newServer(tb, (*Server).serveAliyun, opts)
	s.keys[accessKeyID] = secret
	s.voice = true
	return s
}

func (s *Server) serveAliyun(w http.ResponseWriter, r *http.Request) {
	id := s.requestID()
	reply := func(status int, code, msg string) {
		host := "dysmsapi.aliyuncs.com"
		if s.voice {
			host = "dyvmsapi.aliyuncs.com"
		}
		writeJSON(w, status, map[string]string{
			"RequestId": id, "HostId": host, "Code": code, "Message": msg,
		})
	}
	if st, ok := s.popStatus(); ok {
		reply(st, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.")
		return
	}
	if err := r.ParseForm(); err != nil {
		reply(http.StatusBadRequest, "InvalidParameter", "The request could not be parsed.")
		return
	}
	p := make(map[string]string, len(r.Form))
	for k, v := range r.Form {
		p[k] = v[0]
	}

	for _, name := range []string{"AccessKeyId", "Action", "Signature", "SignatureMethod",
		"SignatureNonce", "SignatureVersion", "Timestamp", "Version"} {
		if p[name] == "" {
			reply(http.StatusBadRequest, "Missing"+name, name+" is mandatory for this action.")
			return
		}
	}
	now := s.now()
	ts, err := time.Parse(aliyunTimeFormat, p["Timestamp"])
	if err != nil {
		reply(http.StatusBadRequest, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.")
		return
	}
	if absDuration(now.Sub(ts)) > aliyunReplay {
		reply(http.StatusBadRequest, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
		return
	}
	secret, ok := s.keys[p["AccessKeyId"]]
	if !ok {
		reply(http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
		return
	}
	sts := aliyunStringToSign(r.Method, p)
	if !hmac.Equal([]byte(aliyunSignature(secret, sts)), []byte(p["Signature"])) {
		reply(http.StatusBadRequest, "SignatureDoesNotMatch",
			"Specified signature is not matched with our calculation. server string to sign is:"+sts)
		return
	}
	for n, t := range s.nonces {
		if now.Sub(t) > aliyunReplay {
			delete(s.nonces, n)
		}
	}
	if _, used := s.nonces[p["SignatureNonce"]]; used {
		reply(http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already.")
		return
	}
	s.nonces[p["SignatureNonce"]] = now
	action := "SendSms"
	if s.voice {
		action = "SingleCallByTts"
	}
	if p["Action"] != action {
		reply(http.StatusNotFound, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
		return
	}
	if p["Version"] != "2017-05-25" {
		reply(http.StatusBadRequest, "InvalidVersion", "Specified parameter Version is not valid.")
		return
	}
	fail := func(code string) {
		msg, ok := aliyunMessages[code]
		if !ok {
			msg = code
		}
		reply(http.StatusOK, code, msg)
	}
	if code, ok := s.popCode(); ok {
		fail(code)
		return
	}
	if s.voice {
		s.aliyunCall(w, p, id, now, reply, fail)
		return
	}
	s.aliyunSendSms(w, p, id, now, reply, fail)
}

// aliyunSendSms answers SendSms once the request passed the common checks.
func (s *Server) aliyunSendSms(w http.ResponseWriter, p map[string]string, id string, now time.Time,
	reply func(status int, code, msg string), fail func(code string)) {
	for _, name := range []string{"PhoneNumbers", "SignName", "TemplateCode"} {
		if p[name] == "" {
			reply(http.StatusBadRequest, "Missing"+name, name+" is mandatory for this action.")
			return
		}
	}
	phone, sign, template := p["PhoneNumbers"], p["SignName"], p["TemplateCode"]
	if !mainlandMobile(phone) {
		fail("isv.MOBILE_NUMBER_ILLEGAL")
		return
	}
	if !s.signNames[sign] {
		fail("isv.SMS_SIGNATURE_ILLEGAL")
		return
	}
	vars, notice := s.noticeTemplates[template]
	if !s.templates[template] && !notice {
		fail("isv.SMS_TEMPLATE_ILLEGAL")
		return
	}
	if p["TemplateParam"] == "" && (!notice || len(vars) > 0) {
		fail("isv.TEMPLATE_MISSING_PARAMETERS")
		return
	}
	values, code := aliyunParams(p["TemplateParam"], vars, notice, "isv.INVALID_JSON_PARAM")
	if code != "" {
		fail(code)
		return
	}
	m := Message{Phone: phone, SignName: sign, TemplateID: template}
	key, flow := sign+"|"+phone, aliyunFlow
	if notice {
		m.Params = values
		key, flow = sign+"|"+template+"|"+phone, aliyunNoticeFlow
	} else {
		m.Code = values[0]
	}
	if l := s.overLimit(key, now, flow); l != nil {
		reply(http.StatusOK, l.code, l.message)
		return
	}
	s.record(key, now, m)
	writeJSON(w, http.StatusOK, map[string]string{
		"RequestId": id, "Code": "OK", "Message": "OK", "BizId": "90061974" + id[len(id)-12:],
	})
}

// aliyunParams reads a TemplateParam or TtsParam: a JSON object of
// strings holding every variable of the template (vars, for a notice
// template; the one ${code} of a verification template). It returns the
// values in the template's order, or the error code to answer: badJSON for
// what is not an object of strings, isv.TEMPLATE_MISSING_PARAMETERS for a
// variable missing.
func aliyunParams(raw string, vars []string, notice bool, badJSON string) ([]string, string) {
	if !notice {
		vars = []string{"code"}
	}
	got := map[string]string{}
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &got); err != nil {
			return nil, badJSON
		}
	}
	values := make([]string, len(vars))
	for i, v := range vars {
		val, ok := got[v]
		if !ok {
			return nil, "isv.TEMPLATE_MISSING_PARAMETERS"
		}
		values[i] = val
	}
	return values, ""
}

// aliyunCall answers SingleCallByTts once the request passed the common
// checks.
func (s *Server) aliyunCall(w http.ResponseWriter, p map[string]string, id string, now time.Time,
	reply func(status int, code, msg string), fail func(code string)) {
	for _, name := range []string{"CalledNumber", "TtsCode"} {
		if p[name] == "" {
			reply(http.StatusBadRequest, "Missing"+name, name+" is mandatory for this action.")
			return
		}
	}
	callee, template, show := p["CalledNumber"], p["TtsCode"], p["CalledShowNumber"]
	if !mainlandMobile(callee) && !mainlandLandline(callee) {
		fail("isv.MOBILE_NUMBER_ILLEGAL")
		return
	}
	if show != "" && !s.showNumbers[show] {
		fail("isv.DISPLAY_NUMBER_ILLEGAL")
		return
	}
	vars, ok := s.noticeTemplates[template]
	if !ok {
		fail("isv.TTS_TEMPLATE_ILLEGAL")
		return
	}
	values, code := aliyunParams(p["TtsParam"], vars, true, "isv.INVALID_PARAMETERS")
	if code != "" {
		fail(code)
		return
	}
	plays := 3 // the service's default
	if v := p["PlayTimes"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3 {
			fail("isv.INVALID_PARAMETERS")
			return
		}
		plays = n
	}
	if l := s.overLimit("call|"+callee, now, aliyunCallFlow); l != nil {
		reply(http.StatusOK, l.code, l.message)
		return
	}
	s.recordCall("call|"+callee, now, Call{Phone: callee, TemplateID: template, Params: values, ShowNumber: show, PlayTimes: plays})
	writeJSON(w, http.StatusOK, map[string]string{
		"RequestId": id, "Code": "OK", "Message": "OK", "CallId": fmt.Sprintf("1160%08d^10281378%04d", s.seq, s.seq%10000),
	})
}

// aliyunStringToSign is the server's side of the RPC v1 signature: every
// parameter but Signature, sorted by name, percent-encoded, joined.
func aliyunStringToSign(method string, params map[string]string) string {
	names := make([]string, 0, len(params))
	for name := range params {
		if name != "Signature" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var q strings.Builder
	for i, name := range names {
		if i > 0 {
			q.WriteByte('&')
		}
		q.WriteString(aliyunEncode(name) + "=" + aliyunEncode(params[name]))
	}
	return method + "&" + aliyunEncode("/") + "&" + aliyunEncode(q.String())
}

// aliyunEncode is the documented recipe: a form encoding, then "+" → "%20",
// "*" → "%2A" and "%7E" → "~".
func aliyunEncode(s string) string {
	return strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(url.QueryEscape(s))
}

func aliyunSignature(secret, stringToSign string) string {
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
