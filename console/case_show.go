package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/l10n"
	"github.com/aftersales/aftersales/lifecycle"
	"github.com/aftersales/aftersales/staff"
)

// caseOf loads the case of the path's number, if the user may see it; a
// case that is not theirs is as unknown as one that does not exist, so that
// numbers cannot be probed.
func (s *Server) caseOf(r *http.Request, u *staff.User) (*casework.Case, error) {
	c, err := s.cfg.Store.FindCaseByNumber(r.Context(), r.PathValue("number"))
	if err != nil {
		return nil, err
	}
	if !u.MaySeeCase(c) {
		return nil, casework.ErrNotFound
	}
	return c, nil
}

// clock is one service-level deadline on the case page.
type clock struct {
	Key, By, Met string
	Late         bool
}

// mediaItem is an attachment on the case page.
type mediaItem struct {
	Kind, ContentType, URL string
}

// line is an entry of the timeline or of the outbox.
type line struct {
	At, Actor, Text                  string
	Purpose, Platform, Status, Error string
}

// caseShow serves GET /console/cases/{number}: the registration form, the
// service-level clocks, the photos and videos, the timeline and the
// messages sent. Viewing a case is in the audit log.
func (s *Server) caseShow(w http.ResponseWriter, r *http.Request, u *staff.User) error {
	c, err := s.caseOf(r, u)
	if err != nil {
		return err
	}
	return s.renderCase(w, r, u, c, caseView{phone: casework.MaskPhone(c.OwnerPhone), audit: true, done: r.URL.Query().Get("done")})
}

// casePhone serves POST /console/cases/{number}/phone: the case page with
// the owner's whole phone number, which the audit log records.
func (s *Server) casePhone(w http.ResponseWriter, r *http.Request, u *staff.User) error {
	c, err := s.caseOf(r, u)
	if err != nil {
		return err
	}
	if !u.MayAct() {
		return errForbidden
	}
	if err := s.cfg.Staff.Audit(r.Context(), &staff.AuditEntry{UserID: u.ID, Actor: u.Actor(), Action: "phone_view", Subject: c.Number, IP: clientAddr(r)}); err != nil {
		return err
	}
	return s.renderCase(w, r, u, c, caseView{phone: c.OwnerPhone})
}

// caseView is how the case page is shown: the owner's phone (masked or
// whole), whether the view goes into the audit log, the action just done,
// and an action refused with its form's values and why.
type caseView struct {
	phone  string
	audit  bool
	done   string
	failed string
	form   url.Values
	err    error
}

func (s *Server) renderCase(w http.ResponseWriter, r *http.Request, u *staff.User, c *casework.Case, cv caseView) error {
	ctx := r.Context()
	lang := langOf(r)
	now := s.cfg.NowFunc()
	phone, audit := cv.phone, cv.audit
	if audit {
		if err := s.cfg.Staff.Audit(ctx, &staff.AuditEntry{UserID: u.ID, Actor: u.Actor(), Action: "case_view", Subject: c.Number, IP: clientAddr(r)}); err != nil {
			return err
		}
	}
	events, err := s.cfg.Store.ListCaseEvents(ctx, c.ID)
	if err != nil {
		return err
	}
	msgs, err := s.cfg.Store.ListOutbox(ctx, c.ID)
	if err != nil {
		return err
	}
	data := struct {
		Case                         *casework.Case
		Phone, Home, Occurred, Party string
		Received, WarrantyUntil      string
		ReceivedBy                   string
		MayShowPhone, Overdue        bool
		Urge                         urgeMark
		Clocks                       []clock
		Media                        []mediaItem
		Timeline, Outbox             []line
		Warranty                     []partWarranty
		Order                        orderView
		Panel                        actionPanel
	}{Case: c, Phone: phone, Received: s.formatTime(c.ReceivedAt), Overdue: c.Overdue(now),
		MayShowPhone: audit && u.MayAct() && c.OwnerPhone != "", Urge: s.urgeMarkIn(events)}
	home, err := s.home(r, c)
	if err != nil {
		return err
	}
	data.Home, data.Warranty = home.label, home.warranty
	if data.Order, err = s.orderOf(r, c); err != nil {
		return err
	}
	data.Occurred = c.OccurredText
	if c.OccurredAt != nil {
		data.Occurred = c.OccurredAt.In(s.cfg.Location).Format("2006-01-02")
	}
	if !c.WarrantyUntil.IsZero() {
		data.WarrantyUntil = c.WarrantyUntil.String()
	}
	if c.PartyID != 0 {
		if p, err := s.cfg.Store.FindPartyByID(ctx, c.PartyID); err == nil {
			data.Party = p.Name
		} else if !errors.Is(err, casework.ErrNotFound) {
			return err
		}
	}
	for _, d := range []struct {
		key     string
		by, met *time.Time
	}{{"case.respond_by", c.RespondBy, c.RespondedAt}, {"case.on_site_by", c.OnSiteBy, c.OnSiteAt}, {"case.resolve_by", c.ResolveBy, c.ResolvedAt}} {
		if d.by == nil {
			continue
		}
		k := clock{Key: d.key, By: s.formatTime(*d.by), Late: d.met == nil && now.After(*d.by) && c.Open()}
		if d.met != nil {
			k.Met = s.formatTime(*d.met)
		}
		data.Clocks = append(data.Clocks, k)
	}
	for _, m := range c.Media {
		data.Media = append(data.Media, mediaItem{Kind: string(m.Kind), ContentType: m.ContentType,
			URL: fmt.Sprintf("/console/cases/%s/media/%d", c.Number, m.ID)})
	}
	names := s.actorNamer(lang)
	for _, e := range events {
		who, err := names.name(ctx, e.Actor)
		if err != nil {
			return err
		}
		data.Timeline = append(data.Timeline, line{At: s.formatTime(e.At), Actor: who, Text: eventText(lang, e)})
	}
	for _, m := range msgs {
		l := line{At: s.formatTime(m.CreatedAt), Purpose: m.Purpose, Platform: m.Platform, Status: string(m.Status), Error: m.LastError,
			Text: lifecycle.OutboxText(m.Payload)}
		data.Outbox = append(data.Outbox, l)
	}
	if data.Panel, err = s.actionPanel(ctx, lang, u, c, cv); err != nil {
		return err
	}
	if rc, lerr := names.name(ctx, c.ReceivedBy); lerr == nil {
		data.ReceivedBy = rc
	}
	s.render(w, r, actionStatus(cv.err), "case_show", view{User: u, Nav: "cases", Title: c.Number, Path: "/console/cases/" + c.Number, Data: data})
	return nil
}

