package conversation_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/testclock"
)

// scenario is one flow, written once and run in Chinese and in English: pick
// chooses what the owner types in each language; buttons are pressed by
// payload, so they are the same in both.
type scenario func(t *testing.T, w *world, u *user, pick func(zh, en string) string)

func runBoth(t *testing.T, name string, sc scenario) {
	for _, lang := range []string{"zh", "en"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			code := "zh-hans"
			if lang == "en" {
				code = "en-GB"
			}
			u := w.user("1001", code)
			pick := func(zh, en string) string {
				if lang == "en" {
					return en
				}
				return zh
			}
			sc(t, w, u, pick)
			w.golden(name + "_" + lang)
		})
	}
}

// TestReportFirstTime: a new owner reports a leak at 11 pm — identity (an
// ambiguous room, a bad phone), category by button, location in their own
// words, a photo, the summary with one change, submit.
func TestReportFirstTime(t *testing.T) {
	runBoth(t, "report_first_time", func(t *testing.T, w *world, u *user, pick func(string, string) string) {
		u.say(pick("你好", "hello"))
		u.press("menu:report")
		u.say(pick("林晓峰", "Lin Xiaofeng"))
		u.say(pick("1502", "room 1502"))
		u.say(pick("我家是3栋1单元201", "building 3 unit 1 room 201"))
		u.say("12345")
		u.contact("+86 139 0000 0016", true)
		u.press("cat:engineering_quality/leak")
		u.say(pick("主卧飘窗下面", "under the bay window in the master bedroom"))
		u.say(pick("下大雨后飘窗下面的墙在渗水，墙皮起泡了", "After heavy rain water seeps through the wall under the window and the paint is bubbling"))
		u.say(pick("昨天", "yesterday"))
		u.send(bot.KindPhoto, "wall.png", png, 0)
		u.press("media:done")
		u.press("exp:repair")
		u.press("ct:evening")
		u.press("sum:edit")
		u.press("edit:contact_time")
		u.say(pick("周六上午", "Saturday morning"))
		u.press("sum:submit")

		cases, n, err := w.store.FindCases(context.Background(), casework.CaseFilter{})
		require.NoError(t, err)
		require.Equal(t, 1, n)
		c, err := w.store.FindCaseByID(context.Background(), cases[0].ID)
		require.NoError(t, err)
		assert.Equal(t, testclock.Text("SH-20261127-0001"), c.Number)
		assert.Equal(t, casework.CategoryEngineeringQuality, c.Category)
		assert.Equal(t, casework.SubLeak, c.Subcategory)
		assert.Equal(t, casework.LocationBedroom, c.Location)
		assert.Equal(t, "13900000016", c.OwnerPhone)
		assert.Equal(t, casework.ChannelTelegram, c.Channel)
		assert.Equal(t, casework.ActorBot, c.ReceivedBy)
		assert.Empty(t, c.DecisionReason, "the owner is on the unit's register")
		require.Len(t, c.Media, 1)
		assert.Equal(t, "image/png", c.Media[0].ContentType)
		require.NotNil(t, c.OccurredAt)
		assert.Equal(t, testclock.Text("2026-11-26"), c.OccurredAt.In(casework.ChinaTime()).Format("2006-01-02"))
		assert.Equal(t, pick("周六上午", "Saturday morning"), c.ContactTime)
		require.NotNil(t, c.RespondBy)

		// Routed: building 3's leaks go to the general contractor (the
		// building-specific rule beats the project's waterproofing rule).
		assert.Equal(t, casework.ResponsibilityContractor, c.Responsibility)
		events, err := w.store.ListCaseEvents(context.Background(), c.ID)
		require.NoError(t, err)
		var judgment string
		for _, e := range events {
			if strings.HasPrefix(e.Note, "初步判断") {
				judgment = e.Note
			}
		}
		assert.Contains(t, judgment, "suggested party HXJS")
		assert.Contains(t, judgment, testclock.Text("warranty in_warranty 2029-11-16"))

		logs := w.logs.String()
		assert.Contains(t, logs, "case registered", "the service logs what happened")
		assert.Contains(t, logs, "139****0016", "phones are logged masked")
		assert.NotContains(t, logs, "13900000016", "never a whole phone number")
		assert.NotContains(t, logs, "12345\"", "nor what the owner typed as one")
		assert.NotContains(t, logs, pick("墙皮起泡", "paint is bubbling"), "nor what the owner wrote")
	})
}

