package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/l10n"
)

// Policy decides which registered cases the bot accepts and dispatches by
// itself and which wait for staff (初步研判).
type Policy struct {
	// AutoDispatch returns the zero Wait when the case may be accepted and
	// dispatched at once, or why it waits for staff.
	AutoDispatch func(c *casework.Case) Wait
}

// WaitReason says why a case waits for staff rather than being dispatched
// at once; the notice to the supervisors says it in their language (Wait.Text).
type WaitReason string

// The reasons a case waits for staff.
const (
	WaitCategory         WaitReason = "category"          // its category is assessed by staff (Wait.Category)
	WaitMajorComplaint   WaitReason = "major_complaint"   // a major complaint (重大投诉)
	WaitOutOfWarranty    WaitReason = "out_of_warranty"   // out of warranty: accept or not
	WaitWarrantyUnknown  WaitReason = "warranty_unknown"  // no completion or delivery date on record
	WaitOwnerResponsible WaitReason = "owner_responsible" // the owner's use or a third party, at first judgment
	WaitNoRoute          WaitReason = "no_route"          // no routing rule names a party
)

// WaitReasons lists every WaitReason.
var WaitReasons = []WaitReason{WaitCategory, WaitMajorComplaint, WaitOutOfWarranty, WaitWarrantyUnknown, WaitOwnerResponsible, WaitNoRoute}

// Wait is a policy's answer for a case: the zero Wait lets it be accepted
// and dispatched at once; otherwise Reason — with the Category it names, for
// WaitCategory — says why it waits for staff.
type Wait struct {
	Reason   WaitReason
	Category casework.Category
}

// Waits reports whether the case waits for staff.
func (w Wait) Waits() bool { return w.Reason != "" }

// String is the reason as the timeline records it, in English.
func (w Wait) String() string {
	switch w.Reason {
	case "":
		return ""
	case WaitCategory:
		return "category " + string(w.Category) + " is assessed by staff"
	case WaitMajorComplaint:
		return "a major complaint is assessed by staff"
	case WaitOutOfWarranty:
		return "out of warranty"
	case WaitWarrantyUnknown:
		return "warranty unknown: no completion or delivery date on record"
	case WaitOwnerResponsible:
		return "the owner's or a third party's responsibility"
	case WaitNoRoute:
		return "no routing rule names a party"
	}
	return string(w.Reason)
}

// Text says the reason in lang, for people: the supervisors' notice. A
// reason of a policy of one's own that the catalogue does not know is said
// as String says it.
func (w Wait) Text(lang l10n.Lang) string {
	if !slices.Contains(WaitReasons, w.Reason) {
		return w.String()
	}
	return T(lang, "why."+string(w.Reason), "category", T(lang, "category."+string(w.Category)))
}

// DefaultPolicy accepts and dispatches at once an engineering-quality or
// facilities case that is in warranty (or not a warranty matter), not the
// owner's doing, and routed to a party; everything else — out of warranty or
// unknown, design defects, complaints, consultations, suggestions — waits for
// staff. An urgent case (a safety risk: someone trapped in a lift, water
// pouring in) goes at once whatever its warranty: nobody waits in danger for
// the cost question, which staff settle after (WarrantyPending).
func DefaultPolicy() Policy {
	return Policy{AutoDispatch: func(c *casework.Case) Wait {
		urgent := c.Urgency == casework.UrgencyUrgent
		switch {
		case c.Category != casework.CategoryEngineeringQuality && c.Category != casework.CategoryFacilitiesEquipment:
			return Wait{Reason: WaitCategory, Category: c.Category}
		case c.Urgency == casework.UrgencyMajorComplaint:
			return Wait{Reason: WaitMajorComplaint}
		case c.WarrantyStatus == casework.WarrantyOut && !urgent:
			return Wait{Reason: WaitOutOfWarranty}
		case c.WarrantyStatus == casework.WarrantyUnknown && !urgent:
			return Wait{Reason: WaitWarrantyUnknown}
		case c.Responsibility == casework.ResponsibilityOwnerOrThirdParty:
			return Wait{Reason: WaitOwnerResponsible}
		}
		return Wait{}
	}}
}

