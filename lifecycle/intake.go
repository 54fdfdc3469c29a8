package lifecycle

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/classify"
)

// Intake (受理): a case is registered the same way whoever takes it — the
// chat's dialogue (package conversation) or staff from a hotline call, a
// walk-in or a letter (Service.Register): the first judgment of Registrar,
// the case stored with its service-level timers, then Triage.

// Classifier proposes a category, subcategory and urgency for a person's
// words (classify.Classifier).
type Classifier interface {
	Classify(text string) classify.Result
}

// Registrar forms the first judgment (初步判断) of cases being registered.
// Its zero fields take no defaults: the conversation's and the Service's
// configurations fill them.
type Registrar struct {
	Store      casework.RegistryStore
	Classifier Classifier // nil: nothing is read from the words
	SLA        casework.SLAPolicy
	Warranty   casework.WarrantyTerms // the defaults; a project's own terms are merged over them
	Location   *time.Location         // the department's time zone: the day of receipt
}

// Judgment is the first judgment of a case being registered, beyond what
// Judge writes on the case.
type Judgment struct {
	// Party is the party the routing rules name: it becomes the case's party
	// when staff or the triage policy dispatch the case. Nil: no rule
	// matches.
	Party *casework.Party
	// Warranty is the warranty check of the part concerned on the day the
	// case was received.
	Warranty casework.WarrantyResult
	// Signals are the urgency signals the classifier found in the words.
	Signals []string
	// Read is what the classifier read in the words; By is empty when it
	// read nothing (no classifier, or staff chose everything).
	Read classify.Result
}

// Judge forms the first judgment of c before it is stored: what c leaves
// empty of its category, subcategory and urgency is read from its words
// (Classify); its responsibility is that of the kind of party the routing
// rules name; its service-level deadlines are set from the SLA policy; and
// its warranty status is checked on the day it was received, under the
// project's terms.
func (r Registrar) Judge(ctx context.Context, c *casework.Case) (Judgment, error) {
	var j Judgment
	var err error
	if j.Read, err = Classify(r.Classifier, c); err != nil {
		return j, err
	}
	j.Signals = j.Read.Signals
	if j.Party, err = routedParty(ctx, r.Store, c); err != nil {
		return j, err
	}
	if j.Party != nil {
		c.Responsibility = casework.ResponsibilityOf(j.Party.Kind)
	}
	r.SLA.SetDeadlines(c)
	if j.Warranty, err = r.warranty(ctx, c); err != nil {
		return j, err
	}
	c.WarrantyStatus, c.WarrantyUntil = j.Warranty.Status, j.Warranty.Until
	return j, nil
}

// warranty checks the warranty of the part c concerns, on the day c was
// received, from the dates of its home.
func (r Registrar) warranty(ctx context.Context, c *casework.Case) (casework.WarrantyResult, error) {
	part := casework.PartOf(c.Category, c.Subcategory)
	if part == casework.PartNone {
		return casework.WarrantyResult{Status: casework.WarrantyNone}, nil
	}
	p, err := r.Store.FindProjectByID(ctx, c.ProjectID)
	if err != nil {
		return casework.WarrantyResult{}, fmt.Errorf("find project: %w", err)
	}
	var b *casework.Building
	var u *casework.Unit
	if c.BuildingID != 0 {
		if b, err = r.Store.FindBuildingByID(ctx, c.BuildingID); err != nil {
			return casework.WarrantyResult{}, fmt.Errorf("find building: %w", err)
		}
	}
	if c.UnitID != 0 {
		if u, err = r.Store.FindUnitByID(ctx, c.UnitID); err != nil {
			return casework.WarrantyResult{}, fmt.Errorf("find unit: %w", err)
		}
	}
	completion, delivery := casework.HomeDates(p, b, u)
	return casework.CheckWarranty(r.Warranty.Merge(p.Warranty), part, completion, delivery, casework.DateOf(c.ReceivedAt.In(r.Location))), nil
}

// JudgmentPrefix starts the first judgment's entry on a case's timeline.
const JudgmentPrefix = "初步判断"

