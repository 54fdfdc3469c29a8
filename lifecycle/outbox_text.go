package lifecycle

import (
	"encoding/json"
	"strings"

	"github.com/aftersales/aftersales/bot"
)

// OutboxText is what an outbox message says, for staff reading a case: its
// text, "[图片]" for a photo.
func OutboxText(raw []byte) string {
	var p payload
	if json.Unmarshal(raw, &p) != nil {
		return ""
	}
	var parts []string
	for _, m := range p.Messages {
		switch {
		case m.Kind == bot.OutPhoto:
			parts = append(parts, "[图片]")
		case m.Text != "":
			parts = append(parts, m.Text)
		}
	}
	return strings.Join(parts, "\n")
}
