package conversation

import (
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/l10n"
	"github.com/aftersales/aftersales/lifecycle"
)

// An owner answers a question with options as people do: the option's
// number, its label as shown (in either language, in any case, with or
// without punctuation, spaces and emoji around it), or — when the question
// asks yes or no — a word that means yes or no. One matcher serves every
// step: the step sees the option's payload as if it had been tapped.

// yesWords and noWords are the words, in both languages, that answer a
// yes-or-no question; they are compared with a message reduced by
// normalizeAnswer.
var (
	yesWords = words("是", "是的", "对", "对的", "好", "好的", "嗯", "嗯嗯", "确认", "可以", "没问题", "行", "对了", "没错",
		"ok", "okay", "yes", "yep", "yeah", "sure", "correct", "right")
	noWords = words("不", "不是", "不对", "不用", "不要", "算了", "否", "错了",
		"no", "nope", "wrong", "not right")
)

func words(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}

// Yes and no as options mean.
const (
	meansYes = "yes"
	meansNo  = "no"
)

// meaning tells whether the option with payload p answers yes or no to the
// question it is offered with: "" for options that are neither, which no
// yes or no word picks.
func meaning(p string) string {
	switch p {
	case "yes", "sum:submit", "resume:yes", "wd:yes":
		return meansYes
	case "no", "sum:edit", "resume:no", "retry", "wd:no":
		// 不对 to the read-back is "change something"; 不 to "continue
		// that report?" starts over; 不用 to "shall I put you through?"
		// keeps trying.
		return meansNo
	}
	if action, _, _, ok := lifecycle.ParsePayload(p); ok {
		switch action {
		case lifecycle.ActAgree, lifecycle.ActAccept, lifecycle.ActVisitOK:
			return meansYes
		case lifecycle.ActDisagree, lifecycle.ActNotFixed, lifecycle.ActVisitBad:
			return meansNo
		}
	}
	return ""
}

// yesNo returns the payloads of the options among choices that answer yes
// and no; "" where the question offers none. The offer of a person after
// failed answers ("shall I put you through?") is answered yes by its
// person option, and only there: on the menu that option is one of many.
func yesNo(choices []bot.Choice) (yes, no string) {
	for _, c := range choices {
		switch meaning(c.Payload) {
		case meansYes:
			yes = c.Payload
		case meansNo:
			no = c.Payload
		}
	}
	if yes == "" && no == "retry" {
		for _, c := range choices {
			if c.Payload == "menu:human" {
				yes = c.Payload
			}
		}
	}
	return yes, no
}

// matchChoice maps a typed answer to the payload of one of the choices
// offered last: its number ("2", "2.", "2、", "２"), its label in the session's
// language or the other, or a yes or no word to a yes-or-no question.
func (t *turn) matchChoice(text string) (string, bool) {
	return matchChoice(text, t.s.Choices)
}

func matchChoice(text string, choices []bot.Choice) (string, bool) {
	if len(choices) == 0 || text == "" {
		return "", false
	}
	answer := normalizeAnswer(text)
	if n, err := strconv.Atoi(halfWidthDigits(answer)); err == nil {
		if n >= 1 && n <= len(choices) {
			return choices[n-1].Payload, true
		}
		return "", false
	}
	for _, c := range choices {
		label := normalizeAnswer(c.Label)
		if label == "" {
			// A label of symbols only (★★★): the symbols themselves,
			// whatever else is around them.
			symbols := strings.TrimSpace(c.Label)
			if symbols != "" && strings.TrimFunc(text, func(r rune) bool { return !strings.ContainsRune(symbols, r) }) == symbols {
				return c.Payload, true
			}
			continue
		}
		if answer == label || labelAliases()[label][answer] {
			return c.Payload, true
		}
	}
	yes, no := yesNo(choices)
	switch {
	case yes != "" && yesWords[answer]:
		return yes, true
	case no != "" && noWords[answer]:
		return no, true
	}
	return "", false
}

// normalizeAnswer reduces a typed answer or a label to what is compared:
// lower case, without the punctuation, symbols, emoji and spaces around it,
// with the spaces inside it single.
func normalizeAnswer(s string) string {
	s = strings.TrimFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// halfWidthDigits turns the full-width digits of a Chinese keyboard (２)
// into ASCII ones.
func halfWidthDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '０' && r <= '９' {
			return '0' + r - '０'
		}
		return r
	}, s)
}

// labelAliases maps an option's label, normalized, to the labels of the
// same option in the other language: an owner may answer 卫生间 to
// "Bathroom". The option that switches the language is not among them
// (中文 typed to the Chinese menu is no request for English).
var labelAliases = sync.OnceValue(func() map[string]map[string]bool {
	aliases := map[string]map[string]bool{}
	pair := func(a, b string) {
		a, b = normalizeAnswer(a), normalizeAnswer(b)
		if a == "" || b == "" || a == b {
			return
		}
		for _, p := range [][2]string{{a, b}, {b, a}} {
			if aliases[p[0]] == nil {
				aliases[p[0]] = map[string]bool{}
			}
			aliases[p[0]][p[1]] = true
		}
	}
	add := func(zhTexts, enTexts map[string]string, prefixes ...string) {
		for k, v := range zhTexts {
			for _, prefix := range prefixes {
				if strings.HasPrefix(k, prefix) && k != "choice.other_lang" {
					pair(v, enTexts[k])
				}
			}
		}
	}
	add(zh, en, "choice.", "problem.", "occurred.", "expect.", "contact.", "field.", "withdraw.reason.")
	add(l10n.Terms[Chinese], l10n.Terms[English], "location.")
	lc := lifecycle.Labels()
	add(lc[Chinese], lc[English], "")
	return aliases
})
