package conversation_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/conversation"
	"github.com/aftersales/aftersales/identity"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/lifecycle"
)

// The owner of 3-1-201 on the example register.
const (
	ownerName  = "林晓峰"
	ownerPhone = "13900000016"
)

// describeLeak has 林晓峰, on u, start a report, prove who he is by sharing
// his own contact and describe the leak under his bay window up to the
// photos.
func (u *user) describeLeak() {
	u.w.t.Helper()
	u.say("报修")
	u.say(ownerName)
	u.say("3-1-201")
	u.contact("+86 139 0000 0016", true)
	u.press("cat:engineering_quality/leak")
	u.say("主卧飘窗")
	u.say("下大雨后飘窗下面的墙在渗水")
	u.press("occ:today")
}

// ownerReports has 林晓峰 report a leak from Telegram, proving who he is by
// sharing his own contact, and returns the case's number.
func ownerReports(t *testing.T, w *world) string {
	t.Helper()
	o := w.user("7001", "zh-hans")
	o.describeLeak()
	o.press("media:skip")
	o.press("exp:repair")
	o.press("ct:evening")
	o.press("sum:submit")
	cases, _, err := w.store.FindCases(context.Background(), casework.CaseFilter{})
	require.NoError(t, err)
	require.Len(t, cases, 1)
	require.True(t, cases[0].IdentityVerified)
	require.NotZero(t, cases[0].OwnerID)
	return cases[0].Number
}

// said is everything the bot said to u since the last call.
func said(w *world, u *user) string {
	var b strings.Builder
	for _, o := range w.lastOut {
		if o.To == u.ref {
			b.WriteString(o.Text)
			b.WriteString("\n")
		}
	}
	return b.String()
}

