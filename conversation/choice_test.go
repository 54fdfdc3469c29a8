package conversation

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/internal/testclock"
	"github.com/aftersales/aftersales/lifecycle"
)

// The words of the issue: what owners answer to a question with options.
var (
	testYesWords = []string{"是", "是的", "对", "对的", "好", "好的", "嗯", "确认", "可以", "没问题", "行",
		"ok", "yes", "yep", "sure", "correct", "right", "OK", "Yes", "是的！", " 好的。", "yes 👍", "Sure!"}
	testNoWords = []string{"不", "不是", "不对", "不用", "算了", "no", "nope", "wrong", "No", "不对！", "no.", "Nope 🙅"}
)

// offered is what one step offers, built in a language.
type offered struct {
	choices func(t *turn) []bot.Choice // nil: a free-text step, which offers nothing
	yes, no string                     // the payloads a yes and a no word pick; "": none may
	// data: the labels are the owner's data (homes, cases, times), the
	// same in both languages or not translated.
	data bool
}

// prompted returns the choices a step's question offers, asked in a turn
// prepared by prep.
func prompted(name string, prep func(t *turn)) func(t *turn) []bot.Choice {
	return func(t *turn) []bot.Choice {
		if prep != nil {
			prep(t)
		}
		t.s.Choices = []bot.Choice{{Label: "stale", Payload: "stale"}} // a question before
		if err := steps[name].prompt(t); err != nil {
			panic(err)
		}
		return t.s.Choices
	}
}

// stepOffers lists every step of the catalogue of steps, and the questions
// outside steps that offer options (the offer of a person, the menu, the
// lifecycle's notifications to owners), with what each offers: asked by
// the step's own prompt where it needs no store; built as the step builds
// them where it reads homes, cases or visit times from the store.
func stepOffers() map[string]offered {
	slotChoices := func(prefix string) func(t *turn) []bot.Choice {
		return func(t *turn) []bot.Choice {
			at := testclock.Date(2026, 11, 28, 9, 0, 0, 0, casework.ChinaTime())
			return []bot.Choice{{Label: at.Format("01-02 15:04"), Payload: prefix + "1795827600"}, {Label: at.Add(2 * time.Hour).Format("01-02 15:04"), Payload: prefix + "1795834800"}}
		}
	}
	notice := func(yes, yesKey, no, noKey string) offered {
		return offered{choices: func(t *turn) []bot.Choice {
			return []bot.Choice{{Label: t.lcT(yesKey), Payload: yes}, {Label: t.lcT(noKey), Payload: no}}
		}, yes: yes, no: no}
	}
	n := "SH-20261127-0001"
	return map[string]offered{
		"name":        {choices: prompted("name", nil)},
		"unit":        {choices: prompted("unit", nil)},
		"phone":       {choices: prompted("phone", nil)},
		"description": {choices: prompted("description", nil)},
		"message":     {choices: prompted("message", func(t *turn) { t.s.Flow = flowConsult })},
		"lc_cause":    {choices: prompted("lc_cause", nil)},
		"lc_content":  {choices: prompted("lc_content", nil)},
		"lc_duration": {choices: prompted("lc_duration", nil)},
		"lc_reason":   {choices: prompted("lc_reason", func(t *turn) { t.set("lc_act", lifecycle.ActDisagree) })},

		"unit_ambiguous": {choices: func(t *turn) []bot.Choice {
			return []bot.Choice{{Label: "海景苑 3-1-1502", Payload: "unit:66"}, {Label: "海景苑 3-2-1502", Payload: "unit:98"}}
		}, data: true},
		"unit_pick": {choices: func(t *turn) []bot.Choice {
			return []bot.Choice{{Label: "3-1-201", Payload: "unit:3"}, t.choice("choice.other_unit", "unit:other")}
		}},
		"verify_code":  {choices: func(t *turn) []bot.Choice { return t.verifyChoices() }},
		"category":     {choices: prompted("category", nil)},
		"category_ok":  {choices: prompted("category_ok", func(t *turn) { t.set("proposed", "engineering_quality/leak") }), yes: "yes", no: "no"},
		"location":     {choices: prompted("location", nil)},
		"occurred":     {choices: prompted("occurred", nil)},
		"media":        {choices: prompted("media", nil)},
		"expectation":  {choices: prompted("expectation", nil)},
		"contact_time": {choices: prompted("contact_time", nil)},
		"summary":      {choices: prompted("summary", func(t *turn) { t.s.Flow = flowReport }), yes: "sum:submit", no: "sum:edit"},
		"edit":         {choices: prompted("edit", func(t *turn) { t.s.Flow = flowReport })},
		"urge_pick": {choices: func(t *turn) []bot.Choice {
			return []bot.Choice{{Label: n + " " + t.T("sub.leak"), Payload: "urge:" + n}}
		}, data: true},
		"resume":          {choices: prompted("resume", nil), yes: "resume:yes", no: "resume:no"},
		"withdraw_reason": {choices: prompted("withdraw_reason", func(t *turn) { t.set("wd_case", n) })},
		"withdraw_confirm": {choices: prompted("withdraw_confirm", func(t *turn) { t.set("wd_case", n); t.set("wd_reason", "问题已自行解决") }),
			yes: "wd:yes", no: "wd:no"},
		"lc_slots":   {choices: slotChoices("slot:")},
		"lc_start":   {choices: slotChoices("start:")},
		"lc_resp":    {choices: prompted("lc_resp", nil)},
		"lc_disrupt": {choices: prompted("lc_disrupt", nil)},
		"lc_photos":  {choices: prompted("lc_photos", nil)},
		"lc_rate":    {choices: prompted("lc_rate", func(t *turn) { t.set("lc_case", n) })},
		"lc_comment": {choices: prompted("lc_comment", nil)},
		"offer_human": {choices: func(t *turn) []bot.Choice {
			return []bot.Choice{t.choice("choice.human", "menu:human"), t.choice("choice.keep_trying", "retry")}
		}, yes: "menu:human", no: "retry"},
		"menu": {choices: func(t *turn) []bot.Choice { _ = t.menu(); return t.s.Choices }},
		"notice_plan": notice(lifecycle.Payload(lifecycle.ActAgree, n, "1795827600"), "btn.agree",
			lifecycle.Payload(lifecycle.ActDisagree, n), "btn.disagree"),
		"notice_done": notice(lifecycle.Payload(lifecycle.ActAccept, n), "btn.accept",
			lifecycle.Payload(lifecycle.ActNotFixed, n), "btn.not_fixed"),
		"notice_answer": notice(lifecycle.Payload(lifecycle.ActAccept, n), "btn.settled",
			lifecycle.Payload(lifecycle.ActNotFixed, n, lifecycle.ArgAnswer), "btn.unsettled"),
		"notice_visit": notice(lifecycle.Payload(lifecycle.ActVisitOK, n), "btn.visit_ok",
			lifecycle.Payload(lifecycle.ActVisitBad, n), "btn.visit_bad"),
		"notice_slots": {choices: func(t *turn) []bot.Choice {
			return append(slotChoices(lifecycle.Payload(lifecycle.ActPick, n)+":")(t), bot.Choice{Label: t.lcT("btn.other_slots"), Payload: lifecycle.Payload(lifecycle.ActOther, n)})
		}},
	}
}

