package storagetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

// importBatch is a registry as a spreadsheet import would give it: two
// projects, three buildings, four units, two owners (one holding three
// units), two parties with two members, four routes.
func importBatch() *casework.ImportBatch {
	eq := casework.CategoryEngineeringQuality
	return &casework.ImportBatch{
		Units: []casework.UnitRecord{
			{Line: 2, ProjectCode: "HJY", ProjectName: "海景苑", ProjectCompletion: casework.D(2024, 6, 30), Building: "3", Entrance: "2", Floor: 15, Room: "1502", Delivery: casework.D(2024, 9, 1)},
			{Line: 3, ProjectCode: "HJY", ProjectName: "海景苑", Building: "3", Entrance: "2", Floor: 16, Room: "1602"},
			{Line: 4, ProjectCode: "HJY", ProjectName: "海景苑", Building: "5", BuildingCompletion: casework.D(2025, 3, 31), Floor: 3, Room: "301"},
			{Line: 5, ProjectCode: "LSY", ProjectName: "绿水园", Building: "1", Entrance: "1", Floor: 8, Room: "801"},
		},
		Owners: []casework.OwnerRecord{
			{Line: 2, ProjectCode: "HJY", Unit: "3-2-1502", Name: "张三", Phone: "13812345678"},
			{Line: 3, ProjectCode: "HJY", Unit: "3-2-1602", Name: "张三", Phone: "138 1234 5678"},
			{Line: 4, ProjectCode: "HJY", Unit: "5-301", Name: "Li Si", Phone: "+86 139 0000 1111"},
			{Line: 5, ProjectCode: "LSY", Unit: "1-1-801", Name: "张三", Phone: "13812345678"},
		},
		Parties: []casework.PartyRecord{
			{Line: 2, Code: "FS01", Name: "防水工程公司", Kind: casework.PartyContractor, Trade: "waterproofing", Phone: "021-61234567", MemberName: "王工", MemberPhone: "13700002222", MemberRole: "engineer"},
			{Line: 3, Code: "FS01", Name: "防水工程公司", Kind: casework.PartyContractor, Trade: "waterproofing", Phone: "021-61234567", MemberName: "李工", MemberPhone: "13700003333", MemberRole: "supervisor"},
			{Line: 4, Code: "WY01", Name: "物业公司", Kind: casework.PartyPropertyManagement},
		},
		Routes: []casework.RouteRecord{
			{Line: 2, ProjectCode: "HJY", Category: eq, PartyCode: "FS01"},
			{Line: 3, ProjectCode: "HJY", Building: "*", PartyCode: "WY01"},
			{Line: 4, ProjectCode: "HJY", Building: "5", Category: eq, Subcategory: casework.SubLeak, PartyCode: "FS01"},
			{Line: 5, ProjectCode: "LSY", PartyCode: "WY01"},
		},
	}
}

var importBatchStats = casework.ImportStats{Projects: 2, Buildings: 3, Units: 4, Owners: 2, Parties: 2, Members: 2, Routes: 4}

// registryCounts counts what a store holds, through the Store interface.
type registryCounts struct {
	Projects, Buildings, Units, Owners, Bindings, Parties, Members, Routes int
}

// countRegistry counts the registry; owners are counted through the phones
// given.
func countRegistry(t testing.TB, s casework.Store, phones ...string) registryCounts {
	t.Helper()
	ctx := t.Context()
	var n registryCounts
	projects, err := s.ListProjects(ctx)
	require.NoError(t, err)
	n.Projects = len(projects)
	for _, p := range projects {
		bs, err := s.ListBuildings(ctx, p.ID)
		require.NoError(t, err)
		n.Buildings += len(bs)
		rs, err := s.ListRoutes(ctx, p.ID)
		require.NoError(t, err)
		n.Routes += len(rs)
	}
	_, n.Units, err = s.FindUnits(ctx, casework.UnitFilter{})
	require.NoError(t, err)
	for _, ph := range phones {
		owners, err := s.FindOwnersByPhone(ctx, ph)
		require.NoError(t, err)
		n.Owners += len(owners)
		for _, o := range owners {
			us, err := s.OwnerUnits(ctx, o.ID)
			require.NoError(t, err)
			n.Bindings += len(us)
		}
	}
	parties, err := s.ListParties(ctx)
	require.NoError(t, err)
	n.Parties = len(parties)
	for _, p := range parties {
		ms, err := s.ListMembers(ctx, p.ID)
		require.NoError(t, err)
		n.Members += len(ms)
	}
	return n
}

var importPhones = []string{"13812345678", "13900001111", "13700009999"}

