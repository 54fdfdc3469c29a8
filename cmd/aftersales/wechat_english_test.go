package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot/wechat/wechattest"
	"github.com/aftersales/aftersales/casework"
)

// tap taps the option labelled label in the last message that offered it,
// as the owner's thumb does on WeChat, and waits for want.
func (o *wxOwner) tap(label, want string) {
	o.t.Helper()
	sent := o.srv.SentTo(o.openID)
	for i := len(sent) - 1; i >= 0; i-- {
		if opt, ok := sent[i].Option(label); ok {
			o.send(wechattest.Tap(o.openID, opt), want)
			return
		}
	}
	o.t.Fatalf("no option %q was offered", label)
}

// TestWeChatReportInEnglish: an owner whose WeChat tells no language (or
// Chinese) follows the account, is greeted in Chinese, and writes in
// English: from their first words every reply is in English, to the case
// number. They tap options, type their numbers and type their words (plain
// mode and safe mode).
func TestWeChatReportInEnglish(t *testing.T) {
	for _, safe := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "safe"}[safe], func(t *testing.T) {
			reportInEnglish(t, safe)
		})
	}
}

// TestWeChatEnglishFromUserInfo: an owner whose WeChat is in English is
// greeted in English when they follow the account, before writing a word.
func TestWeChatEnglishFromUserInfo(t *testing.T) {
	_, o := wechatService(t, false, nil)
	o.srv.SetLanguage(o.openID, "en")
	o.send(wechattest.Subscribe(o.openID), "Report a problem")
	sent := o.srv.SentTo(o.openID)
	assert.NotRegexp(t, `\p{Han}`, strings.ReplaceAll(sent[len(sent)-1].Content, "中文", ""))
}

func reportInEnglish(t *testing.T, safe bool) {
	m, o := wechatService(t, safe, nil)
	o.send(wechattest.Subscribe(o.openID), "请选择您要办理的事项")
	from := len(o.srv.SentTo(o.openID))

	o.say("Hello", "Report a problem")
	o.tap("Report a problem", "What is your name?")
	o.say("Lin Xiaofeng", "home's number")
	o.say("3-1-201", "phone number")
	o.say("13900000016", "6-digit code")
	o.say(smsCode(t, m, "13900000016"), "What is the problem?")
	o.tap("Leak / damp", "Where in your home")
	o.say("4", "describe what you see") // 4. Bathroom
	o.say("Water seeps through the bathroom ceiling and the paint is bubbling", "When did it start?")
	o.tap("Today", "send photos")
	media := o.srv.AddMedia(pngBytes, "image/png")
	o.send(wechattest.Image(o.openID, media, ""), "Got 1")
	o.say("Done", "How would you like it resolved?")
	o.say("1", "good time to contact you") // 1. Repair it soon
	o.tap("Any time", "Is that right?")
	o.tap("Submit", "Case number")

	// The registry's names are Chinese, and so is the menu's switch to
	// Chinese; everything else the account said is English.
	han := regexp.MustCompile(`\p{Han}`)
	sent := o.srv.SentTo(o.openID)[from:]
	require.NotEmpty(t, sent)
	var transcript strings.Builder
	for _, s := range sent {
		text := strings.NewReplacer("海景苑", "", "林晓峰", "", "9. 中文", "").Replace(s.Content)
		assert.False(t, han.MatchString(text), "a reply in Chinese: %q", s.Content)
		transcript.WriteString(s.Content + "\n----\n")
	}

	ctx := context.Background()
	cases, n, err := m.Store.FindCases(ctx, casework.CaseFilter{})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	assert.Equal(t, casework.ChannelWeChat, cases[0].Channel)
	assert.Equal(t, casework.SubLeak, cases[0].Subcategory)
	// What the owner read, message by message, as WeChat shows it (a
	// tappable option as its words); the same in safe mode.
	compareGolden(t, "wechat_report_en.txt", normalizeTranscript(transcript.String(), cases[0].Number))
	id, err := m.Store.FindChatIdentity(ctx, "wechat", o.openID)
	require.NoError(t, err)
	assert.Equal(t, "en", id.Lang, "the account remembers the owner's language")
}

// TestWeChatReportInWords: an owner on WeChat answers every question that
// offers options in words, as people type them — the option's own words
// with spaces or punctuation around them, 是的 and 对的 — never a number or
// a tap, and the report is registered without one "请点选" (plain mode and
// safe mode).
func TestWeChatReportInWords(t *testing.T) {
	for _, safe := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "safe"}[safe], func(t *testing.T) {
			m, o := wechatService(t, safe, nil)
			o.send(wechattest.Subscribe(o.openID), "请选择您要办理的事项")
			o.say("我要报修", "请问您的姓名")
			o.say("林晓峰", "房号")
			o.say("3-1-201", "电话")
			o.say("13900000016", "验证码")
			o.say(smsCode(t, m, "13900000016"), "什么问题")
			o.say("漏水/渗水 ", "什么位置")
			o.say("卫生间！", "描述")
			o.say("卫生间天花板渗水，墙皮起泡了", "什么时候开始")
			o.say("今天", "照片")
			o.say("跳过", "怎样解决")
			o.say("尽快维修。", "联系")
			o.say("随时", "都对吗")
			o.say("对的", "诉求编号")
			for _, s := range o.srv.SentTo(o.openID) {
				assert.NotContains(t, s.Content, "请点选上面的一个选项", "every answer in words is taken")
			}
			cases, n, err := m.Store.FindCases(context.Background(), casework.CaseFilter{})
			require.NoError(t, err)
			require.Equal(t, 1, n)
			assert.Equal(t, casework.SubLeak, cases[0].Subcategory)
			assert.Equal(t, casework.LocationBathroom, cases[0].Location)
		})
	}
}
