package storagetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

func testProject(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()

	terms := casework.WarrantyTerms{
		Statutory:     map[casework.Part]casework.Period{casework.PartWaterproofing: {Years: 8}, casework.PartHeating: {Seasons: 3}},
		Promised:      map[casework.Part]casework.Period{casework.PartDecoration: {Years: 2, Months: 6}},
		HeatingSeason: casework.Season{StartMonth: time.November, StartDay: 1, EndMonth: time.March, EndDay: 31},
	}
	p := &casework.Project{Code: "HJY", Name: "海景苑", City: "上海", CompletionDate: casework.D(2024, 6, 30), Warranty: terms}
	require.NoError(t, s.CreateProject(ctx, p))
	require.NotZero(t, p.ID)
	requireUTC(t, p.CreatedAt, "CreatedAt")
	requireUTC(t, p.UpdatedAt, "UpdatedAt")

	got, err := s.FindProjectByID(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, p, got, "every field round-trips, warranty terms included")
	got, err = s.FindProjectByCode(ctx, "HJY")
	require.NoError(t, err)
	require.Equal(t, p, got)

	// A project without terms or dates.
	p2 := &casework.Project{Code: "ABC", Name: "安居城"}
	require.NoError(t, s.CreateProject(ctx, p2))
	got, err = s.FindProjectByID(ctx, p2.ID)
	require.NoError(t, err)
	require.Equal(t, p2, got)
	require.True(t, got.CompletionDate.IsZero())

	list, err := s.ListProjects(ctx)
	require.NoError(t, err)
	require.Equal(t, []*casework.Project{p2, p}, list, "ordered by code")

	// Update every field.
	p.Name, p.City, p.CompletionDate = "海景苑一期", "苏州", casework.D(2024, 7, 1)
	p.Warranty = casework.WarrantyTerms{Promised: map[casework.Part]casework.Period{casework.PartPipework: {Years: 3}}}
	p.Code = "HJY1"
	require.NoError(t, s.UpdateProject(ctx, p))
	got, err = s.FindProjectByID(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, p, got)
	_, err = s.FindProjectByCode(ctx, "HJY")
	requireErrNotFound(t, err)

	// Errors.
	requireConflict(t, s.CreateProject(ctx, &casework.Project{Code: "ABC", Name: "x"}), "duplicate code")
	dup := *p
	dup.Code = "ABC"
	requireConflict(t, s.UpdateProject(ctx, &dup), "update to a taken code")
	requireInvalid(t, s.CreateProject(ctx, &casework.Project{Code: "", Name: "x"}), "code")
	requireInvalid(t, s.CreateProject(ctx, &casework.Project{Code: "X", Name: " "}), "name")
	requireInvalid(t, s.CreateProject(ctx, &casework.Project{Code: "X", Name: "x",
		Warranty: casework.WarrantyTerms{Statutory: map[casework.Part]casework.Period{"roof": {Years: 1}}}}), "warranty")
	_, err = s.FindProjectByID(ctx, 999999)
	requireErrNotFound(t, err)
	_, err = s.FindProjectByCode(ctx, "NOPE")
	requireErrNotFound(t, err)
	requireErrNotFound(t, s.UpdateProject(ctx, &casework.Project{ID: 999999, Code: "Z", Name: "z"}))
}

