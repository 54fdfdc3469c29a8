package lifecycle

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/l10n"
)

// This file holds the staff's actions beyond triage and dispatch: the
// written answer (答复) of the cases that get no work order, hold (挂起) and
// resume, the owner's withdrawal (撤销) and closing (归档). Each loads the
// case with load (so that WithVersion holds), records a transition naming
// the staff member, and queues what the owner — and the engineer, where it
// concerns them — is told, in the transition's transaction.

// ArgAnswer is the argument of the owner's "not settled" button under an
// answer (Payload(ActNotFixed, number, ArgAnswer)): the dialogue asks what is
// still open in the answer's words rather than a repair's.
const ArgAnswer = "answer"

// MaxHold is how far ahead a hold's resume date may be.
const MaxHold = 180 * 24 * time.Hour

// noWorkOrder refuses a work order for a case that is answered instead.
func noWorkOrder(c *casework.Case) error {
	return casework.Invalid("category", "%s gets no work order: case %s is answered (答复), not dispatched", c.Category, c.Number)
}

// kindText names what the owner sent, as the owner's messages call it: a
// repair report (报修), a question (咨询), a complaint (投诉)…
func kindText(lang l10n.Lang, c *casework.Case) string { return T(lang, "kind."+caseKind(c)) }

// caseKinds are what caseKind returns.
var caseKinds = []string{"report", "consult", "complaint", "suggestion", "praise", "other"}

// caseKind says what a case is, by its category: a repair report, a
// question, a complaint, a suggestion, praise, or another request.
func caseKind(c *casework.Case) string {
	switch {
	case c.Category.GetsWorkOrder():
		return "report"
	case c.Category == casework.CategoryPolicyConsultation:
		return "consult"
	case c.Category == casework.CategoryServiceAttitude:
		return "complaint"
	case c.Subcategory == casework.SubSuggestion:
		return "suggestion"
	case c.Subcategory == casework.SubPraise:
		return "praise"
	}
	return "other"
}

// tellOwner composes key for each of the owner's accounts in their
// language; besides kv, the text may name the case's kind ({kind}), its
// number ({number}) and how long an answer waits for the owner ({wait}).
func (s *Service) tellOwner(rs []recipient, c *casework.Case, key string, kv ...string) []notice {
	var out []notice
	for _, r := range rs {
		vals := append([]string{"kind", kindText(r.lang, c), "number", c.Number, "wait", waitText(r.lang, s.cfg.AnswerWait)}, kv...)
		out = append(out, notice{to: r, text: T(r.lang, key, vals...)})
	}
	return out
}

// day formats a date for people, in the department's time zone.
func (s *Service) day(t time.Time) string { return t.In(s.cfg.Location).Format("2006-01-02") }

// waitText writes a wait for people: "7 天", "36 hours".
func waitText(lang l10n.Lang, d time.Duration) string {
	const day = 24 * time.Hour
	if d >= day && d%day == 0 {
		if n := int(d / day); n > 1 {
			return T(lang, "wait.days", "n", strconv.Itoa(n))
		}
		return T(lang, "wait.day")
	}
	if n := int((d + time.Hour - 1) / time.Hour); n > 1 {
		return T(lang, "wait.hours", "n", strconv.Itoa(n))
	}
	return T(lang, "wait.hour")
}

// spanText writes a duration for the timeline: "2d 3h 5m".
func spanText(d time.Duration) string {
	d = d.Round(time.Minute)
	days, hours, mins := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour), int(d%time.Hour/time.Minute)
	var parts []string
	if days > 0 {
		parts = append(parts, strconv.Itoa(days)+"d")
	}
	if hours > 0 {
		parts = append(parts, strconv.Itoa(hours)+"h")
	}
	if mins > 0 || len(parts) == 0 {
		parts = append(parts, strconv.Itoa(mins)+"m")
	}
	return strings.Join(parts, " ")
}

// optionalText trims an optional free text and checks it when given.
func optionalText(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	return s, casework.ValidText(field, s, max)
}

// settleChoices are the owner's buttons under an answer: the same actions
// as a repair's acceptance (ActAccept, ActNotFixed), in the answer's words.
func settleChoices(lang l10n.Lang, number string) []bot.Choice {
	return []bot.Choice{
		{Label: T(lang, "btn.settled"), Payload: Payload(ActAccept, number)},
		{Label: T(lang, "btn.unsettled"), Payload: Payload(ActNotFixed, number, ArgAnswer)},
	}
}

