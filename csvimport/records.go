package csvimport

import (
	"fmt"
	"strings"

	"github.com/aftersales/aftersales/casework"
)

// The checkers below turn rows into records. Each value is checked on its
// own first (required, date, floor, phone, kind, category); then the records
// go through casework's Validate methods, which report the first problem of
// each object. Where an object needs a value that is missing or unparsable a
// valid stand-in is used, so that the other values are still checked (the
// missing one has been reported already). A row with a problem takes no part
// in the checks across rows (duplicates, consistency).

// placeholder returns v when ok, or a valid stand-in.
func placeholder(v string, ok bool, stand string) string {
	if ok {
		return v
	}
	return stand
}

// code returns a required code with full-width characters folded.
func (r *row) code(name string) (string, bool) {
	v, ok := r.required(name)
	return fold(v), ok
}

// projectCode returns the required project_code, checked as casework
// checks a project's code.
func (r *row) projectCode() string {
	code, ok := r.code(colProjectCode)
	if ok {
		p := casework.Project{Code: code, Name: "P"}
		r.invalid(p.Validate(), colProjectCode, map[string]string{"code": colProjectCode})
	}
	return code
}

type unitKey struct{ project, building, entrance, room string }

type projectSeen struct {
	line           int
	name           string
	completion     casework.Date
	completionLine int
}

type buildingSeen struct {
	completion     casework.Date
	completionLine int
}

type unitChecker struct {
	p         *parser
	projects  map[string]*projectSeen
	buildings map[[2]string]*buildingSeen
	units     map[unitKey]int
}

func newUnitChecker(p *parser) *unitChecker {
	return &unitChecker{p: p, projects: map[string]*projectSeen{}, buildings: map[[2]string]*buildingSeen{}, units: map[unitKey]int{}}
}

func (c *unitChecker) check(r *row) {
	code, okCode := r.code(colProjectCode)
	name, okName := r.required(colProjectName)
	building, okBuilding := r.code(colBuilding)
	entrance := fold(r.value(colEntrance))
	room, okRoom := r.code(colRoom)
	floorText, okFloor := r.required(colFloor)
	var floor int
	if okFloor {
		var err error
		if floor, err = parseFloor(floorText); err != nil {
			r.problem(colFloor, err.Error())
			okFloor = false
		}
	}
	projectCompletion, _ := r.date(colProjectCompletion)
	buildingCompletion, _ := r.date(colBuildingCompletion)
	delivery, _ := r.date(colDelivery)

	project := casework.Project{Code: placeholder(code, okCode, "P"), Name: placeholder(name, okName, "P")}
	r.invalid(project.Validate(), colProjectCode, map[string]string{"code": colProjectCode, "name": colProjectName})
	unit := casework.Unit{
		ProjectID: 1, // stands for the project, which Store.Import finds or creates
		Building:  placeholder(building, okBuilding, "0"),
		Entrance:  entrance,
		Room:      placeholder(room, okRoom, "0"),
		Floor:     floor,
	}
	if !okFloor {
		unit.Floor = 1
	}
	r.invalid(unit.Validate(), colRoom, map[string]string{"building": colBuilding, "entrance": colEntrance, "room": colRoom, "floor": colFloor})
	completion := buildingCompletion
	if completion.IsZero() {
		completion = projectCompletion
	}
	if !delivery.IsZero() && !completion.IsZero() && delivery.Before(completion) {
		r.problem(colDelivery, fmt.Sprintf("%s is before the completion acceptance on %s; a unit is delivered after it", delivery, completion))
	}
	if r.bad > 0 || c.p.missing {
		return
	}

	key := unitKey{code, building, entrance, room}
	if first, ok := c.units[key]; ok {
		r.duplicate("unit "+unit.Label()+" of project "+code, first)
		return
	}
	c.units[key] = r.line
	c.checkProject(r, code, name, projectCompletion)
	c.checkBuilding(r, code, building, buildingCompletion)
	if r.bad > 0 {
		return
	}
	c.p.batch.Units = append(c.p.batch.Units, casework.UnitRecord{
		Line:               r.line,
		ProjectCode:        code,
		ProjectName:        name,
		ProjectCompletion:  projectCompletion,
		Building:           building,
		BuildingCompletion: buildingCompletion,
		Entrance:           entrance,
		Floor:              floor,
		Room:               room,
		Delivery:           delivery,
	})
}

