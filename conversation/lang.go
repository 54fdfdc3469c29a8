package conversation

// Lang is a language of the dialogue.
type Lang string

// The dialogue's languages; Simplified Chinese is the default.
const (
	Chinese Lang = "zh"
	English Lang = "en"
)