// Answer sends staff's written answer (答复) to the owner of a case that
// gets no work order — a consultation, a complaint about service, a
// suggestion, praise — with two buttons: settled, or not settled. A case
// still registered is accepted and answered in one call. The owner's
// "settled" closes the case (OwnerAccept), "not settled" reopens it to be
// answered again (NotFixed), and silence for Config.AnswerWait is taken as
// settled (TimerAnswerExpiry). A case that gets a work order is refused with
// a *casework.ValidationError of "category"; an answer in a state that
// allows none (one awaiting the owner's word, a closed case) with a
// *casework.TransitionError.
func (s *Service) Answer(ctx context.Context, number string, staff casework.Actor, text string) (*casework.Case, error) {
	text = strings.TrimSpace(text)
	if err := casework.ValidText("text", text, 2000); err != nil {
		return nil, err
	}
	c, err := s.load(ctx, number)
	if err != nil {
		return nil, err
	}
	if c.Category.GetsWorkOrder() {
		return nil, casework.Invalid("category", "%s gets a work order: case %s is dispatched, not answered", c.Category, c.Number)
	}
	if c.State == casework.StateRegistered {
		reason := "accepted by staff to answer"
		c, err = s.transition(ctx, c, casework.Transition{Action: casework.ActionAccept, Actor: staff, DecisionReason: &reason, Note: reason}, casework.Effects{})
		if err != nil {
			return nil, err
		}
	}
	owners, err := s.ownerChats(ctx, c)
	if err != nil {
		return nil, err
	}
	ns := s.tellOwner(owners, c, "owner.answer", "text", text)
	for i := range ns {
		ns[i].choices = settleChoices(ns[i].to.lang, c.Number)
	}
	// The timer's Ref is the answer's time: an answer given again (after
	// the owner said it does not settle the matter) waits on its own.
	now := s.now().UTC().Truncate(time.Second)
	eff := casework.Effects{
		Messages: outbox(c.ID, "answer", ns...),
		Timers:   []casework.Timer{{CaseID: c.ID, Kind: casework.TimerAnswerExpiry, At: now.Add(s.cfg.AnswerWait), Ref: now.Unix()}},
	}
	note := "answer: " + text
	if len(owners) == 0 {
		note = "answer (the owner has no chat account: tell them by phone): " + text
	}
	return s.transition(ctx, c, casework.Transition{Action: casework.ActionAnswer, Actor: staff, Note: note, At: now}, eff)
}

// settle records that an answer settles the matter — by the owner's word
// (actor: the owner) or their silence (the system) — and closes the case.
// An answer asks no survey: its questions (the repair's speed, the
// engineer's attitude, the quality of the repair) are a repair's.
func (s *Service) settle(ctx context.Context, c *casework.Case, actor casework.Actor, note string, eff casework.Effects) (*casework.Case, error) {
	c, err := s.transition(ctx, c, casework.Transition{Action: casework.ActionOwnerAccept, Actor: actor, Note: note}, eff)
	if err != nil {
		return nil, err
	}
	return s.close(ctx, c, casework.ActorBot, "the answer settled the matter", casework.Effects{})
}

// unsettled reopens an answer the owner says does not settle the matter,
// with their words: no engineer is involved and no repeat repair counted;
// the supervisors are told to answer again, within new deadlines of the
// service level.
func (s *Service) unsettled(ctx context.Context, c *casework.Case, actor casework.Actor, reason string) (*casework.Case, error) {
	sup, err := s.supervisorChats(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	d := s.cfg.SLA.Deadlines(c.Urgency, c.Category, now)
	t := casework.Transition{Action: casework.ActionOwnerReject, Actor: actor, Note: "not settled: " + reason, At: now,
		Deadlines: &casework.Deadlines{RespondBy: c.RespondBy, OnSiteBy: d.OnSiteBy, ResolveBy: d.ResolveBy}}
	after := *c
	after.RespondBy, after.OnSiteBy, after.ResolveBy = nil, d.OnSiteBy, d.ResolveBy // the response was given
	eff := casework.Effects{
		Messages: outbox(c.ID, "escalation", s.staffNotices(ctx, c, sup, "staff.unsettled", values("reason", reason))...),
		Timers:   DeadlineTimers(&after),
	}
	return s.transition(ctx, c, t, eff)
}

// Hold puts a case on hold (挂起) with a reason and the date work is
// expected to resume (until: after now, at most MaxHold ahead). The owner
// and the assigned engineer are told both; if the case is still on hold at
// until, the supervisors are told (TimerResumeDue), nobody else. The
// service-level clocks stand still until Resume.
func (s *Service) Hold(ctx context.Context, number string, staff casework.Actor, reason string, until time.Time) (*casework.Case, error) {
	reason = strings.TrimSpace(reason)
	if err := casework.ValidText("reason", reason, 500); err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Second)
	switch {
	case until.IsZero():
		return nil, casework.Invalid("until", "is required: the date work is expected to resume")
	case !until.After(now):
		return nil, casework.Invalid("until", "%s is not in the future: give the date work is expected to resume", s.day(until))
	case until.After(now.Add(MaxHold)):
		return nil, casework.Invalid("until", "%s is more than %d days ahead", s.day(until), int(MaxHold/(24*time.Hour)))
	}
	c, err := s.load(ctx, number)
	if err != nil {
		return nil, err
	}
	owners, err := s.ownerChats(ctx, c)
	if err != nil {
		return nil, err
	}
	engineers, err := s.memberChats(ctx, c.AssigneeID)
	if err != nil {
		return nil, err
	}
	eff := casework.Effects{
		Messages: append(outbox(c.ID, "owner_update", s.tellOwner(owners, c, "owner.hold", "until", s.day(until), "reason", reason)...),
			outbox(c.ID, "work_order", tell(engineers, "engineer.hold", []string{"number", c.Number, "until", s.day(until), "reason", reason}, nil)...)...),
		// The timer's Ref is the hold's time: a later hold has its own.
		Timers: []casework.Timer{{CaseID: c.ID, Kind: casework.TimerResumeDue, At: until, Ref: now.Unix()}},
	}
	return s.transition(ctx, c, casework.Transition{Action: casework.ActionHold, Actor: staff, Note: holdNote(s.day(until), reason), At: now}, eff)
}