func testBuilding(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()
	p := &casework.Project{Code: "HJY", Name: "海景苑"}
	require.NoError(t, s.CreateProject(ctx, p))
	p2 := &casework.Project{Code: "LSY", Name: "绿水园"}
	require.NoError(t, s.CreateProject(ctx, p2))

	b5 := &casework.Building{ProjectID: p.ID, Code: "5", Name: "5栋", CompletionDate: casework.D(2025, 3, 31)}
	require.NoError(t, s.CreateBuilding(ctx, b5))
	require.NotZero(t, b5.ID)
	requireUTC(t, b5.CreatedAt, "CreatedAt")
	b3 := &casework.Building{ProjectID: p.ID, Code: "3", Name: "3栋"}
	require.NoError(t, s.CreateBuilding(ctx, b3))
	other := &casework.Building{ProjectID: p2.ID, Code: "3", Name: "3栋"}
	require.NoError(t, s.CreateBuilding(ctx, other), "the same code in another project")

	got, err := s.FindBuildingByID(ctx, b5.ID)
	require.NoError(t, err)
	require.Equal(t, b5, got)
	list, err := s.ListBuildings(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, []*casework.Building{b3, b5}, list, "ordered by code")
	list, err = s.ListBuildings(ctx, 999999)
	require.NoError(t, err)
	require.Empty(t, list)

	requireConflict(t, s.CreateBuilding(ctx, &casework.Building{ProjectID: p.ID, Code: "3"}), "duplicate code in a project")
	requireErrNotFound(t, s.CreateBuilding(ctx, &casework.Building{ProjectID: 999999, Code: "1"}), "unknown project")
	requireInvalid(t, s.CreateBuilding(ctx, &casework.Building{ProjectID: p.ID, Code: "3 栋"}), "building")
	requireInvalid(t, s.CreateBuilding(ctx, &casework.Building{Code: "1"}), "project")
	_, err = s.FindBuildingByID(ctx, 999999)
	requireErrNotFound(t, err)
}

func testUnit(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()
	f := newFixture(t, s)

	got, err := s.FindUnitByID(ctx, f.unit.ID)
	require.NoError(t, err)
	require.Equal(t, f.unit, got)
	require.Equal(t, "3-2-1502", got.Label())
	requireUTC(t, got.CreatedAt, "CreatedAt")
	got, err = s.FindUnitByID(ctx, f.unit2.ID)
	require.NoError(t, err)
	require.Equal(t, f.unit2, got)
	require.Equal(t, "5-301", got.Label())

	// Update every field, moving the unit to the other building.
	u := *f.unit
	u.BuildingID, u.Building, u.Entrance, u.Floor, u.Room, u.DeliveryDate = f.building2.ID, "5", "1", 16, "1601", casework.D(2025, 1, 2)
	require.NoError(t, s.UpdateUnit(ctx, &u))
	got, err = s.FindUnitByID(ctx, u.ID)
	require.NoError(t, err)
	require.Equal(t, &u, got)

	// Errors.
	dup := &casework.Unit{ProjectID: f.project.ID, BuildingID: f.building2.ID, Building: "5", Floor: 3, Room: "301"}
	requireConflict(t, s.CreateUnit(ctx, dup), "duplicate building-entrance-room")
	moved := u
	moved.Entrance, moved.Room = "", "301"
	requireConflict(t, s.UpdateUnit(ctx, &moved), "update onto an existing unit")
	requireErrNotFound(t, s.CreateUnit(ctx, &casework.Unit{ProjectID: f.project.ID, BuildingID: 999999, Building: "9", Room: "101"}), "unknown building")
	requireErrNotFound(t, s.CreateUnit(ctx, &casework.Unit{ProjectID: f.project.ID, BuildingID: f.buildingP2.ID, Building: "1", Room: "101"}),
		"a building of another project")
	requireInvalid(t, s.CreateUnit(ctx, &casework.Unit{ProjectID: f.project.ID, BuildingID: f.building.ID, Building: "3", Room: "101", Floor: 999}), "floor")
	requireInvalid(t, s.CreateUnit(ctx, &casework.Unit{ProjectID: f.project.ID, BuildingID: f.building.ID, Building: "3", Room: ""}), "room")
	_, err = s.FindUnitByID(ctx, 999999)
	requireErrNotFound(t, err)
	missing := u
	missing.ID = 999999
	requireErrNotFound(t, s.UpdateUnit(ctx, &missing))
}

