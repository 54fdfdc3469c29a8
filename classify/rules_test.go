package classify

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

func TestDefaultRules(t *testing.T) {
	t.Parallel()
	r := DefaultRules()
	require.NoError(t, r.Validate())
	assert.NotEmpty(t, r.Rules)
	assert.NotEmpty(t, r.Signals)
	assert.NotEmpty(t, r.Negation.Words)

	// Every category has a rule; every value is the caller's own.
	seen := map[casework.Category]bool{}
	for _, rule := range r.Rules {
		seen[rule.Category] = true
	}
	for _, c := range casework.Categories {
		assert.True(t, seen[c], "no rule for %s", c)
	}
	r.Rules[0].Keywords[0] = "changed"
	assert.NotEqual(t, "changed", DefaultRules().Rules[0].Keywords[0])
}

func TestLoadRules(t *testing.T) {
	t.Parallel()
	r, err := LoadRules(strings.NewReader(`{
		"rules": [{"category": "engineering_quality", "subcategory": "leak", "weight": 2, "keywords": ["漏水", "leak"], "exclude": ["漏电"]}],
		"signals": [{"code": "active_leak", "urgency": "urgent", "keywords": ["一直在漏"], "with": ["水"]}],
		"negation": {"words": ["没有", "not"], "except": ["不停"]}
	}`))
	require.NoError(t, err)
	require.Len(t, r.Rules, 1)
	assert.Equal(t, casework.SubLeak, r.Rules[0].Subcategory)
	assert.Equal(t, 2.0, r.Rules[0].Weight)
	assert.Equal(t, []string{"漏电"}, r.Rules[0].Exclude)
	assert.Equal(t, []string{"水"}, r.Signals[0].With)

	got := NewMatcher(r).Match("卫生间一直在漏水")
	assert.Equal(t, casework.SubLeak, got.Subcategory)
	assert.Equal(t, casework.UrgencyUrgent, got.Urgency)
	assert.Equal(t, casework.CategoryOther, NewMatcher(r).Match("插座漏电漏水").Category, "excluded")
}

func TestLoadRulesErrors(t *testing.T) {
	t.Parallel()
	const sig = `"signals": [{"code": "x", "urgency": "urgent", "keywords": ["a"]}]`
	tests := []struct {
		name, json string
		want       string // in the error
		invalid    bool   // errors.Is casework.ErrInvalid
	}{
		{"not json", `{"rules": [`, "read rules", false},
		{"unknown field", `{"rules": [{"category": "other", "subcategory": "praise", "keyword": ["好"]}]}`, `unknown field "keyword"`, false},
		{"trailing data", `{} {}`, "after the rules", false},
		{"unknown category", `{"rules": [{"category": "engineering", "subcategory": "leak", "keywords": ["a"]}]}`, "rules[0].category", true},
		{"unknown subcategory", `{"rules": [{"category": "other", "subcategory": "praise", "keywords": ["a"]}, {"category": "engineering_quality", "subcategory": "leek", "keywords": ["a"]}]}`, "rules[1].subcategory", true},
		{"subcategory of another category", `{"rules": [{"category": "design_defect", "subcategory": "leak", "keywords": ["a"]}]}`, "rules[0].subcategory", true},
		{"missing category", `{"rules": [{"subcategory": "leak", "keywords": ["a"]}]}`, "rules[0].category", true},
		{"negative weight", `{"rules": [{"category": "other", "subcategory": "praise", "weight": -1, "keywords": ["a"]}]}`, "rules[0].weight", true},
		{"no keywords", `{"rules": [{"category": "other", "subcategory": "praise"}]}`, "rules[0].keywords", true},
		{"blank keyword", `{"rules": [{"category": "other", "subcategory": "praise", "keywords": ["好", "  "]}]}`, "rules[0].keywords[1]", true},
		{"punctuation keyword", `{"rules": [{"category": "other", "subcategory": "praise", "keywords": ["好"], "with": ["？！"]}]}`, "rules[0].with[0]", true},
		{"decisive but not urgent", `{"signals": [{"code": "x", "urgency": "major_complaint", "decisive": true, "keywords": ["a"]}]}`, "signals[0].decisive", true},
		{"signal unknown urgency", `{"signals": [{"code": "x", "urgency": "critical", "keywords": ["a"]}]}`, "signals[0].urgency", true},
		{"signal bad code", `{"signals": [{"code": "Active Leak", "urgency": "urgent", "keywords": ["a"]}]}`, "signals[0].code", true},
		{"signal no code", `{"signals": [{"urgency": "urgent", "keywords": ["a"]}]}`, "signals[0].code", true},
		{"signal blank exclude", `{` + sig[:len(sig)-2] + `, "exclude": [""]}]}`, "signals[0].exclude[0]", true},
		{"blank negation", `{"negation": {"words": ["不", ""]}}`, "negation.words[1]", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadRules(strings.NewReader(tt.json))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, tt.invalid, errors.Is(err, casework.ErrInvalid), "errors.Is ErrInvalid: %v", err)
		})
	}
}

func TestMerge(t *testing.T) {
	t.Parallel()
	base := DefaultRules()
	extra, err := LoadRules(strings.NewReader(`{
		"rules": [{"category": "facilities_equipment", "subcategory": "other", "weight": 3, "keywords": ["快递柜", "parcel locker"]}],
		"signals": [{"code": "child_at_risk", "urgency": "urgent", "keywords": ["小孩"], "with": ["窗"]}]
	}`))
	require.NoError(t, err)
	nBase := len(base.Rules)

	merged := base.Merge(extra)
	require.NoError(t, merged.Validate())
	assert.Len(t, merged.Rules, nBase+1)
	assert.Len(t, merged.Signals, len(base.Signals)+1)
	assert.Len(t, base.Rules, nBase, "Merge leaves its receiver alone")
	merged.Rules[0].Keywords[0] = "changed"
	assert.NotEqual(t, "changed", base.Rules[0].Keywords[0], "Merge copies")

	c := NewMatcher(merged)
	got := c.Match("快递柜坏了")
	assert.Equal(t, casework.CategoryFacilitiesEquipment, got.Category)
	assert.Equal(t, casework.SubOther, got.Subcategory)
	got = c.Match("小孩在窗边爬")
	assert.Equal(t, casework.UrgencyUrgent, got.Urgency)
	assert.Equal(t, []string{"child_at_risk"}, got.Signals)
	// The defaults still work.
	assert.Equal(t, casework.SubLeak, c.Match("天花板漏水").Subcategory)

	var nilRules *Rules
	assert.Len(t, nilRules.Merge(extra).Rules, 1)
	assert.Len(t, base.Merge(nil).Rules, nBase)
}

func TestNewPanicsOnInvalidRules(t *testing.T) {
	t.Parallel()
	assert.Panics(t, func() {
		NewMatcher(&Rules{Rules: []Rule{{Category: "nope", Subcategory: "leak", Match: Match{Keywords: []string{"a"}}}}})
	})
	assert.NotPanics(t, func() { NewMatcher(&Rules{}) })
	assert.Equal(t, casework.CategoryOther, NewMatcher(&Rules{}).Match("漏水").Category)
}
