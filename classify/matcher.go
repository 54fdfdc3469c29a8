// The keyword matcher: rules kept as data (Rules; the default is the
// embedded rules.json, which staff extend with their own file) that every
// judgment can be explained by:
//
//   - every Rule adds its weight to a (category, subcategory) for each of its
//     keywords in the text; the category with the highest total wins, then
//     its highest subcategory; ties go to the order of casework.Categories and
//     casework.Subcategories (engineering quality first);
//   - every Signal that matches raises the urgency: urgent wins over
//     major_complaint (safety first), which wins over normal; the codes of
//     all matching signals are reported, so a complaint that is also urgent is
//     still visible;
//   - a keyword right after a negation word ("没有漏水了", "isn't leaking")
//     counts a quarter for a rule and not at all for a signal.
//
// The default rules are the model's lexicon (see Model): their scores and
// signals are features it learnt to weigh, and the signals are reported with
// every answer. A staff rules file is matched on its own and overrides the
// model where it matches (see Classifier).

package classify

import (
	"bytes"
	"math"
	"slices"
	"unicode/utf8"

	"github.com/aftersales/aftersales/casework"
)

// MaxTextBytes is how much of a text a classifier reads: a homeowner's message is
// a few hundred bytes; a longer text is classified by its beginning.
const MaxTextBytes = 16 << 10

// negatedWeight is the share of its weight a negated keyword adds to a rule:
// "没有漏水，但是墙裂了" is about a crack, "没有漏水了" is still about a leak.
const negatedWeight = 0.25

// negationWindow is how many words or Chinese characters may stand between a
// negation word and the keyword it negates ("不再漏水", "not really leaking").
const negationWindow = 1

// Matcher classifies texts with precompiled rules. It is safe for
// concurrent use.
type Matcher struct {
	keywords [][]byte         // canonical keywords, each once
	byASCII  [128][]int32     // keyword ids by their first byte after the leading space
	byRune   map[rune][]int32 // the same for non-ASCII first runes
	rules    []compiledRule
	signals  []compiledSignal
	negators [][]byte // canonical, without the trailing space: " not", "没有"
	except   [][]byte
	pairs    []pair // every (category, subcategory), in casework order
}

type pair struct {
	category    casework.Category
	subcategory casework.Subcategory
	catIndex    int
}

type compiledMatch struct{ keywords, with, exclude []int32 }

type compiledRule struct {
	compiledMatch
	pair   int
	weight float64
	// within[i] lists the keywords of this rule that contain keywords[i]
	// ("天花板" contains "天花"): when one of them is found, keywords[i] is
	// not counted again.
	within [][]int32
}

type compiledSignal struct {
	compiledMatch
	code     string
	urgency  casework.Urgency
	decisive bool
}

// New compiles r for classification; nil means DefaultRules. r must be valid
// (LoadRules and DefaultRules only return valid rules): New panics on rules
// that fail Validate.
func NewMatcher(r *Rules) *Matcher {
	if r == nil {
		r = DefaultRules()
	}
	if err := r.Validate(); err != nil {
		panic(err)
	}
	c := &Matcher{byRune: make(map[rune][]int32), pairs: allPairs()}
	ids := make(map[string]int32)
	compile := func(words []string) []int32 {
		var out []int32
		for _, w := range words {
			k := keyword(w)
			id, ok := ids[k]
			if !ok {
				id = int32(len(c.keywords))
				ids[k] = id
				c.keywords = append(c.keywords, []byte(k))
				lead, _ := utf8.DecodeRuneInString(trimSpaceLeft(k))
				if lead < utf8.RuneSelf {
					c.byASCII[lead] = append(c.byASCII[lead], id)
				} else {
					c.byRune[lead] = append(c.byRune[lead], id)
				}
			}
			out = append(out, id)
		}
		return out
	}
	compileMatch := func(m Match) compiledMatch {
		return compiledMatch{compile(m.Keywords), compile(m.With), compile(m.Exclude)}
	}
	for _, rule := range r.Rules {
		w := rule.Weight
		if w == 0 {
			w = 1
		}
		p := 0
		for i, pr := range c.pairs {
			if pr.category == rule.Category && pr.subcategory == rule.Subcategory {
				p = i
			}
		}
		cr := compiledRule{compiledMatch: compileMatch(rule.Match), pair: p, weight: w}
		cr.within = make([][]int32, len(cr.keywords))
		for i, a := range cr.keywords {
			for _, b := range cr.keywords {
				if a != b && bytes.Contains(c.keywords[b], c.keywords[a]) {
					cr.within[i] = append(cr.within[i], b)
				}
			}
		}
		c.rules = append(c.rules, cr)
	}
	for _, s := range r.Signals {
		c.signals = append(c.signals, compiledSignal{compileMatch(s.Match), s.Code, s.Urgency, s.Decisive})
	}
	for _, w := range r.Negation.Words {
		c.negators = append(c.negators, bytes.TrimRight([]byte(keyword(w)), " "))
	}
	for _, w := range r.Negation.Except {
		c.except = append(c.except, []byte(keyword(w)))
	}
	return c
}

func trimSpaceLeft(s string) string {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	return s
}

// Keyword states found in a text.
const (
	absent  uint8 = iota
	negated       // found, but only right after a negation word
	present
)

// Match judges text by the rules alone. It never fails: an empty or
// unintelligible text gets category other, subcategory other, urgency normal
// and confidence 0. Only the first MaxTextBytes of text are read; invalid
// UTF-8 is ignored.
func (c *Matcher) Match(text string) Result {
	r, _, _ := c.match(text)
	return r
}

