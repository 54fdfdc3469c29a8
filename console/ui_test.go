package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/console"
	"github.com/aftersales/aftersales/l10n"
	"github.com/aftersales/aftersales/staff"
)

// photo is the bytes the fake blob store serves for every key.
var photo = []byte("\xFF\xD8\xFF\xE0 a jpeg")

type fakeMedia struct{}

func (fakeMedia) Open(_ context.Context, key string) (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(photo)), nil
}

// uiEnv is the console's pages over the API's seeded store, with accounts:
// admin; supervisor (every project); agent, scoped to 绿水园 (project 2);
// party, the manager of the waterproofing contractor.
type uiEnv struct {
	*apiEnv
	staff *staff.Service
}

const uiPassword = "correct-horse-battery"

func newUIEnv(t *testing.T, configure ...func(e *apiEnv, cfg *console.Config)) *uiEnv {
	t.Helper()
	var svc *staff.Service
	e := newAPIEnv(t, testToken, append([]func(*apiEnv, *console.Config){func(e *apiEnv, cfg *console.Config) {
		svc = staff.New(staff.Config{Store: e.store, NowFunc: e.clock.Now,
			AccountLimit: bot.NewMemoryLimiter(bot.Limit{Burst: 5, Every: 3 * 60 * 1e9})})
		cfg.Staff, cfg.Media = svc, fakeMedia{}
		ctx := t.Context()
		for _, u := range []*staff.User{
			{Username: "admin", Role: staff.RoleAdmin},
			{Username: "supervisor", DisplayName: "王主管", Role: staff.RoleSupervisor},
			{Username: "agent", DisplayName: "李客服", Role: staff.RoleAgent, ProjectIDs: []int64{e.project2.ID}},
			{Username: "party", DisplayName: "防水公司经理", Role: staff.RoleParty, PartyID: e.party.ID},
		} {
			require.NoError(t, svc.AddUser(ctx, u, uiPassword, "test"))
		}
	}}, configure...)...)
	return &uiEnv{apiEnv: e, staff: svc}
}

// browser is a person's browser on the console: it keeps the cookies.
type browser struct {
	t       *testing.T
	e       *uiEnv
	cookies map[string]*http.Cookie
}

func (e *uiEnv) browser(t *testing.T) *browser {
	return &browser{t: t, e: e, cookies: map[string]*http.Cookie{}}
}

func (b *browser) do(method, target string, form url.Values, header ...string) *httptest.ResponseRecorder {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return b.send(r, header...)
}

// send sends r from the browser with its cookies and the headers (name,
// value, …), and keeps the cookies the answer sets.
func (b *browser) send(r *http.Request, header ...string) *httptest.ResponseRecorder {
	b.t.Helper()
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	for _, c := range b.cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	b.e.srv.ServeHTTP(w, r)
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return w
}

// get fetches a page and checks that every text in it was translated: a
// catalogue key shown as itself ("channel.hotline") is a missing text.
func (b *browser) get(target string) *httptest.ResponseRecorder {
	b.t.Helper()
	w := b.do(http.MethodGet, target, nil)
	assert.NotRegexp(b.t, rawKey, w.Body.String(), "an untranslated text on %s", target)
	return w
}

var rawKey = regexp.MustCompile(`>[^<]*(\b(app|nav|login|dash|cases|col|case|users|role|error|warranty|channel|state|urgency|category|sub|location|actor|act|field|reason|responsibility|part|outbox|purpose)\.[a-z_]+\b|\b(warranty|channel|state|urgency|category|sub|location|reason|responsibility|part)\.[<\s·])`)

func (b *browser) login(user, password string) *httptest.ResponseRecorder {
	return b.do(http.MethodPost, "/console/login", url.Values{"username": {user}, "password": {password}, "next": {"/console/cases"}})
}

func (e *uiEnv) signedIn(t *testing.T, user string) *browser {
	t.Helper()
	b := e.browser(t)
	w := b.login(user, uiPassword)
	require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
	return b
}

