package console

import (
	"net/http"
	"net/url"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/staff"
)

// tile is one count of the dashboard, linking to its list.
type tile struct {
	Key   string // the label's catalogue key
	Count int
	Link  string
	Alert bool // shown in red when not zero
}

// openStates are the states in which a case waits on someone.
func openStates() []casework.State {
	var out []casework.State
	for _, s := range casework.States {
		if !s.Terminal() {
			out = append(out, s)
		}
	}
	return out
}

// dashboard serves GET /console/: what needs a person now, each a count
// that links to the list of those cases, within what the user may see.
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request, u *staff.User) error {
	now := s.cfg.NowFunc()
	tiles := []struct {
		key   string
		query url.Values
		f     casework.CaseFilter
		alert bool
	}{
		{"dash.triage", url.Values{"state": {string(casework.StateRegistered)}}, casework.CaseFilter{States: []casework.State{casework.StateRegistered}}, true},
		{"dash.overdue", url.Values{"overdue": {"true"}}, casework.CaseFilter{OverdueAt: &now}, true},
		{"dash.urgent", url.Values{"urgency": {string(casework.UrgencyUrgent)}, "open": {"true"}}, casework.CaseFilter{Urgency: casework.UrgencyUrgent, States: openStates()}, true},
		{"dash.unanswered", url.Values{"unanswered": {"true"}, "open": {"true"}}, casework.CaseFilter{Unanswered: true, States: openStates()}, true},
		{"dash.urged", url.Values{"urged": {"true"}, "open": {"true"}}, casework.CaseFilter{Urged: true, States: openStates()}, true},
		{"dash.open", url.Values{"open": {"true"}}, casework.CaseFilter{States: openStates()}, false},
	}
	out := make([]tile, 0, len(tiles))
	for _, t := range tiles {
		f := t.f
		n := 0
		if u.ScopeCases(&f) {
			f.Limit = 1
			var err error
			if _, n, err = s.cfg.Store.FindCases(r.Context(), f); err != nil {
				return err
			}
		}
		out = append(out, tile{Key: t.key, Count: n, Link: "/console/cases?" + t.query.Encode(), Alert: t.alert && n > 0})
	}
	if u.MayAct() {
		n, err := s.waitingHandoffs(r, u)
		if err != nil {
			return err
		}
		out = append(out, tile{Key: "dash.handoffs", Count: n, Link: "/console/handoffs", Alert: n > 0})
	}
	if u.MayAct() {
		due, err := s.dueTasks(r, u)
		if err != nil {
			return err
		}
		out = append(out, tile{Key: "dash.tasks_due", Count: len(due), Link: "/console/tasks", Alert: len(due) > 0})
	}
	s.render(w, r, http.StatusOK, "dashboard", view{User: u, Nav: "dashboard", Title: uiText.Render(langOf(r), "dash.title"),
		Data: struct{ Tiles []tile }{out}})
	return nil
}
