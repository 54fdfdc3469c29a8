package casework_test

import (
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

// want is the whole state machine written out as the department reads it.
// Every (state, action) pair not listed must be refused. Changing the machine
// means changing this table and docs/state_machine.md together.
var want = map[casework.State]map[casework.Action]casework.State{
	casework.StateRegistered:    {"accept": "accepted", "reject": "rejected", "hold": "on_hold", "cancel": "cancelled"},
	casework.StateAccepted:      {"dispatch": "dispatched", "complete": "done", "answer": "done", "hold": "on_hold", "cancel": "cancelled"},
	casework.StateRejected:      {"accept": "accepted", "close": "closed"},
	casework.StateDispatched:    {"dispatch": "dispatched", "schedule": "scheduled", "inspect": "inspected", "hold": "on_hold", "cancel": "cancelled"},
	casework.StateScheduled:     {"schedule": "scheduled", "dispatch": "dispatched", "inspect": "inspected", "hold": "on_hold", "cancel": "cancelled"},
	casework.StateInspected:     {"propose_plan": "plan_proposed", "complete": "done", "dispatch": "dispatched", "hold": "on_hold", "cancel": "cancelled"},
	casework.StatePlanProposed:  {"agree_plan": "plan_agreed", "disagree_plan": "inspected", "propose_plan": "plan_proposed", "hold": "on_hold", "cancel": "cancelled"},
	casework.StatePlanAgreed:    {"start_work": "in_progress", "hold": "on_hold", "cancel": "cancelled"},
	casework.StateInProgress:    {"complete": "done", "hold": "on_hold"},
	casework.StateDone:          {"owner_accept": "owner_accepted", "owner_reject": "reopened"},
	casework.StateOwnerAccepted: {"survey": "surveyed", "close": "closed"},
	casework.StateReopened:      {"dispatch": "dispatched", "answer": "done", "hold": "on_hold", "cancel": "cancelled"},
	casework.StateSurveyed:      {"close": "closed"},
	casework.StateClosed:        {"reopen": "reopened"},
	casework.StateOnHold:        {"resume": "(held from)", "cancel": "cancelled"},
	casework.StateCancelled:     {},
}

func TestNextEveryPair(t *testing.T) {
	t.Parallel()
	require.Len(t, want, len(casework.States), "the table must list every state")
	for _, s := range casework.States {
		for _, a := range casework.Actions {
			t.Run(fmt.Sprintf("%s/%s", s, a), func(t *testing.T) {
				to, ok := want[s][a]
				got, err := casework.Next(s, a, casework.StateScheduled)
				if !ok {
					require.Error(t, err)
					assert.True(t, errors.Is(err, casework.ErrInvalidTransition), "error %v must match ErrInvalidTransition", err)
					var te *casework.TransitionError
					require.ErrorAs(t, err, &te)
					assert.Equal(t, s, te.From)
					assert.Equal(t, a, te.Action)
					return
				}
				require.NoError(t, err)
				if to == "(held from)" {
					to = casework.StateScheduled
				}
				assert.Equal(t, to, got)
			})
		}
	}
}

func TestAllowedMatchesTable(t *testing.T) {
	t.Parallel()
	for _, s := range casework.States {
		allowed := casework.Allowed(s)
		assert.Len(t, allowed, len(want[s]), "state %s", s)
		for _, a := range allowed {
			assert.Contains(t, want[s], a, "state %s allows %s", s, a)
		}
	}
}

func TestResumeNeedsAHeldFromState(t *testing.T) {
	t.Parallel()
	_, err := casework.Next(casework.StateOnHold, casework.ActionResume, "")
	assert.ErrorIs(t, err, casework.ErrInvalidTransition)
	_, err = casework.Next(casework.StateOnHold, casework.ActionResume, casework.StateOnHold)
	assert.ErrorIs(t, err, casework.ErrInvalidTransition)
}

func TestApplyRecordsServiceMoments(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	c := &casework.Case{State: casework.StateRegistered, Category: casework.CategoryEngineeringQuality}
	step := func(a casework.Action, h int) {
		t.Helper()
		from := c.State
		got, err := c.Apply(a, t0.Add(time.Duration(h)*time.Hour))
		require.NoError(t, err, "%s from %s", a, from)
		assert.Equal(t, from, got)
	}
	step(casework.ActionAccept, 1)
	assert.Nil(t, c.RespondedAt, "the response is who acts, not what: NoteContact")
	step(casework.ActionDispatch, 2)
	step(casework.ActionHold, 3)
	assert.Equal(t, casework.StateOnHold, c.State)
	assert.Equal(t, casework.StateDispatched, c.HeldFrom)
	step(casework.ActionResume, 4)
	assert.Equal(t, casework.StateDispatched, c.State)
	assert.Empty(t, c.HeldFrom)
	step(casework.ActionSchedule, 5)
	step(casework.ActionInspect, 30)
	require.NotNil(t, c.OnSiteAt)
	assert.Equal(t, t0.Add(30*time.Hour), *c.OnSiteAt)
	step(casework.ActionProposePlan, 31)
	step(casework.ActionAgreePlan, 32)
	step(casework.ActionStartWork, 33)
	step(casework.ActionComplete, 40)
	require.NotNil(t, c.ResolvedAt)
	step(casework.ActionOwnerReject, 41)
	assert.Equal(t, casework.StateReopened, c.State)
	assert.Equal(t, 1, c.RepairCount)
	assert.Nil(t, c.ResolvedAt, "a reopened case is no longer resolved")
	step(casework.ActionDispatch, 42)
	step(casework.ActionInspect, 43)
	assert.Equal(t, t0.Add(30*time.Hour), *c.OnSiteAt, "the first visit counts for the SLA")
	step(casework.ActionComplete, 44)
	step(casework.ActionOwnerAccept, 45)
	step(casework.ActionSurvey, 46)
	step(casework.ActionClose, 47)
	require.NotNil(t, c.ClosedAt)
	assert.False(t, c.Open())
	step(casework.ActionReopen, 400)
	assert.Equal(t, 2, c.RepairCount)
	assert.Nil(t, c.ClosedAt)
	assert.True(t, c.Open())
}

// TestApplyAnswer: a case that gets no work order is answered (答复) from
// accepted and, when the owner says the answer does not settle it, answered
// again from reopened; reopening an answer counts no repeat repair.
func TestApplyAnswer(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	c := &casework.Case{State: casework.StateRegistered, Category: casework.CategoryPolicyConsultation}
	for i, a := range []casework.Action{casework.ActionAccept, casework.ActionAnswer, casework.ActionOwnerReject} {
		_, err := c.Apply(a, t0.Add(time.Duration(i)*time.Hour))
		require.NoError(t, err, a)
	}
	assert.Equal(t, casework.StateReopened, c.State)
	assert.Zero(t, c.RepairCount, "an answer is no repair")
	assert.Nil(t, c.ResolvedAt)
	_, err := c.Apply(casework.ActionAnswer, t0.Add(5*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, casework.StateDone, c.State)
	require.NotNil(t, c.ResolvedAt, "the answer resolves the case")
	assert.Equal(t, t0.Add(5*time.Hour), *c.ResolvedAt)
	_, err = c.Apply(casework.ActionAnswer, t0.Add(6*time.Hour))
	require.ErrorIs(t, err, casework.ErrInvalidTransition, "an answer waits for the owner")
}

func TestApplyRefusedChangesNothing(t *testing.T) {
	t.Parallel()
	c := &casework.Case{State: casework.StateDone}
	before := *c
	_, err := c.Apply(casework.ActionDispatch, time.Now())
	require.ErrorIs(t, err, casework.ErrInvalidTransition)
	assert.Equal(t, before, *c)
}

func TestTransitionApplyValidates(t *testing.T) {
	t.Parallel()
	c := &casework.Case{State: casework.StateRegistered}
	_, err := casework.Transition{Action: casework.ActionAccept}.Apply(c)
	var ve *casework.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "actor", ve.Field)
	_, err = casework.Transition{Action: "fly", Actor: casework.ActorBot}.Apply(c)
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "action", ve.Field)

	reason := "在保修期内"
	party := int64(7)
	from, err := casework.Transition{Action: casework.ActionAccept, Actor: casework.Staff("1"), DecisionReason: &reason}.Apply(c)
	require.NoError(t, err)
	assert.Equal(t, casework.StateRegistered, from)
	assert.Equal(t, reason, c.DecisionReason)
	_, err = casework.Transition{Action: casework.ActionDispatch, Actor: casework.Staff("1"), PartyID: &party}.Apply(c)
	require.NoError(t, err)
	assert.Equal(t, party, c.PartyID)
}

// TestStateMachineDoc keeps docs/state_machine.md honest: the diagram draws
// every transition of the table except hold, resume and cancel, which the page
// describes in words, and the table row of every state lists all its actions.
func TestStateMachineDoc(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/state_machine.md")
	require.NoError(t, err)
	text := string(doc)
	for s, m := range want {
		for a, to := range m {
			assert.Contains(t, text, fmt.Sprintf("%s → %s", a, to), "table row of %s", s)
			if a == "hold" || a == "resume" || a == "cancel" {
				continue
			}
			assert.Contains(t, text, fmt.Sprintf("    %s --> %s: %s\n", s, to, a), "diagram")
		}
	}
}
