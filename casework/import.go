package casework

// ImportBatch is a whole registry import: records parsed from a file, each
// with the line it came from, keyed by natural keys (codes and labels) rather
// than IDs. Store.Import applies a batch in one transaction.
type ImportBatch struct {
	Units   []UnitRecord
	Owners  []OwnerRecord
	Parties []PartyRecord
	Routes  []RouteRecord
}

// UnitRecord is one unit. Its project and building are created or updated
// with it: a project by Code, a building by (project, Code), a unit by
// (project, building, entrance, room).
type UnitRecord struct {
	Line               int
	ProjectCode        string
	ProjectName        string
	ProjectCompletion  Date // zero: leave the stored date alone
	Building           string
	BuildingCompletion Date // zero: leave the stored date alone
	Entrance           string
	Floor              int
	Room               string
	Delivery           Date // zero: leave the stored date alone
}

// OwnerRecord binds an owner to an existing unit, named by project code and
// label (3-2-1502). An owner is matched by name and phone; a new one is
// created otherwise.
type OwnerRecord struct {
	Line        int
	ProjectCode string
	Unit        string // label as Unit.Label writes it
	Name        string
	Phone       string
}

// PartyRecord is one responsible party and, optionally, one of its people.
// A party is matched by Code, a member by (party, phone).
type PartyRecord struct {
	Line        int
	Code        string
	Name        string
	Kind        PartyKind
	Trade       string
	Phone       string
	MemberName  string
	MemberPhone string
	MemberRole  string
}

// RouteRecord routes a project's (and optionally one building's) cases of a
// category (and optionally subcategory) to a party. A route is matched by
// (project, building, category, subcategory) and its party updated.
type RouteRecord struct {
	Line        int
	ProjectCode string
	Building    string // "" or "*": every building
	Category    Category
	Subcategory Subcategory
	PartyCode   string
}

// ImportStats counts what an import created or updated.
type ImportStats struct {
	Projects  int `json:"projects"`
	Buildings int `json:"buildings"`
	Units     int `json:"units"`
	Owners    int `json:"owners"`
	Parties   int `json:"parties"`
	Members   int `json:"members"`
	Routes    int `json:"routes"`
}