// partWarranty is one line of the home's warranty table.
type partWarranty struct {
	Part   casework.Part
	Status casework.WarrantyStatus
	Until  string
}

// homeView is the case's home: its name, and its warranty by part today.
type homeView struct {
	label    string
	warranty []partWarranty
}

// home names the case's home — project, building, entrance and room — and
// checks its warranty by part on today's date.
func (s *Server) home(r *http.Request, c *casework.Case) (homeView, error) {
	ctx := r.Context()
	var h homeView
	p, err := s.cfg.Store.FindProjectByID(ctx, c.ProjectID)
	if err != nil {
		return h, err
	}
	h.label = p.Name
	var b *casework.Building
	var u *casework.Unit
	if c.BuildingID != 0 {
		if b, err = s.cfg.Store.FindBuildingByID(ctx, c.BuildingID); err != nil {
			return h, err
		}
	}
	if c.UnitID != 0 {
		if u, err = s.cfg.Store.FindUnitByID(ctx, c.UnitID); err != nil {
			return h, err
		}
		h.label += " " + u.Label()
	}
	completion, delivery := casework.HomeDates(p, b, u)
	if completion.IsZero() && delivery.IsZero() {
		return h, nil
	}
	today := casework.DateOf(s.cfg.NowFunc().In(s.cfg.Location))
	for _, w := range casework.WarrantyByPart(casework.DefaultWarrantyTerms().Merge(p.Warranty), completion, delivery, today) {
		pw := partWarranty{Part: w.Part, Status: w.Status}
		if !w.Until.IsZero() {
			pw.Until = w.Until.String()
		}
		h.warranty = append(h.warranty, pw)
	}
	return h, nil
}

// orderView is the case's work order: who has it, the visit, the plan and
// the owner's survey.
type orderView struct {
	Engineer, EngineerPhone, Appointment string
	Slots                                []string
	Plan                                 *casework.Plan
	PlanStart                            string
	Survey                               *casework.Survey
}

// orderOf reads the case's work order for its page.
func (s *Server) orderOf(r *http.Request, c *casework.Case) (orderView, error) {
	o := orderView{Plan: c.Plan, Survey: c.Survey}
	if c.AssigneeID != 0 {
		m, err := s.cfg.Store.FindMemberByID(r.Context(), c.AssigneeID)
		switch {
		case err == nil:
			o.Engineer, o.EngineerPhone = m.Name, m.Phone
		case !errors.Is(err, casework.ErrNotFound):
			return o, err
		}
	}
	if c.AppointmentAt != nil {
		o.Appointment = s.formatTime(*c.AppointmentAt)
	}
	for _, t := range c.ProposedSlots {
		o.Slots = append(o.Slots, s.formatTime(t))
	}
	if c.Plan != nil && c.Plan.StartAt != nil {
		o.PlanStart = s.formatTime(*c.Plan.StartAt)
	}
	return o, nil
}

