package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/l10n"
)

// The owner's urging (催办): an urge reaches the people who can act on the
// case. The engineer who has its work order is alerted in chat, in their
// language, with how long the owner has waited and what they said; on the
// case's second urge, or when the case is overdue, the supervisors too. The
// department's staff see every urged case in the console (marked on the
// list and the case page, counted on the dashboard). The owner is told who
// was alerted.

// DefaultUrgeInterval is the least time between two urges of a case when
// the caller names none.
const DefaultUrgeInterval = 12 * time.Hour

// ErrNotOpen: the case is no longer open — closed, not accepted or
// withdrawn — and there is nothing to urge.
var ErrNotOpen = errors.New("the case is no longer open")

// UrgeTooSoonError refuses an urge that comes within the interval of the
// case's last one; the case may be urged again from Next.
type UrgeTooSoonError struct {
	Number string
	Next   time.Time
}

func (e *UrgeTooSoonError) Error() string {
	return fmt.Sprintf("case %s was urged recently; again from %s", e.Number, e.Next.UTC().Format(time.RFC3339))
}

// Urged is what an urge did: who was alerted, and when the case may be
// urged again.
type Urged struct {
	Case *casework.Case
	// Count is how many times the case was urged, this urge included.
	Count int
	// Engineer names the engineer alerted in chat: the member who has the
	// case's work order. "" when none was — no work order in their hands,
	// or no chat account bound: the staff see the urge in the console.
	Engineer string
	// Supervisors reports whether the supervisors were alerted in chat:
	// the case's second urge or more, or an overdue case.
	Supervisors bool
	// Next is the earliest the owner may urge the case again.
	Next time.Time
}

// Urges counts the urges (casework.EventUrge) of a case's timeline and
// returns when the last was; zero when there was none.
func Urges(events []*casework.Event) (n int, last time.Time) {
	for _, e := range events {
		if e.Kind == casework.EventUrge {
			n++
			if e.At.After(last) {
				last = e.At
			}
		}
	}
	return n, last
}

// engineerStates are the states in which the engineer who has the work
// order is the one to act.
var engineerStates = []casework.State{
	casework.StateDispatched, casework.StateScheduled, casework.StateInspected, casework.StatePlanProposed,
	casework.StatePlanAgreed, casework.StateInProgress, casework.StateReopened,
}

// maxUrgeWords bounds what the owner says with an urge.
const maxUrgeWords = 500

// Urge records the owner's urging (催办) of their open case number and, in
// the same transaction, alerts the people who can act on it: the engineer
// who has its work order (in chat, in their language, with the case, how
// long the owner has waited and words, what the owner said with the urge,
// if anything) and — on the case's second urge or when it is overdue — the
// supervisors. every is the least time between two urges of a case (0:
// DefaultUrgeInterval).
//
// Errors: casework.ErrNotFound for no such case; ErrForbidden when the
// account neither reported the case nor proved to be its owner; ErrNotOpen
// for a case no longer open; *UrgeTooSoonError within every of the last
// urge; a *casework.ValidationError of "words" when they are too long.
func (s *Service) Urge(ctx context.Context, who Who, number, words string, every time.Duration) (*Urged, error) {
	if every <= 0 {
		every = DefaultUrgeInterval
	}
	words, err := optionalText("words", words, maxUrgeWords)
	if err != nil {
		return nil, err
	}
	c, err := s.ownerCase(ctx, who, number)
	if err != nil {
		return nil, err
	}
	if !c.Open() {
		return nil, fmt.Errorf("urge %s: %w", c.Number, ErrNotOpen)
	}
	events, err := s.cfg.Store.ListCaseEvents(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("timeline of %s: %w", c.Number, err)
	}
	now := s.now()
	n, last := Urges(events)
	if n > 0 && now.Sub(last) < every {
		return nil, &UrgeTooSoonError{Number: c.Number, Next: last.Add(every)}
	}
	u := &Urged{Case: c, Count: n + 1, Next: now.Add(every)}
	overdue := c.Overdue(now)
	var eff casework.Effects
	told := []string{"staff in the console"}

	if c.AssigneeID != 0 && slices.Contains(engineerStates, c.State) {
		m, err := s.cfg.Store.FindMemberByID(ctx, c.AssigneeID)
		if err != nil {
			return nil, fmt.Errorf("engineer of %s: %w", c.Number, err)
		}
		engineers, err := s.memberChats(ctx, m.ID)
		if err != nil {
			return nil, err
		}
		if len(engineers) > 0 {
			ns, err := s.urgeEngineer(ctx, c, engineers, u.Count, now, words)
			if err != nil {
				return nil, err
			}
			eff.Messages = append(eff.Messages, outbox(c.ID, "urge", ns...)...)
			u.Engineer = m.Name
			told = append(told, "engineer "+m.Name)
		}
	}
	if u.Count >= 2 || overdue {
		sup, err := s.supervisorChats(ctx)
		if err != nil {
			return nil, err
		}
		eff.Messages = append(eff.Messages, outbox(c.ID, "urge", s.staffNotices(ctx, c, sup, "staff.urged", func(lang l10n.Lang) []string {
			return []string{"n", strconv.Itoa(u.Count), "late", urgeLate(lang, overdue), "waited", waitedText(lang, now.Sub(c.ReceivedAt)), "words", wordsLine(lang, words)}
		})...)...)
		if len(sup) > 0 {
			u.Supervisors = true
			why := "the 2nd urge or more"
			if overdue {
				why = "overdue"
			}
			told = append(told, "the supervisors ("+why+")")
		}
	}

	note := fmt.Sprintf("业主催办 urged by the owner (%d); alerted: %s", u.Count, strings.Join(told, ", "))
	if words != "" {
		note += "; the owner says: " + words
	}
	if err := s.event(ctx, c, casework.EventUrge, who.Actor(), note, eff); err != nil {
		return nil, err
	}
	s.cfg.Logger.Info("case urged", "case_id", c.ID, "case_number", c.Number, "urges", u.Count,
		"engineer_alerted", u.Engineer != "", "supervisors_alerted", u.Supervisors, "overdue", overdue)
	return u, nil
}

