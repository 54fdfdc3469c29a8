package aliyun

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/sms"
	"github.com/aftersales/aftersales/sms/smstest"
)

const (
	testKeyID    = "LTAI5tAfterSalesTest"
	testSecret   = "aliyun-secret-Zq81xWp0"
	testSign     = "海景物业"
	testTemplate = "SMS_460775001"
	testPhone    = "13900000016"
	testCode     = "482913"
)

var t0 = testclock.Date(2031, time.March, 14, 9, 26, 53, 0, time.UTC)

// TestSignKnownAnswers checks the signer against the worked examples that
// Alibaba Cloud publishes.
func TestSignKnownAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, secret string
		params               map[string]string
		wantStringToSign     string
		wantSignature        string
	}{
		{
			// "Signature mechanism" (签名机制) for RPC APIs, example
			// DescribeRegions with AccessKeyId testid / secret testsecret,
			// repeated in many products' API docs (e.g. help.aliyun.com/
			// document_detail/28839.html); the current pages publish
			// OLeaidS1JvxuMvnyHOwuJ+uX5qY=.
			name: "DescribeRegions", method: "GET", secret: "testsecret",
			params: map[string]string{
				"AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML",
				"SignatureMethod": "HMAC-SHA1", "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
				"SignatureVersion": "1.0", "Timestamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26",
			},
			wantStringToSign: "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML" +
				"%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf" +
				"%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26",
			wantSignature: "OLeaidS1JvxuMvnyHOwuJ+uX5qY=",
		},
		{
			// The same example as first published, with the parameter spelled
			// "TimeStamp" and the signature CT9X0VtwR86fNWSnsc6v8YGOjuE=
			// (copied at developer.aliyun.com/ask/210168, 2017).
			name: "DescribeRegions TimeStamp", method: "GET", secret: "testsecret",
			params: map[string]string{
				"AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML",
				"SignatureMethod": "HMAC-SHA1", "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
				"SignatureVersion": "1.0", "TimeStamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26",
			},
			wantStringToSign: "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML" +
				"%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf" +
				"%26SignatureVersion%3D1.0%26TimeStamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26",
			wantSignature: "CT9X0VtwR86fNWSnsc6v8YGOjuE=",
		},
		{
			// SMS "签名机制" (help.aliyun.com/document_detail/101343.html,
			// earlier 56189.html): SendSms with AccessKeyId testId / secret
			// testSecret and a Chinese sign name; published Signature
			// zJDF+Lrzhj/ThnlvIToysFRq6t4= and the string to sign below.
			name: "SendSms", method: "GET", secret: "testSecret",
			params: map[string]string{
				"AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123",
				"PhoneNumbers": "15300000001", "RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用",
				"SignatureMethod": "HMAC-SHA1", "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
				"SignatureVersion": "1.0", "TemplateCode": "SMS_71390007",
				"TemplateParam": `{"customer":"test"}`, "Timestamp": "2017-07-12T02:42:19Z", "Version": "2017-05-25",
			},
			wantStringToSign: "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123" +
				"%26PhoneNumbers%3D15300000001%26RegionId%3Dcn-hangzhou%26SignName%3D%25E9%2598%25BF%25E9%2587" +
				"%258C%25E4%25BA%2591%25E7%259F%25AD%25E4%25BF%25A1%25E6%25B5%258B%25E8%25AF%2595%25E4%25B8%2593" +
				"%25E7%2594%25A8%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D45e25e9b-0a6f-4070-8c85-2956eda1b466" +
				"%26SignatureVersion%3D1.0%26TemplateCode%3DSMS_71390007%26TemplateParam%3D%257B%2522customer%2522" +
				"%253A%2522test%2522%257D%26Timestamp%3D2017-07-12T02%253A42%253A19Z%26Version%3D2017-05-25",
			wantSignature: "zJDF+Lrzhj/ThnlvIToysFRq6t4=",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sts := stringToSign(tt.method, tt.params)
			assert.Equal(t, tt.wantStringToSign, sts)
			assert.Equal(t, tt.wantSignature, sign(tt.secret, sts))
		})
	}
}

func TestPercentEncode(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"a b":                  "a%20b",
		"*":                    "%2A",
		"~-_.":                 "~-_.",
		"/=&+":                 "%2F%3D%26%2B",
		"派":                    "%E6%B4%BE",
		`{"code":"482913"}`:    "%7B%22code%22%3A%22482913%22%7D",
		"2031-03-14T09:26:53Z": "2031-03-14T09%3A26%3A53Z",
	} {
		assert.Equal(t, want, percentEncode(in), "percentEncode(%q)", in)
	}
}