// match is Match, with the score of every (category, subcategory) pair, in
// the order of casework.Categories and casework.Subcategories, and whether a
// decisive signal was found.
func (c *Matcher) match(text string) (res Result, pairScore []float64, decisive bool) {
	if len(text) > MaxTextBytes {
		text = text[:MaxTextBytes]
	}
	var buf [1024]byte
	t := appendCanonical(buf[:0], text)
	state := make([]uint8, len(c.keywords))
	c.scan(t, state)

	scores := make([]float64, len(c.pairs)+len(casework.Categories))
	pairScore, catScore := scores[:len(c.pairs)], scores[len(c.pairs):]
	for _, r := range c.rules {
		if !r.matches(state, negated) {
			continue
		}
		var s float64
		for i, id := range r.keywords {
			if anyState(state, r.within[i], state[id]) {
				continue // counted as part of a longer keyword
			}
			switch state[id] {
			case present:
				s += r.weight
			case negated:
				s += r.weight * negatedWeight
			}
		}
		pairScore[r.pair] += s
		catScore[c.pairs[r.pair].catIndex] += s
	}

	res = Result{
		Category:    casework.CategoryOther,
		Subcategory: casework.SubOther,
		Urgency:     casework.UrgencyNormal,
	}
	best, second := -1, -1
	for i, s := range catScore {
		switch {
		case s <= 0:
		case best < 0 || s > catScore[best]:
			best, second = i, best
		case second < 0 || s > catScore[second]:
			second = i
		}
	}
	if best >= 0 {
		b, r := catScore[best], 0.0
		if second >= 0 {
			r = catScore[second]
		}
		res.Confidence = math.Round((b-r)/(b+r+1)*100) / 100
		top := -1
		for i, p := range c.pairs {
			if p.catIndex == best && (top < 0 || pairScore[i] > pairScore[top]) {
				top = i
			}
		}
		res.Category, res.Subcategory = c.pairs[top].category, c.pairs[top].subcategory
	}

	for _, s := range c.signals {
		if !s.matches(state, present) {
			continue
		}
		if !slices.Contains(res.Signals, s.code) {
			res.Signals = append(res.Signals, s.code)
		}
		decisive = decisive || s.decisive
		if s.urgency == casework.UrgencyUrgent || res.Urgency == casework.UrgencyNormal {
			res.Urgency = s.urgency
		}
	}
	return res, pairScore, decisive
}

// matches reports whether a keyword is found in at least state min
// (negated for rules, present for signals), a with-keyword (if any) is
// present and no exclude-keyword is found at all.
func (m *compiledMatch) matches(state []uint8, min uint8) bool {
	return anyState(state, m.keywords, min) &&
		(len(m.with) == 0 || anyState(state, m.with, present)) &&
		!anyState(state, m.exclude, negated)
}

// anyState reports whether one of ids has at least state min.
func anyState(state []uint8, ids []int32, min uint8) bool {
	for _, id := range ids {
		if state[id] >= min {
			return true
		}
	}
	return false
}

// scan finds every keyword in the canonical text t, recording in state
// whether it occurs un-negated somewhere (present) or only negated.
func (c *Matcher) scan(t []byte, state []uint8) {
	for i := 0; i < len(t); {
		r, size := rune(t[i]), 1
		var cands []int32
		if r < utf8.RuneSelf {
			cands = c.byASCII[r]
		} else {
			r, size = utf8.DecodeRune(t[i:])
			cands = c.byRune[r]
		}
		for _, id := range cands {
			if state[id] == present {
				continue
			}
			kw, start := c.keywords[id], i
			if kw[0] == ' ' {
				if start--; start < 0 || t[start] != ' ' {
					continue
				}
			}
			if !bytes.HasPrefix(t[start:], kw) {
				continue
			}
			if c.negated(t, start) {
				state[id] = negated
			} else {
				state[id] = present
			}
		}
		i += size
	}
}

// negated reports whether the keyword starting at t[start] follows a
// negation word, with at most negationWindow words or characters between
// them and no clause separator.
func (c *Matcher) negated(t []byte, start int) bool {
	s := t[:start]
	for range negationWindow + 1 {
		s = bytes.TrimRight(s, " ")
		if len(s) == 0 || s[len(s)-1] == '|' {
			return false
		}
		for _, n := range c.negators {
			if bytes.HasSuffix(s, n) && !c.excepted(t, len(s)-len(n), len(s)) {
				return true
			}
		}
		s = dropUnit(s)
	}
	return false
}

// excepted reports whether the negation word at t[from:to] is part of an
// exception phrase ("不停", "doesn't stop").
func (c *Matcher) excepted(t []byte, from, to int) bool {
	for _, e := range c.except {
		// An occurrence inside t[lo:hi] necessarily covers t[from:to].
		lo, hi := max(0, to-len(e)), min(len(t), from+len(e))
		if lo < hi && bytes.Contains(t[lo:hi], e) {
			return true
		}
	}
	return false
}

// dropUnit removes the last word or character of s.
func dropUnit(s []byte) []byte {
	if n := len(s); n > 0 && s[n-1] < utf8.RuneSelf {
		return s[:bytes.LastIndexByte(s, ' ')+1]
	}
	_, size := utf8.DecodeLastRune(s)
	return s[:len(s)-size]
}
