package console_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/console"
	"github.com/aftersales/aftersales/internal/benchtest"
	"github.com/aftersales/aftersales/internal/pgtest"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/staff"
	"github.com/aftersales/aftersales/storage/postgres"
)

// benchCases is how many cases BenchmarkConsole seeds.
const benchCases = 100_000

// BenchmarkConsole measures the staff console's pages over PostgreSQL with
// 100,000 cases received over the two years before the tests' date, seeded
// once for all its sub-benchmarks (see seedConsole). Each sub-benchmark asks
// for one page again and again, as a signed-in browser does, and reports the
// 50th and 95th percentile of the time the console takes to answer, in µs:
//
//   - queue/…: the case list (50 a page) of a supervisor, who sees every
//     project: page 1 and page 200 unfiltered, by state, by urgency, the
//     overdue cases, a text search; queue/agent is an agent's page 1,
//     scoped to one project;
//   - case: the page of a case picked at random (its timeline, media,
//     messages; an entry in the audit log);
//   - dashboard, dashboard/agent: the four counts of the dashboard.
//
// The targets are a p95 of 100 ms for a page of the list and 50 ms for a
// case's page, the dashboard too. Run it with
//
//	go test -run xxx -bench Console -benchtime 200x ./console/
//
// Without a reachable test database it is skipped (see pgtest).
func BenchmarkConsole(b *testing.B) {
	e := newConsoleBench(b)
	pick := rand.New(rand.NewPCG(7, 11))
	page := func(target string) func() string { return func() string { return target } }
	// What each page shows when it works: a list's rows, the case's
	// number, a tile of the dashboard in red (there are overdue cases).
	row := func(string) string { return `<td><a href="/console/cases/` }
	number := func(path string) string { return "<h1>" + strings.TrimPrefix(path, "/console/cases/") + " " }
	alert := func(string) string { return `class="tile alert"` }
	for _, bc := range []struct {
		name    string
		cookies []*http.Cookie
		target  func() string
		want    func(path string) string
	}{
		{"queue/page=1", e.supervisor, page("/console/cases"), row},
		{"queue/page=200", e.supervisor, page("/console/cases?page=200"), row},
		{"queue/state=dispatched", e.supervisor, page("/console/cases?state=dispatched"), row},
		{"queue/urgency=urgent", e.supervisor, page("/console/cases?urgency=urgent"), row},
		{"queue/overdue", e.supervisor, page("/console/cases?overdue=true"), row},
		{"queue/q=渗水", e.supervisor, page("/console/cases?q=" + url.QueryEscape("渗水")), row},
		{"queue/agent", e.agent, page("/console/cases"), row},
		{"queue/oldest", e.supervisor, page("/console/cases?sort=oldest&page=50"), row},
		{"queue/unanswered", e.supervisor, page("/console/cases?unanswered=true"), row},
		{"queue/due", e.supervisor, page("/console/cases?sort=due&open=true"), row},
		{"queue/due/agent", e.agent, page("/console/cases?sort=due"), row},
		{"case", e.supervisor, func() string { return "/console/cases/" + e.numbers[pick.IntN(len(e.numbers))] }, number},
		{"dashboard", e.supervisor, page("/console/"), alert},
		{"dashboard/agent", e.agent, page("/console/"), alert},
	} {
		b.Run(bc.name, func(b *testing.B) { e.measure(b, bc.cookies, bc.target, bc.want) })
	}
}

// consoleBench is the console over a seeded PostgreSQL schema, with the
// cookies of two signed-in browsers.
type consoleBench struct {
	srv http.Handler
	// supervisor sees every project; agent, only 绿水园 (LSY).
	supervisor, agent []*http.Cookie
	numbers           []string // of every case
}

