package console_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/classify"
	"github.com/aftersales/aftersales/console"
	"github.com/aftersales/aftersales/lifecycle"
)

// withIntake rebuilds e's console from cfg with what registration needs: a
// lifecycle with the chat's classifier, and a blob store in a temporary
// directory for uploads, which it returns. e's store must have a job queue.
func withIntake(t *testing.T, e *apiEnv, cfg console.Config) *bot.FileBlobStore {
	t.Helper()
	blobs := &bot.FileBlobStore{Dir: t.TempDir(), NowFunc: e.clock.Now}
	cfg.Store, cfg.NowFunc, cfg.Media = e.store, e.clock.Now, blobs
	cfg.Lifecycle = lifecycle.New(lifecycle.Config{Store: e.store, NowFunc: e.clock.Now, Classifier: classify.New(nil)})
	e.srv = console.New(cfg)
	return blobs
}

// intakeUI is the console's pages ready for registration, with a home in
// each project: 张三 (e.owner) holds 海景苑 3-2-1502 (e.unit), and 李四 holds
// 绿水园 1-1-101, the agent's project.
type intakeUI struct {
	*uiEnv
	blobs     *bot.FileBlobStore
	unit2     *casework.Unit
	owner2    *casework.Owner
	emptyUnit *casework.Unit // 绿水园 1-1-102: no owner on record
}

func newIntakeUI(t *testing.T) *intakeUI {
	t.Helper()
	ctx := t.Context()
	e := &intakeUI{uiEnv: newUIEnv(t)}
	e.store.SetJobQueue(&fakeJobs{})
	e.blobs = withIntake(t, e.apiEnv, console.Config{Staff: e.staff})
	require.NoError(t, e.store.BindOwnerUnit(ctx, e.owner.ID, e.unit.ID))
	b := &casework.Building{ProjectID: e.project2.ID, Code: "1", Name: "1栋"}
	require.NoError(t, e.store.CreateBuilding(ctx, b))
	e.unit2 = &casework.Unit{ProjectID: e.project2.ID, BuildingID: b.ID, Building: "1", Entrance: "1", Floor: 1, Room: "101"}
	require.NoError(t, e.store.CreateUnit(ctx, e.unit2))
	e.emptyUnit = &casework.Unit{ProjectID: e.project2.ID, BuildingID: b.ID, Building: "1", Entrance: "1", Floor: 1, Room: "102"}
	require.NoError(t, e.store.CreateUnit(ctx, e.emptyUnit))
	e.owner2 = &casework.Owner{Name: "李四", Phone: "13700001234"}
	require.NoError(t, e.store.CreateOwner(ctx, e.owner2))
	require.NoError(t, e.store.BindOwnerUnit(ctx, e.owner2.ID, e.unit2.ID))
	return e
}

// pngPhoto is a small PNG, as a phone's photo would be sniffed.
func pngPhoto(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 8 {
		img.Set(i, i, color.RGBA{R: 200, A: 255})
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// upload is a file of a multipart form.
type upload struct {
	field, name string
	data        []byte
}

// multipartBody encodes fields and files as multipart/form-data.
func multipartBody(t *testing.T, fields url.Values, files ...upload) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			require.NoError(t, mw.WriteField(k, v))
		}
	}
	for _, f := range files {
		fw, err := mw.CreateFormFile(f.field, f.name)
		require.NoError(t, err)
		_, err = fw.Write(f.data)
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return &buf, mw.FormDataContentType()
}

// postMultipart posts a multipart form from the browser, with its cookies
// and headers (name, value, …).
func (b *browser) postMultipart(target string, fields url.Values, files []upload, header ...string) *httptest.ResponseRecorder {
	b.t.Helper()
	body, ct := multipartBody(b.t, fields, files...)
	r := httptest.NewRequest(http.MethodPost, target, body)
	r.Header.Set("Content-Type", ct)
	return b.send(r, header...)
}

// rawIntakeKey matches a key of the registration page's texts shown as
// itself, in the text or an attribute: a text missing from the catalogue.
var rawIntakeKey = regexp.MustCompile(`[>"][^<"]*\bintake\.[a-z_.]+`)

