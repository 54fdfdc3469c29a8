package casework

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Store is where the department's registry and cases are kept. The
// implementations in storage/sqlite and storage/postgres pass the conformance
// suite in storage/storagetest. Every method is safe for concurrent use.
type Store interface {
	RegistryStore
	CaseStore
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}

// RegistryStore keeps the property registry and the responsible parties.
type RegistryStore interface {
	// CreateProject stores p and sets its ID and timestamps. Returns a
	// *ConflictError if the code is taken, a *ValidationError if p is invalid.
	CreateProject(ctx context.Context, p *Project) error
	// UpdateProject writes every field of p. Returns ErrNotFound if p.ID does not exist.
	UpdateProject(ctx context.Context, p *Project) error
	// FindProjectByID returns ErrNotFound if the project does not exist.
	FindProjectByID(ctx context.Context, id int64) (*Project, error)
	// FindProjectByCode returns ErrNotFound if the project does not exist.
	FindProjectByCode(ctx context.Context, code string) (*Project, error)
	// ListProjects returns every project ordered by code.
	ListProjects(ctx context.Context) ([]*Project, error)

	// CreateBuilding stores b. Returns a *ConflictError if the project already
	// has a building with that code, ErrNotFound if the project does not exist.
	CreateBuilding(ctx context.Context, b *Building) error
	// FindBuildingByID returns ErrNotFound if the building does not exist.
	FindBuildingByID(ctx context.Context, id int64) (*Building, error)
	// ListBuildings returns a project's buildings ordered by code.
	ListBuildings(ctx context.Context, projectID int64) ([]*Building, error)

	// CreateUnit stores u; u.BuildingID and u.Building must name an existing
	// building of u.ProjectID. Returns a *ConflictError when the project already
	// has that building-entrance-room.
	CreateUnit(ctx context.Context, u *Unit) error
	// UpdateUnit writes every field of u. Returns ErrNotFound if u.ID does not exist.
	UpdateUnit(ctx context.Context, u *Unit) error
	// FindUnitByID returns ErrNotFound if the unit does not exist.
	FindUnitByID(ctx context.Context, id int64) (*Unit, error)
	// FindUnits returns the units that match f, ordered by building, entrance,
	// room, and the number that match without paging.
	FindUnits(ctx context.Context, f UnitFilter) ([]*Unit, int, error)

	// CreateOwner stores o. Owners are not unique by phone: two people may
	// share a family phone.
	CreateOwner(ctx context.Context, o *Owner) error
	// UpdateOwner writes every field of o. Returns ErrNotFound if o.ID does not exist.
	UpdateOwner(ctx context.Context, o *Owner) error
	// FindOwnerByID returns ErrNotFound if the owner does not exist.
	FindOwnerByID(ctx context.Context, id int64) (*Owner, error)
	// FindOwnersByPhone returns the owners with the phone (normalised first).
	FindOwnersByPhone(ctx context.Context, phone string) ([]*Owner, error)
	// FindOwnersByName returns the owners called exactly name, spaces around
	// it ignored, ordered by ID: at most MaxOwnersByName.
	FindOwnersByName(ctx context.Context, name string) ([]*Owner, error)
	// BindOwnerUnit records that the owner holds the unit. Binding twice is not
	// an error. Returns ErrNotFound when either does not exist.
	BindOwnerUnit(ctx context.Context, ownerID, unitID int64) error
	// UnbindOwnerUnit removes the binding. Returns ErrNotFound when there is none.
	UnbindOwnerUnit(ctx context.Context, ownerID, unitID int64) error
	// OwnerUnits returns the units an owner holds, ordered by ID.
	OwnerUnits(ctx context.Context, ownerID int64) ([]*Unit, error)
	// UnitOwners returns the owners of a unit, ordered by ID.
	UnitOwners(ctx context.Context, unitID int64) ([]*Owner, error)

	// CreateParty stores p. Returns a *ConflictError if the code is taken.
	CreateParty(ctx context.Context, p *Party) error
	// UpdateParty writes every field of p. Returns ErrNotFound if p.ID does not exist.
	UpdateParty(ctx context.Context, p *Party) error
	// FindPartyByID returns ErrNotFound if the party does not exist.
	FindPartyByID(ctx context.Context, id int64) (*Party, error)
	// FindPartyByCode returns ErrNotFound if the party does not exist.
	FindPartyByCode(ctx context.Context, code string) (*Party, error)
	// ListParties returns every party ordered by code.
	ListParties(ctx context.Context) ([]*Party, error)

	// CreateMember stores m. Returns ErrNotFound if the party does not exist.
	CreateMember(ctx context.Context, m *Member) error
	// UpdateMember writes every field of m. Returns ErrNotFound if m.ID does not exist.
	UpdateMember(ctx context.Context, m *Member) error
	// FindMemberByID returns ErrNotFound if the member does not exist.
	FindMemberByID(ctx context.Context, id int64) (*Member, error)
	// ListMembers returns a party's members ordered by ID.
	ListMembers(ctx context.Context, partyID int64) ([]*Member, error)

	// CreateRoute stores r. Returns a *ConflictError if an identical route
	// (project, building, category, subcategory) exists.
	CreateRoute(ctx context.Context, r *Route) error
	// DeleteRoute removes a route. Returns ErrNotFound if it does not exist.
	DeleteRoute(ctx context.Context, id int64) error
	// ListRoutes returns a project's routes ordered by ID.
	ListRoutes(ctx context.Context, projectID int64) ([]Route, error)

	// Import applies a whole import in one transaction: every record is
	// inserted or, when its natural key exists, updated. When any record
	// refers to something that does not exist, nothing is stored and an
	// *ImportError lists every such record by its line.
	Import(ctx context.Context, batch *ImportBatch) (ImportStats, error)
}

