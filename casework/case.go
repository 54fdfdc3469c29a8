package casework

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Category is the first-level classification of a case (诉求分类).
type Category string

// The categories of domain.md §2.
const (
	CategoryEngineeringQuality  Category = "engineering_quality"  // 工程质量类
	CategoryDesignDefect        Category = "design_defect"        // 设计瑕疵类
	CategoryFacilitiesEquipment Category = "facilities_equipment" // 设施设备类
	CategoryServiceAttitude     Category = "service_attitude"     // 服务态度类
	CategoryPolicyConsultation  Category = "policy_consultation"  // 政策咨询类
	CategoryOther               Category = "other"                // 其他建议或表扬
)

// Categories lists every Category in the order the department presents them.
var Categories = []Category{
	CategoryEngineeringQuality, CategoryDesignDefect, CategoryFacilitiesEquipment,
	CategoryServiceAttitude, CategoryPolicyConsultation, CategoryOther,
}

// Valid reports whether c is a known Category.
func (c Category) Valid() bool { return slices.Contains(Categories, c) }

// GetsWorkOrder reports whether a case of category c is repaired: sent to a
// responsible party as a work order (派工). Complaints about service,
// consultations, suggestions and praise are answered instead (答复), never
// dispatched.
func (c Category) GetsWorkOrder() bool {
	return c == CategoryEngineeringQuality || c == CategoryDesignDefect || c == CategoryFacilitiesEquipment
}

// Subcategory refines a Category; each belongs to exactly one.
type Subcategory string

// Subcategories by category.
const (
	SubLeak       Subcategory = "leak"        // 渗漏水
	SubCrack      Subcategory = "crack"       // 墙地面开裂
	SubDoorWindow Subcategory = "door_window" // 门窗
	SubPlumbing   Subcategory = "plumbing"    // 给排水
	SubElectrical Subcategory = "electrical"  // 电气
	SubStructural Subcategory = "structural"  // 主体结构
	SubDecoration Subcategory = "decoration"  // 装修(墙面、地面、吊顶…)

	SubLayout          Subcategory = "layout"           // 布局不合理
	SubMissingFunction Subcategory = "missing_function" // 功能缺失

	SubLift        Subcategory = "lift"     // 电梯
	SubFire        Subcategory = "fire"     // 消防
	SubIntercom    Subcategory = "intercom" // 智能化/对讲
	SubHeating     Subcategory = "heating"  // 供暖
	SubCooling     Subcategory = "cooling"  // 空调/新风
	SubInUnitEquip Subcategory = "in_unit_equipment"

	SubPropertyManagement Subcategory = "property_management"
	SubStaff              Subcategory = "staff"
	SubContractor         Subcategory = "contractor"

	SubCertificate Subcategory = "certificate" // 产权办理
	SubFees        Subcategory = "fees"

	SubSuggestion Subcategory = "suggestion"
	SubPraise     Subcategory = "praise"

	SubOther Subcategory = "other"
)

// Subcategories lists the subcategories of each category.
var Subcategories = map[Category][]Subcategory{
	CategoryEngineeringQuality:  {SubLeak, SubCrack, SubDoorWindow, SubPlumbing, SubElectrical, SubStructural, SubDecoration, SubOther},
	CategoryDesignDefect:        {SubLayout, SubMissingFunction, SubOther},
	CategoryFacilitiesEquipment: {SubLift, SubFire, SubIntercom, SubHeating, SubCooling, SubInUnitEquip, SubOther},
	CategoryServiceAttitude:     {SubPropertyManagement, SubStaff, SubContractor, SubOther},
	CategoryPolicyConsultation:  {SubCertificate, SubFees, SubOther},
	CategoryOther:               {SubSuggestion, SubPraise, SubOther},
}

// Valid reports whether s is a subcategory of c.
func (s Subcategory) Valid(c Category) bool { return slices.Contains(Subcategories[c], s) }

