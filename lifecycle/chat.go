package lifecycle

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/l10n"
	"github.com/aftersales/aftersales/when"
)

// The actions carried by the lifecycle's buttons. A button's payload is
// "lc:ACTION:CASE-NUMBER[:ARG]" (Payload, ParsePayload).
const (
	// The engineer's.
	ActTake    = "take"    // take the work order (接单)
	ActDecline = "decline" // decline it, with a reason
	ActSlots   = "slots"   // offer visit times
	ActCheckIn = "checkin" // on site (到场签到)
	ActPlan    = "plan"    // report findings and the plan
	ActStart   = "start"   // start the work
	ActDone    = "done"    // the work is done, with photos
	ActOrder   = "order"   // show one of my orders
	// The owner's.
	ActPick     = "pick"     // pick the offered time ARG (Unix seconds)
	ActOther    = "other"    // none of the slots suits
	ActAgree    = "agree"    // agree to the plan proposed at ARG (Unix seconds)
	ActDisagree = "disagree" // disagree, with a reason
	ActAccept   = "accept"   // accept the repair (验收通过)
	ActNotFixed = "notfixed" // not fixed: reopen
	ActRate     = "rate"     // a survey score: ARG is "speed-4"
	ActVisitOK  = "visit_ok" // return visit: still fine
	ActVisitBad = "visit_bad"
)

// PayloadPrefix starts every lifecycle button's payload.
const PayloadPrefix = "lc:"

// Payload returns the payload of a lifecycle button.
func Payload(action, number string, arg ...string) string {
	p := PayloadPrefix + action + ":" + number
	for _, a := range arg {
		p += ":" + a
	}
	return p
}

// ParsePayload splits a lifecycle payload into action, case number and
// argument; ok is false for other payloads.
func ParsePayload(p string) (action, number, arg string, ok bool) {
	rest, found := strings.CutPrefix(p, PayloadPrefix)
	if !found {
		return "", "", "", false
	}
	parts := strings.SplitN(rest, ":", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return "", "", "", false
	}
	if len(parts) == 3 {
		arg = parts[2]
	}
	return parts[0], parts[1], arg, true
}

// newBindCode returns 8 characters from an alphabet without look-alikes.
func newBindCode() (string, error) {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	var b strings.Builder
	for range 8 {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", fmt.Errorf("bind code: %w", err)
		}
		b.WriteByte(alphabet[n.Int64()])
	}
	return b.String(), nil
}

// Bind binds the chat account to the member a bind code was issued for and
// re-sends the work orders waiting for that member. It returns the member
// and party for the reply.
func (s *Service) Bind(ctx context.Context, who Who, code string) (*casework.Member, *casework.Party, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == "" {
		return nil, nil, casework.Invalid("code", "is required")
	}
	b, err := s.cfg.Store.UseBindCode(ctx, code, s.now())
	if err != nil {
		return nil, nil, fmt.Errorf("bind code: %w", err)
	}
	m, err := s.cfg.Store.FindMemberByID(ctx, b.MemberID)
	if err != nil {
		return nil, nil, fmt.Errorf("member: %w", err)
	}
	p, err := s.cfg.Store.FindPartyByID(ctx, m.PartyID)
	if err != nil {
		return nil, nil, fmt.Errorf("party: %w", err)
	}
	id := who.Identity
	if id == nil {
		id = &casework.ChatIdentity{Platform: string(who.User.Platform), UserID: who.User.ID}
	}
	id.MemberID = m.ID
	if err := s.cfg.Store.SaveChatIdentity(ctx, id); err != nil {
		return nil, nil, fmt.Errorf("save chat identity: %w", err)
	}
	s.cfg.Logger.Info("engineer bound", "member_id", m.ID, "party", p.Code, "platform", who.User.Platform)
	// Orders that waited for a bound account now go out.
	waiting, _, err := s.cfg.Store.FindCases(ctx, casework.CaseFilter{AssigneeID: m.ID, States: []casework.State{casework.StateDispatched}, Limit: 50})
	if err != nil {
		return nil, nil, fmt.Errorf("find waiting orders: %w", err)
	}
	r := recipientOf(id)
	for _, c := range waiting {
		full, err := s.cfg.Store.FindCaseByID(ctx, c.ID)
		if err != nil {
			return nil, nil, err
		}
		taken, err := s.taken(ctx, full)
		if err != nil {
			return nil, nil, err
		}
		if taken {
			continue
		}
		var redoReason string
		if full.RepairCount > 0 {
			if redoReason, err = s.notFixedReason(ctx, full); err != nil {
				return nil, nil, err
			}
		}
		eff := casework.Effects{Messages: outbox(c.ID, "work_order", s.workOrder(ctx, full, p, []recipient{r}, full.RepairCount > 0, redoReason)...)}
		if err := s.event(ctx, full, casework.EventNote, casework.ActorBot, "work order sent to the newly bound account", eff); err != nil {
			return nil, nil, err
		}
	}
	return m, p, nil
}

// engineerCase loads a case for an engineer and checks that the account is
// bound to a member of the case's party and that the order is theirs, or
// tells them what became of an order that was (notTheirs).
func (s *Service) engineerCase(ctx context.Context, who Who, number string) (*casework.Case, *casework.Member, error) {
	if who.Identity == nil || who.Identity.MemberID == 0 {
		return nil, nil, ErrNotBound
	}
	m, err := s.cfg.Store.FindMemberByID(ctx, who.Identity.MemberID)
	if err != nil {
		return nil, nil, fmt.Errorf("member: %w", err)
	}
	c, err := s.load(ctx, number)
	if err != nil {
		return nil, nil, err
	}
	if err := s.notTheirs(ctx, c, who, m); err != nil {
		return nil, nil, err
	}
	return c, m, nil
}

