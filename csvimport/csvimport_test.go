package csvimport

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

// problem is an expected LineError; reason is a substring of its Reason.
type problem struct {
	line   int
	column string
	reason string
}

// parseProblems parses input, requires an *ImportError and returns its lines.
func parseProblems(t *testing.T, kind Kind, input string) []casework.LineError {
	t.Helper()
	b, err := Parse(kind, strings.NewReader(input))
	require.Error(t, err)
	require.Nil(t, b)
	require.ErrorIs(t, err, casework.ErrInvalid)
	var ie *casework.ImportError
	require.ErrorAs(t, err, &ie)
	return ie.Lines
}

func requireProblems(t *testing.T, want []problem, got []casework.LineError) {
	t.Helper()
	require.Len(t, got, len(want), "problems: %v", got)
	for i, w := range want {
		assert.Equal(t, w.line, got[i].Line, "problem %d: %v", i, got[i])
		assert.Equal(t, w.column, got[i].Column, "problem %d: %v", i, got[i])
		assert.Contains(t, got[i].Reason, w.reason, "problem %d: %v", i, got[i])
	}
}

const (
	unitsHeader   = "project_code,project_name,project_completion,building,building_completion,entrance,floor,room,delivery_date\n"
	ownersHeader  = "project_code,unit,name,phone\n"
	partiesHeader = "code,name,kind,trade,phone,member_name,member_phone,member_role\n"
	routesHeader  = "project_code,building,category,subcategory,party_code\n"
)

func TestParseProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		kind  Kind
		input string
		want  []problem
	}{
		// The file as a whole.
		{"empty file", KindUnits, "", []problem{{1, "", "the file is empty"}}},
		{"only a BOM and blank lines", KindOwners, "\ufeff\r\n\r\n", []problem{{1, "", "the file is empty"}}},
		{"header only", KindUnits, unitsHeader, []problem{{1, "", "no data rows"}}},
		{"header and blank rows", KindRoutes, routesHeader + ",,,,\r\n\r\n  \r\n", []problem{{1, "", "no data rows"}}},
		{"not UTF-8", KindOwners, ownersHeader + "HJY,3-2-1502,\xd5\xc5\xce\xb0,13900000001\n", []problem{{2, "", "not UTF-8"}}},
		{"bare quote", KindOwners, ownersHeader + "HJY,3-2-1502,张\"伟,13900000001\nHJY,3-2-1501,王芳,1\n", []problem{
			{2, "", "a quote"},
			{3, "phone", "not a mobile number"},
		}},
		{"unclosed quote", KindOwners, ownersHeader + "HJY,\"3-2-1502,张伟,13900000001\n", []problem{{2, "", "not closed"}}},

		// The header.
		{"missing required columns", KindUnits, "project_code,project_name,building\nHJY,海景苑,3\n", []problem{
			{1, "", "missing required column(s): floor (楼层), room (房号)"},
		}},
		{"unknown column", KindOwners, "project_code,unit,name,phone,romo\nHJY,3-2-1502,张伟,13900000001,x\n", []problem{
			{1, "romo", "unknown column; the owners columns are project_code (项目编码), unit (房号), name (姓名), phone (联系电话)"},
		}},
		{"column twice", KindOwners, "project_code,unit,name,phone,手机\nHJY,3-2-1502,张伟,13900000001,13900000001\n", []problem{
			{1, "手机", `column phone appears twice: as "phone" (column 4) and "手机" (column 5)`},
		}},
		{"semicolons", KindRoutes, "project_code;category;party_code\nHJY;other;GCB\n", []problem{
			{1, "project_code;category;party_code", "separate the columns with commas"},
			{1, "", "missing required column(s): project_code (项目编码), category (类别), party_code (责任单位编码)"},
		}},
		{"header after blank lines", KindOwners, "\n\n" + ownersHeader, []problem{{3, "", "no data rows"}}},

		// Cells of any kind.
		{"wrong number of cells", KindOwners, ownersHeader + "HJY,3-2-1502,张伟\nHJY,3-2-1501,王芳,13900000002,x\n", []problem{
			{2, "", "the row has 3 cells but the header has 4 columns"},
			{3, "", "the row has 5 cells but the header has 4 columns"},
		}},
		{"control characters", KindOwners, ownersHeader + "HJY,3-2-1502,\"张\x01伟\",13900000001\nHJY,3-2-1501,\"王\n芳\",13900000002\n", []problem{
			{2, "name", "control characters"},
			{3, "name", "control characters or a line break"},
		}},
		{"cell too long", KindOwners, ownersHeader + "HJY,3-2-1502," + strings.Repeat("张", 200) + ",13900000001\n", []problem{
			{2, "name", "is 600 bytes long"},
		}},
		{"value in a column without header", KindOwners, "project_code,unit,name,phone,\nHJY,3-2-1502,张伟,13900000001,\nHJY,3-2-1501,王芳,13900000002,oops\n", []problem{
			{3, "column 5", "has a value but the column has no header"},
		}},

		// Units.
		{"units: empty required values", KindUnits, unitsHeader + ", ,2024-06-28,,,,,,\n", []problem{
			{2, "project_code", "is required"},
			{2, "project_name", "is required"},
			{2, "building", "is required"},
			{2, "room", "is required"},
			{2, "floor", "is required"},
		}},
		{"units: bad dates", KindUnits, unitsHeader + "HJY,海景苑,2024-13-01,3,28/06/2024,2,15,1502,tomorrow\n", []problem{
			{2, "project_completion", `"2024-13-01" is not a date`},
			{2, "building_completion", `"28/06/2024" is not a date`},
			{2, "delivery_date", `"tomorrow" is not a date`},
		}},
		{"units: bad floor", KindUnits, unitsHeader + "HJY,海景苑,,3,,2,fifteen,1502,\nHJY,海景苑,,3,,2,B0,1402,\nHJY,海景苑,,3,,2,250,1302,\n", []problem{
			{2, "floor", `"fifteen" is not a floor`},
			{3, "floor", "basements are numbered from 1"},
			{4, "floor", "250 is not a plausible floor"},
		}},
		{"units: codes refused by casework", KindUnits, unitsHeader + "H J Y,海景苑,,3#,,2,15,15 02,\n", []problem{
			{2, "project_code", `"H J Y" must be 1–32 letters`},
			{2, "building", `"3#" must be 1–32 letters`},
		}},
		{"units: room refused by casework", KindUnits, unitsHeader + "HJY,海景苑,,3,,2,15,15/02,\n", []problem{
			{2, "room", `"15/02" must be 1–32 letters`},
		}},
		{"units: delivered before completion", KindUnits, unitsHeader +
			"HJY,海景苑,2024-06-28,1,,1,1,101,2024-05-01\n" +
			"HJY,海景苑,2024-06-28,3,2024-08-16,1,1,101,2024-08-01\n", []problem{
			{2, "delivery_date", "2024-05-01 is before the completion acceptance on 2024-06-28"},
			{3, "delivery_date", "2024-08-01 is before the completion acceptance on 2024-08-16"},
		}},
		{"units: duplicate", KindUnits, unitsHeader +
			"HJY,海景苑,,3,,2,15,1502,\nHJY,海景苑,,3,,2,15,1501,\nHJY,海景苑,,3,,2,15,1502,2024-11-16\n", []problem{
			{4, "", "unit 3-2-1502 of project HJY is already on line 2"},
		}},
		{"units: project and buildings described differently", KindUnits, unitsHeader +
			"HJY,海景苑,2024-06-28,3,2024-08-16,2,15,1502,\n" +
			"HJY,海景湾,2024-06-29,3,2024-08-17,2,15,1501,\n" +
			"HJY,海景苑,,3,,2,14,1401,\n", []problem{
			{3, "project_name", `project HJY is named "海景苑" on line 2`},
			{3, "project_completion", "project HJY was accepted on 2024-06-28 according to line 2"},
			{3, "building_completion", "building 3 of project HJY was accepted on 2024-08-16 according to line 2"},
		}},
		{"units: problems on many lines, all reported in order", KindUnits, unitsHeader +
			"HJY,海景苑,,3,,2,x,1502,\n" +
			"HJY,海景苑,,3,,2,15,1501,\n" +
			"HJY,,,3,,2,14,1401,\n" +
			"HJY,海景苑,,3,,2,14,1402,2024-02-30\n", []problem{
			{2, "floor", "not a floor"},
			{4, "project_name", "is required"},
			{5, "delivery_date", "not a date"},
		}},

		// Owners.
		{"owners: empty required values", KindOwners, ownersHeader + ",,,13900000001\nHJY,3-2-1502,张伟,\n", []problem{
			{2, "project_code", "is required"},
			{2, "unit", "is required"},
			{2, "name", "is required"},
			{3, "phone", "is required"},
		}},
		{"owners: bad phones", KindOwners, ownersHeader +
			"HJY,3-2-1502,张伟,12345\n" +
			"HJY,3-2-1501,王芳,1.39E+10\n" +
			"HJY,3-2-1402,李娜,021-60000001\n", []problem{
			{2, "phone", `"*****" is not a mobile number`},
			{3, "phone", "scientific notation"},
			{4, "phone", "not a mobile number"},
		}},
		{"owners: bad units", KindOwners, ownersHeader +
			"HJY,1502,张伟,13900000001\n" +
			"HJY,3-2-15-02,王芳,13900000002\n" +
			"HJY,3栋2单元,李娜,13900000003\n" +
			"HJY,3--1502,刘洋,13900000004\n", []problem{
			{2, "unit", `"1502" is not a unit like 3-2-1502`},
			{3, "unit", "is not a unit"},
			{4, "unit", "is not a unit"},
			{5, "unit", "is not a unit"},
		}},
		{"owners: project code refused by casework", KindOwners, ownersHeader + "海景苑 HJY,3-2-1502,张伟,13900000001\n", []problem{
			{2, "project_code", `"海景苑 HJY" must be 1–32 letters`},
		}},
		{"owners: name refused by casework", KindOwners, ownersHeader + "HJY,3-2-1502," + strings.Repeat("张", 101) + ",13900000001\n", []problem{
			{2, "name", "longer than 100 characters"},
		}},
		{"owners: duplicate, whatever the spelling", KindOwners, ownersHeader +
			"HJY,3-2-1502,张伟,13900000001\n" +
			"HJY,3-2-1502,王芳,13900000002\n" +
			"HJY,3栋2单元1502,张伟,+86 139 0000 0001\n", []problem{
			{4, "", "owner 张伟 of unit 3-2-1502 is already on line 2"},
		}},

		// Parties.
		{"parties: empty required values", KindParties, partiesHeader + ",,,general,,,,\n", []problem{
			{2, "code", "is required"},
			{2, "name", "is required"},
			{2, "kind", "is required"},
		}},
		{"parties: unknown kind and bad phones", KindParties, partiesHeader +
			"HXJS,华信建设,开发商,,021-6000,周建国,1390000,\n", []problem{
			{2, "kind", `"开发商" is not a kind of party; use one of contractor (施工单位), design_firm (设计单位)`},
			{2, "phone", `"021****6000" is not a mobile number`},
			{2, "member_phone", `"139****0000" is not a mobile number`},
		}},
		{"parties: incomplete member", KindParties, partiesHeader +
			"HXJS,华信建设,施工单位,,,周建国,,\n" +
			"HXJS,华信建设,施工单位,,,,13900009001,\n" +
			"HXJS,华信建设,施工单位,,,,,engineer\n", []problem{
			{2, "member_phone", "is required when the row names a person"},
			{3, "member_name", "is required when the row names a person"},
			{4, "member_name", "is required"},
			{4, "member_phone", "is required"},
		}},
		{"parties: code refused by casework", KindParties, partiesHeader + "HX JS,华信建设,施工单位,,,,,\n", []problem{
			{2, "code", `"HX JS" must be 1–32 letters`},
		}},
		{"parties: duplicates", KindParties, partiesHeader +
			"HXJS,华信建设,施工单位,,,周建国,13900009001,\n" +
			"HXJS,华信建设,施工单位,,,周建国,139-0000-9001,manager\n" +
			"GCB,工程部,工程部,,,,,\n" +
			"GCB,工程部,in_house,,,,,\n", []problem{
			{3, "", "the person with phone 13900009001 of party HXJS is already on line 2"},
			{5, "", "party GCB without a person is already on line 4"},
		}},
		{"parties: described differently", KindParties, partiesHeader +
			"HXJS,华信建设,施工单位,general,021-60000001,周建国,13900009001,\n" +
			"HXJS,华信建设集团,供应商,doors,021-60000002,吴海涛,13900009002,\n" +
			"HXJS,华信建设,施工单位,general,021-60000009,孙立军,13900009003,\n", []problem{
			{3, "name", `party HXJS has name "华信建设" on line 2`},
			{3, "kind", `party HXJS has kind "contractor" on line 2`},
			{3, "trade", `party HXJS has trade "general" on line 2`},
			{3, "phone", `party HXJS has phone "021-60000001" on line 2`},
			{4, "phone", `party HXJS has phone "021-60000001" on line 2`},
		}},

		// Routes.
		{"routes: empty required values", KindRoutes, routesHeader + ",,,leak,\n" + "HJY,,,,GCB\n", []problem{
			{2, "project_code", "is required"},
			{2, "category", "is required; write * for every category"},
			{2, "party_code", "is required"},
			{3, "category", "is required; write * for every category"},
		}},
		{"routes: unknown category and subcategories", KindRoutes, routesHeader +
			"HJY,*,quality,,HXJS\n" +
			"HJY,*,engineering_quality,lift,HXJS\n" +
			"HJY,*,*,leak,HXJS\n" +
			"HJY,*,工程质量类,屋顶,HXJS\n", []problem{
			{2, "category", `"quality" is not a category; use * or one of engineering_quality (工程质量类)`},
			{3, "subcategory", `"lift" is not a subcategory of engineering_quality; use one of leak (渗漏水)`},
			{4, "subcategory", "needs a category"},
			{5, "subcategory", `"屋顶" is not a subcategory of engineering_quality`},
		}},
		{"routes: bad codes", KindRoutes, routesHeader + "HJY!,3 栋,other,,G C B\n", []problem{
			{2, "project_code", `"HJY!" must be 1–32 letters`},
			{2, "building", `"3 栋" must be 1–32 letters`},
			{2, "party_code", `"G C B" must be 1–32 letters`},
		}},
		{"routes: duplicates", KindRoutes, routesHeader +
			"HJY,*,engineering_quality,leak,DYFS\n" +
			"HJY,,工程质量类,渗漏水,HXJS\n" +
			"HJY,3,engineering_quality,leak,HXJS\n" +
			"HJY,*,*,,GCB\n" +
			"HJY,,*,*,HJWY\n", []problem{
			{3, "", "the route for project HJY, engineering_quality/leak is already on line 2"},
			{6, "", "the route for project HJY, every category is already on line 5"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			requireProblems(t, tt.want, parseProblems(t, tt.kind, tt.input))
		})
	}
}

