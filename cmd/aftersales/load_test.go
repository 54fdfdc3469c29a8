package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot/telegram/telegramtest"
	"github.com/aftersales/aftersales/internal/pgtest"
)

// benchDatabase returns the URL of a fresh schema in the test PostgreSQL
// database, dropped when the benchmark ends.
func benchDatabase(b *testing.B) string {
	b.Helper()
	_, u := pgtest.NewSchema(b)
	return u
}

// BenchmarkTelegramWebhookLoad is the webhook's load test: the service on
// PostgreSQL and Redis in webhook mode, 200 simulated owners, updates posted
// at 200 per second for 10 s as Telegram would post them (signed with the
// secret token), each owner talking through the first steps of a report.
// It reports the webhook's answer time (p50, p99) and how many updates the
// service handled; the overall send limit is lifted so that the service's
// own speed, not Telegram's 30 messages/s, is measured. Run it with
// -bench BenchmarkTelegramWebhookLoad -benchtime 1x.
func BenchmarkTelegramWebhookLoad(b *testing.B) {
	dbURL := benchDatabase(b)
	srv := telegramtest.NewServer(b, newBotToken())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	addr := ln.Addr().String()
	ln.Close()
	hook := "http://" + addr + "/telegram/webhook"
	const secret = "load-test-secret_0123456789"
	_, _ = runMain(b, true, func(c *Config) {
		telegramConfig(srv)(c)
		c.Addr = addr
		c.DatabaseURL = dbURL
		redisForTest(b).apply(c)
		c.TelegramWebhookURL = "http://127.0.0.1:1/unused" // registered with the fake, which then stays out of the way
		c.TelegramWebhookSecret = secret
		c.telegramGlobalRate = 100000
		c.telegramPerChatRate = 1000
	})
	const (
		users    = 200
		rate     = 200 // updates per second
		duration = 10 * time.Second
	)
	steps := []string{"/start", "报修", "林晓峰", "3-1-201", "13900000016", "菜单"}
	base := randomUserID(b)
	for i := range users {
		srv.AddUser(telegramtest.User{ID: base + int64(i), FirstName: "业主"})
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	total := int(duration.Seconds()) * rate
	lat := make([]time.Duration, total)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := range total {
		// Pace: update i leaves at start + i/rate.
		if d := time.Until(start.Add(time.Duration(i) * time.Second / rate)); d > 0 {
			time.Sleep(d)
		}
		user := base + int64(i%users)
		text := steps[(i/users)%len(steps)]
		body := fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":%d,"chat":{"id":%d,"type":"private"},"from":{"id":%d,"first_name":"业主","language_code":"zh-hans"},"text":%q%s}}`,
			900000000+i, i+1, time.Now().Unix(), user, user, text, entities(text))
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, hook, bytes.NewReader([]byte(body)))
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
			req.Header.Set("Content-Type", "application/json")
			t0 := time.Now()
			resp, err := client.Do(req)
			lat[i] = time.Since(t0)
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("update %d: status %d", i, resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	sent := time.Since(start)
	// Wait until the service has replied to every user's last step.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	handled := func() int {
		n := 0
		for _, msgs := range srv.AllSent() {
			n += len(msgs)
		}
		return n
	}
	// Handled when the replies stop coming.
	last, lastChange := handled(), time.Now()
	for ctx.Err() == nil && time.Since(lastChange) < time.Second {
		time.Sleep(20 * time.Millisecond)
		if n := handled(); n != last {
			last, lastChange = n, time.Now()
		}
	}
	drained := lastChange.Sub(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(total)/sent.Seconds(), "updates/s")
	b.ReportMetric(float64(handled()), "replies")
	b.ReportMetric(drained.Seconds(), "drained-s")
}

func entities(text string) string {
	if len(text) > 0 && text[0] == '/' {
		return fmt.Sprintf(`,"entities":[{"type":"bot_command","offset":0,"length":%d}]`, len(text))
	}
	return ""
}
