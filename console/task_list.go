package console

import (
	"errors"
	"net/http"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/staff"
)

// maxDueTasks bounds the due tasks the dashboard counts and the page lists.
const maxDueTasks = 200

// dueTask is a coordination task due, on the tasks page.
type dueTask struct {
	Number, Assignee, Description, Due string
}

// dueTasks returns the coordination tasks due now of the cases the user
// may see, soonest first.
func (s *Server) dueTasks(r *http.Request, u *staff.User) ([]dueTask, error) {
	ctx := r.Context()
	tasks, err := s.cfg.Store.ListDueTasks(ctx, s.cfg.NowFunc(), maxDueTasks)
	if err != nil {
		return nil, err
	}
	cases := map[int64]*casework.Case{}
	var out []dueTask
	for _, t := range tasks {
		c, ok := cases[t.CaseID]
		if !ok {
			if c, err = s.cfg.Store.FindCaseByID(ctx, t.CaseID); err != nil && !errors.Is(err, casework.ErrNotFound) {
				return nil, err
			}
			cases[t.CaseID] = c
		}
		if c == nil || !u.MaySeeCase(c) {
			continue
		}
		out = append(out, dueTask{Number: c.Number, Assignee: t.Assignee, Description: t.Description, Due: s.formatTime(t.DueAt)})
	}
	return out, nil
}

// taskList serves GET /console/tasks: the coordination tasks due.
func (s *Server) taskList(w http.ResponseWriter, r *http.Request, u *staff.User) error {
	if !u.MayAct() {
		return errForbidden
	}
	tasks, err := s.dueTasks(r, u)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "tasks", view{User: u, Nav: "dashboard", Title: uiText.Render(langOf(r), "dash.tasks_due"),
		Data: struct{ Tasks []dueTask }{tasks}})
	return nil
}