func testFindUnits(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()
	p := &casework.Project{Code: "HJY", Name: "海景苑"}
	require.NoError(t, s.CreateProject(ctx, p))
	p2 := &casework.Project{Code: "LSY", Name: "绿水园"}
	require.NoError(t, s.CreateProject(ctx, p2))
	b1 := &casework.Building{ProjectID: p.ID, Code: "1"}
	b2 := &casework.Building{ProjectID: p.ID, Code: "2"}
	bx := &casework.Building{ProjectID: p2.ID, Code: "1"}
	for _, b := range []*casework.Building{b2, b1, bx} { // created out of order
		require.NoError(t, s.CreateBuilding(ctx, b))
	}
	// 2 buildings × 2 entrances × 3 rooms in p, created in reverse order.
	var want []*casework.Unit
	for _, b := range []*casework.Building{b1, b2} {
		for _, e := range []string{"1", "2"} {
			for _, r := range []string{"101", "201", "301"} {
				want = append(want, &casework.Unit{ProjectID: p.ID, BuildingID: b.ID, Building: b.Code, Entrance: e, Floor: int(r[0] - '0'), Room: r})
			}
		}
	}
	for i := len(want) - 1; i >= 0; i-- {
		require.NoError(t, s.CreateUnit(ctx, want[i]))
	}
	require.NoError(t, s.CreateUnit(ctx, &casework.Unit{ProjectID: p2.ID, BuildingID: bx.ID, Building: "1", Entrance: "1", Room: "101"}))

	find := func(f casework.UnitFilter) ([]*casework.Unit, int) {
		t.Helper()
		us, n, err := s.FindUnits(ctx, f)
		require.NoError(t, err)
		return us, n
	}
	got, n := find(casework.UnitFilter{ProjectID: p.ID})
	require.Equal(t, 12, n)
	require.Equal(t, want, got, "ordered by building, entrance, room")

	got, n = find(casework.UnitFilter{})
	require.Equal(t, 13, n, "no filter: every unit")
	require.Len(t, got, 13)

	got, n = find(casework.UnitFilter{BuildingID: b2.ID})
	require.Equal(t, 6, n)
	require.Equal(t, want[6:], got)

	got, n = find(casework.UnitFilter{ProjectID: p.ID, Building: "1", Entrance: "2"})
	require.Equal(t, 3, n)
	require.Equal(t, want[3:6], got)

	got, n = find(casework.UnitFilter{ProjectID: p.ID, Room: "201"})
	require.Equal(t, 4, n)
	require.Equal(t, []*casework.Unit{want[1], want[4], want[7], want[10]}, got)

	got, n = find(casework.UnitFilter{Building: "1", Room: "101"})
	require.Equal(t, 3, n, "building code across projects")
	require.Len(t, got, 3)

	// Paging keeps the total.
	got, n = find(casework.UnitFilter{ProjectID: p.ID, Limit: 5, Offset: 5})
	require.Equal(t, 12, n)
	require.Equal(t, want[5:10], got)
	got, n = find(casework.UnitFilter{ProjectID: p.ID, Limit: 5, Offset: 10})
	require.Equal(t, 12, n)
	require.Equal(t, want[10:], got)
	got, n = find(casework.UnitFilter{ProjectID: p.ID, Offset: 50})
	require.Equal(t, 12, n)
	require.Empty(t, got)

	got, n = find(casework.UnitFilter{ProjectID: p.ID, Room: "999"})
	require.Zero(t, n)
	require.Empty(t, got)

	_, _, err := s.FindUnits(ctx, casework.UnitFilter{Offset: -1})
	requireInvalid(t, err, "offset")
	_, _, err = s.FindUnits(ctx, casework.UnitFilter{Limit: -1})
	requireInvalid(t, err, "limit")
}