// TestReportInOwnWords: an owner who starts by describing an urgent problem
// gets a proposed category, confirms it, skips photos, and receives safety
// advice with the case number.
func TestReportInOwnWords(t *testing.T) {
	runBoth(t, "report_own_words", func(t *testing.T, w *world, u *user, pick func(string, string) string) {
		u.say(pick("卫生间天花板一直在往下滴水，地上已经积水了", "Water is leaking through the bathroom ceiling and the floor is flooded"))
		u.say(pick("唐明", "Tang Ming"))
		u.say("3-2-101")
		u.say("13900000026")
		u.typeCode("13900000026")
		u.press("yes")
		u.press("occ:today") // the bathroom, named in the first words, is not asked again
		u.press("media:skip")
		u.say(pick("尽快上门止水", "please come and stop it tonight"))
		u.press("ct:anytime")
		u.press("sum:submit")

		cases, _, err := w.store.FindCases(context.Background(), casework.CaseFilter{})
		require.NoError(t, err)
		require.Len(t, cases, 1)
		assert.Equal(t, casework.UrgencyUrgent, cases[0].Urgency)
		assert.Equal(t, casework.SubLeak, cases[0].Subcategory)
		assert.Equal(t, casework.LocationBathroom, cases[0].Location, "taken from the first words")
		require.NotNil(t, cases[0].RespondBy)
		assert.Equal(t, start.Add(time.Hour), cases[0].RespondBy.In(casework.ChinaTime()), "urgent: respond within an hour")
	})
}

// TestReturningOwner: the binding is remembered; the owner sees their cases,
// opens one by number, urges it, and is told to wait when urging again.
func TestReturningOwner(t *testing.T) {
	runBoth(t, "returning_owner", func(t *testing.T, w *world, u *user, pick func(string, string) string) {
		u.command("report")
		u.say(pick("郭敏", "Guo Min"))
		u.say(pick("3栋1单元601", "3-1-601"))
		u.say("139-0000-0018")
		u.typeCode("13900000018")
		u.press("cat:engineering_quality/door_window")
		u.press("loc:living_room")
		u.say(pick("客厅推拉门关不严，有缝漏风", "The living room sliding door doesn't close and there is a draught"))
		u.press("occ:earlier")
		u.press("media:skip")
		u.press("exp:repair")
		u.press("ct:workday")
		u.press("sum:submit")
		w.note("two days later")
		w.clock.Advance(48 * time.Hour)
		u.say(pick("进度", "status"))
		u.press("case:SH-20261127-0001")
		u.press("urge:SH-20261127-0001")
		w.clock.Advance(time.Hour)
		u.command("urge")
		u.press("urge:SH-20261127-0001")
		w.note("a second report: no questions about who and where")
		u.say(pick("报修", "report"))
		u.press("cat:engineering_quality/crack")
		u.say(pick("不要了", "cancel"))
		u.say(pick("SH-20261127-0099", "SH-20261127-0099"))
	})
}