// engineerTellsOwner loads a case for an engineer (engineerCase) with the
// owner's chat accounts, to tell them what the engineer did.
func (s *Service) engineerTellsOwner(ctx context.Context, who Who, number string) (*casework.Case, *casework.Member, []recipient, error) {
	c, m, err := s.engineerCase(ctx, who, number)
	if err != nil {
		return nil, nil, nil, err
	}
	owners, err := s.ownerChats(ctx, c)
	if err != nil {
		return nil, nil, nil, err
	}
	return c, m, owners, nil
}

// ownerCase loads a case for its owner and checks that the account reported
// it or proved to be its owner.
func (s *Service) ownerCase(ctx context.Context, who Who, number string) (*casework.Case, error) {
	c, err := s.load(ctx, number)
	if err != nil {
		return nil, err
	}
	reporter := c.ReporterPlatform == string(who.User.Platform) && c.ReporterUserID == who.User.ID
	owner := who.Identity != nil && who.Identity.Verified() && c.OwnerID != 0 && who.Identity.OwnerID == c.OwnerID
	if !reporter && !owner {
		return nil, ErrForbidden
	}
	return c, nil
}

// taken reports whether the current work order of c was taken: an
// EventOrderAccepted after the last dispatch.
func (s *Service) taken(ctx context.Context, c *casework.Case) (bool, error) {
	_, taken, err := s.lastDispatch(ctx, c)
	return taken, err
}

// lastDispatch returns when c was last dispatched (or reassigned) and
// whether its work order is taken: taken since, and not declined after.
func (s *Service) lastDispatch(ctx context.Context, c *casework.Case) (at time.Time, taken bool, err error) {
	evs, err := s.cfg.Store.ListCaseEvents(ctx, c.ID)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("timeline: %w", err)
	}
	declined := false
	for i := len(evs) - 1; i >= 0; i-- {
		switch e := evs[i]; {
		case e.Kind == casework.EventOrderAccepted && !declined:
			taken = true
		case e.Kind == casework.EventOrderDeclined && !taken:
			declined = true // a take before it no longer counts
		case e.Kind == casework.EventTransition && e.Action == casework.ActionDispatch:
			return e.At, taken, nil
		}
	}
	return time.Time{}, taken, nil
}

// Order is a work order as an engineer sees it: the case and the buttons
// its state allows.
type Order struct {
	Case    *casework.Case
	Text    string
	Choices []bot.Choice
}

// MyOrders returns the engineer's open work orders, oldest deadline first.
func (s *Service) MyOrders(ctx context.Context, who Who, lang l10n.Lang) ([]*casework.Case, error) {
	if who.Identity == nil || who.Identity.MemberID == 0 {
		return nil, ErrNotBound
	}
	open := []casework.State{casework.StateAccepted, casework.StateDispatched, casework.StateScheduled, casework.StateInspected,
		casework.StatePlanProposed, casework.StatePlanAgreed, casework.StateInProgress, casework.StateDone, casework.StateReopened}
	cs, _, err := s.cfg.Store.FindCases(ctx, casework.CaseFilter{AssigneeID: who.Identity.MemberID, States: open, Limit: 20})
	if err != nil {
		return nil, fmt.Errorf("find orders: %w", err)
	}
	slices.SortStableFunc(cs, func(a, b *casework.Case) int { return cmpTime(a.ResolveBy, b.ResolveBy) })
	return cs, nil
}

// TodayVisits is the engineer's visits booked for today, in the
// department's time zone, earliest first: one line each with the time, the
// order's number, the address and the task, and a button per order that
// shows it. No visit today: the text says so and there are no buttons.
func (s *Service) TodayVisits(ctx context.Context, who Who, lang l10n.Lang) (string, []bot.Choice, error) {
	cs, err := s.MyOrders(ctx, who, lang)
	if err != nil {
		return "", nil, err
	}
	now := s.now().In(s.cfg.Location)
	from := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, s.cfg.Location)
	to := from.AddDate(0, 0, 1)
	var today []*casework.Case
	for _, c := range cs {
		if c.AppointmentAt != nil && !c.AppointmentAt.Before(from) && c.AppointmentAt.Before(to) {
			today = append(today, c)
		}
	}
	if len(today) == 0 {
		return T(lang, "reply.no_visits_today"), nil, nil
	}
	slices.SortStableFunc(today, func(a, b *casework.Case) int { return a.AppointmentAt.Compare(*b.AppointmentAt) })
	text := T(lang, "reply.visits_today", "n", strconv.Itoa(len(today)))
	var choices []bot.Choice
	for _, c := range today {
		text += "\n" + T(lang, "reply.visit_line", "time", c.AppointmentAt.In(s.cfg.Location).Format("15:04"), "number", c.Number,
			"address", s.address(ctx, c), "task", T(lang, "category."+string(c.Category))+" · "+T(lang, "sub."+string(c.Subcategory)))
		choices = append(choices, bot.Choice{Label: c.AppointmentAt.In(s.cfg.Location).Format("15:04") + " " + c.Number, Payload: Payload(ActOrder, c.Number)})
	}
	return text, choices, nil
}

func cmpTime(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return a.Compare(*b)
}

// ShowOrder returns one of the engineer's orders with its buttons.
func (s *Service) ShowOrder(ctx context.Context, who Who, number string, lang l10n.Lang) (*Order, error) {
	c, m, err := s.engineerCase(ctx, who, number)
	if err != nil {
		return nil, err
	}
	taken, err := s.taken(ctx, c)
	if err != nil {
		return nil, err
	}
	text := T(lang, "order.status", "number", c.Number, "state", T(lang, "state."+string(c.State)),
		"task", T(lang, "category."+string(c.Category))+" · "+T(lang, "sub."+string(c.Subcategory)),
		"address", s.address(ctx, c), "owner", c.OwnerName, "phone", ownerPhone(lang, c, taken && c.AssigneeID == m.ID),
		"appointment", s.whenPtr(c.AppointmentAt), "resolve", s.whenPtr(c.ResolveBy))
	return &Order{Case: c, Text: text, Choices: orderChoices(lang, c, taken)}, nil
}

