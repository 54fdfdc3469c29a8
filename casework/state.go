package casework

import (
	"slices"
	"time"
)

// State is a case's place in the department's workflow (domain.md §1–6).
// docs/state_machine.md draws the transitions.
type State string

// The states of a case.
const (
	// StateRegistered: the registration form is complete and the case has a
	// number; it awaits the first assessment (初步研判).
	StateRegistered State = "registered"
	// StateAccepted: the department accepted the case (受理) and will act.
	StateAccepted State = "accepted"
	// StateRejected: not accepted — out of warranty, owner-caused, not the
	// developer's responsibility, or a duplicate — and explained to the owner.
	StateRejected State = "rejected"
	// StateDispatched: a work order went to the responsible party (派工).
	StateDispatched State = "dispatched"
	// StateScheduled: an on-site visit is booked with the owner (预约).
	StateScheduled State = "scheduled"
	// StateInspected: the engineer has been on site and found the cause (现场勘查).
	StateInspected State = "inspected"
	// StatePlanProposed: a repair plan (维修方案) awaits the owner's agreement.
	StatePlanProposed State = "plan_proposed"
	// StatePlanAgreed: the owner agreed to the plan; work may start.
	StatePlanAgreed State = "plan_agreed"
	// StateInProgress: the repair is under way.
	StateInProgress State = "in_progress"
	// StateDone: the party reports the work complete, or staff answered a
	// case that gets no work order (答复); the owner is to accept it or say
	// it is settled.
	StateDone State = "done"
	// StateOwnerAccepted: the owner accepted the repair (业主验收), or said
	// the answer settles the matter.
	StateOwnerAccepted State = "owner_accepted"
	// StateReopened: the owner rejected the repair, or a return visit found the
	// problem back; it goes to dispatch again. An answer the owner said does
	// not settle the matter is answered again instead.
	StateReopened State = "reopened"
	// StateSurveyed: the owner answered the satisfaction survey (满意度回访).
	StateSurveyed State = "surveyed"
	// StateClosed: archived (归档). A return visit may still reopen it.
	StateClosed State = "closed"
	// StateOnHold: paused (waiting for parts, the owner away…); resumes to the
	// state it was held from.
	StateOnHold State = "on_hold"
	// StateCancelled: withdrawn by the owner. Final.
	StateCancelled State = "cancelled"
)

// States lists every State in workflow order.
var States = []State{
	StateRegistered, StateAccepted, StateRejected, StateDispatched, StateScheduled,
	StateInspected, StatePlanProposed, StatePlanAgreed, StateInProgress, StateDone,
	StateOwnerAccepted, StateReopened, StateSurveyed, StateClosed, StateOnHold, StateCancelled,
}

// Valid reports whether s is a known State.
func (s State) Valid() bool { return slices.Contains(States, s) }

// Terminal reports whether no further work is expected: closed or cancelled.
// A closed case can still be reopened by a return visit.
func (s State) Terminal() bool { return s == StateClosed || s == StateCancelled }

// Action is something that happens to a case and may change its state.
type Action string

// The actions of the workflow.
const (
	ActionAccept       Action = "accept"        // 受理
	ActionReject       Action = "reject"        // 不予受理, with an explanation
	ActionDispatch     Action = "dispatch"      // 派工 (or reassign)
	ActionSchedule     Action = "schedule"      // book or rebook the visit
	ActionInspect      Action = "inspect"       // on site, cause found
	ActionProposePlan  Action = "propose_plan"  // plan sent to the owner
	ActionAgreePlan    Action = "agree_plan"    // owner agrees
	ActionDisagreePlan Action = "disagree_plan" // owner disagrees; back to the engineer and staff
	ActionStartWork    Action = "start_work"
	ActionComplete     Action = "complete"     // the work is done
	ActionAnswer       Action = "answer"       // 答复: a consultation, complaint, suggestion or praise answered in writing
	ActionOwnerAccept  Action = "owner_accept" // 业主验收通过
	ActionOwnerReject  Action = "owner_reject" // not fixed: reopens
	ActionSurvey       Action = "survey"       // satisfaction survey answered
	ActionClose        Action = "close"        // archive
	ActionReopen       Action = "reopen"       // a return visit found the problem back
	ActionHold         Action = "hold"
	ActionResume       Action = "resume"
	ActionCancel       Action = "cancel" // withdrawn by the owner
)

// Actions lists every Action.
var Actions = []Action{
	ActionAccept, ActionReject, ActionDispatch, ActionSchedule, ActionInspect,
	ActionProposePlan, ActionAgreePlan, ActionDisagreePlan, ActionStartWork, ActionComplete, ActionAnswer,
	ActionOwnerAccept, ActionOwnerReject, ActionSurvey, ActionClose, ActionReopen,
	ActionHold, ActionResume, ActionCancel,
}

// Valid reports whether a is a known Action.
func (a Action) Valid() bool { return slices.Contains(Actions, a) }

