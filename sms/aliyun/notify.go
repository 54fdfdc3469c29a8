package aliyun

import (
	"context"
	"strconv"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/sms"
)

// DefaultVoiceURL is the Dyvmsapi endpoint.
const DefaultVoiceURL = "https://dyvmsapi.aliyuncs.com/"

// Notifier sends notices by text message through Dysmsapi's SendSms with a
// notification template (短信通知) and its variables in TemplateParam. It
// is safe for concurrent use.
type Notifier struct {
	*conn
	cfg sms.NotifyConfig
}

var _ sms.Notifier = (*Notifier)(nil)

// NewNotifier returns a Notifier for cfg; cfg.Provider is ignored and
// cfg.Medium must be sms.MediumSMS. cfg.Templates maps each kind of notice
// to the TemplateCode of an approved notification template whose variables
// are the notice's parameters by name (${number}, ${address}…).
func NewNotifier(cfg sms.NotifyConfig) (*Notifier, error) {
	cfg, err := cfg.As(sms.ProviderAliyun, sms.MediumSMS)
	if err != nil {
		return nil, err
	}
	return &Notifier{conn: newConn(cfg.Common(), DefaultURL), cfg: cfg}, nil
}

// Notify sends n to phone (11 digits). See sms.Notifier for the errors.
func (s *Notifier) Notify(ctx context.Context, phone string, n sms.Notice) error {
	if err := sms.ValidatePhone(phone); err != nil {
		return err
	}
	if err := n.Validate(); err != nil {
		return err
	}
	template, err := s.cfg.Template(n.Template)
	if err != nil {
		return err
	}
	params := map[string]string{
		"Action":       "SendSms",
		"PhoneNumbers": phone,
		"SignName":     s.cfg.SignName,
		"TemplateCode": template,
	}
	if p := n.JSON(); p != "" {
		params["TemplateParam"] = p
	}
	r, err := s.do(ctx, phone, kindOf, params)
	if err != nil {
		return err
	}
	s.logger.DebugContext(ctx, "sms notice sent",
		"provider", providerName, "phone", casework.MaskPhone(phone), "template", n.Template,
		"request_id", r.RequestID, "biz_id", r.BizID)
	return nil
}

// Caller calls phones with voice notifications through Dyvmsapi's
// SingleCallByTts: an approved text-to-speech template (TtsCode) read out
// with its variables (TtsParam). It is safe for concurrent use.
type Caller struct {
	*conn
	cfg sms.NotifyConfig
}

var _ sms.Notifier = (*Caller)(nil)

// NewCaller returns a Caller for cfg; cfg.Provider is ignored and
// cfg.Medium must be sms.MediumVoice. cfg.Templates maps each kind of
// notice to the TtsCode of an approved template ("TTS_123456789") whose
// variables are the notice's parameters by name; cfg.ShowNumber, when set,
// is the number shown to the callee (dedicated mode).
func NewCaller(cfg sms.NotifyConfig) (*Caller, error) {
	cfg, err := cfg.As(sms.ProviderAliyun, sms.MediumVoice)
	if err != nil {
		return nil, err
	}
	return &Caller{conn: newConn(cfg.Common(), DefaultVoiceURL), cfg: cfg}, nil
}

// Notify calls phone (a mainland mobile, or a landline with its area code)
// and reads n out. See sms.Notifier for the errors.
func (c *Caller) Notify(ctx context.Context, phone string, n sms.Notice) error {
	callee, err := sms.ValidateCallee(phone)
	if err != nil {
		return err
	}
	if err := n.Validate(); err != nil {
		return err
	}
	template, err := c.cfg.Template(n.Template)
	if err != nil {
		return err
	}
	params := map[string]string{
		"Action":       "SingleCallByTts",
		"CalledNumber": callee,
		"TtsCode":      template,
		"PlayTimes":    strconv.Itoa(c.cfg.PlayTimesOrDefault()),
	}
	if c.cfg.ShowNumber != "" {
		params["CalledShowNumber"] = c.cfg.ShowNumber
	}
	if p := n.JSON(); p != "" {
		params["TtsParam"] = p
	}
	r, err := c.do(ctx, phone, voiceKindOf, params)
	if err != nil {
		return err
	}
	c.logger.DebugContext(ctx, "voice notice called",
		"provider", providerName, "phone", casework.MaskPhone(phone), "template", n.Template,
		"request_id", r.RequestID, "call_id", r.CallID)
	return nil
}

// voiceKindOf maps a Dyvmsapi or RPC gateway error code to a Kind. Codes
// from Alibaba Cloud's "API错误码" list for Voice Messaging
// (help.aliyun.com/document_detail/178344.html, 112502.html). Flow control
// per number (1 a minute, 5 an hour, 20 a day by default) and calls outside
// the hours a public-mode call may be made clear by themselves:
// KindRateLimited. A number the carrier blocked as a nuisance
// (isv.COMPLAINT_REJECT) cannot be reached: KindInvalidPhone.
func voiceKindOf(code string) sms.Kind {
	switch code {
	case "isv.BUSINESS_LIMIT_CONTROL",
		"isv.VOICE_ROBOT_NOT_PERIOD",  // outside the hours calls may be made
		"isv.VOICE_CALL_PERIOD_ERROR": // the same, when the hours could not be read
		return sms.KindRateLimited
	case "isv.MOBILE_NUMBER_ILLEGAL",
		"isv.COMPLAINT_REJECT":
		return sms.KindInvalidPhone
	case "isv.TTS_TEMPLATE_ILLEGAL",
		"isv.TEMPLATE_ILLEGAL",
		"isv.TEMPLATE_MISSING_PARAMETERS",
		"isv.TEMPLATE_PARAMS_ILLEGAL",
		"isv.DISPLAY_NUMBER_ILLEGAL", // the show number is not the account's
		"isv.BILLID_NOT_EXIST",
		"isv.VOICE_FILE_ILLEGAL":
		return sms.KindConfig
	}
	// The gateway's, the account's and the parameters' codes are
	// Dysmsapi's too.
	return kindOf(code)
}
