package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/l10n"
)

// Fire runs a durable timer (jobs.Handler). Each checks the case again and
// does nothing when its reason passed: the deadline was met, the order was
// taken, the visit moved, the survey was answered, the case reopened.
func (s *Service) Fire(ctx context.Context, t casework.Timer) error {
	c, err := s.cfg.Store.FindCaseByID(ctx, t.CaseID)
	if errors.Is(err, casework.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("timer %s: %w", t.Kind, err)
	}
	log := s.cfg.Logger.With("case_id", c.ID, "case_number", c.Number, "timer", t.Kind)
	switch t.Kind {
	case casework.TimerRespondDeadline, casework.TimerOnSiteDeadline, casework.TimerResolveDeadline:
		return s.deadline(ctx, c, t)
	case casework.TimerAcceptEscalation:
		if c.State != casework.StateDispatched {
			return nil
		}
		last, taken, err := s.lastDispatch(ctx, c)
		if err != nil || taken {
			return err
		}
		// A later dispatch (a reassignment) has a timer of its own. (The
		// stores keep microseconds.)
		if last.After(t.At.Add(-s.cfg.AcceptWithin).Add(time.Millisecond)) {
			return nil
		}
		log.Warn("urgent work order not taken in time")
		// The duty supervisors' phones ring first (urgent.go), then the
		// chat escalation.
		if err := s.callDutySupervisors(ctx, c, t); err != nil {
			return err
		}
		return s.escalate(ctx, c, "staff.not_taken", "urgent work order not taken within "+s.cfg.AcceptWithin.String(), nil)
	case casework.TimerAppointmentReminder:
		if c.State != casework.StateScheduled || c.AppointmentAt == nil || c.AppointmentAt.Unix() != t.Ref {
			return nil
		}
		owners, err := s.ownerChats(ctx, c)
		if err != nil {
			return err
		}
		engineers, err := s.memberChats(ctx, c.AssigneeID)
		if err != nil {
			return err
		}
		var ns []notice
		for _, r := range owners {
			ns = append(ns, notice{to: r, text: T(r.lang, "owner.reminder", "number", c.Number, "at", s.slotLabel(r.lang, *c.AppointmentAt))})
		}
		address := s.address(ctx, c)
		for _, r := range engineers {
			ns = append(ns, notice{to: r, text: T(r.lang, "engineer.reminder", "number", c.Number, "at", s.slotLabel(r.lang, *c.AppointmentAt), "address", address),
				choices: orderChoices(r.lang, c, true)})
		}
		return s.cfg.Store.Enqueue(ctx, casework.Effects{Messages: outbox(c.ID, "reminder", ns...)})
	case casework.TimerDisruptionWarning:
		if c.Plan == nil || c.Plan.StartAt == nil || c.Plan.StartAt.Unix() != t.Ref || (c.State != casework.StatePlanAgreed && c.State != casework.StateInProgress) {
			return nil
		}
		owners, err := s.ownerChats(ctx, c)
		if err != nil {
			return err
		}
		var ns []notice
		for _, r := range owners {
			ns = append(ns, notice{to: r, text: T(r.lang, "owner.disruption_ahead", "number", c.Number, "at", s.slotLabel(r.lang, *c.Plan.StartAt)) + "\n" + s.disruptionText(r.lang, c.Plan)})
		}
		return s.cfg.Store.Enqueue(ctx, casework.Effects{Messages: outbox(c.ID, "disruption", ns...)})
	case casework.TimerSurveyExpiry:
		if c.State != casework.StateOwnerAccepted {
			return nil
		}
		if at, err := s.lastTransition(ctx, c, casework.ActionOwnerAccept); err != nil || at.Unix() != t.Ref {
			return err // an earlier acceptance's timer
		}
		owners, err := s.ownerChats(ctx, c)
		if err != nil {
			return err
		}
		// The owner may still be in the survey: they are told it closed,
		// and a rating they give later is kept as a note (SubmitSurvey).
		log.Info("survey expired unanswered")
		var ns []notice
		for _, r := range owners {
			ns = append(ns, notice{to: r, text: T(r.lang, "owner.survey_closed", "number", c.Number, "wait", waitText(r.lang, s.cfg.SurveyTTL))})
		}
		eff := casework.Effects{Messages: outbox(c.ID, "owner_update", ns...)}
		_, err = s.close(ctx, c, casework.ActorSystem, "survey expired unanswered", eff)
		return err
	case casework.TimerAnswerExpiry:
		if c.State != casework.StateDone || c.Category.GetsWorkOrder() {
			return nil // settled, reopened or closed by the owner's word
		}
		if at, err := s.lastTransition(ctx, c, casework.ActionAnswer); err != nil || at.Unix() != t.Ref {
			return err // an earlier answer's timer
		}
		owners, err := s.ownerChats(ctx, c)
		if err != nil {
			return err
		}
		log.Info("answer unanswered by the owner: taken as settled")
		eff := casework.Effects{Messages: outbox(c.ID, "owner_update", s.tellOwner(owners, c, "owner.answer_expired")...)}
		_, err = s.settle(ctx, c, casework.ActorSystem, "no word from the owner within "+spanText(s.cfg.AnswerWait)+" of the answer: taken as settled", eff)
		return err
	case casework.TimerResumeDue:
		if c.State != casework.StateOnHold {
			return nil // resumed or withdrawn
		}
		e, err := s.lastTransitionEvent(ctx, c, casework.ActionHold)
		if err != nil || e == nil || e.At.Unix() != t.Ref {
			return err // an earlier hold's timer
		}
		log.Info("still on hold on the date it was to resume")
		return s.escalate(ctx, c, "staff.hold_due", "still on hold on "+s.day(t.At)+", the date it was to resume", values("until", s.day(t.At), "reason", holdReason(e.Note)))
	case casework.TimerReturnVisit:
		if c.State != casework.StateClosed || c.ClosedAt == nil || c.ClosedAt.Unix() != t.Ref {
			return nil // reopened, or an earlier closing's timer
		}
		owners, err := s.ownerChats(ctx, c)
		if err != nil {
			return err
		}
		eff := casework.Effects{Messages: outbox(c.ID, "return_visit", tell(owners, "owner.return_visit."+returnVisitKey(c), []string{"number", c.Number, "what", ""},
			func(l l10n.Lang) []bot.Choice {
				return []bot.Choice{
					{Label: T(l, "btn.visit_ok"), Payload: Payload(ActVisitOK, c.Number)},
					{Label: T(l, "btn.visit_bad"), Payload: Payload(ActVisitBad, c.Number)},
				}
			})...)}
		note := "return visit asked"
		if len(owners) == 0 {
			note = "return visit due: the owner has no chat account; call them"
		}
		return s.event(ctx, c, casework.EventReturnVisit, casework.ActorBot, note, eff)
	case casework.TimerTaskDue:
		tasks, err := s.cfg.Store.ListTasks(ctx, c.ID)
		if err != nil {
			return err
		}
		// Tasks due at the same time share a timer: one notice names them all.
		var due []string
		for _, task := range tasks {
			if task.DoneAt == nil && task.DueAt.Unix() == t.Ref {
				due = append(due, task.Assignee+": "+clip(task.Description, 80))
			}
		}
		if len(due) == 0 {
			return nil
		}
		return s.escalate(ctx, c, "staff.task_due", "coordination task due: "+strings.Join(due, "; "), values("tasks", strings.Join(due, "\n")))
	}
	log.Warn("unknown timer ignored")
	return nil
}

