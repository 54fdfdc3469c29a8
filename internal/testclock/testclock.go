// Package testclock dates the tests. A test that hands a fixed date to the
// code under test takes the year from here (Year, Date, Day), the example
// registry from ExampleBatch and its golden transcripts through Text, so that
// all of them move together when AFTERSALES_TEST_DATE_SHIFT is set.
//
// .ci/run runs the suite once as it is and once with its dates moved decades
// into the past and into the future. A test whose code under test reads the
// real clock somewhere (time.Now instead of the injected NowFunc, the
// database's now(), a Redis expiry at an absolute time) then fails, as it
// would on some later day without the shift: the suite must pass on any day.
//
// The shift is counted in whole 28-year cycles ("-28y", "56y"): between 1901
// and 2099 the calendar repeats every 28 years, with the same weekdays and
// the same leap days, so that a shifted run computes the same deadlines,
// warranty ends ("5 years from 2024-02-29") and visit labels ("11-28 周六")
// as the plain one, only with other years, and a golden transcript compares
// exactly once Text has moved its years.
package testclock

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/csvimport"
)

// ShiftEnv names the environment variable that moves every test date.
const ShiftEnv = "AFTERSALES_TEST_DATE_SHIFT"

// cycle is the Gregorian calendar's period in years between 1901 and 2099.
const cycle = 28

var shift = sync.OnceValues(func() (int, error) { return ParseShift(os.Getenv(ShiftEnv)) })

// ParseShift parses a shift such as "-28y", "+56y" or "28y" into years; ""
// and "0" are no shift. Anything but whole 28-year cycles is an error.
func ParseShift(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSuffix(s, "y"), "+"))
	if err != nil || !strings.HasSuffix(s, "y") || n%cycle != 0 {
		return 0, fmt.Errorf("%s=%q: want whole %d-year cycles such as -28y or 56y, which keep every weekday and leap day", ShiftEnv, s, cycle)
	}
	return n, nil
}

// ShiftYears is the number of years every test date is moved by.
func ShiftYears() int {
	n, err := shift()
	if err != nil {
		panic(err) // a mistyped setting of the test run, not of the code under test
	}
	return n
}

// Year is year moved by the shift: time.Date(testclock.Year(2026), …).
func Year(year int) int { return year + ShiftYears() }

// Date is time.Date with the year moved by the shift.
func Date(year int, month time.Month, day, hour, min, sec, nsec int, loc *time.Location) time.Time {
	return time.Date(Year(year), month, day, hour, min, sec, nsec, loc)
}

// Day is casework.D with the year moved by the shift.
func Day(year int, month time.Month, day int) casework.Date {
	return casework.D(Year(year), month, day)
}

// Start is the tests' usual "now": 23:00 on Friday 27 November 2026 in
// China, when the leak comes at night, moved by the shift.
func Start() time.Time { return Date(2026, 11, 27, 23, 0, 0, 0, casework.ChinaTime()) }

// dateText matches the dates a transcript writes: 2026-11-27, 2026/11/27,
// 20261127 (in case numbers) and 2026年.
var dateText = regexp.MustCompile(`\b(19|20)(\d\d)(-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])|/(0[1-9]|1[0-2])/(0[1-9]|[12]\d|3[01])|(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\b|年)`)

// Text moves the years of the dates written in s by the shift: a golden
// transcript, or a date an owner types. Without a shift it returns s.
func Text(s string) string { return text(s, ShiftYears()) }

func text(s string, n int) string {
	if n == 0 {
		return s
	}
	return dateText.ReplaceAllStringFunc(s, func(m string) string {
		y, _ := strconv.Atoi(m[:4])
		return strconv.Itoa(y+n) + m[4:]
	})
}

// ExampleBatch is the example registry (csvimport.ExampleBatch, 海景苑) with
// its completion and delivery dates moved by the shift.
func ExampleBatch() (*casework.ImportBatch, error) {
	b, err := csvimport.ExampleBatch()
	if err != nil {
		return nil, err
	}
	n := ShiftYears()
	move := func(d *casework.Date) {
		if !d.IsZero() {
			d.Year += n
		}
	}
	for i := range b.Units {
		u := &b.Units[i]
		move(&u.ProjectCompletion)
		move(&u.BuildingCompletion)
		move(&u.Delivery)
	}
	return b, nil
}

// Clock is a fake clock for tests. One made by New stands still until Set or
// Advance moves it; one made by NewRunning moves with the real time from its
// start, as River's leader and retries need, and can be moved on or frozen
// too. It is safe for concurrent use.
type Clock struct {
	mu    sync.Mutex
	at    time.Time
	since time.Time // the real time when at was read; zero: standing still
}

// New returns a Clock standing at t.
func New(t time.Time) *Clock { return &Clock{at: t} }

// NewRunning returns a Clock at t that moves on with the real time.
func NewRunning(t time.Time) *Clock { return &Clock{at: t, since: time.Now()} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now()
}

func (c *Clock) now() time.Time {
	if c.since.IsZero() {
		return c.at
	}
	return c.at.Add(time.Since(c.since))
}

// Set puts the clock at t; a running clock goes on from there.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = t
	if !c.since.IsZero() {
		c.since = time.Now()
	}
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = c.now().Add(d)
	if !c.since.IsZero() {
		c.since = time.Now()
	}
}

// Freeze stops a running clock where it is: from then on it moves only by
// Set and Advance.
func (c *Clock) Freeze() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at, c.since = c.now(), time.Time{}
}