// Urgency is the urgency of a case (紧急程度).
type Urgency string

// The urgency levels of domain.md §2.
const (
	UrgencyNormal         Urgency = "normal"          // 一般
	UrgencyUrgent         Urgency = "urgent"          // 紧急: safety risk, no water or power
	UrgencyMajorComplaint Urgency = "major_complaint" // 重大投诉
)

// Urgencies lists every Urgency.
var Urgencies = []Urgency{UrgencyNormal, UrgencyUrgent, UrgencyMajorComplaint}

// Valid reports whether u is a known Urgency.
func (u Urgency) Valid() bool { return slices.Contains(Urgencies, u) }

// Responsibility says who answers for a problem (责任界定).
type Responsibility string

// The responsibilities of domain.md §2. The developer answers through its
// contractor, design firm or supplier.
const (
	ResponsibilityUndetermined       Responsibility = "undetermined"
	ResponsibilityContractor         Responsibility = "contractor"
	ResponsibilityDesignFirm         Responsibility = "design_firm"
	ResponsibilitySupplier           Responsibility = "supplier"
	ResponsibilityPropertyManagement Responsibility = "property_management"
	ResponsibilityOwnerOrThirdParty  Responsibility = "owner_or_third_party"
)

// Responsibilities lists every Responsibility.
var Responsibilities = []Responsibility{
	ResponsibilityUndetermined, ResponsibilityContractor, ResponsibilityDesignFirm,
	ResponsibilitySupplier, ResponsibilityPropertyManagement, ResponsibilityOwnerOrThirdParty,
}

// Valid reports whether r is a known Responsibility.
func (r Responsibility) Valid() bool { return slices.Contains(Responsibilities, r) }

// Channel is how a case reached the department (受理渠道).
type Channel string

// The intake channels of domain.md §1.
const (
	ChannelWeChat      Channel = "wechat"
	ChannelTelegram    Channel = "telegram"
	ChannelHotline     Channel = "hotline"
	ChannelWalkIn      Channel = "walk_in"
	ChannelLetter      Channel = "letter"
	ChannelReturnVisit Channel = "return_visit"
	ChannelWeb         Channel = "web"
)

// Channels lists every Channel.
var Channels = []Channel{ChannelWeChat, ChannelTelegram, ChannelHotline, ChannelWalkIn, ChannelLetter, ChannelReturnVisit, ChannelWeb}

// Valid reports whether c is a known Channel.
func (c Channel) Valid() bool { return slices.Contains(Channels, c) }

// Chat reports whether cases reach the department through c in a chat with
// the bot (WeChat, Telegram, the chat page), rather than typed in by staff.
func (c Channel) Chat() bool {
	return c == ChannelWeChat || c == ChannelTelegram || c == ChannelWeb
}

// Location is where in the home the problem is (问题发生位置).
type Location string

// The locations the dialogue offers.
const (
	LocationLivingRoom Location = "living_room" // 客厅
	LocationBedroom    Location = "bedroom"     // 卧室
	LocationKitchen    Location = "kitchen"     // 厨房
	LocationBathroom   Location = "bathroom"    // 卫生间
	LocationBalcony    Location = "balcony"     // 阳台
	LocationPublicArea Location = "public_area" // 公共区域
	LocationExterior   Location = "exterior"    // 外墙/屋面
	LocationOther      Location = "other"       // 其他
)

// Locations lists every Location.
var Locations = []Location{LocationLivingRoom, LocationBedroom, LocationKitchen, LocationBathroom, LocationBalcony, LocationPublicArea, LocationExterior, LocationOther}

// Valid reports whether l is a known Location.
func (l Location) Valid() bool { return slices.Contains(Locations, l) }

// MediaKind is the kind of an attachment.
type MediaKind string

// Kinds of attachments.
const (
	MediaPhoto    MediaKind = "photo"
	MediaVideo    MediaKind = "video"
	MediaVoice    MediaKind = "voice"
	MediaDocument MediaKind = "document"
)

