package casework

import (
	"fmt"
	"slices"
	"time"
)

// Part is a part of a building with its own warranty period (保修范围).
type Part string

// The parts of 《建设工程质量管理条例》 art. 40.
const (
	PartStructure     Part = "structure"      // 地基基础、主体结构: the design service life
	PartWaterproofing Part = "waterproofing"  // 屋面防水、有防水要求的卫生间/房间/外墙渗漏: 5 years
	PartHeating       Part = "heating"        // 供热系统: 2 heating seasons
	PartCooling       Part = "cooling"        // 供冷系统: 2 cooling seasons
	PartPipework      Part = "pipework"       // 电气管线、给排水管道: 2 years
	PartEquipment     Part = "equipment"      // 设备安装: 2 years
	PartDecoration    Part = "decoration"     // 装修工程: 2 years
	PartNone          Part = "not_applicable" // not a building defect (complaints, consultations…)
)

// Parts lists every Part that carries a warranty.
var Parts = []Part{PartStructure, PartWaterproofing, PartHeating, PartCooling, PartPipework, PartEquipment, PartDecoration}

// Valid reports whether p is a Part that carries a warranty.
func (p Part) Valid() bool { return slices.Contains(Parts, p) }

// PartOf returns the warranty part a case of category c and subcategory s
// concerns; PartNone for categories that are not building defects.
func PartOf(c Category, s Subcategory) Part {
	switch c {
	case CategoryEngineeringQuality:
		switch s {
		case SubLeak:
			return PartWaterproofing
		case SubStructural:
			return PartStructure
		case SubPlumbing, SubElectrical:
			return PartPipework
		default: // cracks in plaster, doors and windows, finishes
			return PartDecoration
		}
	case CategoryFacilitiesEquipment:
		switch s {
		case SubHeating:
			return PartHeating
		case SubCooling:
			return PartCooling
		default:
			return PartEquipment
		}
	}
	return PartNone
}

// Period is a warranty period: a number of years and months, or a number of
// heating or cooling seasons. The zero Period means "no warranty".
type Period struct {
	Years   int `json:"years,omitempty"`
	Months  int `json:"months,omitempty"`
	Seasons int `json:"seasons,omitempty"` // for PartHeating and PartCooling
}

// IsZero reports whether p is no period at all.
func (p Period) IsZero() bool { return p == Period{} }

func (p Period) String() string {
	switch {
	case p.Seasons > 0:
		return fmt.Sprintf("%d seasons", p.Seasons)
	case p.Months == 0:
		return fmt.Sprintf("%d years", p.Years)
	case p.Years == 0:
		return fmt.Sprintf("%d months", p.Months)
	}
	return fmt.Sprintf("%d years %d months", p.Years, p.Months)
}

// Season is a yearly window, such as the heating season 15 November – 15 March.
// A season whose end is before its start runs over the new year.
type Season struct {
	StartMonth time.Month `json:"start_month"`
	StartDay   int        `json:"start_day"`
	EndMonth   time.Month `json:"end_month"`
	EndDay     int        `json:"end_day"`
}

// IsZero reports whether s is unset.
func (s Season) IsZero() bool { return s == Season{} }

// endOfNth returns the last day of the n-th season that starts after from
// (from itself excluded: a season already running on the start day is not a
// whole season and does not count).
func (s Season) endOfNth(from Date, n int) Date {
	start := Date{from.Year, s.StartMonth, s.StartDay}
	if !start.After(from) {
		start.Year++
	}
	start.Year += n - 1
	end := Date{start.Year, s.EndMonth, s.EndDay}
	if end.Before(start) {
		end.Year++
	}
	return end
}

// WarrantyTerms are the warranty periods of a project. Statutory periods run
// from the completion-acceptance date (竣工验收); the developer's promised
// periods (住宅质量保证书) run from the unit's delivery date (交付). Zero fields
// take the defaults of DefaultWarrantyTerms.
type WarrantyTerms struct {
	Statutory     map[Part]Period `json:"statutory,omitempty"`
	Promised      map[Part]Period `json:"promised,omitempty"`
	HeatingSeason Season          `json:"heating_season,omitzero"`
	CoolingSeason Season          `json:"cooling_season,omitzero"`
}

// DefaultWarrantyTerms returns the statutory minimum periods of
// 《建设工程质量管理条例》 art. 40 (structure: a 50-year design service life),
// the same periods promised from delivery, the heating season
// 15 November – 15 March and the cooling season 15 May – 30 September.
func DefaultWarrantyTerms() WarrantyTerms {
	statutory := map[Part]Period{
		PartStructure:     {Years: 50},
		PartWaterproofing: {Years: 5},
		PartHeating:       {Seasons: 2},
		PartCooling:       {Seasons: 2},
		PartPipework:      {Years: 2},
		PartEquipment:     {Years: 2},
		PartDecoration:    {Years: 2},
	}
	return WarrantyTerms{
		Statutory:     statutory,
		Promised:      clonePeriods(statutory),
		HeatingSeason: Season{time.November, 15, time.March, 15},
		CoolingSeason: Season{time.May, 15, time.September, 30},
	}
}

// Merge returns t with every period and season set in o replacing t's.
func (t WarrantyTerms) Merge(o WarrantyTerms) WarrantyTerms {
	out := WarrantyTerms{Statutory: clonePeriods(t.Statutory), Promised: clonePeriods(t.Promised), HeatingSeason: t.HeatingSeason, CoolingSeason: t.CoolingSeason}
	for p, v := range o.Statutory {
		out.Statutory[p] = v
	}
	for p, v := range o.Promised {
		out.Promised[p] = v
	}
	if !o.HeatingSeason.IsZero() {
		out.HeatingSeason = o.HeatingSeason
	}
	if !o.CoolingSeason.IsZero() {
		out.CoolingSeason = o.CoolingSeason
	}
	return out
}