// holdNote is the timeline note of a hold; holdReason reads the reason back.
func holdNote(until, reason string) string { return "on hold until " + until + ": " + reason }

func holdReason(note string) string {
	_, reason, _ := strings.Cut(note, ": ")
	return reason
}

// Resume takes a case off hold, back to the state it was held from. The
// service-level clocks stood still meanwhile: every deadline still running
// when the case was held moves later by the time it was on hold (from the
// hold to now; casework.Case.PausedDeadlines), stored on the case, and the
// deadline timers are set for the moved deadlines. The owner is told, with
// the resolve deadline, and the assigned engineer too, with the buttons of
// the order as it now is. note, optional, is for the timeline only.
func (s *Service) Resume(ctx context.Context, number string, staff casework.Actor, note string) (*casework.Case, error) {
	note, err := optionalText("note", note, 2000)
	if err != nil {
		return nil, err
	}
	c, err := s.load(ctx, number)
	if err != nil {
		return nil, err
	}
	if c.State != casework.StateOnHold {
		return nil, &casework.TransitionError{From: c.State, Action: casework.ActionResume}
	}
	held, err := s.lastTransition(ctx, c, casework.ActionHold)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var paused time.Duration
	if !held.IsZero() && now.After(held) {
		paused = now.Sub(held)
	}
	d := c.PausedDeadlines(held, paused)
	after := *c
	after.State, after.HeldFrom = c.HeldFrom, ""
	after.RespondBy, after.OnSiteBy, after.ResolveBy = d.RespondBy, d.OnSiteBy, d.ResolveBy

	owners, err := s.ownerChats(ctx, c)
	if err != nil {
		return nil, err
	}
	engineers, err := s.memberChats(ctx, c.AssigneeID)
	if err != nil {
		return nil, err
	}
	key := "owner.resumed"
	if after.ResolveBy == nil || !after.ResolveBy.After(now) {
		key += "_soon" // no time limit to promise, or it has passed
	}
	eff := casework.Effects{Messages: outbox(c.ID, "owner_update", s.tellOwner(owners, c, key, "resolve", s.whenPtr(after.ResolveBy))...)}
	if len(engineers) > 0 {
		taken, err := s.taken(ctx, c)
		if err != nil {
			return nil, err
		}
		var ns []notice
		for _, r := range engineers {
			ns = append(ns, notice{to: r, text: T(r.lang, "engineer.resumed", "number", c.Number, "resolve", s.whenPtr(after.ResolveBy)),
				choices: orderChoices(r.lang, &after, taken)})
		}
		eff.Messages = append(eff.Messages, outbox(c.ID, "work_order", ns...)...)
	}
	eff.Timers = MovedDeadlineTimers(c, d)
	text := "resumed after " + spanText(paused) + " on hold"
	if moved := s.movedText(c, d); moved != "" {
		text += "; deadlines moved later: " + moved
	}
	if note != "" {
		text += ": " + note
	}
	return s.transition(ctx, c, casework.Transition{Action: casework.ActionResume, Actor: staff, Note: text, At: now, Deadlines: &d}, eff)
}

// movedText lists the deadlines of c that d moves, for the timeline.
func (s *Service) movedText(c *casework.Case, d casework.Deadlines) string {
	var parts []string
	add := func(name string, old, now *time.Time) {
		if old != nil && now != nil && !old.Equal(*now) {
			parts = append(parts, fmt.Sprintf("%s %s → %s", name, s.when(*old), s.when(*now)))
		}
	}
	add("respond", c.RespondBy, d.RespondBy)
	add("on site", c.OnSiteBy, d.OnSiteBy)
	add("resolve", c.ResolveBy, d.ResolveBy)
	return strings.Join(parts, ", ")
}

