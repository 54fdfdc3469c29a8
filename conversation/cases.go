package conversation

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/lifecycle"
)

var caseNumberRE = regexp.MustCompile(`(?i)\b([A-Z][A-Z0-9]{0,7}-\d{8}-\d{4,})\b`)

// caseNumberIn finds a case number (SH-20261127-0042) in what the owner typed.
func caseNumberIn(text string) (string, bool) {
	m := caseNumberRE.FindStringSubmatch(text)
	if m == nil {
		return "", false
	}
	return strings.ToUpper(m[1]), true
}

// ownerCases returns the cases the account may see, newest first: a proven
// owner's, or, before the account proved who it is, the ones it reported.
func (t *turn) ownerCases(states []casework.State, limit int) ([]*casework.Case, error) {
	f := casework.CaseFilter{States: states, Limit: limit}
	if t.verified() {
		f.OwnerID = t.id.OwnerID
	} else {
		f.ReporterPlatform, f.ReporterUserID = string(t.in.User.Platform), t.in.User.ID
	}
	cases, _, err := t.e.cfg.Store.FindCases(t.ctx, f)
	if err != nil {
		return nil, fmt.Errorf("find cases: %w", err)
	}
	return cases, nil
}

// maySee reports whether the account may see and act on c: a proven owner
// their cases, any account the cases it reported. Another's case is "not
// found", whatever its number.
func (t *turn) maySee(c *casework.Case) bool {
	if t.verified() && c.OwnerID == t.id.OwnerID {
		return true
	}
	return c.ReporterPlatform == string(t.in.User.Platform) && c.ReporterUserID == t.in.User.ID
}

// myCases lists the owner's cases with their state and next step (进度查询).
func (t *turn) myCases() error {
	t.reset()
	cases, err := t.ownerCases(nil, 10)
	if err != nil {
		return err
	}
	if len(cases) == 0 {
		key := "no_cases"
		if !t.verified() {
			key = "no_cases.unverified"
		}
		t.ask(t.T(key), t.choice("choice.report", "menu:report"), t.choice("choice.menu", "menu:menu"))
		return nil
	}
	var b strings.Builder
	b.WriteString(t.T("cases.head"))
	choices := make([]bot.Choice, 0, len(cases))
	for _, c := range cases {
		fmt.Fprintf(&b, "\n\n%s · %s\n%s：%s\n%s", c.Number, t.caseTitle(c),
			t.T("field.state"), t.T("state."+string(c.State)), t.T("nextstep."+string(c.State)))
		choices = append(choices, bot.Choice{Label: c.Number, Payload: "case:" + c.Number})
	}
	if !t.verified() {
		b.WriteString("\n\n")
		b.WriteString(t.T("cases.unverified"))
	}
	// One message, one question: the list, then what to do with it.
	t.sayText(b.String())
	t.ask(t.T("cases.pick"), choices...)
	return nil
}

func (t *turn) caseTitle(c *casework.Case) string {
	title := t.T("sub." + string(c.Subcategory))
	if c.Subcategory == casework.SubOther {
		title = t.T("category." + string(c.Category))
	}
	return title + " · " + c.ReceivedAt.In(t.e.cfg.Location).Format("2006-01-02")
}

