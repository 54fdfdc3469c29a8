package csvimport

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/aftersales/aftersales/casework"
)

// normValue folds a coded value for lookup: full-width to ASCII, lower case,
// no spaces, '-' and ' ' as '_'.
func normValue(s string) string {
	s = strings.ToLower(strings.TrimSpace(fold(s)))
	return strings.Map(func(r rune) rune {
		switch r {
		case '-':
			return '_'
		case ' ', '\t':
			return -1
		}
		return r
	}, s)
}

// partyKindNames are the names accepted for each PartyKind besides its code.
var partyKindNames = map[casework.PartyKind][]string{
	casework.PartyContractor:         {"施工单位", "施工", "总包", "总包单位", "分包", "分包单位", "承包商"},
	casework.PartyDesignFirm:         {"设计单位", "设计院", "设计"},
	casework.PartySupplier:           {"供应商", "供货商", "厂家"},
	casework.PartyMaintenance:        {"维保单位", "维保", "维保公司"},
	casework.PartyPropertyManagement: {"物业", "物业公司", "物业管理", "物业服务企业"},
	casework.PartyInHouse:            {"工程部", "内部工程部", "公司工程部", "内部"},
}

var categoryNames = map[casework.Category][]string{
	casework.CategoryEngineeringQuality:  {"工程质量类", "工程质量"},
	casework.CategoryDesignDefect:        {"设计瑕疵类", "设计瑕疵", "设计缺陷"},
	casework.CategoryFacilitiesEquipment: {"设施设备类", "设施设备"},
	casework.CategoryServiceAttitude:     {"服务态度类", "服务态度"},
	casework.CategoryPolicyConsultation:  {"政策咨询类", "政策咨询"},
	casework.CategoryOther:               {"其他建议或表扬", "其他类", "其他", "建议或表扬"},
}

var subcategoryNames = map[casework.Subcategory][]string{
	casework.SubLeak:               {"渗漏水", "渗漏", "漏水"},
	casework.SubCrack:              {"墙地面开裂", "开裂", "裂缝"},
	casework.SubDoorWindow:         {"门窗"},
	casework.SubPlumbing:           {"给排水", "水管"},
	casework.SubElectrical:         {"电气", "电路"},
	casework.SubStructural:         {"主体结构", "结构"},
	casework.SubDecoration:         {"装修"},
	casework.SubLayout:             {"布局不合理", "布局"},
	casework.SubMissingFunction:    {"功能缺失"},
	casework.SubLift:               {"电梯"},
	casework.SubFire:               {"消防"},
	casework.SubIntercom:           {"智能化", "对讲", "智能化/对讲", "门禁"},
	casework.SubHeating:            {"供暖", "暖气"},
	casework.SubCooling:            {"空调", "新风", "空调/新风"},
	casework.SubInUnitEquip:        {"户内设备", "室内设备"},
	casework.SubPropertyManagement: {"物业", "物业服务"},
	casework.SubStaff:              {"工作人员", "员工"},
	casework.SubContractor:         {"施工单位", "施工人员"},
	casework.SubCertificate:        {"产权办理", "产权", "办证"},
	casework.SubFees:               {"费用", "收费"},
	casework.SubSuggestion:         {"建议"},
	casework.SubPraise:             {"表扬"},
	casework.SubOther:              {"其他"},
}

// lookup builds a case-insensitive index of codes and names.
func lookup[T ~string](names map[T][]string) map[string]T {
	m := make(map[string]T)
	for code, ns := range names {
		m[normValue(string(code))] = code
		for _, n := range ns {
			m[normValue(n)] = code
		}
	}
	return m
}

var (
	partyKindIndex   = lookup(partyKindNames)
	categoryIndex    = lookup(categoryNames)
	subcategoryIndex = lookup(subcategoryNames)
)

func parsePartyKind(s string) (casework.PartyKind, error) {
	if k, ok := partyKindIndex[normValue(s)]; ok {
		return k, nil
	}
	return "", fmt.Errorf("%q is not a kind of party; use one of %s", s, choices(casework.PartyKinds, partyKindNames))
}

// parseCategory returns "" (any category) for "*".
func parseCategory(s string) (casework.Category, error) {
	if s == "*" {
		return "", nil
	}
	if c, ok := categoryIndex[normValue(s)]; ok {
		return c, nil
	}
	return "", fmt.Errorf("%q is not a category; use * or one of %s", s, choices(casework.Categories, categoryNames))
}

