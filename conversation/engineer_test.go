package conversation_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/lifecycle"
)

// TestEngineerMenu: a bound engineer (吴海涛) gets the engineer's menu —
// my orders, today's visits, help — never the owner's: his greeting, a
// stray photo and words that sound like a leak start no report (the photo
// is told where photos go), and the owner's 报修 is refused with his menu.
// Today's visits lists the order booked today with its time and address;
// the evening before it lists none.
func TestEngineerMenu(t *testing.T) {
	runBoth(t, "engineer_menu", func(t *testing.T, w *world, u *user, pick func(string, string) string) {
		ctx := context.Background()
		w.withLifecycle(t)
		w.bindMember(t, "吴海涛", "9001", pick("zh", "en"))
		wu := w.engineerWho(t, "9001")
		number := reportLeak(t, w, u, pick)
		real := w.onlyCase(t).Number
		w.pushedTo(t, u)

		eng := w.user("9001", pick("zh-hans", "en-GB"))
		w.note("the engineer 吴海涛 writes to the bot the same evening")
		eng.say(pick("你好", "hello"))
		assert.Equal(t, []string{"menu:orders", "menu:today", "menu:help", "menu:lang"}, payloads(w.lastOut), "the engineer's menu")
		eng.press("menu:today")
		assert.Contains(t, said(w, eng), pick("今天没有预约上门", "No visits booked for today"))
		eng.send(bot.KindPhoto, "ceiling.png", png, 0)
		assert.Contains(t, said(w, eng), pick("照片要跟着工单走", "Photos go with a work order"))
		eng.say(pick("卫生间吊顶漏水了", "the bathroom ceiling is leaking"))
		eng.press("menu:help")
		eng.command("report")
		assert.Contains(t, said(w, eng), pick("这是业主的功能", "That is for homeowners"))

		w.note("the next morning he takes the order and the owner picks 14:00 today")
		w.clock.Advance(10 * time.Hour)
		_, err := w.lc.TakeOrder(ctx, wu, real)
		require.NoError(t, err)
		now := w.clock.Now()
		require.NoError(t, w.lc.ProposeSlots(ctx, wu, real, []time.Time{now.Add(5 * time.Hour), now.Add(10 * time.Hour)}))
		// engineerWho reads any account's identity: here the owner's.
		_, err = w.lc.PickSlot(ctx, w.engineerWho(t, u.ref.ID), real, now.Add(5*time.Hour).Unix())
		require.NoError(t, err)
		eng.say(pick("今日预约", "today's visits"))
		today := said(w, eng)
		assert.Contains(t, today, "14:00 "+number)
		assert.Contains(t, today, "海景苑 3-1-601")
		eng.press(lifecycle.Payload(lifecycle.ActOrder, number))
		eng.say(pick("我的工单", "my orders"))

		cases, n, err := w.store.FindCases(ctx, casework.CaseFilter{})
		require.NoError(t, err)
		assert.Equal(t, 1, n, "the engineer's photo and words started no report: %v", cases)
	})
}

// payloads are the payloads of the choices in out.
func payloads(out []bot.Outbound) []string {
	var ps []string
	for _, o := range out {
		for _, c := range o.Choices {
			ps = append(ps, c.Payload)
		}
	}
	return ps
}

// TestEngineerOnEveryPlatform: on the chat page, Telegram and WeChat (where
// options are numbered links) an account that binds halfway through an
// owner's report is an engineer from then on: the report is dropped, a
// photo and words get the engineer's menu in its language, the owner's
// menu words (报修, 进度) start nothing of an owner's, and "今日预约" is
// theirs.
func TestEngineerOnEveryPlatform(t *testing.T) {
	for _, platform := range []bot.Platform{bot.Web, bot.Telegram, bot.WeChat} {
		for _, lang := range []string{"zh", "en"} {
			t.Run(string(platform)+"_"+lang, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				w := newWorld(t)
				w.withLifecycle(t)
				members, err := w.store.ListMembers(ctx, 1)
				require.NoError(t, err)
				require.NotEmpty(t, members)
				code, err := w.lc.IssueBindCode(ctx, members[0].ID, casework.Staff("test"))
				require.NoError(t, err)
				pick := func(zh, en string) string {
					if lang == "en" {
						return en
					}
					return zh
				}
				eng := &user{w: w, ref: bot.UserRef{Platform: platform, ID: "eng_0123456789"}, lang: pick("zh-hans", "en-GB")}
				eng.say(pick("报修", "report"))
				eng.say("/bind " + code.Code)
				assert.Contains(t, said(w, eng), pick("绑定成功", "Bound"))

				head := pick("师傅您好，请选择（可点按钮，或回复序号）：", "Hello! What would you like to do? (tap a button or reply with its number)")
				if platform == bot.WeChat {
					head = pick("师傅您好，请选择（点选，或回复序号）：", "Hello! What would you like to do? Tap one or reply with its number:")
				}
				eng.say(pick("郭敏", "Guo Min")) // was the report's name; now stray words
				assert.Contains(t, said(w, eng), head)
				assert.Equal(t, []string{"menu:orders", "menu:today", "menu:help", "menu:lang"}, payloads(w.lastOut))
				eng.send(bot.KindPhoto, "wall.png", png, 0)
				assert.Contains(t, said(w, eng), pick("照片要跟着工单走", "Photos go with a work order"))
				eng.say(pick("报修", "report"))
				assert.Contains(t, said(w, eng), pick("这是业主的功能", "That is for homeowners"))
				eng.say(pick("进度", "status"))
				assert.Contains(t, said(w, eng), pick("您目前没有待办工单", "You have no open work orders"))
				eng.say(pick("今日预约", "today's visits"))
				assert.Contains(t, said(w, eng), pick("今天没有预约上门", "No visits booked for today"))
				eng.say(pick("帮助", "help"))
				assert.Contains(t, said(w, eng), pick("维修人员使用说明", "For engineers"))

				_, n, err := w.store.FindCases(ctx, casework.CaseFilter{})
				require.NoError(t, err)
				assert.Zero(t, n, "no report")
			})
		}
	}
}
