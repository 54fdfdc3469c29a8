package console

import (
	"regexp"
	"strings"
	"time"

	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/l10n"
	"github.com/aftersales/aftersales/lifecycle"
)

// The service writes its timeline notes for the record, in one shape each
// ("work order to HXJS / 吴海涛", "waits for staff: out of warranty"); the
// staff API returns them as written. The case page says them in the
// reader's language: noteText matches a note against the shapes below and
// renders the catalogue's text, the codes in it (category, urgency,
// warranty…) in words. A note of no known shape — a person's words — is
// shown as written.

// noteShape is one shape of note: the expression, and how to say it.
type noteShape struct {
	re  *regexp.Regexp
	key string // "note.<key>" in the catalogue, with {1}, {2}… the groups
	// words, when set, turns group i into words before it is placed.
	words map[int]func(lang l10n.Lang, v string) string
}

func shape(re, key string, words map[int]func(l10n.Lang, string) string) noteShape {
	return noteShape{re: regexp.MustCompile(re), key: key, words: words}
}

// codeWords says a code of the domain in words: the terms' prefix (state,
// category, sub, urgency, location), or the lifecycle's (responsibility).
func codeWords(prefix string) func(l10n.Lang, string) string {
	return func(lang l10n.Lang, v string) string {
		if prefix == "responsibility." {
			return lifecycle.T(lang, prefix+v)
		}
		if prefix == "warranty." {
			return uiText.Render(lang, prefix+v)
		}
		return l10n.Terms.Render(lang, prefix+v)
	}
}

// waitWords says a reason a case waits for staff (lifecycle.Wait.String).
func waitWords(lang l10n.Lang, v string) string {
	for _, r := range lifecycle.WaitReasons {
		for _, c := range append([]casework.Category{""}, casework.Categories...) {
			w := lifecycle.Wait{Reason: r, Category: c}
			if w.String() == v {
				return w.Text(lang)
			}
		}
	}
	return v
}