// TakeOrder records that the engineer took the work order; the owner is told.
// It returns the case and the engineer's next buttons.
func (s *Service) TakeOrder(ctx context.Context, who Who, number string) (*Order, error) {
	c, m, err := s.engineerCase(ctx, who, number)
	if err != nil {
		return nil, err
	}
	if c.State != casework.StateDispatched && c.State != casework.StateReopened {
		return nil, &casework.TransitionError{From: c.State, Action: casework.ActionDispatch}
	}
	taken, err := s.taken(ctx, c)
	if err != nil {
		return nil, err
	}
	if taken && c.AssigneeID == m.ID {
		// Taken already (a double tap): nothing new to tell.
		return &Order{Case: c, Choices: orderChoices(recipientOf(who.Identity).lang, c, true)}, nil
	}
	if c.AssigneeID != m.ID {
		// The order was declined and is with no one: a colleague takes it.
		one := m.ID
		c, err = s.cfg.Store.UpdateCaseWith(ctx, c.ID, c.Version, casework.CaseUpdate{Actor: who.Actor(), AssigneeID: &one, Note: "taken over by " + m.Name}, casework.Effects{})
		if err != nil {
			return nil, err
		}
	}
	owners, err := s.ownerChats(ctx, c)
	if err != nil {
		return nil, err
	}
	eff := casework.Effects{Messages: outbox(c.ID, "owner_update", tell(owners, "owner.taken", []string{"number", c.Number, "name", m.Name, "phone", m.Phone}, nil)...)}
	if err := s.event(ctx, c, casework.EventOrderAccepted, who.Actor(), "taken by "+m.Name, eff); err != nil {
		return nil, err
	}
	return &Order{Case: c, Choices: orderChoices(recipientOf(who.Identity).lang, c, true)}, nil
}

// DeclineOrder hands the work order back to staff with the engineer's reason;
// the supervisors are told to reassign it.
func (s *Service) DeclineOrder(ctx context.Context, who Who, number, reason string) error {
	if err := casework.ValidText("reason", reason, 500); err != nil {
		return err
	}
	c, m, err := s.engineerCase(ctx, who, number)
	if err != nil {
		return err
	}
	if c.State != casework.StateDispatched && c.State != casework.StateReopened {
		return &casework.TransitionError{From: c.State, Action: casework.ActionDispatch}
	}
	sup, err := s.supervisorChats(ctx)
	if err != nil {
		return err
	}
	eff := casework.Effects{Messages: outbox(c.ID, "escalation", s.staffNotices(ctx, c, sup, "staff.declined", values("name", m.Name, "reason", reason))...)}
	none, noSlots := int64(0), []time.Time{}
	if _, err := s.cfg.Store.UpdateCaseWith(ctx, c.ID, c.Version, casework.CaseUpdate{Actor: who.Actor(), AssigneeID: &none, ProposedSlots: &noSlots, Note: "declined by " + m.Name + ": " + reason}, casework.Effects{}); err != nil {
		return fmt.Errorf("clear assignee: %w", err)
	}
	return s.event(ctx, c, casework.EventOrderDeclined, who.Actor(), reason, eff)
}

// ProposeSlots offers the owner two or three visit times.
func (s *Service) ProposeSlots(ctx context.Context, who Who, number string, slots []time.Time) error {
	if len(slots) == 0 || len(slots) > 3 {
		return casework.Invalid("slots", "offer one to three times")
	}
	c, _, err := s.engineerCase(ctx, who, number)
	if err != nil {
		return err
	}
	switch c.State {
	case casework.StateDispatched, casework.StateScheduled, casework.StateReopened:
	default:
		return &casework.TransitionError{From: c.State, Action: casework.ActionSchedule}
	}
	for _, t := range slots {
		if !t.After(s.now()) {
			return casework.Invalid("slots", "%s has passed", s.when(t))
		}
	}
	owners, err := s.ownerChats(ctx, c)
	if err != nil {
		return err
	}
	var ns []notice
	for _, r := range owners {
		n := notice{to: r, text: T(r.lang, "owner.slots", "number", c.Number)}
		for _, t := range slots {
			n.choices = append(n.choices, bot.Choice{Label: s.slotLabel(r.lang, t), Payload: Payload(ActPick, c.Number, strconv.FormatInt(t.Unix(), 10))})
		}
		n.choices = append(n.choices, bot.Choice{Label: T(r.lang, "btn.other_slots"), Payload: Payload(ActOther, c.Number)})
		ns = append(ns, n)
	}
	eff := casework.Effects{Messages: outbox(c.ID, "appointment", ns...)}
	note := "visit times offered"
	if c.OnSiteBy != nil {
		for _, t := range slots {
			if t.After(*c.OnSiteBy) {
				note += "; " + s.when(t) + " is after the on-site deadline " + s.when(*c.OnSiteBy) + ", the engineer's choice"
			}
		}
	}
	_, err = s.cfg.Store.UpdateCaseWith(ctx, c.ID, c.Version, casework.CaseUpdate{Actor: who.Actor(), ProposedSlots: &slots, Note: note}, eff)
	return err
}

