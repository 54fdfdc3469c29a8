package casework

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// What the registration form (《客户诉求登记表》) takes as people say it, the
// same in the chat's dialogue and in staff's registration.

var (
	isoDate   = regexp.MustCompile(`^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$`)
	monthDay  = regexp.MustCompile(`^(\d{1,2})[-/.月](\d{1,2})[日号]?$`)
	daysAgoRE = regexp.MustCompile(`^(\d{1,3})\s*(天前|days? ago)$`)
)

// ParseDay reads a day as owners write it: 2026-11-20, 2026年11月20日,
// 11月20日, 11/20, 今天, 昨天, 前天, yesterday, 3天前, 3 days ago — as of
// today, in today's location. A month and day without a year that would be
// after today mean last year's.
func ParseDay(text string, today time.Time) (time.Time, bool) {
	s := strings.ToLower(strings.TrimSpace(text))
	day := func(t time.Time) time.Time { y, m, d := t.Date(); return time.Date(y, m, d, 0, 0, 0, 0, t.Location()) }
	switch s {
	case "今天", "today":
		return day(today), true
	case "昨天", "yesterday":
		return day(today.AddDate(0, 0, -1)), true
	case "前天":
		return day(today.AddDate(0, 0, -2)), true
	}
	if m := daysAgoRE.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		return day(today.AddDate(0, 0, -n)), true
	}
	y, mo, d := 0, 0, 0
	if m := isoDate.FindStringSubmatch(s); m != nil {
		y, _ = strconv.Atoi(m[1])
		mo, _ = strconv.Atoi(m[2])
		d, _ = strconv.Atoi(m[3])
	} else if m := monthDay.FindStringSubmatch(s); m != nil {
		y = today.Year()
		mo, _ = strconv.Atoi(m[1])
		d, _ = strconv.Atoi(m[2])
	} else {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, today.Location())
	if t.Month() != time.Month(mo) || t.Day() != d {
		return time.Time{}, false
	}
	if y == today.Year() && t.After(today) && isoDate.FindStringSubmatch(s) == nil {
		t = t.AddDate(-1, 0, 0) // "12月20日" said in January means last December
	}
	return t, true
}

// maxOccurredRunes bounds the words kept of when a problem started
// (Case.OccurredText).
const maxOccurredRunes = 100

// The refusals of ParseOccurred: *ValidationError values of the field
// "occurred", each matched by errors.Is (and ErrInvalid matches them all).
var (
	// ErrOccurredFuture: the day named is after today.
	ErrOccurredFuture = &ValidationError{Field: "occurred", Reason: "is a day after today"}
	// ErrOccurredDay: neither a plausible day (at most 30 years ago) nor
	// words.
	ErrOccurredDay = &ValidationError{Field: "occurred", Reason: "is neither a day like 2026-03-01, 昨天, 3天前 nor words"}
)

// ParseOccurred reads when a problem started (发生时间) as a person says it,
// as of today: a day (ParseDay) — returned with the text as said — or words
// ("上个月", "since the rain"), kept up to 100 characters, with no day. A
// day after today is refused with ErrOccurredFuture; one more than 30 years
// ago, or text with fewer than two letters or digits, with ErrOccurredDay.
func ParseOccurred(text string, today time.Time) (day *time.Time, words string, err error) {
	if d, ok := ParseDay(text, today); ok {
		switch {
		case d.After(today):
			return nil, "", ErrOccurredFuture
		case d.Before(today.AddDate(-30, 0, 0)):
			return nil, "", ErrOccurredDay
		}
		return &d, text, nil
	}
	if !HasWords(text, 2) {
		return nil, "", ErrOccurredDay
	}
	return nil, TruncateRunes(text, maxOccurredRunes), nil
}

// HasWords reports whether s has at least n letters or digits (emoji and
// punctuation alone are not an answer).
func HasWords(s string, n int) bool {
	c := 0
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			c++
			if c >= n {
				return true
			}
		}
	}
	return false
}

// TruncateRunes returns s cut to at most n characters.
func TruncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// MediaKindOf is the kind of an attachment of the content type: a photo, a
// video, a voice message, or else a document.
func MediaKindOf(contentType string) MediaKind {
	switch {
	case strings.HasPrefix(contentType, "image/"):
		return MediaPhoto
	case strings.HasPrefix(contentType, "video/"):
		return MediaVideo
	case strings.HasPrefix(contentType, "audio/"):
		return MediaVoice
	}
	return MediaDocument
}

// MaxOwnersByName bounds what RegistryStore.FindOwnersByName returns: a name
// shared by more people is no way to find one of them.
const MaxOwnersByName = 50
