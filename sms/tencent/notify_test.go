package tencent

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
	noticeTemplate = "2099001"
	voiceTemplate  = "4356"
	voiceAppID     = "1400006666"
)

// urgentNotice is a notice as the lifecycle queues it for an urgent order.
func urgentNotice() sms.Notice {
	return sms.Notice{Template: "urgent_order", Params: []sms.Param{
		{Name: "number", Value: "SH-20310315-0007"},
		{Name: "address", Value: "海景苑 3-1-201"},
		{Name: "problem", Value: "渗漏水"},
	}, Text: "紧急工单 SH-20310315-0007"}
}

func noticeConfig(url string, clock *smstest.Clock, medium string) sms.NotifyConfig {
	cfg := sms.NotifyConfig{
		Medium: medium, AccessKeyID: testSecretID, AccessKeySecret: testSecretKey,
		APIURL: url, NowFunc: clock.Now,
	}
	if medium == sms.MediumSMS {
		cfg.SignName, cfg.SDKAppID = testSign, testAppID
		cfg.Templates = map[string]string{"urgent_order": noticeTemplate}
	} else {
		cfg.SDKAppID = voiceAppID
		cfg.Templates = map[string]string{"urgent_order": voiceTemplate}
		cfg.PlayTimes = 3
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
	fake := smstest.NewTencentVoice(t, testSecretID, testSecretKey, voiceAppID, smstest.WithNowFunc(clock.Now))
	fake.AddApprovedNoticeTemplate(voiceTemplate, "number", "address", "problem")
	return fake
}

func TestNotifierSendsTemplateParamSet(t *testing.T) {
	t.Parallel()
	clock := smstest.NewClock(t0)
	fake := newNoticeFake(t, clock)
	n, err := NewNotifier(noticeConfig(fake.URL(), clock, sms.MediumSMS))
	require.NoError(t, err)

	require.NoError(t, n.Notify(context.Background(), testPhone, urgentNotice()))

	assert.Equal(t, []smstest.Message{{
		Phone: "+86" + testPhone, SignName: testSign, TemplateID: noticeTemplate,
		Params: []string{"SH-20310315-0007", "海景苑 3-1-201", "渗漏水"},
	}}, fake.Sent())
}

// TestCallerSignsForVMS: the call is signed for service "vms" with the
// credential date in UTC (t0 is the next day in Beijing), which the fake
// checks.
func TestCallerSignsForVMS(t *testing.T) {
	t.Parallel()
	clock := smstest.NewClock(t0)
	fake := newVoiceFake(t, clock)
	c, err := NewCaller(noticeConfig(fake.URL(), clock, sms.MediumVoice))
	require.NoError(t, err)

	require.NoError(t, c.Notify(context.Background(), testPhone, urgentNotice()))

	assert.Equal(t, []smstest.Call{{Phone: "+86" + testPhone, TemplateID: voiceTemplate,
		Params: []string{"SH-20310315-0007", "海景苑 3-1-201", "渗漏水"}, PlayTimes: 3}}, fake.Calls())
}

func TestTencentNoticeFailures(t *testing.T) {
	t.Parallel()
	type setup func(f *smstest.Server, cfg *sms.NotifyConfig, n *sms.Notice)
	nothing := func(*smstest.Server, *sms.NotifyConfig, *sms.Notice) {}
	fail := func(code string) setup {
		return func(f *smstest.Server, _ *sms.NotifyConfig, _ *sms.Notice) { f.FailNext(code) }
	}
	tests := []struct {
		name     string
		medium   string
		setup    setup
		phone    string
		want     error // nil: transient
		wantCode string
	}{
		{"sms wrong key", sms.MediumSMS, func(_ *smstest.Server, c *sms.NotifyConfig, _ *sms.Notice) { c.AccessKeySecret = "tencent-wrong-Qq11" },
			"", sms.ErrConfig, "AuthFailure.SignatureFailure"},
		{"sms template not approved", sms.MediumSMS, func(_ *smstest.Server, c *sms.NotifyConfig, _ *sms.Notice) {
			c.Templates = map[string]string{"urgent_order": "404"}
		}, "", sms.ErrConfig, "FailedOperation.TemplateIncorrectOrUnapproved"},
		{"sms values do not match the template", sms.MediumSMS, func(_ *smstest.Server, _ *sms.NotifyConfig, n *sms.Notice) { n.Params = n.Params[:2] },
			"", sms.ErrConfig, "FailedOperation.TemplateIncorrectOrUnapproved"},
		{"sms no balance", sms.MediumSMS, fail("FailedOperation.InsufficientBalanceInSmsPackage"),
			"", sms.ErrConfig, "FailedOperation.InsufficientBalanceInSmsPackage"},
		{"sms 30-second limit", sms.MediumSMS, fail("LimitExceeded.PhoneNumberThirtySecondLimit"),
			"", sms.ErrRateLimited, "LimitExceeded.PhoneNumberThirtySecondLimit"},
		{"sms number refused", sms.MediumSMS, nothing, "12000000016", sms.ErrInvalidPhone, "InvalidParameterValue.IncorrectPhoneNumber"},
		{"sms timeout", sms.MediumSMS, fail("InternalError.Timeout"), "", nil, "InternalError.Timeout"},

		{"voice wrong key", sms.MediumVoice, func(_ *smstest.Server, c *sms.NotifyConfig, _ *sms.Notice) { c.AccessKeySecret = "tencent-wrong-Qq11" },
			"", sms.ErrConfig, "AuthFailure.SignatureFailure"},
		{"voice other application", sms.MediumVoice, func(_ *smstest.Server, c *sms.NotifyConfig, _ *sms.Notice) { c.SDKAppID = testAppID },
			"", sms.ErrConfig, "UnauthorizedOperation.VoiceSdkAppidVerifyFail"},
		{"voice template not approved", sms.MediumVoice, func(_ *smstest.Server, c *sms.NotifyConfig, _ *sms.Notice) {
			c.Templates = map[string]string{"urgent_order": "404"}
		}, "", sms.ErrConfig, "FailedOperation.TemplateIncorrectOrUnapproved"},
		{"voice no balance", sms.MediumVoice, fail("FailedOperation.InsufficientBalanceInVoicePackage"),
			"", sms.ErrConfig, "FailedOperation.InsufficientBalanceInVoicePackage"},
		{"voice frequency limit", sms.MediumVoice, fail("LimitExceeded.DeliveryFrequencyLimit"),
			"", sms.ErrRateLimited, "LimitExceeded.DeliveryFrequencyLimit"},
		{"voice number refused", sms.MediumVoice, nothing, "12000000016", sms.ErrInvalidPhone, "InvalidParameterValue.CalledNumberVerifyFail"},
		{"voice upstream error", sms.MediumVoice, fail("InternalError.UpstreamError"), "", nil, "InternalError.UpstreamError"},
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
			assert.Equal(t, "tencent", e.Provider)
			assert.Equal(t, tt.wantCode, e.Code)
			assert.NotEmpty(t, e.RequestID)
			for _, sentinel := range []error{sms.ErrConfig, sms.ErrRateLimited, sms.ErrInvalidPhone} {
				assert.Equal(t, sentinel == tt.want, errors.Is(err, sentinel), "errors.Is(err, %v): %v", sentinel, err)
			}
			assertSafe(t, err, phone, cfg.AccessKeySecret)
			assert.Empty(t, fake.Sent())
			assert.Empty(t, fake.Calls())
		})
	}
}

