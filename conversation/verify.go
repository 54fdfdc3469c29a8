package conversation

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/identity"
)

// An owner proves who they are by holding the phone on their record: by
// sharing their own contact on Telegram, or by typing the code sent to the
// phone by SMS. Until then the account reaches only the cases it reported
// itself, under the name it typed; see package identity.

// The purposes of the verify_code step (slot verify_for).
const (
	verifyIdentity = ""        // prove the account is the owner of the phone
	verifyContact  = "contact" // a proven owner changes the case's phone at the read-back
)

func (t *turn) account() identity.Account {
	return identity.Account{Platform: string(t.in.User.Platform), UserID: t.in.User.ID}
}

// verified reports whether the account proved to be an owner.
func (t *turn) verified() bool { return t.id.OwnerID != 0 && t.id.Verified() }

// phoneGiven continues the dialogue once the owner gave their phone: proven
// tells whether Telegram vouched for it (their own shared contact).
func (t *turn) phoneGiven(phone string, proven bool) error {
	if t.s.Editing && t.verified() {
		// A proven owner changing this case's phone: the new number is
		// proven too before it is taken, and the binding stays.
		if phone == t.slot("phone") {
			t.s.Editing = false
			return t.goTo("summary")
		}
		if proven {
			return t.contactPhoneProven(phone)
		}
		if !t.e.cfg.Identity.SMSOn() {
			// No code can prove the new number: the proven one stays.
			t.say("phone_kept.no_sms", "phone", t.slot("phone"))
			t.s.Editing = false
			return t.goTo("summary")
		}
		t.set("verify_for", verifyContact)
		return t.sendCode(phone)
	}
	t.set("phone", phone)
	if proven {
		return t.proven(phone, casework.VerifyTelegramContact)
	}
	if !t.e.cfg.Identity.SMSOn() {
		if t.s.Flow == flowVerify {
			t.say("verify.unavailable")
			t.reset()
			return t.menu()
		}
		t.say("verify.no_sms")
		return t.continueUnverified()
	}
	t.set("verify_for", verifyIdentity)
	return t.sendCode(phone)
}

// sendCode sends a code to phone and asks for it; when it cannot be sent,
// it says why and offers to go on without.
func (t *turn) sendCode(phone string) error {
	t.set("verify_phone", phone)
	err := t.e.cfg.Identity.SendCode(t.ctx, t.account(), phone)
	var soon *identity.TooSoonError
	switch {
	case err == nil:
		t.s.Step = "verify_code"
		t.s.Failures = 0
		return promptVerifyCode(t)
	case errors.As(err, &soon):
		seconds := strconv.Itoa(int(soon.Wait.Round(time.Second) / time.Second))
		if p, _ := t.e.cfg.Identity.PendingPhone(t.ctx, t.account()); p == phone {
			// The code sent a moment ago is still good.
			t.s.Step = "verify_code"
			t.ask(t.T("verify.still_valid", "phone", casework.MaskPhone(phone), "seconds", seconds), t.verifyChoices()...)
			return nil
		}
		t.say("verify.too_soon", "seconds", seconds)
	case errors.Is(err, identity.ErrDailyLimit):
		t.say("verify.daily_limit")
	case errors.Is(err, identity.ErrSendFailed):
		t.say("verify.send_failed")
	default:
		return fmt.Errorf("send verification code: %w", err)
	}
	t.s.Step = "verify_code"
	t.ask(t.T("verify.what_now"), t.verifyChoices()...)
	return nil
}

func (t *turn) verifyChoices() []bot.Choice {
	skip := t.choice("choice.verify_skip", "verify:skip")
	if t.slot("verify_for") == verifyContact {
		skip = t.choice("choice.verify_keep", "verify:skip")
	}
	return []bot.Choice{t.choice("choice.verify_resend", "verify:resend"), skip}
}

func promptVerifyCode(t *turn) error {
	if t.s.Failures > 0 {
		// Asked again after a wrong answer: short, the owner knows why.
		t.ask(t.T("verify.again", "phone", casework.MaskPhone(t.slot("verify_phone"))), t.verifyChoices()...)
		return nil
	}
	minutes := strconv.Itoa(int(t.e.cfg.Identity.CodeTTL() / time.Minute))
	t.ask(t.T("verify.sent", "phone", casework.MaskPhone(t.slot("verify_phone")), "minutes", minutes), t.verifyChoices()...)
	return nil
}

