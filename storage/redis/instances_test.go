package redis

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/classify"
	"github.com/aftersales/aftersales/conversation"
	"github.com/aftersales/aftersales/csvimport"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/storage/sqlite"
)

// outbox is the chat both instances reply into.
type outbox struct {
	mu   sync.Mutex
	sent []string
}

func (o *outbox) Platform() bot.Platform { return bot.Telegram }
func (o *outbox) Send(_ context.Context, m bot.Outbound) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, m.Text)
	return nil
}

// TestTwoInstancesHandleOneUserInOrderOnce: two instances of the service —
// each its own engine, router and Redis client, sharing the database and
// Redis — each receive the same two messages of one owner ("报修", then their
// name) at the same moment, while an earlier message of the owner is still
// being handled. Each message is handled once, the first before the second,
// and the dialogue ends where it should: asking for the unit, with the name
// kept.
func TestTwoInstancesHandleOneUserInOrderOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	prefix := randomPrefix()
	clock := testclock.NewRunning(testclock.Start())
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "shared.db"), sqlite.Options{NowFunc: clock.Now})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	require.NoError(t, db.Migrate(ctx))
	batch, err := testclock.ExampleBatch()
	require.NoError(t, err)
	_, err = db.Import(ctx, batch)
	require.NoError(t, err)

	out := &outbox{}
	routers := make([]*bot.Router, 2)
	var clients []*Client
	for i := range routers {
		c := openTestClientPrefix(t, prefix)
		clients = append(clients, c)
		routers[i] = &bot.Router{
			Handler: conversation.New(conversation.Config{
				Store: db, Sessions: c.Sessions(), Classifier: classify.New(nil), NowFunc: clock.Now,
			}),
			Dedupe:   c.Deduper(),
			Locker:   c.Locker(5 * time.Second),
			Channels: map[bot.Platform]bot.Channel{bot.Telegram: out},
		}
	}

	for round := range 5 {
		user := bot.UserRef{Platform: bot.Telegram, ID: fmt.Sprint("owner-", round)}
		out.mu.Lock()
		out.sent = nil
		out.mu.Unlock()

		// An earlier message of this owner is still being handled.
		held, err := clients[0].Locker(5*time.Second).Lock(ctx, user.Key())
		require.NoError(t, err)

		at := clock.Now()
		msgs := []*bot.Inbound{
			{User: user, MessageID: "101", Time: at, Kind: bot.KindText, Text: "报修"},
			{User: user, MessageID: "102", Time: at, Kind: bot.KindText, Text: "林晓峰"},
		}
		var wg sync.WaitGroup
		// The second message reaches the instances first; each message
		// reaches both instances (a platform retry).
		for _, m := range []*bot.Inbound{msgs[1], msgs[0]} {
			for _, r := range routers {
				in := *m
				wg.Add(1)
				go func() {
					defer wg.Done()
					assert.NoError(t, r.Dispatch(ctx, &in))
				}()
			}
		}
		qkey := clients[0].key("queue:", user.Key())
		require.Eventually(t, func() bool {
			n, err := clients[0].rdb.ZCard(ctx, qkey).Result()
			return err == nil && n == 4
		}, 5*time.Second, 2*time.Millisecond, "all four deliveries wait for the lock")
		held()
		wg.Wait()

		out.mu.Lock()
		sent := strings.Join(out.sent, "\n")
		out.mu.Unlock()
		assert.Equal(t, 1, strings.Count(sent, "我们来登记报修"), "the first message was handled once:\n%s", sent)
		assert.Equal(t, 1, strings.Count(sent, "请问您的姓名"), "asked for the name once:\n%s", sent)
		assert.Equal(t, 1, strings.Count(sent, "请问您的房号"), "the name was taken as the answer, once:\n%s", sent)
		assert.Less(t, strings.Index(sent, "请问您的姓名"), strings.Index(sent, "请问您的房号"), "in order")

		s, err := clients[1].Sessions().Load(ctx, user.Key())
		require.NoError(t, err)
		require.NotNil(t, s)
		assert.Equal(t, "report", s.Flow)
		assert.Equal(t, "unit", s.Step)
		assert.Equal(t, "林晓峰", s.Slots["name"])
	}
}

// BenchmarkInboundText is conversation's BenchmarkInboundText with sessions,
// dedupe and the ordered per-user lock on Redis: one inbound text through the
// router and the engine, an owner answering the description question and
// going back to it.
func BenchmarkInboundText(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{NowFunc: time.Now})
	require.NoError(b, err)
	b.Cleanup(func() { db.Close() })
	require.NoError(b, db.Migrate(ctx))
	batch, err := csvimport.ExampleBatch()
	require.NoError(b, err)
	_, err = db.Import(ctx, batch)
	require.NoError(b, err)
	c := openTestClient(b)
	out := &outbox{}
	r := &bot.Router{
		Handler:  conversation.New(conversation.Config{Store: db, Sessions: c.Sessions(), Classifier: classify.New(nil), NowFunc: time.Now}),
		Dedupe:   c.Deduper(),
		Locker:   c.Locker(0),
		Channels: map[bot.Platform]bot.Channel{bot.Telegram: out},
	}
	user := bot.UserRef{Platform: bot.Telegram, ID: "bench"}
	n := 0
	send := func(kind bot.Kind, text string) {
		n++
		in := &bot.Inbound{User: user, MessageID: fmt.Sprint(n), Time: time.Now(), Kind: kind, Text: text, Payload: text}
		require.NoError(b, r.Dispatch(ctx, in))
	}
	for _, m := range []string{"报修", "林晓峰", "3-1-201", "13900000016"} {
		send(bot.KindText, m)
	}
	send(bot.KindButton, "cat:engineering_quality/leak")
	send(bot.KindButton, "loc:bathroom")
	texts := []string{"卫生间天花板渗水，墙皮起泡", "返回"}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		send(bot.KindText, texts[i%2])
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	s, err := c.Sessions().Load(ctx, user.Key())
	require.NoError(b, err)
	require.Contains(b, []string{"description", "occurred"}, s.Step, "the benchmark's messages move the dialogue")
}