// Triage is the first assessment of a case the dialogue just registered:
// the responsible party from the routing rules, then either accepted and
// dispatched at once (the policy allows it and a party is routed), or left
// for staff with the supervisors told. Either way the service-level timers
// are set. It returns the case as it now is.
func (s *Service) Triage(ctx context.Context, c *casework.Case) (*casework.Case, error) {
	party, member, err := s.route(ctx, c)
	if err != nil {
		return nil, err
	}
	wait := s.cfg.Policy.AutoDispatch(c)
	if !wait.Waits() && party == nil {
		wait = Wait{Reason: WaitNoRoute}
	}
	if wait.Waits() {
		eff := casework.Effects{Timers: DeadlineTimers(c)}
		sup, err := s.supervisorChats(ctx)
		if err != nil {
			return nil, err
		}
		eff.Messages = outbox(c.ID, "triage", s.staffNotices(ctx, c, sup, "staff.triage", func(lang l10n.Lang) []string {
			return []string{"title", triageTitle(lang, c), "judgment", judgmentText(lang, c), "why", wait.Text(lang)}
		})...)
		if err := s.event(ctx, c, casework.EventNote, casework.ActorBot, "waits for staff: "+wait.String(), eff); err != nil {
			return nil, err
		}
		return s.cfg.Store.FindCaseByID(ctx, c.ID)
	}
	reason := "auto-accepted: " + string(c.Category) + ", warranty " + string(c.WarrantyStatus)
	eff := casework.Effects{Timers: DeadlineTimers(c)}
	if WarrantyPending(c) {
		// Sent at once whatever the warranty: the timeline and the
		// supervisors say that the cost is settled after.
		reason += "; urgent, dispatched before the warranty is confirmed: " + CostSettledAfter
		sup, err := s.supervisorChats(ctx)
		if err != nil {
			return nil, err
		}
		eff.Messages = outbox(c.ID, "triage", s.staffNotices(ctx, c, sup, "staff.warranty_pending", func(lang l10n.Lang) []string {
			return []string{"judgment", judgmentText(lang, c), "party", party.Name}
		})...)
	}
	c, err = s.transition(ctx, c, casework.Transition{Action: casework.ActionAccept, Actor: casework.ActorBot, DecisionReason: &reason, Note: reason}, eff)
	if err != nil {
		return nil, err
	}
	return s.dispatch(ctx, c, party, member, casework.ActorBot, true, false)
}

// CostSettledAfter is what the timeline records of an urgent case sent
// before its warranty was confirmed: the warranty is to be confirmed and the
// cost settled afterwards.
const CostSettledAfter = "保修待确认，费用事后核定"

// WarrantyPending reports whether c is an urgent case whose warranty is in
// doubt (out of warranty, or no dates to tell): it is dispatched at once
// all the same, and who pays is settled after.
func WarrantyPending(c *casework.Case) bool {
	return c.Urgency == casework.UrgencyUrgent && (c.WarrantyStatus == casework.WarrantyOut || c.WarrantyStatus == casework.WarrantyUnknown)
}

// route finds the party the routing rules name for c and the member to
// receive the work order: for an urgent case the duty engineer, else an
// engineer, else the first member. Both nil when no rule matches.
func (s *Service) route(ctx context.Context, c *casework.Case) (*casework.Party, *casework.Member, error) {
	p, err := routedParty(ctx, s.cfg.Store, c)
	if p == nil || err != nil {
		return nil, nil, err
	}
	m, err := s.pickMember(ctx, p.ID, c.Urgency == casework.UrgencyUrgent)
	return p, m, err
}

// pickMember chooses who in a party receives a work order.
func (s *Service) pickMember(ctx context.Context, partyID int64, urgent bool) (*casework.Member, error) {
	ms, err := s.cfg.Store.ListMembers(ctx, partyID)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	return pickAmong(ms, urgent), nil
}

