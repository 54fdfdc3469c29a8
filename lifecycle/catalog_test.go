package lifecycle

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
	"github.com/aftersales/aftersales/l10n"
)

// termNamespaces are the key prefixes that l10n.Terms answers for every
// catalogue (the domain's terms), not the lifecycle's own maps.
var termNamespaces = []string{"category", "sub", "location", "urgency", "state"}

// catalogKey matches a string literal that looks like a catalogue key: dotted
// lower-case words, or a prefix ending in a dot that code completes.
var catalogKey = regexp.MustCompile(`^[a-z_]+(\.[a-z0-9_]+)*\.?$`)

// sourceKeys returns the catalogue keys written as string literals in the
// Go files, as static keys and as dynamic prefixes ("reject." + reason).
// A literal counts when its first segment is a namespace of the catalogue
// or of l10n.Terms, so that keys held in variables (key := "owner.dispatched")
// are found along with those passed to T, lcT, tell and escalate.
func sourceKeys(t *testing.T, files []string) (static, prefixes map[string][]string) {
	t.Helper()
	namespaces := map[string]bool{}
	for k := range zh {
		ns, _, _ := strings.Cut(k, ".")
		namespaces[ns] = true
	}
	for _, ns := range termNamespaces {
		namespaces[ns] = true
	}
	static, prefixes = map[string][]string{}, map[string][]string{}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !catalogKey.MatchString(s) {
				return true
			}
			ns, _, dotted := strings.Cut(s, ".")
			if !namespaces[ns] || (!dotted && s != "list_sep") {
				return true
			}
			where := fset.Position(lit.Pos()).String()
			if strings.HasSuffix(s, ".") {
				prefixes[s] = append(prefixes[s], where)
			} else {
				static[s] = append(static[s], where)
			}
			return true
		})
	}
	return static, prefixes
}

// lifecycleSources returns the non-test Go files of this package and the
// dialogue steps that render its texts (conversation/lifecycle.go, lcT).
func lifecycleSources(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	files = slices.DeleteFunc(files, func(f string) bool { return strings.HasSuffix(f, "_test.go") })
	return append(files, filepath.Join("..", "conversation", "lifecycle.go"))
}

// dynamicKeys enumerates, from the domain's constants, every key that code
// builds from a prefix.
func dynamicKeys() map[string][]string {
	strs := func(vs ...string) []string { return vs }
	out := map[string][]string{
		"weekday.":            strs("0", "1", "2", "3", "4", "5", "6"),
		"owner.return_visit.": strs("leak", "other"),
		"survey.":             SurveyQuestions,
		"disruption.":         strs("none"),
		"platform.":           strs(string(bot.Telegram), string(bot.WeChat), string(bot.Web)),
	}
	for _, k := range []casework.TimerKind{casework.TimerRespondDeadline, casework.TimerOnSiteDeadline, casework.TimerResolveDeadline} {
		out["staff.overdue."] = append(out["staff.overdue."], string(k))
	}
	out["kind."] = caseKinds
	out["staff.triage_title."] = caseKinds
	for _, r := range WaitReasons {
		out["why."] = append(out["why."], string(r))
	}
	for _, w := range []casework.WarrantyStatus{casework.WarrantyIn, casework.WarrantyOut, casework.WarrantyUnknown, casework.WarrantyNone} {
		out["warranty."] = append(out["warranty."], string(w))
	}
	for _, r := range RejectReasons {
		out["reject."] = append(out["reject."], string(r))
	}
	for _, r := range casework.Responsibilities {
		out["responsibility."] = append(out["responsibility."], string(r))
	}
	for _, d := range casework.Disruptions {
		out["disruption."] = append(out["disruption."], string(d))
	}
	for _, c := range casework.Categories {
		out["category."] = append(out["category."], string(c))
		for _, s := range casework.Subcategories[c] {
			if !slices.Contains(out["sub."], string(s)) {
				out["sub."] = append(out["sub."], string(s))
			}
		}
	}
	for _, l := range casework.Locations {
		out["location."] = append(out["location."], string(l))
	}
	for _, u := range casework.Urgencies {
		out["urgency."] = append(out["urgency."], string(u))
	}
	for _, s := range casework.States {
		out["state."] = append(out["state."], string(s))
	}
	return out
}