// ReadSlot reads a visit time the engineer typed for order number ("今晚8点",
// "明天下午两点到四点", "tomorrow 7pm"), in the department's time zone. Words
// that name no time give when.ErrUnreadable, and a time already past gives
// when.ErrPast with the time read, for the engineer to be told which. A time
// after the case's on-site deadline is returned with that deadline (late):
// the engineer is warned and may still offer it, and ProposeSlots records it
// on the timeline as their choice.
func (s *Service) ReadSlot(ctx context.Context, who Who, number, words string) (at time.Time, late *time.Time, err error) {
	at, err = s.ReadTime(words)
	if err != nil {
		return at, nil, err
	}
	c, _, err := s.engineerCase(ctx, who, number)
	if err != nil {
		return at, nil, err
	}
	if c.OnSiteBy != nil && at.After(*c.OnSiteBy) {
		return at, c.OnSiteBy, nil
	}
	return at, nil, nil
}

// slotLabel writes a visit time as people read it: "11-29 周六 09:00".
func (s *Service) slotLabel(lang l10n.Lang, t time.Time) string {
	t = t.In(s.cfg.Location)
	return t.Format("01-02") + " " + T(lang, "weekday."+strconv.Itoa(int(t.Weekday()))) + " " + t.Format("15:04")
}

// SlotLabel writes a visit time as the buttons do.
func (s *Service) SlotLabel(lang l10n.Lang, t time.Time) string { return s.slotLabel(lang, t) }

// ReadTime reads a time typed by anyone ("明天晚上7点", "tomorrow 7pm") in
// the department's time zone: when.ErrUnreadable for words that name none,
// when.ErrPast, with the time read, for one not after now.
func (s *Service) ReadTime(words string) (time.Time, error) {
	now := s.now().In(s.cfg.Location)
	at, err := when.Parse(words, now)
	if err == nil && !at.After(now) {
		err = when.ErrPast
	}
	return at, err
}

// CandidateSlots are the visit times an engineer picks from: this evening
// at 19:00 while it is before 17:00, so that an urgent case gets a same-day
// offer, then the next three days at 09:00 and 14:00 in the department's
// time zone. The engineer may type any other time (ReadSlot).
func (s *Service) CandidateSlots() []time.Time {
	now := s.now().In(s.cfg.Location)
	var out []time.Time
	if now.Hour() < 17 {
		out = append(out, time.Date(now.Year(), now.Month(), now.Day(), 19, 0, 0, 0, s.cfg.Location))
	}
	for d := 1; d <= 3; d++ {
		day := time.Date(now.Year(), now.Month(), now.Day()+d, 0, 0, 0, 0, s.cfg.Location)
		out = append(out, day.Add(9*time.Hour), day.Add(14*time.Hour))
	}
	return out
}

// CheckIn records the engineer on site (现场勘查): the case moves to
// inspected and the owner is told.
func (s *Service) CheckIn(ctx context.Context, who Who, number string) (*Order, error) {
	c, m, owners, err := s.engineerTellsOwner(ctx, who, number)
	if err != nil {
		return nil, err
	}
	eff := casework.Effects{Messages: outbox(c.ID, "owner_update", tell(owners, "owner.on_site", []string{"number", c.Number, "name", m.Name}, nil)...)}
	c, err = s.transition(ctx, c, casework.Transition{Action: casework.ActionInspect, Actor: who.Actor(), Note: "on site: " + m.Name}, eff)
	if err != nil {
		return nil, err
	}
	return &Order{Case: c, Choices: orderChoices(recipientOf(who.Identity).lang, c, true)}, nil
}

// ReportPlan records the findings and the repair plan, with photos, and asks
// the owner to agree.
func (s *Service) ReportPlan(ctx context.Context, who Who, number string, plan casework.Plan, photos []casework.MediaRef) (*casework.Case, error) {
	if err := plan.Validate(); err != nil {
		return nil, err
	}
	proposed := s.now().UTC().Truncate(time.Second)
	plan.ProposedAt = &proposed
	c, _, owners, err := s.engineerTellsOwner(ctx, who, number)
	if err != nil {
		return nil, err
	}
	if err := s.attach(ctx, c, photos, who.Actor()); err != nil {
		return nil, err
	}
	var ns []notice
	for _, r := range owners {
		n := notice{to: r, text: T(r.lang, "owner.plan", "number", c.Number) + "\n" + s.planText(r.lang, &plan)}
		n.choices = []bot.Choice{
			{Label: T(r.lang, "btn.agree"), Payload: Payload(ActAgree, c.Number, planRef(&plan))},
			{Label: T(r.lang, "btn.disagree"), Payload: Payload(ActDisagree, c.Number)},
		}
		n.addPhotos(photos)
		ns = append(ns, n)
	}
	eff := casework.Effects{Messages: outbox(c.ID, "plan", ns...)}
	return s.transition(ctx, c, casework.Transition{Action: casework.ActionProposePlan, Actor: who.Actor(), Plan: &plan, Note: "plan: " + clip(plan.Content, 100)}, eff)
}

// PlanText renders a plan for people.
func (s *Service) PlanText(lang l10n.Lang, p *casework.Plan) string { return s.planText(lang, p) }

func (s *Service) planText(lang l10n.Lang, p *casework.Plan) string {
	var ds []string
	for _, d := range p.Disruptions {
		ds = append(ds, T(lang, "disruption."+string(d)))
	}
	dis := T(lang, "disruption.none")
	if len(ds) > 0 {
		dis = strings.Join(ds, T(lang, "list_sep"))
	}
	start := T(lang, "plan.start_tbd")
	if p.StartAt != nil {
		start = s.slotLabel(lang, *p.StartAt)
	}
	return T(lang, "plan.body", "cause", p.Cause, "responsibility", T(lang, "responsibility."+string(p.Responsibility)),
		"content", p.Content, "duration", p.Duration, "disruption", dis, "start", start)
}