// pickAmong chooses who of a party's members ms receives a work order: for
// an urgent case the duty engineer first, else an engineer, then a manager
// or a supervisor, else the first; nil when ms is empty.
func pickAmong(ms []*casework.Member, urgent bool) *casework.Member {
	order := []string{"engineer", "duty", "manager", "supervisor"}
	if urgent {
		order = []string{"duty", "engineer", "manager", "supervisor"}
	}
	for _, role := range order {
		for _, m := range ms {
			if m.Role == role {
				return m
			}
		}
	}
	if len(ms) > 0 {
		return ms[0]
	}
	return nil
}

// dispatch sends the work order (派工单) for c to member of party: the
// case moves to dispatched, the member's chat accounts get the order with
// its buttons, the owner is told who will come and what happens next, and an
// urgent order must be taken within AcceptWithin or the supervisor is told.
// A member with no chat account bound leaves the order waiting in the staff
// API, which the timeline says. accepted says that c was accepted in the
// same call, which the owner has not been told yet; redo that it goes back
// for a repeat repair.
func (s *Service) dispatch(ctx context.Context, c *casework.Case, party *casework.Party, member *casework.Member, actor casework.Actor, accepted, redo bool) (*casework.Case, error) {
	var memberID int64
	if member != nil {
		memberID = member.ID
	}
	engineers, err := s.memberChats(ctx, memberID)
	if err != nil {
		return nil, err
	}
	owners, err := s.ownerChats(ctx, c)
	if err != nil {
		return nil, err
	}
	note := "work order to " + party.Code
	if member != nil {
		note += " / " + member.Name
	}
	if len(engineers) == 0 {
		note += "; no chat account bound: the order waits in the staff API"
	}
	// The order is composed on the case as it will be after the change.
	after := *c
	after.PartyID, after.AssigneeID = party.ID, memberID
	var eff casework.Effects
	var redoReason string
	if redo {
		if redoReason, err = s.notFixedReason(ctx, c); err != nil {
			return nil, err
		}
	}
	eff.Messages = outbox(c.ID, "work_order", s.workOrder(ctx, &after, party, engineers, redo, redoReason)...)
	who := party.Name
	if member != nil {
		who += " " + member.Name
	}
	// The owner hears one message: a case accepted in this same call
	// (accepted) is said to be accepted and with whom; one accepted before,
	// whose owner was told so then, only with whom; a later dispatch (a
	// reassignment, the order declined and sent again) who has it now; the
	// same engineer again changes nothing for them.
	key := ""
	switch {
	case redo:
		key = "owner.redispatched"
	case accepted:
		key = "owner.dispatched" // accepted and dispatched in one
	case c.State == casework.StateAccepted:
		key = "owner.assigned" // accepted earlier, which they were told
	case c.AssigneeID != memberID || c.PartyID != party.ID:
		key = "owner.reassigned" // another engineer takes over
	}
	now := s.now()
	if key != "" {
		if c.OnSiteBy == nil || !c.OnSiteBy.After(now) {
			key += "_soon" // no on-site time limit to promise, or it has passed
		}
		eff.Messages = append(eff.Messages, outbox(c.ID, "owner_update", tell(owners, key, []string{"number", c.Number, "who", who, "on_site", s.whenPtr(c.OnSiteBy)}, nil)...)...)
	}
	if c.Urgency == casework.UrgencyUrgent {
		eff.Timers = append(eff.Timers, casework.Timer{CaseID: c.ID, Kind: casework.TimerAcceptEscalation, At: now.Add(s.cfg.AcceptWithin), Ref: int64(c.Version + 1)})
		// And a phone rings: a text message and a call (urgent.go).
		calls, callNote, err := s.urgentOrderAlerts(ctx, &after, member)
		if err != nil {
			return nil, err
		}
		eff.Messages, note = append(eff.Messages, calls...), note+callNote
	}
	pid := party.ID
	t := casework.Transition{Action: casework.ActionDispatch, Actor: actor, PartyID: &pid, AssigneeID: &memberID, Note: note, At: now}
	if c.AssigneeID != memberID {
		// Another engineer books their own visit; the one before is told.
		t.ClearSlots, t.ClearAppointment = true, true
		if err := s.withdrawAssignee(ctx, c, "reassigned", &eff); err != nil {
			return nil, err
		}
	}
	return s.transition(ctx, c, t, eff)
}

