package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot/telegram/telegramtest"
	"github.com/aftersales/aftersales/casework"
)

// BenchmarkOutboxDelivery: does delivery keep up with the platform's
// limits? The service on PostgreSQL with Telegram on a fake that enforces
// Telegram's limits (1 message/s per chat, 30/s overall, 429 with
// retry_after beyond); staff write to 100 owners three times each at once
// (300 outbox messages, each a durable job); it reports the delivery rate,
// the time until the last was sent, and how many sends Telegram refused
// with 429. Run it with -bench BenchmarkOutboxDelivery -benchtime 1x.
func BenchmarkOutboxDelivery(b *testing.B) {
	dbURL := benchDatabase(b)
	srv := telegramtest.NewServer(b, newBotToken())
	srv.EnforceLimits(1, 30)
	m, _ := runMain(b, true, func(c *Config) {
		telegramConfig(srv)(c)
		c.DatabaseURL = dbURL
		c.telegramPerChatRate = 1
	})
	ctx := context.Background()
	projects, err := m.Store.ListProjects(ctx)
	require.NoError(b, err)
	const owners, perOwner = 100, 3
	base := randomUserID(b)
	var numbers []string
	for i := range owners {
		user := base + int64(i)
		srv.AddUser(telegramtest.User{ID: user, FirstName: "业主"})
		uid := strconv.FormatInt(user, 10)
		require.NoError(b, m.Store.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "telegram", UserID: uid, Lang: "zh"}))
		c := &casework.Case{
			ProjectID: projects[0].ID, Description: "负载测试：厨房水龙头漏水", Channel: casework.ChannelTelegram,
			ReceivedAt: m.now(), ReceivedBy: casework.ActorBot, Category: casework.CategoryEngineeringQuality,
			ReporterPlatform: "telegram", ReporterUserID: uid,
		}
		require.NoError(b, m.Store.CreateCase(ctx, c))
		numbers = append(numbers, c.Number)
	}
	b.ResetTimer()
	start := time.Now()
	for round := range perOwner {
		for _, n := range numbers {
			require.NoError(b, m.Lifecycle.MessageOwner(ctx, n, casework.Staff("load"), fmt.Sprintf("第 %d 条进展通知", round+1)))
		}
	}
	queued := time.Since(start)
	total := owners * perOwner
	sent := func() int {
		n := 0
		for _, msgs := range srv.AllSent() {
			n += len(msgs)
		}
		return n
	}
	waitCtx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	require.NoError(b, srv.Wait(waitCtx, func() bool { return sent() >= total }))
	drained := time.Since(start)
	b.StopTimer()
	refused := 0
	for _, r := range srv.RequestsFor("sendMessage") {
		if r.ErrorCode == 429 {
			refused++
		}
	}
	outOfOrder := 0
	for _, msgs := range srv.AllSent() {
		for i, msg := range msgs {
			if !strings.Contains(msg.Text, fmt.Sprintf("第 %d 条", i+1)) {
				outOfOrder++
			}
		}
	}
	b.ReportMetric(float64(outOfOrder), "out-of-order")
	b.ReportMetric(float64(total)/drained.Seconds(), "msgs/s")
	b.ReportMetric(drained.Seconds(), "drained-s")
	b.ReportMetric(queued.Seconds()*1000/float64(total), "queue-ms/msg")
	b.ReportMetric(float64(refused), "429s")
}
