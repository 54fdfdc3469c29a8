package storagetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aftersales/aftersales/casework"
)

// testOutboxSentRef: the platform's reference of a delivered message is kept
// with it (MarkOutboxSentRef), read back by every listing, kept once — a
// message marked sent again keeps its first reference, as its first SentAt
// — and empty for a message sent without one or not sent at all.
func testOutboxSentRef(t *testing.T, h Harness) {
	s, _ := openLifecycle(t, h)
	ctx := t.Context()
	f := newFixture(t, s)
	c := f.create(t, f.newCase(t0))

	order, plain, pending := message(c.ID, "work_order"), message(c.ID, "owner_update"), message(c.ID, "work_order")
	require.NoError(t, s.Enqueue(ctx, casework.Effects{Messages: []*casework.OutboxMessage{order, plain, pending}}))
	require.Empty(t, order.SentRef, "a queued message has no reference")

	require.NoError(t, s.MarkOutboxSentRef(ctx, order.ID, at(time.Minute), "1001:17"))
	require.NoError(t, s.MarkOutboxSent(ctx, plain.ID, at(time.Minute)))
	got, err := s.FindOutboxMessage(ctx, order.ID)
	require.NoError(t, err)
	require.Equal(t, casework.OutboxSent, got.Status)
	require.Equal(t, "1001:17", got.SentRef)
	requireStoredTime(t, at(time.Minute), *got.SentAt, "SentAt")

	// Marked again (a job run twice): the first delivery's reference stays.
	require.NoError(t, s.MarkOutboxSentRef(ctx, order.ID, at(time.Hour), "1001:99"))
	require.NoError(t, s.MarkOutboxSentRef(ctx, plain.ID, at(time.Hour), "1001:98"))
	refs := map[int64]string{}
	all, err := s.ListOutbox(ctx, c.ID)
	require.NoError(t, err)
	for _, m := range all {
		refs[m.ID] = m.SentRef
	}
	require.Equal(t, map[int64]string{order.ID: "1001:17", plain.ID: "", pending.ID: ""}, refs)

	// A failed message that is delivered after all takes its reference.
	require.NoError(t, s.MarkOutboxAttempt(ctx, pending.ID, "timeout", true, at(time.Minute)))
	require.NoError(t, s.MarkOutboxSentRef(ctx, pending.ID, at(2*time.Hour), "1001:20"))
	got, err = s.FindOutboxMessage(ctx, pending.ID)
	require.NoError(t, err)
	require.Equal(t, casework.OutboxSent, got.Status)
	require.Equal(t, "1001:20", got.SentRef)

	requireErrNotFound(t, s.MarkOutboxSentRef(ctx, 999999, t0, "1001:1"))
}