func handleVerifyCode(t *turn, in input) error {
	switch in.payload {
	case "verify:resend":
		return t.sendCode(t.slot("verify_phone"))
	case "verify:skip":
		if t.slot("verify_for") == verifyContact {
			t.say("phone_kept", "phone", t.slot("phone"))
			t.s.Editing = false
			return t.goTo("summary")
		}
		t.say("verify.skipped")
		return t.continueUnverified()
	}
	if in.contact != nil {
		return handlePhone(t, in) // a shared contact proves the number at once
	}
	code, ok := identity.CodeIn(in.text)
	if !ok {
		if p, err := casework.NormalizePhone(in.text); err == nil {
			return t.phoneGiven(p, false) // another number
		}
		return again("verify.ask_code")
	}
	phone, err := t.e.cfg.Identity.CheckCode(t.ctx, t.account(), code)
	var wrong *identity.WrongCodeError
	switch {
	case err == nil:
	case errors.As(err, &wrong):
		return again("verify.wrong", "left", strconv.Itoa(wrong.Left))
	case errors.Is(err, identity.ErrExpired), errors.Is(err, identity.ErrNoCode):
		t.ask(t.T("verify.expired"), t.verifyChoices()...)
		return nil
	case errors.Is(err, identity.ErrTooManyAttempts):
		t.ask(t.T("verify.locked"), t.verifyChoices()...)
		return nil
	default:
		return fmt.Errorf("check verification code: %w", err)
	}
	if t.slot("verify_for") == verifyContact {
		return t.contactPhoneProven(phone)
	}
	t.set("phone", phone)
	return t.proven(phone, casework.VerifySMS)
}

// contactPhoneProven takes the new phone a proven owner gave at the
// read-back; the owner and their cases stay as they were.
func (t *turn) contactPhoneProven(phone string) error {
	delete(t.s.Slots, "verify_for")
	t.set("phone", phone)
	t.say("phone_changed", "phone", phone)
	t.s.Editing = false
	return t.goTo("summary")
}

// proven binds the account to the owner of phone, which it proved to hold,
// and goes on with the flow.
func (t *turn) proven(phone string, by casework.Actor) error {
	unitID, _ := strconv.ParseInt(t.slot("unit_id"), 10, 64)
	res, err := t.e.cfg.Identity.Prove(t.ctx, t.id, phone, by, identity.Claim{Name: t.slot("name"), UnitID: unitID})
	if errors.Is(err, casework.ErrNotFound) {
		t.say("verify.no_owner")
		return t.continueUnverified()
	}
	if err != nil {
		return err
	}
	c := *t.id
	t.s.Identity, t.s.IdentityAt = &c, t.now
	delete(t.s.Slots, "unverified")
	if !res.OnRegister {
		t.set("not_on_register", "1") // staff see it on the case
	}
	t.set("name", res.Owner.Name)
	if t.s.Flow == flowVerify {
		t.say("verified", "name", res.Owner.Name)
	} else {
		t.say("bound", "name", res.Owner.Name, "unit", t.slot("unit_label"))
	}
	if res.Attached > 0 {
		t.say("verify.attached", "n", strconv.Itoa(res.Attached))
	}
	return t.identityDone()
}

// continueUnverified goes on with the flow without an owner: the case
// carries what the account typed, and staff check it.
func (t *turn) continueUnverified() error {
	t.set("unverified", "1")
	if t.s.Flow == flowVerify {
		t.reset()
		return t.menu()
	}
	return t.identityDone()
}

// identityDone leaves the identity steps: back to the read-back when the
// owner was changing one field, else on with the flow.
func (t *turn) identityDone() error {
	if t.s.Flow == flowVerify {
		t.reset()
		return t.menu()
	}
	if t.s.Editing {
		t.s.Editing = false
		return t.goTo("summary")
	}
	return t.afterIdentity()
}