// TestShortFlows: consultation, complaint, suggestion and praise each make a
// case of their category.
func TestShortFlows(t *testing.T) {
	runBoth(t, "short_flows", func(t *testing.T, w *world, u *user, pick func(string, string) string) {
		u.command("start")
		u.press("menu:consult")
		u.say(pick("罗文", "Luo Wen"))
		u.say("3-1-901")
		u.say("13900000020")
		u.typeCode("13900000020")
		u.say(pick("请问房产证什么时候可以办下来？", "When can I get my property ownership certificate?"))
		u.press("sum:submit")
		u.command("menu")
		u.press("menu:complain")
		u.say(pick("物业保安态度很差，还骂人，我要投诉到12345", "The property security guard was rude and swore at me, I will complain to the media"))
		u.press("sum:submit")
		u.command("menu")
		u.press("menu:suggest")
		u.say(pick("建议小区门口增加非机动车停车位", "Please add more bicycle parking at the gate"))
		u.press("sum:submit")
		u.command("menu")
		u.press("menu:praise")
		u.say(pick("感谢维修师傅小吴，修得又快又好", "Thanks to engineer Wu, quick and careful work"))
		u.press("sum:submit")

		cases, _, err := w.store.FindCases(context.Background(), casework.CaseFilter{})
		require.NoError(t, err)
		got := map[casework.Category]casework.Case{}
		for _, c := range cases {
			got[c.Category] = *c
		}
		assert.Len(t, cases, 4)
		assert.Equal(t, casework.SubCertificate, got[casework.CategoryPolicyConsultation].Subcategory)
		assert.Equal(t, casework.UrgencyMajorComplaint, got[casework.CategoryServiceAttitude].Urgency)
		assert.Contains(t, []casework.Subcategory{casework.SubSuggestion, casework.SubPraise}, got[casework.CategoryOther].Subcategory)
	})
}

// TestCommandsAnywhere: help, back, language switch, cancel, three failed
// answers offering a person, and the hand-off during which the bot is quiet.
func TestCommandsAnywhere(t *testing.T) {
	runBoth(t, "commands", func(t *testing.T, w *world, u *user, pick func(string, string) string) {
		u.say(pick("报修", "report"))
		u.say(pick("帮助", "help"))
		u.say(pick("冯瑞", "Feng Rui"))
		u.say(pick("返回", "back"))
		u.say(pick("冯瑞", "Feng Rui"))
		u.say(pick("English", "中文"))
		u.say("3-2-202")
		u.say("138")
		u.say("138001")
		u.say("1380013800")
		u.press("retry")
		u.say("13900000027")
		u.say(pick("取消", "cancel"))
		u.say(pick("人工", "human"))
		u.say(pick("你们电话打不通", "nobody answers your phone"))
		u.say(pick("菜单", "menu"))
	})
}

// TestResumeAfterIdle: an unfinished report expires after 24 hours with a
// notice, and can be resumed where it stopped.
func TestResumeAfterIdle(t *testing.T) {
	runBoth(t, "resume_after_idle", func(t *testing.T, w *world, u *user, pick func(string, string) string) {
		u.say(pick("报修", "report"))
		u.say(pick("董丽娟", "Dong Lijuan"))
		u.say("3-2-602")
		u.say("13900000029")
		u.typeCode("13900000029")
		u.press("cat:engineering_quality/electrical")
		u.press("loc:kitchen")
		w.note("25 hours later")
		w.clock.Advance(25 * time.Hour)
		u.say(pick("你好", "hello"))
		u.press("resume:yes")
		u.say(pick("厨房插座一插电就跳闸", "The kitchen socket trips the breaker whenever something is plugged in"))
	})
}