func returnVisitKey(c *casework.Case) string {
	if c.Subcategory == casework.SubLeak || c.Subcategory == casework.SubPlumbing {
		return "leak"
	}
	return "other"
}

// deadline escalates a case that missed a service-level deadline.
func (s *Service) deadline(ctx context.Context, c *casework.Case, t casework.Timer) error {
	if !c.Open() || c.State == casework.StateOnHold {
		return nil
	}
	var due, met *time.Time
	switch t.Kind {
	case casework.TimerRespondDeadline:
		due, met = c.RespondBy, c.RespondedAt
	case casework.TimerOnSiteDeadline:
		due, met = c.OnSiteBy, c.OnSiteAt
	case casework.TimerResolveDeadline:
		due, met = c.ResolveBy, c.ResolvedAt
	}
	// A deadline moved later (the urgency changed) has a timer of its own.
	if met != nil || due == nil || due.After(s.now()) {
		return nil
	}
	key := "staff.overdue." + string(t.Kind)
	if t.Kind == casework.TimerResolveDeadline && !c.Category.GetsWorkOrder() {
		key = "staff.overdue.answer" // a question or complaint is resolved by an answer
	}
	return s.escalate(ctx, c, key, string(t.Kind)+" missed", nil)
}

// reasonReturnVisitBad is the reason a case reopens when the owner says at
// the return visit that the problem is back, as the timeline records it;
// the supervisors read it in their language (reopenReasonText).
const reasonReturnVisitBad = "return visit: the problem is back"

// reopenReasonText is why a case reopened, for the supervisors in lang: the
// owner's own words, or the return visit's answer in words.
func reopenReasonText(lang l10n.Lang, reason string) string {
	if reason == reasonReturnVisitBad {
		return T(lang, "staff.reason.return_visit_bad")
	}
	return reason
}