// attach stores the photos an engineer sent with a step.
func (s *Service) attach(ctx context.Context, c *casework.Case, photos []casework.MediaRef, actor casework.Actor) error {
	for i := range photos {
		m := photos[i]
		m.CaseID = c.ID
		if err := s.cfg.Store.AddCaseMedia(ctx, &m, actor); err != nil {
			return fmt.Errorf("attach media: %w", err)
		}
	}
	return nil
}

// StartWork records that the repair started; the owner is told, with what
// the work disturbs.
func (s *Service) StartWork(ctx context.Context, who Who, number string) (*Order, error) {
	c, _, owners, err := s.engineerTellsOwner(ctx, who, number)
	if err != nil {
		return nil, err
	}
	var ns []notice
	for _, r := range owners {
		text := T(r.lang, "owner.started", "number", c.Number)
		if c.Plan != nil && len(c.Plan.Disruptions) > 0 {
			text += "\n" + s.disruptionText(r.lang, c.Plan)
		}
		ns = append(ns, notice{to: r, text: text})
	}
	eff := casework.Effects{Messages: outbox(c.ID, "owner_update", ns...)}
	c, err = s.transition(ctx, c, casework.Transition{Action: casework.ActionStartWork, Actor: who.Actor()}, eff)
	if err != nil {
		return nil, err
	}
	return &Order{Case: c, Choices: orderChoices(recipientOf(who.Identity).lang, c, true)}, nil
}

func (s *Service) disruptionText(lang l10n.Lang, p *casework.Plan) string {
	var ds []string
	for _, d := range p.Disruptions {
		ds = append(ds, T(lang, "disruption."+string(d)))
	}
	return T(lang, "owner.disruption", "what", strings.Join(ds, T(lang, "list_sep")), "duration", p.Duration)
}

// Complete records the work done, with photos, and asks the owner to accept
// it (业主验收).
func (s *Service) Complete(ctx context.Context, who Who, number, note string, photos []casework.MediaRef) (*casework.Case, error) {
	c, _, owners, err := s.engineerTellsOwner(ctx, who, number)
	if err != nil {
		return nil, err
	}
	if err := s.attach(ctx, c, photos, who.Actor()); err != nil {
		return nil, err
	}
	var ns []notice
	for _, r := range owners {
		n := notice{to: r, text: T(r.lang, "owner.done", "number", c.Number)}
		if note != "" {
			n.text += "\n" + note
		}
		n.choices = []bot.Choice{
			{Label: T(r.lang, "btn.accept"), Payload: Payload(ActAccept, c.Number)},
			{Label: T(r.lang, "btn.not_fixed"), Payload: Payload(ActNotFixed, c.Number)},
		}
		n.addPhotos(photos)
		ns = append(ns, n)
	}
	eff := casework.Effects{Messages: outbox(c.ID, "acceptance", ns...)}
	return s.transition(ctx, c, casework.Transition{Action: casework.ActionComplete, Actor: who.Actor(), Note: note}, eff)
}

// PickSlot books the visit at the offered time the owner chose (its Unix
// seconds, as the button carries it); the engineer is told and both are
// reminded before the visit. A time no longer offered (the engineer offered
// others since, or it was booked) gives ErrSlotGone.
func (s *Service) PickSlot(ctx context.Context, who Who, number string, unix int64) (*casework.Case, error) {
	c, err := s.ownerCase(ctx, who, number)
	if err != nil {
		return nil, err
	}
	if c.AssigneeID == 0 {
		return nil, &casework.TransitionError{From: c.State, Action: casework.ActionSchedule}
	}
	n := slices.IndexFunc(c.ProposedSlots, func(t time.Time) bool { return t.Unix() == unix })
	if n < 0 {
		return nil, ErrSlotGone
	}
	at := c.ProposedSlots[n]
	engineers, err := s.memberChats(ctx, c.AssigneeID)
	if err != nil {
		return nil, err
	}
	var eff casework.Effects
	after := *c
	after.State = casework.StateScheduled
	address := s.address(ctx, c)
	for _, r := range engineers {
		eff.Messages = append(eff.Messages, outbox(c.ID, "appointment", notice{to: r,
			text: T(r.lang, "engineer.booked", "number", c.Number, "at", s.slotLabel(r.lang, at), "address", address), choices: orderChoices(r.lang, &after, true)})...)
	}
	if s.Reminds(at) {
		eff.Timers = append(eff.Timers, casework.Timer{CaseID: c.ID, Kind: casework.TimerAppointmentReminder, At: at.Add(-s.cfg.ReminderBefore), Ref: at.Unix()})
	}
	return s.transition(ctx, c, casework.Transition{Action: casework.ActionSchedule, Actor: who.Actor(), AppointmentAt: &at, ClearSlots: true, Note: "visit booked " + s.when(at)}, eff)
}

// Reminds reports whether a visit booked now at at gets a reminder: it is
// more than ReminderBefore away.
func (s *Service) Reminds(at time.Time) bool { return at.Add(-s.cfg.ReminderBefore).After(s.now()) }

// OtherSlots tells the engineer that none of the offered times suits the
// owner, with the owner's words.
func (s *Service) OtherSlots(ctx context.Context, who Who, number, words string) error {
	if err := casework.ValidText("text", words, 500); err != nil {
		return err
	}
	c, err := s.ownerCase(ctx, who, number)
	if err != nil {
		return err
	}
	engineers, err := s.memberChats(ctx, c.AssigneeID)
	if err != nil {
		return err
	}
	// A time the owner names comes to the engineer as a button that
	// offers it; a past one is the owner's mistake, said to them.
	at, err := s.ReadTime(words)
	if errors.Is(err, when.ErrPast) {
		return err
	}
	owned := err == nil
	note := "other times wanted: " + words
	if owned {
		note += " (read as " + s.when(at) + ")"
	}
	eff := casework.Effects{Messages: outbox(c.ID, "appointment", tell(engineers, "engineer.other_slots", []string{"number", c.Number, "words", words},
		func(l l10n.Lang) []bot.Choice {
			var cs []bot.Choice
			if owned {
				cs = append(cs, bot.Choice{Label: T(l, "btn.offer_owner_time", "time", s.slotLabel(l, at)), Payload: Payload(ActSlots, c.Number, strconv.FormatInt(at.Unix(), 10))})
			}
			return append(cs, bot.Choice{Label: T(l, "btn.slots"), Payload: Payload(ActSlots, c.Number)})
		})...)}
	return s.event(ctx, c, casework.EventMessage, who.Actor(), note, eff)
}

