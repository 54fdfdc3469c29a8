// Package provider builds the sms.Sender that an sms.Config names.
//
// It lives apart from package sms because it imports the adapters
// (sms/aliyun, sms/tencent), which import sms for its errors: the shared
// vocabulary stays free of adapters, as the domain does.
package provider

import (
	"fmt"

	"github.com/aftersales/aftersales/sms"
	"github.com/aftersales/aftersales/sms/aliyun"
	"github.com/aftersales/aftersales/sms/tencent"
)

// New validates cfg and returns the Sender for cfg.Provider: "log"
// (sms.LogSender), "aliyun" or "tencent". A configuration error matches
// sms.ErrConfig and names the missing fields.
func New(cfg sms.Config) (sms.Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch cfg.Provider {
	case sms.ProviderLog:
		return sms.NewLogSender(cfg.Logger), nil
	case sms.ProviderAliyun:
		return aliyun.New(cfg)
	case sms.ProviderTencent:
		return tencent.New(cfg)
	}
	return nil, fmt.Errorf("sms: provider %q: %w", cfg.Provider, sms.ErrConfig) // Validate rejects it first
}

// NewNotifier validates cfg and returns the Notifier for cfg.Provider and
// cfg.Medium: "log" (sms.LogNotifier), or Alibaba Cloud's or Tencent
// Cloud's template SMS (MediumSMS) or voice notifications (MediumVoice). A
// configuration error matches sms.ErrConfig and names the missing fields.
func NewNotifier(cfg sms.NotifyConfig) (sms.Notifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	voice := cfg.Medium == sms.MediumVoice
	switch cfg.Provider {
	case sms.ProviderLog:
		return sms.NewLogNotifier(cfg.Logger, cfg.Medium), nil
	case sms.ProviderAliyun:
		if voice {
			return aliyun.NewCaller(cfg)
		}
		return aliyun.NewNotifier(cfg)
	case sms.ProviderTencent:
		if voice {
			return tencent.NewCaller(cfg)
		}
		return tencent.NewNotifier(cfg)
	}
	return nil, fmt.Errorf("sms: provider %q: %w", cfg.Provider, sms.ErrConfig) // Validate rejects it first
}
