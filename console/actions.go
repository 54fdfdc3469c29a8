package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/lifecycle"
)

// This file holds the staff's actions on cases: triage, accept, reject,
// dispatch, messages to the owner, coordination tasks and bind codes. Every
// one is staff-only (staffAPI); those that go through the lifecycle answer
// 503 when Config.Lifecycle is nil.

// withLifecycle adapts an action that goes through the lifecycle service:
// without one (Config.Lifecycle nil) it answers errUnavailable.
//
// An action on a case sent with If-Match: "<version>" (the case's version as
// the caller last read it: GET /api/v1/cases/{number} answers it as ETag) is
// refused with 409 conflict when the case changed since.
func (s *Server) withLifecycle(h func(svc *lifecycle.Service, w http.ResponseWriter, r *http.Request) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.cfg.Lifecycle == nil {
			return fmt.Errorf("%w: the case lifecycle is not configured", errUnavailable)
		}
		v, ok, err := ifMatch(r)
		if err != nil {
			return err
		}
		if ok && r.PathValue("number") != "" {
			r = r.WithContext(lifecycle.WithVersion(r.Context(), r.PathValue("number"), v))
		}
		return h(s.cfg.Lifecycle, w, r)
	}
}

// ifMatch reads the case version of an If-Match header: "12" or 12 (a weak
// W/"12" too); ok is false without one.
func ifMatch(r *http.Request) (version int, ok bool, err error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		return 0, false, nil
	}
	v, err := strconv.Atoi(strings.Trim(strings.TrimPrefix(h, "W/"), `"`))
	if err != nil || v < 0 {
		return 0, false, casework.Invalid("If-Match", "must be the case's version, as its ETag gives it: %q", h)
	}
	return v, true, nil
}

// checkVersion refuses, under If-Match, a change to c when c is no longer at
// the version the caller saw.
func checkVersion(r *http.Request, c *casework.Case) error {
	v, ok, err := ifMatch(r)
	if err != nil || !ok || v == c.Version {
		return err
	}
	return &casework.ConflictError{What: fmt.Sprintf("case %s changed since version %d (now %d): reload it", c.Number, v, c.Version)}
}

// caseResponse is the answer of an action that changed a case.
type caseResponse struct {
	Case caseJSON `json:"case"`
}

func (s *Server) writeCase(w http.ResponseWriter, c *casework.Case) {
	writeJSON(w, http.StatusOK, caseResponse{Case: newCaseJSON(c, s.cfg.NowFunc())})
}

// optionalNote trims note and checks it when it is not empty.
func optionalNote(note string) (string, error) {
	note = strings.TrimSpace(note)
	if note == "" {
		return "", nil
	}
	return note, validNote(note)
}

// triageRequest is the body of POST /api/v1/cases/{number}/triage; absent
// fields are left as they are.
type triageRequest struct {
	Category       *string `json:"category"`
	Subcategory    *string `json:"subcategory"`
	Urgency        *string `json:"urgency"`
	Responsibility *string `json:"responsibility"`
	Note           string  `json:"note"`
}

// triageAction names the staff's triage in a *casework.TransitionError: it
// is no state change, but it is refused, like one, once a case is no longer
// open.
const triageAction casework.Action = "triage"

// triage serves POST /api/v1/cases/{number}/triage: staff confirm or
// override the first judgment (初步研判) of an open case. When the urgency or
// the category changes, the deadlines are computed again from the SLA policy
// and, with a lifecycle configured, the timers of the deadlines that moved
// are set. An empty body ({}) confirms the judgment as it is. The change is
// made at the version of the case as loaded: 409 conflict if it moved on.
func (s *Server) triage(w http.ResponseWriter, r *http.Request) error {
	var req triageRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	note, err := optionalNote(req.Note)
	if err != nil {
		return err
	}
	c, err := s.loadCase(r)
	if err != nil {
		return err
	}
	if err := checkVersion(r, c); err != nil {
		return err
	}
	nc, err := s.triageCase(r.Context(), c, actorOf(r), req, note)
	if err != nil {
		return err
	}
	s.writeCase(w, nc)
	return nil
}

