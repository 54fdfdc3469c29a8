package phone_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/bot/phone"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/sms"
	"github.com/aftersales/aftersales/sms/aliyun"
	"github.com/aftersales/aftersales/sms/smstest"
	"github.com/aftersales/aftersales/sms/tencent"
)

const (
	keyID   = "LTAI5tPhoneChannel"
	secret  = "phone-channel-secret-81"
	sign    = "海景物业"
	smsTpl  = "SMS_500001"
	ttsTpl  = "TTS_500001"
	appID   = "1400123456"
	callee  = "13900009002"
	masked  = "139****9002"
	urgency = "urgent_order"
)

var t0 = testclock.Date(2031, time.March, 14, 9, 0, 0, 0, time.UTC)

// order is an outbound urgent work order as the lifecycle queues it.
func order(platform bot.Platform) bot.Outbound {
	return bot.Outbound{
		To: bot.UserRef{Platform: platform, ID: callee}, Kind: bot.OutText,
		Text: "紧急工单 SH-20310314-0007：海景苑 3-1-201，渗漏水", Template: urgency,
		Params: []bot.Param{{Name: "number", Value: "SH-20310314-0007"}, {Name: "address", Value: "海景苑 3-1-201"}, {Name: "problem", Value: "渗漏水"}},
	}
}

// aliyunChannels returns the SMS and Voice channels on Alibaba Cloud fakes.
func aliyunChannels(t *testing.T, logger *slog.Logger) (smsFake, voiceFake *smstest.Server, smsCh, voiceCh *phone.Channel) {
	t.Helper()
	clock := smstest.NewClock(t0)
	smsFake = smstest.NewAliyun(t, keyID, secret, smstest.WithNowFunc(clock.Now))
	smsFake.AddApprovedSignName(sign)
	smsFake.AddApprovedNoticeTemplate(smsTpl, "number", "address", "problem")
	voiceFake = smstest.NewAliyunVoice(t, keyID, secret, smstest.WithNowFunc(clock.Now))
	voiceFake.AddApprovedNoticeTemplate(ttsTpl, "number", "address", "problem")
	base := sms.NotifyConfig{AccessKeyID: keyID, AccessKeySecret: secret, NowFunc: clock.Now}
	sc := base
	sc.Medium, sc.SignName, sc.APIURL, sc.Templates = sms.MediumSMS, sign, smsFake.URL(), map[string]string{urgency: smsTpl}
	n, err := aliyun.NewNotifier(sc)
	require.NoError(t, err)
	vc := base
	vc.Medium, vc.APIURL, vc.Templates = sms.MediumVoice, voiceFake.URL(), map[string]string{urgency: ttsTpl}
	c, err := aliyun.NewCaller(vc)
	require.NoError(t, err)
	return smsFake, voiceFake, phone.New(bot.SMS, n, logger), phone.New(bot.Voice, c, logger)
}

func TestSendTextsAndCalls(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	smsFake, voiceFake, smsCh, voiceCh := aliyunChannels(t, slog.New(slog.NewTextHandler(&logs, nil)))
	ctx := context.Background()
	assert.Equal(t, bot.SMS, smsCh.Platform())
	assert.Equal(t, bot.Voice, voiceCh.Platform())

	require.NoError(t, smsCh.Send(ctx, order(bot.SMS)))
	require.NoError(t, voiceCh.Send(ctx, order(bot.Voice)))

	values := []string{"SH-20310314-0007", "海景苑 3-1-201", "渗漏水"}
	assert.Equal(t, []smstest.Message{{Phone: callee, SignName: sign, TemplateID: smsTpl, Params: values}}, smsFake.Sent())
	calls := voiceFake.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, callee, calls[0].Phone)
	assert.Equal(t, values, calls[0].Params)
	assert.Contains(t, logs.String(), "phone="+masked)
	assert.NotContains(t, logs.String(), callee)
}