// MediaKinds lists every MediaKind.
var MediaKinds = []MediaKind{MediaPhoto, MediaVideo, MediaVoice, MediaDocument}

// Valid reports whether k is a known MediaKind.
func (k MediaKind) Valid() bool { return slices.Contains(MediaKinds, k) }

// MediaRef references a stored attachment of a case: a photo, video, voice
// message or document in the blob store.
type MediaRef struct {
	ID          int64
	CaseID      int64
	Kind        MediaKind
	BlobKey     string // key in the blob store
	ContentType string
	Size        int64
	CreatedAt   time.Time
}

// Validate checks a media reference before it is stored.
func (m *MediaRef) Validate() error {
	if !m.Kind.Valid() {
		return Invalid("media", "kind %q is not one of %v", m.Kind, MediaKinds)
	}
	if strings.TrimSpace(m.BlobKey) == "" {
		return Invalid("media", "blob key is required")
	}
	if m.Size < 0 {
		return Invalid("media", "size must not be negative")
	}
	return nil
}

// Case is one homeowner request: the registration form of domain.md §1 (《客户诉
// 求登记表》) together with its first judgment, its lifecycle state and its
// service-level deadlines.
type Case struct {
	ID      int64
	Number  string // 诉求编号, e.g. SH-20261127-0042; assigned by the Store
	Version int    // incremented by every write; used for optimistic concurrency

	// Owner and home.
	ProjectID  int64
	BuildingID int64 // 0 when not known
	UnitID     int64 // 0 when not known (a public-area report)
	OwnerID    int64 // 0 when the owner is not registered
	OwnerName  string
	OwnerPhone string

	// The request.
	Location       Location
	LocationDetail string     // free text: "主卧飘窗下方"
	Description    string     // 现象描述
	OccurredAt     *time.Time // 发生时间, when known to the day or better
	OccurredText   string     // as the owner said it: "this week", "上个月"
	Expectation    string     // 期望解决方式
	ContactTime    string     // preferred contact time
	Media          []MediaRef

	// Intake.
	Channel    Channel
	ReceivedAt time.Time // 受理时间
	// ReceivedBy is the 受理人: the staff member who typed the case in, or
	// for a case from a chat the bot until a person of the department
	// first acts on it (NoteContact).
	ReceivedBy Actor

	// First judgment and decision.
	Category       Category
	Subcategory    Subcategory
	Urgency        Urgency
	Responsibility Responsibility
	DecisionReason string // why it was accepted or rejected
	PartyID        int64  // responsible party once dispatched
	AssigneeID     int64  // responsible member once dispatched
	// The warranty check at registration (CheckWarranty): in, out, unknown
	// or not applicable, and the last day covered when known.
	WarrantyStatus WarrantyStatus
	WarrantyUntil  Date

	// The chat account that reported the case, to answer it when the owner
	// is not on record; empty for cases staff typed in.
	ReporterPlatform string
	ReporterUserID   string
	// IdentityVerified is set when whoever reported the case proved to be
	// the owner named on it: a chat account that proved the owner's phone
	// (ChatIdentity.Verified), or staff. A case reported by a chat account
	// that did not carries the name and phone it typed, no OwnerID, and
	// this unset: staff check it.
	IdentityVerified bool
	// IntakeKey names one report of a dialogue — its chat account and a
	// random key the dialogue drew for it — so that the same report
	// submitted again (a platform's retry, or the owner's after a crash
	// between the case's commit and the dialogue's save) is not a second
	// case: CreateCase refuses a case whose IntakeKey is already a case's
	// with a *DuplicateIntakeError. "" for cases staff typed in.
	IntakeKey string
	// ParentID is the case this one came from: the complaint opened by a
	// low survey score, or a case split off by staff; 0 when none.
	ParentID int64

	// Appointment and repair.
	ProposedSlots []time.Time // the visit times the engineer offered (2–3)
	AppointmentAt *time.Time  // the visit the owner picked (预约时间)
	Plan          *Plan       // findings on site and the repair plan
	Survey        *Survey     // the owner's satisfaction survey, once answered
	EscalatedAt   *time.Time  // when the case was last escalated to the supervisor

	// Lifecycle.
	State       State
	HeldFrom    State // the state to resume when State is StateOnHold
	RepairCount int   // times the owner rejected the repair (never an answer: Apply)

	// Service levels: deadlines fixed at registration from the SLA policy and
	// the moments they were met. RespondedAt is the first human contact
	// (NoteContact); the others are set by the transitions (Apply).
	RespondBy   *time.Time
	OnSiteBy    *time.Time
	ResolveBy   *time.Time
	RespondedAt *time.Time
	OnSiteAt    *time.Time
	ResolvedAt  *time.Time
	ClosedAt    *time.Time

	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks a case as submitted for registration and fills defaults:
// the urgency defaults to normal, responsibility to undetermined.
func (c *Case) Validate() error {
	if len(c.IntakeKey) > 200 || !utf8.ValidString(c.IntakeKey) || strings.ContainsFunc(c.IntakeKey, unicode.IsControl) {
		return Invalid("intake_key", "must be at most 200 bytes of text")
	}
	if c.ProjectID == 0 {
		return Invalid("project", "is required")
	}
	if c.OwnerPhone != "" {
		p, err := NormalizePhone(c.OwnerPhone)
		if err != nil {
			return err
		}
		c.OwnerPhone = p
	}
	if c.OwnerName != "" {
		if err := validName("owner_name", c.OwnerName); err != nil {
			return err
		}
	}
	if c.Location != "" && !c.Location.Valid() {
		return Invalid("location", "%q is not one of %v", c.Location, Locations)
	}
	if err := validText("description", c.Description, 5000, true); err != nil {
		return err
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"location_detail", c.LocationDetail, 200}, {"occurred_text", c.OccurredText, 100}, {"expectation", c.Expectation, 2000}, {"contact_time", c.ContactTime, 100}} {
		if err := validText(f.name, f.v, f.max, false); err != nil {
			return err
		}
	}
	if !c.Channel.Valid() {
		return Invalid("channel", "%q is not one of %v", c.Channel, Channels)
	}
	if c.ReceivedBy == "" {
		return Invalid("received_by", "is required")
	}
	if !c.Category.Valid() {
		return Invalid("category", "%q is not one of %v", c.Category, Categories)
	}
	if c.Subcategory == "" {
		c.Subcategory = SubOther
	}
	if !c.Subcategory.Valid(c.Category) {
		return Invalid("subcategory", "%q is not a subcategory of %s", c.Subcategory, c.Category)
	}
	if c.Urgency == "" {
		c.Urgency = UrgencyNormal
	}
	if !c.Urgency.Valid() {
		return Invalid("urgency", "%q is not one of %v", c.Urgency, Urgencies)
	}
	if c.Responsibility == "" {
		c.Responsibility = ResponsibilityUndetermined
	}
	if !c.Responsibility.Valid() {
		return Invalid("responsibility", "%q is not one of %v", c.Responsibility, Responsibilities)
	}
	switch c.WarrantyStatus {
	case "":
		c.WarrantyStatus = WarrantyNone
	case WarrantyIn, WarrantyOut, WarrantyUnknown, WarrantyNone:
	default:
		return Invalid("warranty_status", "unknown warranty status %q", c.WarrantyStatus)
	}
	if (c.ReporterPlatform == "") != (c.ReporterUserID == "") {
		return Invalid("reporter", "platform and user id go together")
	}
	if len(c.ProposedSlots) > 3 {
		return Invalid("proposed_slots", "at most 3 slots are offered")
	}
	if c.Plan != nil {
		if err := c.Plan.Validate(); err != nil {
			return err
		}
	}
	if c.Survey != nil {
		if err := c.Survey.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Open reports whether the case still needs work: it is neither closed,
// cancelled nor rejected.
func (c *Case) Open() bool { return !c.State.Terminal() && c.State != StateRejected }

// NoteContact notes on c an entry of its timeline by a at time at. The
// first entry by a person of the department (Actor.IsPerson), whatever it
// records — a transition, an update, a note, a message to the owner, a
// task, a photo, the engineer taking the work order — is the first human
// contact: at becomes c.RespondedAt, the one moment that meets the response
// service level, and on a case from a chat that the bot received, a becomes
// c.ReceivedBy (受理人). Entries by the bot (its acceptance and dispatch of a
// chat's case), the system or the owner, and every entry after the first
// contact, change nothing. NoteContact reports whether it changed c. Stores
// call it for every entry after the case's EventCreated (registering a case
// is no contact), in the transaction that writes the entry, and write c with
// it when it changed.
func (c *Case) NoteContact(a Actor, at time.Time) bool {
	if c.RespondedAt != nil || !a.IsPerson() {
		return false
	}
	c.RespondedAt = timePtr(at)
	if c.Channel.Chat() && c.ReceivedBy == ActorBot {
		c.ReceivedBy = a
	}
	return true
}

// MapTimes replaces every time of c but CreatedAt and UpdatedAt by f of it
// (a store passes the rounding it keeps times with), and what c points to
// (its slots, its plan, its survey) by copies, so that c equals what a later
// read returns and shares nothing with the values it was given. No slots or
// plan disruptions are nil; a zero survey AnsweredAt stays zero.
func (c *Case) MapTimes(f func(time.Time) time.Time) {
	ptr := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := f(*t)
		return &u
	}
	c.ReceivedAt = f(c.ReceivedAt)
	for _, p := range []**time.Time{&c.OccurredAt, &c.RespondBy, &c.OnSiteBy, &c.ResolveBy, &c.RespondedAt, &c.OnSiteAt, &c.ResolvedAt, &c.ClosedAt,
		&c.AppointmentAt, &c.EscalatedAt} {
		*p = ptr(*p)
	}
	if len(c.ProposedSlots) == 0 {
		c.ProposedSlots = nil
	} else {
		slots := make([]time.Time, len(c.ProposedSlots))
		for i, t := range c.ProposedSlots {
			slots[i] = f(t)
		}
		c.ProposedSlots = slots
	}
	if c.Plan != nil {
		p := *c.Plan
		p.StartAt = ptr(p.StartAt)
		if len(p.Disruptions) == 0 {
			p.Disruptions = nil
		} else {
			p.Disruptions = slices.Clone(p.Disruptions)
		}
		c.Plan = &p
	}
	if c.Survey != nil {
		s := *c.Survey
		if !s.AnsweredAt.IsZero() {
			s.AnsweredAt = f(s.AnsweredAt)
		}
		c.Survey = &s
	}
}

func validText(field, s string, max int, required bool) error {
	if required && strings.TrimSpace(s) == "" {
		return Invalid(field, "is required")
	}
	if !utf8.ValidString(s) {
		return Invalid(field, "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return Invalid(field, "is %d characters long; at most %d are kept", n, max)
	}
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t' && r != '\r') || r == 0x7f {
			return Invalid(field, "contains control characters")
		}
	}
	return nil
}

