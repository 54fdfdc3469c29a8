package main

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOwnWordsInTheBrowser: on the chat page an owner starts with the
// problem in their own words, the danger named by its effect. The bot
// answers at once with what to do now, then registers the report, proposes
// the category it read for the owner to confirm, and registers the case as
// urgent. An owner writing in English about sewage gets advice about sewage.
func TestOwnWordsInTheBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser")
	}
	t.Parallel()
	exe := chromium(t)
	m, _ := runMain(t, true, nil)
	base := "http://" + m.Addr()

	owner, shot := startBrowser(t, exe)
	var log string
	require.NoError(t, chromedp.Run(owner,
		chromedp.Navigate(base+"/chat/"),
		chatType("楼上一冲厕所我家顶上就往下淌，锅碗瓢盆全用上了"),
		chatSays("请先注意安全"),
		chatSays("请问您的姓名"),
		shot("chat-own-words-urgent"),
		chatType("张伟"),
		chatSays("房号"),
		chatType("1-1-101"),
		chatSays("联系电话"),
		chatType("13900000001"),
		chatSays("验证码"),
	))
	require.NoError(t, chromedp.Run(owner,
		chatType(smsCode(t, m, "13900000001")),
		chatSays("听起来是"),
		chromedp.Text(`#log`, &log),
		shot("chat-own-words-proposed"),
	))
	assert.Contains(t, log, "联系楼上住户和物业", "the advice for water from the flat above, before any question")
	assert.Contains(t, log, "我先帮您快速登记")
	assert.Contains(t, log, "听起来是【工程质量 · ", "the category read from the first words is proposed")

	en, enShot := startBrowser(t, exe)
	require.NoError(t, chromedp.Run(en,
		chromedp.Navigate(base+"/chat/"),
		chromedp.Click(`#lang`),
		chatSays("What would you like to do?"),
		chatType("the kids can't use the bathroom, there's sewage coming up through the shower drain"),
		chatSays("Stop using the toilets"),
		chatSays("What is your name?"),
		chromedp.Text(`#log`, &log),
		enShot("chat-own-words-sewage-en"),
	))
	assert.Contains(t, log, "call 119 (fire) or 120 (ambulance) now")
}