// offerIn builds what o offers in lang.
func offerIn(t *testing.T, o offered, lang Lang) []bot.Choice {
	t.Helper()
	if o.choices == nil {
		return nil
	}
	return o.choices(newTurn(lang))
}

// newTurn is a turn of a WeChat account in lang, on an engine without a
// store, at a fixed time.
func newTurn(lang Lang) *turn {
	now := testclock.Date(2026, 11, 27, 23, 0, 0, 0, casework.ChinaTime())
	e := New(Config{NowFunc: func() time.Time { return now }})
	return &turn{ctx: context.Background(), e: e, in: &bot.Inbound{User: bot.UserRef{Platform: bot.WeChat, ID: "o1"}},
		s: &Session{Lang: lang}, id: &casework.ChatIdentity{}, now: now}
}

// TestAnswersInWords: at every step that offers options, in Chinese and in
// English, a yes word picks the option that means yes and a no word the one
// that means no — and nothing where the question has no such option; each
// option is picked by its number and by its label as shown, in either
// language, in any case, with punctuation, spaces and emoji around it.
// Free-text steps offer nothing, so that their words stay words.
func TestAnswersInWords(t *testing.T) {
	t.Parallel()
	offers := stepOffers()
	for name := range steps {
		_, ok := offers[name]
		assert.True(t, ok, "step %q is missing from stepOffers: say what it offers", name)
	}
	names := make([]string, 0, len(offers))
	for name := range offers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		o := offers[name]
		for _, lang := range []Lang{Chinese, English} {
			t.Run(name+"/"+string(lang), func(t *testing.T) {
				t.Parallel()
				choices := offerIn(t, o, lang)
				if o.choices == nil {
					return
				}
				for _, w := range testYesWords {
					got, _ := matchChoice(w, choices)
					assert.Equal(t, o.yes, got, "yes word %q", w)
				}
				for _, w := range testNoWords {
					got, _ := matchChoice(w, choices)
					assert.Equal(t, o.no, got, "no word %q", w)
				}
				if len(choices) == 0 {
					return // a free-text step: its answer is the text
				}
				other := English
				if lang == English {
					other = Chinese
				}
				otherChoices := offerIn(t, o, other)
				require.Len(t, otherChoices, len(choices))
				for i, c := range choices {
					require.Equal(t, c.Payload, otherChoices[i].Payload)
					typings := []string{
						c.Label, " " + c.Label + " ", c.Label + "！", c.Label + " 🙏", strings.ToUpper(c.Label), "“" + c.Label + "”",
						string(rune('0' + (i+1)%10)), string(rune('0'+(i+1)%10)) + "。", string(rune('０' + (i+1)%10)),
					}
					if !o.data && c.Payload != "menu:lang" && c.Payload != "unit:3" {
						// The option that switches the language is named
						// in the other one: 中文 typed to the Chinese menu
						// asks for no English.
						typings = append(typings, otherChoices[i].Label, strings.ToLower(otherChoices[i].Label)+"!")
					}
					for _, typed := range typings {
						if i >= 9 && utf8.RuneCountInString(typed) <= 2 {
							continue // a tenth option is 10, not 0
						}
						got, ok := matchChoice(typed, choices)
						assert.True(t, ok, "%q picks option %d (%s)", typed, i+1, c.Payload)
						assert.Equal(t, c.Payload, got, "%q picks option %d", typed, i+1)
					}
				}
			})
		}
	}
}