func testImport(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()

	stats, err := s.Import(ctx, importBatch())
	require.NoError(t, err)
	require.Equal(t, importBatchStats, stats)
	require.Equal(t, registryCounts{Projects: 2, Buildings: 3, Units: 4, Owners: 2, Bindings: 4, Parties: 2, Members: 2, Routes: 4},
		countRegistry(t, s, importPhones...))

	hjy, err := s.FindProjectByCode(ctx, "HJY")
	require.NoError(t, err)
	require.Equal(t, "海景苑", hjy.Name)
	require.Equal(t, casework.D(2024, 6, 30), hjy.CompletionDate)
	bs, err := s.ListBuildings(ctx, hjy.ID)
	require.NoError(t, err)
	require.Len(t, bs, 2)
	require.Equal(t, "3", bs[0].Code)
	require.True(t, bs[0].CompletionDate.IsZero())
	require.Equal(t, "5", bs[1].Code)
	require.Equal(t, casework.D(2025, 3, 31), bs[1].CompletionDate)

	units, n, err := s.FindUnits(ctx, casework.UnitFilter{ProjectID: hjy.ID})
	require.NoError(t, err)
	require.Equal(t, 3, n)
	require.Equal(t, []string{"3-2-1502", "3-2-1602", "5-301"}, labels(units))
	require.Equal(t, 15, units[0].Floor)
	require.Equal(t, casework.D(2024, 9, 1), units[0].DeliveryDate)
	require.Equal(t, bs[1].ID, units[2].BuildingID)

	owners, err := s.FindOwnersByPhone(ctx, "13812345678")
	require.NoError(t, err)
	require.Len(t, owners, 1, "one owner matched by name and phone across lines")
	require.Equal(t, "张三", owners[0].Name)
	held, err := s.OwnerUnits(ctx, owners[0].ID)
	require.NoError(t, err)
	require.Len(t, held, 3)
	owners, err = s.FindOwnersByPhone(ctx, "13900001111")
	require.NoError(t, err)
	require.Len(t, owners, 1)
	require.Equal(t, "Li Si", owners[0].Name)

	fs, err := s.FindPartyByCode(ctx, "FS01")
	require.NoError(t, err)
	require.Equal(t, casework.PartyContractor, fs.Kind)
	require.Equal(t, "waterproofing", fs.Trade)
	require.Equal(t, "021-61234567", fs.Phone)
	ms, err := s.ListMembers(ctx, fs.ID)
	require.NoError(t, err)
	require.Len(t, ms, 2)
	require.Equal(t, "王工", ms[0].Name)
	require.Equal(t, "engineer", ms[0].Role)
	require.Equal(t, "13700003333", ms[1].Phone)
	wy, err := s.FindPartyByCode(ctx, "WY01")
	require.NoError(t, err)

	routes, err := s.ListRoutes(ctx, hjy.ID)
	require.NoError(t, err)
	require.Len(t, routes, 3)
	r, err := casework.ResolveRoute(routes, hjy.ID, bs[1].ID, casework.CategoryEngineeringQuality, casework.SubLeak)
	require.NoError(t, err)
	require.Equal(t, fs.ID, r.PartyID)
	require.Equal(t, bs[1].ID, r.BuildingID)
	r, err = casework.ResolveRoute(routes, hjy.ID, bs[0].ID, casework.CategoryEngineeringQuality, casework.SubCrack)
	require.NoError(t, err)
	require.Equal(t, fs.ID, r.PartyID)
	require.Zero(t, r.BuildingID)
	r, err = casework.ResolveRoute(routes, hjy.ID, bs[0].ID, casework.CategoryPolicyConsultation, casework.SubFees)
	require.NoError(t, err)
	require.Equal(t, wy.ID, r.PartyID, `building "*" means every building`)
	require.Zero(t, r.BuildingID)

	// An empty batch stores nothing and is no error.
	stats, err = s.Import(ctx, &casework.ImportBatch{})
	require.NoError(t, err)
	require.Zero(t, stats)
}

func labels(units []*casework.Unit) []string {
	out := make([]string, len(units))
	for i, u := range units {
		out[i] = u.Label()
	}
	return out
}

