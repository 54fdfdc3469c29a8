package classify

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

// defaultClassifier is shared by tests: a Classifier is safe for concurrent use.
var defaultClassifier = sync.OnceValue(func() *Classifier { return New(nil) })

// TestClassifyOwnersWords: texts of the kinds the keyword rules got wrong —
// the danger named by its effect, the symptom late in a long text, a group
// complaint — get the judgment a clerk would give.
func TestClassifyOwnersWords(t *testing.T) {
	t.Parallel()
	const (
		eq, fac, policy = casework.CategoryEngineeringQuality, casework.CategoryFacilitiesEquipment, casework.CategoryPolicyConsultation
		normal, urgent  = casework.UrgencyNormal, casework.UrgencyUrgent
		major           = casework.UrgencyMajorComplaint
	)
	for _, tc := range []struct {
		text    string
		cat     casework.Category
		urgency casework.Urgency
	}{
		{"楼上一冲厕所我家顶上就往下淌，锅碗瓢盆全用上了", eq, urgent},
		{"半夜被冻醒，暖气片一点不热，家里有个三个月的宝宝", fac, urgent},
		{"the kids can't use the bathroom, there's sewage coming up through the shower drain", eq, urgent},
		{"交房五年了房产证还没办下来，我们整个小区几百户都在等，再不给说法就去住建局", policy, major},
		{"你好 请问一下 契税发票什么时候能拿到", policy, normal},
		{"上个月下雨的时候窗台渗过一点水，现在干了，想请你们来看看", eq, normal},
		{"My front door won't lock since the builder changed the cylinder, we're on the ground floor with two kids", eq, urgent},
	} {
		got := defaultClassifier().Classify(tc.text)
		assert.Equal(t, tc.cat, got.Category, "%s: %+v", tc.text, got)
		assert.Equal(t, tc.urgency, got.Urgency, "%s: %+v", tc.text, got)
		assert.True(t, got.Subcategory.Valid(got.Category), "%s: %+v", tc.text, got)
		assert.Equal(t, "model", got.By)
	}
}

func TestClassifyNothingKnown(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "   ", "\xff\xfe", "ꙮꙮꙮ"} {
		got := defaultClassifier().Classify(s)
		assert.Equal(t, Result{Category: casework.CategoryOther, Subcategory: casework.SubOther, Urgency: casework.UrgencyNormal, By: "model"}, got, "%q", s)
		assert.True(t, got.Unsure())
	}
}

func TestClassifyConfidence(t *testing.T) {
	t.Parallel()
	c := defaultClassifier()
	clear := c.Classify("卫生间天花板漏水，外墙渗水，窗台下面全是水渍")
	vague := c.Classify("你好")
	assert.Greater(t, clear.Confidence, vague.Confidence)
	assert.False(t, clear.Unsure(), "%+v", clear)
	for _, r := range []Result{clear, vague} {
		assert.GreaterOrEqual(t, r.Confidence, 0.0)
		assert.LessOrEqual(t, r.Confidence, 1.0)
	}
}

// TestClassifySignals: the lexicon's signals come with the model's answer,
// for the safety advice.
func TestClassifySignals(t *testing.T) {
	t.Parallel()
	got := defaultClassifier().Classify("厨房一股煤气味，好像燃气泄漏了")
	assert.Contains(t, got.Signals, "gas_smell")
	assert.Equal(t, casework.UrgencyUrgent, got.Urgency)
}

// TestStaffRulesOverride: a staff rule that matches decides the category;
// its signals raise the urgency; where none matches, the model answers.
func TestStaffRulesOverride(t *testing.T) {
	t.Parallel()
	staff, err := LoadRules(strings.NewReader(`{
		"rules": [{"category": "facilities_equipment", "subcategory": "intercom", "keywords": ["门禁卡"]}],
		"signals": [{"code": "vip", "urgency": "major_complaint", "keywords": ["人大代表"]}]}`))
	require.NoError(t, err)
	c := NewWithModel(DefaultModel(), staff)
	got := c.Classify("门禁卡又刷不开了")
	assert.Equal(t, casework.SubIntercom, got.Subcategory)
	assert.Equal(t, "rules", got.By)
	got = c.Classify("我是人大代表，小区绿化太差了")
	assert.Equal(t, casework.UrgencyMajorComplaint, got.Urgency)
	assert.Contains(t, got.Signals, "vip")
	got = c.Classify("厨房水管爆了，水喷得到处都是")
	assert.Equal(t, "model", got.By)
	assert.Equal(t, casework.UrgencyUrgent, got.Urgency)
}

func TestClassifyLongText(t *testing.T) {
	t.Parallel()
	c := defaultClassifier()
	long := "卫生间天花板一直在漏水，拿盆接都接不住了 " + strings.Repeat("啊", 1<<20)
	got := c.Classify(long)
	assert.Equal(t, casework.CategoryEngineeringQuality, got.Category)
	// Cut in the middle of a rune by MaxTextBytes: still fine.
	got = c.Classify(strings.Repeat("a", MaxTextBytes-1) + "漏水")
	assert.True(t, got.Subcategory.Valid(got.Category))
}

func TestResultJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(Result{Category: "engineering_quality", Subcategory: "leak", Urgency: "urgent", Confidence: 0.5, By: "model"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"category":"engineering_quality","subcategory":"leak","urgency":"urgent","confidence":0.5,"by":"model"}`, string(b))
}

func TestClassifyConcurrent(t *testing.T) {
	t.Parallel()
	c := defaultClassifier()
	texts := []string{"卫生间一直在漏水", "The lift is broken", "房产证什么时候办", "没有漏水了"}
	want := make([]Result, len(texts))
	for i, s := range texts {
		want[i] = c.Classify(s)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				k := (g + i) % len(texts)
				assert.Equal(t, want[k], c.Classify(texts[k]))
			}
		})
	}
	wg.Wait()
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{"", "没有漏水了", "the ceiling isn't leaking", "\xff漏", "｜|| ’'", "a'b'", "不", " no ", "12345"} {
		f.Add(s)
	}
	c := New(nil)
	f.Fuzz(func(t *testing.T, s string) {
		got := c.Classify(s)
		if !got.Category.Valid() || !got.Subcategory.Valid(got.Category) || !got.Urgency.Valid() {
			t.Fatalf("invalid result %+v for %q", got, s)
		}
		if got.Confidence < 0 || got.Confidence > 1 {
			t.Fatalf("confidence %v for %q", got.Confidence, s)
		}
	})
}

// BenchmarkClassify: one text, short and long, Chinese and English.
func BenchmarkClassify(b *testing.B) {
	c := New(nil)
	for _, bc := range []struct{ name, text string }{
		{"zh", "你好，我是3栋2单元1502的业主，主卫天花板一直在滴水，下面接了个盆已经满了，麻烦赶紧派人来看看"},
		{"en", "Hi, water is leaking from the ceiling in my bathroom right now, it's dripping non-stop. Unit 5-2-801"},
		{"zh_long", strings.Repeat("我们小区交房两年了，开发商一直推脱，物业也不管，业主群里大家都很气愤。", 6) + "现在我家卫生间顶上往下淌水，接了三个盆"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.Classify(bc.text)
			}
		})
	}
}