// scoresText is a survey's scores and comment in lang, for the supervisors.
func scoresText(lang l10n.Lang, sv *casework.Survey) string {
	text := T(lang, "staff.scores", "speed", strconv.Itoa(sv.Speed), "attitude", strconv.Itoa(sv.Attitude), "quality", strconv.Itoa(sv.Quality))
	if c := strings.TrimSpace(sv.Comment); c != "" {
		text += "\n" + T(lang, "staff.scores_comment", "comment", c)
	}
	return text
}

// lastTransition returns when action was last performed on c; zero if never.
func (s *Service) lastTransition(ctx context.Context, c *casework.Case, action casework.Action) (time.Time, error) {
	e, err := s.lastTransitionEvent(ctx, c, action)
	if err != nil || e == nil {
		return time.Time{}, err
	}
	return e.At, nil
}

// lastTransitionEvent returns the timeline entry of the last time action
// was performed on c; nil if never.
func (s *Service) lastTransitionEvent(ctx context.Context, c *casework.Case, action casework.Action) (*casework.Event, error) {
	evs, err := s.cfg.Store.ListCaseEvents(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Kind == casework.EventTransition && evs[i].Action == action {
			return evs[i], nil
		}
	}
	return nil, nil
}

// escalate tells the supervisors about c with the staff notice key
// (staffNotices; vals, when not nil, gives more of its values in each
// recipient's language) and records it.
func (s *Service) escalate(ctx context.Context, c *casework.Case, key, note string, vals func(l10n.Lang) []string) error {
	_, err := s.escalated(ctx, c, key, note, vals)
	return err
}

// escalated escalates c and returns it as it now is.
func (s *Service) escalated(ctx context.Context, c *casework.Case, key, note string, vals func(l10n.Lang) []string) (*casework.Case, error) {
	sup, err := s.supervisorChats(ctx)
	if err != nil {
		return nil, err
	}
	eff := casework.Effects{Messages: outbox(c.ID, "escalation", s.staffNotices(ctx, c, sup, key, vals)...)}
	now := s.now()
	nc, err := s.cfg.Store.UpdateCaseWith(ctx, c.ID, c.Version, casework.CaseUpdate{Actor: casework.ActorSystem, EscalatedAt: &now, Note: note}, casework.Effects{})
	if err != nil {
		return nil, fmt.Errorf("escalate: %w", err)
	}
	if err := s.event(ctx, nc, casework.EventEscalated, casework.ActorSystem, note, eff); err != nil {
		return nil, err
	}
	return nc, nil
}

// values gives the same values of a text's placeholders in every language:
// names, numbers, people's own words.
func values(kv ...string) func(l10n.Lang) []string {
	return func(l10n.Lang) []string { return kv }
}

// staffNotices composes the notice key about c for each of rs —
// supervisors, staff — in the recipient's language, in words and with no
// code in them. Besides what vals gives (nil: nothing; its values win), the
// text may name the case's number ({number}), what it is ({kind}: 报修,
// 咨询…), a summary of it ({summary}: where, what, how urgent, the owner's
// words), the engineer who has it ({assignee}) and its resolve deadline
// ({due}). Out of the department's hours only those of rs on duty for c's
// project are told (onDutyChats). Each notice carries the buttons of what a
// supervisor may do about c from the chat (supervisorButtons).
func (s *Service) staffNotices(ctx context.Context, c *casework.Case, rs []recipient, key string, vals func(l10n.Lang) []string) []notice {
	rs = s.onDutyChats(ctx, c, rs)
	if len(rs) == 0 {
		return nil
	}
	address, assignee := s.address(ctx, c), s.assigneeName(ctx, c)
	buttons := s.supervisorButtons(ctx, c, key, vals)
	out := make([]notice, 0, len(rs))
	for _, r := range rs {
		var kv []string
		if vals != nil {
			kv = vals(r.lang) // first: the first value given for a name is the one used
		}
		who := assignee
		if who == "" {
			who = T(r.lang, "staff.unassigned")
		}
		kv = append(kv, "number", c.Number, "kind", kindText(r.lang, c), "summary", summary(r.lang, c, address),
			"assignee", who, "due", s.whenPtr(c.ResolveBy))
		out = append(out, notice{to: r, text: T(r.lang, key, kv...), choices: buttons.choices(r.lang)})
	}
	return out
}

// assigneeName names the member who has c's work order; "" when none does.
func (s *Service) assigneeName(ctx context.Context, c *casework.Case) string {
	if c.AssigneeID == 0 {
		return ""
	}
	m, err := s.cfg.Store.FindMemberByID(ctx, c.AssigneeID)
	if err != nil {
		return ""
	}
	return m.Name
}
