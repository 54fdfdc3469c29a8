package conversation

import "github.com/aftersales/aftersales/l10n"

// Lang is a language of the dialogue.
type Lang = l10n.Lang

// The dialogue's languages; Simplified Chinese is the default.
const (
	Chinese = l10n.Chinese
	English = l10n.English
)