// caseDetail shows one of the owner's cases with its timeline. Another
// owner's case is not found, whatever its number.
func (t *turn) caseDetail(number string) error {
	c, err := t.e.cfg.Store.FindCaseByNumber(t.ctx, number)
	if errors.Is(err, casework.ErrNotFound) || (err == nil && !t.maySee(c)) {
		t.say("case_not_found", "number", number)
		return t.menu()
	}
	if err != nil {
		return fmt.Errorf("find case: %w", err)
	}
	events, err := t.e.cfg.Store.ListCaseEvents(t.ctx, c.ID)
	if err != nil {
		return fmt.Errorf("case events: %w", err)
	}
	loc := t.e.cfg.Location
	var b strings.Builder
	fmt.Fprintf(&b, "%s · %s", c.Number, t.caseTitle(c))
	b.WriteString(t.field("field.state", t.T("state."+string(c.State))))
	b.WriteString(t.field("field.description", truncateRunes(c.Description, 200)))
	fmt.Fprintf(&b, "\n%s", t.T("nextstep."+string(c.State)))
	if c.ResolveBy != nil && c.Open() && c.ResolvedAt == nil {
		fmt.Fprintf(&b, "\n%s", t.T("next.resolve", "at", c.ResolveBy.In(loc).Format("2006-01-02 15:04")))
	}
	b.WriteString("\n\n")
	b.WriteString(t.T("timeline.head"))
	done := map[casework.Action]bool{} // the changes made before e
	for _, e := range events {
		what := t.timelineText(c, e, done)
		if e.Kind == casework.EventTransition {
			done[e.Action] = true
		}
		if what == "" {
			continue // notes are for staff
		}
		fmt.Fprintf(&b, "\n%s %s", e.At.In(loc).Format("01-02 15:04"), what)
	}
	var choices []bot.Choice
	if c.Open() {
		choices = append(choices, t.choice("choice.urge", "urge:"+c.Number))
	}
	if t.mayWithdraw(c) {
		choices = append(choices, t.choice("choice.withdraw", "withdraw:"+c.Number))
	}
	choices = append(choices, t.choice("choice.menu", "menu:menu"))
	t.ask(b.String(), choices...)
	return nil
}

// timelineActions are the changes the owner's history (处理记录) says by
// what happened rather than by the state it led to: a state reached again
// (the plan disagreed with is back at 已现场勘查, a visit rebooked is
// 已预约上门 again) would read as the same step twice, and the survey is
// the owner's rating, not the return visit (回访) that comes later.
var timelineActions = map[casework.Action]string{
	casework.ActionDisagreePlan: "timeline.disagreed",
	casework.ActionSurvey:       "timeline.surveyed",
	casework.ActionOwnerReject:  "timeline.not_fixed",
}

// answerActions are the changes of a case answered rather than repaired
// (a question, a complaint: Category.GetsWorkOrder is false), said in an
// answer's words.
var answerActions = map[casework.Action]string{
	casework.ActionAnswer:      "timeline.answered",
	casework.ActionOwnerAccept: "timeline.settled",
	casework.ActionOwnerReject: "timeline.unsettled",
}

// timelineText says one entry of c's timeline as its owner reads it in the
// history of "my reports", or "" for an entry that is for staff (a note, a
// message); done are the changes made before it.
func (t *turn) timelineText(c *casework.Case, e *casework.Event, done map[casework.Action]bool) string {
	switch e.Kind {
	case casework.EventCreated:
		return t.T("timeline.created")
	case casework.EventUrge:
		return t.T("timeline.urged")
	case casework.EventTransition:
	default:
		return ""
	}
	if key, ok := answerActions[e.Action]; ok && !c.Category.GetsWorkOrder() {
		return t.T(key)
	}
	if key, ok := timelineActions[e.Action]; ok {
		return t.T(key)
	}
	again := done[e.Action] && e.From != casework.StateReopened // a repeat repair starts over
	switch {
	case again && e.Action == casework.ActionSchedule:
		return t.T("timeline.rebooked")
	case again && e.Action == casework.ActionProposePlan:
		return t.T("timeline.plan_revised")
	case again && e.Action == casework.ActionDispatch:
		return t.T("timeline.reassigned") // another engineer, or the order sent again
	}
	return t.T("state." + string(e.To))
}

func promptUrgePick(t *turn) error {
	cases, err := t.ownerCases(openStates, 10)
	if err != nil {
		return err
	}
	if len(cases) == 0 {
		t.reset()
		t.ask(t.T("no_open_cases"), t.choice("choice.report", "menu:report"), t.choice("choice.menu", "menu:menu"))
		return nil
	}
	choices := make([]bot.Choice, 0, len(cases))
	for _, c := range cases {
		choices = append(choices, bot.Choice{Label: c.Number + " " + t.caseTitle(c), Payload: "urge:" + c.Number})
	}
	t.ask(t.T("ask.urge"), choices...)
	return nil
}

func handleUrgePick(t *turn, in input) error {
	number, ok := strings.CutPrefix(in.payload, "urge:")
	if ok {
		return t.urge(number)
	}
	number, ok = caseNumberIn(in.text)
	if !ok {
		return again("pick_one")
	}
	return t.urgeSaying(number, urgeWords(in.text))
}

