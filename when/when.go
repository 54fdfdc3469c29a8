// Package when reads a visit time as people type it, in Chinese or English:
// "今晚8点", "明天下午两点到四点", "周六上午", "12-08 19:30", "12月8日19:30",
// "12/8 7pm", "tomorrow 7pm", "Saturday morning", "tonight 8".
//
// Parse resolves the words against a given now in that now's time zone (the
// department's), so that "明天" is the department's tomorrow whatever the
// server's zone. It reads one point in time: of a range ("两点到四点") it
// keeps the start. What it cannot read is an error, never a guess.
package when

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// ErrUnreadable is returned for words that name no time Parse can read, and
// for a day without an hour or a part of the day ("明天").
var ErrUnreadable = errors.New("when: no time read")

// ErrPast is returned, with the time read, when that time is not after now
// and the words named the day ("今天早上8点" at noon): the writer meant that
// day, so moving it to another would be a guess.
var ErrPast = errors.New("when: time has passed")

// Default hours for a part of the day named without an hour ("周六上午").
const (
	MorningHour   = 9
	AfternoonHour = 14
	EveningHour   = 19
)

// part is a part of the day: it sets the default hour and whether a
// 12-hour clock hour is before or after noon.
type part int

const (
	noPart part = iota
	morning
	noon
	afternoon
	evening
)

var (
	// Days relative to today; the longer words come first.
	reRelDay = regexp.MustCompile(`大后天|大後天|后天|後天|明天|明日|明晚|明早|今天|今日|今晚|今早|day after tomorrow|tomorrow|today|tonight`)
	// A month and a day: "12月8日", "12-08", "12/8".
	reMonthDay = regexp.MustCompile(`(\d{1,2})\s*月\s*(\d{1,2})\s*[日号號]?|(?:^|[^\d:])(\d{1,2})[-/.](\d{1,2})(?:$|[^\d:a-z点點时時])`)
	// A weekday: "周六", "星期日", "下周一", "Saturday", "sat".
	reWeekday = regexp.MustCompile(`(下)?(?:周|週|星期|礼拜|禮拜)([一二三四五六日天1-7])|(?:(next|this)\s+)?\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)\b`)
	// A part of the day, in the order they are tried.
	reParts = []struct {
		re *regexp.Regexp
		p  part
	}{
		{regexp.MustCompile(`凌晨|早上|早晨|上午|明早|今早|清早|morning|\d\s*(am|a\.m\.)`), morning},
		{regexp.MustCompile(`中午|\bnoon\b|midday`), noon},
		{regexp.MustCompile(`下午|afternoon|\d\s*(pm|p\.m\.)`), afternoon},
		{regexp.MustCompile(`晚上|傍晚|今晚|明晚|晚|evening|tonight|night`), evening},
	}
	// A clock time "19:30" or "7:30".
	reClock = regexp.MustCompile(`(\d{1,2})[:：](\d{2})`)
	// A Chinese hour "8点", "两点半", "七点一刻", "十点三十分", "8时15".
	reHanHour = regexp.MustCompile(`([0-9]{1,2}|[零一二两兩三四五六七八九十]+)\s*[点點时時](?:\s*(半|一刻|三刻|([0-9]{1,2}|[零一二两兩三四五六七八九十]+)\s*分?))?`)
	// A bare hour, read only beside a part of the day or "at": "7pm", "tonight 8".
	reBareHour = regexp.MustCompile(`(?:^|[^\d])(\d{1,2})(?:$|[^\d])`)
	// A range's end: everything from "到", "至", "~", "-" or "to" on.
	reRangeEnd = regexp.MustCompile(`\s*(到|至|~|～|—|–|-|\bto\b|\buntil\b|\btill\b).*$`)
	// Words that may stand around a time and say nothing more.
	reFiller = regexp.MustCompile(`\b(at|on|around|about|the|this|in|of|o'clock|oclock|am|pm|a\.m\.|p\.m\.)\b|左右|前后|前後|的|在|大概|大约|号|號|日|,|，|。|\.`)
)

