package tencent

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
	testSecretID  = "AKIDafterSalesTestId0001"
	testSecretKey = "tencent-secret-Yb72LmQ9"
	testAppID     = "1400787878"
	testSign      = "海景物业"
	testTemplate  = "1987654"
	testPhone     = "13900000016"
	testCode      = "482913"
)

// t0 is 00:44:25 on the 15th in Beijing but the 14th in UTC, so a
// credential date taken in local time fails the fake's check.
var t0 = testclock.Date(2031, time.March, 14, 16, 44, 25, 0, time.UTC)

// TestSignKnownAnswer checks the signer against the worked example in
// Tencent Cloud's "Signature v3" document (签名方法 v3; e.g.
// www.tencentcloud.com/document/product/267/37447, the same in every
// product's API docs): DescribeInstances on cvm.tencentcloudapi.com at
// timestamp 1551113065. Older versions of the page use the SecretKey
// "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE" and publish the signature 72e494ea…;
// newer ones mask it as "Gu5t9xGARNpq86cd98joQYCN3*******" (and compute
// with that literal string) and publish 2230eefd…. Both share the canonical
// request and string to sign below.
func TestSignKnownAnswer(t *testing.T) {
	t.Parallel()
	payload := []byte(`{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`)
	canonical, signed := canonicalRequest("POST", "/", "", map[string]string{
		"Content-Type": "application/json; charset=utf-8",
		"Host":         "cvm.tencentcloudapi.com",
	}, payload)
	assert.Equal(t, "POST\n/\n\n"+
		"content-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\n"+
		"content-type;host\n"+
		"35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064", canonical)
	assert.Equal(t, "content-type;host", signed)

	sts := stringToSign(1551113065, "2019-02-25/cvm/tc3_request", canonical)
	assert.Equal(t, "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"+
		"5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031", sts)

	assert.Equal(t, "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168",
		signature("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", "2019-02-25", "cvm", sts))
	assert.Equal(t, "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c",
		signature("Gu5t9xGARNpq86cd98joQYCN3*******", "2019-02-25", "cvm", sts))
}

// TestAuthorizationDateIsUTC checks the pitfall the document warns about:
// at 00:44:25 in UTC+8 on 2019-02-26 the credential date is still
// 2019-02-25.
func TestAuthorizationDateIsUTC(t *testing.T) {
	t.Parallel()
	auth := authorization("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "secret", 1551113065, service, "/",
		map[string]string{"content-type": contentType, "host": "sms.tencentcloudapi.com"}, nil)
	assert.Contains(t, auth, "Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/sms/tc3_request, "+
		"SignedHeaders=content-type;host, Signature=")
}

func newFake(t *testing.T, clock *smstest.Clock) *smstest.Server {
	t.Helper()
	fake := smstest.NewTencent(t, testSecretID, testSecretKey, testAppID, smstest.WithNowFunc(clock.Now))
	fake.AddApprovedSignName(testSign)
	fake.AddApprovedTemplate(testTemplate)
	return fake
}

func testConfig(fake *smstest.Server, clock *smstest.Clock) sms.Config {
	return sms.Config{
		AccessKeyID: testSecretID, AccessKeySecret: testSecretKey, SDKAppID: testAppID,
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
		Phone: "+86" + testPhone, Code: testCode, SignName: testSign, TemplateID: testTemplate,
	}}, fake.Sent())
}

