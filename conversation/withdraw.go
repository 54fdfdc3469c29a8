package conversation

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/lifecycle"
)

// The owner's withdrawal (撤销) of a case in chat: offered on the case's
// page under "my reports" while no work has started on it
// (lifecycle.OwnerMayWithdraw), it asks why, then asks to confirm, and the
// lifecycle withdraws it (lifecycle.Service.OwnerWithdraw): the engineer
// who has the order is told, the timeline records it.

// flowWithdraw is the flow of the withdrawal's steps; the case number is in
// slot wd_case and the reason in wd_reason.
const flowWithdraw = "withdraw"

// withdrawReasons are the reasons offered as buttons (wr:KEY); the owner
// may type their own.
var withdrawReasons = []string{"fixed", "self", "mistake"}

func init() {
	steps["withdraw_reason"] = step{promptWithdrawReason, handleWithdrawReason}
	steps["withdraw_confirm"] = step{promptWithdrawConfirm, handleWithdrawConfirm}
}

// mayWithdraw reports whether the case page offers the owner to withdraw c.
func (t *turn) mayWithdraw(c *casework.Case) bool {
	return t.e.cfg.Lifecycle != nil && lifecycle.OwnerMayWithdraw(c)
}

// startWithdraw begins the withdrawal of case number.
func (t *turn) startWithdraw(number string) error {
	t.reset()
	t.s.Flow = flowWithdraw
	t.set("wd_case", number)
	return t.goTo("withdraw_reason")
}

func promptWithdrawReason(t *turn) error {
	choices := make([]bot.Choice, 0, len(withdrawReasons)+1)
	for _, r := range withdrawReasons {
		choices = append(choices, t.choice("withdraw.reason."+r, "wr:"+r))
	}
	choices = append(choices, t.choice("choice.withdraw_keep", "wr:keep"))
	t.ask(t.T("ask.withdraw_reason", "number", t.slot("wd_case")), choices...)
	return nil
}

func handleWithdrawReason(t *turn, in input) error {
	reason := strings.TrimSpace(in.text)
	if key, ok := strings.CutPrefix(in.payload, "wr:"); ok {
		if key == "keep" {
			return t.keepCase()
		}
		if !slices.Contains(withdrawReasons, key) {
			return again("pick_one")
		}
		reason = t.T("withdraw.reason." + key)
	} else if in.payload != "" || !hasWords(reason, 2) {
		return again("pick_one")
	}
	if len([]rune(reason)) > 500 {
		return again("too_long", "max", strconv.Itoa(500))
	}
	t.set("wd_reason", reason)
	return t.goTo("withdraw_confirm")
}

func promptWithdrawConfirm(t *turn) error {
	t.ask(t.T("ask.withdraw_confirm", "number", t.slot("wd_case"), "reason", t.slot("wd_reason")),
		t.choice("choice.withdraw_yes", "wd:yes"), t.choice("choice.withdraw_keep", "wd:no"))
	return nil
}

func handleWithdrawConfirm(t *turn, in input) error {
	switch in.payload {
	case "wd:no":
		return t.keepCase()
	case "wd:yes":
	default:
		return again("pick_one")
	}
	number, reason := t.slot("wd_case"), t.slot("wd_reason")
	t.reset()
	c, err := t.e.cfg.Lifecycle.OwnerWithdraw(t.ctx, t.who(), number, reason)
	switch {
	case errors.Is(err, casework.ErrNotFound), errors.Is(err, lifecycle.ErrForbidden):
		t.say("case_not_found", "number", number)
		return t.menu()
	case err != nil:
		return t.lcFail(err)
	}
	t.e.cfg.Logger.Info("case withdrawn by the owner", "case_id", c.ID, "case_number", c.Number, "platform", t.in.User.Platform)
	key := "withdrawn"
	if c.AssigneeID == 0 {
		key = "withdrawn.no_engineer" // nobody had the order: nobody to tell
	}
	t.ask(t.T(key, "number", c.Number), t.choice("choice.menu", "menu:menu"))
	return nil
}

// keepCase ends the withdrawal with the case left as it was.
func (t *turn) keepCase() error {
	number := t.slot("wd_case")
	t.reset()
	t.ask(t.T("withdraw_kept", "number", number), t.choice("choice.menu", "menu:menu"))
	return nil
}
