package classify

import (
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/aftersales/aftersales/casework"
)

// defaultClassifier is shared by tests: a Classifier is safe for concurrent use.
var defaultMatcher = sync.OnceValue(func() *Matcher { return NewMatcher(nil) })

func TestMatch(t *testing.T) {
	t.Parallel()
	const (
		eq, fac, other = casework.CategoryEngineeringQuality, casework.CategoryFacilitiesEquipment, casework.CategoryOther
		normal, urgent = casework.UrgencyNormal, casework.UrgencyUrgent
		complaint      = casework.UrgencyMajorComplaint
	)
	tests := []struct {
		name    string
		text    string
		cat     casework.Category
		sub     casework.Subcategory
		urgency casework.Urgency
		signal  string // a signal that must be reported, if any
		nosig   string // a signal that must not be reported, if any
	}{
		// Negation.
		{"zh negated leak", "没有漏水了", eq, casework.SubLeak, normal, "", "active_leak"},
		{"zh negated with a word between", "卫生间已经不再漏水了，谢谢", eq, casework.SubLeak, normal, "", ""},
		{"zh not negated: 不停", "天花板不停漏水", eq, casework.SubLeak, urgent, "active_leak", ""},
		{"zh not negated: 一直在漏", "天花板一直在漏水", eq, casework.SubLeak, urgent, "active_leak", ""},
		{"zh negated leak, real crack", "没有漏水，但是客厅墙面开裂了", eq, casework.SubCrack, normal, "", ""},
		{"zh negated power cut", "不是停电，是灯坏了", eq, casework.SubElectrical, normal, "", "no_power"},
		{"zh no fire", "烟感一直响但是没着火", fac, casework.SubFire, normal, "", "burning_smell"},
		{"en negated", "The ceiling isn't leaking anymore, just a stain left", eq, casework.SubLeak, normal, "", ""},
		{"en stopped", "It stopped leaking yesterday", eq, casework.SubLeak, normal, "", ""},
		{"en not stopped", "the ceiling doesn't stop leaking, water pouring in", eq, casework.SubLeak, urgent, "active_leak", ""},
		{"en negation across a comma does not count", "no, the bathroom ceiling is leaking", eq, casework.SubLeak, normal, "", ""},

		// English inflections and phrases.
		{"en leak", "bathroom leak", eq, casework.SubLeak, normal, "", ""},
		{"en leaks", "The roof leaks", eq, casework.SubLeak, normal, "", ""},
		{"en leaked", "the window leaked again", eq, casework.SubLeak, normal, "", ""},
		{"en leaking upper case", "CEILING LEAKING", eq, casework.SubLeak, normal, "", ""},
		{"en phrase", "there is water coming through the ceiling", eq, casework.SubLeak, urgent, "active_leak", ""},
		{"en phrase inflected", "the water is seeping in when it rains", eq, casework.SubLeak, normal, "", "active_leak"},
		{"en phrase with another inflection", "water comes through the ceiling", eq, casework.SubLeak, urgent, "active_leak", ""},
		{"en note is not a negation", "please note the ceiling is leaking right now", eq, casework.SubLeak, urgent, "active_leak", ""},
		{"en word boundary", "the leakproof tape", other, casework.SubOther, normal, "", ""},
		{"en cracks", "cracks in the plaster", eq, casework.SubCrack, normal, "", ""},
		{"en trapped", "my dad is trapped in the elevator", fac, casework.SubLift, urgent, "lift_trapped", ""},
		{"en no power", "we have no electricity since 8am", eq, casework.SubElectrical, urgent, "no_power", ""},
		{"en power is out", "Power is out in the whole flat", eq, casework.SubElectrical, urgent, "no_power", ""},

		// Mixed, full-width, markup.
		{"mixed zh en", "bathroom ceiling 漏水 now", eq, casework.SubLeak, normal, "", ""},
		{"en word inside zh", "卫生间leak了", eq, casework.SubLeak, normal, "", ""},
		{"full-width", "ＴＨＥ ＲＯＯＦ ＬＥＡＫＳ", eq, casework.SubLeak, normal, "", ""},
		{"html", "<p>卫生间<b>漏水</b></p>", eq, casework.SubLeak, normal, "", ""},
		{"spaces between hanzi", "外 墙 渗 水", eq, casework.SubLeak, normal, "", ""},
		{"invalid utf-8", "\xff\xfe卫生间漏水\xc3", eq, casework.SubLeak, normal, "", ""},

		// Urgency signals.
		{"no water", "家里停水了", eq, casework.SubPlumbing, urgent, "no_water", ""},
		{"no water: hose", "消防栓里没有水带", fac, casework.SubFire, normal, "", "no_water"},
		{"no power", "全屋没电了", eq, casework.SubElectrical, urgent, "no_power", ""},
		{"gas", "厨房燃气味很重", eq, casework.SubOther, urgent, "gas_smell", ""},
		{"sparks", "插座冒火花", eq, casework.SubElectrical, urgent, "sparks", ""},
		{"burning smell", "开关有烧焦味", eq, casework.SubElectrical, urgent, "burning_smell", ""},
		{"lift trapped", "电梯困人了快来", fac, casework.SubLift, urgent, "lift_trapped", ""},
		{"falling tile", "外墙砖掉下来了", eq, casework.SubDecoration, urgent, "falling_object", ""},
		{"structural crack", "承重墙裂缝", eq, casework.SubStructural, urgent, "structural_crack", ""},
		{"plaster crack is not urgent", "墙面有细小裂纹", eq, casework.SubCrack, normal, "", "structural_crack"},
		{"dripping tap is not urgent", "水龙头一直滴", eq, casework.SubPlumbing, normal, "", "active_leak"},
		{"complaint", "再不修我就打12345投诉", other, casework.SubOther, complaint, "complaint_authority", ""},
		{"complaint media", "I will go to the media about this leak", eq, casework.SubLeak, complaint, "complaint_media", ""},
		{"phone number is not 12345", "我的电话13812345678，卫生间漏水", eq, casework.SubLeak, normal, "", "complaint_authority"},
		{"urgent wins over complaint", "天花板一直在漏水，再不来我就找媒体曝光", eq, casework.SubLeak, urgent, "complaint_media", ""},

		// Nothing to go on.
		{"empty", "", other, casework.SubOther, normal, "", ""},
		{"blank", " \t\n ", other, casework.SubOther, normal, "", ""},
		{"emoji only", "😭😭😭🙏", other, casework.SubOther, normal, "", ""},
		{"greeting", "你好，在吗？", other, casework.SubOther, normal, "", ""},
		{"punctuation", "？？？！！！...", other, casework.SubOther, normal, "", ""},
	}
	c := defaultMatcher()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := c.Match(tt.text)
			assert.Equal(t, tt.cat, got.Category, "category")
			assert.Equal(t, tt.sub, got.Subcategory, "subcategory")
			assert.Equal(t, tt.urgency, got.Urgency, "urgency (signals %v)", got.Signals)
			if tt.signal != "" {
				assert.Contains(t, got.Signals, tt.signal)
			}
			if tt.nosig != "" {
				assert.NotContains(t, got.Signals, tt.nosig)
			}
			assert.True(t, got.Subcategory.Valid(got.Category))
			assert.GreaterOrEqual(t, got.Confidence, 0.0)
			assert.LessOrEqual(t, got.Confidence, 1.0)
			if got.Category == other && got.Subcategory == casework.SubOther {
				assert.Zero(t, got.Confidence, "nothing matched")
			}
		})
	}
}

