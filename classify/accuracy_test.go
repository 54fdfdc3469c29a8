package classify

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

type labelled struct {
	Text        string               `json:"text"`
	Category    casework.Category    `json:"category"`
	Subcategory casework.Subcategory `json:"subcategory"`
	Urgency     casework.Urgency     `json:"urgency"`
}

func readLabelled(t *testing.T, path string) []labelled {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []labelled
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		var l labelled
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l), "%s:%d", path, n)
		require.True(t, l.Category.Valid(), "%s:%d: category %q", path, n, l.Category)
		require.True(t, l.Subcategory.Valid(l.Category), "%s:%d: subcategory %q", path, n, l.Subcategory)
		require.True(t, l.Urgency.Valid(), "%s:%d: urgency %q", path, n, l.Urgency)
		out = append(out, l)
	}
	require.NoError(t, sc.Err())
	return out
}

type accuracy struct {
	n, category, subcategory      int
	urgentTP, urgentFP, urgentFN  int
	complaintTP, complaintFP, cFN int
}

func (a accuracy) pct(k, n int) float64 {
	if n == 0 {
		return 100
	}
	return 100 * float64(k) / float64(n)
}

func (a accuracy) categoryAcc() float64    { return a.pct(a.category, a.n) }
func (a accuracy) subcategoryAcc() float64 { return a.pct(a.subcategory, a.n) }
func (a accuracy) urgentRecall() float64   { return a.pct(a.urgentTP, a.urgentTP+a.urgentFN) }
func (a accuracy) urgentPrec() float64     { return a.pct(a.urgentTP, a.urgentTP+a.urgentFP) }

// TestAccuracy measures the default rules on the labelled set (which the
// rules were tuned on) and on the held-out set (which they were not). Run
// with -v to see every miss.
func TestAccuracy(t *testing.T) {
	t.Parallel()
	c := New(nil)
	for _, set := range []struct {
		name     string
		path     string
		enforced bool
	}{
		{"labelled", "testdata/labelled.jsonl", true},
		{"heldout", "testdata/heldout.jsonl", false},
	} {
		t.Run(set.name, func(t *testing.T) {
			t.Parallel()
			var a accuracy
			for _, l := range readLabelled(t, set.path) {
				got := c.Classify(l.Text)
				a.n++
				if got.Category == l.Category {
					a.category++
				}
				if got.Category == l.Category && got.Subcategory == l.Subcategory {
					a.subcategory++
				}
				isU, wantU := got.Urgency == casework.UrgencyUrgent, l.Urgency == casework.UrgencyUrgent
				a.urgentTP += b2i(isU && wantU)
				a.urgentFP += b2i(isU && !wantU)
				a.urgentFN += b2i(!isU && wantU)
				isC, wantC := got.Urgency == casework.UrgencyMajorComplaint, l.Urgency == casework.UrgencyMajorComplaint
				a.complaintTP += b2i(isC && wantC)
				a.complaintFP += b2i(isC && !wantC)
				a.cFN += b2i(!isC && wantC)
				if got.Category != l.Category || got.Subcategory != l.Subcategory || got.Urgency != l.Urgency {
					if testing.Verbose() {
						t.Logf("miss: %q\n\twant %s/%s/%s\n\tgot  %s/%s/%s conf=%.2f signals=%v", l.Text,
							l.Category, l.Subcategory, l.Urgency, got.Category, got.Subcategory, got.Urgency, got.Confidence, got.Signals)
					}
				}
			}
			t.Logf("%s: %d texts: category %.1f%%, subcategory %.1f%%, urgent recall %.1f%% (%d/%d) precision %.1f%% (%d/%d), major_complaint recall %.1f%% precision %.1f%%",
				set.name, a.n, a.categoryAcc(), a.subcategoryAcc(),
				a.urgentRecall(), a.urgentTP, a.urgentTP+a.urgentFN, a.urgentPrec(), a.urgentTP, a.urgentTP+a.urgentFP,
				a.pct(a.complaintTP, a.complaintTP+a.cFN), a.pct(a.complaintTP, a.complaintTP+a.complaintFP))
			if set.enforced {
				require.GreaterOrEqual(t, a.n, 100, "the labelled set should hold at least 100 texts")
				require.GreaterOrEqual(t, a.categoryAcc(), 85.0, "category accuracy")
				require.GreaterOrEqual(t, a.urgentRecall(), 90.0, "urgent recall")
			}
		})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
