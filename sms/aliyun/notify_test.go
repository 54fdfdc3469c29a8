package aliyun

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/sms"
	"github.com/aftersales/aftersales/sms/smstest"
)

const (
	noticeTemplate = "SMS_460775101"
	ttsTemplate    = "TTS_271545012"
	showNumber     = "057188773344"
)

// urgentNotice is a notice as the lifecycle queues it for an urgent order.
func urgentNotice() sms.Notice {
	return sms.Notice{Template: "urgent_order", Params: []sms.Param{
		{Name: "number", Value: "SH-20310314-0007"},
		{Name: "address", Value: "海景苑 3-1-201"},
		{Name: "problem", Value: "渗漏水"},
	}, Text: "紧急工单 SH-20310314-0007"}
}

func noticeConfig(url string, clock *smstest.Clock, medium string) sms.NotifyConfig {
	cfg := sms.NotifyConfig{
		Medium: medium, AccessKeyID: testKeyID, AccessKeySecret: testSecret,
		APIURL: url, NowFunc: clock.Now,
	}
	if medium == sms.MediumSMS {
		cfg.SignName = testSign
		cfg.Templates = map[string]string{"urgent_order": noticeTemplate}
	} else {
		cfg.Templates = map[string]string{"urgent_order": ttsTemplate}
		cfg.ShowNumber = showNumber
	}
	return cfg
}

func newNoticeFake(t *testing.T, clock *smstest.Clock) *smstest.Server {
	t.Helper()
	fake := newFake(t, clock)
	fake.AddApprovedNoticeTemplate(noticeTemplate, "number", "address", "problem")
	return fake
}

func newVoiceFake(t *testing.T, clock *smstest.Clock) *smstest.Server {
	t.Helper()
	fake := smstest.NewAliyunVoice(t, testKeyID, testSecret, smstest.WithNowFunc(clock.Now))
	fake.AddApprovedNoticeTemplate(ttsTemplate, "number", "address", "problem")
	fake.AddShowNumber(showNumber)
	return fake
}

func TestNotifierSendsTemplateWithParams(t *testing.T) {
	t.Parallel()
	clock := smstest.NewClock(t0)
	fake := newNoticeFake(t, clock)
	n, err := NewNotifier(noticeConfig(fake.URL(), clock, sms.MediumSMS))
	require.NoError(t, err)

	require.NoError(t, n.Notify(context.Background(), testPhone, urgentNotice()))

	assert.Equal(t, []smstest.Message{{
		Phone: testPhone, SignName: testSign, TemplateID: noticeTemplate,
		Params: []string{"SH-20310314-0007", "海景苑 3-1-201", "渗漏水"},
	}}, fake.Sent())
}

func TestCallerCallsWithTtsParams(t *testing.T) {
	t.Parallel()
	clock := smstest.NewClock(t0)
	fake := newVoiceFake(t, clock)
	c, err := NewCaller(noticeConfig(fake.URL(), clock, sms.MediumVoice))
	require.NoError(t, err)
	ctx := context.Background()

	require.NoError(t, c.Notify(ctx, testPhone, urgentNotice()))
	require.NoError(t, c.Notify(ctx, "021-61234567", urgentNotice()), "a landline with its area code")

	want := smstest.Call{Phone: testPhone, TemplateID: ttsTemplate,
		Params: []string{"SH-20310314-0007", "海景苑 3-1-201", "渗漏水"}, ShowNumber: showNumber, PlayTimes: 2}
	landline := want
	landline.Phone = "02161234567"
	assert.Equal(t, []smstest.Call{want, landline}, fake.Calls())
	assert.Empty(t, fake.Sent(), "a call is not a text message")
}

