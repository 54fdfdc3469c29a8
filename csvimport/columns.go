package csvimport

import (
	"strings"
	"unicode"
)

// Column describes one column that a kind of file accepts. A header cell
// matches a column when, compared case-insensitively and ignoring spaces,
// '_', '-', '.', a trailing '*' and a trailing parenthesised note such as
// "(yyyy-mm-dd)", it equals the column's Name, its Chinese header or one of
// its Aliases.
type Column struct {
	Name     string   // English header, also used in messages: "project_code"
	Chinese  string   // Chinese header: "项目编码"
	Aliases  []string // further accepted headers
	Required bool     // the file must have this column
}

// Column names, shared by several kinds.
const (
	colProjectCode        = "project_code"
	colProjectName        = "project_name"
	colProjectCompletion  = "project_completion"
	colBuilding           = "building"
	colBuildingCompletion = "building_completion"
	colEntrance           = "entrance"
	colFloor              = "floor"
	colRoom               = "room"
	colDelivery           = "delivery_date"
	colUnit               = "unit"
	colName               = "name"
	colPhone              = "phone"
	colCode               = "code"
	colKind               = "kind"
	colTrade              = "trade"
	colMemberName         = "member_name"
	colMemberPhone        = "member_phone"
	colMemberRole         = "member_role"
	colCategory           = "category"
	colSubcategory        = "subcategory"
	colPartyCode          = "party_code"
	colMember             = "member"
	colDay                = "day"
	colFrom               = "from"
	colTo                 = "to"
)

var projectCodeColumn = Column{colProjectCode, "项目编码", []string{"项目代码", "楼盘编码", "project_id"}, true}

var columns = map[Kind][]Column{
	KindUnits: {
		projectCodeColumn,
		{colProjectName, "项目名称", []string{"项目", "楼盘", "楼盘名称"}, true},
		{colProjectCompletion, "竣工验收日期", []string{"项目竣工日期", "项目竣工验收日期", "竣工日期", "completion", "completion_date", "project_completion_date"}, false},
		{colBuilding, "楼栋", []string{"楼号", "楼栋号", "栋", "栋号", "幢", "building_code", "bldg"}, true},
		{colBuildingCompletion, "楼栋竣工日期", []string{"楼栋竣工验收日期", "building_completion_date"}, false},
		{colEntrance, "单元", []string{"单元号", "entrance_code"}, false},
		{colFloor, "楼层", []string{"层", "所在楼层", "level", "storey"}, true},
		{colRoom, "房号", []string{"房间号", "户号", "门牌号", "室", "room_no", "room_number"}, true},
		{colDelivery, "交付日期", []string{"交房日期", "收楼日期", "delivery", "delivered", "handover_date"}, false},
	},
	KindOwners: {
		projectCodeColumn,
		{colUnit, "房号", []string{"房屋", "楼栋单元房号", "单元房号", "unit_label", "room"}, true},
		{colName, "姓名", []string{"业主", "业主姓名", "owner", "owner_name"}, true},
		{colPhone, "联系电话", []string{"电话", "手机", "手机号", "手机号码", "mobile", "phone_number", "tel"}, true},
	},
	KindParties: {
		{colCode, "单位编码", []string{"编码", "party_code"}, true},
		{colName, "单位名称", []string{"名称", "party_name", "company"}, true},
		{colKind, "类型", []string{"单位类型", "type", "party_kind"}, true},
		{colTrade, "专业", []string{"工种", "专业类别"}, false},
		{colPhone, "电话", []string{"单位电话", "联系电话", "office_phone", "party_phone"}, false},
		{colMemberName, "联系人", []string{"联系人姓名", "人员", "人员姓名", "contact", "contact_name"}, false},
		{colMemberPhone, "联系人电话", []string{"联系人手机", "人员电话", "contact_phone"}, false},
		{colMemberRole, "角色", []string{"职务", "岗位", "role", "contact_role"}, false},
	},
	KindRoutes: {
		projectCodeColumn,
		{colBuilding, "楼栋", []string{"楼号", "栋", "栋号"}, false},
		{colCategory, "类别", []string{"分类", "诉求分类", "问题类型"}, true},
		{colSubcategory, "子类", []string{"子类别", "小类", "细类"}, false},
		{colPartyCode, "责任单位编码", []string{"责任单位", "单位编码", "party"}, true},
	},
	KindRoster: {
		projectCodeColumn,
		{colMember, "值班人", []string{"值班主管", "主管", "值班人员", "姓名", "电话", "手机", "name", "phone", "member_name", "member_phone", "supervisor"}, true},
		{colDay, "值班日", []string{"日期", "星期", "值班日期", "weekday", "date"}, true},
		{colFrom, "开始时间", []string{"开始", "起", "自", "start", "from_time"}, true},
		{colTo, "结束时间", []string{"结束", "止", "至", "end", "to_time", "until"}, true},
	},
}

// Columns returns the columns that a file of kind k accepts, in the order the
// examples use, or nil for an unknown kind.
func Columns(k Kind) []Column {
	cols := columns[k]
	out := make([]Column, len(cols))
	for i, c := range cols {
		c.Aliases = append([]string(nil), c.Aliases...)
		out[i] = c
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// headerIndex maps every normalised header a kind accepts to its column.
var headerIndex = func() map[Kind]map[string]Column {
	idx := make(map[Kind]map[string]Column, len(columns))
	for k, cols := range columns {
		m := make(map[string]Column)
		for _, c := range cols {
			for _, h := range append([]string{c.Name, c.Chinese}, c.Aliases...) {
				n := normHeader(h)
				if prev, ok := m[n]; ok && prev.Name != c.Name {
					panic("csvimport: header " + h + " names both " + prev.Name + " and " + c.Name)
				}
				m[n] = c
			}
		}
		idx[k] = m
	}
	return idx
}()

// normHeader folds a header cell for matching: lower case, without spaces,
// '_', '-', '.', a trailing '*' (a "required" mark in templates) or a trailing
// parenthesised note.
func normHeader(s string) string {
	s = strings.TrimSpace(fold(s))
	for {
		t := strings.TrimRight(s, "* \t")
		if strings.HasSuffix(t, ")") {
			if i := strings.LastIndex(t, "("); i > 0 {
				t = t[:i]
			}
		}
		if t == s {
			break
		}
		s = t
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '_' || r == '-' || r == '.' || unicode.IsSpace(r):
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

// fold turns full-width ASCII (Ｂ１, ３栋, （）, ＊) into ASCII and the
// ideographic space into a space, as Chinese input methods produce them.
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '！' && r <= '～':
			return r - 0xFEE0
		case r == '\u3000':
			return ' '
		}
		return r
	}, s)
}
