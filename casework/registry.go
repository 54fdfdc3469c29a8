package casework

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Project is a development (楼盘). Its completion-acceptance date (竣工验收)
// starts the statutory warranty periods unless a building has its own.
type Project struct {
	ID             int64
	Code           string // short stable key used in imports and case numbers, e.g. "HJY"
	Name           string // e.g. 海景苑
	City           string
	CompletionDate Date          // 竣工验收合格; zero when unknown
	Warranty       WarrantyTerms // per-project overrides of the default terms
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Validate checks the fields a Project must have.
func (p *Project) Validate() error {
	if err := validCode("code", p.Code); err != nil {
		return err
	}
	if strings.TrimSpace(p.Name) == "" {
		return Invalid("name", "is required")
	}
	return p.Warranty.Validate()
}

// Building is a building (楼栋) of a project. A building may carry its own
// completion-acceptance date when it was accepted in a later phase.
type Building struct {
	ID             int64
	ProjectID      int64
	Code           string // as written on the building: "3", "A2"
	Name           string // e.g. 3栋
	CompletionDate Date   // zero: the project's date applies
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Validate checks the fields a Building must have.
func (b *Building) Validate() error {
	if b.ProjectID == 0 {
		return Invalid("project", "is required")
	}
	return validCode("building", b.Code)
}

// Unit is a home (房号). Its parts are kept separately so that owners can name
// it in many ways; it is displayed like 3-2-1502 (building-unit-room).
type Unit struct {
	ID           int64
	ProjectID    int64
	BuildingID   int64
	Building     string // the building's code, denormalised for display and search
	Entrance     string // 单元, "" for buildings without entrances
	Floor        int
	Room         string // "1502"
	DeliveryDate Date   // 交付; zero when not yet delivered
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Label returns the unit as the department writes it: 3-2-1502, or 3-1502
// for a building without entrances.
func (u *Unit) Label() string {
	if u.Entrance == "" {
		return u.Building + "-" + u.Room
	}
	return u.Building + "-" + u.Entrance + "-" + u.Room
}

// Validate checks the fields a Unit must have.
func (u *Unit) Validate() error {
	if u.ProjectID == 0 {
		return Invalid("project", "is required")
	}
	if err := validCode("building", u.Building); err != nil {
		return err
	}
	if u.Entrance != "" {
		if err := validCode("entrance", u.Entrance); err != nil {
			return err
		}
	}
	if err := validCode("room", u.Room); err != nil {
		return err
	}
	if u.Floor < -10 || u.Floor > 200 {
		return Invalid("floor", "%d is not a plausible floor", u.Floor)
	}
	return nil
}

// Owner is a homeowner (业主). An owner may hold several units and a unit may
// have several owners; see OwnerUnit.
type Owner struct {
	ID        int64
	Name      string
	Phone     string // normalised by NormalizePhone
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks and normalises an Owner.
func (o *Owner) Validate() error {
	if err := validName("name", o.Name); err != nil {
		return err
	}
	p, err := NormalizePhone(o.Phone)
	if err != nil {
		return err
	}
	o.Phone = p
	return nil
}

// OwnerUnit binds an owner to a unit.
type OwnerUnit struct {
	OwnerID int64
	UnitID  int64
}

// PartyKind is the kind of a responsible unit.
type PartyKind string

// The kinds of responsible units (责任单位).
const (
	PartyContractor         PartyKind = "contractor"          // 施工单位, by trade
	PartyDesignFirm         PartyKind = "design_firm"         // 设计单位
	PartySupplier           PartyKind = "supplier"            // 供应商
	PartyMaintenance        PartyKind = "maintenance"         // 维保单位
	PartyPropertyManagement PartyKind = "property_management" // 物业
	PartyInHouse            PartyKind = "in_house"            // 公司内部工程部
)

// PartyKinds lists every PartyKind.
var PartyKinds = []PartyKind{PartyContractor, PartyDesignFirm, PartySupplier, PartyMaintenance, PartyPropertyManagement, PartyInHouse}

// Valid reports whether k is a known PartyKind.
func (k PartyKind) Valid() bool { return slices.Contains(PartyKinds, k) }

// Party is a responsible unit: a contractor, a design firm, a supplier, a
// maintenance company, property management or in-house engineering.
type Party struct {
	ID        int64
	Code      string // stable key used in imports and routes
	Name      string
	Kind      PartyKind
	Trade     string // for contractors and suppliers: waterproofing, doors_windows, plumbing…
	Phone     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks and normalises a Party.
func (p *Party) Validate() error {
	if err := validCode("code", p.Code); err != nil {
		return err
	}
	if err := validName("name", p.Name); err != nil {
		return err
	}
	if !p.Kind.Valid() {
		return Invalid("kind", "%q is not one of %v", p.Kind, PartyKinds)
	}
	if p.Phone != "" {
		ph, err := NormalizeContactPhone(p.Phone)
		if err != nil {
			return err
		}
		p.Phone = ph
	}
	return nil
}

// Member is a person of a party: an engineer, a site manager, a supervisor.
// Their chat identity is bound in a later step of the product.
type Member struct {
	ID        int64
	PartyID   int64
	Name      string
	Phone     string
	Role      string // engineer, manager, supervisor, duty …
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks and normalises a Member.
func (m *Member) Validate() error {
	if m.PartyID == 0 {
		return Invalid("party", "is required")
	}
	if err := validName("name", m.Name); err != nil {
		return err
	}
	ph, err := NormalizeContactPhone(m.Phone)
	if err != nil {
		return err
	}
	m.Phone = ph
	return nil
}

// Route sends cases of a project (and optionally one building) and a category
// (and optionally a subcategory) to a responsible party. Zero BuildingID, empty
// Category and empty Subcategory mean "any".
type Route struct {
	ID          int64
	ProjectID   int64
	BuildingID  int64
	Category    Category
	Subcategory Subcategory
	PartyID     int64
	CreatedAt   time.Time
}

// Validate checks a Route.
func (r *Route) Validate() error {
	if r.ProjectID == 0 {
		return Invalid("project", "is required")
	}
	if r.PartyID == 0 {
		return Invalid("party", "is required")
	}
	if r.Category != "" && !r.Category.Valid() {
		return Invalid("category", "%q is not one of %v", r.Category, Categories)
	}
	if r.Subcategory != "" {
		if r.Category == "" {
			return Invalid("subcategory", "needs a category")
		}
		if !r.Subcategory.Valid(r.Category) {
			return Invalid("subcategory", "%q is not a subcategory of %s", r.Subcategory, r.Category)
		}
	}
	return nil
}

// specificity ranks how precisely a route matches: building beats subcategory
// beats category.
func (r *Route) specificity() int {
	s := 0
	if r.BuildingID != 0 {
		s += 4
	}
	if r.Subcategory != "" {
		s += 2
	}
	if r.Category != "" {
		s++
	}
	return s
}

func (r *Route) matches(projectID, buildingID int64, c Category, sub Subcategory) bool {
	return r.ProjectID == projectID &&
		(r.BuildingID == 0 || r.BuildingID == buildingID) &&
		(r.Category == "" || r.Category == c) &&
		(r.Subcategory == "" || r.Subcategory == sub)
}

// ResolveRoute picks the responsible party for a case in the given project and
// building with the given category and subcategory: of the routes that match,
// the most specific wins (a building-specific route beats a project-wide one,
// then a subcategory beats a whole category, then a category beats "any").
// Among equally specific routes the one created first wins. It returns
// ErrNotFound when no route matches.
func ResolveRoute(routes []Route, projectID, buildingID int64, c Category, sub Subcategory) (Route, error) {
	best := -1
	for i := range routes {
		r := &routes[i]
		if !r.matches(projectID, buildingID, c, sub) {
			continue
		}
		if best < 0 || r.specificity() > routes[best].specificity() ||
			(r.specificity() == routes[best].specificity() && r.ID < routes[best].ID) {
			best = i
		}
	}
	if best < 0 {
		return Route{}, fmt.Errorf("route for %s/%s in project %d building %d: %w", c, sub, projectID, buildingID, ErrNotFound)
	}
	return routes[best], nil
}

var (
	cnMobile  = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
	intlPhone = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	landline  = regexp.MustCompile(`^0[1-9][0-9]{1,3}-?[0-9]{7,8}$`)
	codeRE    = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N}_.\-]{0,31}$`)
)

// NormalizePhone checks and normalises a homeowner's phone number: a mainland
// Chinese mobile number (11 digits starting 1[3-9], with or without +86) or an
// international number in E.164 form (+ and 7–15 digits). Spaces, dashes and
// brackets are ignored. Mainland numbers are stored without +86.
func NormalizePhone(s string) (string, error) {
	p := strings.ReplaceAll(stripPhone(s), "-", "")
	switch {
	case p == "":
		return "", Invalid("phone", "is required")
	case strings.HasPrefix(p, "+86") && cnMobile.MatchString(p[3:]):
		return p[3:], nil
	case strings.HasPrefix(p, "0086") && cnMobile.MatchString(p[4:]):
		return p[4:], nil
	case cnMobile.MatchString(p):
		return p, nil
	case strings.HasPrefix(p, "00") && intlPhone.MatchString("+"+p[2:]):
		return "+" + p[2:], nil
	case intlPhone.MatchString(p) && !strings.HasPrefix(p, "+86"):
		return p, nil
	}
	// The number is masked: validation errors may reach logs.
	return "", Invalid("phone", "%q is not a mobile number like 13812345678 or +447700900123", MaskPhone(s))
}

// NormalizeContactPhone accepts what NormalizePhone accepts and also a
// landline with its area code (021-61234567), as companies list.
func NormalizeContactPhone(s string) (string, error) {
	if p := stripPhone(s); landline.MatchString(p) {
		return p, nil
	}
	return NormalizePhone(s)
}

func stripPhone(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '(', ')', '（', '）', '\u00a0', '.':
			return -1
		case '－', '—':
			return '-'
		}
		return r
	}, strings.TrimSpace(s))
}

// MaskPhone hides the middle of a phone number for logs: 138****5678.
func MaskPhone(p string) string {
	r := []rune(p)
	if len(r) < 7 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:3]) + "****" + string(r[len(r)-4:])
}

func validCode(field, s string) error {
	if !codeRE.MatchString(s) {
		return Invalid(field, "%q must be 1–32 letters, digits, '-', '_' or '.'", s)
	}
	return nil
}

// ValidateName checks a person's or company's name as every record does:
// not empty, valid UTF-8, at most 100 characters, no control characters.
// The error is a *ValidationError for field.
func ValidateName(field, s string) error { return validName(field, s) }

func validName(field, s string) error {
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return Invalid(field, "is required")
	case !utf8.ValidString(t):
		return Invalid(field, "is not valid UTF-8")
	case utf8.RuneCountInString(t) > 100:
		return Invalid(field, "is longer than 100 characters")
	}
	for _, r := range t {
		if r < 0x20 || r == 0x7f {
			return Invalid(field, "contains control characters")
		}
	}
	return nil
}

// ResponsibilityOf is the first judgment of responsibility (责任界定) when a
// case is routed to a party of kind k: the developer answers through its
// contractor, design firm or supplier (a maintenance company is the
// supplier's side), property management for its own; in-house engineering
// leaves it to be determined on site.
func ResponsibilityOf(k PartyKind) Responsibility {
	switch k {
	case PartyContractor:
		return ResponsibilityContractor
	case PartyDesignFirm:
		return ResponsibilityDesignFirm
	case PartySupplier, PartyMaintenance:
		return ResponsibilitySupplier
	case PartyPropertyManagement:
		return ResponsibilityPropertyManagement
	}
	return ResponsibilityUndetermined
}
