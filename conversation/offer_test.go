package conversation

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/casework"
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

// identitiesOnly is a Store that knows chat identities and nothing else.
type identitiesOnly struct {
	Store
	ids map[string]*casework.ChatIdentity
}

func (s identitiesOnly) FindChatIdentity(_ context.Context, platform, userID string) (*casework.ChatIdentity, error) {
	if id, ok := s.ids[platform+":"+userID]; ok {
		return id, nil
	}
	return nil, casework.ErrNotFound
}

// TestOfferSpeaksTheAccountsLanguage: a notification may be the first the
// account hears from us; the session it starts is in the account's
// language, so that the buttons' answers are too.
func TestOfferSpeaksTheAccountsLanguage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := testclock.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	sessions := NewMemoryStore()
	store := identitiesOnly{ids: map[string]*casework.ChatIdentity{"telegram:42": {Platform: "telegram", UserID: "42", Lang: "en"}}}
	e := New(Config{Sessions: sessions, Store: store, NowFunc: func() time.Time { return now }})
	pushed := []bot.Choice{{Label: "Settled", Payload: "lc:accept:SH-1"}}

	for user, want := range map[bot.UserRef]Lang{
		{Platform: bot.Telegram, ID: "42"}: English,
		{Platform: bot.Telegram, ID: "43"}: Chinese, // no account on record
	} {
		require.NoError(t, e.Offer(ctx, user, pushed))
		s, err := sessions.Load(ctx, user.Key())
		require.NoError(t, err)
		assert.Equal(t, want, s.Lang, "%s", user.ID)
	}
}
