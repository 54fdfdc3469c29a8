package lifecycle

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
)

// Who is alerted out of hours: the duty roster (值班表, casework.Duty).
// Within the department's hours (Config.OfficeHoursFunc) every supervisor
// is told about every case, as always. Out of them the supervisors' notices
// (staffNotices) and the calls about an urgent order nobody took
// (dutySupervisors) go to the supervisors on duty for the case's project at
// that moment; when nobody is on duty — no roster, a gap in it, or only
// people who are no longer supervisors — every supervisor is told, as in
// hours: a notice never goes unheard for want of a roster.

// DefaultOfficeHours are the department's hours when none are configured:
// 08:30 to 18:00, every day, in loc.
func DefaultOfficeHours(loc *time.Location) func(t time.Time) bool {
	open, close := 8*time.Hour+30*time.Minute, 18*time.Hour
	return func(t time.Time) bool {
		lt := t.In(loc)
		since := lt.Sub(time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc))
		return since >= open && since < close
	}
}

// inOfficeHours reports whether t is within the department's hours.
func (s *Service) inOfficeHours(t time.Time) bool { return s.cfg.OfficeHoursFunc(t) }

// onDuty returns, of the supervisors sup, those the roster of c's project
// has on duty at t; nil when it has none of them.
func (s *Service) onDuty(ctx context.Context, c *casework.Case, sup []*casework.Member, t time.Time) ([]*casework.Member, error) {
	if c.ProjectID == 0 {
		return nil, nil
	}
	duties, err := s.cfg.Store.ListDuties(ctx, c.ProjectID)
	if err != nil {
		return nil, fmt.Errorf("duty roster of case %s: %w", c.Number, err)
	}
	ids := casework.OnDuty(duties, t, s.cfg.Location)
	var out []*casework.Member
	for _, m := range sup {
		if slices.Contains(ids, m.ID) {
			out = append(out, m)
		}
	}
	return out, nil
}

// alertedSupervisors returns the supervisors to alert about c now: every
// supervisor within the department's hours; out of them those on duty for
// c's project, or every supervisor when nobody is.
func (s *Service) alertedSupervisors(ctx context.Context, c *casework.Case) ([]*casework.Member, error) {
	all, err := s.supervisors(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if s.inOfficeHours(now) {
		return all, nil
	}
	duty, err := s.onDuty(ctx, c, all, now)
	if err != nil || len(duty) == 0 {
		return all, err
	}
	return duty, nil
}

// onDutyChats narrows rs, the supervisors' chat accounts, to those of the
// supervisors alerted about c now (alertedSupervisors). It keeps rs whole
// in the department's hours, when no account of rs is of a supervisor on
// duty, and when the roster cannot be read (which it logs): never silence.
func (s *Service) onDutyChats(ctx context.Context, c *casework.Case, rs []recipient) []recipient {
	if len(rs) == 0 || s.inOfficeHours(s.now()) {
		return rs
	}
	ms, err := s.alertedSupervisors(ctx, c)
	if err != nil {
		s.cfg.Logger.Error("duty roster not read: every supervisor is told", "case_id", c.ID, "case_number", c.Number, "error", err)
		return rs
	}
	keep := map[bot.UserRef]bool{}
	for _, m := range ms {
		chats, err := s.memberChats(ctx, m.ID)
		if err != nil {
			s.cfg.Logger.Error("duty supervisor's chats not read: every supervisor is told", "case_id", c.ID, "member_id", m.ID, "error", err)
			return rs
		}
		for _, r := range chats {
			keep[r.user] = true
		}
	}
	out := slices.DeleteFunc(slices.Clone(rs), func(r recipient) bool { return !keep[r.user] })
	if len(out) == 0 {
		return rs
	}
	return out
}
