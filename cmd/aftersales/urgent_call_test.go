package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot/telegram/telegramtest"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/lifecycle"
	"github.com/aftersales/aftersales/sms/smstest"
	"github.com/aftersales/aftersales/staff"
)

// The Alibaba Cloud account of the urgent-call tests, on the fakes.
const (
	urgentKeyID       = "LTAI5tUrgentCalls"
	urgentSecret      = "urgent-calls-secret-7Hq2"
	urgentSign        = "海景地产"
	urgentCodeTpl     = "SMS_100001"
	urgentSMSTpl      = "SMS_300001"
	urgentSMSLateTpl  = "SMS_300002"
	urgentCallTpl     = "TTS_300001"
	urgentCallLateTpl = "TTS_300002"
	urgentShowNumber  = "057188773344"
)

// urgentPhones is the service with urgent texts and calls on, through fakes
// of Alibaba Cloud's SMS and voice APIs that check every signature and
// template, on the scenario's fake clock.
type urgentPhones struct {
	*scenario
	sms, voice *smstest.Server
}

func newUrgentPhones(t *testing.T) *urgentPhones {
	t.Helper()
	s := &scenario{t: t, dir: t.TempDir(), clock: testclock.NewRunning(testclock.Start()), tg: telegramtest.NewServer(t, newBotToken())}
	u := &urgentPhones{scenario: s,
		sms:   smstest.NewAliyun(t, urgentKeyID, urgentSecret, smstest.WithNowFunc(s.clock.Now)),
		voice: smstest.NewAliyunVoice(t, urgentKeyID, urgentSecret, smstest.WithNowFunc(s.clock.Now))}
	u.sms.AddApprovedSignName(urgentSign)
	u.sms.AddApprovedTemplate(urgentCodeTpl)
	for _, id := range []string{urgentSMSTpl, urgentSMSLateTpl} {
		u.sms.AddApprovedNoticeTemplate(id, "number", "address", "problem")
	}
	for _, id := range []string{urgentCallTpl, urgentCallLateTpl} {
		u.voice.AddApprovedNoticeTemplate(id, "number", "address", "problem")
	}
	u.voice.AddShowNumber(urgentShowNumber)
	s.m, s.stop = runMain(t, true, func(c *Config) {
		telegramConfig(s.tg)(c)
		c.DataDir, c.nowFunc, c.APIToken = s.dir, s.clock.Now, scenarioAPIToken
		c.SMSProvider, c.SMSAccessKeyID, c.SMSAccessKeySecret = "aliyun", urgentKeyID, urgentSecret
		c.SMSSignName, c.SMSTemplateID, c.SMSAPIURL = urgentSign, urgentCodeTpl, u.sms.URL()
		c.SMSUrgentTemplateID, c.SMSNotTakenTemplateID = urgentSMSTpl, urgentSMSLateTpl
		c.VoiceUrgentTemplateID, c.VoiceNotTakenTemplateID = urgentCallTpl, urgentCallLateTpl
		c.VoiceShowNumber, c.VoiceAPIURL = urgentShowNumber, u.voice.URL()
	})
	return u
}

// waitTexted waits until the fake SMS provider accepted a text of template
// to phone, and returns it.
func (u *urgentPhones) waitTexted(phone, template string) smstest.Message {
	u.t.Helper()
	var got smstest.Message
	require.Eventually(u.t, func() bool {
		for _, m := range u.sms.Sent() {
			if m.Phone == phone && m.TemplateID == template {
				got = m
				return true
			}
		}
		return false
	}, 15*time.Second, 20*time.Millisecond, "no text of %s to %s", template, casework.MaskPhone(phone))
	return got
}

// waitCalled waits until the fake voice provider accepted a call of
// template to phone, and returns it.
func (u *urgentPhones) waitCalled(phone, template string) smstest.Call {
	u.t.Helper()
	var got smstest.Call
	require.Eventually(u.t, func() bool {
		for _, c := range u.voice.Calls() {
			if c.Phone == phone && c.TemplateID == template {
				got = c
				return true
			}
		}
		return false
	}, 15*time.Second, 20*time.Millisecond, "no call of %s to %s", template, casework.MaskPhone(phone))
	return got
}

