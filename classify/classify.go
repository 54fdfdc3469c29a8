// Package classify gives a homeowner's words — Simplified Chinese, English or
// both — a first judgment: a category, a subcategory and an urgency (初步判断:
// 问题类型、紧急程度, domain.md §2), with a confidence, for staff to confirm.
//
// The judgment is a learned one (Model: logistic regression over character
// and word n-grams, trained on the labelled corpus in classify/corpus), so
// that words nobody listed still count. Urgency comes from the model's own
// head, whose features include a safety lexicon and escalation cues (the
// signals of rules.json: water pouring, sparks, gas, people trapped, things
// falling, 12345, media, lawyers, many households…), with thresholds chosen
// to miss as few urgent texts and major complaints as cross-validation
// allows. Staff rules (a rules file in the format of rules.json) override
// the model where they match. An optional large language model (LLM) can
// stand in front of it all, with the model as its fallback.
package classify

import (
	"math"
	"slices"

	"github.com/aftersales/aftersales/casework"
)

// Result is the first judgment of a text.
type Result struct {
	Category    casework.Category    `json:"category"`
	Subcategory casework.Subcategory `json:"subcategory"`
	Urgency     casework.Urgency     `json:"urgency"`
	// Confidence in [0, 1] in the category: the model's probability of it,
	// or for staff rules and the keyword matcher their margin over the
	// runner-up; 0 when the text said nothing the classifier knows.
	Confidence float64 `json:"confidence"`
	// Signals are the codes of the urgency signals of the lexicon found in
	// the text ("active_leak", "complaint_media"), in rules order.
	Signals []string `json:"signals,omitempty"`
	// By says what made the judgment: "model", "rules" (staff rules), "llm";
	// empty from a bare Matcher.
	By string `json:"by,omitempty"`
}

// Unsure reports whether the judgment tells no category for sure: its
// confidence is below MinConfidence, or it is other/other ("we could not
// tell"). Such a category is not proposed to the owner or put on a case.
func (r Result) Unsure() bool {
	return r.Confidence < MinConfidence || r.Category == casework.CategoryOther && r.Subcategory == casework.SubOther
}

// MinConfidence is the confidence below which a category is not proposed to
// the owner: they choose it from the list instead.
const MinConfidence = 0.4

// Classifier judges texts with a Model, and with staff rules over it. It is
// safe for concurrent use.
type Classifier struct {
	model     *Model
	overrides *Matcher // staff rules; nil: none
}

// New returns a classifier of the embedded model with staff rules (nil:
// none) over it.
func New(staff *Rules) *Classifier { return NewWithModel(DefaultModel(), staff) }

// NewWithModel returns a classifier of m with staff rules (nil: none) over
// it. staff must be valid (LoadRules only returns valid rules).
func NewWithModel(m *Model, staff *Rules) *Classifier {
	c := &Classifier{model: m}
	if staff != nil && (len(staff.Rules) > 0 || len(staff.Signals) > 0) {
		c.overrides = NewMatcher(staff)
	}
	return c
}

// Model returns the classifier's model.
func (c *Classifier) Model() *Model { return c.model }

// Classify judges text. It never fails: a text with nothing the model knows
// gets category other, subcategory other and confidence 0, with the urgency
// the lexicon's signals tell. Only the first MaxTextBytes of text are read;
// invalid UTF-8 is ignored.
func (c *Classifier) Classify(text string) Result {
	res := decide(c.model, c.model.predict(text))
	if c.overrides != nil {
		staff := c.overrides.Match(text)
		if staff.Confidence > 0 {
			res.Category, res.Subcategory, res.Confidence, res.By = staff.Category, staff.Subcategory, staff.Confidence, "rules"
		}
		for _, code := range staff.Signals {
			if !slices.Contains(res.Signals, code) {
				res.Signals = append(res.Signals, code)
			}
		}
		if staff.Urgency == casework.UrgencyUrgent || staff.Urgency == casework.UrgencyMajorComplaint && res.Urgency == casework.UrgencyNormal {
			res.Urgency = staff.Urgency
		}
	}
	return res
}

// decide turns a model's prediction into a judgment.
func decide(m *Model, p prediction) Result {
	res := Result{Category: casework.CategoryOther, Subcategory: casework.SubOther, Urgency: casework.UrgencyNormal,
		Signals: p.lexicon.Signals, By: "model"}
	if p.ngrams == 0 {
		res.Urgency = p.lexicon.Urgency
		return res
	}
	var cat [8]float32
	for i, pr := range m.pairs {
		cat[pr.catIndex] += p.pair[i]
	}
	best := 0
	for i := range casework.Categories {
		if cat[i] > cat[best] {
			best = i
		}
	}
	top := -1
	for i, pr := range m.pairs {
		if pr.catIndex == best && (top < 0 || p.pair[i] > p.pair[top]) {
			top = i
		}
	}
	res.Category, res.Subcategory = m.pairs[top].category, m.pairs[top].subcategory
	res.Confidence = math.Round(float64(cat[best])*100) / 100
	res.Urgency = urgencyOf(m.Meta.Thresholds, p, res.Category)
	return res
}

// urgencyOf decides the urgency of a text of category cat. The thresholds
// are low, for recall, where a danger belongs: in the building, its
// equipment and its design; there a decisive signal of the lexicon is
// enough. A text about a fee, a certificate, someone's manners, or thanks
// for a repair last week is urgent only when the model says so outright
// (½): its urgency is about people, not an emergency.
func urgencyOf(t Thresholds, p prediction, cat casework.Category) casework.Urgency {
	urgent := t.Urgent
	if !cat.GetsWorkOrder() {
		urgent = max(urgent, 0.5)
	}
	switch {
	case p.decisive && cat.GetsWorkOrder(), float64(p.urgency[1]) >= urgent:
		return casework.UrgencyUrgent
	case float64(p.urgency[2]) >= t.Major:
		return casework.UrgencyMajorComplaint
	}
	return casework.UrgencyNormal
}
