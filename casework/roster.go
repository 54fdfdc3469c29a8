package casework

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The duty roster (值班表): which of the department's supervisors is on duty
// for a project when. Out of the department's hours, the notices to the
// supervisors and the calls about an urgent order nobody took go to those
// on duty for the case's project (package lifecycle); a roster is loaded
// from a spreadsheet (csvimport.ParseRoster, ResolveRoster) and replaces a
// project's roster whole.

// RoleSupervisor is the Member.Role of the department's supervisors (主管):
// the members of an in-house party (PartyInHouse) with it receive
// escalations, may act on them from their chat, and are the people a duty
// roster names.
const RoleSupervisor = "supervisor"

// IsSupervisor reports whether m, a member of party p, is one of the
// department's supervisors: a supervisor of an in-house party. A
// contractor's own supervisor is not.
func IsSupervisor(m *Member, p *Party) bool {
	return m != nil && p != nil && m.PartyID == p.ID && p.Kind == PartyInHouse && m.Role == RoleSupervisor
}

// Day is a whole day, as a duty's times are counted from midnight.
const Day = 24 * time.Hour

// Duty is one turn of a project's duty roster: member MemberID is on duty
// for project ProjectID from From to To — every week on Weekday, or, when
// Date is set, on that date only. A turn whose To is not after its From
// spans midnight and ends at To the next day (18:00–08:30); To is at most
// 24:00. A project's dated turns on a date replace its weekly turns that
// begin on that date (a holiday's roster): see OnDuty.
type Duty struct {
	ID        int64
	ProjectID int64
	MemberID  int64
	Weekday   time.Weekday // the day of the week the turn begins, when Date is zero
	Date      Date         // the one date the turn begins on; zero: every Weekday
	From, To  time.Duration
	CreatedAt time.Time
}

// Validate checks a Duty: a project and a member, a weekday or a valid
// date, whole minutes from 00:00 up to 24:00, and a turn of some length.
func (d *Duty) Validate() error {
	switch {
	case d.ProjectID == 0:
		return Invalid("project", "is required")
	case d.MemberID == 0:
		return Invalid("member", "is required")
	case d.Date.IsZero() && (d.Weekday < time.Sunday || d.Weekday > time.Saturday):
		return Invalid("day", "weekday %d is not 0 (Sunday) to 6 (Saturday)", d.Weekday)
	case !d.Date.IsZero() && d.Date.String() != DateOf(d.Date.In(time.UTC)).String():
		return Invalid("day", "%s is not a date", d.Date)
	case d.From < 0 || d.From >= Day || d.From%time.Minute != 0:
		return Invalid("from", "%s is not a time of day from 00:00 to 23:59", d.From)
	case d.To <= 0 || d.To > Day || d.To%time.Minute != 0:
		return Invalid("to", "%s is not a time of day from 00:01 to 24:00", d.To)
	case d.From == d.To:
		return Invalid("to", "the turn ends when it begins (%s): give 00:00–24:00 for a whole day", ClockText(d.From))
	}
	return nil
}

// Spans reports whether the turn goes past midnight into the next day.
func (d *Duty) Spans() bool { return d.To <= d.From }

// Length is how long the turn lasts.
func (d *Duty) Length() time.Duration {
	if d.Spans() {
		return d.To + Day - d.From
	}
	return d.To - d.From
}