// urgeWords is what the owner said with a case number they typed to urge
// it ("SH-20261127-0001 三天了还没人来"): the text without the number, if it
// has words; "" otherwise.
func urgeWords(text string) string {
	words := strings.TrimSpace(caseNumberRE.ReplaceAllString(text, " "))
	words = strings.TrimFunc(words, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) })
	if !hasWords(words, 2) {
		return ""
	}
	return truncateRunes(words, 500)
}

// urge urges (催办) an open case of the owner's, at most once per
// UrgeInterval, and tells the owner who was alerted: with the lifecycle on,
// the engineer who has the order and, on a second urge or an overdue case,
// the supervisors (lifecycle.Service.Urge); the department's staff see
// every urged case in the console.
func (t *turn) urge(number string) error { return t.urgeSaying(number, "") }

// urgeSaying urges case number with the owner's words, which the people
// alerted read.
func (t *turn) urgeSaying(number, words string) error {
	t.reset()
	lc := t.e.cfg.Lifecycle
	if lc == nil {
		return t.urgeForStaff(number, words)
	}
	u, err := lc.Urge(t.ctx, t.who(), number, words, t.e.cfg.UrgeInterval)
	var soon *lifecycle.UrgeTooSoonError
	switch {
	case errors.Is(err, casework.ErrNotFound), errors.Is(err, lifecycle.ErrForbidden):
		t.say("case_not_found", "number", number)
		return t.menu()
	case errors.Is(err, lifecycle.ErrNotOpen):
		t.say("urge_closed", "number", number)
		return t.menu()
	case errors.As(err, &soon):
		t.say("urge_too_soon", "number", soon.Number, "next", soon.Next.In(t.e.cfg.Location).Format("01-02 15:04"))
		return nil
	case err != nil:
		return t.lcFail(err)
	}
	key := "urged.staff"
	if u.Engineer != "" {
		key = "urged.engineer"
	}
	if u.Supervisors {
		key += "_sup" // and the supervisors
	}
	t.say(key, "number", u.Case.Number, "name", u.Engineer, "hours", strconv.Itoa(int(t.e.cfg.UrgeInterval/time.Hour)))
	return nil
}

// urgeForStaff records the owner's urge of an open case, with their words,
// for the staff's console, at most once per UrgeInterval, when no lifecycle
// alerts anyone in chat.
func (t *turn) urgeForStaff(number, words string) error {
	c, err := t.e.cfg.Store.FindCaseByNumber(t.ctx, number)
	if errors.Is(err, casework.ErrNotFound) || (err == nil && !t.maySee(c)) {
		t.say("case_not_found", "number", number)
		return t.menu()
	}
	if err != nil {
		return fmt.Errorf("find case: %w", err)
	}
	if !c.Open() {
		t.say("urge_closed", "number", c.Number)
		return t.menu()
	}
	events, err := t.e.cfg.Store.ListCaseEvents(t.ctx, c.ID)
	if err != nil {
		return fmt.Errorf("case events: %w", err)
	}
	if n, last := lifecycle.Urges(events); n > 0 && t.now.Sub(last) < t.e.cfg.UrgeInterval {
		next := last.Add(t.e.cfg.UrgeInterval).In(t.e.cfg.Location).Format("01-02 15:04")
		t.say("urge_too_soon", "number", c.Number, "next", next)
		return nil
	}
	note := "业主催办 urged by the owner; alerted: staff in the console"
	if words != "" {
		note += "; the owner says: " + words
	}
	ev := &casework.Event{CaseID: c.ID, At: t.now, Actor: t.who().Actor(), Kind: casework.EventUrge, Note: note}
	if err := t.e.cfg.Store.AddCaseEvent(t.ctx, ev); err != nil {
		return fmt.Errorf("record urge: %w", err)
	}
	t.e.cfg.Logger.Info("case urged", "case_id", c.ID, "case_number", c.Number)
	t.say("urged.staff", "number", c.Number, "hours", strconv.Itoa(int(t.e.cfg.UrgeInterval/time.Hour)))
	return nil
}
