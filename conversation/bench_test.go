package conversation_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
)

// BenchmarkInboundText measures one inbound text through the Router (dedupe,
// lock) and the engine (session load and save in memory, chat identity, the
// step) on the embedded SQLite store: an owner in the middle of a report
// answers the description question and goes back to it.
func BenchmarkInboundText(b *testing.B) {
	w := newWorld(b)
	u := w.user("2001", "zh-hans")
	u.say("报修")
	u.say("林晓峰")
	u.say("3-1-201")
	u.contact("+86 139 0000 0016", true)
	u.press("cat:engineering_quality/leak")
	u.press("loc:bathroom")
	ctx := context.Background()
	texts := []string{"卫生间天花板渗水，墙皮起泡", "返回"}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in := &bot.Inbound{User: u.ref, MessageID: fmt.Sprint("bench-", i), Time: w.clock.Now(), Kind: bot.KindText, Text: texts[i%2]}
		t0 := time.Now()
		if err := w.router.Dispatch(ctx, in); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	b.Helper()
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// TestBenchmarkScenarioWorks keeps the benchmark honest: the messages it
// sends do move the dialogue.
func TestBenchmarkScenarioWorks(t *testing.T) {
	w := newWorld(t)
	u := w.user("2001", "zh-hans")
	u.say("报修")
	u.say("林晓峰")
	u.say("3-1-201")
	u.contact("+86 139 0000 0016", true)
	u.press("cat:engineering_quality/leak")
	u.press("loc:bathroom")
	u.say("卫生间天花板渗水，墙皮起泡")
	require.Contains(t, w.lastOut[0].Text, "什么时候开始")
	u.say("返回")
	require.Contains(t, w.lastOut[0].Text, "描述")
}