// planRef identifies a plan on its agree button: when it was proposed.
func planRef(p *casework.Plan) string {
	if p == nil || p.ProposedAt == nil {
		return ""
	}
	return strconv.FormatInt(p.ProposedAt.Unix(), 10)
}

// AgreePlan records the owner's agreement to the plan the button showed
// (ref, from planRef; "" for the current one); the engineer may start, and
// the owner is warned ahead of disruptive work. A plan revised since gives
// ErrPlanChanged: the owner must read the new one.
func (s *Service) AgreePlan(ctx context.Context, who Who, number, ref string) (*casework.Case, error) {
	c, err := s.ownerCase(ctx, who, number)
	if err != nil {
		return nil, err
	}
	if ref != "" && ref != planRef(c.Plan) {
		return nil, ErrPlanChanged
	}
	engineers, err := s.memberChats(ctx, c.AssigneeID)
	if err != nil {
		return nil, err
	}
	after := *c
	after.State = casework.StatePlanAgreed
	var eff casework.Effects
	for _, r := range engineers {
		eff.Messages = append(eff.Messages, outbox(c.ID, "plan", notice{to: r, text: T(r.lang, "engineer.agreed", "number", c.Number), choices: orderChoices(r.lang, &after, true)})...)
	}
	if c.Plan != nil && len(c.Plan.Disruptions) > 0 && c.Plan.StartAt != nil {
		at := c.Plan.StartAt.Add(-s.cfg.DisruptionNotice)
		if at.Before(s.now()) {
			at = s.now()
		}
		eff.Timers = append(eff.Timers, casework.Timer{CaseID: c.ID, Kind: casework.TimerDisruptionWarning, At: at, Ref: c.Plan.StartAt.Unix()})
	}
	return s.transition(ctx, c, casework.Transition{Action: casework.ActionAgreePlan, Actor: who.Actor()}, eff)
}

// DisagreePlan sends the plan back to the engineer and the supervisors with
// the owner's reason.
func (s *Service) DisagreePlan(ctx context.Context, who Who, number, reason string) (*casework.Case, error) {
	if err := casework.ValidText("reason", reason, 500); err != nil {
		return nil, err
	}
	c, err := s.ownerCase(ctx, who, number)
	if err != nil {
		return nil, err
	}
	rs, err := s.memberChats(ctx, c.AssigneeID)
	if err != nil {
		return nil, err
	}
	sup, err := s.supervisorChats(ctx)
	if err != nil {
		return nil, err
	}
	after := *c
	after.State = casework.StateInspected
	var eff casework.Effects
	for _, r := range rs {
		eff.Messages = append(eff.Messages, outbox(c.ID, "plan", notice{to: r, text: T(r.lang, "engineer.disagreed", "number", c.Number, "reason", reason), choices: orderChoices(r.lang, &after, true)})...)
	}
	eff.Messages = append(eff.Messages, outbox(c.ID, "escalation", s.staffNotices(ctx, c, sup, "staff.disagreed", values("reason", reason))...)...)
	return s.transition(ctx, c, casework.Transition{Action: casework.ActionDisagreePlan, Actor: who.Actor(), Note: reason}, eff)
}

// OwnerAccept records the owner's acceptance (验收通过); the engineer is told
// and the survey's expiry is set. The caller asks the survey's questions.
// Of an answer (a case that gets no work order: Answer) it records that the
// answer settles the matter and closes the case, with no survey.
func (s *Service) OwnerAccept(ctx context.Context, who Who, number string) (*casework.Case, error) {
	c, err := s.ownerCase(ctx, who, number)
	if err != nil {
		return nil, err
	}
	if !c.Category.GetsWorkOrder() {
		return s.settle(ctx, c, who.Actor(), "the owner says the answer settles the matter", casework.Effects{})
	}
	engineers, err := s.memberChats(ctx, c.AssigneeID)
	if err != nil {
		return nil, err
	}
	// The timer's Ref is the acceptance's time: a later acceptance (after a
	// reopening) has a survey and an expiry of its own.
	now := s.now().UTC().Truncate(time.Second)
	eff := casework.Effects{
		Messages: outbox(c.ID, "acceptance", tell(engineers, "engineer.accepted", []string{"number", c.Number}, nil)...),
		Timers:   []casework.Timer{{CaseID: c.ID, Kind: casework.TimerSurveyExpiry, At: now.Add(s.cfg.SurveyTTL), Ref: now.Unix()}},
	}
	return s.transition(ctx, c, casework.Transition{Action: casework.ActionOwnerAccept, Actor: who.Actor(), At: now}, eff)
}

// NotFixed reopens the case on the owner's word: it counts a repeat repair,
// goes back to the same party, and the third repair of one defect is
// escalated to the supervisors. Of an answer it reopens the case to be
// answered again, with the owner's words as what is still open: no engineer,
// no repeat repair, the supervisors told.
func (s *Service) NotFixed(ctx context.Context, who Who, number, reason string) (*casework.Case, error) {
	if err := casework.ValidText("reason", reason, 500); err != nil {
		return nil, err
	}
	c, err := s.ownerCase(ctx, who, number)
	if err != nil {
		return nil, err
	}
	if !c.Category.GetsWorkOrder() {
		if c.State != casework.StateDone {
			return nil, &casework.TransitionError{From: c.State, Action: casework.ActionOwnerReject}
		}
		return s.unsettled(ctx, c, who.Actor(), reason)
	}
	return s.reopen(ctx, c, casework.ActionOwnerReject, who.Actor(), reason)
}

