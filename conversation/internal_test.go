package conversation

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/l10n"
)

// TestCatalogComplete: both languages have the same keys with the same
// placeholders, every enumerated code has a label, and every literal key the
// code uses exists.
func TestCatalogComplete(t *testing.T) {
	t.Parallel()
	placeholder := regexp.MustCompile(`\{[a-z_]+\}`)
	for k, v := range zh {
		e, ok := en[k]
		if !assert.True(t, ok, "English lacks %q", k) {
			continue
		}
		a, b := placeholder.FindAllString(v, -1), placeholder.FindAllString(e, -1)
		sort.Strings(a)
		sort.Strings(b)
		assert.Equal(t, a, b, "placeholders of %q", k)
	}
	for k := range en {
		_, ok := zh[k]
		assert.True(t, ok, "Chinese lacks %q", k)
	}
	var want []string
	for _, c := range casework.Categories {
		want = append(want, "category."+string(c))
		for _, s := range casework.Subcategories[c] {
			want = append(want, "sub."+string(s))
		}
	}
	for _, s := range casework.States {
		want = append(want, "state."+string(s), "nextstep."+string(s))
	}
	for _, l := range casework.Locations {
		want = append(want, "location."+string(l))
	}
	for _, u := range casework.Urgencies {
		want = append(want, "urgency."+string(u))
	}
	for _, s := range []casework.WarrantyStatus{casework.WarrantyIn, casework.WarrantyOut, casework.WarrantyUnknown, casework.WarrantyNone} {
		want = append(want, "warranty."+string(s))
	}
	for flow := range flows {
		want = append(want, "intro."+flow)
		if flow != flowUrge && flow != flowVerify {
			want = append(want, "summary.head."+flow, "submitted."+flow)
		}
		if flow != flowReport && flow != flowUrge && flow != flowVerify {
			want = append(want, "ask.message."+flow)
		}
	}
	for _, f := range append(editable[flowReport], editable["short"]...) {
		if f != "message" {
			want = append(want, "field."+f)
		}
	}
	for _, c := range problemChoices {
		want = append(want, c.key)
	}
	for _, o := range expectations {
		want = append(want, "expect."+o)
	}
	for _, o := range contactTimes {
		want = append(want, "contact."+o)
	}
	// Literal keys in the source: T("…"), say("…"), choice("…", again("…".
	literal := regexp.MustCompile(`\b(?:T|say|choice|again)\("([a-z_.]+[a-z_])"`)
	files, err := os.ReadDir(".")
	require.NoError(t, err)
	for _, f := range files {
		if !strings.HasSuffix(f.Name(), ".go") || strings.HasSuffix(f.Name(), "_test.go") {
			continue
		}
		src, err := os.ReadFile(f.Name())
		require.NoError(t, err)
		for _, m := range literal.FindAllStringSubmatch(string(src), -1) {
			if !strings.HasSuffix(m[1], ".") {
				want = append(want, m[1])
			}
		}
	}
	for _, k := range want {
		_, ok := zh[k]
		if !ok {
			_, ok = l10n.Terms[Chinese][k]
		}
		assert.True(t, ok, "catalogue lacks %q", k)
	}
}

func TestRenderReplacesPlaceholders(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "没有找到编号为 SH-1 的报修。", render(Chinese, "case_not_found", "number", "SH-1"))
	assert.Equal(t, "No case numbered SH-1 was found.", render(English, "case_not_found", "number", "SH-1"))
	assert.Equal(t, "no.such.key", render(English, "no.such.key"))
}

func TestGlobalCommands(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"菜单": "menu", "MENU": "menu", "/menu": "menu", " 取消 ": "cancel", "返回": "back", "帮助": "help", "？": "help",
		"人工": "human", "转人工": "human", "进度": "status", "English": "english", "中文": "chinese", "报修": "report",
		"投诉": "complain", "咨询": "consult", "建议": "suggest", "表扬": "praise", "催办": "urge",
	} {
		got, ok := globalCommand(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"取消报修吧", "menu please", "我要人工客服帮我看看"} {
		_, ok := globalCommand(in)
		assert.False(t, ok, "%q is not a command: the whole message must be the word", in)
	}
}

