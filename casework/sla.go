package casework

import (
	"time"
)

// SLATarget is what a service level promises: time to the first response,
// to being on site, and to resolution, each counted from receipt. A zero
// duration means the step has no deadline (a consultation needs no visit).
type SLATarget struct {
	Respond time.Duration `json:"respond"`
	OnSite  time.Duration `json:"on_site"`
	Resolve time.Duration `json:"resolve"`
}

// SLARule applies a target to cases of an urgency and, optionally, a category.
type SLARule struct {
	Urgency  Urgency   `json:"urgency"`
	Category Category  `json:"category,omitempty"` // "" = any category
	Target   SLATarget `json:"target"`
}

// SLAPolicy is the department's service levels. The rule for a case is the
// one with its urgency and category, else the one with its urgency and any
// category.
type SLAPolicy struct {
	Rules []SLARule `json:"rules"`
}

const day = 24 * time.Hour

// DefaultSLAPolicy returns the service levels of domain.md: urgent — respond
// within 1 hour, under control within 24 hours; normal — respond within 24
// hours, on site within 3 days, repaired within 15 days; major complaint —
// acknowledged within 24 hours, written reply within 7 days; consultations and
// suggestions — answered within 24 hours, closed within 7 days.
func DefaultSLAPolicy() SLAPolicy {
	return SLAPolicy{Rules: []SLARule{
		{Urgency: UrgencyUrgent, Target: SLATarget{Respond: time.Hour, OnSite: 4 * time.Hour, Resolve: day}},
		{Urgency: UrgencyNormal, Target: SLATarget{Respond: day, OnSite: 3 * day, Resolve: 15 * day}},
		{Urgency: UrgencyMajorComplaint, Target: SLATarget{Respond: day, Resolve: 7 * day}},
		{Urgency: UrgencyNormal, Category: CategoryServiceAttitude, Target: SLATarget{Respond: day, Resolve: 7 * day}},
		{Urgency: UrgencyNormal, Category: CategoryPolicyConsultation, Target: SLATarget{Respond: day, Resolve: 7 * day}},
		{Urgency: UrgencyNormal, Category: CategoryOther, Target: SLATarget{Respond: day, Resolve: 7 * day}},
	}}
}

// Validate checks that every rule names a known urgency and category and has
// no negative durations.
func (p SLAPolicy) Validate() error {
	for _, r := range p.Rules {
		if !r.Urgency.Valid() {
			return Invalid("sla", "unknown urgency %q", r.Urgency)
		}
		if r.Category != "" && !r.Category.Valid() {
			return Invalid("sla", "unknown category %q", r.Category)
		}
		if r.Target.Respond < 0 || r.Target.OnSite < 0 || r.Target.Resolve < 0 {
			return Invalid("sla", "negative duration for %s/%s", r.Urgency, r.Category)
		}
	}
	return nil
}

// Target returns the target for urgency u and category c, and whether a rule
// matched.
func (p SLAPolicy) Target(u Urgency, c Category) (SLATarget, bool) {
	var fallback *SLARule
	for i := range p.Rules {
		r := &p.Rules[i]
		if r.Urgency != u {
			continue
		}
		if r.Category == c {
			return r.Target, true
		}
		if r.Category == "" && fallback == nil {
			fallback = r
		}
	}
	if fallback != nil {
		return fallback.Target, true
	}
	return SLATarget{}, false
}

// Deadlines are a case's service-level deadlines; nil where the step has none.
type Deadlines struct {
	RespondBy *time.Time
	OnSiteBy  *time.Time
	ResolveBy *time.Time
}

// Deadlines computes the deadlines of a case received at receivedAt.
func (p SLAPolicy) Deadlines(u Urgency, c Category, receivedAt time.Time) Deadlines {
	t, _ := p.Target(u, c)
	at := func(d time.Duration) *time.Time {
		if d <= 0 {
			return nil
		}
		return timePtr(receivedAt.Add(d))
	}
	return Deadlines{RespondBy: at(t.Respond), OnSiteBy: at(t.OnSite), ResolveBy: at(t.Resolve)}
}