// Validate checks that every part named is known, that periods are not
// negative, that seasons are used only for heating and cooling, and that
// season windows are real dates.
func (t WarrantyTerms) Validate() error {
	for _, m := range []map[Part]Period{t.Statutory, t.Promised} {
		for p, v := range m {
			if !p.Valid() {
				return Invalid("warranty", "unknown part %q; parts are %v", p, Parts)
			}
			if v.Years < 0 || v.Months < 0 || v.Seasons < 0 || v.Years > 200 {
				return Invalid("warranty", "period for %s is out of range", p)
			}
			if v.Seasons > 0 && (v.Years != 0 || v.Months != 0 || (p != PartHeating && p != PartCooling)) {
				return Invalid("warranty", "seasons apply alone and only to heating and cooling, not %s", p)
			}
		}
	}
	for name, s := range map[string]Season{"heating_season": t.HeatingSeason, "cooling_season": t.CoolingSeason} {
		if s.IsZero() {
			continue
		}
		if s.StartMonth < 1 || s.StartMonth > 12 || s.EndMonth < 1 || s.EndMonth > 12 ||
			s.StartDay < 1 || s.StartDay > daysIn(2001, s.StartMonth) || s.EndDay < 1 || s.EndDay > daysIn(2001, s.EndMonth) {
			return Invalid("warranty", "%s is not a valid window", name)
		}
	}
	return nil
}

func clonePeriods(m map[Part]Period) map[Part]Period {
	out := make(map[Part]Period, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// WarrantyStatus is the outcome of a warranty check.
type WarrantyStatus string

// Warranty outcomes.
const (
	WarrantyIn      WarrantyStatus = "in_warranty"
	WarrantyOut     WarrantyStatus = "out_of_warranty"
	WarrantyUnknown WarrantyStatus = "unknown"        // no completion or delivery date on record
	WarrantyNone    WarrantyStatus = "not_applicable" // not a building defect
)

// WarrantyResult answers a warranty check: in or out, until which day, and
// which rule decided.
type WarrantyResult struct {
	Status WarrantyStatus
	Part   Part
	Until  Date   // last day covered; zero when unknown or not applicable
	Basis  string // "statutory" (from completion) or "promised" (from delivery)
	Rule   string // human-readable: "waterproofing: 5 years from completion 2021-06-30"
}

// CheckWarranty answers whether a defect of part, reported on today, is in
// warranty for a home whose completion-acceptance date is completion and
// whose delivery date is delivery (either may be zero when unknown):
//
//	in warranty ⇔ today ≤ max(completion + statutory period, delivery + promised period)
//
// Periods count from the day after the start day and end on the corresponding
// day (民法典 arts. 201, 203); seasons count whole seasons that begin after the
// start day.
func CheckWarranty(terms WarrantyTerms, part Part, completion, delivery, today Date) WarrantyResult {
	if !part.Valid() {
		return WarrantyResult{Status: WarrantyNone, Part: part, Rule: "not a building defect: no warranty period applies"}
	}
	type candidate struct {
		basis string
		start Date
		p     Period
	}
	var cands []candidate
	if !completion.IsZero() {
		cands = append(cands, candidate{"statutory", completion, terms.Statutory[part]})
	}
	if !delivery.IsZero() {
		cands = append(cands, candidate{"promised", delivery, terms.Promised[part]})
	}
	res := WarrantyResult{Status: WarrantyUnknown, Part: part, Rule: "no completion or delivery date on record"}
	for _, c := range cands {
		if c.p.IsZero() {
			continue
		}
		var until Date
		if c.p.Seasons > 0 {
			s := terms.HeatingSeason
			if part == PartCooling {
				s = terms.CoolingSeason
			}
			until = s.endOfNth(c.start, c.p.Seasons)
		} else {
			until = c.start.AddMonths(c.p.Years*12 + c.p.Months)
		}
		if res.Until.IsZero() || until.After(res.Until) {
			from := "completion"
			if c.basis == "promised" {
				from = "delivery"
			}
			res.Until, res.Basis = until, c.basis
			res.Rule = fmt.Sprintf("%s: %s from %s %s (%s)", part, c.p, from, c.start, c.basis)
		}
	}
	if res.Until.IsZero() {
		return res
	}
	if today.After(res.Until) {
		res.Status = WarrantyOut
	} else {
		res.Status = WarrantyIn
	}
	return res
}

// HomeDates returns the dates a home's warranty counts from: the
// completion acceptance of its building, else of its project, and its
// delivery. b and u may be nil (a case without a unit).
func HomeDates(p *Project, b *Building, u *Unit) (completion, delivery Date) {
	if p != nil {
		completion = p.CompletionDate
	}
	if b != nil && !b.CompletionDate.IsZero() {
		completion = b.CompletionDate
	}
	if u != nil {
		delivery = u.DeliveryDate
	}
	return completion, delivery
}

// WarrantyByPart checks every part of a home on today: the table staff
// read on the case page.
func WarrantyByPart(terms WarrantyTerms, completion, delivery, today Date) []WarrantyResult {
	out := make([]WarrantyResult, 0, len(Parts))
	for _, p := range Parts {
		out = append(out, CheckWarranty(terms, p, completion, delivery, today))
	}
	return out
}