// reopen performs owner_reject or reopen and sends the case back to its
// party; a repeat that reaches RepeatEscalation is escalated.
func (s *Service) reopen(ctx context.Context, c *casework.Case, action casework.Action, actor casework.Actor, reason string) (*casework.Case, error) {
	var eff casework.Effects
	repair := c.RepairCount + 2 // the repair about to start: the first was 1
	if repair >= s.cfg.RepeatEscalation {
		sup, err := s.supervisorChats(ctx)
		if err != nil {
			return nil, err
		}
		eff.Messages = outbox(c.ID, "escalation", s.staffNotices(ctx, c, sup, "staff.repeat", func(lang l10n.Lang) []string {
			return []string{"n", strconv.Itoa(repair), "reason", reopenReasonText(lang, reason)}
		})...)
	}
	// The repeat repair gets deadlines of its own, from now, in the same
	// change.
	now := s.now()
	d := s.cfg.SLA.Deadlines(c.Urgency, c.Category, now)
	t := casework.Transition{Action: action, Actor: actor, Note: reason, At: now, ClearAppointment: true,
		Deadlines: &casework.Deadlines{RespondBy: c.RespondBy, OnSiteBy: d.OnSiteBy, ResolveBy: d.ResolveBy}}
	after := *c
	after.RespondBy, after.OnSiteBy, after.ResolveBy = nil, d.OnSiteBy, d.ResolveBy // the response was given
	eff.Timers = append(eff.Timers, DeadlineTimers(&after)...)
	escalate := repair >= s.cfg.RepeatEscalation
	if escalate {
		t.EscalatedAt = &now
	}
	c, err := s.transition(ctx, c, t, eff)
	if err != nil {
		return nil, err
	}
	if escalate {
		if err := s.event(ctx, c, casework.EventEscalated, casework.ActorSystem, "repair "+strconv.Itoa(repair)+" of the same defect: "+reason, casework.Effects{}); err != nil {
			return nil, err
		}
	}
	if c.PartyID == 0 {
		return c, nil
	}
	party, err := s.cfg.Store.FindPartyByID(ctx, c.PartyID)
	if err != nil {
		return nil, err
	}
	var member *casework.Member
	if c.AssigneeID != 0 {
		if member, err = s.cfg.Store.FindMemberByID(ctx, c.AssigneeID); err != nil {
			return nil, err
		}
	}
	return s.dispatch(ctx, c, party, member, casework.ActorSystem, false, true)
}

// SurveyQuestions are the survey's dimensions in the order they are asked.
var SurveyQuestions = []string{"speed", "attitude", "quality"}

// SubmitSurvey records the owner's survey and closes the case; the return
// visit is set. A score of 2 or less opens a complaint case for the
// supervisors. A survey answered after it closed — it expired unanswered,
// or staff closed the case meanwhile — is kept as a note on the case's
// timeline (LateSurveyNote), the case stays as it is, and ErrSurveyLate is
// returned with it, which ExplainError says as thanks in those words.
func (s *Service) SubmitSurvey(ctx context.Context, who Who, number string, sv casework.Survey) (*casework.Case, error) {
	sv.AnsweredAt = s.now()
	if err := sv.Validate(); err != nil {
		return nil, err
	}
	c, err := s.ownerCase(ctx, who, number)
	if err != nil {
		return nil, err
	}
	if c.State == casework.StateClosed {
		late, err := s.surveyOpen(ctx, c)
		if err != nil {
			return nil, err
		}
		if late {
			if err := s.event(ctx, c, casework.EventNote, who.Actor(), LateSurveyNote(sv), casework.Effects{}); err != nil {
				return nil, err
			}
			return c, ErrSurveyLate
		}
	}
	c, err = s.transition(ctx, c, casework.Transition{Action: casework.ActionSurvey, Actor: who.Actor(), Survey: &sv,
		Note: fmt.Sprintf("survey: speed %d, attitude %d, quality %d", sv.Speed, sv.Attitude, sv.Quality)}, casework.Effects{})
	if err != nil {
		return nil, err
	}
	if sv.Lowest() <= 2 {
		if c, err = s.lowScore(ctx, c, &sv); err != nil {
			return nil, err
		}
	}
	return s.close(ctx, c, casework.ActorBot, "", casework.Effects{})
}

// LateSurveyNote is the timeline's note of a survey answered after it
// closed: the scores and the owner's words, for staff to read.
func LateSurveyNote(sv casework.Survey) string {
	note := fmt.Sprintf("survey answered after it closed: speed %d, attitude %d, quality %d", sv.Speed, sv.Attitude, sv.Quality)
	if c := strings.TrimSpace(sv.Comment); c != "" {
		note += "; the owner wrote: " + c
	}
	return note
}

// surveyOpen reports whether c, closed, was accepted by its owner and
// closed with no survey of that acceptance: a survey the owner answers now
// comes late.
func (s *Service) surveyOpen(ctx context.Context, c *casework.Case) (bool, error) {
	accepted, err := s.lastTransition(ctx, c, casework.ActionOwnerAccept)
	if err != nil || accepted.IsZero() || !c.Category.GetsWorkOrder() {
		return false, err
	}
	return c.Survey == nil || c.Survey.AnsweredAt.Before(accepted), nil
}