// parseSubcategory returns "" (the whole category) for "" and "*".
func parseSubcategory(c casework.Category, s string) (casework.Subcategory, error) {
	if s == "" || s == "*" {
		return "", nil
	}
	sub, ok := subcategoryIndex[normValue(s)]
	switch {
	case c == "" && ok:
		return "", errors.New("needs a category; a subcategory refines one")
	case ok && sub.Valid(c):
		return sub, nil
	}
	subs := casework.Subcategories[c]
	if c == "" {
		return "", fmt.Errorf("%q is not a subcategory", s)
	}
	names := make(map[casework.Subcategory][]string, len(subs))
	for _, x := range subs {
		names[x] = subcategoryNames[x]
	}
	return "", fmt.Errorf("%q is not a subcategory of %s; use one of %s", s, c, choices(subs, names))
}

// choices lists codes with their first Chinese name: contractor (施工单位), ….
func choices[T ~string](codes []T, names map[T][]string) string {
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = string(c)
		if ns := names[c]; len(ns) > 0 {
			parts[i] += " (" + ns[0] + ")"
		}
	}
	return strings.Join(parts, ", ")
}

var (
	chineseDate = regexp.MustCompile(`^([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日?$`)
	floorRE     = regexp.MustCompile(`^(-|b|负|地下)?([0-9]{1,3})(层|楼|f)?$`)
)

// parseDate accepts what casework.ParseDate accepts and 2024年6月28日.
func parseDate(s string) (casework.Date, error) {
	s = strings.TrimSpace(fold(s))
	if m := chineseDate.FindStringSubmatch(s); m != nil {
		s = m[1] + "-" + m[2] + "-" + m[3]
	}
	return casework.ParseDate(s)
}

// parseFloor accepts 15, 15层, 15F, and for basements -1, B1 and 负1.
func parseFloor(s string) (int, error) {
	m := floorRE.FindStringSubmatch(strings.ToLower(strings.TrimSpace(fold(s))))
	if m == nil {
		return 0, fmt.Errorf("%q is not a floor like 15, or -1 / B1 for a basement", s)
	}
	n, err := strconv.Atoi(m[2])
	if err != nil {
		return 0, fmt.Errorf("%q is not a floor like 15, or -1 / B1 for a basement", s)
	}
	if m[1] != "" {
		if n == 0 {
			return 0, fmt.Errorf("%q is not a floor: basements are numbered from 1", s)
		}
		n = -n
	}
	return n, nil
}

// chineseUnit matches 3栋2单元1502, 3号楼1502室, A座2单元1502.
var chineseUnit = regexp.MustCompile(`^([A-Za-z0-9]+)(?:栋|幢|号楼|座)(?:([A-Za-z0-9]+)单元)?([A-Za-z0-9]+)(?:室|号)?$`)

// parseUnitLabel turns 3-2-1502, 3 - 2 - 1502 or 3栋2单元1502 into the label
// casework.Unit.Label writes (3-2-1502), and its building, entrance and room.
func parseUnitLabel(s string) (label, building, entrance, room string, err error) {
	t := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t':
			return -1
		case '—', '–', '－':
			return '-'
		}
		return r
	}, fold(s))
	if m := chineseUnit.FindStringSubmatch(t); m != nil {
		building, entrance, room = m[1], m[2], m[3]
	} else {
		parts := strings.Split(strings.TrimSuffix(t, "室"), "-")
		switch {
		case len(parts) == 2 && parts[0] != "" && parts[1] != "":
			building, room = parts[0], parts[1]
		case len(parts) == 3 && parts[0] != "" && parts[1] != "" && parts[2] != "":
			building, entrance, room = parts[0], parts[1], parts[2]
		default:
			return "", "", "", "", fmt.Errorf("%q is not a unit like 3-2-1502 (building-entrance-room), 3-1502 or 3栋2单元1502", s)
		}
	}
	u := casework.Unit{Building: building, Entrance: entrance, Room: room}
	return u.Label(), building, entrance, room, nil
}

// phoneHint adds advice when Excel has turned a phone number into a
// floating-point number such as 1.39E+10.
func phoneHint(s, reason string) string {
	if strings.ContainsAny(s, "Ee") && strings.Contains(s, "+") {
		return reason + " (the spreadsheet shows the number in scientific notation: format the column as text and type the number again)"
	}
	return reason
}