// SetDeadlines fixes c's deadlines from the policy, from its urgency, category
// and receipt time. Call it at registration and when staff change the urgency.
func (p SLAPolicy) SetDeadlines(c *Case) {
	d := p.Deadlines(c.Urgency, c.Category, c.ReceivedAt)
	c.RespondBy, c.OnSiteBy, c.ResolveBy = d.RespondBy, d.OnSiteBy, d.ResolveBy
}

// Deadlines returns c's service-level deadlines.
func (c *Case) Deadlines() Deadlines {
	return Deadlines{RespondBy: c.RespondBy, OnSiteBy: c.OnSiteBy, ResolveBy: c.ResolveBy}
}

// PausedDeadlines returns c's deadlines after its service-level clocks
// stood still from since for paused (a case on hold, 挂起): each deadline
// still running at since — its step not met, its time after since — is
// moved paused later. A deadline met, or already missed at since, stays as
// it is: the hold does not undo a breach that happened before it.
func (c *Case) PausedDeadlines(since time.Time, paused time.Duration) Deadlines {
	move := func(by, met *time.Time) *time.Time {
		if by == nil || met != nil || !by.After(since) || paused <= 0 {
			return by
		}
		return timePtr(by.Add(paused))
	}
	return Deadlines{
		RespondBy: move(c.RespondBy, c.RespondedAt),
		OnSiteBy:  move(c.OnSiteBy, c.OnSiteAt),
		ResolveBy: move(c.ResolveBy, c.ResolvedAt),
	}
}

// Breach names a deadline a case missed.
type Breach string

// The deadlines a case can miss.
const (
	BreachRespond Breach = "respond"
	BreachOnSite  Breach = "on_site"
	BreachResolve Breach = "resolve"
)

// Breaches returns the deadlines c has missed as of now: a deadline is missed
// when it passed before the step was met, or when it passed and the step is
// still not met. A case held on hold, rejected or cancelled is not late for
// steps it no longer needs.
func (c *Case) Breaches(now time.Time) []Breach {
	var out []Breach
	check := func(b Breach, by, met *time.Time) {
		switch {
		case by == nil:
		case met != nil && met.After(*by):
			out = append(out, b)
		case met == nil && now.After(*by) && c.Open() && c.State != StateOnHold:
			out = append(out, b)
		}
	}
	check(BreachRespond, c.RespondBy, c.RespondedAt)
	check(BreachOnSite, c.OnSiteBy, c.OnSiteAt)
	check(BreachResolve, c.ResolveBy, c.ResolvedAt)
	return out
}

// Overdue reports whether c is open, not yet resolved and late as of now: a
// deadline passed and its step is not met. A resolved case awaiting the owner's
// acceptance or survey is not overdue. (A case that met a step late but is on time for the
// rest is not overdue; Breaches still records the late step.)
func (c *Case) Overdue(now time.Time) bool {
	if !c.Open() || c.State == StateOnHold || c.ResolvedAt != nil {
		return false
	}
	late := func(by, met *time.Time) bool { return by != nil && met == nil && now.After(*by) }
	return late(c.RespondBy, c.RespondedAt) || late(c.OnSiteBy, c.OnSiteAt) || late(c.ResolveBy, c.ResolvedAt)
}

// NextDeadline returns the earliest deadline c still has to meet: the
// soonest of its unmet steps' deadlines while it is open, not resolved and
// not on hold (the cases Overdue can be true of); nil otherwise. The stores
// sort by it (CaseFilter.Order OrderDue) with the same rule.
func (c *Case) NextDeadline() *time.Time {
	if !c.Open() || c.State == StateOnHold || c.ResolvedAt != nil {
		return nil
	}
	var next *time.Time
	for _, d := range []struct{ by, met *time.Time }{{c.RespondBy, c.RespondedAt}, {c.OnSiteBy, c.OnSiteAt}, {c.ResolveBy, c.ResolvedAt}} {
		if d.by != nil && d.met == nil && (next == nil || d.by.Before(*next)) {
			next = d.by
		}
	}
	return next
}