// newConsoleBench builds the console over a fresh schema seeded with
// benchCases cases, and signs in a supervisor and an agent.
func newConsoleBench(b *testing.B) *consoleBench {
	b.Helper()
	ctx := b.Context()
	_, dbURL := pgtest.NewSchema(b)
	clock := testclock.NewRunning(testclock.Start())
	db, err := postgres.Open(ctx, dbURL, postgres.Options{NowFunc: clock.Now})
	require.NoError(b, err)
	b.Cleanup(func() { _ = db.Close() })
	require.NoError(b, db.Migrate(ctx))

	start := time.Now()
	// The cases as of the start of the clock, so that every run seeds the
	// same ones.
	seed := seedConsole(b, db, testclock.Start())
	b.Logf("seeded %d cases, %d events, %d attachments in %v; %s",
		len(seed.numbers), seed.events, seed.media, time.Since(start).Round(time.Millisecond), seed.summary)

	svc := staff.New(staff.Config{Store: db, NowFunc: clock.Now})
	for _, u := range []*staff.User{
		{Username: "supervisor", DisplayName: "王主管", Role: staff.RoleSupervisor},
		{Username: "agent", DisplayName: "李客服", Role: staff.RoleAgent, ProjectIDs: []int64{seed.projects["LSY"]}},
	} {
		require.NoError(b, svc.AddUser(ctx, u, uiPassword, "test"))
	}
	e := &consoleBench{
		srv:     console.New(console.Config{Store: db, NowFunc: clock.Now, Staff: svc, Media: fakeMedia{}}),
		numbers: seed.numbers,
	}
	e.supervisor, e.agent = e.signIn(b, "supervisor"), e.signIn(b, "agent")
	return e
}

// signIn posts the login form as a browser does and returns the cookies it
// is given.
func (e *consoleBench) signIn(b *testing.B, user string) []*http.Cookie {
	b.Helper()
	form := url.Values{"username": {user}, "password": {uiPassword}, "next": {"/console/"}}
	r := httptest.NewRequestWithContext(b.Context(), http.MethodPost, "/console/login", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, r)
	require.Equal(b, http.StatusSeeOther, w.Code, w.Body.String())
	cookies := w.Result().Cookies()
	require.NotEmpty(b, cookies)
	return cookies
}

// measure gets the page target names, with cookies, b.N times, checks that
// each shows want of its path, and reports the percentiles of the answer
// times.
func (e *consoleBench) measure(b *testing.B, cookies []*http.Cookie, target func() string, want func(path string) string) {
	durations := make([]time.Duration, 0, b.N)
	for b.Loop() {
		path := target()
		r := httptest.NewRequestWithContext(b.Context(), http.MethodGet, path, nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		start := time.Now()
		e.srv.ServeHTTP(w, r)
		durations = append(durations, time.Since(start))
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), want(path)) {
			b.Fatalf("GET %s: %d, without %q\n%s", path, w.Code, want(path), w.Body.String())
		}
	}
	benchtest.ReportPercentiles(b, durations, 0.50, 0.95)
}

// consoleSeed is what seedConsole stored.
type consoleSeed struct {
	projects      map[string]int64 // ID by code
	numbers       []string
	events, media int
	summary       string // how the cases spread over the states
}

// seedProject is a project of the seeded registry: its share of the cases.
type seedProject struct {
	code, name string
	share      float64
}

var seedProjects = []seedProject{{"HJY", "海景苑", 0.5}, {"LSY", "绿水园", 0.3}, {"JGF", "金桂府", 0.2}}

// The registry's shape: per project, buildings × entrances × floors × rooms
// per floor units, each with its owner.
const (
	seedBuildings = 8
	seedEntrances = 2
	seedFloors    = 17 // 2F–18F
	seedRooms     = 2
)

// seedParties are the responsible parties, each with one engineer; partyFor
// routes a subcategory to one of them.
var seedParties = []casework.PartyRecord{
	{Code: "HXJS", Name: "华信建设集团有限公司", Kind: casework.PartyContractor, Trade: "general", MemberName: "吴海涛"},
	{Code: "DYFS", Name: "东雨防水工程有限公司", Kind: casework.PartyContractor, Trade: "waterproofing", MemberName: "孙立军"},
	{Code: "MCMC", Name: "明辰门窗有限公司", Kind: casework.PartySupplier, Trade: "doors_windows", MemberName: "郑晓东"},
	{Code: "TLDT", Name: "通力电梯有限公司", Kind: casework.PartyMaintenance, Trade: "lift", MemberName: "冯志强"},
	{Code: "JYWY", Name: "锦悦物业服务有限公司", Kind: casework.PartyPropertyManagement, Trade: "property", MemberName: "陈晓梅"},
	{Code: "HDSJ", Name: "华东建筑设计研究院", Kind: casework.PartyDesignFirm, Trade: "design", MemberName: "何志远"},
}

func partyFor(sub casework.Subcategory, cat casework.Category) string {
	switch {
	case sub == casework.SubLeak:
		return "DYFS"
	case sub == casework.SubDoorWindow:
		return "MCMC"
	case sub == casework.SubLift:
		return "TLDT"
	case cat == casework.CategoryDesignDefect:
		return "HDSJ"
	case cat == casework.CategoryFacilitiesEquipment:
		return "JYWY"
	}
	return "HXJS"
}

