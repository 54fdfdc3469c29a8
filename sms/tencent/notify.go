package tencent

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/sms"
)

// DefaultVoiceURL is the Voice Message Service (语音消息, VMS) endpoint.
const DefaultVoiceURL = "https://vms.tencentcloudapi.com/"

const (
	voiceService = "vms"
	voiceAction  = "SendTtsVoice"
	voiceVersion = "2020-09-02"
)

// Notifier sends notices by text message through SendSms with a
// notification template (通知短信) and its variables in TemplateParamSet,
// in order. It is safe for concurrent use.
type Notifier struct {
	*conn
	cfg sms.NotifyConfig
}

var _ sms.Notifier = (*Notifier)(nil)

// NewNotifier returns a Notifier for cfg; cfg.Provider is ignored and
// cfg.Medium must be sms.MediumSMS. cfg.Templates maps each kind of notice
// to the TemplateId of an approved notification template whose variables
// {1}, {2}… are the notice's parameters in order; cfg.SDKAppID is the
// SmsSdkAppId.
func NewNotifier(cfg sms.NotifyConfig) (*Notifier, error) {
	cfg, err := cfg.As(sms.ProviderTencent, sms.MediumSMS)
	if err != nil {
		return nil, err
	}
	c, err := newConn(cfg.Common(), DefaultURL)
	if err != nil {
		return nil, err
	}
	return &Notifier{conn: c, cfg: cfg}, nil
}

// Notify sends n to phone (11 digits; sent as +86…). See sms.Notifier for
// the errors.
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
	params := n.Values()
	if params == nil {
		params = []string{} // an array, never null
	}
	st, id, err := s.sendSms(ctx, phone, request{
		PhoneNumberSet:   []string{"+86" + phone},
		SmsSdkAppID:      s.cfg.SDKAppID,
		SignName:         s.cfg.SignName,
		TemplateID:       template,
		TemplateParamSet: params,
	})
	if err != nil {
		return err
	}
	s.logger.DebugContext(ctx, "sms notice sent",
		"provider", providerName, "phone", casework.MaskPhone(phone), "template", n.Template,
		"request_id", id, "serial_no", st.SerialNo)
	return nil
}

// Caller calls phones with voice notifications through the Voice Message
// Service's SendTtsVoice (API 3.0, version 2020-09-02, host
// vms.tencentcloudapi.com, signed like SMS but for service "vms"): an
// approved voice template read out with its variables in order. It is safe
// for concurrent use.
type Caller struct {
	*conn
	cfg sms.NotifyConfig
}

var _ sms.Notifier = (*Caller)(nil)

// NewCaller returns a Caller for cfg; cfg.Provider is ignored and
// cfg.Medium must be sms.MediumVoice. cfg.Templates maps each kind of
// notice to the TemplateId of an approved voice template; cfg.SDKAppID is
// the VoiceSdkAppid (the voice application's, not the SMS one's).
func NewCaller(cfg sms.NotifyConfig) (*Caller, error) {
	cfg, err := cfg.As(sms.ProviderTencent, sms.MediumVoice)
	if err != nil {
		return nil, err
	}
	c, err := newConn(cfg.Common(), DefaultVoiceURL)
	if err != nil {
		return nil, err
	}
	return &Caller{conn: c, cfg: cfg}, nil
}

// voiceRequest is SendTtsVoice's request.
type voiceRequest struct {
	TemplateID       string `json:"TemplateId"`
	CalledNumber     string
	VoiceSDKAppID    string `json:"VoiceSdkAppid"`
	TemplateParamSet []string
	PlayTimes        int
}

// voiceResponse is SendTtsVoice's answer.
type voiceResponse struct {
	Response struct {
		SendStatus *struct {
			CallID         string `json:"CallId"`
			SessionContext string
		}
	}
}

// Notify calls phone (a mainland mobile: the service calls no landline;
// sent as +86…) and reads n out. See sms.Notifier for the errors.
func (c *Caller) Notify(ctx context.Context, phone string, n sms.Notice) error {
	if err := sms.ValidatePhone(phone); err != nil {
		return err
	}
	if err := n.Validate(); err != nil {
		return err
	}
	template, err := c.cfg.Template(n.Template)
	if err != nil {
		return err
	}
	params := n.Values()
	if params == nil {
		params = []string{} // "若模板没有参数，请提供为空数组"
	}
	raw, id, err := c.do(ctx, phone, voiceService, voiceAction, voiceVersion, voiceRequest{
		TemplateID:       template,
		CalledNumber:     "+86" + phone,
		VoiceSDKAppID:    c.cfg.SDKAppID,
		TemplateParamSet: params,
		PlayTimes:        c.cfg.PlayTimesOrDefault(),
	}, voiceKindOf)
	if err != nil {
		return err
	}
	var r voiceResponse
	if err := json.Unmarshal(raw, &r); err != nil || r.Response.SendStatus == nil {
		return &sms.Error{Provider: providerName, Status: http.StatusOK,
			Message: "answer has no SendStatus", RequestID: id, Kind: sms.KindTransient}
	}
	c.logger.DebugContext(ctx, "voice notice called",
		"provider", providerName, "phone", casework.MaskPhone(phone), "template", n.Template,
		"request_id", id, "call_id", r.Response.SendStatus.CallID)
	return nil
}

// voiceKindOf maps a Voice Message Service or common error code to a Kind.
// Codes from the common error list and the product's
// (tencentcloud-sdk-go vms/v20200902/errors.go).
func voiceKindOf(code string) sms.Kind {
	switch code {
	case "LimitExceeded.DeliveryFrequencyLimit":
		return sms.KindRateLimited
	case "InvalidParameterValue.CalledNumberVerifyFail":
		return sms.KindInvalidPhone
	case "FailedOperation.TemplateIncorrectOrUnapproved",
		"FailedOperation.InsufficientBalanceInVoicePackage",
		"FailedOperation.ContainSensitiveWord",
		"FailedOperation.PhonenumberUnappliedOrExpired", // sic
		"FailedOperation.InvalidParameters",
		"FailedOperation.InvalidJsonParameters",
		"FailedOperation.FailResolvePacket",
		"FailedOperation.JsonParseFail",
		"InvalidParameterValue.ContentLengthLimit",
		"InvalidParameterValue.SdkAppidNotExist",
		"InternalError.RequestTimeException", // our clock is more than 10 minutes off
		"InternalError.SigVerificationFail",
		"UnsupportedOperation":
		return sms.KindConfig
	}
	if strings.HasPrefix(code, "AuthFailure.") || strings.HasPrefix(code, "UnauthorizedOperation.") {
		// VoiceSdkAppidVerifyFail, SdkAppidIsDisabled, ServiceSuspendDueToArrears…
		return sms.KindConfig
	}
	return sms.KindTransient
}
