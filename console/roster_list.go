package console

import (
	"net/http"
	"strconv"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/l10n"
	"github.com/aftersales/aftersales/lifecycle"
	"github.com/aftersales/aftersales/staff"
)

// rosterProject is a project's duty roster as the roster page shows it.
type rosterProject struct {
	Name, Code string
	Turns      []rosterTurn
}

// rosterTurn is a turn of duty in words: the day, the hours, who.
type rosterTurn struct {
	Day, Hours, Name, Phone string
}

// rosterList serves GET /console/roster: the supervisors' duty rosters
// (值班表) of the projects the user may see, read-only; they are loaded with
// `aftersales roster import`. A store that keeps no rosters shows none.
func (s *Server) rosterList(w http.ResponseWriter, r *http.Request, u *staff.User) error {
	if !u.MayAct() {
		return errForbidden
	}
	ctx, lang := r.Context(), langOf(r)
	var out []rosterProject
	if rs, ok := s.cfg.Store.(casework.RosterStore); ok {
		duties, err := rs.ListDuties(ctx, 0)
		if err != nil {
			return err
		}
		names := map[int64]*casework.Member{}
		var current int64
		for _, d := range duties { // by project
			if !u.MaySeeProject(d.ProjectID) {
				continue
			}
			if d.ProjectID != current {
				p, err := s.cfg.Store.FindProjectByID(ctx, d.ProjectID)
				if err != nil {
					return err
				}
				out, current = append(out, rosterProject{Name: p.Name, Code: p.Code}), p.ID
			}
			m, ok := names[d.MemberID]
			if !ok {
				if m, err = s.cfg.Store.FindMemberByID(ctx, d.MemberID); err != nil {
					return err
				}
				names[d.MemberID] = m
			}
			last := &out[len(out)-1]
			last.Turns = append(last.Turns, rosterTurn{Day: dutyDay(lang, d), Hours: dutyHours(lang, d), Name: m.Name, Phone: m.Phone})
		}
	}
	s.render(w, r, http.StatusOK, "roster", view{User: u, Nav: "parties", Title: uiText.Render(lang, "roster.title"),
		Data: struct{ Projects []rosterProject }{out}})
	return nil
}

// dutyDay says a turn's day: its weekday, or its date with the weekday.
func dutyDay(lang l10n.Lang, d *casework.Duty) string {
	if d.Date.IsZero() {
		return lifecycle.T(lang, "weekday."+strconv.Itoa(int(d.Weekday)))
	}
	return d.Date.String() + " " + lifecycle.T(lang, "weekday."+strconv.Itoa(int(d.Date.In(casework.ChinaTime()).Weekday())))
}

// dutyHours says a turn's hours, "18:00–次日 08:30" across midnight.
func dutyHours(lang l10n.Lang, d *casework.Duty) string {
	key := "roster.hours_same_day"
	if d.Spans() {
		key = "roster.hours_next_day"
	}
	return uiText.Render(lang, key, "from", casework.ClockText(d.From), "to", casework.ClockText(d.To))
}
