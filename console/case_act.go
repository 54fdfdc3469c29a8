package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/lifecycle"
	"github.com/aftersales/aftersales/staff"
)

// This file holds the staff's actions on the case page: each is a form
// posted to /console/cases/{number}/act/{action} with the case's version,
// done through the same checks and services as the API, and answered with
// the case page again (a redirect on success; the form, its values kept and
// its error beside it, when refused).

// caseAction is one action of the case page.
type caseAction struct {
	// may reports whether u may take the action on c in its state.
	may func(u *staff.User, c *casework.Case) bool
	// run takes the action from the form's values.
	run func(s *Server, ctx context.Context, svc *lifecycle.Service, c *casework.Case, actor casework.Actor, f url.Values) error
}

// allows reports whether c's state allows the action a.
func allows(c *casework.Case, a casework.Action) bool {
	return slices.Contains(casework.Allowed(c.State), a)
}

// staffMay is the rule of most actions: a person of the department (not a
// party's manager) on a case whose state allows a.
func staffMay(a casework.Action) func(u *staff.User, c *casework.Case) bool {
	return func(u *staff.User, c *casework.Case) bool { return u.MayAct() && allows(c, a) }
}

// caseActions are the case page's actions, by the name in their path.
var caseActions = map[string]caseAction{
	"triage": {
		may: func(u *staff.User, c *casework.Case) bool { return u.MayAct() && c.Open() },
		run: func(s *Server, ctx context.Context, _ *lifecycle.Service, c *casework.Case, actor casework.Actor, f url.Values) error {
			note, err := optionalNote(f.Get("note"))
			if err != nil {
				return err
			}
			req := triageRequest{Category: formPtr(f, "category"), Subcategory: formPtr(f, "subcategory"),
				Urgency: formPtr(f, "urgency"), Responsibility: formPtr(f, "responsibility")}
			_, err = s.triageCase(ctx, c, actor, req, note)
			return err
		},
	},
	"accept": {
		may: staffMay(casework.ActionAccept),
		run: func(s *Server, ctx context.Context, svc *lifecycle.Service, c *casework.Case, actor casework.Actor, f url.Values) error {
			party, member, err := assigneeOf(f, false)
			if err != nil {
				return err
			}
			_, err = s.acceptCase(ctx, svc, c.Number, actor, acceptRequest{Note: f.Get("note"), PartyID: party, MemberID: member})
			return err
		},
	},
	"reject": {
		may: staffMay(casework.ActionReject),
		run: func(s *Server, ctx context.Context, svc *lifecycle.Service, c *casework.Case, actor casework.Actor, f url.Values) error {
			_, err := rejectCase(ctx, svc, c.Number, actor, rejectRequest{Reason: f.Get("reason"), Note: f.Get("note"), DuplicateOf: f.Get("duplicate_of")})
			return err
		},
	},
	"dispatch": {
		may: func(u *staff.User, c *casework.Case) bool {
			return u.MayAct() && c.Category.GetsWorkOrder() && allows(c, casework.ActionDispatch)
		},
		run: func(s *Server, ctx context.Context, svc *lifecycle.Service, c *casework.Case, actor casework.Actor, f url.Values) error {
			party, member, err := assigneeOf(f, true)
			if err != nil {
				return err
			}
			_, err = s.dispatchCase(ctx, svc, c.Number, actor, dispatchRequest{PartyID: party, MemberID: member})
			return err
		},
	},
	"message": {
		may: func(u *staff.User, c *casework.Case) bool { return u.MayAct() && c.Open() },
		run: func(s *Server, ctx context.Context, svc *lifecycle.Service, c *casework.Case, actor casework.Actor, f url.Values) error {
			return svc.MessageOwner(ctx, c.Number, actor, strings.TrimSpace(f.Get("text")))
		},
	},
	"task": {
		may: func(u *staff.User, c *casework.Case) bool { return u.MayAct() && c.Open() },
		run: func(s *Server, ctx context.Context, svc *lifecycle.Service, c *casework.Case, actor casework.Actor, f url.Values) error {
			due, err := s.formTime(f, "due_at")
			if err != nil {
				return err
			}
			_, err = s.addCaseTask(ctx, svc, c.Number, actor, f.Get("assignee"), f.Get("description"), due)
			return err
		},
	},
	"answer": {
		may: func(u *staff.User, c *casework.Case) bool {
			switch c.State {
			case casework.StateRegistered, casework.StateAccepted, casework.StateReopened:
				return !c.Category.GetsWorkOrder() && mayAnswer(u, c)
			}
			return false
		},
		run: func(s *Server, ctx context.Context, svc *lifecycle.Service, c *casework.Case, actor casework.Actor, f url.Values) error {
			_, err := svc.Answer(ctx, c.Number, actor, strings.TrimSpace(f.Get("text")))
			return err
		},
	},
	"hold": {
		may: staffMay(casework.ActionHold),
		run: func(s *Server, ctx context.Context, svc *lifecycle.Service, c *casework.Case, actor casework.Actor, f url.Values) error {
			until, err := s.parseUntil(f.Get("until"))
			if err != nil {
				return err
			}
			_, err = svc.Hold(ctx, c.Number, actor, strings.TrimSpace(f.Get("reason")), until)
			return err
		},
	},
	"resume": {
		may: staffMay(casework.ActionResume),
		run: func(s *Server, ctx context.Context, svc *lifecycle.Service, c *casework.Case, actor casework.Actor, f url.Values) error {
			_, err := svc.Resume(ctx, c.Number, actor, strings.TrimSpace(f.Get("note")))
			return err
		},
	},
	"cancel": {
		may: staffMay(casework.ActionCancel),
		run: func(s *Server, ctx context.Context, svc *lifecycle.Service, c *casework.Case, actor casework.Actor, f url.Values) error {
			_, err := svc.Cancel(ctx, c.Number, actor, strings.TrimSpace(f.Get("reason")))
			return err
		},
	},
	"close": {
		may: staffMay(casework.ActionClose),
		run: func(s *Server, ctx context.Context, svc *lifecycle.Service, c *casework.Case, actor casework.Actor, f url.Values) error {
			_, err := svc.Close(ctx, c.Number, actor, strings.TrimSpace(f.Get("note")))
			return err
		},
	},
	"note": {
		// A party's manager reads and comments on their party's cases.
		may: func(*staff.User, *casework.Case) bool { return true },
		run: func(s *Server, ctx context.Context, _ *lifecycle.Service, c *casework.Case, actor casework.Actor, f url.Values) error {
			note := strings.TrimSpace(f.Get("note"))
			if err := validNote(note); err != nil {
				return err
			}
			return s.cfg.Store.AddCaseEvent(ctx, &casework.Event{CaseID: c.ID, Actor: actor, Kind: casework.EventNote, Note: note})
		},
	},
}