// TestSendThroughTencent: the same messages through Tencent Cloud's fakes.
func TestSendThroughTencent(t *testing.T) {
	t.Parallel()
	clock := smstest.NewClock(t0)
	smsFake := smstest.NewTencent(t, keyID, secret, appID, smstest.WithNowFunc(clock.Now))
	smsFake.AddApprovedSignName(sign)
	smsFake.AddApprovedNoticeTemplate("2001", "number", "address", "problem")
	voiceFake := smstest.NewTencentVoice(t, keyID, secret, "1400654321", smstest.WithNowFunc(clock.Now))
	voiceFake.AddApprovedNoticeTemplate("4356", "number", "address", "problem")
	n, err := tencent.NewNotifier(sms.NotifyConfig{Medium: sms.MediumSMS, AccessKeyID: keyID, AccessKeySecret: secret,
		SignName: sign, SDKAppID: appID, Templates: map[string]string{urgency: "2001"}, APIURL: smsFake.URL(), NowFunc: clock.Now})
	require.NoError(t, err)
	c, err := tencent.NewCaller(sms.NotifyConfig{Medium: sms.MediumVoice, AccessKeyID: keyID, AccessKeySecret: secret,
		SDKAppID: "1400654321", Templates: map[string]string{urgency: "4356"}, APIURL: voiceFake.URL(), NowFunc: clock.Now})
	require.NoError(t, err)
	ctx := context.Background()

	require.NoError(t, phone.New(bot.SMS, n, nil).Send(ctx, order(bot.SMS)))
	require.NoError(t, phone.New(bot.Voice, c, nil).Send(ctx, order(bot.Voice)))
	require.Len(t, smsFake.Sent(), 1)
	assert.Equal(t, "+86"+callee, smsFake.Sent()[0].Phone)
	require.Len(t, voiceFake.Calls(), 1)

	err = phone.New(bot.SMS, n, nil).Send(ctx, order(bot.SMS))
	require.Error(t, err, "a second message within 30 s")
	assert.NotErrorIs(t, err, bot.ErrUndeliverable, "flow control clears: retried")
}

// TestSendFailures: what no retry cures is undeliverable, so that the
// outbox fails it at once; throttling and outages are retried.
func TestSendFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		voice         bool
		setup         func(f *smstest.Server, msg *bot.Outbound)
		undeliverable bool
		wantCode      string
	}{
		{"invalid number", false, func(_ *smstest.Server, m *bot.Outbound) { m.To.ID = "12000009002" }, true, "isv.MOBILE_NUMBER_ILLEGAL"},
		{"template variable missing", false, func(_ *smstest.Server, m *bot.Outbound) { m.Params = m.Params[:1] }, true, "isv.TEMPLATE_MISSING_PARAMETERS"},
		{"no balance", true, func(f *smstest.Server, _ *bot.Outbound) { f.FailNext("isv.AMOUNT_NOT_ENOUGH") }, true, "isv.AMOUNT_NOT_ENOUGH"},
		{"kind of notice with no template", true, func(_ *smstest.Server, m *bot.Outbound) { m.Template = "not_taken" }, true, ""},
		{"throttled", true, func(f *smstest.Server, _ *bot.Outbound) { f.FailNext("isv.BUSINESS_LIMIT_CONTROL") }, false, "isv.BUSINESS_LIMIT_CONTROL"},
		{"provider error", false, func(f *smstest.Server, _ *bot.Outbound) { f.FailNext("isp.SYSTEM_ERROR") }, false, "isp.SYSTEM_ERROR"},
		{"gateway down", false, func(f *smstest.Server, _ *bot.Outbound) { f.FailNextStatus(http.StatusServiceUnavailable) }, false, "ServiceUnavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			smsFake, voiceFake, smsCh, voiceCh := aliyunChannels(t, nil)
			fake, ch, msg := smsFake, smsCh, order(bot.SMS)
			if tt.voice {
				fake, ch, msg = voiceFake, voiceCh, order(bot.Voice)
			}
			tt.setup(fake, &msg)

			err := ch.Send(context.Background(), msg)

			require.Error(t, err)
			assert.Equal(t, tt.undeliverable, errors.Is(err, bot.ErrUndeliverable), "%v", err)
			assert.Contains(t, err.Error(), tt.wantCode)
			assert.NotContains(t, err.Error(), callee)
			assert.NotContains(t, err.Error(), secret)
			assert.Empty(t, fake.Sent())
			assert.Empty(t, fake.Calls())
		})
	}
}

func TestSendWhatAPhoneCannotTake(t *testing.T) {
	t.Parallel()
	smsFake, _, smsCh, _ := aliyunChannels(t, nil)
	ctx := context.Background()

	require.NoError(t, smsCh.Send(ctx, bot.Outbound{To: order(bot.SMS).To, Kind: bot.OutTyping}), "skipped")
	require.NoError(t, smsCh.Send(ctx, bot.Outbound{To: order(bot.SMS).To, Kind: bot.OutEdit, Ref: "x"}), "skipped")
	require.ErrorIs(t, smsCh.Send(ctx, bot.Outbound{To: order(bot.SMS).To, Kind: bot.OutPhoto, BlobKey: "b"}), bot.ErrUndeliverable)
	plain := order(bot.SMS)
	plain.Template = ""
	require.ErrorIs(t, smsCh.Send(ctx, plain), bot.ErrUndeliverable, "free text is not sent")
	assert.Zero(t, smsFake.Requests())

	off := phone.New(bot.Voice, sms.Off{Why: "set AFTERSALES_VOICE_URGENT_TEMPLATE_ID"}, nil)
	err := off.Send(ctx, order(bot.Voice))
	require.ErrorIs(t, err, bot.ErrUndeliverable)
	assert.Contains(t, err.Error(), "AFTERSALES_VOICE_URGENT_TEMPLATE_ID")
}