// TestTakeoverFails: a stranger who knows an owner's unit and phone, on the
// chat page, on Telegram typing the number, or on WeChat, reaches nothing of
// the owner's: no name, no case, no notification, no action. They can still
// report, as an unverified identity. With the code from the owner's phone,
// everything works.
func TestTakeoverFails(t *testing.T) {
	for _, platform := range []bot.Platform{bot.Web, bot.Telegram, bot.WeChat} {
		t.Run(string(platform), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newWorld(t)
			number := ownerReports(t, w)
			owners, err := w.store.FindOwnersByPhone(ctx, ownerPhone)
			require.NoError(t, err)
			require.Len(t, owners, 1)
			owner := owners[0]
			codes := w.sms.count(ownerPhone)

			s := &user{w: w, ref: bot.UserRef{Platform: platform, ID: "stranger_0123456789"}, lang: "zh"}
			var heard strings.Builder
			say := func(text string) { s.say(text); heard.WriteString(said(w, s)) }
			press := func(p string) { s.press(p); heard.WriteString(said(w, s)) }

			say("报修")
			say("张三")
			say("3-1-201")
			if platform == bot.Telegram {
				// A contact that is not the sender's own proves nothing.
				s.contact(ownerPhone, false)
				heard.WriteString(said(w, s))
				assert.Contains(t, said(w, s), "请分享您本人的电话号码")
			}
			if platform == bot.Web {
				// Only Telegram vouches for a shared number: a contact
				// claimed "own" on another platform proves nothing.
				s.contact(ownerPhone, true)
				heard.WriteString(said(w, s))
				assert.Contains(t, said(w, s), "验证码")
				w.clock.Advance(time.Minute)
			}
			say(ownerPhone)
			require.Contains(t, said(w, s), "139****0016", "the code goes to the owner's phone")
			assert.Greater(t, w.sms.count(ownerPhone), codes)

			// Guessing: five wrong codes spend the code.
			right := w.sms.last(t, ownerPhone)
			wrong := "000000"
			if right == wrong {
				wrong = "111111"
			}
			for range 4 {
				say(wrong)
				assert.Contains(t, said(w, s), "验证码不对")
			}
			say(wrong)
			assert.Contains(t, said(w, s), "错误次数太多")
			say(right)
			assert.Contains(t, said(w, s), "错误次数太多", "the right code no longer works")

			// The stranger reports anyway, unverified.
			press("verify:skip")
			press("cat:engineering_quality/crack")
			say("客厅")
			say("客厅墙上有一道裂缝")
			press("occ:today")
			press("media:skip")
			press("exp:repair")
			press("ct:evening")
			press("sum:submit")
			assert.Contains(t, said(w, s), "身份尚未验证")

			// 进度 lists the stranger's own case only; the owner's case is
			// "not found", and so is urging it.
			say("进度")
			list := said(w, s)
			assert.NotContains(t, list, number)
			say(number)
			assert.Contains(t, said(w, s), "没有找到")
			s.deliver(&bot.Inbound{Kind: bot.KindButton, Payload: "urge:" + number})
			heard.WriteString(said(w, s))
			assert.Contains(t, said(w, s), "没有找到")

			assert.NotContains(t, heard.String(), ownerName, "no name from the register reaches the stranger")
			assert.NotContains(t, heard.String(), "飘窗下面的墙在渗水", "nor the owner's case")

			id, err := w.store.FindChatIdentity(ctx, string(platform), s.ref.ID)
			require.NoError(t, err)
			assert.Zero(t, id.OwnerID, "the stranger is bound to no owner")
			assert.False(t, id.Verified())
			accounts, err := w.store.FindChatIdentitiesByOwner(ctx, owner.ID)
			require.NoError(t, err)
			for _, a := range accounts {
				assert.NotEqual(t, s.ref.ID, a.UserID, "the owner's notifications go to the owner's proven accounts only")
			}
			mine, _, err := w.store.FindCases(ctx, casework.CaseFilter{ReporterPlatform: string(platform), ReporterUserID: s.ref.ID})
			require.NoError(t, err)
			require.Len(t, mine, 1)
			assert.Zero(t, mine[0].OwnerID)
			assert.False(t, mine[0].IdentityVerified)
			assert.Equal(t, "张三", mine[0].OwnerName, "the case carries what the stranger typed")
			units, err := w.store.OwnerUnits(ctx, owner.ID)
			require.NoError(t, err)
			assert.Len(t, units, 1, "no unit was added to the owner")
			byPhone, err := w.store.FindOwnersByPhone(ctx, ownerPhone)
			require.NoError(t, err)
			assert.Len(t, byPhone, 1, "no second owner with the phone")

			// With the code from the owner's phone (the owner's spouse, say),
			// the account is the owner's: their cases, the one it reported.
			w.clock.Advance(2 * time.Minute)
			say("验证")
			say(ownerPhone)
			s.typeCode(ownerPhone)
			assert.Contains(t, said(w, s), "身份验证成功")
			assert.Contains(t, said(w, s), "1 条报修")
			say("进度")
			list = said(w, s)
			assert.Contains(t, list, number)
			assert.Contains(t, list, mine[0].Number)
			id, err = w.store.FindChatIdentity(ctx, string(platform), s.ref.ID)
			require.NoError(t, err)
			assert.Equal(t, owner.ID, id.OwnerID)
			assert.Equal(t, casework.VerifySMS, id.VerifiedBy)
		})
	}
}

// TestVerificationDialogue: the code as an owner meets it — a typo, a resend
// too soon, a code that expired, a new one, and the right one.
func TestVerificationDialogue(t *testing.T) {
	runBoth(t, "verification", func(t *testing.T, w *world, u *user, pick func(string, string) string) {
		u.say(pick("报修", "report"))
		u.say(pick("郭敏", "Guo Min"))
		u.say("3-1-601")
		u.say("13900000018")
		u.say("12345")
		u.press("verify:resend")
		w.note("six minutes later")
		w.clock.Advance(6 * time.Minute)
		u.typeCode("13900000018")
		u.press("verify:resend")
		u.typeCode("13900000018")
		u.press("cat:engineering_quality/door_window")

		c, err := w.store.FindChatIdentity(context.Background(), string(u.ref.Platform), u.ref.ID)
		require.NoError(t, err)
		require.True(t, c.Verified())
		assert.Equal(t, 2, w.sms.count("13900000018"))
	})
}

