package console

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/staff"
)

// maxNoteChars bounds a note added through the API.
const maxNoteChars = 2000

// caller is who an API request comes from: a service account, with its
// role — staff (the API token, or an account made with aftersales user add
// -service) or a responsible party (a party token).
type caller struct {
	user *staff.User
}

// staff reports whether the caller works cases (any role but party).
func (c caller) staff() bool { return c.user != nil && c.user.MayAct() }

// sees reports whether the caller may see case c (staff.User.MaySeeCase).
func (c caller) sees(k *casework.Case) bool { return c.user != nil && c.user.MaySeeCase(k) }

// actor is who the caller's notes and actions are recorded as:
// "staff:<account>", or "service:<account>" for a token's service account.
func (c caller) actor() casework.Actor { return casework.Actor(c.user.Actor()) }

// actorOf is the actor of the request's caller.
func actorOf(r *http.Request) casework.Actor { return callerOf(r).actor() }

type callerKey struct{}

// callerOf returns the caller that api or staffAPI authenticated.
func callerOf(r *http.Request) caller {
	c, _ := r.Context().Value(callerKey{}).(caller)
	return c
}

// tokenSet holds the SHA-256 of the staff token and of each party token.
type tokenSet struct {
	staff   [sha256.Size]byte
	parties []partyToken
}

type partyToken struct {
	hash      [sha256.Size]byte
	partyCode string
}

func newTokenSet(staff string, parties map[string]string) tokenSet {
	ts := tokenSet{staff: sha256.Sum256([]byte(staff))}
	for token, code := range parties {
		if token == "" || token == staff {
			continue // refused by Config.Validate; never a way in
		}
		ts.parties = append(ts.parties, partyToken{hash: sha256.Sum256([]byte(token)), partyCode: code})
	}
	return ts
}

// match returns the caller a token stands for. Every known token is compared,
// in constant time, whatever matches; hashing first makes the comparisons
// independent of the lengths too.
func (ts tokenSet) match(token string) (partyToken, bool) {
	got := sha256.Sum256([]byte(token))
	found := subtle.ConstantTimeCompare(got[:], ts.staff[:]) == 1
	var c partyToken
	for _, p := range ts.parties {
		if subtle.ConstantTimeCompare(got[:], p.hash[:]) == 1 {
			c.partyCode, found = p.partyCode, true
		}
	}
	return c, found
}

// api wraps h so that it answers only requests carrying the staff token
// (Config.APIToken) or a party token (Config.PartyTokens); anything else is
// a 401. Tokens are compared in constant time (tokenSet.match).
//
// Party-scoped access: engineers never see other parties' cases. A party
// token may only list and read: GET /api/v1/cases and …/overdue are
// filtered by its party whatever party_id says, GET /api/v1/cases/{number}
// of another party's case answers the very 404 of an unknown number (so
// that numbers cannot be probed), and GET /api/v1/work-orders/waiting shows
// its party's orders. Every other route is staffAPI and answers a party
// token 403. A party token whose party is not on record is refused (403)
// and logged, for it is a configuration error.
func (s *Server) api(h handlerFunc) http.Handler {
	return s.handler(func(w http.ResponseWriter, r *http.Request) error {
		token, ok := bearerToken(r)
		if !ok {
			return fmt.Errorf("%w: a valid bearer token is required", errUnauthorized)
		}
		u, err := s.tokenUser(r.Context(), token)
		if err != nil {
			return err
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, caller{user: u})))
	})
}

// tokenUser returns the account of a bearer token: a service account of the
// staff service, or, for a console run without one (tests), the configured
// tokens as accounts named "api" and "party-<code>".
func (s *Server) tokenUser(ctx context.Context, token string) (*staff.User, error) {
	if s.cfg.Staff != nil {
		u, err := s.cfg.Staff.AuthenticateToken(ctx, token)
		if errors.Is(err, staff.ErrNoSession) {
			return nil, fmt.Errorf("%w: a valid bearer token is required", errUnauthorized)
		}
		return u, err
	}
	c, known := s.tokens.match(token)
	if !known {
		return nil, fmt.Errorf("%w: a valid bearer token is required", errUnauthorized)
	}
	if c.partyCode == "" {
		return &staff.User{Username: "api", Role: staff.RoleSupervisor, Kind: staff.KindService}, nil
	}
	p, err := s.cfg.Store.FindPartyByCode(ctx, c.partyCode)
	if errors.Is(err, casework.ErrNotFound) {
		s.cfg.Logger.WarnContext(ctx, "party token of an unknown party", "party", c.partyCode)
		return nil, fmt.Errorf("%w: the party of this token is not on record", errForbidden)
	}
	if err != nil {
		return nil, err
	}
	return &staff.User{Username: "party-" + strings.ToLower(p.Code), Role: staff.RoleParty, PartyID: p.ID, Kind: staff.KindService}, nil
}