// CaseStore keeps cases and their timelines.
//
// Every entry a store adds to a case's timeline after its EventCreated —
// by UpdateCase, TransitionCase, AddCaseEvent, AddCaseMedia or any other
// write — is noted on the case (Case.NoteContact) in the same transaction:
// the first by a person of the department is the first human contact, and
// the case is written with it, with a new version.
type CaseStore interface {
	// CreateCase registers c: it validates c, assigns its ID and a case number
	// unique across every instance sharing the database, sets Version to 1,
	// State to StateRegistered and the timestamps, stores c.Media, and records
	// an EventCreated by c.ReceivedBy — all in one transaction. Deadlines are
	// stored as set on c (see SLAPolicy.SetDeadlines). A c whose IntakeKey
	// is already a case's stores nothing and returns a
	// *DuplicateIntakeError naming that case.
	CreateCase(ctx context.Context, c *Case) error
	// FindCaseByID returns the case with its media. ErrNotFound if none.
	FindCaseByID(ctx context.Context, id int64) (*Case, error)
	// FindCaseByNumber returns the case with its media. ErrNotFound if none.
	FindCaseByNumber(ctx context.Context, number string) (*Case, error)
	// FindCases returns the cases that match f, newest first, without media,
	// and the number that match without paging.
	FindCases(ctx context.Context, f CaseFilter) ([]*Case, int, error)
	// UpdateCase applies the non-nil fields of upd to the case if its version
	// is still version, increments the version and records an EventUpdated, in
	// one transaction. Returns a *ConflictError if the version moved on,
	// ErrNotFound if the case does not exist.
	UpdateCase(ctx context.Context, id int64, version int, upd CaseUpdate) (*Case, error)
	// TransitionCase performs t.Action on the case (Case.Apply) if its version
	// is still version (0: whatever it is), increments the version and records
	// an EventTransition, in one transaction: both are stored or neither.
	// Returns a *TransitionError if the action is not allowed, a
	// *ConflictError if the version moved on, ErrNotFound if there is no case.
	TransitionCase(ctx context.Context, id int64, version int, t Transition) (*Case, error)
	// AddCaseEvent appends a timeline entry that changes no state (a note, an
	// urge). It sets e.ID, e.Seq and, when zero, e.At. The case's version
	// moves on only when the entry is its first human contact.
	AddCaseEvent(ctx context.Context, e *Event) error
	// AddCaseMedia attaches a media reference to a case and records an
	// EventMedia; the case's version moves on only when the entry is its
	// first human contact. Returns ErrNotFound if there is no case.
	AddCaseMedia(ctx context.Context, m *MediaRef, actor Actor) error
	// ListCaseEvents returns a case's timeline in order (Seq ascending).
	ListCaseEvents(ctx context.Context, caseID int64) ([]*Event, error)
	// UrgeCounts returns, for each of the cases ids that the owner urged
	// (EventUrge), how often and when last; the others are absent. A list's
	// page asks for its cases at once.
	UrgeCounts(ctx context.Context, ids []int64) (map[int64]UrgeCount, error)
}

