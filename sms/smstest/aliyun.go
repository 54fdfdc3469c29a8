package smstest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
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
}

// NewAliyun starts a fake of Alibaba Cloud's Dysmsapi that knows one
// AccessKey pair. See the package documentation for what it checks.
func NewAliyun(tb testing.TB, accessKeyID, secret string, opts ...Option) *Server {
	tb.Helper()
	s := newServer(tb, (*Server).serveAliyun, opts)
	s.keys[accessKeyID] = secret
	return s
}

func (s *Server) serveAliyun(w http.ResponseWriter, r *http.Request) {
	id := s.requestID()
	reply := func(status int, code, msg string) {
		writeJSON(w, status, map[string]string{
			"RequestId": id, "HostId": "dysmsapi.aliyuncs.com", "Code": code, "Message": msg,
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
	if p["Action"] != "SendSms" {
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
	if !s.templates[template] {
		fail("isv.SMS_TEMPLATE_ILLEGAL")
		return
	}
	if p["TemplateParam"] == "" {
		fail("isv.TEMPLATE_MISSING_PARAMETERS")
		return
	}
	var vars map[string]string
	if err := json.Unmarshal([]byte(p["TemplateParam"]), &vars); err != nil {
		fail("isv.INVALID_JSON_PARAM")
		return
	}
	code, ok := vars["code"]
	if !ok {
		fail("isv.TEMPLATE_MISSING_PARAMETERS")
		return
	}
	key := sign + "|" + phone
	if l := s.overLimit(key, now, aliyunFlow); l != nil {
		reply(http.StatusOK, l.code, l.message)
		return
	}
	s.record(key, now, Message{Phone: phone, Code: code, SignName: sign, TemplateID: template})
	writeJSON(w, http.StatusOK, map[string]string{
		"RequestId": id, "Code": "OK", "Message": "OK", "BizId": "90061974" + id[len(id)-12:],
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