func testOwner(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()

	o := &casework.Owner{Name: "张三", Phone: "+86 138-1234-5678"}
	require.NoError(t, s.CreateOwner(ctx, o))
	require.NotZero(t, o.ID)
	require.Equal(t, "13812345678", o.Phone, "normalised")
	requireUTC(t, o.CreatedAt, "CreatedAt")
	got, err := s.FindOwnerByID(ctx, o.ID)
	require.NoError(t, err)
	require.Equal(t, o, got)

	// A family phone: two owners, one number.
	o2 := &casework.Owner{Name: "张三的妻子", Phone: "13812345678"}
	require.NoError(t, s.CreateOwner(ctx, o2))
	o3 := &casework.Owner{Name: "Jane Smith", Phone: "0044 7700 900123"}
	require.NoError(t, s.CreateOwner(ctx, o3))
	require.Equal(t, "+447700900123", o3.Phone)

	for _, q := range []string{"13812345678", "+8613812345678", "0086 138 1234 5678", "(138) 1234-5678"} {
		owners, err := s.FindOwnersByPhone(ctx, q)
		require.NoError(t, err, q)
		require.Equal(t, []*casework.Owner{o, o2}, owners, "%q is normalised first; ordered by ID", q)
	}
	owners, err := s.FindOwnersByPhone(ctx, "+44 7700 900123")
	require.NoError(t, err)
	require.Equal(t, []*casework.Owner{o3}, owners)
	owners, err = s.FindOwnersByPhone(ctx, "13900000000")
	require.NoError(t, err)
	require.Empty(t, owners)
	_, err = s.FindOwnersByPhone(ctx, "12345")
	requireInvalid(t, err, "phone")

	o.Name, o.Phone = "张三丰", "139 0000 1111"
	require.NoError(t, s.UpdateOwner(ctx, o))
	require.Equal(t, "13900001111", o.Phone)
	got, err = s.FindOwnerByID(ctx, o.ID)
	require.NoError(t, err)
	require.Equal(t, o, got)
	owners, err = s.FindOwnersByPhone(ctx, "13812345678")
	require.NoError(t, err)
	require.Equal(t, []*casework.Owner{o2}, owners)

	requireInvalid(t, s.CreateOwner(ctx, &casework.Owner{Name: "x", Phone: "123"}), "phone")
	requireInvalid(t, s.CreateOwner(ctx, &casework.Owner{Name: "", Phone: "13812345678"}), "name")
	_, err = s.FindOwnerByID(ctx, 999999)
	requireErrNotFound(t, err)
	requireErrNotFound(t, s.UpdateOwner(ctx, &casework.Owner{ID: 999999, Name: "x", Phone: "13812345678"}))
}

func testOwnerUnit(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()
	f := newFixture(t, s)

	// The fixture bound owner→unit and owner2→unit2; bind owner to unit2 too.
	require.NoError(t, s.BindOwnerUnit(ctx, f.owner.ID, f.unit2.ID))
	require.NoError(t, s.BindOwnerUnit(ctx, f.owner.ID, f.unit2.ID), "binding twice is not an error")

	units, err := s.OwnerUnits(ctx, f.owner.ID)
	require.NoError(t, err)
	require.Equal(t, []*casework.Unit{f.unit, f.unit2}, units)
	owners, err := s.UnitOwners(ctx, f.unit2.ID)
	require.NoError(t, err)
	require.Equal(t, []*casework.Owner{f.owner, f.owner2}, owners)
	owners, err = s.UnitOwners(ctx, f.unit.ID)
	require.NoError(t, err)
	require.Equal(t, []*casework.Owner{f.owner}, owners)

	require.NoError(t, s.UnbindOwnerUnit(ctx, f.owner.ID, f.unit2.ID))
	requireErrNotFound(t, s.UnbindOwnerUnit(ctx, f.owner.ID, f.unit2.ID), "no such binding")
	units, err = s.OwnerUnits(ctx, f.owner.ID)
	require.NoError(t, err)
	require.Equal(t, []*casework.Unit{f.unit}, units)
	owners, err = s.UnitOwners(ctx, f.unit2.ID)
	require.NoError(t, err)
	require.Equal(t, []*casework.Owner{f.owner2}, owners)

	requireErrNotFound(t, s.BindOwnerUnit(ctx, 999999, f.unit.ID), "unknown owner")
	requireErrNotFound(t, s.BindOwnerUnit(ctx, f.owner.ID, 999999), "unknown unit")
	units, err = s.OwnerUnits(ctx, 999999)
	require.NoError(t, err)
	require.Empty(t, units)
}