// Note is the first judgment's entry on the timeline of c.
func (j Judgment) Note(c *casework.Case) string {
	party := "none (no routing rule)"
	if j.Party != nil {
		party = j.Party.Code + " " + j.Party.Name
	}
	w := j.Warranty
	note := fmt.Sprintf(JudgmentPrefix+" first judgment: %s/%s, %s; responsibility %s; suggested party %s; warranty %s %s (%s); signals %v",
		c.Category, c.Subcategory, c.Urgency, c.Responsibility, party, w.Status, w.Until, w.Rule, j.Signals)
	if j.Read.By != "" {
		note += fmt.Sprintf("; read by %s %.2f", j.Read.By, j.Read.Confidence)
	}
	return note
}

// Classify completes what c leaves to the system of its category,
// subcategory and urgency from what cl reads in its description and
// location detail, and returns what it read (By empty when cl is nil). No
// category: the
// one read, or a *casework.ValidationError of "category" when the words
// tell none for sure (classify.Result.Unsure). No subcategory: the one read
// when it is of c's category, else other. No urgency: urgent when the words
// tell so of a repair (casework.Category.GetsWorkOrder), a major complaint
// when they tell so of any case (the supervisors are told), else normal. A
// nil cl reads nothing.
func Classify(cl Classifier, c *casework.Case) (classify.Result, error) {
	var r classify.Result
	if cl != nil {
		r = cl.Classify(strings.Join([]string{c.Description, c.LocationDetail}, " "))
	}
	if c.Category == "" {
		if r.Unsure() || !r.Category.Valid() {
			return classify.Result{}, casework.Invalid("category", "cannot be told from the description: choose one")
		}
		c.Category = r.Category
	}
	if c.Subcategory == "" {
		c.Subcategory = casework.SubOther
		if r.Category == c.Category && r.Subcategory.Valid(c.Category) {
			c.Subcategory = r.Subcategory
		}
	}
	if c.Urgency == "" {
		c.Urgency = casework.UrgencyNormal
		switch {
		case r.Urgency == casework.UrgencyUrgent && c.Category.GetsWorkOrder():
			c.Urgency = casework.UrgencyUrgent
		case r.Urgency == casework.UrgencyMajorComplaint:
			c.Urgency = casework.UrgencyMajorComplaint
		}
	}
	return r, nil
}

