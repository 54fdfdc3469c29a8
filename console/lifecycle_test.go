package console_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/console"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/lifecycle"
)

// The party tokens of lifecycleEnv: FS01's (e.party), DT02's (e.party2), and
// one of a party that is not on record.
const (
	fs01Token  = "party-token-FS01-0123456789abcdef"
	dt02Token  = "party-token-DT02-0123456789abcdef"
	ghostToken = "party-token-GHOST-0123456789abcde"
)

// ownerChatID is the Telegram account bound to e.owner.
const ownerChatID = "5551234567"

// fakeJobs is the job queue of the store: it records the jobs the writes
// with effects hand it.
type fakeJobs struct {
	mu   sync.Mutex
	jobs []casework.Job
}

func (f *fakeJobs) InsertJobsTx(_ context.Context, _ *sql.Tx, jobs []casework.Job) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jobs = append(f.jobs, jobs...)
	return nil
}

// timers returns the timers set for a case, in order.
func (f *fakeJobs) timers(caseID int64) []casework.Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []casework.Timer
	for _, j := range f.jobs {
		if j.Kind == casework.JobTimer && j.Timer.CaseID == caseID {
			out = append(out, j.Timer)
		}
	}
	return out
}

// lifecycleEnv is apiEnv with a lifecycle service and a job queue, party
// tokens, a second party DT02 with a member, an engineer of FS01 with no
// chat account bound, and the owner's Telegram account.
type lifecycleEnv struct {
	*apiEnv
	jobs             *fakeJobs
	engineer         *casework.Member // of FS01, no chat account
	party2           *casework.Party  // DT02
	engineer2        *casework.Member // of DT02
	withoutLifecycle bool
}

func newLifecycleEnv(t *testing.T) *lifecycleEnv {
	t.Helper()
	return buildLifecycleEnv(t, true)
}

func buildLifecycleEnv(t *testing.T, withLifecycle bool) *lifecycleEnv {
	t.Helper()
	le := &lifecycleEnv{jobs: &fakeJobs{}, withoutLifecycle: !withLifecycle}
	le.apiEnv = newAPIEnv(t, testToken, func(e *apiEnv, cfg *console.Config) {
		ctx := t.Context()
		e.store.SetJobQueue(le.jobs)
		le.engineer = &casework.Member{PartyID: e.party.ID, Name: "李工", Phone: "13900001111", Role: "engineer"}
		require.NoError(t, e.store.CreateMember(ctx, le.engineer))
		le.party2 = &casework.Party{Code: "DT02", Name: "电梯维保公司", Kind: casework.PartyMaintenance}
		require.NoError(t, e.store.CreateParty(ctx, le.party2))
		le.engineer2 = &casework.Member{PartyID: le.party2.ID, Name: "王工", Phone: "13900002222", Role: "engineer"}
		require.NoError(t, e.store.CreateMember(ctx, le.engineer2))
		proven := e.clock.Now().Add(-time.Hour)
		require.NoError(t, e.store.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "telegram", UserID: ownerChatID, OwnerID: e.owner.ID, Lang: "zh",
			VerifiedPhone: e.owner.Phone, VerifiedAt: &proven, VerifiedBy: casework.VerifyTelegramContact}))
		cfg.PartyTokens = map[string]string{fs01Token: "FS01", dt02Token: "DT02", ghostToken: "GHOST"}
		require.NoError(t, cfg.Validate())
		if withLifecycle {
			cfg.Lifecycle = lifecycle.New(lifecycle.Config{Store: e.store, Logger: cfg.Logger, NowFunc: e.clock.Now})
		}
	})
	return le
}

