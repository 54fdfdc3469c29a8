package lifecycle_test

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/l10n"
	"github.com/aftersales/aftersales/lifecycle"
)

// editingChannel is a platform that can edit what it sent, like Telegram
// (bot.RefSender): it refers to the n-th message it delivered as "msg-n"
// and records every message, edits included.
type editingChannel struct {
	mu   sync.Mutex
	sent []bot.Outbound
}

func (c *editingChannel) Platform() bot.Platform { return bot.Telegram }

func (c *editingChannel) Send(ctx context.Context, msg bot.Outbound) error {
	_, err := c.SendRef(ctx, msg)
	return err
}

func (c *editingChannel) SendRef(_ context.Context, msg bot.Outbound) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, msg)
	if msg.Kind == bot.OutEdit {
		return "", nil
	}
	return "msg-" + strconv.Itoa(len(c.sent)), nil
}

// edits returns the edits sent to user.
func (c *editingChannel) edits(user string) []bot.Outbound {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []bot.Outbound
	for _, m := range c.sent {
		if m.Kind == bot.OutEdit && m.To.ID == user {
			out = append(out, m)
		}
	}
	return out
}

// plainChannel is a platform that cannot edit (WeChat, the chat page).
type plainChannel struct {
	platform bot.Platform
	mu       sync.Mutex
	sent     []bot.Outbound
}

func (c *plainChannel) Platform() bot.Platform { return c.platform }

func (c *plainChannel) Send(_ context.Context, msg bot.Outbound) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, msg)
	return nil
}

// reassignEnv is an env whose outbox is delivered through a real bot.Router
// to an editing Telegram and a WeChat that cannot edit.
type reassignEnv struct {
	*env
	tg *editingChannel
	wx *plainChannel
}

func newReassignEnv(t *testing.T) *reassignEnv {
	t.Helper()
	tg, wx := &editingChannel{}, &plainChannel{platform: bot.WeChat}
	router := &bot.Router{Locker: bot.NewMemoryLocker(), Channels: map[bot.Platform]bot.Channel{
		bot.Telegram: tg, bot.WeChat: wx, bot.Web: &plainChannel{platform: bot.Web},
	}}
	e := newEnv(t, func(c *lifecycle.Config) { c.Pusher = router })
	return &reassignEnv{env: e, tg: tg, wx: wx}
}

// deliver delivers every message queued so far (those sent are left alone).
func (e *reassignEnv) deliver(t *testing.T) {
	t.Helper()
	for _, id := range e.jobs.deliveries() {
		require.NoError(t, e.svc.Deliver(t.Context(), id, 1, false))
	}
}

// withdrawn returns the case's messages that withdraw a work order, by
// account.
func withdrawn(t *testing.T, ms []message) map[string][]bot.Outbound {
	t.Helper()
	out := map[string][]bot.Outbound{}
	for _, m := range byPurpose(ms, "work_order_withdrawn") {
		require.Len(t, m.Messages, 1, "one message a row")
		out[m.Platform+":"+m.UserID] = append(out[m.Platform+":"+m.UserID], m.Messages[0])
	}
	return out
}

