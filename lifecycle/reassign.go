package lifecycle

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
)

// Errors of an engineer's action on a work order that was theirs and is no
// longer (the old buttons of a withdrawn order). Each is an ErrForbidden
// (errors.Is) that says what became of the order.
var (
	// ErrReassigned: the work order went to someone else (改派).
	ErrReassigned = fmt.Errorf("the work order was reassigned to someone else: %w", ErrForbidden)
	// ErrOrderCancelled: the work order's case was cancelled (撤销).
	ErrOrderCancelled = fmt.Errorf("the work order was withdrawn as the case was cancelled: %w", ErrForbidden)
)

// withdrawTexts are the catalogue texts of a withdrawn work order, by why
// it was withdrawn: the notice to the engineer, and the mark added under
// the old order where the platform can edit it.
var withdrawTexts = map[string]struct{ notice, mark string }{
	"reassigned": {"withdrawn.reassigned", "withdrawn.mark_reassigned"},
	"cancelled":  {"withdrawn.cancelled", "withdrawn.mark_cancelled"},
}

// purposeWithdrawn is the outbox purpose of what withdrawOrder queues.
const purposeWithdrawn = "work_order_withdrawn"

// withdrawOrder is what tells member that the work order of c is no longer theirs, and takes its buttons away where the platform allows: why is "reassigned" or "cancelled".
//
// Each chat account of the member that can be reached gets, in its
// language, a notice naming the order; then, for each message of c with
// buttons delivered to that account by a platform that gave a reference of
// it (OutboxMessage.SentRef: Telegram), an edit (bot.OutEdit) that takes the
// buttons away and marks the text. WeChat and the chat page give no
// references and so get no edits: the notice is all they get, and an old
// button pressed there is answered by engineerCase. A message already edited
// by an earlier withdrawal is not edited again. The messages are the
// caller's to queue with its change (casework.Effects), in its transaction.
// No member (0) or no account: nothing to say.
func (s *Service) withdrawOrder(ctx context.Context, c *casework.Case, memberID int64, why string) ([]casework.OutboxMessage, error) {
	texts, ok := withdrawTexts[why]
	if !ok {
		return nil, fmt.Errorf("withdraw the work order of %s: %q is neither reassigned nor cancelled", c.Number, why)
	}
	rs, err := s.memberChats(ctx, memberID)
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	sent, err := s.cfg.Store.ListOutbox(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("outbox of %s: %w", c.Number, err)
	}
	buttons, edited := sentButtons(sent)
	var out []casework.OutboxMessage
	for _, r := range rs {
		msgs := []bot.Outbound{{To: r.user, Kind: bot.OutText, Text: T(r.lang, texts.notice, "number", c.Number)}}
		for _, b := range buttons {
			if b.to == r.user && !edited[b.ref] {
				msgs = append(msgs, bot.Outbound{To: r.user, Kind: bot.OutEdit, Ref: b.ref, Text: b.text, Mark: T(r.lang, texts.mark)})
			}
		}
		for _, msg := range msgs {
			raw, _ := json.Marshal(payload{Messages: []bot.Outbound{msg}}) // plain structs: cannot fail
			out = append(out, casework.OutboxMessage{CaseID: c.ID, Platform: string(r.user.Platform), UserID: r.user.ID, Purpose: purposeWithdrawn, Payload: raw})
		}
	}
	return out, nil
}

// withdrawAssignee adds to eff the withdrawal of c's work order from the
// member who has it (withdrawOrder), if anyone has it.
func (s *Service) withdrawAssignee(ctx context.Context, c *casework.Case, why string, eff *casework.Effects) error {
	if c.AssigneeID == 0 {
		return nil
	}
	ms, err := s.withdrawOrder(ctx, c, c.AssigneeID, why)
	for i := range ms {
		eff.Messages = append(eff.Messages, &ms[i])
	}
	return err
}

// sentButton is a delivered message that shows buttons, with the platform's
// reference of it.
type sentButton struct {
	to   bot.UserRef
	ref  string
	text string
}

// sentButtons returns, of a case's outbox, the delivered messages with
// buttons that their platform gave a reference of, oldest first, and the
// references an edit was queued for already.
func sentButtons(ms []*casework.OutboxMessage) (buttons []sentButton, edited map[string]bool) {
	edited = map[string]bool{}
	for _, m := range ms {
		var p payload
		if json.Unmarshal(m.Payload, &p) != nil {
			continue // an unreadable message showed nothing
		}
		for _, o := range p.Messages {
			if o.Kind == bot.OutEdit {
				edited[o.Ref] = true
			}
		}
		if m.Status != casework.OutboxSent || m.SentRef == "" {
			continue
		}
		// The reference is the last message's that shows buttons
		// (bot.SentRefs.Last): one message a row, as outbox writes them.
		for i := len(p.Messages) - 1; i >= 0; i-- {
			if o := p.Messages[i]; o.Kind == bot.OutText && len(o.Choices) > 0 {
				buttons = append(buttons, sentButton{to: bot.UserRef{Platform: bot.Platform(m.Platform), ID: m.UserID}, ref: m.SentRef, text: o.Text})
				break
			}
		}
	}
	return buttons, edited
}

// notTheirs returns why the engineer m, acting from who, may not act on the
// work order of c, or nil when they may: it is with them, or with no one of
// their party (declined), to take. To an engineer who once had it — a work
// order of c went to one of their chat accounts, which the outbox records
// exactly — it says what became of it: ErrOrderCancelled once c is
// cancelled, ErrReassigned when it is with someone else. Anyone else gets
// ErrForbidden.
func (s *Service) notTheirs(ctx context.Context, c *casework.Case, who Who, m *casework.Member) error {
	forbidden := c.PartyID != m.PartyID || (c.AssigneeID != 0 && c.AssigneeID != m.ID)
	if !forbidden && c.State != casework.StateCancelled {
		return nil
	}
	had, err := s.hadOrder(ctx, c, who, m.ID)
	switch {
	case err != nil:
		return err
	case had && c.State == casework.StateCancelled:
		return ErrOrderCancelled
	case had && forbidden:
		return ErrReassigned
	case forbidden:
		return ErrForbidden
	}
	return nil // cancelled, and never theirs: the action is refused by its state
}

// hadOrder reports whether a work order of c went to the account acting or
// to another account of member memberID.
func (s *Service) hadOrder(ctx context.Context, c *casework.Case, who Who, memberID int64) (bool, error) {
	accounts := map[bot.UserRef]bool{who.User: true}
	ids, err := s.cfg.Store.FindChatIdentitiesByMember(ctx, memberID)
	if err != nil {
		return false, fmt.Errorf("find member's chats: %w", err)
	}
	for _, id := range ids {
		accounts[bot.UserRef{Platform: bot.Platform(id.Platform), ID: id.UserID}] = true
	}
	ms, err := s.cfg.Store.ListOutbox(ctx, c.ID)
	if err != nil {
		return false, fmt.Errorf("outbox of %s: %w", c.Number, err)
	}
	for _, o := range ms {
		if o.Purpose == "work_order" && accounts[bot.UserRef{Platform: bot.Platform(o.Platform), ID: o.UserID}] {
			return true, nil
		}
	}
	return false, nil
}