// TestBadInput: what a frustrated or careless owner may send never breaks
// the dialogue, and each gets a clear answer.
func TestBadInput(t *testing.T) {
	runBoth(t, "bad_input", func(t *testing.T, w *world, u *user, pick func(string, string) string) {
		u.say(pick("报修", "report"))
		u.say("😡😡😡")
		u.say("<script>alert('x')</script>")
		u.say("3-1-1502")
		u.contact("13912345678", false)
		u.say("'; DROP TABLE cases; --")
		u.say("13900000099")
		u.say("123")
		u.press("verify:skip")
		u.press("cat:engineering_quality/crack")
		u.press("loc:living_room")
		w.log.WriteString("> [10 MB of text]\n")
		u.deliver(&bot.Inbound{Kind: bot.KindText, Text: strings.Repeat("漏", 10<<20/3)})
		u.say("\x00\x01\x02")
		u.say(pick("客厅墙面有一条斜裂缝，约一米长", "A diagonal crack about a metre long in the living room wall"))
		u.press("occ:date")
		u.say("2027-01-01")
		u.say(pick("11月20日", "2026-11-20"))
		u.send(bot.KindPhoto, "photo.jpg", []byte("this is not an image at all, just text pretending"), 0)
		u.send(bot.KindVideo, "video.mp4", nil, 200<<20)
		u.send(bot.KindPhoto, "crack.png", png, 0)
		u.press("media:done")
		u.press("exp:inspect")
		u.press("ct:weekend")
		u.press("sum:submit")

		cases, _, err := w.store.FindCases(context.Background(), casework.CaseFilter{})
		require.NoError(t, err)
		require.Len(t, cases, 1)
		assert.Equal(t, "<script>alert('x')</script>", cases[0].OwnerName, "stored as text")
		assert.Contains(t, cases[0].DecisionReason, "身份未验证", "the reporter did not prove the phone: staff are told to verify")
		assert.False(t, cases[0].IdentityVerified)
		assert.Zero(t, cases[0].OwnerID, "no owner record is reached without proof")
	})
}

// TestMenuWordingPerPlatform: WeChat shows options as numbered links, so its
// menu asks for a tap or a number; where there are buttons the menu says so.
func TestMenuWordingPerPlatform(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	wx := &user{w: w, ref: bot.UserRef{Platform: bot.WeChat, ID: "oWxMenu"}, lang: "zh"}
	wx.say("菜单")
	require.NotEmpty(t, w.lastOut)
	assert.Contains(t, w.lastOut[len(w.lastOut)-1].Text, "点选，或回复序号")
	tg := w.user("menu-tg", "zh-hans")
	tg.say("菜单")
	assert.Contains(t, w.lastOut[len(w.lastOut)-1].Text, "可点按钮")
}

// TestLanguageFromFirstWords: on a platform that tells no language (WeChat
// without user info), an owner greeted in Chinese who writes English is
// answered in English from their first words on; words that show no
// language change nothing, nor do words after the language was chosen; the
// switch still works.
func TestLanguageFromFirstWords(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	u := w.user("1001", "")
	u.deliver(&bot.Inbound{Kind: bot.KindFollow})
	require.NotEmpty(t, w.lastOut)
	assert.Contains(t, w.lastOut[0].Text, "欢迎", "a follow is greeted in the default language")
	u.say("ok")
	assert.Regexp(t, `\p{Han}`, w.lastOut[0].Text, "ok shows no language")
	u.say("Hello, my bathroom ceiling is leaking")
	for _, o := range w.lastOut {
		assert.NotRegexp(t, `\p{Han}`, o.Text, "every reply in English")
	}
	u.say("中文")
	assert.Regexp(t, `\p{Han}`, w.lastOut[0].Text, "the switch works")
	u.say("menu please")
	assert.Regexp(t, `\p{Han}`, w.lastOut[0].Text, "a chosen language stays")

	v := w.user("1002", "")
	v.say("你好")
	v.say("Zhang Wei")
	assert.Regexp(t, `\p{Han}`, w.lastOut[0].Text, "the first words decided: Chinese")
}