// formPtr is the form's value of name, nil when it is empty (left as it is).
func formPtr(f url.Values, name string) *string {
	v := strings.TrimSpace(f.Get(name))
	if v == "" {
		return nil
	}
	return &v
}

// assigneeOf reads the form's "assignee": "p:<party id>" (the party, its
// member chosen by role) or "m:<member id>"; empty is none, which required
// refuses.
func assigneeOf(f url.Values, required bool) (party, member int64, err error) {
	v := strings.TrimSpace(f.Get("assignee"))
	if v == "" {
		if required {
			return 0, 0, casework.Invalid("assignee", "is required: choose a party or an engineer")
		}
		return 0, 0, nil
	}
	kind, id, _ := strings.Cut(v, ":")
	n, err := strconv.ParseInt(id, 10, 64)
	switch {
	case err != nil || n <= 0:
		return 0, 0, casework.Invalid("assignee", "%q is not a party or an engineer of the list", v)
	case kind == "p":
		return n, 0, nil
	case kind == "m":
		return 0, n, nil
	}
	return 0, 0, casework.Invalid("assignee", "%q is not a party or an engineer of the list", v)
}

// formTime reads a datetime-local field ("2026-12-08T18:00") in the
// console's location.
func (s *Server) formTime(f url.Values, name string) (time.Time, error) {
	v := strings.TrimSpace(f.Get(name))
	if v == "" {
		return time.Time{}, casework.Invalid(name, "is required")
	}
	t, err := time.ParseInLocation("2006-01-02T15:04", v, s.cfg.Location)
	if err != nil {
		return time.Time{}, casework.Invalid(name, "is not a date and time: %q", v)
	}
	return t, nil
}

// maxActionForm bounds an action's form.
const maxActionForm = 64 << 10

// caseAct serves POST /console/cases/{number}/act/{action}: the action is
// taken at the version of the case the form was shown with, and the case
// page follows (303, with the action named so the page can say it is done).
// Refused, the case page comes back with the form open, its values kept and
// the reason beside it: 400 for a bad value, 409 when the case changed or
// its state does not allow the action.
func (s *Server) caseAct(w http.ResponseWriter, r *http.Request, u *staff.User) error {
	c, err := s.caseOf(r, u)
	if err != nil {
		return err
	}
	name := r.PathValue("action")
	act, ok := caseActions[name]
	if !ok {
		return casework.ErrNotFound
	}
	if !act.may(u, c) {
		if !u.MayAct() || (name == "answer" && !mayAnswer(u, c)) {
			return errForbidden
		}
		// The page offered it on an older state of the case.
		return s.renderCase(w, r, u, c, caseView{phone: casework.MaskPhone(c.OwnerPhone), failed: name, form: url.Values{},
			err: &casework.TransitionError{From: c.State, Action: casework.Action(name)}})
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxActionForm)
	if err := r.ParseForm(); err != nil {
		return casework.Invalid("form", "%v", err)
	}
	version, err := strconv.Atoi(r.PostForm.Get("version"))
	if err != nil {
		return casework.Invalid("version", "is missing: reload the case")
	}
	if s.cfg.Lifecycle == nil && name != "note" && name != "triage" {
		return fmt.Errorf("%w: the case lifecycle is not configured", errUnavailable)
	}
	ctx := lifecycle.WithVersion(r.Context(), c.Number, version)
	if c.Version != version {
		err = &casework.ConflictError{What: fmt.Sprintf("case %s changed since version %d (now %d)", c.Number, version, c.Version)}
	} else {
		err = act.run(s, ctx, s.cfg.Lifecycle, c, casework.Actor(u.Actor()), r.PostForm)
	}
	if err != nil && !refusal(err) {
		return err
	}
	if err != nil {
		// The case as it is now, with the form as it was sent.
		if nc, lerr := s.caseOf(r, u); lerr == nil {
			c = nc
		}
		return s.renderCase(w, r, u, c, caseView{phone: casework.MaskPhone(c.OwnerPhone), failed: name, form: r.PostForm, err: err})
	}
	http.Redirect(w, r, "/console/cases/"+url.PathEscape(c.Number)+"?done="+url.QueryEscape(name), http.StatusSeeOther)
	return nil
}
