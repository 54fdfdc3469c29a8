package lifecycle_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/lifecycle"
)

// openHandoff opens a hand-off for the Telegram account userID, with the
// owner's first words, as the dialogue does.
func (e *env) openHandoff(t *testing.T, userID string, ownerID int64, words string) *casework.Handoff {
	t.Helper()
	h := &casework.Handoff{Platform: "telegram", UserID: userID, OwnerID: ownerID, Lang: "zh"}
	created, err := e.store.OpenHandoff(t.Context(), h)
	require.NoError(t, err)
	require.True(t, created)
	_, err = e.store.AddHandoffMessage(t.Context(), &casework.HandoffMessage{HandoffID: h.ID, From: casework.FromOwner,
		Actor: casework.Actor("owner:1"), Text: words}, casework.Effects{})
	require.NoError(t, err)
	return h
}

// pushedText delivers outbox message id and returns what reached the chat.
func (e *env) pushedText(t *testing.T, id int64) bot.Outbound {
	t.Helper()
	before := len(e.push.pushed)
	require.NoError(t, e.svc.Deliver(t.Context(), id, 1, false))
	require.Len(t, e.push.pushed, before+1)
	return e.push.pushed[before]
}

// TestHandoffReplies: a person takes the owner's chat by answering it; the
// answer reaches the owner's chat account through the outbox, about no case;
// another person must take it over to answer; once a case is linked the
// answers are about it.
func TestHandoffReplies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	wang, li := casework.Staff("7"), casework.Staff("8")
	h := e.openHandoff(t, ownerChat, e.owner.ID, "我家卫生间漏水，能不能派人来看看")

	_, err := e.svc.ReplyToHandoff(ctx, h.ID, wang, "  ")
	require.ErrorIs(t, err, casework.ErrInvalid)
	_, err = e.svc.ReplyToHandoff(ctx, h.ID+100, wang, "您好")
	require.ErrorIs(t, err, casework.ErrNotFound)

	m, err := e.svc.ReplyToHandoff(ctx, h.ID, wang, " 您好，我是客服小王，请问漏水在哪个位置？ ")
	require.NoError(t, err)
	assert.Equal(t, "您好，我是客服小王，请问漏水在哪个位置？", m.Text)
	assert.Equal(t, wang, m.Actor)
	require.NotZero(t, m.OutboxID)
	got, err := e.store.FindHandoff(ctx, h.ID)
	require.NoError(t, err)
	assert.Equal(t, casework.HandoffTaken, got.State, "answering a waiting chat takes it")
	assert.Equal(t, wang, got.TakenBy)
	out, err := e.store.FindOutboxMessage(ctx, m.OutboxID)
	require.NoError(t, err)
	assert.Zero(t, out.CaseID, "about no case yet")
	assert.Equal(t, lifecycle.PurposeHandoffReply, out.Purpose)
	assert.Equal(t, []string{"telegram", ownerChat}, []string{out.Platform, out.UserID})
	assert.Equal(t, []int64{m.OutboxID}, e.jobs.deliveries())
	pushed := e.pushedText(t, m.OutboxID)
	assert.Equal(t, bot.UserRef{Platform: bot.Telegram, ID: ownerChat}, pushed.To)
	assert.Equal(t, "【人工客服】您好，我是客服小王，请问漏水在哪个位置？", pushed.Text)

	// Li may not answer over Wang's head, only take it over.
	_, err = e.svc.ReplyToHandoff(ctx, h.ID, li, "您好")
	require.ErrorIs(t, err, casework.ErrConflict)
	_, err = e.svc.TakeHandoff(ctx, h.ID, li, false)
	require.ErrorIs(t, err, casework.ErrConflict)
	got, err = e.svc.TakeHandoff(ctx, h.ID, li, true)
	require.NoError(t, err)
	assert.Equal(t, li, got.TakenBy)

	// Linked to the owner's case: the words so far and the answers are on it.
	c := e.newCase(t, nil)
	_, err = e.svc.LinkHandoff(ctx, h.ID, li, "SH-19990101-0001")
	require.ErrorIs(t, err, casework.ErrInvalid)
	_, err = e.svc.LinkHandoff(ctx, h.ID, li, " "+c.Number+" ")
	require.NoError(t, err)
	assert.Contains(t, e.lastEvent(t, c.ID).Note, "我家卫生间漏水")
	m, err = e.svc.ReplyToHandoff(ctx, h.ID, li, "已为您安排师傅明天上门")
	require.NoError(t, err)
	replies := byPurpose(e.outbox(t, c.ID), lifecycle.PurposeHandoffReply)
	require.Len(t, replies, 1)
	assert.Equal(t, m.OutboxID, replies[0].ID)
	last := e.lastEvent(t, c.ID)
	assert.Equal(t, casework.EventMessage, last.Kind)
	assert.Equal(t, li, last.Actor)
	assert.Equal(t, "已为您安排师傅明天上门", last.Note)
	assert.NotNil(t, e.reload(t, c).RespondedAt, "a person answered the owner")
}