// resumeTarget marks the on-hold → previous-state transition in the table.
const resumeTarget State = "(held from)"

// transitions is the whole state machine: for each state, the actions allowed
// in it and the state each leads to. Every other (state, action) pair is an
// invalid transition.
var transitions = map[State]map[Action]State{
	StateRegistered: {
		ActionAccept: StateAccepted, ActionReject: StateRejected,
		ActionHold: StateOnHold, ActionCancel: StateCancelled,
	},
	StateAccepted: {
		ActionDispatch: StateDispatched, ActionComplete: StateDone, ActionAnswer: StateDone,
		ActionHold: StateOnHold, ActionCancel: StateCancelled,
	},
	StateRejected: {
		ActionAccept: StateAccepted, ActionClose: StateClosed,
	},
	StateDispatched: {
		ActionDispatch: StateDispatched, ActionSchedule: StateScheduled, ActionInspect: StateInspected,
		ActionHold: StateOnHold, ActionCancel: StateCancelled,
	},
	StateScheduled: {
		ActionSchedule: StateScheduled, ActionDispatch: StateDispatched, ActionInspect: StateInspected,
		ActionHold: StateOnHold, ActionCancel: StateCancelled,
	},
	StateInspected: {
		ActionProposePlan: StatePlanProposed, ActionComplete: StateDone, ActionDispatch: StateDispatched,
		ActionHold: StateOnHold, ActionCancel: StateCancelled,
	},
	StatePlanProposed: {
		ActionAgreePlan: StatePlanAgreed, ActionDisagreePlan: StateInspected, ActionProposePlan: StatePlanProposed,
		ActionHold: StateOnHold, ActionCancel: StateCancelled,
	},
	StatePlanAgreed: {
		ActionStartWork: StateInProgress, ActionHold: StateOnHold, ActionCancel: StateCancelled,
	},
	StateInProgress: {
		ActionComplete: StateDone, ActionHold: StateOnHold,
	},
	StateDone: {
		ActionOwnerAccept: StateOwnerAccepted, ActionOwnerReject: StateReopened,
	},
	StateOwnerAccepted: {
		ActionSurvey: StateSurveyed, ActionClose: StateClosed,
	},
	StateReopened: {
		ActionDispatch: StateDispatched, ActionAnswer: StateDone, ActionHold: StateOnHold, ActionCancel: StateCancelled,
	},
	StateSurveyed: {
		ActionClose: StateClosed,
	},
	StateClosed: {
		ActionReopen: StateReopened,
	},
	StateOnHold: {
		ActionResume: resumeTarget, ActionCancel: StateCancelled,
	},
	StateCancelled: {},
}

// Next returns the state that action leads to from state from. heldFrom is
// the state an on-hold case resumes to. It returns a *TransitionError when the
// action is not allowed.
func Next(from State, action Action, heldFrom State) (State, error) {
	to, ok := transitions[from][action]
	if !ok {
		return "", &TransitionError{From: from, Action: action}
	}
	if to == resumeTarget {
		if !heldFrom.Valid() || heldFrom == StateOnHold {
			return "", &TransitionError{From: from, Action: action}
		}
		return heldFrom, nil
	}
	return to, nil
}

// Allowed returns the actions allowed in state s, in the order of Actions.
func Allowed(s State) []Action {
	var out []Action
	for _, a := range Actions {
		if _, ok := transitions[s][a]; ok {
			out = append(out, a)
		}
	}
	return out
}

// Apply performs action on c at time at: it checks the transition, moves the
// state, and records the service-level moments the action meets (the first
// visit on site, the resolution, the closure). The response is not one of
// them: it is who acts, not what, that makes the first human contact
// (NoteContact). Reopening a repair counts a repeat repair (RepairCount);
// reopening an answer does not. Apply changes nothing and returns a
// *TransitionError when the action is not allowed. Stores call Apply inside the transaction that
// writes the case and its event.
func (c *Case) Apply(action Action, at time.Time) (from State, err error) {
	to, err := Next(c.State, action, c.HeldFrom)
	if err != nil {
		return c.State, err
	}
	from = c.State
	switch action {
	case ActionHold:
		c.HeldFrom = from
	case ActionResume:
		c.HeldFrom = ""
	}
	if c.OnSiteAt == nil && to == StateInspected {
		c.OnSiteAt = timePtr(at)
	}
	switch to {
	case StateDone:
		c.ResolvedAt = timePtr(at)
	case StateReopened:
		c.ResolvedAt = nil
		c.ClosedAt = nil
		if c.Category.GetsWorkOrder() {
			// An answer the owner found wanting is answered again: no
			// repair was made, none is repeated.
			c.RepairCount++
		}
	case StateClosed:
		c.ClosedAt = timePtr(at)
	case StateCancelled:
		c.ClosedAt = timePtr(at)
	}
	c.State = to
	return from, nil
}

func timePtr(t time.Time) *time.Time { return &t }
