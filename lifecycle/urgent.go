package lifecycle

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/l10n"
)

// Urgent means a phone rings (domain.md §3: 紧急情况需立即电话通知). An urgent
// work order reaches its engineer by chat and, at once, by a text message
// and a voice call to the member's phone; one not taken within AcceptWithin
// has the duty supervisors texted and called the same way, besides the
// chat escalation. Texts and calls are outbox messages of the phone
// platforms (bot.SMS, bot.Voice), queued in the transaction of the change
// that causes them and delivered, retried and failed like any other; the
// case page lists them with their purpose, and the timeline names who was
// texted and called, the phone masked.

// The kinds of phone notice (bot.Outbound.Template). The operator maps each
// to an approved template of the provider, whose variables are the
// notice's parameters: number (the case number), address (project and
// unit) and problem (where in the home and what), in that order.
const (
	// NoticeUrgentOrder tells the engineer of an urgent work order.
	NoticeUrgentOrder = "urgent_order"
	// NoticeNotTaken tells the duty supervisor that nobody took an urgent
	// work order in time.
	NoticeNotTaken = "not_taken"
)

// The purposes of phone notices in the outbox (casework.OutboxMessage.Purpose).
const (
	PurposeUrgentSMS  = "urgent_sms"  // 短信通知
	PurposeUrgentCall = "urgent_call" // 电话通知
)

// notTakenNote begins the timeline note of the texts and calls to the duty
// supervisors about an urgent order not taken; a timer that runs again
// finds it and calls nobody twice.
const notTakenNote = "urgent order not taken: "

// urgentOrderAlerts returns the text message and the call that tell member
// of c's urgent work order, for the dispatch's effects, and the words the
// dispatch's note adds for the timeline. A member with no phone on record
// gets neither, which the words say.
func (s *Service) urgentOrderAlerts(ctx context.Context, c *casework.Case, member *casework.Member) ([]*casework.OutboxMessage, string, error) {
	if member == nil {
		return nil, "; urgent: no engineer to text or call", nil
	}
	msgs, note, err := s.phoneAlert(ctx, c, member, NoticeUrgentOrder)
	if err != nil {
		return nil, "", err
	}
	return msgs, "; urgent: " + note, nil
}

// dutySupervisors returns who is called when an urgent work order of c is
// not taken in time: in the department's hours its supervisors (the
// in-house parties' members whose role is supervisor); out of them those
// the duty roster has on duty for c's project, or every supervisor when
// nobody is (alertedSupervisors, roster.go).
func (s *Service) dutySupervisors(ctx context.Context, c *casework.Case) ([]*casework.Member, error) {
	return s.alertedSupervisors(ctx, c)
}

// callDutySupervisors texts and calls the duty supervisors about c's urgent
// work order, which nobody took by the time of timer t, and records on the
// timeline whom. It does nothing when the timeline already has this
// timer's note: a timer that runs again rings no phone twice.
func (s *Service) callDutySupervisors(ctx context.Context, c *casework.Case, t casework.Timer) error {
	evs, err := s.cfg.Store.ListCaseEvents(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("timeline: %w", err)
	}
	since := t.At.Add(-time.Millisecond) // the stores keep microseconds
	for _, e := range evs {
		if e.Kind == casework.EventNote && e.At.After(since) && strings.HasPrefix(e.Note, notTakenNote) {
			return nil
		}
	}
	ms, err := s.dutySupervisors(ctx, c)
	if err != nil {
		return err
	}
	var eff casework.Effects
	var notes []string
	for _, m := range ms {
		msgs, note, err := s.phoneAlert(ctx, c, m, NoticeNotTaken)
		if err != nil {
			return err
		}
		eff.Messages = append(eff.Messages, msgs...)
		notes = append(notes, note)
	}
	if len(notes) == 0 {
		notes = append(notes, "no duty supervisor to text or call")
	}
	return s.event(ctx, c, casework.EventNote, casework.ActorSystem, notTakenNote+strings.Join(notes, "; "), eff)
}

// phoneAlert returns the text message and the call of notice kind about c
// to member's phone, and the timeline's words for them: whom, the phone
// masked. A member with no phone gets none.
func (s *Service) phoneAlert(ctx context.Context, c *casework.Case, m *casework.Member, kind string) ([]*casework.OutboxMessage, string, error) {
	if strings.TrimSpace(m.Phone) == "" {
		return nil, m.Name + " has no phone on record: not texted or called", nil
	}
	lang, err := s.memberLang(ctx, m.ID)
	if err != nil {
		return nil, "", err
	}
	// The providers' templates are approved in Chinese: so are the values.
	number, address := c.Number, s.noticeAddress(ctx, c)
	problem := s.problem(l10n.Chinese, c)
	params := []bot.Param{
		{Name: "number", Value: number},
		{Name: "address", Value: clip(address, noticeParamRunes)},
		{Name: "problem", Value: clip(problem, noticeParamRunes)},
	}
	key := "phone.urgent_order"
	if kind == NoticeNotTaken {
		key = "phone.not_taken"
	}
	text := T(lang, key, "number", number, "address", address, "problem", s.problem(lang, c))
	msgs := []*casework.OutboxMessage{
		phoneMessage(c.ID, bot.SMS, PurposeUrgentSMS, m.Phone, kind, text, params),
		phoneMessage(c.ID, bot.Voice, PurposeUrgentCall, m.Phone, kind, text, params),
	}
	return msgs, "SMS and call to " + m.Name + " (" + casework.MaskPhone(m.Phone) + ")", nil
}

// noticeParamRunes is the longest value of a phone notice's parameter, less
// one for the "…" of a clipped one: the providers limit a variable's length
// (sms.MaxParamRunes).
const noticeParamRunes = 34

// noticeAddress is the case's address as a notice says it: "—" when the
// case has none on record.
func (s *Service) noticeAddress(ctx context.Context, c *casework.Case) string {
	if a := s.address(ctx, c); a != "" {
		return a
	}
	return "—"
}

// problem is what and where the problem is, for a notice: "卫生间 渗漏水".
func (s *Service) problem(lang l10n.Lang, c *casework.Case) string {
	what := T(lang, "sub."+string(c.Subcategory))
	if c.Subcategory == "" {
		what = T(lang, "category."+string(c.Category))
	}
	if c.Location == "" {
		return what
	}
	return T(lang, "location."+string(c.Location)) + " " + what
}

// memberLang is the language of the member's first chat account; Chinese
// when they have none.
func (s *Service) memberLang(ctx context.Context, memberID int64) (l10n.Lang, error) {
	rs, err := s.memberChats(ctx, memberID)
	if err != nil {
		return "", err
	}
	if len(rs) == 0 {
		return l10n.Chinese, nil
	}
	return rs[0].lang, nil
}

// phoneMessage is an outbox message of a phone platform to phone: the
// notice's template and values, with its text for people reading the case.
func phoneMessage(caseID int64, platform bot.Platform, purpose, phone, kind, text string, params []bot.Param) *casework.OutboxMessage {
	msg := bot.Outbound{To: bot.UserRef{Platform: platform, ID: phone}, Kind: bot.OutText, Text: text, Template: kind, Params: params}
	raw, _ := json.Marshal(payload{Messages: []bot.Outbound{msg}}) // plain structs: cannot fail
	return &casework.OutboxMessage{CaseID: caseID, Platform: string(platform), UserID: phone, Purpose: purpose, Payload: raw}
}