// TestReassignWithdrawsTheOldOrder: 郑晓东 has the order on Telegram (in
// Chinese) and on WeChat (in English), took it, and the owner booked his
// visit; staff reassign it to 冯磊. In the dispatch's own change, each of his
// accounts is told in its language, and on Telegram each of his messages
// with buttons about the case — the work order and the booked visit — is
// edited: buttons away, "（已改派）" under the text. WeChat gives no
// reference to edit: the notice is all. Delivered, the edits reach the
// platform naming the messages it sent.
func TestReassignWithdrawsTheOldOrder(t *testing.T) {
	t.Parallel()
	e := newReassignEnv(t)
	ctx := t.Context()
	zheng := e.bind(t, "郑晓东", "eng-zheng", "zh")
	zhengWx := e.bind(t, "郑晓东", "wechat:oZheng", "en")
	f := &flow{e: e.env, engineer: zheng, owner: e.who(t, ownerChat)}
	c, err := e.svc.Triage(ctx, e.newCase(t, nil))
	require.NoError(t, err)
	require.Equal(t, e.member(t, "郑晓东").ID, c.AssigneeID)
	f.c = c
	f.to(t, casework.StateScheduled)
	e.deliver(t)

	// What the platforms gave references of: Telegram's, not WeChat's.
	var orderRef, bookedRef, orderText, bookedText string
	for _, m := range e.outbox(t, c.ID) {
		require.Equal(t, casework.OutboxSent, m.Status, "outbox %d", m.ID)
		if m.Platform == "wechat" {
			assert.Empty(t, m.SentRef, "WeChat gives no reference")
			continue
		}
		assert.NotEmpty(t, m.SentRef, "outbox %d (%s)", m.ID, m.Purpose)
		if m.UserID == "eng-zheng" && m.Purpose == "work_order" && len(m.Messages[0].Choices) > 0 {
			orderRef, orderText = m.SentRef, m.text()
		}
		if m.UserID == "eng-zheng" && m.Purpose == "appointment" {
			bookedRef, bookedText = m.SentRef, m.text()
		}
	}
	require.NotEmpty(t, orderRef)
	require.NotEmpty(t, bookedRef)

	feng := e.bind(t, "冯磊", "eng-feng", "zh")
	before := len(e.outbox(t, c.ID))
	c, err = e.svc.Dispatch(ctx, c.Number, casework.Staff("7"), 0, e.member(t, "冯磊").ID)
	require.NoError(t, err)
	assert.Equal(t, e.member(t, "冯磊").ID, c.AssigneeID)

	ms := e.outbox(t, c.ID)[before:]
	got := withdrawn(t, ms)
	assert.Equal(t, []bot.Outbound{
		{To: zheng.User, Kind: bot.OutText, Text: "工单 " + c.Number + " 已改派给他人，您无需再处理。这张工单之前的按钮和选项已失效。"},
		{To: zheng.User, Kind: bot.OutEdit, Ref: orderRef, Text: orderText, Mark: "（已改派）"},
		{To: zheng.User, Kind: bot.OutEdit, Ref: bookedRef, Text: bookedText, Mark: "（已改派）"},
	}, got["telegram:eng-zheng"])
	assert.Equal(t, []bot.Outbound{
		{To: zhengWx.User, Kind: bot.OutText, Text: "Work order " + c.Number + " has been reassigned to someone else; you need not handle it. Its earlier buttons and options no longer apply."},
	}, got["wechat:oZheng"], "in English, and no edit where the platform cannot")
	assert.Len(t, got, 2, "no one else is told of a withdrawal")
	assert.NotEmpty(t, byPurpose(ms, "work_order"), "the new order goes out with them")
	for _, m := range byPurpose(ms, "work_order") {
		assert.Equal(t, feng.User.ID, m.UserID)
	}

	e.deliver(t)
	edits := e.tg.edits("eng-zheng")
	require.Len(t, edits, 2)
	assert.Equal(t, orderRef, edits[0].Ref)
	assert.Equal(t, bookedRef, edits[1].Ref)
	for _, m := range e.outbox(t, c.ID) {
		assert.Equal(t, casework.OutboxSent, m.Status, "outbox %d", m.ID)
	}

	// The order comes back to him and goes away again: only what he was
	// sent since is edited; the old messages were edited already.
	c, err = e.svc.Dispatch(ctx, c.Number, casework.Staff("7"), 0, e.member(t, "郑晓东").ID)
	require.NoError(t, err)
	e.deliver(t)
	var newOrderRef string
	for _, m := range byPurpose(e.outbox(t, c.ID), "work_order") {
		if m.UserID == "eng-zheng" && m.SentRef != orderRef && len(m.Messages[0].Choices) > 0 {
			newOrderRef = m.SentRef
		}
	}
	require.NotEmpty(t, newOrderRef)
	assert.Len(t, e.tg.edits("eng-feng"), 1, "冯磊's order withdrawn in turn")
	_, err = e.svc.Dispatch(ctx, c.Number, casework.Staff("7"), 0, e.member(t, "冯磊").ID)
	require.NoError(t, err)
	e.deliver(t)
	edits = e.tg.edits("eng-zheng")
	require.Len(t, edits, 3)
	assert.Equal(t, newOrderRef, edits[2].Ref)
}

