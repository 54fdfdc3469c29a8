package casework_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/aftersales/aftersales/casework"
)

func TestEventKindDirect(t *testing.T) {
	t.Parallel()
	recordedByTheirWrites := map[casework.EventKind]bool{
		casework.EventCreated: true, casework.EventTransition: true, casework.EventUpdated: true, casework.EventMedia: true,
	}
	for _, k := range casework.EventKinds {
		assert.Equal(t, !recordedByTheirWrites[k], k.Direct(), k)
	}
	assert.False(t, casework.EventKind("gossip").Direct())
}

func TestCaseMapTimes(t *testing.T) {
	t.Parallel()
	round := func(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }
	at := t0.Add(1500 * time.Millisecond)
	start := at
	c := &casework.Case{
		ReceivedAt: at, RespondBy: &at, EscalatedAt: &at,
		ProposedSlots: []time.Time{at},
		Plan:          &casework.Plan{Cause: "c", StartAt: &start, Disruptions: []casework.Disruption{casework.DisruptionNoise}},
		Survey:        &casework.Survey{Speed: 5, AnsweredAt: at},
		CreatedAt:     at,
	}
	orig := *c
	c.MapTimes(round)
	want := round(at)
	assert.Equal(t, want, c.ReceivedAt)
	assert.Equal(t, want, *c.RespondBy)
	assert.Equal(t, want, *c.EscalatedAt)
	assert.Nil(t, c.OccurredAt)
	assert.Equal(t, []time.Time{want}, c.ProposedSlots)
	assert.Equal(t, want, *c.Plan.StartAt)
	assert.Equal(t, want, c.Survey.AnsweredAt)
	assert.Equal(t, at, c.CreatedAt, "CreatedAt is the store's own")

	// What c pointed to is untouched: c has copies.
	assert.Equal(t, at, *orig.RespondBy)
	assert.Equal(t, at, orig.ProposedSlots[0])
	assert.Equal(t, at, *orig.Plan.StartAt)
	assert.Equal(t, at, orig.Survey.AnsweredAt)
	assert.NotSame(t, orig.Plan, c.Plan)
	c.Plan.Disruptions[0] = casework.DisruptionDust
	assert.Equal(t, casework.DisruptionNoise, orig.Plan.Disruptions[0])

	empty := &casework.Case{ProposedSlots: []time.Time{}, Plan: &casework.Plan{Disruptions: []casework.Disruption{}}, Survey: &casework.Survey{}}
	empty.MapTimes(round)
	assert.Nil(t, empty.ProposedSlots)
	assert.Nil(t, empty.Plan.Disruptions)
	assert.True(t, empty.Survey.AnsweredAt.IsZero(), "a zero AnsweredAt stays zero")
}