// workOrder composes the work order for each of the engineer's accounts:
// what the owner said — the problem, since when, what they expect (with any
// request of their own words, "另外吊顶泡坏了也要一起修好") — and, on a
// repeat repair (redo), why they said it was not fixed (redoReason, as
// notFixedReason found it; "" when the timeline has none).
func (s *Service) workOrder(ctx context.Context, c *casework.Case, party *casework.Party, rs []recipient, redo bool, redoReason string) []notice {
	address := s.address(ctx, c) // the same for every account: read once
	var out []notice
	for _, r := range rs {
		head := "order.head"
		if redo {
			head = "order.head_redo"
		}
		text := T(r.lang, head, "number", c.Number) + "\n"
		if redo && redoReason != "" {
			text += T(r.lang, "order.redo_reason", "reason", reopenReasonText(r.lang, redoReason)) + "\n"
		}
		text += T(r.lang, "order.body",
			"task", T(r.lang, "category."+string(c.Category))+" · "+T(r.lang, "sub."+string(c.Subcategory)),
			"location", s.place(r.lang, c),
			"description", c.Description,
			"occurred", s.occurred(c),
			"expectation", orDash(c.Expectation),
			"address", address,
			"owner", c.OwnerName, "phone", ownerPhone(r.lang, c, false),
			"urgency", T(r.lang, "urgency."+string(c.Urgency)),
			"party", party.Name,
			"on_site", s.whenPtr(c.OnSiteBy), "resolve", s.whenPtr(c.ResolveBy),
			"contact", c.ContactTime)
		if c.RepairCount > 0 {
			text += "\n" + T(r.lang, "order.repeat", "n", strconv.Itoa(c.RepairCount+1))
		}
		n := notice{to: r, text: text, choices: orderChoices(r.lang, c, false)}
		n.addPhotos(c.Media)
		out = append(out, n)
	}
	return out
}

// occurred is when the problem started, as the owner said it ("上周",
// "this week"), else the day it was recorded as; "—" when unknown.
func (s *Service) occurred(c *casework.Case) string {
	if w := strings.TrimSpace(c.OccurredText); w != "" {
		return w
	}
	if c.OccurredAt != nil {
		return c.OccurredAt.In(s.cfg.Location).Format("01-02")
	}
	return "—"
}

// notFixedReason is the owner's words of the latest "not fixed" (or the
// return visit's reopening) on c's timeline: what the repeat repair must
// put right. "" when there is none (staff sent a repeat repair of their own).
func (s *Service) notFixedReason(ctx context.Context, c *casework.Case) (string, error) {
	evs, err := s.cfg.Store.ListCaseEvents(ctx, c.ID)
	if err != nil {
		return "", fmt.Errorf("list events: %w", err)
	}
	for _, ev := range slices.Backward(evs) {
		if ev.Kind == casework.EventTransition && (ev.Action == casework.ActionOwnerReject || ev.Action == casework.ActionReopen) {
			return strings.TrimSpace(ev.Note), nil
		}
	}
	return "", nil
}

// place is where in the home the problem is, as the work order says it:
// the location and its detail, "—" when neither is known (a complaint).
func (s *Service) place(lang l10n.Lang, c *casework.Case) string {
	var parts []string
	if c.Location != "" {
		parts = append(parts, T(lang, "location."+string(c.Location)))
	}
	if d := strings.TrimSpace(c.LocationDetail); d != "" {
		parts = append(parts, d)
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, " ")
}

