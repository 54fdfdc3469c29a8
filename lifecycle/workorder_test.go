package lifecycle_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/l10n"
	"github.com/aftersales/aftersales/lifecycle"
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

// TestTodayVisits: 今日预约 lists the engineer's visits booked for the
// department's today (China time) with time, number and address, up to
// 23:59; a visit at midnight is tomorrow's. The clock is at 10:00.
func TestTodayVisits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		after time.Duration // the booked visit, after now
		want  []string      // in the text; nil: no visit today
	}{
		{"this afternoon", 4 * time.Hour, []string{"今日预约（1）：", "14:00 ", "\n　海景苑 1-1-101 · 工程质量 · 门窗"}},
		{"last minute of the day", 13*time.Hour + 59*time.Minute, []string{"23:59 "}},
		{"midnight is tomorrow", 14 * time.Hour, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			f := e.dispatched(t, nil)
			ctx := t.Context()
			_, err := e.svc.TakeOrder(ctx, f.engineer, f.c.Number)
			require.NoError(t, err)
			at := e.clock.Now().Add(tc.after)
			require.NoError(t, e.svc.ProposeSlots(ctx, f.engineer, f.c.Number, []time.Time{at}))
			_, err = e.svc.PickSlot(ctx, f.owner, f.c.Number, at.Unix())
			require.NoError(t, err)

			text, choices, err := e.svc.TodayVisits(ctx, f.engineer, l10n.Chinese)
			require.NoError(t, err)
			if tc.want == nil {
				assert.Equal(t, "今天没有预约上门。回复“我的工单”查看全部待办。", text)
				assert.Empty(t, choices)
				return
			}
			for _, w := range tc.want {
				assert.Contains(t, text, w)
			}
			assert.Contains(t, text, f.c.Number)
			require.Len(t, choices, 1)
			assert.Equal(t, lifecycle.Payload(lifecycle.ActOrder, f.c.Number), choices[0].Payload)

			en, _, err := e.svc.TodayVisits(ctx, f.engineer, l10n.English)
			require.NoError(t, err)
			assert.Contains(t, en, "Today's visits (1):")
		})
	}

	t.Run("not bound", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		_, _, err := e.svc.TodayVisits(t.Context(), e.who(t, ownerChat), l10n.Chinese)
		require.ErrorIs(t, err, lifecycle.ErrNotBound)
	})
}