// Actor names who did something: "bot", "system", "staff:<id>",
// "owner:<id>", "member:<id>", or a chat account not proven to be anyone
// ("chat:<platform>:<digest>").
type Actor string

// Well-known actors.
const (
	ActorBot    Actor = "bot"
	ActorSystem Actor = "system"
)

// The prefixes of the actors who are people of the department, and of
// integrations.
const (
	staffPrefix   = "staff:"
	memberPrefix  = "member:"
	servicePrefix = "service:"
)

// Staff returns the Actor for a staff member — an agent, a supervisor or an
// admin — by username or ID.
func Staff(id string) Actor { return Actor(staffPrefix + id) }

// Service returns the Actor for an integration's service account by name
// ("api": the configured staff API token; "party-<code>": a party's token).
// What it records names it, but it is no person: no human contact.
func Service(name string) Actor { return Actor(servicePrefix + name) }

// MemberActor returns the Actor for the member of a party with the ID: an
// engineer, in house or of a contractor, supplier or property management.
func MemberActor(id int64) Actor { return Actor(memberPrefix + strconv.FormatInt(id, 10)) }

// Parse splits a into its kind — "staff", "member", "service", "owner",
// "chat", or a well-known actor ("bot", "system") — and what follows the
// kind's colon: a staff or service account's name, a member's or owner's ID.
func (a Actor) Parse() (kind, id string) {
	k, rest, ok := strings.Cut(string(a), ":")
	if !ok {
		return k, ""
	}
	return k, rest
}

