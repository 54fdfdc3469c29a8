package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/l10n"
	"github.com/aftersales/aftersales/staff"
)

// The hand-off inbox (人工会话): the chats owners handed to a person, the
// waiting first, and each conversation, where a person of the department
// takes it, answers the owner, links the case it is about and ends it. The
// pages poll small JSON fragments (/live, every 2 s on a conversation, 5 s
// on the list) with plain JavaScript: the messages are in the database, so
// whichever instance of the service answers a poll sees every message,
// whichever instance received it. Agents, supervisors and admins only
// (staff.User.MayAct), within their projects for the hand-offs whose owner
// or case is known; an unknown chat's is visible to all who may act.

// errNoHandoffs: the store keeps no hand-offs.
var errNoHandoffs = fmt.Errorf("%w: the store keeps no hand-offs", errUnavailable)

// handoffStore returns the store's hand-offs.
func (s *Server) handoffStore() (casework.HandoffStore, error) {
	hs, ok := s.cfg.Store.(casework.HandoffStore)
	if !ok {
		return nil, errNoHandoffs
	}
	return hs, nil
}

// handoffScope decides which hand-offs a person may see, looking each case
// and owner up once.
type handoffScope struct {
	s      *Server
	u      *staff.User
	cases  map[int64]*casework.Case
	owners map[int64][]*casework.Unit
}

func (s *Server) handoffScope(u *staff.User) *handoffScope {
	return &handoffScope{s: s, u: u, cases: map[int64]*casework.Case{}, owners: map[int64][]*casework.Unit{}}
}

// everything reports whether the person sees every project.
func (sc *handoffScope) everything() bool {
	return sc.u.Role == staff.RoleAdmin || (sc.u.Role != staff.RoleParty && len(sc.u.ProjectIDs) == 0)
}

// visible reports whether the person may see h: by its case's project when
// it has one, else by the projects of its owner's units when the owner is
// known (and holds any), else it is an unknown chat's, which everyone who
// may act sees.
func (sc *handoffScope) visible(ctx context.Context, h *casework.Handoff) (bool, error) {
	if !sc.u.MayAct() {
		return false, nil
	}
	if sc.everything() {
		return true, nil
	}
	if h.CaseID != 0 {
		c, err := sc.caseOf(ctx, h.CaseID)
		if err != nil {
			return false, err
		}
		return c != nil && sc.u.MaySeeCase(c), nil
	}
	if h.OwnerID != 0 {
		units, err := sc.unitsOf(ctx, h.OwnerID)
		if err != nil {
			return false, err
		}
		if len(units) == 0 {
			return true, nil
		}
		for _, unit := range units {
			if sc.u.MaySeeProject(unit.ProjectID) {
				return true, nil
			}
		}
		return false, nil
	}
	return true, nil
}

// caseOf returns case id, nil when it does not exist.
func (sc *handoffScope) caseOf(ctx context.Context, id int64) (*casework.Case, error) {
	if c, ok := sc.cases[id]; ok {
		return c, nil
	}
	c, err := sc.s.cfg.Store.FindCaseByID(ctx, id)
	if errors.Is(err, casework.ErrNotFound) {
		c, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	sc.cases[id] = c
	return c, nil
}

// unitsOf returns the units owner id holds.
func (sc *handoffScope) unitsOf(ctx context.Context, id int64) ([]*casework.Unit, error) {
	if units, ok := sc.owners[id]; ok {
		return units, nil
	}
	units, err := sc.s.cfg.Store.OwnerUnits(ctx, id)
	if err != nil {
		return nil, err
	}
	sc.owners[id] = units
	return units, nil
}

// handoffOf loads the hand-off of the path's id, if the person may act and
// see it; one that is not theirs is as unknown as one that does not exist.
func (s *Server) handoffOf(r *http.Request, u *staff.User) (*casework.Handoff, error) {
	if !u.MayAct() {
		return nil, errForbidden
	}
	hs, err := s.handoffStore()
	if err != nil {
		return nil, err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, casework.ErrNotFound
	}
	h, err := hs.FindHandoff(r.Context(), id)
	if err != nil {
		return nil, err
	}
	ok, err := s.handoffScope(u).visible(r.Context(), h)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, casework.ErrNotFound
	}
	return h, nil
}