// requireTranslated checks that every text of the registration page on w
// was found in the catalogue.
func requireTranslated(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	require.NotRegexp(t, rawIntakeKey, w.Body.String())
	require.NotRegexp(t, rawKey, w.Body.String())
}

// intakeForm is a hotline call about 李四's window.
func (e *intakeUI) intakeForm() url.Values {
	return url.Values{
		"unit_id": {itoa(e.unit2.ID)}, "owner_id": {itoa(e.owner2.ID)}, "channel": {"hotline"},
		"location": {"bedroom"}, "location_detail": {"主卧"}, "description": {"主卧窗户关不严，下雨时窗台进水"},
		"occurred": {"昨天"}, "expectation": {"尽快上门修好"}, "contact_time": {"工作日晚上"},
	}
}

func TestConsoleIntakeRegistersAHotlineCase(t *testing.T) {
	t.Parallel()
	e := newIntakeUI(t)
	b := e.signedIn(t, "agent")

	// The menu leads to the lookup.
	w := b.get("/console/")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), `href="/console/cases/new"`)
	assert.Contains(t, w.Body.String(), "登记诉求")
	w = b.get("/console/cases/new")
	require.Equal(t, http.StatusOK, w.Code)
	requireTranslated(t, w)
	assert.Contains(t, w.Body.String(), `name="q"`)
	assert.NotContains(t, w.Body.String(), `name="description"`, "the form comes once the home is chosen")

	// By unit, phone or name: 李四's home, and the unit for a new owner.
	for _, q := range []string{"1-1-101", "绿水园 1栋1单元101", "137 0000 1234", "李四"} {
		w = b.get("/console/cases/new?q=" + url.QueryEscape(q))
		require.Equal(t, http.StatusOK, w.Code, q)
		requireTranslated(t, w)
		page := w.Body.String()
		assert.Contains(t, page, "绿水园 1-1-101", q)
		assert.Contains(t, page, "137****1234", q)
		assert.NotContains(t, page, "13700001234", "%s: phones are masked", q)
		assert.Contains(t, page, `name="owner_id" value="`+itoa(e.owner2.ID)+`"`, q)
	}
	w = b.get("/console/cases/new?q=" + url.QueryEscape("3-2-1502"))
	assert.NotContains(t, w.Body.String(), "海景苑 3-2-1502", "another project's home is not the agent's to find")
	assert.Contains(t, w.Body.String(), "没有找到")

	// The home chosen, the form: channels, and the first judgment left to the system.
	w = b.get("/console/cases/new?unit_id=" + itoa(e.unit2.ID) + "&owner_id=" + itoa(e.owner2.ID))
	require.Equal(t, http.StatusOK, w.Code)
	requireTranslated(t, w)
	page := w.Body.String()
	for _, s := range []string{"绿水园 1-1-101", "李四", `enctype="multipart/form-data"`, "热线", "现场接待", "书面函件", "自动判断", `name="photos"`} {
		assert.Contains(t, page, s)
	}

	// Registered with a photo: to the case page.
	w = b.postMultipart("/console/cases/new", e.intakeForm(), []upload{{"photos", "window.png", pngPhoto(t)}})
	require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
	loc := w.Header().Get("Location")
	require.True(t, strings.HasPrefix(loc, "/console/cases/"), loc)
	number := strings.TrimPrefix(loc, "/console/cases/")
	c, err := e.store.FindCaseByNumber(t.Context(), number)
	require.NoError(t, err)
	assert.Equal(t, casework.ChannelHotline, c.Channel)
	assert.Equal(t, casework.Actor("staff:agent"), c.ReceivedBy)
	assert.Equal(t, e.owner2.ID, c.OwnerID)
	assert.Equal(t, e.unit2.ID, c.UnitID)
	assert.Equal(t, casework.SubDoorWindow, c.Subcategory, "read from the description")
	assert.Equal(t, "尽快上门修好", c.Expectation)
	require.NotNil(t, c.RespondedAt, "the call was the first contact")
	require.Len(t, c.Media, 1)
	assert.Equal(t, casework.MediaPhoto, c.Media[0].Kind)
	assert.Equal(t, "image/png", c.Media[0].ContentType)
	rc, err := e.blobs.Open(t.Context(), c.Media[0].BlobKey)
	require.NoError(t, err)
	stored, err := io.ReadAll(rc)
	require.NoError(t, rc.Close())
	require.NoError(t, err)
	assert.Equal(t, pngPhoto(t), stored)

	w = b.get(loc)
	require.Equal(t, http.StatusOK, w.Code)
	page = w.Body.String()
	assert.Contains(t, page, "主卧窗户关不严")
	assert.Contains(t, page, "/console/cases/"+number+"/media/"+itoa(c.Media[0].ID))
	assert.Contains(t, page, "未发送通知", "李四 has no chat: the timeline says so")
}