// IsPerson reports whether a is a person of the department — staff or a
// party's member — whose entry on a case's timeline is a human contact
// (Case.NoteContact). The bot, the system and its timers, integrations'
// service accounts, the owner and chat accounts are not.
func (a Actor) IsPerson() bool {
	return strings.HasPrefix(string(a), staffPrefix) || strings.HasPrefix(string(a), memberPrefix)
}

// EventKind is the kind of a timeline entry.
type EventKind string

// Kinds of timeline entries.
const (
	EventCreated    EventKind = "created"    // the case was registered
	EventTransition EventKind = "transition" // the state changed
	EventUpdated    EventKind = "updated"    // fields changed (category, urgency…)
	EventNote       EventKind = "note"       // a note by staff or the system
	EventUrge       EventKind = "urge"       // the owner urged (催办)
	EventMedia      EventKind = "media"      // an attachment was added
	// EventDeliveryFailed: a message about the case could not be delivered
	// for good (its outbox message failed); the note says to whom and why.
	EventDeliveryFailed EventKind = "delivery_failed"
	EventOrderAccepted  EventKind = "order_accepted" // the engineer took the work order (接单)
	EventOrderDeclined  EventKind = "order_declined" // the engineer declined it, with a reason; back to staff
	EventMessage        EventKind = "message"        // staff wrote to the owner, or the owner to staff
	EventEscalated      EventKind = "escalated"      // raised to the supervisor (late, repeated repair, low score)
	EventReturnVisit    EventKind = "return_visit"   // the return visit's question and answer (回访)
)

