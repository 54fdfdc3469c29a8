package smstest

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAliyunAcceptsDocumentedNotice replays the published SendSms request,
// whose template has the one variable ${customer}: approved as a notice
// template, the message is accepted and its value recorded.
func TestAliyunAcceptsDocumentedNotice(t *testing.T) {
	t.Parallel()
	clock := NewClock(time.Date(2017, time.July, 12, 2, 44, 0, 0, time.UTC))
	fake := NewAliyun(t, "testId", "testSecret", WithNowFunc(clock.Now))
	fake.AddApprovedSignName("阿里云短信测试专用")
	fake.AddApprovedNoticeTemplate("SMS_71390007", "customer")

	a := aliyunGet(t, fake, docSendSmsQuery)
	assert.Equal(t, "OK", a.Code)
	assert.Equal(t, []Message{{Phone: "15300000001", SignName: "阿里云短信测试专用", TemplateID: "SMS_71390007",
		Params: []string{"test"}}}, fake.Sent())
}

// TestAliyunVoiceIsAnotherProduct: the voice fake checks the same signature
// but answers only SingleCallByTts.
func TestAliyunVoiceIsAnotherProduct(t *testing.T) {
	t.Parallel()
	clock := NewClock(time.Date(2017, time.July, 12, 2, 44, 0, 0, time.UTC))
	fake := NewAliyunVoice(t, "testId", "testSecret", WithNowFunc(clock.Now))

	a := aliyunGet(t, fake, docSendSmsQuery)
	assert.Equal(t, aliyunAnswer{http.StatusNotFound, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."}, a)

	q, err := url.ParseQuery(docSendSmsQuery)
	require.NoError(t, err)
	q.Set("Action", "SingleCallByTts")
	a = aliyunGet(t, fake, q.Encode())
	assert.Equal(t, "SignatureDoesNotMatch", a.Code, "the action is signed")
	assert.Empty(t, fake.Calls())
}

// TestTencentVoiceChecksAction: the published request's signature passes
// the voice fake too, which then refuses an action that is not
// SendTtsVoice. (The adapters' tests check the "vms" scope.)
func TestTencentVoiceChecksAction(t *testing.T) {
	t.Parallel()
	fake := NewTencentVoice(t, docSecretID, docSecretKey, "1400006666", WithNowFunc(NewClock(docTime).Now))
	a := tencentDo(t, docRequest(t, fake.URL(), docPayload))
	assert.Equal(t, "InvalidAction", a.Response.Error.Code, "the signature passes; DescribeInstances is no voice action")
	assert.Empty(t, fake.Calls())
}
