package console_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/console"
	"github.com/aftersales/aftersales/identity"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/storage/sqlite"
)

const testToken = "s3cret-token"

// apiEnv is a console over a real SQLite store seeded with three cases:
//   - overdue: oldest, urgent leak in project 1 with a unit, owner, party,
//     a photo, and a respond-by deadline long past;
//   - onTime: a lift problem in project 1, deadlines in the future;
//   - other: newest, in project 2, accepted, no unit, no deadlines.
type apiEnv struct {
	srv                    http.Handler
	store                  *sqlite.DB
	logs                   *bytes.Buffer
	project, project2      *casework.Project
	building               *casework.Building
	unit                   *casework.Unit
	owner                  *casework.Owner
	party                  *casework.Party
	overdue, onTime, other *casework.Case
	// clock is the service's clock: the tests' date, running.
	clock *testclock.Clock
}

// newAPIEnv builds the console over the seeded store; each of configure may
// add to the store and change the console's configuration before the console
// is built.
func newAPIEnv(t *testing.T, token string, configure ...func(e *apiEnv, cfg *console.Config)) *apiEnv {
	t.Helper()
	ctx := t.Context()
	clock := testclock.NewRunning(testclock.Start())
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "aftersales.db"), sqlite.Options{NowFunc: clock.Now})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, db.Migrate(ctx))

	e := &apiEnv{store: db, logs: new(bytes.Buffer), clock: clock}
	e.project = &casework.Project{Code: "HJY", Name: "海景苑", City: "上海"}
	require.NoError(t, db.CreateProject(ctx, e.project))
	e.project2 = &casework.Project{Code: "LSY", Name: "绿水园", City: "杭州"}
	require.NoError(t, db.CreateProject(ctx, e.project2))
	e.building = &casework.Building{ProjectID: e.project.ID, Code: "3", Name: "3栋"}
	require.NoError(t, db.CreateBuilding(ctx, e.building))
	e.unit = &casework.Unit{ProjectID: e.project.ID, BuildingID: e.building.ID, Building: "3", Entrance: "2", Floor: 15, Room: "1502"}
	require.NoError(t, db.CreateUnit(ctx, e.unit))
	e.owner = &casework.Owner{Name: "张三", Phone: "13812345678"}
	require.NoError(t, db.CreateOwner(ctx, e.owner))
	e.party = &casework.Party{Code: "FS01", Name: "防水工程公司", Kind: casework.PartyContractor}
	require.NoError(t, db.CreateParty(ctx, e.party))

	now := clock.Now().UTC().Truncate(time.Second)
	past, future := now.Add(-47*time.Hour), now.Add(48*time.Hour)
	e.overdue = &casework.Case{
		ProjectID: e.project.ID, BuildingID: e.building.ID, UnitID: e.unit.ID, OwnerID: e.owner.ID,
		OwnerName: e.owner.Name, OwnerPhone: "138 1234 5678",
		Location: casework.LocationBathroom, Description: "卫生间天花板渗水",
		Channel: casework.ChannelHotline, ReceivedAt: now.Add(-48 * time.Hour), ReceivedBy: casework.Staff("7"),
		Category: casework.CategoryEngineeringQuality, Subcategory: casework.SubLeak, Urgency: casework.UrgencyUrgent,
		PartyID:   e.party.ID,
		RespondBy: &past, ResolveBy: &future,
		Media: []casework.MediaRef{{Kind: casework.MediaPhoto, BlobKey: "cases/leak.jpg", ContentType: "image/jpeg", Size: 1234}},
	}
	require.NoError(t, db.CreateCase(ctx, e.overdue))
	e.onTime = &casework.Case{
		ProjectID: e.project.ID, BuildingID: e.building.ID, Location: casework.LocationPublicArea,
		Description: "3栋电梯经常停运", Channel: casework.ChannelWeChat, ReceivedAt: now.Add(-24 * time.Hour), ReceivedBy: casework.ActorBot,
		Category: casework.CategoryFacilitiesEquipment, Subcategory: casework.SubOther,
		RespondBy: &future,
	}
	require.NoError(t, db.CreateCase(ctx, e.onTime))
	e.other = &casework.Case{
		ProjectID: e.project2.ID, Description: "Praise for the repair crew", Channel: casework.ChannelWeb,
		ReceivedAt: now.Add(-time.Hour), ReceivedBy: casework.ActorBot, Category: casework.CategoryOther, Subcategory: casework.SubOther,
	}
	require.NoError(t, db.CreateCase(ctx, e.other))
	e.other, err = db.TransitionCase(ctx, e.other.ID, 0, casework.Transition{Action: casework.ActionAccept, Actor: casework.Staff("7")})
	require.NoError(t, err)

	cfg := console.Config{
		Store:    db,
		Logger:   slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		APIToken: token,
		NowFunc:  clock.Now,
		Identity: identity.New(identity.Config{Store: db, NowFunc: clock.Now}),
	}
	for _, f := range configure {
		f(e, &cfg)
	}
	e.srv = console.New(cfg)
	return e
}