// orderChoices are the engineer's buttons for a case in its state.
func orderChoices(lang l10n.Lang, c *casework.Case, taken bool) []bot.Choice {
	ch := func(key, action string) bot.Choice {
		return bot.Choice{Label: T(lang, key), Payload: Payload(action, c.Number)}
	}
	switch c.State {
	case casework.StateAccepted, casework.StateDispatched, casework.StateReopened:
		if !taken {
			return []bot.Choice{ch("btn.take", ActTake), ch("btn.decline", ActDecline)}
		}
		return []bot.Choice{ch("btn.slots", ActSlots), ch("btn.checkin", ActCheckIn)}
	case casework.StateScheduled:
		return []bot.Choice{ch("btn.checkin", ActCheckIn), ch("btn.reslot", ActSlots)}
	case casework.StateInspected:
		return []bot.Choice{ch("btn.plan", ActPlan), ch("btn.fixed", ActDone)}
	case casework.StatePlanAgreed:
		return []bot.Choice{ch("btn.start", ActStart)}
	case casework.StateInProgress:
		return []bot.Choice{ch("btn.done", ActDone)}
	}
	return nil
}

// summary describes a case for supervisors and staff in lang, in words:
// where (address, as Service.address gives it), what (category and
// subcategory), how urgent, and the owner's words, clipped.
func summary(lang l10n.Lang, c *casework.Case, address string) string {
	if address == "" {
		address = "—"
	}
	description := clip(strings.TrimSpace(c.Description), 60)
	if description == "" {
		description = "—"
	}
	return T(lang, "staff.summary", "address", address, "category", problemText(lang, c),
		"urgency", T(lang, "urgency."+string(c.Urgency)), "description", description)
}

// problemText names what a case is about: its category and subcategory,
// or the category alone when the subcategory adds nothing ("other").
func problemText(lang l10n.Lang, c *casework.Case) string {
	text := T(lang, "category."+string(c.Category))
	if c.Subcategory != "" && c.Subcategory != casework.SubOther {
		text += " · " + T(lang, "sub."+string(c.Subcategory))
	}
	return text
}

// triageTitle heads the notice of a case that waits for staff by what the
// case is: a repair report to assess (新报修待研判), a question, a
// complaint, a suggestion or praise to handle.
func triageTitle(lang l10n.Lang, c *casework.Case) string {
	return T(lang, "staff.triage_title."+caseKind(c))
}

