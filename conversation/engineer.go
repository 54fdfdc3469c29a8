package conversation

import (
	"strings"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/lifecycle"
)

// The engineer's side of the chat. An account bound to a member of a
// responsible party (ChatIdentity.MemberID, set by /bind) is an engineer's:
// it gets the engineer's menu — my orders, today's visits, help — and never
// an owner's flow: a stray photo or text is answered with that menu, not
// with a report asking their name. The binding is the one place the role is
// kept; the lifecycle's buttons carry the rest of their work.

// engineer reports whether the account talking is a bound engineer's (and
// the lifecycle, which serves them, is there).
func (t *turn) engineer() bool {
	return t.id != nil && t.id.MemberID != 0 && t.e.cfg.Lifecycle != nil
}

// engineerMenu shows the engineer's menu.
func (t *turn) engineerMenu() error {
	head := t.T("eng.menu")
	if t.in.User.Platform == bot.WeChat {
		head = t.T("eng.menu_numbered") // WeChat shows options as numbered links, not buttons
	}
	t.ask(head,
		t.choice("choice.orders", "menu:orders"),
		t.choice("choice.today", "menu:today"),
		t.choice("choice.help", "menu:help"),
		t.choice("choice.other_lang", "menu:lang"),
	)
	return nil
}

// engineerIdle answers an engineer's message outside any step: a case
// number shows that order, a photo is told where photos go, anything else
// gets the engineer's menu.
func (t *turn) engineerIdle(in input) error {
	if in.payload == "retry" {
		return t.engineerMenu()
	}
	if number, ok := caseNumberIn(in.text); ok && in.media == nil {
		return t.lifecycleButton(lifecycle.Payload(lifecycle.ActOrder, number))
	}
	if in.media != nil {
		t.say("eng.photo")
	} else {
		t.say("eng.greeting")
	}
	return t.engineerMenu()
}

// ownerFlowForEngineer refuses an owner's flow (a report, urging, a
// complaint…) to a bound engineer, with their menu.
func (t *turn) ownerFlowForEngineer() error {
	t.reset()
	t.say("eng.owner_only")
	return t.engineerMenu()
}

// todayVisits lists the engineer's visits booked for today.
func (t *turn) todayVisits() error {
	if !t.engineer() {
		t.say("unknown_command")
		return t.menu()
	}
	text, choices, err := t.e.cfg.Lifecycle.TodayVisits(t.ctx, t.who(), t.s.Lang)
	if err != nil {
		return t.lcFail(err)
	}
	t.ask(text, choices...)
	return nil
}

// engineerCommand recognises the words of the engineer's own menu that are
// no global command (an owner's "today" answers when the problem started):
// whole messages, in either language, for engineers only.
func engineerCommand(text string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(text, "/"))) {
	case "today", "visits", "今日预约", "今天预约", "今日工单", "今天的预约", "today's visits", "todays visits", "visits today":
		return "today", true
	}
	return "", false
}
