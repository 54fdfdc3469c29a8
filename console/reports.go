package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/staff"
)

// planJSON is the engineer's findings and repair plan.
type planJSON struct {
	Cause          string     `json:"cause"`
	Responsibility string     `json:"responsibility"`
	Content        string     `json:"content"`
	Duration       string     `json:"duration"`
	Disruptions    []string   `json:"disruptions"`
	StartAt        *time.Time `json:"start_at"`
}

func newPlanJSON(p *casework.Plan) *planJSON {
	if p == nil {
		return nil
	}
	out := &planJSON{Cause: p.Cause, Responsibility: string(p.Responsibility), Content: p.Content, Duration: p.Duration,
		Disruptions: make([]string, 0, len(p.Disruptions)), StartAt: p.StartAt}
	for _, d := range p.Disruptions {
		out.Disruptions = append(out.Disruptions, string(d))
	}
	return out
}

// surveyJSON is the owner's satisfaction survey.
type surveyJSON struct {
	Speed      int       `json:"speed"`
	Attitude   int       `json:"attitude"`
	Quality    int       `json:"quality"`
	Comment    string    `json:"comment"`
	AnsweredAt time.Time `json:"answered_at"`
}

func newSurveyJSON(s *casework.Survey) *surveyJSON {
	if s == nil {
		return nil
	}
	return &surveyJSON{Speed: s.Speed, Attitude: s.Attitude, Quality: s.Quality, Comment: s.Comment, AnsweredAt: s.AnsweredAt}
}

// outboxJSON is an outbound message of a case as the API shows it: where it
// went, why, and how its delivery went — never its content, and the chat
// account only in part.
type outboxJSON struct {
	ID        int64      `json:"id"`
	Platform  string     `json:"platform"`
	UserID    string     `json:"user_id"` // masked: the ends only
	Purpose   string     `json:"purpose"`
	Status    string     `json:"status"`
	Attempts  int        `json:"attempts"`
	LastError string     `json:"last_error"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at"`
}

func newOutboxJSON(m *casework.OutboxMessage) outboxJSON {
	return outboxJSON{
		ID: m.ID, Platform: m.Platform, UserID: maskUserID(m.UserID), Purpose: m.Purpose, Status: string(m.Status),
		Attempts: m.Attempts, LastError: m.LastError, CreatedAt: m.CreatedAt, SentAt: m.SentAt,
	}
}

// maskUserID hides the middle of a platform's user ID, keeping a quarter of
// it (at most four characters) at each end: enough to tell accounts apart,
// not to write to one. IDs of four characters or fewer are hidden whole.
func maskUserID(id string) string {
	r := []rune(id)
	n := len(r)
	if n <= 4 {
		return strings.Repeat("*", n)
	}
	keep := min(n/4, 4)
	return string(r[:keep]) + strings.Repeat("*", n-2*keep) + string(r[n-keep:])
}

// Why a work order waits in the staff API.
const (
	waitNoAssignee = "no_assignee" // dispatched to a party with no member
	waitNotBound   = "not_bound"   // the member has no reachable chat account bound
)

// waitingOrder is a work order no engineer received in chat.
type waitingOrder struct {
	Case         caseJSON `json:"case"`
	Reason       string   `json:"reason"`
	AssigneeName string   `json:"assignee_name,omitempty"`
}

// waitingList is the answer of GET /api/v1/work-orders/waiting.
type waitingList struct {
	WorkOrders []waitingOrder `json:"work_orders"`
	Total      int            `json:"total"`
}

// listWaitingOrders serves GET /api/v1/work-orders/waiting: the dispatched
// cases whose work order reached no one in chat — no assignee, or an
// assignee without a reachable chat account bound — newest first. Staff may
// filter by party_id; a party token sees its own party's only.
func (s *Server) listWaitingOrders(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := onlyParams(q, "party_id"); err != nil {
		return err
	}
	partyID, err := intParam(q, "party_id", true)
	if err != nil {
		return err
	}
	if u := callerOf(r).user; u.Role == staff.RoleParty {
		partyID = u.PartyID
	}
	ctx := r.Context()
	type assignee struct {
		name  string
		bound bool
	}
	assignees := map[int64]assignee{}
	out := waitingList{WorkOrders: []waitingOrder{}}
	now := s.cfg.NowFunc()
	f := casework.CaseFilter{States: []casework.State{casework.StateDispatched}, PartyID: partyID, Limit: 500}
	for {
		cases, total, err := s.cfg.Store.FindCases(ctx, f)
		if err != nil {
			return err
		}
		for _, c := range cases {
			if c.AssigneeID == 0 {
				out.WorkOrders = append(out.WorkOrders, waitingOrder{Case: newCaseJSON(c, now), Reason: waitNoAssignee})
				continue
			}
			a, ok := assignees[c.AssigneeID]
			if !ok {
				m, err := s.cfg.Store.FindMemberByID(ctx, c.AssigneeID)
				switch {
				case errors.Is(err, casework.ErrNotFound):
				case err != nil:
					return err
				default:
					a.name = m.Name
				}
				ids, err := s.cfg.Store.FindChatIdentitiesByMember(ctx, c.AssigneeID)
				if err != nil {
					return err
				}
				for _, id := range ids {
					a.bound = a.bound || !id.Unreachable
				}
				assignees[c.AssigneeID] = a
			}
			if !a.bound {
				out.WorkOrders = append(out.WorkOrders, waitingOrder{Case: newCaseJSON(c, now), Reason: waitNotBound, AssigneeName: a.name})
			}
		}
		f.Offset += len(cases)
		if len(cases) == 0 || f.Offset >= total {
			break
		}
	}
	out.Total = len(out.WorkOrders)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// onlyParams refuses query parameters other than known ones, repeated ones,
// and values that are not text.
func onlyParams(q url.Values, known ...string) error {
	for name, vs := range q {
		switch {
		case !slices.Contains(known, name):
			return casework.Invalid(name, "is not a known parameter")
		case len(vs) > 1:
			return casework.Invalid(name, "is given more than once")
		}
	}
	return textParams(q)
}

// textParams refuses a query parameter whose name or value is not text:
// invalid UTF-8 or a NUL byte, which no database should be asked about.
func textParams(q url.Values) error {
	for name, vs := range q {
		for _, v := range append([]string{name}, vs...) {
			if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				return casework.Invalid(strings.ToValidUTF8(strings.ReplaceAll(name, "\x00", ""), "?"), "is not text: invalid UTF-8 or a NUL byte")
			}
		}
	}
	return nil
}