// TestFreeTextStepsOfferNothing: the questions answered in the owner's own
// words leave no options behind, so that 是, 不 or 2 typed there are taken as
// text (a name, a description, a reason), never as an option asked before.
func TestFreeTextStepsOfferNothing(t *testing.T) {
	t.Parallel()
	for name, o := range stepOffers() {
		if o.choices == nil {
			continue
		}
		switch name {
		case "name", "unit", "phone", "description", "message", "lc_cause", "lc_content", "lc_duration", "lc_reason":
			assert.Empty(t, offerIn(t, o, Chinese), "%s offers nothing", name)
		}
	}
}

// TestNormalizeAnswer: what is compared of a typed answer and a label.
func TestNormalizeAnswer(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"对！": "对", " 卫生间 ": "卫生间", "Bathroom 🙏": "bathroom", "Living  room.": "living room",
		"Lift, fire, intercom…": "lift, fire, intercom", "【是的】": "是的", "★★★": "", "3-1-201": "3-1-201",
	} {
		assert.Equal(t, want, normalizeAnswer(in), in)
	}
}

// TestAnsweredNoticeForgetsItsOptions: once an owner answered a
// notification (好的 to the plan), its options are gone, so that a later 好
// does not agree to the plan again.
func TestAnsweredNoticeForgetsItsOptions(t *testing.T) {
	t.Parallel()
	tr := newTurn(Chinese)
	tr.s.Choices = []bot.Choice{{Label: "同意方案", Payload: "lc:agree:SH-1:1795827600"}, {Label: "不同意", Payload: "lc:disagree:SH-1"}}
	p, ok := tr.matchChoice("好的")
	require.True(t, ok)
	require.NoError(t, tr.lifecycleButton(p))
	assert.Empty(t, tr.s.Choices)
	_, ok = tr.matchChoice("好的")
	assert.False(t, ok)
}

// TestTenthOption: the read-back's list of fields has ten options; 10 picks
// the tenth, in either width.
func TestTenthOption(t *testing.T) {
	t.Parallel()
	tr := newTurn(Chinese)
	tr.s.Flow = flowReport
	require.NoError(t, promptEdit(tr))
	require.Len(t, tr.s.Choices, 10)
	for _, typed := range []string{"10", "１０", "10。", "1"} {
		got, ok := tr.matchChoice(typed)
		require.True(t, ok, typed)
		if typed == "1" {
			assert.Equal(t, "edit:name", got)
			continue
		}
		assert.Equal(t, "edit:contact_time", got, typed)
	}
}