// Transition is a request to perform an action on a case.
type Transition struct {
	Action Action
	Actor  Actor
	Note   string
	At     time.Time // zero: now
	// Optional changes made with the transition.
	DecisionReason *string    // with accept and reject
	PartyID        *int64     // with dispatch
	AssigneeID     *int64     // with dispatch
	AppointmentAt  *time.Time // with schedule
	Plan           *Plan      // with inspect and propose_plan
	Survey         *Survey    // with survey
	// ClearSlots empties ProposedSlots (the owner picked one).
	ClearSlots bool
	// ClearAppointment forgets the booked visit (the case went back for
	// another repair, or to another engineer).
	ClearAppointment bool // Deadlines replaces the service-level deadlines (a repeat repair runs
	// on deadlines of its own).
	Deadlines *Deadlines
	// EscalatedAt marks the case escalated to the supervisor.
	EscalatedAt *time.Time
}

// CaseUpdate carries the fields of a case staff may change; nil fields are
// left alone.
type CaseUpdate struct {
	Actor          Actor
	Note           string
	Category       *Category
	Subcategory    *Subcategory
	Urgency        *Urgency
	Responsibility *Responsibility
	Location       *Location
	LocationDetail *string
	Description    *string
	Expectation    *string
	ContactTime    *string
	UnitID         *int64
	OwnerID        *int64
	PartyID        *int64
	AssigneeID     *int64
	// New deadlines, when the urgency or category changed (see SLAPolicy).
	Deadlines *Deadlines
	// Appointment and repair.
	ProposedSlots *[]time.Time // nil: unchanged; empty: none offered
	AppointmentAt *time.Time
	Plan          *Plan
	EscalatedAt   *time.Time
}

// Apply copies the non-nil fields of u to c and validates the result.
func (u CaseUpdate) Apply(c *Case) error {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	if u.Category != nil {
		c.Category = *u.Category
	}
	if u.Subcategory != nil {
		c.Subcategory = *u.Subcategory
	}
	if u.Urgency != nil {
		c.Urgency = *u.Urgency
	}
	if u.Responsibility != nil {
		c.Responsibility = *u.Responsibility
	}
	if u.Location != nil {
		c.Location = *u.Location
	}
	set(&c.LocationDetail, u.LocationDetail)
	set(&c.Description, u.Description)
	set(&c.Expectation, u.Expectation)
	set(&c.ContactTime, u.ContactTime)
	if u.UnitID != nil {
		c.UnitID = *u.UnitID
	}
	if u.OwnerID != nil {
		c.OwnerID = *u.OwnerID
	}
	if u.PartyID != nil {
		c.PartyID = *u.PartyID
	}
	if u.AssigneeID != nil {
		c.AssigneeID = *u.AssigneeID
	}
	if u.Deadlines != nil {
		c.RespondBy, c.OnSiteBy, c.ResolveBy = u.Deadlines.RespondBy, u.Deadlines.OnSiteBy, u.Deadlines.ResolveBy
	}
	if u.ProposedSlots != nil {
		c.ProposedSlots = append([]time.Time(nil), (*u.ProposedSlots)...)
	}
	if u.AppointmentAt != nil {
		at := *u.AppointmentAt
		c.AppointmentAt = &at
	}
	if u.Plan != nil {
		p := *u.Plan
		c.Plan = &p
	}
	if u.EscalatedAt != nil {
		at := *u.EscalatedAt
		c.EscalatedAt = &at
	}
	if u.Actor == "" {
		return Invalid("actor", "is required")
	}
	return c.Validate()
}

