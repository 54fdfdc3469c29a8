package casework

import (
	"fmt"
	"time"
)

// Date is a calendar day without a time of day or a time zone, such as a
// completion-acceptance date or a delivery date. The zero Date means "unknown".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// D returns the Date year-month-day. It does not normalise: D(2025, 2, 30) is
// not a valid date; use ParseDate or DateOf for input.
func D(year int, month time.Month, day int) Date { return Date{year, month, day} }

// DateOf returns the calendar day of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate parses an ISO date (2006-01-02). It also accepts 2006/01/02 and
// 2006.01.02, as found in spreadsheets.
func ParseDate(s string) (Date, error) {
	for _, layout := range []string{"2006-01-02", "2006/01/02", "2006.01.02", "2006-1-2", "2006/1/2"} {
		if t, err := time.Parse(layout, s); err == nil {
			return DateOf(t), nil
		}
	}
	return Date{}, fmt.Errorf("%q is not a date like 2024-06-30", s)
}

// IsZero reports whether d is the zero (unknown) Date.
func (d Date) IsZero() bool { return d == Date{} }

// String formats d as 2006-01-02, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// In returns midnight at the start of d in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return cmpInt(d.Year, e.Year)
	case d.Month != e.Month:
		return cmpInt(int(d.Month), int(e.Month))
	default:
		return cmpInt(d.Day, e.Day)
	}
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// AddDays returns d plus n days.
func (d Date) AddDays(n int) Date { return DateOf(d.In(time.UTC).AddDate(0, 0, n)) }

// AddMonths returns the day that corresponds to d n months later. When that
// month has no such day (31 January + 1 month, 29 February + 1 year), the last
// day of the month is used, as the Civil Code (民法典) art. 203 prescribes for
// periods counted in months and years. time.AddDate would roll over instead.
func (d Date) AddMonths(n int) Date {
	total := d.Year*12 + int(d.Month) - 1 + n
	y, m := total/12, time.Month(total%12+1)
	last := daysIn(y, m)
	day := d.Day
	if day > last {
		day = last
	}
	return Date{y, m, day}
}

func daysIn(year int, m time.Month) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