// do sends a request carrying token as a bearer token (none when token is "").
func (e *apiEnv) do(t *testing.T, method, target, token string, body io.Reader) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequestWithContext(t.Context(), method, target, body)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, r)
	return w
}

func (e *apiEnv) get(t *testing.T, target string) *httptest.ResponseRecorder {
	t.Helper()
	return e.do(t, http.MethodGet, target, testToken, nil)
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

// requireError checks that w is a JSON error with the status, code and (when
// not "") field.
func requireError(t *testing.T, w *httptest.ResponseRecorder, status int, code, field string) {
	t.Helper()
	require.Equal(t, status, w.Code, w.Body.String())
	require.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"))
	var e apiError
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e), w.Body.String())
	require.Equal(t, code, e.Error.Code, w.Body.String())
	require.NotEmpty(t, e.Error.Message)
	require.Equal(t, field, e.Error.Field, w.Body.String())
}

type listJSON struct {
	Cases []struct {
		ID         int64  `json:"id"`
		Number     string `json:"number"`
		OwnerPhone string `json:"owner_phone"`
		Overdue    bool   `json:"overdue"`
	} `json:"cases"`
	Total  int `json:"total"`
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
}

func decodeList(t *testing.T, w *httptest.ResponseRecorder) listJSON {
	t.Helper()
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var l listJSON
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &l))
	return l
}

func (l listJSON) ids() []int64 {
	ids := []int64{}
	for _, c := range l.Cases {
		ids = append(ids, c.ID)
	}
	return ids
}

func TestAPIAuth(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testToken)
	for _, tc := range []struct {
		name, header string
		want         int
	}{
		{"missing", "", http.StatusUnauthorized},
		{"wrong", "Bearer wrong", http.StatusUnauthorized},
		{"prefix of the token", "Bearer " + testToken[:4], http.StatusUnauthorized},
		{"token plus more", "Bearer " + testToken + "x", http.StatusUnauthorized},
		{"other scheme", "Basic " + testToken, http.StatusUnauthorized},
		{"no scheme", testToken, http.StatusUnauthorized},
		{"empty bearer", "Bearer ", http.StatusUnauthorized},
		{"right", "Bearer " + testToken, http.StatusOK},
		{"scheme case-insensitive", "bearer " + testToken, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, target := range []string{"/api/v1/cases", "/api/v1/cases/overdue", "/api/v1/cases/" + e.overdue.Number} {
				r := httptest.NewRequestWithContext(t.Context(), http.MethodGet, target, nil)
				if tc.header != "" {
					r.Header.Set("Authorization", tc.header)
				}
				w := httptest.NewRecorder()
				e.srv.ServeHTTP(w, r)
				if tc.want == http.StatusOK {
					require.Equal(t, http.StatusOK, w.Code, target)
					require.Empty(t, w.Header().Get("WWW-Authenticate"))
					continue
				}
				requireError(t, w, http.StatusUnauthorized, "unauthorized", "")
				require.Equal(t, "Bearer", w.Header().Get("WWW-Authenticate"))
				require.NotContains(t, w.Body.String(), e.overdue.OwnerPhone)
			}
		})
	}

	// A note without the token is refused and not stored.
	w := e.do(t, http.MethodPost, "/api/v1/cases/"+e.overdue.Number+"/notes", "wrong", strings.NewReader(`{"note":"sneaky"}`))
	requireError(t, w, http.StatusUnauthorized, "unauthorized", "")
	events, err := e.store.ListCaseEvents(t.Context(), e.overdue.ID)
	require.NoError(t, err)
	require.Len(t, events, 1)

	// Unknown API routes need the token too, then answer a JSON 404.
	requireError(t, e.do(t, http.MethodGet, "/api/v1/nope", "", nil), http.StatusUnauthorized, "unauthorized", "")
	requireError(t, e.get(t, "/api/v1/nope"), http.StatusNotFound, "not_found", "")

	// The probes stay open.
	require.Equal(t, http.StatusOK, e.do(t, http.MethodGet, "/healthz", "", nil).Code)
	require.Equal(t, http.StatusOK, e.do(t, http.MethodGet, "/readyz", "", nil).Code)
}