// TestVerifyLater: an owner who skipped the code reports, then proves their
// phone with 验证: their case becomes theirs, and 进度 shows it in their name.
func TestVerifyLater(t *testing.T) {
	runBoth(t, "verify_later", func(t *testing.T, w *world, u *user, pick func(string, string) string) {
		u.say(pick("咨询", "question"))
		u.say(pick("罗文", "Luo Wen"))
		u.say("3-1-901")
		u.say("13900000020")
		u.press("verify:skip")
		u.say(pick("请问房产证什么时候可以办下来？", "When can I get my property ownership certificate?"))
		u.press("sum:submit")
		u.say(pick("进度", "status"))
		w.note("two minutes later")
		w.clock.Advance(2 * time.Minute)
		u.say(pick("验证", "verify"))
		u.say("13900000020")
		u.typeCode("13900000020")
		u.say(pick("进度", "status"))
		u.say(pick("验证", "verify"))

		cases, _, err := w.store.FindCases(context.Background(), casework.CaseFilter{})
		require.NoError(t, err)
		require.Len(t, cases, 1)
		assert.True(t, cases[0].IdentityVerified)
		assert.NotZero(t, cases[0].OwnerID)
	})
}

// reportToPhoneChange has a proven owner report a crack and, at the
// read-back, choose to change the phone.
func reportToPhoneChange(o *user) {
	o.w.t.Helper()
	o.say("报修")
	o.press("cat:engineering_quality/crack")
	o.say("客厅")
	o.say("客厅墙面开裂")
	o.press("occ:today")
	o.press("media:skip")
	o.press("exp:repair")
	o.press("ct:evening")
	o.press("sum:edit")
	o.press("edit:phone")
}

// TestPhoneChangedAtTheReadBack: a proven owner who gives another phone at
// the read-back proves that one too; it becomes the case's phone, and the
// owner, their binding and their earlier cases stay as they were.
func TestPhoneChangedAtTheReadBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	first := ownerReports(t, w)
	o := w.user("7001", "zh-hans")
	reportToPhoneChange(o)
	o.say("13812345678")
	require.Contains(t, said(w, o), "138****5678")
	o.typeCode("13812345678")
	require.Contains(t, said(w, o), "联系电话已更新为 13812345678")
	o.press("sum:submit")

	cases, _, err := w.store.FindCases(ctx, casework.CaseFilter{})
	require.NoError(t, err)
	require.Len(t, cases, 2)
	assert.Equal(t, cases[0].OwnerID, cases[1].OwnerID, "the same owner")
	assert.Equal(t, "13812345678", cases[0].OwnerPhone, "the new case's phone")
	others, err := w.store.FindOwnersByPhone(ctx, "13812345678")
	require.NoError(t, err)
	assert.Empty(t, others, "no second owner")
	o.say("进度")
	assert.Contains(t, said(w, o), first, "the earlier case is still listed")

	// Skipping the code keeps the old phone.
	reportToPhoneChange(o)
	w.clock.Advance(time.Minute)
	o.say("13812349999")
	o.press("verify:skip")
	assert.Contains(t, said(w, o), "联系电话保持为 "+ownerPhone)
}

// TestCodesFollowTheServiceClock: a code is valid five minutes by the
// service's clock, whatever the real day (a code checked by the real clock
// would have expired long before the tests' date).
func TestCodesFollowTheServiceClock(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	require.Equal(t, testclock.Start(), w.clock.Now())
	u := w.user("7100", "zh-hans")
	u.say("验证")
	u.say(ownerPhone)
	w.clock.Advance(4*time.Minute + 59*time.Second)
	u.typeCode(ownerPhone)
	assert.Contains(t, said(w, u), "身份验证成功", "valid for 5 minutes by the service's clock")
}

// TestBindCodeGuessesAreLimited: an account that types five wrong engineer
// bind codes is refused for an hour, even the right code; another account
// is not affected.
func TestBindCodeGuessesAreLimited(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.reconfigure(func(c *conversation.Config) {
		c.Lifecycle = lifecycle.New(lifecycle.Config{Store: w.store, NowFunc: w.clock.Now})
	})
	members, err := w.store.ListMembers(context.Background(), 1)
	require.NoError(t, err)
	require.NotEmpty(t, members)
	code, err := lifecycle.New(lifecycle.Config{Store: w.store, NowFunc: w.clock.Now}).IssueBindCode(context.Background(), members[0].ID, casework.Staff("test"))
	require.NoError(t, err)

	guesser := w.user("8001", "zh-hans")
	for range 5 {
		guesser.say("/bind ABCD2345")
		assert.Contains(t, said(w, guesser), "绑定码无效")
	}
	guesser.say("/bind " + code.Code)
	assert.Contains(t, said(w, guesser), "输错次数太多", "locked, even for the right code")

	other := w.user("8002", "zh-hans")
	other.say("/bind " + code.Code)
	assert.Contains(t, said(w, other), "绑定成功", "another account binds")

	w.clock.Advance(time.Hour + time.Minute)
	guesser.say("/bind ABCD2345")
	assert.Contains(t, said(w, guesser), "绑定码无效", "an hour later it may try again")
}

