package smstest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The worked example in Tencent Cloud's "Signature v3" (签名方法 v3, e.g.
// www.tencentcloud.com/document/product/267/37447): DescribeInstances on
// cvm.tencentcloudapi.com with SecretId AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE
// and SecretKey Gu5t9xGARNpq86cd98joQYCN3EXAMPLE at 1551113065.
const (
	docSecretID  = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
	docSecretKey = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
	docPayload   = `{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`
	docAuth      = "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, " +
		"SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
)

var docTime = time.Unix(1551113065, 0)

func docRequest(t *testing.T, url, payload string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(payload))
	require.NoError(t, err)
	req.Host = "cvm.tencentcloudapi.com"
	req.Header.Set("Authorization", docAuth)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("X-TC-Action", "DescribeInstances")
	req.Header.Set("X-TC-Timestamp", "1551113065")
	req.Header.Set("X-TC-Version", "2017-03-12")
	req.Header.Set("X-TC-Region", "ap-guangzhou")
	return req
}

func TestTC3VerifierDocExample(t *testing.T) {
	t.Parallel()
	a, ok := parseTC3(docAuth)
	require.True(t, ok)
	assert.Equal(t, tc3Auth{secretID: docSecretID, date: "2019-02-25", service: "cvm",
		signedHeaders: []string{"content-type", "host"},
		signature:     "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"}, a)

	r := httptest.NewRequest(http.MethodPost, "https://cvm.tencentcloudapi.com/", nil)
	r.Header = docRequest(t, "https://cvm.tencentcloudapi.com/", "").Header
	assert.Equal(t, a.signature, tc3Expected(r, []byte(docPayload), a, "1551113065", docSecretKey))
}

func TestParseTC3RejectsMalformed(t *testing.T) {
	t.Parallel()
	for _, h := range []string{
		"",
		"HMAC-SHA256 Credential=a/2019-02-25/cvm/tc3_request, SignedHeaders=host, Signature=x",
		"TC3-HMAC-SHA256 Credential=a/2019-02-25/cvm, SignedHeaders=host, Signature=x",
		"TC3-HMAC-SHA256 Credential=a/2019-02-25/cvm/tc3_request, SignedHeaders=host",
	} {
		_, ok := parseTC3(h)
		assert.False(t, ok, h)
	}
}

type tencentAnswer struct {
	Response struct {
		Error struct {
			Code    string
			Message string
		}
		RequestID string `json:"RequestId"`
	}
}

func tencentDo(t *testing.T, req *http.Request) tencentAnswer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "API 3.0 answers 200 even for errors")
	var a tencentAnswer
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&a))
	assert.NotEmpty(t, a.Response.RequestID)
	return a
}

// TestTencentVerifiesDocumentedRequest sends the published request to the
// fake: its signature passes, so the fake gets as far as the action, which
// is not SendSms; any change to what is signed fails the signature.
func TestTencentVerifiesDocumentedRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		now      time.Time
		secretID string
		payload  string
		edit     func(*http.Request)
		wantCode string
	}{
		{"as published", docTime.Add(time.Minute), docSecretID, docPayload, nil, "InvalidAction"},
		{"body changed", docTime, docSecretID, strings.Replace(docPayload, "1", "2", 1), nil, "AuthFailure.SignatureFailure"},
		{"host changed", docTime, docSecretID, docPayload,
			func(r *http.Request) { r.Host = "sms.tencentcloudapi.com" }, "AuthFailure.SignatureFailure"},
		{"content type changed", docTime, docSecretID, docPayload,
			func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }, "AuthFailure.SignatureFailure"},
		{"timestamp changed", docTime, docSecretID, docPayload,
			func(r *http.Request) { r.Header.Set("X-TC-Timestamp", "1551113066") }, "AuthFailure.SignatureFailure"},
		{"6 minutes late", docTime.Add(6 * time.Minute), docSecretID, docPayload, nil, "AuthFailure.SignatureExpire"},
		{"unknown SecretId", docTime, "AKIDother", docPayload, nil, "AuthFailure.SecretIdNotFound"},
		{"no Authorization", docTime, docSecretID, docPayload,
			func(r *http.Request) { r.Header.Del("Authorization") }, "AuthFailure.InvalidAuthorization"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := NewTencent(t, tt.secretID, docSecretKey, "1400000000", WithNowFunc(NewClock(tt.now).Now))
			req := docRequest(t, fake.URL(), tt.payload)
			if tt.edit != nil {
				tt.edit(req)
			}
			a := tencentDo(t, req)
			assert.Equal(t, tt.wantCode, a.Response.Error.Code)
			assert.NotEmpty(t, a.Response.Error.Message)
		})
	}
}

func TestTencentFailNextStatus(t *testing.T) {
	t.Parallel()
	fake := NewTencent(t, docSecretID, docSecretKey, "1400000000", WithNowFunc(NewClock(docTime).Now))
	fake.FailNextStatus(http.StatusBadGateway)

	resp, err := http.DefaultClient.Do(docRequest(t, fake.URL(), docPayload))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)

	a := tencentDo(t, docRequest(t, fake.URL(), docPayload))
	assert.Equal(t, "InvalidAction", a.Response.Error.Code)
}

func TestClock(t *testing.T) {
	t.Parallel()
	c := NewClock(docTime)
	c.Advance(90 * time.Second)
	assert.Equal(t, docTime.Add(90*time.Second), c.Now())
}