func TestParseUnits(t *testing.T) {
	t.Parallel()
	// A BOM, Windows line endings, Chinese headers in another order with a
	// required mark and a note, spaces (also full-width) around values, a row
	// of empty cells as spreadsheets leave, trailing blank lines.
	input := "\ufeff房号 ,楼层,单元,楼栋,项目编码*,项目名称,竣工验收日期（yyyy-mm-dd）,楼栋竣工日期,交付日期\r\n" +
		" 1502 ,15层,2,3,HJY,海景苑,2024-06-28,2024年8月16日,2024/11/16\r\n" +
		",,,,,,,,\r\n" +
		"\u3000101\u3000,1,, Ａ2 ,HJY,海景苑,2024-06-28,,\r\n" +
		"B101,B1,,A2,HJY,海景苑,,,\r\n" +
		"\r\n\r\n"
	b, err := Parse(KindUnits, strings.NewReader(input))
	require.NoError(t, err)
	assert.Equal(t, []casework.UnitRecord{
		{Line: 2, ProjectCode: "HJY", ProjectName: "海景苑", ProjectCompletion: casework.D(2024, 6, 28), Building: "3",
			BuildingCompletion: casework.D(2024, 8, 16), Entrance: "2", Floor: 15, Room: "1502", Delivery: casework.D(2024, 11, 16)},
		{Line: 4, ProjectCode: "HJY", ProjectName: "海景苑", ProjectCompletion: casework.D(2024, 6, 28), Building: "A2", Floor: 1, Room: "101"},
		{Line: 5, ProjectCode: "HJY", ProjectName: "海景苑", Building: "A2", Floor: -1, Room: "B101"},
	}, b.Units)
	assert.Empty(t, b.Owners)
	assert.Empty(t, b.Parties)
	assert.Empty(t, b.Routes)
}

