package conversationtest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/bot"
	"github.com/aftersales/aftersales/conversation"
	"github.com/aftersales/aftersales/internal/testclock"
)

// RunOnClock checks the stores that count time by the service's clock (the
// database's): open returns a SessionStore and a Deduper on clock. Sessions
// and marks expire when the clock says so, whatever the real time, and a
// mark made again keeps its first expiry until it expired.
func RunOnClock(t *testing.T, open func(t *testing.T, clock *testclock.Clock) (conversation.SessionStore, bot.Deduper)) {
	t.Helper()
	ctx := t.Context()
	clock := testclock.New(testclock.Start())
	sessions, dedupe := open(t, clock)
	user := bot.UserRef{Platform: bot.WeChat, ID: "oGZUI0egBJY1zhBYw2KhdUfwVJJE"}
	const msg = "wechat:oGZUI0egBJY1zhBYw2KhdUfwVJJE:24518956789012345"
	live := func() (session, mark bool) {
		t.Helper()
		s, err := sessions.Load(ctx, user.Key())
		require.NoError(t, err)
		seen, err := dedupe.Seen(ctx, msg)
		require.NoError(t, err)
		return s != nil, seen
	}

	require.NoError(t, sessions.Save(ctx, SampleSession(user, clock.Now()), 30*time.Minute))
	require.NoError(t, dedupe.Mark(ctx, msg, 30*time.Minute))
	clock.Advance(20 * time.Minute)
	require.NoError(t, dedupe.Mark(ctx, msg, 30*time.Minute), "keeps the first expiry")
	s, m := live()
	require.True(t, s)
	require.True(t, m)

	clock.Advance(10*time.Minute - time.Microsecond)
	s, m = live()
	require.True(t, s, "a microsecond before its expiry")
	require.True(t, m, "a microsecond before its first expiry")

	clock.Advance(time.Microsecond)
	s, m = live()
	require.False(t, s, "at its expiry")
	require.False(t, m, "at its first expiry")

	require.NoError(t, dedupe.Mark(ctx, msg, time.Hour), "an expired mark is made again")
	clock.Advance(59 * time.Minute)
	_, m = live()
	require.True(t, m)
}