// triageCase confirms or overrides the first judgment of c, at the version
// of c as given.
func (s *Server) triageCase(ctx context.Context, c *casework.Case, actor casework.Actor, req triageRequest, note string) (*casework.Case, error) {
	if !c.Open() {
		return nil, &casework.TransitionError{From: c.State, Action: triageAction}
	}
	upd, changes, err := triageUpdate(c, req, actor)
	if err != nil {
		return nil, err
	}
	var eff casework.Effects
	if upd.Category != nil || upd.Urgency != nil {
		d := s.cfg.SLA.Deadlines(valueOr(upd.Urgency, c.Urgency), valueOr(upd.Category, c.Category), c.ReceivedAt)
		upd.Deadlines = &d
		if s.cfg.Lifecycle != nil {
			// Only the lifecycle fires timers; without it none are set.
			eff.Timers = lifecycle.MovedDeadlineTimers(c, d)
		}
	}
	upd.Note = "triage by staff: confirmed"
	if len(changes) > 0 {
		upd.Note = "triage by staff: " + strings.Join(changes, "; ")
	}
	if note != "" {
		upd.Note += ": " + note
	}
	return s.cfg.Store.UpdateCaseWith(ctx, c.ID, c.Version, upd, eff)
}

// valueOr returns *p, or def when p is nil.
func valueOr[T any](p *T, def T) T {
	if p != nil {
		return *p
	}
	return def
}

// triageUpdate checks req against c and returns the update of the fields
// that change, and those changes in words.
func triageUpdate(c *casework.Case, req triageRequest, actor casework.Actor) (casework.CaseUpdate, []string, error) {
	upd := casework.CaseUpdate{Actor: actor}
	var changes []string
	changed := func(field, from, to string) { changes = append(changes, field+" "+from+" → "+to) }

	category := c.Category
	if req.Category != nil {
		category = casework.Category(*req.Category)
		if !category.Valid() {
			return upd, nil, casework.Invalid("category", "%q is not one of %v", category, casework.Categories)
		}
	}
	sub := c.Subcategory
	if req.Subcategory != nil {
		sub = casework.Subcategory(*req.Subcategory)
	}
	if !sub.Valid(category) {
		if req.Subcategory == nil {
			return upd, nil, casework.Invalid("subcategory", "is required: %q is not a subcategory of %s; one of %v", sub, category, casework.Subcategories[category])
		}
		return upd, nil, casework.Invalid("subcategory", "%q is not a subcategory of %s; one of %v", sub, category, casework.Subcategories[category])
	}
	urgency := c.Urgency
	if req.Urgency != nil {
		urgency = casework.Urgency(*req.Urgency)
		if !urgency.Valid() {
			return upd, nil, casework.Invalid("urgency", "%q is not one of %v", urgency, casework.Urgencies)
		}
	}
	resp := c.Responsibility
	if req.Responsibility != nil {
		resp = casework.Responsibility(*req.Responsibility)
		if !resp.Valid() {
			return upd, nil, casework.Invalid("responsibility", "%q is not one of %v", resp, casework.Responsibilities)
		}
	}
	if category != c.Category {
		upd.Category = &category
		changed("category", string(c.Category), string(category))
	}
	if sub != c.Subcategory {
		upd.Subcategory = &sub
		changed("subcategory", string(c.Subcategory), string(sub))
	}
	if urgency != c.Urgency {
		upd.Urgency = &urgency
		changed("urgency", string(c.Urgency), string(urgency))
	}
	if resp != c.Responsibility {
		upd.Responsibility = &resp
		changed("responsibility", string(c.Responsibility), string(resp))
	}
	return upd, changes, nil
}

// acceptRequest is the body of POST /api/v1/cases/{number}/accept.
type acceptRequest struct {
	Note     string `json:"note"`
	PartyID  int64  `json:"party_id"`
	MemberID int64  `json:"member_id"`
}

