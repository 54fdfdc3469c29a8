package console

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/l10n"
	"github.com/aftersales/aftersales/lifecycle"
	"github.com/aftersales/aftersales/staff"
)

// The department's paper, printed from the case page: the registration form
// (《客户诉求登记表》), the work order (《维修任务派工单》) and the written
// plan (书面方案) the owner signs. Each is a page of its own, laid out for
// A4 (static/print.css), with no menu. Who may open the case page may print
// its documents; the owner's whole phone number is printed for the people
// who may reveal it on the case page, and each such print is in the audit
// log as a phone_view, like the reveal.

// The documents, by the last segment of their path.
const (
	docRegistration = "registration"
	docWorkOrder    = "work_order"
	docPlan         = "plan"
)

// printLayout is the documents' own page: a toolbar for the screen (back to
// the case, print, the language), then the sheet — the department, the
// title, the case number and the time printed, the document, a footer —
// and the owner's photos, which every document shows.
const printLayout = `{{define "print"}}<!doctype html>
<html lang="{{if eq .Lang "en"}}en{{else}}zh-CN{{end}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} {{.Number}} · {{t .Lang "doc.department"}}</title>
<link rel="stylesheet" href="/console/static/print.css">
<script src="/console/static/print.js" defer></script>
</head>
<body>
<div class="toolbar noprint">
  <a href="/console/cases/{{.Number}}">{{t .Lang "doc.back"}}</a>
  <button type="button" class="print" data-print>{{t .Lang "doc.print"}}</button>
  <form method="post" action="/console/lang"><input type="hidden" name="lang" value="{{if eq .Lang "en"}}zh{{else}}en{{end}}"><input type="hidden" name="back" value="{{.Path}}"><button class="link">{{t .Lang "nav.lang"}}</button></form>
</div>
<article class="sheet {{.Doc}}">
<header class="head">
  <div class="dept">{{t .Lang "doc.department"}}</div>
  <h1>{{.Title}}</h1>
  <div class="meta"><span>{{t .Lang "col.number"}}{{t .Lang "doc.colon"}}<b class="number">{{.Number}}</b></span><span>{{t .Lang "doc.printed_at"}}{{t .Lang "doc.colon"}}{{.PrintedAt}}</span></div>
</header>
{{if .Missing}}<p class="missing">{{.Missing}}</p>{{else}}{{template "doc" .}}{{end}}
<footer class="foot"><span>{{t .Lang "doc.department"}} · {{.Number}}</span><span>{{t .Lang "doc.printed_by" "name" .PrintedBy "at" .PrintedAt}}</span></footer>
</article>
</body>
</html>{{end}}
{{define "photos"}}{{$l := .Lang}}{{with .Case}}{{if .Photos}}<div class="thumbs">{{range .Photos}}<a href="{{.URL}}" target="_blank"><img src="{{.Thumb}}" alt=""></a>{{end}}</div>{{else}}<span class="hint">{{t $l "doc.no_photos"}}</span>{{end}}{{if .Others}} <span class="hint">{{t $l "doc.other_media" "n" (print .Others)}}</span>{{end}}{{end}}{{end}}`

// printPages are the documents' templates: the print layout with each
// document's "doc".
var printPages = func() map[string]*template.Template {
	funcs := template.FuncMap{
		"t": func(lang l10n.Lang, key string, kv ...string) string { return uiText.Render(lang, key, kv...) },
	}
	layout := template.Must(template.New("print").Funcs(funcs).Parse(printLayout))
	out := map[string]*template.Template{}
	for doc, file := range map[string]string{docRegistration: "print_registration", docWorkOrder: "print_work_order", docPlan: "print_plan"} {
		out[doc] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, "templates/"+file+".html"))
	}
	return out
}()

// printView is what a document's template gets.
type printView struct {
	Lang      l10n.Lang
	Doc       string // docRegistration, docWorkOrder or docPlan
	Title     string
	Number    string
	PrintedAt string
	PrintedBy string
	Path      string
	// Missing, when set, says why there is no such document for the case;
	// it is shown instead of the document.
	Missing string
	Case    caseDoc
	Order   workOrderDoc
	Plan    planDoc
}