// routedParty returns the party the most specific routing rule names for c,
// or nil when none matches.
func routedParty(ctx context.Context, st casework.RegistryStore, c *casework.Case) (*casework.Party, error) {
	routes, err := st.ListRoutes(ctx, c.ProjectID)
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	r, err := casework.ResolveRoute(routes, c.ProjectID, c.BuildingID, c.Category, c.Subcategory)
	if errors.Is(err, casework.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p, err := st.FindPartyByID(ctx, r.PartyID)
	if err != nil {
		return nil, fmt.Errorf("find party: %w", err)
	}
	return p, nil
}

// MediaRefOf is the reference of a case to an attachment the bot's intake
// stored (bot.Intake.Store).
func MediaRefOf(m bot.Media) casework.MediaRef {
	return casework.MediaRef{Kind: casework.MediaKindOf(m.ContentType), BlobKey: m.BlobKey, ContentType: m.ContentType, Size: m.Size}
}

// UnitMatch is a unit someone's words may mean, with its label: the project's
// name and the unit's (海景苑 3-2-1502).
type UnitMatch struct {
	Unit    *casework.Unit
	Project *casework.Project
	Label   string
}

var unitToken = regexp.MustCompile(`[A-Za-z]?\d+[A-Za-z]?`)

// chineseDigits turns the small Chinese numerals people type for buildings
// and entrances (三栋二单元) into digits.
var chineseDigits = strings.NewReplacer("十", "10", "一", "1", "二", "2", "两", "2", "三", "3", "四", "4", "五", "5", "六", "6", "七", "7", "八", "8", "九", "9")

// MatchUnits finds the units someone means by what they typed, leniently:
// "3栋2单元1502", "3-2-1502", "3号楼2单元1502室", "building 3 unit 2 room
// 1502", "海景苑 3-1502", or just "1502". A project's name or code in the
// text limits the search to it. The result, ordered by label, is empty when
// nothing matches and has several entries when the words are ambiguous.
func MatchUnits(ctx context.Context, st casework.RegistryStore, text string) ([]UnitMatch, error) {
	projects, err := st.ListProjects(ctx)
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	lower := strings.ToLower(text)
	var named []*casework.Project
	for _, p := range projects {
		if strings.Contains(lower, strings.ToLower(p.Name)) || strings.Contains(lower, strings.ToLower(p.Code)) {
			named = append(named, p)
			lower = strings.ReplaceAll(lower, strings.ToLower(p.Name), " ")
		}
	}
	if len(named) > 0 {
		projects = named
	}
	tokens := unitToken.FindAllString(chineseDigits.Replace(lower), -1)
	var f casework.UnitFilter
	switch len(tokens) {
	case 1:
		f = casework.UnitFilter{Room: strings.ToUpper(tokens[0])}
	case 2:
		// building and room, entrance unknown
		f = casework.UnitFilter{Building: strings.ToUpper(tokens[0]), Room: strings.ToUpper(tokens[1])}
	case 3:
		f = casework.UnitFilter{Building: strings.ToUpper(tokens[0]), Entrance: strings.ToUpper(tokens[1]), Room: strings.ToUpper(tokens[2])}
	default:
		return nil, nil
	}
	var out []UnitMatch
	for _, p := range projects {
		f.ProjectID, f.Limit = p.ID, 20
		units, _, err := st.FindUnits(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("find units: %w", err)
		}
		for _, u := range units {
			out = append(out, UnitMatch{Unit: u, Project: p, Label: p.Name + " " + u.Label()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return out, nil
}

// IntakeChannels are the channels staff register cases from (domain.md §1):
// the service hotline (服务热线), a walk-in at the service centre (现场接待)
// and a written letter (书面函件). Cases from the chat register themselves.
var IntakeChannels = []casework.Channel{casework.ChannelHotline, casework.ChannelWalkIn, casework.ChannelLetter}

// MaxIntakePhotos is how many photos a case registered by staff carries.
const MaxIntakePhotos = 9

// IntakeForm is a case registered by staff: the registration form
// (《客户诉求登记表》) as an agent fills it in. The names of its fields,
// snake_case, are those a *casework.ValidationError of Register names.
type IntakeForm struct {
	// Channel is how the case came: one of IntakeChannels.
	Channel casework.Channel
	// The owner (业主) and home (房号). OwnerID names an owner on record;
	// UnitID then picks one of their units (needed when they hold several)
	// and OwnerPhone, when given, is the number to call back. Without
	// OwnerID, UnitID names a unit of the registry and the owner is the one
	// of its owners with OwnerPhone, else the one called OwnerName; with
	// neither on record, an owner of the unit is registered with both.
	OwnerID    int64
	UnitID     int64
	OwnerName  string
	OwnerPhone string
	// The request (诉求): where, what, since when, what the owner expects,
	// when to call. Occurred is a day or words (casework.ParseOccurred);
	// "" when unknown.
	Location       casework.Location
	LocationDetail string
	Description    string
	Occurred       string
	Expectation    string
	ContactTime    string
	// The first judgment (初步判断): what is left empty is read from the
	// description as the chat reads it (Classify).
	Category    casework.Category
	Subcategory casework.Subcategory
	Urgency     casework.Urgency
	// Photos are attachments already in the blob store (bot.Intake), at
	// most MaxIntakePhotos.
	Photos []casework.MediaRef
	// ScopeFunc reports whether the staff member may register cases of the
	// project (staff.User.MaySeeProject); nil: of every project.
	ScopeFunc func(projectID int64) bool
}

// Register registers a case staff took from a hotline call, a walk-in or a
// letter, on the rules of the chat's: the first judgment of Registrar
// (classification where staff leave it to the system, the routed party's
// responsibility, the service-level deadlines, the warranty check), the case
// stored with its deadline timers, then Triage — accepted and dispatched at
// once when the policy allows, else left for staff with the supervisors
// told. The staff member is the case's 受理人 (ReceivedBy); the owner, on
// record or registered with the case, is the one named, so the identity
// counts as verified.
//
// The registration by a person is the case's first human contact: a person
// of the department answered the call, received the visitor or read the
// letter, and typed the case in — so RespondedAt is the time received, and
// the response service level is met (casework.Case.NoteContact records it
// from the staff member's entry that follows the case's creation). A
// service account's registration (casework.Service) is no contact.
//
// The owner's chat accounts (those bound and proven) are told the case
// number and what happens next, each in its language; with none, nothing is
// sent and the timeline says so. A failed triage leaves the case registered,
// waiting for staff, and is logged: the case is returned all the same.
//
// Errors: a *casework.ValidationError naming the form's field; ErrForbidden
// when staff is not a staff member or a service account, or the unit is of
// a project outside ScopeFunc.
func (s *Service) Register(ctx context.Context, staff casework.Actor, f IntakeForm) (*casework.Case, error) {
	if kind, name := staff.Parse(); (kind != "staff" && kind != "service") || name == "" {
		return nil, fmt.Errorf("%w: %q may not register cases", ErrForbidden, staff)
	}
	if !slices.Contains(IntakeChannels, f.Channel) {
		return nil, casework.Invalid("channel", "%q is not one of %v", f.Channel, IntakeChannels)
	}
	h, err := s.intakeHome(ctx, f)
	if err != nil {
		return nil, err
	}
	if f.ScopeFunc != nil && !f.ScopeFunc(h.unit.ProjectID) {
		return nil, fmt.Errorf("%w: unit %d is of a project outside the staff member's", ErrForbidden, h.unit.ID)
	}
	now := s.now()
	c := &casework.Case{
		ProjectID: h.unit.ProjectID, BuildingID: h.unit.BuildingID, UnitID: h.unit.ID, OwnerID: h.owner.ID,
		OwnerName: h.owner.Name, OwnerPhone: h.phone, IdentityVerified: true,
		Location: f.Location, LocationDetail: strings.TrimSpace(f.LocationDetail), Description: strings.TrimSpace(f.Description),
		Expectation: strings.TrimSpace(f.Expectation), ContactTime: strings.TrimSpace(f.ContactTime),
		Channel: f.Channel, ReceivedAt: now, ReceivedBy: staff,
		Category: f.Category, Subcategory: f.Subcategory, Urgency: f.Urgency,
	}
	if err := intakeRequest(c, f, now.In(s.cfg.Location)); err != nil {
		return nil, err
	}
	judgment, err := s.registrar().Judge(ctx, c)
	if err != nil {
		return nil, err
	}
	note := judgment.Note(c)
	if err := c.Validate(); err != nil {
		return nil, formError(err)
	}
	// Checked in full: nothing is written for a form that is refused.
	if h.owner.ID == 0 {
		if err := s.registerOwner(ctx, h.owner, h.unit); err != nil {
			return nil, err
		}
		c.OwnerID = h.owner.ID
	}
	if err := s.cfg.Store.CreateCaseWith(ctx, c, casework.Effects{Timers: DeadlineTimers(c)}); err != nil {
		return nil, fmt.Errorf("register case: %w", formError(err))
	}
	if err := s.event(ctx, c, casework.EventNote, casework.ActorSystem, note, casework.Effects{}); err != nil {
		return nil, err
	}
	owners, err := s.ownerChats(ctx, c)
	if err != nil {
		return nil, err
	}
	waits, err := s.willWait(ctx, c)
	if err != nil {
		return nil, err
	}
	// The staff member's entry: the first human contact, at the time received.
	e := &casework.Event{CaseID: c.ID, At: now, Actor: staff, Kind: casework.EventNote, Note: intakeNote(c, len(owners))}
	if err := s.cfg.Store.AddCaseEventWith(ctx, e, casework.Effects{Messages: outbox(c.ID, "intake", s.intakeNotices(c, owners, waits)...)}); err != nil {
		return nil, fmt.Errorf("record the registration of case %s: %w", c.Number, err)
	}
	s.cfg.Logger.Info("case registered by staff", "case_id", c.ID, "case_number", c.Number, "channel", c.Channel,
		"category", c.Category, "urgency", c.Urgency, "owner_told", len(owners))
	if c, err = s.cfg.Store.FindCaseByID(ctx, c.ID); err != nil {
		return nil, fmt.Errorf("case %d: %w", e.CaseID, err)
	}
	tc, err := s.Triage(ctx, c)
	if err != nil {
		// Registered, with its number; staff see it waiting in the list.
		s.cfg.Logger.Error("triage failed", "case_id", c.ID, "error", err)
		return c, nil
	}
	return tc, nil
}

// registrar forms the first judgment of the cases staff register, as the
// chat's dialogue does of its own.
func (s *Service) registrar() Registrar {
	terms := s.cfg.Warranty
	if terms.Statutory == nil {
		terms = casework.DefaultWarrantyTerms()
	}
	return Registrar{Store: s.cfg.Store, Classifier: s.cfg.Classifier, SLA: s.cfg.SLA, Warranty: terms, Location: s.cfg.Location}
}

// intakeRequest checks the request of form f, received on today, and writes
// on c what Case.Validate does not check: when it started, the first
// judgment staff made, the photos.
func intakeRequest(c *casework.Case, f IntakeForm, today time.Time) error {
	if err := casework.ValidText("description", c.Description, 5000); err != nil {
		return err
	}
	if occurred := strings.TrimSpace(f.Occurred); occurred != "" {
		var err error
		if c.OccurredAt, c.OccurredText, err = casework.ParseOccurred(occurred, today); err != nil {
			return err
		}
	}
	switch {
	case f.Category != "" && !f.Category.Valid():
		return casework.Invalid("category", "%q is not one of %v", f.Category, casework.Categories)
	case f.Subcategory != "" && f.Category == "":
		return casework.Invalid("subcategory", "goes with a category: choose that too")
	case f.Subcategory != "" && !f.Subcategory.Valid(f.Category):
		return casework.Invalid("subcategory", "%q is not a subcategory of %s", f.Subcategory, f.Category)
	case f.Urgency != "" && !f.Urgency.Valid():
		return casework.Invalid("urgency", "%q is not one of %v", f.Urgency, casework.Urgencies)
	case len(f.Photos) > MaxIntakePhotos:
		return casework.Invalid("photos", "%d photos; at most %d are kept", len(f.Photos), MaxIntakePhotos)
	}
	for _, m := range f.Photos {
		if m.Kind == "" {
			m.Kind = casework.MediaKindOf(m.ContentType)
		}
		if err := m.Validate(); err != nil {
			return formError(err)
		}
		c.Media = append(c.Media, m)
	}
	return nil
}

// formFields names the fields of a case and an owner as IntakeForm does.
var formFields = map[string]string{
	"occurred_text": "occurred", "phone": "owner_phone", "name": "owner_name", "media": "photos", "project": "unit_id",
}

// formError returns err naming the field of IntakeForm when it is a
// *casework.ValidationError of a case's or an owner's field.
func formError(err error) error {
	var ve *casework.ValidationError
	if errors.As(err, &ve) {
		if f, ok := formFields[ve.Field]; ok {
			return &casework.ValidationError{Field: f, Reason: ve.Reason}
		}
	}
	return err
}

// home is the unit and owner of a case staff register, and the number to
// call back.
type home struct {
	unit  *casework.Unit
	owner *casework.Owner // ID 0: to register, as an owner of unit
	phone string
}

// intakeHome finds the home and owner of form f (see IntakeForm).
func (s *Service) intakeHome(ctx context.Context, f IntakeForm) (home, error) {
	var h home
	name, phone := strings.TrimSpace(f.OwnerName), ""
	if p := strings.TrimSpace(f.OwnerPhone); p != "" {
		n, err := casework.NormalizePhone(p)
		if err != nil {
			return h, formError(err)
		}
		phone = n
	}
	if f.OwnerID != 0 {
		o, err := s.cfg.Store.FindOwnerByID(ctx, f.OwnerID)
		if errors.Is(err, casework.ErrNotFound) {
			return h, casework.Invalid("owner_id", "names no owner on record: %d", f.OwnerID)
		}
		if err != nil {
			return h, fmt.Errorf("find owner: %w", err)
		}
		units, err := s.cfg.Store.OwnerUnits(ctx, o.ID)
		if err != nil {
			return h, fmt.Errorf("units of owner %d: %w", o.ID, err)
		}
		switch i := slices.IndexFunc(units, func(u *casework.Unit) bool { return u.ID == f.UnitID }); {
		case i >= 0:
			h.unit = units[i]
		case f.UnitID != 0:
			return h, casework.Invalid("unit_id", "owner %d does not hold unit %d", o.ID, f.UnitID)
		case len(units) == 1:
			h.unit = units[0]
		case len(units) == 0:
			return h, casework.Invalid("unit_id", "owner %d holds no unit on record", o.ID)
		default:
			return h, casework.Invalid("unit_id", "owner %d holds %d units: name one", o.ID, len(units))
		}
		h.owner, h.phone = o, cmp.Or(phone, o.Phone)
		return h, nil
	}
	if f.UnitID == 0 {
		return h, casework.Invalid("unit_id", "is required: the owner's unit, or owner_id")
	}
	u, err := s.cfg.Store.FindUnitByID(ctx, f.UnitID)
	if errors.Is(err, casework.ErrNotFound) {
		return h, casework.Invalid("unit_id", "names no unit of the registry: %d", f.UnitID)
	}
	if err != nil {
		return h, fmt.Errorf("find unit: %w", err)
	}
	h.unit = u
	owners, err := s.cfg.Store.UnitOwners(ctx, u.ID)
	if err != nil {
		return h, fmt.Errorf("owners of unit %d: %w", u.ID, err)
	}
	byPhone := slices.IndexFunc(owners, func(o *casework.Owner) bool { return phone != "" && o.Phone == phone })
	byName := slices.IndexFunc(owners, func(o *casework.Owner) bool { return name != "" && strings.TrimSpace(o.Name) == name })
	switch {
	case byPhone >= 0:
		h.owner, h.phone = owners[byPhone], phone
		return h, nil
	case byName >= 0:
		h.owner, h.phone = owners[byName], cmp.Or(phone, owners[byName].Phone)
		return h, nil
	case name == "":
		return h, casework.Invalid("owner_name", "is required: no owner of unit %s on record has that phone", u.Label())
	case phone == "":
		return h, casework.Invalid("owner_phone", "is required: no owner of unit %s on record is called so", u.Label())
	}
	h.owner, h.phone = &casework.Owner{Name: name, Phone: phone}, phone
	return h, formError(h.owner.Validate())
}

// registerOwner registers o as an owner of unit u.
func (s *Service) registerOwner(ctx context.Context, o *casework.Owner, u *casework.Unit) error {
	if err := s.cfg.Store.CreateOwner(ctx, o); err != nil {
		return fmt.Errorf("register owner: %w", formError(err))
	}
	if err := s.cfg.Store.BindOwnerUnit(ctx, o.ID, u.ID); err != nil {
		return fmt.Errorf("bind owner %d to unit %d: %w", o.ID, u.ID, err)
	}
	s.cfg.Logger.Info("owner registered with a case", "owner_id", o.ID, "unit_id", u.ID)
	return nil
}

// intakeNote is the staff member's entry on the timeline of c, which they
// registered: the channel, and whether the owner was told in chat (told:
// their accounts).
func intakeNote(c *casework.Case, told int) string {
	channel := map[casework.Channel]string{casework.ChannelHotline: "服务热线 hotline", casework.ChannelWalkIn: "现场接待 walk-in", casework.ChannelLetter: "书面函件 letter"}[c.Channel]
	if told == 0 {
		return fmt.Sprintf("受理登记：%s；业主未绑定聊天账号，未发送通知，请另行告知诉求编号 / registered; the owner has no chat account bound: nothing was sent, tell them the case number", channel)
	}
	return fmt.Sprintf("受理登记：%s；诉求编号已通过聊天发给业主（%d 个账号） / registered; the owner was sent the case number in chat (%d accounts)", channel, told, told)
}

// intakeHeads open the message to the owner of a case staff registered,
// by channel.
var intakeHeads = map[casework.Channel]string{
	casework.ChannelHotline: "intake.owner_hotline",
	casework.ChannelWalkIn:  "intake.owner_walk_in",
	casework.ChannelLetter:  "intake.owner_letter",
}

// willWait reports whether the triage will leave c for staff (the policy
// holds it, or no party is routed), so that the owner is not promised an
// engineer's visit nobody has arranged.
func (s *Service) willWait(ctx context.Context, c *casework.Case) (bool, error) {
	if s.cfg.Policy.AutoDispatch(c).Waits() {
		return true, nil
	}
	party, err := routedParty(ctx, s.cfg.Store, c)
	return party == nil, err
}

// intakeNotices tell the owner's accounts rs the number of case c, which
// staff registered, and what happens next, each in its language. A case
// that waits for staff promises no engineer's visit.
func (s *Service) intakeNotices(c *casework.Case, rs []recipient, waits bool) []notice {
	var out []notice
	for _, r := range rs {
		lines := []string{
			T(r.lang, intakeHeads[c.Channel], "number", c.Number),
			T(r.lang, "intake.problem", "problem", T(r.lang, "category."+string(c.Category))+" · "+T(r.lang, "sub."+string(c.Subcategory))),
		}
		var next []string
		if c.OnSiteBy != nil && !waits {
			key := "intake.next_on_site"
			if c.Urgency == casework.UrgencyUrgent {
				key = "intake.next_on_site_urgent"
			}
			next = append(next, T(r.lang, key, "at", s.when(*c.OnSiteBy)))
		}
		if c.ResolveBy != nil {
			key := "intake.next_resolve"
			if !c.Category.GetsWorkOrder() {
				key = "intake.next_answer"
			}
			next = append(next, T(r.lang, key, "at", s.when(*c.ResolveBy)))
		}
		if len(next) > 0 {
			lines = append(lines, T(r.lang, "intake.next")+"\n· "+strings.Join(next, "\n· "))
		}
		lines = append(lines, T(r.lang, "intake.keep"))
		out = append(out, notice{to: r, text: strings.Join(lines, "\n")})
	}
	return out
}

// AttachMedia adds an attachment already in the blob store (bot.Intake) to
// case number, by staff: a photo the owner brought, a scan of a letter. Its
// entry on the timeline counts as any other (casework.Case.NoteContact).
// It returns the case with its media.
func (s *Service) AttachMedia(ctx context.Context, number string, staff casework.Actor, m casework.MediaRef) (*casework.Case, error) {
	if m.Kind == "" {
		m.Kind = casework.MediaKindOf(m.ContentType)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	c, err := s.load(ctx, number)
	if err != nil {
		return nil, err
	}
	if err := s.attach(ctx, c, []casework.MediaRef{m}, staff); err != nil {
		return nil, err
	}
	return s.cfg.Store.FindCaseByID(ctx, c.ID)
}

// Home is a unit of the registry and one of its owners, as staff look them
// up to register a case.
type Home struct {
	Project *casework.Project
	Unit    *casework.Unit
	// Owner is nil for the unit itself: a case of an owner not on record,
	// registered with it.
	Owner *casework.Owner
}

// maxHomes bounds what FindHomes returns.
const maxHomes = 50

// FindHomes finds the homes staff mean by q: a phone number — its owners,
// each with every unit they hold; else a unit as the chat takes it
// (MatchUnits: 3-2-1502, 海景苑 3栋2单元1502) — each with its owners and
// itself, for an owner not on record; and the owners called q exactly, each
// with their units. Only the projects scope allows (nil: every one) are
// searched; at most 50 homes are returned.
func (s *Service) FindHomes(ctx context.Context, q string, scope func(projectID int64) bool) ([]Home, error) {
	q = strings.TrimSpace(q)
	if err := casework.ValidText("q", q, 100); err != nil {
		return nil, err
	}
	var out []Home
	projects := map[int64]*casework.Project{}
	seen := map[[2]int64]bool{}
	add := func(u *casework.Unit, o *casework.Owner) error {
		key := [2]int64{u.ID, 0}
		if o != nil {
			key[1] = o.ID
		}
		if seen[key] || len(out) >= maxHomes || (scope != nil && !scope(u.ProjectID)) {
			return nil
		}
		seen[key] = true
		p, ok := projects[u.ProjectID]
		if !ok {
			var err error
			if p, err = s.cfg.Store.FindProjectByID(ctx, u.ProjectID); err != nil {
				return fmt.Errorf("find project: %w", err)
			}
			projects[p.ID] = p
		}
		out = append(out, Home{Project: p, Unit: u, Owner: o})
		return nil
	}
	ownersHomes := func(owners []*casework.Owner) error {
		for _, o := range owners {
			units, err := s.cfg.Store.OwnerUnits(ctx, o.ID)
			if err != nil {
				return fmt.Errorf("units of owner %d: %w", o.ID, err)
			}
			for _, u := range units {
				if err := add(u, o); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if phone, err := casework.NormalizePhone(q); err == nil {
		owners, err := s.cfg.Store.FindOwnersByPhone(ctx, phone)
		if err != nil {
			return nil, fmt.Errorf("find owners by phone: %w", err)
		}
		return out, ownersHomes(owners)
	}
	matches, err := MatchUnits(ctx, s.cfg.Store, q)
	if err != nil {
		return nil, err
	}
	for _, m := range matches {
		owners, err := s.cfg.Store.UnitOwners(ctx, m.Unit.ID)
		if err != nil {
			return nil, fmt.Errorf("owners of unit %d: %w", m.Unit.ID, err)
		}
		for _, o := range append(owners, nil) {
			if err := add(m.Unit, o); err != nil {
				return nil, err
			}
		}
	}
	owners, err := s.cfg.Store.FindOwnersByName(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("find owners by name: %w", err)
	}
	return out, ownersHomes(owners)
}

// The texts of intake, in the catalogue.
func init() {
	for _, c := range []struct{ dst, src map[string]string }{{zh, intakeZH}, {en, intakeEN}} {
		for k, v := range c.src {
			if _, dup := c.dst[k]; dup {
				panic("lifecycle: text " + k + " given twice")
			}
			c.dst[k] = v
		}
	}
}

var intakeZH = map[string]string{
	"intake.owner_hotline":       "您好，您通过服务热线反映的问题已登记，诉求编号：{number}。",
	"intake.owner_walk_in":       "您好，您在售后服务中心反映的问题已登记，诉求编号：{number}。",
	"intake.owner_letter":        "您好，您来函反映的问题已登记，诉求编号：{number}。",
	"intake.problem":             "问题类型：{problem}",
	"intake.next":                "接下来：",
	"intake.next_on_site":        "工程师将于 {at} 前预约上门查看",
	"intake.next_on_site_urgent": "工程师将于 {at} 前到场处理",
	"intake.next_resolve":        "预计 {at} 前处理完毕",
	"intake.next_answer":         "我们会在 {at} 前给您答复",
	"intake.keep":                "请保存此编号，在这里回复“进度”可随时查询。",
}

var intakeEN = map[string]string{
	"intake.owner_hotline":       "Hello — what you told our hotline is registered as case {number}.",
	"intake.owner_walk_in":       "Hello — what you told us at the service centre is registered as case {number}.",
	"intake.owner_letter":        "Hello — what you wrote to us is registered as case {number}.",
	"intake.problem":             "Problem: {problem}",
	"intake.next":                "What happens next:",
	"intake.next_on_site":        "an engineer books a visit by {at}",
	"intake.next_on_site_urgent": "an engineer is with you by {at}",
	"intake.next_resolve":        "it should be resolved by {at}",
	"intake.next_answer":         "we answer you by {at}",
	"intake.keep":                "Keep this number; reply \"status\" here at any time to follow progress.",
}