// newFake starts a fake that approves the test sign name and template.
func newFake(t *testing.T, clock *smstest.Clock) *smstest.Server {
	t.Helper()
	fake := smstest.NewAliyun(t, testKeyID, testSecret, smstest.WithNowFunc(clock.Now))
	fake.AddApprovedSignName(testSign)
	fake.AddApprovedTemplate(testTemplate)
	return fake
}

func testConfig(fake *smstest.Server, clock *smstest.Clock) sms.Config {
	return sms.Config{
		AccessKeyID: testKeyID, AccessKeySecret: testSecret,
		SignName: testSign, TemplateID: testTemplate,
		APIURL: fake.URL(), NowFunc: clock.Now,
	}
}

func mustNew(t *testing.T, cfg sms.Config) *Sender {
	t.Helper()
	s, err := New(cfg)
	require.NoError(t, err)
	return s
}

func TestSendCodeDelivers(t *testing.T) {
	t.Parallel()
	clock := smstest.NewClock(t0)
	fake := newFake(t, clock)
	s := mustNew(t, testConfig(fake, clock))

	require.NoError(t, s.SendCode(context.Background(), testPhone, testCode))

	assert.Equal(t, []smstest.Message{{
		Phone: testPhone, Code: testCode, SignName: testSign, TemplateID: testTemplate,
	}}, fake.Sent())
}

func TestSendCodeFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		setup    func(fake *smstest.Server, cfg *sms.Config, clock *smstest.Clock)
		phone    string
		want     error // nil: transient, none of the sentinels
		wantCode string
		wantHTTP int
	}{
		{
			name:  "wrong secret",
			setup: func(_ *smstest.Server, cfg *sms.Config, _ *smstest.Clock) { cfg.AccessKeySecret = "aliyun-wrong-Kk29" },
			want:  sms.ErrConfig, wantCode: "SignatureDoesNotMatch", wantHTTP: http.StatusBadRequest,
		},
		{
			name:  "unknown key",
			setup: func(_ *smstest.Server, cfg *sms.Config, _ *smstest.Clock) { cfg.AccessKeyID = "LTAI5tNobody" },
			want:  sms.ErrConfig, wantCode: "InvalidAccessKeyId.NotFound", wantHTTP: http.StatusNotFound,
		},
		{
			name: "clock 20 minutes slow",
			setup: func(_ *smstest.Server, cfg *sms.Config, clock *smstest.Clock) {
				cfg.NowFunc = func() time.Time { return clock.Now().Add(-20 * time.Minute) }
			},
			want: sms.ErrConfig, wantCode: "InvalidTimeStamp.Expired", wantHTTP: http.StatusBadRequest,
		},
		{
			name:  "unapproved template",
			setup: func(_ *smstest.Server, cfg *sms.Config, _ *smstest.Clock) { cfg.TemplateID = "SMS_999" },
			want:  sms.ErrConfig, wantCode: "isv.SMS_TEMPLATE_ILLEGAL",
		},
		{
			name:  "unapproved sign name",
			setup: func(_ *smstest.Server, cfg *sms.Config, _ *smstest.Clock) { cfg.SignName = "山寨物业" },
			want:  sms.ErrConfig, wantCode: "isv.SMS_SIGNATURE_ILLEGAL",
		},
		{
			name:  "no balance",
			setup: func(f *smstest.Server, _ *sms.Config, _ *smstest.Clock) { f.FailNext("isv.AMOUNT_NOT_ENOUGH") },
			want:  sms.ErrConfig, wantCode: "isv.AMOUNT_NOT_ENOUGH",
		},
		{
			name:  "rate limited",
			setup: func(f *smstest.Server, _ *sms.Config, _ *smstest.Clock) { f.FailNext("isv.BUSINESS_LIMIT_CONTROL") },
			want:  sms.ErrRateLimited, wantCode: "isv.BUSINESS_LIMIT_CONTROL",
		},
		{
			name:  "number the provider refuses",
			setup: func(*smstest.Server, *sms.Config, *smstest.Clock) {},
			phone: "12000000016",
			want:  sms.ErrInvalidPhone, wantCode: "isv.MOBILE_NUMBER_ILLEGAL",
		},
		{
			name:     "provider system error",
			setup:    func(f *smstest.Server, _ *sms.Config, _ *smstest.Clock) { f.FailNext("isp.SYSTEM_ERROR") },
			wantCode: "isp.SYSTEM_ERROR",
		},
		{
			name: "HTTP 500",
			setup: func(f *smstest.Server, _ *sms.Config, _ *smstest.Clock) {
				f.FailNextStatus(http.StatusInternalServerError)
			},
			wantHTTP: http.StatusInternalServerError,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := smstest.NewClock(t0)
			fake := newFake(t, clock)
			cfg := testConfig(fake, clock)
			tt.setup(fake, &cfg, clock)
			phone := tt.phone
			if phone == "" {
				phone = testPhone
			}

			err := mustNew(t, cfg).SendCode(context.Background(), phone, testCode)

			require.Error(t, err)
			var e *sms.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, "aliyun", e.Provider)
			if tt.wantCode != "" {
				assert.Equal(t, tt.wantCode, e.Code)
				assert.Contains(t, err.Error(), tt.wantCode)
			}
			if tt.wantHTTP != 0 {
				assert.Equal(t, tt.wantHTTP, e.Status)
			}
			for _, sentinel := range []error{sms.ErrConfig, sms.ErrRateLimited, sms.ErrInvalidPhone} {
				assert.Equal(t, sentinel == tt.want, errors.Is(err, sentinel), "errors.Is(err, %v)", sentinel)
			}
			assertSafe(t, err, phone, cfg.AccessKeySecret)
			assert.Empty(t, fake.Sent())
		})
	}
}