func TestConsoleIntakeNewOwner(t *testing.T) {
	t.Parallel()
	e := newIntakeUI(t)
	b := e.signedIn(t, "agent")
	w := b.get("/console/cases/new?unit_id=" + itoa(e.emptyUnit.ID) + "&owner_id=0")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), `name="owner_name"`)
	form := e.intakeForm()
	form.Set("unit_id", itoa(e.emptyUnit.ID))
	form.Set("owner_id", "0")
	form.Set("owner_name", "王五")
	form.Set("owner_phone", "13600005678")
	form.Set("channel", "walk_in")
	w = b.postMultipart("/console/cases/new", form, nil)
	require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
	owners, err := e.store.UnitOwners(t.Context(), e.emptyUnit.ID)
	require.NoError(t, err)
	require.Len(t, owners, 1)
	assert.Equal(t, "王五", owners[0].Name)
}

func TestConsoleIntakeKeepsTheFormOnAnError(t *testing.T) {
	t.Parallel()
	e := newIntakeUI(t)
	b := e.signedIn(t, "agent")
	before := len(e.cases(t))

	form := e.intakeForm()
	form.Set("description", "")
	w := b.postMultipart("/console/cases/new", form, []upload{{"photos", "window.png", pngPhoto(t)}})
	require.Equal(t, http.StatusBadRequest, w.Code)
	requireTranslated(t, w)
	page := w.Body.String()
	assert.Contains(t, page, "请填写问题描述")
	assert.Contains(t, page, `value="尽快上门修好"`, "what was typed is kept")
	assert.Contains(t, page, `value="hotline" checked`)
	assert.Contains(t, page, "请重新选择照片")

	form = e.intakeForm()
	form.Set("occurred", "2999-01-01")
	w = b.postMultipart("/console/cases/new", form, nil)
	require.Equal(t, http.StatusBadRequest, w.Code)
	assert.Contains(t, w.Body.String(), "发生时间不能晚于今天")

	form = e.intakeForm()
	form.Set("channel", "wechat")
	w = b.postMultipart("/console/cases/new", form, nil)
	require.Equal(t, http.StatusBadRequest, w.Code)
	assert.Contains(t, w.Body.String(), "请选择受理渠道")

	w = b.postMultipart("/console/cases/new", e.intakeForm(), []upload{{"photos", "notes.txt", []byte("not a photo at all")}})
	require.Equal(t, http.StatusBadRequest, w.Code)
	assert.Contains(t, w.Body.String(), "只接受图片")

	// In English.
	b.do(http.MethodPost, "/console/lang", url.Values{"lang": {"en"}, "back": {"/console/"}})
	form = e.intakeForm()
	form.Set("description", " ")
	w = b.postMultipart("/console/cases/new", form, nil)
	require.Equal(t, http.StatusBadRequest, w.Code)
	assert.Contains(t, w.Body.String(), "Describe the problem")
	assert.Contains(t, w.Body.String(), "Register a case")
	requireTranslated(t, w)
	w = b.get("/console/cases/new?q=" + url.QueryEscape("1-1-101"))
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), "New owner")
	requireTranslated(t, w)

	assert.Len(t, e.cases(t), before, "nothing registered")
}

