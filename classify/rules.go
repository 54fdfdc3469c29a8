package classify

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/aftersales/aftersales/casework"
)

//go:embed rules.json
var defaultRules []byte

// Rules is the data a Classifier works from: the rules that score a category
// and subcategory, the signals that raise the urgency, and the words that
// negate a keyword. It is what rules.json holds; staff extend it with their
// own file (see Merge).
type Rules struct {
	Rules    []Rule   `json:"rules"`
	Signals  []Signal `json:"signals"`
	Negation Negation `json:"negation"`
}

// Match says when a rule or signal matches a text: when one of Keywords
// occurs in it, one of With (if any) occurs too, and none of Exclude occurs.
//
// A keyword written in ASCII (English, digits) matches whole words,
// case-insensitively, with common inflections: "leak" matches "Leaks",
// "leaked" and "leaking"; "water coming through" matches "water comes
// through". Any other keyword (Chinese) matches as a substring: "漏水"
// matches "一直在漏水了". Keywords and With count only when they are not
// negated (see Negation); Exclude counts even when negated.
type Match struct {
	Keywords []string `json:"keywords"`
	With     []string `json:"with,omitempty"`
	Exclude  []string `json:"exclude,omitempty"`
}

// Rule adds Weight to the score of Category and Subcategory for every one of
// its keywords found in a text (a quarter of it for a negated keyword; a
// keyword inside a longer one of the same rule that is also found, like 天花
// in 天花板, is not counted again). Several rules may name the same
// subcategory: a subcategory's score is the sum of its rules', a category's
// the sum of its subcategories'. In rules.json:
//
//	{"category": "engineering_quality", "subcategory": "plumbing", "weight": 1,
//	 "keywords": ["漏水", "渗水", "leak", "drip"],
//	 "with": ["水管", "马桶", "pipe", "toilet"],
//	 "exclude": ["漏电"]}
//
// scores plumbing for "马桶漏水" and "the toilet is leaking", not for "窗户漏水".
type Rule struct {
	Category    casework.Category    `json:"category"`
	Subcategory casework.Subcategory `json:"subcategory"`
	// Weight of each keyword found; 0 or absent means 1.
	Weight float64 `json:"weight,omitempty"`
	Match
}

// Signal raises the urgency of a text it matches to Urgency (urgent or
// major_complaint) and is reported by Code, such as "active_leak" or
// "complaint_media". Several signals may share a code. A signal of urgency
// normal raises nothing: it is a cue against urgency ("when it rains",
// "dry now"), which a model weighs.
//
// In a model's lexicon a signal is a feature whose weight the model learns;
// a Decisive one makes a text about the building or its equipment urgent
// whatever the model says — for the few dangers (a gas smell, sparks, water
// in the electrics) whose mention alone is reason enough to send someone.
type Signal struct {
	Code     string           `json:"code"`
	Urgency  casework.Urgency `json:"urgency"`
	Decisive bool             `json:"decisive,omitempty"`
	Match
}

// Negation lists the words that negate a keyword right after them, with at
// most one word or Chinese character in between: "没有漏水", "不再漏水",
// "not leaking", "isn't really leaking". Except lists phrases that contain a
// negation word but don't negate: "不停漏水", "doesn't stop leaking".
type Negation struct {
	Words  []string `json:"words"`
	Except []string `json:"except,omitempty"`
}

// DefaultRules returns the embedded default rules (classify/rules.json). Each
// call returns a new value that the caller may change.
func DefaultRules() *Rules {
	r, err := LoadRules(bytes.NewReader(defaultRules))
	if err != nil {
		panic("classify: embedded rules.json: " + err.Error())
	}
	return r
}