// caseDoc is the registration form of a case as the documents print it,
// in the reader's language.
type caseDoc struct {
	Owner, Phone                      string // the phone whole or masked
	Project, Building, Entrance, Room string
	Address                           string // project and unit, as engineers read it
	Location, Description             string
	Occurred, Expectation, Contact    string
	Channel, Received, ReceivedBy     string
	Category, Urgency                 string
	UrgencyKey                        casework.Urgency
	Photos                            []docPhoto
	Others                            int // attachments that are not photos
}

// docPhoto is a photo on a document: its thumbnail, and the photo.
type docPhoto struct{ Thumb, URL string }

// workOrderDoc is the work order's own part: who has it and by when.
type workOrderDoc struct {
	Dispatched                   bool
	Party, PartyPhone            string
	Engineer, EngineerPhone      string
	DispatchedAt, DispatchedBy   string
	RespondBy, OnSiteBy, Resolve string
	Appointment                  string
	Repeat                       string // "第 2 次维修" when the owner rejected a repair
}

// planDoc is the written plan: the engineer's findings and the owner's
// consent as recorded.
type planDoc struct {
	Cause, Responsibility, Content string
	Duration, Disruptions, Start   string
	ProposedAt                     string
	Party, Engineer                string
	// Consent says whether and how the owner agreed, as the timeline
	// records it; Agreed when they did.
	Consent string
	Agreed  bool
}

// printRegistration serves GET /console/cases/{number}/print/registration:
// the registration form (《客户诉求登记表》).
func (s *Server) printRegistration(w http.ResponseWriter, r *http.Request, u *staff.User) error {
	return s.printDoc(w, r, u, docRegistration)
}

// printWorkOrder serves GET /console/cases/{number}/print/work-order: the
// work order (《维修任务派工单》). A case that is answered, not repaired
// (a consultation, a complaint) has none: 404 with a page that says so.
func (s *Server) printWorkOrder(w http.ResponseWriter, r *http.Request, u *staff.User) error {
	return s.printDoc(w, r, u, docWorkOrder)
}

// printPlan serves GET /console/cases/{number}/print/plan: the written plan
// (书面方案) with the owner's consent as recorded. A case with no plan yet
// answers 404 with a page that says so.
func (s *Server) printPlan(w http.ResponseWriter, r *http.Request, u *staff.User) error {
	return s.printDoc(w, r, u, docPlan)
}