func TestParseOwners(t *testing.T) {
	t.Parallel()
	input := "业主姓名,手机号码,楼栋单元房号,项目编码\n" +
		"张伟,13900000001,3-2-1502,HJY\n" +
		"王芳,+86 139 0000 0002,3栋2单元1502,HJY\n" +
		"李娜,139-0000-0003, 3 - 1 - 802 ,HJY\n" +
		"刘洋,0086 13900000004,1号楼101室,HJY\n" +
		"陈静,+44 7700 900123,A座1单元1502,HJY\n" +
		"张伟,13900000001,３栋２单元１６０１,HJY\n"
	b, err := Parse(KindOwners, strings.NewReader(input))
	require.NoError(t, err)
	assert.Equal(t, []casework.OwnerRecord{
		{Line: 2, ProjectCode: "HJY", Unit: "3-2-1502", Name: "张伟", Phone: "13900000001"},
		{Line: 3, ProjectCode: "HJY", Unit: "3-2-1502", Name: "王芳", Phone: "13900000002"},
		{Line: 4, ProjectCode: "HJY", Unit: "3-1-802", Name: "李娜", Phone: "13900000003"},
		{Line: 5, ProjectCode: "HJY", Unit: "1-101", Name: "刘洋", Phone: "13900000004"},
		{Line: 6, ProjectCode: "HJY", Unit: "A-1-1502", Name: "陈静", Phone: "+447700900123"},
		{Line: 7, ProjectCode: "HJY", Unit: "3-2-1601", Name: "张伟", Phone: "13900000001"},
	}, b.Owners)
}