func TestSendCodeFailures(t *testing.T) {
	t.Parallel()
	fail := func(code string) func(*smstest.Server, *sms.Config, *smstest.Clock) {
		return func(f *smstest.Server, _ *sms.Config, _ *smstest.Clock) { f.FailNext(code) }
	}
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
			setup: func(_ *smstest.Server, cfg *sms.Config, _ *smstest.Clock) { cfg.AccessKeySecret = "tencent-wrong-Pq11" },
			want:  sms.ErrConfig, wantCode: "AuthFailure.SignatureFailure",
		},
		{
			name:  "unknown key",
			setup: func(_ *smstest.Server, cfg *sms.Config, _ *smstest.Clock) { cfg.AccessKeyID = "AKIDnobody" },
			want:  sms.ErrConfig, wantCode: "AuthFailure.SecretIdNotFound",
		},
		{
			name: "clock 6 minutes slow",
			setup: func(_ *smstest.Server, cfg *sms.Config, clock *smstest.Clock) {
				cfg.NowFunc = func() time.Time { return clock.Now().Add(-6 * time.Minute) }
			},
			want: sms.ErrConfig, wantCode: "AuthFailure.SignatureExpire",
		},
		{
			name:  "another account's SmsSdkAppId",
			setup: func(_ *smstest.Server, cfg *sms.Config, _ *smstest.Clock) { cfg.SDKAppID = "1400000001" },
			want:  sms.ErrConfig, wantCode: "UnauthorizedOperation.SmsSdkAppIdVerifyFail",
		},
		{
			name:  "unapproved template",
			setup: func(_ *smstest.Server, cfg *sms.Config, _ *smstest.Clock) { cfg.TemplateID = "999" },
			want:  sms.ErrConfig, wantCode: "FailedOperation.TemplateIncorrectOrUnapproved",
		},
		{
			name:  "unapproved sign name",
			setup: func(_ *smstest.Server, cfg *sms.Config, _ *smstest.Clock) { cfg.SignName = "山寨物业" },
			want:  sms.ErrConfig, wantCode: "FailedOperation.SignatureIncorrectOrUnapproved",
		},
		{
			name:  "package used up",
			setup: fail("FailedOperation.InsufficientBalanceInSmsPackage"),
			want:  sms.ErrConfig, wantCode: "FailedOperation.InsufficientBalanceInSmsPackage",
		},
		{
			name:  "daily limit per number",
			setup: fail("LimitExceeded.PhoneNumberDailyLimit"),
			want:  sms.ErrRateLimited, wantCode: "LimitExceeded.PhoneNumberDailyLimit",
		},
		{
			name:  "delivery frequency limit",
			setup: fail("LimitExceeded.DeliveryFrequencyLimit"),
			want:  sms.ErrRateLimited, wantCode: "LimitExceeded.DeliveryFrequencyLimit",
		},
		{
			name:  "number the provider refuses",
			setup: func(*smstest.Server, *sms.Config, *smstest.Clock) {},
			phone: "12000000016",
			want:  sms.ErrInvalidPhone, wantCode: "InvalidParameterValue.IncorrectPhoneNumber",
		},
		{
			name:     "provider timeout",
			setup:    fail("InternalError.Timeout"),
			wantCode: "InternalError.Timeout",
		},
		{
			name:     "HTTP 502 from a gateway",
			setup:    func(f *smstest.Server, _ *sms.Config, _ *smstest.Clock) { f.FailNextStatus(http.StatusBadGateway) },
			wantHTTP: http.StatusBadGateway,
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
			assert.Equal(t, "tencent", e.Provider)
			if tt.wantCode != "" {
				assert.Equal(t, tt.wantCode, e.Code)
				assert.Contains(t, err.Error(), tt.wantCode)
				assert.NotEmpty(t, e.RequestID)
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
// number, nor the code.
func assertSafe(t *testing.T, err error, phone, secret string) {
	t.Helper()
	msg := err.Error()
	assert.NotContains(t, msg, testSecretKey)
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
	clock.Advance(10 * time.Second)
	err := s.SendCode(ctx, testPhone, "222222")
	require.ErrorIs(t, err, sms.ErrRateLimited)
	assert.Contains(t, err.Error(), "LimitExceeded.PhoneNumberThirtySecondLimit")

	clock.Advance(30 * time.Second)
	require.NoError(t, s.SendCode(ctx, testPhone, "333333"))
	assert.Len(t, fake.Sent(), 2)
}

func TestSendCodeRejectsBadInputWithoutCalling(t *testing.T) {
	t.Parallel()
	clock := smstest.NewClock(t0)
	fake := newFake(t, clock)
	s := mustNew(t, testConfig(fake, clock))

	require.ErrorIs(t, s.SendCode(context.Background(), "+8613900000016", testCode), sms.ErrInvalidPhone)
	require.Error(t, s.SendCode(context.Background(), testPhone, "1234567"))
	assert.Zero(t, fake.Requests())
}

func TestSendCodeNetworkFailure(t *testing.T) {
	t.Parallel()
	clock := smstest.NewClock(t0)
	fake := newFake(t, clock)
	cfg := testConfig(fake, clock)
	cfg.APIURL = "http://127.0.0.1:1/"

	err := mustNew(t, cfg).SendCode(context.Background(), testPhone, testCode)

	require.Error(t, err)
	assert.NotErrorIs(t, err, sms.ErrConfig)
	assert.NotErrorIs(t, err, sms.ErrRateLimited)
	assert.NotErrorIs(t, err, sms.ErrInvalidPhone)
	assertSafe(t, err, testPhone, testSecretKey)
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	_, err := New(sms.Config{AccessKeyID: testSecretID, AccessKeySecret: testSecretKey})
	require.ErrorIs(t, err, sms.ErrConfig)
	assert.Contains(t, err.Error(), "SignName, TemplateID, SDKAppID, NowFunc")
}

func TestNewDefaults(t *testing.T) {
	t.Parallel()
	s := mustNew(t, sms.Config{AccessKeyID: "id", AccessKeySecret: "key", SDKAppID: testAppID,
		SignName: testSign, TemplateID: testTemplate, NowFunc: time.Now})
	assert.Equal(t, DefaultURL, s.url)
	assert.Equal(t, "sms.tencentcloudapi.com", s.host)
	assert.Equal(t, "/", s.path)
	assert.Equal(t, DefaultRegion, s.region)
	assert.Equal(t, 10*time.Second, s.client.Timeout)
}