// Apply performs t on c (see Case.Apply) and copies t's optional changes.
func (t Transition) Apply(c *Case) (from State, err error) {
	if t.Actor == "" {
		return c.State, Invalid("actor", "is required")
	}
	if !t.Action.Valid() {
		return c.State, Invalid("action", "unknown action %q", t.Action)
	}
	from, err = c.Apply(t.Action, t.At)
	if err != nil {
		return from, err
	}
	if t.DecisionReason != nil {
		c.DecisionReason = *t.DecisionReason
	}
	if t.PartyID != nil {
		c.PartyID = *t.PartyID
	}
	if t.AssigneeID != nil {
		c.AssigneeID = *t.AssigneeID
	}
	if t.AppointmentAt != nil {
		at := *t.AppointmentAt
		c.AppointmentAt = &at
	}
	if t.Plan != nil {
		p := *t.Plan
		if err := p.Validate(); err != nil {
			return from, err
		}
		c.Plan = &p
	}
	if t.Survey != nil {
		s := *t.Survey
		if err := s.Validate(); err != nil {
			return from, err
		}
		c.Survey = &s
	}
	if t.ClearSlots {
		c.ProposedSlots = nil
	}
	if t.ClearAppointment {
		c.AppointmentAt = nil
	}
	if t.Deadlines != nil {
		c.RespondBy, c.OnSiteBy, c.ResolveBy = t.Deadlines.RespondBy, t.Deadlines.OnSiteBy, t.Deadlines.ResolveBy
	}
	if t.EscalatedAt != nil {
		at := *t.EscalatedAt
		c.EscalatedAt = &at
	}
	return from, nil
}

// Event returns the timeline entry recording t on c, from state from.
func (t Transition) Event(c *Case, from State) *Event {
	return &Event{CaseID: c.ID, At: t.At, Actor: t.Actor, Kind: EventTransition, Action: t.Action, From: from, To: c.State, Note: t.Note}
}

// UnitFilter selects units. Zero fields match everything.
type UnitFilter struct {
	ProjectID  int64
	BuildingID int64
	Building   string // building code
	Entrance   string
	Room       string
	Offset     int
	Limit      int // 0: 100; at most 1000
}

// CaseFilter selects cases. Zero fields match everything.
type CaseFilter struct {
	States    []State
	Urgency   Urgency
	Category  Category
	ProjectID int64
	// ProjectIDs, when not empty, keeps the cases of these projects (a
	// console user's scope); with ProjectID, both apply.
	ProjectIDs []int64
	BuildingID int64
	UnitID     int64
	OwnerID    int64
	PartyID    int64
	AssigneeID int64
	Channel    Channel
	// ReporterPlatform and ReporterUserID, when set, keep the cases reported
	// from that chat account.
	ReporterPlatform, ReporterUserID string
	// OverdueAt, when set, keeps the cases that are overdue at that moment
	// (Case.Overdue).
	OverdueAt *time.Time
	// Urged keeps the cases the owner urged (催办: an EventUrge) at least
	// once.
	Urged bool
	// Unanswered keeps the cases no person of the department has acted on
	// yet (RespondedAt unset: Case.NoteContact).
	Unanswered bool
	// Order is the list's order; the default is the newest first.
	Order CaseOrder
	// Text keeps the cases whose number, owner name, description, location
	// detail or expectation contains it, case-insensitively for Latin letters.
	Text   string
	Offset int
	Limit  int // 0: 50; at most 500
}