// judgmentText is the first judgment of a repair report in words, for the
// supervisors' notice: its warranty and, when determined, whose
// responsibility it is; "" for a case that gets no work order.
func judgmentText(lang l10n.Lang, c *casework.Case) string {
	if !c.Category.GetsWorkOrder() {
		return ""
	}
	status := c.WarrantyStatus
	if !slices.Contains([]casework.WarrantyStatus{casework.WarrantyIn, casework.WarrantyOut, casework.WarrantyUnknown}, status) {
		status = casework.WarrantyNone
	}
	warranty := T(lang, "warranty."+string(status))
	if !c.WarrantyUntil.IsZero() && status != casework.WarrantyNone {
		warranty = T(lang, "warranty.until", "status", warranty, "until", c.WarrantyUntil.String())
	}
	text := "\n" + T(lang, "staff.warranty", "warranty", warranty)
	if c.Responsibility != "" && c.Responsibility != casework.ResponsibilityUndetermined && c.Responsibility.Valid() {
		text += "\n" + T(lang, "staff.responsibility", "responsibility", T(lang, "responsibility."+string(c.Responsibility)))
	}
	return text
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// RejectReason is a template for refusing a case (不予受理), each explained
// to the owner with the rule that applies and, where it helps, who can.
type RejectReason string

// The reasons a case is not accepted.
const (
	RejectOutOfWarranty  RejectReason = "out_of_warranty" // the part's warranty period ended
	RejectOwnerCaused    RejectReason = "owner_caused"    // the owner's own renovation or misuse
	RejectNotResponsible RejectReason = "not_responsible" // not the developer's responsibility
	RejectDuplicate      RejectReason = "duplicate"       // already reported as another case
)

// RejectReasons lists every RejectReason.
var RejectReasons = []RejectReason{RejectOutOfWarranty, RejectOwnerCaused, RejectNotResponsible, RejectDuplicate}

// Valid reports whether r is a known reason.
func (r RejectReason) Valid() bool { return slices.Contains(RejectReasons, r) }

// Accept accepts a case waiting for staff and, when a party is given or
// routed, dispatches it. partyID and memberID are optional (0: from the
// routing rules); a party or member that does not fit is refused before
// anything changes. The owner is told once: the case is accepted and with
// whom, or, with nobody to send it to yet, that it is accepted. A case
// that gets no work order (a consultation, a complaint about service, a
// suggestion, praise: Category.GetsWorkOrder) is accepted to be answered
// (Answer): it is neither routed nor dispatched, a party given for it is
// refused with a *casework.ValidationError of "category", and the owner is
// told by when they will be answered.
func (s *Service) Accept(ctx context.Context, number string, staff casework.Actor, note string, partyID, memberID int64) (*casework.Case, error) {
	c, err := s.load(ctx, number)
	if err != nil {
		return nil, err
	}
	answer := !c.Category.GetsWorkOrder()
	if answer && (partyID != 0 || memberID != 0) {
		return nil, noWorkOrder(c)
	}
	var party *casework.Party
	var member *casework.Member
	switch {
	case answer:
	case partyID == 0 && memberID == 0:
		party, member, err = s.route(ctx, c)
	default:
		party, member, err = s.assignee(ctx, c, partyID, memberID)
	}
	if err != nil {
		return nil, err
	}
	reason := "accepted by staff"
	if note != "" {
		reason += ": " + note
	}
	owners, err := s.ownerChats(ctx, c)
	if err != nil {
		return nil, err
	}
	var ns []notice
	switch {
	case answer:
		key := "owner.accepted_answer"
		if c.ResolveBy == nil || !c.ResolveBy.After(s.now()) {
			key += "_soon" // no time limit to promise, or it has passed
		}
		ns = s.tellOwner(owners, c, key, "by", s.whenPtr(c.ResolveBy))
	case party == nil:
		// Accepted with nobody to send it to yet: the dispatch, later,
		// says who.
		ns = tell(owners, "owner.accepted", []string{"number", c.Number}, nil)
	}
	// Dispatched in the same call: its message says accepted and with whom,
	// once.
	eff := casework.Effects{Messages: outbox(c.ID, "owner_update", ns...)}
	c, err = s.transition(ctx, c, casework.Transition{Action: casework.ActionAccept, Actor: staff, DecisionReason: &reason, Note: note}, eff)
	if err != nil || party == nil {
		return c, err
	}
	return s.dispatch(ctx, c, party, member, staff, true, c.RepairCount > 0)
}

// assignee returns the party and member staff named for c's work order:
// the member's party when partyID is 0, a member picked from the party when
// memberID is 0.
func (s *Service) assignee(ctx context.Context, c *casework.Case, partyID, memberID int64) (*casework.Party, *casework.Member, error) {
	var member *casework.Member
	var err error
	if memberID != 0 {
		if member, err = s.cfg.Store.FindMemberByID(ctx, memberID); err != nil {
			return nil, nil, fmt.Errorf("member %d: %w", memberID, err)
		}
		if partyID == 0 {
			partyID = member.PartyID
		}
		if member.PartyID != partyID {
			return nil, nil, casework.Invalid("member_id", "member %d is not of party %d", memberID, partyID)
		}
	}
	if partyID == 0 {
		return nil, nil, casework.Invalid("party_id", "is required")
	}
	party, err := s.cfg.Store.FindPartyByID(ctx, partyID)
	if err != nil {
		return nil, nil, fmt.Errorf("party %d: %w", partyID, err)
	}
	if member == nil {
		if member, err = s.pickMember(ctx, party.ID, c.Urgency == casework.UrgencyUrgent); err != nil {
			return nil, nil, err
		}
	}
	return party, member, nil
}

// Dispatch sends (or re-sends to someone else: reassign) the work order of a
// case to a party's member; memberID 0 picks one from the party. A case that
// gets no work order is refused with a *casework.ValidationError of
// "category": it is answered (Answer).
func (s *Service) Dispatch(ctx context.Context, number string, staff casework.Actor, partyID, memberID int64) (*casework.Case, error) {
	c, err := s.load(ctx, number)
	if err != nil {
		return nil, err
	}
	if !c.Category.GetsWorkOrder() {
		return nil, noWorkOrder(c)
	}
	party, member, err := s.assignee(ctx, c, partyID, memberID)
	if err != nil {
		return nil, err
	}
	if c.State == casework.StateRegistered {
		return nil, &casework.TransitionError{From: c.State, Action: casework.ActionDispatch}
	}
	return s.dispatch(ctx, c, party, member, staff, false, c.RepairCount > 0)
}

// Reject refuses a case with a reason template; the owner receives a patient
// explanation naming the rule and, for what property management handles,
// whom to ask; out of warranty, the paid repair the department can arrange
// (a quote first) and the property manager's contact. dup names the other case for RejectDuplicate.
func (s *Service) Reject(ctx context.Context, number string, staff casework.Actor, reason RejectReason, note, dup string) (*casework.Case, error) {
	if !reason.Valid() {
		return nil, casework.Invalid("reason", "%q is not one of %v", reason, RejectReasons)
	}
	c, err := s.load(ctx, number)
	if err != nil {
		return nil, err
	}
	if reason == RejectDuplicate {
		if _, err := s.load(ctx, dup); err != nil {
			return nil, casework.Invalid("duplicate_of", "names no case: %v", err)
		}
	}
	owners, err := s.ownerChats(ctx, c)
	if err != nil {
		return nil, err
	}
	help, err := s.propertyManagement(ctx)
	if err != nil {
		return nil, err
	}
	var ns []notice
	for _, r := range owners {
		key := "reject." + string(reason)
		if reason == RejectOutOfWarranty && c.WarrantyUntil.IsZero() {
			key = "reject.out_of_warranty_undated"
		}
		text := T(r.lang, "reject.head", "number", c.Number) + "\n" +
			T(r.lang, key, "until", c.WarrantyUntil.String(), "dup", dup, "part", T(r.lang, "sub."+string(c.Subcategory)))
		switch {
		case reason == RejectOutOfWarranty:
			// Intake promised to say what service is still on offer.
			text += "\n" + T(r.lang, "reject.paid_repair")
			if help != nil {
				text += "\n" + T(r.lang, "reject.help_property", "name", help.Name, "phone", help.Phone)
			}
		case help != nil && (reason == RejectNotResponsible || reason == RejectOwnerCaused):
			text += "\n" + T(r.lang, "reject.help", "name", help.Name, "phone", help.Phone)
		}
		if note != "" {
			text += "\n" + T(r.lang, "reject.note", "note", note)
		}
		text += "\n" + T(r.lang, "reject.tail")
		ns = append(ns, notice{to: r, text: text})
	}
	why := string(reason)
	if dup != "" {
		why += " (" + dup + ")"
	}
	if note != "" {
		why += ": " + note
	}
	eff := casework.Effects{Messages: outbox(c.ID, "owner_update", ns...)}
	return s.transition(ctx, c, casework.Transition{Action: casework.ActionReject, Actor: staff, DecisionReason: &why, Note: why}, eff)
}

// propertyManagement returns the first property-management party, whom an
// owner can ask about what the developer does not answer for.
func (s *Service) propertyManagement(ctx context.Context) (*casework.Party, error) {
	ps, err := s.cfg.Store.ListParties(ctx)
	if err != nil {
		return nil, fmt.Errorf("list parties: %w", err)
	}
	for _, p := range ps {
		if p.Kind == casework.PartyPropertyManagement {
			return p, nil
		}
	}
	return nil, nil
}

// MessageOwner sends staff's words to the owner's chat accounts and records
// them on the timeline.
func (s *Service) MessageOwner(ctx context.Context, number string, staff casework.Actor, text string) error {
	if err := casework.ValidText("text", text, 2000); err != nil {
		return err
	}
	c, err := s.load(ctx, number)
	if err != nil {
		return err
	}
	owners, err := s.ownerChats(ctx, c)
	if err != nil {
		return err
	}
	if len(owners) == 0 {
		return casework.Invalid("owner", "has no chat account to write to; call %s", casework.MaskPhone(c.OwnerPhone))
	}
	eff := casework.Effects{Messages: outbox(c.ID, "staff_message", tell(owners, "owner.staff_message", []string{"number", c.Number, "text", text}, nil)...)}
	return s.event(ctx, c, casework.EventMessage, staff, text, eff)
}

// IssueBindCode makes a one-time code with which a member binds a chat
// account (/bind CODE).
func (s *Service) IssueBindCode(ctx context.Context, memberID int64, staff casework.Actor) (*casework.BindCode, error) {
	if _, err := s.cfg.Store.FindMemberByID(ctx, memberID); err != nil {
		return nil, fmt.Errorf("member %d: %w", memberID, err)
	}
	for range 5 {
		code, err := newBindCode()
		if err != nil {
			return nil, err
		}
		b := &casework.BindCode{Code: code, MemberID: memberID, IssuedBy: staff, ExpiresAt: s.now().Add(s.cfg.BindCodeTTL)}
		err = s.cfg.Store.CreateBindCode(ctx, b)
		var ce *casework.ConflictError
		if errors.As(err, &ce) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("store bind code: %w", err)
		}
		return b, nil
	}
	return nil, errors.New("no free bind code after 5 tries")
}