// accept serves POST /api/v1/cases/{number}/accept (受理): the case is
// accepted and, to the party (and member) given or else routed, dispatched
// (lifecycle.Service.Accept). It answers the case as it now is.
func (s *Server) accept(svc *lifecycle.Service, w http.ResponseWriter, r *http.Request) error {
	var req acceptRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	c, err := s.acceptCase(r.Context(), svc, r.PathValue("number"), actorOf(r), req)
	if err != nil {
		return err
	}
	s.writeCase(w, c)
	return nil
}

// acceptCase checks req and accepts the case: the API's and the console's.
func (s *Server) acceptCase(ctx context.Context, svc *lifecycle.Service, number string, actor casework.Actor, req acceptRequest) (*casework.Case, error) {
	note, err := optionalNote(req.Note)
	if err != nil {
		return nil, err
	}
	if err := s.checkAssignee(ctx, req.PartyID, req.MemberID, false); err != nil {
		return nil, err
	}
	return svc.Accept(ctx, number, actor, note, req.PartyID, req.MemberID)
}

// checkAssignee checks the party and member named in a request, so that a
// wrong one is a 400 naming the field rather than a 404 of the case: they
// exist and the member is of the party. Zero IDs are absent; the party is
// required when partyRequired and no member is named.
func (s *Server) checkAssignee(ctx context.Context, partyID, memberID int64, partyRequired bool) error {
	switch {
	case partyID < 0:
		return casework.Invalid("party_id", "must be a positive integer")
	case memberID < 0:
		return casework.Invalid("member_id", "must be a positive integer")
	case partyRequired && partyID == 0 && memberID == 0:
		return casework.Invalid("party_id", "is required")
	}
	if partyID != 0 {
		_, err := s.cfg.Store.FindPartyByID(ctx, partyID)
		if errors.Is(err, casework.ErrNotFound) {
			return casework.Invalid("party_id", "names no party: %d", partyID)
		}
		if err != nil {
			return err
		}
	}
	if memberID != 0 {
		m, err := s.cfg.Store.FindMemberByID(ctx, memberID)
		if errors.Is(err, casework.ErrNotFound) {
			return casework.Invalid("member_id", "names no member: %d", memberID)
		}
		if err != nil {
			return err
		}
		if partyID != 0 && m.PartyID != partyID {
			return casework.Invalid("member_id", "member %d is not of party %d", memberID, partyID)
		}
	}
	return nil
}

// rejectRequest is the body of POST /api/v1/cases/{number}/reject.
type rejectRequest struct {
	Reason      string `json:"reason"`
	Note        string `json:"note"`
	DuplicateOf string `json:"duplicate_of"`
}

// reject serves POST /api/v1/cases/{number}/reject (不予受理): reason is
// one of out_of_warranty, owner_caused, not_responsible and duplicate (with
// duplicate_of, the number of the case it repeats); the owner receives the
// explanation of the reason's template (lifecycle.Service.Reject).
func (s *Server) reject(svc *lifecycle.Service, w http.ResponseWriter, r *http.Request) error {
	var req rejectRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	c, err := rejectCase(r.Context(), svc, r.PathValue("number"), actorOf(r), req)
	if err != nil {
		return err
	}
	s.writeCase(w, c)
	return nil
}

// rejectCase checks req and rejects the case: the API's and the console's.
func rejectCase(ctx context.Context, svc *lifecycle.Service, number string, actor casework.Actor, req rejectRequest) (*casework.Case, error) {
	reason := lifecycle.RejectReason(strings.TrimSpace(req.Reason))
	switch {
	case reason == "":
		return nil, casework.Invalid("reason", "is required: one of %v", lifecycle.RejectReasons)
	case !reason.Valid():
		return nil, casework.Invalid("reason", "%q is not one of %v", reason, lifecycle.RejectReasons)
	}
	note, err := optionalNote(req.Note)
	if err != nil {
		return nil, err
	}
	dup := strings.TrimSpace(req.DuplicateOf)
	switch {
	case reason == lifecycle.RejectDuplicate && dup == "":
		return nil, casework.Invalid("duplicate_of", "is required with reason %s", reason)
	case reason != lifecycle.RejectDuplicate && dup != "":
		return nil, casework.Invalid("duplicate_of", "goes only with reason %s", lifecycle.RejectDuplicate)
	case dup != "" && dup == number:
		return nil, casework.Invalid("duplicate_of", "names this very case")
	}
	return svc.Reject(ctx, number, actor, reason, note, dup)
}