// UrgeCount is how often the owner urged a case (催办) and when last.
type UrgeCount struct {
	N    int
	Last time.Time
}

// CaseOrder is the order of a case list.
type CaseOrder string

// The orders of a case list.
const (
	// OrderNewest lists the newest first (by ReceivedAt, then ID).
	OrderNewest CaseOrder = ""
	// OrderOldest lists the oldest first.
	OrderOldest CaseOrder = "oldest"
	// OrderDue lists the cases by their next deadline (Case.NextDeadline),
	// the soonest first, then the cases with none; among equals, the oldest
	// first.
	OrderDue CaseOrder = "due"
)

// Valid reports whether o is one of the orders.
func (o CaseOrder) Valid() bool { return o == OrderNewest || o == OrderOldest || o == OrderDue }

// Normalize checks f and fills the default limit.
func (f *CaseFilter) Normalize() error {
	if !f.Order.Valid() {
		return Invalid("order", "unknown order %q", f.Order)
	}
	for _, s := range f.States {
		if !s.Valid() {
			return Invalid("state", "unknown state %q", s)
		}
	}
	if f.Urgency != "" && !f.Urgency.Valid() {
		return Invalid("urgency", "unknown urgency %q", f.Urgency)
	}
	if f.Category != "" && !f.Category.Valid() {
		return Invalid("category", "unknown category %q", f.Category)
	}
	if f.Channel != "" && !f.Channel.Valid() {
		return Invalid("channel", "unknown channel %q", f.Channel)
	}
	if f.Offset < 0 {
		return Invalid("offset", "must not be negative")
	}
	switch {
	case f.Limit < 0:
		return Invalid("limit", "must not be negative")
	case f.Limit == 0:
		f.Limit = 50
	case f.Limit > 500:
		f.Limit = 500
	}
	if !utf8.ValidString(f.Text) || strings.ContainsRune(f.Text, 0) {
		return Invalid("text", "is not text: invalid UTF-8 or a NUL byte")
	}
	if len(f.Text) > 200 {
		return Invalid("text", "is longer than 200 bytes")
	}
	return nil
}

// Normalize checks f and fills the default limit.
func (f *UnitFilter) Normalize() error {
	if f.Offset < 0 {
		return Invalid("offset", "must not be negative")
	}
	switch {
	case f.Limit < 0:
		return Invalid("limit", "must not be negative")
	case f.Limit == 0:
		f.Limit = 100
	case f.Limit > 1000:
		f.Limit = 1000
	}
	return nil
}

// Numbering makes case numbers (诉求编号) such as SH-20261127-0042: a prefix
// naming the department or instance, the day of receipt in the department's
// time zone, and a sequence that restarts every day.
type Numbering struct {
	Prefix   string
	Location *time.Location
}

// DefaultNumbering numbers cases SH-YYYYMMDD-NNNN in China Standard Time.
func DefaultNumbering() Numbering {
	return Numbering{Prefix: "SH", Location: chinaTime}
}

var chinaTime = time.FixedZone("CST", 8*60*60)

// ChinaTime is China Standard Time (UTC+8, no daylight saving), the
// department's time zone by default.
func ChinaTime() *time.Location { return chinaTime }

// Day returns the counter key for a case received at t: the prefix and the day.
func (n Numbering) Day(t time.Time) string {
	loc := n.Location
	if loc == nil {
		loc = chinaTime
	}
	return n.Prefix + "-" + t.In(loc).Format("20060102")
}

// Format returns the case number for the seq-th case of a day key.
func (n Numbering) Format(dayKey string, seq int64) string {
	return fmt.Sprintf("%s-%04d", dayKey, seq)
}