// checkProject reports a project named or dated differently on two lines.
func (c *unitChecker) checkProject(r *row, code, name string, completion casework.Date) {
	s, ok := c.projects[code]
	if !ok {
		c.projects[code] = &projectSeen{line: r.line, name: name, completion: completion, completionLine: r.line}
		return
	}
	if name != s.name {
		r.problem(colProjectName, fmt.Sprintf("project %s is named %q on line %d; a project has one name", code, s.name, s.line))
	}
	switch {
	case completion.IsZero():
	case s.completion.IsZero():
		s.completion, s.completionLine = completion, r.line
	case completion != s.completion:
		r.problem(colProjectCompletion, fmt.Sprintf("project %s was accepted on %s according to line %d", code, s.completion, s.completionLine))
	}
}

// checkBuilding reports a building dated differently on two lines.
func (c *unitChecker) checkBuilding(r *row, project, building string, completion casework.Date) {
	key := [2]string{project, building}
	s, ok := c.buildings[key]
	if !ok {
		c.buildings[key] = &buildingSeen{completion: completion, completionLine: r.line}
		return
	}
	switch {
	case completion.IsZero():
	case s.completion.IsZero():
		s.completion, s.completionLine = completion, r.line
	case completion != s.completion:
		r.problem(colBuildingCompletion, fmt.Sprintf("building %s of project %s was accepted on %s according to line %d", building, project, s.completion, s.completionLine))
	}
}

type ownerKey struct{ project, unit, name, phone string }

type ownerChecker struct {
	p      *parser
	owners map[ownerKey]int
}

func newOwnerChecker(p *parser) *ownerChecker {
	return &ownerChecker{p: p, owners: map[ownerKey]int{}}
}

func (c *ownerChecker) check(r *row) {
	project := r.projectCode()
	unitText, okUnit := r.required(colUnit)
	name, okName := r.required(colName)
	phoneText, okPhone := r.required(colPhone)

	var label string
	if okUnit {
		l, building, entrance, room, err := parseUnitLabel(unitText)
		if err != nil {
			r.problem(colUnit, err.Error())
		} else {
			label = l
			u := casework.Unit{ProjectID: 1, Building: building, Entrance: entrance, Room: room, Floor: 1}
			r.invalid(u.Validate(), colUnit, nil)
		}
	}
	var phone string
	if okPhone {
		phone, okPhone = r.phone(colPhone, phoneText, casework.NormalizePhone)
	}
	if okName {
		o := casework.Owner{Name: name, Phone: placeholder(phone, okPhone, "13900000000")}
		r.invalid(o.Validate(), colName, map[string]string{"name": colName, "phone": colPhone})
	}
	if r.bad > 0 || c.p.missing {
		return
	}

	key := ownerKey{project, label, name, phone}
	if first, ok := c.owners[key]; ok {
		r.duplicate(fmt.Sprintf("owner %s of unit %s", name, label), first)
		return
	}
	c.owners[key] = r.line
	c.p.batch.Owners = append(c.p.batch.Owners, casework.OwnerRecord{
		Line:        r.line,
		ProjectCode: project,
		Unit:        label,
		Name:        name,
		Phone:       phone,
	})
}

type partySeen struct {
	line  int
	party casework.Party
}

type partyChecker struct {
	p       *parser
	parties map[string]*partySeen
	members map[[2]string]int
}

func newPartyChecker(p *parser) *partyChecker {
	return &partyChecker{p: p, parties: map[string]*partySeen{}, members: map[[2]string]int{}}
}