var noteShapes = []noteShape{
	shape(`^waits for staff: (.+)$`, "waits", map[int]func(l10n.Lang, string) string{1: waitWords}),
	shape(`^auto-accepted: (\w+), warranty (\w+)$`, "auto_accepted", map[int]func(l10n.Lang, string) string{1: codeWords("category."), 2: codeWords("warranty.")}),
	shape(`^初步判断 first judgment: (\w+)/(\w+), (\w+); responsibility (\w+); suggested party (.+?); warranty (\w+) ?(\S*) \(.*\); signals \[.*\](; read by \w+ [\d.]+)?$`, "judgment",
		map[int]func(l10n.Lang, string) string{1: codeWords("category."), 2: codeWords("sub."), 3: codeWords("urgency."), 4: codeWords("responsibility."),
			5: func(lang l10n.Lang, v string) string {
				if strings.HasPrefix(v, "none") {
					return uiText.Render(lang, "note.no_party")
				}
				if _, name, ok := strings.Cut(v, " "); ok {
					return name
				}
				return v
			}, 6: codeWords("warranty."),
			8: func(lang l10n.Lang, v string) string {
				var by, conf string
				if f := strings.Fields(strings.TrimPrefix(v, "; read by ")); len(f) == 2 {
					by, conf = f[0], f[1]
				}
				return uiText.Render(lang, "note.read_by", "by", uiText.Render(lang, "note.read_by."+by), "confidence", conf)
			}}),
	shape(`^work order to (\S+)(?: / ([^;]+))?(; no chat account bound: the order waits in the staff API)?(?:; urgent: (.+))?$`, "order_to",
		map[int]func(l10n.Lang, string) string{
			3: func(lang l10n.Lang, _ string) string { return uiText.Render(lang, "note.order_waits") },
			4: func(lang l10n.Lang, v string) string {
				return uiText.Render(lang, "note.order_urgent", "who", phoneWords(lang, v))
			},
		}),
	shape(`^urgent order not taken: (.+)$`, "not_taken_called", map[int]func(l10n.Lang, string) string{1: phoneWords}),
	shape(`^accepted by staff to answer$`, "accepted_to_answer", nil),
	shape(`^accepted by staff: (.+)$`, "accepted_note", nil),
	shape(`^accepted by staff$`, "accepted", nil),
	shape(`^taken over by (.+)$`, "taken_over", nil),
	shape(`^taken by (.+)$`, "taken", nil),
	shape(`^declined by (.+?): (.*)$`, "declined", nil),
	shape(`^visit times offered$`, "slots", nil),
	shape(`^on site: (.+)$`, "on_site", nil),
	shape(`^plan: (.*)$`, "plan", nil),
	shape(`^visit booked (.+)$`, "booked", nil),
	shape(`^other times wanted: (.*)$`, "other_times", nil),
	shape(`^repair (\d+) of the same defect: (.*)$`, "repeat", nil),
	shape(`^survey: speed (\d), attitude (\d), quality (\d)$`, "survey", nil),
	shape(`^survey answered after it closed: speed (\d), attitude (\d), quality (\d)(?:; the owner wrote: ([\s\S]*))?$`, "survey_late",
		map[int]func(l10n.Lang, string) string{4: func(lang l10n.Lang, v string) string {
			return uiText.Render(lang, "note.survey_late_words", "words", v)
		}}),
	shape(`^owner: still fine$`, "visit_fine", nil),
	shape(`^owner: the problem is back$`, "visit_back", nil),
	shape(`^return visit asked$`, "visit_asked", nil),
	shape(`^return visit due: the owner has no chat account; call them$`, "visit_call", nil),
	shape(`^answer \(the owner has no chat account: tell them by phone\): ([\s\S]*)$`, "answer_call", nil),
	shape(`^answer: ([\s\S]*)$`, "answer", nil),
	shape(`^not settled: ([\s\S]*)$`, "not_settled", nil),
	shape(`^on hold until (\S+): ([\s\S]*)$`, "hold", nil),
	shape(`^withdrawn at the owner's request: ([\s\S]*)$`, "withdrawn", nil),
	shape(`^withdrawn by the owner in chat: ([\s\S]*)$`, "withdrawn_by_owner", nil),
	shape(`^closed by staff$`, "closed", nil),
	shape(`^still on hold on (\S+), the date it was to resume$`, "hold_due", nil),
	shape(`^urgent work order not taken within (\S+)$`, "not_taken", map[int]func(l10n.Lang, string) string{1: spanWords}),
	shape(`^coordination task due: ([\s\S]*)$`, "task_due", nil),
	shape(`^(respond|on_site|resolve)_deadline missed$`, "missed", map[int]func(l10n.Lang, string) string{1: stepWords}),
	shape(`^low survey score: complaint (\S+)$`, "low_score", nil),
	shape(`^the owner says the answer settles the matter$`, "settled_by_owner", nil),
	shape(`^the answer settled the matter$`, "settled", nil),
	shape(`^no word from the owner within (\S+) of the answer: taken as settled$`, "settled_silent", map[int]func(l10n.Lang, string) string{1: spanWords}),
	shape(`^survey expired unanswered$`, "survey_expired", nil),
	shape(`^resumed after ([^;:]+?) on hold(?:; deadlines moved later: ((?:(?:respond|on site|resolve) [\d-]+ [\d:]+ → [\d-]+ [\d:]+(?:, )?)+))?(?:: ([\s\S]*))?$`, "resumed", map[int]func(l10n.Lang, string) string{
		1: spanWords,
		2: func(lang l10n.Lang, v string) string {
			for _, step := range []string{"respond", "on site", "resolve"} {
				v = strings.ReplaceAll(v, step+" ", stepWords(lang, strings.ReplaceAll(step, " ", "_"))+" ")
			}
			return uiText.Render(lang, "note.moved", "moved", v)
		},
		3: func(lang l10n.Lang, v string) string { return uiText.Render(lang, "colon") + v },
	}),
	shape(`^(out_of_warranty|owner_caused|not_responsible|duplicate)(?: \((\S+)\))?(?:: ([\s\S]*))?$`, "rejected", map[int]func(l10n.Lang, string) string{
		1: func(lang l10n.Lang, v string) string { return uiText.Render(lang, "reason."+v) },
		2: func(lang l10n.Lang, v string) string { return "（" + v + "）" },
		3: func(lang l10n.Lang, v string) string { return uiText.Render(lang, "colon") + v },
	}),
	shape(`^业主留言 owner wrote: ([\s\S]*)$`, "owner_wrote", nil),
	shape(`^业主催办 urged by the owner(?: \((\d+)\))?; alerted: (.+?)(?:; the owner says: ([\s\S]*))?$`, "urged",
		map[int]func(l10n.Lang, string) string{
			1: func(lang l10n.Lang, v string) string { return uiText.Render(lang, "note.urge_n", "n", v) },
			2: alertedWords,
			3: func(lang l10n.Lang, v string) string { return uiText.Render(lang, "note.urge_words", "words", v) },
		}),
	shape(`^外部协调 task \d+: (.+?), due (\S+ \S+) \S+: ([\s\S]*)$`, "task", nil),
	shape(`^外部协调完成 task \d+ done: (.*)$`, "task_done", nil),
	shape(`^消息发送失败 message \d+ \((\w+)\) to (\w+) failed after (\d+) attempt\(s\): ([\s\S]*)$`, "delivery_failed",
		map[int]func(l10n.Lang, string) string{1: func(lang l10n.Lang, v string) string { return purposeText(lang, v) },
			2: func(lang l10n.Lang, v string) string { return uiText.Render(lang, "channel."+v) }}),
}