// LoadRules reads rules in the JSON format of rules.json and validates them
// (see Rules.Validate). Unknown fields are an error, so that a misspelt field
// name doesn't silently drop a rule.
func LoadRules(r io.Reader) (*Rules, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var rules Rules
	if err := dec.Decode(&rules); err != nil {
		return nil, fmt.Errorf("classify: read rules: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("classify: read rules: unexpected data after the rules object")
	}
	if err := rules.Validate(); err != nil {
		return nil, err
	}
	return &rules, nil
}

// Validate checks every code against casework and every keyword. The error
// is a *casework.ValidationError (errors.Is casework.ErrInvalid) naming the
// rule or signal by its index, e.g. "rules[3].subcategory".
func (r *Rules) Validate() error {
	invalid := func(field, format string, args ...any) error {
		return fmt.Errorf("classify: %w", casework.Invalid(field, format, args...))
	}
	for i, rule := range r.Rules {
		at := fmt.Sprintf("rules[%d]", i)
		if !rule.Category.Valid() {
			return invalid(at+".category", "%q is not one of %v", rule.Category, casework.Categories)
		}
		if !rule.Subcategory.Valid(rule.Category) {
			return invalid(at+".subcategory", "%q is not one of %v (the subcategories of %s)",
				rule.Subcategory, casework.Subcategories[rule.Category], rule.Category)
		}
		if rule.Weight < 0 || math.IsNaN(rule.Weight) || math.IsInf(rule.Weight, 0) {
			return invalid(at+".weight", "%v is not a weight: use a positive number, or leave it out for 1", rule.Weight)
		}
		if err := rule.Match.validate(at); err != nil {
			return err
		}
	}
	for i, s := range r.Signals {
		at := fmt.Sprintf("signals[%d]", i)
		if s.Code == "" || strings.Trim(s.Code, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			return invalid(at+".code", "%q is not a code: use lower-case letters, digits and _", s.Code)
		}
		if !s.Urgency.Valid() {
			return invalid(at+".urgency", "%q is not one of %v", s.Urgency, casework.Urgencies)
		}
		if s.Decisive && s.Urgency != casework.UrgencyUrgent {
			return invalid(at+".decisive", "only an urgent signal can be decisive")
		}
		if err := s.Match.validate(at); err != nil {
			return err
		}
	}
	if err := validKeywords("negation.words", r.Negation.Words); err != nil {
		return err
	}
	return validKeywords("negation.except", r.Negation.Except)
}

func (m *Match) validate(at string) error {
	if len(m.Keywords) == 0 {
		return fmt.Errorf("classify: %w", casework.Invalid(at+".keywords", "is empty"))
	}
	if err := validKeywords(at+".keywords", m.Keywords); err != nil {
		return err
	}
	if err := validKeywords(at+".with", m.With); err != nil {
		return err
	}
	return validKeywords(at+".exclude", m.Exclude)
}

func validKeywords(field string, words []string) error {
	for j, w := range words {
		if keyword(w) == "" {
			return fmt.Errorf("classify: %w", casework.Invalid(fmt.Sprintf("%s[%d]", field, j),
				"%q has no letters or digits", w))
		}
	}
	return nil
}

// keyword returns the canonical form of a keyword, without the clause
// punctuation around it ("怎么办？" → "怎么办"), or "" if nothing is left.
func keyword(w string) string {
	w = strings.TrimFunc(w, func(r rune) bool { return unicode.IsSpace(r) || isSeparator(fold(r)) })
	c := string(appendCanonical(nil, w))
	if strings.Trim(c, " |") == "" {
		return ""
	}
	return c
}

// Merge returns new rules holding r's rules, signals and negation words
// followed by extra's: staff extensions added to the defaults. Neither r nor
// extra is changed; either may be nil.
func (r *Rules) Merge(extra *Rules) *Rules {
	out := &Rules{}
	for _, x := range []*Rules{r, extra} {
		if x == nil {
			continue
		}
		for _, rule := range x.Rules {
			rule.Match = rule.Match.clone()
			out.Rules = append(out.Rules, rule)
		}
		for _, s := range x.Signals {
			s.Match = s.Match.clone()
			out.Signals = append(out.Signals, s)
		}
		out.Negation.Words = append(out.Negation.Words, x.Negation.Words...)
		out.Negation.Except = append(out.Negation.Except, x.Negation.Except...)
	}
	return out
}

func (m Match) clone() Match {
	return Match{Keywords: slices.Clone(m.Keywords), With: slices.Clone(m.With), Exclude: slices.Clone(m.Exclude)}
}