// waitText says how long d is, for a person: "12 分钟", "1 小时 5 分".
func waitText(lang l10n.Lang, d time.Duration) string {
	d = max(d, 0)
	m := int(d / time.Minute)
	switch {
	case m < 1:
		return uiText.Render(lang, "handoff.wait.moment")
	case m < 60:
		return uiText.Render(lang, "handoff.wait.minutes", "n", strconv.Itoa(m))
	case m < 24*60:
		return uiText.Render(lang, "handoff.wait.hours", "h", strconv.Itoa(m/60), "m", strconv.Itoa(m%60))
	}
	return uiText.Render(lang, "handoff.wait.days", "d", strconv.Itoa(m/(24*60)), "h", strconv.Itoa(m%(24*60)/60))
}

// handoffRow is a hand-off in the inbox.
type handoffRow struct {
	ID                      int64
	Who, Platform, Since    string
	Waited, TakenBy, Number string
	State                   casework.HandoffState
	Unanswered, Mine, Long  bool
}

// handoffLists are the inbox's three lists.
type handoffLists struct {
	Waiting, Taken, Ended []handoffRow
}

// longWait is how long a waiting owner waits before the inbox marks it.
const longWait = 10 * time.Minute

// handoffLists returns the hand-offs the person may see: the open ones and
// those ended in the last 24 hours.
func (s *Server) handoffLists(r *http.Request, u *staff.User) (handoffLists, error) {
	var out handoffLists
	hs, err := s.handoffStore()
	if err != nil {
		return out, err
	}
	ctx, lang, now := r.Context(), langOf(r), s.cfg.NowFunc()
	since := now.Add(-24 * time.Hour)
	list, err := hs.ListHandoffs(ctx, casework.HandoffFilter{EndedSince: &since, Limit: 500})
	if err != nil {
		return out, err
	}
	sc, names := s.handoffScope(u), s.actorNamer(lang)
	for _, h := range list {
		ok, err := sc.visible(ctx, h)
		if err != nil {
			return out, err
		}
		if !ok {
			continue
		}
		row := handoffRow{ID: h.ID, Platform: h.Platform, Since: s.formatTime(h.CreatedAt), State: h.State,
			Waited: waitText(lang, h.Waited(now)), Unanswered: h.Unanswered(), Mine: h.TakenBy == casework.Actor(u.Actor()),
			Long: h.State == casework.HandoffWaiting && h.Waited(now) >= longWait}
		if row.Who, err = s.handoffWho(ctx, lang, h); err != nil {
			return out, err
		}
		if h.TakenBy != "" {
			if row.TakenBy, err = names.name(ctx, h.TakenBy); err != nil {
				return out, err
			}
		}
		if h.CaseID != 0 {
			if c, err := sc.caseOf(ctx, h.CaseID); err != nil {
				return out, err
			} else if c != nil {
				row.Number = c.Number
			}
		}
		switch h.State {
		case casework.HandoffWaiting:
			out.Waiting = append(out.Waiting, row)
		case casework.HandoffTaken:
			out.Taken = append(out.Taken, row)
		default:
			out.Ended = append(out.Ended, row)
		}
	}
	return out, nil
}

// handoffWho names the owner of h: their name on record, the name the
// platform gave the account, or an unverified chat user. The chat page's
// visitor id, its key to the page, is never shown.
func (s *Server) handoffWho(ctx context.Context, lang l10n.Lang, h *casework.Handoff) (string, error) {
	if h.OwnerID != 0 {
		o, err := s.cfg.Store.FindOwnerByID(ctx, h.OwnerID)
		switch {
		case err == nil:
			return o.Name, nil
		case !errors.Is(err, casework.ErrNotFound):
			return "", err
		}
	}
	if h.DisplayName != "" {
		return h.DisplayName + " · " + uiText.Render(lang, "handoff.unknown"), nil
	}
	return uiText.Render(lang, "handoff.unknown"), nil
}

