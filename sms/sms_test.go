package sms_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/sms"
)

func TestLogSenderLogsMaskedPhoneAndCode(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	s := sms.NewLogSender(slog.New(slog.NewJSONHandler(&buf, nil)))

	require.NoError(t, s.SendCode(context.Background(), "13900000016", "482913"))

	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	assert.Equal(t, "WARN", line["level"])
	assert.Equal(t, "verification code", line["msg"])
	assert.Equal(t, "139****0016", line["phone"])
	assert.Equal(t, "482913", line["code"])
	assert.Contains(t, line["note"], "not for production")
	assert.NotContains(t, buf.String(), "13900000016")
}

func TestLogSenderChecksInput(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	s := sms.NewLogSender(slog.New(slog.NewJSONHandler(&buf, nil)))

	require.ErrorIs(t, s.SendCode(context.Background(), "139000000", "482913"), sms.ErrInvalidPhone)
	require.Error(t, s.SendCode(context.Background(), "13900000016", "48-913"))
	assert.Empty(t, buf.String())
}

func TestValidatePhone(t *testing.T) {
	t.Parallel()
	for phone, ok := range map[string]bool{
		"13900000016":    true,
		"19912345678":    true,
		"1390000001":     false, // 10 digits
		"139000000161":   false,
		"+8613900000016": false, // the adapters add the country code
		"23900000016":    false,
		"139-0000-0016":  false,
		"":               false,
	} {
		err := sms.ValidatePhone(phone)
		if ok {
			assert.NoError(t, err, phone)
			continue
		}
		require.ErrorIs(t, err, sms.ErrInvalidPhone, phone)
		if len(phone) >= 7 {
			assert.NotContains(t, err.Error(), phone, "the error masks the number")
		}
	}
}

func TestValidateCode(t *testing.T) {
	t.Parallel()
	for code, ok := range map[string]bool{
		"1234": true, "482913": true, "123": false, "1234567": false, "12a4": false, "": false, "１２３４": false,
	} {
		err := sms.ValidateCode(code)
		if ok {
			assert.NoError(t, err, code)
		} else {
			assert.Error(t, err, code)
		}
	}
}

func TestErrorMatchesItsKind(t *testing.T) {
	t.Parallel()
	sentinels := map[sms.Kind]error{
		sms.KindRateLimited:  sms.ErrRateLimited,
		sms.KindConfig:       sms.ErrConfig,
		sms.KindInvalidPhone: sms.ErrInvalidPhone,
	}
	for _, kind := range []sms.Kind{sms.KindTransient, sms.KindRateLimited, sms.KindConfig, sms.KindInvalidPhone} {
		err := fmt.Errorf("send code: %w", &sms.Error{Provider: "aliyun", Code: "X", Kind: kind})
		for k, sentinel := range sentinels {
			assert.Equal(t, k == kind, errors.Is(err, sentinel), "%v is %v", kind, sentinel)
		}
	}
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	e := &sms.Error{Provider: "aliyun", Status: 200, Code: "isv.BUSINESS_LIMIT_CONTROL",
		Message: "触发号码天级流控Permits:10", RequestID: "F655A8D5", Kind: sms.KindRateLimited}
	assert.Equal(t, "sms: aliyun: isv.BUSINESS_LIMIT_CONTROL: 触发号码天级流控Permits:10 (rate limited; request F655A8D5)", e.Error())

	e = &sms.Error{Provider: "tencent", Status: 502, Message: "unexpected answer: Bad Gateway"}
	assert.Equal(t, "sms: tencent: HTTP 502: unexpected answer: Bad Gateway (transient)", e.Error())
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	logger := slog.New(slog.DiscardHandler)
	full := func(provider string) sms.Config {
		return sms.Config{Provider: provider, AccessKeyID: "id", AccessKeySecret: "secret",
			SignName: "海景物业", TemplateID: "T1", SDKAppID: "1400000000", NowFunc: time.Now}
	}
	tests := []struct {
		name    string
		cfg     sms.Config
		wantErr string // empty: valid
	}{
		{"log", sms.Config{Provider: "log", Logger: logger}, ""},
		{"log without logger", sms.Config{Provider: "log"}, `provider "log": missing Logger`},
		{"aliyun", full("aliyun"), ""},
		{"tencent", full("tencent"), ""},
		{"aliyun empty", sms.Config{Provider: "aliyun"},
			`provider "aliyun": missing AccessKeyID, AccessKeySecret, SignName, TemplateID, NowFunc`},
		{"tencent empty", sms.Config{Provider: "tencent"},
			`provider "tencent": missing AccessKeyID, AccessKeySecret, SignName, TemplateID, SDKAppID, NowFunc`},
		{"blank secret", func() sms.Config { c := full("aliyun"); c.AccessKeySecret = "  "; return c }(),
			"missing AccessKeySecret"},
		{"no provider", sms.Config{}, "Provider is required"},
		{"unknown provider", sms.Config{Provider: "twilio"}, `unknown Provider "twilio"`},
		{"bad URL", func() sms.Config { c := full("tencent"); c.APIURL = "sms.tencentcloudapi.com"; return c }(),
			"not an absolute http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, sms.ErrConfig)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestConfigHidesSecret(t *testing.T) {
	t.Parallel()
	cfg := sms.Config{Provider: "aliyun", AccessKeyID: "LTAI5tAfterSales", AccessKeySecret: "s3cr3t-Zq81"}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("sms", "config", cfg)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("sms", "config", cfg)
	buf.WriteString(fmt.Sprint(cfg))

	assert.Contains(t, buf.String(), "LTAI5tAfterSales")
	assert.NotContains(t, buf.String(), "s3cr3t-Zq81")
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	var cfg sms.Config
	assert.Equal(t, 10*time.Second, cfg.HTTPClientOrDefault().Timeout)
	assert.NotNil(t, cfg.LoggerOrDiscard())
}
