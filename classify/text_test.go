package classify

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCanonical(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                          "",
		"漏水":                        "漏水",
		"Leaking!":                  " leak | ",
		"water coming through":      " water come through ",
		"卫生间leak了":                  "卫生间 leak 了",
		"外墙 渗水":                     "外墙渗水",
		"It isn't LEAKING":          " it isn't leak ",
		"it’s":                      " it's ",
		"ＡＢＣ，１２３":                   " abc | 123 ",
		"漏水！！！😭😭":                   "漏水 | ",
		"load-bearing":              " load bear ",
		"12345热线":                   " 12345 热线",
		"\xff漏\xfe水":                "漏水",
		"a'":                        " a ",
		"'tis":                      " tis ",
		"3栋2单元1502":                 " 3 栋 2 单元 1502 ",
		"tiles tile ceilings flies": " tile tile ceil fly ",
	} {
		assert.Equal(t, want, string(appendCanonical(nil, in)), "%q", in)
	}
}

func TestStem(t *testing.T) {
	t.Parallel()
	for _, group := range [][]string{
		{"leak", "leaks", "leaked", "leaking"},
		{"drip", "drips", "dripped", "dripping"},
		{"trap", "trapped", "trapping"},
		{"close", "closes", "closed", "closing"},
		{"spark", "sparks", "sparking", "sparked"},
		{"fall", "falls", "falling"},
		{"pipe", "pipes", "piping"},
		{"ceiling", "ceilings"},
		{"come", "comes", "coming"},
		{"smoke", "smoking", "smoked"},
		{"switch", "switches"},
		{"dry", "dried", "dries"},
	} {
		want := string(stem([]byte(group[0])))
		for _, w := range group[1:] {
			assert.Equal(t, want, string(stem([]byte(w))), "%s ~ %s", w, group[0])
		}
	}
	for _, w := range []string{"gas", "glass", "bus", "isn't", "is", "need", "ring", "note", "tape", "not", "tap"} {
		assert.Equal(t, w, string(stem([]byte(w))), "%s is left alone", w)
	}
}