// staffAPI is api for the routes only staff may call: a party token is
// answered 403.
func (s *Server) staffAPI(h handlerFunc) http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		if !callerOf(r).staff() {
			return fmt.Errorf("%w: a party token may not %s %s", errForbidden, r.Method, r.URL.Path)
		}
		return h(w, r)
	})
}

// bearerToken returns the token of an "Authorization: Bearer <token>" header.
// The scheme is case-insensitive (RFC 7235).
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

func apiDisabled(w http.ResponseWriter, r *http.Request) error {
	return fmt.Errorf("%w: the staff API is disabled", casework.ErrNotFound)
}

func apiNotFound(w http.ResponseWriter, r *http.Request) error {
	return fmt.Errorf("%w: no API route %s %s", casework.ErrNotFound, r.Method, r.URL.Path)
}

// caseList is the answer of GET /api/v1/cases.
type caseList struct {
	Cases  []caseJSON `json:"cases"`
	Total  int        `json:"total"`
	Limit  int        `json:"limit"`
	Offset int        `json:"offset"`
}

// caseJSON is a case as the API shows it. Phone numbers are shown in full:
// staff call the owner back.
type caseJSON struct {
	ID             int64      `json:"id"`
	Number         string     `json:"number"`
	Version        int        `json:"version"`
	ProjectID      int64      `json:"project_id"`
	BuildingID     *int64     `json:"building_id"`
	UnitID         *int64     `json:"unit_id"`
	OwnerID        *int64     `json:"owner_id"`
	OwnerName      string     `json:"owner_name"`
	OwnerPhone     string     `json:"owner_phone"`
	Location       string     `json:"location"`
	LocationDetail string     `json:"location_detail"`
	Description    string     `json:"description"`
	OccurredAt     *time.Time `json:"occurred_at"`
	OccurredText   string     `json:"occurred_text"`
	Expectation    string     `json:"expectation"`
	ContactTime    string     `json:"contact_time"`
	Channel        string     `json:"channel"`
	ReceivedAt     time.Time  `json:"received_at"`
	ReceivedBy     string     `json:"received_by"`
	Category       string     `json:"category"`
	Subcategory    string     `json:"subcategory"`
	Urgency        string     `json:"urgency"`
	Responsibility string     `json:"responsibility"`
	DecisionReason string     `json:"decision_reason"`
	PartyID        *int64     `json:"party_id"`
	AssigneeID     *int64     `json:"assignee_id"`
	WarrantyStatus string     `json:"warranty_status"`
	WarrantyUntil  *string    `json:"warranty_until"` // YYYY-MM-DD; null when unknown
	// ReporterPlatform is the chat platform the case was reported from; ""
	// for cases staff typed in. The account itself is not shown.
	ReporterPlatform string `json:"reporter_platform"`
	// IdentityVerified tells whether the reporter proved to be the owner
	// named; false: the name and phone are as a chat account typed them.
	IdentityVerified bool       `json:"identity_verified"`
	ParentID         *int64     `json:"parent_id"`
	AppointmentAt    *time.Time `json:"appointment_at"`
	EscalatedAt      *time.Time `json:"escalated_at"`
	State            string     `json:"state"`
	HeldFrom         string     `json:"held_from,omitempty"`
	RepairCount      int        `json:"repair_count"`
	Overdue          bool       `json:"overdue"`
	RespondBy        *time.Time `json:"respond_by"`
	OnSiteBy         *time.Time `json:"on_site_by"`
	ResolveBy        *time.Time `json:"resolve_by"`
	RespondedAt      *time.Time `json:"responded_at"`
	OnSiteAt         *time.Time `json:"on_site_at"`
	ResolvedAt       *time.Time `json:"resolved_at"`
	ClosedAt         *time.Time `json:"closed_at"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

// caseDetailJSON is a case with its media, plan, survey, coordination tasks
// and outbox, as GET /api/v1/cases/{number} shows it.
type caseDetailJSON struct {
	caseJSON
	// ParentNumber is the number of the case this one came from, when the
	// caller may see it.
	ParentNumber  string       `json:"parent_number,omitempty"`
	ProposedSlots []time.Time  `json:"proposed_slots"`
	Plan          *planJSON    `json:"plan"`
	Survey        *surveyJSON  `json:"survey"`
	Media         []mediaJSON  `json:"media"`
	Tasks         []taskJSON   `json:"tasks"`
	Outbox        []outboxJSON `json:"outbox"`
}

type mediaJSON struct {
	ID          int64     `json:"id"`
	Kind        string    `json:"kind"`
	BlobKey     string    `json:"blob_key"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	CreatedAt   time.Time `json:"created_at"`
}