func TestConsoleLogin(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	b := e.browser(t)

	w := b.get("/console/")
	require.Equal(t, http.StatusSeeOther, w.Code, "not signed in: to the login")
	assert.Equal(t, "/console/login?next=%2Fconsole%2F", w.Header().Get("Location"))
	w = b.get("/console/login")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), `name="username"`)
	assert.Contains(t, w.Body.String(), "登录")

	w = b.login("supervisor", "wrong-password-123")
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Contains(t, w.Body.String(), "用户名或密码不正确")
	w = b.login("nobody", uiPassword)
	assert.Equal(t, http.StatusUnauthorized, w.Code, "an unknown name reads the same")
	assert.Contains(t, w.Body.String(), "用户名或密码不正确")

	w = b.login("supervisor", uiPassword)
	require.Equal(t, http.StatusSeeOther, w.Code)
	assert.Equal(t, "/console/cases", w.Header().Get("Location"))
	ck := b.cookies["aftersales_console"]
	require.NotNil(t, ck)
	assert.True(t, ck.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, ck.SameSite)

	w = b.get("/console/")
	require.Equal(t, http.StatusOK, w.Code)
	page := w.Body.String()
	assert.Contains(t, page, "王主管")
	assert.Contains(t, page, "待分诊")
	assert.Contains(t, page, "/console/cases?overdue=true")

	w = b.do(http.MethodPost, "/console/logout", url.Values{})
	require.Equal(t, http.StatusSeeOther, w.Code)
	w = b.get("/console/")
	assert.Equal(t, http.StatusSeeOther, w.Code, "signed out")

	// A redirect after login never leaves the console.
	w = b.do(http.MethodPost, "/console/login", url.Values{"username": {"supervisor"}, "password": {uiPassword}, "next": {"//evil.example/"}})
	assert.Equal(t, "/console/", w.Header().Get("Location"))

	entries, err := e.staff.AuditLog(t.Context(), staff.AuditFilter{})
	require.NoError(t, err)
	var actions []string
	for _, a := range entries {
		actions = append(actions, a.Action)
	}
	assert.Contains(t, actions, "login_failed")
	assert.Contains(t, actions, "login")
	assert.Contains(t, actions, "logout")
}

func TestConsoleLoginIsLimited(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	b := e.browser(t)
	for range 5 {
		assert.Equal(t, http.StatusUnauthorized, b.login("agent", "guess-guess-guess").Code)
	}
	w := b.login("agent", uiPassword)
	assert.Equal(t, http.StatusTooManyRequests, w.Code, "even the right password, once over the limit")
	assert.NotEmpty(t, w.Header().Get("Retry-After"))
	assert.Contains(t, w.Body.String(), "尝试次数过多")
}

func TestConsoleSeesOnlyWhatTheRoleMay(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	for _, tc := range []struct {
		user        string
		list        []string // case numbers listed
		hidden      []string // numbers neither listed nor openable
		users       int      // status of /console/users
		phoneButton bool
	}{
		{"admin", []string{e.overdue.Number, e.onTime.Number, e.other.Number}, nil, http.StatusOK, true},
		{"supervisor", []string{e.overdue.Number, e.onTime.Number, e.other.Number}, nil, http.StatusForbidden, true},
		{"agent", []string{e.other.Number}, []string{e.overdue.Number, e.onTime.Number}, http.StatusForbidden, false},
		{"party", []string{e.overdue.Number}, []string{e.onTime.Number, e.other.Number}, http.StatusForbidden, false},
	} {
		t.Run(tc.user, func(t *testing.T) {
			b := e.signedIn(t, tc.user)
			w := b.get("/console/cases")
			require.Equal(t, http.StatusOK, w.Code)
			for _, n := range tc.list {
				assert.Contains(t, w.Body.String(), n)
			}
			for _, n := range tc.hidden {
				assert.NotContains(t, w.Body.String(), n)
				assert.Equal(t, http.StatusNotFound, b.get("/console/cases/"+n).Code, "%s may not open %s", tc.user, n)
				assert.Equal(t, http.StatusNotFound, b.get("/console/cases/"+n+"/media/1").Code)
			}
			assert.Equal(t, tc.users, b.get("/console/users").Code)
			w = b.get("/console/cases/" + tc.list[0])
			require.Equal(t, http.StatusOK, w.Code)
		})
	}
}

