package wechat

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
)

// TestEditIsSkipped: WeChat cannot change a message it delivered; an edit
// (bot.OutEdit) is not an error and sends nothing — not the old text again
// — neither alone nor among other messages.
func TestEditIsSkipped(t *testing.T) {
	f := newFakeAPI(t)
	a := newTestAdapter(t, f, nil)
	openWindow(t, a, "oAnn", "m:1")
	edit := bot.Outbound{To: to("oAnn"), Kind: bot.OutEdit, Ref: "x", Text: "【派工单】SH-1", Mark: "（已改派）"}
	require.NoError(t, a.Send(context.Background(), edit))
	assert.Empty(t, f.sentTo("oAnn"))
	units := pack([]bot.Outbound{edit, {To: to("oAnn"), Kind: bot.OutText, Text: "工单 SH-1 已改派"}})
	require.Len(t, units, 1)
	assert.Equal(t, "工单 SH-1 已改派", units[0].text)
}
