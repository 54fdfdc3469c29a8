package console

import "github.com/aftersales/aftersales/l10n"

// UIText is the console pages' catalogue, for its test.
func UIText() l10n.Catalog { return uiText }