// TestReassignIsOneChange: a reassignment refused (the case changed since
// staff saw it) tells the old engineer nothing: the withdrawal is written
// with the dispatch or not at all. A dispatch to the engineer who has the
// order already withdraws nothing.
func TestReassignIsOneChange(t *testing.T) {
	t.Parallel()
	e := newReassignEnv(t)
	f := e.dispatched(t, nil)
	ctx := t.Context()
	e.bind(t, "冯磊", "eng-feng", "zh")
	before := e.snapshot(t, f.c)

	stale := lifecycle.WithVersion(ctx, f.c.Number, f.c.Version-1)
	_, err := e.svc.Dispatch(stale, f.c.Number, casework.Staff("7"), 0, e.member(t, "冯磊").ID)
	var ce *casework.ConflictError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, before, e.snapshot(t, f.c), "nothing written")

	_, err = e.svc.Dispatch(ctx, f.c.Number, casework.Staff("7"), 0, e.member(t, "郑晓东").ID)
	require.NoError(t, err)
	assert.Empty(t, withdrawn(t, e.outbox(t, f.c.ID)), "the same engineer: nothing withdrawn")
}

// TestOldOrderButtonsSayReassigned: the engineer whose order went to
// someone else presses its old buttons — take, decline, offer times, check
// in, show — from either of his accounts: each is refused, writes nothing,
// and is explained as reassigned, in the account's language. An engineer who
// never had the order still gets the permission error.
func TestOldOrderButtonsSayReassigned(t *testing.T) {
	t.Parallel()
	e := newReassignEnv(t)
	ctx := t.Context()
	zhengWx := e.bind(t, "郑晓东", "wechat:oZheng", "en")
	f := e.dispatched(t, nil)
	n := f.c.Number
	e.bind(t, "冯磊", "eng-feng", "zh")
	_, err := e.svc.Dispatch(ctx, n, casework.Staff("7"), 0, e.member(t, "冯磊").ID)
	require.NoError(t, err)
	before := e.snapshot(t, f.c)

	for name, act := range map[string]func(w lifecycle.Who) error{
		"take":    func(w lifecycle.Who) error { _, err := e.svc.TakeOrder(ctx, w, n); return err },
		"decline": func(w lifecycle.Who) error { return e.svc.DeclineOrder(ctx, w, n, "不是我的活") },
		"slots":   func(w lifecycle.Who) error { return e.svc.ProposeSlots(ctx, w, n, e.svc.CandidateSlots()[:2]) },
		"checkin": func(w lifecycle.Who) error { _, err := e.svc.CheckIn(ctx, w, n); return err },
		"show":    func(w lifecycle.Who) error { _, err := e.svc.ShowOrder(ctx, w, n, l10n.Chinese); return err },
	} {
		err := act(f.engineer)
		require.ErrorIs(t, err, lifecycle.ErrReassigned, name)
		assert.ErrorIs(t, err, lifecycle.ErrForbidden, "%s: still not allowed", name)
		text, ok := lifecycle.ExplainError(l10n.Chinese, err)
		assert.True(t, ok)
		assert.Equal(t, "这张工单已改派，您无需再处理。", text, name)

		err = act(zhengWx)
		require.ErrorIs(t, err, lifecycle.ErrReassigned, "%s from WeChat", name)
		text, _ = lifecycle.ExplainError(l10n.English, err)
		assert.Equal(t, "This work order was reassigned to someone else; you need not handle it.", text)
	}
	assert.Equal(t, before, e.snapshot(t, f.c), "nothing written")

	// Engineers of other parties never had it.
	for _, name := range []string{"吴海涛", "陶然"} {
		w := e.bind(t, name, "eng-"+name, "zh")
		_, err = e.svc.TakeOrder(ctx, w, n)
		require.ErrorIs(t, err, lifecycle.ErrForbidden, name)
		assert.NotErrorIs(t, err, lifecycle.ErrReassigned, name)
		text, _ := lifecycle.ExplainError(l10n.Chinese, err)
		assert.Equal(t, "这个报修不在您的权限范围内。", text, name)
	}
}

