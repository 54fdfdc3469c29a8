package lifecycle_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

// TestWorkOrderTellsWhatTheOwnerSaid: the work order (派工单) carries
// since when the problem is there (发生时间) and what the owner expects
// (期望解决方式), their own extra request included, in each engineer's
// language; a case that knows neither says "—".
func TestWorkOrderTellsWhatTheOwnerSaid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(c *casework.Case)
		zh, en []string
	}{
		{"told", func(c *casework.Case) {
			c.OccurredText = "上周"
			c.Expectation = "尽快维修；另外吊顶泡坏了也要一起修好"
		}, []string{"\n发生时间：上周\n", "\n期望解决方式：尽快维修；另外吊顶泡坏了也要一起修好\n"},
			[]string{"\nSince: 上周\n", "\nOwner expects: 尽快维修；另外吊顶泡坏了也要一起修好\n"}},
		{"not told", nil, []string{"\n发生时间：—\n", "\n期望解决方式：—\n"}, []string{"\nSince: —\n", "\nOwner expects: —\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.bind(t, "郑晓东", "eng-zheng", "zh")
			e.bind(t, "郑晓东", "wechat:eng-zheng-wx", "en")
			c := e.newCase(t, tc.change)
			_, err := e.svc.Triage(t.Context(), c)
			require.NoError(t, err)
			orders := byPurpose(e.outbox(t, c.ID), "work_order")
			require.Len(t, orders, 2)
			for i, want := range [][]string{tc.zh, tc.en} {
				for _, w := range want {
					assert.Contains(t, orders[i].text(), w)
				}
			}
		})
	}
}

// TestReworkOrderSaysWhyNotFixed: the repeat repair order (返修派工单)
// that follows the owner's "not fixed" says in their words what is still
// wrong, under its head, to each account of the engineer in its language.
func TestReworkOrderSaysWhyNotFixed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.dispatched(t, nil).to(t, casework.StateDone)
	e.bind(t, "郑晓东", "wechat:eng-zheng-wx", "en")
	before := len(byPurpose(e.outbox(t, f.c.ID), "work_order"))
	_, err := e.svc.NotFixed(t.Context(), f.owner, f.c.Number, "还是关不严，下雨照样进水")
	require.NoError(t, err)
	texts := map[string]string{}
	for _, o := range byPurpose(e.outbox(t, f.c.ID), "work_order")[before:] {
		if o.text() != "" { // not the repair's photos, sent after it
			texts[o.Platform] = o.text()
		}
	}
	require.Len(t, texts, 2)
	assert.True(t, strings.HasPrefix(texts["telegram"], "【返修派工单】"+f.c.Number+"\n业主反馈未修好：还是关不严，下雨照样进水\n任务："), texts["telegram"])
	assert.True(t, strings.HasPrefix(texts["wechat"], "[Repeat repair order] "+f.c.Number+"\nNot fixed, the owner says: 还是关不严，下雨照样进水\nTask: "), texts["wechat"])
}