// TestHandoffEnds: ending gives the owner back to the bot and tells them,
// in their language, once; an ended hand-off takes no answer.
func TestHandoffEnds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	require.NoError(t, e.store.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "telegram", UserID: "visitor-en", Lang: "en"}))
	h := e.openHandoff(t, "visitor-en", 0, "Is anybody there?")

	m, err := e.svc.ReplyToHandoff(ctx, h.ID, casework.Staff("7"), "Yes, how can I help?")
	require.NoError(t, err)
	assert.Equal(t, "[Service desk] Yes, how can I help?", e.pushedText(t, m.OutboxID).Text, "in the account's language")

	ended, err := e.svc.EndHandoff(ctx, h.ID, casework.Staff("7"))
	require.NoError(t, err)
	assert.Equal(t, casework.HandoffEnded, ended.State)
	assert.Equal(t, casework.Staff("7"), ended.EndedBy)
	msgs, err := e.store.ListHandoffMessages(ctx, h.ID, m.ID)
	require.NoError(t, err)
	require.Len(t, msgs, 1, "what the bot told the owner stays in the hand-off")
	assert.Equal(t, casework.FromBot, msgs[0].From)
	out, err := e.store.FindOutboxMessage(ctx, msgs[0].OutboxID)
	require.NoError(t, err)
	assert.Equal(t, lifecycle.PurposeHandoffEnded, out.Purpose)
	var p struct{ Messages []bot.Outbound }
	require.NoError(t, json.Unmarshal(out.Payload, &p))
	assert.Contains(t, p.Messages[0].Text, `reply "menu"`)
	assert.Equal(t, msgs[0].Text, p.Messages[0].Text)

	n := len(e.jobs.deliveries())
	again, err := e.svc.EndHandoff(ctx, h.ID, casework.Staff("8"))
	require.NoError(t, err)
	assert.Equal(t, casework.Staff("7"), again.EndedBy)
	assert.Len(t, e.jobs.deliveries(), n, "told once")
	_, err = e.svc.ReplyToHandoff(ctx, h.ID, casework.Staff("7"), "one more thing")
	require.ErrorIs(t, err, casework.ErrConflict)
	_, err = e.svc.TakeHandoff(ctx, h.ID, casework.Staff("8"), true)
	require.ErrorIs(t, err, casework.ErrConflict)
}

// TestHandoffArrivedOutOfHours: an owner asks for a person on a Sunday
// night; the supervisor on duty for their home's project is told in chat,
// with the link to the chat in the console; in the
// department's hours nobody is (the console's inbox is the alert).
func TestHandoffArrivedOutOfHours(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *lifecycle.Config) { c.PublicURL = "https://aftersales.example.com" })
	e.withRoster(t, true)
	owner := e.newCase(t, nil).OwnerID
	require.NotZero(t, owner)

	e.clock.Set(inChina(15, 10, 0)) // Sunday morning: office hours
	h := e.openHandoff(t, "owner-day", owner, "楼上漏水到我家了")
	require.NoError(t, e.svc.HandoffArrived(t.Context(), h))
	pending, err := e.store.ListPendingOutbox(t.Context(), "wechat", shenChat, 1<<62)
	require.NoError(t, err)
	assert.Empty(t, pending, "in hours the console's inbox is the alert")

	e.clock.Set(inChina(15, 23, 0)) // Sunday night: 沈静 is on duty
	h = e.openHandoff(t, "owner-night", owner, "楼上漏水到我家了")
	require.NoError(t, e.svc.HandoffArrived(t.Context(), h))
	pending, err = e.store.ListPendingOutbox(t.Context(), "wechat", shenChat, 1<<62)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	assert.Equal(t, "handoff_alert", pending[0].Purpose)
	text := e.pushedText(t, pending[0].ID).Text
	assert.Contains(t, text, "非服务时间请求人工客服")
	assert.Contains(t, text, "https://aftersales.example.com/console/handoffs/")
	other, err := e.store.ListPendingOutbox(t.Context(), "telegram", supervisorChat, 1<<62)
	require.NoError(t, err)
	assert.Empty(t, other, "the supervisor not on duty is not woken")
}
