package conversation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/conversation"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/jobs"
	"github.com/aftersales/aftersales/lifecycle"
)

// withLifecycle gives the world's engine a lifecycle, with a job queue on
// its SQLite store that runs nothing: what the lifecycle sends stays in the
// outbox, where staffSaw reads it.
func (w *world) withLifecycle(t *testing.T) {
	t.Helper()
	q, err := jobs.NewSQLite(w.store.WriteDB(), jobs.Config{Handler: noJobs{}, NowFunc: w.clock.Now})
	require.NoError(t, err)
	require.NoError(t, q.Migrate(context.Background()))
	w.store.SetJobQueue(q)
	w.lc = lifecycle.New(lifecycle.Config{Store: w.store, NowFunc: w.clock.Now, Logger: w.logger()})
	w.reconfigure(func(c *conversation.Config) { c.Lifecycle = w.lc })
}

// bindMember binds a new chat account, reading in lang, to the example
// project's member called name, as /bind does.
func (w *world) bindMember(t *testing.T, name, userID, lang string) {
	t.Helper()
	ctx := context.Background()
	parties, err := w.store.ListParties(ctx)
	require.NoError(t, err)
	for _, p := range parties {
		ms, err := w.store.ListMembers(ctx, p.ID)
		require.NoError(t, err)
		for _, m := range ms {
			if m.Name == name {
				require.NoError(t, w.store.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "telegram", UserID: userID, MemberID: m.ID, Lang: lang}))
				return
			}
		}
	}
	t.Fatalf("no member %s", name)
}

// staffSaw writes into the transcript what the lifecycle sent for purpose
// to the accounts named (user ID → who), and not yet written, and returns
// it by who.
func (w *world) staffSaw(t *testing.T, purpose string, names map[string]string, written map[int64]bool) map[string][]string {
	t.Helper()
	ctx := context.Background()
	cases, _, err := w.store.FindCases(ctx, casework.CaseFilter{})
	require.NoError(t, err)
	out := map[string][]string{}
	for _, c := range cases {
		ms, err := w.store.ListOutbox(ctx, c.ID)
		require.NoError(t, err)
		for _, m := range ms {
			who, ok := names[m.UserID]
			if !ok || m.Purpose != purpose || written[m.ID] {
				continue
			}
			written[m.ID] = true
			var p struct {
				Messages []bot.Outbound `json:"messages"`
			}
			require.NoError(t, json.Unmarshal(m.Payload, &p))
			for _, o := range p.Messages {
				fmt.Fprintf(&w.log, "# to %s:\n", who)
				w.log.WriteString(renderOut(o))
				out[who] = append(out[who], o.Text)
			}
		}
	}
	return out
}

// TestUrgeReachesPeople: an owner's leak goes to the contractor's engineer
// 吴海涛; the owner urges it from the case's page and is told the engineer
// was alerted, who reads the alert in his language with the order's buttons;
// urged again too soon, the owner is told when they may; urged again the
// next day with their own words, the supervisor 林峰 is alerted too, and the
// owner is told so.
func TestUrgeReachesPeople(t *testing.T) {
	runBoth(t, "urge", func(t *testing.T, w *world, u *user, pick func(string, string) string) {
		w.withLifecycle(t)
		staffLang := pick("zh", "en")
		w.bindMember(t, "吴海涛", "9001", staffLang)
		w.bindMember(t, "林峰", "9002", staffLang)
		names := map[string]string{"9001": "吴海涛 (" + staffLang + ")", "9002": "林峰 (" + staffLang + ")"}
		written := map[int64]bool{}
		w.note("吴海涛 of the contractor and the supervisor 林峰 have bound chat accounts in %s", staffLang)

		u.command("report")
		u.say(pick("郭敏", "Guo Min"))
		u.say(pick("3栋1单元601", "3-1-601"))
		u.say("13900000018")
		u.typeCode("13900000018")
		u.press("cat:engineering_quality/leak")
		u.say(pick("卫生间吊顶", "the bathroom ceiling"))
		u.say(pick("卫生间吊顶有一块水渍，摸着有点潮", "There is a damp stain on the bathroom ceiling"))
		u.say(pick("昨天", "yesterday"))
		u.press("media:skip")
		u.press("exp:repair")
		u.press("ct:evening")
		u.press("sum:submit")
		cases, _, err := w.store.FindCases(context.Background(), casework.CaseFilter{})
		require.NoError(t, err)
		require.Len(t, cases, 1)
		require.Equal(t, casework.StateDispatched, cases[0].State, "dispatched at once")
		const number = "SH-20261127-0001" // as the owner reads it on the tests' date: say and press move it with the date
		require.Equal(t, testclock.Text(number), cases[0].Number)

		w.note("five hours later")
		w.clock.Advance(5 * time.Hour)
		u.say(pick("进度", "status"))
		u.press("case:" + number)
		u.press("urge:" + number)
		assert.Contains(t, said(w, u), pick("已通知维修人员 吴海涛", "we told the engineer, 吴海涛,"))
		got := w.staffSaw(t, "urge", names, written)
		require.Len(t, got[names["9001"]], 1, "the engineer is alerted")
		assert.Empty(t, got[names["9002"]], "the supervisor is not, at a first urge")
		assert.Contains(t, got[names["9001"]][0], pick("业主 郭敏 已等待 5 小时", "has waited 5 hours"))

		w.note("an hour later")
		w.clock.Advance(time.Hour)
		u.command("urge")
		u.press("urge:" + number)
		assert.Contains(t, said(w, u), pick("之后可再次催办", "You can hurry it again after"))
		assert.Empty(t, w.staffSaw(t, "urge", names, written), "too soon: nobody alerted")

		w.note("the next day")
		w.clock.Advance(12 * time.Hour)
		u.command("urge")
		u.say(pick(number+" 都一天了还是没人联系我", number+" it has been a day and nobody called me"))
		assert.Contains(t, said(w, u), pick("并通知了主管", "and the supervisor"))
		got = w.staffSaw(t, "urge", names, written)
		require.Len(t, got[names["9001"]], 1)
		require.Len(t, got[names["9002"]], 1, "the second urge reaches the supervisor")
		words := pick("都一天了还是没人联系我", "it has been a day and nobody called me")
		assert.Contains(t, got[names["9001"]][0], words)
		assert.Contains(t, got[names["9002"]][0], words)
		assert.False(t, strings.Contains(got[names["9002"]][0], "engineering_quality"), "no code")
	})
}