func TestAPIDisabledWithoutToken(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, "")
	for _, tc := range []struct{ method, target, token string }{
		{http.MethodGet, "/api/v1/cases", ""},
		{http.MethodGet, "/api/v1/cases", testToken},
		{http.MethodGet, "/api/v1/cases?overdue=true", ""},
		{http.MethodGet, "/api/v1/cases/overdue", ""},
		{http.MethodGet, "/api/v1/cases/" + e.overdue.Number, ""},
		{http.MethodPost, "/api/v1/cases/" + e.overdue.Number + "/notes", ""},
	} {
		w := e.do(t, tc.method, tc.target, tc.token, strings.NewReader(`{"note":"x"}`))
		requireError(t, w, http.StatusNotFound, "not_found", "")
		require.NotContains(t, w.Body.String(), e.overdue.Number, tc.target)
		require.Empty(t, w.Header().Get("WWW-Authenticate"))
	}
	events, err := e.store.ListCaseEvents(t.Context(), e.overdue.ID)
	require.NoError(t, err)
	require.Len(t, events, 1)
	require.Equal(t, http.StatusOK, e.do(t, http.MethodGet, "/healthz", "", nil).Code)
	require.Equal(t, http.StatusOK, e.do(t, http.MethodGet, "/readyz", "", nil).Code)
}

func TestListCases(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testToken)
	id := func(n int64) string { return strconv.FormatInt(n, 10) }

	all := decodeList(t, e.get(t, "/api/v1/cases"))
	require.Equal(t, []int64{e.other.ID, e.onTime.ID, e.overdue.ID}, all.ids(), "newest first")
	require.Equal(t, 3, all.Total)
	require.Equal(t, 50, all.Limit)
	require.Equal(t, 0, all.Offset)
	require.Equal(t, e.overdue.OwnerPhone, all.Cases[2].OwnerPhone, "phones are shown in full")
	require.Contains(t, all.Cases[2].OwnerPhone, "13812345678")
	require.Equal(t, []bool{false, false, true}, []bool{all.Cases[0].Overdue, all.Cases[1].Overdue, all.Cases[2].Overdue})

	for _, tc := range []struct {
		query string
		want  []int64
	}{
		{"state=registered", []int64{e.onTime.ID, e.overdue.ID}},
		{"state=accepted", []int64{e.other.ID}},
		{"state=accepted&state=registered", []int64{e.other.ID, e.onTime.ID, e.overdue.ID}},
		{"state=closed", []int64{}},
		{"urgency=urgent", []int64{e.overdue.ID}},
		{"urgency=normal", []int64{e.other.ID, e.onTime.ID}},
		{"category=facilities_equipment", []int64{e.onTime.ID}},
		{"project_id=" + id(e.project2.ID), []int64{e.other.ID}},
		{"project_id=" + id(e.project.ID), []int64{e.onTime.ID, e.overdue.ID}},
		{"building_id=" + id(e.building.ID), []int64{e.onTime.ID, e.overdue.ID}},
		{"unit_id=" + id(e.unit.ID), []int64{e.overdue.ID}},
		{"owner_id=" + id(e.owner.ID), []int64{e.overdue.ID}},
		{"party_id=" + id(e.party.ID), []int64{e.overdue.ID}},
		{"channel=web", []int64{e.other.ID}},
		{"q=电梯", []int64{e.onTime.ID}},
		{"q=praise", []int64{e.other.ID}},
		{"q=" + e.overdue.Number, []int64{e.overdue.ID}},
		{"overdue=true", []int64{e.overdue.ID}},
		{"overdue=false", []int64{e.other.ID, e.onTime.ID, e.overdue.ID}},
		{"overdue=true&project_id=" + id(e.project2.ID), []int64{}},
		{"state=registered&urgency=normal", []int64{e.onTime.ID}},
	} {
		l := decodeList(t, e.get(t, "/api/v1/cases?"+tc.query))
		require.Equal(t, tc.want, l.ids(), tc.query)
		require.Equal(t, len(tc.want), l.Total, tc.query)
	}

	// Paging: total counts every match.
	page := decodeList(t, e.get(t, "/api/v1/cases?limit=1&offset=1"))
	require.Equal(t, []int64{e.onTime.ID}, page.ids())
	require.Equal(t, 3, page.Total)
	require.Equal(t, 1, page.Limit)
	require.Equal(t, 1, page.Offset)
	page = decodeList(t, e.get(t, "/api/v1/cases?limit=2&offset=2"))
	require.Equal(t, []int64{e.overdue.ID}, page.ids())
	page = decodeList(t, e.get(t, "/api/v1/cases?offset=10"))
	require.Empty(t, page.ids())
	require.Equal(t, 3, page.Total)
	page = decodeList(t, e.get(t, "/api/v1/cases?limit=100000"))
	require.Equal(t, 500, page.Limit, "the limit is capped")

	// An empty list is [], not null; there is no media in the list.
	w := e.get(t, "/api/v1/cases?state=closed")
	require.Contains(t, w.Body.String(), `"cases":[]`)
	require.NotContains(t, e.get(t, "/api/v1/cases").Body.String(), `"media"`)
}