// assertSafe checks that err shows neither a secret, nor the full phone
// number, nor the code. (On SignatureDoesNotMatch the service echoes its
// string to sign, which holds both.)
func assertSafe(t *testing.T, err error, phone, secret string) {
	t.Helper()
	msg := err.Error()
	assert.NotContains(t, msg, testSecret)
	assert.NotContains(t, msg, secret)
	assert.NotContains(t, msg, phone)
	assert.NotContains(t, msg, testCode)
}

func TestProviderFlowControl(t *testing.T) {
	t.Parallel()
	clock := smstest.NewClock(t0)
	fake := newFake(t, clock)
	s := mustNew(t, testConfig(fake, clock))
	ctx := context.Background()

	require.NoError(t, s.SendCode(ctx, testPhone, "111111"))
	clock.Advance(20 * time.Second)
	err := s.SendCode(ctx, testPhone, "222222")
	require.ErrorIs(t, err, sms.ErrRateLimited)
	assert.Contains(t, err.Error(), "触发分钟级流控")
	require.NoError(t, s.SendCode(ctx, "13900000017", "333333"), "another number is not limited")

	clock.Advance(time.Minute)
	require.NoError(t, s.SendCode(ctx, testPhone, "444444"))
	assert.Len(t, fake.Sent(), 3)
}

func TestSendCodeRejectsBadInputWithoutCalling(t *testing.T) {
	t.Parallel()
	clock := smstest.NewClock(t0)
	fake := newFake(t, clock)
	s := mustNew(t, testConfig(fake, clock))
	ctx := context.Background()

	err := s.SendCode(ctx, "1390000001", testCode)
	require.ErrorIs(t, err, sms.ErrInvalidPhone)
	assert.Contains(t, err.Error(), "139****0001")

	err = s.SendCode(ctx, testPhone, "12ab")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "12ab")

	assert.Zero(t, fake.Requests())
}

func TestSendCodeNetworkFailure(t *testing.T) {
	t.Parallel()
	clock := smstest.NewClock(t0)
	fake := newFake(t, clock)
	cfg := testConfig(fake, clock)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := mustNew(t, cfg).SendCode(ctx, testPhone, testCode)
	require.ErrorIs(t, err, context.Canceled)
	assertSafe(t, err, testPhone, testSecret)

	cfg.APIURL = "http://127.0.0.1:1/"
	err = mustNew(t, cfg).SendCode(context.Background(), testPhone, testCode)
	require.Error(t, err)
	assert.NotErrorIs(t, err, sms.ErrConfig)
	assert.NotErrorIs(t, err, sms.ErrRateLimited)
	assert.NotErrorIs(t, err, sms.ErrInvalidPhone)
	assert.Contains(t, err.Error(), "139****0016")
	assertSafe(t, err, testPhone, testSecret)
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	_, err := New(sms.Config{AccessKeyID: testKeyID})
	require.ErrorIs(t, err, sms.ErrConfig)
	assert.Contains(t, err.Error(), "AccessKeySecret, SignName, TemplateID, NowFunc")
}