func TestCleanAndWords(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "ab\ncd", clean(" a\x00b\r\ncd\u200b "))
	assert.Equal(t, "a\uFFFDb", clean("a\xffb"))
	assert.False(t, hasWords("😡😡😡!!!", 1))
	assert.True(t, hasWords("漏水", 2))
	assert.False(t, hasWords("漏", 2))
}

func TestCaseNumberIn(t *testing.T) {
	t.Parallel()
	got, ok := caseNumberIn("请问 sh-20261127-0042 到哪一步了")
	require.True(t, ok)
	assert.Equal(t, "SH-20261127-0042", got)
	_, ok = caseNumberIn("20261127")
	assert.False(t, ok)
}

// TestWordsLang: an owner's first words tell the language of a chat whose
// platform said nothing: a Chinese character makes it Chinese; Latin words
// without one, English; what shows no language decides nothing.
func TestWordsLang(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want Lang
		ok   bool
	}{
		{"卫生间漏水了", Chinese, true},
		{"3栋1单元201", Chinese, true},
		{"Hello", English, true},
		{"My bathroom ceiling is leaking", English, true},
		{"I'd like to report a leak", English, true},
		{"water leak", English, true},
		{"leak 漏水", Chinese, true},
		{"ok", "", false},
		{"yes", "", false},
		{"hi!", "", false},
		{"1502", "", false},
		{"3-1-201", "", false},
		{"13900000016", "", false},
		{"👍", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := wordsLang(tt.text)
		assert.Equal(t, tt.ok, ok, "%q", tt.text)
		assert.Equal(t, tt.want, got, "%q", tt.text)
	}
}

// TestFromAbove: the owner's words that say the water comes from the flat
// above, in Chinese and English, and those that do not.
func TestFromAbove(t *testing.T) {
	t.Parallel()
	for words, want := range map[string]bool{
		"楼上漏下来的水把客厅吊顶泡了":                                     true,
		"楼上一冲厕所，我家卫生间吊顶就往下滴脏水":                               true,
		"上层住户装修把水管打穿了":                                       true,
		"Water is pouring through the ceiling from upstairs": true,
		"Dirty water drips whenever the Flat Above flushes":  true,
		"Our neighbour above left a tap running":             true,
		"厨房水管爆了，水一直在喷":                                       false,
		"The kitchen water pipe burst":                       false,
		"":                                                   false,
	} {
		assert.Equal(t, want, fromAbove(words), words)
	}
}

// TestSafetyAdviceFitsTheSignal: the advice for water and sewage follows
// where it comes from, in both languages; other signals keep theirs.
func TestSafetyAdviceFitsTheSignal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		signals []string
		sub     casework.Subcategory
		words   string
		want    []string // advice keys, in order
	}{
		{"own leak", []string{"active_leak"}, casework.SubPlumbing, "厨房水管爆了", []string{"advice.water"}},
		{"leak from above", []string{"active_leak"}, casework.SubLeak, "楼上漏下来了", []string{"advice.water_above"}},
		{"sewage from above", []string{"sewage"}, casework.SubPlumbing, "楼上一冲厕所就往下滴脏水", []string{"advice.sewage_above"}},
		{"own sewage", []string{"sewage"}, casework.SubPlumbing, "地漏往外冒污水", []string{"advice.sewage"}},
		{"wet electrics from above", []string{"water_electrics"}, casework.SubLeak, "water from the flat above is dripping on the lights",
			[]string{"advice.power", "advice.water_above"}},
		{"no signal, leak from upstairs", nil, casework.SubLeak, "leaking from upstairs", []string{"advice.water_above"}},
		{"a lift from the floor above", []string{"lift_trapped"}, casework.SubLift, "电梯停在楼上两层之间", []string{"advice.lift"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, lang := range []Lang{l10n.Chinese, l10n.English} {
				tt := &turn{s: &Session{Lang: lang}}
				want := render(lang, "urgent.head")
				for _, k := range tc.want {
					want += "\n· " + render(lang, k)
				}
				want += "\n" + render(lang, "urgent.duty")
				assert.Equal(t, want, tt.safetyAdvice(tc.signals, tc.sub, tc.words, "urgent.duty"))
			}
		})
	}
}