// What owners write, by subcategory; seedText adds a remark to some.
var seedDescriptions = map[casework.Subcategory][]string{
	casework.SubLeak: {"卫生间天花板渗水", "主卧飘窗下方墙面渗水，墙皮起泡", "阳台顶部渗水，下雨天滴水", "厨房水槽下方管道漏水",
		"外墙渗水导致次卧墙面发霉", "客厅窗台渗水", "地下室墙角渗水"},
	casework.SubCrack:              {"客厅墙面出现多条裂缝", "卧室地面瓷砖开裂", "阳台墙角裂缝越来越宽", "楼梯间墙面开裂"},
	casework.SubDoorWindow:         {"入户门关不严，门锁卡顿", "主卧窗户密封条脱落，漏风", "阳台推拉门滑轮损坏", "卫生间门变形关不上"},
	casework.SubPlumbing:           {"卫生间下水慢，地漏返味", "厨房下水管堵塞", "马桶水箱一直漏水", "热水器进水管接头松动"},
	casework.SubElectrical:         {"客厅插座没电", "卫生间浴霸开关跳闸", "厨房灯不亮，线路可能有问题", "配电箱漏电保护器频繁跳闸"},
	casework.SubStructural:         {"阳台栏杆松动", "梁底出现裂缝", "楼板有明显振动感"},
	casework.SubDecoration:         {"吊顶石膏板脱落", "木地板起拱", "墙面乳胶漆大面积脱落", "卫生间墙砖空鼓"},
	casework.SubLayout:             {"厨房排烟道位置不合理", "次卧门与衣柜位置冲突"},
	casework.SubMissingFunction:    {"阳台没有预留洗衣机下水", "卫生间没有预留排风口"},
	casework.SubLift:               {"电梯经常停运", "电梯运行有异响", "电梯按键失灵"},
	casework.SubFire:               {"楼道消防栓无水", "烟感报警器误报"},
	casework.SubIntercom:           {"楼宇对讲无法开门", "可视对讲屏幕黑屏"},
	casework.SubHeating:            {"地暖不热", "暖气片漏水"},
	casework.SubCooling:            {"新风系统噪音大", "空调冷凝水管漏水"},
	casework.SubInUnitEquip:        {"燃气灶无法点火", "油烟机吸力不足"},
	casework.SubPropertyManagement: {"物业保洁不及时，楼道垃圾堆积", "物业对报修推诿"},
	casework.SubStaff:              {"客服电话多次无人接听", "客服态度生硬"},
	casework.SubContractor:         {"维修工人上门未戴鞋套，弄脏地面", "施工队多次爽约"},
	casework.SubCertificate:        {"询问不动产权证办理进度", "产权证面积与合同不符"},
	casework.SubFees:               {"咨询物业费收费标准", "契税发票何时开具"},
	casework.SubSuggestion:         {"建议小区增加充电桩", "建议增加儿童游乐设施"},
	casework.SubPraise:             {"表扬维修师傅认真负责", "感谢客服及时处理"},
	casework.SubOther:              {"小区绿化被破坏", "楼下商铺噪音扰民", "其他问题，请电话联系"},
}

