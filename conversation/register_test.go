package conversation_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/conversation"
	"github.com/aftersales/aftersales/jobs"
	"github.com/aftersales/aftersales/lifecycle"
	"github.com/aftersales/aftersales/storage/sqlite"
)

// brokenMembers is the store with the parties' members unreadable, so that
// the triage after a registration fails.
type brokenMembers struct{ *sqlite.DB }

func (brokenMembers) ListMembers(context.Context, int64) ([]*casework.Member, error) {
	return nil, errors.New("members unreadable")
}

// TestRegisteredCaseHasItsTimersEvenWhenTriageFails: the service-level
// timers are set in the registration's own transaction; a triage that fails
// afterwards leaves the owner with their case number and the case with its
// deadlines' timers, which escalate it if no one acts.
func TestRegisteredCaseHasItsTimersEvenWhenTriageFails(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	q, err := jobs.NewSQLite(w.store.WriteDB(), jobs.Config{Handler: noJobs{}, NowFunc: w.clock.Now})
	require.NoError(t, err)
	require.NoError(t, q.Migrate(ctx))
	w.store.SetJobQueue(q)
	store := brokenMembers{w.store}
	w.reconfigure(func(c *conversation.Config) {
		c.Store, c.Identity = store, nil
		c.Lifecycle = lifecycle.New(lifecycle.Config{Store: store, NowFunc: w.clock.Now})
	})
	u := w.user("7001", "zh")
	u.say("你好")
	u.press("menu:report")
	u.say("林晓峰")
	u.say("我家是3栋1单元201")
	u.contact("+86 139 0000 0016", true)
	u.press("cat:engineering_quality/leak")
	u.say("主卧飘窗下面")
	u.say("下大雨后飘窗下面的墙在渗水")
	u.say("昨天")
	u.press("media:skip")
	u.press("exp:repair")
	u.press("ct:evening")
	u.press("sum:submit")

	cases, n, err := w.store.FindCases(ctx, casework.CaseFilter{})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	assert.Equal(t, casework.StateRegistered, cases[0].State, "the triage failed")
	assert.Contains(t, w.logs.String(), "triage failed")
	c := cases[0]
	require.NotNil(t, c.RespondBy)
	require.NotNil(t, c.OnSiteBy)
	require.NotNil(t, c.ResolveBy)
	stats, err := q.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, stats.Scheduled, "respond, on-site and resolve timers wait for their deadlines: %+v", stats)
	timers, err := q.Timers(ctx, c.ID)
	require.NoError(t, err)
	var got []string
	for _, tm := range timers {
		got = append(got, fmt.Sprintf("%s %s", tm.Kind, tm.At.In(casework.ChinaTime()).Format(time.DateTime)))
	}
	want := []string{
		fmt.Sprintf("%s %s", casework.TimerRespondDeadline, c.RespondBy.In(casework.ChinaTime()).Format(time.DateTime)),
		fmt.Sprintf("%s %s", casework.TimerOnSiteDeadline, c.OnSiteBy.In(casework.ChinaTime()).Format(time.DateTime)),
		fmt.Sprintf("%s %s", casework.TimerResolveDeadline, c.ResolveBy.In(casework.ChinaTime()).Format(time.DateTime)),
	}
	assert.Equal(t, want, got)
	assert.Equal(t, start.Add(24*time.Hour), c.RespondBy.In(casework.ChinaTime()), "a normal leak: respond within 24 h of the report")
}

// noJobs is a job handler for a queue that is never started.
type noJobs struct{}

func (noJobs) Deliver(context.Context, int64, int, bool) error { return nil }
func (noJobs) Fire(context.Context, casework.Timer) error      { return nil }