// cases returns every case on record.
func (e *apiEnv) cases(t *testing.T) []*casework.Case {
	t.Helper()
	cs, _, err := e.store.FindCases(t.Context(), casework.CaseFilter{Limit: 500})
	require.NoError(t, err)
	return cs
}

func TestConsoleIntakeIsForStaffOfTheProject(t *testing.T) {
	t.Parallel()
	e := newIntakeUI(t)
	before := len(e.cases(t))

	party := e.signedIn(t, "party")
	assert.NotContains(t, party.get("/console/").Body.String(), `href="/console/cases/new"`, "no menu entry")
	assert.Equal(t, http.StatusForbidden, party.get("/console/cases/new").Code)
	assert.Equal(t, http.StatusForbidden, party.postMultipart("/console/cases/new", e.intakeForm(), nil).Code)

	// The agent works 绿水园 only.
	agent := e.signedIn(t, "agent")
	other := url.Values{"unit_id": {itoa(e.unit.ID)}, "owner_id": {itoa(e.owner.ID)}}
	assert.Equal(t, http.StatusForbidden, agent.get("/console/cases/new?"+other.Encode()).Code)
	form := e.intakeForm()
	form.Set("unit_id", itoa(e.unit.ID))
	form.Set("owner_id", itoa(e.owner.ID))
	assert.Equal(t, http.StatusForbidden, agent.postMultipart("/console/cases/new", form, nil).Code)

	// No registration from another site.
	w := agent.postMultipart("/console/cases/new", e.intakeForm(), nil, "Sec-Fetch-Site", "cross-site")
	assert.Equal(t, http.StatusForbidden, w.Code)
	assert.Len(t, e.cases(t), before, "nothing registered")

	// The supervisor works every project.
	sup := e.signedIn(t, "supervisor")
	w = sup.postMultipart("/console/cases/new", form, nil)
	assert.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
}

// intakeAPI is lifecycleEnv's API ready for registration, 张三 holding
// 3-2-1502, with his Telegram account.
func newIntakeAPI(t *testing.T) (*lifecycleEnv, *bot.FileBlobStore) {
	t.Helper()
	e := newLifecycleEnv(t)
	blobs := withIntake(t, e.apiEnv, console.Config{APIToken: testToken, PartyTokens: map[string]string{fs01Token: "FS01"}})
	require.NoError(t, e.store.BindOwnerUnit(t.Context(), e.owner.ID, e.unit.ID))
	return e, blobs
}