// urgeEngineer composes the alert of an urge for the engineer's accounts:
// the case, how long the owner has waited, their words, and the buttons of
// the work order as it now is.
func (s *Service) urgeEngineer(ctx context.Context, c *casework.Case, rs []recipient, count int, now time.Time, words string) ([]notice, error) {
	taken, err := s.taken(ctx, c)
	if err != nil {
		return nil, err
	}
	address := s.address(ctx, c)
	if address == "" {
		address = "—"
	}
	out := make([]notice, 0, len(rs))
	for _, r := range rs {
		text := T(r.lang, "engineer.urged", "number", c.Number, "n", strconv.Itoa(count), "task", problemText(r.lang, c),
			"address", address, "owner", c.OwnerName, "waited", waitedText(r.lang, now.Sub(c.ReceivedAt)), "words", wordsLine(r.lang, words))
		out = append(out, notice{to: r, text: text, choices: orderChoices(r.lang, c, taken)})
	}
	return out, nil
}

// urgeLate marks an urge of an overdue case in the supervisors' notice.
func urgeLate(lang l10n.Lang, overdue bool) string {
	if !overdue {
		return ""
	}
	return T(lang, "urge.late")
}

// wordsLine is the line of a notice that gives the owner's words, with the
// newline before it; "" when they said nothing.
func wordsLine(lang l10n.Lang, words string) string {
	if words == "" {
		return ""
	}
	return "\n" + T(lang, "urge.words", "words", words)
}

// waitedText says how long someone has waited, for people: "40 分钟",
// "5 小时", "3 days" — minutes up to an hour, hours up to two days, days
// after, rounded down.
func waitedText(lang l10n.Lang, d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d < 2*time.Minute:
		return T(lang, "wait.minute")
	case d < time.Hour:
		return T(lang, "wait.minutes", "n", strconv.Itoa(int(d/time.Minute)))
	case d < 2*time.Hour:
		return T(lang, "wait.hour")
	case d < 2*day:
		return T(lang, "wait.hours", "n", strconv.Itoa(int(d/time.Hour)))
	}
	return T(lang, "wait.days", "n", strconv.Itoa(int(d/day)))
}

// The texts of urging, in the catalogue.
func init() {
	for _, c := range []struct{ dst, src map[string]string }{{zh, urgeZH}, {en, urgeEN}} {
		for k, v := range c.src {
			if _, dup := c.dst[k]; dup {
				panic("lifecycle: text " + k + " given twice")
			}
			c.dst[k] = v
		}
	}
}

var urgeZH = map[string]string{
	"engineer.urged": "【业主催办】{number}（第 {n} 次催办）\n任务：{task}\n地址：{address}\n业主 {owner} 已等待 {waited}，请尽快跟进并与业主联系。{words}",
	"staff.urged":    "业主第 {n} 次催办：{number}{late}\n负责人：{assignee}\n业主已等待 {waited}\n{summary}{words}",
	"urge.late":      "（已超时）",
	"urge.words":     "业主留言：{words}",
	"wait.minute":    "1 分钟",
	"wait.minutes":   "{n} 分钟",
}

var urgeEN = map[string]string{
	"engineer.urged": "[The owner is chasing] {number} (urge {n})\nTask: {task}\nAddress: {address}\nThe owner, {owner}, has waited {waited}. Please follow up and contact them soon.{words}",
	"staff.urged":    "The owner urges {number} (urge {n}){late}\nIn the hands of: {assignee}\nThe owner has waited {waited}\n{summary}{words}",
	"urge.late":      " (overdue)",
	"urge.words":     "The owner says: {words}",
	"wait.minute":    "a minute",
	"wait.minutes":   "{n} minutes",
}
