package conversation

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/internal/testclock"
)

// TestOfferRemembersAPushedNotificationsChoices: a pushed notification's
// options become the ones a typed number picks — unless the user is in the
// middle of a step, whose question the next number answers; a step left
// idle past the timeout no longer counts.
func TestOfferRemembersAPushedNotificationsChoices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := testclock.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	sessions := NewMemoryStore()
	e := New(Config{Sessions: sessions, NowFunc: func() time.Time { return now }})
	user := bot.UserRef{Platform: bot.WeChat, ID: "oOwner"}
	pushed := []bot.Choice{{Label: "同意方案", Payload: "lc:agree:SH-1"}, {Label: "不同意", Payload: "lc:disagree:SH-1"}}

	require.NoError(t, e.Offer(ctx, user, pushed))
	s, err := sessions.Load(ctx, user.Key())
	require.NoError(t, err)
	require.NotNil(t, s, "a user with no session gets one")
	assert.Equal(t, pushed, s.Choices)

	stepChoices := []bot.Choice{{Label: "卧室", Payload: "loc:bedroom"}}
	s.Flow, s.Step, s.Choices, s.UpdatedAt = flowReport, "location", stepChoices, now.Add(-time.Minute)
	require.NoError(t, sessions.Save(ctx, s, time.Hour))
	require.NoError(t, e.Offer(ctx, user, pushed))
	s, err = sessions.Load(ctx, user.Key())
	require.NoError(t, err)
	assert.Equal(t, stepChoices, s.Choices, "the step in progress keeps its options")

	s.UpdatedAt = now.Add(-25 * time.Hour)
	require.NoError(t, sessions.Save(ctx, s, time.Hour))
	require.NoError(t, e.Offer(ctx, user, pushed))
	s, err = sessions.Load(ctx, user.Key())
	require.NoError(t, err)
	assert.Equal(t, pushed, s.Choices, "a step left idle past the timeout gives way")
}
