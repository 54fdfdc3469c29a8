package classify

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/aftersales/aftersales/casework"
)

// Report is how a classifier did on labelled texts.
type Report struct {
	N int `json:"n"`
	// CategoryAccuracy and SubcategoryAccuracy (both right) are shares in
	// [0, 1].
	CategoryAccuracy    float64 `json:"category_accuracy"`
	SubcategoryAccuracy float64 `json:"subcategory_accuracy"`
	// Categories has a row per category: its labelled texts, precision and
	// recall.
	Categories []ClassScore `json:"categories"`
	// Confusion[i][j] counts texts labelled casework.Categories[i] and
	// classed casework.Categories[j].
	Confusion [][]int `json:"confusion"`
	// Urgent and Major score the urgencies urgent and major_complaint, each
	// on its own.
	Urgent ClassScore `json:"urgent"`
	Major  ClassScore `json:"major_complaint"`
	// UrgencyConfusion[i][j] counts texts labelled casework.Urgencies[i]
	// and classed casework.Urgencies[j].
	UrgencyConfusion [][]int `json:"urgency_confusion"`
}

// ClassScore is one class's precision and recall.
type ClassScore struct {
	Class     string  `json:"class"`
	N         int     `json:"n"` // labelled with the class
	Predicted int     `json:"predicted"`
	Right     int     `json:"right"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
}

// Evaluate classifies every example with classify and reports how it did.
func Evaluate(classify func(string) Result, examples []Example) Report {
	t := newTally()
	for _, e := range examples {
		t.add(e, classify(e.Text))
	}
	return t.report()
}

type tally struct {
	n, cat, sub int
	conf        [][]int
	urg         [][]int
}

func newTally() *tally {
	t := &tally{}
	for range casework.Categories {
		t.conf = append(t.conf, make([]int, len(casework.Categories)))
	}
	for range casework.Urgencies {
		t.urg = append(t.urg, make([]int, len(casework.Urgencies)))
	}
	return t
}

func (t *tally) add(e Example, got Result) {
	t.n++
	if got.Category == e.Category {
		t.cat++
		if got.Subcategory == e.Subcategory {
			t.sub++
		}
	}
	i, j := slices.Index(casework.Categories, e.Category), slices.Index(casework.Categories, got.Category)
	if i >= 0 && j >= 0 {
		t.conf[i][j]++
	}
	i, j = slices.Index(casework.Urgencies, e.Urgency), slices.Index(casework.Urgencies, got.Urgency)
	if i >= 0 && j >= 0 {
		t.urg[i][j]++
	}
}

func share(k, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(k) / float64(n)
}

func score(class string, m [][]int, i int) ClassScore {
	s := ClassScore{Class: class, Right: m[i][i]}
	for j := range m {
		s.N += m[i][j]
		s.Predicted += m[j][i]
	}
	s.Precision, s.Recall = share(s.Right, s.Predicted), share(s.Right, s.N)
	return s
}

func (t *tally) report() Report {
	r := Report{N: t.n, CategoryAccuracy: share(t.cat, t.n), SubcategoryAccuracy: share(t.sub, t.n),
		Confusion: t.conf, UrgencyConfusion: t.urg}
	for i, c := range casework.Categories {
		r.Categories = append(r.Categories, score(string(c), t.conf, i))
	}
	r.Urgent = score(string(casework.UrgencyUrgent), t.urg, 1)
	r.Major = score(string(casework.UrgencyMajorComplaint), t.urg, 2)
	return r
}

// pct formats k of n as a percentage, "–" when there was nothing to count.
func pct(k, n int) string {
	if n == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(k)/float64(n))
}

// Write prints r for people: the headline figures, each category's
// precision and recall, and both confusion matrices.
func (r Report) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "texts                %d\n", r.N)
	fmt.Fprintf(&b, "category accuracy    %.1f%%\n", 100*r.CategoryAccuracy)
	fmt.Fprintf(&b, "subcategory accuracy %.1f%% (category and subcategory both right)\n", 100*r.SubcategoryAccuracy)
	for _, s := range []ClassScore{r.Urgent, r.Major} {
		fmt.Fprintf(&b, "%-20s recall %s (%d/%d), precision %s (%d/%d)\n", s.Class, pct(s.Right, s.N), s.Right, s.N,
			pct(s.Right, s.Predicted), s.Right, s.Predicted)
	}
	b.WriteString("\ncategory              n  precision  recall\n")
	for _, s := range r.Categories {
		fmt.Fprintf(&b, "%-20s %4d  %9s  %6s\n", s.Class, s.N, pct(s.Right, s.Predicted), pct(s.Right, s.N))
	}
	short := map[string]string{"engineering_quality": "eng", "design_defect": "design", "facilities_equipment": "facil",
		"service_attitude": "service", "policy_consultation": "policy", "other": "other",
		"normal": "normal", "urgent": "urgent", "major_complaint": "major"}
	matrix := func(title string, labels []string, m [][]int) {
		fmt.Fprintf(&b, "\n%s (rows: labelled, columns: classed)\n%-8s", title, "")
		for _, l := range labels {
			fmt.Fprintf(&b, "%8s", short[l])
		}
		b.WriteByte('\n')
		for i, l := range labels {
			fmt.Fprintf(&b, "%-8s", short[l])
			for j := range labels {
				fmt.Fprintf(&b, "%8d", m[i][j])
			}
			b.WriteByte('\n')
		}
	}
	var cats, urgs []string
	for _, c := range casework.Categories {
		cats = append(cats, string(c))
	}
	for _, u := range casework.Urgencies {
		urgs = append(urgs, string(u))
	}
	matrix("category confusion", cats, r.Confusion)
	matrix("urgency confusion", urgs, r.UrgencyConfusion)
	_, err := io.WriteString(w, b.String())
	return err
}