// TestNoticeFailures: each refusal of either product comes back as the
// provider's code, with the kind that decides whether the outbox retries.
func TestNoticeFailures(t *testing.T) {
	t.Parallel()
	type setup func(f *smstest.Server, cfg *sms.NotifyConfig, n *sms.Notice)
	nothing := func(*smstest.Server, *sms.NotifyConfig, *sms.Notice) {}
	tests := []struct {
		name     string
		medium   string
		setup    setup
		phone    string
		want     error // nil: transient
		wantCode string
	}{
		{"sms wrong secret", sms.MediumSMS, func(_ *smstest.Server, c *sms.NotifyConfig, _ *sms.Notice) { c.AccessKeySecret = "aliyun-wrong-Kk29" },
			"", sms.ErrConfig, "SignatureDoesNotMatch"},
		{"sms template not approved", sms.MediumSMS, func(_ *smstest.Server, c *sms.NotifyConfig, _ *sms.Notice) {
			c.Templates = map[string]string{"urgent_order": "SMS_404"}
		}, "", sms.ErrConfig, "isv.SMS_TEMPLATE_ILLEGAL"},
		{"sms variable missing", sms.MediumSMS, func(_ *smstest.Server, _ *sms.NotifyConfig, n *sms.Notice) { n.Params = n.Params[:2] },
			"", sms.ErrConfig, "isv.TEMPLATE_MISSING_PARAMETERS"},
		{"sms no balance", sms.MediumSMS, func(f *smstest.Server, _ *sms.NotifyConfig, _ *sms.Notice) { f.FailNext("isv.AMOUNT_NOT_ENOUGH") },
			"", sms.ErrConfig, "isv.AMOUNT_NOT_ENOUGH"},
		{"sms forbidden word", sms.MediumSMS, func(f *smstest.Server, _ *sms.NotifyConfig, _ *sms.Notice) { f.FailNext("isv.BLACK_KEY_CONTROL_LIMIT") },
			"", sms.ErrConfig, "isv.BLACK_KEY_CONTROL_LIMIT"},
		{"sms flow control", sms.MediumSMS, func(f *smstest.Server, _ *sms.NotifyConfig, _ *sms.Notice) { f.FailNext("isv.BUSINESS_LIMIT_CONTROL") },
			"", sms.ErrRateLimited, "isv.BUSINESS_LIMIT_CONTROL"},
		{"sms number refused", sms.MediumSMS, nothing, "12000000016", sms.ErrInvalidPhone, "isv.MOBILE_NUMBER_ILLEGAL"},
		{"sms system error", sms.MediumSMS, func(f *smstest.Server, _ *sms.NotifyConfig, _ *sms.Notice) { f.FailNext("isp.SYSTEM_ERROR") },
			"", nil, "isp.SYSTEM_ERROR"},
		{"sms gateway down", sms.MediumSMS, func(f *smstest.Server, _ *sms.NotifyConfig, _ *sms.Notice) {
			f.FailNextStatus(http.StatusServiceUnavailable)
		},
			"", nil, "ServiceUnavailable"},

		{"voice wrong secret", sms.MediumVoice, func(_ *smstest.Server, c *sms.NotifyConfig, _ *sms.Notice) { c.AccessKeySecret = "aliyun-wrong-Kk29" },
			"", sms.ErrConfig, "SignatureDoesNotMatch"},
		{"voice template not approved", sms.MediumVoice, func(_ *smstest.Server, c *sms.NotifyConfig, _ *sms.Notice) {
			c.Templates = map[string]string{"urgent_order": "TTS_404"}
		}, "", sms.ErrConfig, "isv.TTS_TEMPLATE_ILLEGAL"},
		{"voice show number not the account's", sms.MediumVoice, func(_ *smstest.Server, c *sms.NotifyConfig, _ *sms.Notice) { c.ShowNumber = "057100000000" },
			"", sms.ErrConfig, "isv.DISPLAY_NUMBER_ILLEGAL"},
		{"voice variable missing", sms.MediumVoice, func(_ *smstest.Server, _ *sms.NotifyConfig, n *sms.Notice) { n.Params = n.Params[1:] },
			"", sms.ErrConfig, "isv.TEMPLATE_MISSING_PARAMETERS"},
		{"voice no balance", sms.MediumVoice, func(f *smstest.Server, _ *sms.NotifyConfig, _ *sms.Notice) { f.FailNext("isv.AMOUNT_NOT_ENOUGH") },
			"", sms.ErrConfig, "isv.AMOUNT_NOT_ENOUGH"},
		{"voice number blocked as a nuisance", sms.MediumVoice, func(f *smstest.Server, _ *sms.NotifyConfig, _ *sms.Notice) { f.FailNext("isv.COMPLAINT_REJECT") },
			"", sms.ErrInvalidPhone, "isv.COMPLAINT_REJECT"},
		{"voice number refused", sms.MediumVoice, nothing, "12000000016", sms.ErrInvalidPhone, "isv.MOBILE_NUMBER_ILLEGAL"},
		{"voice call failed", sms.MediumVoice, func(f *smstest.Server, _ *sms.NotifyConfig, _ *sms.Notice) { f.FailNext("isv.VOICE_CALL_FAIL") },
			"", nil, "isv.VOICE_CALL_FAIL"},
		{"voice gateway down", sms.MediumVoice, func(f *smstest.Server, _ *sms.NotifyConfig, _ *sms.Notice) { f.FailNextStatus(http.StatusBadGateway) },
			"", nil, "ServiceUnavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := smstest.NewClock(t0)
			var fake *smstest.Server
			if tt.medium == sms.MediumSMS {
				fake = newNoticeFake(t, clock)
			} else {
				fake = newVoiceFake(t, clock)
			}
			cfg := noticeConfig(fake.URL(), clock, tt.medium)
			n := urgentNotice()
			tt.setup(fake, &cfg, &n)
			phone := tt.phone
			if phone == "" {
				phone = testPhone
			}
			var notifier sms.Notifier
			var err error
			if tt.medium == sms.MediumSMS {
				notifier, err = NewNotifier(cfg)
			} else {
				notifier, err = NewCaller(cfg)
			}
			require.NoError(t, err)

			err = notifier.Notify(context.Background(), phone, n)

			require.Error(t, err)
			var e *sms.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.wantCode, e.Code)
			for _, sentinel := range []error{sms.ErrConfig, sms.ErrRateLimited, sms.ErrInvalidPhone} {
				assert.Equal(t, sentinel == tt.want, errors.Is(err, sentinel), "errors.Is(err, %v): %v", sentinel, err)
			}
			assert.Equal(t, tt.want == sms.ErrConfig || tt.want == sms.ErrInvalidPhone, sms.IsPermanent(err))
			assertSafe(t, err, phone, cfg.AccessKeySecret)
			assert.Empty(t, fake.Sent())
			assert.Empty(t, fake.Calls())
		})
	}
}