// dispatchRequest is the body of POST /api/v1/cases/{number}/dispatch and
// …/reassign.
type dispatchRequest struct {
	PartyID  int64 `json:"party_id"`
	MemberID int64 `json:"member_id"`
}

// dispatch serves POST /api/v1/cases/{number}/dispatch and
// POST /api/v1/cases/{number}/reassign (派工, 改派): the work order goes to
// the party's member (member_id; absent: one the party's roles choose) and
// the owner is told (lifecycle.Service.Dispatch). party_id is required
// unless member_id is given. A member with no chat account bound leaves the
// order waiting in GET /api/v1/work-orders/waiting.
func (s *Server) dispatch(svc *lifecycle.Service, w http.ResponseWriter, r *http.Request) error {
	var req dispatchRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	c, err := s.dispatchCase(r.Context(), svc, r.PathValue("number"), actorOf(r), req)
	if err != nil {
		return err
	}
	s.writeCase(w, c)
	return nil
}

// dispatchCase checks req and dispatches (or reassigns) the case: the API's
// and the console's.
func (s *Server) dispatchCase(ctx context.Context, svc *lifecycle.Service, number string, actor casework.Actor, req dispatchRequest) (*casework.Case, error) {
	if err := s.checkAssignee(ctx, req.PartyID, req.MemberID, true); err != nil {
		return nil, err
	}
	return svc.Dispatch(ctx, number, actor, req.PartyID, req.MemberID)
}

// messageRequest is the body of POST /api/v1/cases/{number}/messages.
type messageRequest struct {
	Text string `json:"text"`
}

// messageOwner serves POST /api/v1/cases/{number}/messages: staff's words
// go to the owner's chat accounts and onto the timeline
// (lifecycle.Service.MessageOwner). It answers 202: the messages are queued
// in the outbox. An owner without a chat account is a 400 on "owner".
func (s *Server) messageOwner(svc *lifecycle.Service, w http.ResponseWriter, r *http.Request) error {
	var req messageRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := svc.MessageOwner(r.Context(), r.PathValue("number"), actorOf(r), strings.TrimSpace(req.Text)); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "queued"})
	return nil
}

// taskRequest is the body of POST /api/v1/cases/{number}/tasks.
type taskRequest struct {
	Assignee    string `json:"assignee"`
	Description string `json:"description"`
	DueAt       string `json:"due_at"` // RFC 3339
}

// taskJSON is a coordination task as the API shows it.
type taskJSON struct {
	ID          int64      `json:"id"`
	CaseID      int64      `json:"case_id"`
	Assignee    string     `json:"assignee"`
	Description string     `json:"description"`
	DueAt       time.Time  `json:"due_at"`
	DoneAt      *time.Time `json:"done_at"`
	Overdue     bool       `json:"overdue"` // due and not done
	CreatedBy   string     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
}

func newTaskJSON(t *casework.Task, now time.Time) taskJSON {
	return taskJSON{
		ID: t.ID, CaseID: t.CaseID, Assignee: t.Assignee, Description: t.Description,
		DueAt: t.DueAt, DoneAt: t.DoneAt, Overdue: t.DoneAt == nil && now.After(t.DueAt),
		CreatedBy: string(t.CreatedBy), CreatedAt: t.CreatedAt,
	}
}

// taskDueSlack is how far in the past a new task's due time may be (clocks
// differ a little).
const taskDueSlack = time.Minute