func TestMatchConfidence(t *testing.T) {
	t.Parallel()
	c := defaultMatcher()
	weak := c.Match("漏水")
	strong := c.Match("外墙渗水，卧室墙面发霉，窗台下面有水渍")
	mixed := c.Match("电梯漏水")
	assert.Greater(t, strong.Confidence, weak.Confidence, "more evidence, more confidence")
	assert.Greater(t, weak.Confidence, mixed.Confidence, "a competing category lowers confidence")
}

func TestMatchLongText(t *testing.T) {
	t.Parallel()
	c := defaultMatcher()
	long := "卫生间一直在漏水 " + strings.Repeat("啊", 1<<20)
	got := c.Match(long)
	assert.Equal(t, casework.SubLeak, got.Subcategory)
	assert.Equal(t, casework.UrgencyUrgent, got.Urgency)
	// Cut in the middle of a rune by MaxTextBytes: still fine.
	got = c.Match(strings.Repeat("a", MaxTextBytes-1) + "漏水")
	assert.Equal(t, casework.CategoryOther, got.Category)
}

func BenchmarkMatch(b *testing.B) {
	c := NewMatcher(nil)
	for _, bc := range []struct{ name, text string }{
		{"zh", "你好，我是3栋2单元1502的业主，主卫天花板一直在滴水，下面接了个盆已经满了，麻烦赶紧派人来看看"},
		{"en", "Hi, water is leaking from the ceiling in my bathroom right now, it's dripping non-stop. Unit 5-2-801"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.Match(bc.text)
			}
		})
	}
}