// statsJSON is the answer of GET /api/v1/stats.
type statsJSON struct {
	From       *time.Time     `json:"from"` // null: since the first case
	To         *time.Time     `json:"to"`   // exclusive; null: up to now
	Total      int            `json:"total"`
	ByState    map[string]int `json:"by_state"`    // every state, 0 included
	ByCategory map[string]int `json:"by_category"` // every category, 0 included
	ByProject  map[string]int `json:"by_project"`  // project ID → cases
	ByParty    map[string]int `json:"by_party"`    // party ID → cases; "none": no party yet
	// Median times from receipt to the first response and to resolution;
	// null when no case of the period has one.
	MedianResponse   *durationJSON `json:"median_response"`
	MedianResolution *durationJSON `json:"median_resolution"`
	BreachRate       float64       `json:"breach_rate"`  // share of cases that missed a deadline
	Satisfaction     float64       `json:"satisfaction"` // share of 4s and 5s among the survey scores
	Surveys          int           `json:"surveys"`
	RepeatRepairRate float64       `json:"repeat_repair_rate"` // share of repaired cases repaired again
}

// durationJSON is a duration for programs and for people.
type durationJSON struct {
	Seconds int64  `json:"seconds"`
	Text    string `json:"text"` // "3h 25m", "2d 4h"
}

func newDurationJSON(d time.Duration) *durationJSON {
	if d <= 0 {
		return nil
	}
	return &durationJSON{Seconds: int64(d.Round(time.Second) / time.Second), Text: humanDuration(d)}
}

// humanDuration formats d as people read it: "45s", "25m", "3h 25m", "2d 4h".
func humanDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Minute {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	d = d.Round(time.Minute)
	days, rest := d/(24*time.Hour), d%(24*time.Hour)
	hours, mins := rest/time.Hour, rest%time.Hour/time.Minute
	var parts []string
	if days > 0 {
		parts = append(parts, fmt.Sprintf("%dd", days))
	}
	if hours > 0 {
		parts = append(parts, fmt.Sprintf("%dh", hours))
	}
	if mins > 0 && days == 0 {
		parts = append(parts, fmt.Sprintf("%dm", mins))
	}
	return strings.Join(parts, " ")
}

// stats serves GET /api/v1/stats?from=&to=: the department's figures over
// the cases received in [from, to). Each bound is optional, RFC 3339 or a
// day (YYYY-MM-DD, in the department's time zone); a day as to includes
// that day.
func (s *Server) stats(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := onlyParams(q, "from", "to"); err != nil {
		return err
	}
	from, err := s.timeParam(q, "from", false)
	if err != nil {
		return err
	}
	to, err := s.timeParam(q, "to", true)
	if err != nil {
		return err
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return casework.Invalid("to", "must be after from")
	}
	st, err := s.cfg.Store.CaseStats(r.Context(), from, to, s.cfg.NowFunc())
	if err != nil {
		return err
	}
	out := statsJSON{
		Total: st.Total, ByState: map[string]int{}, ByCategory: map[string]int{}, ByProject: map[string]int{}, ByParty: map[string]int{},
		MedianResponse: newDurationJSON(st.MedianResponse), MedianResolution: newDurationJSON(st.MedianResolution),
		BreachRate: st.BreachRate, Satisfaction: st.Satisfaction, Surveys: st.Surveys, RepeatRepairRate: st.RepeatRepairRate,
	}
	if !from.IsZero() {
		out.From = &from
	}
	if !to.IsZero() {
		out.To = &to
	}
	for _, state := range casework.States {
		out.ByState[string(state)] = st.ByState[state]
	}
	for _, c := range casework.Categories {
		out.ByCategory[string(c)] = st.ByCategory[c]
	}
	for id, n := range st.ByProject {
		out.ByProject[strconv.FormatInt(id, 10)] = n
	}
	for id, n := range st.ByParty {
		key := "none"
		if id != 0 {
			key = strconv.FormatInt(id, 10)
		}
		out.ByParty[key] += n
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// timeParam parses the query parameter name: RFC 3339, or a day
// (YYYY-MM-DD) in the department's time zone that stands for its start, or,
// with dayEnd, for the start of the next day. Absent, it is the zero time.
func (s *Server) timeParam(q url.Values, name string, dayEnd bool) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, v, s.cfg.Location)
	if err != nil {
		return time.Time{}, casework.Invalid(name, "must be RFC 3339 or YYYY-MM-DD, not %q", v)
	}
	if dayEnd {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}
