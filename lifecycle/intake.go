package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"regexp"
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
	if j.Signals, err = Classify(r.Classifier, c); err != nil {
		return j, err
	}
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
	return fmt.Sprintf(JudgmentPrefix+" first judgment: %s/%s, %s; responsibility %s; suggested party %s; warranty %s %s (%s); signals %v",
		c.Category, c.Subcategory, c.Urgency, c.Responsibility, party, w.Status, w.Until, w.Rule, j.Signals)
}

// Classify completes what c leaves to the system of its category,
// subcategory and urgency from what cl reads in its description and
// location detail, and returns the urgency signals found. No category: the
// one read, or a *casework.ValidationError of "category" when the words
// tell none. No subcategory: the one read when it is of c's category, else
// other. No urgency: urgent when the words tell so of a repair
// (casework.Category.GetsWorkOrder), a major complaint when they tell so of
// a complaint about service, else normal. A nil cl reads nothing.
func Classify(cl Classifier, c *casework.Case) ([]string, error) {
	var r classify.Result
	if cl != nil {
		r = cl.Classify(strings.Join([]string{c.Description, c.LocationDetail}, " "))
	}
	if c.Category == "" {
		if r.Confidence == 0 || !r.Category.Valid() {
			return nil, casework.Invalid("category", "cannot be told from the description: choose one")
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
		case r.Urgency == casework.UrgencyMajorComplaint && c.Category == casework.CategoryServiceAttitude:
			c.Urgency = casework.UrgencyMajorComplaint
		}
	}
	return r.Signals, nil
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