func TestConsoleCasePageAndPhoto(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	b := e.signedIn(t, "supervisor")
	w := b.get("/console/cases/" + e.overdue.Number)
	require.Equal(t, http.StatusOK, w.Code)
	page := w.Body.String()
	for _, want := range []string{"客户诉求登记表", "张三", "138****5678", "海景苑 3-2-1502", "卫生间天花板渗水", "渗漏水", "紧急", "防水工程公司", "超时",
		"/console/cases/" + e.overdue.Number + "/media/"} {
		assert.Contains(t, page, want)
	}
	assert.NotContains(t, page, "13812345678", "the phone is masked")

	m := e.overdue.Media[0]
	w = b.get("/console/cases/" + e.overdue.Number + "/media/" + itoa(m.ID))
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, photo, w.Body.Bytes())
	assert.Equal(t, "image/jpeg", w.Header().Get("Content-Type"))
	assert.Equal(t, http.StatusNotFound, b.get("/console/cases/"+e.overdue.Number+"/media/999999").Code)

	// The whole number is shown on request, and the audit log says who saw it.
	w = b.do(http.MethodPost, "/console/cases/"+e.overdue.Number+"/phone", url.Values{})
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), "13812345678")
	entries, err := e.staff.AuditLog(t.Context(), staff.AuditFilter{Action: "phone_view"})
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "staff:supervisor", entries[0].Actor)
	assert.Equal(t, e.overdue.Number, entries[0].Subject)

	// English.
	b.do(http.MethodPost, "/console/lang", url.Values{"lang": {"en"}, "back": {"/console/"}})
	for _, p := range []string{"/console/", "/console/cases", "/console/cases?overdue=true"} {
		require.Equal(t, http.StatusOK, b.get(p).Code)
	}
	w = b.get("/console/cases/" + e.overdue.Number)
	assert.Contains(t, w.Body.String(), "Registration form")
	assert.Contains(t, w.Body.String(), "leak")
}

func TestConsoleDisabledUserIsSignedOut(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	b := e.signedIn(t, "agent")
	require.Equal(t, http.StatusOK, b.get("/console/").Code)
	require.NoError(t, e.staff.Disable(t.Context(), "agent", "test"))
	assert.Equal(t, http.StatusSeeOther, b.get("/console/").Code, "the session stopped working")
	assert.Equal(t, http.StatusUnauthorized, b.login("agent", uiPassword).Code)
}

func TestConsoleRefusesCrossSiteRequests(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	b := e.signedIn(t, "supervisor")
	w := b.do(http.MethodPost, "/console/cases/"+e.overdue.Number+"/phone", url.Values{}, "Sec-Fetch-Site", "cross-site")
	assert.Equal(t, http.StatusForbidden, w.Code)
	w = b.do(http.MethodPost, "/console/logout", url.Values{}, "Origin", "https://evil.example")
	assert.Equal(t, http.StatusForbidden, w.Code)
	assert.Equal(t, http.StatusOK, b.get("/console/").Code, "still signed in")
	w = b.do(http.MethodPost, "/console/login", url.Values{"username": {"supervisor"}, "password": {uiPassword}}, "Sec-Fetch-Site", "cross-site")
	assert.Equal(t, http.StatusForbidden, w.Code, "no login from another site")
}

func TestConsoleCaseListFilters(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	b := e.signedIn(t, "supervisor")
	w := b.get("/console/cases?overdue=true")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), e.overdue.Number)
	assert.NotContains(t, w.Body.String(), e.onTime.Number)
	w = b.get("/console/cases?q=" + url.QueryEscape("电梯"))
	assert.Contains(t, w.Body.String(), e.onTime.Number)
	assert.NotContains(t, w.Body.String(), e.overdue.Number)
	assert.Equal(t, http.StatusBadRequest, b.get("/console/cases?state=bogus").Code)
	assert.Equal(t, http.StatusBadRequest, b.get("/console/cases?q=%00").Code)
	assert.Equal(t, http.StatusBadRequest, b.get("/console/cases?page=0").Code)
}