func TestParseParties(t *testing.T) {
	t.Parallel()
	input := "Code,Name,Type,Trade,Office Phone,Contact,Contact Phone,Role\n" +
		"HXJS,华信建设集团有限公司,总包,general,021-60000001,周建国,13900009001,manager\n" +
		"HXJS,华信建设集团有限公司,总包,general,021 6000 0001,吴海涛,13900009002,engineer\n" +
		"SJY,申城建筑设计院,Design-Firm,,,,,\n" +
		"MCMC,明辰门窗有限公司,供应商,doors_windows,,郑晓东,0571-88000001,\n" +
		"TSDT,通顺电梯,维保单位,lift,13900009006,,,\n" +
		"HJWY,海景物业,物业,,,,,\n" +
		"GCB,工程部,工程部,,,,,\n"
	b, err := Parse(KindParties, strings.NewReader(input))
	require.NoError(t, err)
	assert.Equal(t, []casework.PartyRecord{
		{Line: 2, Code: "HXJS", Name: "华信建设集团有限公司", Kind: casework.PartyContractor, Trade: "general", Phone: "021-60000001", MemberName: "周建国", MemberPhone: "13900009001", MemberRole: "manager"},
		{Line: 3, Code: "HXJS", Name: "华信建设集团有限公司", Kind: casework.PartyContractor, Trade: "general", Phone: "021-60000001", MemberName: "吴海涛", MemberPhone: "13900009002", MemberRole: "engineer"},
		{Line: 4, Code: "SJY", Name: "申城建筑设计院", Kind: casework.PartyDesignFirm},
		{Line: 5, Code: "MCMC", Name: "明辰门窗有限公司", Kind: casework.PartySupplier, Trade: "doors_windows", MemberName: "郑晓东", MemberPhone: "0571-88000001"},
		{Line: 6, Code: "TSDT", Name: "通顺电梯", Kind: casework.PartyMaintenance, Trade: "lift", Phone: "13900009006"},
		{Line: 7, Code: "HJWY", Name: "海景物业", Kind: casework.PartyPropertyManagement},
		{Line: 8, Code: "GCB", Name: "工程部", Kind: casework.PartyInHouse},
	}, b.Parties)
}