// close archives a case with eff and, when it was repaired, sets its
// return visit.
func (s *Service) close(ctx context.Context, c *casework.Case, actor casework.Actor, note string, eff casework.Effects) (*casework.Case, error) {
	delay, ok := s.cfg.ReturnVisits[c.Subcategory]
	if !ok {
		delay = s.cfg.ReturnVisitDefault
	}
	// The timer's Ref is the closing time: a case reopened and closed again
	// has a return visit of its own.
	now := s.now().UTC().Truncate(time.Second)
	repaired := c.ResolvedAt != nil // not a case rejected
	if delay > 0 && repaired && (c.Category == casework.CategoryEngineeringQuality || c.Category == casework.CategoryFacilitiesEquipment) {
		eff.Timers = append(eff.Timers, casework.Timer{CaseID: c.ID, Kind: casework.TimerReturnVisit, At: now.Add(delay), Ref: now.Unix()})
	}
	return s.transition(ctx, c, casework.Transition{Action: casework.ActionClose, Actor: actor, Note: note, At: now}, eff)
}

// lowScore opens a complaint case (投诉) for the supervisors from a survey
// with a score of 2 or less.
func (s *Service) lowScore(ctx context.Context, c *casework.Case, sv *casework.Survey) (*casework.Case, error) {
	desc := fmt.Sprintf("满意度评价低分 low survey score on %s: speed %d, attitude %d, quality %d", c.Number, sv.Speed, sv.Attitude, sv.Quality)
	if sv.Comment != "" {
		desc += "; " + sv.Comment
	}
	k := &casework.Case{
		ProjectID: c.ProjectID, BuildingID: c.BuildingID, UnitID: c.UnitID, OwnerID: c.OwnerID,
		OwnerName: c.OwnerName, OwnerPhone: c.OwnerPhone, Description: desc,
		Channel: c.Channel, ReceivedAt: s.now(), ReceivedBy: casework.ActorBot,
		Category: casework.CategoryServiceAttitude, Subcategory: casework.SubOther, Urgency: casework.UrgencyMajorComplaint,
		ReporterPlatform: c.ReporterPlatform, ReporterUserID: c.ReporterUserID, ParentID: c.ID,
		IdentityVerified: c.IdentityVerified,
	}
	s.cfg.SLA.SetDeadlines(k)
	if err := s.cfg.Store.CreateCaseWith(ctx, k, casework.Effects{Timers: DeadlineTimers(k)}); err != nil {
		return nil, fmt.Errorf("open complaint: %w", err)
	}
	return s.escalated(ctx, c, "staff.low_score", "low survey score: complaint "+k.Number, func(lang l10n.Lang) []string {
		return []string{"complaint", k.Number, "scores", scoresText(lang, sv)}
	})
}

// ReturnVisitAnswer records the owner's answer to the return visit; "not
// fine" reopens the case and sends it back to its party.
func (s *Service) ReturnVisitAnswer(ctx context.Context, who Who, number string, fine bool) (*casework.Case, error) {
	c, err := s.ownerCase(ctx, who, number)
	if err != nil {
		return nil, err
	}
	if fine {
		if c.State != casework.StateClosed {
			return nil, &casework.TransitionError{From: c.State, Action: casework.ActionReopen}
		}
		return c, s.event(ctx, c, casework.EventReturnVisit, who.Actor(), "owner: still fine", casework.Effects{})
	}
	if err := s.event(ctx, c, casework.EventReturnVisit, who.Actor(), "owner: the problem is back", casework.Effects{}); err != nil {
		return nil, err
	}
	c, err = s.load(ctx, number)
	if err != nil {
		return nil, err
	}
	return s.reopen(ctx, c, casework.ActionReopen, who.Actor(), reasonReturnVisitBad)
}

// errorKey maps an error of the Service to the catalogue text that explains
// it in chat; "" for errors that are not the user's.
func errorKey(err error) string {
	var te *casework.TransitionError
	var ve *casework.ValidationError
	switch {
	case errors.Is(err, ErrSurveyLate):
		return "reply.survey_late"
	case errors.Is(err, ErrWithdrawTooLate):
		return "err.withdraw_late"
	case errors.Is(err, ErrReassigned): // before ErrForbidden, which it is
		return "err.reassigned"
	case errors.Is(err, ErrOrderCancelled):
		return "err.order_cancelled"
	case errors.Is(err, ErrForbidden):
		return "err.forbidden"
	case errors.Is(err, ErrNotBound):
		return "err.not_bound"
	case errors.Is(err, casework.ErrNotFound):
		return "err.not_found"
	case errors.Is(err, ErrSlotGone):
		return "err.slot_gone"
	case errors.Is(err, ErrPlanChanged):
		return "err.plan_changed"
	case errors.As(err, &te), errors.Is(err, casework.ErrConflict):
		return "err.state"
	case errors.As(err, &ve):
		return "err.invalid"
	}
	return ""
}

// ExplainError returns the text telling a chat user why their action was
// refused, in an owner's words, and false when the error is not theirs (a
// failure to report). ExplainErrorTo words it for an engineer.
func ExplainError(lang l10n.Lang, err error) (string, bool) {
	if moved, ok := errors.AsType[*MovedOnError](err); ok {
		return moved.Text(lang), true // what became of the case, in words
	}
	key := errorKey(err)
	if key == "" {
		return "", false
	}
	return T(lang, key), true
}

// ExplainErrorTo is ExplainError for the person who acted: an engineer (a
// chat account bound to a member) is pointed to their work orders, an owner
// to their reports, each in their own words.
func ExplainErrorTo(lang l10n.Lang, err error, engineer bool) (string, bool) {
	if engineer && errorKey(err) == "err.state" {
		return T(lang, "err.state_engineer"), true
	}
	return ExplainError(lang, err)
}
