package provider_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/sms"
	"github.com/aftersales/aftersales/sms/aliyun"
	"github.com/aftersales/aftersales/sms/provider"
	"github.com/aftersales/aftersales/sms/tencent"
)

func TestNewChoosesProviderByName(t *testing.T) {
	t.Parallel()
	base := sms.Config{AccessKeyID: "id", AccessKeySecret: "secret", SignName: "海景物业",
		TemplateID: "T1", SDKAppID: "1400000000", NowFunc: time.Now, Logger: slog.New(slog.DiscardHandler)}
	tests := []struct {
		provider string
		want     sms.Sender
	}{
		{"log", &sms.LogSender{}},
		{"aliyun", &aliyun.Sender{}},
		{"tencent", &tencent.Sender{}},
	}
	for _, tt := range tests {
		t.Run(tt.provider, func(t *testing.T) {
			t.Parallel()
			cfg := base
			cfg.Provider = tt.provider
			s, err := provider.New(cfg)
			require.NoError(t, err)
			assert.IsType(t, tt.want, s)
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []sms.Config{
		{},
		{Provider: "twilio"},
		{Provider: "aliyun", AccessKeyID: "id"},
		{Provider: "log"},
	} {
		s, err := provider.New(cfg)
		require.ErrorIs(t, err, sms.ErrConfig, "%+v", cfg)
		assert.Nil(t, s)
	}
}

func TestNewNotifierChoosesByProviderAndMedium(t *testing.T) {
	t.Parallel()
	base := sms.NotifyConfig{AccessKeyID: "id", AccessKeySecret: "secret", SignName: "海景物业",
		Templates: map[string]string{"urgent_order": "T1"}, SDKAppID: "1400000000", NowFunc: time.Now,
		Logger: slog.New(slog.DiscardHandler)}
	tests := []struct {
		provider, medium string
		want             sms.Notifier
	}{
		{"log", sms.MediumSMS, &sms.LogNotifier{}},
		{"log", sms.MediumVoice, &sms.LogNotifier{}},
		{"aliyun", sms.MediumSMS, &aliyun.Notifier{}},
		{"aliyun", sms.MediumVoice, &aliyun.Caller{}},
		{"tencent", sms.MediumSMS, &tencent.Notifier{}},
		{"tencent", sms.MediumVoice, &tencent.Caller{}},
	}
	for _, tt := range tests {
		cfg := base
		cfg.Provider, cfg.Medium = tt.provider, tt.medium
		n, err := provider.NewNotifier(cfg)
		require.NoError(t, err, "%s %s", tt.provider, tt.medium)
		assert.IsType(t, tt.want, n, "%s %s", tt.provider, tt.medium)
	}
	_, err := provider.NewNotifier(sms.NotifyConfig{Provider: "aliyun", Medium: "fax"})
	require.ErrorIs(t, err, sms.ErrConfig)
}