func TestParseRoutes(t *testing.T) {
	t.Parallel()
	input := "责任单位编码,子类,类别,楼栋,项目编码\n" +
		"HXJS,,工程质量类,,HJY\n" +
		"DYFS,渗漏水,工程质量,*,HJY\n" +
		"HXJS,leak,Engineering_Quality,3,HJY\n" +
		"TSDT,电梯,设施设备类,*,HJY\n" +
		"GCB,*,*,,HJY\n" +
		"GCB,表扬,其他建议或表扬,,HJY\n"
	b, err := Parse(KindRoutes, strings.NewReader(input))
	require.NoError(t, err)
	assert.Equal(t, []casework.RouteRecord{
		{Line: 2, ProjectCode: "HJY", Category: casework.CategoryEngineeringQuality, PartyCode: "HXJS"},
		{Line: 3, ProjectCode: "HJY", Category: casework.CategoryEngineeringQuality, Subcategory: casework.SubLeak, PartyCode: "DYFS"},
		{Line: 4, ProjectCode: "HJY", Building: "3", Category: casework.CategoryEngineeringQuality, Subcategory: casework.SubLeak, PartyCode: "HXJS"},
		{Line: 5, ProjectCode: "HJY", Category: casework.CategoryFacilitiesEquipment, Subcategory: casework.SubLift, PartyCode: "TSDT"},
		{Line: 6, ProjectCode: "HJY", PartyCode: "GCB"},
		{Line: 7, ProjectCode: "HJY", Category: casework.CategoryOther, Subcategory: casework.SubPraise, PartyCode: "GCB"},
	}, b.Routes)
}

// validRows are one valid data row per kind, in the order of Columns(kind).
var validRows = map[Kind][]string{
	KindUnits:   {"HJY", "海景苑", "2024-06-28", "3", "2024-08-16", "2", "15", "1502", "2024-11-16"},
	KindOwners:  {"HJY", "3-2-1502", "张伟", "13900000001"},
	KindParties: {"HXJS", "华信建设集团有限公司", "contractor", "general", "021-60000001", "周建国", "13900009001", "manager"},
	KindRoutes:  {"HJY", "3", "engineering_quality", "leak", "DYFS"},
}

// TestHeaderAliases replaces each column's header in turn by each of its
// accepted spellings (and an upper-case, spaced one) and requires the same
// batch as with the English headers.
func TestHeaderAliases(t *testing.T) {
	t.Parallel()
	for _, kind := range Kinds {
		cols := Columns(kind)
		require.Len(t, validRows[kind], len(cols), kind)
		names := make([]string, len(cols))
		for i, c := range cols {
			names[i] = c.Name
		}
		data := strings.Join(validRows[kind], ",") + "\n"
		want, err := Parse(kind, strings.NewReader(strings.Join(names, ",")+"\n"+data))
		require.NoError(t, err, kind)
		for i, c := range cols {
			spellings := append([]string{c.Chinese, strings.ToUpper(c.Name), strings.ReplaceAll(c.Name, "_", " "), c.Chinese + "*", c.Name + " (note)"}, c.Aliases...)
			for _, h := range spellings {
				t.Run(fmt.Sprintf("%s/%s/%s", kind, c.Name, h), func(t *testing.T) {
					t.Parallel()
					header := append([]string(nil), names...)
					header[i] = h
					got, err := Parse(kind, strings.NewReader(strings.Join(header, ",")+"\n"+data))
					require.NoError(t, err)
					assert.Equal(t, want, got)
				})
			}
		}
	}
}

