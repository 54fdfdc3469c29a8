package sms_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/sms"
)

func notice() sms.Notice {
	return sms.Notice{Template: "urgent_order", Params: []sms.Param{
		{Name: "number", Value: "SH-20310314-0007"}, {Name: "address", Value: "海景苑 3-1-201"}, {Name: "problem", Value: "渗漏水"},
	}, Text: "紧急工单 SH-20310314-0007：海景苑 3-1-201，渗漏水"}
}

func TestNoticeEncodings(t *testing.T) {
	t.Parallel()
	n := notice()
	assert.Equal(t, []string{"SH-20310314-0007", "海景苑 3-1-201", "渗漏水"}, n.Values())
	var m map[string]string
	require.NoError(t, json.Unmarshal([]byte(n.JSON()), &m))
	assert.Equal(t, map[string]string{"number": "SH-20310314-0007", "address": "海景苑 3-1-201", "problem": "渗漏水"}, m)
	assert.Empty(t, sms.Notice{Template: "x"}.JSON())
}

func TestNoticeValidate(t *testing.T) {
	t.Parallel()
	require.NoError(t, notice().Validate())
	for name, change := range map[string]func(n *sms.Notice){
		"no template":      func(n *sms.Notice) { n.Template = " " },
		"bad name":         func(n *sms.Notice) { n.Params[0].Name = "1st" },
		"name with a dash": func(n *sms.Notice) { n.Params[0].Name = "case-number" },
		"name twice":       func(n *sms.Notice) { n.Params[1].Name = "number" },
		"empty value":      func(n *sms.Notice) { n.Params[2].Value = "" },
		"too long":         func(n *sms.Notice) { n.Params[1].Value = strings.Repeat("楼", sms.MaxParamRunes+1) },
	} {
		n := notice()
		change(&n)
		assert.ErrorIs(t, n.Validate(), sms.ErrConfig, name)
	}
}

func TestClipParam(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "渗漏水", sms.ClipParam(" 渗漏水 "))
	long := sms.ClipParam(strings.Repeat("楼", 50))
	assert.Len(t, []rune(long), sms.MaxParamRunes)
	assert.True(t, strings.HasSuffix(long, "…"))
	n := notice()
	n.Params[1].Value = long
	require.NoError(t, n.Validate())
}