// Parse reads s as one point in time relative to now, in now's location.
//
// A day may be named (今天, 明天, 后天, a weekday, a month and day) or left
// out; an hour may be given (8点, 两点半, 19:30, 7pm) or stand for a part of
// the day with its default hour (上午 9:00, 下午 14:00, 晚上 19:00). An hour
// from 1 to 6 without a part of the day is in the afternoon ("明天两点" is
// 14:00): nobody books a visit at two in the night.
//
// Without a day, a time already past today is tomorrow's. With a day named,
// a past time is returned with ErrPast; a month and day before today is next
// year's. Anything else is ErrUnreadable.
func Parse(s string, now time.Time) (time.Time, error) {
	loc := now.Location()
	now = now.In(loc)
	rest := normalize(s)
	if rest == "" {
		return time.Time{}, ErrUnreadable
	}

	// The day.
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	var day time.Time
	named := false
	if m := reMonthDay.FindStringSubmatchIndex(rest); m != nil {
		mo, d := atoi(rest, m, 2), atoi(rest, m, 4)
		if m[2] < 0 {
			mo, d = atoi(rest, m, 6), atoi(rest, m, 8)
		}
		if mo < 1 || mo > 12 || d < 1 || d > 31 {
			return time.Time{}, ErrUnreadable
		}
		day = time.Date(now.Year(), time.Month(mo), d, 0, 0, 0, 0, loc)
		if day.Day() != d { // 2月30日
			return time.Time{}, ErrUnreadable
		}
		if day.Before(today) {
			day = day.AddDate(1, 0, 0)
		}
		named = true
		rest = blank(rest, m[0], m[1])
	}
	if m := reRelDay.FindStringIndex(rest); m != nil {
		if named {
			return time.Time{}, ErrUnreadable // two days named
		}
		w := rest[m[0]:m[1]]
		n := 0
		switch {
		case strings.HasPrefix(w, "大"):
			n = 3
		case strings.HasPrefix(w, "后"), strings.HasPrefix(w, "後"), w == "day after tomorrow":
			n = 2
		case strings.HasPrefix(w, "明"), w == "tomorrow":
			n = 1
		}
		day, named = today.AddDate(0, 0, n), true
		// 今晚, 明早, tonight: the part of the day stays for reParts below.
		if !strings.ContainsAny(w, "晚早") && w != "tonight" {
			rest = blank(rest, m[0], m[1])
		}
	}
	if m := reWeekday.FindStringSubmatchIndex(rest); m != nil {
		if named {
			return time.Time{}, ErrUnreadable
		}
		var wd time.Weekday
		next := false
		if m[4] >= 0 {
			wd = hanWeekday(rest[m[4]:m[5]])
			next = m[2] >= 0
		} else {
			wd = enWeekday(rest[m[8]:m[9]])
			next = m[6] >= 0 && rest[m[6]:m[7]] == "next"
		}
		ahead := (int(wd) - int(now.Weekday()) + 7) % 7
		if next { // 下周六: the weekday in the next week, weeks starting on Monday
			monday := (int(now.Weekday()) + 6) % 7
			ahead = 7 - monday + (int(wd)+6)%7
		}
		day, named = today.AddDate(0, 0, ahead), true
		rest = blank(rest, m[0], m[1])
	}

	// The part of the day, read before the range is cut so "7-9pm" keeps pm.
	// Two parts may be named only when they agree on the half of the day
	// ("tonight 8pm"); "tomorrow morning 8pm" is unreadable.
	p := noPart
	for _, rp := range reParts {
		m := rp.re.FindStringIndex(rest)
		if m == nil {
			continue
		}
		if p != noPart && !(p >= afternoon && rp.p >= afternoon) {
			return time.Time{}, ErrUnreadable
		}
		if p == noPart {
			p = rp.p
		}
		if w := rest[m[0]:m[1]]; !unicode.IsDigit(rune(w[0])) { // keep the hour of "7pm"
			rest = blank(rest, m[0], m[1])
		}
	}
	rest = reRangeEnd.ReplaceAllString(rest, "")

	// The hour.
	hour, minute := -1, 0
	if m := reClock.FindStringSubmatchIndex(rest); m != nil {
		hour, minute = atoi(rest, m, 2), atoi(rest, m, 4)
		rest = blank(rest, m[0], m[1])
	} else if m := reHanHour.FindStringSubmatchIndex(rest); m != nil {
		hour = number(rest[m[2]:m[3]])
		if m[4] >= 0 {
			switch w := rest[m[4]:m[5]]; w {
			case "半":
				minute = 30
			case "一刻":
				minute = 15
			case "三刻":
				minute = 45
			default:
				minute = number(rest[m[6]:m[7]])
			}
		}
		rest = blank(rest, m[0], m[1])
	} else if m := reBareHour.FindStringSubmatchIndex(rest); m != nil && p != noPart {
		hour = atoi(rest, m, 2)
		rest = blank(rest, m[2], m[3])
	}
	if strings.TrimSpace(reFiller.ReplaceAllString(rest, " ")) != "" {
		return time.Time{}, ErrUnreadable // words left that are not a time
	}

	switch {
	case hour < 0 && p == noPart:
		return time.Time{}, ErrUnreadable // "明天": which hour?
	case hour < 0:
		hour = map[part]int{morning: MorningHour, noon: 12, afternoon: AfternoonHour, evening: EveningHour}[p]
	case hour > 23 || minute < 0 || minute > 59:
		return time.Time{}, ErrUnreadable
	case hour > 12:
		if p == morning {
			return time.Time{}, ErrUnreadable // "上午14点"
		}
	case p == afternoon || p == evening:
		if hour < 12 {
			hour += 12
		}
	case p == morning:
		if hour == 12 {
			hour = 0
		}
	case p == noon:
		if hour <= 2 { // 中午1点
			hour += 12
		} else if hour != 11 && hour != 12 {
			return time.Time{}, ErrUnreadable
		}
	case hour >= 1 && hour <= 6:
		hour += 12
	}

	if !named {
		t := time.Date(today.Year(), today.Month(), today.Day(), hour, minute, 0, 0, loc)
		if !t.After(now) {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	t := time.Date(day.Year(), day.Month(), day.Day(), hour, minute, 0, 0, loc)
	if !t.After(now) {
		return t, ErrPast
	}
	return t, nil
}

// normalize folds full-width letters, digits and colons to ASCII, lowers
// the case and trims.
func normalize(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= '！' && r <= '～' {
			return r - '！' + '!'
		}
		if r == '\u3000' {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(strings.ToLower(s))
}

// blank replaces s[i:j] by spaces so that the indexes after it still hold
// and the pieces either side do not join.
func blank(s string, i, j int) string {
	return s[:i] + strings.Repeat(" ", j-i) + s[j:]
}

// atoi reads submatch n of m as a number, -1 when it did not match.
func atoi(s string, m []int, n int) int {
	if m[n] < 0 {
		return -1
	}
	v, err := strconv.Atoi(s[m[n]:m[n+1]])
	if err != nil {
		return -1
	}
	return v
}

// number reads "8", "十二", "两", "二十五", "三十" up to 99; -1 otherwise.
func number(s string) int {
	if v, err := strconv.Atoi(s); err == nil {
		return v
	}
	digit := map[rune]int{'零': 0, '一': 1, '二': 2, '两': 2, '兩': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}
	rs := []rune(s)
	tens, ones := 0, 0
	switch i := strings.IndexRune(s, '十'); {
	case i < 0:
		if len(rs) != 1 {
			return -1
		}
		return digit[rs[0]]
	case strings.Count(s, "十") > 1:
		return -1
	default:
		before, after := []rune(s[:i]), []rune(s[i+len("十"):])
		tens = 1
		if len(before) == 1 {
			tens = digit[before[0]]
		} else if len(before) > 1 {
			return -1
		}
		if len(after) == 1 {
			ones = digit[after[0]]
		} else if len(after) > 1 {
			return -1
		}
	}
	return tens*10 + ones
}

func hanWeekday(s string) time.Weekday {
	switch s {
	case "日", "天", "7":
		return time.Sunday
	case "1":
		return time.Monday
	}
	if v, err := strconv.Atoi(s); err == nil {
		return time.Weekday(v)
	}
	return time.Weekday(number(s))
}

func enWeekday(s string) time.Weekday {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.HasPrefix(strings.ToLower(d.String()), s[:3]) {
			return d
		}
	}
	return time.Sunday
}