func TestColumns(t *testing.T) {
	t.Parallel()
	for _, kind := range Kinds {
		cols := Columns(kind)
		require.NotEmpty(t, cols, kind)
		cols[0].Aliases = append(cols[0].Aliases[:0], "changed")
		cols[0].Name = "changed"
		assert.NotEqual(t, "changed", Columns(kind)[0].Name, "Columns returns a copy")
		assert.NotContains(t, Columns(kind)[0].Aliases, "changed", "Columns returns a copy")
	}
	assert.Nil(t, Columns("cases"))
}

func TestParseKind(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Kind{
		"units": KindUnits, "Unit": KindUnits, "房屋": KindUnits,
		" owners ": KindOwners, "业主": KindOwners,
		"PARTIES": KindParties, "party": KindParties, "责任单位": KindParties,
		"routes": KindRoutes, "route": KindRoutes, "派单规则": KindRoutes,
	} {
		got, err := ParseKind(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := ParseKind("cases")
	require.ErrorIs(t, err, casework.ErrInvalid)
}

func TestParseUnknownKind(t *testing.T) {
	t.Parallel()
	_, err := Parse("cases", strings.NewReader(ownersHeader))
	require.ErrorIs(t, err, casework.ErrInvalid)
	var ve *casework.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "kind", ve.Field)
}

func TestParseReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	_, err := Parse(KindOwners, iotest.ErrReader(boom))
	require.ErrorIs(t, err, boom)
	var ie *casework.ImportError
	assert.False(t, errors.As(err, &ie), "a read error is not a problem of the file")
}

func TestParseTooLarge(t *testing.T) {
	t.Parallel()
	row := "HJY,3-2-1502,张伟,13900000001\n"
	n := MaxFileSize/len(row) + 1
	input := ownersHeader + strings.Repeat(row, n)
	line := 2 + (MaxFileSize-len(ownersHeader))/len(row) // the line where the limit falls
	requireProblems(t, []problem{{line, "", "larger than 20 MB"}}, parseProblems(t, KindOwners, input))
}

func TestParseTooManyRows(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString(routesHeader)
	for i := range MaxRows + 10 {
		fmt.Fprintf(&b, "HJY,B%d,other,,GCB\n", i)
	}
	requireProblems(t, []problem{{MaxRows + 2, "", "more than 100000 rows"}}, parseProblems(t, KindRoutes, b.String()))
}

func TestParseStopsAfterMaxProblems(t *testing.T) {
	t.Parallel()
	input := ownersHeader + strings.Repeat("HJY,3-2-1502,张伟,1\n", MaxProblems+50)
	got := parseProblems(t, KindOwners, input)
	require.Len(t, got, MaxProblems+1)
	last := got[MaxProblems]
	assert.Equal(t, MaxProblems+2, last.Line)
	assert.Contains(t, last.Reason, "stopped checking at this line after 1000 problems")
}

func TestImportErrorMessage(t *testing.T) {
	t.Parallel()
	_, err := Parse(KindOwners, strings.NewReader(ownersHeader+"HJY,3-2-1502,张伟,12345\n"))
	require.Error(t, err)
	assert.Equal(t, "import refused, nothing stored: 1 problem(s)\n  line 2: phone: \"*****\" is not a mobile number like 13812345678 or +447700900123", err.Error())
}