func TestListCasesBadParameters(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testToken)
	for _, tc := range []struct{ query, field string }{
		{"state=bogus", "state"},
		{"state=registered&state=bogus", "state"},
		{"urgency=bogus", "urgency"},
		{"urgency=normal&urgency=urgent", "urgency"},
		{"category=bogus", "category"},
		{"channel=fax", "channel"},
		{"project_id=abc", "project_id"},
		{"project_id=0", "project_id"},
		{"building_id=-1", "building_id"},
		{"unit_id=1.5", "unit_id"},
		{"owner_id=x", "owner_id"},
		{"party_id=99999999999999999999", "party_id"},
		{"limit=-1", "limit"},
		{"limit=ten", "limit"},
		{"offset=-5", "offset"},
		{"offset=99999999999", "offset"},
		{"overdue=maybe", "overdue"},
		{"q=" + strings.Repeat("a", 201), "q"},
		{"status=registered", "status"},
	} {
		w := e.get(t, "/api/v1/cases?"+tc.query)
		requireError(t, w, http.StatusBadRequest, "invalid", tc.field)
	}
	requireError(t, e.get(t, "/api/v1/cases/overdue?limit=x"), http.StatusBadRequest, "invalid", "limit")
}

func TestGetCase(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testToken)
	ctx := t.Context()
	note := &casework.Event{CaseID: e.overdue.ID, Actor: casework.Staff("7"), Kind: casework.EventNote, Note: "called the owner"}
	require.NoError(t, e.store.AddCaseEvent(ctx, note))

	w := e.get(t, "/api/v1/cases/"+e.overdue.Number)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var got struct {
		Case     map[string]any   `json:"case"`
		Timeline []map[string]any `json:"timeline"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
	c := got.Case
	assert.Equal(t, float64(e.overdue.ID), c["id"])
	assert.Equal(t, e.overdue.Number, c["number"])
	assert.Equal(t, e.overdue.OwnerPhone, c["owner_phone"])
	assert.Equal(t, "张三", c["owner_name"])
	assert.Equal(t, "hotline", c["channel"])
	assert.Equal(t, "urgent", c["urgency"])
	assert.Equal(t, "registered", c["state"])
	assert.Equal(t, "staff:7", c["received_by"])
	assert.Equal(t, float64(e.party.ID), c["party_id"])
	assert.Nil(t, c["assignee_id"], "unknown references are null")
	assert.Nil(t, c["on_site_by"])
	// The note, staff's first act on the case, is its response, late:
	// the case is no longer overdue.
	assert.Equal(t, false, c["overdue"])
	for _, k := range []string{"received_at", "respond_by", "resolve_by", "responded_at", "created_at", "updated_at"} {
		s, ok := c[k].(string)
		require.True(t, ok, k)
		_, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err, "%s is RFC 3339: %s", k, s)
	}
	received, _ := time.Parse(time.RFC3339, c["received_at"].(string))
	assert.True(t, received.Equal(e.overdue.ReceivedAt))
	responded, _ := time.Parse(time.RFC3339, c["responded_at"].(string))
	assert.True(t, responded.Equal(note.At), "responded at the note, %s, not %s", note.At, responded)
	for k := range c {
		assert.Equal(t, strings.ToLower(k), k, "snake_case key %s", k)
	}
	media, ok := c["media"].([]any)
	require.True(t, ok)
	require.Len(t, media, 1)
	m := media[0].(map[string]any)
	assert.Equal(t, "photo", m["kind"])
	assert.Equal(t, "cases/leak.jpg", m["blob_key"])
	assert.Equal(t, "image/jpeg", m["content_type"])
	assert.Equal(t, float64(1234), m["size"])

	require.Len(t, got.Timeline, 2)
	assert.Equal(t, "created", got.Timeline[0]["kind"])
	assert.Equal(t, "registered", got.Timeline[0]["to"])
	assert.Equal(t, float64(1), got.Timeline[0]["seq"])
	assert.Equal(t, "note", got.Timeline[1]["kind"])
	assert.Equal(t, "called the owner", got.Timeline[1]["note"])
	assert.Equal(t, "staff:7", got.Timeline[1]["actor"])

	// A case without media shows an empty list, and the transition in its timeline.
	w = e.get(t, "/api/v1/cases/"+e.other.Number)
	require.Equal(t, http.StatusOK, w.Code)
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
	assert.Equal(t, []any{}, got.Case["media"])
	assert.Nil(t, got.Case["unit_id"])
	require.Len(t, got.Timeline, 2)
	assert.Equal(t, "transition", got.Timeline[1]["kind"])
	assert.Equal(t, "accept", got.Timeline[1]["action"])
	assert.Equal(t, "registered", got.Timeline[1]["from"])
	assert.Equal(t, "accepted", got.Timeline[1]["to"])

	// The phone was shown but never logged.
	assert.NotContains(t, e.logs.String(), "13812345678")
}

func TestGetCaseNotFound(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testToken)
	for _, number := range []string{"SH-19990101-0001", "nope"} {
		requireError(t, e.get(t, "/api/v1/cases/"+number), http.StatusNotFound, "not_found", "")
	}
}

func TestAddNote(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testToken)
	ctx := t.Context()
	path := "/api/v1/cases/" + e.overdue.Number + "/notes"
	post := func(body string) *httptest.ResponseRecorder {
		return e.do(t, http.MethodPost, path, testToken, strings.NewReader(body))
	}

	w := post(`{"note":"  owner not home, will call back  "}`)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	var got struct {
		Event map[string]any `json:"event"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
	assert.Equal(t, "note", got.Event["kind"])
	assert.Equal(t, "service:api", got.Event["actor"])
	assert.Equal(t, "owner not home, will call back", got.Event["note"])
	assert.Equal(t, float64(2), got.Event["seq"])
	assert.Equal(t, float64(e.overdue.ID), got.Event["case_id"])
	_, err := time.Parse(time.RFC3339, got.Event["at"].(string))
	require.NoError(t, err)

	events, err := e.store.ListCaseEvents(ctx, e.overdue.ID)
	require.NoError(t, err)
	require.Len(t, events, 2)
	assert.Equal(t, casework.EventNote, events[1].Kind)
	assert.Equal(t, casework.Service("api"), events[1].Actor)
	assert.Equal(t, "owner not home, will call back", events[1].Note)
	assert.Equal(t, got.Event["id"], float64(events[1].ID))

	// 2000 characters (not bytes) are allowed.
	longest := strings.Repeat("漏", 2000)
	w = post(`{"note":"` + longest + `"}`)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())

	for _, tc := range []struct {
		name, body string
		status     int
		code       string
		field      string
	}{
		{"empty note", `{"note":""}`, http.StatusBadRequest, "invalid", "note"},
		{"blank note", `{"note":" \n\t "}`, http.StatusBadRequest, "invalid", "note"},
		{"missing note", `{}`, http.StatusBadRequest, "invalid", "note"},
		{"too long", `{"note":"` + longest + `x"}`, http.StatusBadRequest, "invalid", "note"},
		{"control characters", `{"note":"a\u0000b"}`, http.StatusBadRequest, "invalid", "note"},
		{"DEL", `{"note":"a\u007fb"}`, http.StatusBadRequest, "invalid", "note"},
		{"bad JSON", `{"note":`, http.StatusBadRequest, "invalid", "body"},
		{"not an object", `"hello"`, http.StatusBadRequest, "invalid", "body"},
		{"unknown field", `{"note":"x","urgent":true}`, http.StatusBadRequest, "invalid", "body"},
		{"trailing data", `{"note":"x"}{"note":"y"}`, http.StatusBadRequest, "invalid", "body"},
		{"empty body", ``, http.StatusBadRequest, "invalid", "body"},
		{"oversize body", `{"note":"` + strings.Repeat("a", console.MaxBodyBytes) + `"}`, http.StatusRequestEntityTooLarge, "too_large", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireError(t, post(tc.body), tc.status, tc.code, tc.field)
		})
	}
	events, err = e.store.ListCaseEvents(ctx, e.overdue.ID)
	require.NoError(t, err)
	require.Len(t, events, 3, "no invalid note was stored")

	requireError(t, e.do(t, http.MethodPost, "/api/v1/cases/SH-19990101-0001/notes", testToken, strings.NewReader(`{"note":"x"}`)),
		http.StatusNotFound, "not_found", "")
}