// addTask serves POST /api/v1/cases/{number}/tasks: an external coordination
// task (外部协调) with who follows it up and by when; the supervisors are told
// when it falls due undone (lifecycle.Service.AddTask). It answers 201 with
// the task.
func (s *Server) addTask(svc *lifecycle.Service, w http.ResponseWriter, r *http.Request) error {
	var req taskRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.DueAt == "" {
		return casework.Invalid("due_at", "is required (RFC 3339, e.g. 2026-03-01T18:00:00+08:00)")
	}
	due, err := time.Parse(time.RFC3339, req.DueAt)
	if err != nil {
		return casework.Invalid("due_at", "must be RFC 3339, e.g. 2026-03-01T18:00:00+08:00, not %q", req.DueAt)
	}
	t, err := s.addCaseTask(r.Context(), svc, r.PathValue("number"), actorOf(r), req.Assignee, req.Description, due)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]taskJSON{"task": newTaskJSON(t, s.cfg.NowFunc())})
	return nil
}

// addCaseTask checks a task and adds it to the case: the API's and the
// console's.
func (s *Server) addCaseTask(ctx context.Context, svc *lifecycle.Service, number string, actor casework.Actor, assignee, description string, due time.Time) (*casework.Task, error) {
	if due.Before(s.cfg.NowFunc().Add(-taskDueSlack)) {
		return nil, casework.Invalid("due_at", "is in the past")
	}
	t, err := svc.AddTask(ctx, number, actor, strings.TrimSpace(assignee), strings.TrimSpace(description), due)
	var ve *casework.ValidationError
	if errors.As(err, &ve) && strings.HasPrefix(ve.Field, "task_") {
		// The service names the task's fields; the request names them plainly.
		return nil, casework.Invalid(strings.TrimPrefix(ve.Field, "task_"), "%s", ve.Reason)
	}
	return t, err
}

// completeTask serves POST /api/v1/tasks/{id}/done: the task is marked done
// and the timeline says so. Marking it again changes nothing. The body is
// empty or {}. It answers the task.
func (s *Server) completeTask(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "task_id")
	if err != nil {
		return err
	}
	if err := decodeEmpty(r); err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.cfg.Store.CompleteTask(ctx, id, s.cfg.NowFunc(), actorOf(r)); err != nil {
		return err
	}
	t, err := s.cfg.Store.FindTaskByID(ctx, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]taskJSON{"task": newTaskJSON(t, s.cfg.NowFunc())})
	return nil
}

// bindCodeJSON is the answer of POST /api/v1/members/{id}/bind-codes.
type bindCodeJSON struct {
	Code      string    `json:"code"`
	MemberID  int64     `json:"member_id"`
	ExpiresAt time.Time `json:"expires_at"`
}

// issueBindCode serves POST /api/v1/members/{id}/bind-codes: a one-time code
// with which the member binds a chat account (/bind CODE); 201 with the code
// and when it expires. The code is the member's secret: it is never logged
// and the answer is not to be cached. The body is empty or {}.
func (s *Server) issueBindCode(svc *lifecycle.Service, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "member_id")
	if err != nil {
		return err
	}
	if err := decodeEmpty(r); err != nil {
		return err
	}
	b, err := svc.IssueBindCode(r.Context(), id, actorOf(r))
	if err != nil {
		return err
	}
	s.cfg.Logger.InfoContext(r.Context(), "bind code issued", "member_id", id, "expires_at", b.ExpiresAt)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, bindCodeJSON{Code: b.Code, MemberID: b.MemberID, ExpiresAt: b.ExpiresAt})
	return nil
}

// unbind serves POST /api/v1/members/{id}/unbind: the member's chat
// accounts are released — no more work orders reach them, and their buttons
// act on nothing. It answers {"member_id", "unbound": N}.
func (s *Server) unbind(svc *lifecycle.Service, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "member_id")
	if err != nil {
		return err
	}
	if err := decodeEmpty(r); err != nil {
		return err
	}
	n, err := svc.Unbind(r.Context(), id, actorOf(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]int64{"member_id": id, "unbound": int64(n)})
	return nil
}

// pathID parses the {id} of the path, a positive integer; field names it in
// the error.
func pathID(r *http.Request, field string) (int64, error) {
	v := r.PathValue("id")
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, casework.Invalid(field, "must be a positive integer, not %q", v)
	}
	return n, nil
}