func isTerm(key string) bool {
	ns, _, _ := strings.Cut(key, ".")
	return slices.Contains(termNamespaces, ns)
}

func TestCatalogHasEveryKeyUsed(t *testing.T) {
	t.Parallel()
	static, prefixes := sourceKeys(t, lifecycleSources(t))
	require.Greater(t, len(static), 100, "the scan finds the keys")
	// Keys passed to T and lcT, to tell and escalate, held in variables and
	// maps, and returned: the scan sees each way of using one.
	for _, k := range []string{"order.body", "reply.taken", "staff.triage", "staff.not_taken", "owner.dispatched",
		"order.head_redo", "err.forbidden", "ask.cause", "ask.decline_reason", "list_sep"} {
		require.Contains(t, static, k)
	}
	for _, p := range []string{"reject.", "staff.overdue.", "category.", "weekday.", "survey."} {
		require.Contains(t, prefixes, p)
	}

	for key, where := range static {
		if isTerm(key) {
			assert.Contains(t, l10n.Terms[l10n.Chinese], key, "term used at %v", where)
			continue
		}
		assert.Contains(t, zh, key, "key used at %v", where)
	}
	dynamic := dynamicKeys()
	for prefix, where := range prefixes {
		suffixes, ok := dynamic[prefix]
		if !assert.True(t, ok, "key prefix %q used at %v: enumerate its keys in dynamicKeys", prefix, where) {
			continue
		}
		for _, s := range suffixes {
			key := prefix + s
			if isTerm(key) {
				assert.Contains(t, l10n.Terms[l10n.Chinese], key, "term built at %v", where)
				assert.Contains(t, l10n.Terms[l10n.English], key, "term built at %v", where)
				continue
			}
			assert.Contains(t, zh, key, "key built at %v", where)
		}
	}
}

// TestCatalogHasNoUnusedKey checks the other way round: every text of the
// catalogue is used somewhere.
func TestCatalogHasNoUnusedKey(t *testing.T) {
	t.Parallel()
	static, prefixes := sourceKeys(t, lifecycleSources(t))
	dynamic := dynamicKeys()
	used := map[string]bool{}
	for k := range static {
		used[k] = true
	}
	for p := range prefixes {
		for _, s := range dynamic[p] {
			used[p+s] = true
		}
	}
	var unused []string
	for k := range zh {
		if !used[k] {
			unused = append(unused, k)
		}
	}
	sort.Strings(unused)
	assert.Empty(t, unused)
}

func TestCatalogLanguagesMatch(t *testing.T) {
	t.Parallel()
	assert.Empty(t, catalog.Missing(), "lang:key missing")
	for k := range zh {
		assert.Contains(t, en, k)
	}
	for k := range en {
		assert.Contains(t, zh, k)
	}
}

var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

func TestCatalogPlaceholdersMatch(t *testing.T) {
	t.Parallel()
	set := func(s string) []string {
		ps := placeholder.FindAllString(s, -1)
		sort.Strings(ps)
		return slices.Compact(ps)
	}
	for k, z := range zh {
		e, ok := en[k]
		if !ok {
			continue // TestCatalogLanguagesMatch
		}
		assert.Equal(t, set(z), set(e), "placeholders of %s", k)
	}
}

func TestCatalogRendersEveryPlaceholder(t *testing.T) {
	t.Parallel()
	for _, lang := range []l10n.Lang{l10n.Chinese, l10n.English} {
		for k, text := range catalog[lang] {
			var kv []string
			for _, p := range placeholder.FindAllString(text, -1) {
				kv = append(kv, strings.Trim(p, "{}"), "x")
			}
			got := T(lang, k, kv...)
			assert.NotContains(t, got, "{", "%s:%s", lang, k)
			assert.NotEqual(t, k, got, "%s:%s renders as its key", lang, k)
		}
	}
}
