package bot_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
)

// refChannel is a RefSender that refers to the n-th message it sent as
// "n", and to a typing indicator as "".
type refChannel struct {
	sent     []bot.Outbound
	viaSend  int
	failText string
}

func (c *refChannel) Platform() bot.Platform { return bot.Telegram }

func (c *refChannel) Send(ctx context.Context, msg bot.Outbound) error {
	c.viaSend++
	_, err := c.SendRef(ctx, msg)
	return err
}

func (c *refChannel) SendRef(_ context.Context, msg bot.Outbound) (string, error) {
	if msg.Text == c.failText && c.failText != "" {
		return "", errors.New("refused")
	}
	c.sent = append(c.sent, msg)
	if msg.Kind == bot.OutTyping {
		return "", nil
	}
	return strconv.Itoa(len(c.sent)), nil
}

// plainChannel is a Channel that gives no references.
type plainChannel struct{ sent []bot.Outbound }

func (c *plainChannel) Platform() bot.Platform { return bot.WeChat }

func (c *plainChannel) Send(_ context.Context, msg bot.Outbound) error {
	c.sent = append(c.sent, msg)
	return nil
}

func TestRouterRecordsSentRefs(t *testing.T) {
	t.Parallel()
	tg, wx := &refChannel{failText: "boom"}, &plainChannel{}
	r := &bot.Router{Channels: map[bot.Platform]bot.Channel{bot.Telegram: tg, bot.WeChat: wx}}
	ann := bot.UserRef{Platform: bot.Telegram, ID: "42"}
	ben := bot.UserRef{Platform: bot.WeChat, ID: "oBen"}

	ctx, refs := bot.WithSentRefs(t.Context())
	require.NoError(t, r.Send(ctx, []bot.Outbound{
		{To: ann, Kind: bot.OutText, Text: "order", Choices: []bot.Choice{{Label: "接单", Payload: "lc:take:SH-1"}}},
		{To: ann, Kind: bot.OutTyping},
	}))
	assert.Equal(t, "1", refs.Last(), "the last message that has a reference")
	assert.Zero(t, tg.viaSend, "a RefSender sends through SendRef under WithSentRefs")

	// A channel that gives none records nothing.
	ctx, refs = bot.WithSentRefs(t.Context())
	require.NoError(t, r.Send(ctx, []bot.Outbound{{To: ben, Kind: bot.OutText, Text: "hi"}}))
	assert.Empty(t, refs.Last())
	assert.Len(t, wx.sent, 1)

	// Without WithSentRefs, Send is the Channel's Send, as before.
	require.NoError(t, r.Send(t.Context(), []bot.Outbound{{To: ann, Kind: bot.OutText, Text: "plain"}}))
	assert.Equal(t, 1, tg.viaSend)

	// A failure stops the batch and is returned, wrapped.
	ctx, refs = bot.WithSentRefs(t.Context())
	err := r.Send(ctx, []bot.Outbound{{To: ann, Kind: bot.OutText, Text: "boom"}, {To: ann, Kind: bot.OutText, Text: "after"}})
	require.ErrorContains(t, err, "send to telegram: refused")
	assert.Empty(t, refs.Last())
	assert.Len(t, tg.sent, 3, "nothing after the failure")
}