// consolePage signs in to the console as a new supervisor and returns the
// page at path.
func (u *urgentPhones) consolePage(path string) string {
	u.t.Helper()
	ctx := context.Background()
	const password = "duty-supervisor-password-2026"
	require.NoError(u.t, u.m.Staff.AddUser(ctx, &staff.User{Username: "duty", DisplayName: "值班主管", Role: staff.RoleSupervisor}, password, "test"))
	jar, err := cookiejar.New(nil)
	require.NoError(u.t, err)
	client := &http.Client{Jar: jar}
	base := "http://" + u.m.Addr()
	resp, err := client.PostForm(base+"/console/login", url.Values{"username": {"duty"}, "password": {password}, "next": {path}})
	require.NoError(u.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(u.t, err)
	require.Equal(u.t, http.StatusOK, resp.StatusCode, "%s", body)
	return string(body)
}

// TestUrgentLeakRingsPhones: an owner reports a burst pipe; the engineer's
// phone gets the text and the call at once, through the providers; nobody
// takes the order, and 30 minutes later the duty supervisor's phone rings
// — the provider refuses the call's number, which the case shows failed.
func TestUrgentLeakRingsPhones(t *testing.T) {
	t.Parallel()
	u := newUrgentPhones(t)
	supervisor := u.bindOnTelegram("林峰")
	engineer := u.bindOnTelegram("吴海涛")
	engineerPhone, supervisorPhone := u.member("吴海涛").Phone, u.member("林峰").Phone

	owner := u.chat("晓峰")
	reported := u.clock.Now()
	c := u.report(owner, residentLin, "engineering_quality/leak", "卫生间水管爆了，水漫出来了")
	require.Equal(t, casework.UrgencyUrgent, c.Urgency, "the classifier's urgent signals")

	// At once: chat, text and call, with the order's essentials.
	engineer.expect("【派工单】" + c.Number)
	values := []string{c.Number, "海景苑 3-1-201", "卫生间 渗漏水"}
	text := u.waitTexted(engineerPhone, urgentSMSTpl)
	call := u.waitCalled(engineerPhone, urgentCallTpl)
	assert.Less(t, u.clock.Now().Sub(reported), time.Minute, "a phone rang within a minute of the report")
	assert.Equal(t, smstest.Message{Phone: engineerPhone, SignName: urgentSign, TemplateID: urgentSMSTpl, Params: values}, text)
	assert.Equal(t, smstest.Call{Phone: engineerPhone, TemplateID: urgentCallTpl, Params: values, ShowNumber: urgentShowNumber, PlayTimes: 2}, call)
	u.waitState(c.Number, casework.StateDispatched)

	// Nobody takes it. The provider will refuse the supervisor's number
	// for a call (as it does a number it finds invalid).
	u.voice.FailNext("isv.MOBILE_NUMBER_ILLEGAL")
	u.advance(31 * time.Minute)
	supervisor.expect(c.Number)
	late := u.waitTexted(supervisorPhone, urgentSMSLateTpl)
	assert.Equal(t, values, late.Params)
	for _, call := range u.voice.Calls() {
		assert.NotEqual(t, supervisorPhone, call.Phone, "the refused call was not made")
	}

	// The case shows every text and call, the refused one failed at once.
	status, detail := u.api("GET", "/api/v1/cases/"+c.Number, nil)
	require.Equal(t, http.StatusOK, status)
	type row struct{ purpose, platform, status string }
	var rows []row
	var refusal string
	outbox, ok := detail["case"].(map[string]any)["outbox"].([]any)
	require.True(t, ok, "%v", detail)
	for _, o := range outbox {
		m := o.(map[string]any)
		if m["platform"] != "sms" && m["platform"] != "voice" {
			continue
		}
		rows = append(rows, row{m["purpose"].(string), m["platform"].(string), m["status"].(string)})
		assert.NotContains(t, m["user_id"], supervisorPhone, "masked")
		assert.NotContains(t, m["user_id"], engineerPhone, "masked")
		if m["status"] == "failed" {
			refusal = m["last_error"].(string)
			assert.EqualValues(t, 1, m["attempts"], "a refusal is not retried")
		}
	}
	assert.Equal(t, []row{
		{lifecycle.PurposeUrgentSMS, "sms", "sent"}, {lifecycle.PurposeUrgentCall, "voice", "sent"},
		{lifecycle.PurposeUrgentSMS, "sms", "sent"}, {lifecycle.PurposeUrgentCall, "voice", "failed"},
	}, rows)
	assert.Contains(t, refusal, "isv.MOBILE_NUMBER_ILLEGAL")
	assert.NotContains(t, refusal, supervisorPhone)

	// The timeline names whom, masked.
	evs, err := u.m.Store.ListCaseEvents(context.Background(), c.ID)
	require.NoError(t, err)
	var notes []string
	for _, e := range evs {
		notes = append(notes, e.Note)
	}
	all := strings.Join(notes, "\n")
	assert.Contains(t, all, "urgent: SMS and call to 吴海涛 (139****9002)")
	assert.Contains(t, all, "urgent order not taken: SMS and call to 林峰 (139****9009)")

	// The case page lists them by purpose, the refusal with its error.
	page := u.consolePage("/console/cases/" + c.Number)
	for _, want := range []string{"短信通知", "电话通知", "短信", "语音电话", "发送失败", "isv.MOBILE_NUMBER_ILLEGAL"} {
		assert.Contains(t, page, want)
	}
	assert.NotContains(t, page, "channel.voice")
	assert.NotContains(t, page, "purpose.urgent")
	assert.Contains(t, page, "已短信并电话通知 林峰 (139****9009)", "the timeline says whom, in words")
	requireTimelineInWords(t, u.m, []string{c.Number}, "HXJS", "SH-")

	// No log line holds either phone in full.
	v, ok := serviceLogs.Load(u.m)
	require.True(t, ok)
	sw := v.(*syncWriter)
	sw.mu.Lock()
	logs := sw.w.String()
	sw.mu.Unlock()
	assert.NotContains(t, logs, engineerPhone)
	assert.NotContains(t, logs, supervisorPhone)
	assert.Contains(t, logs, "phone=139****9002")
}

// TestUrgentCallRetriedWhenThrottled: the provider's flow control holds the
// engineer's call back; the outbox tries again and the phone rings.
func TestUrgentCallRetriedWhenThrottled(t *testing.T) {
	t.Parallel()
	u := newUrgentPhones(t)
	u.bindOnTelegram("吴海涛")
	engineerPhone := u.member("吴海涛").Phone
	u.voice.FailNext("isv.BUSINESS_LIMIT_CONTROL")

	c := u.report(u.chat("晓峰"), residentLin, "engineering_quality/leak", "卫生间水管爆了，水漫出来了")
	u.waitTexted(engineerPhone, urgentSMSTpl)
	u.advance(time.Minute) // past the first retry's backoff
	u.waitCalled(engineerPhone, urgentCallTpl)
	called := false
	for _, o := range u.allSent(c.ID) {
		if o.Platform == "voice" {
			called = true
			assert.Equal(t, 1, o.Attempts, "one failed attempt recorded before the call went through")
			assert.Contains(t, o.LastError, "isv.BUSINESS_LIMIT_CONTROL")
		}
	}
	assert.True(t, called)
}

// TestUrgentNoticeSettings: each wrong combination of the urgent texts' and
// calls' settings is refused at start, naming the variable to fix.
func TestUrgentNoticeSettings(t *testing.T) {
	t.Parallel()
	aliyun := []string{"AFTERSALES_SMS_PROVIDER", "aliyun", "AFTERSALES_SMS_ACCESS_KEY_ID", urgentKeyID,
		"AFTERSALES_SMS_ACCESS_KEY_SECRET", urgentSecret, "AFTERSALES_SMS_SIGN_NAME", urgentSign,
		"AFTERSALES_SMS_TEMPLATE_ID", urgentCodeTpl}
	tencent := append([]string{}, aliyun...)
	tencent[1] = "tencent"
	tencent = append(tencent, "AFTERSALES_SMS_SDK_APP_ID", "1400000000")
	tests := []struct {
		name string
		kv   []string
		want string // the variable named; "" when the settings are good
	}{
		{"texts without a provider", []string{"AFTERSALES_SMS_URGENT_TEMPLATE_ID", "SMS_1", "AFTERSALES_SMS_NOT_TAKEN_TEMPLATE_ID", "SMS_2"}, "AFTERSALES_SMS_URGENT_TEMPLATE_ID"},
		{"calls without a provider", []string{"AFTERSALES_VOICE_URGENT_TEMPLATE_ID", "TTS_1", "AFTERSALES_VOICE_NOT_TAKEN_TEMPLATE_ID", "TTS_2"}, "AFTERSALES_VOICE_URGENT_TEMPLATE_ID"},
		{"the engineer's text only", append([]string{"AFTERSALES_SMS_URGENT_TEMPLATE_ID", "SMS_1"}, aliyun...), "AFTERSALES_SMS_NOT_TAKEN_TEMPLATE_ID"},
		{"the supervisor's call only", append([]string{"AFTERSALES_VOICE_NOT_TAKEN_TEMPLATE_ID", "TTS_2"}, aliyun...), "AFTERSALES_VOICE_URGENT_TEMPLATE_ID"},
		{"Tencent calls without the voice app", append([]string{"AFTERSALES_VOICE_URGENT_TEMPLATE_ID", "4356", "AFTERSALES_VOICE_NOT_TAKEN_TEMPLATE_ID", "4357"}, tencent...), "AFTERSALES_VOICE_SDK_APP_ID"},
		{"voice URL", []string{"AFTERSALES_VOICE_API_URL", "dyvmsapi.aliyuncs.com"}, "AFTERSALES_VOICE_API_URL"},
		{"Alibaba texts and calls", append([]string{"AFTERSALES_SMS_URGENT_TEMPLATE_ID", "SMS_1", "AFTERSALES_SMS_NOT_TAKEN_TEMPLATE_ID", "SMS_2",
			"AFTERSALES_VOICE_URGENT_TEMPLATE_ID", "TTS_1", "AFTERSALES_VOICE_NOT_TAKEN_TEMPLATE_ID", "TTS_2"}, aliyun...), ""},
		{"Tencent calls", append([]string{"AFTERSALES_VOICE_URGENT_TEMPLATE_ID", "4356", "AFTERSALES_VOICE_NOT_TAKEN_TEMPLATE_ID", "4357",
			"AFTERSALES_VOICE_SDK_APP_ID", "1400006666"}, tencent...), ""},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"migrate"}, env(append(tt.kv, "AFTERSALES_DATA_DIR", t.TempDir())...), nil, &out, &errOut)
		if tt.want == "" {
			assert.Equal(t, exitOK, code, "%s: %s", tt.name, errOut.String())
			continue
		}
		assert.Equal(t, exitUsage, code, tt.name)
		assert.Contains(t, errOut.String(), tt.want, tt.name)
	}
}