func testImportUpsert(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()

	// A project created by hand keeps what the import does not carry.
	terms := casework.WarrantyTerms{Promised: map[casework.Part]casework.Period{casework.PartWaterproofing: {Years: 8}}}
	require.NoError(t, s.CreateProject(ctx, &casework.Project{Code: "HJY", Name: "旧名", City: "上海", Warranty: terms}))

	stats, err := s.Import(ctx, importBatch())
	require.NoError(t, err)
	require.Equal(t, importBatchStats, stats, "the existing project counts as updated")
	before := countRegistry(t, s, importPhones...)

	// The same file again, with names changed, dates left out, and a route
	// moved to the other party.
	b := importBatch()
	for i := range b.Units {
		if b.Units[i].ProjectCode == "HJY" {
			b.Units[i].ProjectName = "海景苑一期"
		}
		b.Units[i].ProjectCompletion, b.Units[i].BuildingCompletion, b.Units[i].Delivery = casework.Date{}, casework.Date{}, casework.Date{}
	}
	b.Units[1].Floor = 17
	b.Parties[0].Name, b.Parties[1].Name = "防水公司", "防水公司"
	b.Parties[1].MemberName = "李总工"
	b.Routes[0].PartyCode = "WY01"
	stats, err = s.Import(ctx, b)
	require.NoError(t, err)
	require.Equal(t, importBatchStats, stats, "same stats on re-import")
	require.Equal(t, before, countRegistry(t, s, importPhones...), "no duplicates")

	hjy, err := s.FindProjectByCode(ctx, "HJY")
	require.NoError(t, err)
	require.Equal(t, "海景苑一期", hjy.Name, "name updated")
	require.Equal(t, "上海", hjy.City)
	require.Equal(t, casework.D(2024, 6, 30), hjy.CompletionDate, "a zero date leaves the stored one alone")
	require.Equal(t, terms, hjy.Warranty, "an import leaves the warranty terms alone")
	units, _, err := s.FindUnits(ctx, casework.UnitFilter{ProjectID: hjy.ID})
	require.NoError(t, err)
	require.Equal(t, casework.D(2024, 9, 1), units[0].DeliveryDate)
	require.Equal(t, 17, units[1].Floor)
	bs, err := s.ListBuildings(ctx, hjy.ID)
	require.NoError(t, err)
	require.Equal(t, casework.D(2025, 3, 31), bs[1].CompletionDate)

	fs, err := s.FindPartyByCode(ctx, "FS01")
	require.NoError(t, err)
	require.Equal(t, "防水公司", fs.Name)
	ms, err := s.ListMembers(ctx, fs.ID)
	require.NoError(t, err)
	require.Len(t, ms, 2)
	require.Equal(t, "李总工", ms[1].Name, "member matched by phone, name updated")
	wy, err := s.FindPartyByCode(ctx, "WY01")
	require.NoError(t, err)
	routes, err := s.ListRoutes(ctx, hjy.ID)
	require.NoError(t, err)
	r, err := casework.ResolveRoute(routes, hjy.ID, bs[0].ID, casework.CategoryEngineeringQuality, casework.SubCrack)
	require.NoError(t, err)
	require.Equal(t, wy.ID, r.PartyID, "route's party updated")
}

func testImportUnknownReferences(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()
	_, err := s.Import(ctx, importBatch())
	require.NoError(t, err)
	before := countRegistry(t, s, importPhones...)

	eq := casework.CategoryEngineeringQuality
	bad := &casework.ImportBatch{
		Units: []casework.UnitRecord{
			// A new project needs a name; the lines after it are still checked.
			{Line: 13, ProjectCode: "BAD", Building: "1", Floor: 1, Room: "101"},
			{Line: 14, ProjectCode: "HJY", ProjectName: "海景苑", Building: "3", Entrance: "2", Floor: 1, Room: "1 01"}, // bad room
			// Good on its own: must not be stored when the batch fails.
			{Line: 2, ProjectCode: "HJY", ProjectName: "海景苑", Building: "3", Entrance: "2", Floor: 17, Room: "1702"},
			{Line: 3, ProjectCode: "NEW", ProjectName: "新项目", Building: "1", Floor: 1, Room: "101"},
		},
		Owners: []casework.OwnerRecord{
			{Line: 4, ProjectCode: "HJY", Unit: "9-9-999", Name: "王五", Phone: "13700009999"},  // unknown unit
			{Line: 5, ProjectCode: "NOPE", Unit: "1-1-101", Name: "王五", Phone: "13700009999"}, // unknown project
			{Line: 6, ProjectCode: "HJY", Unit: "3-2-1702", Name: "王五", Phone: "13700009999"}, // good: unit of this batch
			{Line: 7, ProjectCode: "HJY", Unit: "3-2-1502", Name: "王五", Phone: "12345"},       // bad phone
		},
		Parties: []casework.PartyRecord{
			{Line: 8, Code: "NEW01", Name: "新单位", Kind: casework.PartySupplier}, // good
		},
		Routes: []casework.RouteRecord{
			{Line: 9, ProjectCode: "NOPE", Category: eq, PartyCode: "FS01"},                       // unknown project
			{Line: 10, ProjectCode: "HJY", Building: "77", Category: eq, PartyCode: "FS01"},       // unknown building
			{Line: 11, ProjectCode: "HJY", Category: casework.CategoryOther, PartyCode: "NOPE01"}, // unknown party
			{Line: 12, ProjectCode: "NEW", PartyCode: "NEW01"},                                    // good: both from this batch
		},
	}
	stats, err := s.Import(ctx, bad)
	require.Error(t, err)
	require.Zero(t, stats)
	require.True(t, errors.Is(err, casework.ErrInvalid), "an ImportError matches ErrInvalid: %v", err)
	var ie *casework.ImportError
	require.True(t, errors.As(err, &ie), "want *ImportError, got %T: %v", err, err)
	var lines []int
	for _, l := range ie.Lines {
		require.NotEmpty(t, l.Reason)
		if !slices.Contains(lines, l.Line) {
			lines = append(lines, l.Line)
		}
	}
	slices.Sort(lines)
	require.Equal(t, []int{4, 5, 7, 9, 10, 11, 13, 14}, lines, "every bad line, and only those: %v", err)

	require.Equal(t, before, countRegistry(t, s, importPhones...), "nothing stored")
	_, err = s.FindProjectByCode(ctx, "NEW")
	requireErrNotFound(t, err)
	_, err = s.FindPartyByCode(ctx, "NEW01")
	requireErrNotFound(t, err)
}