func TestValidateCallee(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"13900000016":   "13900000016",
		"021-61234567":  "02161234567",
		"0571-88773344": "057188773344",
		"01061234567":   "01061234567",
	} {
		got, err := sms.ValidateCallee(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	for _, in := range []string{"", "12345", "+447700900123", "0044-7700900123", "1390000001", "139000000160"} {
		_, err := sms.ValidateCallee(in)
		require.ErrorIs(t, err, sms.ErrInvalidPhone, in)
		if len(in) > 7 {
			assert.NotContains(t, err.Error(), in, "masked")
		}
	}
}

func TestLogNotifierLogsMaskedPhone(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	ctx := context.Background()

	require.NoError(t, sms.NewLogNotifier(logger, sms.MediumVoice).Notify(ctx, "13900009002", notice()))
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	assert.Equal(t, "WARN", line["level"])
	assert.Equal(t, "phone notice", line["msg"])
	assert.Equal(t, "voice", line["medium"])
	assert.Equal(t, "139****9002", line["phone"])
	assert.Equal(t, "urgent_order", line["template"])
	assert.Equal(t, notice().Text, line["text"])
	assert.NotContains(t, buf.String(), "13900009002")

	buf.Reset()
	smsLog := sms.NewLogNotifier(logger, sms.MediumSMS)
	require.ErrorIs(t, smsLog.Notify(ctx, "021-61234567", notice()), sms.ErrInvalidPhone, "no text message to a landline")
	require.NoError(t, sms.NewLogNotifier(logger, sms.MediumVoice).Notify(ctx, "021-61234567", notice()), "a call to one")
	bad := notice()
	bad.Template = ""
	require.ErrorIs(t, smsLog.Notify(ctx, "13900009002", bad), sms.ErrConfig)
}

func TestOffRefusesWithTheSetting(t *testing.T) {
	t.Parallel()
	err := sms.Off{Why: "set AFTERSALES_VOICE_URGENT_TEMPLATE_ID"}.Notify(context.Background(), "13900009002", notice())
	require.ErrorIs(t, err, sms.ErrNotConfigured)
	require.ErrorIs(t, err, sms.ErrConfig)
	assert.True(t, sms.IsPermanent(err))
	assert.Contains(t, err.Error(), "AFTERSALES_VOICE_URGENT_TEMPLATE_ID")
	assert.NotContains(t, err.Error(), "13900009002")
}

func TestIsPermanent(t *testing.T) {
	t.Parallel()
	assert.True(t, sms.IsPermanent(&sms.Error{Kind: sms.KindInvalidPhone}))
	assert.True(t, sms.IsPermanent(fmt.Errorf("wrapped: %w", &sms.Error{Kind: sms.KindConfig})))
	assert.False(t, sms.IsPermanent(&sms.Error{Kind: sms.KindRateLimited}))
	assert.False(t, sms.IsPermanent(&sms.Error{Kind: sms.KindTransient}))
	assert.False(t, sms.IsPermanent(context.DeadlineExceeded))
}

func TestNotifyConfigValidate(t *testing.T) {
	t.Parallel()
	ok := sms.NotifyConfig{Provider: "aliyun", Medium: sms.MediumSMS, AccessKeyID: "id", AccessKeySecret: "s",
		SignName: "海景物业", Templates: map[string]string{"urgent_order": "SMS_1"}, NowFunc: time.Now}
	require.NoError(t, ok.Validate())
	voice := ok
	voice.Medium, voice.SignName = sms.MediumVoice, ""
	require.NoError(t, voice.Validate(), "a call needs no sign name")

	tests := []struct {
		name   string
		change func(c *sms.NotifyConfig)
		want   string
	}{
		{"no medium", func(c *sms.NotifyConfig) { c.Medium = "" }, "Medium"},
		{"no provider", func(c *sms.NotifyConfig) { c.Provider = "" }, "Provider is required"},
		{"unknown provider", func(c *sms.NotifyConfig) { c.Provider = "twilio" }, "unknown Provider"},
		{"missing fields", func(c *sms.NotifyConfig) { c.SignName, c.Templates, c.NowFunc = "", nil, nil }, "missing SignName, Templates, NowFunc"},
		{"tencent app", func(c *sms.NotifyConfig) { c.Provider = "tencent" }, "missing SDKAppID"},
		{"empty template", func(c *sms.NotifyConfig) { c.Templates = map[string]string{"urgent_order": ""} }, "empty kind or template"},
		{"play times", func(c *sms.NotifyConfig) { c.PlayTimes = 4 }, "PlayTimes"},
		{"url", func(c *sms.NotifyConfig) { c.APIURL = "dyvmsapi.aliyuncs.com" }, "APIURL"},
		{"log without logger", func(c *sms.NotifyConfig) { c.Provider = "log" }, "missing Logger"},
	}
	for _, tt := range tests {
		c := ok
		tt.change(&c)
		err := c.Validate()
		require.ErrorIs(t, err, sms.ErrConfig, tt.name)
		assert.Contains(t, err.Error(), tt.want, tt.name)
	}

	// As: a provider's notifier of one medium takes only that medium.
	got, err := sms.NotifyConfig{Medium: sms.MediumVoice, AccessKeyID: "id", AccessKeySecret: "s",
		Templates: map[string]string{"urgent_order": "TTS_1"}, NowFunc: time.Now}.As(sms.ProviderAliyun, sms.MediumVoice)
	require.NoError(t, err)
	assert.Equal(t, sms.ProviderAliyun, got.Provider)
	_, err = ok.As(sms.ProviderAliyun, sms.MediumVoice)
	require.ErrorIs(t, err, sms.ErrConfig, "a text-message config for a caller")
	assert.Contains(t, err.Error(), "does not send sms")
	_, err = ok.As(sms.ProviderTencent, sms.MediumSMS)
	require.ErrorIs(t, err, sms.ErrConfig, "still checked: tencent needs its app id")

	secret := ok
	secret.AccessKeySecret = "very-secret-value"
	assert.NotContains(t, secret.String(), "very-secret-value")
	assert.Equal(t, 2, ok.PlayTimesOrDefault())
	id, err := ok.Template("urgent_order")
	require.NoError(t, err)
	assert.Equal(t, "SMS_1", id)
	_, err = ok.Template("not_taken")
	require.ErrorIs(t, err, sms.ErrConfig)
}
