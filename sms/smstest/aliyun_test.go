package smstest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAliyunStringToSignDocExample checks the fake's verifier against the
// DescribeRegions example in Alibaba Cloud's RPC "Signature mechanism"
// (签名机制, repeated in many products' API docs, e.g. help.aliyun.com/
// document_detail/28839.html): AccessKeySecret "testsecret" gives
// OLeaidS1JvxuMvnyHOwuJ+uX5qY=.
func TestAliyunStringToSignDocExample(t *testing.T) {
	t.Parallel()
	params := map[string]string{
		"AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML",
		"SignatureMethod": "HMAC-SHA1", "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
		"SignatureVersion": "1.0", "Timestamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26",
		"Signature": "ignored",
	}
	sts := aliyunStringToSign("GET", params)
	assert.Equal(t, "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML"+
		"%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"+
		"%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26", sts)
	assert.Equal(t, "OLeaidS1JvxuMvnyHOwuJ+uX5qY=", aliyunSignature("testsecret", sts))
	assert.Equal(t, "a%20b%2A~%2F%E6%B4%BE", aliyunEncode("a b*~/派"))
}

// docSendSmsQuery is the signed SendSms request published in Alibaba Cloud's
// SMS "签名机制" (help.aliyun.com/document_detail/101343.html): AccessKeyId
// testId, AccessKeySecret testSecret, Signature zJDF+Lrzhj/ThnlvIToysFRq6t4=.
const docSendSmsQuery = "Signature=zJDF%2BLrzhj%2FThnlvIToysFRq6t4%3D&AccessKeyId=testId&Action=SendSms" +
	"&Format=XML&OutId=123&PhoneNumbers=15300000001&RegionId=cn-hangzhou" +
	"&SignName=%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1%E6%B5%8B%E8%AF%95%E4%B8%93%E7%94%A8" +
	"&SignatureMethod=HMAC-SHA1&SignatureNonce=45e25e9b-0a6f-4070-8c85-2956eda1b466&SignatureVersion=1.0" +
	"&TemplateCode=SMS_71390007&TemplateParam=%7B%22customer%22%3A%22test%22%7D" +
	"&Timestamp=2017-07-12T02%3A42%3A19Z&Version=2017-05-25"

type aliyunAnswer struct {
	Status int
	Code   string
	Msg    string `json:"Message"`
}

func aliyunDo(t *testing.T, req *http.Request) aliyunAnswer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	a := aliyunAnswer{Status: resp.StatusCode}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&a))
	return a
}

func aliyunGet(t *testing.T, fake *Server, query string) aliyunAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, fake.URL()+"?"+query, nil)
	require.NoError(t, err)
	return aliyunDo(t, req)
}

func newDocAliyun(t *testing.T, clock *Clock) *Server {
	t.Helper()
	fake := NewAliyun(t, "testId", "testSecret", WithNowFunc(clock.Now))
	fake.AddApprovedSignName("阿里云短信测试专用")
	fake.AddApprovedTemplate("SMS_71390007")
	return fake
}

// TestAliyunAcceptsDocumentedRequest replays the published request: the
// signature passes, so the fake reaches SendSms's own checks (the example's
// template variable is ${customer}, while the fake's templates have ${code}).
func TestAliyunAcceptsDocumentedRequest(t *testing.T) {
	t.Parallel()
	clock := NewClock(time.Date(2017, time.July, 12, 2, 44, 0, 0, time.UTC))
	fake := newDocAliyun(t, clock)

	a := aliyunGet(t, fake, docSendSmsQuery)
	assert.Equal(t, aliyunAnswer{http.StatusOK, "isv.TEMPLATE_MISSING_PARAMETERS", "模板缺少变量"}, a)

	a = aliyunGet(t, fake, docSendSmsQuery)
	assert.Equal(t, aliyunAnswer{http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already."}, a)
}

func TestAliyunRejectsTamperedRequest(t *testing.T) {
	t.Parallel()
	clock := NewClock(time.Date(2017, time.July, 12, 2, 44, 0, 0, time.UTC))
	fake := newDocAliyun(t, clock)

	a := aliyunGet(t, fake, strings.Replace(docSendSmsQuery, "15300000001", "15300000002", 1))
	assert.Equal(t, http.StatusBadRequest, a.Status)
	assert.Equal(t, "SignatureDoesNotMatch", a.Code)
	assert.Contains(t, a.Msg, "server string to sign is:GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms")

	// The method is signed: the same parameters POSTed need another signature.
	req, err := http.NewRequest(http.MethodPost, fake.URL(), strings.NewReader(docSendSmsQuery))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	a = aliyunDo(t, req)
	assert.Equal(t, "SignatureDoesNotMatch", a.Code)
	assert.Contains(t, a.Msg, "server string to sign is:POST&%2F&")
}

func TestAliyunChecksKeyAndTime(t *testing.T) {
	t.Parallel()
	clock := NewClock(time.Date(2017, time.July, 12, 2, 58, 0, 0, time.UTC))
	fake := newDocAliyun(t, clock)

	a := aliyunGet(t, fake, docSendSmsQuery)
	assert.Equal(t, aliyunAnswer{http.StatusBadRequest, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."}, a)

	other := NewAliyun(t, "anotherId", "testSecret", WithNowFunc(NewClock(time.Date(2017, time.July, 12, 2, 42, 19, 0, time.UTC)).Now))
	a = aliyunGet(t, other, docSendSmsQuery)
	assert.Equal(t, aliyunAnswer{http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found."}, a)

	q, err := url.ParseQuery(docSendSmsQuery)
	require.NoError(t, err)
	q.Del("SignatureNonce")
	a = aliyunGet(t, fake, q.Encode())
	assert.Equal(t, aliyunAnswer{http.StatusBadRequest, "MissingSignatureNonce", "SignatureNonce is mandatory for this action."}, a)
}

func TestFailNextStatusComesFirst(t *testing.T) {
	t.Parallel()
	fake := NewAliyun(t, "testId", "testSecret")
	fake.FailNextStatus(http.StatusServiceUnavailable)

	a := aliyunGet(t, fake, "")
	assert.Equal(t, http.StatusServiceUnavailable, a.Status)
	a = aliyunGet(t, fake, "")
	assert.Equal(t, "MissingAccessKeyId", a.Code)
	assert.Equal(t, 2, fake.Requests())
	assert.Empty(t, fake.Sent())
}
