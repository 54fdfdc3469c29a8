package csvimport

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aftersales/aftersales/casework"
)

// KindRoster is a duty roster file (值班表): who of the department's
// supervisors is on duty for a project when. It is read by ParseRoster and
// loaded with `aftersales roster import`, not with the registry's files.
const KindRoster Kind = "roster"

// ParseRoster reads a duty roster file: one turn a line, with the columns
// project_code (项目编码), member (值班人: the supervisor's name or phone),
// day (值班日: a weekday — 周一, 星期日, mon, 1 for Monday to 7 for Sunday —
// or a date such as 2026-10-01), from (开始时间) and to (结束时间), times
// such as 18:00 and 08:30. A turn whose end is not after its start spans
// midnight (18:00 to 08:30 the next morning; "次日08:30" says so too); an
// end of 24:00 or 00:00 is midnight. It returns the records in the file's order,
// to resolve with casework.ResolveRoster, or a *casework.ImportError
// listing every problem by line, as Parse does.
func ParseRoster(r io.Reader) ([]casework.DutyRecord, error) {
	p, err := newParser(KindRoster, r)
	if err != nil {
		return nil, err
	}
	c := &rosterChecker{p: p, seen: map[rosterKey]int{}}
	p.check = c.check
	if _, err := p.run(); err != nil {
		return nil, err
	}
	return c.records, nil
}

type rosterKey struct {
	project, member, day string
	from                 time.Duration
}

type rosterChecker struct {
	p       *parser
	seen    map[rosterKey]int
	records []casework.DutyRecord
}

func (c *rosterChecker) check(r *row) {
	project := r.projectCode()
	member, _ := r.required(colMember)
	var rec casework.DutyRecord
	if day, ok := r.required(colDay); ok {
		if w, ok := parseWeekday(day); ok {
			rec.Weekday = w
		} else if d, err := parseDate(day); err == nil {
			rec.Date = d
		} else {
			r.problem(colDay, fmt.Sprintf("%q is neither a weekday (周一…周日, mon…sun, 1–7 from Monday) nor a date like 2026-10-01", day))
		}
	}
	from, okFrom := r.required(colFrom)
	if okFrom {
		var next bool
		if rec.From, next, okFrom = parseClock(from); !okFrom || next || rec.From == casework.Day {
			r.problem(colFrom, fmt.Sprintf("%q is not a time of day from 00:00 to 23:59", from))
			okFrom = false
		}
	}
	if to, ok := r.required(colTo); ok {
		end, next, ok := parseClock(to)
		if end == 0 {
			end = casework.Day // the end at 00:00 is midnight
		}
		rec.To = end
		switch {
		case !ok:
			r.problem(colTo, fmt.Sprintf("%q is not a time of day from 00:00 to 24:00", to))
		case !okFrom:
		case next && end != casework.Day && end > rec.From:
			r.problem(colTo, fmt.Sprintf("the turn would last more than a day: %s is after its start, %s", to, from))
		case end == rec.From:
			r.problem(colTo, "the turn ends when it begins; write 00:00 to 24:00 for a whole day")
		}
	}
	if r.bad > 0 || c.p.missing {
		return
	}
	day := rec.Date.String()
	if rec.Date.IsZero() {
		day = rec.Weekday.String()
	}
	key := rosterKey{project, member, day, rec.From}
	if first, ok := c.seen[key]; ok {
		r.duplicate(fmt.Sprintf("the turn of %s on %s from %s", casework.MaskPhoneLike(member), day, casework.ClockText(rec.From)), first)
		return
	}
	c.seen[key] = r.line
	rec.Line, rec.ProjectCode, rec.Member = r.line, project, member
	c.records = append(c.records, rec)
}

// weekdayNames are the names of the days of the week a roster may use,
// Monday first: 1 is Monday and 7 Sunday, as on Chinese calendars.
var weekdayNames = map[time.Weekday][]string{
	time.Monday:    {"1", "mon", "monday", "周一", "星期一", "礼拜一"},
	time.Tuesday:   {"2", "tue", "tues", "tuesday", "周二", "星期二", "礼拜二"},
	time.Wednesday: {"3", "wed", "wednesday", "周三", "星期三", "礼拜三"},
	time.Thursday:  {"4", "thu", "thur", "thursday", "周四", "星期四", "礼拜四"},
	time.Friday:    {"5", "fri", "friday", "周五", "星期五", "礼拜五"},
	time.Saturday:  {"6", "sat", "saturday", "周六", "星期六", "礼拜六"},
	time.Sunday:    {"7", "0", "sun", "sunday", "周日", "周天", "星期日", "星期天", "礼拜日", "礼拜天"},
}

var weekdayIndex = func() map[string]time.Weekday {
	m := map[string]time.Weekday{}
	for d, names := range weekdayNames {
		for _, n := range names {
			m[normValue(n)] = d
		}
	}
	return m
}()

func parseWeekday(s string) (time.Weekday, bool) {
	d, ok := weekdayIndex[normValue(s)]
	return d, ok
}

// clockRE matches a time of day: 8:30, 18:00, 24:00, with 次日 ("the next
// day") or +1 before it for the end of a turn across midnight.
var clockRE = regexp.MustCompile(`^(次日|\+1)?\s*([0-9]{1,2})[:点]([0-9]{2})分?$`)

// parseClock reads a time of day into its time since midnight, and whether
// it was marked as the next day's.
func parseClock(s string) (d time.Duration, nextDay, ok bool) {
	m := clockRE.FindStringSubmatch(strings.TrimSpace(fold(s)))
	if m == nil {
		return 0, false, false
	}
	h, _ := strconv.Atoi(m[2])
	min, _ := strconv.Atoi(m[3])
	if h > 24 || min > 59 || (h == 24 && min != 0) {
		return 0, false, false
	}
	return time.Duration(h)*time.Hour + time.Duration(min)*time.Minute, m[1] != "", true
}