// eventText says what an event of the timeline did.
func eventText(lang l10n.Lang, e *casework.Event) string {
	var text string
	switch {
	case e.Kind == casework.EventCreated:
		text = l10n.Terms.Render(lang, "state."+string(e.To))
	case e.From != "" || e.To != "":
		text = l10n.Terms.Render(lang, "state."+string(e.From)) + " → " + l10n.Terms.Render(lang, "state."+string(e.To))
	}
	if e.Note != "" {
		if text != "" {
			text += " · "
		}
		if e.Kind == casework.EventMedia && casework.MediaKind(e.Note).Valid() {
			text += uiText.Render(lang, "note.media_"+e.Note)
		} else {
			text += noteText(lang, e.Note)
		}
	}
	return text
}

// mediaShow serves GET /console/cases/{number}/media/{id}: an attachment
// of a case the user may see, from the blob store, never by its key.
func (s *Server) mediaShow(w http.ResponseWriter, r *http.Request, u *staff.User) error {
	c, err := s.caseOf(r, u)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return casework.ErrNotFound
	}
	for _, m := range c.Media {
		if m.ID != id {
			continue
		}
		if s.cfg.Media == nil {
			return casework.ErrNotFound
		}
		contentType := m.ContentType
		var f io.ReadCloser
		if th, ok := s.cfg.Media.(Thumbnailer); ok && r.URL.Query().Get("thumb") != "" {
			if f, err = th.Thumbnail(r.Context(), m.BlobKey); err == nil {
				contentType = "image/jpeg"
			}
		}
		if f == nil {
			if f, err = s.cfg.Media.Open(r.Context(), m.BlobKey); err != nil {
				return fmt.Errorf("open media %d of %s: %w", m.ID, c.Number, err)
			}
		}
		defer f.Close()
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Cache-Control", "private, max-age=3600")
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		if r.URL.Query().Get("download") != "" || !inline(contentType) {
			h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%d"`, c.Number, m.ID))
		}
		if rs, ok := f.(interface {
			Seek(int64, int) (int64, error)
			Read([]byte) (int, error)
		}); ok {
			http.ServeContent(w, r, "", m.CreatedAt, rs)
			return nil
		}
		_, _ = io.Copy(w, f)
		return nil
	}
	return casework.ErrNotFound
}

// inline reports whether a browser may show a type in the page: images and
// video it plays. Anything else (AMR voice notes, documents) is downloaded.
func inline(contentType string) bool {
	switch contentType {
	case "image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4", "video/webm":
		return true
	}
	return false
}

// userList serves GET /console/users: every account, for admins.
func (s *Server) userList(w http.ResponseWriter, r *http.Request, u *staff.User) error {
	if !u.MayManageUsers() {
		return errForbidden
	}
	users, err := s.cfg.Staff.Users(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "users", view{User: u, Nav: "users", Title: uiText.Render(langOf(r), "users.title"),
		Data: struct{ Users []*staff.User }{users}})
	return nil
}

// actorNamer names the actors of a case's timeline for a person to read:
// staff and integrations by their display names, engineers by theirs, the bot,
// the system and the owner in the reader's language. It looks each one up
// once.
type actorNamer struct {
	s     *Server
	lang  l10n.Lang
	known map[casework.Actor]string
}

func (s *Server) actorNamer(lang l10n.Lang) *actorNamer {
	return &actorNamer{s: s, lang: lang, known: map[casework.Actor]string{}}
}

// name returns how a is shown; an account or member that no longer exists is
// shown as recorded.
func (n *actorNamer) name(ctx context.Context, a casework.Actor) (string, error) {
	if v, ok := n.known[a]; ok {
		return v, nil
	}
	v := string(a)
	kind, id := a.Parse()
	switch kind {
	case "staff", "service":
		u, err := n.s.cfg.Staff.User(ctx, id)
		switch {
		case err == nil:
			v = u.Name()
		case !errors.Is(err, casework.ErrNotFound):
			return "", err
		}
	case "member":
		if mid, err := strconv.ParseInt(id, 10, 64); err == nil {
			m, err := n.s.cfg.Store.FindMemberByID(ctx, mid)
			switch {
			case err == nil:
				v = m.Name + uiText.Render(n.lang, "actor.engineer_suffix")
			case !errors.Is(err, casework.ErrNotFound):
				return "", err
			}
		}
	case "bot", "system", "owner", "chat":
		v = uiText.Render(n.lang, "actor."+kind)
	}
	n.known[a] = v
	return v, nil
}