func TestConsoleCatalogue(t *testing.T) {
	t.Parallel()
	for key := range console.UIText()[l10n.Chinese] {
		assert.NotEmpty(t, console.UIText()[l10n.English][key], "English for %s", key)
	}
	for key := range console.UIText()[l10n.English] {
		assert.NotEmpty(t, console.UIText()[l10n.Chinese][key], "Chinese for %s", key)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestConsoleAuditAndParties(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	ctx := t.Context()
	require.NoError(t, e.store.CreateMember(ctx, &casework.Member{PartyID: e.party.ID, Name: "孙立军", Phone: "13900009011", Role: "engineer"}))

	sup := e.signedIn(t, "supervisor")
	sup.get("/console/cases/" + e.overdue.Number)
	w := sup.get("/console/parties")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), "防水工程公司")
	assert.Contains(t, w.Body.String(), "孙立军")
	assert.Equal(t, http.StatusForbidden, sup.get("/console/audit").Code, "the audit log is the admins'")
	assert.Equal(t, http.StatusForbidden, e.signedIn(t, "party").get("/console/parties").Code)

	admin := e.signedIn(t, "admin")
	w = admin.get("/console/audit")
	require.Equal(t, http.StatusOK, w.Code)
	page := w.Body.String()
	assert.Contains(t, page, "staff:supervisor")
	assert.Contains(t, page, "case_view")
	assert.Contains(t, page, e.overdue.Number)
	w = admin.get("/console/audit?subject=" + e.overdue.Number)
	assert.Contains(t, w.Body.String(), "case_view")
	assert.NotContains(t, w.Body.String(), ">login<", "filtered by subject")
	assert.Equal(t, http.StatusBadRequest, admin.get("/console/audit?before=x").Code)
}