func testParty(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()

	p := &casework.Party{Code: "WY01", Name: "物业公司", Kind: casework.PartyPropertyManagement, Phone: "021 6123 4567"}
	require.NoError(t, s.CreateParty(ctx, p))
	require.NotZero(t, p.ID)
	require.Equal(t, "02161234567", p.Phone, "a landline is kept with its area code")
	requireUTC(t, p.CreatedAt, "CreatedAt")
	p2 := &casework.Party{Code: "FS01", Name: "防水工程公司", Kind: casework.PartyContractor, Trade: "waterproofing", Phone: "+86 13700002222"}
	require.NoError(t, s.CreateParty(ctx, p2))
	require.Equal(t, "13700002222", p2.Phone)

	got, err := s.FindPartyByID(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, p, got)
	got, err = s.FindPartyByCode(ctx, "FS01")
	require.NoError(t, err)
	require.Equal(t, p2, got)
	list, err := s.ListParties(ctx)
	require.NoError(t, err)
	require.Equal(t, []*casework.Party{p2, p}, list, "ordered by code")

	p.Name, p.Kind, p.Trade, p.Phone, p.Code = "物业服务中心", casework.PartyMaintenance, "lifts", "", "WY02"
	require.NoError(t, s.UpdateParty(ctx, p))
	got, err = s.FindPartyByID(ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, p, got)

	requireConflict(t, s.CreateParty(ctx, &casework.Party{Code: "FS01", Name: "x", Kind: casework.PartySupplier}))
	dup := *p
	dup.Code = "FS01"
	requireConflict(t, s.UpdateParty(ctx, &dup))
	requireInvalid(t, s.CreateParty(ctx, &casework.Party{Code: "X", Name: "x", Kind: "builder"}), "kind")
	requireInvalid(t, s.CreateParty(ctx, &casework.Party{Code: "X", Name: "x", Kind: casework.PartySupplier, Phone: "12"}), "phone")
	_, err = s.FindPartyByID(ctx, 999999)
	requireErrNotFound(t, err)
	_, err = s.FindPartyByCode(ctx, "NOPE")
	requireErrNotFound(t, err)
	requireErrNotFound(t, s.UpdateParty(ctx, &casework.Party{ID: 999999, Code: "Z", Name: "z", Kind: casework.PartyInHouse}))

	// Every kind is accepted.
	for i, k := range casework.PartyKinds {
		q := &casework.Party{Code: "K" + string(rune('A'+i)), Name: string(k), Kind: k}
		require.NoError(t, s.CreateParty(ctx, q), k)
		got, err := s.FindPartyByID(ctx, q.ID)
		require.NoError(t, err)
		require.Equal(t, k, got.Kind)
	}
}

func testMember(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()
	f := newFixture(t, s)

	got, err := s.FindMemberByID(ctx, f.member.ID)
	require.NoError(t, err)
	require.Equal(t, f.member, got)
	requireUTC(t, got.CreatedAt, "CreatedAt")

	m2 := &casework.Member{PartyID: f.party.ID, Name: "李工", Phone: "0571-87654321", Role: "supervisor"}
	require.NoError(t, s.CreateMember(ctx, m2))
	list, err := s.ListMembers(ctx, f.party.ID)
	require.NoError(t, err)
	require.Equal(t, []*casework.Member{f.member, m2}, list, "ordered by ID")

	m2.Name, m2.Role, m2.Phone, m2.PartyID = "李总工", "manager", "13700004444", f.party2.ID
	require.NoError(t, s.UpdateMember(ctx, m2))
	got, err = s.FindMemberByID(ctx, m2.ID)
	require.NoError(t, err)
	require.Equal(t, m2, got)
	list, err = s.ListMembers(ctx, f.party2.ID)
	require.NoError(t, err)
	require.Equal(t, []*casework.Member{f.member2, m2}, list)

	requireErrNotFound(t, s.CreateMember(ctx, &casework.Member{PartyID: 999999, Name: "x", Phone: "13700005555"}), "unknown party")
	requireInvalid(t, s.CreateMember(ctx, &casework.Member{PartyID: f.party.ID, Name: "x", Phone: ""}), "phone")
	_, err = s.FindMemberByID(ctx, 999999)
	requireErrNotFound(t, err)
	requireErrNotFound(t, s.UpdateMember(ctx, &casework.Member{ID: 999999, PartyID: f.party.ID, Name: "x", Phone: "13700005555"}))
}