var (
	seedRemarks      = []string{"", "", "", "，已持续一周", "，影响正常使用", "，请尽快处理", "，多次反映未解决"}
	seedExpectations = []string{"尽快上门维修", "希望彻底解决，不要反复", "要求赔偿损失", "请先电话联系", "", ""}
	seedContactTimes = []string{"工作日晚上", "周末全天", "随时", "上午九点到十二点", ""}
	seedOccurred     = []string{"今天", "昨天", "三天前", "上周", "一个月前", ""}
	seedDetails      = map[casework.Location][]string{
		casework.LocationLivingRoom: {"电视墙", "靠窗一侧", ""},
		casework.LocationBedroom:    {"主卧靠窗一侧", "次卧衣柜后", ""},
		casework.LocationKitchen:    {"水槽下方", "燃气表旁", ""},
		casework.LocationBathroom:   {"淋浴区上方", "马桶后方", ""},
		casework.LocationBalcony:    {"阳台顶部", "地漏附近", ""},
		casework.LocationPublicArea: {"一楼大堂", "地下车库B2", "电梯厅"},
		casework.LocationExterior:   {"北侧外墙", "屋面"},
		casework.LocationOther:      {""},
	}
	seedSurnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾")
	seedGiven    = []string{"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "桂英", "建华", "志强", "海燕", "晓东", "文博", "子涵", "雨轩", "欣怡", "浩然"}
	seedStaff    = []casework.Actor{casework.Staff("wangli"), casework.Staff("zhaomin"), casework.Staff("liujie"), casework.Staff("chenyu")}
	seedNotes    = []string{"已电话联系业主，约定上门时间", "等待材料到货", "业主不在家，改约", "已与施工单位确认维修方案", "回访业主，问题已解决"}
)

// weighted picks an index by weight.
func weighted(r *rand.Rand, weights ...float64) int {
	x := r.Float64() * sumOf(weights)
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

func sumOf(ws []float64) float64 {
	var s float64
	for _, w := range ws {
		s += w
	}
	return s
}

func oneOf[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// between is a random duration in [lo, hi).
func between(r *rand.Rand, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(r.Int64N(int64(hi-lo)))
}

func seedName(r *rand.Rand) string {
	return string(oneOf(r, seedSurnames)) + oneOf(r, seedGiven)
}

// seedUnit is a unit of the registry with its owner.
type seedUnit struct {
	id, projectID, buildingID, ownerID int64
	ownerName, ownerPhone              string
}

// seedCase is a case to store: the row, its timeline and its media.
type seedCase struct {
	c      casework.Case
	events []casework.Event
	survey *casework.Survey
}

// seedConsole fills an empty, migrated schema: the registry (three projects
// of 544 units, their owners, six parties with an engineer each) through
// db.Import, then benchCases cases with their timelines and attachments by
// COPY on db's pool, and VACUUM ANALYZE, as autovacuum would leave the
// tables after such a load.
//
// The cases are spread over the two years before now: 50/30/20 % over the
// projects, by category and subcategory (most are leaks, cracks and doors),
// 80 % normal, 15 % urgent, 5 % major complaints. Each case goes through
// the workflow (casework.Case.Apply) at a realistic pace until now: most
// old ones are closed; a few were rejected, cancelled, put on hold,
// reopened, or got stuck (and are overdue), and the recent ones are on
// their way, a few of them late. A case with an owner on record has the
// owner's name; a case dispatched (about half) has a party and an
// engineer; half of the building defects have photos or a video; some have
// notes or an owner's urging on their timeline.
func seedConsole(b *testing.B, db *postgres.DB, now time.Time) *consoleSeed {
	b.Helper()
	ctx := b.Context()
	pool := db.Pool()
	seed := &consoleSeed{projects: map[string]int64{}}

	units, parties, members := seedRegistry(b, db, pool, seed)
	r := rand.New(rand.NewPCG(2026, 11))
	cases := make([]*seedCase, benchCases)
	for i := range cases {
		cases[i] = newSeedCase(r, now, seed.projects, units, parties, members)
	}
	// Number them as CreateCase would: per day, in the order received.
	slices.SortFunc(cases, func(a, b *seedCase) int { return a.c.ReceivedAt.Compare(b.c.ReceivedAt) })
	numbering := casework.DefaultNumbering()
	counters := map[string]int64{}
	seed.numbers = make([]string, len(cases))
	for i, sc := range cases {
		day := numbering.Day(sc.c.ReceivedAt)
		counters[day]++
		sc.c.Number = numbering.Format(day, counters[day])
		seed.numbers[i] = sc.c.Number
	}

	copyRows(b, pool, "cases", []string{"number", "version", "project_id", "building_id", "unit_id", "owner_id",
		"owner_name", "owner_phone", "location", "location_detail", "description", "occurred_text", "expectation", "contact_time",
		"channel", "received_at", "received_by", "category", "subcategory", "urgency", "responsibility", "decision_reason",
		"party_id", "assignee_id", "warranty_status", "reporter_platform", "reporter_user_id", "identity_verified",
		"state", "held_from", "repair_count", "respond_by", "on_site_by", "resolve_by",
		"responded_at", "on_site_at", "resolved_at", "closed_at",
		"survey_speed", "survey_attitude", "survey_quality", "survey_at", "created_at", "updated_at", "last_event_seq"},
		len(cases), func(i int) []any {
			sc := cases[i]
			c := &sc.c
			var speed, attitude, quality, surveyAt any
			if s := sc.survey; s != nil {
				speed, attitude, quality, surveyAt = s.Speed, s.Attitude, s.Quality, s.AnsweredAt
			}
			transitions := 0
			for _, e := range sc.events {
				if e.Kind == casework.EventTransition {
					transitions++
				}
			}
			return []any{c.Number, 1 + transitions, c.ProjectID, nullID(c.BuildingID), nullID(c.UnitID), nullID(c.OwnerID),
				c.OwnerName, c.OwnerPhone, c.Location, c.LocationDetail, c.Description, c.OccurredText, c.Expectation, c.ContactTime,
				c.Channel, c.ReceivedAt, c.ReceivedBy, c.Category, c.Subcategory, c.Urgency, c.Responsibility, c.DecisionReason,
				nullID(c.PartyID), nullID(c.AssigneeID), c.WarrantyStatus, c.ReporterPlatform, c.ReporterUserID, c.IdentityVerified,
				c.State, c.HeldFrom, c.RepairCount, c.RespondBy, c.OnSiteBy, c.ResolveBy,
				c.RespondedAt, c.OnSiteAt, c.ResolvedAt, c.ClosedAt,
				speed, attitude, quality, surveyAt, c.ReceivedAt, sc.events[len(sc.events)-1].At, len(sc.events)}
		})

	// The IDs the cases were given, for their events and media.
	ids := make(map[string]int64, len(cases))
	rows, err := pool.Query(ctx, `SELECT number, id FROM cases`)
	require.NoError(b, err)
	var number string
	var id int64
	_, err = pgx.ForEachRow(rows, []any{&number, &id}, func() error { ids[number] = id; return nil })
	require.NoError(b, err)

	type eventRow struct {
		caseID int64
		e      *casework.Event
	}
	var events []eventRow
	var media []casework.MediaRef
	for _, sc := range cases {
		for i := range sc.events {
			events = append(events, eventRow{ids[sc.c.Number], &sc.events[i]})
		}
		for _, m := range sc.c.Media {
			m.CaseID = ids[sc.c.Number]
			media = append(media, m)
		}
	}
	copyRows(b, pool, "case_events", []string{"case_id", "seq", "at", "actor", "kind", "action", "from_state", "to_state", "note"},
		len(events), func(i int) []any {
			e := events[i].e
			return []any{events[i].caseID, e.Seq, e.At, e.Actor, e.Kind, e.Action, e.From, e.To, e.Note}
		})
	copyRows(b, pool, "case_media", []string{"case_id", "kind", "blob_key", "content_type", "size", "created_at"},
		len(media), func(i int) []any {
			m := media[i]
			return []any{m.CaseID, m.Kind, m.BlobKey, m.ContentType, m.Size, m.CreatedAt}
		})
	days := make([]string, 0, len(counters))
	for day := range counters {
		days = append(days, day)
	}
	copyRows(b, pool, "case_counters", []string{"day", "last"}, len(days), func(i int) []any {
		return []any{days[i], counters[days[i]]}
	})
	seed.events, seed.media = len(events), len(media)

	_, err = pool.Exec(ctx, `VACUUM ANALYZE cases, case_events, case_media, case_counters`)
	require.NoError(b, err)

	// The spread, for the report.
	byState := map[casework.State]int{}
	overdue, withParty := 0, 0
	for _, sc := range cases {
		byState[sc.c.State]++
		if sc.c.Overdue(now) {
			overdue++
		}
		if sc.c.PartyID != 0 {
			withParty++
		}
	}
	var parts []string
	for _, s := range casework.States {
		if n := byState[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, n))
		}
	}
	seed.summary = fmt.Sprintf("with a party %d, overdue %d; %s", withParty, overdue, strings.Join(parts, ", "))
	return seed
}

// seedRegistry imports the projects, units, owners and parties and returns
// the units by project ID, and the parties' and their engineers' IDs by
// party code.
func seedRegistry(b *testing.B, db *postgres.DB, pool *pgxpool.Pool, seed *consoleSeed) (map[int64][]seedUnit, map[string]int64, map[string]int64) {
	b.Helper()
	ctx := b.Context()
	r := rand.New(rand.NewPCG(1, 2))
	batch := &casework.ImportBatch{}
	phone := 0
	for _, p := range seedProjects {
		for bld := 1; bld <= seedBuildings; bld++ {
			for ent := 1; ent <= seedEntrances; ent++ {
				for floor := 2; floor < 2+seedFloors; floor++ {
					for room := 1; room <= seedRooms; room++ {
						line := len(batch.Units) + 1
						rm := fmt.Sprintf("%d%02d", floor, room)
						batch.Units = append(batch.Units, casework.UnitRecord{Line: line, ProjectCode: p.code, ProjectName: p.name,
							ProjectCompletion: testclock.Day(2024, 6, 28), Building: strconv.Itoa(bld), Entrance: strconv.Itoa(ent),
							Floor: floor, Room: rm, Delivery: testclock.Day(2024, 9, 28)})
						phone++
						batch.Owners = append(batch.Owners, casework.OwnerRecord{Line: line, ProjectCode: p.code,
							Unit: fmt.Sprintf("%d-%d-%s", bld, ent, rm), Name: seedName(r), Phone: fmt.Sprintf("139%08d", phone)})
					}
				}
			}
		}
	}
	for i, p := range seedParties {
		p.Line = i + 1
		p.Phone = fmt.Sprintf("021-6000%04d", i+1)
		p.MemberPhone, p.MemberRole = fmt.Sprintf("1380000%04d", i+1), "engineer"
		batch.Parties = append(batch.Parties, p)
	}
	_, err := db.Import(ctx, batch)
	require.NoError(b, err)

	units := map[int64][]seedUnit{}
	rows, err := pool.Query(ctx, `SELECT u.id, u.project_id, u.building_id, o.id, o.name, o.phone
		FROM units u JOIN owner_units ou ON ou.unit_id = u.id JOIN owners o ON o.id = ou.owner_id ORDER BY u.id`)
	require.NoError(b, err)
	var u seedUnit
	_, err = pgx.ForEachRow(rows, []any{&u.id, &u.projectID, &u.buildingID, &u.ownerID, &u.ownerName, &u.ownerPhone}, func() error {
		units[u.projectID] = append(units[u.projectID], u)
		return nil
	})
	require.NoError(b, err)
	codes := func(query string, into map[string]int64) {
		rows, err := pool.Query(ctx, query)
		require.NoError(b, err)
		var code string
		var id int64
		_, err = pgx.ForEachRow(rows, []any{&code, &id}, func() error { into[code] = id; return nil })
		require.NoError(b, err)
	}
	parties, members := map[string]int64{}, map[string]int64{}
	codes(`SELECT code, id FROM projects`, seed.projects)
	codes(`SELECT code, id FROM parties`, parties)
	codes(`SELECT p.code, m.id FROM members m JOIN parties p ON p.id = m.party_id`, members)
	require.Len(b, seed.projects, len(seedProjects))
	require.Len(b, members, len(seedParties))
	return units, parties, members
}

// newSeedCase makes a case received within the two years before now and
// takes it through the workflow as far as it got by now.
func newSeedCase(r *rand.Rand, now time.Time, projects map[string]int64, units map[int64][]seedUnit, parties, members map[string]int64) *seedCase {
	sc := &seedCase{}
	c := &sc.c
	c.ProjectID = projects[seedProjects[weighted(r, 0.5, 0.3, 0.2)].code]
	c.ReceivedAt = now.Add(-between(r, time.Minute, 2*365*24*time.Hour)).UTC().Truncate(time.Second)
	c.Category = casework.Categories[weighted(r, 45, 5, 15, 8, 7, 5)]
	subs := casework.Subcategories[c.Category]
	if c.Category == casework.CategoryEngineeringQuality {
		// leak, crack, door_window, plumbing, electrical, structural, decoration, other
		c.Subcategory = subs[weighted(r, 30, 15, 15, 12, 10, 2, 12, 4)]
	} else {
		c.Subcategory = oneOf(r, subs)
	}
	c.Urgency = casework.Urgencies[weighted(r, 80, 15, 5)]
	c.Channel = casework.Channels[weighted(r, 40, 5, 25, 10, 3, 7, 10)]
	if c.Channel.Chat() {
		c.ReceivedBy = casework.ActorBot
		c.ReporterPlatform, c.ReporterUserID = string(c.Channel), fmt.Sprintf("u%07d", r.IntN(10_000_000))
		c.IdentityVerified = r.IntN(10) < 7
	} else {
		c.ReceivedBy = oneOf(r, seedStaff)
		c.IdentityVerified = true
	}

	pu := units[c.ProjectID]
	building := c.Category == casework.CategoryEngineeringQuality || c.Category == casework.CategoryDesignDefect || c.Category == casework.CategoryFacilitiesEquipment
	switch {
	case building && r.IntN(100) < 85, !building && r.IntN(100) < 60:
		u := oneOf(r, pu)
		c.UnitID, c.BuildingID, c.OwnerID, c.OwnerName, c.OwnerPhone = u.id, u.buildingID, u.ownerID, u.ownerName, u.ownerPhone
		c.Location = oneOf(r, casework.Locations[:5])
	default:
		// The public areas, or an owner not on record.
		c.OwnerName, c.OwnerPhone = seedName(r), fmt.Sprintf("137%08d", r.IntN(100_000_000))
		if building {
			c.BuildingID = oneOf(r, pu).buildingID
			c.Location = oneOf(r, []casework.Location{casework.LocationPublicArea, casework.LocationExterior})
		}
	}
	if c.Location == "" && building {
		c.Location = casework.LocationOther
	}
	if c.Location != "" {
		c.LocationDetail = oneOf(r, seedDetails[c.Location])
	}
	c.Description = oneOf(r, seedDescriptions[c.Subcategory]) + oneOf(r, seedRemarks)
	c.Expectation, c.ContactTime, c.OccurredText = oneOf(r, seedExpectations), oneOf(r, seedContactTimes), oneOf(r, seedOccurred)
	c.Responsibility, c.WarrantyStatus = casework.ResponsibilityUndetermined, casework.WarrantyNone
	if building {
		c.WarrantyStatus = casework.WarrantyIn
	}
	casework.DefaultSLAPolicy().SetDeadlines(c)
	c.State = casework.StateRegistered

	if building && r.IntN(2) == 0 {
		for k := range 1 + r.IntN(3) {
			m := casework.MediaRef{Kind: casework.MediaPhoto, ContentType: "image/jpeg", Size: 200_000 + r.Int64N(3_000_000), CreatedAt: c.ReceivedAt}
			if k == 0 && r.IntN(10) == 0 {
				m.Kind, m.ContentType, m.Size = casework.MediaVideo, "video/mp4", 5_000_000+r.Int64N(20_000_000)
			}
			m.BlobKey = fmt.Sprintf("cases/%s/%d", c.ReceivedAt.Format("20060102150405"), k+1)
			c.Media = append(c.Media, m)
		}
	}

	sc.events = append(sc.events, casework.Event{Seq: 1, At: c.ReceivedAt, Actor: c.ReceivedBy, Kind: casework.EventCreated, To: casework.StateRegistered})
	at := c.ReceivedAt
	party := partyFor(c.Subcategory, c.Category)
	engineer := casework.Actor("member:" + strconv.FormatInt(members[party], 10))
	owner := casework.ActorBot // the owner, through the chat
	if c.OwnerID != 0 {
		owner = casework.Actor("owner:" + strconv.FormatInt(c.OwnerID, 10))
	}
	for _, a := range seedPath(r, building) {
		if r.IntN(1000) == 0 {
			break // stuck: nobody took the next step
		}
		at = at.Add(seedDelay(r, a, c.Urgency))
		if at.After(now) {
			break
		}
		actor := oneOf(r, seedStaff)
		switch a {
		case casework.ActionSchedule, casework.ActionInspect, casework.ActionProposePlan, casework.ActionStartWork:
			actor = engineer
		case casework.ActionComplete:
			if c.PartyID != 0 {
				actor = engineer
			}
		case casework.ActionOwnerAccept, casework.ActionOwnerReject, casework.ActionAgreePlan, casework.ActionSurvey, casework.ActionCancel:
			actor = owner
		}
		from, err := c.Apply(a, at)
		if err != nil {
			panic(fmt.Sprintf("seed: %v", err)) // a path of seedPath is wrong
		}
		c.NoteContact(actor, at) // the first by a person is the response
		switch a {
		case casework.ActionDispatch:
			c.PartyID, c.AssigneeID = parties[party], members[party]
		case casework.ActionInspect:
			c.Responsibility = casework.ResponsibilityContractor
		case casework.ActionReject:
			c.DecisionReason = "超出保修范围"
		case casework.ActionSurvey:
			sc.survey = &casework.Survey{Speed: 3 + r.IntN(3), Attitude: 3 + r.IntN(3), Quality: 2 + r.IntN(4), AnsweredAt: at}
		}
		sc.events = append(sc.events, casework.Event{At: at, Actor: actor, Kind: casework.EventTransition, Action: a, From: from, To: c.State})
	}
	// Notes of the staff once they took the case, and an owner urging a
	// case that is late.
	if c.RespondedAt != nil {
		first, last := *c.RespondedAt, at
		if c.Open() {
			last = now
		}
		for range weighted(r, 80, 15, 5) {
			if e := (casework.Event{At: first.Add(between(r, time.Second, last.Sub(first)+2*time.Second)), Actor: oneOf(r, seedStaff),
				Kind: casework.EventNote, Note: oneOf(r, seedNotes)}); !e.At.After(now) {
				sc.events = append(sc.events, e)
			}
		}
	}
	if c.Overdue(now) && r.IntN(3) == 0 {
		sc.events = append(sc.events, casework.Event{At: now.Add(-between(r, time.Minute, 48*time.Hour)), Actor: owner,
			Kind: casework.EventUrge, Note: "业主来电催办"})
	}
	slices.SortStableFunc(sc.events, func(a, b casework.Event) int { return a.At.Compare(b.At) })
	for i := range sc.events {
		sc.events[i].Seq = i + 1
	}
	return sc
}

// seedPath is the actions a case would go through, were it never late:
// three building defects in four are dispatched, inspected and repaired;
// the rest are answered. A few are rejected, cancelled, put on hold, or
// reopened once.
func seedPath(r *rand.Rand, building bool) []casework.Action {
	repair := building && r.IntN(4) > 0
	const (
		accept, dispatch, schedule, inspect    = casework.ActionAccept, casework.ActionDispatch, casework.ActionSchedule, casework.ActionInspect
		complete, ownerAccept, survey, closeIt = casework.ActionComplete, casework.ActionOwnerAccept, casework.ActionSurvey, casework.ActionClose
	)
	var path []casework.Action
	if repair {
		path = []casework.Action{accept, dispatch, schedule, inspect}
		if r.IntN(2) == 0 {
			path = append(path, casework.ActionProposePlan, casework.ActionAgreePlan, casework.ActionStartWork)
		}
		path = append(path, complete)
		if r.IntN(100) < 4 {
			path = append(path, casework.ActionOwnerReject, dispatch, inspect, complete)
		}
	} else {
		path = []casework.Action{accept, complete}
	}
	path = append(path, ownerAccept)
	if r.IntN(10) < 6 {
		path = append(path, survey)
	}
	path = append(path, closeIt)
	// A case is cancelled or held before the work is done: after at most
	// the dispatch and the visit's booking of a repair, the acceptance of
	// the rest.
	before := 1
	if repair {
		before = 3
	}
	switch n := r.IntN(100); {
	case n < 3:
		return []casework.Action{casework.ActionReject, closeIt}
	case n < 6:
		return append(path[:r.IntN(before+1)], casework.ActionCancel)
	case n < 8:
		return append(path[:1+r.IntN(before)], casework.ActionHold)
	}
	return path
}

// seedDelay is how long after the previous step a case takes action a:
// most meet their deadlines, some do not.
func seedDelay(r *rand.Rand, a casework.Action, u casework.Urgency) time.Duration {
	const h, d = time.Hour, 24 * time.Hour
	urgent := u == casework.UrgencyUrgent
	switch a {
	case casework.ActionAccept, casework.ActionReject:
		switch {
		case urgent:
			return between(r, 5*time.Minute, 90*time.Minute)
		case r.IntN(10) == 0:
			return between(r, d, 3*d) // late
		}
		return between(r, h, 26*h)
	case casework.ActionDispatch:
		if urgent {
			return between(r, 5*time.Minute, h)
		}
		return between(r, h, 12*h)
	case casework.ActionSchedule:
		return between(r, h, d)
	case casework.ActionInspect:
		if urgent {
			return between(r, 30*time.Minute, 4*h)
		}
		return between(r, 2*h, 36*h)
	case casework.ActionProposePlan, casework.ActionAgreePlan, casework.ActionStartWork:
		return between(r, 12*h, 3*d)
	case casework.ActionComplete:
		if urgent {
			return between(r, h, 20*h)
		}
		return between(r, d, 6*d)
	case casework.ActionSurvey, casework.ActionClose:
		return between(r, 2*h, 3*d)
	}
	return between(r, h, 4*d)
}

// copyRows copies n rows, row(i) each, into table with COPY.
func copyRows(b *testing.B, pool *pgxpool.Pool, table string, cols []string, n int, row func(i int) []any) {
	b.Helper()
	copied, err := pool.CopyFrom(b.Context(), pgx.Identifier{table}, cols, pgx.CopyFromSlice(n, func(i int) ([]any, error) { return row(i), nil }))
	require.NoError(b, err, "copy %s", table)
	require.Equal(b, int64(n), copied, "copy %s", table)
}

// nullID is NULL for a zero ID.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