func TestAPIListsPartiesByName(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t, testToken)
	require.NoError(t, e.store.CreateMember(t.Context(), &casework.Member{PartyID: e.party.ID, Name: "孙立军", Phone: "13900009011", Role: "engineer"}))
	w := e.get(t, "/api/v1/parties")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var got struct {
		Parties []struct {
			ID      int64  `json:"id"`
			Code    string `json:"code"`
			Name    string `json:"name"`
			Members []struct {
				ID   int64  `json:"id"`
				Name string `json:"name"`
				Role string `json:"role"`
			} `json:"members"`
		} `json:"parties"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
	require.Len(t, got.Parties, 1)
	assert.Equal(t, "防水工程公司", got.Parties[0].Name)
	require.Len(t, got.Parties[0].Members, 1)
	assert.Equal(t, "孙立军", got.Parties[0].Members[0].Name)
	assert.NotZero(t, got.Parties[0].Members[0].ID)
}

func TestConsoleSavedViews(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	b := e.signedIn(t, "supervisor")
	w := b.do(http.MethodPost, "/console/views", url.Values{"name": {"紧急超时"}, "query": {"urgency=urgent&overdue=true&page=3"}})
	require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
	assert.Equal(t, "/console/cases?overdue=true&urgency=urgent", w.Header().Get("Location"), "saved without the page")
	w = b.get("/console/cases")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), `href="/console/cases?overdue=true&amp;urgency=urgent">紧急超时</a>`)

	other := e.signedIn(t, "admin")
	assert.NotContains(t, other.get("/console/cases").Body.String(), "紧急超时", "a view is its owner's")
	assert.Equal(t, http.StatusBadRequest, b.do(http.MethodPost, "/console/views", url.Values{"name": {"x"}, "query": {"state=bogus"}}).Code)
	assert.Equal(t, http.StatusBadRequest, b.do(http.MethodPost, "/console/views", url.Values{"name": {""}, "query": {"urgency=urgent"}}).Code)

	views, err := e.staff.Views(t.Context(), &staff.User{ID: 2})
	require.NoError(t, err)
	require.Len(t, views, 1)
	id := strconv.FormatInt(views[0].ID, 10)
	assert.Equal(t, http.StatusNotFound, other.do(http.MethodPost, "/console/views/"+id+"/delete", url.Values{}).Code, "not another's")
	require.Equal(t, http.StatusSeeOther, b.do(http.MethodPost, "/console/views/"+id+"/delete", url.Values{}).Code)
	assert.NotContains(t, b.get("/console/cases").Body.String(), "紧急超时")
}

func TestConsoleTasksDue(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	ctx := t.Context()
	now := e.clock.Now()
	for _, task := range []*casework.Task{
		{CaseID: e.overdue.ID, Assignee: "物业公司", Description: "协调楼上业主开门检查", DueAt: now.Add(-time.Hour), CreatedBy: casework.Staff("7")},
		{CaseID: e.other.ID, Assignee: "自来水公司", Description: "确认停水时间", DueAt: now.Add(-2 * time.Hour), CreatedBy: casework.Staff("7")},
		{CaseID: e.onTime.ID, Assignee: "电梯公司", Description: "明天检修", DueAt: now.Add(24 * time.Hour), CreatedBy: casework.Staff("7")},
	} {
		require.NoError(t, e.store.CreateTask(ctx, task, casework.Effects{}))
	}
	sup := e.signedIn(t, "supervisor")
	w := sup.get("/console/")
	assert.Contains(t, w.Body.String(), "协调任务到期")
	w = sup.get("/console/tasks")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), "协调楼上业主开门检查")
	assert.Contains(t, w.Body.String(), "确认停水时间")
	assert.NotContains(t, w.Body.String(), "明天检修", "not due yet")

	agent := e.signedIn(t, "agent") // 绿水园 only
	w = agent.get("/console/tasks")
	assert.Contains(t, w.Body.String(), "确认停水时间")
	assert.NotContains(t, w.Body.String(), "协调楼上业主开门检查", "another project's")
	assert.Equal(t, http.StatusForbidden, e.signedIn(t, "party").get("/console/tasks").Code)
}

func TestConsoleUrgedCases(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	require.NoError(t, e.store.AddCaseEvent(t.Context(), &casework.Event{CaseID: e.onTime.ID, Kind: casework.EventUrge, Actor: casework.ActorBot, Note: "业主催办"}))
	b := e.signedIn(t, "supervisor")
	w := b.get("/console/")
	assert.Contains(t, w.Body.String(), "业主催办")
	assert.Contains(t, w.Body.String(), "/console/cases?open=true&amp;urged=true")
	w = b.get("/console/cases?open=true&urged=true")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), e.onTime.Number)
	assert.NotContains(t, w.Body.String(), e.overdue.Number)
	assert.Contains(t, w.Body.String(), `name="urged" value="true" checked`)
}

func TestConsoleUnansweredCases(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	b := e.signedIn(t, "supervisor")
	w := b.get("/console/cases?unanswered=true")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), e.onTime.Number, "the bot's case no person touched")
	assert.NotContains(t, w.Body.String(), e.other.Number, "accepted by staff: answered")
	assert.Contains(t, b.get("/console/").Body.String(), "尚无人响应")
}

func TestConsoleCaseListOrder(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	b := e.signedIn(t, "supervisor")
	page := b.get("/console/cases").Body.String()
	assert.Less(t, strings.Index(page, e.other.Number), strings.Index(page, e.overdue.Number), "newest first")
	page = b.get("/console/cases?sort=oldest").Body.String()
	assert.Less(t, strings.Index(page, e.overdue.Number), strings.Index(page, e.other.Number), "oldest first")
	assert.Contains(t, page, `<option value="oldest" selected>`)
	page = b.get("/console/cases?sort=due").Body.String()
	assert.Contains(t, page, `<option value="due" selected>`)
	assert.Less(t, strings.Index(page, e.overdue.Number), strings.Index(page, e.other.Number), "a deadline long past before a case with none")
	assert.Equal(t, http.StatusBadRequest, b.get("/console/cases?sort=cheapest").Code)
}

func TestConsoleTimelineNamesActors(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	ctx := t.Context()
	engineer := &casework.Member{PartyID: e.party.ID, Name: "赵师傅", Phone: "13900001111", Role: "engineer"}
	require.NoError(t, e.store.CreateMember(ctx, engineer))
	for _, a := range []casework.Actor{casework.Staff("supervisor"), casework.MemberActor(engineer.ID), casework.ActorBot,
		casework.Service("crm"), casework.Staff("gone")} {
		require.NoError(t, e.store.AddCaseEvent(ctx, &casework.Event{CaseID: e.overdue.ID, Kind: casework.EventNote, Actor: a, Note: "记录 " + string(a)}))
	}
	for lang, want := range map[string][]string{
		"zh": {"王主管", "赵师傅（工程师）", "机器人", "service:crm", "staff:gone"},
		"en": {"王主管", "赵师傅 (engineer)", "Bot"},
	} {
		b := e.signedIn(t, "supervisor")
		if lang == "en" {
			b.cookies["aftersales_console_lang"] = &http.Cookie{Name: "aftersales_console_lang", Value: "en"}
		}
		page := b.get("/console/cases/" + e.overdue.Number).Body.String()
		for _, w := range want {
			assert.Contains(t, page, `<span class="actor">`+w+`</span>`, lang)
		}
		assert.NotContains(t, page, `<span class="actor">staff:supervisor</span>`, "a person is shown by name")
	}
}

// TestConsoleLoginTOTP: an admin with an authenticator signs in with the
// password and the app's current code, not with the password alone nor a
// wrong code, and a code signs in once; the form keeps the username, never
// the password, and says what is wrong in either language.
func TestConsoleLoginTOTP(t *testing.T) {
	t.Parallel()
	e := newUIEnv(t)
	ctx := t.Context()
	e.clock.Freeze()
	enrol, err := e.staff.EnrolTOTP(ctx, "admin", "cli")
	require.NoError(t, err)
	appCode := func(at time.Time) string {
		t.Helper()
		c, err := totp.GenerateCode(enrol.Secret, at)
		require.NoError(t, err)
		return c
	}
	require.NoError(t, e.staff.ConfirmTOTP(ctx, "admin", appCode(e.clock.Now()), "cli"))
	e.clock.Advance(30 * time.Second) // the next code
	now := e.clock.Now()
	near := []string{appCode(now.Add(-30 * time.Second)), appCode(now), appCode(now.Add(30 * time.Second))}
	wrong := "000000"
	for i := 1; slices.Contains(near, wrong); i++ {
		wrong = fmt.Sprintf("%06d", i)
	}
	login := func(b *browser, code string) *httptest.ResponseRecorder {
		t.Helper()
		return b.do(http.MethodPost, "/console/login", url.Values{"username": {"admin"}, "password": {uiPassword}, "code": {code},
			"next": {"/console/cases"}})
	}

	w := e.browser(t).get("/console/login")
	assert.Contains(t, w.Body.String(), `name="code"`, "the code field is always there")
	assert.Contains(t, w.Body.String(), "动态验证码")
	assert.Contains(t, w.Body.String(), "选填")

	b := e.browser(t)
	for _, tc := range []struct {
		lang, code, want string
	}{
		{"zh", "", "此账号已开启两步验证"},
		{"zh", wrong, "动态验证码不正确或已用过"},
		{"en", "", "This account has two-step sign-in"},
	} {
		if tc.lang == "en" {
			b.cookies["aftersales_console_lang"] = &http.Cookie{Name: "aftersales_console_lang", Value: "en"}
		}
		w := login(b, tc.code)
		require.Equal(t, http.StatusUnauthorized, w.Code, "the password alone, or with a wrong code: %q", tc.code)
		page := w.Body.String()
		assert.Contains(t, page, tc.want)
		assert.Contains(t, page, `value="admin"`, "the username is kept")
		assert.NotContains(t, page, uiPassword, "the password is never echoed")
		assert.Regexp(t, `name="code"[^>]*autofocus`, page, "the code field takes the focus")
		assert.NotRegexp(t, rawKey, page)
		assert.Nil(t, b.cookies["aftersales_console"], "no session")
	}
	delete(b.cookies, "aftersales_console_lang")
	assert.Equal(t, http.StatusSeeOther, b.get("/console/").Code, "still not signed in")

	w = login(b, appCode(now))
	require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
	assert.Equal(t, "/console/cases", w.Header().Get("Location"))
	assert.Equal(t, http.StatusOK, b.get("/console/").Code, "signed in")

	w = login(e.browser(t), appCode(now))
	assert.Equal(t, http.StatusUnauthorized, w.Code, "the same code again")
	assert.Contains(t, w.Body.String(), "动态验证码不正确或已用过")

	entries, err := e.staff.AuditLog(ctx, staff.AuditFilter{Action: "login_failed"})
	require.NoError(t, err)
	var details []string
	for _, a := range entries {
		details = append(details, a.Detail)
	}
	assert.Equal(t, []string{"code used", "code required", "wrong code", "code required"}, details)
}
