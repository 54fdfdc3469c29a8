// Package l10n renders the product's texts from catalogues kept by language:
// Simplified Chinese first, English second. Each package that talks to
// people (the dialogue, the lifecycle's notifications) keeps its own
// catalogue and renders it here.
package l10n

import "strings"

// Lang is a language of the product's texts.
type Lang string

// The languages spoken.
const (
	Chinese Lang = "zh"
	English Lang = "en"
)

// Catalog holds texts by language and key; a text may hold {name}
// placeholders.
type Catalog map[Lang]map[string]string

// Render returns the text key in lang with {name} placeholders replaced from
// kv (name, value, name, value…). A key missing in lang falls back to
// Chinese, then to the domain's Terms; a key missing everywhere renders as itself, which each
// catalogue's test forbids.
func (c Catalog) Render(lang Lang, key string, kv ...string) string {
	msg, ok := c[lang][key]
	if !ok {
		msg, ok = c[Chinese][key]
	}
	if !ok {
		msg, ok = Terms[lang][key]
	}
	if !ok {
		if msg, ok = Terms[Chinese][key]; !ok {
			msg = key
		}
	}
	if len(kv) == 0 {
		return msg
	}
	pairs := make([]string, 0, len(kv))
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, "{"+kv[i]+"}", kv[i+1])
	}
	return strings.NewReplacer(pairs...).Replace(msg)
}

// Missing returns the keys of lang's texts that another language lacks, as
// "lang:key", for catalogue tests.
func (c Catalog) Missing() []string {
	var out []string
	for lang, texts := range c {
		for other, otherTexts := range c {
			if other == lang {
				continue
			}
			for k := range texts {
				if _, ok := otherTexts[k]; !ok {
					out = append(out, string(other)+":"+k)
				}
			}
		}
	}
	return out
}