// withoutSMS rebuilds w's engine with no SMS provider: owners prove who they
// are by Telegram's contact or through staff.
func withoutSMS(w *world) {
	w.identity = identity.New(identity.Config{Store: w.store, NowFunc: w.clock.Now, Logger: w.logger()})
	w.reconfigure(func(*conversation.Config) {})
}

// TestWithoutSMS: with no SMS provider, a typed number is taken unverified,
// the verify flow says staff can verify (or, on Telegram, asks for the
// shared contact), and a proven owner's new phone at the read-back is not
// taken.
func TestWithoutSMS(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	withoutSMS(w)
	web := &user{w: w, ref: bot.UserRef{Platform: bot.Web, ID: "visitor_nosms_0123456"}, lang: "zh"}
	web.say("报修")
	web.say("张三")
	web.say("3-1-201")
	web.say(ownerPhone)
	assert.Contains(t, said(w, web), "客服会与您核实身份")
	assert.Contains(t, said(w, web), "请问是什么问题", "the report goes on")
	web.say("取消")
	web.say("验证")
	assert.Contains(t, said(w, web), "不能用短信验证码验证身份")

	tg := w.user("7301", "zh-hans")
	tg.say("验证")
	assert.Contains(t, said(w, tg), "分享我的手机号")
	tg.contact("8613900000016", true) // as some clients send it: no "+"
	assert.Contains(t, said(w, tg), "身份验证成功")

	ownerReports(t, w) // 7001 proves by contact
	o := w.user("7001", "zh-hans")
	reportToPhoneChange(o)
	o.say("13812345678")
	assert.Contains(t, said(w, o), "联系电话保持为 "+ownerPhone)
	assert.Contains(t, said(w, o), "我为您记下的报修内容", "back at the read-back")
}

// strangerAsksForAPerson has u, on 3-1-201 with the owner's phone but no
// code, send a short flow's message and then ask for a person.
func strangerAsksForAPerson(u *user, flow, message string) {
	u.w.t.Helper()
	u.say(flow)
	u.say("张三")
	u.say("3-1-201")
	u.say(ownerPhone)
	u.press("verify:skip")
	u.say(message)
	u.press("sum:submit")
	u.say("人工")
}

// TestUnverifiedHandoff: an owner who did not verify and asked for a person
// reaches staff in a hand-off of their chat account, not on the newest case
// they reported; 验证 while nobody has taken it starts the verification.
func TestUnverifiedHandoff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	u := &user{w: w, ref: bot.UserRef{Platform: bot.Web, ID: "visitor_handoff_01234"}, lang: "zh"}
	strangerAsksForAPerson(u, "投诉", "物业保安态度很差，还骂人")
	u.say("我家里漏水了很严重，请快点来人")
	mine, _, err := w.store.FindCases(ctx, casework.CaseFilter{ReporterPlatform: "web", ReporterUserID: u.ref.ID})
	require.NoError(t, err)
	require.Len(t, mine, 1)
	events, err := w.store.ListCaseEvents(ctx, mine[0].ID)
	require.NoError(t, err)
	assert.NotContains(t, events[len(events)-1].Note, "我家里漏水了很严重", "not filed on the newest case: a person links the case it is about")
	h, err := w.store.FindOpenHandoff(ctx, "web", u.ref.ID)
	require.NoError(t, err)
	assert.Zero(t, h.OwnerID, "the account proved to be nobody")
	msgs, err := w.store.ListHandoffMessages(ctx, h.ID, 0)
	require.NoError(t, err)
	require.NotEmpty(t, msgs)
	last := msgs[len(msgs)-1]
	assert.Equal(t, "我家里漏水了很严重，请快点来人", last.Text, "staff read it in the hand-off")
	assert.NotContains(t, string(last.Actor), u.ref.ID, "the visitor's id, its key to the page, is not what names them")

	w.clock.Advance(2 * time.Minute)
	u.say("验证")
	u.say(ownerPhone)
	assert.Contains(t, said(w, u), "139****0016", "the hand-off ended; the code was sent")
	_, err = w.store.FindOpenHandoff(ctx, "web", u.ref.ID)
	require.ErrorIs(t, err, casework.ErrNotFound)
}

