package main

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot/wechat/wechattest"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/lifecycle"
)

// TestReassignWithdrawsTheOldOrder: a leak's order goes to 吴海涛 on
// Telegram; staff reassign it through the API to his manager 周建国, on
// WeChat. 吴海涛 is told the order went to someone else, and his work order
// on Telegram loses its buttons and says "（已改派）"; 周建国 gets the order.
// 吴海涛 presses the old 接单 before the edit reaches Telegram (it waits out
// flood control): he is told the order was reassigned, not that it is not
// his to act on.
//
// WeChat is on: not parallel (its SDK has process globals).
func TestReassignWithdrawsTheOldOrder(t *testing.T) {
	s := newScenario(t, true)
	ctx := context.Background()
	old := s.bindOnTelegram("吴海涛")
	zhou := s.member("周建国")
	code, err := s.m.Lifecycle.IssueBindCode(ctx, zhou.ID, casework.Staff("test"))
	require.NoError(t, err)
	newer := s.wxEngineer
	newer.send(wechattest.Subscribe(newer.openID), "欢迎")
	newer.say("/bind "+code.Code, "绑定成功")

	owner := s.chat("晓峰")
	c := s.report(owner, residentLin, "engineering_quality/leak", "飘窗下面的墙在渗水")
	number := c.Number
	owner.expect("已受理并派给")
	old.expect("【派工单】" + number)
	take := lifecycle.Payload(lifecycle.ActTake, number)
	orderID := old.withButton(take)
	s.idle()

	// The order's message is known by its Telegram reference.
	ref := strconv.FormatInt(old.id(), 10) + ":" + strconv.Itoa(orderID)
	out, err := s.m.Store.ListOutbox(ctx, c.ID)
	require.NoError(t, err)
	refs := 0
	for _, o := range out {
		if o.Purpose == "work_order" && o.SentRef == ref {
			refs++
		}
	}
	require.Equal(t, 1, refs, "the work order's outbox message keeps its message's reference %s", ref)

	// Telegram holds the edit back for three seconds (flood control).
	s.tg.FailNext("editMessageText", 1, http.StatusTooManyRequests, "", 3)
	status, body := s.api(http.MethodPost, "/api/v1/cases/"+number+"/reassign", map[string]any{"member_id": zhou.ID})
	require.Equal(t, http.StatusOK, status, "%v", body)
	newer.expect("【派工单】" + number)
	old.expect("工单 " + number + " 已改派给他人，您无需再处理。")
	require.Eventually(t, func() bool {
		for _, r := range s.tg.RequestsFor("editMessageText") {
			if r.ErrorCode == http.StatusTooManyRequests {
				return true
			}
		}
		return false
	}, 15*time.Second, 10*time.Millisecond, "the edit was tried")

	// Meanwhile the buttons still show, and he presses 接单.
	s.tg.PressButton(old.user, orderID, take)
	old.expect("这张工单已改派，您无需再处理。")
	assert.Zero(t, old.count("不在您的权限范围内"))

	s.idle()
	m, ok := s.tg.Message(old.id(), orderID)
	require.True(t, ok)
	assert.Nil(t, m.ReplyMarkup, "no buttons left on the old order")
	assert.True(t, strings.HasPrefix(m.Text, "【派工单】"+number), "it is still the order: %q", m.Text)
	// The press edits the message too (it shows the choice made), before
	// or after the withdrawal's edit: the withdrawal's went through, marked.
	marked := 0
	for _, r := range s.tg.RequestsFor("editMessageText") {
		if r.OK && r.Params["message_id"] == strconv.Itoa(orderID) && strings.HasSuffix(r.Params["text"], "\n（已改派）") {
			marked++
			assert.NotContains(t, r.Params, "reply_markup", "the keyboard goes with it")
			assert.True(t, strings.HasPrefix(r.Params["text"], "【派工单】"+number))
		}
	}
	assert.Equal(t, 1, marked, "the old order was marked 已改派 once")
	for _, msg := range s.tg.Sent(old.id()) {
		for _, b := range msg.ReplyMarkup.InlineButtons() {
			assert.NotContains(t, b.CallbackData, number, "no message of his shows a button of the order: %q", msg.Text)
		}
	}

	got := s.load(number)
	assert.Equal(t, zhou.ID, got.AssigneeID)
	assert.Equal(t, casework.StateDispatched, got.State)
	s.allSent(c.ID)

	// 周建国 takes it on WeChat; the owner hears it from him.
	newer.say("1", "已接单") // 1. 接单
	owner.expect("周建国 已接单")
}

// TestOldOrderDeclineSaysReassigned: an engineer on the chat page whose
// order went to another presses its old 拒单, or 提供预约时间: he is told
// at once that it was reassigned, and asked for no reason.
func TestOldOrderDeclineSaysReassigned(t *testing.T) {
	t.Parallel()
	m, _ := runMain(t, true, nil)
	base := "http://" + m.Addr()
	ctx := t.Context()
	gcb, err := m.Store.FindPartyByCode(ctx, "GCB")
	require.NoError(t, err)
	members, err := m.Store.ListMembers(ctx, gcb.ID)
	require.NoError(t, err)
	byName := map[string]*casework.Member{}
	for _, mb := range members {
		byName[mb.Name] = mb
	}
	tao, lin := byName["陶然"], byName["林峰"]
	require.NotNil(t, tao)
	require.NotNil(t, lin)
	eng := newVisitor(t, base)
	code, err := m.Lifecycle.IssueBindCode(ctx, tao.ID, casework.Staff("test"))
	require.NoError(t, err)
	eng.say("/bind " + code.Code)

	c := registerDesignDefect(t, m)
	_, err = m.Lifecycle.Accept(ctx, c.Number, casework.Staff("test"), "", gcb.ID, tao.ID)
	require.NoError(t, err)
	eng.waitFor("【派工单】" + c.Number)
	_, err = m.Lifecycle.Dispatch(ctx, c.Number, casework.Staff("test"), gcb.ID, lin.ID)
	require.NoError(t, err)
	eng.waitFor("已改派")

	for _, act := range []string{lifecycle.ActDecline, lifecycle.ActSlots} {
		said := eng.press(lifecycle.Payload(act, c.Number))
		assert.Contains(t, said, "这张工单已改派", act)
		assert.NotContains(t, said, "拒单原因", act)
		assert.NotContains(t, said, "可以上门的时间", act)
	}
}

// registerDesignDefect registers, as staff from a hotline call, a design
// defect of the demo's 张伟 at 1-1-101: a case that waits for staff.
func registerDesignDefect(t *testing.T, m *Main) *casework.Case {
	t.Helper()
	units, err := lifecycle.MatchUnits(t.Context(), m.Store, "1-1-101")
	require.NoError(t, err)
	require.NotEmpty(t, units)
	c, err := m.Lifecycle.Register(t.Context(), casework.Staff("test"), lifecycle.IntakeForm{Channel: casework.ChannelHotline,
		UnitID: units[0].Unit.ID, OwnerName: "张伟", OwnerPhone: "13900000001", Description: "厨房没有预留洗碗机的上下水接口",
		Category: casework.CategoryDesignDefect, Subcategory: casework.SubMissingFunction, Location: casework.LocationKitchen})
	require.NoError(t, err)
	require.Equal(t, casework.StateRegistered, c.State)
	return c
}
