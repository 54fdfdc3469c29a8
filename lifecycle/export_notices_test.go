package lifecycle

import (
	"slices"
	"time"

	"github.com/aftersales/aftersales/l10n"
)

// CatalogKeys exposes the keys of the catalogue in lang, sorted, to the
// tests of package lifecycle_test.
func CatalogKeys(lang l10n.Lang) []string {
	var out []string
	for k := range catalog[lang] {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// WaitedText exposes waitedText to the tests of package lifecycle_test.
func WaitedText(lang l10n.Lang, d time.Duration) string { return waitedText(lang, d) }