// ClockText writes a time of day as people read it: 08:30, 24:00.
func ClockText(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// OnDuty returns the members on duty at t among duties, one project's
// roster, in the order of their first turn: those whose turn began on t's
// day (in loc) or, spanning midnight, on the day before, and has not ended.
// On a day with dated turns, those replace the weekly turns that begin
// that day. Nobody on duty: nil.
func OnDuty(duties []*Duty, t time.Time, loc *time.Location) []int64 {
	lt := t.In(loc)
	today := DateOf(lt)
	var out []int64
	for _, day := range []Date{today.AddDays(-1), today} {
		since := lt.Sub(day.In(loc)) // from the day's midnight: a turn of the day before is 24 h on
		dated := slices.ContainsFunc(duties, func(d *Duty) bool { return d.Date == day })
		for _, d := range duties {
			begins := d.Date == day || (!dated && d.Date.IsZero() && d.Weekday == day.In(loc).Weekday())
			if begins && since >= d.From && since < d.From+d.Length() && !slices.Contains(out, d.MemberID) {
				out = append(out, d.MemberID)
			}
		}
	}
	return out
}

// RosterStore keeps the duty rosters.
type RosterStore interface {
	// ReplaceRoster replaces, in one transaction, the whole roster of each
	// project of projectIDs with the turns of duties, each of one of those
	// projects; the turns are stored in the order given and set to what is
	// stored: their ID, CreatedAt (the store's now) and, for a dated turn,
	// Weekday 0. An empty duties clears the rosters.
	// A turn that Duty.Validate refuses, or of a project not listed, is a
	// *ValidationError; a project or member that does not exist
	// ErrNotFound. Either way nothing changes.
	ReplaceRoster(ctx context.Context, projectIDs []int64, duties []*Duty) error
	// ListDuties returns the roster of project projectID (0: of every
	// project), by project, the weekly turns first from Monday to Sunday,
	// then the dated ones by date, each day's by From, then ID.
	ListDuties(ctx context.Context, projectID int64) ([]*Duty, error)
}

// DutyRecord is one line of a duty roster file (csvimport.ParseRoster),
// naming its project and supervisor as people write them; ResolveRoster
// finds them.
type DutyRecord struct {
	Line        int
	ProjectCode string
	Member      string // the supervisor's phone or name
	Weekday     time.Weekday
	Date        Date // zero: every Weekday
	From, To    time.Duration
}

// ResolveRoster finds the project and the supervisor of each record in st
// and returns the projects named and their turns, in the records' order,
// to give ReplaceRoster. A member is named by phone or by name, and must
// be one of the department's supervisors (IsSupervisor). It returns an
// *ImportError listing, by line, every project that does not exist and
// every member not found, not a supervisor, or named ambiguously.
func ResolveRoster(ctx context.Context, st RegistryStore, recs []DutyRecord) ([]int64, []*Duty, error) {
	type person struct {
		m *Member
		p *Party
	}
	parties, err := st.ListParties(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("roster: list parties: %w", err)
	}
	var people []person
	for _, p := range parties {
		ms, err := st.ListMembers(ctx, p.ID)
		if err != nil {
			return nil, nil, fmt.Errorf("roster: members of %s: %w", p.Code, err)
		}
		for _, m := range ms {
			people = append(people, person{m, p})
		}
	}
	projects := map[string]int64{}
	var problems []LineError
	var projectIDs []int64
	var duties []*Duty
	for _, r := range recs {
		bad := func(column, format string, args ...any) {
			problems = append(problems, LineError{Line: r.Line, Column: column, Reason: fmt.Sprintf(format, args...)})
		}
		pid, known := projects[r.ProjectCode]
		if !known {
			p, err := st.FindProjectByCode(ctx, r.ProjectCode)
			switch {
			case err == nil:
				pid = p.ID
				projectIDs = append(projectIDs, pid)
			case isNotFound(err):
			default:
				return nil, nil, fmt.Errorf("roster: project %s: %w", r.ProjectCode, err)
			}
			projects[r.ProjectCode] = pid
		}
		if pid == 0 {
			bad("project_code", "project %s does not exist; import its units first", r.ProjectCode)
		}
		name := strings.TrimSpace(r.Member)
		phone, perr := NormalizeContactPhone(name)
		var found []person
		for _, x := range people {
			if (perr == nil && x.m.Phone == phone) || x.m.Name == name {
				found = append(found, x)
			}
		}
		var sups []person
		for _, x := range found {
			if IsSupervisor(x.m, x.p) {
				sups = append(sups, x)
			}
		}
		switch {
		case len(found) == 0:
			bad("member", "nobody of the parties is called or has the phone %q; import the department's people (parties) first", MaskPhoneLike(name))
			continue
		case len(sups) == 0:
			bad("member", "%s is %s of %s, not one of the department's supervisors (a member of an in-house party whose role is supervisor)", found[0].m.Name, roleText(found[0].m.Role), found[0].p.Code)
			continue
		case len(sups) > 1:
			bad("member", "%d supervisors are called %s; name them by phone", len(sups), name)
			continue
		}
		if pid == 0 {
			continue
		}
		d := &Duty{ProjectID: pid, MemberID: sups[0].m.ID, Weekday: r.Weekday, Date: r.Date, From: r.From, To: r.To}
		if err := d.Validate(); err != nil {
			if ve, ok := err.(*ValidationError); ok {
				bad(ve.Field, "%s", ve.Reason)
			} else {
				bad("", "%v", err)
			}
			continue
		}
		duties = append(duties, d)
	}
	if len(problems) > 0 {
		return nil, nil, &ImportError{Lines: problems}
	}
	return projectIDs, duties, nil
}

// MaskPhoneLike masks s when it is a phone number, so that a phone given
// where a name was expected reaches no log whole; a name is returned as it
// is.
func MaskPhoneLike(s string) string {
	if _, err := NormalizeContactPhone(s); err == nil {
		return MaskPhone(s)
	}
	return s
}

func roleText(role string) string {
	if role == "" {
		return "a member with no role"
	}
	return "the " + role
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