// TestReportInWords: an owner on WeChat answers every question with options
// in words, as people type them — 是的, an option's own words with spaces,
// punctuation or an emoji around them, 不对 to the read-back, where they
// change their name and the time to call — and never with a number or a
// tap; the report goes through without one "please pick an option".
func TestReportInWords(t *testing.T) {
	runBoth(t, "report_in_words", func(t *testing.T, w *world, u *user, pick func(string, string) string) {
		u.ref.Platform = bot.WeChat
		u.say(pick("天花板渗水，墙皮起泡了", "The ceiling is damp and the paint is bubbling"))
		u.say(pick("林晓峰", "Lin Xiaofeng"))
		u.say("3-1-201")
		u.say("13900000016")
		u.typeCode("13900000016")
		u.say(pick("是的", "yep"))
		u.say(pick(" 卫生间 ", "Bathroom 🙏"))
		u.say(pick("今天！", "today!"))
		u.say(pick("跳过", "skip"))
		u.say(pick("先上门查看", "inspect first"))
		u.say(pick("工作日白天。", "weekdays, daytime"))
		u.say(pick("不对", "no"))
		u.say(pick("姓名", "Name"))
		u.say(pick("林小峰", "Lin Xiaofeng"))
		u.say(pick("不对！", "wrong"))
		u.say(pick("方便联系时间", "best time to call"))
		u.say(pick("晚上", "Evenings"))
		u.say(pick("对的", "correct"))

		assert.NotContains(t, w.log.String(), pick("请点选上面的一个选项", "Please tap one of the options above"), "every answer in words is taken")
		cases, _, err := w.store.FindCases(context.Background(), casework.CaseFilter{})
		require.NoError(t, err)
		require.Len(t, cases, 1)
		c := cases[0]
		assert.Equal(t, casework.SubLeak, c.Subcategory)
		assert.Equal(t, casework.LocationBathroom, c.Location)
		assert.Equal(t, pick("先上门查看", "Inspect first"), c.Expectation)
		assert.Equal(t, pick("晚上", "Evenings"), c.ContactTime)
		assert.Equal(t, pick("林小峰", "Lin Xiaofeng"), c.OwnerName, "the name changed at the read-back")
		assert.Equal(t, casework.ChannelWeChat, c.Channel)
	})
}

// TestOneQuestionPerMessage: what the bot tells and what it asks go in
// messages of their own — the greeting of a newly verified owner, then the
// first question; the read-back, then whether it is right; the list of
// cases, then what to do with it — so that the owner answers the question.
// (On WeChat, which joins consecutive texts, a question with options stays
// a message of its own too: bot/wechat TestPackOneQuestionPerMessage.)
func TestOneQuestionPerMessage(t *testing.T) {
	for _, lang := range []string{"zh-hans", "en"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			u := w.user("1001", lang)
			// split returns the turn's statement and its question: the last
			// two messages, the question with options and the statement
			// without.
			split := func() (statement, question bot.Outbound) {
				t.Helper()
				require.GreaterOrEqual(t, len(w.lastOut), 2, "a statement, then a question")
				statement, question = w.lastOut[len(w.lastOut)-2], w.lastOut[len(w.lastOut)-1]
				assert.Empty(t, statement.Choices, "the statement offers nothing")
				assert.NotEmpty(t, question.Choices, "the question offers its options")
				return statement, question
			}

			u.say("你好")
			u.press("menu:report")
			u.say("林晓峰")
			u.say("3-1-201")
			u.contact("+86 139 0000 0016", true)
			greeting, question := split()
			assert.Contains(t, greeting.Text, "海景苑 3-1-201")
			assert.NotContains(t, question.Text, "海景苑")

			for _, p := range []string{"cat:engineering_quality/leak", "loc:bedroom"} {
				u.press(p)
			}
			u.say("飘窗下面的墙在渗水")
			for _, p := range []string{"occ:today", "media:skip", "exp:repair", "ct:anytime"} {
				u.press(p)
			}
			readBack, question := split()
			assert.Contains(t, readBack.Text, "13900000016")
			assert.Contains(t, readBack.Text, "飘窗下面的墙在渗水")
			assert.NotContains(t, question.Text, "13900000016", "the question is asked alone")
			assert.Equal(t, "sum:submit", question.Choices[0].Payload)

			u.press("sum:submit")
			u.say("进度")
			list, question := split()
			assert.Contains(t, list.Text, "SH-")
			assert.NotContains(t, question.Text, "SH-")
			assert.Equal(t, "case:", question.Choices[0].Payload[:5])
		})
	}
}