type eventJSON struct {
	ID     int64     `json:"id"`
	CaseID int64     `json:"case_id"`
	Seq    int       `json:"seq"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Kind   string    `json:"kind"`
	Action string    `json:"action,omitempty"`
	From   string    `json:"from,omitempty"`
	To     string    `json:"to,omitempty"`
	Note   string    `json:"note"`
}

func newCaseJSON(c *casework.Case, now time.Time) caseJSON {
	return caseJSON{
		ID: c.ID, Number: c.Number, Version: c.Version,
		ProjectID: c.ProjectID, BuildingID: optID(c.BuildingID), UnitID: optID(c.UnitID), OwnerID: optID(c.OwnerID),
		OwnerName: c.OwnerName, OwnerPhone: c.OwnerPhone,
		Location: string(c.Location), LocationDetail: c.LocationDetail, Description: c.Description,
		OccurredAt: c.OccurredAt, OccurredText: c.OccurredText, Expectation: c.Expectation, ContactTime: c.ContactTime,
		Channel: string(c.Channel), ReceivedAt: c.ReceivedAt, ReceivedBy: string(c.ReceivedBy),
		Category: string(c.Category), Subcategory: string(c.Subcategory), Urgency: string(c.Urgency),
		Responsibility: string(c.Responsibility), DecisionReason: c.DecisionReason,
		PartyID: optID(c.PartyID), AssigneeID: optID(c.AssigneeID),
		WarrantyStatus: string(c.WarrantyStatus), WarrantyUntil: optDate(c.WarrantyUntil),
		ReporterPlatform: c.ReporterPlatform, IdentityVerified: c.IdentityVerified, ParentID: optID(c.ParentID),
		AppointmentAt: c.AppointmentAt, EscalatedAt: c.EscalatedAt,
		State: string(c.State), HeldFrom: string(c.HeldFrom), RepairCount: c.RepairCount, Overdue: c.Overdue(now),
		RespondBy: c.RespondBy, OnSiteBy: c.OnSiteBy, ResolveBy: c.ResolveBy,
		RespondedAt: c.RespondedAt, OnSiteAt: c.OnSiteAt, ResolvedAt: c.ResolvedAt, ClosedAt: c.ClosedAt,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

func newEventJSON(e *casework.Event) eventJSON {
	return eventJSON{
		ID: e.ID, CaseID: e.CaseID, Seq: e.Seq, At: e.At, Actor: string(e.Actor), Kind: string(e.Kind),
		Action: string(e.Action), From: string(e.From), To: string(e.To), Note: e.Note,
	}
}

// optDate shows an unknown (zero) date as null.
func optDate(d casework.Date) *string {
	if d.IsZero() {
		return nil
	}
	s := d.String()
	return &s
}

// optID shows an unknown (zero) reference as null.
func optID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// listCases serves GET /api/v1/cases.
func (s *Server) listCases(w http.ResponseWriter, r *http.Request) error {
	return s.findCases(w, r, false)
}

// listOverdueCases serves GET /api/v1/cases/overdue: /api/v1/cases?overdue=true.
func (s *Server) listOverdueCases(w http.ResponseWriter, r *http.Request) error {
	return s.findCases(w, r, true)
}

func (s *Server) findCases(w http.ResponseWriter, r *http.Request, overdue bool) error {
	now := s.cfg.NowFunc()
	f, err := parseCaseFilter(r.URL.Query(), now)
	if err != nil {
		return err
	}
	if overdue {
		f.OverdueAt = &now
	}
	u := callerOf(r).user
	if u.Role == staff.RoleParty {
		f.PartyID = u.PartyID // whatever party_id says
	}
	var cases []*casework.Case
	total := 0
	if u.ScopeCases(&f) {
		if cases, total, err = s.cfg.Store.FindCases(r.Context(), f); err != nil {
			return err
		}
	}
	out := caseList{Cases: make([]caseJSON, 0, len(cases)), Total: total, Limit: f.Limit, Offset: f.Offset}
	for _, c := range cases {
		out.Cases = append(out.Cases, newCaseJSON(c, now))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// caseFilterParams are the query parameters of the case list; state may repeat.
var caseFilterParams = map[string]bool{
	"state": true, "urgency": false, "category": false, "project_id": false, "building_id": false,
	"unit_id": false, "owner_id": false, "party_id": false, "channel": false, "overdue": false,
	"q": false, "limit": false, "offset": false,
}

// parseCaseFilter reads a CaseFilter from the query parameters. Unknown or
// repeated parameters are refused rather than ignored, so that a typo does not
// silently widen the list. Errors are *casework.ValidationError naming the
// parameter.
func parseCaseFilter(q url.Values, now time.Time) (casework.CaseFilter, error) {
	var f casework.CaseFilter
	if err := textParams(q); err != nil {
		return f, err
	}
	for name, vs := range q {
		repeatable, known := caseFilterParams[name]
		switch {
		case !known:
			return f, casework.Invalid(name, "is not a known parameter")
		case len(vs) > 1 && !repeatable:
			return f, casework.Invalid(name, "is given more than once")
		}
	}
	for _, v := range q["state"] {
		f.States = append(f.States, casework.State(v))
	}
	f.Urgency = casework.Urgency(q.Get("urgency"))
	f.Category = casework.Category(q.Get("category"))
	f.Channel = casework.Channel(q.Get("channel"))
	f.Text = q.Get("q")
	var err error
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"project_id", &f.ProjectID}, {"building_id", &f.BuildingID}, {"unit_id", &f.UnitID}, {"owner_id", &f.OwnerID}, {"party_id", &f.PartyID}} {
		if *p.dst, err = intParam(q, p.name, true); err != nil {
			return f, err
		}
	}
	limit, err := intParam(q, "limit", false)
	if err != nil {
		return f, err
	}
	offset, err := intParam(q, "offset", false)
	if err != nil {
		return f, err
	}
	f.Limit, f.Offset = int(limit), int(offset)
	if v := q.Get("overdue"); v != "" {
		overdue, err := strconv.ParseBool(v)
		if err != nil {
			return f, casework.Invalid("overdue", "must be true or false, not %q", v)
		}
		if overdue {
			f.OverdueAt = &now
		}
	}
	if err := f.Normalize(); err != nil {
		var ve *casework.ValidationError
		if errors.As(err, &ve) && ve.Field == "text" {
			return f, casework.Invalid("q", "%s", ve.Reason)
		}
		return f, err
	}
	return f, nil
}

// intParam parses the integer query parameter name: an ID (positive) or a
// count (non-negative, fits an int32). Absent, it is 0.
func intParam(q url.Values, name string, id bool) (int64, error) {
	v := q.Get(name)
	if v == "" {
		return 0, nil
	}
	if id {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return 0, casework.Invalid(name, "must be a positive integer, not %q", v)
		}
		return n, nil
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < 0 {
		return 0, casework.Invalid(name, "must be a non-negative integer, not %q", v)
	}
	return n, nil
}

// caseDetail is the answer of GET /api/v1/cases/{number}.
type caseDetail struct {
	Case     caseDetailJSON `json:"case"`
	Timeline []eventJSON    `json:"timeline"`
}

// getCase serves GET /api/v1/cases/{number}: the case with its media, plan,
// survey, coordination tasks, outbox messages (without their content) and
// timeline. A party token reading another party's case gets the 404 of an
// unknown number, so that numbers cannot be probed.
func (s *Server) getCase(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := s.loadCase(r)
	if err != nil {
		return err
	}
	events, err := s.cfg.Store.ListCaseEvents(ctx, c.ID)
	if err != nil {
		return err
	}
	tasks, err := s.cfg.Store.ListTasks(ctx, c.ID)
	if err != nil {
		return err
	}
	msgs, err := s.cfg.Store.ListOutbox(ctx, c.ID)
	if err != nil {
		return err
	}
	now := s.cfg.NowFunc()
	d := caseDetailJSON{
		caseJSON:      newCaseJSON(c, now),
		ProposedSlots: append([]time.Time{}, c.ProposedSlots...),
		Plan:          newPlanJSON(c.Plan),
		Survey:        newSurveyJSON(c.Survey),
		Media:         make([]mediaJSON, 0, len(c.Media)),
		Tasks:         make([]taskJSON, 0, len(tasks)),
		Outbox:        make([]outboxJSON, 0, len(msgs)),
	}
	if c.ParentID != 0 {
		parent, err := s.cfg.Store.FindCaseByID(ctx, c.ParentID)
		switch {
		case errors.Is(err, casework.ErrNotFound):
		case err != nil:
			return err
		case callerOf(r).sees(parent):
			d.ParentNumber = parent.Number
		}
	}
	for _, m := range c.Media {
		d.Media = append(d.Media, mediaJSON{ID: m.ID, Kind: string(m.Kind), BlobKey: m.BlobKey, ContentType: m.ContentType, Size: m.Size, CreatedAt: m.CreatedAt})
	}
	for _, t := range tasks {
		d.Tasks = append(d.Tasks, newTaskJSON(t, now))
	}
	for _, m := range msgs {
		d.Outbox = append(d.Outbox, newOutboxJSON(m))
	}
	out := caseDetail{Case: d, Timeline: make([]eventJSON, 0, len(events))}
	for _, e := range events {
		out.Timeline = append(out.Timeline, newEventJSON(e))
	}
	// The version to send back as If-Match with an action on the case.
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(c.Version)))
	writeJSON(w, http.StatusOK, out)
	return nil
}

// loadCase finds the case named by the {number} of the path, as the caller
// may see it: another party's case is not found, with the very error of an
// unknown number.
func (s *Server) loadCase(r *http.Request) (*casework.Case, error) {
	number := r.PathValue("number")
	c, err := s.cfg.Store.FindCaseByNumber(r.Context(), number)
	switch {
	case err == nil && callerOf(r).sees(c):
		return c, nil
	case err == nil || errors.Is(err, casework.ErrNotFound):
		return nil, fmt.Errorf("case %q: %w", number, casework.ErrNotFound)
	}
	return nil, err
}

// noteRequest is the body of POST /api/v1/cases/{number}/notes.
type noteRequest struct {
	Note string `json:"note"`
}

// addNote serves POST /api/v1/cases/{number}/notes: it appends a note by
// the caller's account to the case's timeline and answers 201 with the
// event.
func (s *Server) addNote(w http.ResponseWriter, r *http.Request) error {
	var req noteRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	note := strings.TrimSpace(req.Note)
	if err := validNote(note); err != nil {
		return err
	}
	ctx := r.Context()
	c, err := s.loadCase(r)
	if err != nil {
		return err
	}
	e := &casework.Event{CaseID: c.ID, Actor: actorOf(r), Kind: casework.EventNote, Note: note}
	if err := s.cfg.Store.AddCaseEvent(ctx, e); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]eventJSON{"event": newEventJSON(e)})
	return nil
}

func validNote(note string) error {
	switch {
	case note == "":
		return casework.Invalid("note", "is required")
	case !utf8.ValidString(note):
		return casework.Invalid("note", "is not valid UTF-8")
	case utf8.RuneCountInString(note) > maxNoteChars:
		return casework.Invalid("note", "is %d characters long; at most %d are allowed", utf8.RuneCountInString(note), maxNoteChars)
	}
	for _, r := range note {
		if (r < 0x20 && r != '\n' && r != '\t' && r != '\r') || r == 0x7f {
			return casework.Invalid("note", "contains control characters")
		}
	}
	return nil
}

// decodeJSON reads one JSON object from the request body into v, refusing
// unknown fields and trailing data. A body over MaxBodyBytes yields the
// *http.MaxBytesError, which serveError answers with 413.
func decodeJSON(r *http.Request, v any) error { return decodeBody(r, v, false) }

// decodeEmpty reads the body of an action that takes no input: nothing at
// all, or {}.
func decodeEmpty(r *http.Request) error {
	var none struct{}
	return decodeBody(r, &none, true)
}

func decodeBody(r *http.Request, v any, emptyOK bool) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err = dec.Token(); err == io.EOF {
			return nil
		} else if err == nil {
			err = errors.New("unexpected data after the JSON object")
		}
	} else if err == io.EOF && emptyOK {
		return nil
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return err
	}
	if errors.Is(err, io.EOF) {
		return casework.Invalid("body", "is empty")
	}
	return casework.Invalid("body", "is not a valid JSON object: %v", err)
}