// TestCallFlowControl: the service's per-number limit of one call a minute
// is a rate limit, which clears.
func TestCallFlowControl(t *testing.T) {
	t.Parallel()
	clock := smstest.NewClock(t0)
	fake := newVoiceFake(t, clock)
	c, err := NewCaller(noticeConfig(fake.URL(), clock, sms.MediumVoice))
	require.NoError(t, err)
	ctx := context.Background()

	require.NoError(t, c.Notify(ctx, testPhone, urgentNotice()))
	err = c.Notify(ctx, testPhone, urgentNotice())
	require.ErrorIs(t, err, sms.ErrRateLimited)
	assert.Contains(t, err.Error(), "触发分钟级流控")
	clock.Advance(time.Minute)
	require.NoError(t, c.Notify(ctx, testPhone, urgentNotice()))
	assert.Len(t, fake.Calls(), 2)
}

// TestNoticeRefusedWithoutCalling: what the adapter can tell is wrong never
// reaches the provider.
func TestNoticeRefusedWithoutCalling(t *testing.T) {
	t.Parallel()
	clock := smstest.NewClock(t0)
	smsFake, voiceFake := newNoticeFake(t, clock), newVoiceFake(t, clock)
	n, err := NewNotifier(noticeConfig(smsFake.URL(), clock, sms.MediumSMS))
	require.NoError(t, err)
	c, err := NewCaller(noticeConfig(voiceFake.URL(), clock, sms.MediumVoice))
	require.NoError(t, err)
	ctx := context.Background()

	for _, notifier := range []sms.Notifier{n, c} {
		err := notifier.Notify(ctx, "1390000001", urgentNotice())
		require.ErrorIs(t, err, sms.ErrInvalidPhone)
		assert.Contains(t, err.Error(), "139****0001")

		other := urgentNotice()
		other.Template = "not_taken"
		require.ErrorIs(t, notifier.Notify(ctx, testPhone, other), sms.ErrConfig, "no template configured for the kind")

		long := urgentNotice()
		long.Params[1].Value = string(make([]rune, sms.MaxParamRunes+1))
		require.ErrorIs(t, notifier.Notify(ctx, testPhone, long), sms.ErrConfig)
	}
	require.ErrorIs(t, n.Notify(ctx, "021-61234567", urgentNotice()), sms.ErrInvalidPhone, "no text message to a landline")
	assert.Zero(t, smsFake.Requests())
	assert.Zero(t, voiceFake.Requests())
}

func TestNewNotifierChecksMedium(t *testing.T) {
	t.Parallel()
	clock := smstest.NewClock(t0)
	_, err := NewNotifier(noticeConfig("", clock, sms.MediumVoice))
	require.ErrorIs(t, err, sms.ErrConfig)
	_, err = NewCaller(noticeConfig("", clock, sms.MediumSMS))
	require.ErrorIs(t, err, sms.ErrConfig)
	c, err := NewCaller(noticeConfig("", clock, sms.MediumVoice))
	require.NoError(t, err)
	assert.Equal(t, DefaultVoiceURL, c.url)
	_, err = NewNotifier(sms.NotifyConfig{Medium: sms.MediumSMS, AccessKeyID: testKeyID})
	require.ErrorIs(t, err, sms.ErrConfig)
	assert.Contains(t, err.Error(), "AccessKeySecret, SignName, Templates, NowFunc")
}
