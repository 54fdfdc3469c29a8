package web_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/bot/web"
)

// TestEditIsSkipped: the chat page cannot change a message it showed, and
// gave no reference to edit; an edit (bot.OutEdit) is not an error and
// shows the visitor nothing — not the old text again.
func TestEditIsSkipped(t *testing.T) {
	t.Parallel()
	ch := web.New(web.Options{PollWait: time.Millisecond})
	srv := newServer(t, ch)
	order := out("【派工单】SH-1")
	require.NoError(t, ch.Send(t.Context(), bot.Outbound{To: order.To, Kind: bot.OutEdit, Ref: "1", Text: order.Text, Mark: "（已改派）"}))
	require.NoError(t, ch.Send(t.Context(), out("工单 SH-1 已改派")))
	assert.Equal(t, []string{"bot:工单 SH-1 已改派"}, poll(t, srv, visitor, 0).texts())
}