// TestDeclinedThenReassigned: the engineer who handed the order back is
// not told when staff give it to someone else (he knows), but an old
// button of his says it went to someone else.
func TestDeclinedThenReassigned(t *testing.T) {
	t.Parallel()
	e := newReassignEnv(t)
	ctx := t.Context()
	f := e.dispatched(t, nil)
	n := f.c.Number
	require.NoError(t, e.svc.DeclineOrder(ctx, f.engineer, n, "人手不够"))
	e.bind(t, "冯磊", "eng-feng", "zh")
	_, err := e.svc.Dispatch(ctx, n, casework.Staff("7"), 0, e.member(t, "冯磊").ID)
	require.NoError(t, err)
	assert.Empty(t, withdrawn(t, e.outbox(t, f.c.ID)))
	_, err = e.svc.TakeOrder(ctx, f.engineer, n)
	require.ErrorIs(t, err, lifecycle.ErrReassigned)
}

// TestOldOrderButtonsSayCancelled: once the case is cancelled (撤销), the
// engineer who had its order is told so by its old buttons; the withdrawal
// for a cancelled case speaks of the cancellation.
func TestOldOrderButtonsSayCancelled(t *testing.T) {
	t.Parallel()
	e := newReassignEnv(t)
	ctx := t.Context()
	f := e.dispatched(t, nil)
	e.deliver(t)
	c, err := e.store.TransitionCaseWith(ctx, f.c.ID, f.c.Version, casework.Transition{Action: casework.ActionCancel, Actor: casework.Staff("7"), Note: "owner withdrew"}, casework.Effects{})
	require.NoError(t, err)

	_, err = e.svc.TakeOrder(ctx, f.engineer, c.Number)
	require.ErrorIs(t, err, lifecycle.ErrOrderCancelled)
	text, _ := lifecycle.ExplainError(l10n.Chinese, err)
	assert.Equal(t, "这张工单已撤销，您无需再处理。", text)
	text, _ = lifecycle.ExplainError(l10n.English, err)
	assert.Equal(t, "This work order was withdrawn: the case was cancelled. You need not handle it.", text)

	// His colleague, who never had it: refused as before.
	w := e.bind(t, "冯磊", "eng-feng", "zh")
	_, err = e.svc.TakeOrder(ctx, w, c.Number)
	require.ErrorIs(t, err, lifecycle.ErrForbidden)
	assert.NotErrorIs(t, err, lifecycle.ErrOrderCancelled)

	ms, err := e.svc.WithdrawOrder(ctx, c, e.member(t, "郑晓东").ID, "cancelled")
	require.NoError(t, err)
	require.Len(t, ms, 2, "the notice and the edit of the order")
	assert.Contains(t, string(ms[0].Payload), "工单 "+c.Number+" 已撤销：业主撤回了报修。您无需再处理")
	assert.Contains(t, string(ms[1].Payload), `"mark":"（已撤销）"`)
	for _, m := range ms {
		assert.Equal(t, "work_order_withdrawn", m.Purpose)
		assert.Equal(t, c.ID, m.CaseID)
	}

	_, err = e.svc.WithdrawOrder(ctx, c, e.member(t, "郑晓东").ID, "lost")
	require.ErrorContains(t, err, `"lost" is neither reassigned nor cancelled`)
	ms, err = e.svc.WithdrawOrder(ctx, c, 0, "cancelled")
	require.NoError(t, err)
	assert.Empty(t, ms, "no one to tell")
}