func (c *partyChecker) check(r *row) {
	code, okCode := r.code(colCode)
	name, okName := r.required(colName)
	kindText, okKind := r.required(colKind)
	var kind casework.PartyKind
	if okKind {
		var err error
		if kind, err = parsePartyKind(kindText); err != nil {
			r.problem(colKind, err.Error())
			okKind = false
		}
	}
	trade := r.value(colTrade)
	phone := r.value(colPhone)
	if phone != "" {
		phone, _ = r.phone(colPhone, phone, casework.NormalizeContactPhone)
	}
	party := casework.Party{
		Code:  placeholder(code, okCode, "P"),
		Name:  placeholder(name, okName, "P"),
		Kind:  kind,
		Trade: trade,
		Phone: phone,
	}
	if !okKind {
		party.Kind = casework.PartyContractor
	}
	r.invalid(party.Validate(), colCode, map[string]string{"code": colCode, "name": colName, "kind": colKind, "phone": colPhone})

	memberName, memberPhone, memberRole := r.value(colMemberName), r.value(colMemberPhone), r.value(colMemberRole)
	if memberName != "" || memberPhone != "" || memberRole != "" {
		okMember := true
		if memberName == "" {
			r.problem(colMemberName, "is required when the row names a person (member_phone or member_role is given)")
			okMember = false
		}
		if memberPhone == "" {
			r.problem(colMemberPhone, "is required when the row names a person (member_name or member_role is given)")
			okMember = false
		} else {
			var ok bool
			if memberPhone, ok = r.phone(colMemberPhone, memberPhone, casework.NormalizeContactPhone); !ok {
				okMember = false
			}
		}
		if okMember {
			m := casework.Member{PartyID: 1, Name: memberName, Phone: memberPhone, Role: memberRole}
			r.invalid(m.Validate(), colMemberName, map[string]string{"name": colMemberName, "phone": colMemberPhone})
		}
	}
	if r.bad > 0 || c.p.missing {
		return
	}

	key := [2]string{code, memberPhone}
	if first, ok := c.members[key]; ok {
		what := "party " + code + " without a person"
		if memberPhone != "" {
			what = "the person with phone " + memberPhone + " of party " + code
		}
		r.duplicate(what, first)
		return
	}
	c.members[key] = r.line
	if s, ok := c.parties[code]; ok {
		if strings.ReplaceAll(phone, "-", "") == strings.ReplaceAll(s.party.Phone, "-", "") {
			phone = s.party.Phone // 021 6000 0001 and 021-60000001 are one number
		}
		for _, f := range []struct{ col, have, want string }{
			{colName, name, s.party.Name},
			{colKind, string(kind), string(s.party.Kind)},
			{colTrade, trade, s.party.Trade},
			{colPhone, phone, s.party.Phone},
		} {
			if f.have != f.want {
				r.problem(f.col, fmt.Sprintf("party %s has %s %q on line %d; repeat the party's details identically on each of its rows", code, f.col, f.want, s.line))
			}
		}
	} else {
		c.parties[code] = &partySeen{line: r.line, party: party}
	}
	if r.bad > 0 {
		return
	}
	c.p.batch.Parties = append(c.p.batch.Parties, casework.PartyRecord{
		Line:        r.line,
		Code:        code,
		Name:        name,
		Kind:        kind,
		Trade:       trade,
		Phone:       phone,
		MemberName:  memberName,
		MemberPhone: memberPhone,
		MemberRole:  memberRole,
	})
}

type routeKey struct {
	project, building string
	category          casework.Category
	subcategory       casework.Subcategory
}

type routeChecker struct {
	p      *parser
	routes map[routeKey]int
}

func newRouteChecker(p *parser) *routeChecker {
	return &routeChecker{p: p, routes: map[routeKey]int{}}
}

func (c *routeChecker) check(r *row) {
	project := r.projectCode()
	building := fold(r.value(colBuilding))
	if building == "*" {
		building = ""
	}
	if building != "" {
		b := casework.Building{ProjectID: 1, Code: building}
		r.invalid(b.Validate(), colBuilding, map[string]string{"building": colBuilding})
	}
	categoryText, okCategory := r.requiredWith(colCategory, "is required; write * for every category")
	var category casework.Category
	if okCategory {
		var err error
		if category, err = parseCategory(categoryText); err != nil {
			r.problem(colCategory, err.Error())
			okCategory = false
		}
	}
	var sub casework.Subcategory
	if okCategory {
		var err error
		if sub, err = parseSubcategory(category, r.value(colSubcategory)); err != nil {
			r.problem(colSubcategory, err.Error())
		}
	}
	party, okParty := r.code(colPartyCode)
	if okParty {
		pt := casework.Party{Code: party, Name: "P", Kind: casework.PartyInHouse}
		r.invalid(pt.Validate(), colPartyCode, map[string]string{"code": colPartyCode})
	}
	if okCategory && r.bad == 0 {
		rt := casework.Route{ProjectID: 1, PartyID: 1, Category: category, Subcategory: sub}
		r.invalid(rt.Validate(), colCategory, map[string]string{"category": colCategory, "subcategory": colSubcategory})
	}
	if r.bad > 0 || c.p.missing {
		return
	}

	key := routeKey{project, building, category, sub}
	if first, ok := c.routes[key]; ok {
		r.duplicate(fmt.Sprintf("the route for %s", describeRoute(key)), first)
		return
	}
	c.routes[key] = r.line
	c.p.batch.Routes = append(c.p.batch.Routes, casework.RouteRecord{
		Line:        r.line,
		ProjectCode: project,
		Building:    building,
		Category:    category,
		Subcategory: sub,
		PartyCode:   party,
	})
}

func describeRoute(k routeKey) string {
	s := "project " + k.project
	if k.building != "" {
		s += " building " + k.building
	}
	if k.category == "" {
		return s + ", every category"
	}
	s += ", " + string(k.category)
	if k.subcategory != "" {
		s += "/" + string(k.subcategory)
	}
	return s
}
