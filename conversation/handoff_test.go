package conversation_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/conversation"
)

// handoffOf returns the open hand-off of u's account and its messages.
func handoffOf(t *testing.T, w *world, u *user) (*casework.Handoff, []*casework.HandoffMessage) {
	t.Helper()
	ctx := context.Background()
	h, err := w.store.FindOpenHandoff(ctx, string(u.ref.Platform), u.ref.ID)
	require.NoError(t, err)
	msgs, err := w.store.ListHandoffMessages(ctx, h.ID, 0)
	require.NoError(t, err)
	return h, msgs
}

// TestHandoffSaysWhen: the owner who asks for a person is told at once when
// one answers — within minutes in the service hours; out of them at the next
// opening, and what to do in an emergency: the hotline when there is one,
// else an urgent report here, handled around the clock.
func TestHandoffSaysWhen(t *testing.T) {
	t.Parallel()
	t.Run("out of hours", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t) // Friday 23:00
		u := w.user("9101", "zh")
		u.say("人工")
		got := said(w, u)
		assert.Contains(t, got, "非服务时间")
		assert.Contains(t, got, "每天 08:30–18:00")
		assert.Contains(t, got, "明天 08:30 上班后")
		assert.Contains(t, got, "回复“报修”直接登记，紧急报修 24 小时有人处理")
		assert.Contains(t, got, "回复“菜单”可回到自助服务")
		_, msgs := handoffOf(t, w, u)
		require.Len(t, msgs, 1)
		assert.Equal(t, casework.FromBot, msgs[0].From, "the person who answers reads what the owner was told")
		assert.Contains(t, got, msgs[0].Text)

		w.clock.Advance(2 * time.Hour) // Saturday 01:00: the same morning
		en := w.user("9102", "en")
		en.say("agent")
		assert.Contains(t, said(w, en), "as soon as we open, today at 08:30")
	})
	t.Run("in hours", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		w.clock.Advance(11 * time.Hour) // Saturday 10:00
		u := w.user("9103", "zh")
		u.say("转人工")
		assert.Contains(t, said(w, u), "客服会在几分钟内在这里回复您")
		assert.NotContains(t, said(w, u), "紧急")
	})
	t.Run("weekdays and a hotline", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t)
		hours, err := casework.ParseServiceHours("mon-fri 09:00-17:30")
		require.NoError(t, err)
		w.reconfigure(func(c *conversation.Config) { c.ServiceHours, c.Hotline = hours, "400-820-8820" })
		u := w.user("9104", "zh")
		u.say("人工")
		got := said(w, u)
		assert.Contains(t, got, "周一、周二、周三、周四、周五 09:00–17:30")
		assert.Contains(t, got, "周一 09:00 上班后", "Friday night: Monday")
		assert.Contains(t, got, "24 小时服务热线 400-820-8820")
		en := w.user("9105", "en")
		en.say("human")
		assert.Contains(t, said(w, en), "on Monday at 09:00")
		assert.Contains(t, said(w, en), "Monday, Tuesday, Wednesday, Thursday, Friday 09:00–17:30")
		assert.Contains(t, said(w, en), "24-hour service hotline 400-820-8820")
	})
}

// TestHandoffAcknowledges: while nobody has taken the conversation, the
// owner's words are acknowledged, at most once every five minutes; once a
// person has it, the bot is quiet.
func TestHandoffAcknowledges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	w.clock.Advance(11 * time.Hour) // Saturday 10:00, in hours
	u := w.user("9201", "zh")
	u.say("人工")
	require.Contains(t, said(w, u), "几分钟内")

	w.clock.Advance(time.Minute)
	u.say("我家厨房水管爆了")
	assert.Empty(t, said(w, u), "told a minute ago")
	w.clock.Advance(5 * time.Minute)
	u.say("有人吗？")
	assert.Equal(t, "已收到，客服马上就来，请稍候。\n", said(w, u))
	w.clock.Advance(2 * time.Minute)
	u.say("水一直在流")
	assert.Empty(t, said(w, u), "not again within five minutes")
	u.say("人工")
	assert.Empty(t, said(w, u), "asking again within five minutes: told already")
	w.clock.Advance(5 * time.Minute)
	u.say("人工")
	assert.Contains(t, said(w, u), "几分钟内", "asked again later: told again when")

	h, msgs := handoffOf(t, w, u)
	var owner []string
	for _, m := range msgs {
		if m.From == casework.FromOwner {
			owner = append(owner, m.Text)
		}
	}
	assert.Equal(t, []string{"我家厨房水管爆了", "有人吗？", "水一直在流"}, owner, "the owner's words, in order, on the hand-off")

	_, err := w.store.TakeHandoff(ctx, h.ID, casework.Staff("7"), "", time.Time{})
	require.NoError(t, err)
	w.clock.Advance(10 * time.Minute)
	u.say("阀门在哪里？")
	assert.Empty(t, said(w, u), "a person has it: the bot is quiet")
	u.say("报修")
	assert.Empty(t, said(w, u), "a person has it: 报修 is a word for them")
	u.say("进度")
	assert.Empty(t, said(w, u))
	_, msgs = handoffOf(t, w, u)
	assert.Equal(t, "进度", msgs[len(msgs)-1].Text)
	u.deliver(&bot.Inbound{Kind: bot.KindButton, Payload: "menu:human"}) // an old menu's 人工客服
	assert.Empty(t, said(w, u), "a person has it already")
	_, again := handoffOf(t, w, u)
	assert.Len(t, again, len(msgs), "a button is no word of the owner's")
}

