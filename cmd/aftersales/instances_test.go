package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/internal/pgtest"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/sms/smstest"
)

// roundRobin is a load balancer in front of several instances: each request
// goes to the next one.
func roundRobin(t *testing.T, ms ...*Main) (base string, served []*atomic.Int64) {
	t.Helper()
	var next atomic.Int64
	served = make([]*atomic.Int64, len(ms))
	for i := range served {
		served[i] = new(atomic.Int64)
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		i := int(next.Add(1)-1) % len(ms)
		served[i].Add(1)
		r.SetURL(&url.URL{Scheme: "http", Host: ms[i].Addr()})
		r.SetXForwarded()
	}}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return srv.URL, served
}

// TestChatPageOnTwoInstances: two instances of the service on one
// PostgreSQL and one Redis, the chat page behind a round-robin proxy. A
// visitor reports a problem, each message and each poll reaching the other
// instance than the last; every reply reaches them; then staff write to the
// owner through one instance, and the message, sent by whichever instance's
// job queue took it, wakes the visitor's poll wherever it waits.
func TestChatPageOnTwoInstances(t *testing.T) {
	t.Parallel()
	rds := redisForTest(t)
	_, dbURL := pgtest.NewSchema(t)
	const token = "staff-token-0123456789abcdef"
	const keyID, secret, sign, tmpl = "LTAI-two-instances", "sms-secret-two-instances-0123", "海景苑物业", "SMS_0042"
	clock := testclock.NewRunning(testclock.Start())
	fake := smstest.NewAliyun(t, keyID, secret, smstest.WithNowFunc(clock.Now))
	fake.AddApprovedSignName(sign)
	fake.AddApprovedTemplate(tmpl)
	cfg := func(c *Config) {
		c.nowFunc = clock.Now
		c.DatabaseURL, c.APIToken = dbURL, token
		rds.apply(c)
		c.ChatCookieKey = "cookie-key-shared-by-both-instances-0123456789"
		c.SMSProvider, c.SMSAccessKeyID, c.SMSAccessKeySecret = "aliyun", keyID, secret
		c.SMSSignName, c.SMSTemplateID, c.SMSAPIURL = sign, tmpl, fake.URL()
	}
	a, _ := runMain(t, true, cfg)
	b, _ := runMain(t, false, cfg)
	base, served := roundRobin(t, a, b)

	v := newVisitor(t, base)
	assert.Contains(t, v.say("咨询"), "姓名")
	assert.Contains(t, v.say("林晓峰"), "房号")
	assert.Contains(t, v.say("3-1-201"), "电话")
	assert.Contains(t, v.say("13900000016"), "139****0016")
	sent := fake.Sent()
	require.Len(t, sent, 1)
	assert.Contains(t, v.say(sent[0].Code), "林晓峰，您好")
	v.say("请问房产证什么时候可以办下来？")
	done := v.press("sum:submit")
	number := regexp.MustCompile(`SH-\d{8}-\d{4}`).FindString(done)
	require.NotEmpty(t, number, "the case's number is shown: %s", done)
	assert.Greater(t, served[0].Load(), int64(5))
	assert.Greater(t, served[1].Load(), int64(5))

	// Staff answer through instance b; the visitor's next poll waits on
	// whichever instance the proxy picks until the message arrives.
	require.Equal(t, http.StatusAccepted, apiPost(t, b, token, "/api/v1/cases/"+number+"/messages",
		`{"text":"您好，房产证预计下月办妥，届时短信通知您。"}`))
	assert.Contains(t, v.read(), "房产证预计下月办妥")
}
