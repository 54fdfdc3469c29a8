package wechattest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// TemplateItem is one {"value","color"} of a template message's data.
type TemplateItem struct {
	Value string `json:"value"`
	Color string `json:"color,omitempty"`
}

// AddTemplate adds a template the account may send, with its keywords in
// display order (e.g. "thing1", "time2", "character_string3"). Keywords
// named like category templates' (thing, number, letter, symbol,
// character_string, time, date, amount, phone_number, car_number, name,
// phrase, const) have their values checked by WeChat's rules; other names
// (first, keyword1, remark of old templates) accept anything.
func (s *Server) AddTemplate(id string, fields ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.templates[id] = append([]string(nil), fields...)
}

type templateMessage struct {
	ToUser      string `json:"touser"`
	TemplateID  string `json:"template_id"`
	URL         string `json:"url"`
	MiniProgram *struct {
		AppID    string `json:"appid"`
		PagePath string `json:"pagepath"`
	} `json:"miniprogram"`
	Data        map[string]TemplateItem `json:"data"`
	ClientMsgID string                  `json:"client_msg_id"`
}

// serveTemplateSend: POST /cgi-bin/message/template/send. Template messages
// need no open window, only a follower.
func (s *Server) serveTemplateSend(_ *http.Request, body []byte) apiResult {
	var m templateMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return s.apiError(CodeDataFormatError, "data format error")
	}
	if m.ToUser == "" {
		return s.apiError(CodeInvalidOpenID, "invalid openid")
	}
	fields, ok := s.templates[m.TemplateID]
	if !ok {
		return s.apiError(CodeInvalidTemplateID, "invalid template_id")
	}
	var lines []string
	for _, f := range fields {
		v := m.Data[f].Value
		if msg := checkTemplateValue(f, v); msg != "" {
			return s.apiError(CodeArgumentInvalid, msg)
		}
		lines = append(lines, f+": "+v)
	}
	if u := s.users[m.ToUser]; u == nil || !u.Subscribed {
		return s.apiError(CodeRequireSubscribe, "require subscribe")
	}
	s.nextMsgID += 1 + rand.Int64N(1<<20)
	s.recordSentLocked(Sent{
		Kind: KindTemplate, ToUser: m.ToUser, MsgType: "template", TemplateID: m.TemplateID,
		URL: m.URL, Data: m.Data, Content: strings.Join(lines, "\n"), MsgID: s.nextMsgID, Body: body,
	})
	return jsonResult(struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
		MsgID   int64  `json:"msgid"`
	}{0, "ok", s.nextMsgID})
}

var (
	reNumber = regexp.MustCompile(`^-?\d+(\.\d+)?$`)
	reLetter = regexp.MustCompile(`^[A-Za-z]+$`)
	reAmount = regexp.MustCompile(`^([¥￥$€£]\d{1,10}(\.\d+)?元?|\d{1,10}(\.\d+)?元)$`)
	rePhone  = regexp.MustCompile(`^[0-9+\-() ]+$`)
)

// checkTemplateValue applies the category-template rules to one keyword and
// returns WeChat's 47003 message, or "" when the value is acceptable.
func checkTemplateValue(field, v string) string {
	kind := strings.TrimRight(field, "0123456789")
	invalid := fmt.Sprintf("argument invalid! data.%s.value invalid", field)
	n := utf8.RuneCountInString(v)
	switch kind {
	case "thing", "number", "letter", "symbol", "character_string", "time", "date",
		"amount", "phone_number", "car_number", "name", "phrase":
		if strings.TrimSpace(v) == "" {
			return fmt.Sprintf("argument invalid! data.%s.value is empty", field)
		}
	case "const", "enum":
		if n > 20 {
			return invalid
		}
		return ""
	default:
		return ""
	}
	var ok bool
	switch kind {
	case "thing":
		ok = n <= 20
	case "number":
		ok = n <= 32 && reNumber.MatchString(v)
	case "letter":
		ok = n <= 32 && reLetter.MatchString(v)
	case "symbol":
		ok = n <= 5 && all(v, func(r rune) bool { return r < utf8.RuneSelf && unicode.IsPunct(r) || unicode.IsSymbol(r) })
	case "character_string":
		ok = n <= 32 && all(v, func(r rune) bool { return r > ' ' && r < utf8.RuneSelf })
	case "time", "date":
		ok = n <= 40 && strings.ContainsAny(v, "0123456789")
	case "amount":
		ok = reAmount.MatchString(v)
	case "phone_number":
		ok = n <= 17 && rePhone.MatchString(v)
	case "car_number":
		ok = n <= 8 && carNumberOK(v)
	case "name":
		ok = all(v, isHan) && n <= 10 ||
			all(v, func(r rune) bool { return r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsPunct(r) || r == ' ') }) && n <= 20 ||
			n <= 10
	case "phrase":
		ok = n <= 5 && all(v, isHan)
	}
	if !ok {
		return invalid
	}
	return ""
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

func all(s string, f func(rune) bool) bool {
	for _, r := range s {
		if !f(r) {
			return false
		}
	}
	return true
}

// carNumberOK: the first and last characters may be Chinese, the rest
// letters or digits (粤A8Z888挂).
func carNumberOK(v string) bool {
	rs := []rune(v)
	for i, r := range rs {
		alnum := r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r))
		if !alnum && !((i == 0 || i == len(rs)-1) && isHan(r)) {
			return false
		}
	}
	return true
}
