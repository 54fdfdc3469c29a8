package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/pgtest"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/staff"
)

// chatSays waits until the chat page's log shows text.
func chatSays(text string) chromedp.Action {
	return chromedp.Poll(fmt.Sprintf(`document.getElementById('log').innerText.includes(%s)`, strconv.Quote(text)), nil,
		chromedp.WithPollingTimeout(30*time.Second))
}

// chatType types text into the chat page and sends it.
func chatType(text string) chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.WaitEnabled(`#input`),
		chromedp.SendKeys(`#input`, text),
		chromedp.Click(`#send`),
	}
}

// TestHandoffInTheBrowser: two instances of the service on one PostgreSQL
// database behind a round-robin proxy, so that each request of either
// browser tab may reach either. On the chat page an owner asks for a
// person and is told one answers within minutes; an agent signs in to the
// console, sees the chat counted on the dashboard, opens the inbox, takes
// the conversation, and sees the owner's next message arrive without
// reloading the page; the agent answers, and the owner reads it on the chat
// page; the agent ends the hand-off, the owner is told, and the bot answers
// the owner again. The screenshots are left in screenshotDir.
func TestHandoffInTheBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser")
	}
	t.Parallel()
	exe := chromium(t)
	_, dbURL := pgtest.NewSchema(t)
	clock := testclock.NewRunning(testclock.Date(2026, 11, 27, 10, 0, 0, 0, casework.ChinaTime())) // a Friday, in the service hours
	cfg := func(c *Config) {
		c.nowFunc = clock.Now
		c.DatabaseURL = dbURL
		c.ChatCookieKey = "cookie-key-shared-by-both-instances-0123456789"
	}
	a, _ := runMain(t, true, cfg)
	b, _ := runMain(t, false, cfg)
	const password = "海景苑-客服-2026-密码"
	require.NoError(t, a.Staff.AddUser(t.Context(), &staff.User{Username: "zhao", DisplayName: "赵客服", Role: staff.RoleAgent}, password, "test"))
	base, served := roundRobin(t, a, b)

	owner, shot := startBrowser(t, exe)
	// A second tab of the same browser; as in startBrowser, the events this
	// chromedp does not know are not the test's errors.
	agent, cancel := chromedp.NewContext(owner, chromedp.WithErrorf(func(format string, args ...any) {
		if msg := fmt.Sprintf(format, args...); !strings.Contains(msg, "could not unmarshal event") {
			t.Logf("chromedp: %s", msg)
		}
	}))
	t.Cleanup(cancel)
	chromedp.ListenTarget(agent, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok { // 结束会话 asks first
			go func() { _ = chromedp.Run(agent, page.HandleJavaScriptDialog(true)) }()
		}
	})

	// The owner asks for a person on the chat page.
	require.NoError(t, chromedp.Run(owner,
		chromedp.Navigate(base+"/chat/"),
		chatType("人工"),
		chatSays("客服会在几分钟内在这里回复您"),
		chatType("厨房水槽下面的水管在漏水"),
		shot("handoff-owner-asks"),
	))

	// The agent finds the chat on the dashboard and in the inbox, and takes it.
	var dashboard, inbox, first string
	require.NoError(t, chromedp.Run(agent,
		signIn(base, "zhao", password),
		chromedp.Text(`.tiles`, &dashboard),
		chromedp.Click(`a.tile[href="/console/handoffs"]`),
		chromedp.WaitVisible(`section.waiting table.handoffs a.open`),
		chromedp.Text(`main`, &inbox),
		shot("handoff-inbox"),
		chromedp.Click(`section.waiting table.handoffs a.open`),
		chromedp.WaitVisible(`button.take`),
		chromedp.Poll(`document.getElementById('handoff-live').innerText.includes('厨房水槽下面的水管在漏水')`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Click(`button.take`),
		// The page after taking it: only it says so (the reply box was there before).
		chromedp.WaitVisible(`.notice.done`),
		chromedp.WaitVisible(`#reply-text`),
		chromedp.Text(`#handoff-live`, &first),
		// A mark on the page: a reload would take it away.
		chromedp.Evaluate(`window.notReloaded = true`, nil),
	))
	assert.Contains(t, dashboard, "人工会话待回复")
	assert.Contains(t, inbox, "未核实身份的聊天用户")
	assert.Contains(t, inbox, "不到 1 分钟", "how long the owner waited")
	assert.Contains(t, first, "客服会在几分钟内", "what the bot told the owner")

	// The owner writes again; the message appears on the agent's page by itself.
	require.NoError(t, chromedp.Run(owner, chatType("水已经流到客厅了")))
	var live string
	var notReloaded bool
	require.NoError(t, chromedp.Run(agent,
		chromedp.Poll(`document.getElementById('handoff-live').innerText.includes('水已经流到客厅了')`, nil, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Evaluate(`window.notReloaded === true`, &notReloaded),
		chromedp.Text(`#handoff-live`, &live),
		chromedp.ScrollIntoView(`#reply-text`),
		shot("handoff-live"),
	))
	assert.True(t, notReloaded, "the message arrived without a reload")
	assert.Contains(t, live, "厨房水槽下面的水管在漏水")

	// The agent answers, starting from a quick reply; the owner reads it.
	require.NoError(t, chromedp.Run(agent,
		// Picking the quick reply (as a person does with the list) fills the reply box.
		chromedp.Evaluate(`(() => { const s = document.querySelector('select.quick');
			s.value = '如有漏水，请先关闭总水阀并注意用电安全，我们会尽快安排人员处理。';
			s.dispatchEvent(new Event('change', {bubbles: true})); })()`, nil),
		chromedp.Poll(`document.getElementById('reply-text').value.startsWith('如有漏水')`, nil, chromedp.WithPollingTimeout(5*time.Second)),
		chromedp.SendKeys(`#reply-text`, "师傅 30 分钟内到。"),
		chromedp.Click(`button.send`),
		// The page after sending: only it has the agent's message.
		chromedp.WaitVisible(`#handoff-live .msg.agent`),
	))
	require.NoError(t, chromedp.Run(owner,
		chatSays("【人工客服】如有漏水，请先关闭总水阀并注意用电安全，我们会尽快安排人员处理。师傅 30 分钟内到。"),
		shot("handoff-owner-reads"),
	))
	var delivered string
	require.NoError(t, chromedp.Run(agent,
		chromedp.Poll(`document.querySelector('#handoff-live .msg.agent .status.sent') !== null`, nil, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Text(`#handoff-live .msg.agent .status`, &delivered),
		shot("handoff-answered"),
	))
	assert.Equal(t, "已送达", delivered)

	// The agent ends the hand-off (confirming); the owner is told, and the
	// bot answers them again.
	require.NoError(t, chromedp.Run(agent,
		chromedp.Click(`button.end`),
		chromedp.WaitVisible(`p.ended`),
		shot("handoff-ended"),
	))
	require.NoError(t, chromedp.Run(owner,
		chatSays("本次人工服务已结束"),
		chatType("你好"),
		chatSays("请问需要什么帮助"),
		shot("handoff-bot-again"),
	))

	hs, err := a.Store.ListHandoffs(context.Background(), casework.HandoffFilter{})
	require.NoError(t, err)
	require.Len(t, hs, 1)
	h := hs[0]
	assert.Equal(t, casework.HandoffEnded, h.State)
	assert.Equal(t, casework.Actor("staff:zhao"), h.TakenBy)
	assert.Equal(t, casework.Actor("staff:zhao"), h.EndedBy)
	msgs, err := b.Store.ListHandoffMessages(context.Background(), h.ID, 0)
	require.NoError(t, err)
	var owners []string
	for _, m := range msgs {
		if m.From == casework.FromOwner {
			owners = append(owners, m.Text)
		}
		assert.NotEqual(t, "你好", m.Text, "after the end the bot had the owner's words")
	}
	assert.Equal(t, []string{"厨房水槽下面的水管在漏水", "水已经流到客厅了"}, owners)
	assert.Positive(t, served[0].Load(), "instance a served requests")
	assert.Positive(t, served[1].Load(), "instance b served requests")
	t.Logf("screenshots in %s", screenshotDir(t))
}
