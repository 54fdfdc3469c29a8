package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/l10n"
	"github.com/aftersales/aftersales/lifecycle"
	"github.com/aftersales/aftersales/staff"
)

// actionOrder is the order of the case page's actions.
var actionOrder = []string{"triage", "accept", "reject", "dispatch", "answer", "hold", "resume", "cancel", "close", "message", "task", "note"}

// actionPanel is the case page's actions: those the user may take on the
// case as it is, with what their forms offer.
type actionPanel struct {
	// Version is the case's, which every form sends back.
	Version int
	Actions []string
	// Failed is the action refused, whose form is shown open with Form's
	// values and Error; Done is what the last action did.
	Failed, Error, Done string
	Form                url.Values
	// Reassign is true when the dispatch form moves a work order.
	Reassign         bool
	Assignees        []assigneeGroup
	Reasons          []lifecycle.RejectReason
	Categories       []casework.Category
	Subcategories    map[casework.Category][]casework.Subcategory
	Urgencies        []casework.Urgency
	Responsibilities []casework.Responsibility
	Canned           []string
}

// Value is the form's value of name when the action failed, else def: what
// the field shows.
func (p actionPanel) Value(action, name, def string) string {
	if p.Failed == action && p.Form != nil {
		return p.Form.Get(name)
	}
	return def
}

// assigneeGroup is a party and its members, for the dispatch form.
type assigneeGroup struct {
	ID      int64
	Name    string
	Members []*casework.Member
}

// actionPanel gathers the actions u may take on c.
func (s *Server) actionPanel(ctx context.Context, lang l10n.Lang, u *staff.User, c *casework.Case, cv caseView) (actionPanel, error) {
	p := actionPanel{Version: c.Version, Failed: cv.failed, Form: cv.form,
		Reasons: lifecycle.RejectReasons, Categories: casework.Categories, Subcategories: casework.Subcategories,
		Urgencies: casework.Urgencies, Responsibilities: casework.Responsibilities}
	if cv.err != nil {
		p.Error = actionError(lang, cv.err)
	}
	if _, ok := caseActions[cv.done]; ok {
		p.Done = uiText.Render(lang, "act.done."+cv.done)
	}
	for _, name := range actionOrder {
		if a, ok := caseActions[name]; ok && a.may(u, c) {
			p.Actions = append(p.Actions, name)
			if name == "dispatch" || name == "accept" {
				p.Reassign = p.Reassign || (name == "dispatch" && c.AssigneeID != 0)
				if p.Assignees == nil {
					groups, err := s.assigneeGroups(ctx)
					if err != nil {
						return p, err
					}
					p.Assignees = groups
				}
			}
		}
	}
	p.Canned = cannedAnswers(lang, c.Category)
	return p, nil
}

// assigneeGroups lists the parties with their members.
func (s *Server) assigneeGroups(ctx context.Context) ([]assigneeGroup, error) {
	parties, err := s.cfg.Store.ListParties(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]assigneeGroup, 0, len(parties))
	for _, party := range parties {
		members, err := s.cfg.Store.ListMembers(ctx, party.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, assigneeGroup{ID: party.ID, Name: party.Name, Members: members})
	}
	return out, nil
}

// actionError says, in lang, why an action was refused.
func actionError(lang l10n.Lang, err error) string {
	var ve *casework.ValidationError
	var te *casework.TransitionError
	switch {
	case errors.Is(err, casework.ErrConflict):
		return uiText.Render(lang, "act.error.conflict")
	case errors.As(err, &te):
		return uiText.Render(lang, "act.error.state", "state", l10n.Terms.Render(lang, "state."+string(te.From)))
	case errors.As(err, &ve):
		field := ve.Field
		if label := uiText.Render(lang, "field."+ve.Field); label != "field."+ve.Field {
			field = label
		}
		return uiText.Render(lang, "act.error.invalid", "field", field, "reason", ve.Reason)
	case errors.Is(err, casework.ErrNotFound):
		return uiText.Render(lang, "act.error.not_found")
	}
	return uiText.Render(lang, "error.internal")
}

// actionStatus is the status of the case page after an action: 200 when
// none failed, 400 for a bad value, 409 when the case changed or its state
// does not allow the action.
func actionStatus(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, casework.ErrConflict), errors.Is(err, casework.ErrInvalidTransition):
		return http.StatusConflict
	case errors.Is(err, casework.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, casework.ErrInvalid):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// refusal reports whether err is the refusal of an action the person can
// set right (a value, a changed case, a state), shown beside the form;
// anything else is the service's failure.
func refusal(err error) bool {
	return errors.Is(err, casework.ErrConflict) || errors.Is(err, casework.ErrInvalidTransition) ||
		errors.Is(err, casework.ErrInvalid) || errors.Is(err, casework.ErrNotFound)
}