func TestCallerGatewayAndFlowControl(t *testing.T) {
	t.Parallel()
	clock := smstest.NewClock(t0)
	fake := newVoiceFake(t, clock)
	c, err := NewCaller(noticeConfig(fake.URL(), clock, sms.MediumVoice))
	require.NoError(t, err)
	ctx := context.Background()

	fake.FailNextStatus(http.StatusBadGateway)
	err = c.Notify(ctx, testPhone, urgentNotice())
	var e *sms.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, http.StatusBadGateway, e.Status)
	assert.False(t, sms.IsPermanent(err), "a gateway's failure is retried")

	require.NoError(t, c.Notify(ctx, testPhone, urgentNotice()))
	err = c.Notify(ctx, testPhone, urgentNotice())
	require.ErrorIs(t, err, sms.ErrRateLimited, "one call in 30 s")
	clock.Advance(31 * time.Second)
	require.NoError(t, c.Notify(ctx, testPhone, urgentNotice()))
	assert.Len(t, fake.Calls(), 2)
}

func TestTencentNoticeRefusedWithoutCalling(t *testing.T) {
	t.Parallel()
	clock := smstest.NewClock(t0)
	smsFake, voiceFake := newNoticeFake(t, clock), newVoiceFake(t, clock)
	n, err := NewNotifier(noticeConfig(smsFake.URL(), clock, sms.MediumSMS))
	require.NoError(t, err)
	c, err := NewCaller(noticeConfig(voiceFake.URL(), clock, sms.MediumVoice))
	require.NoError(t, err)
	ctx := context.Background()
	for _, notifier := range []sms.Notifier{n, c} {
		require.ErrorIs(t, notifier.Notify(ctx, "021-61234567", urgentNotice()), sms.ErrInvalidPhone, "mobiles only")
		other := urgentNotice()
		other.Template = "not_taken"
		require.ErrorIs(t, notifier.Notify(ctx, testPhone, other), sms.ErrConfig)
	}
	assert.Zero(t, smsFake.Requests())
	assert.Zero(t, voiceFake.Requests())
}

func TestNewCallerDefaults(t *testing.T) {
	t.Parallel()
	c, err := NewCaller(noticeConfig("", smstest.NewClock(t0), sms.MediumVoice))
	require.NoError(t, err)
	assert.Equal(t, DefaultVoiceURL, c.url)
	assert.Equal(t, "vms.tencentcloudapi.com", c.host)
	assert.Equal(t, DefaultRegion, c.region)
	_, err = NewNotifier(noticeConfig("", smstest.NewClock(t0), sms.MediumVoice))
	require.ErrorIs(t, err, sms.ErrConfig)
	_, err = NewCaller(sms.NotifyConfig{Medium: sms.MediumVoice, AccessKeyID: "id", AccessKeySecret: "key"})
	require.ErrorIs(t, err, sms.ErrConfig)
	assert.Contains(t, err.Error(), "SDKAppID, Templates, NowFunc")
}