// EventKinds lists every EventKind; the stores' CHECK constraints allow
// exactly these.
var EventKinds = []EventKind{
	EventCreated, EventTransition, EventUpdated, EventNote, EventUrge, EventMedia,
	EventDeliveryFailed, EventOrderAccepted, EventOrderDeclined, EventMessage, EventEscalated, EventReturnVisit,
}

// Direct reports whether a store's AddCaseEvent takes entries of kind k:
// every kind of EventKinds but those recorded by the writes they describe
// (created, transition, updated, media).
func (k EventKind) Direct() bool {
	switch k {
	case EventCreated, EventTransition, EventUpdated, EventMedia:
		return false
	}
	return slices.Contains(EventKinds, k)
}

// Event is one entry of a case's timeline: who did what when, and for state
// changes from which state to which.
type Event struct {
	ID     int64
	CaseID int64
	Seq    int // 1, 2, 3… within the case
	At     time.Time
	Actor  Actor
	Kind   EventKind
	Action Action // for EventTransition
	From   State  // for EventTransition
	To     State  // for EventTransition; the initial state for EventCreated
	Note   string
}

// ValidText checks a required free text of at most max characters: valid
// UTF-8, no control characters but newlines and tabs.
func ValidText(field, s string, max int) error { return validText(field, s, max, true) }
