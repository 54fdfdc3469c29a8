package console

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/lifecycle"
	"github.com/aftersales/aftersales/staff"
)

// casesPerPage is the length of a page of the case list.
const casesPerPage = 50

// caseQuery is the case list's filter as the form shows it.
type caseQuery struct {
	Q, State, Urgency, Category string
	Overdue, Open, Urged        bool
	Unanswered                  bool
	Sort                        string
	Page                        int
}

// caseRow is one line of the case list.
type caseRow struct {
	Number, Received, Owner, Due string
	Category                     casework.Category
	Subcategory                  casework.Subcategory
	Urgency                      casework.Urgency
	State                        casework.State
	Overdue                      bool
	Urge                         urgeMark
}

// parseCaseQuery reads the list's filter from the query string; a value that
// is not one of the form's is a *casework.ValidationError.
func parseCaseQuery(q url.Values) (caseQuery, casework.CaseFilter, error) {
	var f casework.CaseFilter
	if err := textParams(q); err != nil {
		return caseQuery{}, f, err
	}
	cq := caseQuery{Q: q.Get("q"), State: q.Get("state"), Urgency: q.Get("urgency"), Category: q.Get("category"),
		Overdue: q.Get("overdue") == "true", Open: q.Get("open") == "true", Urged: q.Get("urged") == "true",
		Unanswered: q.Get("unanswered") == "true", Sort: q.Get("sort"), Page: 1}
	switch cq.Sort {
	case "", "newest":
	case "oldest", "due":
		f.Order = casework.CaseOrder(cq.Sort)
	default:
		return cq, f, casework.Invalid("sort", "newest, oldest or due")
	}
	if p := q.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 100000 {
			return cq, f, casework.Invalid("page", "must be a page number")
		}
		cq.Page = n
	}
	f.Text, f.Urgency, f.Category, f.Urged = cq.Q, casework.Urgency(cq.Urgency), casework.Category(cq.Category), cq.Urged
	f.Unanswered = cq.Unanswered
	switch {
	case cq.State != "":
		f.States = []casework.State{casework.State(cq.State)}
	case cq.Open:
		f.States = openStates()
	}
	f.Limit, f.Offset = casesPerPage, (cq.Page-1)*casesPerPage
	return cq, f, f.Normalize()
}

// caseList serves GET /console/cases: the cases the user may see, filtered,
// newest first, a page at a time.
func (s *Server) caseList(w http.ResponseWriter, r *http.Request, u *staff.User) error {
	now := s.cfg.NowFunc()
	cq, f, err := parseCaseQuery(r.URL.Query())
	if err != nil {
		return err
	}
	if cq.Overdue {
		f.OverdueAt = &now
	}
	var cases []*casework.Case
	total := 0
	if u.ScopeCases(&f) {
		if cases, total, err = s.cfg.Store.FindCases(r.Context(), f); err != nil {
			return err
		}
	}
	// An urge is a call to act: marked on the open cases.
	var open []int64
	for _, c := range cases {
		if c.Open() {
			open = append(open, c.ID)
		}
	}
	urges, err := s.cfg.Store.UrgeCounts(r.Context(), open)
	if err != nil {
		return err
	}
	rows := make([]caseRow, 0, len(cases))
	for _, c := range cases {
		row := caseRow{Number: c.Number, Received: s.formatTime(c.ReceivedAt), Owner: c.OwnerName,
			Category: c.Category, Subcategory: c.Subcategory, Urgency: c.Urgency, State: c.State, Overdue: c.Overdue(now)}
		if by := c.NextDeadline(); by != nil {
			row.Due = s.formatTime(*by)
		}
		if u, ok := urges[c.ID]; ok {
			row.Urge = urgeMark{Count: u.N, Last: s.formatTime(u.Last)}
		}
		rows = append(rows, row)
	}
	saved, err := s.cfg.Staff.Views(r.Context(), u)
	if err != nil {
		return err
	}
	views := make([]viewLink, 0, len(saved))
	for _, v := range saved {
		// The query was encoded by url.Values when it was saved, and is
		// read back as one: a link of the console's own.
		views = append(views, viewLink{ID: v.ID, Name: v.Name, Link: template.URL("/console/cases?" + v.Query)})
	}
	current := r.URL.Query()
	current.Del("page")
	page := func(n int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(n))
		return "/console/cases?" + q.Encode()
	}
	data := struct {
		Query      caseQuery
		Cases      []caseRow
		Total      int
		Prev, Next string
		States     []casework.State
		Urgencies  []casework.Urgency
		Categories []casework.Category
		Views      []viewLink
		SavedQuery string
	}{Views: views, SavedQuery: current.Encode(), Query: cq, Cases: rows, Total: total, States: casework.States, Urgencies: casework.Urgencies, Categories: casework.Categories}
	if cq.Page > 1 {
		data.Prev = page(cq.Page - 1)
	}
	if cq.Page*casesPerPage < total {
		data.Next = page(cq.Page + 1)
	}
	s.render(w, r, http.StatusOK, "case_list", view{User: u, Nav: "cases", Title: uiText.Render(langOf(r), "cases.title"), Data: data})
	return nil
}

// viewLink is a saved view on the case list.
type viewLink struct {
	ID   int64
	Name string
	Link template.URL
}

// urgeMark is how often the owner urged a case (催办) and when last, as the
// case list and the case page mark it; zero when never.
type urgeMark struct {
	Count int
	Last  string
}

// urgeMarkIn reads the urge mark from a case's timeline.
func (s *Server) urgeMarkIn(events []*casework.Event) urgeMark {
	n, last := lifecycle.Urges(events)
	if n == 0 {
		return urgeMark{}
	}
	return urgeMark{Count: n, Last: s.formatTime(last)}
}