// Cancel withdraws a case at the owner's request (撤销), which staff record
// with the owner's reason. The owner is told; the assigned engineer, if
// any, is told the order is withdrawn and needs nothing more from them.
func (s *Service) Cancel(ctx context.Context, number string, staff casework.Actor, reason string) (*casework.Case, error) {
	reason = strings.TrimSpace(reason)
	if err := casework.ValidText("reason", reason, 500); err != nil {
		return nil, err
	}
	c, err := s.load(ctx, number)
	if err != nil {
		return nil, err
	}
	return s.withdraw(ctx, c, staff, reason, "withdrawn at the owner's request: "+reason, bot.UserRef{})
}

// withdraw cancels c (撤销) with the owner's reason, noted on the timeline
// as note: the owner's chat accounts but told — all but the one that asked
// in chat and has its answer there — and the engineer who has the order, if
// anyone, is told it is withdrawn and loses its buttons.
func (s *Service) withdraw(ctx context.Context, c *casework.Case, actor casework.Actor, reason, note string, told bot.UserRef) (*casework.Case, error) {
	owners, err := s.ownerChats(ctx, c)
	if err != nil {
		return nil, err
	}
	owners = slices.DeleteFunc(owners, func(r recipient) bool { return r.user == told })
	eff := casework.Effects{Messages: outbox(c.ID, "owner_update", s.tellOwner(owners, c, "owner.cancelled", "reason", reason)...)}
	if err := s.withdrawAssignee(ctx, c, "cancelled", &eff); err != nil {
		return nil, err
	}
	return s.transition(ctx, c, casework.Transition{Action: casework.ActionCancel, Actor: actor, Note: note}, eff)
}

// ownerWithdrawable are the states from which an owner may withdraw a case
// in chat: no work has started on it (the repair, once started, is
// withdrawn by staff, who settle what was done).
var ownerWithdrawable = []casework.State{
	casework.StateRegistered, casework.StateAccepted, casework.StateDispatched, casework.StateScheduled,
	casework.StateInspected, casework.StatePlanProposed, casework.StatePlanAgreed, casework.StateReopened,
}

// OwnerMayWithdraw reports whether c's owner may withdraw it in chat
// (OwnerWithdraw): no work has started on it — on hold, from a state before
// the work.
func OwnerMayWithdraw(c *casework.Case) bool {
	if c.State == casework.StateOnHold {
		return slices.Contains(ownerWithdrawable, c.HeldFrom)
	}
	return slices.Contains(ownerWithdrawable, c.State)
}

// OwnerWithdraw withdraws a case (撤销) at its owner's word in chat, with
// their reason, while no work has started on it (OwnerMayWithdraw): the
// account must have reported the case or proved to be its owner
// (ErrForbidden otherwise), and a case whose work started, or that is done
// or closed, gives ErrWithdrawTooLate. As with staff's Cancel, the
// engineer who has the order is told it is withdrawn and the timeline
// records it; the owner's other chat accounts are told, the one asking has
// its answer in chat.
func (s *Service) OwnerWithdraw(ctx context.Context, who Who, number, reason string) (*casework.Case, error) {
	reason = strings.TrimSpace(reason)
	if err := casework.ValidText("reason", reason, 500); err != nil {
		return nil, err
	}
	c, err := s.ownerCase(ctx, who, number)
	if err != nil {
		return nil, err
	}
	if !OwnerMayWithdraw(c) {
		return nil, fmt.Errorf("case %s is %s: %w", c.Number, c.State, ErrWithdrawTooLate)
	}
	return s.withdraw(ctx, c, who.Actor(), reason, "withdrawn by the owner in chat: "+reason, who.User)
}

// Close archives a case (归档) from a state the machine allows it in:
// rejected, owner_accepted or surveyed. Only an owner who accepted the
// repair and has not answered the survey is told (the survey no longer
// waits); a rejected case's owner had the explanation, a surveyed one the
// thanks that it is closed. A repaired case gets its return visit. note,
// optional, is for the timeline only.
func (s *Service) Close(ctx context.Context, number string, staff casework.Actor, note string) (*casework.Case, error) {
	note, err := optionalText("note", note, 2000)
	if err != nil {
		return nil, err
	}
	c, err := s.load(ctx, number)
	if err != nil {
		return nil, err
	}
	var eff casework.Effects
	if c.State == casework.StateOwnerAccepted {
		owners, err := s.ownerChats(ctx, c)
		if err != nil {
			return nil, err
		}
		eff.Messages = outbox(c.ID, "owner_update", s.tellOwner(owners, c, "owner.closed")...)
	}
	if note == "" {
		note = "closed by staff"
	}
	return s.close(ctx, c, staff, note, eff)
}