func TestOverdueCases(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testToken)
	l := decodeList(t, e.get(t, "/api/v1/cases/overdue"))
	require.Equal(t, []int64{e.overdue.ID}, l.ids())
	require.Equal(t, 1, l.Total)
	require.True(t, l.Cases[0].Overdue)
	require.Equal(t, e.overdue.Number, l.Cases[0].Number)

	// Another overdue case, received later, comes first.
	past := e.clock.Now().Add(-time.Minute)
	late := &casework.Case{
		ProjectID: e.project2.ID, Description: "no water", Channel: casework.ChannelTelegram,
		ReceivedAt: e.clock.Now().Add(-30 * time.Minute), ReceivedBy: casework.ActorBot,
		Category: casework.CategoryFacilitiesEquipment, Urgency: casework.UrgencyUrgent, RespondBy: &past,
	}
	require.NoError(t, e.store.CreateCase(t.Context(), late))
	l = decodeList(t, e.get(t, "/api/v1/cases/overdue"))
	require.Equal(t, []int64{late.ID, e.overdue.ID}, l.ids())
	require.Equal(t, l.ids(), decodeList(t, e.get(t, "/api/v1/cases?overdue=true")).ids())

	// Other filters and paging combine with it.
	l = decodeList(t, e.get(t, "/api/v1/cases/overdue?project_id="+strconv.FormatInt(e.project.ID, 10)))
	require.Equal(t, []int64{e.overdue.ID}, l.ids())
	l = decodeList(t, e.get(t, "/api/v1/cases/overdue?limit=1&offset=1"))
	require.Equal(t, []int64{e.overdue.ID}, l.ids())
	require.Equal(t, 2, l.Total)
}