func TestAPIRegisterCase(t *testing.T) {
	t.Parallel()
	e, _ := newIntakeAPI(t)
	body := `{"channel":"hotline","owner_id":` + itoa(e.owner.ID) + `,"location":"bathroom","description":"卫生间天花板渗水，越来越严重","occurred":"3天前","expectation":"尽快修好"}`
	w := e.post(t, "/api/v1/cases", body)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	var got struct {
		Case map[string]any `json:"case"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
	c := got.Case
	assert.Equal(t, "hotline", c["channel"])
	assert.Equal(t, "service:api", c["received_by"])
	assert.Equal(t, "engineering_quality", c["category"], "read from the description")
	assert.Equal(t, "leak", c["subcategory"])
	assert.Equal(t, float64(e.unit.ID), c["unit_id"], "the owner's one unit")
	assert.Equal(t, "registered", c["state"], "no routing rule: it waits for staff")
	assert.Nil(t, c["responded_at"], "the API's service account is no person")
	number, _ := c["number"].(string)
	require.NotEmpty(t, number)

	// The owner's Telegram account is told the number.
	d := getDetail(t, e.apiEnv, number)
	outbox, _ := d.Case["outbox"].([]any)
	var purposes []string
	for _, m := range outbox {
		purposes = append(purposes, m.(map[string]any)["purpose"].(string))
	}
	assert.Contains(t, purposes, "intake")
}

func TestAPIRegisterCaseRefusals(t *testing.T) {
	t.Parallel()
	e, _ := newIntakeAPI(t)
	before := len(e.cases(t))
	owner := itoa(e.owner.ID)
	for _, tc := range []struct {
		body, field string
	}{
		{`{"channel":"wechat","owner_id":` + owner + `,"description":"卫生间天花板渗水"}`, "channel"},
		{`{"channel":"hotline","owner_id":` + owner + `}`, "description"},
		{`{"channel":"hotline","unit_id":999999,"description":"卫生间天花板渗水"}`, "unit_id"},
		{`{"channel":"hotline","owner_id":` + owner + `,"description":"卫生间天花板渗水","category":"roof"}`, "category"},
		{`{"channel":"hotline","owner_id":` + owner + `,"description":"卫生间天花板渗水","bogus":1}`, "body"},
		{`not json`, "body"},
	} {
		requireError(t, e.post(t, "/api/v1/cases", tc.body), http.StatusBadRequest, "invalid", tc.field)
	}
	w := e.do(t, http.MethodPost, "/api/v1/cases", fs01Token, strings.NewReader(`{"channel":"hotline","owner_id":`+owner+`,"description":"卫生间天花板渗水"}`))
	requireError(t, w, http.StatusForbidden, "forbidden", "")
	assert.Len(t, e.cases(t), before, "nothing registered")

	off := buildLifecycleEnv(t, false)
	requireError(t, off.post(t, "/api/v1/cases", `{}`), http.StatusServiceUnavailable, "unavailable", "")
}

// postFile posts files to a case's media with token.
func (e *apiEnv) postFile(t *testing.T, number, token string, files ...upload) *httptest.ResponseRecorder {
	t.Helper()
	body, ct := multipartBody(t, nil, files...)
	r := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/api/v1/cases/"+number+"/media", body)
	r.Header.Set("Content-Type", ct)
	r.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, r)
	return w
}

func TestAPIAddCaseMedia(t *testing.T) {
	t.Parallel()
	e, blobs := newIntakeAPI(t)
	number := e.onTime.Number
	w := e.postFile(t, number, testToken, upload{"file", "crack.png", pngPhoto(t)})
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	var got struct {
		Media map[string]any `json:"media"`
		Case  map[string]any `json:"case"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
	assert.Equal(t, "photo", got.Media["kind"])
	assert.Equal(t, "image/png", got.Media["content_type"])
	assert.NotZero(t, got.Media["id"])
	key, _ := got.Media["blob_key"].(string)
	rc, err := blobs.Open(t.Context(), key)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	d := getDetail(t, e.apiEnv, number)
	assert.Len(t, d.Case["media"], 1)
	assert.Equal(t, "media", d.last()["kind"])
	assert.Equal(t, "service:api", d.last()["actor"])

	requireError(t, e.postFile(t, number, testToken, upload{"file", "notes.txt", []byte("a letter typed out")}), http.StatusBadRequest, "invalid", "file")
	requireError(t, e.postFile(t, number, testToken, upload{"file", "a.png", pngPhoto(t)}, upload{"file", "b.png", pngPhoto(t)}), http.StatusBadRequest, "invalid", "file")
	requireError(t, e.postFile(t, number, testToken), http.StatusBadRequest, "invalid", "file")
	requireError(t, e.postFile(t, number, testToken, upload{"photo", "a.png", pngPhoto(t)}), http.StatusBadRequest, "invalid", "photo")
	big := append(pngPhoto(t), make([]byte, bot.MaxMediaMB<<20)...)
	w = e.postFile(t, number, testToken, upload{"file", "big.png", big})
	assert.Contains(t, []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge}, w.Code, w.Body.String())
	requireError(t, e.post(t, "/api/v1/cases/"+number+"/media", `{"file":"x"}`), http.StatusBadRequest, "invalid", "file")
	requireError(t, e.postFile(t, "SH-NOPE", testToken, upload{"file", "a.png", pngPhoto(t)}), http.StatusNotFound, "not_found", "")
	requireError(t, e.postFile(t, e.overdue.Number, fs01Token, upload{"file", "a.png", pngPhoto(t)}), http.StatusForbidden, "forbidden", "")
	assert.Len(t, getDetail(t, e.apiEnv, number).Case["media"], 1, "nothing else was added")
}