// printDoc renders document doc of the path's case for u, and records the
// print in the audit log.
func (s *Server) printDoc(w http.ResponseWriter, r *http.Request, u *staff.User, doc string) error {
	c, err := s.caseOf(r, u)
	if err != nil {
		return err
	}
	ctx := r.Context()
	lang := langOf(r)
	v := printView{Lang: lang, Doc: doc, Title: uiText.Render(lang, "doc.title."+doc), Number: c.Number,
		PrintedAt: s.formatTime(s.cfg.NowFunc()), PrintedBy: u.Name(), Path: r.URL.Path}
	status := http.StatusOK
	switch {
	case doc == docWorkOrder && !c.Category.GetsWorkOrder():
		status, v.Missing = http.StatusNotFound, uiText.Render(lang, "doc.no_work_order")
	case doc == docPlan && c.Plan == nil:
		status, v.Missing = http.StatusNotFound, uiText.Render(lang, "doc.no_plan")
	}
	// Whoever may reveal the phone on the case page gets it whole on paper;
	// the others (a party's manager) get it masked, as on the case page.
	whole := u.MayAct() && c.OwnerPhone != "" && v.Missing == ""
	action := "case_view"
	if whole {
		action = "phone_view"
	}
	if err := s.cfg.Staff.Audit(ctx, &staff.AuditEntry{UserID: u.ID, Actor: u.Actor(), Action: action, Subject: c.Number,
		Detail: "print " + doc, IP: clientAddr(r)}); err != nil {
		return err
	}
	if v.Missing == "" {
		events, err := s.cfg.Store.ListCaseEvents(ctx, c.ID)
		if err != nil {
			return err
		}
		names := s.actorNamer(lang)
		if v.Case, err = s.caseDoc(r, c, names, whole); err != nil {
			return err
		}
		switch doc {
		case docWorkOrder:
			v.Order, err = s.workOrderDoc(ctx, lang, c, events, names)
		case docPlan:
			v.Plan, err = s.planDoc(ctx, lang, c, events, names)
		}
		if err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	if err := printPages[doc].ExecuteTemplate(&buf, "print", v); err != nil {
		return fmt.Errorf("render the %s of %s: %w", doc, c.Number, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
	return nil
}

// caseDoc reads the registration form of c for a document; phone whole or
// masked.
func (s *Server) caseDoc(r *http.Request, c *casework.Case, names *actorNamer, whole bool) (caseDoc, error) {
	ctx := r.Context()
	lang := langOf(r)
	d := caseDoc{Owner: c.OwnerName, Phone: casework.MaskPhone(c.OwnerPhone),
		Description: c.Description, Occurred: c.OccurredText, Expectation: c.Expectation, Contact: c.ContactTime,
		Channel: uiText.Render(lang, "channel."+string(c.Channel)), Received: s.formatTime(c.ReceivedAt),
		Category: docCategory(lang, c), Urgency: l10n.Terms.Render(lang, "urgency."+string(c.Urgency)), UrgencyKey: c.Urgency,
		Location: docPlace(lang, c)}
	if whole {
		d.Phone = c.OwnerPhone
	}
	if c.OccurredAt != nil {
		d.Occurred = c.OccurredAt.In(s.cfg.Location).Format("2006-01-02")
	}
	if c.ReceivedBy == casework.ActorBot {
		d.ReceivedBy = uiText.Render(lang, "doc.receiver_bot")
	} else {
		who, err := names.name(ctx, c.ReceivedBy)
		if err != nil {
			return d, err
		}
		d.ReceivedBy = who
	}
	p, err := s.cfg.Store.FindProjectByID(ctx, c.ProjectID)
	if err != nil {
		return d, fmt.Errorf("the project of %s: %w", c.Number, err)
	}
	d.Project, d.Address = p.Name, p.Name
	if c.BuildingID != 0 {
		b, err := s.cfg.Store.FindBuildingByID(ctx, c.BuildingID)
		if err != nil {
			return d, fmt.Errorf("the building of %s: %w", c.Number, err)
		}
		d.Building = cmp.Or(b.Name, b.Code)
	}
	if c.UnitID != 0 {
		un, err := s.cfg.Store.FindUnitByID(ctx, c.UnitID)
		if err != nil {
			return d, fmt.Errorf("the unit of %s: %w", c.Number, err)
		}
		d.Building = cmp.Or(d.Building, un.Building)
		d.Entrance, d.Room = un.Entrance, un.Room
		d.Address += " " + un.Label()
	}
	for _, m := range c.Media {
		if m.Kind != casework.MediaPhoto {
			d.Others++
			continue
		}
		url := fmt.Sprintf("/console/cases/%s/media/%d", c.Number, m.ID)
		d.Photos = append(d.Photos, docPhoto{Thumb: url + "?thumb=1", URL: url})
	}
	return d, nil
}

// workOrderDoc reads who has the case's work order, since when, and by when
// it is due.
func (s *Server) workOrderDoc(ctx context.Context, lang l10n.Lang, c *casework.Case, events []*casework.Event, names *actorNamer) (workOrderDoc, error) {
	o := workOrderDoc{Dispatched: c.PartyID != 0, RespondBy: s.formatTimeOpt(c.RespondBy), OnSiteBy: s.formatTimeOpt(c.OnSiteBy),
		Resolve: s.formatTimeOpt(c.ResolveBy), Appointment: s.formatTimeOpt(c.AppointmentAt)}
	if c.RepairCount > 0 {
		o.Repeat = uiText.Render(lang, "doc.repeat", "n", strconv.Itoa(c.RepairCount+1))
	}
	if c.PartyID != 0 {
		p, err := s.cfg.Store.FindPartyByID(ctx, c.PartyID)
		switch {
		case err == nil:
			o.Party, o.PartyPhone = p.Name, p.Phone
		case !errors.Is(err, casework.ErrNotFound):
			return o, err
		}
	}
	if c.AssigneeID != 0 {
		m, err := s.cfg.Store.FindMemberByID(ctx, c.AssigneeID)
		switch {
		case err == nil:
			o.Engineer, o.EngineerPhone = m.Name, m.Phone
		case !errors.Is(err, casework.ErrNotFound):
			return o, err
		}
	}
	for _, e := range events {
		if e.Kind == casework.EventTransition && e.Action == casework.ActionDispatch {
			who, err := names.name(ctx, e.Actor)
			if err != nil {
				return o, err
			}
			o.DispatchedAt, o.DispatchedBy = s.formatTime(e.At), who
		}
	}
	return o, nil
}

// planDoc reads the case's plan and the owner's answer to it: the last
// agreement or refusal recorded since the plan was put to the owner.
func (s *Server) planDoc(ctx context.Context, lang l10n.Lang, c *casework.Case, events []*casework.Event, names *actorNamer) (planDoc, error) {
	p := c.Plan
	d := planDoc{Cause: p.Cause, Content: p.Content, Duration: p.Duration,
		Responsibility: lifecycle.T(lang, "responsibility."+string(p.Responsibility)),
		Start:          uiText.Render(lang, "doc.start_tbd"), ProposedAt: s.formatTimeOpt(p.ProposedAt)}
	if p.StartAt != nil {
		d.Start = s.formatTime(*p.StartAt)
	}
	var what []string
	for _, x := range p.Disruptions {
		what = append(what, lifecycle.T(lang, "disruption."+string(x)))
	}
	d.Disruptions = strings.Join(what, lifecycle.T(lang, "list_sep"))
	if d.Disruptions == "" {
		d.Disruptions = lifecycle.T(lang, "disruption.none")
	}
	o, err := s.workOrderDoc(ctx, lang, c, nil, names)
	if err != nil {
		return d, err
	}
	d.Party = o.Party
	d.Engineer = strings.TrimSpace(o.Engineer + " " + o.EngineerPhone)

	if p.ProposedAt == nil {
		d.Consent = uiText.Render(lang, "doc.consent_not_sent")
		return d, nil
	}
	d.Consent = uiText.Render(lang, "doc.consent_pending", "at", d.ProposedAt)
	since := p.ProposedAt.Truncate(time.Microsecond) // as the stores keep an event's time
	for _, e := range events {
		if e.Kind != casework.EventTransition || e.At.Before(since) {
			continue
		}
		switch e.Action {
		case casework.ActionAgreePlan:
			how, err := s.consentHow(ctx, lang, e.Actor, names)
			if err != nil {
				return d, err
			}
			d.Agreed, d.Consent = true, uiText.Render(lang, "doc.consent_agreed", "at", s.formatTime(e.At), "how", how)
		case casework.ActionDisagreePlan:
			d.Agreed, d.Consent = false, uiText.Render(lang, "doc.consent_refused", "at", s.formatTime(e.At), "reason", e.Note)
		}
	}
	return d, nil
}

// consentHow says how the owner's agreement reached the department: the
// owner's verified chat account, an unverified one (on which platform), or
// whoever else recorded it.
func (s *Server) consentHow(ctx context.Context, lang l10n.Lang, a casework.Actor, names *actorNamer) (string, error) {
	button := lifecycle.T(lang, "btn.agree")
	kind, id := a.Parse()
	switch kind {
	case "owner":
		return uiText.Render(lang, "doc.consent_owner", "button", button), nil
	case "chat":
		platform, _, _ := strings.Cut(id, ":")
		return uiText.Render(lang, "doc.consent_chat", "button", button, "platform", uiText.Render(lang, "channel."+platform)), nil
	}
	who, err := names.name(ctx, a)
	if err != nil {
		return "", err
	}
	return uiText.Render(lang, "doc.consent_by", "who", who), nil
}

// docCategory names c's problem type: category · subcategory.
func docCategory(lang l10n.Lang, c *casework.Case) string {
	out := l10n.Terms.Render(lang, "category."+string(c.Category))
	if c.Subcategory != "" {
		out += " · " + l10n.Terms.Render(lang, "sub."+string(c.Subcategory))
	}
	return out
}

// docPlace is where in the home the problem is: the location and its detail.
func docPlace(lang l10n.Lang, c *casework.Case) string {
	var parts []string
	if c.Location != "" {
		parts = append(parts, l10n.Terms.Render(lang, "location."+string(c.Location)))
	}
	if d := strings.TrimSpace(c.LocationDetail); d != "" {
		parts = append(parts, d)
	}
	return strings.Join(parts, " · ")
}

// formatTimeOpt formats an optional time; "" when unset.
func (s *Server) formatTimeOpt(t *time.Time) string {
	if t == nil {
		return ""
	}
	return s.formatTime(*t)
}