func (e *apiEnv) post(t *testing.T, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	return e.do(t, http.MethodPost, target, testToken, strings.NewReader(body))
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

// caseOf decodes the {"case": …} answer of an action.
func caseOf(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var got struct {
		Case map[string]any `json:"case"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
	require.NotNil(t, got.Case)
	return got.Case
}

// detail is the answer of GET /api/v1/cases/{number}.
type detail struct {
	Case     map[string]any   `json:"case"`
	Timeline []map[string]any `json:"timeline"`
}

func getDetail(t *testing.T, e *apiEnv, number string) detail {
	t.Helper()
	w := e.get(t, "/api/v1/cases/"+number)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var d detail
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &d))
	return d
}

func (d detail) last() map[string]any { return d.Timeline[len(d.Timeline)-1] }

// newCase registers a case of e.project received an hour ago.
func newCase(t *testing.T, e *apiEnv, c *casework.Case) *casework.Case {
	t.Helper()
	if c.ProjectID == 0 {
		c.ProjectID = e.project.ID
	}
	if c.Description == "" {
		c.Description = "厨房下水堵塞"
	}
	if c.Channel == "" {
		c.Channel = casework.ChannelHotline
	}
	if c.ReceivedAt.IsZero() {
		c.ReceivedAt = e.clock.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	}
	if c.ReceivedBy == "" {
		c.ReceivedBy = casework.Staff("7")
	}
	if c.Category == "" {
		c.Category = casework.CategoryEngineeringQuality
	}
	require.NoError(t, e.store.CreateCase(t.Context(), c))
	return c
}

func parseTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, ok := v.(string)
	require.True(t, ok, "%v is a string", v)
	at, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return at
}

func TestLifecycleEndpointsNeedAToken(t *testing.T) {
	t.Parallel()
	e := newLifecycleEnv(t)
	n := e.overdue.Number
	for _, route := range []struct{ method, target string }{
		{http.MethodPost, "/api/v1/cases/" + n + "/triage"},
		{http.MethodPost, "/api/v1/cases/" + n + "/accept"},
		{http.MethodPost, "/api/v1/cases/" + n + "/reject"},
		{http.MethodPost, "/api/v1/cases/" + n + "/dispatch"},
		{http.MethodPost, "/api/v1/cases/" + n + "/reassign"},
		{http.MethodPost, "/api/v1/cases/" + n + "/messages"},
		{http.MethodPost, "/api/v1/cases/" + n + "/tasks"},
		{http.MethodPost, "/api/v1/tasks/1/done"},
		{http.MethodPost, "/api/v1/members/" + id(e.engineer.ID) + "/bind-codes"},
		{http.MethodGet, "/api/v1/work-orders/waiting"},
		{http.MethodGet, "/api/v1/stats"},
	} {
		for _, token := range []string{"", "wrong", fs01Token + "x", fs01Token[:20]} {
			w := e.do(t, route.method, route.target, token, strings.NewReader(`{}`))
			requireError(t, w, http.StatusUnauthorized, "unauthorized", "")
		}
	}
	events, err := e.store.ListCaseEvents(t.Context(), e.overdue.ID)
	require.NoError(t, err)
	require.Len(t, events, 1, "nothing changed")
}

func TestPartyTokens(t *testing.T) {
	t.Parallel()
	e := newLifecycleEnv(t)
	ctx := t.Context()

	// FS01 sees its own case only, whatever party_id it asks for.
	for _, target := range []string{"/api/v1/cases", "/api/v1/cases?party_id=" + id(e.party2.ID), "/api/v1/cases/overdue"} {
		l := decodeList(t, e.do(t, http.MethodGet, target, fs01Token, nil))
		require.Equal(t, []int64{e.overdue.ID}, l.ids(), target)
		require.Equal(t, 1, l.Total)
	}
	w := e.do(t, http.MethodGet, "/api/v1/cases/"+e.overdue.Number, fs01Token, nil)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())

	// Another party's case is not found, just like a case that does not
	// exist: same status, code and message shape.
	unknown := e.do(t, http.MethodGet, "/api/v1/cases/SH-19990101-0001", fs01Token, nil)
	requireError(t, unknown, http.StatusNotFound, "not_found", "")
	for _, tc := range []struct{ token, number string }{{fs01Token, e.onTime.Number}, {fs01Token, e.other.Number}, {dt02Token, e.overdue.Number}} {
		w := e.do(t, http.MethodGet, "/api/v1/cases/"+tc.number, tc.token, nil)
		requireError(t, w, http.StatusNotFound, "not_found", "")
		require.Equal(t, strings.ReplaceAll(unknown.Body.String(), "SH-19990101-0001", tc.number), w.Body.String())
	}
	l := decodeList(t, e.do(t, http.MethodGet, "/api/v1/cases", dt02Token, nil))
	require.Empty(t, l.ids())

	// Staff actions are refused before anything is read or written.
	n := e.overdue.Number
	for _, route := range []struct{ method, target, body string }{
		{http.MethodPost, "/api/v1/cases/" + n + "/notes", `{"note":"x"}`},
		{http.MethodPost, "/api/v1/cases/" + n + "/triage", `{"urgency":"normal"}`},
		{http.MethodPost, "/api/v1/cases/" + n + "/accept", `{}`},
		{http.MethodPost, "/api/v1/cases/" + n + "/reject", `{"reason":"owner_caused"}`},
		{http.MethodPost, "/api/v1/cases/" + n + "/dispatch", `{"party_id":` + id(e.party.ID) + `}`},
		{http.MethodPost, "/api/v1/cases/" + n + "/reassign", `{"party_id":` + id(e.party.ID) + `}`},
		{http.MethodPost, "/api/v1/cases/" + n + "/messages", `{"text":"hello"}`},
		{http.MethodPost, "/api/v1/cases/" + n + "/tasks", `{}`},
		{http.MethodPost, "/api/v1/cases/" + e.onTime.Number + "/accept", `{}`},
		{http.MethodPost, "/api/v1/tasks/1/done", ``},
		{http.MethodPost, "/api/v1/members/" + id(e.engineer.ID) + "/bind-codes", ``},
		{http.MethodGet, "/api/v1/stats", ``},
	} {
		for _, token := range []string{fs01Token, dt02Token} {
			w := e.do(t, route.method, route.target, token, strings.NewReader(route.body))
			requireError(t, w, http.StatusForbidden, "forbidden", "")
		}
	}
	events, err := e.store.ListCaseEvents(ctx, e.overdue.ID)
	require.NoError(t, err)
	require.Len(t, events, 1, "nothing changed")
	require.Empty(t, e.jobs.timers(e.overdue.ID))

	// A token of a party that is not on record is refused, and logged
	// without the token.
	requireError(t, e.do(t, http.MethodGet, "/api/v1/cases", ghostToken, nil), http.StatusForbidden, "forbidden", "")
	require.Contains(t, e.logs.String(), "party=GHOST")
	require.NotContains(t, e.logs.String(), ghostToken)
	require.NotContains(t, e.logs.String(), fs01Token)
}

func TestPartyTokenConfig(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("p", 24)
	for _, tc := range []struct {
		name string
		cfg  console.Config
		ok   bool
	}{
		{"none", console.Config{NowFunc: time.Now, APIToken: testToken}, true},
		{"good", console.Config{NowFunc: time.Now, APIToken: testToken, PartyTokens: map[string]string{long: "FS01"}}, true},
		{"no staff token", console.Config{NowFunc: time.Now, PartyTokens: map[string]string{long: "FS01"}}, false},
		{"short", console.Config{NowFunc: time.Now, APIToken: testToken, PartyTokens: map[string]string{"short": "FS01"}}, false},
		{"spaces", console.Config{NowFunc: time.Now, APIToken: testToken, PartyTokens: map[string]string{" " + long: "FS01"}}, false},
		{"no party", console.Config{NowFunc: time.Now, APIToken: testToken, PartyTokens: map[string]string{long: " "}}, false},
		{"staff token", console.Config{NowFunc: time.Now, APIToken: long, PartyTokens: map[string]string{long: "FS01"}}, false},
		{"bad SLA", console.Config{NowFunc: time.Now, APIToken: testToken, SLA: casework.SLAPolicy{Rules: []casework.SLARule{{Urgency: "bogus"}}}}, false},
		{"no clock", console.Config{APIToken: testToken}, false},
	} {
		err := tc.cfg.Validate()
		if tc.ok {
			assert.NoError(t, err, tc.name)
		} else {
			assert.Error(t, err, tc.name)
		}
	}
}

func TestLifecycleNotConfigured(t *testing.T) {
	t.Parallel()
	e := buildLifecycleEnv(t, false)
	n := e.overdue.Number
	for _, route := range []struct{ target, body string }{
		{"/api/v1/cases/" + n + "/accept", `{}`},
		{"/api/v1/cases/" + n + "/reject", `{"reason":"owner_caused"}`},
		{"/api/v1/cases/" + n + "/dispatch", `{"party_id":1}`},
		{"/api/v1/cases/" + n + "/reassign", `{"party_id":1}`},
		{"/api/v1/cases/" + n + "/messages", `{"text":"hello"}`},
		{"/api/v1/cases/" + n + "/tasks", `{"assignee":"物业","description":"x","due_at":"2099-01-01T00:00:00Z"}`},
		{"/api/v1/members/" + id(e.engineer.ID) + "/bind-codes", ``},
	} {
		requireError(t, e.post(t, route.target, route.body), http.StatusServiceUnavailable, "unavailable", "")
	}
	// What needs only the store still works; triage sets no timers then.
	c := caseOf(t, e.post(t, "/api/v1/cases/"+e.onTime.Number+"/triage", `{"urgency":"urgent"}`))
	assert.Equal(t, "urgent", c["urgency"])
	assert.Empty(t, e.jobs.timers(e.onTime.ID))
	require.Equal(t, http.StatusOK, e.get(t, "/api/v1/stats").Code)
	require.Equal(t, http.StatusOK, e.get(t, "/api/v1/work-orders/waiting").Code)
}

func TestTriage(t *testing.T) {
	t.Parallel()
	e := newLifecycleEnv(t)
	path := "/api/v1/cases/" + e.onTime.Number + "/triage"

	// Normal → urgent: the deadlines are those of an urgent case received
	// when it was, already past, and their timers are set.
	c := caseOf(t, e.post(t, path, `{"urgency":"urgent","note":"people stuck in the lift"}`))
	assert.Equal(t, "urgent", c["urgency"])
	assert.Equal(t, "facilities_equipment", c["category"])
	assert.Equal(t, float64(e.onTime.Version+1), c["version"])
	received := e.onTime.ReceivedAt
	assert.True(t, parseTime(t, c["respond_by"]).Equal(received.Add(time.Hour)))
	assert.True(t, parseTime(t, c["on_site_by"]).Equal(received.Add(4*time.Hour)))
	assert.True(t, parseTime(t, c["resolve_by"]).Equal(received.Add(24*time.Hour)))
	assert.Equal(t, true, c["overdue"])
	var kinds []casework.TimerKind
	for _, tm := range e.jobs.timers(e.onTime.ID) {
		kinds = append(kinds, tm.Kind)
	}
	assert.Equal(t, []casework.TimerKind{casework.TimerRespondDeadline, casework.TimerOnSiteDeadline, casework.TimerResolveDeadline}, kinds)
	d := getDetail(t, e.apiEnv, e.onTime.Number)
	assert.Equal(t, "updated", d.last()["kind"])
	assert.Equal(t, "service:api", d.last()["actor"])
	assert.Equal(t, "triage by staff: urgency normal → urgent: people stuck in the lift", d.last()["note"])

	// An empty body confirms; the deadlines stay and no timer is added.
	c = caseOf(t, e.post(t, path, `{}`))
	assert.Equal(t, "urgent", c["urgency"])
	assert.Len(t, e.jobs.timers(e.onTime.ID), 3)
	assert.Equal(t, "triage by staff: confirmed", getDetail(t, e.apiEnv, e.onTime.Number).last()["note"])

	// A new category needs a subcategory of its own; the responsibility
	// changes alone.
	leak := "/api/v1/cases/" + e.overdue.Number + "/triage"
	requireError(t, e.post(t, leak, `{"category":"design_defect"}`), http.StatusBadRequest, "invalid", "subcategory")
	c = caseOf(t, e.post(t, leak, `{"category":"design_defect","subcategory":"layout","responsibility":"design_firm"}`))
	assert.Equal(t, "design_defect", c["category"])
	assert.Equal(t, "layout", c["subcategory"])
	assert.Equal(t, "design_firm", c["responsibility"])
	// The seeded deadlines were not the policy's: those that moved get
	// timers; respond_by, received + 1 h already, does not.
	kinds = nil
	for _, tm := range e.jobs.timers(e.overdue.ID) {
		kinds = append(kinds, tm.Kind)
	}
	assert.Equal(t, []casework.TimerKind{casework.TimerOnSiteDeadline, casework.TimerResolveDeadline}, kinds)
	assert.True(t, parseTime(t, c["respond_by"]).Equal(e.overdue.ReceivedAt.Add(time.Hour)))
	assert.True(t, parseTime(t, c["on_site_by"]).Equal(e.overdue.ReceivedAt.Add(4*time.Hour)))
	assert.Equal(t, "triage by staff: category engineering_quality → design_defect; subcategory leak → layout; responsibility undetermined → design_firm",
		getDetail(t, e.apiEnv, e.overdue.Number).last()["note"])

	for _, tc := range []struct{ body, field string }{
		{`{"category":"bogus"}`, "category"},
		{`{"subcategory":"lift"}`, "subcategory"},
		{`{"urgency":"high"}`, "urgency"},
		{`{"responsibility":"nobody"}`, "responsibility"},
		{`{"note":"` + strings.Repeat("x", 2001) + `"}`, "note"},
		{`{"urgency":"urgent","priority":1}`, "body"},
		{`{"urgency":5}`, "body"},
		{``, "body"},
	} {
		requireError(t, e.post(t, leak, tc.body), http.StatusBadRequest, "invalid", tc.field)
	}
	requireError(t, e.post(t, "/api/v1/cases/SH-19990101-0001/triage", `{}`), http.StatusNotFound, "not_found", "")

	// A case that is no longer open cannot be triaged.
	gone := newCase(t, e.apiEnv, &casework.Case{})
	_, err := e.store.TransitionCase(t.Context(), gone.ID, 0, casework.Transition{Action: casework.ActionCancel, Actor: casework.ActorBot})
	require.NoError(t, err)
	requireError(t, e.post(t, "/api/v1/cases/"+gone.Number+"/triage", `{"urgency":"urgent"}`), http.StatusConflict, "invalid_transition", "")
}

func TestAccept(t *testing.T) {
	t.Parallel()
	e := newLifecycleEnv(t)
	path := "/api/v1/cases/" + e.overdue.Number + "/accept"

	for _, tc := range []struct{ body, field string }{
		{`{"party_id":999999}`, "party_id"},
		{`{"member_id":999999}`, "member_id"},
		{`{"party_id":` + id(e.party.ID) + `,"member_id":` + id(e.engineer2.ID) + `}`, "member_id"},
		{`{"party_id":-1}`, "party_id"},
		{`{"note":"a\u0000b"}`, "note"},
		{`{"assignee":1}`, "body"},
	} {
		requireError(t, e.post(t, path, testclock.Text(tc.body)), http.StatusBadRequest, "invalid", tc.field)
	}
	requireError(t, e.post(t, "/api/v1/cases/SH-19990101-0001/accept", `{}`), http.StatusNotFound, "not_found", "")

	// Accepted and dispatched to the engineer named.
	body := `{"note":"in warranty","party_id":` + id(e.party.ID) + `,"member_id":` + id(e.engineer.ID) + `}`
	c := caseOf(t, e.post(t, path, body))
	assert.Equal(t, "dispatched", c["state"])
	assert.Equal(t, float64(e.party.ID), c["party_id"])
	assert.Equal(t, float64(e.engineer.ID), c["assignee_id"])
	assert.Equal(t, "accepted by staff: in warranty", c["decision_reason"])
	assert.Nil(t, c["responded_at"], "an integration's token is no person: no human contact")
	d := getDetail(t, e.apiEnv, e.overdue.Number)
	var actions []any
	for _, ev := range d.Timeline {
		if ev["kind"] == "transition" {
			actions = append(actions, ev["action"])
			assert.Equal(t, "service:api", ev["actor"])
		}
	}
	assert.Equal(t, []any{"accept", "dispatch"}, actions)
	assert.Contains(t, d.last()["note"], "no chat account bound")
	var purposes []any
	for _, m := range d.Case["outbox"].([]any) {
		purposes = append(purposes, m.(map[string]any)["purpose"])
	}
	assert.Equal(t, []any{"owner_update", "urgent_sms", "urgent_call"}, purposes,
		"the owner is told once (accepted and with whom); the engineer has no chat, but is texted and called (urgent)")
	var kinds []casework.TimerKind
	for _, tm := range e.jobs.timers(e.overdue.ID) {
		kinds = append(kinds, tm.Kind)
	}
	assert.Contains(t, kinds, casework.TimerAcceptEscalation, "an urgent order must be taken in time")

	// Twice is a transition that is not allowed.
	requireError(t, e.post(t, path, `{}`), http.StatusConflict, "invalid_transition", "")

	// Without a party and with no routing rule, the case is only accepted.
	c = caseOf(t, e.post(t, "/api/v1/cases/"+e.onTime.Number+"/accept", `{}`))
	assert.Equal(t, "accepted", c["state"])
	assert.Nil(t, c["assignee_id"])
}

func TestDispatchAndReassign(t *testing.T) {
	t.Parallel()
	e := newLifecycleEnv(t)
	ctx := t.Context()
	_, err := e.store.TransitionCase(ctx, e.onTime.ID, 0, casework.Transition{Action: casework.ActionAccept, Actor: casework.Staff("7")})
	require.NoError(t, err)
	n := e.onTime.Number

	requireError(t, e.post(t, "/api/v1/cases/"+n+"/dispatch", `{}`), http.StatusBadRequest, "invalid", "party_id")
	requireError(t, e.post(t, "/api/v1/cases/"+n+"/dispatch", `{"party_id":999999}`), http.StatusBadRequest, "invalid", "party_id")
	requireError(t, e.post(t, "/api/v1/cases/"+n+"/dispatch", `{"party_id":`+id(e.party.ID)+`,"member_id":`+id(e.engineer2.ID)+`}`),
		http.StatusBadRequest, "invalid", "member_id")
	requireError(t, e.post(t, "/api/v1/cases/SH-19990101-0001/dispatch", `{"party_id":`+id(e.party.ID)+`}`), http.StatusNotFound, "not_found", "")
	// A registered case is accepted first.
	requireError(t, e.post(t, "/api/v1/cases/"+e.overdue.Number+"/dispatch", `{"party_id":`+id(e.party.ID)+`}`),
		http.StatusConflict, "invalid_transition", "")

	// The party picks its engineer.
	c := caseOf(t, e.post(t, "/api/v1/cases/"+n+"/dispatch", `{"party_id":`+id(e.party.ID)+`}`))
	assert.Equal(t, "dispatched", c["state"])
	assert.Equal(t, float64(e.engineer.ID), c["assignee_id"])

	// Reassigned to another party's engineer, named alone.
	c = caseOf(t, e.post(t, "/api/v1/cases/"+n+"/reassign", `{"member_id":`+id(e.engineer2.ID)+`}`))
	assert.Equal(t, "dispatched", c["state"])
	assert.Equal(t, float64(e.party2.ID), c["party_id"])
	assert.Equal(t, float64(e.engineer2.ID), c["assignee_id"])

	// A closed case cannot be dispatched.
	requireError(t, e.post(t, "/api/v1/cases/"+e.other.Number+"/reassign", `{"party_id":`+id(e.party.ID)+`,"bogus":1}`), http.StatusBadRequest, "invalid", "body")
	gone := newCase(t, e.apiEnv, &casework.Case{})
	_, err = e.store.TransitionCase(ctx, gone.ID, 0, casework.Transition{Action: casework.ActionCancel, Actor: casework.ActorBot})
	require.NoError(t, err)
	requireError(t, e.post(t, "/api/v1/cases/"+gone.Number+"/reassign", `{"party_id":`+id(e.party.ID)+`}`), http.StatusConflict, "invalid_transition", "")
}

func TestReject(t *testing.T) {
	t.Parallel()
	e := newLifecycleEnv(t)
	path := "/api/v1/cases/" + e.overdue.Number + "/reject"

	for _, tc := range []struct{ body, field string }{
		{`{}`, "reason"},
		{`{"reason":"too_expensive"}`, "reason"},
		{`{"reason":"duplicate"}`, "duplicate_of"},
		{`{"reason":"duplicate","duplicate_of":"SH-19990101-0001"}`, "duplicate_of"},
		{`{"reason":"duplicate","duplicate_of":"` + e.overdue.Number + `"}`, "duplicate_of"},
		{`{"reason":"owner_caused","duplicate_of":"` + e.onTime.Number + `"}`, "duplicate_of"},
		{`{"reason":"owner_caused","note":"` + strings.Repeat("x", 2001) + `"}`, "note"},
		{`{"reason":"owner_caused","why":"x"}`, "body"},
	} {
		requireError(t, e.post(t, path, testclock.Text(tc.body)), http.StatusBadRequest, "invalid", tc.field)
	}
	requireError(t, e.post(t, "/api/v1/cases/SH-19990101-0001/reject", `{"reason":"owner_caused"}`), http.StatusNotFound, "not_found", "")
	requireError(t, e.post(t, "/api/v1/cases/"+e.other.Number+"/reject", `{"reason":"owner_caused"}`), http.StatusConflict, "invalid_transition", "")

	c := caseOf(t, e.post(t, path, `{"reason":"owner_caused","note":"the bathroom was rebuilt"}`))
	assert.Equal(t, "rejected", c["state"])
	assert.Equal(t, "owner_caused: the bathroom was rebuilt", c["decision_reason"])
	d := getDetail(t, e.apiEnv, e.overdue.Number)
	require.Len(t, d.Case["outbox"], 1)
	assert.Equal(t, "owner_update", d.Case["outbox"].([]any)[0].(map[string]any)["purpose"])

	dup := caseOf(t, e.post(t, "/api/v1/cases/"+e.onTime.Number+"/reject", `{"reason":"duplicate","duplicate_of":"`+e.overdue.Number+`"}`))
	assert.Equal(t, "rejected", dup["state"])
	assert.Equal(t, "duplicate ("+e.overdue.Number+")", dup["decision_reason"])
}

func TestMessagesAndOutbox(t *testing.T) {
	t.Parallel()
	e := newLifecycleEnv(t)
	ctx := t.Context()
	path := "/api/v1/cases/" + e.overdue.Number + "/messages"
	const text = "师傅明天上午十点上门，请家里留人"

	w := e.post(t, path, `{"text":"  `+text+`  "}`)
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	require.JSONEq(t, `{"status":"queued"}`, w.Body.String())

	requireError(t, e.post(t, path, `{"text":" "}`), http.StatusBadRequest, "invalid", "text")
	requireError(t, e.post(t, path, `{"text":"`+strings.Repeat("字", 2001)+`"}`), http.StatusBadRequest, "invalid", "text")
	requireError(t, e.post(t, path, `{"message":"x"}`), http.StatusBadRequest, "invalid", "body")
	requireError(t, e.post(t, "/api/v1/cases/SH-19990101-0001/messages", `{"text":"x"}`), http.StatusNotFound, "not_found", "")
	// Nobody to write to: the case has no owner on record and no reporter.
	requireError(t, e.post(t, "/api/v1/cases/"+e.onTime.Number+"/messages", `{"text":"x"}`), http.StatusBadRequest, "invalid", "owner")

	msgs, err := e.store.ListOutbox(ctx, e.overdue.ID)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	require.Contains(t, string(msgs[0].Payload), text, "the payload holds the text")
	require.NoError(t, e.store.MarkOutboxAttempt(ctx, msgs[0].ID, "telegram: 502 bad gateway", false, e.clock.Now()))

	w = e.get(t, "/api/v1/cases/"+e.overdue.Number)
	require.Equal(t, http.StatusOK, w.Code)
	require.NotContains(t, w.Body.String(), ownerChatID, "the chat account is masked")
	var d detail
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &d))
	assert.Equal(t, "message", d.last()["kind"])
	assert.Equal(t, text, d.last()["note"], "the timeline keeps what staff wrote")
	outbox := d.Case["outbox"].([]any)
	require.Len(t, outbox, 1)
	m := outbox[0].(map[string]any)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	assert.ElementsMatch(t, []string{"id", "platform", "user_id", "purpose", "status", "attempts", "last_error", "created_at", "sent_at"}, keys)
	assert.Equal(t, float64(msgs[0].ID), m["id"])
	assert.Equal(t, "telegram", m["platform"])
	assert.Equal(t, "55******67", m["user_id"])
	assert.Equal(t, "staff_message", m["purpose"])
	assert.Equal(t, "pending", m["status"])
	assert.Equal(t, float64(1), m["attempts"])
	assert.Equal(t, "telegram: 502 bad gateway", m["last_error"])
	assert.Nil(t, m["sent_at"])
	parseTime(t, m["created_at"])
	raw, err := json.Marshal(outbox)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), text, "no payload in the outbox listing")
	assert.NotContains(t, string(raw), "messages")

	require.NoError(t, e.store.MarkOutboxSent(ctx, msgs[0].ID, e.clock.Now()))
	m = getDetail(t, e.apiEnv, e.overdue.Number).Case["outbox"].([]any)[0].(map[string]any)
	assert.Equal(t, "sent", m["status"])
	parseTime(t, m["sent_at"])
	assert.NotContains(t, e.logs.String(), text)
}

func TestCaseDetailLifecycleFields(t *testing.T) {
	t.Parallel()
	e := newLifecycleEnv(t)
	ctx := t.Context()

	// A plain case shows empty lists and nulls.
	d := getDetail(t, e.apiEnv, e.onTime.Number)
	for _, k := range []string{"tasks", "outbox", "proposed_slots", "media"} {
		assert.Equal(t, []any{}, d.Case[k], k)
	}
	for _, k := range []string{"plan", "survey", "appointment_at", "escalated_at", "parent_id", "warranty_until"} {
		assert.Nil(t, d.Case[k], k)
	}
	assert.Equal(t, "not_applicable", d.Case["warranty_status"])
	assert.Equal(t, "", d.Case["reporter_platform"])
	assert.NotContains(t, d.Case, "parent_number")

	// A complaint split off a case reported in chat, in warranty, with a
	// plan, offered slots, an appointment and an escalation.
	start := e.clock.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	slots := []time.Time{start.Add(-24 * time.Hour), start.Add(-20 * time.Hour)}
	k := newCase(t, e.apiEnv, &casework.Case{
		PartyID: e.party.ID, WarrantyStatus: casework.WarrantyIn, WarrantyUntil: casework.D(2030, 6, 30),
		ReporterPlatform: "wechat", ReporterUserID: "oABCDEFGHIJKLMNOPQRSTUVWXYZ01", ParentID: e.overdue.ID,
	})
	plan := casework.Plan{Cause: "防水层破损", Responsibility: casework.ResponsibilityContractor, Content: "重做防水", Duration: "2 天",
		Disruptions: []casework.Disruption{casework.DisruptionNoise}, StartAt: &start}
	escalated := e.clock.Now().UTC().Truncate(time.Second)
	_, err := e.store.UpdateCase(ctx, k.ID, k.Version, casework.CaseUpdate{Actor: casework.ActorSystem, ProposedSlots: &slots, AppointmentAt: &slots[0], Plan: &plan, EscalatedAt: &escalated})
	require.NoError(t, err)

	d = getDetail(t, e.apiEnv, k.Number)
	c := d.Case
	assert.Equal(t, "in_warranty", c["warranty_status"])
	assert.Equal(t, "2030-06-30", c["warranty_until"])
	assert.Equal(t, "wechat", c["reporter_platform"])
	assert.NotContains(t, d.Case, "reporter_user_id")
	assert.Equal(t, float64(e.overdue.ID), c["parent_id"])
	assert.Equal(t, e.overdue.Number, c["parent_number"])
	require.Len(t, c["proposed_slots"], 2)
	assert.True(t, parseTime(t, c["proposed_slots"].([]any)[1]).Equal(slots[1]))
	assert.True(t, parseTime(t, c["appointment_at"]).Equal(slots[0]))
	assert.True(t, parseTime(t, c["escalated_at"]).Equal(escalated))
	p := c["plan"].(map[string]any)
	assert.Equal(t, "防水层破损", p["cause"])
	assert.Equal(t, "contractor", p["responsibility"])
	assert.Equal(t, []any{"noise"}, p["disruptions"])
	assert.True(t, parseTime(t, p["start_at"]).Equal(start))
	assert.Nil(t, c["survey"])

	// The party sees its case and the number of its parent, of its party too;
	// DT02 sees neither.
	w := e.do(t, http.MethodGet, "/api/v1/cases/"+k.Number, fs01Token, nil)
	require.Equal(t, http.StatusOK, w.Code)
	require.Contains(t, w.Body.String(), `"parent_number":"`+e.overdue.Number+`"`)
	requireError(t, e.do(t, http.MethodGet, "/api/v1/cases/"+k.Number, dt02Token, nil), http.StatusNotFound, "not_found", "")
}

func TestTasks(t *testing.T) {
	t.Parallel()
	e := newLifecycleEnv(t)
	path := "/api/v1/cases/" + e.overdue.Number + "/tasks"
	due := e.clock.Now().Add(2 * time.Hour).Truncate(time.Second).In(casework.ChinaTime())

	w := e.post(t, path, `{"assignee":"物业","description":"关闭楼上总阀","due_at":"`+due.Format(time.RFC3339)+`"}`)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	var got struct {
		Task map[string]any `json:"task"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
	task := got.Task
	taskID := int64(task["id"].(float64))
	assert.Positive(t, taskID)
	assert.Equal(t, float64(e.overdue.ID), task["case_id"])
	assert.Equal(t, "物业", task["assignee"])
	assert.Equal(t, "关闭楼上总阀", task["description"])
	assert.True(t, parseTime(t, task["due_at"]).Equal(due))
	assert.Nil(t, task["done_at"])
	assert.Equal(t, false, task["overdue"])
	assert.Equal(t, "service:api", task["created_by"])
	timers := e.jobs.timers(e.overdue.ID)
	require.Len(t, timers, 1)
	assert.Equal(t, casework.TimerTaskDue, timers[0].Kind)
	assert.True(t, timers[0].At.Equal(due))

	d := getDetail(t, e.apiEnv, e.overdue.Number)
	require.Len(t, d.Case["tasks"], 1)
	assert.Equal(t, float64(taskID), d.Case["tasks"].([]any)[0].(map[string]any)["id"])

	for _, tc := range []struct{ body, field string }{
		{`{"assignee":"物业","description":"x"}`, "due_at"},
		{`{"assignee":"物业","description":"x","due_at":"tomorrow"}`, "due_at"},
		{`{"assignee":"物业","description":"x","due_at":"2026-03-01"}`, "due_at"},
		{`{"assignee":"物业","description":"x","due_at":"2001-01-01T00:00:00Z"}`, "due_at"},
		{`{"assignee":" ","description":"x","due_at":"2099-01-01T00:00:00Z"}`, "assignee"},
		{`{"assignee":"物业","description":"","due_at":"2099-01-01T00:00:00Z"}`, "description"},
		{`{"assignee":"物业","description":"x","due_at":"2099-01-01T00:00:00Z","owner":"x"}`, "body"},
	} {
		requireError(t, e.post(t, path, testclock.Text(tc.body)), http.StatusBadRequest, "invalid", tc.field)
	}
	requireError(t, e.post(t, "/api/v1/cases/SH-19990101-0001/tasks", `{"assignee":"物业","description":"x","due_at":"2099-01-01T00:00:00Z"}`),
		http.StatusNotFound, "not_found", "")

	// Done, then done again: the first time stays.
	done := "/api/v1/tasks/" + id(taskID) + "/done"
	w = e.post(t, done, ``)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
	doneAt := parseTime(t, got.Task["done_at"])
	w = e.post(t, done, `{}`)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
	assert.True(t, parseTime(t, got.Task["done_at"]).Equal(doneAt))
	assert.Contains(t, getDetail(t, e.apiEnv, e.overdue.Number).last()["note"], "done")

	requireError(t, e.post(t, "/api/v1/tasks/999999/done", ``), http.StatusNotFound, "not_found", "")
	requireError(t, e.post(t, "/api/v1/tasks/abc/done", ``), http.StatusBadRequest, "invalid", "task_id")
	requireError(t, e.post(t, "/api/v1/tasks/0/done", ``), http.StatusBadRequest, "invalid", "task_id")
	requireError(t, e.post(t, done, `{"done":true}`), http.StatusBadRequest, "invalid", "body")
}

func TestBindCodes(t *testing.T) {
	t.Parallel()
	e := newLifecycleEnv(t)
	path := "/api/v1/members/" + id(e.engineer.ID) + "/bind-codes"

	w := e.post(t, path, ``)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	require.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	var got struct {
		Code      string    `json:"code"`
		MemberID  int64     `json:"member_id"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
	assert.Regexp(t, regexp.MustCompile(`^[A-Z2-9]{8}$`), got.Code)
	assert.Equal(t, e.engineer.ID, got.MemberID)
	assert.WithinDuration(t, e.clock.Now().Add(72*time.Hour), got.ExpiresAt, time.Minute)
	assert.Contains(t, e.logs.String(), "bind code issued")
	assert.NotContains(t, e.logs.String(), got.Code, "the code is never logged")

	b, err := e.store.UseBindCode(t.Context(), got.Code, e.clock.Now())
	require.NoError(t, err)
	assert.Equal(t, e.engineer.ID, b.MemberID)
	assert.Equal(t, casework.Service("api"), b.IssuedBy)

	w = e.post(t, path, `{}`)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	requireError(t, e.post(t, "/api/v1/members/999999/bind-codes", ``), http.StatusNotFound, "not_found", "")
	requireError(t, e.post(t, "/api/v1/members/x/bind-codes", ``), http.StatusBadRequest, "invalid", "member_id")
	requireError(t, e.post(t, path, `{"ttl":5}`), http.StatusBadRequest, "invalid", "body")
}

func TestWaitingOrders(t *testing.T) {
	t.Parallel()
	e := newLifecycleEnv(t)
	ctx := t.Context()
	type waiting struct {
		WorkOrders []struct {
			Case struct {
				ID     int64  `json:"id"`
				Number string `json:"number"`
				State  string `json:"state"`
			} `json:"case"`
			Reason       string `json:"reason"`
			AssigneeName string `json:"assignee_name"`
		} `json:"work_orders"`
		Total int `json:"total"`
	}
	list := func(token, query string) waiting {
		t.Helper()
		w := e.do(t, http.MethodGet, "/api/v1/work-orders/waiting"+query, token, nil)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		var l waiting
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &l))
		require.Equal(t, len(l.WorkOrders), l.Total)
		return l
	}
	require.Empty(t, list(testToken, "").WorkOrders)
	require.Contains(t, e.get(t, "/api/v1/work-orders/waiting").Body.String(), `"work_orders":[]`)

	// FS01's engineer has no chat account; a party with no members has no
	// one to assign; DT02's engineer has one bound.
	empty := &casework.Party{Code: "EMPTY", Name: "无人公司", Kind: casework.PartySupplier}
	require.NoError(t, e.store.CreateParty(ctx, empty))
	require.NoError(t, e.store.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "wechat", UserID: "oWANG0000000000000000000000", MemberID: e.engineer2.ID}))
	caseOf(t, e.post(t, "/api/v1/cases/"+e.overdue.Number+"/accept", `{"member_id":`+id(e.engineer.ID)+`}`))
	caseOf(t, e.post(t, "/api/v1/cases/"+e.onTime.Number+"/accept", `{"party_id":`+id(empty.ID)+`}`))
	third := newCase(t, e.apiEnv, &casework.Case{})
	caseOf(t, e.post(t, "/api/v1/cases/"+third.Number+"/accept", `{"member_id":`+id(e.engineer2.ID)+`}`))

	l := list(testToken, "")
	require.Len(t, l.WorkOrders, 2)
	assert.Equal(t, e.onTime.ID, l.WorkOrders[0].Case.ID, "newest first")
	assert.Equal(t, "no_assignee", l.WorkOrders[0].Reason)
	assert.Equal(t, e.overdue.ID, l.WorkOrders[1].Case.ID)
	assert.Equal(t, "not_bound", l.WorkOrders[1].Reason)
	assert.Equal(t, "李工", l.WorkOrders[1].AssigneeName)
	assert.Equal(t, "dispatched", l.WorkOrders[1].Case.State)

	// Filtered by party for staff, forced to its own for a party.
	l = list(testToken, "?party_id="+id(e.party.ID))
	require.Len(t, l.WorkOrders, 1)
	assert.Equal(t, e.overdue.ID, l.WorkOrders[0].Case.ID)
	l = list(fs01Token, "?party_id="+id(empty.ID))
	require.Len(t, l.WorkOrders, 1)
	assert.Equal(t, e.overdue.ID, l.WorkOrders[0].Case.ID)
	require.Empty(t, list(dt02Token, "").WorkOrders)

	// An unreachable account is no better than none; a reachable one takes
	// the order out of the list.
	require.NoError(t, e.store.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "telegram", UserID: "777000111", MemberID: e.engineer.ID, Unreachable: true}))
	require.Len(t, list(testToken, "").WorkOrders, 2)
	require.NoError(t, e.store.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "telegram", UserID: "777000222", MemberID: e.engineer.ID}))
	l = list(testToken, "")
	require.Len(t, l.WorkOrders, 1)
	assert.Equal(t, e.onTime.ID, l.WorkOrders[0].Case.ID)

	requireError(t, e.get(t, "/api/v1/work-orders/waiting?state=x"), http.StatusBadRequest, "invalid", "state")
	requireError(t, e.get(t, "/api/v1/work-orders/waiting?party_id=x"), http.StatusBadRequest, "invalid", "party_id")
}

func TestStats(t *testing.T) {
	t.Parallel()
	e := newLifecycleEnv(t)
	ctx := t.Context()
	now := e.clock.Now().UTC().Truncate(time.Second)
	step := func(c *casework.Case, action casework.Action, at time.Time, with func(*casework.Transition)) {
		t.Helper()
		tr := casework.Transition{Action: action, Actor: casework.Staff("7"), At: at}
		if with != nil {
			with(&tr)
		}
		_, err := e.store.TransitionCase(ctx, c.ID, 0, tr)
		require.NoError(t, err)
	}
	partyID := e.party.ID
	// a: responded in 2 h, repaired twice, resolved in 4 days, surveyed 5/4/2.
	a := newCase(t, e.apiEnv, &casework.Case{ReceivedAt: now.Add(-10 * 24 * time.Hour)})
	r := a.ReceivedAt
	h := time.Hour
	step(a, casework.ActionAccept, r.Add(2*h), nil)
	step(a, casework.ActionDispatch, r.Add(3*h), func(tr *casework.Transition) { tr.PartyID = &partyID })
	step(a, casework.ActionInspect, r.Add(24*h), nil)
	step(a, casework.ActionComplete, r.Add(48*h), nil)
	step(a, casework.ActionOwnerReject, r.Add(49*h), nil)
	step(a, casework.ActionDispatch, r.Add(50*h), nil)
	step(a, casework.ActionInspect, r.Add(72*h), nil)
	step(a, casework.ActionComplete, r.Add(96*h), nil)
	step(a, casework.ActionOwnerAccept, r.Add(97*h), nil)
	step(a, casework.ActionSurvey, r.Add(98*h), func(tr *casework.Transition) {
		tr.Survey = &casework.Survey{Speed: 5, Attitude: 4, Quality: 2, AnsweredAt: r.Add(98 * h)}
	})
	// b: a consultation answered: responded in 30 min, resolved in 6 h.
	b := newCase(t, e.apiEnv, &casework.Case{ReceivedAt: now.Add(-5 * 24 * time.Hour), Category: casework.CategoryPolicyConsultation})
	step(b, casework.ActionAccept, b.ReceivedAt.Add(30*time.Minute), nil)
	step(b, casework.ActionComplete, b.ReceivedAt.Add(6*h), nil)

	var st struct {
		From           *time.Time     `json:"from"`
		To             *time.Time     `json:"to"`
		Total          int            `json:"total"`
		ByState        map[string]int `json:"by_state"`
		ByCategory     map[string]int `json:"by_category"`
		ByProject      map[string]int `json:"by_project"`
		ByParty        map[string]int `json:"by_party"`
		MedianResponse *struct {
			Seconds int64  `json:"seconds"`
			Text    string `json:"text"`
		} `json:"median_response"`
		MedianResolution *struct {
			Seconds int64  `json:"seconds"`
			Text    string `json:"text"`
		} `json:"median_resolution"`
		BreachRate       float64 `json:"breach_rate"`
		Satisfaction     float64 `json:"satisfaction"`
		Surveys          int     `json:"surveys"`
		RepeatRepairRate float64 `json:"repeat_repair_rate"`
	}
	stats := func(query string) {
		t.Helper()
		w := e.get(t, "/api/v1/stats"+query)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		st.MedianResponse, st.MedianResolution, st.From, st.To = nil, nil, nil, nil
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &st))
	}

	stats("")
	assert.Equal(t, 5, st.Total)
	assert.Len(t, st.ByState, len(casework.States), "every state is listed")
	assert.Equal(t, 2, st.ByState["registered"])
	assert.Equal(t, 1, st.ByState["accepted"])
	assert.Equal(t, 1, st.ByState["surveyed"])
	assert.Equal(t, 1, st.ByState["done"])
	assert.Equal(t, 0, st.ByState["closed"])
	assert.Len(t, st.ByCategory, len(casework.Categories))
	assert.Equal(t, 2, st.ByCategory["engineering_quality"])
	assert.Equal(t, 1, st.ByCategory["policy_consultation"])
	assert.Equal(t, map[string]int{id(e.project.ID): 4, id(e.project2.ID): 1}, st.ByProject)
	assert.Equal(t, map[string]int{id(e.party.ID): 2, "none": 3}, st.ByParty)
	// Responses: 30 min, 1 h (other, accepted as the env was built), 2 h.
	require.NotNil(t, st.MedianResponse)
	assert.InDelta(t, 3600, st.MedianResponse.Seconds, 60)
	assert.Equal(t, "1h", st.MedianResponse.Text)
	// Resolutions: 6 h and 4 days.
	require.NotNil(t, st.MedianResolution)
	assert.Equal(t, int64((4*24*h+6*h)/2/time.Second), st.MedianResolution.Seconds)
	assert.Equal(t, "2d 3h", st.MedianResolution.Text)
	assert.InDelta(t, 0.2, st.BreachRate, 1e-9, "only the overdue case missed a deadline")
	assert.InDelta(t, 2.0/3, st.Satisfaction, 1e-9)
	assert.Equal(t, 1, st.Surveys)
	assert.InDelta(t, 0.5, st.RepeatRepairRate, 1e-9)
	assert.Nil(t, st.From)
	assert.Nil(t, st.To)

	// From 30 hours ago: onTime and other.
	from := now.Add(-30 * time.Hour)
	stats("?from=" + from.Format(time.RFC3339))
	assert.Equal(t, 2, st.Total)
	require.NotNil(t, st.From)
	assert.True(t, st.From.Equal(from))
	assert.Nil(t, st.MedianResolution, "nothing resolved in the period")

	// Up to a day, which it includes: a only.
	day := now.Add(-7 * 24 * time.Hour).In(casework.ChinaTime()).Format(time.DateOnly)
	stats("?to=" + day)
	assert.Equal(t, 1, st.Total)
	assert.Equal(t, 1, st.ByState["surveyed"])
	require.NotNil(t, st.To)
	startOfDay, err := time.ParseInLocation(time.DateOnly, day, casework.ChinaTime())
	require.NoError(t, err)
	assert.True(t, st.To.Equal(startOfDay.AddDate(0, 0, 1)))
	aDay := a.ReceivedAt.In(casework.ChinaTime()).Format(time.DateOnly)
	stats("?from=" + aDay + "&to=" + aDay)
	assert.Equal(t, 1, st.Total, "the day of a, whole")

	stats("?from=2099-01-01")
	assert.Equal(t, 0, st.Total)
	assert.Nil(t, st.MedianResponse)
	assert.Zero(t, st.BreachRate)

	for _, tc := range []struct{ query, field string }{
		{"?from=yesterday", "from"},
		{"?from=2026-13-01", "from"},
		{"?to=2026-01-01T00:00:00", "to"},
		{"?from=2026-02-01&to=2026-01-01", "to"},
		{"?from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "to"},
		{"?from=2026-01-01&from=2026-01-02", "from"},
		{"?project_id=1", "project_id"},
	} {
		requireError(t, e.get(t, "/api/v1/stats"+tc.query), http.StatusBadRequest, "invalid", tc.field)
	}
}

func TestConsoleLogsNoTokens(t *testing.T) {
	t.Parallel()
	e := newLifecycleEnv(t)
	require.NoError(t, e.store.Close())
	w := e.do(t, http.MethodGet, "/api/v1/cases", fs01Token, nil)
	requireError(t, w, http.StatusInternalServerError, "internal", "")
	require.NotContains(t, e.logs.String(), fs01Token)
	require.NotContains(t, e.logs.String(), testToken)
}

// TestUnbind: staff release an engineer's chat accounts; the accounts are
// no longer the member's, so no work order reaches them.
func TestUnbind(t *testing.T) {
	t.Parallel()
	e := newLifecycleEnv(t)
	ctx := t.Context()
	for _, user := range []string{"eng-a", "eng-b"} {
		require.NoError(t, e.store.SaveChatIdentity(ctx, &casework.ChatIdentity{Platform: "telegram", UserID: user, MemberID: e.engineer.ID, Lang: "zh"}))
	}
	path := "/api/v1/members/" + id(e.engineer.ID) + "/unbind"
	w := e.post(t, path, ``)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.JSONEq(t, `{"member_id":`+id(e.engineer.ID)+`,"unbound":2}`, w.Body.String())
	ids, err := e.store.FindChatIdentitiesByMember(ctx, e.engineer.ID)
	require.NoError(t, err)
	assert.Empty(t, ids)
	got, err := e.store.FindChatIdentity(ctx, "telegram", "eng-a")
	require.NoError(t, err)
	assert.Zero(t, got.MemberID, "the account stays, as a plain chat account")

	w = e.post(t, path, ``)
	require.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"member_id":`+id(e.engineer.ID)+`,"unbound":0}`, w.Body.String())
	requireError(t, e.post(t, "/api/v1/members/999999/unbind", ``), http.StatusNotFound, "not_found", "")
	requireError(t, e.do(t, http.MethodPost, path, "", nil), http.StatusUnauthorized, "unauthorized", "")
}

// TestActionsWithIfMatch: the API answers a case's version as its ETag; an
// action sent with it as If-Match goes through, one sent with an older
// version is refused with 409 and changes nothing, and a malformed one is a
// 400.
func TestActionsWithIfMatch(t *testing.T) {
	t.Parallel()
	e := newLifecycleEnv(t)
	number := e.overdue.Number
	w := e.get(t, "/api/v1/cases/"+number)
	require.Equal(t, http.StatusOK, w.Code)
	etag := w.Header().Get("ETag")
	require.Equal(t, strconv.Quote(strconv.Itoa(e.overdue.Version)), etag)

	send := func(path, body, ifMatch string) *httptest.ResponseRecorder {
		r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+testToken)
		r.Header.Set("If-Match", ifMatch)
		rec := httptest.NewRecorder()
		e.srv.ServeHTTP(rec, r)
		return rec
	}
	requireError(t, send("/api/v1/cases/"+number+"/triage", `{"urgency":"normal"}`, `"x"`), http.StatusBadRequest, "invalid", "If-Match")
	require.Equal(t, http.StatusOK, send("/api/v1/cases/"+number+"/triage", `{"urgency":"normal"}`, etag).Code)
	requireError(t, send("/api/v1/cases/"+number+"/triage", `{"urgency":"urgent"}`, etag), http.StatusConflict, "conflict", "")
	requireError(t, send("/api/v1/cases/"+number+"/accept", `{}`, etag), http.StatusConflict, "conflict", "")
	c, err := e.store.FindCaseByNumber(t.Context(), number)
	require.NoError(t, err)
	assert.Equal(t, casework.UrgencyNormal, c.Urgency, "the stale triage changed nothing")
	assert.Equal(t, casework.StateRegistered, c.State, "the stale acceptance changed nothing")
	w = send("/api/v1/cases/"+number+"/accept", `{}`, strconv.Quote(strconv.Itoa(c.Version)))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
}