// waitingHandoffs counts the hand-offs the person may see that wait for a
// person: nobody took them, or the owner's last words are unanswered (the
// dashboard's tile).
func (s *Server) waitingHandoffs(r *http.Request, u *staff.User) (int, error) {
	hs, err := s.handoffStore()
	if errors.Is(err, errNoHandoffs) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	list, err := hs.ListHandoffs(r.Context(), casework.HandoffFilter{States: []casework.HandoffState{casework.HandoffWaiting, casework.HandoffTaken}, Limit: 500})
	if err != nil {
		return 0, err
	}
	sc, n := s.handoffScope(u), 0
	for _, h := range list {
		if h.State == casework.HandoffTaken && !h.Unanswered() {
			continue
		}
		ok, err := sc.visible(r.Context(), h)
		if err != nil {
			return 0, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// handoffList serves GET /console/handoffs: the inbox.
func (s *Server) handoffList(w http.ResponseWriter, r *http.Request, u *staff.User) error {
	if !u.MayAct() {
		return errForbidden
	}
	lists, err := s.handoffLists(r, u)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "handoff_list", view{User: u, Nav: "handoffs", Title: uiText.Render(langOf(r), "handoff.title"),
		Data: struct {
			Lists   handoffLists
			Version string
		}{lists, listVersion(lists)}})
	return nil
}

// listVersion tells one state of the inbox from another, as shown.
func listVersion(l handoffLists) string {
	b, _ := json.Marshal(l) // plain structs: cannot fail
	return digest(b)
}

// digest is a short hash of b.
func digest(b []byte) string {
	h := fnv.New64a()
	_, _ = h.Write(b)
	return strconv.FormatUint(h.Sum64(), 36)
}

// live is the answer of a page's poll: the fragment as it is now, and what
// tells it from the last one.
type live struct {
	Version string `json:"version"`
	HTML    string `json:"html"`
	State   string `json:"state,omitempty"`
	TakenBy string `json:"taken_by,omitempty"`
	CaseID  int64  `json:"case_id,omitempty"`
}

// writeLive answers a poll: 204 when the page shows version v already.
func writeLive(w http.ResponseWriter, r *http.Request, l live) {
	w.Header().Set("Cache-Control", "no-store")
	if r.URL.Query().Get("v") == l.Version {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, l)
}

// fragment renders the template tmpl of page name with v.
func (s *Server) fragment(r *http.Request, name, tmpl string, v view) (string, error) {
	v.Lang = langOf(r)
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, tmpl, v); err != nil {
		return "", fmt.Errorf("render %s of %s: %w", tmpl, name, err)
	}
	return buf.String(), nil
}

// handoffListLive serves GET /console/handoffs/live: the inbox's lists.
func (s *Server) handoffListLive(w http.ResponseWriter, r *http.Request, u *staff.User) error {
	if !u.MayAct() {
		return errForbidden
	}
	lists, err := s.handoffLists(r, u)
	if err != nil {
		return err
	}
	l := live{Version: listVersion(lists)}
	if r.URL.Query().Get("v") != l.Version {
		if l.HTML, err = s.fragment(r, "handoff_list", "handoff_lists", view{User: u, Data: struct{ Lists handoffLists }{lists}}); err != nil {
			return err
		}
	}
	writeLive(w, r, l)
	return nil
}

// handoffLine is a message of the conversation as a person reads it.
type handoffLine struct {
	ID                         int64
	From, Who, At, Text, Media string
	Delivery, DeliveryError    string
}

// handoffPage is the conversation page's data.
type handoffPage struct {
	H                        *casework.Handoff
	Who, Phone, Since, Wait  string
	Units                    []string
	Case                     *casework.Case
	Candidates               []*casework.Case
	Lines                    []handoffLine
	Version                  string
	TakenBy, EndedBy         string
	Mine, EndedByOwner       bool
	Quick                    []quickGroup
	Done, Error, Draft, Link string
}

// quickGroup is a topic of quick replies in the owner's language.
type quickGroup struct {
	Label   string
	Replies []string
}

// handoffLines returns the conversation of h as a person reads it.
func (s *Server) handoffLines(ctx context.Context, lang l10n.Lang, h *casework.Handoff, who string) ([]handoffLine, error) {
	hs, err := s.handoffStore()
	if err != nil {
		return nil, err
	}
	msgs, err := hs.ListHandoffMessages(ctx, h.ID, 0)
	if err != nil {
		return nil, err
	}
	names := s.actorNamer(lang)
	out := make([]handoffLine, 0, len(msgs))
	for _, m := range msgs {
		line := handoffLine{ID: m.ID, From: string(m.From), At: m.At.In(s.cfg.Location).Format("01-02 15:04"), Text: m.Text,
			Delivery: string(m.Delivery), DeliveryError: m.DeliveryError}
		switch m.From {
		case casework.FromOwner:
			line.Who = who
		case casework.FromBot:
			line.Who = uiText.Render(lang, "handoff.from.bot")
		default:
			if line.Who, err = names.name(ctx, m.Actor); err != nil {
				return nil, err
			}
		}
		if m.BlobKey != "" {
			line.Media = fmt.Sprintf("/console/handoffs/%d/media/%d", h.ID, m.ID)
		}
		out = append(out, line)
	}
	return out, nil
}

// handoffVersion tells one state of a conversation from another, as shown.
func handoffVersion(h *casework.Handoff, lines []handoffLine) string {
	b, _ := json.Marshal(struct {
		State   casework.HandoffState
		TakenBy casework.Actor
		CaseID  int64
		Lines   []handoffLine
	}{h.State, h.TakenBy, h.CaseID, lines})
	return digest(b)
}

// handoffView gathers the conversation page of h for u.
func (s *Server) handoffView(r *http.Request, u *staff.User, h *casework.Handoff) (*handoffPage, error) {
	ctx, lang, now := r.Context(), langOf(r), s.cfg.NowFunc()
	p := &handoffPage{H: h, Since: s.formatTime(h.CreatedAt), Wait: waitText(lang, h.Waited(now)),
		Mine: h.TakenBy == casework.Actor(u.Actor())}
	var err error
	if p.Who, err = s.handoffWho(ctx, lang, h); err != nil {
		return nil, err
	}
	if p.Lines, err = s.handoffLines(ctx, lang, h, p.Who); err != nil {
		return nil, err
	}
	p.Version = handoffVersion(h, p.Lines)
	names := s.actorNamer(lang)
	if h.TakenBy != "" {
		if p.TakenBy, err = names.name(ctx, h.TakenBy); err != nil {
			return nil, err
		}
	}
	if h.EndedBy != "" {
		kind, _ := h.EndedBy.Parse()
		p.EndedByOwner = kind == "owner" || kind == "chat"
		if p.EndedBy, err = names.name(ctx, h.EndedBy); err != nil {
			return nil, err
		}
	}
	if h.OwnerID != 0 {
		if o, err := s.cfg.Store.FindOwnerByID(ctx, h.OwnerID); err == nil {
			p.Phone = casework.MaskPhone(o.Phone)
		}
		units, err := s.cfg.Store.OwnerUnits(ctx, h.OwnerID)
		if err != nil {
			return nil, err
		}
		for _, unit := range units {
			label := unit.Label()
			if pr, err := s.cfg.Store.FindProjectByID(ctx, unit.ProjectID); err == nil {
				label = pr.Name + " " + label
			}
			p.Units = append(p.Units, label)
		}
	}
	if h.CaseID != 0 {
		if c, err := s.cfg.Store.FindCaseByID(ctx, h.CaseID); err == nil && u.MaySeeCase(c) {
			p.Case = c
		}
	}
	if h.State.Open() {
		if p.Candidates, err = s.handoffCandidates(ctx, u, h); err != nil {
			return nil, err
		}
		ownerLang := l10n.Lang(h.Lang)
		if s.cfg.Lifecycle != nil {
			ownerLang = s.cfg.Lifecycle.HandoffLang(ctx, h)
		}
		for _, t := range quickReplies {
			g := quickGroup{Label: uiText.Render(lang, t.key)}
			for _, q := range t.replies {
				g.Replies = append(g.Replies, q.text(ownerLang))
			}
			p.Quick = append(p.Quick, g)
		}
	}
	return p, nil
}

// handoffCandidates are the cases a person may link h to: the owner's open
// cases and those the chat account reported, that the person may see.
func (s *Server) handoffCandidates(ctx context.Context, u *staff.User, h *casework.Handoff) ([]*casework.Case, error) {
	var out []*casework.Case
	seen := map[int64]bool{}
	filters := []casework.CaseFilter{{ReporterPlatform: h.Platform, ReporterUserID: h.UserID, States: openStates(), Limit: 20}}
	if h.OwnerID != 0 {
		filters = append(filters, casework.CaseFilter{OwnerID: h.OwnerID, States: openStates(), Limit: 20})
	}
	for _, f := range filters {
		cases, _, err := s.cfg.Store.FindCases(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, c := range cases {
			if !seen[c.ID] && c.ID != h.CaseID && u.MaySeeCase(c) {
				seen[c.ID] = true
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// handoffShow serves GET /console/handoffs/{id}: the conversation. Opening
// it is in the audit log.
func (s *Server) handoffShow(w http.ResponseWriter, r *http.Request, u *staff.User) error {
	h, err := s.handoffOf(r, u)
	if err != nil {
		return err
	}
	if err := s.cfg.Staff.Audit(r.Context(), &staff.AuditEntry{UserID: u.ID, Actor: u.Actor(), Action: "handoff_view",
		Subject: "handoff:" + strconv.FormatInt(h.ID, 10), IP: clientAddr(r)}); err != nil {
		return err
	}
	p, err := s.handoffView(r, u, h)
	if err != nil {
		return err
	}
	if done := r.URL.Query().Get("done"); handoffActions[done] != nil {
		p.Done = uiText.Render(langOf(r), "handoff.done."+done)
	}
	return s.renderHandoff(w, r, u, http.StatusOK, p)
}

func (s *Server) renderHandoff(w http.ResponseWriter, r *http.Request, u *staff.User, status int, p *handoffPage) error {
	s.render(w, r, status, "handoff_show", view{User: u, Nav: "handoffs", Title: p.Who + " · " + uiText.Render(langOf(r), "handoff.title"), Data: p})
	return nil
}

// handoffLive serves GET /console/handoffs/{id}/live: the conversation's
// messages as they are now, for the page's poll.
func (s *Server) handoffLive(w http.ResponseWriter, r *http.Request, u *staff.User) error {
	h, err := s.handoffOf(r, u)
	if err != nil {
		return err
	}
	lang := langOf(r)
	who, err := s.handoffWho(r.Context(), lang, h)
	if err != nil {
		return err
	}
	lines, err := s.handoffLines(r.Context(), lang, h, who)
	if err != nil {
		return err
	}
	l := live{Version: handoffVersion(h, lines), State: string(h.State), TakenBy: string(h.TakenBy), CaseID: h.CaseID}
	if r.URL.Query().Get("v") != l.Version {
		p := &handoffPage{H: h, Lines: lines}
		if l.HTML, err = s.fragment(r, "handoff_show", "handoff_messages", view{User: u, Data: p}); err != nil {
			return err
		}
	}
	writeLive(w, r, l)
	return nil
}

// handoffAction is an action of the conversation page, posted to
// /console/handoffs/{id}/{action}.
type handoffAction func(s *Server, r *http.Request, h *casework.Handoff, actor casework.Actor, u *staff.User, f url.Values) error

// handoffActions are the conversation page's actions, by name.
var handoffActions = map[string]handoffAction{
	"take": func(s *Server, r *http.Request, h *casework.Handoff, actor casework.Actor, _ *staff.User, _ url.Values) error {
		_, err := s.cfg.Lifecycle.TakeHandoff(r.Context(), h.ID, actor, false)
		return err
	},
	"takeover": func(s *Server, r *http.Request, h *casework.Handoff, actor casework.Actor, _ *staff.User, _ url.Values) error {
		_, err := s.cfg.Lifecycle.TakeHandoff(r.Context(), h.ID, actor, true)
		return err
	},
	"reply": func(s *Server, r *http.Request, h *casework.Handoff, actor casework.Actor, _ *staff.User, f url.Values) error {
		_, err := s.cfg.Lifecycle.ReplyToHandoff(r.Context(), h.ID, actor, f.Get("text"))
		return err
	},
	"link": func(s *Server, r *http.Request, h *casework.Handoff, actor casework.Actor, u *staff.User, f url.Values) error {
		number := strings.TrimSpace(f.Get("number"))
		if number == "" {
			number = strings.TrimSpace(f.Get("case"))
		}
		if number == "" {
			return casework.Invalid("case", "choose a case or type its number")
		}
		c, err := s.cfg.Store.FindCaseByNumber(r.Context(), number)
		if errors.Is(err, casework.ErrNotFound) || (err == nil && !u.MaySeeCase(c)) {
			return casework.Invalid("case", "there is no case %q", number)
		}
		if err != nil {
			return err
		}
		_, err = s.cfg.Lifecycle.LinkHandoff(r.Context(), h.ID, actor, c.Number)
		return err
	},
	"end": func(s *Server, r *http.Request, h *casework.Handoff, actor casework.Actor, _ *staff.User, _ url.Values) error {
		_, err := s.cfg.Lifecycle.EndHandoff(r.Context(), h.ID, actor)
		return err
	},
}

// handoffAct serves POST /console/handoffs/{id}/{action}: done, the
// conversation follows (303); refused, it comes back with the reason and
// the reply typed kept: 400 for a bad value, 409 when someone else took
// the chat or it ended.
func (s *Server) handoffAct(w http.ResponseWriter, r *http.Request, u *staff.User) error {
	h, err := s.handoffOf(r, u)
	if err != nil {
		return err
	}
	name := r.PathValue("action")
	act, ok := handoffActions[name]
	if !ok {
		return casework.ErrNotFound
	}
	if s.cfg.Lifecycle == nil {
		return fmt.Errorf("%w: the case lifecycle is not configured", errUnavailable)
	}
	if err := r.ParseForm(); err != nil {
		return casework.Invalid("form", "%v", err)
	}
	err = act(s, r, h, casework.Actor(u.Actor()), u, r.PostForm)
	if err != nil && !refusal(err) {
		return err
	}
	if err == nil {
		http.Redirect(w, r, fmt.Sprintf("/console/handoffs/%d?done=%s#reply", h.ID, url.QueryEscape(name)), http.StatusSeeOther)
		return nil
	}
	hs, _ := s.handoffStore()
	if nh, lerr := hs.FindHandoff(r.Context(), h.ID); lerr == nil {
		h = nh
	}
	p, verr := s.handoffView(r, u, h)
	if verr != nil {
		return verr
	}
	p.Error, p.Draft, p.Link = s.handoffError(r, h, err), r.PostForm.Get("text"), r.PostForm.Get("number")
	return s.renderHandoff(w, r, u, actionStatus(err), p)
}

// handoffError says why an action on h was refused: the chat ended, someone
// else has it, or what actionError says.
func (s *Server) handoffError(r *http.Request, h *casework.Handoff, err error) string {
	lang := langOf(r)
	switch {
	case errors.Is(err, casework.ErrConflict) && !h.State.Open():
		return uiText.Render(lang, "handoff.error.ended")
	case errors.Is(err, casework.ErrConflict) && h.TakenBy != "":
		name, nerr := s.actorNamer(lang).name(r.Context(), h.TakenBy)
		if nerr != nil {
			name = string(h.TakenBy)
		}
		return uiText.Render(lang, "handoff.taken_by_other", "name", name)
	}
	return actionError(lang, err)
}

// handoffMedia serves GET /console/handoffs/{id}/media/{msg}: a photo or
// video the owner sent in the chat, from the blob store, never by its key.
func (s *Server) handoffMedia(w http.ResponseWriter, r *http.Request, u *staff.User) error {
	h, err := s.handoffOf(r, u)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("msg"), 10, 64)
	if err != nil || s.cfg.Media == nil {
		return casework.ErrNotFound
	}
	hs, err := s.handoffStore()
	if err != nil {
		return err
	}
	msgs, err := hs.ListHandoffMessages(r.Context(), h.ID, id-1)
	if err != nil {
		return err
	}
	if len(msgs) == 0 || msgs[0].ID != id || msgs[0].BlobKey == "" {
		return casework.ErrNotFound
	}
	m := msgs[0]
	f, err := s.cfg.Media.Open(r.Context(), m.BlobKey)
	if err != nil {
		return fmt.Errorf("open media of hand-off %d message %d: %w", h.ID, m.ID, err)
	}
	defer f.Close()
	var head [512]byte
	n, _ := io.ReadFull(f, head[:])
	contentType := http.DetectContentType(head[:n])
	hd := w.Header()
	hd.Set("Content-Type", contentType)
	hd.Set("Cache-Control", "private, max-age=3600")
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if !inline(contentType) {
		hd.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="handoff-%d-%d"`, h.ID, m.ID))
	}
	_, _ = w.Write(head[:n])
	_, _ = io.Copy(w, f)
	return nil
}