// TestHandoffWordsGoOnTheLinkedCase: a proven owner's words go on the
// hand-off, and once a person links the case they are about, on its
// timeline too, by the owner; a photo is kept as well.
func TestHandoffWordsGoOnTheLinkedCase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	number := ownerReports(t, w)
	c, err := w.store.FindCaseByNumber(ctx, number)
	require.NoError(t, err)
	before, err := w.store.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)

	o := w.user("7001", "zh-hans")
	o.say("人工")
	o.say("飘窗下面的墙已经发霉了")
	o.send(bot.KindPhoto, "wall.png", png, 0)
	h, msgs := handoffOf(t, w, o)
	assert.Equal(t, c.OwnerID, h.OwnerID, "the owner is known")
	assert.Zero(t, h.CaseID, "no case until a person links it")
	require.Len(t, msgs, 3)
	assert.Equal(t, "飘窗下面的墙已经发霉了", msgs[1].Text)
	assert.NotEmpty(t, msgs[2].BlobKey, "the photo is kept")
	events, err := w.store.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	assert.Len(t, events, len(before), "nothing on the case yet")

	_, err = w.store.LinkHandoff(ctx, h.ID, c.ID)
	require.NoError(t, err)
	o.say("昨天下雨又渗进来了")
	events, err = w.store.ListCaseEvents(ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, events, len(before)+2)
	owner := casework.Actor("owner:" + strconv.FormatInt(c.OwnerID, 10))
	assert.Equal(t, owner, events[len(before)].Actor)
	assert.Contains(t, events[len(before)].Note, "飘窗下面的墙已经发霉了")
	assert.Equal(t, owner, events[len(before)+1].Actor)
	assert.Contains(t, events[len(before)+1].Note, "昨天下雨又渗进来了")
}

// TestHandoffEnds: 菜单 gives the owner back to the bot and ends the
// hand-off by them; a hand-off a person ended gives the next message to the
// bot, which answers it.
func TestHandoffEnds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	u := w.user("9301", "zh")
	u.say("人工")
	h, _ := handoffOf(t, w, u)
	_, err := w.store.TakeHandoff(ctx, h.ID, casework.Staff("7"), "", time.Time{})
	require.NoError(t, err)
	u.say("菜单")
	assert.Contains(t, said(w, u), "请选择您要办理的事项")
	ended, err := w.store.FindHandoff(ctx, h.ID)
	require.NoError(t, err)
	assert.Equal(t, casework.HandoffEnded, ended.State)
	assert.Contains(t, string(ended.EndedBy), "chat:telegram:", "ended by the owner")
	id, err := w.store.FindChatIdentity(ctx, "telegram", "9301")
	require.NoError(t, err)
	assert.Nil(t, id.HandoffAt)

	u.say("人工")
	next, _ := handoffOf(t, w, u)
	assert.NotEqual(t, h.ID, next.ID, "asked again: a new hand-off")
	_, _, err = w.store.EndHandoff(ctx, next.ID, casework.Staff("7"), time.Time{}, nil, casework.Effects{})
	require.NoError(t, err)
	u.say("你好")
	assert.Contains(t, said(w, u), "请问需要什么帮助", "the bot is back and answers")
	msgs, err := w.store.ListHandoffMessages(ctx, next.ID, 0)
	require.NoError(t, err)
	for _, m := range msgs {
		assert.NotEqual(t, "你好", m.Text, "not kept on the ended hand-off")
	}
	id, err = w.store.FindChatIdentity(ctx, "telegram", "9301")
	require.NoError(t, err)
	assert.Nil(t, id.HandoffAt)

	// A session lost meanwhile: the store still knows the owner is with a person.
	u.say("人工")
	w.sessions = conversation.NewMemoryStore()
	w.reconfigure(func(*conversation.Config) {})
	u.say("还在等")
	h3, msgs := handoffOf(t, w, u)
	assert.Equal(t, "还在等", msgs[len(msgs)-1].Text)
	assert.Equal(t, casework.HandoffWaiting, h3.State)
}