func TestAPIStoreFailure(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testToken)
	require.NoError(t, e.store.Close())
	w := e.get(t, "/api/v1/cases/"+e.overdue.Number)
	requireError(t, w, http.StatusInternalServerError, "internal", "")
	require.Contains(t, e.logs.String(), "request failed")
	require.NotContains(t, e.logs.String(), "13812345678")
}

// TestFiltersRefuseBytesThatAreNotText: a NUL byte or invalid UTF-8 in a
// filter is the caller's mistake (400 invalid), never a database error.
func TestFiltersRefuseBytesThatAreNotText(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testToken)
	for _, target := range []string{
		"/api/v1/cases?q=%00", "/api/v1/cases?q=%ff%fe", "/api/v1/cases?q=abc%00def", "/api/v1/cases?channel=%c3%28",
		"/api/v1/cases?%ff=1", "/api/v1/cases/overdue?q=%00", "/api/v1/stats?from=%00",
	} {
		w := e.get(t, target)
		assert.Equal(t, http.StatusBadRequest, w.Code, "%s: %s", target, w.Body.String())
		assert.Contains(t, w.Body.String(), `"invalid"`, target)
	}
	_, _, err := e.store.FindCases(t.Context(), casework.CaseFilter{Text: "漏水\x00"})
	var ve *casework.ValidationError
	require.ErrorAs(t, err, &ve, "the store refuses it too")
	assert.Equal(t, "text", ve.Field)
}
