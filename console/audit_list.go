package console

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/aftersales/aftersales/staff"
)

// auditRow is one line of the audit log page.
type auditRow struct {
	At, Actor, Action, Subject, Detail, IP string
}

// auditList serves GET /console/audit: the audit log, newest first, 100 a
// page, filtered by subject (a case number, "user:…") and action; admins
// only.
func (s *Server) auditList(w http.ResponseWriter, r *http.Request, u *staff.User) error {
	if !u.MayManageUsers() {
		return errForbidden
	}
	q := r.URL.Query()
	if err := textParams(q); err != nil {
		return err
	}
	f := staff.AuditFilter{Subject: q.Get("subject"), Action: q.Get("action")}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return errBadCursor
		}
		f.Before = n
	}
	entries, err := s.cfg.Staff.AuditLog(r.Context(), f)
	if err != nil {
		return err
	}
	data := struct {
		Subject, Action, Older string
		Entries                []auditRow
	}{Subject: f.Subject, Action: f.Action}
	for _, e := range entries {
		data.Entries = append(data.Entries, auditRow{At: s.formatTime(e.At), Actor: e.Actor, Action: e.Action, Subject: e.Subject, Detail: e.Detail, IP: e.IP})
	}
	if len(entries) == 100 {
		older := url.Values{"subject": {f.Subject}, "action": {f.Action}, "before": {strconv.FormatInt(entries[len(entries)-1].ID, 10)}}
		data.Older = "/console/audit?" + older.Encode()
	}
	s.render(w, r, http.StatusOK, "audit", view{User: u, Nav: "audit", Title: uiText.Render(langOf(r), "audit.title"), Data: data})
	return nil
}

// partyList serves GET /console/parties: the responsible parties with their
// people, by name (the ids the API takes are shown beside them).
func (s *Server) partyList(w http.ResponseWriter, r *http.Request, u *staff.User) error {
	if !u.MayAct() {
		return errForbidden
	}
	ctx := r.Context()
	parties, err := s.cfg.Store.ListParties(ctx)
	if err != nil {
		return err
	}
	type partyView struct {
		Name, Code, Kind, Trade, Phone string
		Members                        []memberView
	}
	var out []partyView
	for _, p := range parties {
		members, err := s.cfg.Store.ListMembers(ctx, p.ID)
		if err != nil {
			return err
		}
		pv := partyView{Name: p.Name, Code: p.Code, Kind: string(p.Kind), Trade: p.Trade, Phone: p.Phone}
		for _, m := range members {
			pv.Members = append(pv.Members, memberView{ID: m.ID, Name: m.Name, Role: m.Role, Phone: m.Phone})
		}
		out = append(out, pv)
	}
	s.render(w, r, http.StatusOK, "parties", view{User: u, Nav: "parties", Title: uiText.Render(langOf(r), "parties.title"),
		Data: struct{ Parties []partyView }{out}})
	return nil
}

// memberView is a party's member on the parties page.
type memberView struct {
	ID                int64
	Name, Role, Phone string
}

// partyJSON is a responsible party with its people, as the API lists them.
type partyJSON struct {
	ID      int64        `json:"id"`
	Code    string       `json:"code"`
	Name    string       `json:"name"`
	Kind    string       `json:"kind"`
	Trade   string       `json:"trade,omitempty"`
	Phone   string       `json:"phone,omitempty"`
	Members []memberJSON `json:"members"`
}

type memberJSON struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	Phone string `json:"phone,omitempty"`
}

// listParties serves GET /api/v1/parties: every party with its members by
// name, so that an integration finds the ids dispatch takes.
func (s *Server) listParties(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	parties, err := s.cfg.Store.ListParties(ctx)
	if err != nil {
		return err
	}
	out := struct {
		Parties []partyJSON `json:"parties"`
	}{Parties: make([]partyJSON, 0, len(parties))}
	for _, p := range parties {
		members, err := s.cfg.Store.ListMembers(ctx, p.ID)
		if err != nil {
			return err
		}
		pj := partyJSON{ID: p.ID, Code: p.Code, Name: p.Name, Kind: string(p.Kind), Trade: p.Trade, Phone: p.Phone, Members: make([]memberJSON, 0, len(members))}
		for _, m := range members {
			pj.Members = append(pj.Members, memberJSON{ID: m.ID, Name: m.Name, Role: m.Role, Phone: m.Phone})
		}
		out.Parties = append(out.Parties, pj)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