// TestStaffVerificationIsKept: staff verify an account while its owner is
// talking to a person; what the dialogue saves afterwards keeps it.
func TestStaffVerificationIsKept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	u := &user{w: w, ref: bot.UserRef{Platform: bot.WeChat, ID: "oStaffVerified0123456"}, lang: "zh"}
	strangerAsksForAPerson(u, "咨询", "请问房产证什么时候可以办下来？")
	owners, err := w.store.FindOwnersByPhone(ctx, ownerPhone)
	require.NoError(t, err)
	_, _, err = w.identity.VerifyByStaff(ctx, identity.Account{Platform: "wechat", UserID: u.ref.ID}, owners[0].ID, casework.Staff("7"))
	require.NoError(t, err)
	u.say("菜单") // ends the hand-off: the dialogue saves the account
	id, err := w.store.FindChatIdentity(ctx, "wechat", u.ref.ID)
	require.NoError(t, err)
	assert.Equal(t, owners[0].ID, id.OwnerID, "not undone by the dialogue's copy")
	assert.True(t, id.Verified())
}

// TestCaseLimit: an account registers at most its allowance of cases; the
// next report waits at the read-back and goes in later; another account is
// not affected.
func TestCaseLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	w.reconfigure(func(c *conversation.Config) {
		c.CaseLimit = bot.NewMemoryLimiter(bot.Limit{Burst: 2, Every: 12 * time.Hour})
	})
	u := w.user("7401", "zh-hans")
	ask := func(u *user, question string) {
		u.say("咨询")
		if strings.Contains(said(w, u), "姓名") {
			u.say("张三")
			u.say("3-1-201")
			u.say(ownerPhone)
			u.press("verify:skip")
		}
		u.say(question)
		u.press("sum:submit")
	}
	ask(u, "请问房产证什么时候可以办下来？")
	ask(u, "请问物业费怎么交？")
	ask(u, "请问车位怎么租？")
	assert.Contains(t, said(w, u), "提交的诉求太多了")
	_, n, err := w.store.FindCases(ctx, casework.CaseFilter{})
	require.NoError(t, err)
	assert.Equal(t, 2, n)

	other := w.user("7402", "zh-hans")
	w.clock.Advance(time.Minute)
	ask(other, "请问车位怎么租？")
	_, n, _ = w.store.FindCases(ctx, casework.CaseFilter{})
	assert.Equal(t, 3, n, "another account is not limited")

	w.clock.Advance(12 * time.Hour)
	u.deliver(&bot.Inbound{Kind: bot.KindButton, Payload: "sum:submit"}) // the read-back's button, still in the chat
	assert.Contains(t, said(w, u), "编号", "the report kept at the read-back goes in later")
	_, n, _ = w.store.FindCases(ctx, casework.CaseFilter{})
	assert.Equal(t, 4, n)
}

// ttlSpy is a session store that remembers the time to live of each save.
type ttlSpy struct {
	*conversation.MemoryStore
	mu   sync.Mutex
	ttls []time.Duration
}

func (s *ttlSpy) Save(ctx context.Context, ss *conversation.Session, ttl time.Duration) error {
	s.mu.Lock()
	s.ttls = append(s.ttls, ttl)
	s.mu.Unlock()
	return s.MemoryStore.Save(ctx, ss, ttl)
}

func (s *ttlSpy) last() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ttls[len(s.ttls)-1]
}

// TestSessionsOfChatsWithoutACase: a chat that came to no case is kept 48
// hours, not a month; once it registered a case, a month.
func TestSessionsOfChatsWithoutACase(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	spy := &ttlSpy{MemoryStore: w.sessions}
	w.reconfigure(func(c *conversation.Config) { c.Sessions = spy })
	u := &user{w: w, ref: bot.UserRef{Platform: bot.Web, ID: "visitor_ttl_0123456789"}, lang: "zh"}
	u.say("你好")
	assert.Equal(t, 48*time.Hour, spy.last())
	u.say("咨询")
	u.say("张三")
	u.say("3-1-201")
	u.say(ownerPhone)
	u.press("verify:skip")
	u.say("请问房产证什么时候可以办下来？")
	u.press("sum:submit")
	assert.Equal(t, 30*24*time.Hour, spy.last(), "a chat with a case is kept a month")
	u.say("菜单")
	assert.Equal(t, 30*24*time.Hour, spy.last())
}
