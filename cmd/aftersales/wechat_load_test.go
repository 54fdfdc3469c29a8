package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/officialaccount"
	oaconfig "github.com/silenceper/wechat/v2/officialaccount/config"
	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot/wechat/wechattest"
)

// callbackLoad posts signed plain-mode texts from users simulated users to
// url at rate per second for d, and returns the answer times and how many
// were answered 200.
func callbackLoad(b *testing.B, url string, users, rate int, d time.Duration) ([]time.Duration, int) {
	b.Helper()
	p := wechattest.NewPlatform(url, wxToken, wxAppID, "", false)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: 10 * time.Second}
	texts := []string{"你好", "菜单", "进度", "帮助"}
	total := int(d.Seconds() * float64(rate))
	lat := make([]time.Duration, total)
	ok := make([]bool, total)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range total {
		if w := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))); w > 0 {
			time.Sleep(w)
		}
		req, err := p.NewRequest(context.Background(), wechattest.Text(fmt.Sprintf("oLoad%010d", i%users), texts[(i/users)%len(texts)]))
		require.NoError(b, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			resp, err := client.Do(req)
			lat[i] = time.Since(t0)
			if err != nil {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			ok[i] = resp.StatusCode == http.StatusOK
		}()
	}
	wg.Wait()
	n := 0
	for _, v := range ok {
		if v {
			n++
		}
	}
	slices.Sort(lat)
	return lat, n
}

// BenchmarkWeChatCallbackLoad is the callback's load test: the service on
// PostgreSQL and Redis, 200 simulated users sending signed plain-mode texts
// at 1,000 callbacks/s for 5 s, each answered by the dialogue (a passive
// reply); and, in the same run, the same load on a bare silenceper/wechat
// handler that echoes the text, to give the ratio. Run it with
// -bench BenchmarkWeChatCallbackLoad -benchtime 1x.
func BenchmarkWeChatCallbackLoad(b *testing.B) {
	const (
		users = 200
		rate  = 1000
		d     = 5 * time.Second
	)
	// The bare SDK echo handler.
	oa := officialaccount.NewOfficialAccount(&oaconfig.Config{AppID: wxAppID, AppSecret: wxSecret, Token: wxToken, Cache: cache.NewMemory()})
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := oa.GetServer(r, w)
		s.SetMessageHandler(func(m *message.MixMessage) *message.Reply {
			return &message.Reply{MsgType: message.MsgTypeText, MsgData: message.NewText(m.Content)}
		})
		if err := s.Serve(); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		if err := s.Send(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	defer bare.Close()

	srv := wechattest.NewServer(b, wxAppID, wxSecret)
	dbURL := benchDatabase(b)
	m, _ := runMain(b, true, func(c *Config) {
		c.DatabaseURL = dbURL
		redisForTest(b).apply(c)
		c.WeChatAppID, c.WeChatSecret, c.WeChatToken, c.WeChatAPIURL = wxAppID, wxSecret, wxToken, srv.URL()
	})
	b.ResetTimer()
	svcLat, svcOK := callbackLoad(b, "http://"+m.Addr()+"/wechat/callback", users, rate, d)
	bareLat, bareOK := callbackLoad(b, bare.URL, users, rate, d)
	b.StopTimer()
	p := func(lat []time.Duration, q int) float64 { return float64(lat[len(lat)*q/100].Microseconds()) }
	b.ReportMetric(p(svcLat, 50), "p50-µs")
	b.ReportMetric(p(svcLat, 99), "p99-µs")
	b.ReportMetric(float64(svcOK)/d.Seconds(), "answered/s")
	b.ReportMetric(p(bareLat, 50), "bare-p50-µs")
	b.ReportMetric(p(bareLat, 99), "bare-p99-µs")
	b.ReportMetric(float64(bareOK)/d.Seconds(), "bare-answered/s")
	b.ReportMetric(p(svcLat, 99)/p(bareLat, 99), "p99-ratio")
}