func testRoute(t *testing.T, h Harness) {
	s := h.Open(t)
	ctx := t.Context()
	f := newFixture(t, s)
	eq, leak := casework.CategoryEngineeringQuality, casework.SubLeak

	all := &casework.Route{ProjectID: f.project.ID, PartyID: f.party2.ID}                   // any case
	quality := &casework.Route{ProjectID: f.project.ID, Category: eq, PartyID: f.party2.ID} // engineering quality
	leaks := &casework.Route{ProjectID: f.project.ID, Category: eq, Subcategory: leak, PartyID: f.party.ID}
	b5 := &casework.Route{ProjectID: f.project.ID, BuildingID: f.building2.ID, Category: eq, PartyID: f.party.ID}
	for _, r := range []*casework.Route{all, quality, leaks, b5} {
		require.NoError(t, s.CreateRoute(ctx, r))
		require.NotZero(t, r.ID)
		requireUTC(t, r.CreatedAt, "CreatedAt")
	}
	other := &casework.Route{ProjectID: f.project2.ID, Category: eq, PartyID: f.party.ID}
	require.NoError(t, s.CreateRoute(ctx, other))

	routes, err := s.ListRoutes(ctx, f.project.ID)
	require.NoError(t, err)
	require.Equal(t, []casework.Route{*all, *quality, *leaks, *b5}, routes, "ordered by ID")

	resolve := func(buildingID int64, c casework.Category, sub casework.Subcategory) int64 {
		t.Helper()
		r, err := casework.ResolveRoute(routes, f.project.ID, buildingID, c, sub)
		require.NoError(t, err)
		return r.ID
	}
	require.Equal(t, leaks.ID, resolve(f.building.ID, eq, leak))
	require.Equal(t, quality.ID, resolve(f.building.ID, eq, casework.SubCrack))
	require.Equal(t, b5.ID, resolve(f.building2.ID, eq, leak), "a building-specific route beats a project-wide one")
	require.Equal(t, all.ID, resolve(f.building.ID, casework.CategoryServiceAttitude, casework.SubStaff))

	// Duplicates, including the project-wide ones whose building is "any".
	requireConflict(t, s.CreateRoute(ctx, &casework.Route{ProjectID: f.project.ID, PartyID: f.party.ID}), "duplicate any-route")
	requireConflict(t, s.CreateRoute(ctx, &casework.Route{ProjectID: f.project.ID, Category: eq, Subcategory: leak, PartyID: f.party2.ID}), "duplicate")
	requireConflict(t, s.CreateRoute(ctx, &casework.Route{ProjectID: f.project.ID, BuildingID: f.building2.ID, Category: eq, PartyID: f.party2.ID}))

	requireErrNotFound(t, s.CreateRoute(ctx, &casework.Route{ProjectID: 999999, PartyID: f.party.ID}), "unknown project")
	requireErrNotFound(t, s.CreateRoute(ctx, &casework.Route{ProjectID: f.project.ID, PartyID: 999999, Category: casework.CategoryOther}), "unknown party")
	requireErrNotFound(t, s.CreateRoute(ctx, &casework.Route{ProjectID: f.project.ID, BuildingID: 999999, PartyID: f.party.ID}), "unknown building")
	requireErrNotFound(t, s.CreateRoute(ctx, &casework.Route{ProjectID: f.project.ID, BuildingID: f.buildingP2.ID, PartyID: f.party.ID}),
		"a building of another project")
	requireInvalid(t, s.CreateRoute(ctx, &casework.Route{ProjectID: f.project.ID, PartyID: f.party.ID, Subcategory: leak}), "subcategory")
	requireInvalid(t, s.CreateRoute(ctx, &casework.Route{ProjectID: f.project.ID, PartyID: f.party.ID, Category: "roof"}), "category")

	require.NoError(t, s.DeleteRoute(ctx, leaks.ID))
	requireErrNotFound(t, s.DeleteRoute(ctx, leaks.ID))
	routes, err = s.ListRoutes(ctx, f.project.ID)
	require.NoError(t, err)
	require.Equal(t, []casework.Route{*all, *quality, *b5}, routes)
	require.Equal(t, quality.ID, resolve(f.building.ID, eq, leak))
	// The deleted route's key is free again.
	require.NoError(t, s.CreateRoute(ctx, &casework.Route{ProjectID: f.project.ID, Category: eq, Subcategory: leak, PartyID: f.party2.ID}))

	routes, err = s.ListRoutes(ctx, 999999)
	require.NoError(t, err)
	assert.Empty(t, routes)
}
