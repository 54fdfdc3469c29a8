package casework_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

func TestActorIsPerson(t *testing.T) {
	t.Parallel()
	for a, want := range map[casework.Actor]bool{
		casework.Staff("zhangwei"):     true,
		casework.Service("api"):        false,
		casework.Service("crm"):        false,
		casework.MemberActor(12):       true,
		casework.ActorBot:              false,
		casework.ActorSystem:           false,
		"owner:12":                     false,
		"chat:web:0123456789ab":        false,
		casework.VerifyTelegramContact: false,
		"":                             false,
		"staff":                        false,
		"members:1":                    false,
	} {
		assert.Equal(t, want, a.IsPerson(), a)
	}
	assert.Equal(t, casework.Actor("member:12"), casework.MemberActor(12))
}

func TestNoteContact(t *testing.T) {
	t.Parallel()
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	chat := func(ch casework.Channel, by casework.Actor) *casework.Case {
		return &casework.Case{Channel: ch, ReceivedAt: t0, ReceivedBy: by, State: casework.StateRegistered}
	}

	// Neither the bot, the system nor the owner is a contact.
	c := chat(casework.ChannelWeChat, casework.ActorBot)
	for _, a := range []casework.Actor{casework.ActorBot, casework.ActorSystem, "owner:3", "chat:wechat:0123456789ab"} {
		assert.False(t, c.NoteContact(a, at(1)), a)
	}
	assert.Nil(t, c.RespondedAt)
	assert.Equal(t, casework.ActorBot, c.ReceivedBy)

	// The first person is: the response, and the receiver of a chat's case.
	require.True(t, c.NoteContact(casework.MemberActor(5), at(2)))
	require.NotNil(t, c.RespondedAt)
	assert.Equal(t, at(2), *c.RespondedAt)
	assert.Equal(t, casework.MemberActor(5), c.ReceivedBy)
	// Once.
	assert.False(t, c.NoteContact(casework.Staff("7"), at(3)))
	assert.Equal(t, at(2), *c.RespondedAt)
	assert.Equal(t, casework.MemberActor(5), c.ReceivedBy)

	for _, ch := range []casework.Channel{casework.ChannelWeb, casework.ChannelTelegram} {
		c := chat(ch, casework.ActorBot)
		require.True(t, c.NoteContact(casework.Staff("7"), at(1)), ch)
		assert.Equal(t, casework.Staff("7"), c.ReceivedBy, ch)
	}
	// A case staff typed in keeps its receiver, whatever the channel; so
	// does one the bot opened outside a chat.
	for _, c := range []*casework.Case{
		chat(casework.ChannelHotline, casework.Staff("42")),
		chat(casework.ChannelWeChat, casework.Staff("42")),
		chat(casework.ChannelReturnVisit, casework.ActorBot),
	} {
		by := c.ReceivedBy
		require.True(t, c.NoteContact(casework.Staff("7"), at(1)), c.Channel)
		assert.Equal(t, at(1), *c.RespondedAt, c.Channel)
		assert.Equal(t, by, c.ReceivedBy, c.Channel)
	}
}

func TestChannelChat(t *testing.T) {
	t.Parallel()
	var chats []casework.Channel
	for _, ch := range casework.Channels {
		if ch.Chat() {
			chats = append(chats, ch)
		}
	}
	assert.ElementsMatch(t, []casework.Channel{casework.ChannelWeChat, casework.ChannelTelegram, casework.ChannelWeb}, chats)
}