// purposeText names why a message was sent; one the catalogue does not know
// is shown as it is.
func purposeText(lang l10n.Lang, p string) string {
	if _, ok := uiText[lang]["purpose."+p]; ok {
		return uiText.Render(lang, "purpose."+p)
	}
	return p
}

// noteText says note in lang when it is of a known shape; else as written.
func noteText(lang l10n.Lang, note string) string {
	for _, s := range noteShapes {
		m := s.re.FindStringSubmatch(note)
		if m == nil {
			continue
		}
		kv := make([]string, 0, 2*len(m))
		for i := 1; i < len(m); i++ {
			v := m[i]
			if f := s.words[i]; f != nil && v != "" {
				v = f(lang, v)
			}
			kv = append(kv, string(rune('0'+i)), v)
		}
		return strings.TrimSpace(uiText.Render(lang, "note."+s.key, kv...))
	}
	return note
}

// alertedWords says whom an urge alerted (lifecycle.Urge's note: "staff in
// the console, engineer 吴海涛, the supervisors (overdue)").
func alertedWords(lang l10n.Lang, v string) string {
	parts := strings.Split(v, ", ")
	for i, p := range parts {
		switch {
		case p == "staff in the console":
			parts[i] = uiText.Render(lang, "note.alerted_staff")
		case strings.HasPrefix(p, "engineer "):
			parts[i] = uiText.Render(lang, "note.alerted_engineer", "name", strings.TrimPrefix(p, "engineer "))
		case p == "the supervisors (overdue)":
			parts[i] = uiText.Render(lang, "note.alerted_supervisors_late")
		case strings.HasPrefix(p, "the supervisors"):
			parts[i] = uiText.Render(lang, "note.alerted_supervisors")
		}
	}
	return strings.Join(parts, uiText.Render(lang, "list_sep"))
}

// stepWords names a service-level step: respond, on_site, resolve.
func stepWords(lang l10n.Lang, v string) string { return uiText.Render(lang, "case."+v+"_by") }

// spanWords says a span the service wrote: "3d 1m" (lifecycle's) or a Go
// duration ("30m0s").
func spanWords(lang l10n.Lang, v string) string {
	if d, err := time.ParseDuration(v); err == nil {
		v = strings.TrimSuffix(strings.TrimSuffix(d.Round(time.Minute).String(), "0s"), "m0")
		v = strings.ReplaceAll(strings.ReplaceAll(v, "h", "h "), "m", "m ")
	}
	var out []string
	for _, part := range strings.Fields(v) {
		n := strings.TrimRight(part, "dhm")
		if n == "" || n == part {
			return v
		}
		out = append(out, uiText.Render(lang, "note.span_"+part[len(n):], "n", n))
	}
	return strings.Join(out, uiText.Render(lang, "note.span_sep"))
}

// phoneWords says whom the service texted and called about an urgent order
// (lifecycle's urgent.go: "SMS and call to 林峰 (139****9009); 陶然 has no
// phone on record: not texted or called").
func phoneWords(lang l10n.Lang, v string) string {
	parts := strings.Split(v, "; ")
	for i, p := range parts {
		switch {
		case strings.HasPrefix(p, "SMS and call to "):
			parts[i] = uiText.Render(lang, "note.phoned", "who", strings.TrimPrefix(p, "SMS and call to "))
		case strings.HasSuffix(p, " has no phone on record: not texted or called"):
			parts[i] = uiText.Render(lang, "note.no_phone", "who", strings.TrimSuffix(p, " has no phone on record: not texted or called"))
		case p == "no engineer to text or call", p == "no duty supervisor to text or call":
			parts[i] = uiText.Render(lang, "note.nobody_to_phone")
		}
	}
	return strings.Join(parts, uiText.Render(lang, "list_sep"))
}
