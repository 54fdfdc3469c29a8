package console

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/aftersales/aftersales/l10n"
	"github.com/aftersales/aftersales/lifecycle"
)

// TestNoteTextSupervisorCall: a supervisor shown the owner's phone in chat
// (联系业主) reads in words on the timeline.
func TestNoteTextSupervisorCall(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "在聊天中查看了业主电话", noteText(l10n.Chinese, lifecycle.PhoneShownNote))
	assert.Equal(t, "Viewed the owner's phone in the chat", noteText(l10n.English, lifecycle.PhoneShownNote))
}