// Unbind releases every chat account bound to a member (an engineer who
// left, a lost phone): they receive no more work orders and act on none.
// It returns how many accounts were released.
func (s *Service) Unbind(ctx context.Context, memberID int64, staff casework.Actor) (int, error) {
	if _, err := s.cfg.Store.FindMemberByID(ctx, memberID); err != nil {
		return 0, fmt.Errorf("member %d: %w", memberID, err)
	}
	ids, err := s.cfg.Store.FindChatIdentitiesByMember(ctx, memberID)
	if err != nil {
		return 0, fmt.Errorf("find member's chats: %w", err)
	}
	for _, id := range ids {
		id.MemberID = 0
		if err := s.cfg.Store.SaveChatIdentity(ctx, id); err != nil {
			return 0, fmt.Errorf("unbind: %w", err)
		}
	}
	s.cfg.Logger.Info("engineer unbound", "member_id", memberID, "accounts", len(ids), "by", staff)
	return len(ids), nil
}

// AddTask records an external coordination task on a case and sets its due
// timer; the supervisors are told when it falls due undone.
func (s *Service) AddTask(ctx context.Context, number string, staff casework.Actor, assignee, description string, due time.Time) (*casework.Task, error) {
	c, err := s.load(ctx, number)
	if err != nil {
		return nil, err
	}
	t := &casework.Task{CaseID: c.ID, Assignee: assignee, Description: description, DueAt: due, CreatedBy: staff}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	// The timer's Ref is the task's ID, which the store assigns; the task's
	// due time identifies it until then, and Fire finds it by case and time.
	eff := casework.Effects{Timers: []casework.Timer{{CaseID: c.ID, Kind: casework.TimerTaskDue, At: due, Ref: due.Unix()}}}
	if err := s.cfg.Store.CreateTask(ctx, t, eff); err != nil {
		return nil, fmt.Errorf("create task: %w", err)
	}
	return t, nil
}

// ownerPhone is the owner's phone as an engineer sees it: masked until they
// took the order, whole after.
func ownerPhone(lang l10n.Lang, c *casework.Case, taken bool) string {
	switch {
	case c.OwnerPhone == "":
		return "—"
	case taken:
		return c.OwnerPhone
	}
	return T(lang, "order.phone_later", "masked", casework.MaskPhone(c.OwnerPhone))
}