// TestUrgentWithoutProviderShowsNoPhoneRang: the service runs without a
// provider; an urgent order's text and call fail at once on the case, with
// the setting that is missing, so that staff know no phone rang.
func TestUrgentWithoutProviderShowsNoPhoneRang(t *testing.T) {
	t.Parallel()
	s := &scenario{t: t, dir: t.TempDir(), clock: testclock.NewRunning(testclock.Start()), tg: telegramtest.NewServer(t, newBotToken())}
	s.m, s.stop = runMain(t, false, func(c *Config) {
		telegramConfig(s.tg)(c)
		c.DataDir, c.nowFunc = s.dir, s.clock.Now
	})
	_, err := s.m.Store.Import(context.Background(), mustExamples(t))
	require.NoError(t, err)
	engineer := s.bindOnTelegram("吴海涛")

	c := s.report(s.chat("晓峰"), residentLin, "engineering_quality/leak", "卫生间水管爆了，水漫出来了")
	engineer.expect("【派工单】" + c.Number)
	s.idle()
	out, err := s.m.Store.ListOutbox(context.Background(), c.ID)
	require.NoError(t, err)
	phones := 0
	for _, o := range out {
		if o.Platform == "sms" || o.Platform == "voice" {
			phones++
			assert.Equal(t, casework.OutboxFailed, o.Status)
			assert.Equal(t, 1, o.Attempts)
			assert.Contains(t, o.LastError, "AFTERSALES_SMS_PROVIDER")
		}
	}
	assert.Equal(t, 2, phones)
}

// mustExamples returns the example project, for a service that is not the
// demo.
func mustExamples(t *testing.T) *casework.ImportBatch {
	t.Helper()
	b, err := testclock.ExampleBatch()
	require.NoError(t, err)
	return b
}
