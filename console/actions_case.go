package console

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/lifecycle"
	"github.com/aftersales/aftersales/staff"
)

// This file holds the actions that answer, pause, withdraw and close a case:
// the API's routes and the functions the console's forms share with them.

// answerRequest is the body of POST /api/v1/cases/{number}/answer.
type answerRequest struct {
	Text string `json:"text"`
}

// mayAnswer reports whether u may answer c: a major complaint (重大投诉) is
// answered by a supervisor (or an admin), anything else by any staff.
func mayAnswer(u *staff.User, c *casework.Case) bool {
	if c.Urgency == casework.UrgencyMajorComplaint {
		return u.Role == staff.RoleSupervisor || u.Role == staff.RoleAdmin
	}
	return u.MayAct()
}

// answer serves POST /api/v1/cases/{number}/answer (答复并办结): a
// consultation, complaint, suggestion or praise is answered in writing; the
// owner may say it does not settle the matter (lifecycle.Service.Answer). A
// case that gets a work order is a 400 on "category"; a major complaint
// needs a supervisor's account (403).
func (s *Server) answer(svc *lifecycle.Service, w http.ResponseWriter, r *http.Request) error {
	var req answerRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	c, err := s.loadCase(r)
	if err != nil {
		return err
	}
	if !mayAnswer(callerOf(r).user, c) {
		return errForbidden
	}
	nc, err := svc.Answer(r.Context(), c.Number, actorOf(r), strings.TrimSpace(req.Text))
	if err != nil {
		return err
	}
	s.writeCase(w, nc)
	return nil
}

// holdRequest is the body of POST /api/v1/cases/{number}/hold.
type holdRequest struct {
	Reason string `json:"reason"`
	Until  string `json:"until"`
}

// hold serves POST /api/v1/cases/{number}/hold (挂起): with a reason and
// until (RFC 3339, or YYYY-MM-DD: that day at 09:00 in the department's
// time zone), the date work is expected to resume. The service-level clocks
// pause; the owner and the engineer are told (lifecycle.Service.Hold).
func (s *Server) hold(svc *lifecycle.Service, w http.ResponseWriter, r *http.Request) error {
	var req holdRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	until, err := s.parseUntil(req.Until)
	if err != nil {
		return err
	}
	c, err := svc.Hold(r.Context(), r.PathValue("number"), actorOf(r), strings.TrimSpace(req.Reason), until)
	if err != nil {
		return err
	}
	s.writeCase(w, c)
	return nil
}

// parseUntil reads a hold's date: RFC 3339, or a day (YYYY-MM-DD), which
// means 09:00 of it in the department's time zone.
func (s *Server) parseUntil(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, casework.Invalid("until", "is required: the date work is expected to resume")
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation("2006-01-02", v, s.cfg.Location)
	if err != nil {
		return time.Time{}, casework.Invalid("until", "must be a date (YYYY-MM-DD) or RFC 3339, not %q", v)
	}
	return d.Add(9 * time.Hour), nil
}

// resume serves POST /api/v1/cases/{number}/resume: the case resumes where
// it was held, its unmet deadlines later by the time it waited
// (lifecycle.Service.Resume). note is optional.
func (s *Server) resume(svc *lifecycle.Service, w http.ResponseWriter, r *http.Request) error {
	return s.noteAction(svc.Resume, w, r)
}

// closeCase serves POST /api/v1/cases/{number}/close (归档). note is
// optional.
func (s *Server) closeCase(svc *lifecycle.Service, w http.ResponseWriter, r *http.Request) error {
	return s.noteAction(svc.Close, w, r)
}

// noteAction serves an action that takes an optional note.
func (s *Server) noteAction(act func(ctx context.Context, number string, staff casework.Actor, note string) (*casework.Case, error), w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Note string `json:"note"`
	}
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	note, err := optionalNote(req.Note)
	if err != nil {
		return err
	}
	c, err := act(r.Context(), r.PathValue("number"), actorOf(r), note)
	if err != nil {
		return err
	}
	s.writeCase(w, c)
	return nil
}

// cancel serves POST /api/v1/cases/{number}/cancel (撤销): the owner asked
// to withdraw the case; reason is required. The owner and the engineer are
// told (lifecycle.Service.Cancel).
func (s *Server) cancel(svc *lifecycle.Service, w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	c, err := svc.Cancel(r.Context(), r.PathValue("number"), actorOf(r), strings.TrimSpace(req.Reason))
	if err != nil {
		return err
	}
	s.writeCase(w, c)
	return nil
}
